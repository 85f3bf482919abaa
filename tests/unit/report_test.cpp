// Reports as DICOM (pacs/report.h): what a report is, the study it joins,
// and the instances made of it, checked with dciodvfy (the IOD), dcmdump
// and pydicom (an independent reader: the PDF's bytes, the SR's text).
#include "iep/pacs/report.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <string>

#include "iep/core/error.h"
#include "iep/package/manifest.h"
#include "iep/package/package.h"
#include "test_util.h"

using iep::Exit;
namespace pacs = iep::pacs;
namespace fs = std::filesystem;
using iep::test::kPydicom;
using iep::test::quote;
using iep::test::run;

namespace {

iep::ByteSpan span(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// An odd-length PDF (so that the even-length padding is exercised), made of
// the one real PDF the image ships if it is there.
std::string sample_pdf() {
  const fs::path real = "/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf";
  std::string pdf = fs::exists(real)
                        ? iep::test::read_file(real)
                        : std::string("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF");
  if (pdf.size() % 2 == 0) pdf += "\n";
  return pdf;
}

// dciodvfy's verdict: the lines that are errors (none for a valid IOD).
std::string iod_errors(const fs::path& f) {
  auto r = run("dciodvfy " + quote(f.string()) + " 2>&1");
  std::string errors;
  std::size_t pos = 0;
  while (pos < r.out.size()) {
    auto nl = r.out.find('\n', pos);
    std::string line = r.out.substr(pos, nl == std::string::npos ? nl : nl - pos);
    pos = nl == std::string::npos ? r.out.size() : nl + 1;
    if (line.starts_with("Error")) errors += line + "\n";
  }
  return errors;
}

// pydicom's reading of one attribute (by keyword) of a file. Python runs
// once per file version: every top-level text value is read at once.
std::string py_attr(const fs::path& f, const std::string& keyword) {
  static std::map<std::string, std::map<std::string, std::string>> cache;
  const std::string key = f.string() + "|" + std::to_string(fs::file_size(f)) + "|" +
                          std::to_string(fs::last_write_time(f).time_since_epoch().count());
  auto it = cache.find(key);
  if (it == cache.end()) {
    auto r =
        run("/usr/bin/python3 -c 'import sys, pydicom\n"
            "d = pydicom.dcmread(sys.argv[1])\n"
            "for e in d:\n"
            "    if e.keyword and e.VR not in (\"OB\", \"OW\", \"SQ\", \"UN\"):\n"
            "        v = str(e.value).replace(\"\\n\", \" \")\n"
            "        sys.stdout.write(e.keyword + \"\\t\" + v + \"\\n\")' " +
            quote(f.string()));
    REQUIRE(r.status == 0);
    std::map<std::string, std::string> values;
    std::size_t pos = 0;
    while (pos < r.out.size()) {
      auto nl = r.out.find('\n', pos);
      std::string line = r.out.substr(pos, nl == std::string::npos ? nl : nl - pos);
      pos = nl == std::string::npos ? r.out.size() : nl + 1;
      auto tab = line.find('\t');
      if (tab != std::string::npos) values[line.substr(0, tab)] = line.substr(tab + 1);
    }
    it = cache.emplace(key, std::move(values)).first;
  }
  auto v = it->second.find(keyword);
  return v == it->second.end() ? std::string() : v->second;
}

}  // namespace

TEST_CASE("report: a PDF or UTF-8 text, by its bytes") {
  CHECK(pacs::report_kind(span("%PDF-1.7\n..."), "r") == pacs::ReportKind::pdf);
  CHECK(pacs::report_kind(span("Findings: no bleed.\n"), "r") == pacs::ReportKind::text);
  CHECK(pacs::report_kind(span("Befund: unauffällig — ok"), "r") == pacs::ReportKind::text);
  auto msg = iep::test::error_of([] { pacs::report_kind(span(std::string("ab\0c", 4)), "r.bin"); },
                                 Exit::input);
  CHECK(msg.find("r.bin: ") == 0);
  iep::test::error_of([] { pacs::report_kind(span("\xff\xfe"), "r"); }, Exit::input);
  iep::test::error_of([] { pacs::report_kind(span("\xc0\xaf"), "r"); }, Exit::input);  // overlong
  iep::test::error_of([] { pacs::report_kind(span("caf\xc3"), "r"); }, Exit::input);   // cut
  iep::test::error_of([] { pacs::report_kind(span(""), "r"); }, Exit::input);

  const fs::path dir = iep::test::scratch("report-kind");
  // Larger than 64 MiB: refused by its size, without reading it.
  {
    iep::test::write_file(dir / "big.txt", "x");
    fs::resize_file(dir / "big.txt", pacs::kMaxReportBytes + 1);
    iep::test::error_of([&] { pacs::report_kind(dir / "big.txt"); }, Exit::input);
  }
  iep::test::error_of([&] { pacs::report_kind(dir / "missing.pdf"); }, Exit::input);
}

TEST_CASE("report: iep-pack --report marks the attachment in the manifest; old readers' form") {
  const fs::path dir = iep::test::scratch("report-pack");
  iep::test::write_file(dir / "report.pdf", sample_pdf());
  iep::test::write_file(dir / "notes.txt", "a note");
  auto plan = iep::package::plan_one(
      {{kPydicom / "CT_small.dcm"}, {dir / "notes.txt"}, {dir / "report.pdf"}});
  REQUIRE(plan.files.size() == 3);
  CHECK(plan.files[1].entry.attachment);
  CHECK(plan.files[1].entry.report.empty());
  CHECK(plan.files[2].entry.attachment);
  CHECK(plan.files[2].entry.report == "pdf");

  iep::Manifest m;
  m.package_id = std::string(32, 'a');
  m.created = "2026-12-02T05:28:29Z";
  m.sender = {"trust-a", "age1x", "RWx"};
  for (auto& f : plan.files) m.files.push_back(f.entry);
  const std::string json = m.to_json();
  CHECK(json.find("\"report\":\"pdf\"") != std::string::npos);
  auto back = iep::Manifest::parse(json, "m");
  CHECK(back.files[2].report == "pdf");
  CHECK(back.files[1].report.empty());
  // A report that is not an attachment, or of an unknown kind, is refused.
  std::string bad = json;
  bad.replace(bad.find("\"report\":\"pdf\""), 14, "\"report\":\"doc\"");
  iep::test::error_of([&] { (void)iep::Manifest::parse(bad, "m"); }, Exit::corrupt);
  // A binary file is no report.
  iep::test::write_file(dir / "scan.bin", std::string("\x89PNG\r\n\x1a\n\0\0", 10));
  iep::test::error_of(
      [&] {
        iep::package::plan_one({{kPydicom / "CT_small.dcm"}, {}, {dir / "scan.bin"}});
      },
      Exit::input);
}

TEST_CASE("report: the study's attributes, from one of its instances") {
  auto a = pacs::study_attributes(kPydicom / "CT_small.dcm");
  CHECK(a.patient_name == "CompressedSamples^CT1");
  CHECK(a.patient_id == "1CT1");
  CHECK(a.study_instance_uid == py_attr(kPydicom / "CT_small.dcm", "StudyInstanceUID"));
  CHECK(a.study_date == py_attr(kPydicom / "CT_small.dcm", "StudyDate"));
  iep::test::error_of([] { pacs::study_attributes(kPydicom / "README.txt"); }, Exit::invalid_dicom);
  // Latin-1 bytes without a declared character set (common in the field):
  // read as ISO 8859-1 rather than refused.
  const fs::path dir = iep::test::scratch("report-attrs");
  fs::copy_file(kPydicom / "CT_small.dcm", dir / "ct.dcm");
  auto rc = run("dcmodify -nb -ea '(0008,0005)' -m '(0010,0010)=M\xfcller' " +
                quote((dir / "ct.dcm").string()) + " 2>&1");
  REQUIRE_MESSAGE(rc.status == 0, rc.out);
  CHECK(pacs::study_attributes(dir / "ct.dcm").patient_name == "M\xc3\xbcller");
}

TEST_CASE("report: an Encapsulated PDF and a Basic Text SR in the study, valid IODs") {
  const fs::path dir = iep::test::scratch("report-make");
  // A study with a non-ASCII name (ISO_IR 100 in the instance): converted
  // to UTF-8, the report's character set.
  fs::copy_file(kPydicom / "CT_small.dcm", dir / "ct.dcm");
  auto rc =
      run("dcmodify -nb -i '(0008,0005)=ISO_IR 100' -m '(0010,0010)=M\xfcller^J\xfcrgen' "
          "-i '(0010,0030)=19700101' -m '(0010,0040)=F' -i '(0008,0090)=Who^Sent' "
          "-i '(0020,0010)=S42' -m '(0008,0050)=ACC-7' " +
          quote((dir / "ct.dcm").string()) + " 2>&1");
  REQUIRE_MESSAGE(rc.status == 0, rc.out);
  const auto study = pacs::study_attributes(dir / "ct.dcm");
  CHECK(study.patient_name == "M\xc3\xbcller^J\xc3\xbcrgen");

  SUBCASE("PDF") {
    const std::string pdf = sample_pdf();
    auto r = pacs::make_report_instance(study, span(pdf), pacs::ReportKind::pdf, "Neuro report.pdf",
                                        dir / "pdf.dcm");
    CHECK(r.sop_class_uid == pacs::kEncapsulatedPdfStorage);
    CHECK(iod_errors(dir / "pdf.dcm") == "");
    // The check can fail: without its MIME type the IOD is wrong.
    fs::copy_file(dir / "pdf.dcm", dir / "broken.dcm");
    REQUIRE(run("dcmodify -nb -ea '(0042,0012)' " + quote((dir / "broken.dcm").string())).status ==
            0);
    CHECK(iod_errors(dir / "broken.dcm") != "");
    const fs::path f = dir / "pdf.dcm";
    // The embedded bytes, as pydicom reads them, are the PDF (the padding
    // NUL beyond Encapsulated Document Length).
    auto out =
        run("/usr/bin/python3 -c 'import sys, pydicom\n"
            "d = pydicom.dcmread(sys.argv[1])\n"
            "b = d.EncapsulatedDocument\n"
            "assert len(b) % 2 == 0\n"
            "sys.stdout.buffer.write(b[:d.EncapsulatedDocumentLength])' " +
            quote(f.string()) + " > " + quote((dir / "out.pdf").string()));
    REQUIRE(out.status == 0);
    CHECK(iep::test::read_file(dir / "out.pdf") == pdf);
    CHECK(py_attr(f, "SOPClassUID") == "1.2.840.10008.5.1.4.1.1.104.1");
    CHECK(py_attr(f, "Modality") == "DOC");
    CHECK(py_attr(f, "MIMETypeOfEncapsulatedDocument") == "application/pdf");
    CHECK(py_attr(f, "BurnedInAnnotation") == "YES");
    CHECK(py_attr(f, "DocumentTitle") == "Neuro report");
    CHECK(py_attr(f, "SOPInstanceUID") == r.sop_instance_uid);
    CHECK(py_attr(f, "SeriesInstanceUID") == r.series_instance_uid);
    CHECK(r.series_instance_uid != py_attr(dir / "ct.dcm", "SeriesInstanceUID"));
    CHECK(py_attr(f, "ContentDate").size() == 8);
    CHECK(py_attr(f, "ContentTime").size() >= 6);
  }
  SUBCASE("text") {
    const std::string text = "Befund: keine Blutung.\nImpression: unauff\xc3\xa4llig.\n";
    auto r = pacs::make_report_instance(study, span(text), pacs::ReportKind::text, "report.txt",
                                        dir / "sr.dcm");
    CHECK(r.sop_class_uid == pacs::kBasicTextSrStorage);
    CHECK(iod_errors(dir / "sr.dcm") == "");
    const fs::path f = dir / "sr.dcm";
    CHECK(py_attr(f, "Modality") == "SR");
    CHECK(py_attr(f, "CompletionFlag") == "COMPLETE");
    CHECK(py_attr(f, "VerificationFlag") == "UNVERIFIED");
    auto out =
        run("/usr/bin/python3 -c 'import sys, pydicom\n"
            "d = pydicom.dcmread(sys.argv[1])\n"
            "assert d.ValueType == \"CONTAINER\" and len(d.ContentSequence) == 1\n"
            "i = d.ContentSequence[0]\n"
            "assert i.ValueType == \"TEXT\" and i.RelationshipType == \"CONTAINS\"\n"
            "sys.stdout.write(i.TextValue)' " +
            quote(f.string()));
    REQUIRE(out.status == 0);
    CHECK(out.out == text);
    // A text report must be UTF-8.
    iep::test::error_of(
        [&] {
          pacs::make_report_instance(study, span("\xff"), pacs::ReportKind::text, "r.txt",
                                     dir / "bad.dcm");
        },
        Exit::input);
    CHECK(!fs::exists(dir / "bad.dcm"));
  }
  // The study's attributes, as pydicom reads them, are those of the
  // package's instance, in both.
  for (const char* made : {"pdf.dcm", "sr.dcm"}) {
    const fs::path f = dir / made;
    if (!fs::exists(f)) continue;
    INFO(made);
    for (const char* kw :
         {"PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID",
          "StudyDate", "StudyTime", "AccessionNumber", "ReferringPhysicianName", "StudyID"})
      CHECK_MESSAGE(py_attr(f, kw) == py_attr(dir / "ct.dcm", kw), kw);
  }
  // An existing output is not replaced.
  iep::test::write_file(dir / "exists.dcm", "x");
  iep::test::error_of(
      [&] {
        pacs::make_report_instance(study, span("text"), pacs::ReportKind::text, "r.txt",
                                   dir / "exists.dcm");
      },
      Exit::output);
  CHECK(iep::test::read_file(dir / "exists.dcm") == "x");
}
