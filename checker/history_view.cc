#include "checker/history_view.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "core/base/html_escape.h"

namespace lockstep::checker {

namespace {

constexpr int kLaneHeightPixels = 28;
constexpr int kLeftMarginPixels = 90;
constexpr int kPixelsPerTimeStep = 14;

// Chooses which operations to draw: all of them, or the kMaxDrawnOperations nearest in time
// to the blocked operation.
std::vector<uint32_t> drawn_operations(const History& history, const PartitionVerdict& part) {
  std::vector<uint32_t> ops = part.operations;
  if (ops.size() <= kMaxDrawnOperations) return ops;
  int64_t focus = 0;
  if (part.blocked_operation) focus = history.operations[*part.blocked_operation].invoke_time;
  std::stable_sort(ops.begin(), ops.end(), [&](uint32_t a, uint32_t b) {
    const int64_t da = std::abs(history.operations[a].invoke_time - focus);
    const int64_t db = std::abs(history.operations[b].invoke_time - focus);
    return da < db;
  });
  ops.resize(kMaxDrawnOperations);
  std::sort(ops.begin(), ops.end());
  return ops;
}

std::string render_lanes(const History& history, const PartitionVerdict& part,
                         const std::string& title) {
  const std::vector<uint32_t> ops = drawn_operations(history, part);
  // Time is drawn by rank (each distinct event time one step), so sparse real times and
  // dense line numbers both read well.
  std::set<int64_t> times;
  std::set<int64_t> clients;
  for (uint32_t index : ops) {
    const Operation& op = history.operations[index];
    times.insert(op.invoke_time);
    if (!op.indeterminate) times.insert(op.return_time);
    clients.insert(op.client);
  }
  std::map<int64_t, int> rank;
  for (int64_t time : times) rank.emplace(time, static_cast<int>(rank.size()));
  std::map<int64_t, int> lane;
  for (int64_t client : clients) lane.emplace(client, static_cast<int>(lane.size()));
  std::map<uint32_t, size_t> prefix_position;
  for (size_t i = 0; i < part.longest_prefix.size(); ++i) {
    prefix_position.emplace(part.longest_prefix[i], i + 1);
  }
  const int end_rank = static_cast<int>(rank.size()) + 1;
  const int width = kLeftMarginPixels + (end_rank + 1) * kPixelsPerTimeStep;
  const int height = static_cast<int>(lane.size()) * kLaneHeightPixels + 10;

  std::string svg = "<h2>" + escape_html(title) + "</h2>\n<div class=\"scroll\"><svg width=\"" +
                    std::to_string(width) + "\" height=\"" + std::to_string(height) + "\">\n";
  for (const auto& [client, row] : lane) {
    svg += "<text class=\"lane\" x=\"4\" y=\"" + std::to_string(row * kLaneHeightPixels + 18) +
           "\">client " + std::to_string(client) + "</text>\n";
  }
  for (uint32_t index : ops) {
    const Operation& op = history.operations[index];
    const int x0 = kLeftMarginPixels + rank[op.invoke_time] * kPixelsPerTimeStep;
    const int x1 = kLeftMarginPixels +
                   (op.indeterminate ? end_rank : rank[op.return_time]) * kPixelsPerTimeStep +
                   kPixelsPerTimeStep / 2;
    const int y = lane[op.client] * kLaneHeightPixels + 4;
    std::string css = "op";
    const auto position = prefix_position.find(index);
    if (position != prefix_position.end()) css += " linearized";
    if (part.blocked_operation && *part.blocked_operation == index) css += " blocked";
    if (op.indeterminate) css += " indeterminate";
    const std::string detail =
        "client " + std::to_string(op.client) + " | " + describe_operation(op) + " | invoke " +
        std::to_string(op.invoke_time) + ", return " +
        (op.indeterminate ? std::string("never (indeterminate)") : std::to_string(op.return_time)) +
        (op.source_line > 0 ? " | line " + std::to_string(op.source_line) : "") +
        (position != prefix_position.end()
             ? " | linearized #" + std::to_string(position->second)
             : std::string(" | not in the longest linearizable prefix"));
    svg += "<g class=\"" + css + "\" data-detail=\"" + escape_html(detail) + "\"><title>" +
           escape_html(detail) + "</title><rect x=\"" + std::to_string(x0) + "\" y=\"" +
           std::to_string(y) + "\" width=\"" + std::to_string(std::max(4, x1 - x0)) +
           "\" height=\"20\" rx=\"3\"/><text x=\"" + std::to_string(x0 + 3) + "\" y=\"" +
           std::to_string(y + 14) + "\">" +
           (position != prefix_position.end() ? std::to_string(position->second) + ": " : "") +
           escape_html(describe_operation(op)) + "</text></g>\n";
  }
  svg += "</svg></div>\n";
  if (ops.size() < part.operations.size()) {
    svg += "<p>Showing " + std::to_string(ops.size()) + " of " +
           std::to_string(part.operations.size()) + " operations, those nearest the failure.</p>\n";
  }
  return svg;
}

constexpr const char* kStyle = R"(<style>
body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; color: #222; }
.verdict-ok { color: #176317; } .verdict-bad { color: #b00020; } .verdict-unknown { color: #8a6d00; }
.scroll { overflow-x: auto; border: 1px solid #ddd; padding: 4px; }
.lane { font-weight: 600; fill: #555; }
.op rect { fill: #e4e4e4; stroke: #999; cursor: pointer; }
.op text { font: 11px monospace; pointer-events: none; }
.op.linearized rect { fill: #cdebd0; stroke: #3c8c45; }
.op.indeterminate rect { fill-opacity: 0.45; stroke-dasharray: 4 3; }
.op.blocked rect { fill: #f7c6cc; stroke: #b00020; stroke-width: 2.5; }
.op.selected rect { stroke: #1a56db; stroke-width: 3; }
#detail { position: sticky; top: 0; background: #fffbe6; border: 1px solid #e6d87a;
          padding: 6px; min-height: 1.4em; font-family: monospace; }
.legend span { display: inline-block; padding: 1px 6px; margin-right: 6px; border: 1px solid #999; }
</style>)";

constexpr const char* kScript = R"(<script>
document.addEventListener('click', function (event) {
  var group = event.target.closest('g.op');
  if (!group) return;
  document.querySelectorAll('g.op.selected').forEach(function (g) { g.classList.remove('selected'); });
  group.classList.add('selected');
  document.getElementById('detail').textContent = group.getAttribute('data-detail');
});
</script>)";

}  // namespace

std::string render_history_html(const History& history, const CheckResult& result,
                                const ShrinkResult* shrunk) {
  std::string html =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>lockstep check: " +
      escape_html(history.source_name) + "</title>\n" + kStyle + "</head><body>\n";
  const char* verdict_class = result.verdict == Verdict::kLinearizable      ? "verdict-ok"
                              : result.verdict == Verdict::kNotLinearizable ? "verdict-bad"
                                                                            : "verdict-unknown";
  html += "<h1>" + escape_html(history.source_name) + ": <span class=\"" + verdict_class + "\">" +
          std::string(verdict_name(result.verdict)) + "</span></h1>\n";
  html += "<p>" + std::to_string(history.operations.size()) + " operations, " +
          std::to_string(result.partitions.size()) + " partitions checked, " +
          std::to_string(result.steps) + " search steps.</p>\n";
  html +=
      "<p class=\"legend\"><span style=\"background:#cdebd0\">in the longest linearizable "
      "prefix (numbered in order)</span><span style=\"background:#f7c6cc\">could not be "
      "linearized next</span><span style=\"background:#e4e4e4\">not reached</span><span "
      "style=\"border-style:dashed\">indeterminate: may take effect any time after invoke, "
      "or never</span></p>\n<div id=\"detail\">Click an operation for details.</div>\n";
  const PartitionVerdict* shown = nullptr;
  for (const PartitionVerdict& part : result.partitions) {
    if (part.verdict != Verdict::kLinearizable || shown == nullptr) shown = &part;
  }
  if (shown != nullptr) {
    const std::string where = shown->name.empty() ? "" : " (key \"" + shown->name + "\")";
    html += render_lanes(history, *shown, "History" + where);
  }
  if (shrunk != nullptr) {
    html += render_lanes(
        history, shrunk->verdict,
        "Minimal failing sub-history: " + std::to_string(shrunk->operations.size()) +
            " operations" + (shrunk->minimal ? "" : " (shrinking stopped at its budget)"));
  }
  html += std::string(kScript) + "\n</body></html>\n";
  return html;
}

}  // namespace lockstep::checker
