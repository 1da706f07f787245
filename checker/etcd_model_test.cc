// The etcd model, checked against etcd's documented semantics (etcd API guarantees and
// api/v3 docs: "revision", "create_revision", "mod_revision", "version", txn compares).
#include "checker/etcd_model.h"

#include <gtest/gtest.h>

#include "checker/linearizability.h"
#include "checker/test_histories.h"

namespace lockstep::checker {
namespace {

using testing::indeterminate;
using testing::make_operation;

Request put(std::string key, std::string value) {
  Request request;
  request.kind = RequestKind::kPut;
  request.key = std::move(key);
  request.value = std::move(value);
  return request;
}

Request get(std::string key) {
  Request request;
  request.kind = RequestKind::kGet;
  request.key = std::move(key);
  return request;
}

Request range(std::string key, std::string end) {
  Request request;
  request.kind = RequestKind::kRange;
  request.key = std::move(key);
  request.range_end = std::move(end);
  return request;
}

Request del(std::string key) {
  Request request;
  request.kind = RequestKind::kDelete;
  request.key = std::move(key);
  return request;
}

Response at(int64_t revision) {
  Response response;
  response.revision = revision;
  return response;
}

Response kvs(int64_t revision, std::vector<KeyValue> kvs) {
  Response response;
  response.revision = revision;
  response.has_kvs = true;
  response.kvs = std::move(kvs);
  return response;
}

Verdict check(const History& history) {
  auto result = check_linearizability(history, EtcdModel());
  EXPECT_TRUE(result.is_ok()) << result.error().to_string();
  return result->verdict;
}

// "The revision is incremented by one for every write; the key's create_revision is the
// revision of its creation, mod_revision of its last modification, version the number of
// modifications since creation."
TEST(EtcdModelTest, PutsAdvanceRevisionAndPerKeyRevisions) {
  History history;
  history.operations = {
      make_operation(1, 0, 1, put("a", "1"), at(2)),
      make_operation(1, 2, 3, put("b", "1"), at(3)),
      make_operation(1, 4, 5, put("a", "2"), at(4)),
      make_operation(1, 6, 7, get("a"), kvs(4, {{"a", "2", 2, 4, 2}})),
      make_operation(1, 8, 9, range("a", "c"), kvs(4, {{"a", "2", 2, 4, 2}, {"b", "1", 3, 3, 1}})),
  };
  EXPECT_EQ(check(history), Verdict::kLinearizable);

  History wrong_version = history;
  wrong_version.operations[3].response.kvs[0].version = 1;
  EXPECT_EQ(check(wrong_version), Verdict::kNotLinearizable);
  History wrong_revision = history;
  wrong_revision.operations[1].response.revision = 4;
  EXPECT_EQ(check(wrong_revision), Verdict::kNotLinearizable);
  History missing_key = history;
  missing_key.operations[4].response.kvs.pop_back();
  EXPECT_EQ(check(missing_key), Verdict::kNotLinearizable);
}

// Two concurrent puts: their revisions fix their order, and a read must agree with it.
TEST(EtcdModelTest, RevisionsOrderConcurrentWrites) {
  History history;
  history.operations = {
      make_operation(1, 0, 10, put("a", "x"), at(3)),
      make_operation(2, 0, 10, put("a", "y"), at(2)),
      make_operation(3, 20, 30, get("a"), kvs(3, {{"a", "x", 2, 3, 2}})),
  };
  EXPECT_EQ(check(history), Verdict::kLinearizable);
  history.operations[2].response.kvs[0].value = "y";
  EXPECT_EQ(check(history), Verdict::kNotLinearizable);
}

// "A delete that removes no key does not change the revision"; a deleted key starts over:
// a later put creates it again with version 1.
TEST(EtcdModelTest, DeleteAndRecreate) {
  History history;
  Response deleted_one = at(3);
  deleted_one.deleted = 1;
  Response deleted_none = at(3);
  deleted_none.deleted = 0;
  history.operations = {
      make_operation(1, 0, 1, put("a", "1"), at(2)),
      make_operation(1, 2, 3, del("a"), deleted_one),
      make_operation(1, 4, 5, del("a"), deleted_none),
      make_operation(1, 6, 7, get("a"), kvs(3, {})),
      make_operation(1, 8, 9, put("a", "2"), at(4)),
      make_operation(1, 10, 11, get("a"), kvs(4, {{"a", "2", 4, 4, 1}})),
  };
  EXPECT_EQ(check(history), Verdict::kLinearizable);
  history.operations[2].response.revision = 4;
  EXPECT_EQ(check(history), Verdict::kNotLinearizable);
}

Request txn_if_mod_equals(std::string key, int64_t mod, Request then) {
  Request request;
  request.kind = RequestKind::kTxn;
  Compare compare;
  compare.key = key;
  compare.target = CompareTarget::kModRevision;
  compare.result = CompareResult::kEqual;
  compare.number = mod;
  request.compares.push_back(compare);
  request.success.push_back(std::move(then));
  request.failure.push_back(get(std::move(key)));
  return request;
}

// The compare-and-swap idiom of etcd clients: txn(if mod_revision(k) == r then put).
// Two clients race from the same revision; at most one may succeed.
TEST(EtcdModelTest, TxnCompareAndSwapAdmitsOneWinner) {
  History history;
  Response won = at(3);
  won.succeeded = true;
  history.operations = {
      make_operation(1, 0, 1, put("lock", "free"), at(2)),
      make_operation(1, 10, 20, txn_if_mod_equals("lock", 2, put("lock", "a")), won),
      make_operation(2, 10, 20, txn_if_mod_equals("lock", 2, put("lock", "b")), won),
  };
  EXPECT_EQ(check(history), Verdict::kNotLinearizable);
  Response lost = at(3);
  lost.succeeded = false;
  history.operations[2].response = lost;
  EXPECT_EQ(check(history), Verdict::kLinearizable);
}

// etcd: "a value compare on a key that does not exist is false"; version compares read 0.
TEST(EtcdModelTest, ComparesOnMissingKeys) {
  Request value_txn;
  value_txn.kind = RequestKind::kTxn;
  Compare by_value;
  by_value.key = "missing";
  by_value.target = CompareTarget::kValue;
  by_value.result = CompareResult::kNotEqual;
  by_value.value = "x";
  value_txn.compares = {by_value};
  Request version_txn = value_txn;
  version_txn.compares[0].target = CompareTarget::kVersion;
  version_txn.compares[0].result = CompareResult::kEqual;
  version_txn.compares[0].number = 0;
  Response failed = at(1);
  failed.succeeded = false;
  Response succeeded = at(1);
  History history;
  history.operations = {
      make_operation(1, 0, 1, value_txn, failed),
      make_operation(1, 2, 3, version_txn, succeeded),
  };
  EXPECT_EQ(check(history), Verdict::kLinearizable);
  history.operations[0].response.succeeded = true;
  EXPECT_EQ(check(history), Verdict::kNotLinearizable);
}

// A timed-out put may have been applied: a later read may see it, with its revision.
TEST(EtcdModelTest, IndeterminatePutMayApply) {
  History history;
  history.operations = {
      indeterminate(make_operation(1, 0, 0, put("a", "1"))),
      make_operation(2, 10, 11, get("a"), kvs(2, {{"a", "1", 2, 2, 1}})),
  };
  EXPECT_EQ(check(history), Verdict::kLinearizable);
  history.operations[1].response = kvs(1, {});
  EXPECT_EQ(check(history), Verdict::kLinearizable);
}

// An indeterminate operation that changes nothing where it is placed may as well not have run:
// the verdicts are those of leaving it out, whichever way the rest of the history goes.
TEST(EtcdModelTest, IndeterminateNoOpsChangeNoVerdict) {
  History history;
  history.operations = {
      make_operation(1, 0, 1, put("a", "1"), at(2)),
      indeterminate(make_operation(2, 2, 0, del("missing"))),
      indeterminate(make_operation(3, 2, 0, del("a"))),
      make_operation(1, 5, 6, get("a"), kvs(2, {{"a", "1", 2, 2, 1}})),
  };
  EXPECT_EQ(check(history), Verdict::kLinearizable);
  // The indeterminate delete of "a" took effect (at revision 3) before the second get.
  history.operations.push_back(make_operation(1, 7, 8, get("a"), kvs(3, {})));
  EXPECT_EQ(check(history), Verdict::kLinearizable);
  // A get that sees "a" again after it was gone is still a violation.
  history.operations.push_back(make_operation(1, 9, 10, get("a"), kvs(3, {{"a", "1", 2, 2, 1}})));
  EXPECT_EQ(check(history), Verdict::kNotLinearizable);
}

// Refusing an indeterminate no-op keeps the search from doubling its configurations for every
// such operation pending: here 14 indeterminate deletes of missing keys stay pending while 30
// puts run, and the final get is impossible, so the search must exhaust every configuration
// before it can answer. Without the refusal that is 31 x 2^14 configurations, beyond the
// budget (the run answered `unknown`); with it, a few dozen steps.
TEST(EtcdModelTest, PendingIndeterminateNoOpsDoNotMultiplyTheSearch) {
  constexpr int kPendingDeletes = 14;
  constexpr int kPuts = 30;
  History history;
  for (int i = 0; i < kPendingDeletes; ++i) {
    // Distinct keys, so the search's symmetry reduction of identical requests does not apply.
    history.operations.push_back(
        indeterminate(make_operation(100 + i, 0, 0, del("missing/" + std::to_string(i)))));
  }
  for (int i = 0; i < kPuts; ++i) {
    history.operations.push_back(
        make_operation(1, 10 * i + 1, 10 * i + 2, put("a", std::to_string(i)), at(2 + i)));
  }
  history.operations.push_back(
      make_operation(1, 10 * kPuts + 1, 10 * kPuts + 2, get("a"), kvs(1 + kPuts, {})));
  CheckOptions options;
  options.max_steps = 100'000;
  Result<CheckResult> result = check_linearizability(history, EtcdModel(), options);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  EXPECT_EQ(result->verdict, Verdict::kNotLinearizable);
}

// When no operation reports or compares a revision (the simulator's kv workload records
// values only), stores that differ only in revisions are one state. Otherwise n pending
// indeterminate puts on distinct keys placed in every order leave n! different sets of mod
// revisions, and refuting the impossible final get below has to visit all of them: 30 x
// (8! + 8!/1! + ...) = 3.3 M configurations, far past this budget; keys and values alone
// make 30 x 2^8. (Unpartitioned: split per key, each part would be trivial.)
TEST(EtcdModelTest, UnobservedRevisionsDoNotMultiplyTheSearch) {
  constexpr int kPendingPuts = 8;
  constexpr int kPuts = 30;
  History history;
  for (int i = 0; i < kPendingPuts; ++i) {
    history.operations.push_back(
        indeterminate(make_operation(100 + i, 0, 0, put("other/" + std::to_string(i), "x"))));
  }
  Response ok;
  for (int i = 0; i < kPuts; ++i) {
    history.operations.push_back(
        make_operation(1, 10 * i + 1, 10 * i + 2, put("a", std::to_string(i)), ok));
  }
  Response never = ok;
  never.value = "never-written";
  history.operations.push_back(make_operation(1, 10 * kPuts + 1, 10 * kPuts + 2, get("a"), never));
  CheckOptions options;
  options.partition = false;
  options.max_steps = 200'000;
  Result<CheckResult> result = check_linearizability(history, EtcdModel(), options);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  EXPECT_EQ(result->verdict, Verdict::kNotLinearizable);
}

// One operation that compares a version is enough to keep versions in the model, though no
// response reports one: here only the version compare tells the histories apart.
TEST(EtcdModelTest, AVersionCompareKeepsVersionsInTheModel) {
  Request if_version_is = txn_if_mod_equals("a", 0, put("a", "3"));
  if_version_is.compares[0].target = CompareTarget::kVersion;
  if_version_is.compares[0].number = 2;
  Response ok;
  Response took_success = ok;
  took_success.succeeded = true;
  History history;
  history.operations = {
      make_operation(1, 0, 1, put("a", "1"), ok),
      make_operation(1, 2, 3, put("a", "2"), ok),
      make_operation(1, 4, 5, if_version_is, took_success),
  };
  EXPECT_EQ(check(history), Verdict::kLinearizable);
  history.operations[2].request.compares[0].number = 1;
  EXPECT_EQ(check(history), Verdict::kNotLinearizable);
}

// `pending` timed-out puts of other keys, then `puts` acknowledged puts of "a" at revisions
// 2, 3, ..., then a get of "a" that reports a value no put wrote: not linearizable.
History pending_puts_then_an_impossible_get(int pending, int puts) {
  History history;
  for (int i = 0; i < pending; ++i) {
    history.operations.push_back(
        indeterminate(make_operation(100 + i, 0, 0, put("other/" + std::to_string(i), "x"))));
  }
  for (int i = 0; i < puts; ++i) {
    history.operations.push_back(
        make_operation(1, 10 * i + 1, 10 * i + 2, put("a", std::to_string(i)), at(2 + i)));
  }
  history.operations.push_back(make_operation(1, 10 * puts + 1, 10 * puts + 2, get("a"),
                                              kvs(1 + puts, {{"a", "never-written", 2, 2, 1}})));
  return history;
}

// Revisions only grow: once indeterminate puts have pushed the store's revision past the
// revision a pending operation reports, the search gives up on that configuration at once.
// Otherwise each of the 30 nodes below is refuted only after every order of the eight pending
// puts (each order another set of mod revisions) fails one revision too high: 30 x 109,601
// configurations, far past this budget.
TEST(EtcdModelTest, ARevisionAlreadyPassedEndsTheSearchOfAConfiguration) {
  constexpr int kPendingPuts = 8;
  constexpr int kPuts = 30;
  History history = pending_puts_then_an_impossible_get(kPendingPuts, kPuts);
  CheckOptions options;
  options.max_steps = 100'000;
  Result<CheckResult> result = check_linearizability(history, EtcdModel(), options);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  EXPECT_EQ(result->verdict, Verdict::kNotLinearizable);
}

// A version depends on its own key's writes alone, so a version compare keeps versions but
// not revisions: the n pending puts of other keys below, placed in every order, leave the
// versions as they are. Keeping revisions too (as the model once did for any version
// compare), refuting the impossible final get visits every order: 30 x (8! + 8!/1! + ...)
// configurations, far past this budget (property seed 138236, a txn workload whose txns
// create their keys with `version = 0`, answered `unknown` after 12.6 M steps).
TEST(EtcdModelTest, AVersionCompareDoesNotKeepRevisions) {
  constexpr int kPendingPuts = 8;
  constexpr int kPuts = 30;
  History history;
  for (int i = 0; i < kPendingPuts; ++i) {
    history.operations.push_back(
        indeterminate(make_operation(100 + i, 0, 0, put("other/" + std::to_string(i), "x"))));
  }
  Request create_if_new = txn_if_mod_equals("a", 0, put("a", "0"));
  create_if_new.compares[0].target = CompareTarget::kVersion;
  Response ok;
  history.operations.push_back(make_operation(1, 1, 2, create_if_new, ok));
  for (int i = 1; i < kPuts; ++i) {
    history.operations.push_back(
        make_operation(1, 10 * i + 1, 10 * i + 2, put("a", std::to_string(i)), ok));
  }
  Response never = ok;
  never.value = "never-written";
  history.operations.push_back(make_operation(1, 10 * kPuts + 1, 10 * kPuts + 2, get("a"), never));
  CheckOptions options;
  options.partition = false;
  options.max_steps = 200'000;
  Result<CheckResult> result = check_linearizability(history, EtcdModel(), options);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  EXPECT_EQ(result->verdict, Verdict::kNotLinearizable);
  // The same history with the get's value explained: linearizable, as quickly.
  history.operations.back().response.value = std::to_string(kPuts - 1);
  result = check_linearizability(history, EtcdModel(), options);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  EXPECT_EQ(result->verdict, Verdict::kLinearizable);
}

std::vector<std::string> partition_names(const History& history) {
  std::vector<std::string> names;
  for (const Partition& part : EtcdModel().partition(history)) names.push_back(part.name);
  return names;
}

// Without revisions in sight the keys are independent objects (P-compositionality), so the
// history splits into keys no operation spans; a range whose kvs were not recorded and a read
// of a key nobody writes depend on no key and form a part of their own.
TEST(EtcdModelTest, KeysNoOperationSpansAreCheckedApart) {
  Response ok;
  Request a_to_b = txn_if_mod_equals("a", 0, put("b", "1"));
  a_to_b.compares[0].target = CompareTarget::kVersion;
  a_to_b.failure.clear();
  History history;
  history.operations = {
      make_operation(1, 0, 1, put("a", "1"), ok),
      make_operation(2, 0, 1, put("c", "1"), ok),
      make_operation(3, 0, 1, put("d", "1"), ok),
      make_operation(1, 2, 3, range("a", "z"), ok),
      make_operation(1, 4, 5, get("never-written"), ok),
  };
  EXPECT_EQ(partition_names(history),
            (std::vector<std::string>{"a", "c", "d", "(no written key)"}));
  // A txn comparing "a" and writing "b" joins them (through its compare alone: its failure
  // branch is empty); a range delete joins what it covers.
  history.operations.push_back(make_operation(4, 6, 7, a_to_b, ok));
  Request delete_c_to_e = del("c");
  delete_c_to_e.range_end = "e";
  Response deleted_two;
  deleted_two.deleted = 2;
  history.operations.push_back(make_operation(4, 8, 9, delete_c_to_e, deleted_two));
  EXPECT_EQ(partition_names(history),
            (std::vector<std::string>{"a .. b (2 keys)", "c .. d (2 keys)", "(no written key)"}));
  // One operation that observes revisions makes the store one object again.
  history.operations.push_back(make_operation(5, 10, 11, get("a"), at(4)));
  EXPECT_EQ(partition_names(history), std::vector<std::string>{""});
}

// Split or whole, the verdicts are the same: a violation within a part, across the keys one
// txn joins, or in the keyless part is caught.
TEST(EtcdModelTest, PartitionedHistoriesKeepTheirViolations) {
  Response ok;
  Response failed;
  failed.succeeded = false;
  Request b_if_a = txn_if_mod_equals("a", 0, put("b", "1"));
  b_if_a.compares[0].target = CompareTarget::kValue;
  b_if_a.compares[0].value = "1";
  b_if_a.failure.clear();
  History history;
  history.operations = {
      make_operation(1, 0, 1, put("a", "1"), ok),
      make_operation(2, 0, 1, put("c", "1"), ok),
      make_operation(1, 2, 3, b_if_a, ok),
      make_operation(2, 2, 3, get("c"), testing::read_result("1")),
      make_operation(1, 4, 5, get("b"), testing::read_result("1")),
      make_operation(3, 4, 5, get("never-written"), ok),
  };
  ASSERT_EQ(EtcdModel().partition(history).size(), 3u);
  EXPECT_EQ(check(history), Verdict::kLinearizable);
  for (const size_t victim : {2u, 3u, 4u, 5u}) {
    History altered = history;
    Response& response = altered.operations[victim].response;
    if (victim == 2) {
      response = failed;  // the compare held: "a" was "1"
    } else {
      response.value = response.value ? std::optional<std::string>() : "1";
    }
    EXPECT_EQ(check(altered), Verdict::kNotLinearizable) << victim;
    CheckOptions whole;
    whole.partition = false;
    auto result = check_linearizability(altered, EtcdModel(), whole);
    ASSERT_TRUE(result.is_ok());
    EXPECT_EQ(result->verdict, Verdict::kNotLinearizable) << victim;
  }
}

// A revision that a determinate write reports is that write's own: an indeterminate write may
// not create it. Here every revision is reported by one of the 30 puts of "a", so none of the
// ten timed-out puts of other keys can have taken effect, and the impossible final get is
// refuted without trying them between the puts: 422 steps. Allowed to create a claimed
// revision, each placement is refuted only by the next put of "a", and the search needed
// 9,422, past this budget.
TEST(EtcdModelTest, AnIndeterminateWriteCannotTakeARevisionAWriteReports) {
  constexpr int kPendingPuts = 10;
  constexpr int kPuts = 30;
  History history = pending_puts_then_an_impossible_get(kPendingPuts, kPuts);
  CheckOptions options;
  options.max_steps = 2'000;
  Result<CheckResult> result = check_linearizability(history, EtcdModel(), options);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  EXPECT_EQ(result->verdict, Verdict::kNotLinearizable);
  // One revision no write reports (the puts skip 17): one of the timed-out puts made it, and
  // the history is linearizable if the final get sees the last put.
  for (int i = 15; i < kPuts; ++i) history.operations[kPendingPuts + i].response.revision += 1;
  history.operations.back().response =
      kvs(2 + kPuts, {{"a", std::to_string(kPuts - 1), 2, 2 + kPuts, kPuts}});
  result = check_linearizability(history, EtcdModel(), options);
  ASSERT_TRUE(result.is_ok()) << result.error().to_string();
  EXPECT_EQ(result->verdict, Verdict::kLinearizable);
}

}  // namespace
}  // namespace lockstep::checker
