// The manifest of a package: what it holds, who sent it, to whom.
// Serialised as JSON (MANIFEST.json, the last-but-one tar entry) and signed
// by the sender (MANIFEST.json.minisig). Specified in iep-package(5).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace iep {

struct ManifestFile {
  std::string path;  // entry name in the tar
  std::uint64_t size = 0;
  std::array<std::uint8_t, 32> blake2b{};  // BLAKE2b-256 of the content
  bool attachment = false;                 // false: a DICOM instance
  // Attachments only: "pdf" or "text" when it is the study's report
  // (iep-pack --report), which a receiver may turn into a DICOM instance
  // (pacs/report.h); empty for other attachments and in older packages.
  std::string report;
  // DICOM instances only:
  std::string sop_class_uid;
  std::string sop_instance_uid;
  std::string series_instance_uid;
  std::string transfer_syntax_uid;
  std::string modality;
};

struct StudySummary {
  std::string study_instance_uid;
  std::string patient_name;  // UTF-8
  std::string patient_id;
  std::string study_date;
  std::string study_description;
  std::string accession_number;
  std::vector<std::string> modalities;  // sorted, unique
  std::uint64_t series = 0;
  std::uint64_t instances = 0;
  std::uint64_t bytes = 0;  // DICOM bytes, attachments excluded
};

struct ManifestSite {
  std::string site;
  std::string age_recipient;  // "age1..."
  std::string signing_key;    // minisign public key line ("RW..."); sender only
  bool operator==(const ManifestSite&) const = default;
};

struct Manifest {
  static constexpr std::string_view kFormat = "iep-package/1";
  std::string package_id;  // 32 lower-case hex digits, random
  std::string created;     // RFC 3339 UTC
  ManifestSite sender;
  std::vector<ManifestSite> recipients;  // empty in a plain package from iep-pack
  StudySummary study;
  std::vector<ManifestFile> files;

  [[nodiscard]] std::string to_json() const;
  // The same text as to_json(), handed to `emit` in pieces.
  void write_json(const std::function<void(std::string_view)>& emit) const;
  // Strict: unknown format, missing or mistyped fields, unsafe paths,
  // duplicate paths, a path that is the folder of another, duplicate keys
  // and a `created` that is not RFC 3339 are Error(Exit::corrupt) naming
  // `source`. Bounded whatever the input: at most 8 levels deep, 64 members
  // an object, 1024 values a list (1,000,000 files), strings of 4096 bytes;
  // unknown members are checked but not kept, and time grows linearly.
  // `expected_files` (a reader that counted the package's entries) sizes
  // the list up front: no growth by doubling.
  static Manifest parse(std::string_view json, const std::string& source,
                        std::size_t expected_files = 0);
  // Recomputes the study summary's counts from `files`.
  void summarise();
};

std::string new_package_id();

// "2026-12-02T05:28:29Z", with an optional fraction of a second and a
// numeric offset instead of Z (RFC 3339, section 5.6).
bool valid_rfc3339(std::string_view text);

}  // namespace iep
