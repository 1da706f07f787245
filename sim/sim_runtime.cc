#include "sim/sim_runtime.h"

#include <algorithm>
#include <utility>

#include "core/base/assert.h"
#include "sim/process.h"
#include "sim/world.h"

namespace lockstep::sim {

// ---------------------------------------------------------------- SimRuntime

SimRuntime::SimRuntime(World& world, Process& process)
    : world_(world), process_(process), network_(world, process), disk_(world, process) {}

NodeId SimRuntime::self() const {
  return process_.id;
}

Instant SimRuntime::now() const {
  return process_.clock.local_at(world_.now_);
}

env::FiberId SimRuntime::spawn(std::string name, std::function<void()> body) {
  return world_.spawn_fiber(process_, std::move(name), std::move(body));
}

void SimRuntime::sleep_for(Duration duration) {
  sleep_until(now() + duration);
}

void SimRuntime::sleep_until(Instant deadline) {
  world_.block_current_fiber(process_, FiberState::kSleeping, deadline);
}

void SimRuntime::yield() {
  world_.yield_current_fiber(process_);
}

bool SimRuntime::park(std::optional<Instant> deadline) {
  return world_.block_current_fiber(process_, FiberState::kParked, deadline);
}

void SimRuntime::wake(env::FiberId fiber) {
  world_.wake_fiber(process_, fiber);
}

env::FiberId SimRuntime::current_fiber() const {
  ASSERT(world_.running_process_ == &process_, "current_fiber() outside this process's fibers");
  return world_.current_fiber_id();
}

Random& SimRuntime::random() {
  ASSERT(process_.random.has_value(), "random() of a crashed process");
  return *process_.random;
}

bool SimRuntime::buggify(std::source_location site) {
  return world_.buggify(process_, site);
}

void SimRuntime::probe(std::source_location site, std::string_view name) {
  world_.probe(site, name);
}

void SimRuntime::trace(std::string_view kind, std::string_view detail) {
  world_.trace_.add_user(world_.now_, process_.id.value(), kind, detail);
}

// ---------------------------------------------------------------- SimNetwork

void SimNetwork::send(NodeId to, std::string payload) {
  world_.send_message(process_, to, std::move(payload));
}

std::optional<env::Message> SimNetwork::receive(std::optional<Instant> deadline) {
  while (true) {
    if (!process_.inbox.empty()) {
      env::Message message = std::move(process_.inbox.front());
      process_.inbox.pop_front();
      return message;
    }
    if (deadline && process_.runtime->now() >= *deadline) return std::nullopt;
    const env::FiberId me = world_.current_fiber_id();
    process_.receivers.push_back(me);
    const bool woken = world_.block_current_fiber(process_, FiberState::kParked, deadline);
    if (!woken) std::erase(process_.receivers, me);
  }
}

// ---------------------------------------------------------------- SimDisk

void SimDisk::wait_latency() {
  const DiskFaults& faults = process_.disk.faults();
  if (faults.latency_max <= Duration(0)) return;
  const int64_t low = faults.latency_min.count();
  const int64_t high = std::max(low, faults.latency_max.count());
  process_.runtime->sleep_for(Duration(world_.disk_random_.between(low, high)));
}

void SimDisk::trace_directory_op(std::string_view operation, std::string_view path,
                                 const Status& result) {
  std::string text(operation);
  text += ' ';
  text += path;
  if (!result.is_ok()) {
    text += " -> ";
    text += result.to_string();
  }
  world_.trace_.add(world_.now_, process_.id.value(),
                    result.is_ok() ? TraceKind::kDiskDirectory : TraceKind::kDiskFault, 0, 0, 0,
                    text);
}

Result<std::unique_ptr<env::File>> SimDisk::open(std::string_view path, env::OpenMode mode) {
  wait_latency();
  Result<DiskState::InodeId> inode = process_.disk.open(path, mode);
  trace_directory_op("open", path, inode.status());
  if (!inode) return inode.error();
  return std::unique_ptr<env::File>(new SimFile(world_, process_, *this, *inode));
}

Status SimDisk::remove(std::string_view path) {
  wait_latency();
  Status result = process_.disk.remove(path);
  trace_directory_op("remove", path, result);
  return result;
}

Status SimDisk::rename(std::string_view from, std::string_view to) {
  wait_latency();
  Status result = process_.disk.rename(from, to);
  trace_directory_op("rename", std::string(from) + " " + std::string(to), result);
  return result;
}

bool SimDisk::exists(std::string_view path) {
  return process_.disk.exists(path);
}

Result<std::vector<std::string>> SimDisk::list(std::string_view directory) {
  wait_latency();
  return process_.disk.list(directory);
}

Status SimDisk::create_directory(std::string_view directory) {
  wait_latency();
  Status result = process_.disk.create_directory(directory);
  trace_directory_op("create_directory", directory, result);
  return result;
}

Status SimDisk::sync_directory(std::string_view directory) {
  wait_latency();
  Status result = process_.disk.sync_directory(directory, world_.disk_random_);
  trace_directory_op("sync_directory", directory, result);
  return result;
}

// ---------------------------------------------------------------- SimFile

SimFile::SimFile(World& world, Process& process, SimDisk& disk, DiskState::InodeId inode)
    : world_(world),
      process_(process),
      disk_(disk),
      inode_(inode),
      disk_generation_(process.disk.generation()) {
  process_.disk.add_handle(inode_);
}

SimFile::~SimFile() {
  process_.disk.release_handle(inode_, disk_generation_);
}

Status SimFile::check_live() const {
  if (process_.disk.generation() != disk_generation_) {
    return Status(ErrorCode::kIoError, "file handle from before a crash");
  }
  return Status::ok();
}

Result<std::string> SimFile::read(uint64_t offset, size_t length) {
  RETURN_IF_ERROR(check_live());
  disk_.wait_latency();
  RETURN_IF_ERROR(check_live());
  return process_.disk.read(inode_, offset, length);
}

Status SimFile::write(uint64_t offset, std::string_view bytes) {
  RETURN_IF_ERROR(check_live());
  disk_.wait_latency();
  RETURN_IF_ERROR(check_live());
  Status result = process_.disk.write(inode_, offset, bytes, world_.disk_random_);
  if (result.is_ok()) {
    world_.trace_.add(world_.now_, process_.id.value(), TraceKind::kDiskWrite, inode_, offset,
                      bytes.size());
  } else {
    world_.trace_.add(world_.now_, process_.id.value(), TraceKind::kDiskFault, inode_, offset,
                      bytes.size(), result.to_string());
  }
  return result;
}

Status SimFile::sync() {
  RETURN_IF_ERROR(check_live());
  disk_.wait_latency();
  RETURN_IF_ERROR(check_live());
  Result<uint64_t> synced = process_.disk.sync(inode_, world_.disk_random_);
  if (synced.is_ok()) {
    world_.trace_.add(world_.now_, process_.id.value(), TraceKind::kDiskSync, inode_, *synced);
  } else {
    world_.trace_.add(world_.now_, process_.id.value(), TraceKind::kDiskFault, inode_, 0, 0,
                      synced.error().to_string());
  }
  return synced.status();
}

Result<uint64_t> SimFile::size() {
  RETURN_IF_ERROR(check_live());
  return process_.disk.size(inode_);
}

Status SimFile::truncate(uint64_t size) {
  RETURN_IF_ERROR(check_live());
  disk_.wait_latency();
  RETURN_IF_ERROR(check_live());
  Status result = process_.disk.truncate(inode_, size, world_.disk_random_);
  world_.trace_.add(world_.now_, process_.id.value(),
                    result.is_ok() ? TraceKind::kDiskWrite : TraceKind::kDiskFault, inode_, size, 0,
                    result.is_ok() ? "truncate" : result.to_string());
  return result;
}

}  // namespace lockstep::sim
