// The client side of the hub protocol (iep-protocol(7)): configuration,
// pinned site cards, commit, timeline, mailbox, ranged download, ack.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "iep/package/site.h"
#include "iep/transfer/http.h"
#include "iep/transfer/tus.h"

namespace iep::transfer {

// ---- Configuration (lowest precedence first) ---------------------------

// /etc/iep/hub, ~/.config/iep/hub (one line: the URL), $IEP_HUB, the flag.
// Error(Exit::usage) when none is set.
std::string hub_url(const std::string& flag);
// /etc/iep/token, ~/.config/iep/token, $IEP_TOKEN, --token-file FILE. A
// token file must not be readable by group or others (Exit::identity).
// Error(Exit::auth) when none is set. Never printed.
std::string hub_token(const std::string& token_file_flag);
// --state DIR, else $XDG_STATE_HOME/iep, else ~/.local/state/iep.
std::filesystem::path state_dir(const std::string& flag);

struct HubOptions {
  std::string url;
  std::string token;
  http::Options http;
  RetryPolicy retry;
  std::size_t chunk_size = 8 << 20;
};

// The hub's answer to a commit, and a package's timeline.
struct PackageInfo {
  std::string package;
  std::string sender;
  std::vector<std::string> recipients;
  std::uint64_t size = 0;
  std::string blake2b;
  std::string committed;
  std::string state;  // timeline only
  std::string json;   // the hub's JSON text as received
};

struct MailboxEntry {
  std::string package;
  std::string sender;
  std::uint64_t size = 0;
  std::string blake2b;
  std::string committed;
  std::string expires;
  std::string signature;  // the .minisig text
};

class Hub {
 public:
  explicit Hub(HubOptions options);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  [[nodiscard]] const std::string& url() const { return opt_.url; }
  [[nodiscard]] std::string host() const { return http::host_of(opt_.url); }
  [[nodiscard]] const HubOptions& options() const { return opt_; }
  TusClient& tus() { return *tus_; }

  // GET /v1/sites/NAME/card (the text, bounded).
  std::string card_text(const std::string& site);
  // POST /v1/uploads/ID/commit. Exit::rejected/auth per the hub's answer.
  PackageInfo commit(const std::string& upload_url, const std::string& signature_text);
  // GET /v1/packages/ID; nothing when the hub does not know it (404).
  std::optional<PackageInfo> package(const std::string& id);
  // GET /v1/mailbox?wait=S.
  std::vector<MailboxEntry> mailbox(int wait_seconds);
  // GET /v1/mailbox/ID into `file`, resuming from what it holds (Range with
  // If-Range on the ETag saved beside it). Returns the bytes received now.
  // `tap`, if given, sees the whole file's bytes in order as they are
  // written (a resumed download first replays what the file held); it is
  // reset() whenever the download starts over, so that hashing needs no
  // second pass; write() comes after the bytes are in the file (another
  // thread may read them from there), and a tap that is cancelled() stops
  // the download (Exit::output) at its next write or attempt. The file is
  // not fsynced: its bytes are only trusted once hashed.
  struct Tap {
    virtual ~Tap() = default;
    virtual void reset() = 0;
    virtual void write(ByteSpan data) = 0;
    [[nodiscard]] virtual bool cancelled() const { return false; }
  };
  std::uint64_t download(const MailboxEntry& entry, const std::filesystem::path& file,
                         Tap* tap = nullptr);
  // POST /v1/mailbox/ID/ack with a receipt; returns the hub's JSON answer.
  std::string ack(const std::string& id, const std::string& statement,
                  const std::string& signature_text);

 private:
  http::Response call(http::Request req);
  http::Headers auth() const;
  HubOptions opt_;
  std::unique_ptr<http::Client> http_;
  std::unique_ptr<TusClient> tus_;
};

// ---- Pinned cards (like ssh known_hosts) -------------------------------

// The card of `site`: the local one (site folders) if there is one and the
// hub's is the same; on first use the hub's card is saved as
// ~/.config/iep/sites/NAME.card (or the first of $IEP_SITES) with a line on
// stderr. A hub card that differs from the pin: Error(Exit::identity) naming
// the site, both key ids and `iep-send --accept-card SITE`.
SiteCard pinned_card(Hub& hub, const std::string& site);
// Replaces the pin of `site` with the hub's card; returns it. Says on
// stderr which key id replaced which.
SiteCard accept_card(Hub& hub, const std::string& site);

}  // namespace iep::transfer
