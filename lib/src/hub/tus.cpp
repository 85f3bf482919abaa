// tus header and Range parsing.
#include "iep/hub/tus.h"

#include <set>

#include "core/util.h"
#include "hub/hub_util.h"

namespace iep::hub::tus {
namespace {

std::string_view strip(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep, std::size_t max) {
  std::vector<std::string_view> out;
  for (;;) {
    if (out.size() > max) return out;
    auto p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) return out;
    s.remove_prefix(p + 1);
  }
}

}  // namespace

std::optional<std::uint64_t> parse_uint(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_metadata(
    std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  if (text.size() > kMaxMetadata) return std::nullopt;
  if (strip(text).empty()) return out;
  auto pairs = split(text, ',', kMaxMetadataPairs);
  if (pairs.size() > kMaxMetadataPairs) return std::nullopt;
  std::set<std::string, std::less<>> seen;
  for (auto p : pairs) {
    p = strip(p);
    auto sp = p.find(' ');
    std::string_view key = p.substr(0, sp);
    std::string_view val =
        sp == std::string_view::npos ? std::string_view() : strip(p.substr(sp + 1));
    if (key.empty() || val.find(' ') != std::string_view::npos) return std::nullopt;
    for (char c : key)
      if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
        return std::nullopt;
    if (!seen.emplace(key).second) return std::nullopt;
    std::string decoded;
    if (!val.empty() && !base64_decode(val, decoded)) return std::nullopt;
    out.emplace_back(std::string(key), std::move(decoded));
  }
  return out;
}

std::optional<Checksum> parse_checksum(std::string_view text) {
  text = strip(text);
  if (text.size() > 256) return std::nullopt;
  auto sp = text.find(' ');
  if (sp == std::string_view::npos || sp == 0) return std::nullopt;
  Checksum c;
  for (char ch : text.substr(0, sp)) {
    if (static_cast<unsigned char>(ch) <= 0x20 || static_cast<unsigned char>(ch) >= 0x7f)
      return std::nullopt;
    c.algorithm.push_back(util::ascii_lower(ch));
  }
  if (!base64_decode(strip(text.substr(sp + 1)), c.digest) || c.digest.empty()) return std::nullopt;
  return c;
}

std::optional<Concat> parse_concat(std::string_view text) {
  text = strip(text);
  Concat c;
  if (text == "partial") {
    c.partial = true;
    return c;
  }
  if (text.substr(0, 6) != "final;" || text.size() > 16 * 1024) return std::nullopt;
  auto urls = split(strip(text.substr(6)), ' ', kMaxConcatParts);
  if (urls.size() > kMaxConcatParts) return std::nullopt;
  for (auto u : urls) {
    if (u.empty()) continue;
    auto p = u.find("/v1/uploads/");
    if (p == std::string_view::npos) return std::nullopt;
    if (p != 0) {  // a full URL: scheme://host[:port]/v1/uploads/ID
      auto scheme = u.find("://");
      if (scheme == std::string_view::npos || u.find('/', scheme + 3) != p) return std::nullopt;
    }
    std::string_view id = u.substr(p + 12);
    if (!valid_id(id)) return std::nullopt;
    c.parts.emplace_back(id);
  }
  if (c.parts.empty()) return std::nullopt;
  return c;
}

std::optional<Range> parse_range(std::string_view text, std::uint64_t size) {
  text = strip(text);
  if (text.substr(0, 6) != "bytes=") return std::nullopt;
  text = strip(text.substr(6));
  if (text.find(',') != std::string_view::npos) return std::nullopt;
  auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto a = strip(text.substr(0, dash)), b = strip(text.substr(dash + 1));
  Range r;
  if (a.empty()) {  // suffix: the last K bytes
    auto k = parse_uint(b);
    if (!k) return std::nullopt;
    if (*k == 0 || size == 0) {
      r.satisfiable = false;
      return r;
    }
    r.first = *k >= size ? 0 : size - *k;
    r.last = size - 1;
    return r;
  }
  auto first = parse_uint(a);
  if (!first) return std::nullopt;
  std::optional<std::uint64_t> last;
  if (!b.empty()) {
    last = parse_uint(b);
    if (!last || *last < *first) return std::nullopt;
  }
  if (*first >= size) {
    r.satisfiable = false;
    return r;
  }
  r.first = *first;
  r.last = last && *last < size ? *last : size - 1;
  return r;
}

bool valid_id(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace iep::hub::tus
