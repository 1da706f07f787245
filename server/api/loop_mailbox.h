#pragma once

#include <unistd.h>

#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

namespace lockstep::api {

// Items handed to one event-loop thread from any other thread: a locked list plus the
// loop's eventfd, written when the list goes from empty to non-empty (one wake-up per batch,
// not per item). The loop takes the whole list when its eventfd reads ready. Callbacks that
// post (an HTTP answer from a member's completion) share ownership of the mailbox, so one that
// runs after its loop has ended posts into a closed mailbox and nothing happens.
template <typename Item>
class LoopMailbox {
 public:
  // `wake_fd` stays the loop's: it calls close() before closing it.
  explicit LoopMailbox(int wake_fd) : wake_fd_(wake_fd) {}

  // False once closed (the item is dropped).
  bool post(Item item) {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    items_.push_back(std::move(item));
    if (items_.size() == 1) {
      const uint64_t one = 1;
      [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof one);
    }
    return true;
  }

  std::vector<Item> take() {
    std::vector<Item> taken;
    std::lock_guard lock(mutex_);
    taken.swap(items_);
    return taken;
  }

  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    items_.clear();
  }

 private:
  const int wake_fd_;
  std::mutex mutex_;
  std::vector<Item> items_;  // guarded by mutex_
  bool closed_ = false;      // guarded by mutex_
};

}  // namespace lockstep::api
