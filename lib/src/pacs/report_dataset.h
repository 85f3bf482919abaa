// study_attributes() of a data set in memory (private to libiep, as it sees
// DCMTK types): iep-store reads them from an instance after the per-study
// hook's coercion.
#pragma once

#include <string>

#include "iep/pacs/report.h"

class DcmItem;

namespace iep::pacs {

// As study_attributes(path); `name` names the instance in messages.
StudyAttributes study_attributes(DcmItem& ds, const std::string& name);

}  // namespace iep::pacs
