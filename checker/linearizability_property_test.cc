// Soundness of the checker against histories whose answer is known by construction: a
// correct atomic object executed at random points inside random (overlapping) intervals
// yields linearizable histories (the execution order is a witness); corrupting one response
// so that no order can explain it yields a violation.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "checker/cas_register_model.h"
#include "checker/etcd_model.h"
#include "checker/kv_model.h"
#include "checker/linearizability.h"
#include "checker/test_histories.h"

namespace lockstep::checker {
namespace {

// One generated operation: what it asks, when it takes effect, how far its interval
// stretches around that point.
struct Planned {
  int kind;  // 0 read/get, 1 write/put, 2 cas/append
  int key;
  int value;
  int expected;
  int64_t slack_before;
  int64_t slack_after;
  int client;
};

rc::Gen<std::vector<Planned>> gen_plan(int max_slack) {
  return rc::gen::container<std::vector<Planned>>(rc::gen::build<Planned>(
      rc::gen::set(&Planned::kind, rc::gen::inRange(0, 3)),
      rc::gen::set(&Planned::key, rc::gen::inRange(0, 3)),
      rc::gen::set(&Planned::value, rc::gen::inRange(0, 4)),
      rc::gen::set(&Planned::expected, rc::gen::inRange(-1, 4)),
      rc::gen::set(&Planned::slack_before, rc::gen::inRange<int64_t>(0, max_slack + 1)),
      rc::gen::set(&Planned::slack_after, rc::gen::inRange<int64_t>(0, max_slack + 1)),
      rc::gen::set(&Planned::client, rc::gen::inRange(0, 5))));
}

constexpr int64_t kEffectSpacing = 10;  // effect points are this far apart

// Runs the plan against a real register: operation i takes effect at time i*spacing.
History register_history(const std::vector<Planned>& plan) {
  History history;
  std::optional<std::string> value;
  for (size_t i = 0; i < plan.size(); ++i) {
    const Planned& p = plan[i];
    const int64_t effect = static_cast<int64_t>(i) * kEffectSpacing;
    Request request;
    Response response;
    switch (p.kind) {
      case 0:
        request = testing::register_read();
        response.value = value;
        break;
      case 1:
        request = testing::register_write(std::to_string(p.value));
        value = request.value;
        break;
      default: {
        const std::string expected = std::to_string(p.expected);
        request = testing::register_cas(expected, std::to_string(p.value));
        response.succeeded = value == expected;
        if (response.succeeded) value = request.value;
      }
    }
    history.operations.push_back(testing::make_operation(
        p.client, effect - p.slack_before, effect + p.slack_after, request, response));
  }
  return history;
}

// Runs the plan against a real key-value store (Porcupine's semantics).
History kv_history(const std::vector<Planned>& plan) {
  History history;
  std::map<std::string, std::string> store;
  for (size_t i = 0; i < plan.size(); ++i) {
    const Planned& p = plan[i];
    const int64_t effect = static_cast<int64_t>(i) * kEffectSpacing;
    Request request;
    Response response;
    request.key = "k" + std::to_string(p.key);
    request.value = "v" + std::to_string(p.value) + ";";
    request.kind = p.kind == 0   ? RequestKind::kGet
                   : p.kind == 1 ? RequestKind::kPut
                                 : RequestKind::kAppend;
    if (p.kind == 0) response.value = store[request.key];
    if (p.kind == 1) store[request.key] = request.value;
    if (p.kind == 2) store[request.key] += request.value;
    history.operations.push_back(testing::make_operation(
        p.client, effect - p.slack_before, effect + p.slack_after, request, response));
  }
  return history;
}

Verdict verdict_of(const History& history, const Model& model, bool partition = true) {
  CheckOptions options;
  options.partition = partition;
  options.max_steps = 5'000'000;  // generous for these sizes; unknown would fail the property
  auto result = check_linearizability(history, model, options);
  RC_ASSERT(result.is_ok());
  return result->verdict;
}

// Max slack below the spacing: intervals never overlap, so the history is sequential.
constexpr int kSequentialSlack = kEffectSpacing / 2 - 1;
// Slack of several spacings: many operations overlap.
constexpr int kConcurrentSlack = 4 * kEffectSpacing;

RC_GTEST_PROP(LinearizabilityPropertyTest, SequentialRegisterExecutionsAreLinearizable, ()) {
  const auto plan = *gen_plan(kSequentialSlack);
  RC_ASSERT(verdict_of(register_history(plan), CasRegisterModel()) == Verdict::kLinearizable);
}

RC_GTEST_PROP(LinearizabilityPropertyTest, ConcurrentRegisterExecutionsAreLinearizable, ()) {
  const auto plan = *gen_plan(kConcurrentSlack);
  RC_ASSERT(verdict_of(register_history(plan), CasRegisterModel()) == Verdict::kLinearizable);
}

// In a sequential history the state before each operation is fixed, so any changed read
// value or flipped cas outcome is impossible.
RC_GTEST_PROP(LinearizabilityPropertyTest, AlteredResponseInSequentialHistoryIsCaught, ()) {
  const auto plan = *gen_plan(kSequentialSlack);
  History history = register_history(plan);
  std::vector<size_t> observers;
  for (size_t i = 0; i < history.operations.size(); ++i) {
    if (history.operations[i].request.kind != RequestKind::kWrite) observers.push_back(i);
  }
  RC_PRE(!observers.empty());
  Operation& victim = history.operations[*rc::gen::elementOf(observers)];
  if (victim.request.kind == RequestKind::kCas) {
    victim.response.succeeded = !victim.response.succeeded;
  } else {
    const std::string other = std::to_string(*rc::gen::inRange(0, 5));
    if (victim.response.value == other)
      victim.response.value = std::nullopt;
    else
      victim.response.value = other;
  }
  RC_ASSERT(verdict_of(history, CasRegisterModel()) == Verdict::kNotLinearizable);
}

// In a concurrent history a read may be explained by several orders, but never a value no
// operation wrote.
RC_GTEST_PROP(LinearizabilityPropertyTest, ReadOfUnwrittenValueInConcurrentHistoryIsCaught, ()) {
  const auto plan = *gen_plan(kConcurrentSlack);
  History history = register_history(plan);
  std::vector<size_t> reads;
  for (size_t i = 0; i < history.operations.size(); ++i) {
    if (history.operations[i].request.kind == RequestKind::kRead) reads.push_back(i);
  }
  RC_PRE(!reads.empty());
  history.operations[*rc::gen::elementOf(reads)].response.value = "never-written";
  RC_ASSERT(verdict_of(history, CasRegisterModel()) == Verdict::kNotLinearizable);
}

// Indeterminate both ways: operations that did take effect, now with unknown outcome, and
// writes that never took effect, added with unknown outcome, keep the history linearizable.
RC_GTEST_PROP(LinearizabilityPropertyTest, IndeterminateOperationsMayOrMayNotTakeEffect, ()) {
  const auto plan = *gen_plan(kConcurrentSlack);
  History history = register_history(plan);
  for (Operation& operation : history.operations) {
    if (*rc::gen::inRange(0, 4) == 0) operation = testing::indeterminate(operation);
  }
  const int phantoms = *rc::gen::inRange(0, 4);
  for (int i = 0; i < phantoms; ++i) {
    const int64_t invoke = *rc::gen::inRange<int64_t>(-10, 10 * kEffectSpacing);
    history.operations.push_back(testing::indeterminate(
        testing::make_operation(9, invoke, 0, testing::register_write("phantom"))));
  }
  RC_ASSERT(verdict_of(history, CasRegisterModel()) == Verdict::kLinearizable);
}

RC_GTEST_PROP(LinearizabilityPropertyTest, ConcurrentKvExecutionsAreLinearizable, ()) {
  const auto plan = *gen_plan(kConcurrentSlack);
  const History history = kv_history(plan);
  RC_ASSERT(verdict_of(history, KvModel()) == Verdict::kLinearizable);
  RC_ASSERT(verdict_of(history, KvModel(), /*partition=*/false) == Verdict::kLinearizable);
}

RC_GTEST_PROP(LinearizabilityPropertyTest, KvReadOfUnwrittenValueIsCaughtWithAndWithoutPartitions,
              ()) {
  const auto plan = *gen_plan(kConcurrentSlack);
  History history = kv_history(plan);
  std::vector<size_t> gets;
  for (size_t i = 0; i < history.operations.size(); ++i) {
    if (history.operations[i].request.kind == RequestKind::kGet) gets.push_back(i);
  }
  RC_PRE(!gets.empty());
  history.operations[*rc::gen::elementOf(gets)].response.value = "never-written";
  RC_ASSERT(verdict_of(history, KvModel()) == Verdict::kNotLinearizable);
  RC_ASSERT(verdict_of(history, KvModel(), /*partition=*/false) == Verdict::kNotLinearizable);
}

}  // namespace
}  // namespace lockstep::checker

namespace lockstep::checker {
namespace {

// An independent oracle for small register histories: tries every order of every subset
// that contains all determinate operations, respecting real time (a before b when a returned
// before b was invoked; an indeterminate operation bounds nothing). No memo, no pruning, no
// ordering heuristics: it checks that the search's reductions (greedy reads, twin symmetry,
// just-in-time order) never change a verdict.
bool brute_force_linearizable(const History& history, std::vector<bool>& used,
                              const std::optional<std::string>& state, size_t remaining) {
  if (remaining == 0) return true;
  const auto& ops = history.operations;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (used[i]) continue;
    bool ready = true;  // every determinate op that returned before i was invoked is used
    for (size_t j = 0; j < ops.size() && ready; ++j) {
      ready = used[j] || ops[j].indeterminate || ops[j].return_time >= ops[i].invoke_time;
    }
    if (!ready) continue;
    const Operation& op = ops[i];
    std::vector<std::optional<std::string>> next_states;
    switch (op.request.kind) {
      case RequestKind::kRead:
        if (op.indeterminate || op.response.value == state) next_states.push_back(state);
        break;
      case RequestKind::kWrite:
        next_states.push_back(op.request.value);
        break;
      default: {
        const bool matches = state == op.request.expected;
        if (op.indeterminate || matches == op.response.succeeded) {
          next_states.push_back(matches ? std::optional<std::string>(op.request.value) : state);
        }
      }
    }
    for (const auto& next : next_states) {
      used[i] = true;
      const bool done =
          brute_force_linearizable(history, used, next, remaining - (op.indeterminate ? 0 : 1));
      used[i] = false;
      if (done) return true;
    }
  }
  return false;
}

RC_GTEST_PROP(LinearizabilityPropertyTest, VerdictsMatchABruteForceOracle, ()) {
  const int count = *rc::gen::inRange(1, 8);
  History history;
  for (int i = 0; i < count; ++i) {
    // Small value domains, so reads often match, cas outcomes vary and indeterminate
    // operations often have identical twins.
    const int kind = *rc::gen::inRange(0, 3);
    const std::string value = std::to_string(*rc::gen::inRange(0, 3));
    Request request = kind == 0 ? testing::register_read()
                      : kind == 1
                          ? testing::register_write(value)
                          : testing::register_cas(std::to_string(*rc::gen::inRange(0, 3)), value);
    Response response;
    if (kind == 0 && *rc::gen::inRange(0, 4) != 0) {
      response.value = std::to_string(*rc::gen::inRange(0, 3));
    }
    response.succeeded = *rc::gen::arbitrary<bool>();
    const int64_t invoke = *rc::gen::inRange<int64_t>(0, 40);
    const int64_t duration = *rc::gen::inRange<int64_t>(0, 25);
    Operation operation = testing::make_operation(*rc::gen::inRange(0, 4), invoke,
                                                  invoke + duration, request, response);
    if (*rc::gen::inRange(0, 3) == 0) operation = testing::indeterminate(operation);
    history.operations.push_back(std::move(operation));
  }
  // The oracle sees what the checker sees: an indeterminate read observed nothing.
  size_t determinate = 0;
  for (const Operation& operation : history.operations) determinate += !operation.indeterminate;
  std::vector<bool> used(history.operations.size(), false);
  const bool expected = brute_force_linearizable(history, used, std::nullopt, determinate);
  RC_ASSERT(verdict_of(history, CasRegisterModel()) ==
            (expected ? Verdict::kLinearizable : Verdict::kNotLinearizable));
}

}  // namespace
}  // namespace lockstep::checker

namespace lockstep::checker {
namespace {

// The etcd model's shortcuts (forgetting what nobody observes, abandoning a store whose
// revision passed a pending response's, splitting the keys into independent parts when no
// operation observes revisions) against an oracle with none of them: etcd's put, delete
// (of one key or of the range [a, c)), get and a one-compare txn on three keys, written out
// again here with full revision bookkeeping, and every order of every subset that holds all
// determinate operations.
struct OracleRecord {
  std::string value;
  int64_t create = 0;
  int64_t mod = 0;
  int64_t version = 0;
};
struct OracleStore {
  int64_t revision = 1;
  std::map<std::string, OracleRecord> keys;
};

bool oracle_compare(const Compare& compare, const OracleStore& store) {
  const auto found = store.keys.find(compare.key);
  if (compare.target == CompareTarget::kValue) {
    return found != store.keys.end() && found->second.value == compare.value;
  }
  if (found == store.keys.end()) return compare.number == 0;
  return (compare.target == CompareTarget::kVersion ? found->second.version : found->second.mod) ==
         compare.number;
}

// Applies `request` to `store`; false when `response` (nullptr: not recorded) is impossible
// there. Every write of a request shares one new revision, as in etcd.
bool oracle_apply(const Request& request, const Response* response, OracleStore& store,
                  bool& wrote) {
  const int64_t write_revision = store.revision + 1;
  const auto found = store.keys.find(request.key);
  switch (request.kind) {
    case RequestKind::kPut: {
      OracleRecord& record = store.keys[request.key];
      if (found == store.keys.end()) record.create = write_revision;
      record.value = request.value;
      record.mod = write_revision;
      ++record.version;
      wrote = true;
      return true;
    }
    case RequestKind::kDelete: {
      int64_t deleted = 0;
      for (auto it = store.keys.begin(); it != store.keys.end();) {
        const bool in_range = request.range_end.empty()
                                  ? it->first == request.key
                                  : it->first >= request.key && it->first < request.range_end;
        if (!in_range) {
          ++it;
          continue;
        }
        it = store.keys.erase(it);
        ++deleted;
      }
      wrote = wrote || deleted > 0;
      return response == nullptr || response->deleted < 0 || response->deleted == deleted;
    }
    case RequestKind::kTxn: {
      const bool holds = oracle_compare(request.compares.at(0), store);
      if (response != nullptr && response->succeeded != holds) return false;
      const std::vector<Request>& branch = holds ? request.success : request.failure;
      // A recorded response has one inner response per operation of the branch taken.
      const bool check_inner = response != nullptr && !response->responses.empty();
      if (check_inner && response->responses.size() != branch.size()) return false;
      if (branch.empty()) return true;
      return oracle_apply(branch[0], check_inner ? &response->responses[0] : nullptr, store, wrote);
    }
    default: {  // get
      if (response == nullptr) return true;
      const bool present = found != store.keys.end();
      if (!response->has_kvs) {  // etcd's model reads `kvs` when recorded, else `value`
        if (response->value.has_value() != present) return false;
        if (present && *response->value != found->second.value) return false;
      } else {
        if (response->kvs.size() != (present ? 1u : 0u)) return false;
        if (present && (response->kvs[0].value != found->second.value ||
                        response->kvs[0].create_revision != found->second.create ||
                        response->kvs[0].mod_revision != found->second.mod ||
                        response->kvs[0].version != found->second.version)) {
          return false;
        }
      }
      return true;
    }
  }
}

bool oracle_apply(const Operation& op, OracleStore& store) {
  const Response* response = op.indeterminate ? nullptr : &op.response;
  bool wrote = false;
  if (!oracle_apply(op.request, response, store, wrote)) return false;
  if (wrote) ++store.revision;
  return response == nullptr || response->revision == 0 || response->revision == store.revision;
}

bool etcd_oracle(const History& history, std::vector<bool>& used, const OracleStore& store,
                 size_t remaining) {
  if (remaining == 0) return true;
  const auto& ops = history.operations;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (used[i]) continue;
    bool ready = true;
    for (size_t j = 0; j < ops.size() && ready; ++j) {
      ready = used[j] || ops[j].indeterminate || ops[j].return_time >= ops[i].invoke_time;
    }
    if (!ready) continue;
    OracleStore next = store;
    if (!oracle_apply(ops[i], next)) continue;
    used[i] = true;
    const bool done = etcd_oracle(history, used, next, remaining - (ops[i].indeterminate ? 0 : 1));
    used[i] = false;
    if (done) return true;
  }
  return false;
}

// Fills in what etcd would answer to `request` in `store` (before it runs), as the simulator
// records it: with revisions and kvs, or values only.
void fill_etcd_response(const Request& request, const OracleStore& store, bool report_revisions,
                        Response& response) {
  const auto found = store.keys.find(request.key);
  switch (request.kind) {
    case RequestKind::kGet:
      response.has_kvs = report_revisions;
      if (found == store.keys.end()) break;
      response.value = found->second.value;
      if (report_revisions) {
        response.kvs.push_back(KeyValue{request.key, found->second.value, found->second.create,
                                        found->second.mod, found->second.version});
      }
      break;
    case RequestKind::kDelete: {
      OracleStore after = store;
      bool wrote = false;
      oracle_apply(request, nullptr, after, wrote);
      response.deleted = static_cast<int64_t>(store.keys.size() - after.keys.size());
      break;
    }
    case RequestKind::kTxn: {
      response.succeeded = oracle_compare(request.compares.at(0), store);
      const std::vector<Request>& branch = response.succeeded ? request.success : request.failure;
      if (branch.empty()) break;
      fill_etcd_response(branch[0], store, report_revisions, response.responses.emplace_back());
      break;
    }
    default:
      break;
  }
}

Request gen_etcd_request() {
  const auto key = [] { return *rc::gen::element<std::string>("a", "b", "c"); };
  Request request;
  request.kind = std::vector{RequestKind::kPut, RequestKind::kDelete, RequestKind::kGet,
                             RequestKind::kTxn}[*rc::gen::inRange(0, 4)];
  request.key = key();
  request.value = std::to_string(*rc::gen::inRange(0, 3));
  if (request.kind == RequestKind::kDelete && *rc::gen::inRange(0, 3) == 0) {
    request.key = "a";
    request.range_end = "c";
  }
  if (request.kind == RequestKind::kTxn) {
    // if <compare on one key> then put(<a key>) else get(<a key>) or nothing: the keys may
    // differ, so a txn may join keys through its compare alone
    Compare compare;
    compare.key = request.key;
    compare.target = std::vector{CompareTarget::kValue, CompareTarget::kVersion,
                                 CompareTarget::kModRevision}[*rc::gen::inRange(0, 3)];
    compare.value = std::to_string(*rc::gen::inRange(0, 3));
    compare.number = *rc::gen::inRange(0, 3);
    request.compares = {compare};
    Request then;
    then.kind = RequestKind::kPut;
    then.key = key();
    then.value = request.value;
    Request otherwise;
    otherwise.kind = RequestKind::kGet;
    otherwise.key = key();
    request.success = {then};
    if (*rc::gen::inRange(0, 3) != 0) request.failure = {otherwise};
    request.key.clear();
    request.value.clear();
  }
  return request;
}

// Changes one observed part of a determinate operation's response.
void alter_response(Operation& victim) {
  if (victim.indeterminate) return;
  Response& response = victim.response;
  if (response.revision != 0 && *rc::gen::inRange(0, 3) == 0) {
    response.revision += *rc::gen::element<int64_t>(-2, -1, 1, 2);
    return;
  }
  Response& read = response.responses.empty() ? response : response.responses[0];
  switch (victim.request.kind) {
    case RequestKind::kDelete:
      response.deleted = 1 - response.deleted;
      break;
    case RequestKind::kTxn:
      if (*rc::gen::arbitrary<bool>()) {
        response.succeeded = !response.succeeded;
        break;
      }
      [[fallthrough]];
    default:
      read.value = std::to_string(*rc::gen::inRange(0, 3));
      if (!read.kvs.empty()) read.kvs[0].value = *read.value;
  }
}

RC_GTEST_PROP(LinearizabilityPropertyTest, EtcdVerdictsMatchABruteForceOracle, ()) {
  // A real execution (operation i takes effect at time 10 i), so linearizable histories are
  // common; then maybe one response altered, so violations are too.
  const int count = *rc::gen::inRange(1, 8);
  const bool report_revisions = *rc::gen::arbitrary<bool>();
  History history;
  OracleStore store;
  for (int i = 0; i < count; ++i) {
    Operation operation =
        testing::make_operation(*rc::gen::inRange(0, 4), 10 * i - *rc::gen::inRange(0, 15),
                                10 * i + *rc::gen::inRange(0, 15), gen_etcd_request(), Response{});
    fill_etcd_response(operation.request, store, report_revisions, operation.response);
    RC_ASSERT(oracle_apply(operation, store));
    if (report_revisions) operation.response.revision = store.revision;
    if (*rc::gen::inRange(0, 4) == 0) operation = testing::indeterminate(operation);
    history.operations.push_back(std::move(operation));
  }
  if (*rc::gen::arbitrary<bool>()) {
    alter_response(history.operations[*rc::gen::inRange<size_t>(0, history.operations.size())]);
  }
  size_t determinate = 0;
  for (const Operation& operation : history.operations) determinate += !operation.indeterminate;
  std::vector<bool> used(history.operations.size(), false);
  const bool expected = etcd_oracle(history, used, OracleStore{}, determinate);
  const Verdict want = expected ? Verdict::kLinearizable : Verdict::kNotLinearizable;
  RC_TAG(expected, EtcdModel().partition(history).size() > 1);
  RC_ASSERT(verdict_of(history, EtcdModel()) == want);
  RC_ASSERT(verdict_of(history, EtcdModel(), /*partition=*/false) == want);
}

}  // namespace
}  // namespace lockstep::checker
