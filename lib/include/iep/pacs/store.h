// Delivery of plain packages into a PACS by C-STORE (iep-store): every
// package verified whole before any of it is sent, presentation contexts
// for the stored transfer syntaxes with an uncompressed fallback (decoded
// with DCMTK's codecs), N associations in parallel, per-instance statuses,
// retries, and a journal per package and peer so that a re-run sends only
// what is missing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "iep/core/error.h"
#include "iep/package/site.h"
#include "iep/pacs/dimse.h"

namespace iep::pacs {

// What the library plugs in per study before anything of it is sent
// (patient ID reconciliation): defined in lib/src/pacs/store_hook.h, as it
// sees DCMTK data sets.
struct StudyHook;

struct StoreOptions {
  Peer pacs;
  NetOptions net;
  const TrustStore* trust = nullptr;  // who may have signed a package's manifest
  int associations = 1;               // in parallel, instances split across them
  int retries = 3;                    // per instance: transient statuses, broken associations
  double backoff = 0.5;               // seconds before the first retry, doubled each time
  // The journal folder: one file per package and peer (state_dir()/store).
  std::filesystem::path journal;
  std::shared_ptr<const StudyHook> study_hook;
  // Only send the packages pending for this PACS (journal/pending: those a
  // run read from stdin and could not store completely); `inputs` unused.
  bool pending_only = false;
  // Storage Commitment (Push Model) after the instances of a package were
  // stored; the peer's report awaited on the same association, or on a
  // listener on commit_port (0: the same association only).
  bool commit = false;
  std::uint16_t commit_port = 0;
  int commit_timeout = 60;  // seconds to wait for the report
  // -v: one line per instance (and per retry); called from worker threads,
  // one call at a time.
  std::function<void(const std::string&)> log;
  // Progress: called from worker threads, one call at a time, after each
  // instance (done, total instances; bytes done, total bytes).
  std::function<void(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t)> progress;
};

struct FailedInstance {
  std::string sop_instance_uid;
  std::string path;    // in the package
  std::string status;  // in words: "refused: out of resources (A700)", ...
};

// The outcome of one package.
struct StoreResult {
  std::string input;  // file, or "stdin (package N)"
  std::string package_id;
  std::string study_instance_uid;
  std::uint64_t instances = 0;  // DICOM instances in the package
  std::uint64_t sent = 0;       // stored by this run (warnings included)
  std::uint64_t warnings = 0;   // of those, stored with a warning status
  std::uint64_t already = 0;    // stored by an earlier run (the journal)
  std::uint64_t bytes = 0;      // DICOM bytes sent by this run
  std::vector<FailedInstance> failed;
  std::uint64_t committed = 0;  // confirmed by Storage Commitment
  double seconds = 0;
  Exit result = Exit::ok;
  std::string error;  // when result != ok: the message a tool prints
  [[nodiscard]] std::string to_json() const;
};

// Stores every package of `inputs` (plain package files, folders of them
// walked in name order, "-" for packages one after another on stdin; empty:
// stdin). Each package is read whole into an unnamed temporary file and
// verified (manifest signature, every size and hash) before anything of it
// is sent: one that does not verify sends nothing. `on_package` gets each
// package's result as it completes. Returns the first non-ok result's code
// (ok when every package was stored); stops after a package whose peer was
// unreachable or rejected the association. Throws Error for bad inputs
// (a missing file: input; an empty stdin: input).
// Before the inputs, the packages pending for this PACS are sent (each
// removed once completely stored). A package read from stdin that is
// verified but not completely stored (nor quarantined) is kept pending:
// STATE/store/pending/PACKAGE-ID.tar, its result's error says where; stdin
// is read on after the PACS was found unreachable or refusing (each package
// tried, kept if it fails), and the pending packages are sent again once a
// package from stdin is stored after such a failure.
Exit store(const std::vector<std::string>& inputs, const StoreOptions& options,
           const std::function<void(const StoreResult&)>& on_package);

}  // namespace iep::pacs
