// The configuration-distribution workload: one controller writes configuration fields under
// config/, agents watch config/, apply what they see, and report what they applied under
// status/<agent>/<field> (one writer per field: the controller owns config/, each agent its
// own status/ keys). Checks:
// - provenance: every value an agent applied, and every final config/ value, is one the
//   controller wrote; every final status/<agent>/ value is one that agent wrote;
// - convergence: once the controller stops, every agent's applied configuration equals the
//   final configuration, and its status keys report exactly that.
#include <map>
#include <set>

#include "sim/cluster/recorded_client.h"
#include "sim/cluster/workload.h"

namespace lockstep::sim {
namespace {

constexpr int kFields = 4;
constexpr Duration kControllerPause = std::chrono::milliseconds(50);
constexpr Duration kAgentIdleCheck = std::chrono::milliseconds(500);
constexpr Duration kFinalReadLead = std::chrono::milliseconds(300);
constexpr Duration kAgentStopLead = std::chrono::milliseconds(600);

std::string field_key(int field) {
  return "config/f" + std::to_string(field);
}
std::string status_key(int agent, const std::string& config_key) {
  return "status/" + std::to_string(agent) + "/" + config_key.substr(sizeof("config/") - 1);
}

class ConfigWorkload final : public Workload {
 public:
  std::string_view name() const override { return "config"; }
  bool records_every_write() const override { return true; }

  void start(WorkloadEnvironment& environment) override {
    environment.cluster.add_client("config-controller", environment.client_options,
                                   [this, &environment](ClusterClient& client) {
                                     RecordedClient recorded(client, environment.recorder,
                                                             environment.cluster.world(),
                                                             environment.first_history_id);
                                     control(recorded, environment);
                                   });
    agents_.resize(static_cast<size_t>(environment.clients));
    for (int i = 0; i < environment.clients; ++i) {
      environment.cluster.add_client(
          "config-agent-" + std::to_string(i), environment.client_options,
          [this, &environment, i](ClusterClient& client) {
            RecordedClient recorded(client, environment.recorder, environment.cluster.world(),
                                    environment.first_history_id + 1 + i);
            run_agent(recorded, environment, i);
          });
    }
    environment.cluster.add_client("config-final-reader", environment.client_options,
                                   [this, &environment](ClusterClient& client) {
                                     client.runtime().sleep_for(environment.end_at -
                                                                kFinalReadLead -
                                                                environment.cluster.world().now());
                                     final_config_ = read_prefix(client, "config/", "config0");
                                     final_status_ = read_prefix(client, "status/", "status0");
                                   });
  }

  std::vector<CheckOutcome> check(const WorkloadEnvironment&) override;

 private:
  static std::optional<std::map<std::string, std::string>> read_prefix(ClusterClient& client,
                                                                       std::string key,
                                                                       std::string end) {
    mvcc::RangeRequest range;
    range.key = std::move(key);
    range.range_end = std::move(end);
    CallResult result = client.call(range);
    if (!result.ok()) return std::nullopt;
    std::map<std::string, std::string> values;
    for (const mvcc::KeyValue& kv : result.as<mvcc::RangeResponse>().kvs) values[kv.key] = kv.value;
    return values;
  }

  void control(RecordedClient& client, WorkloadEnvironment& environment) {
    Random& random = client.client().runtime().random();
    uint64_t version = 0;
    while (client.now() < environment.stop_at) {
      mvcc::PutRequest put;
      put.key = field_key(static_cast<int>(random.below(kFields)));
      put.value = "v" + std::to_string(++version);
      // Indeterminate writes may have happened too: they count as the controller's.
      if (client.put(put).outcome != CallOutcome::kFailed) controller_wrote_.insert(put.value);
      client.client().runtime().sleep_for(kControllerPause);
    }
  }

  struct Agent {
    std::map<std::string, std::string> applied;
    std::set<std::string> reported;  // status values this agent wrote (or may have)
    std::set<std::string> seen_values;
  };

  void run_agent(RecordedClient& recorded, WorkloadEnvironment& environment, int index) {
    Agent& agent = agents_[static_cast<size_t>(index)];
    ClusterClient& client = recorded.client();
    const std::vector<NodeId>& members = client.members();
    size_t member_index = static_cast<size_t>(index) % members.size();
    int64_t next_revision = 1;
    const Instant stop = environment.end_at - kAgentStopLead;
    while (recorded.now() < stop) {
      const NodeId member = members[member_index];
      mvcc::WatchCreateRequest create;
      create.key = "config/";
      create.range_end = "config0";
      create.start_revision = Revision(next_revision);
      CallResult created = client.call_member(member, create);
      if (!created.ok() || created.as<mvcc::WatchResponse>().canceled) {
        member_index = (member_index + 1) % members.size();
        client.runtime().sleep_for(kAgentIdleCheck / 5);
        continue;
      }
      const mvcc::WatchId watch_id = created.as<mvcc::WatchResponse>().watch_id;
      bool alive = true;
      bool switch_member = true;
      uint64_t expected_sequence = 1;
      while (alive && recorded.now() < stop) {
        std::vector<node::WatchStreamMessage> messages =
            client.take_watch_messages(client.runtime().now() + kAgentIdleCheck);
        if (messages.empty()) {
          // Silence: the watch may be gone (the member restarted and lost it) or the member
          // may be unreachable. Cancel it and start over from the last revision seen: on
          // the same member if it answered, on the next one otherwise.
          const CallResult canceled =
              client.call_member(member, mvcc::WatchCancelRequest{watch_id});
          alive = false;
          switch_member = canceled.error == ErrorCode::kTimeoutDueToConnectionLost;
          continue;
        }
        std::set<std::string> changed;
        for (const node::WatchStreamMessage& message : messages) {
          // Watch ids are per member: a late message from a member this client left
          // behind may carry the same id, so the sender must match too.
          if (message.response.watch_id != watch_id ||
              message.response.header.member_id != member) {
            continue;
          }
          // A lost stream message is a broken stream: start over from the last revision.
          if (message.sequence != expected_sequence++) {
            alive = false;
            break;
          }
          if (message.response.canceled) alive = false;
          for (const mvcc::Event& event : message.response.events) {
            next_revision = std::max(next_revision, event.kv.mod_revision.value() + 1);
            if (event.type == mvcc::EventType::kPut) {
              agent.applied[event.kv.key] = event.kv.value;
              agent.seen_values.insert(event.kv.value);
            } else {
              agent.applied.erase(event.kv.key);
            }
            changed.insert(event.kv.key);
          }
        }
        report(recorded, agent, index, changed);
      }
      if (!alive && switch_member) member_index = (member_index + 1) % members.size();
    }
  }

  void report(RecordedClient& client, Agent& agent, int index, const std::set<std::string>& keys) {
    for (const std::string& key : keys) {
      auto applied = agent.applied.find(key);
      if (applied == agent.applied.end()) continue;
      mvcc::PutRequest put;
      put.key = status_key(index, key);
      put.value = applied->second;
      if (client.put(put).outcome != CallOutcome::kFailed) agent.reported.insert(put.value);
    }
  }

  std::set<std::string> controller_wrote_;
  std::vector<Agent> agents_;
  std::optional<std::map<std::string, std::string>> final_config_;
  std::optional<std::map<std::string, std::string>> final_status_;
};

std::vector<CheckOutcome> ConfigWorkload::check(const WorkloadEnvironment&) {
  CheckOutcome provenance{"config: one writer per field", CheckOutcome::Verdict::kPass, ""};
  CheckOutcome converged{"config: every agent converges", CheckOutcome::Verdict::kPass, ""};
  auto fail = [](CheckOutcome& outcome, std::string why) {
    if (outcome.verdict == CheckOutcome::Verdict::kFail) return;
    outcome.verdict = CheckOutcome::Verdict::kFail;
    outcome.detail = std::move(why);
  };
  if (!final_config_ || !final_status_) {
    converged.verdict = CheckOutcome::Verdict::kUnknown;
    converged.detail = "the final read did not complete";
    provenance.verdict = CheckOutcome::Verdict::kUnknown;
    provenance.detail = converged.detail;
    return {provenance, converged};
  }
  for (const auto& [key, value] : *final_config_) {
    if (!controller_wrote_.contains(value)) {
      fail(provenance, key + "=" + value + " was not written by the controller");
    }
  }
  for (size_t a = 0; a < agents_.size(); ++a) {
    const Agent& agent = agents_[a];
    const std::string who = "agent " + std::to_string(a);
    for (const std::string& value : agent.seen_values) {
      if (!controller_wrote_.contains(value))
        fail(provenance, who + " applied " + value + " from nowhere");
    }
    if (agent.applied != *final_config_) {
      fail(converged, who + " applied " + std::to_string(agent.applied.size()) +
                          " fields that differ from the final configuration");
    }
    for (const auto& [key, value] : *final_config_) {
      const std::string status = status_key(static_cast<int>(a), key);
      auto reported = final_status_->find(status);
      if (reported == final_status_->end() || reported->second != value) {
        fail(converged, who + " reports " +
                            (reported == final_status_->end() ? "nothing" : reported->second) +
                            " for " + key + ", the configuration says " + value);
      } else if (!agent.reported.contains(reported->second)) {
        fail(provenance, status + " holds a value its agent never wrote");
      }
    }
  }
  if (provenance.passed()) {
    provenance.detail = std::to_string(controller_wrote_.size()) + " controller writes";
  }
  if (converged.passed()) {
    converged.detail = std::to_string(agents_.size()) + " agents on " +
                       std::to_string(final_config_->size()) + " fields";
  }
  return {provenance, converged};
}

}  // namespace

std::unique_ptr<Workload> make_config_workload() {
  return std::make_unique<ConfigWorkload>();
}

}  // namespace lockstep::sim
