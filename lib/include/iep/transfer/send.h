// Sending a study to a hub: seal into the local state folder while a second
// thread uploads what has been sealed so far (tus, deferred length), then
// commit with the signature. Idempotent and resumable: the state is keyed
// by the input, so a re-run after a crash or a cut resumes from the hub's
// offset, and a package the hub committed is never sent again.
//
// State folder layout (iep-send(1)), under STATE/send/KEY/ where KEY is the
// BLAKE2b-256 hex of the input (paths: canonical path, size and mtime of
// every file; stdin: the plain package's bytes), the recipients and the hub:
//   lock            flock(2): one run per input at a time
//   input           what the key was made of (for people)
//   plain           stdin only: the plain package as read
//   sealed          the sealed bytes (partial while sealing)
//   sealed.minisig  written once `sealed` is complete (`sealed` is not
//                   fsynced: a resume checks it against this first)
//   upload          the upload's URL on the hub
//   sent.json       the hub's commit answer; then the rest is removed
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "iep/package/package.h"
#include "iep/package/site.h"
#include "iep/transfer/hub_client.h"

namespace iep::transfer {

struct SendOptions {
  std::filesystem::path state;  // the state folder (state_dir())
  bool wait_for_lock = true;    // false: Exit::busy when another run holds the input
  bool progress = false;        // a progress line on stderr
  bool verbose = false;
  int jobs = 1;  // packages in parallel (send_plans)
  package::WriteOptions write;
};

struct SendResult {
  std::string input;    // what was sent, for people
  std::string package;  // package id
  std::vector<std::string> recipients;
  std::uint64_t size = 0;  // sealed bytes
  bool already_sent = false;
  double seal_seconds = 0, upload_seconds = 0, commit_seconds = 0;
  std::string committed;  // the hub's time
  std::string blake2b;
  [[nodiscard]] std::string to_json() const;
};

// Sends one study (a plan) to `to`, sealed by `self`.
SendResult send_plan(Hub& hub, const SiteIdentity& self, package::Plan plan,
                     const std::vector<SiteCard>& to, const SendOptions& options);

// Sends a plain package read from `plain`, keyed by its bytes: sealed and
// uploaded while it is read, the job found once it has ended (a duplicate
// then commits nothing); spooled into the state folder first instead when
// an earlier run from stdin stopped before its commit, so that it resumes.
// `trust` as for package::seal_plain.
SendResult send_plain(Hub& hub, const SiteIdentity& self, Source& plain, const TrustStore& trust,
                      const std::vector<SiteCard>& to, const SendOptions& options);

// Uploads a package sealed earlier (iep-send --output FILE) as it is, with
// its signature `signature` (FILE.minisig), which must be this site's: the
// hub checks it over the bytes it receives. Its recipients are the ones it
// was sealed for; `to`, when not empty, must name exactly those sites.
// Keyed by the signature, which identifies the sealed bytes: a re-run
// resumes, and a package already committed is not sent again.
SendResult send_sealed(Hub& hub, const SiteIdentity& self, const std::filesystem::path& sealed,
                       const std::filesystem::path& signature, const std::vector<std::string>& to,
                       const SendOptions& options);

// Sends several studies, options.jobs at a time; each result (or error, as
// a result with an empty package and `error` set) reported in input order
// once all are done. Returns the exit code of the first failure, or ok.
struct SendOutcome {
  SendResult result;
  Exit code = Exit::ok;
  std::string error;
};
std::vector<SendOutcome> send_plans(const HubOptions& hub, const SiteIdentity& self,
                                    std::vector<package::Plan> plans,
                                    const std::vector<SiteCard>& to, const SendOptions& options);

}  // namespace iep::transfer
