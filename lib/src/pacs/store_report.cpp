// A package's report as a DICOM instance for iep-store (store_report.h).
#include "pacs/store_report.h"

#include <dcmtk/config/osconfig.h>  // must come first among DCMTK headers
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <array>
#include <filesystem>

#include "core/util.h"
#include "iep/core/error.h"
#include "iep/pacs/report.h"
#include "pacs/report_dataset.h"

namespace iep::pacs {
namespace fs = std::filesystem;

namespace {

// "2.25." and the decimal of the first 128 bits of the hash of what names
// the report, and `what` (series, instance): at most 5 + 39 characters.
std::string derived_uid(const Manifest& m, const ManifestFile& report, std::string_view what) {
  util::Blake2b256 h;
  const std::string sep(1, '\0');
  h.write(util::as_bytes("iep-store report uid"));
  h.write(util::as_bytes(sep + m.package_id + sep + report.path + sep));
  h.write(ByteSpan(report.blake2b.data(), report.blake2b.size()));
  h.write(util::as_bytes(sep + std::string(what)));
  const auto d = h.digest();
  // Big-endian 128-bit number, divided by 10 until it is zero.
  std::array<std::uint8_t, 16> n{};
  std::copy(d.begin(), d.begin() + 16, n.begin());
  std::string digits;
  for (;;) {
    bool zero = true;
    unsigned rem = 0;
    for (auto& byte : n) {
      const unsigned cur = (rem << 8) | byte;
      byte = static_cast<std::uint8_t>(cur / 10);
      rem = cur % 10;
      if (byte != 0) zero = false;
    }
    digits.insert(digits.begin(), static_cast<char>('0' + rem));
    if (zero) break;
  }
  return "2.25." + digits;
}

}  // namespace

ManifestFile report_entry(const Manifest& m, const ManifestFile& report) {
  const ReportKind kind = parse_kind(report.report);
  ManifestFile e;
  e.path = report.path + " (as DICOM)";
  e.sop_class_uid = kind == ReportKind::pdf ? kEncapsulatedPdfStorage : kBasicTextSrStorage;
  e.series_instance_uid = derived_uid(m, report, "series");
  e.sop_instance_uid = derived_uid(m, report, "instance");
  e.transfer_syntax_uid = UID_LittleEndianExplicitTransferSyntax;
  e.modality = kind == ReportKind::pdf ? "DOC" : "SR";
  return e;
}

Bytes report_dicom(DcmDataset& first, ByteSpan content, const ManifestFile& report,
                   const ManifestFile& entry, const std::string& label) {
  const StudyAttributes study = study_attributes(first, label);
  ReportInstance uids;
  uids.series_instance_uid = entry.series_instance_uid;
  uids.sop_instance_uid = entry.sop_instance_uid;
  TempDir tmp("iep-store-report");
  const fs::path out = tmp.path() / "report.dcm";
  try {
    make_report_instance(study, content, parse_kind(report.report),
                         fs::path(report.path).filename().string(), out, &uids);
  } catch (const Error& e) {
    throw Error(e.code(), label + ": the report " + report.path + ": " + e.what());
  }
  const std::string bytes = read_small_file(out, kMaxReportBytes + (1u << 20));
  return Bytes(bytes.begin(), bytes.end());
}

}  // namespace iep::pacs
