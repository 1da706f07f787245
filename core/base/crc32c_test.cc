#include "core/base/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace lockstep {
namespace {

// Check values from RFC 3720 §B.4 and the common "123456789" test vector.
TEST(Crc32c, MatchesPublishedCheckValues) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
}

TEST(Crc32c, ExtendingEqualsOneShot) {
  const std::string text = "the quick brown fox jumps over the lazy dog, twice over";
  for (size_t split = 0; split <= text.size(); ++split) {
    const uint32_t first = crc32c(std::string_view(text).substr(0, split));
    EXPECT_EQ(crc32c_extend(first, std::string_view(text).substr(split)), crc32c(text));
  }
}

}  // namespace
}  // namespace lockstep
