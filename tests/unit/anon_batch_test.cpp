// iep::anon::anonymise_folder on real files (pydicom's test data), folder to
// folder: what is written where, what is quarantined and why (not DICOM,
// cut, burned-in text, a second file with one SOP Instance UID), the report's
// counts, resumed runs, and pseudonyms and UIDs that depend on the key only
// (the same across runs, instances and thread counts; unrelated across keys).
#include "iep/anon/anon_batch.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <doctest/doctest.h>
#include <zstd.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "iep/anon/anon.h"
#include "iep/core/error.h"
#include "iep/dicom/dicom.h"
#include "iep/package/package.h"
#include "iep/package/site.h"
#include "test_util.h"

namespace fs = std::filesystem;
using iep::Exit;
using namespace iep::test;
using namespace iep::anon;

namespace {

using iep::test::kPydicom;

std::string attr(const fs::path& p, const DcmTagKey& tag) {
  DcmFileFormat ff;
  REQUIRE_MESSAGE(ff.loadFile(OFFilename(p.c_str())).good(), p.string());
  OFString v;
  if (ff.getDataset()->findAndGetOFStringArray(tag, v).bad()) return "<absent>";
  return v.c_str();
}

Anonymiser make(const ProjectKey& key) {
  Options o;
  o.profile = Profile::parse("basic");
  return Anonymiser(key, o);
}

// Relative path -> content of every regular file under dir.
std::map<std::string, std::string> tree(const fs::path& dir) {
  std::map<std::string, std::string> t;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) t[fs::relative(e.path(), dir).generic_string()] = read_file(e.path());
  return t;
}

// The re-identification entries as comparable tuples.
std::set<std::vector<std::string>> entries(const BatchReport& r) {
  std::set<std::vector<std::string>> out;
  for (const auto& e : r.reid)
    out.insert(
        {e.original_patient_id, e.pseudonym_patient_id, e.original_study_uid, e.new_study_uid});
  return out;
}

// Where `a` writes the output of `src` under `out` (not a CD).
fs::path output_of(const Anonymiser& a, const fs::path& src, const fs::path& out) {
  return out / a.uid(attr(src, DCM_StudyInstanceUID)) / a.uid(attr(src, DCM_SeriesInstanceUID)) /
         (a.uid(attr(src, DCM_SOPInstanceUID)) + ".dcm");
}

// The quarantine reason of `file`, "" if not quarantined.
std::string reason_of(const BatchReport& r, const fs::path& file) {
  for (const auto& [f, why] : r.quarantined)
    if (f == file.string()) return why;
  return "";
}

// An input folder: two good instances (a CT and an MR of other patients),
// a copy of the CT under a later name (its SOP Instance UID again), a text
// file, the CT cut inside its pixel data, and a secondary capture that may
// show burned-in text.
struct Inputs {
  fs::path dir, ct, mr, dup, text, cut, sc;
  explicit Inputs(const fs::path& base) : dir(base / "in") {
    fs::create_directories(dir);
    ct = dir / "a_ct.dcm";
    mr = dir / "b_mr.dcm";
    dup = dir / "c_ct_again.dcm";
    text = dir / "d_notes.txt";
    cut = dir / "e_cut.dcm";
    sc = dir / "f_sc.dcm";
    fs::copy_file(kPydicom / "CT_small.dcm", ct);
    fs::copy_file(kPydicom / "MR_small.dcm", mr);
    fs::copy_file(kPydicom / "CT_small.dcm", dup);
    write_file(text, "Patient: Jane Doe, 12 Main Street\n");
    const std::string ctb = read_file(kPydicom / "CT_small.dcm");
    write_file(cut, std::string_view(ctb).substr(0, ctb.size() - 1000));
    fs::copy_file(kPydicom / "SC_rgb_rle.dcm", sc);
  }
};

}  // namespace

TEST_CASE("folder to folder: written under new UIDs, the rest quarantined with its reason") {
  const fs::path base = scratch("batch-folder");
  const Inputs in(base);
  const ProjectKey key = ProjectKey::generate();
  const Anonymiser a = make(key);
  const BatchReport r = anonymise_folder(a, {in.dir}, base / "out", {});

  CHECK(r.files == 6);
  CHECK(r.written == 2);
  CHECK(r.already_done == 0);
  CHECK(r.pixels_cleaned == 0);
  CHECK(r.studies.size() == 2);
  REQUIRE(r.quarantined.size() == 4);
  for (const auto& [f, why] : r.quarantined) MESSAGE(f, ": ", why);
  CHECK(reason_of(r, in.ct).empty());
  CHECK(reason_of(r, in.mr).empty());
  // The later of two files with one SOP Instance UID, naming the earlier.
  CHECK(reason_of(r, in.dup) == "same SOP Instance UID as " + in.ct.string());
  CHECK_FALSE(reason_of(r, in.text).empty());
  CHECK_FALSE(reason_of(r, in.cut).empty());
  CHECK(reason_of(r, in.sc).find("Burned In Annotation") != std::string::npos);
  // Sorted by file, so the report does not depend on the threads.
  CHECK(std::is_sorted(r.quarantined.begin(), r.quarantined.end()));

  // STUDY/SERIES/INSTANCE.dcm under the keyed UIDs of the input.
  for (const fs::path& src : {in.ct, in.mr}) {
    const fs::path out = output_of(a, src, base / "out");
    REQUIRE_MESSAGE(fs::exists(out), out.string());
    CHECK(attr(out, DCM_SOPInstanceUID) == a.uid(attr(src, DCM_SOPInstanceUID)));
    CHECK(attr(out, DCM_PatientID) == a.patient_id(attr(src, DCM_PatientID)));
    CHECK(attr(out, DCM_PatientName) == a.patient_name(attr(src, DCM_PatientID)));
    CHECK(r.studies.count(a.uid(attr(src, DCM_StudyInstanceUID))) == 1);
    // The re-identification entries: the original and the new of each.
    CHECK(entries(r).count({attr(src, DCM_PatientID), a.patient_id(attr(src, DCM_PatientID)),
                            attr(src, DCM_StudyInstanceUID),
                            a.uid(attr(src, DCM_StudyInstanceUID))}) == 1);
  }
  CHECK(r.reid.size() == 2);
  // Only those two files, and no temporary.
  CHECK(tree(base / "out").size() == 2);
  for (const auto& e : fs::recursive_directory_iterator(base / "out"))
    CHECK(e.path().filename().string()[0] != '.');

  // The JSON report carries the same counts.
  const nlohmann::json json = nlohmann::json::parse(r.to_json());
  CHECK(json["written"] == 2);
  CHECK(json["files"] == 6);
  CHECK(json["already_done"] == 0);
  CHECK(json["studies"] == 2);
  CHECK(json["quarantined"].size() == 4);
  CHECK(json["quarantined"][0]["file"] == in.dup.string());
  CHECK(r.summary().find("2 de-identified") != std::string::npos);
}

TEST_CASE("duplicates: the first in input order is written, whichever thread gets there") {
  const fs::path base = scratch("batch-dup");
  const Inputs in(base);
  const Anonymiser a = make(ProjectKey::generate());
  const BatchReport one = anonymise_folder(a, {in.dup, in.ct}, base / "one", {});
  // Given in this order, c_ct_again.dcm is first and a_ct.dcm the duplicate.
  CHECK(one.written == 1);
  CHECK(reason_of(one, in.ct) == "same SOP Instance UID as " + in.dup.string());
  CHECK(reason_of(one, in.dup).empty());
  BatchOptions four;
  four.jobs = 4;
  const BatchReport r4 = anonymise_folder(a, {in.dir}, base / "four", four);
  const BatchReport r1 = anonymise_folder(a, {in.dir}, base / "single", {});
  CHECK(r4.quarantined == r1.quarantined);
  CHECK(tree(base / "four") == tree(base / "single"));
}

TEST_CASE("resumed runs: what is done is skipped, what was lost or cut is made again") {
  const fs::path base = scratch("batch-resume");
  const Inputs in(base);
  const Anonymiser a = make(ProjectKey::generate());
  const fs::path out = base / "out";
  anonymise_folder(a, {in.ct, in.mr}, out, {});
  const auto before = tree(out);
  REQUIRE(before.size() == 2);

  BatchReport again = anonymise_folder(a, {in.ct, in.mr}, out, {});
  CHECK(again.written == 0);
  CHECK(again.already_done == 2);
  CHECK(again.quarantined.empty());
  // Both studies and both patients are reported although nothing was written.
  CHECK(again.studies.size() == 2);
  CHECK(again.reid.size() == 2);

  // One output lost, the other cut inside its pixel data.
  const fs::path ct_out = output_of(a, in.ct, out), mr_out = output_of(a, in.mr, out);
  fs::remove(ct_out);
  fs::resize_file(mr_out, fs::file_size(mr_out) - 100);
  again = anonymise_folder(a, {in.ct, in.mr}, out, {});
  CHECK(again.written == 2);
  CHECK(again.already_done == 0);
  CHECK(tree(out) == before);

  // An output name that holds another instance is not replaced: the input
  // is quarantined.
  fs::remove(ct_out);
  fs::copy_file(mr_out, ct_out);
  again = anonymise_folder(a, {in.ct, in.mr}, out, {});
  CHECK(again.written == 0);
  CHECK(again.already_done == 1);
  CHECK(reason_of(again, in.ct).find("holds another instance") != std::string::npos);
  CHECK(read_file(ct_out) == read_file(mr_out));
}

TEST_CASE(
    "pseudonyms and UIDs depend on the key only: same key same bytes, other key nothing shared") {
  const fs::path base = scratch("batch-keys");
  const Inputs in(base);
  const ProjectKey key = ProjectKey::generate();
  key.save(base / "p.key");
  const BatchReport r1 = anonymise_folder(make(key), {in.ct, in.mr}, base / "run1", {});
  // A later run, another Anonymiser, the key read back from its file.
  const BatchReport r2 =
      anonymise_folder(make(ProjectKey::load(base / "p.key")), {in.ct, in.mr}, base / "run2", {});
  CHECK(tree(base / "run1") == tree(base / "run2"));
  CHECK(entries(r1) == entries(r2));
  CHECK(r1.studies == r2.studies);

  const ProjectKey other = ProjectKey::generate();
  const BatchReport r3 = anonymise_folder(make(other), {in.ct, in.mr}, base / "run3", {});
  CHECK(r3.written == 2);
  std::set<std::string> p1, p3;
  for (const auto& e : r1.reid) p1.insert(e.pseudonym_patient_id), p1.insert(e.new_study_uid);
  for (const auto& e : r3.reid) p3.insert(e.pseudonym_patient_id), p3.insert(e.new_study_uid);
  std::vector<std::string> shared;
  std::set_intersection(p1.begin(), p1.end(), p3.begin(), p3.end(), std::back_inserter(shared));
  CHECK(shared.empty());
  for (const auto& [name, bytes] : tree(base / "run3")) CHECK(tree(base / "run1").count(name) == 0);
}

TEST_CASE("bad output folder: an output error, nothing written") {
  const fs::path base = scratch("batch-bad");
  const Inputs in(base);
  write_file(base / "a-file", "x");
  const Anonymiser a = make(ProjectKey::generate());
  std::string msg;
  CHECK(code_of([&] { anonymise_folder(a, {in.ct}, base / "a-file", {}); }, &msg) == Exit::output);
  CHECK(msg.find("a-file") != std::string::npos);
  CHECK(read_file(base / "a-file") == "x");
  // An input that does not exist is an input error.
  CHECK(code_of([&] { anonymise_folder(a, {base / "absent"}, base / "out2", {}); }) == Exit::input);
}

TEST_CASE(
    "a crashed run's unfinished outputs are removed by the next run, never moved into place") {
  const fs::path base = scratch("batch-crashed");
  const Inputs in(base);
  const Anonymiser a = make(ProjectKey::generate());
  const fs::path out = base / "out";
  // What a run killed while writing leaves: its private folder of results
  // not yet moved into place, which no live run holds any longer.
  const fs::path left = out / ".iep-anon-work.partial-Ab12Cd";
  fs::create_directories(left);
  write_file(left / "0", "half an instance");
  const BatchReport r = anonymise_folder(a, {in.ct, in.mr}, out, {});
  CHECK(r.written == 2);
  CHECK_FALSE(fs::exists(left));
  // Only the two outputs: no folder or file of the run's own left behind.
  CHECK(tree(out).size() == 2);
  for (const auto& e : fs::directory_iterator(out)) CHECK(e.path().filename().string()[0] != '.');
}

TEST_CASE("an instance repeated across threads: the later copies' results are thrown away") {
  const fs::path base = scratch("batch-repeat");
  const Inputs in(base);
  const Anonymiser a = make(ProjectKey::generate());
  // Six copies of one instance after the MR: whichever thread rewrites a
  // copy first, only the first in input order is moved into place.
  std::vector<fs::path> inputs = {in.mr};
  for (int i = 0; i < 6; ++i) {
    inputs.push_back(base / ("copy" + std::to_string(i) + ".dcm"));
    fs::copy_file(in.ct, inputs.back());
  }
  BatchOptions two;
  two.jobs = 2;
  const BatchReport r = anonymise_folder(a, inputs, base / "out", two);
  CHECK(r.written == 2);
  REQUIRE(r.quarantined.size() == 5);
  for (std::size_t i = 2; i < inputs.size(); ++i)
    CHECK(reason_of(r, inputs[i]) == "same SOP Instance UID as " + inputs[1].string());
  CHECK(tree(base / "out").size() == 2);
  for (const auto& e : fs::directory_iterator(base / "out"))
    CHECK(e.path().filename().string()[0] != '.');
}

namespace {

// The frames of a zstd stream (libzstd's own frame walker) and the size
// of the content each decodes to.
std::vector<std::pair<std::string, unsigned long long>> zstd_frames(const std::string& z) {
  std::vector<std::pair<std::string, unsigned long long>> out;
  for (std::size_t at = 0; at < z.size();) {
    const std::size_t n = ZSTD_findFrameCompressedSize(z.data() + at, z.size() - at);
    REQUIRE(!ZSTD_isError(n));
    out.emplace_back(z.substr(at, n), ZSTD_getFrameContentSize(z.data() + at, n));
    at += n;
  }
  return out;
}

std::string as_string(const iep::Bytes& b) {
  return {b.begin(), b.end()};
}

}  // namespace

TEST_CASE("the pipe stage copies the compressed frames of the pixel data it keeps") {
  const fs::path dir = scratch("anon-frames");
  const auto self = iep::SiteIdentity::generate("trust-a");
  const Anonymiser a = make(ProjectKey::generate());
  // Packs `src`, finds the frame that holds exactly its pixel data (iep-pack
  // frames it on its own), de-identifies the package as a pipe stage does
  // (with entries held whole up to `held` bytes) and returns the output,
  // after checking that it carries that frame as it was.
  auto check = [&](const fs::path& src, const char* held) {
    iep::BytesSink packed;
    iep::package::write_plain(iep::package::plan_one({{src}, {}}), self, packed);
    const iep::dicom::Info info = iep::dicom::scan(src);
    const auto pixels = fs::file_size(src) - info.tail_start;
    REQUIRE(info.tail_start > 0);
    REQUIRE(pixels >= iep::package::kFramedTail);
    std::string pixel_frame;
    for (const auto& [frame, size] : zstd_frames(as_string(packed.bytes)))
      if (size == pixels) pixel_frame = frame;
    REQUIRE(!pixel_frame.empty());
    if (held != nullptr) ::setenv("IEP_ANON_HELD", held, 1);
    iep::BytesSource plain(packed.bytes);
    iep::BytesSink out;
    const BatchReport r = anonymise_package(a, plain, "in", self, iep::TrustStore(), out);
    ::unsetenv("IEP_ANON_HELD");
    CHECK(r.written == 1);
    bool copied = false;
    for (const auto& [frame, size] : zstd_frames(as_string(out.bytes)))
      copied |= frame == pixel_frame;
    CHECK(copied);
    return std::make_pair(out.bytes, pixel_frame);
  };

  // A real JPEG 2000 MR (pydicom's), held whole.
  const fs::path mr = kPydicom / "J2K_pixelrep_mismatch.dcm";
  const auto [anonymised, mr_frame] = check(mr, nullptr);
  // Independent readers: zstd and tar unpack it, pydicom finds the pixel
  // data as it was and the patient's name replaced.
  write_file(dir / "out.tar.zst", anonymised);
  REQUIRE(run("mkdir x && zstd -qdc out.tar.zst | tar -x -C x --exclude 'MANIFEST.json*'", dir)
              .status == 0);
  REQUIRE(
      run("/usr/bin/python3 -c 'import sys, glob, pydicom\n"
          "a = pydicom.dcmread(sys.argv[1]); b = pydicom.dcmread(glob.glob(\"x/*/*/*.dcm\")[0])\n"
          "assert bytes(a.PixelData) == bytes(b.PixelData)\n"
          "assert str(a.PatientName) != str(b.PatientName)' " +
              quote(mr.string()),
          dir)
          .status == 0);

  // A 10-frame CT of native pixels (pydicom's CT_small, its pixels ten
  // times), rewritten from its first 16 KiB (its header is 6 KiB) while the
  // rest streams through (the way of entries over 4 MiB).
  REQUIRE(run("/usr/bin/python3 -c 'import sys, pydicom\n"
              "ds = pydicom.dcmread(sys.argv[1]); ds.NumberOfFrames = 10\n"
              "ds.PixelData = bytes(ds.PixelData) * 10; del ds[0xFFFCFFFC]\n"
              "ds.save_as(\"ct10.dcm\", write_like_original=False)' " +
                  quote((kPydicom / "CT_small.dcm").string()),
              dir)
              .status == 0);
  (void)check(dir / "ct10.dcm", "16384");

  // Sealing a plain package copies its frames too: `age -d` (the site
  // identity is an age identity file) gives back a stream that holds it.
  iep::BytesSource plain(anonymised);
  iep::BytesSink sealed;
  (void)iep::package::seal_plain(plain, "anonymised", self, iep::TrustStore(), {self.card()},
                                 sealed);
  self.save(dir / "a.id");
  write_file(dir / "sealed.iep", sealed.bytes);
  REQUIRE(run("age -d -i a.id sealed.iep > decrypted.zst", dir).status == 0);
  bool copied = false;
  for (const auto& [frame, size] : zstd_frames(read_file(dir / "decrypted.zst")))
    copied |= frame == mr_frame;
  CHECK(copied);
  fs::remove_all(dir);
}
