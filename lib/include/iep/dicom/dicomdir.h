// A fresh DICOMDIR for a folder of (de-identified) DICOM files.
//
// A DICOMDIR found in the input is never passed through (it indexes patients
// by name); iep-anon lays its output out with DICOMDIR-conformant file IDs
// (DICOM/S0000001/S0000001/I0000001) and regenerates the index with this.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace iep::dicom {

// Writes ROOT/DICOMDIR indexing `files` (paths relative to ROOT, with DICOMDIR-conformant
// components), replacing any earlier DICOMDIR there atomically (write a sibling temporary,
// rename). File-set ID: `fileset_id` (at most 16 characters of A-Z 0-9 _; DCMTK refuses spaces,
// so they are refused here too; may be empty). Files that
// DicomDirInterface refuses are an Error(Exit::invalid_dicom, "FILE: DCMTK's reason"), and
// nothing is written. Thread-safety: called once per run, from one thread.
//
// Built with DCMTK's DicomDirInterface for the General Purpose CD-R profile
// (STD-GEN-CD) in "invent" mode (missing Type 1 keys such as PatientID or
// StudyID are invented), except that the transfer syntax is not checked: a
// de-identified CD keeps its compressed images, and the DICOMDIR itself does
// not depend on them.
//
// With `refused`, files DCMTK refuses (or a second file of one SOP
// instance) are left out and listed there as "FILE: reason" instead.
//
// `media_uid`, when given, is the DICOMDIR's Media Storage SOP Instance UID
// (else DCMTK makes a random one): the same files then give the same bytes.
//
// Other errors: Error(Exit::usage) for a malformed fileset_id;
// Error(Exit::internal) for a file ID that is not conformant (absolute, "..",
// a component that is not 1-8 characters of A-Z 0-9 _, more than 8
// components, "DICOMDIR" itself, listed twice) since the caller chose it;
// Error(Exit::input) for a listed file that is missing or not a regular file;
// Error(Exit::output) when the DICOMDIR cannot be written.
void write_dicomdir(const std::filesystem::path& root,
                    const std::vector<std::filesystem::path>& files,
                    const std::string& fileset_id = "IEP", const std::string& media_uid = "",
                    std::vector<std::string>* refused = nullptr);

}  // namespace iep::dicom
