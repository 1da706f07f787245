#include "checker/linearizability.h"

#include <gtest/gtest.h>

#include "checker/cas_register_model.h"
#include "checker/kv_model.h"
#include "checker/test_histories.h"

namespace lockstep::checker {
namespace {

using testing::cas_result;
using testing::indeterminate;
using testing::make_operation;
using testing::read_result;
using testing::register_cas;
using testing::register_read;
using testing::register_write;

Verdict check(const History& history, const Model& model, CheckOptions options = {}) {
  auto result = check_linearizability(history, model, options);
  EXPECT_TRUE(result.is_ok()) << result.error().to_string();
  return result->verdict;
}

// Herlihy & Wing 1990: a read that begins after a write completed must see it (or a later
// write); a stale read after the write returned is the textbook violation.
TEST(LinearizabilityTest, StaleReadAfterCompletedWriteIsCaught) {
  History history;
  history.operations = {
      make_operation(1, 0, 10, register_write("1")),
      make_operation(2, 20, 30, register_read(), read_result(std::nullopt)),
  };
  CasRegisterModel model;
  auto result = check_linearizability(history, model);
  ASSERT_TRUE(result.is_ok());
  EXPECT_EQ(result->verdict, Verdict::kNotLinearizable);
  const PartitionVerdict& part = result->partitions.back();
  EXPECT_EQ(part.longest_prefix, std::vector<uint32_t>{0});
  ASSERT_TRUE(part.blocked_operation.has_value());
  EXPECT_EQ(*part.blocked_operation, 1u);
}

TEST(LinearizabilityTest, ConcurrentReadMayPrecedeOverlappingWrite) {
  History history;
  history.operations = {
      make_operation(1, 0, 10, register_write("1")),
      make_operation(2, 5, 30, register_read(), read_result(std::nullopt)),
  };
  EXPECT_EQ(check(history, CasRegisterModel()), Verdict::kLinearizable);
}

// Equal times count as concurrent: a return at t and an invoke at t overlap.
TEST(LinearizabilityTest, TouchingIntervalsAreConcurrent) {
  History history;
  history.operations = {
      make_operation(1, 0, 10, register_write("1")),
      make_operation(2, 10, 30, register_read(), read_result(std::nullopt)),
  };
  EXPECT_EQ(check(history, CasRegisterModel()), Verdict::kLinearizable);
}

TEST(LinearizabilityTest, FailedCasMustObserveADifferentValue) {
  History history;
  history.operations = {
      make_operation(1, 0, 10, register_write("1")),
      make_operation(2, 20, 30, register_cas("1", "2"), cas_result(false)),
  };
  EXPECT_EQ(check(history, CasRegisterModel()), Verdict::kNotLinearizable);
  history.operations[1].response.succeeded = true;
  EXPECT_EQ(check(history, CasRegisterModel()), Verdict::kLinearizable);
}

// An indeterminate operation may take effect at any point after its invoke, even after
// everything else returned...
TEST(LinearizabilityTest, IndeterminateWriteMayTakeEffectLate) {
  History history;
  history.operations = {
      indeterminate(make_operation(1, 0, 0, register_write("1"))),
      make_operation(2, 5, 10, register_read(), read_result(std::nullopt)),
      make_operation(2, 50, 60, register_read(), read_result("1")),
  };
  EXPECT_EQ(check(history, CasRegisterModel()), Verdict::kLinearizable);
}

// ...or never.
TEST(LinearizabilityTest, IndeterminateWriteMayNeverTakeEffect) {
  History history;
  history.operations = {
      indeterminate(make_operation(1, 0, 0, register_write("1"))),
      make_operation(2, 50, 60, register_read(), read_result(std::nullopt)),
  };
  EXPECT_EQ(check(history, CasRegisterModel()), Verdict::kLinearizable);
}

// But not before it was invoked.
TEST(LinearizabilityTest, IndeterminateWriteCannotTakeEffectBeforeItsInvoke) {
  History history;
  history.operations = {
      make_operation(2, 0, 10, register_read(), read_result("1")),
      indeterminate(make_operation(1, 20, 0, register_write("1"))),
  };
  EXPECT_EQ(check(history, CasRegisterModel()), Verdict::kNotLinearizable);
}

// And once seen it cannot be unseen: two reads must agree on one point of effect.
TEST(LinearizabilityTest, IndeterminateWriteTakesEffectAtOnePointOnly) {
  History history;
  history.operations = {
      indeterminate(make_operation(1, 0, 0, register_write("1"))),
      make_operation(2, 5, 10, register_read(), read_result("1")),
      make_operation(2, 20, 30, register_read(), read_result(std::nullopt)),
  };
  EXPECT_EQ(check(history, CasRegisterModel()), Verdict::kNotLinearizable);
}

History many_concurrent_writes_then_impossible_read(int writers) {
  // Every write overlaps every other, and the final read names a value nobody wrote: the
  // search must try every order of the writes (memo keeps it to 2^n sets) before saying no.
  History history;
  for (int i = 0; i < writers; ++i) {
    history.operations.push_back(make_operation(i, 0, 100, register_write(std::to_string(i))));
    history.operations.push_back(
        make_operation(i, 1, 99, register_read(), read_result(std::to_string(i))));
  }
  history.operations.push_back(make_operation(99, 200, 300, register_read(), read_result("x")));
  return history;
}

TEST(LinearizabilityTest, StepBudgetExhaustionAnswersUnknownNeverOk) {
  const History history = many_concurrent_writes_then_impossible_read(12);
  CheckOptions options;
  options.max_steps = 1000;
  EXPECT_EQ(check(history, CasRegisterModel(), options), Verdict::kUnknown);
  // The same shape, small enough to finish, is a violation: the budget alone made it unknown.
  options.max_steps = 0;
  EXPECT_EQ(check(many_concurrent_writes_then_impossible_read(6), CasRegisterModel(), options),
            Verdict::kNotLinearizable);
}

TEST(LinearizabilityTest, InjectedStopPredicateAnswersUnknown) {
  const History history = many_concurrent_writes_then_impossible_read(12);
  CheckOptions options;
  int polls = 0;
  options.should_stop = [&polls] { return ++polls >= 2; };
  EXPECT_EQ(check(history, CasRegisterModel(), options), Verdict::kUnknown);
  EXPECT_EQ(polls, 2);
}

TEST(LinearizabilityTest, MemoryBudgetAnswersUnknown) {
  const History history = many_concurrent_writes_then_impossible_read(16);
  CheckOptions options;
  options.max_memo_bytes = 64 * 1024;
  EXPECT_EQ(check(history, CasRegisterModel(), options), Verdict::kUnknown);
}

Request kv(RequestKind kind, std::string key, std::string value = {}) {
  Request request;
  request.kind = kind;
  request.key = std::move(key);
  request.value = std::move(value);
  return request;
}

// Porcupine's kv model: a missing key reads as "", append concatenates.
TEST(LinearizabilityTest, KvModelPartitionsPerKeyAndFindsTheBadKey) {
  History history;
  history.operations = {
      make_operation(1, 0, 10, kv(RequestKind::kAppend, "a", "x")),
      make_operation(2, 0, 10, kv(RequestKind::kPut, "b", "y")),
      make_operation(1, 20, 30, kv(RequestKind::kAppend, "a", "z")),
      make_operation(2, 40, 50, kv(RequestKind::kGet, "a"), read_result("xz")),
      make_operation(2, 60, 70, kv(RequestKind::kGet, "b"), read_result("")),
  };
  KvModel model;
  auto result = check_linearizability(history, model);
  ASSERT_TRUE(result.is_ok());
  EXPECT_EQ(result->verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(result->partitions.back().name, "b");
  history.operations[4].response.value = "y";
  EXPECT_EQ(check(history, model), Verdict::kLinearizable);
  CheckOptions whole;
  whole.partition = false;
  EXPECT_EQ(check(history, model, whole), Verdict::kLinearizable);
  history.operations[3].response.value = "zx";
  EXPECT_EQ(check(history, model, whole), Verdict::kNotLinearizable);
}

TEST(LinearizabilityTest, ModelRejectsRequestsItDoesNotKnow) {
  History history;
  history.source_name = "h.jsonl";
  history.operations = {make_operation(1, 0, 10, kv(RequestKind::kAppend, "a", "x"))};
  history.operations[0].source_line = 7;
  auto result = check_linearizability(history, CasRegisterModel());
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(result.error().detail().find("h.jsonl:7"), std::string::npos);
}

}  // namespace
}  // namespace lockstep::checker
