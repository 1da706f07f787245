#include "checker/append_value_table.h"

#include <gtest/gtest.h>

#include <string>

namespace lockstep::checker {
namespace {

// The kv model compares a read with a state by id, so equal texts must get equal ids however
// they were built (a literal, or a chain of appends), and different texts different ids.
TEST(AppendValueTableTest, EqualTextsGetEqualIdsWhateverTheirConstruction) {
  AppendValueTable table;
  const auto x = table.intern("x 1 y");
  const auto a = table.intern("x 1");
  const auto b = table.intern(" y");
  EXPECT_EQ(table.append(a, b), x);
  const auto x1 = table.intern("x");
  const auto one_y = table.intern(" 1 y");
  EXPECT_EQ(table.append(x1, one_y), x);
  EXPECT_EQ(table.append(table.empty(), x), x);
  EXPECT_EQ(table.append(x, table.empty()), x);
  EXPECT_EQ(table.intern(""), table.empty());
  EXPECT_NE(table.append(b, a), x);
  EXPECT_EQ(table.text(table.append(b, a)), " yx 1");
}

TEST(AppendValueTableTest, LongAppendChainsRoundTripAndMatchLiterals) {
  AppendValueTable table;
  std::string expected;
  auto value = table.empty();
  for (int i = 0; i < 5000; ++i) {
    const std::string piece = "x " + std::to_string(i % 7) + " y";
    value = table.append(value, table.intern(piece));
    expected += piece;
  }
  EXPECT_EQ(table.text(value), expected);
  EXPECT_EQ(table.intern(expected), value);
  EXPECT_NE(table.intern(expected + "z"), value);
  EXPECT_NE(table.intern(expected.substr(1)), value);
}

}  // namespace
}  // namespace lockstep::checker
