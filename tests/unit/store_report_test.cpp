// iep-store's report instance UIDs (lib/src/pacs/store_report.h): derived
// from the package, the same every time, different for another package,
// report path or content; and the pending folder (store_pending.h): a kept
// package is listed for its PACS only, named by its compression, removed
// whole.
#include "../../lib/src/pacs/store_report.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "../../lib/src/pacs/store_pending.h"
#include "iep/pacs/report.h"
#include "test_util.h"

using iep::Exit;
using iep::Manifest;
using iep::ManifestFile;
namespace fs = std::filesystem;

namespace {

bool valid_uid(const std::string& uid) {
  if (uid.empty() || uid.size() > 64) return false;
  std::size_t at = 0;
  while (at <= uid.size()) {
    std::size_t dot = uid.find('.', at);
    if (dot == std::string::npos) dot = uid.size();
    const std::string part = uid.substr(at, dot - at);
    if (part.empty() || (part.size() > 1 && part[0] == '0')) return false;
    if (!std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    at = dot + 1;
  }
  return true;
}

}  // namespace

TEST_CASE("a report's UIDs derive from the package, its path and its hash") {
  Manifest m;
  m.package_id = "0123456789abcdef0123456789abcdef";
  ManifestFile f;
  f.path = "attachments/report.pdf";
  f.attachment = true;
  f.report = "pdf";
  f.blake2b.fill(7);
  const ManifestFile a = iep::pacs::report_entry(m, f);
  CHECK(a.sop_class_uid == iep::pacs::kEncapsulatedPdfStorage);
  CHECK(a.transfer_syntax_uid == "1.2.840.10008.1.2.1");
  CHECK(a.sop_instance_uid.starts_with("2.25."));
  CHECK(valid_uid(a.sop_instance_uid));
  CHECK(valid_uid(a.series_instance_uid));
  CHECK(a.sop_instance_uid != a.series_instance_uid);
  CHECK(a.path != f.path);
  // The same every time.
  CHECK(iep::pacs::report_entry(m, f).sop_instance_uid == a.sop_instance_uid);
  CHECK(iep::pacs::report_entry(m, f).series_instance_uid == a.series_instance_uid);
  // Another package, path or content: another instance.
  Manifest m2 = m;
  m2.package_id[0] = '1';
  CHECK(iep::pacs::report_entry(m2, f).sop_instance_uid != a.sop_instance_uid);
  ManifestFile g = f;
  g.path = "attachments/other.pdf";
  CHECK(iep::pacs::report_entry(m, g).sop_instance_uid != a.sop_instance_uid);
  g = f;
  g.blake2b[31] = 8;
  CHECK(iep::pacs::report_entry(m, g).sop_instance_uid != a.sop_instance_uid);
  // Text: a Basic Text SR; anything else is refused.
  g = f;
  g.report = "text";
  CHECK(iep::pacs::report_entry(m, g).sop_class_uid == iep::pacs::kBasicTextSrStorage);
  g.report = "docx";
  (void)iep::test::error_of([&] { (void)iep::pacs::report_entry(m, g); }, Exit::corrupt);
}

TEST_CASE("a kept package is pending for its PACS only, and dropped whole") {
  const fs::path dir = iep::test::scratch("pending") / "pending";
  const fs::path src = dir.parent_path() / "pkg";
  const std::string zstd_bytes = std::string("\x28\xb5\x2f\xfd", 4) + "rest of a zstd frame";
  iep::test::write_file(src, zstd_bytes);
  iep::UniqueFd fd(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  const iep::pacs::Peer pacs{"PACS", "127.0.0.1", 104};
  const iep::pacs::Peer other{"OTHER", "127.0.0.1", 104};
  const std::string id = "0123456789abcdef0123456789abcdef";
  const fs::path kept = iep::pacs::keep_pending(dir, id, pacs, fd.get());
  CHECK(kept == dir / (id + ".tar.zst"));
  CHECK(iep::test::read_file(kept) == zstd_bytes);
  CHECK(iep::pacs::pending_for(dir, pacs) == std::vector<fs::path>{kept});
  CHECK(iep::pacs::pending_for(dir, other).empty());
  // Kept again, as a plain tar: replaced, not doubled.
  iep::test::write_file(src, std::string("a tar"));
  iep::UniqueFd fd2(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  const fs::path kept2 = iep::pacs::keep_pending(dir, id, pacs, fd2.get());
  CHECK(kept2 == dir / (id + ".tar"));
  CHECK(!fs::exists(kept));
  CHECK(iep::pacs::pending_for(dir, pacs) == std::vector<fs::path>{kept2});
  // No package ID, no file: a path from outside never names the file.
  (void)iep::test::error_of([&] { (void)iep::pacs::keep_pending(dir, "../x", pacs, fd2.get()); },
                            Exit::internal);
  iep::pacs::drop_pending(kept2);
  CHECK(fs::is_empty(dir));
  CHECK(iep::pacs::pending_for(dir.parent_path() / "none", pacs).empty());
}
