#include "server/api/corked_answers.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>

#include "core/base/assert.h"

namespace lockstep::api {
namespace {

thread_local CorkedAnswers* open_scope = nullptr;

// gRPC's peer string for a connection it adopted from a descriptor.
constexpr std::string_view kAdoptedPeerPrefix = "fd:";

bool set_cork(int fd, bool on) {
  const int value = on ? 1 : 0;
  return ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &value, sizeof value) == 0;
}

}  // namespace

CorkedAnswers::CorkedAnswers() {
  ASSERT(open_scope == nullptr, "CorkedAnswers scopes do not nest");
  open_scope = this;
}

CorkedAnswers::~CorkedAnswers() {
  open_scope = nullptr;
  for (int fd : corked_) set_cork(fd, false);
}

bool CorkedAnswers::open_on_this_thread() {
  return open_scope != nullptr;
}

void CorkedAnswers::before_answer(std::string_view peer) {
  CorkedAnswers* scope = open_scope;
  if (scope == nullptr || !peer.starts_with(kAdoptedPeerPrefix)) return;
  peer.remove_prefix(kAdoptedPeerPrefix.size());
  int fd = -1;
  const auto [end, error] = std::from_chars(peer.data(), peer.data() + peer.size(), fd);
  if (error != std::errc() || end != peer.data() + peer.size() || fd < 0) return;
  // A batch has a few connections (one per client channel), so a linear search is the
  // cheapest set.
  auto seen = [fd](const std::vector<int>& fds) {
    return std::find(fds.begin(), fds.end(), fd) != fds.end();
  };
  if (seen(scope->corked_) || seen(scope->refused_)) return;
  (set_cork(fd, true) ? scope->corked_ : scope->refused_).push_back(fd);
}

}  // namespace lockstep::api
