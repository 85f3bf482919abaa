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

#include "iep/package/manifest.h"
#include "iep/pacs/store.h"

class DcmDataset;

namespace iep::pacs {

struct StudyDecision {
  bool quarantine = false;
  std::string reason;                      // why, in words, when quarantined
  std::function<void(DcmDataset&)> apply;  // may be empty: send as stored
};

struct StudyHook {
  // `input` names the package in messages.
  std::function<StudyDecision(DcmDataset& first, const Manifest& manifest,
                              const std::string& input)>
      decide;
};

}  // namespace iep::pacs
