#include "server/tcp_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "server/peer_frame.h"
#include "server/real_runtime.h"

namespace lockstep::server {
namespace {

using std::chrono::milliseconds;

// Upper bound on any one test's run, so a bug that loses a message fails instead of hanging.
constexpr Duration kTestDeadline = std::chrono::seconds(20);
const PeerAddress kAnyLoopbackPort{"127.0.0.1", 0};

// One RealRuntime (one event loop) hosting several TcpNetworks on loopback with ephemeral
// ports, each told the others' real ports: real sockets, one thread.
class Cluster {
 public:
  explicit Cluster(size_t size) : runtime_({NodeId(1), 99, nullptr}) {
    for (size_t i = 1; i <= size; ++i) start_node(NodeId(i));
    for (auto& [id, network] : networks_) introduce(id);
  }

  TcpNetwork& node(uint64_t id) { return *networks_.at(NodeId(id)); }
  RealRuntime& runtime() { return runtime_; }

  void start_node(NodeId id, std::optional<uint16_t> port = std::nullopt) {
    TcpNetworkOptions options;
    options.self = id;
    options.listen = port ? PeerAddress{"127.0.0.1", *port} : kAnyLoopbackPort;
    options.max_queued_messages_per_peer = max_queued_messages_per_peer;
    Result<std::unique_ptr<TcpNetwork>> started =
        TcpNetwork::start(runtime_.loop(), runtime_, options);
    ASSERT_TRUE(started.is_ok()) << started.error();
    networks_[id] = std::move(started).value();
  }

  // Tells every network where `id` listens and `id` where every other one listens.
  void introduce(NodeId id) {
    for (auto& [other, network] : networks_) {
      const PeerAddress other_address{"127.0.0.1", network->listen_port()};
      const PeerAddress id_address{"127.0.0.1", networks_.at(id)->listen_port()};
      ASSERT_TRUE(network->set_peer_address(id, id_address).is_ok());
      ASSERT_TRUE(networks_.at(id)->set_peer_address(other, other_address).is_ok());
    }
  }

  void stop_node(NodeId id) { networks_.erase(id); }

  // Runs `body` as a fiber to completion (or the test deadline) on the shared loop.
  void run(std::function<void()> body) {
    bool finished = false;
    runtime_.spawn("test", [&] {
      body();
      finished = true;
      runtime_.request_stop();
    });
    runtime_.spawn("watchdog", [&] {
      runtime_.sleep_for(kTestDeadline);
      ADD_FAILURE() << "test body did not finish within the deadline";
      runtime_.request_stop();
    });
    runtime_.run();
    EXPECT_TRUE(finished);
  }

  size_t max_queued_messages_per_peer = kMaxQueuedMessagesPerPeer;

 private:
  RealRuntime runtime_;
  std::map<NodeId, std::unique_ptr<TcpNetwork>> networks_;
};

std::optional<env::Message> receive_within(RealRuntime& runtime, TcpNetwork& network) {
  return network.receive(runtime.now() + kTestDeadline);
}

TEST(TcpNetwork, DeliversInOrderBothWaysWithSenderAndReceiverIds) {
  Cluster cluster(2);
  cluster.run([&] {
    constexpr int kMessages = 2000;
    for (int i = 0; i < kMessages; ++i) {
      cluster.node(1).send(NodeId(2), "from 1 #" + std::to_string(i));
      cluster.node(2).send(NodeId(1), "from 2 #" + std::to_string(i));
    }
    for (int i = 0; i < kMessages; ++i) {
      std::optional<env::Message> at_two = receive_within(cluster.runtime(), cluster.node(2));
      ASSERT_TRUE(at_two.has_value());
      EXPECT_EQ(at_two->from, NodeId(1));
      EXPECT_EQ(at_two->to, NodeId(2));
      ASSERT_EQ(at_two->payload, "from 1 #" + std::to_string(i)) << "one connection keeps order";
      std::optional<env::Message> at_one = receive_within(cluster.runtime(), cluster.node(1));
      ASSERT_TRUE(at_one.has_value());
      EXPECT_EQ(at_one->from, NodeId(2));
      ASSERT_EQ(at_one->payload, "from 2 #" + std::to_string(i));
    }
    EXPECT_EQ(cluster.node(1).stats().messages_sent, static_cast<uint64_t>(kMessages));
    EXPECT_EQ(cluster.node(2).stats().messages_received, static_cast<uint64_t>(kMessages));
  });
}

TEST(TcpNetwork, LargeMessagesSurvivePartialWrites) {
  // Several MiB in flight exceed the socket buffers, so sendmsg returns short counts and EAGAIN;
  // the queue must resume mid-frame without corrupting the stream.
  Cluster cluster(2);
  cluster.run([&] {
    std::vector<std::string> sent;
    for (int i = 0; i < 8; ++i) {
      sent.push_back(std::string(1024 * 1024 + i, static_cast<char>('a' + i)));
      cluster.node(1).send(NodeId(2), sent.back());
    }
    cluster.node(1).send(NodeId(2), std::string(limits::kMaxMessageBytes + 1, 'x'));
    for (const std::string& expected : sent) {
      std::optional<env::Message> got = receive_within(cluster.runtime(), cluster.node(2));
      ASSERT_TRUE(got.has_value());
      EXPECT_EQ(got->payload.size(), expected.size());
      EXPECT_TRUE(got->payload == expected);
    }
    EXPECT_EQ(cluster.node(1).stats().dropped_oversized, 1u);
  });
}

TEST(TcpNetwork, ReceiveTimesOutWithNothingSent) {
  Cluster cluster(2);
  cluster.run([&] {
    const Instant before = cluster.runtime().now();
    EXPECT_FALSE(cluster.node(1).receive(before + milliseconds(20)).has_value());
    EXPECT_GE(cluster.runtime().now() - before, milliseconds(20));
  });
}

TEST(TcpNetwork, SendToSelfIsLocalAndToUnknownPeerIsDropped) {
  Cluster cluster(1);
  cluster.run([&] {
    cluster.node(1).send(NodeId(1), "note to self");
    cluster.node(1).send(NodeId(42), "nobody");
    std::optional<env::Message> got = receive_within(cluster.runtime(), cluster.node(1));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->payload, "note to self");
    EXPECT_EQ(got->from, NodeId(1));
    EXPECT_EQ(cluster.node(1).stats().dropped_unknown_peer, 1u);
  });
}

TEST(TcpNetwork, ReconnectsAfterThePeerRestartsOnTheSamePort) {
  Cluster cluster(2);
  cluster.run([&] {
    cluster.node(1).send(NodeId(2), "before");
    ASSERT_EQ(receive_within(cluster.runtime(), cluster.node(2))->payload, "before");
    const uint16_t port = cluster.node(2).listen_port();

    cluster.stop_node(NodeId(2));  // closes its listener and the connection from 1
    // Messages sent while 2 is down queue up or die with the old connection: best-effort.
    cluster.node(1).send(NodeId(2), "while down");
    cluster.runtime().sleep_for(milliseconds(50));
    cluster.start_node(NodeId(2), port);
    cluster.introduce(NodeId(2));

    // Keep sending until one arrives: node 1 must notice the loss and redial by itself.
    bool received = false;
    for (int attempt = 0; attempt < 400 && !received; ++attempt) {
      cluster.node(1).send(NodeId(2), "after " + std::to_string(attempt));
      std::optional<env::Message> got =
          cluster.node(2).receive(cluster.runtime().now() + milliseconds(25));
      received = got.has_value() && got->from == NodeId(1);
    }
    EXPECT_TRUE(received);
    EXPECT_GE(cluster.node(1).stats().connections_established, 2u);
    EXPECT_GE(cluster.node(1).stats().connections_lost, 1u);
  });
}

TEST(TcpNetwork, PeerVanishingMidStreamCostsAReconnectNotASignal) {
  // The receiver closes with unread data, so the kernel answers our next writes with RST and
  // then EPIPE; a plain write(2) would raise SIGPIPE and kill this whole test process.
  Cluster cluster(2);
  cluster.run([&] {
    for (int i = 0; i < 16; ++i) cluster.node(1).send(NodeId(2), std::string(1 << 20, 'r'));
    cluster.runtime().sleep_for(milliseconds(5));
    cluster.stop_node(NodeId(2));
    for (int round = 0; round < 20; ++round) {
      cluster.node(1).send(NodeId(2), std::string(1 << 20, 's'));
      cluster.runtime().sleep_for(milliseconds(5));
    }
    EXPECT_GE(cluster.node(1).stats().connections_lost, 1u);
  });
}

TEST(TcpNetwork, QueueForAnUnreachablePeerIsBoundedAndDropsTheExcess) {
  Cluster cluster(1);
  cluster.max_queued_messages_per_peer = 100;
  cluster.stop_node(NodeId(1));
  cluster.start_node(NodeId(1));
  // Port 1 on loopback: nothing listens there, every dial is refused.
  ASSERT_TRUE(cluster.node(1).set_peer_address(NodeId(5), {"127.0.0.1", 1}).is_ok());
  cluster.run([&] {
    for (int i = 0; i < 130; ++i) cluster.node(1).send(NodeId(5), "m");
    cluster.runtime().sleep_for(milliseconds(100));  // several refused dials and backoffs
    EXPECT_EQ(cluster.node(1).queued_for(NodeId(5)), 100u);
    EXPECT_EQ(cluster.node(1).stats().dropped_queue_full, 30u);
    EXPECT_GE(cluster.node(1).stats().connections_lost, 2u) << "it keeps redialling";
    EXPECT_EQ(cluster.node(1).stats().connections_established, 0u);
  });
}

// A raw client on the peer port: connects, writes `bytes`, then waits (yielding to the loop)
// until the server closes the connection. Returns true if it was closed.
bool server_closes_after(RealRuntime& runtime, uint16_t port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Loopback connect completes from the listen backlog without the server's accept.
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  bool closed = false;
  for (int i = 0; i < 2000 && !closed; ++i) {
    char buffer[64];
    const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
    closed = got == 0 || (got < 0 && errno != EAGAIN);
    if (!closed) runtime.sleep_for(milliseconds(1));
  }
  ::close(fd);
  return closed;
}

TEST(TcpNetwork, BadFramesCloseTheConnectionAndTheNetworkCarriesOn) {
  Cluster cluster(2);
  cluster.run([&] {
    RealRuntime& runtime = cluster.runtime();
    const uint16_t port = cluster.node(2).listen_port();
    std::string corrupted = encode_peer_frame(NodeId(1), "payload");
    corrupted.back() ^= 1;
    std::string oversized = encode_peer_frame(NodeId(1), "");
    const uint32_t too_long = static_cast<uint32_t>(limits::kMaxMessageBytes + 1);
    std::memcpy(oversized.data() + 4, &too_long, 4);  // little-endian host (x86-64, arm64)

    EXPECT_TRUE(server_closes_after(runtime, port, corrupted)) << "bad checksum";
    EXPECT_TRUE(server_closes_after(runtime, port, oversized)) << "oversized frame";
    EXPECT_TRUE(server_closes_after(runtime, port, "GET / HTTP/1.1\r\n\r\n")) << "bad magic";
    EXPECT_TRUE(server_closes_after(runtime, port, encode_peer_frame(NodeId(77), "x")))
        << "unknown sender";
    EXPECT_TRUE(server_closes_after(
        runtime, port, encode_peer_frame(NodeId(1), "a") + encode_peer_frame(NodeId(2), "b")))
        << "sender changed mid-connection (and 2 is the receiver itself)";
    EXPECT_EQ(cluster.node(2).stats().connections_rejected, 5u);

    // The rejected garbage delivered nothing except the one valid frame before the change.
    std::optional<env::Message> first = receive_within(runtime, cluster.node(2));
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->payload, "a");
    cluster.node(1).send(NodeId(2), "still fine");
    std::optional<env::Message> later = receive_within(runtime, cluster.node(2));
    ASSERT_TRUE(later.has_value());
    EXPECT_EQ(later->payload, "still fine");
  });
}

TEST(TcpNetwork, RunningOutOfDescriptorsPausesAcceptingInsteadOfSpinning) {
  // In a child process with a tiny descriptor limit: accept4 fails with EMFILE while
  // connections wait in the backlog. The network must back off (probe "net.accept_paused")
  // and keep running; the parent only dials.
  int port_pipe[2];
  ASSERT_EQ(::pipe(port_pipe), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    RealRuntime runtime({NodeId(1), 1, nullptr});
    TcpNetworkOptions options;
    options.self = NodeId(1);
    options.listen = kAnyLoopbackPort;
    Result<std::unique_ptr<TcpNetwork>> network =
        TcpNetwork::start(runtime.loop(), runtime, options);
    if (!network.is_ok()) ::_exit(2);
    const uint16_t port = (*network)->listen_port();
    if (::write(port_pipe[1], &port, sizeof(port)) != sizeof(port)) ::_exit(2);
    // Room for two more descriptors: a couple of accepts succeed, then EMFILE.
    const int probe_fd = ::dup(0);
    ::close(probe_fd);
    const rlimit limit{static_cast<rlim_t>(probe_fd + 2), static_cast<rlim_t>(probe_fd + 2)};
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::_exit(2);
    bool paused = false;
    runtime.spawn("observer", [&] {
      runtime.sleep_for(milliseconds(300));
      paused = runtime.probe_counts().contains("net.accept_paused");
      runtime.request_stop();
    });
    runtime.run();
    ::_exit(paused ? 0 : 1);
  }
  ::close(port_pipe[1]);
  uint16_t port = 0;
  ASSERT_EQ(::read(port_pipe[0], &port, sizeof(port)), static_cast<ssize_t>(sizeof(port)));
  ::close(port_pipe[0]);
  std::vector<int> clients;
  for (int i = 0; i < 10; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    clients.push_back(fd);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  for (int fd : clients) ::close(fd);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: accepting never paused; 2: child setup failed";
}

TEST(TcpNetwork, StartRejectsBadConfiguration) {
  RealRuntime runtime({NodeId(1), 1, nullptr});
  TcpNetworkOptions no_self_address;
  no_self_address.self = NodeId(3);
  no_self_address.peers = {{NodeId(1), {"127.0.0.1", 7101}}};
  EXPECT_EQ(TcpNetwork::start(runtime.loop(), runtime, no_self_address).code(),
            ErrorCode::kInvalidInput);

  TcpNetworkOptions unresolvable;
  unresolvable.self = NodeId(1);
  unresolvable.listen = kAnyLoopbackPort;
  unresolvable.peers = {{NodeId(2), {"no-such-host.invalid", 7102}}};
  Result<std::unique_ptr<TcpNetwork>> started =
      TcpNetwork::start(runtime.loop(), runtime, unresolvable);
  ASSERT_FALSE(started.is_ok());
  EXPECT_EQ(started.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(started.error().detail().find("no-such-host.invalid"), std::string::npos);

  // Two networks cannot listen on one port.
  TcpNetworkOptions first;
  first.self = NodeId(1);
  first.listen = kAnyLoopbackPort;
  Result<std::unique_ptr<TcpNetwork>> holder = TcpNetwork::start(runtime.loop(), runtime, first);
  ASSERT_TRUE(holder.is_ok());
  TcpNetworkOptions second = first;
  second.listen = PeerAddress{"127.0.0.1", (*holder)->listen_port()};
  EXPECT_EQ(TcpNetwork::start(runtime.loop(), runtime, second).code(), ErrorCode::kIoError);
}

TEST(PeerAddress, ParsesHostPortAndPeerLists) {
  Result<PeerAddress> v4 = parse_peer_address("127.0.0.1:7101");
  ASSERT_TRUE(v4.is_ok());
  EXPECT_EQ(*v4, (PeerAddress{"127.0.0.1", 7101}));
  Result<PeerAddress> v6 = parse_peer_address("[::1]:80");
  ASSERT_TRUE(v6.is_ok());
  EXPECT_EQ(*v6, (PeerAddress{"::1", 80}));
  EXPECT_EQ(v6->to_string(), "[::1]:80");

  for (std::string_view bad :
       {"nohost", ":7101", "host:", "host:0", "host:65536", "host:12x", "::1:80"}) {
    EXPECT_EQ(parse_peer_address(bad).code(), ErrorCode::kInvalidInput) << bad;
  }

  Result<std::map<NodeId, PeerAddress>> list =
      parse_peer_list("1=127.0.0.1:7101,2=127.0.0.1:7102,3=localhost:7103");
  ASSERT_TRUE(list.is_ok()) << list.error();
  EXPECT_EQ(list->size(), 3u);
  EXPECT_EQ(list->at(NodeId(3)), (PeerAddress{"localhost", 7103}));
  for (std::string_view bad :
       {"", "1=127.0.0.1:7101,1=127.0.0.1:7102", "0=h:1", "x=h:1", "1=h", "1=h:1,"}) {
    Result<std::map<NodeId, PeerAddress>> parsed = parse_peer_list(bad);
    EXPECT_EQ(parsed.code(), ErrorCode::kInvalidInput) << bad;
  }
}

}  // namespace
}  // namespace lockstep::server
