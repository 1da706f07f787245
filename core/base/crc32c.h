#pragma once

#include <cstdint>
#include <string_view>

namespace lockstep {

// CRC-32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78), as used by etcd's WAL
// and by iSCSI (RFC 3720 §B.4). `extend` continues a running checksum.
// Uses the CPU's CRC32 instruction where there is one (same results, see the test).
uint32_t crc32c_extend(uint32_t crc, std::string_view bytes);
// The table-driven version (slicing-by-8), for CPUs without the instruction and for tests.
uint32_t crc32c_extend_portable(uint32_t crc, std::string_view bytes);
inline uint32_t crc32c(std::string_view bytes) {
  return crc32c_extend(0, bytes);
}

}  // namespace lockstep
