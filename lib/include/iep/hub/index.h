// The hub's index: everything the hub knows except the bytes of uploads and
// packages (those are in the Store, store.h). Sites and their cards, tokens
// (stored as BLAKE2b-256 hex only), uploads and their durable offsets,
// packages, one mailbox entry per recipient, receipts, the audit chain.
//
// One interface, several engines: SqliteIndex (the embedded default, one
// file under --data) and PgIndex (PostgreSQL, shared by several hub nodes).
// So every method is one transaction of its own, nothing is cached between
// calls, and "one writer at a time" (an upload's lease) is a method, which
// SQLite implements with an in-process lock and PostgreSQL can with an
// advisory lock. Methods throw iep::Error(Exit::internal) on engine failure.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "iep/hub/audit.h"

namespace iep::hub {

struct SiteRow {
  std::string name;
  std::string card;    // the card's text as registered
  std::string key_id;  // minisign key id, 16 upper-case hex
  bool active = true;
  std::string added;  // RFC 3339
};

struct TokenRow {
  std::string id;    // 16 hex, public: names the token in lists and revocation
  std::string hash;  // BLAKE2b-256 hex of the token text
  std::string site;  // empty for an admin token
  bool admin = false;
  std::string created;
  bool revoked = false;
};

// An upload in progress (tus). `offset` is never ahead of the bytes the
// store has made durable.
struct UploadRow {
  std::string id;                       // 32 hex
  std::string site;                     // the uploading site
  std::optional<std::uint64_t> length;  // none: deferred
  std::uint64_t offset = 0;
  std::string metadata;      // Upload-Metadata as given
  std::string signature;     // metadata "signature", decoded (may be empty)
  std::string package_hint;  // metadata "package" (untrusted)
  std::string concat;        // "", "partial" or "final"
  std::string parts;         // final: the partial upload ids, space separated
  std::string created;
  std::string expires;             // RFC 3339; refreshed by every PATCH
  std::string state = "open";      // open, committing, expired
  std::string committing_package;  // set while the bytes move into the package store
};

struct RecipientRow {
  std::string site;
  std::optional<std::string> first_fetched, acknowledged;
  std::string receipt_statement, receipt_signature;  // empty until acknowledged
};

struct PackageRow {
  std::string id;
  std::string sender;
  std::uint64_t size = 0;
  std::string blake2b;    // BLAKE2b-512 hex of the sealed bytes (b2sum)
  std::string signature;  // the sender's .minisig text
  std::string created;    // from the signed statement
  std::string upload_started, committed, expires;
  std::string state = "committed";       // committed, delivered, expired, deleted
  std::optional<std::string> all_acked;  // when the last recipient acknowledged
  std::vector<RecipientRow> recipients;
};

// What the last step of a commit writes, in one transaction.
struct CommitRecord {
  std::string upload_id;
  PackageRow package;  // with its recipients
  AuditEvent audit;
};

class Index {
 public:
  virtual ~Index() = default;

  // Sites and cards.
  virtual void add_site(const SiteRow& site, const AuditEvent& audit) = 0;  // Error(usage) if taken
  virtual std::optional<SiteRow> site(const std::string& name) = 0;
  virtual std::vector<SiteRow> sites() = 0;
  virtual bool remove_site(const std::string& name, const AuditEvent& audit) = 0;  // deactivates

  // Tokens.
  virtual void add_token(const TokenRow& token, const AuditEvent& audit) = 0;
  virtual std::optional<TokenRow> token_by_hash(const std::string& hash) = 0;
  virtual std::vector<TokenRow> tokens() = 0;
  virtual bool revoke_token(const std::string& id, const AuditEvent& audit) = 0;

  // Uploads.
  virtual void add_upload(const UploadRow& u) = 0;
  virtual std::optional<UploadRow> upload(const std::string& id) = 0;
  virtual std::vector<UploadRow> uploads() = 0;
  virtual void update_upload(const UploadRow& u) = 0;  // offset, length, expires, state
  virtual void remove_upload(const std::string& id) = 0;
  // Bytes held by a site in open uploads (declared lengths, else offsets)
  // and in packages whose bytes are still held (not deleted or expired): what
  // --site-quota limits.
  virtual std::uint64_t bytes_held(const std::string& site) = 0;
  // Uploads of a site not yet committed, terminated or expired (what
  // --max-open-uploads limits).
  virtual std::size_t open_uploads(const std::string& site) = 0;

  // Leases: one writer per upload at a time. try_lease is false while
  // another holder has it; leases are released by release_lease or die
  // with the process.
  virtual bool try_lease(const std::string& key) = 0;
  virtual void release_lease(const std::string& key) = 0;

  // Packages. commit() removes the upload row and inserts the package, its
  // recipients and the audit record in one transaction; returns the record.
  virtual AuditRecord commit(const CommitRecord& c) = 0;
  virtual std::optional<PackageRow> package(const std::string& id) = 0;
  virtual std::vector<PackageRow> sent(const std::string& sender, std::size_t limit,
                                       const std::string& after) = 0;
  // Committed packages addressed to `site` it has not acknowledged, oldest first.
  virtual std::vector<PackageRow> mailbox(const std::string& site) = 0;
  virtual void set_first_fetched(const std::string& package, const std::string& site,
                                 const std::string& time) = 0;  // only the first time
  // Records a receipt (once; a second returns the first time). Returns the
  // acknowledgement time.
  virtual std::string acknowledge(const std::string& package, const std::string& site,
                                  const std::string& statement, const std::string& signature,
                                  const std::string& time, const AuditEvent& audit) = 0;
  // Moves a package from state `from` to state `to` and appends `audit`, in
  // one transaction. False, and nothing written, when the package was not in
  // `from`: another node's sweep got there first.
  virtual bool set_package_state(const std::string& package, const std::string& from,
                                 const std::string& to, const AuditEvent& audit) = 0;
  virtual std::vector<PackageRow> packages_in_state(const std::string& state) = 0;

  // Audit: appends (serialised with every other append) and returns the record.
  virtual AuditRecord audit(const AuditEvent& e) = 0;
  virtual std::vector<std::string> audit_lines(std::uint64_t after, std::size_t limit) = 0;
  virtual std::optional<AuditRecord> audit_head() = 0;
  virtual void add_checkpoint(const std::string& json) = 0;
  virtual std::vector<std::string> checkpoints() = 0;

  // Calls `fn` (from a thread of the engine's) whenever a package is
  // committed by any hub node sharing this index, so that long polls on
  // every node wake. An engine used by one process only (SQLite) need not:
  // the hub wakes its own waiters.
  // By value: an engine that watches keeps it (moved into its thread).
  // NOLINTNEXTLINE(performance-unnecessary-value-param)
  virtual void watch(std::function<void()> /*fn*/) {}
};

// The embedded engine: SQLite in WAL mode at `path` (created with its
// schema if missing; refuses a newer schema version). Safe to open from
// several processes (the admin commands run while the hub does).
std::unique_ptr<Index> open_sqlite_index(const std::filesystem::path& path);

// The shared engine: PostgreSQL at `conninfo` (a libpq URI
// "postgres://user:pw@host:port/db?..." or a "key=value ..." string), for
// several hub nodes. Refuses, with Error(Exit::usage), a database whose
// schema is not at this version: migrate_pg_index() first.
std::unique_ptr<Index> open_pg_index(const std::string& conninfo);

// Creates or migrates the PostgreSQL index's schema (one transaction under
// an advisory lock: several nodes may run it at once); returns the version.
int migrate_pg_index(const std::string& conninfo);

// The engine `spec` names: empty for the embedded SQLite index under `data`
// (index.sqlite), "postgres://..." or "postgresql://..." for PostgreSQL.
// Error(Exit::usage) for anything else.
std::unique_ptr<Index> open_index(const std::string& spec, const std::filesystem::path& data);

// Now as RFC 3339 UTC with milliseconds ("2026-12-02T10:00:00.123Z"), and
// a time `seconds` from now.
std::string now_ms(std::int64_t seconds_from_now = 0);

}  // namespace iep::hub
