// S3's replies are flat and machine-written: the text between <tag> and
// </tag>, found by plain search (no recursion, no entities beyond the five),
// in replies capped at kMaxReply.
#include "hub/s3_xml.h"

#include <charconv>

namespace iep::hub::s3 {

std::string unescape(std::string_view s) {
  static const std::pair<std::string_view, char> ents[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  std::string r;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool done = false;
    if (s[i] == '&')
      for (const auto& [e, c] : ents)
        if (s.substr(i, e.size()) == e) {
          r += c;
          i += e.size() - 1;
          done = true;
          break;
        }
    if (!done) r += s[i];
  }
  return r;
}

std::vector<std::string_view> xml_all(std::string_view xml, std::string_view tag) {
  xml = xml.substr(0, kMaxReply);
  std::vector<std::string_view> out;
  std::string open("<"), close("</");
  open.append(tag).push_back('>');
  close.append(tag).push_back('>');
  std::size_t at = 0;
  while (out.size() < kMaxListed) {
    std::size_t b = xml.find(open, at);
    if (b == std::string_view::npos) break;
    b += open.size();
    std::size_t e = xml.find(close, b);
    if (e == std::string_view::npos) break;
    out.push_back(xml.substr(b, e - b));
    at = e + close.size();
  }
  return out;
}

std::string xml_first(std::string_view xml, std::string_view tag) {
  auto all = xml_all(xml, tag);
  return all.empty() ? std::string() : unescape(all.front());
}

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

namespace {
// The marker of the next page, or empty when this page is the last.
std::string next_marker(std::string_view body, std::string_view tag) {
  return xml_first(body, "IsTruncated") == "true" ? xml_first(body, tag) : std::string();
}
}  // namespace

ObjectsPage parse_list_objects(std::string_view body) {
  ObjectsPage page;
  for (auto contents : xml_all(body, "Contents")) page.keys.push_back(xml_first(contents, "Key"));
  page.next = next_marker(body, "NextContinuationToken");
  return page;
}

UploadsPage parse_list_uploads(std::string_view body) {
  UploadsPage page;
  for (auto u : xml_all(body, "Upload"))
    page.uploads.emplace_back(xml_first(u, "Key"), xml_first(u, "UploadId"));
  page.next_key = next_marker(body, "NextKeyMarker");
  if (!page.next_key.empty()) page.next_upload_id = xml_first(body, "NextUploadIdMarker");
  return page;
}

PartsPage parse_list_parts(std::string_view body) {
  PartsPage page;
  for (auto p : xml_all(body, "Part")) {
    auto num = number(xml_first(p, "PartNumber"));
    auto size = number(xml_first(p, "Size"));
    if (num && size) page.parts.push_back({*num, *size, xml_first(p, "ETag")});
  }
  page.next = next_marker(body, "NextPartNumberMarker");
  return page;
}

}  // namespace iep::hub::s3
