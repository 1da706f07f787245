#include "server/api/wait_deletes.h"

namespace lockstep::api {

std::string prefix_range_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    const unsigned char last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key (etcd's "no end" for a prefix of 0xff bytes)
}

DeleteWaiter::DeleteWaiter(ClientApi& api, std::string prefix, Revision max_create_revision,
                           std::function<void(Status)> done)
    : api_(api),
      prefix_(std::move(prefix)),
      max_create_revision_(max_create_revision),
      done_(std::move(done)) {}

std::shared_ptr<DeleteWaiter> DeleteWaiter::start(ClientApi& api, std::string prefix,
                                                  Revision max_create_revision,
                                                  std::function<void(Status)> done) {
  auto waiter =
      std::make_shared<DeleteWaiter>(api, std::move(prefix), max_create_revision, std::move(done));
  waiter->find_next();
  return waiter;
}

void DeleteWaiter::find_next() {
  mvcc::RangeRequest newest;
  newest.key = prefix_;
  newest.range_end = prefix_range_end(prefix_);
  newest.max_create_revision = max_create_revision_;
  newest.sort_target = mvcc::SortTarget::kCreate;
  newest.sort_order = mvcc::SortOrder::kDescend;
  newest.limit = 1;
  newest.keys_only = true;
  api_.range(std::move(newest), [self = shared_from_this()](Result<mvcc::RangeResponse> range) {
    if (!range.is_ok()) return self->finish(range.error());
    if (range->kvs.empty()) return self->finish(Status::ok());
    self->watch(range->kvs.front().key, range->header.revision.next());
  });
}

void DeleteWaiter::watch(const std::string& key, Revision from) {
  std::weak_ptr<DeleteWaiter> weak = weak_from_this();
  std::unique_ptr<WatchSession> session =
      api_.open_watch_session([weak, key](mvcc::WatchResponse response) {
        if (auto self = weak.lock()) self->on_watch(response, key);
      });
  mvcc::WatchCreateRequest create;
  create.key = key;
  create.start_revision = from;
  create.filters.push_back(mvcc::WatchFilter::kNoPut);
  WatchSession* raw = session.get();
  {
    std::lock_guard lock(mutex_);
    if (!done_) return;  // cancelled meanwhile; the session dies here
    session_ = std::move(session);
  }
  raw->create(std::move(create));
}

void DeleteWaiter::on_watch(const mvcc::WatchResponse& response, const std::string&) {
  const bool deleted = !response.events.empty();  // only deletes pass the filter
  // A watch the member cancelled (compaction, a restart of the stream) says nothing about
  // the key: look again.
  if (!deleted && !response.canceled) return;
  std::unique_ptr<WatchSession> ended;
  {
    std::lock_guard lock(mutex_);
    if (!done_) return;
    ended = std::move(session_);
  }
  ended.reset();
  find_next();
}

void DeleteWaiter::cancel() {
  finish(Status(ErrorCode::kCancelled));
}

void DeleteWaiter::finish(Status status) {
  std::function<void(Status)> done;
  std::unique_ptr<WatchSession> session;
  {
    std::lock_guard lock(mutex_);
    done = std::move(done_);
    done_ = nullptr;
    session = std::move(session_);
  }
  session.reset();
  if (done) done(std::move(status));
}

}  // namespace lockstep::api
