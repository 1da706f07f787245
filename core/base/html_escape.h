#pragma once

#include <string>
#include <string_view>

namespace lockstep {

// Text for HTML element content or a quoted attribute value (& < > " ' escaped). Shared by
// the checker's history view and the run reports, which cannot depend on each other.
std::string escape_html(std::string_view text);

}  // namespace lockstep
