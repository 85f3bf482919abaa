// A sent package's delivery timeline, as the sender sees it (iep-send
// --status): the hub's GET /v1/packages/ID, with every delivery receipt
// checked against the receiver's pinned card and against what it must name
// (this package, its BLAKE2b, the receiver, this sender).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "iep/package/site.h"
#include "iep/transfer/hub_client.h"

namespace iep::transfer {

struct RecipientStatus {
  std::string site;
  std::optional<std::string> first_fetched, acknowledged;  // RFC 3339 times
  bool has_receipt = false;
  bool receipt_verified = false;
  std::string receipt_error;  // why it does not verify
};

struct PackageStatus {
  PackageInfo info;  // package, sender, size, blake2b, committed, state, json
  std::string created, upload_started, expires;
  std::vector<RecipientStatus> recipients;

  // No receipt shown fails to verify (missing receipts are not failures).
  [[nodiscard]] bool receipts_ok() const;
  // The hub's timeline with "receipt_verified" (true/false, or null with no
  // receipt) added to each recipient; one line.
  [[nodiscard]] std::string to_json() const;
  // A few lines for people, times relative to the commit.
  [[nodiscard]] std::string to_text() const;
};

// GET /v1/packages/ID as `self` (the sender). Error(Exit::rejected) when the
// hub does not know the id or it is not this site's (the hub's 404), or the
// package was sent by another site; Error(Exit::usage) for a malformed id.
PackageStatus package_status(Hub& hub, const SiteIdentity& self, const std::string& id);

// Seconds from `from` to `to` (both RFC 3339 UTC as the hub writes them);
// nothing when either does not parse.
std::optional<double> seconds_between(const std::string& from, const std::string& to);

}  // namespace iep::transfer
