// Batch de-identification: many files or studies at once, folder to folder,
// on several threads, resumable (a re-run skips what is done).
#pragma once

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "iep/anon/anon.h"
#include "iep/anon/phi.h"
#include "iep/core/io.h"
#include "iep/package/site.h"

namespace iep::anon {

struct BatchOptions {
  int jobs = 1;
  bool progress = false;  // a one-line counter on stderr
};

struct ReidEntry {
  std::string original_patient_id, pseudonym_patient_id;
  std::string original_study_uid, new_study_uid;
  bool operator<(const ReidEntry& o) const;
};

struct BatchReport {
  std::uint64_t files = 0;               // inputs seen
  std::uint64_t written = 0;             // de-identified in this run
  std::uint64_t already_done = 0;        // found finished by an earlier run
  std::uint64_t pixels_cleaned = 0;      // by --clean-pixels rules
  std::vector<std::string> not_indexed;  // written, but refused by the regenerated DICOMDIR
  std::vector<std::pair<std::string, std::string>> quarantined;  // file, reason
  std::set<std::string> studies;                                 // new Study Instance UIDs
  std::set<ReidEntry> reid;                                      // for the re-identification map
  // Inputs whose UIDs break the UID syntax, and the tags that held them
  // (their UIDs were replaced like any other).
  std::vector<std::pair<std::string, std::vector<std::string>>> nonconformant_uids;
  [[nodiscard]] std::string to_json() const;
  [[nodiscard]] std::string summary() const;  // one line for humans
};

// De-identifies every DICOM file under `inputs` (files, folders, DICOMDIRs;
// DICOMDIRs are never copied) into `out_dir` as
// STUDY/SERIES/INSTANCE.dcm under the new UIDs; when an input is a CD (has
// a DICOMDIR), as DICOM/STUDY/SERIES/INSTANCE with 8-character file IDs and
// a regenerated OUT/DICOMDIR. Each file appears whole or
// not at all; files that are not DICOM or must not leave (burned-in text)
// are quarantined with a reason and not written.
BatchReport anonymise_folder(const Anonymiser& anonymiser,
                             const std::vector<std::filesystem::path>& inputs,
                             const std::filesystem::path& out_dir, const BatchOptions& options);

// De-identifies a plain package read from `plain` (a pipe stage: iep-pack |
// iep-anon | iep-send): every DICOM entry is de-identified and renamed under
// its new UIDs; entries that are not DICOM (attachments) or must not leave,
// and a later entry with the same SOP Instance UID as an earlier one (as in
// anonymise_folder), are dropped and listed as quarantined. The input must verify (signed by
// `self` or a site in `trust`); the new manifest is signed by `self`.
// Writes the new plain package to `out` (does not call out.finish()).
BatchReport anonymise_package(const Anonymiser& anonymiser, Source& plain, const std::string& name,
                              const SiteIdentity& self, const TrustStore& trust, Sink& out);

// What a check of de-identified output found.
struct CheckReport {
  std::uint64_t files = 0;
  std::vector<std::string> findings;  // "FILE: (gggg,eeee) what", one line each
  // Files that are not acceptable DICOM instances (dicom::check_instance):
  // "FILE: cause"; their bytes are still searched for identifying values.
  std::vector<std::string> invalid;
  [[nodiscard]] std::string to_json() const;
};

// Scans every file under `out_dir` for residual identifying data (see
// iep::phi::Scanner): attributes the profile must have removed, private
// attributes, a missing Patient Identity Removed, and any identifying value
// of the `originals` (PN, LO, SH, DA, DT, TM of 4+ characters) anywhere in
// the bytes.
CheckReport check_folder(const Profile& profile,
                         const std::vector<std::filesystem::path>& originals,
                         const std::filesystem::path& out_dir, int jobs);

// Writes the re-identification map (CSV: original patient id, pseudonym,
// original study UID, new study UID) sealed with age to `to`, so only the
// holder of that site's identity can read it.
void write_reid_map(const BatchReport& report, const SiteCard& to,
                    const std::filesystem::path& file);

}  // namespace iep::anon
