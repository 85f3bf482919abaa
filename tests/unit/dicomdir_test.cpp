// iep::dicom::write_dicomdir against real DICOM files (pydicom's CD tree and
// files of other SOP classes), checked independently by dcmdump, pydicom,
// dciodvfy and our own DICOMDIR reader.
#include "iep/dicom/dicomdir.h"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "iep/core/error.h"
#include "iep/dicom/dicom.h"
#include "test_util.h"

namespace fs = std::filesystem;
using iep::Exit;
using iep::dicom::write_dicomdir;
using iep::test::error_of;
using iep::test::quote;
using iep::test::read_file;
using iep::test::Run;
using iep::test::run;
using iep::test::write_file;

namespace {

using iep::test::kPydicom;
const fs::path kDirTests = kPydicom / "dicomdirtests";

// Scratch folders of this test are named dicomdir-NAME-PID.
fs::path scratch(const std::string& name) {
  return iep::test::scratch("dicomdir-" + name);
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string id(int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%07d", n);
  return buf;
}

// Entries of ROOT other than DICOM/ and DICOMDIR (e.g. a temporary left behind).
std::vector<std::string> strays(const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string name = e.path().filename().string();
    if (name != "DICOM" && name != "DICOMDIR") out.push_back(name);
  }
  return out;
}

// A file copied into the scratch CD, and the directory record it should get.
struct Placed {
  fs::path rel;
  std::string record_type;
};

// Copies pydicom's real CD tree (3 patients, their series) and files of other
// SOP classes into ROOT under conformant names, DICOM/Sppppppp/Sssssss/Iiiiiiii.
std::vector<Placed> make_cd(const fs::path& root) {
  std::vector<Placed> out;
  auto place = [&](const fs::path& src, const fs::path& rel, const std::string& type) {
    fs::create_directories((root / rel).parent_path());
    fs::copy_file(src, root / rel);
    out.push_back({rel, type});
  };
  // Sorted, so the layout is the same on every run.
  std::set<fs::path> patients;
  for (const auto& e : fs::directory_iterator(kDirTests))
    if (e.is_directory() && e.path().filename() != "TINY_ALPHA") patients.insert(e.path());
  REQUIRE(patients.size() == 3);
  int p = 0;
  for (const fs::path& patient : patients) {
    ++p;
    std::set<fs::path> series;
    for (const auto& e : fs::directory_iterator(patient)) series.insert(e.path());
    int s = 0;
    for (const fs::path& ser : series) {
      ++s;
      std::set<fs::path> images;
      for (const auto& e : fs::directory_iterator(ser)) images.insert(e.path());
      int i = 0;
      for (const fs::path& img : images)
        place(img, fs::path("DICOM") / ("S" + id(p)) / ("S" + id(s)) / ("I" + id(++i)), "IMAGE");
    }
  }
  const std::vector<std::pair<std::string, std::string>> others = {
      {"CT_small.dcm", "IMAGE"},       {"MR_small.dcm", "IMAGE"},
      {"JPEG-lossy.dcm", "IMAGE"},  // JPEG, Secondary Capture: not Explicit VR LE
      {"rtplan.dcm", "RT PLAN"},    // Implicit VR Little Endian
      {"rtdose.dcm", "RT DOSE"},       {"test-SR.dcm", "SR DOCUMENT"},  // empty PatientID
      {"reportsi.dcm", "SR DOCUMENT"}, {"waveform_ecg.dcm", "WAVEFORM"},
  };
  int i = 0;
  for (const auto& [name, type] : others)
    place(kPydicom / name, fs::path("DICOM") / "S0000009" / "S0000001" / ("I" + id(++i)), type);
  return out;
}

std::vector<fs::path> rels(const std::vector<Placed>& placed) {
  std::vector<fs::path> out;
  for (const Placed& p : placed) out.push_back(p.rel);
  return out;
}

// What pydicom sees in a DICOMDIR: records per type, and its FileSet view.
nlohmann::json pydicom_view(const fs::path& dicomdir, const fs::path& work) {
  fs::create_directories(work);
  const fs::path script = work / "view.py";
  write_file(script, R"(import collections, json, sys
import pydicom
from pydicom.fileset import FileSet
ds = pydicom.dcmread(sys.argv[1])
out = dict(collections.Counter(r.DirectoryRecordType for r in ds.DirectoryRecordSequence))
fset = FileSet(ds)
mismatch = 0
for inst in fset:
    # each leaf record must describe the file it references
    if inst.load().SOPInstanceUID != inst.ReferencedSOPInstanceUIDInFile:
        mismatch += 1
out["instances"] = len(fset)
out["mismatch"] = mismatch
out["fileset_id"] = str(ds.get("FileSetID", ""))
print(json.dumps(out))
)");
  Run r = run("/usr/bin/python3 " + quote(script.string()) + " " + quote(dicomdir.string()));
  REQUIRE_MESSAGE(r.status == 0, r.out);
  return nlohmann::json::parse(r.out);
}

std::set<fs::path> as_set(const std::vector<fs::path>& v) {
  std::set<fs::path> out;
  for (const fs::path& p : v) out.insert(p.lexically_normal());
  return out;
}

}  // namespace

TEST_CASE("a CD tree and other SOP classes get a DICOMDIR every reader accepts") {
  const fs::path root = scratch("full");
  const std::vector<Placed> placed = make_cd(root);
  const std::vector<fs::path> files = rels(placed);
  REQUIRE(files.size() == 39);

  write_dicomdir(root, files, "IEP_TEST");
  const fs::path dicomdir = root / "DICOMDIR";
  REQUIRE(fs::is_regular_file(dicomdir));
  CHECK(strays(root).empty());

  // dcmdump parses it; it is a Media Storage Directory with our file-set ID.
  Run dump = run("dcmdump -q " + quote(dicomdir.string()) + " 2>&1");
  REQUIRE_MESSAGE(dump.status == 0, dump.out);
  CHECK(contains(dump.out, "MediaStorageDirectoryStorage"));
  CHECK(contains(dump.out, "[IEP_TEST]"));

  // Our reader resolves exactly the files given.
  std::set<fs::path> expected;
  for (const fs::path& f : files) expected.insert((root / f).lexically_normal());
  CHECK(as_set(iep::dicom::dicomdir_files(dicomdir)) == expected);

  // The expected hierarchy, from the files themselves: patients by ID (by
  // name when the ID is empty, as DCMTK matches them), studies, series.
  std::set<std::string> patients, studies, series;
  std::map<std::string, int> leaves;
  for (const Placed& p : placed) {
    const iep::dicom::Info info = iep::dicom::scan(root / p.rel);
    patients.insert(info.patient_id.empty() ? "name:" + info.patient_name
                                            : "id:" + info.patient_id);
    studies.insert(info.study_instance_uid);
    series.insert(info.series_instance_uid);
    ++leaves[p.record_type];
  }
  const nlohmann::json view = pydicom_view(dicomdir, scratch("full-py"));
  INFO(view.dump());
  CHECK(view.value("PATIENT", 0) == static_cast<int>(patients.size()));
  CHECK(view.value("STUDY", 0) == static_cast<int>(studies.size()));
  CHECK(view.value("SERIES", 0) == static_cast<int>(series.size()));
  for (const auto& leaf : leaves)  // no structured binding: clang 14 cannot capture one
    CHECK_MESSAGE(view.value(leaf.first, 0) == leaf.second, leaf.first);
  CHECK(view["instances"] == files.size());
  CHECK(view["mismatch"] == 0);
  CHECK(view["fileset_id"] == "IEP_TEST");
  // pydicom's CD has 3 patients; the 8 other files add 7 (the two SRs, with
  // no PatientID and the same name, share one, whose ID DCMTK invents).
  CHECK(patients.size() == 10);

  // dciodvfy validates it against the Basic Directory IOD: no errors. (It
  // warns about Image Type in IMAGE records, which DCMTK adds on purpose.)
  Run vfy = run("dciodvfy " + quote(dicomdir.string()) + " 2>&1");
  INFO(vfy.out);
  CHECK(contains(vfy.out, "BasicDirectory"));
  CHECK_FALSE(contains(vfy.out, "Error"));
}

TEST_CASE("a rerun replaces the DICOMDIR; an empty list gives an empty one") {
  const fs::path root = scratch("rerun");
  const std::vector<fs::path> files = rels(make_cd(root));
  write_dicomdir(root, files);
  const std::string first = read_file(root / "DICOMDIR");

  const std::vector<fs::path> some(files.begin(), files.begin() + 3);
  write_dicomdir(root, some, "SECOND");
  const std::string second = read_file(root / "DICOMDIR");
  CHECK(second != first);
  std::set<fs::path> expected;
  for (const fs::path& f : some) expected.insert((root / f).lexically_normal());
  CHECK(as_set(iep::dicom::dicomdir_files(root / "DICOMDIR")) == expected);
  CHECK(strays(root).empty());

  write_dicomdir(root, {}, "");
  CHECK(iep::dicom::dicomdir_files(root / "DICOMDIR").empty());
  Run dump = run("dcmdump -q " + quote((root / "DICOMDIR").string()) + " 2>&1");
  CHECK_MESSAGE(dump.status == 0, dump.out);
}

TEST_CASE("a refused file is named, and the earlier DICOMDIR stays intact") {
  const fs::path root = scratch("refused");
  std::vector<fs::path> files = rels(make_cd(root));
  write_dicomdir(root, files);
  const std::string before = read_file(root / "DICOMDIR");
  fs::create_directories(root / "DICOM" / "S0000009" / "S0000002");

  auto refused = [&](const fs::path& rel, Exit code) {
    std::vector<fs::path> list = files;
    list.insert(list.begin() + 5, rel);
    std::string msg = error_of([&] { write_dicomdir(root, list); }, code);
    CHECK(read_file(root / "DICOMDIR") == before);
    CHECK(strays(root).empty());
    return msg;
  };

  SUBCASE("not DICOM") {
    const fs::path rel = "DICOM/S0000009/S0000002/I0000001";
    write_file(root / rel, "this is a text file, not DICOM\n");
    const std::string msg = refused(rel, Exit::invalid_dicom);
    CHECK(contains(msg, (root / rel).string() + ": "));
  }
  SUBCASE("a raw data set without the Part 10 meta header") {
    const fs::path rel = "DICOM/S0000009/S0000002/I0000002";
    fs::copy_file(kPydicom / "rtstruct.dcm", root / rel);
    const std::string msg = refused(rel, Exit::invalid_dicom);
    CHECK(contains(msg, (root / rel).string() + ": "));
    CHECK(contains(msg, "meta"));
  }
  SUBCASE("a Type 1 key that cannot be invented") {
    const fs::path rel = "DICOM/S0000009/S0000002/I0000006";
    fs::copy_file(kPydicom / "CT_small.dcm", root / rel);
    Run mod = run("dcmodify -nb -m '(0008,0060)=' " + quote((root / rel).string()) + " 2>&1");
    REQUIRE_MESSAGE(mod.status == 0, mod.out);
    const std::string msg = refused(rel, Exit::invalid_dicom);
    CHECK(contains(msg, (root / rel).string() + ": "));
    CHECK(contains(msg, "Modality"));  // DCMTK's log says which attribute
  }
  SUBCASE("truncated DICOM") {
    const fs::path rel = "DICOM/S0000009/S0000002/I0000003";
    std::string bytes = read_file(kPydicom / "MR_small.dcm");
    write_file(root / rel, bytes.substr(0, 700));
    const std::string msg = refused(rel, Exit::invalid_dicom);
    CHECK(contains(msg, (root / rel).string() + ": "));
  }
  SUBCASE("the same SOP instance twice") {
    const fs::path rel = "DICOM/S0000009/S0000002/I0000004";
    fs::copy_file(root / files[0], root / rel);
    const std::string msg = refused(rel, Exit::invalid_dicom);
    CHECK(contains(msg,
                   (root / rel).string() + ": same SOP instance as " + files[0].generic_string()));
  }
  SUBCASE("a missing file") {
    const std::string msg = refused("DICOM/S0000009/S0000002/I0000099", Exit::input);
    CHECK(contains(msg, (root / "DICOM/S0000009/S0000002/I0000099").string()));
  }
  SUBCASE("a symbolic link") {
    const fs::path rel = "DICOM/S0000009/S0000002/I0000005";
    fs::create_symlink(kPydicom / "CT_small.dcm", root / rel);
    const std::string msg = refused(rel, Exit::input);
    CHECK(contains(msg, "not a regular file"));
  }
}

TEST_CASE("with a refused list, refused files are left out and listed; the rest is indexed") {
  const fs::path root = scratch("skip");
  const std::vector<fs::path> files = rels(make_cd(root));
  fs::create_directories(root / "DICOM" / "S0000009" / "S0000002");
  const fs::path text = "DICOM/S0000009/S0000002/I0000001",
                 twice = "DICOM/S0000009/S0000002/I0000004";
  write_file(root / text, "this is a text file, not DICOM\n");
  fs::copy_file(root / files[0], root / twice);
  std::vector<fs::path> list = files;
  list.insert(list.begin() + 2, text);
  list.push_back(twice);
  std::vector<std::string> refused;
  write_dicomdir(root, list, "SKIP", "", &refused);
  REQUIRE(refused.size() == 2);
  CHECK(contains(refused[0], (root / text).string() + ": "));
  CHECK(contains(refused[1],
                 (root / twice).string() + ": same SOP instance as " + files[0].generic_string()));
  std::set<fs::path> expected;
  for (const fs::path& f : files) expected.insert((root / f).lexically_normal());
  CHECK(as_set(iep::dicom::dicomdir_files(root / "DICOMDIR")) == expected);
  CHECK(strays(root).empty());
}

TEST_CASE("non-conformant file IDs and file-set IDs are refused before anything is written") {
  const fs::path root = scratch("names");
  fs::create_directories(root / "DICOM" / "S0000001");
  fs::copy_file(kPydicom / "CT_small.dcm", root / "DICOM" / "S0000001" / "I0000001");
  const fs::path good = "DICOM/S0000001/I0000001";

  for (const std::string bad :
       {"dicom/S0000001/I0000001", "DICOM/S00000001/I0000001", "DICOM/S0000001/I0000001.DCM",
        "DICOM/../DICOM/S0000001/I0000001", "/DICOM/S0000001/I0000001", "DICOM/S0000001/I-1",
        "A/B/C/D/E/F/G/H/I", "DICOMDIR", "", "DICOM/S0000001/", "DICOM/./S0000001/I0000001"}) {
    CAPTURE(bad);
    const std::string msg = error_of([&] { write_dicomdir(root, {good, bad}); }, Exit::internal);
    CHECK(contains(msg, "not a DICOMDIR file ID"));
    CHECK_FALSE(fs::exists(root / "DICOMDIR"));
  }
  CHECK(contains(error_of(
                     [&] {
                       write_dicomdir(root, {good, good});
                     },
                     Exit::internal),
                 "listed twice"));
  for (const std::string bad : {"iep", "ABCDEFGHIJKLMNOPQ", "IEP-1", "IEP TEST"}) {
    CAPTURE(bad);
    const std::string msg = error_of([&] { write_dicomdir(root, {good}, bad); }, Exit::usage);
    CHECK(contains(msg, "file-set ID"));
  }
  CHECK_FALSE(fs::exists(root / "DICOMDIR"));
  CHECK(strays(root).empty());

  // The same file under its conformant name is fine.
  write_dicomdir(root, {good}, "ABCDEFGHIJKLMNOP");
  CHECK(iep::dicom::dicomdir_files(root / "DICOMDIR").size() == 1);
}
