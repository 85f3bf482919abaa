// The S3 replies the hub reads (ListObjectsV2, ListMultipartUploads,
// ListParts, errors, InitiateMultipartUpload), parsed by a bounded tag
// extractor. They come from outside (a bucket the hub does not control), so
// every list is capped and every number checked; tests/fuzz/fuzz_s3_xml.cpp
// fuzzes these functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iep::hub::s3 {

constexpr std::size_t kMaxReply = 16 << 20;  // any reply that is not object bytes
constexpr std::size_t kMaxListed = 100000;   // entries one XML list may yield

// The text of an element with the five XML entities decoded.
std::string unescape(std::string_view s);
// Every <tag>...</tag> in `xml`, raw, at most kMaxListed.
std::vector<std::string_view> xml_all(std::string_view xml, std::string_view tag);
// The first <tag>'s text, unescaped; empty if there is none.
std::string xml_first(std::string_view xml, std::string_view tag);
// A decimal number that is the whole of `s`.
std::optional<std::uint64_t> number(std::string_view s);

// One page of a paginated list; `next` is the marker of the following page,
// empty on the last one (IsTruncated not "true", or no marker given).
struct ObjectsPage {
  std::vector<std::string> keys;
  std::string next;  // NextContinuationToken
};
struct UploadsPage {
  std::vector<std::pair<std::string, std::string>> uploads;  // (Key, UploadId)
  std::string next_key, next_upload_id;                      // NextKeyMarker, NextUploadIdMarker
};
struct Part {
  std::uint64_t number = 0, size = 0;
  std::string etag;
};
struct PartsPage {
  std::vector<Part> parts;  // those with a valid PartNumber and Size only
  std::string next;         // NextPartNumberMarker
};

ObjectsPage parse_list_objects(std::string_view body);
UploadsPage parse_list_uploads(std::string_view body);
PartsPage parse_list_parts(std::string_view body);

}  // namespace iep::hub::s3
