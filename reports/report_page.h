#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace lockstep::reports {

// The id of the element the page's script adds once the timeline is drawn (with
// data-member-lanes, data-client-lanes, data-operations-drawn), and the class of the
// elements its window.onerror hook adds for every script error. Tests and the headless
// browser check look for both.
inline constexpr const char* kRenderedMarkerId = "timeline-rendered";
inline constexpr const char* kScriptErrorClass = "js-error";

// The whole report page for a model from build_run_model(): one self-contained HTML file
// (inline CSS and script, the model embedded as JSON, no network fetches) that works from
// file://. The header is rendered here so it reads without script; the script draws the
// timeline, the tables and the tooltips from the embedded model.
std::string render_report_page(const nlohmann::json& model);

}  // namespace lockstep::reports
