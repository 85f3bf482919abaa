// Media export (dicom/media.h): a verified plain package as a PDI folder,
// checked with independent tools: DCMTK's dcmmkdir (General Purpose CD-R
// profile, transfer syntax checked) builds a DICOMDIR of the same files,
// dcmdump reads ours, dciodvfy checks its IOD, pydicom's FileSet lists every
// instance, and iep's own CD import (package::plan) reads the folder back.
#include "iep/dicom/media.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "iep/core/error.h"
#include "iep/dicom/dicom.h"
#include "iep/package/package.h"
#include "iep/package/site.h"
#include "test_util.h"

using iep::Exit;
namespace pkg = iep::package;
namespace fs = std::filesystem;
using iep::test::kPydicom;
using iep::test::quote;
using iep::test::run;

namespace {

const iep::SiteIdentity& sender() {
  static const auto id = iep::SiteIdentity::generate("trust-a");
  return id;
}

iep::TrustStore trust() {
  iep::TrustStore t;
  t.add(sender().card());
  return t;
}

// A plain package (uncompressed, so that a test can change a byte of an
// entry) of `files`, with `reports`.
iep::Bytes package_of(const std::vector<fs::path>& files, const std::vector<fs::path>& reports = {},
                      bool compress = false) {
  pkg::PackInput in{files, {}, reports};
  iep::BytesSink out;
  pkg::WriteOptions o;
  o.compress = compress;
  pkg::write_plain(pkg::plan_one(in), sender(), out, o);
  return out.bytes;
}

iep::dicom::MediaResult media(const iep::Bytes& package, const fs::path& dest) {
  iep::BytesSource src(package);
  return iep::dicom::write_media(src, "pkg", trust(), dest);
}

// Every (Referenced File ID, Referenced SOP Instance UID in File) of a
// DICOMDIR, as dcmdump prints them.
std::map<std::string, std::string> dicomdir_refs(const fs::path& dicomdir) {
  auto r = run("dcmdump -q -Un +L " + quote(dicomdir.string()));
  REQUIRE(r.status == 0);
  std::map<std::string, std::string> refs;
  std::string file;
  std::size_t pos = 0;
  while (pos < r.out.size()) {
    auto nl = r.out.find('\n', pos);
    std::string line = r.out.substr(pos, nl == std::string::npos ? nl : nl - pos);
    pos = nl == std::string::npos ? r.out.size() : nl + 1;
    auto lb = line.find('['), rb = line.find(']');
    if (lb == std::string::npos || rb == std::string::npos) continue;
    std::string v = line.substr(lb + 1, rb - lb - 1);
    if (line.find("(0004,1500)") != std::string::npos) {
      std::replace(v.begin(), v.end(), '\\', '/');
      file = v;
    } else if (line.find("(0004,1511)") != std::string::npos && !file.empty()) {
      refs[file] = v;
      file.clear();
    }
  }
  return refs;
}

std::string sop_instance_of(const fs::path& f) {
  auto r = run("dcmdump -q +P 0008,0018 " + quote(f.string()));
  auto lb = r.out.find('['), rb = r.out.find(']');
  REQUIRE(lb != std::string::npos);
  return r.out.substr(lb + 1, rb - lb - 1);
}

std::string transfer_syntax_of(const fs::path& f) {
  auto r = run("dcmdump -q -Un +P 0002,0010 " + quote(f.string()));
  auto lb = r.out.find('['), rb = r.out.find(']');
  REQUIRE(lb != std::string::npos);
  return r.out.substr(lb + 1, rb - lb - 1);
}

// The checks every medium must pass; returns the SOP Instance UIDs indexed.
std::set<std::string> check_medium(const fs::path& dest, std::size_t instances) {
  REQUIRE(fs::is_regular_file(dest / "DICOMDIR"));
  CHECK(fs::is_regular_file(dest / "README.TXT"));
  // Only the medium's own names: no partial or temporary leftovers.
  for (const auto& e : fs::recursive_directory_iterator(dest)) {
    const std::string rel = fs::relative(e.path(), dest).generic_string();
    const bool ours =
        rel.find('.') == std::string::npos || rel == "README.TXT" || rel.starts_with("ATTACH/");
    CHECK_MESSAGE(ours, rel);
  }
  // Our DICOMDIR: every reference exists, with the SOP instance it names.
  auto refs = dicomdir_refs(dest / "DICOMDIR");
  CHECK(refs.size() == instances);
  std::set<std::string> uids;
  std::vector<std::string> ids;
  for (const auto& ref : refs) {  // no structured binding: clang 14 cannot capture one
    const auto& file = ref.first;
    const auto& uid = ref.second;
    INFO(file);
    REQUIRE(fs::is_regular_file(dest / file));
    CHECK(sop_instance_of(dest / file) == uid);
    CHECK(transfer_syntax_of(dest / file) == "1.2.840.10008.1.2.1");
    // File IDs: at most 8 components of 1-8 characters of A-Z 0-9 _.
    std::size_t parts = 0;
    for (const auto& c : fs::path(file)) {
      ++parts;
      const std::string s = c.string();
      CHECK(!s.empty());
      CHECK(s.size() <= 8);
      CHECK(s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == std::string::npos);
    }
    CHECK(parts <= 8);
    uids.insert(uid);
    ids.push_back(file);
  }
  // DCMTK's own builder, General Purpose CD-R profile with its transfer
  // syntax check, accepts the same files.
  const fs::path copy = dest.parent_path() / (dest.filename().string() + "-dcmmkdir");
  fs::remove_all(copy);
  fs::copy(dest, copy, fs::copy_options::recursive);
  fs::remove(copy / "DICOMDIR");
  std::string list;
  for (const auto& id : ids) list += " " + quote(id);
  auto mk = run("dcmmkdir -Pgp +I" + list, copy);
  CHECK_MESSAGE(mk.status == 0, mk.err);
  CHECK(fs::is_regular_file(copy / "DICOMDIR"));
  fs::remove_all(copy);
  // dciodvfy on the DICOMDIR: no errors.
  auto v = run("dciodvfy " + quote((dest / "DICOMDIR").string()) + " 2>&1");
  CHECK_MESSAGE(v.out.find("Error") == std::string::npos, v.out);
  // pydicom's FileSet, an independent reader, lists the same instances.
  auto py =
      run("/usr/bin/python3 -c 'import sys, pydicom\n"
          "from pydicom.fileset import FileSet\n"
          "fs = FileSet(pydicom.dcmread(sys.argv[1]))\n"
          "for i in fs: print(i.SOPInstanceUID, i.load().SOPInstanceUID)' " +
          quote((dest / "DICOMDIR").string()));
  CHECK(py.status == 0);
  std::set<std::string> listed;
  std::size_t pos = 0;
  while (pos < py.out.size()) {
    auto nl = py.out.find('\n', pos);
    std::string line = py.out.substr(pos, nl - pos);
    pos = nl == std::string::npos ? py.out.size() : nl + 1;
    auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    CHECK(line.substr(0, sp) == line.substr(sp + 1));
    listed.insert(line.substr(0, sp));
  }
  CHECK(listed == uids);
  // iep-pack's CD import reads the folder back through its DICOMDIR.
  auto plans = pkg::plan(pkg::PackInput{{dest}, {}, {}});
  std::set<std::string> reread;
  for (const auto& p : plans)
    for (const auto& f : p.files) reread.insert(f.entry.sop_instance_uid);
  CHECK(reread == uids);
  return uids;
}

// No folder, and no hidden partial folder beside where it would have been.
void check_nothing_written(const fs::path& dest) {
  CHECK(!fs::exists(dest));
  for (const auto& e : fs::directory_iterator(dest.parent_path()))
    CHECK_MESSAGE(e.path().filename().string().find(".partial") == std::string::npos, e.path());
}

}  // namespace

TEST_CASE("media: instances in many transfer syntaxes become a PDI folder DCMTK accepts") {
  const fs::path dir = iep::test::scratch("media-syntaxes");
  // Explicit and implicit VR, big endian, deflate, RLE, JPEG-LS, JPEG
  // baseline: all written in Explicit VR Little Endian, UIDs kept.
  for (const char* name :
       {"CT_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "image_dfl.dcm",
        "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "SC_rgb_jpeg_dcmtk.dcm"}) {
    INFO(name);
    const fs::path dest = dir / (std::string(name) + ".media");
    auto r = media(package_of({kPydicom / name}), dest);
    CHECK(r.instances == 1);
    auto uids = check_medium(dest, 1);
    CHECK(uids == std::set<std::string>{iep::dicom::scan(kPydicom / name).sop_instance_uid});
  }
}

TEST_CASE("media: a compressed package of several series, with a report and an attachment") {
  const fs::path dir = iep::test::scratch("media-study");
  // A study of several series: the package's own files, copied apart.
  auto r0 =
      run("/usr/bin/python3 " + quote(std::string(IEP_SOURCE_DIR) + "/tests/bench/make-study.py") +
          " " + quote((dir / "study").string()) + " --slices 6 --size 64 2>&1");
  REQUIRE_MESSAGE(r0.status == 0, r0.out);
  auto r1 = run("cd " + quote((dir / "study").string()) +
                " && dcmodify -nb -m SeriesInstanceUID=1.2.826.0.1.3680043.2.1143.77 -m "
                "SeriesNumber=2 $(ls | tail -n 3) 2>&1");
  REQUIRE_MESSAGE(r1.status == 0, r1.out);
  iep::test::write_file(dir / "report.pdf", "%PDF-1.4\n% a tiny PDF\n%%EOF\n");
  iep::test::write_file(dir / "notes.txt", "not a report");
  pkg::PackInput in{{dir / "study"}, {dir / "notes.txt"}, {dir / "report.pdf"}};
  iep::BytesSink out;
  pkg::write_plain(pkg::plan_one(in), sender(), out);
  const fs::path dest = dir / "disc";
  auto r = media(out.bytes, dest);
  CHECK(r.reports == 1);
  CHECK(r.instances == r.manifest.study.instances + 1);
  check_medium(dest, r.instances);
  CHECK(iep::test::read_file(dest / "ATTACH/REPORT.PDF") ==
        iep::test::read_file(dir / "report.pdf"));
  CHECK(iep::test::read_file(dest / "ATTACH/NOTES.TXT") == "not a report");
}

TEST_CASE("media: refusals leave nothing behind") {
  const fs::path dir = iep::test::scratch("media-bad");
  const auto package = package_of({kPydicom / "CT_small.dcm"});

  SUBCASE("the output exists") {
    fs::create_directory(dir / "exists");
    iep::test::error_of([&] { media(package, dir / "exists"); }, Exit::output);
    CHECK(fs::is_empty(dir / "exists"));
  }
  SUBCASE("the output's folder cannot be written") {
    fs::create_directory(dir / "ro");
    fs::permissions(dir / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    if (::access((dir / "ro").c_str(), W_OK) == 0) return;  // root writes anyway
    iep::test::error_of([&] { media(package, dir / "ro" / "disc"); }, Exit::output);
    fs::permissions(dir / "ro", fs::perms::owner_all);
    check_nothing_written(dir / "ro" / "disc");
  }
  SUBCASE("the output's parent is a file") {
    iep::test::write_file(dir / "file", "x");
    iep::test::error_of([&] { media(package, dir / "file" / "disc"); }, Exit::output);
    CHECK(iep::test::read_file(dir / "file") == "x");
  }
  SUBCASE("an entry does not match the signed manifest") {
    auto bad = package;
    // The DICOM preamble (128 zero bytes) of the first entry, after its
    // 512-byte tar header: change one byte.
    bad[512 + 10] ^= 0x01;
    auto msg = iep::test::error_of([&] { media(bad, dir / "disc"); }, Exit::corrupt);
    CHECK(msg.find("does not match the signed manifest") != std::string::npos);
    check_nothing_written(dir / "disc");
  }
  SUBCASE("signed by an unknown site") {
    iep::BytesSource src(package);
    iep::test::error_of(
        [&] { iep::dicom::write_media(src, "pkg", iep::TrustStore(), dir / "disc"); },
        Exit::bad_signature);
    check_nothing_written(dir / "disc");
  }
  SUBCASE("not a package") {
    iep::Bytes junk(4096, 'x');
    iep::test::error_of([&] { media(junk, dir / "disc"); }, Exit::not_package);
    check_nothing_written(dir / "disc");
  }
  SUBCASE("an instance the DICOMDIR cannot index (an RT Plan without its label)") {
    auto msg = iep::test::error_of(
        [&] { media(package_of({kPydicom / "ExplVR_LitEndNoMeta.dcm"}), dir / "disc"); },
        Exit::invalid_dicom);
    CHECK(msg.find("pkg: 1.2.333.4444.5.6.7.8/") == 0);
    CHECK(msg.find("RTPlanLabel") != std::string::npos);
    CHECK(msg.find(".partial") == std::string::npos);
    check_nothing_written(dir / "disc");
  }
  SUBCASE("pixel data DCMTK cannot decode (JPEG 2000)") {
    auto msg = iep::test::error_of(
        [&] { media(package_of({kPydicom / "JPEG2000.dcm"}), dir / "disc"); }, Exit::invalid_dicom);
    CHECK(msg.find("JPEG 2000") != std::string::npos);
    check_nothing_written(dir / "disc");
  }
}
