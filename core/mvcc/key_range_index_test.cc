#include "core/mvcc/key_range_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "core/base/random.h"

namespace lockstep::mvcc {
namespace {

std::vector<int64_t> containing(const KeyRangeIndex& index, std::string_view key) {
  std::vector<int64_t> ids;
  index.for_each_containing(key, [&](int64_t id) { ids.push_back(id); });
  return ids;
}

TEST(KeyRangeIndexTest, HalfOpenAndUnboundedRanges) {
  KeyRangeIndex index;
  index.insert(KeyRange{"b", "d"}, 1);
  index.insert(KeyRange{"a", std::string(1, '\0')}, 2);  // every key >= "a"
  index.insert(KeyRange{"c", "c0"}, 3);
  EXPECT_EQ(containing(index, "a"), std::vector<int64_t>({2}));
  EXPECT_EQ(containing(index, "c"), std::vector<int64_t>({2, 1, 3}));
  EXPECT_EQ(containing(index, "d"), std::vector<int64_t>({2}));  // "d" is the exclusive end
  EXPECT_EQ(containing(index, "zzz"), std::vector<int64_t>({2}));
  EXPECT_TRUE(containing(index, "0").empty());
  EXPECT_TRUE(index.erase(KeyRange{"a", std::string(1, '\0')}, 2));
  EXPECT_FALSE(index.erase(KeyRange{"a", std::string(1, '\0')}, 2));
  EXPECT_EQ(containing(index, "c"), std::vector<int64_t>({1, 3}));
  EXPECT_EQ(index.size(), 2u);
}

TEST(KeyRangeIndexTest, AgreesWithALinearScanUnderRandomChanges) {
  Random random(7);
  KeyRangeIndex index;
  std::map<int64_t, KeyRange> live;
  auto any_key = [&] { return std::string(1, static_cast<char>('a' + random.below(12))); };
  for (int64_t step = 0; step < 3000; ++step) {
    if (live.empty() || random.chance(0.6)) {
      std::string start = any_key();
      std::string end = random.chance(0.2) ? std::string(1, '\0') : any_key() + "x";
      live.emplace(step, KeyRange{start, end});
      index.insert(live.at(step), step);
    } else {
      auto it = live.begin();
      std::advance(it, static_cast<long>(random.below(live.size())));
      ASSERT_TRUE(index.erase(it->second, it->first));
      live.erase(it);
    }
    const std::string probe = random.chance(0.5) ? any_key() : any_key() + "x";
    std::vector<int64_t> expected;
    for (const auto& [id, range] : live) {
      if (range.contains(probe)) expected.push_back(id);
    }
    std::vector<int64_t> actual = containing(index, probe);
    std::sort(actual.begin(), actual.end());
    ASSERT_EQ(actual, expected) << "step " << step << " probe " << probe;
  }
  EXPECT_EQ(index.size(), live.size());
}

}  // namespace
}  // namespace lockstep::mvcc
