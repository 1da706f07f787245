// `lockstep report merge DIR... --out DIR`: joins the index.json files that sharded
// `lockstep sim explore --shard I/N --report DIR` runs wrote (one per shard, e.g. one per
// Kubernetes Indexed Job pod) into one index.json: every run row, run reports copied
// alongside, and the probes that no shard hit. Exit codes: 0 merged and every run passed,
// 1 merged with failures, 2 bad input.
//
//   lockstep report merge shard-0 shard-1 shard-2 --out merged
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cli/command_registry.h"
#include "sim/scenario/scenario_files.h"
#ifdef LOCKSTEP_HAVE_HTML_REPORT
#include "reports/index_report.h"
#endif

namespace lockstep::cli {
namespace {

using Json = nlohmann::json;

struct MergeFlags {
  std::vector<std::string> directories;
  std::string out = "merged-report";
};

Result<Json> read_index(const std::string& directory) {
  const std::string path = directory + "/index.json";
  Result<std::string> text = sim::scenario::read_text_file(path);
  if (!text.is_ok()) return text.error();
  try {
    Json index = Json::parse(*text);
    if (!index.contains("runs") || !index["runs"].is_array()) {
      return Error(ErrorCode::kInvalidInput, path + ": field 'runs' must be an array");
    }
    return index;
  } catch (const std::exception& error) {
    return Error(ErrorCode::kInvalidInput, path + ": " + error.what());
  }
}

void merge(const MergeFlags& flags) {
  std::vector<Json> indexes;
  for (const std::string& directory : flags.directories) {
    Result<Json> index = read_index(directory);
    if (!index.is_ok()) {
      std::fprintf(stderr, "lockstep report merge: %s\n", index.error().detail().c_str());
      set_exit_code(2);
      return;
    }
    indexes.push_back(std::move(*index));
  }
  std::error_code error;
  std::filesystem::create_directories(flags.out, error);
  if (error) {
    std::fprintf(stderr, "lockstep report merge: %s: %s\n", flags.out.c_str(),
                 error.message().c_str());
    set_exit_code(2);
    return;
  }
  Json runs = Json::array();
  std::set<std::string> hit;
  std::map<std::string, Json> never_hit;  // site → probe, minus those any shard hit
  std::set<std::pair<std::string, uint64_t>> seen;
  size_t failed = 0;
  size_t duplicates = 0;
  for (size_t i = 0; i < indexes.size(); ++i) {
    for (Json& row : indexes[i]["runs"]) {
      const auto key = std::pair{row.value("scenario", ""), row.value("seed", uint64_t{0})};
      if (!seen.insert(key).second) {
        ++duplicates;  // overlapping shards: keep the first copy
        continue;
      }
      if (row.contains("directory")) {
        const std::string name = row["directory"].get<std::string>();
        std::filesystem::copy(flags.directories[i] + "/" + name, flags.out + "/" + name,
                              std::filesystem::copy_options::recursive |
                                  std::filesystem::copy_options::overwrite_existing,
                              error);
      }
      failed += row.value("verdict", "fail") != "pass";
      runs.push_back(row);
    }
    for (const Json& site : indexes[i].value("probes_hit", Json::array()))
      hit.insert(site.get<std::string>());
    for (const Json& probe : indexes[i].value("probes_never_hit", Json::array())) {
      never_hit[probe.value("site", "")] = probe;
    }
  }
  Json unhit = Json::array();
  for (const auto& [site, probe] : never_hit) {
    if (!hit.contains(site)) unhit.push_back(probe);
  }
  Json merged = {{"merged_from", flags.directories},
                 {"runs", runs},
                 {"probes_hit", Json(std::vector<std::string>(hit.begin(), hit.end()))},
                 {"probes_never_hit", unhit}};
  Status written = sim::scenario::write_text_file(flags.out + "/index.json", merged.dump(2) + "\n");
  if (!written.is_ok()) {
    std::fprintf(stderr, "lockstep report merge: %s\n", written.to_string().c_str());
    set_exit_code(2);
    return;
  }
#ifdef LOCKSTEP_HAVE_HTML_REPORT
  Status html = reports::write_html_index(flags.out);
  if (!html.is_ok()) std::fprintf(stderr, "index.html: %s\n", html.to_string().c_str());
#endif
  std::printf(
      "merged %zu shards: %zu runs, %zu failed, %zu duplicate rows dropped, %zu probes "
      "never hit -> %s/index.json\n",
      indexes.size(), runs.size(), failed, duplicates, unhit.size(), flags.out.c_str());
  set_exit_code(failed == 0 ? 0 : 1);
}

void add_report_merge_command(CLI::App& parent) {
  auto flags = std::make_shared<MergeFlags>();
  CLI::App* command =
      parent.add_subcommand("merge",
                            "Join the index.json of sharded `sim explore --report` runs into one\n"
                            "  exit 0 all runs passed, 1 some failed, 2 bad input\n"
                            "  example: lockstep report merge shard-0 shard-1 --out merged");
  command->add_option("directories", flags->directories, "Explore report directories")->required();
  command->add_option("--out", flags->out, "Directory of the merged index.json");
  command->callback([flags] { merge(*flags); });
}

const CommandRegistration registration("report", "merge", add_report_merge_command);

}  // namespace
}  // namespace lockstep::cli
