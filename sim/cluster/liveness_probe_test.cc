// What counts as progress after the heal: only a write invoked after it and acknowledged.
// Hand-made histories, so each rule is seen to count and to refuse.
#include "sim/cluster/liveness_probe.h"

#include <gtest/gtest.h>

#include "sim/cluster/cluster_checks.h"

namespace lockstep::sim {
namespace {

constexpr int64_t kHealNs = 1'000'000'000;

Instant heal_at() {
  return Instant(Duration(kHealNs));
}

checker::Operation operation(checker::RequestKind kind, int64_t invoke_ns, int64_t return_ns) {
  checker::Operation op;
  op.client = 1;
  op.invoke_time = invoke_ns;
  op.return_time = return_ns;
  op.request.kind = kind;
  op.request.key = "k";
  return op;
}

checker::Operation txn(bool succeeded, checker::RequestKind success_op,
                       checker::RequestKind failure_op, int64_t invoke_ns, int64_t return_ns) {
  checker::Operation op = operation(checker::RequestKind::kTxn, invoke_ns, return_ns);
  checker::Request success;
  success.kind = success_op;
  checker::Request failure;
  failure.kind = failure_op;
  op.request.success = {success};
  op.request.failure = {failure};
  op.response.succeeded = succeeded;
  op.response.responses = {checker::Response{}};
  return op;
}

std::optional<Instant> first_after_heal(std::vector<checker::Operation> operations) {
  checker::History history;
  history.operations = std::move(operations);
  return first_write_acknowledged_after(history, heal_at());
}

TEST(LivenessEvidence, TheEarliestAcknowledgedWriteInvokedAfterTheHealCounts) {
  const std::optional<Instant> first =
      first_after_heal({operation(checker::RequestKind::kPut, kHealNs + 50, kHealNs + 900),
                        operation(checker::RequestKind::kDelete, kHealNs + 100, kHealNs + 400)});
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->nanoseconds(), kHealNs + 400);
}

// A write invoked before the heal may have been committed before it; an indeterminate one may
// never have been; a read commits nothing.
TEST(LivenessEvidence, EarlierUnansweredAndReadOnlyOperationsDoNotCount) {
  checker::Operation before = operation(checker::RequestKind::kPut, kHealNs - 1, kHealNs + 10);
  checker::Operation unanswered = operation(checker::RequestKind::kPut, kHealNs + 5, 0);
  unanswered.indeterminate = true;
  checker::Operation read = operation(checker::RequestKind::kRange, kHealNs + 5, kHealNs + 20);
  EXPECT_FALSE(first_after_heal({before, unanswered, read}).has_value());
  EXPECT_FALSE(check_liveness(first_after_heal({before, unanswered, read}), heal_at(),
                              std::chrono::seconds(10))
                   .passed());
}

TEST(LivenessEvidence, ATxnCountsOnlyIfTheBranchItTookWrites) {
  using checker::RequestKind;
  EXPECT_TRUE(first_after_heal(
                  {txn(true, RequestKind::kPut, RequestKind::kRange, kHealNs + 1, kHealNs + 2)})
                  .has_value());
  EXPECT_FALSE(first_after_heal(
                   {txn(false, RequestKind::kPut, RequestKind::kRange, kHealNs + 1, kHealNs + 2)})
                   .has_value());
  EXPECT_TRUE(first_after_heal(
                  {txn(false, RequestKind::kRange, RequestKind::kDelete, kHealNs + 1, kHealNs + 2)})
                  .has_value());
}

TEST(LivenessEvidence, TheCheckHoldsOnlyWithinTheBound) {
  const std::optional<Instant> first =
      first_after_heal({operation(checker::RequestKind::kPut, kHealNs + 1, kHealNs + 2'000'000)});
  EXPECT_TRUE(check_liveness(first, heal_at(), std::chrono::milliseconds(2)).passed());
  EXPECT_FALSE(check_liveness(first, heal_at(), std::chrono::milliseconds(1)).passed());
}

// Several attempts fit in the bound, none shorter than the minimum nor longer than a client's.
TEST(LivenessProbe, AttemptsAreAFractionOfTheBound) {
  ClientOptions clients;
  clients.attempt_timeout = std::chrono::milliseconds(800);
  EXPECT_EQ(liveness_probe_client_options(clients, std::chrono::seconds(2)).attempt_timeout,
            std::chrono::milliseconds(250));
  EXPECT_EQ(liveness_probe_client_options(clients, std::chrono::seconds(60)).attempt_timeout,
            std::chrono::milliseconds(800));
  EXPECT_EQ(liveness_probe_client_options(clients, std::chrono::milliseconds(1)).attempt_timeout,
            kLivenessProbeAttemptMin);
  const ClientOptions probe = liveness_probe_client_options(clients, std::chrono::seconds(2));
  EXPECT_EQ(probe.operation_timeout, 2 * probe.attempt_timeout);
  EXPECT_EQ(probe.retry_backoff, clients.retry_backoff);
}

}  // namespace
}  // namespace lockstep::sim
