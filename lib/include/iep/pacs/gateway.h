// The DICOM gateway (iep-gateway(1)): a storage SCP that PACS and
// modalities push to. Each called AE title routes to a site; a study is
// complete when the sender committed every instance of it (Storage
// Commitment) or when none arrived for a quiet period; a complete study is
// packed into DATA/outbox/SITE/ and, with a hub, sent by a sender thread
// that retries. Instances arriving after their study went out make a
// follow-up package of just them. Everything lives in the data folder, so a
// restart (even after kill -9) loses nothing and sends nothing twice.
//
// Data folder layout:
//   incoming/SITE/STUDY/SOP.dcm   received, durable, not yet packed
//   incoming/.incoming/           instances arriving (removed at start)
//   outbox/SITE/STUDY-HASH.tar.zst  packed, waiting to be sent (HASH: of
//                                 its SOP Instance UIDs, so a re-pack after
//                                 a crash makes the same name)
//   sent/SITE/STUDY-HASH.tar.zst  sent (or, without a hub, never moved)
//   packed/SITE/STUDY             the SOP Instance UIDs packed so far, one
//                                 a line (a repeated instance is dropped)
//   packed/SITE/STUDY.pending     a pack under way (package name, then its
//                                 instances), completed at start if found
//   state/                        iep-send's resumable state
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "iep/package/package.h"
#include "iep/package/site.h"
#include "iep/pacs/dimse.h"
#include "iep/transfer/hub_client.h"

namespace iep::pacs {

struct GatewayOptions {
  std::filesystem::path data;                 // the data folder (created if needed)
  std::string host;                           // listen address; empty: every interface
  std::uint16_t port = 104;                   // 0: any free port (see port_file)
  std::filesystem::path port_file;            // when set, the bound port is written here
  std::map<std::string, std::string> routes;  // called AE title -> site name
  int quiet_seconds = 60;  // a study is complete after this long without an instance
  NetOptions net;          // timeouts, largest PDU, TLS (as acceptor)
  int max_associations = 8;
  std::uint64_t max_instance_size = std::uint64_t{4} << 30;
  std::uint64_t min_free_bytes = std::uint64_t{1} << 30;
  const SiteIdentity* self = nullptr;  // signs the packages (required)
  // The hub to send to; none: packages stay in outbox/ for another sender.
  std::optional<transfer::HubOptions> hub;
  std::filesystem::path send_state;  // iep-send's state folder (default DATA/state)
  int retry_max_seconds = 300;       // longest wait between two send attempts
  package::WriteOptions write;
  bool verbose = false;
};

// Reads a routes file: one "AET SITE" a line, '#' comments, blank lines.
// Error(Exit::input) naming the file and line.
std::map<std::string, std::string> read_routes(const std::filesystem::path& file);
// Parses "AET=SITE"; Error(Exit::usage) naming --route.
std::pair<std::string, std::string> parse_route(const std::string& text);

// Runs the gateway until SIGTERM or SIGINT (blocked in the calling thread
// and taken with sigtimedwait, as iep-serve does). Logs one line per
// association and per study event on stderr. Throws iep::Error when it
// cannot start (usage, output, network: the port is taken).
void run_gateway(const GatewayOptions& options);

}  // namespace iep::pacs
