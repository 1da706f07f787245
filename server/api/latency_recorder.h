#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lockstep::api {

// Percentiles of a set of latencies, in nanoseconds. Empty sets report zeros.
struct LatencySummary {
  size_t count = 0;
  int64_t min_ns = 0;
  int64_t mean_ns = 0;
  int64_t p50_ns = 0;
  int64_t p90_ns = 0;
  int64_t p99_ns = 0;
  int64_t p999_ns = 0;
  int64_t max_ns = 0;
};

// Keeps every sample (a benchmark run is bounded by --total, so exact percentiles are cheap)
// rather than a bucketed histogram: p99.9 of 20000 samples is then the 19980th smallest
// sample, not a bucket edge. One recorder per client thread, merged after the threads join,
// so recording needs no lock.
class LatencyRecorder {
 public:
  void record_ns(int64_t latency_ns);
  void merge(const LatencyRecorder& other);
  size_t count() const { return samples_ns_.size(); }
  LatencySummary summarize() const;

 private:
  std::vector<int64_t> samples_ns_;
};

// The nearest-rank percentile (the smallest sample with at least `quantile` of all samples
// at or below it) of samples sorted ascending. quantile is in (0, 1].
int64_t nearest_rank_percentile(const std::vector<int64_t>& sorted_samples, double quantile);

}  // namespace lockstep::api
