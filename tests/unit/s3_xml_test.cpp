// The S3 reply parsers on replies shaped as S3 documents them (the fuzzer's
// seeds in tests/fuzz/corpus/s3_xml), and on broken ones.
#include "../../lib/src/hub/s3_xml.h"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

using namespace iep::hub::s3;

namespace {
std::string seed(const std::string& name) {
  std::ifstream in(std::string(IEP_SOURCE_DIR) + "/tests/fuzz/corpus/s3_xml/" + name);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("ListObjectsV2: keys and the continuation token of a truncated page") {
  auto page = parse_list_objects(seed("list-objects"));
  REQUIRE(page.keys.size() == 2);
  CHECK(page.keys[0] == "p/uploads/0a1b2c3d4e5f60718293a4b5c6d7e8f9");
  CHECK(page.keys[1] == "p/uploads/0a1b2c3d4e5f60718293a4b5c6d7e8f9.state");
  CHECK(page.next == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  // The last page: a token without IsTruncated=true is not followed.
  CHECK(parse_list_objects("<Contents><Key>a</Key></Contents><NextContinuationToken>t"
                           "</NextContinuationToken>")
            .next.empty());
}

TEST_CASE("ListMultipartUploads: entities decoded once, both markers") {
  auto page = parse_list_uploads(seed("list-uploads"));
  REQUIRE(page.uploads.size() == 2);
  CHECK(page.uploads[1].first == "p/uploads/b&c");
  CHECK(page.uploads[1].second == "VXBsb2FkIElEIGZvciBlbHZpbmc");
  CHECK(page.next_key == "p/uploads/b");
  CHECK(page.next_upload_id == "VXBsb2FkIElEIGZvciBlbHZpbmc");
  CHECK(parse_list_uploads("<Upload><Key>&amp;amp;</Key></Upload>").uploads[0].first == "&amp;");
}

TEST_CASE("ListParts: parts without a number or size are dropped") {
  auto page = parse_list_parts(seed("list-parts"));
  REQUIRE(page.parts.size() == 2);
  CHECK(page.parts[0].number == 1);
  CHECK(page.parts[0].size == 8388608);
  CHECK(page.parts[0].etag == "\"7778aef83f66abc1fa1e8477f296d394\"");
  CHECK(page.next == "2");
}

TEST_CASE("broken replies yield nothing, never more than the reply holds") {
  CHECK(parse_list_parts("<Part><PartNumber>1</PartNumber><Size>2").parts.empty());
  CHECK(parse_list_parts("<Part><PartNumber>99999999999999999999</PartNumber><Size>1</Size></Part>")
            .parts.empty());
  CHECK(parse_list_objects("<Contents><Key>a</Contents>").keys == std::vector<std::string>{""});
  CHECK(xml_first(seed("error"), "Code") == "SlowDown");
  CHECK(xml_first(seed("error"), "Message") == "Please reduce your request rate & retry.");
  CHECK(unescape("&amp") == "&amp");
  CHECK(!number(""));
  CHECK(!number("1 "));
  CHECK(!number("-1"));
}

TEST_CASE("a list is capped at kMaxListed entries") {
  std::string body;
  for (std::size_t i = 0; i < kMaxListed + 5; ++i) body += "<Contents><Key>k</Key></Contents>";
  CHECK(parse_list_objects(body).keys.size() == kMaxListed);
}
