#include "reports/index_report.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "reports/html_escape.h"
#include "reports/html_report.h"
#include "reports/json_input.h"

namespace lockstep::reports {

namespace {

using nlohmann::json;

constexpr std::string_view kStyle = R"css(
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; } h2 { font-size: 15px; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; }
td.mono { font-family: monospace; }
.verdict-pass { color: #1a7f37; font-weight: 700; }
.verdict-fail { color: #cf222e; font-weight: 700; }
.verdict-unknown { color: #9a6700; font-weight: 700; }
)css";

// A field as cell text; a list (failed_checks) reads as "a, b".
std::string text_of(const json& row, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const auto found = row.find(name);
    if (found == row.end() || found->is_null()) continue;
    if (!found->is_array()) return display_text(*found);
    std::string joined;
    for (const json& item : *found) joined += (joined.empty() ? "" : ", ") + display_text(item);
    return joined;
  }
  return {};
}

// Failures first (the rows a person opens the index for), then undecided runs, then passes;
// the explorer's order is kept within each group.
int verdict_rank(const std::string& verdict) {
  if (verdict == "fail") return 0;
  if (verdict == "pass") return 2;
  return 1;
}

std::string verdict_class(const std::string& verdict) {
  if (verdict == "pass") return "verdict-pass";
  if (verdict == "fail") return "verdict-fail";
  return "verdict-unknown";
}

// The link to a run's report, relative to the index. A value that looks like a URL scheme
// ("javascript:") is made a relative path, so index data cannot become a script link.
std::string report_link(const json& row) {
  std::string link = text_of(row, {"report"});
  if (link.empty()) {
    const std::string directory = text_of(row, {"directory", "dir", "run_directory", "path"});
    if (directory.empty()) return {};
    link = (std::filesystem::path(directory) / kReportFile).string();
  }
  const size_t colon = link.find(':');
  if (colon != std::string::npos && colon < link.find('/')) link = "./" + link;
  return link;
}

Result<std::vector<json>> sorted_runs(const json& index, const std::string& path) {
  const json* runs = &index;
  if (index.is_object()) {
    if (!index.contains("runs"))
      return Error(ErrorCode::kInvalidInput, path + ": field 'runs' is missing");
    runs = &index["runs"];
  }
  if (!runs->is_array()) return Error(ErrorCode::kInvalidInput, path + ": 'runs' must be an array");
  std::vector<json> rows;
  for (size_t i = 0; i < runs->size(); ++i) {
    if (!(*runs)[i].is_object()) {
      return Error(ErrorCode::kInvalidInput,
                   path + ": runs[" + std::to_string(i) + "]: expected a JSON object");
    }
    rows.push_back((*runs)[i]);
  }
  std::stable_sort(rows.begin(), rows.end(), [](const json& a, const json& b) {
    return verdict_rank(text_of(a, {"verdict"})) < verdict_rank(text_of(b, {"verdict"}));
  });
  return rows;
}

std::vector<std::string> probes_never_hit(const json& index) {
  std::vector<std::string> probes;
  if (!index.is_object()) return probes;
  for (const char* field : {"probes_never_hit", "unhit_probes"}) {
    if (index.contains(field) && index[field].is_array()) {
      for (const json& probe : index[field]) {
        probes.push_back(probe.is_object() ? text_of(probe, {"name", "site", "probe"})
                                           : display_text(probe));
      }
    }
  }
  return probes;
}

std::string run_row(const json& row) {
  const std::string verdict = text_of(row, {"verdict"});
  const std::string link = report_link(row);
  std::string out = "<tr class=\"run-row\">";
  auto cell = [&out](const std::string& value, const std::string& css_class) {
    out += "<td class=\"" + css_class + "\">" + escape_html(value) + "</td>";
  };
  cell(text_of(row, {"scenario"}), "");
  cell(text_of(row, {"seed"}), "mono");
  cell(verdict.empty() ? "unknown" : verdict, verdict_class(verdict));
  cell(text_of(row, {"trace_hash"}), "mono");
  cell(text_of(row, {"sim_time_ms"}), "mono");
  cell(text_of(row, {"failed_checks", "detail"}), "mono");
  cell(text_of(row, {"replay"}), "mono");
  out += link.empty() ? std::string("<td>no report written</td>")
                      : "<td><a href=\"" + escape_html(link) + "\">report</a></td>";
  return out + "</tr>\n";
}

std::string render_index_page(const std::vector<json>& rows,
                              const std::vector<std::string>& probes) {
  size_t failures = std::count_if(rows.begin(), rows.end(), [](const json& row) {
    return text_of(row, {"verdict"}) == "fail";
  });
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>lockstep exploration</title><style>";
  page += kStyle;
  page += "</style></head><body>\n<h1>lockstep exploration: " + std::to_string(rows.size()) +
          " runs, " + std::to_string(failures) + " failed</h1>\n";
  page +=
      "<table id=\"runs\"><tr><th>scenario</th><th>seed</th><th>verdict</th>"
      "<th>trace hash</th><th>sim time ms</th><th>failed checks</th><th>replay</th>"
      "<th>report</th></tr>\n";
  for (const json& row : rows) page += run_row(row);
  page += "</table>\n<h2>Coverage probes never hit (" + std::to_string(probes.size()) + ")</h2>\n";
  if (probes.empty()) page += "<p>every probe was hit at least once</p>\n";
  page += "<ul id=\"probes-never-hit\">";
  for (const std::string& probe : probes) page += "<li>" + escape_html(probe) + "</li>";
  return page + "</ul>\n</body></html>\n";
}

}  // namespace

Status write_html_index(const std::string& explore_directory) {
  const std::string path = (std::filesystem::path(explore_directory) / kIndexInputFile).string();
  auto index = read_json_file(path);
  if (!index.is_ok()) return index.error();
  auto rows = sorted_runs(*index, path);
  if (!rows.is_ok()) return rows.error();
  return write_text_file((std::filesystem::path(explore_directory) / kIndexReportFile).string(),
                         render_index_page(*rows, probes_never_hit(*index)));
}

}  // namespace lockstep::reports
