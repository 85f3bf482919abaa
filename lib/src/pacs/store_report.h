// A package's report delivered by iep-store (private to libiep, as it sees
// DCMTK data sets): the attachment marked "report" in the manifest becomes
// a DICOM instance of the study (pacs/report.h), made from the study
// attributes of the first instance as it is sent (after the per-study
// hook's coercion: the same local patient ID), with Series and SOP Instance
// UIDs derived from the package, so that a re-run makes the same instance
// and the journal knows it.
#pragma once

#include <string>

#include "iep/core/io.h"
#include "iep/package/manifest.h"

class DcmDataset;

namespace iep::pacs {

// The entry of the report's DICOM instance, as if the manifest listed it:
// path "REPORT (as DICOM)", its SOP class (Encapsulated PDF or Basic Text
// SR), its UIDs ("2.25." and the decimal of the first 128 bits of a BLAKE2b
// hash of the package ID, the report's path and hash, and what the UID is
// for), Explicit VR Little Endian; size 0 until report_dicom() made it.
// Error(Exit::corrupt) for a report kind other than pdf or text.
ManifestFile report_entry(const Manifest& m, const ManifestFile& report);

// The DICOM Part 10 bytes of that instance: `content` (the report's bytes,
// verified) in the study of `first`. Error(Exit::input) naming `label` when
// the report cannot become DICOM (empty, too large, text not UTF-8).
Bytes report_dicom(DcmDataset& first, ByteSpan content, const ManifestFile& report,
                   const ManifestFile& entry, const std::string& label);

}  // namespace iep::pacs
