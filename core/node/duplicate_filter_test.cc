#include "core/node/duplicate_filter.h"

#include <gtest/gtest.h>

namespace lockstep::node {
namespace {

TEST(DuplicateFilterTest, AdmitsAnIdOnceAndTheSameIdFromAnotherSenderToo) {
  DuplicateFilter filter;
  EXPECT_TRUE(filter.admit({1000, 7}));
  EXPECT_FALSE(filter.admit({1000, 7}));
  EXPECT_FALSE(filter.admit({1000, 7}));
  // Ids are the sender's own: another client may use the same number.
  EXPECT_TRUE(filter.admit({1001, 7}));
  EXPECT_TRUE(filter.admit({1000, 8}));
  EXPECT_EQ(filter.size(), 3u);
}

TEST(DuplicateFilterTest, ForgetsTheOldestOnceFull) {
  DuplicateFilter filter(3);
  for (uint64_t id = 1; id <= 3; ++id) EXPECT_TRUE(filter.admit({1, id}));
  EXPECT_TRUE(filter.admit({1, 4}));  // forgets id 1
  EXPECT_EQ(filter.size(), 3u);
  EXPECT_FALSE(filter.admit({1, 2}));
  EXPECT_FALSE(filter.admit({1, 4}));
  EXPECT_TRUE(filter.admit({1, 1}));  // beyond the window: admitted again
}

TEST(DuplicateFilterTest, ARepeatDoesNotRefreshOrGrowTheWindow) {
  DuplicateFilter filter(2);
  EXPECT_TRUE(filter.admit({1, 1}));
  EXPECT_TRUE(filter.admit({1, 2}));
  EXPECT_FALSE(filter.admit({1, 1}));
  EXPECT_EQ(filter.size(), 2u);
  EXPECT_TRUE(filter.admit({1, 3}));  // id 1 is still the oldest, so it goes
  EXPECT_TRUE(filter.admit({1, 1}));
}

}  // namespace
}  // namespace lockstep::node
