#include "server/api/latency_recorder.h"

#include <gtest/gtest.h>

namespace lockstep::api {
namespace {

TEST(LatencyRecorder, EmptyRecorderSummarizesToZeros) {
  const LatencySummary summary = LatencyRecorder().summarize();
  EXPECT_EQ(summary.count, 0u);
  EXPECT_EQ(summary.p99_ns, 0);
  EXPECT_EQ(summary.max_ns, 0);
}

// Nearest rank: the p-th percentile of n samples is the ceil(p/100 * n)-th smallest.
TEST(LatencyRecorder, PercentilesUseTheNearestRank) {
  LatencyRecorder recorder;
  // Recorded out of order on purpose: the summary must sort.
  for (int64_t sample = 1000; sample >= 1; --sample) recorder.record_ns(sample);
  const LatencySummary summary = recorder.summarize();
  EXPECT_EQ(summary.count, 1000u);
  EXPECT_EQ(summary.min_ns, 1);
  EXPECT_EQ(summary.max_ns, 1000);
  EXPECT_EQ(summary.p50_ns, 500);
  EXPECT_EQ(summary.p90_ns, 900);
  EXPECT_EQ(summary.p99_ns, 990);
  EXPECT_EQ(summary.p999_ns, 999);
  EXPECT_EQ(summary.mean_ns, 500);  // 500.5 truncated
}

TEST(LatencyRecorder, SmallSetsRoundTheRankUp) {
  EXPECT_EQ(nearest_rank_percentile({7}, 0.5), 7);
  EXPECT_EQ(nearest_rank_percentile({1, 2, 3}, 0.5), 2);    // ceil(1.5) = 2
  EXPECT_EQ(nearest_rank_percentile({1, 2, 3}, 0.999), 3);  // the tail is the maximum
  EXPECT_EQ(nearest_rank_percentile({1, 2, 3, 4}, 0.25), 1);
}

TEST(LatencyRecorder, MergeCombinesClientsSamples) {
  LatencyRecorder first;
  LatencyRecorder second;
  for (int64_t sample = 1; sample <= 50; ++sample) first.record_ns(sample);
  for (int64_t sample = 51; sample <= 100; ++sample) second.record_ns(sample);
  first.merge(second);
  const LatencySummary summary = first.summarize();
  EXPECT_EQ(summary.count, 100u);
  EXPECT_EQ(summary.p50_ns, 50);
  EXPECT_EQ(summary.p99_ns, 99);
  EXPECT_EQ(summary.max_ns, 100);
}

}  // namespace
}  // namespace lockstep::api
