// Fuzzes the parsers of S3's replies (lib/src/hub/s3_xml.h): a bucket's
// listing comes from a server the hub does not control. The whole input is
// one reply, read as each of the three lists and as an error; what parses
// must hold its bounds: no more entries than kMaxListed, no text longer than
// the reply, every part with a number.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../../lib/src/hub/s3_xml.h"

using namespace iep::hub::s3;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto fits = [&](std::string_view s) {
    if (s.size() > body.size()) __builtin_trap();
  };
  auto objects = parse_list_objects(body);
  if (objects.keys.size() > kMaxListed) __builtin_trap();
  for (auto& k : objects.keys) fits(k);
  fits(objects.next);
  auto uploads = parse_list_uploads(body);
  if (uploads.uploads.size() > kMaxListed) __builtin_trap();
  for (auto& [k, id] : uploads.uploads) fits(k), fits(id);
  if (uploads.next_key.empty() && !uploads.next_upload_id.empty()) __builtin_trap();
  auto parts = parse_list_parts(body);
  if (parts.parts.size() > kMaxListed) __builtin_trap();
  for (auto& p : parts.parts) {
    fits(p.etag);
    if (!number(std::to_string(p.number)) || !number(std::to_string(p.size))) __builtin_trap();
  }
  fits(xml_first(body, "Code"));
  fits(xml_first(body, "Message"));
  return 0;
}
