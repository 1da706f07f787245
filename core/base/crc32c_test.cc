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

// The hardware path (where the CPU has one) and the tables agree on every length and
// alignment, including the byte-at-a-time tails.
TEST(Crc32c, InstructionAndTablesAgree) {
  std::string bytes;
  uint64_t state = 0x9E3779B97F4A7C15u;
  for (int i = 0; i < 300; ++i) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    bytes.push_back(static_cast<char>(state >> 56));
  }
  for (size_t start = 0; start < 9; ++start) {
    for (size_t length = 0; start + length <= bytes.size(); length += 7) {
      const std::string_view piece = std::string_view(bytes).substr(start, length);
      EXPECT_EQ(crc32c_extend(0x12345678u, piece), crc32c_extend_portable(0x12345678u, piece));
      EXPECT_EQ(crc32c(piece), crc32c_extend_portable(0, piece));
    }
  }
}

}  // namespace
}  // namespace lockstep
