// Errors and exit codes shared by every iep command.
//
// Library code throws iep::Error with an exit code and a message that names
// the file or host and the cause; the tool's main() is the one place that
// prints it. The numeric values are a stable interface (see iep(7)).
#pragma once

#include <stdexcept>
#include <string>

namespace iep {

enum class Exit : int {
  ok = 0,
  internal = 1,           // a bug or an unexpected system failure
  usage = 2,              // bad flags or arguments
  input = 3,              // an input file or folder is missing or unreadable
  not_package = 4,        // the input is not an iep package
  bad_signature = 5,      // a signature does not verify, or the signer is unknown
  not_for_us = 6,         // the package is not addressed to this site
  corrupt = 7,            // content does not match what was signed, truncated, unsafe
  invalid_dicom = 8,      // a file is not DICOM, or a DICOM file does not parse
  output = 9,             // the output cannot be written (exists, disk full, closed)
  identity = 10,          // a key or site card is missing, malformed or unsafe
  several_studies = 11,   // input holds several studies; use --split
  quarantined = 12,       // done, but some files were quarantined (listed)
  phi_found = 13,         // de-identified output still holds identifying data
  network = 14,           // the hub could not be reached, or the transfer gave up after retries
  rejected = 15,          // the hub refused the package (signature, recipient, size, quota)
  auth = 16,              // the hub refused this site's credential
  busy = 17,              // another run holds the same work (overlapping cron jobs)
  replayed = 18,          // a package already delivered was offered again (a replaying hub)
  pacs_unreachable = 19,  // a DICOM peer (PACS, SCP) could not be reached or did not answer
  pacs_rejected = 20,     // a DICOM peer rejected the association (AE title, contexts)
  instances_failed = 21,  // some DICOM instances were not stored or not retrieved (listed)
};

class Error : public std::runtime_error {
 public:
  Error(Exit code, const std::string& message) : std::runtime_error(message), code_(code) {}
  [[nodiscard]] Exit code() const { return code_; }

 private:
  Exit code_;
};

// Short name of an exit code, for --json reports ("corrupt", "not_for_us", ...).
const char* exit_name(Exit code);

}  // namespace iep
