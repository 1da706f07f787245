// Scripted interaction tests with golden output (in the style of etcd raft's datadriven
// testdata/*.txt). Each file in core/raft/testdata is a sequence of blocks:
//
//   # comments
//   <command> <args...>
//   ----
//   <expected output>
//
// The runner executes the commands against a RaftCluster, compares the whole rendered file
// with the original and prints a diff on mismatch. LOCKSTEP_REWRITE_GOLDEN=1 rewrites the
// files with the actual output instead (review the git diff before committing!).
//
// Commands (node lists are "1,2,3" or "all"):
//   cluster voters=1,2,3 [learners=4] [prevote] [checkquorum] [lease] [no-forwarding]
//           [election=N] [heartbeat=N] [max-append-bytes=N] [max-inflight=N]
//           [max-uncommitted=N] [seed=N]
//   add-node N            a new empty member
//   campaign N            start an election on N now
//   tick NODES [xK]       tick each node K times (processing Ready after each)
//   deliver [from=N] [to=N] [quiet]  without filters: deliver until nothing is in flight;
//                         with filters: deliver the matching messages now in flight, once;
//                         quiet: print only how many were delivered and dropped
//   drop [from=N] [to=N] [quiet]  drop matching messages now in flight
//   partition 1 2 / 3     split the network; heal
//   propose N DATA        propose on node N
//   conf N v4 l5 r3 [joint|explicit|leave]   propose a membership change on N
//   transfer N TO         ask N to transfer leadership to TO
//   read-index N CTX      ReadIndex on N;  read-states N  prints and clears N's ready reads
//   compact N             snapshot N's applied state and compact its log
//   crash N / restart N   restart loses everything not persisted
//   report-unreachable N PEER / report-snapshot N PEER ok|fail
//   status [NODES] / log N / progress N
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/raft/testing/raft_cluster.h"

namespace lockstep::raft {
namespace {

using testing::ClusterOptions;
using testing::RaftCluster;

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream stream(text);
  while (std::getline(stream, part, separator)) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

NodeId parse_id(const std::string& text) {
  return NodeId(std::stoull(text));
}

std::vector<NodeId> parse_ids(const std::string& text) {
  std::vector<NodeId> ids;
  for (const std::string& part : split(text, ',')) ids.push_back(parse_id(part));
  return ids;
}

struct Block {
  std::vector<std::string> preamble;  // comments and blank lines before the command
  std::string command;
  std::vector<std::string> expected;
};

struct Script {
  std::vector<Block> blocks;
  std::vector<std::string> trailer;
};

Script parse_script(const std::string& text) {
  Script script;
  std::vector<std::string> lines = [&] {
    std::vector<std::string> result;
    std::istringstream stream(text);
    std::string line;
    while (std::getline(stream, line)) result.push_back(line);
    return result;
  }();
  std::vector<std::string> pending;
  size_t i = 0;
  while (i < lines.size()) {
    const std::string& line = lines[i];
    if (line.empty() || line[0] == '#') {
      pending.push_back(line);
      ++i;
      continue;
    }
    Block block;
    block.preamble = std::exchange(pending, {});
    block.command = line;
    ++i;
    EXPECT_TRUE(i < lines.size() && lines[i] == "----") << "expected ---- after: " << line;
    ++i;
    while (i < lines.size() && !lines[i].empty()) block.expected.push_back(lines[i++]);
    script.blocks.push_back(std::move(block));
  }
  script.trailer = pending;
  return script;
}

// Runs the commands of one script and returns each block's output.
class Interpreter {
 public:
  std::vector<std::string> run(const std::string& command) {
    std::vector<std::string> args = split(command, ' ');
    const std::string verb = args.front();
    args.erase(args.begin());
    std::vector<std::string> out;
    if (verb == "cluster") {
      create_cluster(args, out);
    } else {
      EXPECT_TRUE(cluster_ != nullptr) << "the first command must be `cluster`";
      if (cluster_ == nullptr) return {"error: no cluster"};
      dispatch(verb, args, out);
    }
    if (cluster_ != nullptr) {
      if (std::optional<std::string> violation = cluster_->check_invariants()) {
        out.push_back("INVARIANT VIOLATED: " + *violation);
        ADD_FAILURE() << *violation;
      }
    }
    if (out.empty()) out.push_back("ok");
    return out;
  }

 private:
  void create_cluster(const std::vector<std::string>& args, std::vector<std::string>& out) {
    ClusterOptions options;
    std::vector<NodeId> voters;
    std::vector<NodeId> learners;
    for (const std::string& arg : args) {
      const size_t equals = arg.find('=');
      const std::string key = arg.substr(0, equals);
      const std::string value = equals == std::string::npos ? "" : arg.substr(equals + 1);
      if (key == "voters")
        voters = parse_ids(value);
      else if (key == "learners")
        learners = parse_ids(value);
      else if (key == "prevote")
        options.pre_vote = true;
      else if (key == "checkquorum")
        options.check_quorum = true;
      else if (key == "lease")
        options.read_only = ReadOnlyOption::kLeaseBased;
      else if (key == "no-forwarding")
        options.disable_proposal_forwarding = true;
      else if (key == "election")
        options.election_timeout_ticks = std::stoi(value);
      else if (key == "heartbeat")
        options.heartbeat_interval_ticks = std::stoi(value);
      else if (key == "max-append-bytes")
        options.max_append_bytes = std::stoull(value);
      else if (key == "max-inflight")
        options.max_inflight_messages = std::stoull(value);
      else if (key == "max-uncommitted")
        options.max_uncommitted_bytes = std::stoull(value);
      else if (key == "seed")
        options.seed = std::stoull(value);
      else
        ADD_FAILURE() << "unknown cluster option " << arg;
    }
    cluster_ = std::make_unique<RaftCluster>(options, voters, learners);
    // Apply the bootstrap entries so every founding member knows the membership.
    cluster_->process_all_ready();
    status(cluster_->member_ids(), out);
  }

  std::vector<NodeId> nodes(const std::string& text) {
    return text == "all" ? cluster_->member_ids() : parse_ids(text);
  }

  void status(const std::vector<NodeId>& ids, std::vector<std::string>& out) {
    for (NodeId id : ids) out.push_back(cluster_->describe_member(id));
  }

  static std::string result(const Status& status) {
    return status.is_ok() ? "ok" : status.to_string();
  }

  bool matches(const Message& message, const std::vector<std::string>& args) {
    for (const std::string& arg : args) {
      if (arg.rfind("from=", 0) == 0 && message.from != parse_id(arg.substr(5))) return false;
      if (arg.rfind("to=", 0) == 0 && message.to != parse_id(arg.substr(3))) return false;
    }
    return true;
  }

  // With `quiet`, only counts are printed (for long stretches of heartbeats).
  static void summarize(std::vector<std::string>& lines, bool quiet) {
    if (!quiet) return;
    size_t dropped = 0;
    for (const std::string& line : lines) dropped += line.rfind("dropped: ", 0) == 0 ? 1 : 0;
    lines = {"delivered " + std::to_string(lines.size() - dropped) + ", dropped " +
             std::to_string(dropped)};
  }

  static bool has_quiet(std::vector<std::string>& args) {
    auto found = std::find(args.begin(), args.end(), "quiet");
    if (found == args.end()) return false;
    args.erase(found);
    return true;
  }

  void deliver(std::vector<std::string> args, std::vector<std::string>& out) {
    const bool quiet = has_quiet(args);
    deliver_messages(args, out);
    summarize(out, quiet);
  }

  void deliver_messages(const std::vector<std::string>& args, std::vector<std::string>& out) {
    if (args.empty()) {
      for (std::string& line : cluster_->stabilize()) out.push_back(std::move(line));
      return;
    }
    // One pass over the messages in flight now; messages they cause stay queued.
    size_t remaining = cluster_->in_flight().size();
    size_t position = 0;
    while (remaining-- > 0) {
      if (matches(cluster_->in_flight()[position], args)) {
        out.push_back(cluster_->deliver(position));
      } else {
        ++position;
      }
    }
  }

  void drop(std::vector<std::string> args, std::vector<std::string>& out) {
    const bool quiet = has_quiet(args);
    size_t position = 0;
    while (position < cluster_->in_flight().size()) {
      if (matches(cluster_->in_flight()[position], args)) {
        out.push_back("dropped: " + describe(cluster_->in_flight()[position]));
        cluster_->drop(position);
      } else {
        ++position;
      }
    }
    summarize(out, quiet);
  }

  void conf(const std::vector<std::string>& args, std::vector<std::string>& out) {
    ConfChange change;
    for (size_t i = 1; i < args.size(); ++i) {
      const std::string& arg = args[i];
      if (arg == "joint")
        change.transition = ConfChangeTransition::kJointImplicit;
      else if (arg == "explicit")
        change.transition = ConfChangeTransition::kJointExplicit;
      else if (arg == "leave")
        continue;  // an empty change leaves the joint configuration
      else {
        ConfChangeSingle single;
        single.node = parse_id(arg.substr(1));
        if (arg[0] == 'v')
          single.type = ConfChangeType::kAddNode;
        else if (arg[0] == 'l')
          single.type = ConfChangeType::kAddLearnerNode;
        else if (arg[0] == 'r')
          single.type = ConfChangeType::kRemoveNode;
        else
          ADD_FAILURE() << "unknown conf change item " << arg;
        change.changes.push_back(single);
      }
    }
    out.push_back(result(cluster_->propose_conf_change(parse_id(args[0]), change)));
  }

  void dispatch(const std::string& verb, const std::vector<std::string>& args,
                std::vector<std::string>& out) {
    if (verb == "add-node") {
      cluster_->add_member(parse_id(args[0]));
    } else if (verb == "campaign") {
      cluster_->campaign(parse_id(args[0]));
      status({parse_id(args[0])}, out);
    } else if (verb == "tick") {
      int times = 1;
      if (args.size() > 1) times = std::stoi(args[1].substr(1));
      const std::vector<NodeId> ids = nodes(args[0]);
      for (int i = 0; i < times; ++i) {
        for (NodeId id : ids) {
          if (cluster_->running(id)) cluster_->tick(id);
        }
      }
      status(ids, out);
    } else if (verb == "deliver") {
      deliver(args, out);
    } else if (verb == "drop") {
      drop(args, out);
    } else if (verb == "partition") {
      std::vector<std::set<NodeId>> groups(1);
      for (const std::string& arg : args) {
        if (arg == "/") {
          groups.emplace_back();
        } else {
          groups.back().insert(parse_id(arg));
        }
      }
      cluster_->partition(groups);
    } else if (verb == "heal") {
      cluster_->heal();
    } else if (verb == "propose") {
      out.push_back(result(cluster_->propose(parse_id(args[0]), args[1])));
    } else if (verb == "conf") {
      conf(args, out);
    } else if (verb == "transfer") {
      out.push_back(result(cluster_->transfer_leadership(parse_id(args[0]), parse_id(args[1]))));
    } else if (verb == "read-index") {
      out.push_back(result(cluster_->read_index(parse_id(args[0]), args[1])));
    } else if (verb == "read-states") {
      std::vector<ReadState>& reads = cluster_->member(parse_id(args[0])).read_states;
      for (const ReadState& read : reads) {
        out.push_back("read " + read.context + " at index " + std::to_string(read.index.value()));
      }
      if (reads.empty()) out.push_back("no read states");
      reads.clear();
    } else if (verb == "compact") {
      const NodeId id = parse_id(args[0]);
      const Status compacted = cluster_->compact(id);
      out.push_back(
          compacted.is_ok()
              ? "snapshot at " +
                    std::to_string(cluster_->member(id).storage.snapshot().metadata.index.value())
              : compacted.to_string());
    } else if (verb == "crash") {
      cluster_->crash(parse_id(args[0]));
    } else if (verb == "restart") {
      cluster_->restart(parse_id(args[0]));
      status({parse_id(args[0])}, out);
    } else if (verb == "report-unreachable") {
      cluster_->node(parse_id(args[0])).report_unreachable(parse_id(args[1]));
      cluster_->process_ready(parse_id(args[0]));
    } else if (verb == "report-snapshot") {
      cluster_->node(parse_id(args[0]))
          .report_snapshot(parse_id(args[1]),
                           args[2] == "ok" ? SnapshotStatus::kFinished : SnapshotStatus::kFailed);
      cluster_->process_ready(parse_id(args[0]));
    } else if (verb == "status") {
      status(args.empty() ? cluster_->member_ids() : nodes(args[0]), out);
    } else if (verb == "log") {
      for (const std::string& line : split(cluster_->describe_log(parse_id(args[0])), '\n')) {
        out.push_back(line);
      }
    } else if (verb == "progress") {
      for (const std::string& line : split(cluster_->describe_progress(parse_id(args[0])), '\n')) {
        out.push_back(line);
      }
    } else {
      ADD_FAILURE() << "unknown command " << verb;
      out.push_back("error: unknown command " + verb);
    }
  }

  std::unique_ptr<RaftCluster> cluster_;
};

std::string render(const Script& script, const std::vector<std::vector<std::string>>& outputs) {
  std::string text;
  for (size_t i = 0; i < script.blocks.size(); ++i) {
    const Block& block = script.blocks[i];
    for (const std::string& line : block.preamble) text += line + "\n";
    text += block.command + "\n----\n";
    for (const std::string& line : outputs[i]) text += line + "\n";
  }
  for (const std::string& line : script.trailer) text += line + "\n";
  return text;
}

// A line diff (longest common subsequence), small files only.
std::string diff(const std::string& expected, const std::string& actual) {
  const std::vector<std::string> a = split(expected, '\n');
  const std::vector<std::string> b = split(actual, '\n');
  std::vector<std::vector<size_t>> common(a.size() + 1, std::vector<size_t>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;) {
    for (size_t j = b.size(); j-- > 0;) {
      common[i][j] =
          a[i] == b[j] ? common[i + 1][j + 1] + 1 : std::max(common[i + 1][j], common[i][j + 1]);
    }
  }
  std::string out;
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      ++i;
      ++j;
    } else if (j < b.size() && (i == a.size() || common[i][j + 1] >= common[i + 1][j])) {
      out += "+ " + b[j++] + "\n";
    } else {
      out += "- " + a[i++] + "\n";
    }
  }
  return out;
}

std::string testdata_dir() {
  return std::string(LOCKSTEP_SOURCE_DIR) + "/core/raft/testdata";
}

std::vector<std::string> testdata_files() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(testdata_dir())) {
    if (entry.path().extension() == ".txt") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class InteractionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(InteractionTest, MatchesGoldenOutput) {
  const std::string path = testdata_dir() + "/" + GetParam() + ".txt";
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "cannot read " << path;
  const std::string original((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  const Script script = parse_script(original);
  Interpreter interpreter;
  std::vector<std::vector<std::string>> outputs;
  for (const Block& block : script.blocks) outputs.push_back(interpreter.run(block.command));
  const std::string actual = render(script, outputs);
  const char* rewrite = std::getenv("LOCKSTEP_REWRITE_GOLDEN");
  if (rewrite != nullptr && std::string(rewrite) == "1") {
    std::ofstream(path) << actual;
    return;
  }
  EXPECT_TRUE(original == actual) << "golden output differs for " << path
                                  << " (rerun with LOCKSTEP_REWRITE_GOLDEN=1 to accept):\n"
                                  << diff(original, actual);
}

INSTANTIATE_TEST_SUITE_P(Testdata, InteractionTest, ::testing::ValuesIn(testdata_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace lockstep::raft
