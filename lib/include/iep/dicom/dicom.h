// What a package needs to know of a DICOM file, read with DCMTK.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace iep::dicom {

struct Info {
  std::string sop_class_uid;
  std::string sop_instance_uid;
  std::string study_instance_uid;   // may be empty (some objects lack it)
  std::string series_instance_uid;  // may be empty
  std::string transfer_syntax_uid;  // from the meta header, or as detected
  std::string modality;
  std::string patient_name;  // as stored (in the file's character set)
  std::string patient_id;
  std::string study_date;
  std::string study_description;
  std::string accession_number;
  std::int64_t instance_number = 0;
  bool is_dicomdir = false;  // Media Storage Directory Storage
};

// Parses a file as DICOM (Part 10 with or without preamble, or a raw data
// set) without loading large values into memory. Throws
// Error(Exit::invalid_dicom) naming the file and DCMTK's reason when it is not
// DICOM or does not parse, Error(Exit::input) when it cannot be read.
Info scan(const std::filesystem::path& file);

// The files a DICOMDIR references (Referenced File ID of every record),
// resolved against the DICOMDIR's folder, matching names case-insensitively
// as CD file systems require. Throws Error(Exit::invalid_dicom) if the
// DICOMDIR does not parse, Error(Exit::input) naming a referenced file that
// is missing, and refuses references that escape the folder.
std::vector<std::filesystem::path> dicomdir_files(const std::filesystem::path& dicomdir);

// True when `uid` is a well-formed UID (1-64 characters of digits and dots,
// no leading zeros in components); used to decide whether a UID can name a
// path inside a package.
bool valid_uid(const std::string& uid);

}  // namespace iep::dicom
