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

TEST_CASE("the parser is bounded in depth, width, count and string length") {
  const Manifest m = sample(2);
  const std::string text = m.to_json();
  // An unknown member is checked but not kept, within the same bounds.
  auto with_extra = [&](const std::string& value) {
    return "{\"extra\": " + value + ", " + text.substr(text.find('{') + 1);
  };
  CHECK(parse_code(with_extra("{\"a\": [1, 2.5, null, true, \"s\"]}")) == Exit::ok);
  CHECK(parse_code(with_extra(std::string(7, '[') + std::string(7, ']'))) == Exit::ok);
  CHECK(parse_code(with_extra(std::string(8, '[') + std::string(8, ']'))) == Exit::corrupt);
  // 64 MiB of '[' would take gigabytes as a tree; refused at depth 9.
  std::string bomb(1 << 20, '[');
  std::string msg;
  CHECK(iep::test::code_of([&] { (void)Manifest::parse(bomb, "M"); }, &msg) == Exit::corrupt);
  CHECK(msg.find("nested deeper") != std::string::npos);
  // 200,000 empty objects in one list: refused at the 1025th.
  std::string many = "[";
  for (int i = 0; i < 200000; ++i) many += i ? ",{}" : "{}";
  many += "]";
  CHECK(iep::test::code_of([&] { (void)Manifest::parse(with_extra(many), "M"); }, &msg) ==
        Exit::corrupt);
  CHECK(msg.find("more than 1024") != std::string::npos);
  std::string wide = "{";
  for (int i = 0; i < 65; ++i) wide += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":0";
  CHECK(parse_code(with_extra(wide + "}")) == Exit::corrupt);
  CHECK(parse_code(with_extra("\"" + std::string(4097, 'x') + "\"")) == Exit::corrupt);
  CHECK(parse_code(with_extra("\"" + std::string(4096, 'x') + "\"")) == Exit::ok);
  CHECK(parse_code("{\"" + std::string(65, 'k') + "\": 1}") == Exit::corrupt);
  CHECK(parse_code(text + " {}") == Exit::corrupt);
  CHECK(parse_code("[]") == Exit::corrupt);
}

TEST_CASE("duplicate keys are refused in every object") {
  const Manifest m = sample(1);
  const std::string text = m.to_json();
  auto dup_at = [&](const std::string& key) {
    std::string t = text;
    const auto at = t.find("\"" + key + "\"");
    REQUIRE(at != std::string::npos);
    const auto comma = t.find(',', at);
    return t.insert(comma + 1, t.substr(at, comma - at + 1));
  };
  CHECK(parse_code(dup_at("format")) == Exit::corrupt);
  CHECK(parse_code(dup_at("patient_id")) == Exit::corrupt);
  CHECK(parse_code(dup_at("blake2b")) == Exit::corrupt);
  CHECK(parse_code(dup_at("age_recipient")) == Exit::corrupt);
}

TEST_CASE("created is an RFC 3339 time") {
  for (const char* ok :
       {"2026-12-02T05:28:29Z", "2026-12-02T05:28:29.123456Z", "2026-12-02t05:28:29z",
        "2026-12-02T05:28:29+01:00", "2026-12-02T05:28:60-11:30"})
    CHECK_MESSAGE(iep::valid_rfc3339(ok), ok);
  for (const char* bad :
       {"", "yesterday", "2026-12-02", "2026-12-02 05:28:29Z", "2026-13-02T05:28:29Z",
        "2026-12-32T05:28:29Z", "2026-12-02T24:00:00Z", "2026-12-02T05:28:29",
        "2026-12-02T05:28:29.Z", "2026-12-02T05:28:29+1:00", "2026-12-02T05:28:29+01:00x",
        "2026-12-02T05:28:29ZZ"})
    CHECK_MESSAGE(!iep::valid_rfc3339(bad), bad);
  Manifest m = sample(1);
  m.created = "2026-12-02T05:28:29+01:00";
  CHECK(parse_code(m.to_json()) == Exit::ok);
  m.created = "at noon";
  CHECK(parse_code(m.to_json()) == Exit::corrupt);
}

TEST_CASE("modalities are short strings") {
  Manifest m = sample(1);
  m.study.modalities = {std::string(64, 'M')};
  CHECK(parse_code(m.to_json()) == Exit::ok);
  m.study.modalities = {std::string(65, 'M')};
  CHECK(parse_code(m.to_json()) == Exit::corrupt);
  m = sample(1);
  m.files[0].modality = std::string(65, 'M');
  CHECK(parse_code(m.to_json()) == Exit::corrupt);
}

TEST_CASE("a path that is the folder of another is corrupt") {
  Manifest m = sample(2);
  m.files[1].path = m.files[0].path + "/inner.dcm";
  std::string msg;
  CHECK(iep::test::code_of([&] { (void)Manifest::parse(m.to_json(), "M"); }, &msg) ==
        Exit::corrupt);
  CHECK(msg.find("both a file and the folder") != std::string::npos);
  m.files[1].path = m.files[0].path + "x/inner.dcm";  // a sibling name, not a folder
  CHECK(parse_code(m.to_json()) == Exit::ok);
  // Either order.
  m = sample(2);
  m.files[0].path = "a/b";
  m.files[1].path = "a";
  CHECK(parse_code(m.to_json()) == Exit::corrupt);
}
