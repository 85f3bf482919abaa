// The hub: the protocol of iep-protocol(7) over an Index and a Store,
// independent of any HTTP server. The server (server.h) turns each HTTP
// request into a Request, feeds its body to the Exchange that begin()
// returns, and sends the Response; a fuzzer or a test can do the same
// without a socket.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "iep/core/io.h"
#include "iep/hub/index.h"
#include "iep/hub/store.h"

namespace iep::hub {

struct Request {
  std::string method;                                        // upper case
  std::string path;                                          // as received, without the query
  std::vector<std::pair<std::string, std::string>> query;    // decoded
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string peer;                                          // client address, for logs
  // The first header of that (lower-case) name, if any.
  [[nodiscard]] const std::string* header(std::string_view name) const;
  [[nodiscard]] const std::string* param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Instead of `body`: `file_length` bytes of `file` from `file_offset`,
  // or (when `file` is -1) of `stream`.
  UniqueFd file;
  std::unique_ptr<Source> stream;
  std::uint64_t file_offset = 0, file_length = 0;
  void set(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

// One request in flight. The server calls body() with each piece of the
// request body as it arrives, then finish() once, or abort() if the
// connection was cut (then finish() is not called).
class Exchange {
 public:
  virtual ~Exchange() = default;
  virtual void body(ByteSpan data) = 0;
  virtual Response finish() = 0;
  virtual void abort() {}
  // A response known before the body (an error): the server may send it
  // without reading the body (e.g. when the client waits for 100-continue).
  [[nodiscard]] virtual const Response* early() const { return nullptr; }
};

struct HubConfig {
  std::filesystem::path data;  // the hub's key; the index and store unless named below
  std::string index;           // an engine for open_index() ("": SQLite under data)
  std::string store;           // an engine for open_store() ("": files under data)
  std::uint64_t max_package_size = 64ULL << 30;  // 64 GiB
  std::uint64_t site_quota = 0;                  // 0: none
  std::int64_t upload_expiry = 24 * 3600;        // seconds after the last PATCH
  std::int64_t expire_after = 30 * 24 * 3600;    // unfetched packages
  std::int64_t ack_grace = 7 * 24 * 3600;        // acknowledged packages kept
  std::int64_t checkpoint_every = 60;
  std::int64_t sweep_every = 10;      // seconds between sweeps
  std::int64_t max_wait = 60;         // longest mailbox long poll (wait=S is clamped)
  std::size_t max_open_uploads = 64;  // unfinished uploads per site (429 beyond)
  unsigned max_waits_per_site = 4;    // long polls held at once per site (more: wait=0)
  std::string hub_name = "iep-hub";
  bool log_requests = true;
};

class Hub {
 public:
  // Opens (creating if needed) the index and store under config.data and
  // brings uploads back in line with the bytes that are durable.
  explicit Hub(HubConfig config);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  std::unique_ptr<Exchange> begin(Request req);

  // Periodic work: expiring uploads and packages, deleting acknowledged
  // packages after the grace, checkpoints. Called by the server's sweeper.
  void sweep();
  void checkpoint();
  // Wakes every long poll (shutting down).
  void wake_all();

  // Logs one line per request (called by the server when it is done).
  void log_request(const Request& req, int status, std::uint64_t in, std::uint64_t out,
                   const std::string& request_id, const std::string& package) const;

  [[nodiscard]] const HubConfig& config() const { return cfg_; }
  [[nodiscard]] Index& index() { return *index_; }
  [[nodiscard]] Store& store() { return *store_; }

  struct Impl;

 private:
  HubConfig cfg_;
  std::unique_ptr<Index> index_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Impl> impl_;
};

// ---- Local administration (iep-serve site/token/admin-token/audit) -------

// Registers a site from its card text; returns its name.
std::string admin_site_add(Index& ix, const std::string& card_text, const std::string& actor);
void admin_site_remove(Index& ix, const std::string& name, const std::string& actor);
// Issues a token for `site` (empty: an admin token). Returns {token, id};
// the token is shown once and stored only hashed.
std::pair<std::string, std::string> admin_token_issue(Index& ix, const std::string& site,
                                                      const std::string& actor);
void admin_token_revoke(Index& ix, const std::string& id, const std::string& actor);

// The hub's audit signing key under the data folder (hub.key, 0600, made on
// first use) and its public half as a minisign public key file.
minisign::SecretKey hub_key(const std::filesystem::path& data);
std::string hub_public_key_file(const minisign::SecretKey& key);

}  // namespace iep::hub
