// Storage Commitment, Push Model, as an SCU (PS3.4 J): ask a PACS to take
// responsibility for instances (N-ACTION) and wait for its report
// (N-EVENT-REPORT), on the same association or on a new one the PACS opens
// to us (a listener on a port of ours). Private to libiep.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "iep/pacs/dimse.h"

namespace iep::pacs {

struct CommitRequest {
  std::vector<std::pair<std::string, std::string>> instances;  // SOP class, SOP instance
  std::uint16_t listen_port = 0;  // 0: the report on the same association only
  int timeout = 60;               // seconds to wait for the report
};

struct CommitReport {
  std::vector<std::string> committed;         // SOP instance UIDs
  std::map<std::string, std::string> failed;  // SOP instance UID -> reason in words
};

// Throws iep::Error: pacs_unreachable / pacs_rejected (the association, or
// a peer without Storage Commitment), instances_failed (the N-ACTION
// refused, or no report within the timeout), network.
CommitReport storage_commit(const Peer& peer, const NetOptions& net, const CommitRequest& req);

}  // namespace iep::pacs
