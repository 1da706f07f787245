#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/error.h"
#include "core/raft/conf_change.h"
#include "core/raft/message.h"

namespace lockstep::raft {

// A compact, versioned binary encoding of Raft's wire and log types. Integers are LEB128
// varints, byte strings are length-prefixed; an encoded Message starts with a format
// version byte and ends with a CRC-32C of everything before it, so a corrupted or
// truncated frame is rejected instead of being misread. Decoding never trusts a length:
// every count is checked against the bytes that remain and against the limits below.
inline constexpr uint8_t kMessageFormatVersion = 1;
inline constexpr uint8_t kConfChangeFormatVersion = 1;
inline constexpr size_t kMaxEntriesPerMessage = 1 << 20;
inline constexpr size_t kMaxMembersPerConfState = 1 << 16;
inline constexpr size_t kMaxChangesPerConfChange = 1 << 16;

std::string encode_message(const Message& message);
// kInvalidInput (with the reason) for bytes that are not a valid encoding, kDataCorruption
// for a checksum mismatch.
Result<Message> decode_message(std::string_view bytes);

std::string encode_conf_change(const ConfChange& change);
Result<ConfChange> decode_conf_change(std::string_view bytes);

}  // namespace lockstep::raft
