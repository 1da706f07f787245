#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/base/error.h"

namespace lockstep::api {

// Reads VmRSS (resident set size, KiB) from /proc/<pid>/status.
Result<int64_t> read_resident_set_kib(int pid);

// Samples the resident set size of server processes on a background thread while a benchmark
// runs and keeps each process's maximum, the figure docs/benchmarks/daemon.md compares.
// A process that cannot be read (exited, no permission) simply stops contributing samples.
class ResidentSetSampler {
 public:
  static constexpr int kSampleIntervalMilliseconds = 50;

  explicit ResidentSetSampler(std::vector<int> pids);
  ~ResidentSetSampler();
  ResidentSetSampler(const ResidentSetSampler&) = delete;
  ResidentSetSampler& operator=(const ResidentSetSampler&) = delete;

  // Stops sampling (idempotent) and returns pid -> maximum VmRSS in KiB; pids never read
  // successfully are absent.
  std::map<int, int64_t> stop();

 private:
  void sample_once();
  void run();

  std::vector<int> pids_;
  std::mutex mutex_;
  std::condition_variable stop_requested_;
  bool stopping_ = false;
  std::map<int, int64_t> max_resident_set_kib_;
  std::thread thread_;
};

}  // namespace lockstep::api
