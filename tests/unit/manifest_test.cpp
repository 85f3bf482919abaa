// iep::Manifest: what to_json() writes, parse() reads back; every malformed
// shape of the file list is refused as corrupt.
#include "iep/package/manifest.h"

#include <doctest/doctest.h>

#include <string>

#include "iep/core/error.h"
#include "test_util.h"

using iep::Exit;
using iep::Manifest;

namespace {

Manifest sample(int files) {
  Manifest m;
  m.package_id = iep::new_package_id();
  m.created = "2026-11-28T12:00:00Z";
  m.sender = {"a", "age1qqqq", "RWQabc"};
  m.study.study_instance_uid = "1.2.3";
  m.study.modalities = {"CT"};
  for (int i = 0; i < files; ++i) {
    iep::ManifestFile f;
    f.path = "1.2.3/1.2.3.4/1.2.3.4." + std::to_string(i) + ".dcm";
    f.size = 100 + static_cast<std::uint64_t>(i);
    f.blake2b[0] = static_cast<std::uint8_t>(i);
    f.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
    f.sop_instance_uid = "1.2.3.4." + std::to_string(i);
    f.series_instance_uid = "1.2.3.4";
    f.transfer_syntax_uid = "1.2.840.10008.1.2.1";
    f.modality = "CT";
    m.files.push_back(f);
  }
  m.summarise();
  return m;
}

Exit parse_code(const std::string& text) {
  return iep::test::code_of([&] { (void)Manifest::parse(text, "MANIFEST.json"); });
}

// The JSON of `m` with its "files" list replaced by `files`.
std::string with_files(const Manifest& m, const std::string& files) {
  std::string text = m.to_json();
  const auto at = text.find("\"files\"");
  REQUIRE(at != std::string::npos);
  const auto open = text.find('[', at);
  int depth = 0;
  std::size_t close = open;
  for (; close < text.size(); ++close) {
    if (text[close] == '[') ++depth;
    if (text[close] == ']' && --depth == 0) break;
  }
  return text.substr(0, at) + "\"files\": " + files + text.substr(close + 1);
}

}  // namespace

TEST_CASE("a manifest of many files reads back as written") {
  const Manifest m = sample(2000);
  const Manifest back = Manifest::parse(m.to_json(), "MANIFEST.json");
  REQUIRE(back.files.size() == m.files.size());
  CHECK(back.to_json() == m.to_json());
  CHECK(back.files[1999].sop_instance_uid == "1.2.3.4.1999");
  CHECK(back.files[7].blake2b[0] == 7);
}

TEST_CASE("every malformed file list is corrupt") {
  const Manifest m = sample(2);
  CHECK(parse_code(with_files(m, "[]")) == Exit::ok);
  CHECK(parse_code(with_files(m, "5")) == Exit::corrupt);
  CHECK(parse_code(with_files(m, "{}")) == Exit::corrupt);
  CHECK(parse_code(with_files(m, "[5]")) == Exit::corrupt);
  CHECK(parse_code(with_files(m, "[\"x\"]")) == Exit::corrupt);
  CHECK(parse_code(with_files(m, "[[1]]")) == Exit::corrupt);
  CHECK(parse_code(with_files(m, "[[]]")) == Exit::corrupt);
  CHECK(parse_code(with_files(m, "[{}]")) == Exit::corrupt);
  CHECK(parse_code(with_files(m, "[{\"path\": \"a\"}]")) == Exit::corrupt);
  // The same path twice.
  const std::string one = m.to_json();
  const auto first = one.find("{", one.find("\"files\""));
  const auto end = one.find("}", first);
  const std::string entry = one.substr(first, end - first + 1);
  CHECK(parse_code(with_files(m, "[" + entry + "," + entry + "]")) == Exit::corrupt);
  CHECK(parse_code(with_files(m, "[" + entry + "]")) == Exit::ok);
  // "files" twice: the first list must not slip past the checks.
  std::string twice = with_files(m, "[" + entry + "]");
  twice.insert(twice.find("\"files\""), "\"files\": [[1]], ");
  CHECK(parse_code(twice) == Exit::corrupt);
  CHECK(parse_code("not json") == Exit::corrupt);
}
