// De-identification of DICOM files by the PS3.15 Annex E Basic Application
// Level Confidentiality Profile and its Options, with keyed, deterministic
// pseudonyms: the same project key always maps the same UID, patient and
// dates the same way, on any machine, without a database.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iep/dicom/pixels.h"

namespace iep::dicom {
class File;
}

namespace iep::anon {

// A project key: 32 random bytes, kept in a 0600 file as one line
// "IEP-ANON-KEY-1" followed by 64 hex digits. Wiped on destruction.
class ProjectKey {
 public:
  static ProjectKey generate();
  // Refuses a file readable by group or others, or malformed:
  // Error(Exit::identity).
  static ProjectKey load(const std::filesystem::path& path);
  // Mode 0600; refuses to overwrite (Error(Exit::output)).
  void save(const std::filesystem::path& path) const;
  ProjectKey(const ProjectKey&);
  ProjectKey& operator=(const ProjectKey&);
  ~ProjectKey();
  [[nodiscard]] const std::array<std::uint8_t, 32>& bytes() const { return key_; }

 private:
  ProjectKey() = default;
  std::array<std::uint8_t, 32> key_{};
};

// Which columns of Table E.1-1 apply, by name as on the command line:
// basic, retain-safe-private, retain-uids, retain-device-identity,
// retain-institution-identity, retain-patient-characteristics,
// retain-longitudinal-full-dates, retain-longitudinal-modified-dates,
// clean-descriptors, clean-structured-content, clean-graphics.
struct Profile {
  bool retain_safe_private = false;
  bool retain_uids = false;
  bool retain_device_identity = false;
  bool retain_institution_identity = false;
  bool retain_patient_characteristics = false;
  bool retain_long_full_dates = false;
  bool retain_long_modified_dates = false;
  bool clean_descriptors = false;
  bool clean_structured_content = false;
  bool clean_graphics = false;

  // "basic,clean-descriptors,...": "basic" is required and implied first;
  // unknown names, or full and modified dates together, are
  // Error(Exit::usage) naming the culprit.
  static Profile parse(std::string_view names);
  [[nodiscard]] std::string names() const;  // canonical, comma separated
};

// A local override from a profile file: keep, remove, or set a value for
// one tag, whatever the table says.
struct Override {
  std::uint16_t group = 0, element = 0;
  enum class Kind { keep, remove, set } kind = Kind::keep;
  std::string value;  // for set
};

// Profile file: lines "profile NAMES", "keep (gggg,eeee)", "remove (gggg,eeee)",
// "set (gggg,eeee) VALUE"; '#' comments. Errors name the file and line:
// Error(Exit::usage).
void load_profile_file(const std::filesystem::path& path, Profile& profile,
                       std::vector<Override>& overrides);

// Mapping file (CSV "original patient id,subject id" per line, optional
// header "patient_id,subject_id"): wins over keyed pseudonyms. Duplicate or
// malformed lines are Error(Exit::usage) naming the file and line.
std::map<std::string, std::string> load_mapping(const std::filesystem::path& path);

struct Options {
  Profile profile;
  std::vector<Override> overrides;
  std::map<std::string, std::string> subject_ids;  // from load_mapping
  // Clean Pixel Data: a file that would be quarantined for burned-in text
  // is blanked by the first matching rule instead, then de-identified.
  std::optional<pixels::Rules> pixel_rules;
};

// What happened to one file.
struct Outcome {
  bool quarantined = false;
  std::string reason;           // why quarantined
  bool pixels_cleaned = false;  // by a --clean-pixels rule
  // Tags, as "(gggg,eeee)", whose input UIDs break the UID syntax (leading
  // zeros in a component, letters...): replaced like any other UID.
  std::vector<std::string> nonconformant_uids;
  // For the re-identification map and the package manifest:
  std::string original_patient_id, pseudonym_patient_id;
  std::string original_study_uid, new_study_uid;
  std::string sop_class_uid, sop_instance_uid, series_instance_uid, transfer_syntax_uid, modality;
};

class Anonymiser {
 public:
  Anonymiser(const ProjectKey& key, Options options);

  // Reads a DICOM file, de-identifies it and writes the result to `out`
  // (which must not exist), or quarantines it (writes nothing) with a
  // reason: burned-in annotation, unparseable input... Pixel data is copied
  // through, not decoded. Throws Error(Exit::invalid_dicom) for a file that
  // fails dicom::check_instance() or would hold over 32 MiB of values
  // outside its pixel data, Error(Exit::input/output) for I/O.
  Outcome file(const std::filesystem::path& in, const std::filesystem::path& out) const;
  // The same for `f`, the file `in` as dicom::File::read() returned it,
  // written to `out_fd`, a new empty file named `out` (used in errors; its
  // folder takes a scratch file): for a batch that has looked at the header
  // and moves the result into place itself. Nothing is written to a file
  // quarantined.
  Outcome file(dicom::File f, const std::filesystem::path& in, int out_fd,
               const std::filesystem::path& out) const;
  // The same for a file held in memory (an entry of a package on a pipe),
  // its result written to `out`; `name` is used in errors. Nothing (and
  // nothing written) where only file() does it the same way: a deflated
  // data set, or a file whose pixels a --clean-pixels rule must blank.
  std::optional<Outcome> bytes(std::string in, const std::string& name, std::string& out) const;
  // The same from the first bytes (`head`) of a file of `size` bytes whose
  // pixel data, its last element, runs on past them (a large entry of a
  // package on a pipe, read as it streams): `out` gets the result up to
  // the end of `head`, and the file's remaining `size - head.size()` bytes
  // follow it unchanged. Nothing (and nothing written) where the file is not
  // of that shape (dicom::File::parse_head) or only file() does it the same way.
  std::optional<Outcome> head(std::string head, std::uint64_t size, const std::string& name,
                              std::string& out) const;

  // The keyed mappings, exposed for tests and for the re-identification map.
  [[nodiscard]] std::string uid(std::string_view original) const;  // "2.25.<decimal>"
  [[nodiscard]] std::string patient_id(std::string_view original) const;
  [[nodiscard]] std::string patient_name(std::string_view original_id) const;
  [[nodiscard]] int date_shift_days(std::string_view original_patient_id) const;
  [[nodiscard]] const Options& options() const { return options_; }

 private:
  class Keyed;  // the keyed hashes, their precomputed key blocks and a memo
  ProjectKey key_;
  Options options_;
  std::shared_ptr<Keyed> keyed_;
};

}  // namespace iep::anon
