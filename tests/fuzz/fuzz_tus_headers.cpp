// Fuzzes the tus header and Range parsers. The first byte picks the parser
// (m: Upload-Metadata, c: Upload-Checksum, k: Upload-Concat, r: Range
// against a body whose size is the next 4 bytes, u: a number); the rest is
// the header's value. Whatever parses must hold its bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "iep/hub/tus.h"

using namespace iep::hub::tus;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0]) {
    case 'm':
      if (auto md = parse_metadata(in)) {
        if (md->size() > kMaxMetadataPairs) __builtin_trap();
        for (auto& [k, v] : *md)
          if (k.empty() || k.find(' ') != std::string::npos || k.find(',') != std::string::npos ||
              v.size() > in.size())
            __builtin_trap();
      }
      break;
    case 'c':
      if (auto c = parse_checksum(in))
        if (c->algorithm.empty() || c->digest.empty()) __builtin_trap();
      break;
    case 'k':
      if (auto c = parse_concat(in)) {
        if (c->parts.size() > kMaxConcatParts) __builtin_trap();
        for (auto& id : c->parts)
          if (!valid_id(id)) __builtin_trap();
      }
      break;
    case 'r': {
      if (in.size() < 4) return 0;
      std::uint64_t body = static_cast<std::uint8_t>(in[0]) |
                           static_cast<std::uint64_t>(static_cast<std::uint8_t>(in[1])) << 8 |
                           static_cast<std::uint64_t>(static_cast<std::uint8_t>(in[2])) << 16 |
                           static_cast<std::uint64_t>(static_cast<std::uint8_t>(in[3])) << 24;
      if (auto r = parse_range(in.substr(4), body))
        if (r->satisfiable && (r->first > r->last || r->last >= body)) __builtin_trap();
      break;
    }
    case 'u':
      if (auto n = parse_uint(in))
        if (in.empty() || in.size() > 18) __builtin_trap();
      break;
    default: break;
  }
  return 0;
}
