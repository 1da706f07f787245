#include "checker/shrink.h"

#include <gtest/gtest.h>

#include "checker/cas_register_model.h"
#include "checker/history_view.h"
#include "checker/test_histories.h"

namespace lockstep::checker {
namespace {

using testing::make_operation;
using testing::read_result;
using testing::register_read;
using testing::register_write;

// A stale read buried among unrelated clients: the shrinker keeps the write, the later
// write it should have seen, and the stale read.
TEST(ShrinkTest, ShrinksToAVerifiedMinimalViolation) {
  History history;
  history.operations = {
      make_operation(1, 0, 10, register_write("1")), make_operation(2, 20, 30, register_write("2")),
      make_operation(3, 40, 50, register_read(), read_result("1")),  // stale
  };
  for (int i = 0; i < 20; ++i) {
    history.operations.push_back(
        make_operation(10 + i, 60 + i * 10, 65 + i * 10, register_read(), read_result("2")));
  }
  CasRegisterModel model;
  auto full = check_linearizability(history, model);
  ASSERT_TRUE(full.is_ok());
  ASSERT_EQ(full->verdict, Verdict::kNotLinearizable);
  const ShrinkResult shrunk =
      shrink_violation(history, model, full->partitions.back().operations, ShrinkOptions{});
  EXPECT_TRUE(shrunk.minimal);
  EXPECT_EQ(shrunk.operations, (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(shrunk.verdict.verdict, Verdict::kNotLinearizable);
  // Minimal: dropping the later write or the read makes it linearizable; dropping the first
  // write would leave a read of a value nobody wrote, a different and trivial failure that
  // the shrinker refuses to produce.
  for (uint32_t skip : {1u, 2u}) {
    std::vector<uint32_t> fewer;
    for (uint32_t index : shrunk.operations) {
      if (index != skip) fewer.push_back(index);
    }
    auto result = check_linearizability(sub_history(history, fewer), model);
    ASSERT_TRUE(result.is_ok());
    EXPECT_EQ(result->verdict, Verdict::kLinearizable);
  }

  const std::string html = render_history_html(history, *full, &shrunk);
  EXPECT_NE(html.find("not linearizable"), std::string::npos);
  EXPECT_NE(html.find("class=\"op blocked\""), std::string::npos);
  EXPECT_NE(html.find("Minimal failing sub-history: 3 operations"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos) << "the page must not load anything";
}

}  // namespace
}  // namespace lockstep::checker
