#include "server/api/rss_sampler.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

namespace lockstep::api {

Result<int64_t> read_resident_set_kib(int pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/status";
  std::ifstream status(path);
  if (!status) return Error(ErrorCode::kFileNotFound, path);
  std::string line;
  while (std::getline(status, line)) {
    // The line looks like "VmRSS:\t   45012 kB".
    if (line.rfind("VmRSS:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    int64_t kib = 0;
    if (!(fields >> kib)) return Error(ErrorCode::kInvalidInput, path + ": unreadable VmRSS line");
    return kib;
  }
  return Error(ErrorCode::kInvalidInput, path + ": no VmRSS line (a kernel thread or zombie)");
}

ResidentSetSampler::ResidentSetSampler(std::vector<int> pids) : pids_(std::move(pids)) {
  sample_once();  // a run shorter than one interval still gets a figure
  if (!pids_.empty()) thread_ = std::thread([this] { run(); });
}

ResidentSetSampler::~ResidentSetSampler() {
  stop();
}

void ResidentSetSampler::sample_once() {
  for (const int pid : pids_) {
    const Result<int64_t> kib = read_resident_set_kib(pid);
    if (!kib.is_ok()) continue;
    std::lock_guard lock(mutex_);
    int64_t& maximum = max_resident_set_kib_[pid];
    if (*kib > maximum) maximum = *kib;
  }
}

void ResidentSetSampler::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    sample_once();
    lock.lock();
    stop_requested_.wait_for(lock, std::chrono::milliseconds(kSampleIntervalMilliseconds),
                             [this] { return stopping_; });
  }
}

std::map<int, int64_t> ResidentSetSampler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_requested_.notify_all();
  if (thread_.joinable()) thread_.join();
  sample_once();
  std::lock_guard lock(mutex_);
  return max_resident_set_kib_;
}

}  // namespace lockstep::api
