#include "sim/scenario/number_range.h"

#include <gtest/gtest.h>

namespace lockstep::sim::scenario {
namespace {

TEST(NumberRange, TakesARangeOrABareNumber) {
  Result<NumberRange> range = parse_number_range("--seeds", "3..7", BareNumber::kOnlyThat, 0, 10);
  ASSERT_TRUE(range.is_ok());
  EXPECT_EQ(range->first, 3u);
  EXPECT_EQ(range->last, 7u);
  range = parse_number_range("--seeds", "5", BareNumber::kOnlyThat, 0, 10);
  ASSERT_TRUE(range.is_ok());
  EXPECT_EQ(range->first, 5u);
  EXPECT_EQ(range->last, 5u);
  range = parse_number_range("--cases", "5", BareNumber::kFirstN, 1, 10);
  ASSERT_TRUE(range.is_ok());
  EXPECT_EQ(range->first, 1u);
  EXPECT_EQ(range->last, 5u);
}

TEST(NumberRange, RefusesWhatIsNotARangeWithTheFlagsName) {
  for (const char* text : {"", "x", "1..", "..4", "1..4x", "-1", "+2", "1...4", "1..-4"}) {
    Result<NumberRange> range = parse_number_range("--seeds", text, BareNumber::kOnlyThat, 0, 10);
    ASSERT_FALSE(range.is_ok()) << text;
    EXPECT_NE(range.error().to_string().find("--seeds: expected A..B or N"), std::string::npos)
        << range.error().to_string();
  }
  EXPECT_NE(parse_number_range("--seeds", "7..3", BareNumber::kOnlyThat, 0, 10)
                .error()
                .to_string()
                .find("is empty"),
            std::string::npos);
  EXPECT_NE(parse_number_range("--cases", "0..3", BareNumber::kFirstN, 1, 10)
                .error()
                .to_string()
                .find("numbers start at 1"),
            std::string::npos);
  // At most `max_count` numbers: 1..10 is ten.
  EXPECT_TRUE(parse_number_range("--seeds", "1..10", BareNumber::kOnlyThat, 0, 10).is_ok());
  EXPECT_NE(parse_number_range("--seeds", "1..11", BareNumber::kOnlyThat, 0, 10)
                .error()
                .to_string()
                .find("more than 10 numbers"),
            std::string::npos);
}

}  // namespace
}  // namespace lockstep::sim::scenario
