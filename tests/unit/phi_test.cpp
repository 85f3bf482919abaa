// iep::phi against pydicom's real DICOM files, dcmdump as the reference for
// what a file holds, and files de-identified here with DCMTK.
#include "iep/anon/phi.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "../../lib/src/anon/anon_table.h"
#include "iep/core/error.h"
#include "test_util.h"

namespace fs = std::filesystem;
using iep::Exit;
using namespace iep::test;
using iep::anon::Profile;
using iep::phi::Finding;
using iep::phi::identifying_values;
using iep::phi::Needle;
using iep::phi::Scanner;

namespace {

using iep::test::kPydicom;
const fs::path kCharsets = "/usr/lib/python3/dist-packages/pydicom/data/charset_files";

// Every value dcmdump prints for `tag` ("gggg,eeee") at any depth.
std::vector<std::string> dcmdump_values(const fs::path& file, const std::string& tag) {
  const std::string cmd = "dcmdump -q +s +P " + tag + " " + quote(file.string());
  const Run r = run(cmd);
  REQUIRE_MESSAGE(r.status == 0, cmd);
  const std::string& out = r.out;
  std::vector<std::string> values;
  std::size_t at = 0;
  while ((at = out.find('[', at)) != std::string::npos) {
    const std::size_t close = out.find("] ", at);
    REQUIRE(close != std::string::npos);
    values.push_back(out.substr(at + 1, close - at - 1));
    at = close;
  }
  return values;
}

std::set<std::string> values_of(const std::vector<Needle>& needles) {
  std::set<std::string> s;
  for (const auto& n : needles) s.insert(n.value);
  return s;
}

std::vector<Finding> with_tag(const std::vector<Finding>& f, const std::string& prefix) {
  std::vector<Finding> out;
  std::copy_if(f.begin(), f.end(), std::back_inserter(out),
               [&](const Finding& x) { return x.tag.rfind(prefix, 0) == 0 && !x.tag.empty(); });
  return out;
}

std::vector<Finding> tagged(const std::vector<Finding>& f) {
  std::vector<Finding> out;
  std::copy_if(f.begin(), f.end(), std::back_inserter(out),
               [](const Finding& x) { return !x.tag.empty(); });
  return out;
}

std::vector<Finding> untagged(const std::vector<Finding>& f) {
  std::vector<Finding> out;
  std::copy_if(f.begin(), f.end(), std::back_inserter(out),
               [](const Finding& x) { return x.tag.empty(); });
  return out;
}

std::string dump(const std::vector<Finding>& f) {
  std::string s;
  for (const auto& x : f) s += x.tag + " " + x.what + "\n";
  return s;
}

// All offsets of `needle` in `hay`.
std::vector<std::size_t> offsets(const std::string& hay, const std::string& needle) {
  std::vector<std::size_t> out;
  for (std::size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1))
    out.push_back(at);
  return out;
}

// A deliberately simple de-identifier, independent of the anonymiser: the
// basic column of Table E.1-1 applied to every element (X delete, Z empty, D
// a dummy, U a new UID), private attributes deleted, Patient Identity Removed
// set to YES.
const iep::anon::Row* row_for(Uint16 g, Uint16 e) {
  for (std::size_t i = 0; i < iep::anon::kTableSize; ++i) {
    const auto& r = iep::anon::kTable[i];
    if (r.group_mask == 0x0001) continue;  // the private attributes row
    if ((g & r.group_mask) == (r.group & r.group_mask) &&
        (e & r.element_mask) == (r.element & r.element_mask))
      return &r;
  }
  return nullptr;
}

void deidentify(DcmItem& item) {
  std::vector<DcmTagKey> tags;
  for (unsigned long i = 0; i < item.card(); ++i) tags.push_back(item.getElement(i)->getTag());
  for (const DcmTagKey& key : tags) {
    DcmElement* el = nullptr;
    REQUIRE(item.findAndGetElement(key, el).good());
    const auto* row = row_for(key.getGroup(), key.getElement());
    const std::string act = row != nullptr ? row->action[iep::anon::kBasic] : "K";
    if ((key.getGroup() & 1) != 0 || act[0] == 'X') {
      REQUIRE(item.findAndDeleteElement(key).good());
      continue;
    }
    if (act == "Z") {
      REQUIRE(el->putString("").good());
    } else if (act[0] == 'D' || act == "Z/D") {
      switch (el->ident()) {
        case EVR_DA: REQUIRE(el->putString("19000101").good()); break;
        case EVR_TM: REQUIRE(el->putString("000000").good()); break;
        case EVR_DT: REQUIRE(el->putString("19000101000000").good()); break;
        case EVR_PN: REQUIRE(el->putString("SUBJECT^ONE").good()); break;
        case EVR_SQ: REQUIRE(item.findAndDeleteElement(key).good()); continue;
        default:
          if (el->isaString())
            REQUIRE(el->putString("DUMMY").good());
          else
            REQUIRE(item.findAndDeleteElement(key).good());
          continue;
      }
    } else if (act[0] == 'U') {
      char uid[100];
      REQUIRE(el->putString(dcmGenerateUniqueIdentifier(uid)).good());
    }
    if (el->ident() == EVR_SQ) {
      auto* seq = static_cast<DcmSequenceOfItems*>(el);
      for (unsigned long k = 0; k < seq->card(); ++k) deidentify(*seq->getItem(k));
    }
  }
}

// Loads `in`, lets `edit` change the data set, saves to `out`.
template <class F>
void edit(const fs::path& in, const fs::path& out, F&& change) {
  DcmFileFormat ff;
  REQUIRE(ff.loadFile(in.c_str()).good());
  change(*ff.getDataset());
  REQUIRE(ff.saveFile(out.c_str(), EXS_LittleEndianExplicit).good());
}

fs::path clean_copy(const fs::path& in, const fs::path& out) {
  edit(in, out, [](DcmDataset& ds) {
    deidentify(ds);
    REQUIRE(ds.putAndInsertString(DCM_PatientIdentityRemoved, "YES").good());
  });
  return out;
}

}  // namespace

TEST_CASE("identifying_values of CT_small: what dcmdump shows, by the rule") {
  const fs::path ct = kPydicom / "CT_small.dcm";
  const auto needles = identifying_values(ct);
  const auto v = values_of(needles);
  CHECK(v.size() == needles.size());  // deduplicated

  // Patient's Name, whole and its 4+ byte components.
  const auto names = dcmdump_values(ct, "0010,0010");
  REQUIRE(names.size() == 1);
  CHECK(v.count(names[0]) == 1);
  const std::string family = names[0].substr(0, names[0].find('^'));
  CHECK(v.count(family) == 1);
  const std::string given = names[0].substr(names[0].find('^') + 1);
  CHECK(given.size() < 4);
  CHECK(v.count(given) == 0);
  // Patient ID at top level and inside Other Patient IDs Sequence items.
  const auto ids = dcmdump_values(ct, "0010,0020");
  REQUIRE(ids.size() == 3);
  for (const auto& id : ids) CHECK_MESSAGE(v.count(id) == 1, id);
  // Dates, times, institution, station: removed or replaced by the profile.
  for (const char* tag : {"0008,0020", "0008,0021", "0008,0030", "0008,0031", "0008,0032",
                          "0008,0080", "0008,1010", "0018,0010"}) {
    const auto vals = dcmdump_values(ct, tag);
    REQUIRE(vals.size() == 1);
    CHECK_MESSAGE(v.count(vals[0]) == 1, tag);
  }
  // Kept by the profile (not in Table E.1-1), too short, not a needle VR, or
  // private: none of these.
  for (const char* tag : {"0008,0070", "0008,1030", "0008,0008", "0009,0010", "0009,1001"}) {
    const auto vals = dcmdump_values(ct, tag);
    REQUIRE(vals.size() == 1);
    CHECK_MESSAGE(v.count(vals[0]) == 0, tag);
  }
  // Every needle is one of the file's values or a part of one.
  const std::string bytes = read_file(ct);
  for (const auto& n : needles) CHECK_MESSAGE(bytes.find(n.value) != std::string::npos, n.value);
  const auto it = std::find_if(needles.begin(), needles.end(),
                               [&](const Needle& n) { return n.value == ids[1]; });
  REQUIRE(it != needles.end());
  CHECK(it->vr == "LO");
  CHECK(it->where == "(0010,1002)[0].(0010,0020)");
}

TEST_CASE("identifying_values of MR_small: placeholders and kept values are not needles") {
  const fs::path mr = kPydicom / "MR_small.dcm";
  const auto v = values_of(identifying_values(mr));
  CHECK(v.count(dcmdump_values(mr, "0010,0010").at(0)) == 1);
  CHECK(v.count(dcmdump_values(mr, "0008,0020").at(0)) == 1);
  // Operators' Name "----" and Station Name "000000000": filler.
  const std::string operators = dcmdump_values(mr, "0008,1070").at(0);
  const std::string station = dcmdump_values(mr, "0008,1010").at(0);
  CHECK(operators == "----");
  CHECK(station == "000000000");
  CHECK(v.count(operators) == 0);
  CHECK(v.count(station) == 0);
  // Institution Name "TOSHIBA" is inside Manufacturer "TOSHIBA_MEC", which
  // the profile keeps: it reaches the output legitimately.
  const std::string institution = dcmdump_values(mr, "0008,0080").at(0);
  REQUIRE(dcmdump_values(mr, "0008,0070").at(0).find(institution) != std::string::npos);
  CHECK(v.count(institution) == 0);
}

TEST_CASE("identifying_values follows the profile's options") {
  const fs::path ct = kPydicom / "CT_small.dcm";
  const std::string study_date = dcmdump_values(ct, "0008,0020").at(0);
  const std::string institution = dcmdump_values(ct, "0008,0080").at(0);
  CHECK(values_of(identifying_values(ct)).count(study_date) == 1);
  const auto full =
      values_of(identifying_values(ct, Profile::parse("basic,retain-longitudinal-full-dates")));
  CHECK(full.count(study_date) == 0);
  CHECK(full.count(institution) == 1);
  // Modified dates are shifted: the original must still not appear.
  CHECK(
      values_of(identifying_values(ct, Profile::parse("basic,retain-longitudinal-modified-dates")))
          .count(study_date) == 1);
  CHECK(values_of(identifying_values(ct, Profile::parse("basic,retain-institution-identity")))
            .count(institution) == 0);
}

TEST_CASE("identifying_values splits PN in other character sets") {
  // UTF-8: "Wang^XiaoDong=王^小東=".
  const auto x1 = values_of(identifying_values(kCharsets / "chrX1.dcm"));
  CHECK(x1.count("Wang^XiaoDong=王^小東") == 1);
  CHECK(x1.count("Wang^XiaoDong") == 1);
  CHECK(x1.count("XiaoDong") == 1);
  CHECK(x1.count("王^小東") == 1);
  CHECK(x1.count("小東") == 1);  // 2 characters, 6 bytes
  CHECK(x1.count("王") == 0);    // 3 bytes
  CHECK(x1.count("Wang") == 1);
  // ISO 2022 (JIS X 0208): the raw value, escapes included, is a needle.
  const fs::path h31 = kCharsets / "chrH31.dcm";
  const auto h = identifying_values(h31);
  const std::string bytes = read_file(h31);
  bool whole = false;
  for (const auto& n : h) {
    CHECK(bytes.find(n.value) != std::string::npos);
    if (n.value.rfind("Yamada^Tarou=\x1b$B", 0) == 0) whole = true;
  }
  CHECK(whole);
  // Scanning a file with its own needles finds its name.
  const auto f = Scanner(Profile{}, h).scan(h31);
  CHECK(!with_tag(f, "(0010,0010)").empty());
}

TEST_CASE("an original file is full of findings") {
  const fs::path ct = kPydicom / "CT_small.dcm";
  const Scanner scanner(Profile{}, identifying_values(ct));
  const auto f = scanner.scan(ct);
  INFO(dump(f));
  // Other Patient IDs Sequence: X.
  const auto other = with_tag(f, "(0010,1002)");
  REQUIRE(!other.empty());
  CHECK(other[0].tag == "(0010,1002)");
  CHECK(other[0].what == "Other Patient IDs Sequence: present, the profile removes it");
  // Patient's Name: Z, may hold a dummy, but not the original.
  const auto name = with_tag(f, "(0010,0010)");
  REQUIRE(name.size() == 1);
  CHECK(name[0].what.find("contains original value 'CompressedSamples^CT1' (PN from input "
                          "(0010,0010))") != std::string::npos);
  CHECK(!with_tag(f, "(0010,0020)").empty());
  // Private attributes, creators included.
  const auto priv = with_tag(f, "(0009,");
  CHECK(priv.size() == 10);
  CHECK(with_tag(f, "(0009,0010)").at(0).what == "private creator 'GEMS_IDEN_01'");
  CHECK(with_tag(f, "(0009,1001)").at(0).what == "private attribute of 'GEMS_IDEN_01'");
  CHECK(with_tag(f, "(0011,1010)").size() == 1);
  // Patient Identity Removed is missing.
  CHECK(with_tag(f, "(0012,0062)").at(0).what == "Patient Identity Removed: missing, must be YES");
  // The raw bytes: the name at its offset, once (its component is inside it).
  const std::string bytes = read_file(ct);
  const auto at = offsets(bytes, "CompressedSamples^CT1");
  REQUIRE(at.size() == 1);
  const std::string expect =
      "original value 'CompressedSamples^CT1' (PN from input (0010,0010)) "
      "found at byte " +
      std::to_string(at[0]);
  const auto raw = untagged(f);
  CHECK(std::count_if(raw.begin(), raw.end(), [&](const Finding& x) { return x.what == expect; }) ==
        1);
  CHECK(std::none_of(raw.begin(), raw.end(), [](const Finding& x) {
    return x.what.find("'CompressedSamples' ") != std::string::npos;
  }));
  for (const auto& x : f) CHECK(x.file == ct.string());
}

TEST_CASE("a de-identified file passes; planted residues are found where they are") {
  const fs::path dir = scratch("phi-clean");
  const fs::path ct = kPydicom / "CT_small.dcm";
  const auto needles = identifying_values(ct);
  const Scanner scanner(Profile{}, needles);
  const fs::path clean = clean_copy(ct, dir / "clean.dcm");
  REQUIRE(!needles.empty());

  SUBCASE("clean: no findings at all") {
    const auto f = scanner.scan(clean);
    CHECK_MESSAGE(f.empty(), dump(f));
  }
  SUBCASE("MR_small clean too") {
    const fs::path mr = kPydicom / "MR_small.dcm";
    const fs::path mr_clean = clean_copy(mr, dir / "mr.dcm");
    const auto f = Scanner(Profile{}, identifying_values(mr)).scan(mr_clean);
    CHECK_MESSAGE(f.empty(), dump(f));
    // And the un-cleaned one is not.
    CHECK(!Scanner(Profile{}, identifying_values(mr)).scan(mr).empty());
  }
  SUBCASE("the name in Series Description") {
    const fs::path out = dir / "series.dcm";
    edit(clean, out, [](DcmDataset& ds) {
      REQUIRE(ds.putAndInsertString(DCM_SeriesDescription, "CompressedSamples^CT1").good());
    });
    const auto f = scanner.scan(out);
    INFO(dump(f));
    // Basic: Series Description must go, and it holds the name.
    const auto t = tagged(f);
    REQUIRE(t.size() == 2);
    CHECK(t[0].tag == "(0008,103E)");
    CHECK(t[0].what == "Series Description: present, the profile removes it");
    CHECK(t[1].tag == "(0008,103E)");
    CHECK(t[1].what ==
          "Series Description: contains original value 'CompressedSamples^CT1' (PN from input "
          "(0010,0010))");
    const auto at = offsets(read_file(out), "CompressedSamples^CT1");
    REQUIRE(at.size() == 1);
    const auto raw = untagged(f);
    REQUIRE(raw.size() == 1);
    CHECK(raw[0].what.ends_with(" found at byte " + std::to_string(at[0])));
    // Clean Descriptors may keep a description: only the residue remains.
    const auto c = tagged(Scanner(Profile::parse("basic,clean-descriptors"), needles).scan(out));
    REQUIRE(c.size() == 1);
    CHECK(c[0].what.find("contains original value") != std::string::npos);
  }
  SUBCASE("a patient ID inside a sequence item") {
    const std::string other_id = dcmdump_values(ct, "0010,0020").at(2);
    const fs::path out = dir / "seq.dcm";
    edit(clean, out, [&](DcmDataset& ds) {
      DcmItem* item = nullptr;
      REQUIRE(ds.findOrCreateSequenceItem(DCM_DerivationCodeSequence, item, -2).good());
      REQUIRE(item->putAndInsertString(DCM_CodeValue, "113072").good());
      REQUIRE(item->putAndInsertString(DCM_CodingSchemeDesignator, "DCM").good());
      REQUIRE(item->putAndInsertString(DCM_CodeMeaning, ("see " + other_id).c_str()).good());
    });
    const auto f = scanner.scan(out);
    INFO(dump(f));
    REQUIRE(f.size() == 2);
    CHECK(f[0].tag == "(0008,9215)[0].(0008,0104)");
    CHECK(f[0].what == "CodeMeaning: contains original value '" + other_id +
                           "' (LO from input (0010,1002)[1].(0010,0020))");
    const auto at = offsets(read_file(out), other_id);
    REQUIRE(at.size() == 1);
    CHECK(f[1].tag.empty());
    CHECK(f[1].what.ends_with("found at byte " + std::to_string(at[0])));
  }
  SUBCASE("private attributes: one finding per element, a sequence once") {
    const fs::path out = dir / "priv.dcm";
    edit(clean, out, [](DcmDataset& ds) {
      REQUIRE(ds.putAndInsertString(DcmTag(0x0019, 0x0010, EVR_LO), "SIEMENS MR HEADER").good());
      REQUIRE(ds.putAndInsertString(DcmTag(0x0019, 0x100C, EVR_IS), "1000").good());  // safe
      REQUIRE(ds.putAndInsertString(DcmTag(0x0019, 0x1008, EVR_CS), "IMAGE NUM 4").good());
      auto seq = std::make_unique<DcmSequenceOfItems>(DcmTag(0x0029, 0x1010, EVR_SQ));
      auto item = std::make_unique<DcmItem>();
      REQUIRE(item->putAndInsertString(DCM_PatientName, "Nested^Name").good());
      REQUIRE(seq->append(item.release()).good());
      REQUIRE(ds.insert(seq.release()).good());
    });
    const auto f = scanner.scan(out);
    INFO(dump(f));
    std::vector<std::string> tags;
    for (const auto& x : f) tags.push_back(x.tag);
    CHECK(tags ==
          std::vector<std::string>{"(0019,0010)", "(0019,1008)", "(0019,100C)", "(0029,1010)"});
    // Retain Safe Private keeps (0019,xx0C) of SIEMENS MR HEADER and its
    // creator; the other two stay findings.
    const auto s = Scanner(Profile::parse("basic,retain-safe-private"), needles).scan(out);
    tags.clear();
    for (const auto& x : s) tags.push_back(x.tag);
    CHECK(tags == std::vector<std::string>{"(0019,1008)", "(0029,1010)"});
  }
  SUBCASE("Patient Identity Removed must say YES") {
    const fs::path out = dir / "pir.dcm";
    edit(clean, out, [](DcmDataset& ds) {
      REQUIRE(ds.putAndInsertString(DCM_PatientIdentityRemoved, "NO").good());
    });
    const auto f = scanner.scan(out);
    REQUIRE(f.size() == 1);
    CHECK(f[0].tag == "(0012,0062)");
    CHECK(f[0].what == "Patient Identity Removed: 'NO', must be YES");
  }
  SUBCASE("options turn X into allowed") {
    const fs::path out = dir / "dates.dcm";
    edit(clean, out, [](DcmDataset& ds) {
      // Instance Coercion DateTime: X in basic, K under Retain Longitudinal
      // Full Dates.
      REQUIRE(ds.putAndInsertString(DCM_InstanceCoercionDateTime, "19000101000000").good());
    });
    const auto f = scanner.scan(out);
    REQUIRE(f.size() == 1);
    CHECK(f[0].tag == "(0008,0015)");
    CHECK(f[0].what == "Instance Coercion DateTime: present, the profile removes it");
    CHECK(
        Scanner(Profile::parse("basic,retain-longitudinal-full-dates"), needles).scan(out).empty());
  }
}

TEST_CASE("raw byte search: chunk boundaries, numbers, repeats") {
  const fs::path dir = scratch("phi-bytes");
  const std::vector<Needle> needles = {
      {"Doe^Archibald", "PN", "(0010,0010)"},
      {"20040119", "DA", "(0008,0020)"},
      {"MRN-7781", "LO", "(0010,0020)"},
  };
  const Scanner scanner(Profile{}, needles);
  const std::size_t chunk = 64 * 1024;
  std::string data(3 * chunk + 1000, 'x');
  auto plant = [&](std::size_t at, const std::string& s) { data.replace(at, s.size(), s); };
  plant(chunk - 5, "Doe^Archibald");  // across the first boundary
  plant(2 * chunk - 1, "MRN-7781");   // one byte before the second
  // A number must not be flanked by digits:
  plant(2 * chunk - 20, "20040119");    //  found (x on both sides)
  plant(2 * chunk + 100, "120040119");  //  not found: part of a longer number
  plant(2 * chunk + 200, "200401190");  //  not found
  plant(2 * chunk + 300, ".20040119");  //  not found: a decimal fraction
  plant(3 * chunk - 8, "20040119");     //  found, ends on a boundary...
  plant(3 * chunk, "\\");               //  ...followed by a separator
  plant(data.size() - 8, "20040119");   //  found at the very end
  const fs::path f = dir / "blob.bin";
  write_file(f, data);
  const auto found = scanner.scan_bytes(f);
  std::vector<std::string> got;
  for (const auto& x : found) {
    CHECK(x.tag.empty());
    got.push_back(x.what);
  }
  const std::string pn =
      "original value 'Doe^Archibald' (PN from input (0010,0010)) found at byte ";
  const std::string da = "original value '20040119' (DA from input (0008,0020)) found at byte ";
  const std::string lo = "original value 'MRN-7781' (LO from input (0010,0020)) found at byte ";
  CHECK(got == std::vector<std::string>{
                   pn + std::to_string(chunk - 5), da + std::to_string(2 * chunk - 20),
                   lo + std::to_string(2 * chunk - 1), da + std::to_string(3 * chunk - 8),
                   da + std::to_string(data.size() - 8)});

  // Many occurrences: eight with offsets, then a count.
  std::string many(chunk, ' ');
  for (int i = 0; i < 20; ++i) many.replace(100 + i * 50, 13, "Doe^Archibald");
  write_file(dir / "many.bin", many);
  const auto m = scanner.scan_bytes(dir / "many.bin");
  REQUIRE(m.size() == 9);
  CHECK(m[8].what ==
        "original value 'Doe^Archibald' (PN from input (0010,0010)) found 12 more times");

  // No needles: nothing to find, even in an original.
  CHECK(Scanner(Profile{}).scan_bytes(kPydicom / "CT_small.dcm").empty());
  // Empty file.
  write_file(dir / "empty.bin", "");
  CHECK(scanner.scan_bytes(dir / "empty.bin").empty());
}

TEST_CASE("files that are not DICOM are errors, not passes") {
  const fs::path dir = scratch("phi-bad");
  const Scanner scanner(Profile{}, identifying_values(kPydicom / "CT_small.dcm"));
  write_file(dir / "text.dcm", "Doe^Archibald is not a DICOM file\n");
  CHECK(code_of([&] { (void)scanner.scan(dir / "text.dcm"); }) == Exit::invalid_dicom);
  CHECK(code_of([&] { (void)identifying_values(dir / "text.dcm"); }) == Exit::invalid_dicom);
  CHECK(code_of([&] { (void)scanner.scan(dir / "missing.dcm"); }) == Exit::input);
  CHECK(code_of([&] { (void)scanner.scan_bytes(dir / "missing.dcm"); }) == Exit::input);
  // Truncated in the middle of an element.
  const std::string ct = read_file(kPydicom / "CT_small.dcm");
  write_file(dir / "cut.dcm", ct.substr(0, 900));
  CHECK(code_of([&] { (void)scanner.scan(dir / "cut.dcm"); }) == Exit::invalid_dicom);
  // pydicom's nested private sequence file has no SOP Class/Instance: not an
  // object iep accepts.
  CHECK(code_of([&] { (void)scanner.scan(kPydicom / "nested_priv_SQ.dcm"); }) ==
        Exit::invalid_dicom);
}
