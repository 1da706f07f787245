#include "server/real_runtime.h"

#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "core/base/assert.h"
#include "core/base/limits.h"

namespace lockstep::server {

uint64_t real_seed() {
  uint64_t seed = 0;
  const ssize_t got = ::getrandom(&seed, sizeof(seed), 0);
  ASSERT(got == static_cast<ssize_t>(sizeof(seed)), "getrandom of 8 bytes does not fail");
  return seed;
}

RealRuntime::RealRuntime(RealRuntimeOptions options)
    : self_(options.self),
      random_(options.seed.value_or(real_seed())),
      trace_sink_(options.trace_sink) {
  trace("runtime.start", "seed=" + std::to_string(random_.seed()));
}

RealRuntime::~RealRuntime() {
  kill_all_fibers();
  if (signal_fd_ >= 0) {
    loop_.unwatch(signal_fd_);
    ::close(signal_fd_);
  }
}

void RealRuntime::set_network(std::unique_ptr<env::Network> network) {
  network_ = std::move(network);
}

SyncWorker& RealRuntime::sync_worker() {
  if (sync_worker_ == nullptr) {
    // The calling fiber is running, so ready_ holds only the others.
    sync_worker_ = std::make_unique<SyncWorker>(
        loop_, *this, [this] { return !ready_.empty() || loop_.has_pending_work(); });
  }
  return *sync_worker_;
}

void RealRuntime::set_disk(std::unique_ptr<env::Disk> disk) {
  disk_ = std::move(disk);
}

env::Network& RealRuntime::network() {
  ASSERT(network_ != nullptr, "set_network() before the process uses the network");
  return *network_;
}

env::Disk& RealRuntime::disk() {
  ASSERT(disk_ != nullptr, "set_disk() before the process uses the disk");
  return *disk_;
}

env::FiberId RealRuntime::spawn(std::string name, std::function<void()> body) {
  ASSERT(fibers_.size() < limits::kMaxFibersPerProcess,
         "a process spawned more fibers than limits::kMaxFibersPerProcess");
  const env::FiberId id = next_fiber_id_;
  next_fiber_id_ = next_fiber_id_.next();
  fibers_.emplace(id, std::make_unique<FiberRecord>(std::move(name), std::move(body)));
  ready_.push_back(id);
  return id;
}

RealRuntime::FiberRecord& RealRuntime::running_record() const {
  ASSERT(running_ != env::FiberId(), "blocking calls are for fibers, not the loop itself");
  const auto found = fibers_.find(running_);
  ASSERT(found != fibers_.end(), "the running fiber has a record");
  return *found->second;
}

env::FiberId RealRuntime::current_fiber() const {
  running_record();  // asserts that a fiber is running
  return running_;
}

void RealRuntime::block_running(FiberState state, std::optional<Instant> deadline) {
  FiberRecord& record = running_record();
  record.state = state;
  record.woken = false;
  if (deadline) record.timer = loop_.schedule(*deadline, this, running_.value());
  record.fiber.suspend();  // throws env::FiberKilled when the runtime stops
}

void RealRuntime::make_ready(env::FiberId id, FiberRecord& record) {
  loop_.cancel(record.timer);
  record.timer = TimerId{};
  record.state = FiberState::kReady;
  ready_.push_back(id);
}

void RealRuntime::sleep_for(Duration duration) {
  sleep_until(now() + duration);
}

void RealRuntime::sleep_until(Instant deadline) {
  // A deadline already past still gives other fibers and the sockets a turn, so a loop of
  // sleep_for(0) cannot starve the process.
  if (deadline <= now()) {
    yield();
    return;
  }
  block_running(FiberState::kSleeping, deadline);
}

void RealRuntime::yield() {
  FiberRecord& record = running_record();
  record.state = FiberState::kReady;
  ready_.push_back(running_);
  record.fiber.suspend();
}

bool RealRuntime::park(std::optional<Instant> deadline) {
  if (deadline && *deadline <= now()) return false;
  block_running(FiberState::kParked, deadline);
  return running_record().woken;
}

void RealRuntime::wake(env::FiberId fiber) {
  const auto found = fibers_.find(fiber);
  if (found == fibers_.end()) return;  // finished or killed meanwhile
  FiberRecord& record = *found->second;
  // Only park() is interruptible: a sleeping fiber sleeps its full duration, as promised.
  if (record.state != FiberState::kParked) return;
  record.woken = true;
  make_ready(fiber, record);
}

void RealRuntime::on_timer(uint64_t fiber_id) {
  const env::FiberId id(fiber_id);
  const auto found = fibers_.find(id);
  ASSERT(found != fibers_.end(), "a finished fiber's timer is cancelled with its record");
  FiberRecord& record = *found->second;
  ASSERT(record.state == FiberState::kParked || record.state == FiberState::kSleeping,
         "only a blocked fiber has a pending timer");
  record.timer = TimerId{};  // fired: nothing left to cancel
  record.woken = false;
  make_ready(id, record);
}

void RealRuntime::run_ready_fibers() {
  // Only the fibers ready when the batch began: one that yields goes to the back and runs in
  // the next batch, after the loop has polled the sockets once.
  for (size_t batch = ready_.size(); batch > 0 && !stop_requested_; --batch) {
    const env::FiberId id = ready_.front();
    ready_.pop_front();
    const auto found = fibers_.find(id);
    if (found == fibers_.end()) continue;
    FiberRecord& record = *found->second;
    ASSERT(record.state == FiberState::kReady, "the ready queue holds only ready fibers");
    record.state = FiberState::kRunning;
    running_ = id;
    record.fiber.resume();
    running_ = env::FiberId();
    if (record.fiber.finished()) {
      loop_.cancel(record.timer);
      fibers_.erase(found);
    }
  }
}

void RealRuntime::run() {
  ASSERT(running_ == env::FiberId(), "run() is called from outside any fiber");
  while (!stop_requested_ && !fibers_.empty()) {
    run_ready_fibers();
    if (stop_requested_ || fibers_.empty()) break;
    loop_.poll(/*may_block=*/ready_.empty());
  }
  // One last flush, so messages queued by the final fibers still go out if they can.
  loop_.poll(/*may_block=*/false);
  kill_all_fibers();
}

void RealRuntime::kill_all_fibers() {
  // One at a time from the front: a fiber's destructors may spawn or wake others, and
  // anything spawned now is killed before it ever runs.
  while (!fibers_.empty()) {
    auto first = fibers_.begin();
    std::unique_ptr<FiberRecord> record = std::move(first->second);
    fibers_.erase(first);
    loop_.cancel(record->timer);
    record->fiber.kill();
  }
  ready_.clear();
}

Status RealRuntime::stop_on_signals() {
  if (signal_fd_ >= 0) return Status::ok();
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  if (::sigprocmask(SIG_BLOCK, &signals, nullptr) != 0) {
    return Status(ErrorCode::kInternal, std::string("sigprocmask: ") + std::strerror(errno));
  }
  signal_fd_ = ::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) {
    return Status(ErrorCode::kInternal, std::string("signalfd: ") + std::strerror(errno));
  }
  return loop_.watch(signal_fd_, EPOLLIN, this);
}

void RealRuntime::on_io(uint32_t) {
  signalfd_siginfo info{};
  while (::read(signal_fd_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
    trace("runtime.signal",
          std::string("stopping on ") + ::strsignal(static_cast<int>(info.ssi_signo)));
    request_stop();
  }
}

void RealRuntime::probe(std::source_location site, std::string_view name) {
  const auto found = probes_.find(name);
  if (found != probes_.end()) {
    ++found->second;
    return;
  }
  probes_.emplace(std::string(name), 1);
  // First hit only: a probe is a coverage marker, and logging every hit would flood the log.
  trace("probe", std::string(name) + " first hit at " + site.file_name() + ":" +
                     std::to_string(site.line()));
}

void RealRuntime::trace(std::string_view kind, std::string_view detail) {
  if (trace_sink_ == nullptr) return;
  const int64_t micros = now().nanoseconds() / 1000;
  std::fprintf(
      trace_sink_, "%lld.%06lld node=%llu %.*s %.*s\n", static_cast<long long>(micros / 1'000'000),
      static_cast<long long>(micros % 1'000'000), static_cast<unsigned long long>(self_.value()),
      static_cast<int>(kind.size()), kind.data(), static_cast<int>(detail.size()), detail.data());
}

}  // namespace lockstep::server
