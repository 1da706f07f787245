#include "reports/json_input.h"

#include <gtest/gtest.h>

#include "reports/html_escape.h"
#include "reports/test_run_directory.h"

namespace lockstep::reports {
namespace {

using nlohmann::json;

TEST(ReadTimeNs, AcceptsUnitSuffixesAndKeepsIntegersExact) {
  auto ns = read_time_ns(json{{"t_ns", 9'007'199'254'740'993}}, "t", "x");
  ASSERT_TRUE(ns.is_ok());
  EXPECT_EQ(**ns, 9'007'199'254'740'993);
  EXPECT_EQ(**read_time_ns(json{{"t_us", 7}}, "t", "x"), 7'000);
  EXPECT_EQ(**read_time_ns(json{{"t_ms", 1.5}}, "t", "x"), 1'500'000);
  EXPECT_EQ(**read_time_ns(json{{"invoke", 12}}, "invoke", "x"), 12);
  EXPECT_FALSE(read_time_ns(json{{"other", 1}}, "t", "x")->has_value());
  auto bad = read_time_ns(json{{"t_ms", "now"}}, "t", "file.json: roles[3]");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.error().detail(), "file.json: roles[3]: field 't_ms' must be a number");
}

TEST(JsonForScriptElement, EscapesMarkupAndLineSeparatorsButKeepsTheValue) {
  const json value = {{"</script><!--", "a&b\u2028c"}};
  const std::string embedded = json_for_script_element(value);
  EXPECT_EQ(embedded.find('<'), std::string::npos);
  EXPECT_EQ(embedded.find('>'), std::string::npos);
  EXPECT_EQ(embedded.find('&'), std::string::npos);
  EXPECT_EQ(embedded.find("\xe2\x80\xa8"), std::string::npos);
  EXPECT_EQ(json::parse(embedded), value);
}

TEST(JsonForScriptElement, InvalidUtf8IsReplacedNotFatal) {
  const json value = {{"key", std::string("bad \xff byte")}};
  EXPECT_NE(json_for_script_element(value).find("bad"), std::string::npos);
}

TEST(EscapeHtml, EscapesTheFiveSpecialCharacters) {
  EXPECT_EQ(escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

TEST(WriteTextFile, ReplacesTheFileWhole) {
  testing::TemporaryDirectory directory;
  ASSERT_TRUE(write_text_file(directory.file("out.html"), "first version").is_ok());
  ASSERT_TRUE(write_text_file(directory.file("out.html"), "second").is_ok());
  EXPECT_EQ(testing::read_file(directory.file("out.html")), "second");
  EXPECT_FALSE(std::filesystem::exists(directory.file("out.html.tmp")));
  EXPECT_FALSE(write_text_file(directory.file("no/such/dir/out.html"), "x").is_ok());
}

}  // namespace
}  // namespace lockstep::reports
