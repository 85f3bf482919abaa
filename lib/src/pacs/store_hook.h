// The per-study hook of iep-store (private to libiep, as it sees DCMTK data
// sets): patient ID reconciliation plugs in here. Called once per package,
// before anything of it is sent, with the first DICOM instance's data set
// (in manifest order) and the verified manifest. It either quarantines the
// study (nothing of it is sent: iep::Exit::quarantined with the reason) or
// returns a function applied to every data set of the study just before it
// is sent (the first one included); that function runs on several worker
// threads at once and must be safe to.
#pragma once

#include <functional>
#include <string>

#include "iep/core/io.h"
#include "iep/package/manifest.h"
#include "iep/pacs/store.h"

class DcmDataset;

namespace iep::dicom {
class File;
}

namespace iep::pacs {

struct StudyDecision {
  bool quarantine = false;
  std::string reason;                      // why, in words, when quarantined
  std::function<void(DcmDataset&)> apply;  // may be empty: send as stored
};

// What the hook sees of a package.
struct StudyInput {
  DcmDataset& first;         // the first DICOM instance, in manifest order
  const Manifest& manifest;  // verified
  const std::string& input;  // names the package in messages
  // Calls f with every DICOM instance, in manifest order, one at a time,
  // each read from the spool by iep's bounded reader (a pixel data value
  // that ends the instance is not read).
  std::function<void(const std::function<void(const dicom::File&)>& f)> each_instance;
  // The package as received, from its first byte, when the hook asked for
  // it (keep_package); else null.
  Source* package = nullptr;
};

struct StudyHook {
  std::function<StudyDecision(const StudyInput& study)> decide;
  // Keep a copy of the package as received (an unnamed temporary file) for
  // StudyInput::package, e.g. to quarantine it.
  bool keep_package = false;
};

}  // namespace iep::pacs
