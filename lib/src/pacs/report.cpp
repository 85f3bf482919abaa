// Reports as DICOM instances: Encapsulated PDF and Basic Text SR.
#include "iep/pacs/report.h"

#include <dcmtk/config/osconfig.h>  // must come first among DCMTK headers
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/oflog/oflog.h>

#include <ctime>
#include <mutex>

#include "core/util.h"
#include "iep/core/error.h"
#include "iep/dicom/dicom.h"
#include "pacs/report_dataset.h"

namespace fs = std::filesystem;

namespace iep::pacs {
namespace {

void quiet() {
  static std::once_flag once;
  std::call_once(once, [] { OFLog::configure(OFLogger::OFF_LOG_LEVEL); });
}

// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF), no NUL.
bool utf8_text(ByteSpan b) {
  std::size_t i = 0;
  while (i < b.size()) {
    std::uint8_t c = b[i];
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0)
      n = 1, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
      n = 2, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
      n = 3, cp = c & 0x07;
    else
      return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= b.size() || (b[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b[i + k] & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

std::string new_uid(const char* root) {
  char buf[100];
  dcmGenerateUniqueIdentifier(buf, root);
  return buf;
}

std::string get(DcmItem& ds, const DcmTagKey& tag) {
  OFString v;
  if (ds.findAndGetOFStringArray(tag, v).bad()) return {};
  return v.c_str();
}

void put(DcmItem& ds, const DcmTagKey& tag, const std::string& value) {
  OFCondition st = ds.putAndInsertOFStringArray(tag, OFString(value.c_str(), value.size()));
  if (st.bad())
    throw Error(Exit::internal,
                std::string("cannot set ") + DcmTag(tag).getTagName() + ": " + st.text());
}

DcmItem* add_item(DcmItem& ds, const DcmTagKey& seq) {
  DcmItem* item = nullptr;
  if (ds.findOrCreateSequenceItem(seq, item, -2).bad() || item == nullptr)
    throw Error(Exit::internal, std::string("cannot add an item to ") + DcmTag(seq).getTagName());
  return item;
}

void empty_sequence(DcmItem& ds, const DcmTagKey& seq) {
  if (ds.insertEmptyElement(seq).bad())
    throw Error(Exit::internal, std::string("cannot add ") + DcmTag(seq).getTagName());
}

void code(DcmItem& item, const char* value, const char* scheme, const char* meaning) {
  put(item, DCM_CodeValue, value);
  put(item, DCM_CodingSchemeDesignator, scheme);
  put(item, DCM_CodeMeaning, meaning);
}

// Up to `max` bytes of `s`, not cutting a UTF-8 sequence.
std::string clip_utf8(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

std::string_view kind_name(ReportKind kind) {
  return kind == ReportKind::pdf ? "pdf" : "text";
}

ReportKind parse_kind(std::string_view name) {
  if (name == "pdf") return ReportKind::pdf;
  if (name == "text") return ReportKind::text;
  throw Error(Exit::corrupt, "unknown report kind '" + std::string(name) + "'");
}

ReportKind report_kind(ByteSpan content, const std::string& name) {
  if (content.empty()) throw Error(Exit::input, name + ": an empty report");
  if (content.size() > kMaxReportBytes)
    throw Error(Exit::input,
                name + ": a report larger than " + std::to_string(kMaxReportBytes >> 20) + " MiB");
  static constexpr std::string_view kPdf = "%PDF-";
  if (content.size() >= kPdf.size() &&
      std::equal(kPdf.begin(), kPdf.end(), content.begin(),
                 [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; }))
    return ReportKind::pdf;
  if (utf8_text(content)) return ReportKind::text;
  throw Error(Exit::input,
              name +
                  ": a report must be a PDF (starting with %PDF-) or UTF-8 text without NUL "
                  "bytes; this is neither");
}

ReportKind report_kind(const fs::path& file) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (ec) throw Error(Exit::input, file.string() + ": " + ec.message());
  if (size > kMaxReportBytes)
    throw Error(Exit::input, file.string() + ": a report larger than " +
                                 std::to_string(kMaxReportBytes >> 20) + " MiB");
  std::string bytes = read_small_file(file, kMaxReportBytes);
  return report_kind(util::as_bytes(bytes), file.string());
}

StudyAttributes study_attributes(const fs::path& instance) {
  quiet();
  (void)dicom::scan(instance);  // the bounded reader's rule before DCMTK's own reader
  DcmFileFormat ff;
  OFCondition st =
      ff.loadFile(OFFilename(instance.c_str()), EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect);
  if (st.bad())
    throw Error(Exit::invalid_dicom, instance.string() + ": does not parse (" + st.text() + ")");
  return study_attributes(*ff.getDataset(), instance.string());
}

StudyAttributes study_attributes(DcmItem& ds, const std::string& name) {
  quiet();
  // Only the attributes we copy are converted: others (or a broken
  // value elsewhere) do not matter to the report.
  DcmDataset keep;
  const DcmTagKey tags[] = {DCM_SpecificCharacterSet,
                            DCM_PatientName,
                            DCM_PatientID,
                            DCM_IssuerOfPatientID,
                            DCM_PatientBirthDate,
                            DCM_PatientSex,
                            DCM_StudyInstanceUID,
                            DCM_StudyDate,
                            DCM_StudyTime,
                            DCM_AccessionNumber,
                            DCM_ReferringPhysicianName,
                            DCM_StudyID,
                            DCM_StudyDescription};
  for (const auto& t : tags) {
    DcmElement* e = nullptr;
    if (ds.findAndGetElement(t, e).good() && e != nullptr)
      keep.insert(dynamic_cast<DcmElement*>(e->clone()), true);
  }
  // A character set DCMTK cannot convert (or bytes beyond the one declared,
  // common in the field): each value is kept if it is UTF-8, else read as
  // ISO 8859-1, as the package's study summary does.
  const bool converted = keep.convertToUTF8().good();
  auto value = [&](const DcmTagKey& tag) {
    std::string v = get(keep, tag);
    return converted ? v : util::to_utf8(v);
  };
  StudyAttributes a;
  a.patient_name = value(DCM_PatientName);
  a.patient_id = value(DCM_PatientID);
  a.issuer_of_patient_id = value(DCM_IssuerOfPatientID);
  a.patient_birth_date = value(DCM_PatientBirthDate);
  a.patient_sex = value(DCM_PatientSex);
  a.study_instance_uid = value(DCM_StudyInstanceUID);
  a.study_date = value(DCM_StudyDate);
  a.study_time = value(DCM_StudyTime);
  a.accession_number = value(DCM_AccessionNumber);
  a.referring_physician = value(DCM_ReferringPhysicianName);
  a.study_id = value(DCM_StudyID);
  a.study_description = value(DCM_StudyDescription);
  if (a.study_instance_uid.empty())
    throw Error(Exit::invalid_dicom, name + ": no Study Instance UID");
  return a;
}

ReportInstance make_report_instance(const StudyAttributes& study, ByteSpan content, ReportKind kind,
                                    const std::string& title, const fs::path& out,
                                    const ReportInstance* uids) {
  quiet();
  const std::string name = title.empty() ? std::string("report") : title;
  if (content.empty()) throw Error(Exit::input, name + ": an empty report");
  if (content.size() > kMaxReportBytes)
    throw Error(Exit::input,
                name + ": a report larger than " + std::to_string(kMaxReportBytes >> 20) + " MiB");
  if (kind == ReportKind::text && !utf8_text(content))
    throw Error(Exit::input, name + ": a text report must be UTF-8 without NUL bytes");
  if (study.study_instance_uid.empty())
    throw Error(Exit::input, name + ": no Study Instance UID to put the report in");

  ReportInstance r;
  r.sop_class_uid = kind == ReportKind::pdf ? kEncapsulatedPdfStorage : kBasicTextSrStorage;
  r.series_instance_uid = uids && !uids->series_instance_uid.empty()
                              ? uids->series_instance_uid
                              : new_uid(SITE_SERIES_UID_ROOT);
  r.sop_instance_uid = uids && !uids->sop_instance_uid.empty() ? uids->sop_instance_uid
                                                               : new_uid(SITE_INSTANCE_UID_ROOT);

  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char date[16], time[16];
  std::strftime(date, sizeof date, "%Y%m%d", &tm);
  std::strftime(time, sizeof time, "%H%M%S", &tm);
  std::string stem = fs::path(name).stem().string();
  if (stem.empty()) stem = name;
  stem = clip_utf8(stem, 64);  // LO, Series Description; ST allows more

  DcmFileFormat ff;
  DcmDataset& ds = *ff.getDataset();
  // SOP Common
  put(ds, DCM_SpecificCharacterSet, "ISO_IR 192");
  put(ds, DCM_SOPClassUID, r.sop_class_uid);
  put(ds, DCM_SOPInstanceUID, r.sop_instance_uid);
  put(ds, DCM_InstanceCreationDate, date);
  put(ds, DCM_InstanceCreationTime, time);
  put(ds, DCM_TimezoneOffsetFromUTC, "+0000");
  // Patient
  put(ds, DCM_PatientName, study.patient_name);
  put(ds, DCM_PatientID, study.patient_id);
  if (!study.issuer_of_patient_id.empty())
    put(ds, DCM_IssuerOfPatientID, study.issuer_of_patient_id);
  put(ds, DCM_PatientBirthDate, study.patient_birth_date);
  put(ds, DCM_PatientSex, study.patient_sex);
  // General Study
  put(ds, DCM_StudyInstanceUID, study.study_instance_uid);
  put(ds, DCM_StudyDate, study.study_date);
  put(ds, DCM_StudyTime, study.study_time);
  put(ds, DCM_AccessionNumber, study.accession_number);
  put(ds, DCM_ReferringPhysicianName, study.referring_physician);
  put(ds, DCM_StudyID, study.study_id);
  if (!study.study_description.empty()) put(ds, DCM_StudyDescription, study.study_description);
  // Series (Encapsulated Document Series / SR Document Series)
  put(ds, DCM_Modality, kind == ReportKind::pdf ? "DOC" : "SR");
  put(ds, DCM_SeriesInstanceUID, r.series_instance_uid);
  put(ds, DCM_SeriesNumber, "9901");
  put(ds, DCM_SeriesDescription, stem);
  put(ds, DCM_SeriesDate, date);
  put(ds, DCM_SeriesTime, time);
  // General Equipment
  put(ds, DCM_Manufacturer, "iep");
  put(ds, DCM_InstanceNumber, "1");
  put(ds, DCM_ContentDate, date);
  put(ds, DCM_ContentTime, time);

  if (kind == ReportKind::pdf) {
    // SC Equipment
    put(ds, DCM_ConversionType, "WSD");
    // Encapsulated Document
    put(ds, DCM_AcquisitionDateTime, std::string(date) + time);
    put(ds, DCM_BurnedInAnnotation, "YES");
    put(ds, DCM_DocumentTitle, stem);
    empty_sequence(ds, DCM_ConceptNameCodeSequence);
    put(ds, DCM_MIMETypeOfEncapsulatedDocument, "application/pdf");
    // An OB value has an even length: one NUL pads an odd PDF (after %%EOF,
    // where PDF readers ignore it); the real length is recorded.
    Bytes value(content.begin(), content.end());
    if (value.size() % 2 != 0) value.push_back(0);
    OFCondition st = ds.putAndInsertUint8Array(DCM_EncapsulatedDocument, value.data(),
                                               static_cast<unsigned long>(value.size()));
    if (st.bad()) throw Error(Exit::internal, std::string("Encapsulated Document: ") + st.text());
    st = ds.putAndInsertUint32(DCM_EncapsulatedDocumentLength, static_cast<Uint32>(content.size()));
    if (st.bad()) throw Error(Exit::internal, st.text());
  } else {
    // SR Document Series
    empty_sequence(ds, DCM_ReferencedPerformedProcedureStepSequence);
    // SR Document General
    put(ds, DCM_CompletionFlag, "COMPLETE");
    put(ds, DCM_VerificationFlag, "UNVERIFIED");
    empty_sequence(ds, DCM_PerformedProcedureCodeSequence);
    // SR Document Content: the root container and its one TEXT item
    put(ds, DCM_ValueType, "CONTAINER");
    code(*add_item(ds, DCM_ConceptNameCodeSequence), "18748-4", "LN", "Diagnostic Imaging Report");
    put(ds, DCM_ContinuityOfContent, "SEPARATE");
    DcmItem* text = add_item(ds, DCM_ContentSequence);
    put(*text, DCM_RelationshipType, "CONTAINS");
    put(*text, DCM_ValueType, "TEXT");
    code(*add_item(*text, DCM_ConceptNameCodeSequence), "121071", "DCM", "Finding");
    std::string value(reinterpret_cast<const char*>(content.data()), content.size());
    OFCondition st =
        text->putAndInsertOFStringArray(DCM_TextValue, OFString(value.c_str(), value.size()));
    if (st.bad()) throw Error(Exit::internal, std::string("Text Value: ") + st.text());
  }

  AtomicFile file(out);
  OFCondition st =
      ff.saveFile(OFFilename(file.temp_path().c_str()), EXS_LittleEndianExplicit,
                  EET_ExplicitLength, EGL_recalcGL, EPD_withoutPadding, 0, 0, EWM_fileformat);
  if (st.bad()) throw Error(Exit::output, out.string() + ": cannot write (" + st.text() + ")");
  file.commit();
  return r;
}

}  // namespace iep::pacs
