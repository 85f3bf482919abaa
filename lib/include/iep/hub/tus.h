// Parsing the tus 1.0.0 request headers and HTTP ranges the hub reads, each
// bounded in size and count; nothing here trusts its input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iep::hub::tus {

inline constexpr std::size_t kMaxMetadata = 16 * 1024;  // Upload-Metadata bytes
inline constexpr std::size_t kMaxMetadataPairs = 32;
inline constexpr std::size_t kMaxConcatParts = 64;

// A decimal offset or length: digits only, no sign, no spaces, fits 63 bits.
std::optional<std::uint64_t> parse_uint(std::string_view text);

// Upload-Metadata: "key base64,key2 base64,key3" (a key alone has an empty
// value). Keys are ASCII without spaces or commas, unique. Values decoded.
// None when malformed or over the bounds.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_metadata(
    std::string_view text);

// Upload-Checksum: "ALGO BASE64". `algorithm` is lower-cased; `digest`
// decoded. None when malformed (the caller answers 400 for an unknown
// algorithm after this parsed).
struct Checksum {
  std::string algorithm;
  std::string digest;
};
std::optional<Checksum> parse_checksum(std::string_view text);

// Upload-Concat: "partial" or "final;URL URL ...". For final, `parts` are
// the upload ids named by each URL (absolute path /v1/uploads/ID or a full
// URL ending so). None when malformed or an id is not 32 lower-case hex.
struct Concat {
  bool partial = false;
  std::vector<std::string> parts;
};
std::optional<Concat> parse_concat(std::string_view text);

// Range: "bytes=N-", "bytes=N-M" or "bytes=-K" against a body of `size`
// bytes. One range only. Result: none = header malformed or several ranges
// (ignore it, send the whole body); a range with first > last = unsatisfiable.
struct Range {
  std::uint64_t first = 0, last = 0;  // inclusive
  bool satisfiable = true;
};
std::optional<Range> parse_range(std::string_view text, std::uint64_t size);

// An id in a path: exactly 32 lower-case hex digits.
bool valid_id(std::string_view id);

}  // namespace iep::hub::tus
