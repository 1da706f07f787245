#pragma once

#include <string_view>
#include <vector>

namespace lockstep::api {

// While a CorkedAnswers scope is open on a thread, the answers that thread hands to gRPC leave
// together: the first answer for a client connection corks its socket (TCP_CORK, tcp(7)), and
// closing the scope uncorks every socket it corked, so the kernel sends each connection's
// answers of the batch as one segment where they fit, instead of one segment per answer.
//
// Why: gRPC 1.51 writes a unary call's answer with its own sendmsg from inside Finish (each call
// opens its own ExecCtx, so writes of several calls to one connection are not merged unless the
// transport's combiner happens to be busy). The daemon answers a Ready's requests together
// (CallQueue::post), ~0.8 sendmsg per put at 100 clients on 10 connections; on loopback each
// sendmsg also runs the client's TCP receive and wakes its poller. etcd's Go gRPC server
// merges a connection's pending frames into one write (its loopy writer) the same way.
//
// Only connections gRPC adopted from a socket of ours are known: their calls report the peer
// "fd:N" (grpc::AddInsecureChannelFromFd), which is how the daemon serves its client port
// (HttpServer hands each HTTP/2 connection over). Any other peer is left alone, as is a socket
// that does not take TCP_CORK (the AF_UNIX end of a TLS relay). The fd belongs to gRPC: it is
// open while the call being answered holds its transport, and if gRPC closes the connection
// before the scope ends, the number may name another descriptor by the time it is uncorked;
// clearing TCP_CORK there is harmless (nothing else in the process corks) and fails on a
// non-socket. Data is never held longer than the scope: a corked socket sends on uncork.
class CorkedAnswers {
 public:
  CorkedAnswers();  // at most one open scope per thread
  ~CorkedAnswers();
  CorkedAnswers(const CorkedAnswers&) = delete;
  CorkedAnswers& operator=(const CorkedAnswers&) = delete;

  // Called by the gRPC services just before an answer or a stream message is written, with
  // the call's peer (grpc::ServerContextBase::peer()). Does nothing unless a scope is open on
  // this thread.
  static void before_answer(std::string_view peer);
  // The same without building the peer string when no scope is open (the common case).
  static bool open_on_this_thread();

 private:
  std::vector<int> corked_;   // sockets this scope corked, uncorked by the destructor
  std::vector<int> refused_;  // descriptors that refused TCP_CORK, not asked again
};

}  // namespace lockstep::api
