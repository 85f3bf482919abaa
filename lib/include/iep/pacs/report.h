// Reports as DICOM: a report that travels with a package (iep-pack
// --report: a PDF, or plain UTF-8 text) delivered into the study it belongs
// to, as a DICOM Encapsulated PDF (SOP class 1.2.840.10008.5.1.4.1.1.104.1)
// or a Basic Text SR (1.2.840.10008.5.1.4.1.1.88.11), so that a PACS or a
// disc viewer shows it beside the images.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "iep/core/io.h"

namespace iep::pacs {

inline constexpr const char* kEncapsulatedPdfStorage = "1.2.840.10008.5.1.4.1.1.104.1";
inline constexpr const char* kBasicTextSrStorage = "1.2.840.10008.5.1.4.1.1.88.11";
// The largest report carried or converted (an Encapsulated Document is one
// DICOM value, at most 4 GiB; a report is far smaller).
inline constexpr std::uint64_t kMaxReportBytes = 64ull << 20;

enum class ReportKind { pdf, text };

// "pdf" or "text", as the manifest records it (iep-package(5)); parsing
// refuses anything else with Error(Exit::corrupt).
std::string_view kind_name(ReportKind kind);
ReportKind parse_kind(std::string_view name);

// What a report is, by its bytes: a PDF when it starts with "%PDF-", else
// text when it is UTF-8 without NUL bytes. Error(Exit::input, "NAME: cause")
// when it is neither, is empty or is larger than kMaxReportBytes.
ReportKind report_kind(ByteSpan content, const std::string& name);
// The same for a file, read whole (bounded by kMaxReportBytes).
ReportKind report_kind(const std::filesystem::path& file);

// The Patient and General Study modules of a study, as UTF-8 (converted
// from the instance's Specific Character Set; where DCMTK cannot convert,
// each value is kept if it is UTF-8 and else read as ISO 8859-1), in DICOM
// value form (dates YYYYMMDD, names with ^).
struct StudyAttributes {
  std::string patient_name;
  std::string patient_id;
  std::string issuer_of_patient_id;
  std::string patient_birth_date;
  std::string patient_sex;
  std::string study_instance_uid;
  std::string study_date;
  std::string study_time;
  std::string accession_number;
  std::string referring_physician;
  std::string study_id;
  std::string study_description;
};

// Reads them from one instance of the study (a DICOM file, read with the
// bounded reader first). Error(Exit::invalid_dicom, "FILE: cause") when it
// does not parse or has no Study Instance UID.
StudyAttributes study_attributes(const std::filesystem::path& instance);

struct ReportInstance {
  std::string sop_class_uid;
  std::string sop_instance_uid;
  std::string series_instance_uid;
};

// Writes `out` (a new file: Error(Exit::output) if it exists; written beside
// it and renamed, nothing left on failure), a DICOM Part 10 file in
// Explicit VR Little Endian holding `content` in the study `study` with a
// new Series and SOP Instance UID, Content Date and Time now, Specific
// Character Set ISO_IR 192 (UTF-8):
//  - pdf: an Encapsulated PDF, Modality DOC, Document Title `title`, MIME
//    Type application/pdf, the bytes in Encapsulated Document (0042,0011)
//    (padded with one NUL to an even length; Encapsulated Document Length
//    gives the real one), Burned In Annotation YES, Conversion Type WSD;
//  - text: a Basic Text SR, Modality SR, Completion Flag COMPLETE,
//    Verification Flag UNVERIFIED, a root CONTAINER (18748-4, LN,
//    "Diagnostic Imaging Report") holding one TEXT item (121071, DCM,
//    "Finding") with the text.
// `title` is the report's file name; its stem becomes the Document Title.
// Error(Exit::input) for empty content or content over kMaxReportBytes, or
// text that is not UTF-8. `uids`, when given, fixes the Series and SOP
// Instance UIDs (those not empty) instead of new ones: iep-store derives
// them from the package, so that a re-run makes the same instance.
ReportInstance make_report_instance(const StudyAttributes& study, ByteSpan content, ReportKind kind,
                                    const std::string& title, const std::filesystem::path& out,
                                    const ReportInstance* uids = nullptr);

}  // namespace iep::pacs
