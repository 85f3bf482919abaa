// Small helpers private to libiep.
#pragma once

#include <sodium.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "iep/core/io.h"

namespace iep::util {

inline void wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

void sodium_ready();  // sodium_init() once; throws on failure

std::string hex(ByteSpan data);
// Lower-case hex of exactly `n` bytes; false when malformed.
bool unhex(std::string_view text, std::uint8_t* out, std::size_t n);

// The deepest nesting of arrays and objects in a JSON text (brackets
// outside strings), counted without parsing, so that text from outside
// deeper than its format allows is refused before any recursive parser
// sees it.
std::size_t json_depth(std::string_view text);

inline ByteSpan as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Streaming BLAKE2b-256 (the per-file hash of a package), also a Sink tap.
class Blake2b256 : public Sink {
 public:
  Blake2b256();
  void write(ByteSpan data) override;
  void finish() override {}
  std::array<std::uint8_t, 32> digest();

 private:
  crypto_generichash_state st_{};
};

// Text of our own small files (keys, cards, profiles, rules): without
// blanks (space, tab, CR, NUL) at either end.
std::string_view trim(std::string_view s);
// Split at '\n'; a last line without one is included, no empty last line.
std::vector<std::string_view> split_lines(std::string_view text);
inline char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Now as RFC 3339 UTC ("2026-11-28T08:00:00Z").
std::string utc_now();

// A string as valid UTF-8: kept when it already is, else read as ISO 8859-1.
std::string to_utf8(std::string_view s);

}  // namespace iep::util
