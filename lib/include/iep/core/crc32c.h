// CRC-32C (Castagnoli, the checksum of iSCSI, RFC 3720 section B.4): the
// tus checksum the hub and iep-send prefer for each PATCH ("crc32c"), about
// five times cheaper than SHA-256 here. It detects a chunk damaged on the
// way; the sender's signature, checked at the commit, is what authenticates
// the whole upload.
#pragma once

#include <array>
#include <cstdint>

#include "iep/core/io.h"

namespace iep {

// The CRC-32C of `data`, continuing from `crc` (the value of the bytes
// before it; 0 to start): crc32c(b, crc32c(a)) == crc32c(a then b).
// The SSE 4.2 instruction when the CPU has it, else a table.
std::uint32_t crc32c(ByteSpan data, std::uint32_t crc = 0);
// The same from the table alone (what CPUs without SSE 4.2 use).
std::uint32_t crc32c_portable(ByteSpan data, std::uint32_t crc = 0);
// A CRC as its four bytes, big-endian: the digest of "Upload-Checksum:
// crc32c" (before base64).
inline std::array<std::uint8_t, 4> crc32c_bytes(std::uint32_t crc) {
  return {static_cast<std::uint8_t>(crc >> 24), static_cast<std::uint8_t>(crc >> 16),
          static_cast<std::uint8_t>(crc >> 8), static_cast<std::uint8_t>(crc)};
}

}  // namespace iep
