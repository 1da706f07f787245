#include "core/base/random.h"

#include <gtest/gtest.h>

#include <array>

namespace lockstep {
namespace {

TEST(Random, SameSeedSameSequence) {
  Random first(42), second(42);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(first.next_u64(), second.next_u64());
}

TEST(Random, DifferentSeedsDiffer) {
  Random first(1), second(2);
  int equal = 0;
  for (int i = 0; i < 100; ++i) equal += first.next_u64() == second.next_u64();
  EXPECT_LT(equal, 2);
}

TEST(Random, StreamsDoNotDependOnDrawsFromTheParent) {
  Random parent(7);
  Random before = parent.stream("network");
  for (int i = 0; i < 10; ++i) parent.next_u64();
  Random after = parent.stream("network");
  EXPECT_EQ(before.next_u64(), after.next_u64());
  EXPECT_NE(parent.stream("network").next_u64(), parent.stream("disk").next_u64());
}

TEST(Random, BelowIsRoughlyUniform) {
  Random random(3);
  std::array<int, 10> counts{};
  const int draws = 100000;
  for (int i = 0; i < draws; ++i) counts[random.below(10)]++;
  for (int count : counts) {
    EXPECT_GT(count, draws / 10 * 0.95);
    EXPECT_LT(count, draws / 10 * 1.05);
  }
}

TEST(Random, ChanceMatchesProbability) {
  Random random(9);
  int hits = 0;
  for (int i = 0; i < 100000; ++i) hits += random.chance(0.2);
  EXPECT_NEAR(hits / 100000.0, 0.2, 0.01);
  EXPECT_FALSE(Random(1).chance(0));
  EXPECT_TRUE(Random(1).chance(1));
}

TEST(Random, BetweenIsInclusive) {
  Random random(5);
  bool saw_low = false, saw_high = false;
  for (int i = 0; i < 1000; ++i) {
    const int64_t value = random.between(-2, 2);
    ASSERT_GE(value, -2);
    ASSERT_LE(value, 2);
    saw_low |= value == -2;
    saw_high |= value == 2;
  }
  EXPECT_TRUE(saw_low && saw_high);
}

}  // namespace
}  // namespace lockstep
