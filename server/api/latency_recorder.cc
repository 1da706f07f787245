#include "server/api/latency_recorder.h"

#include <algorithm>
#include <cmath>

#include "core/base/assert.h"

namespace lockstep::api {

void LatencyRecorder::record_ns(int64_t latency_ns) {
  ASSERT(latency_ns >= 0, "a steady clock never runs backwards");
  samples_ns_.push_back(latency_ns);
}

void LatencyRecorder::merge(const LatencyRecorder& other) {
  samples_ns_.insert(samples_ns_.end(), other.samples_ns_.begin(), other.samples_ns_.end());
}

int64_t nearest_rank_percentile(const std::vector<int64_t>& sorted_samples, double quantile) {
  ASSERT(quantile > 0.0, "the nearest rank is defined for quantiles in (0, 1]");
  ASSERT(quantile <= 1.0, "the nearest rank is defined for quantiles in (0, 1]");
  if (sorted_samples.empty()) return 0;
  const auto sample_count = static_cast<double>(sorted_samples.size());
  // rank = ceil(q * n), 1-based; the small epsilon keeps 0.99 * 100 from becoming 99.0000001.
  auto rank = static_cast<size_t>(std::ceil(quantile * sample_count - 1e-9));
  rank = std::clamp<size_t>(rank, 1, sorted_samples.size());
  return sorted_samples[rank - 1];
}

LatencySummary LatencyRecorder::summarize() const {
  LatencySummary summary;
  if (samples_ns_.empty()) return summary;
  std::vector<int64_t> sorted = samples_ns_;
  std::sort(sorted.begin(), sorted.end());
  summary.count = sorted.size();
  summary.min_ns = sorted.front();
  summary.max_ns = sorted.back();
  // Sum in long double: 10^8 samples of seconds-long latencies overflow no 64-bit integer,
  // but a plain double sum would lose the nanoseconds.
  long double total_ns = 0;
  for (const int64_t sample : sorted) total_ns += static_cast<long double>(sample);
  summary.mean_ns = static_cast<int64_t>(total_ns / static_cast<long double>(sorted.size()));
  summary.p50_ns = nearest_rank_percentile(sorted, 0.50);
  summary.p90_ns = nearest_rank_percentile(sorted, 0.90);
  summary.p99_ns = nearest_rank_percentile(sorted, 0.99);
  summary.p999_ns = nearest_rank_percentile(sorted, 0.999);
  return summary;
}

}  // namespace lockstep::api
