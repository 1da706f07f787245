#include "reports/html_report.h"

#include <filesystem>

#include "reports/json_input.h"
#include "reports/report_page.h"
#include "reports/run_model.h"

namespace lockstep::reports {

Status write_html_report(const std::string& run_directory) {
  auto model = build_run_model(run_directory);
  if (!model.is_ok()) return model.error();
  return write_text_file((std::filesystem::path(run_directory) / kReportFile).string(),
                         render_report_page(*model));
}

}  // namespace lockstep::reports
