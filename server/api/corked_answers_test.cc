#include "server/api/corked_answers.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace lockstep::api {
namespace {

// A connected loopback TCP pair: `served` plays the socket gRPC adopted.
class LoopbackPair {
 public:
  LoopbackPair() {
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    EXPECT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(listener, 1), 0);
    EXPECT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
    client_ = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(::connect(client_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    served_ = ::accept(listener, nullptr, nullptr);
    EXPECT_GE(served_, 0);
    ::close(listener);
  }
  ~LoopbackPair() {
    ::close(client_);
    ::close(served_);
  }
  int served() const { return served_; }
  std::string peer() const { return "fd:" + std::to_string(served_); }

 private:
  int client_ = -1;
  int served_ = -1;
};

bool corked(int fd) {
  int value = -1;
  socklen_t length = sizeof value;
  EXPECT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_CORK, &value, &length), 0);
  return value != 0;
}

TEST(CorkedAnswers, CorksAnAdoptedConnectionUntilTheScopeCloses) {
  LoopbackPair connection;
  {
    CorkedAnswers scope;
    EXPECT_TRUE(CorkedAnswers::open_on_this_thread());
    CorkedAnswers::before_answer(connection.peer());
    EXPECT_TRUE(corked(connection.served()));
    CorkedAnswers::before_answer(connection.peer());  // a second answer on the same connection
    EXPECT_TRUE(corked(connection.served()));
  }
  EXPECT_FALSE(CorkedAnswers::open_on_this_thread());
  EXPECT_FALSE(corked(connection.served()));
}

TEST(CorkedAnswers, DoesNothingWithoutAScopeOnThisThread) {
  LoopbackPair connection;
  CorkedAnswers::before_answer(connection.peer());
  EXPECT_FALSE(corked(connection.served()));
  // A scope on another thread is that thread's batch, not this one's.
  CorkedAnswers scope;
  std::thread other([&] { CorkedAnswers::before_answer(connection.peer()); });
  other.join();
  EXPECT_FALSE(corked(connection.served()));
}

TEST(CorkedAnswers, LeavesPeersItDidNotAdoptAlone) {
  LoopbackPair connection;
  const std::string fd = std::to_string(connection.served());
  CorkedAnswers scope;
  const std::vector<std::string> peers = {"ipv4:127.0.0.1:" + fd, "fd:" + fd + "x", "fd:", "fd:-1"};
  for (const std::string& peer : peers) {
    CorkedAnswers::before_answer(peer);
    EXPECT_FALSE(corked(connection.served())) << peer;
  }
}

TEST(CorkedAnswers, ADescriptorThatRefusesTheCorkIsSkipped) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);  // a TLS relay's end
  {
    CorkedAnswers scope;
    CorkedAnswers::before_answer("fd:" + std::to_string(pair[0]));
    CorkedAnswers::before_answer("fd:" + std::to_string(pair[0]));
  }
  // Still usable: nothing was left half-set.
  EXPECT_EQ(::write(pair[0], "x", 1), 1);
  char byte = 0;
  EXPECT_EQ(::read(pair[1], &byte, 1), 1);
  ::close(pair[0]);
  ::close(pair[1]);
}

}  // namespace
}  // namespace lockstep::api
