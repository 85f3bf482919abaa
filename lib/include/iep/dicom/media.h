// Media export: a plain package as a folder to burn onto a CD, DVD or USB
// stick, laid out for IHE Portable Data for Imaging (PDI) and the DICOM
// General Purpose CD-R Interchange profile (STD-GEN-CD, PS3.11 Annex D).
//
// The folder (written by iep-fetch --media, later iep-store --media):
//   DICOMDIR                      the index (DCMTK's DicomDirInterface)
//   README.TXT                    what the disc holds and who made it (PDI)
//   DICOM/ST000001/SE000001/IM000001, ...
//                                 the instances, one folder per series, in
//                                 the package's order; every component 1-8
//                                 characters of A-Z 0-9 _
//   ATTACH/NAME.EXT               the package's other attachments, under
//                                 8.3 upper-case names (not indexed)
// Instances are written in Explicit VR Little Endian, as the profile
// requires: others are converted with DCMTK (compressed pixel data decoded
// by its JPEG, JPEG-LS and RLE codecs; the SOP Instance UID is kept). A
// report the package carries (iep-pack --report) is added to the study as a
// DICOM Encapsulated PDF or Basic Text SR (pacs/report.h) in a series of its
// own, and indexed like the rest.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "iep/core/io.h"
#include "iep/package/manifest.h"
#include "iep/package/site.h"

namespace iep::dicom {

struct MediaResult {
  Manifest manifest;          // the package's, as verified
  std::size_t instances = 0;  // DICOM files indexed, reports included
  std::size_t reports = 0;    // reports turned into DICOM instances
};

// Reads the plain package `plain` (zstd or not; `name` in messages), checks
// it whole against its manifest signed by a site in `trust` (every hash,
// nothing missing, nothing extra) and only then writes `dest`: built in a
// hidden partial folder beside it (io.h StagedFolder) and renamed into
// place complete, so `dest` appears whole or not at all. The package is
// spooled in an unnamed temporary file ($TMPDIR) meanwhile; every entry is
// checked against the signed hash again as it is written, and parsed only
// then (dicom.h: the bounded reader's rule, then DCMTK).
//
// Errors, with nothing written: Error(Exit::output) when `dest` exists or
// cannot be created; the package's own errors (not_package, bad_signature,
// corrupt, ...) as iep-verify reports them; Error(Exit::usage) for a sealed
// package (open it first); Error(Exit::invalid_dicom, "NAME: ENTRY: cause")
// for an instance that does not parse or whose pixel data DCMTK cannot
// decode (JPEG 2000), or that the DICOMDIR refuses.
MediaResult write_media(Source& plain, const std::string& name, const TrustStore& trust,
                        const std::filesystem::path& dest);

}  // namespace iep::dicom
