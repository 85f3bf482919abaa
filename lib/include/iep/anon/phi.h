// Residual patient data in de-identified DICOM: what `iep-verify --phi`
// reports. A file passes when nothing the profile must remove is still there,
// no private attribute survives that the profile does not keep, Patient
// Identity Removed is YES, and no identifying value of the original file
// appears anywhere in the output bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "iep/anon/anon.h"

namespace iep::phi {

// One problem in one file, for one output line:
//   file: tag  what
// `tag` is "(0010,1000)", a path into sequences like
// "(0040,0275)[0].(0010,0010)", or empty for findings in the raw bytes.
struct Finding {
  std::string file;
  std::string tag;
  std::string what;  // e.g. "Other Patient IDs: present, the profile removes it"
};

// An identifying value taken from an original file: its bytes as stored (in
// the file's character set), the VR and the tag it came from.
struct Needle {
  std::string value;
  std::string vr;     // "PN", "LO", "SH", "DA", "DT" or "TM"
  std::string where;  // tag path of the first attribute it came from
};

// Every identifying value of `original_dicom`, at any depth, deduplicated.
// The rule, so that a clean output gives no false alarm:
//  - values of PN, LO, SH, DA, DT and TM attributes that Table E.1-1 lists
//    and that `profile` removes or replaces (not kept: K, nor cleaned: C of
//    a clean or retain option); attributes outside the table are kept by the
//    profile, so the standard does not count them as identifying; private
//    attributes are left out (Scanner reports those by themselves);
//  - each value of a multi-valued attribute; for PN also each component
//    group ('=') and each component ('^'); spaces trimmed;
//  - at least 4 bytes long (bytes, not characters: a two-kanji name counts);
//  - not a placeholder: ANONYMOUS, ANONYMIZED, ANONYMISED, UNKNOWN, NONE,
//    REMOVED, DELETED (ignoring case), one character repeated ("----",
//    "000000000"), or without any letter or digit;
//  - not contained in a value the profile keeps (e.g. a date inside a UID
//    under retain-uids, or a study description equal to the body part):
//    that one is in the output legitimately.
// A value made only of digits and . + - (dates, times, numeric IDs) matches
// only where it is not flanked by other digits, so a time does not "occur"
// inside an unrelated UID. Values longer than 1024 bytes are cut to their
// first 1024 (still a good witness); more than 4 MiB of needles in all is
// Error(Exit::usage) (check fewer studies at once). Throws like dicom::scan for a bad file.
std::vector<Needle> identifying_values(const std::filesystem::path& original_dicom,
                                       const anon::Profile& profile = {});
// The same for several files at once (a study, a batch): values that any of
// them keeps are not needles for any of them.
std::vector<Needle> identifying_values(const std::vector<std::filesystem::path>& originals,
                                       const anon::Profile& profile = {});

class Scanner {
 public:
  // Needles as identifying_values() gives them (empty ones are ignored).
  // The search automaton is bounded to 16 MiB: more needles than fit is
  // Error(Exit::usage).
  Scanner(anon::Profile profile, std::vector<Needle> needles = {});
  ~Scanner();
  Scanner(Scanner&&) noexcept;
  Scanner& operator=(Scanner&&) noexcept;

  // All findings for `file` (empty when it passes):
  //  1. every attribute, recursively in sequences, against Table E.1-1 with
  //     the profile's columns (an enabled option overrides the basic action;
  //     of several, the most lenient: K, then C): X must be absent. Z may
  //     hold "a dummy value consistent with the VR" (PS3.15 E.1) and D, U,
  //     C replace values, so those only the needles can check: any text
  //     value containing a needle is reported with its tag;
  //  2. every private attribute, unless Retain Safe Private is on and Table
  //     E.3.10-1 lists it for its block's Private Creator (a private
  //     sequence is reported once, not its contents);
  //  3. Patient Identity Removed (0012,0062) must be "YES";
  //  4. every occurrence of a needle in the raw bytes of the file (preamble,
  //     meta header, pixel data included), streamed in constant memory, with
  //     its byte offset (at most 8 per needle per file, then a count).
  // Throws Error(Exit::invalid_dicom) when `file` is not DICOM,
  // Error(Exit::input) when it cannot be read.
  [[nodiscard]] std::vector<Finding> scan(const std::filesystem::path& file) const;

  // Only step 4, for any file, DICOM or not (read in 64 KiB chunks).
  [[nodiscard]] std::vector<Finding> scan_bytes(const std::filesystem::path& file) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace iep::phi
