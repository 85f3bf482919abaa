// Study-level queries against a PACS (C-FIND, Study Root Query/Retrieve
// Information Model - FIND): the keys a user may give as KEY=VALUE, checked
// before anything goes on the wire, and the studies that match.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "iep/pacs/dimse.h"

namespace iep::pacs {

// One matching key, as it goes into the C-FIND identifier.
struct QueryKey {
  std::string keyword;  // "PatientID", "StudyDate", ...
  std::string value;    // DICOM form: "20261101-20261127", "CT\MR", "SMITH*"
};

// The keys of a study query. Allowed keywords (query_keywords()):
//   PatientID         up to 64 characters, * and ? as wildcards
//   PatientName       up to 64 characters (DICOM PN: FAMILY^GIVEN), wildcards
//   AccessionNumber   up to 16 characters, wildcards
//   StudyInstanceUID  one UID, or several separated by backslashes
//   StudyDate         YYYYMMDD, a range YYYYMMDD-YYYYMMDD, open ranges
//                     -YYYYMMDD and YYYYMMDD-, and the words `today` and
//                     `yesterday` (local time) for either end
//   ModalitiesInStudy one modality (CT) or several (CT\MR): upper-case
//                     letters, digits and underscores, up to 16 each
// Values are printable ASCII without backslashes (except where a list is
// allowed). Each keyword at most once.
class StudyQuery {
 public:
  // Adds "KEY=VALUE" (as given to --query). Throws Error(Exit::usage)
  // naming `flag`, the text and the cause; an unknown keyword lists the
  // allowed ones. `today` is YYYYMMDD of the current day; empty: local time.
  void add(const std::string& text, const char* flag = "--query", const std::string& today = {});
  [[nodiscard]] const std::vector<QueryKey>& keys() const { return keys_; }
  [[nodiscard]] bool empty() const { return keys_.empty(); }
  // "PatientID=123 StudyDate=20261201" (for messages).
  [[nodiscard]] std::string to_string() const;

 private:
  std::vector<QueryKey> keys_;
};

// The keywords StudyQuery accepts, in the order of the help text.
const std::vector<std::string>& query_keywords();

// A study as the PACS described it in a C-FIND response.
struct FoundStudy {
  std::string study_uid;
  std::string patient_id;
  std::string patient_name;
  std::string accession_number;
  std::string study_date;
  std::string modalities;  // as the PACS sent them: "CT\SR"
  std::string description;
  // Number of Study Related Instances (0020,1208), when the PACS gave it.
  std::optional<std::uint32_t> instances;
};

// The most matches find_studies() accepts before it stops with an error
// that asks for a narrower query.
inline constexpr std::size_t kMaxStudies = 10000;

// Asks `peer` for the studies matching `query` (C-FIND at STUDY level, one
// association). Matches are returned in the order the PACS sent them, each
// Study Instance UID once. Throws Error: pacs_unreachable, pacs_rejected
// (association refused, the FIND model not accepted, or the C-FIND itself
// refused, with its status in words), network (the association broke),
// instances_failed when a match carries no usable Study Instance UID (it
// could not be retrieved), or when more than kMaxStudies match.
std::vector<FoundStudy> find_studies(const Peer& peer, const NetOptions& options,
                                     const StudyQuery& query);

}  // namespace iep::pacs
