// Loads a generated report in a real browser (Debian's headless chromium) and reads back
// the DOM after the page's script ran: the script must draw the timeline without errors.
// A missing chromium is a failure, not a skip: the report is only proven by rendering it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "reports/html_report.h"
#include "reports/report_page.h"
#include "reports/test_run_directory.h"

namespace lockstep::reports {
namespace {

constexpr const char* kChromium = "/usr/bin/chromium";

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t count = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

// The DOM of `page` after its scripts ran, as chromium's --dump-dom prints it. A fresh
// profile directory keeps runs independent; the flags keep chromium off the network.
std::string rendered_dom(const testing::TemporaryDirectory& scratch, const std::string& page) {
  const std::string profile = scratch.file("chromium-profile");
  const std::string dom = scratch.file("dom.html");
  const std::string log = scratch.file("chromium.log");
  const std::string command =
      std::string("timeout 60 ") + kChromium +
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
      " --disable-background-networking --disable-component-update --disable-sync"
      " --disable-dev-shm-usage --user-data-dir='" +
      profile + "' --virtual-time-budget=5000 --dump-dom 'file://" + page + "' > '" + dom +
      "' 2> '" + log + "'";
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << command << "\n" << testing::read_file(log);
  return testing::read_file(dom);
}

TEST(BrowserRender, ChromiumIsInstalled) {
  ASSERT_EQ(access(kChromium, X_OK), 0)
      << kChromium << " is missing: install Debian's chromium package (the setup script does)";
}

TEST(BrowserRender, ReportRendersTheTimelineWithoutScriptErrors) {
  ASSERT_EQ(access(kChromium, X_OK), 0) << kChromium << " is missing";
  testing::TemporaryDirectory run;
  testing::write_failed_run(run.path());
  ASSERT_TRUE(write_html_report(run.path()).is_ok());
  const std::string dom = rendered_dom(run, run.file("report.html"));
  ASSERT_FALSE(dom.empty());
  EXPECT_EQ(dom.find(std::string("class=\"") + kScriptErrorClass + "\""), std::string::npos)
      << dom.substr(0, dom.find("<h2>"));
  ASSERT_NE(dom.find(std::string("id=\"") + kRenderedMarkerId + "\""), std::string::npos);
  EXPECT_NE(dom.find("data-member-lanes=\"3\""), std::string::npos);
  EXPECT_NE(dom.find("data-client-lanes=\"3\""), std::string::npos);
  EXPECT_NE(dom.find("data-operations-drawn=\"5\""), std::string::npos);
  EXPECT_NE(dom.find("data-counterexample-drawn=\"2\""), std::string::npos);
  EXPECT_EQ(count_of(dom, "class=\"member-lane\""), 3u);
  EXPECT_EQ(count_of(dom, "class=\"client-lane\""), 3u);
  EXPECT_EQ(count_of(dom, "class=\"fault\""), 3u);
  EXPECT_EQ(count_of(dom, " op-counterexample\""), 2u);
  EXPECT_EQ(count_of(dom, "class=\"clickable counterexample-row\""), 2u);
  EXPECT_EQ(count_of(dom, "class=\"check-row\""), 2u);
  EXPECT_NE(dom.find("class=\"outage\""), std::string::npos);
  EXPECT_NE(dom.find("class=\"heal-line\""), std::string::npos);
  EXPECT_EQ(count_of(dom, "class=\"probe-row probe-missed\""), 1u);
  // The hostile key was shown as text, never run as script.
  EXPECT_EQ(dom.find("window.injected=1</script>"), std::string::npos);
}

// The error hook is what makes "no js-error element" mean something: a page whose script
// throws must show the error.
TEST(BrowserRender, ScriptErrorsAreWrittenIntoThePage) {
  ASSERT_EQ(access(kChromium, X_OK), 0) << kChromium << " is missing";
  testing::TemporaryDirectory run;
  testing::write_failed_run(run.path());
  ASSERT_TRUE(write_html_report(run.path()).is_ok());
  std::string page = testing::read_file(run.file("report.html"));
  const std::string reader = "JSON.parse(document.getElementById('run-data').textContent)";
  const size_t at = page.find(reader);
  ASSERT_NE(at, std::string::npos);
  page.replace(at, reader.size(), "JSON.parse('{broken')");
  testing::write_file(run.file("broken.html"), page);
  const std::string dom = rendered_dom(run, run.file("broken.html"));
  EXPECT_NE(dom.find(std::string("class=\"") + kScriptErrorClass + "\""), std::string::npos);
  EXPECT_EQ(dom.find(std::string("id=\"") + kRenderedMarkerId + "\""), std::string::npos);
}

}  // namespace
}  // namespace lockstep::reports
