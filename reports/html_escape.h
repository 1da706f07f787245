#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/base/html_escape.h"

namespace lockstep::reports {

using ::lockstep::escape_html;

// `value` as JSON that may sit inside <script type="application/json">…</script>: every
// '<', '>' and '&' becomes a \u escape (they can only occur inside JSON strings, so this
// keeps the same value) and non-ASCII is escaped too, so neither "</script>" nor
// "<!--" nor U+2028 in run data can end or confuse the script element. Invalid UTF-8 in
// the data is replaced, not fatal: a report must still show a run with odd bytes in keys.
std::string json_for_script_element(const nlohmann::json& value);

}  // namespace lockstep::reports
