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
  // Where the file's last value begins when it is a long one (pixel data)
  // held in the file up to its end; 0 otherwise.
  std::uint64_t tail_start = 0;
};

class File;

// The one rule for what iep accepts as a DICOM instance; iep-pack and
// iep-verify (through scan()), iep-anon (folder and pipe) and iep-anon
// --check all apply it:
//  - the file parses whole with iep's bounded reader (dicom_stream.h:
//    nesting at most 32 deep, at most 2^20 elements and items, a deflated
//    data set at most 256 MiB inflated); a file cut inside an element is
//    "cut inside element (gggg,eeee)";
//  - a bare data set (no preamble and "DICM") names its SOP Class and
//    Instance UIDs as digits and dots (else it is "not a DICOM file");
//  - a DICOMDIR has its Directory Record Sequence and every record offset
//    inside the file;
//  - any other object has a SOP Class UID and a SOP Instance UID (1-64
//    characters; UIDs that break the UID syntax, such as components with
//    leading zeros, are accepted); an image object (an image storage SOP
//    class, or Rows and Columns) has Pixel Data, Float or Double Float
//    Pixel Data; encapsulated Pixel Data has at least one fragment.
// Throws Error(Exit::invalid_dicom, "NAME: cause") naming the first broken rule.
void check_instance(const File& f);

// What a package needs to know of a file already read (and checked).
Info info_of(const File& f);

// Reads a file with the bounded reader (dicom_stream.h; large values stay
// on disk), applies check_instance() and returns what a package needs to
// know of it. Memory is bounded whatever the file claims, and no input
// makes it crash. Throws Error(Exit::invalid_dicom) naming the file and the
// cause when it is not an acceptable DICOM instance, Error(Exit::input)
// when it cannot be read or is not a regular file.
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

// True when `uid` can stand for an instance, conformant or not: 1-64
// printable ASCII characters without a backslash. What check_instance()
// asks of a SOP Class and Instance UID.
bool usable_uid(const std::string& uid);

}  // namespace iep::dicom
