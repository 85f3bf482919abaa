// Fetching: the receiving side. Lists this site's mailbox on the hub,
// downloads each package into the state folder (resuming with Range and
// If-Range), checks its signature against the sender's pinned card before
// reading anything inside, opens it into the output folder (atomically) or
// onto stdout, optionally runs a command on it, and only then acknowledges
// it with a signed delivery receipt.
//
// State folder layout (iep-fetch(1)), under STATE/fetch/:
//   lock          flock(2): one iep-fetch per state folder at a time
//   ledger        one line per step: "ID delivered|acked TIME"; a package
//                 acked before and offered again is refused (Exit::replayed)
//   ID.sealed     a package being downloaded (kept until acknowledged)
//   ID.sealed.etag  the ETag the partial download belongs to
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "iep/core/error.h"
#include "iep/package/site.h"
#include "iep/transfer/hub_client.h"

namespace iep::transfer {

struct FetchOptions {
  std::filesystem::path out;  // the folder studies go into (OUT/PACKAGE-ID)
  bool to_stdout = false;     // each plain package onto stdout instead
  // OUT/PACKAGE-ID is a folder to burn onto a disc instead (dicom/media.h:
  // DICOMDIR, DICOM/..., README.TXT), written once the package is opened.
  bool media = false;
  std::string exec;             // a command run per delivered study (sh -c)
  std::filesystem::path state;  // the state folder (state_dir())
  // The most a package may unpack to; 0: 4 x its sealed size + 64 MiB.
  std::uint64_t max_unpack = 0;
  bool watch = false;         // keep going (long-poll) until stop_flag()
  int wait = 30;              // long-poll seconds with watch
  bool wait_for_lock = true;  // false: Exit::busy when another fetch runs
  bool verbose = false;
};

struct FetchResult {
  std::string package;
  std::string sender;
  std::uint64_t size = 0;
  std::string study_uid;
  std::string destination;  // the study's folder, or "-" for stdout
  // delivered | already-delivered (found complete, acknowledged now) |
  // replayed | failed
  std::string outcome;
  Exit code = Exit::ok;
  std::string error;
  double seconds = 0;
  [[nodiscard]] std::string to_json() const;
};

// One pass over the mailbox, or with options.watch until stop_flag() is set
// (then it returns ok after finishing or abandoning the current package).
// `report` is called once per package. Returns the first failure's code.
Exit fetch(Hub& hub, const SiteIdentity& self, const FetchOptions& options,
           const std::function<void(const FetchResult&)>& report);

}  // namespace iep::transfer
