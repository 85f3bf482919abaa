// PgIndex: the index in PostgreSQL (libpq), shared by several iep-serve
// nodes. The same tables and the same semantics as SqliteIndex; what only a
// shared database needs is here too: a versioned schema migrated under an
// advisory lock, a pool of connections, retry after a lost connection,
// advisory locks for leases, LISTEN/NOTIFY for commits on other nodes.
#include <libpq-fe.h>
#include <poll.h>
#include <sodium.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <type_traits>
#include <vector>

#include "hub/hub_util.h"
#include "hub/index_columns.h"
#include "iep/core/error.h"
#include "iep/hub/index.h"

namespace iep::hub {
namespace {

// The schema, one migration per version, in order; never edit one that has
// shipped, add the next. Bytes that come from the network unchecked (the
// Upload-Metadata header, the decoded signature) are BYTEA: a TEXT column in
// a UTF-8 database would refuse some of them. Columns the methods sort or
// page by compare bytes (COLLATE "C"), as SQLite does, whatever the
// database's locale.
const char* const kMigrations[] = {
    R"(
CREATE TABLE sites(name TEXT COLLATE "C" PRIMARY KEY, card TEXT NOT NULL,
  key_id TEXT NOT NULL UNIQUE, active BOOLEAN NOT NULL, added TEXT NOT NULL);
CREATE TABLE tokens(id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, site TEXT NOT NULL,
  admin BOOLEAN NOT NULL, created TEXT COLLATE "C" NOT NULL,
  revoked BOOLEAN NOT NULL DEFAULT FALSE);
CREATE INDEX tokens_site ON tokens(site);
CREATE TABLE uploads(id TEXT PRIMARY KEY, site TEXT NOT NULL, length BIGINT, off BIGINT NOT NULL,
  metadata BYTEA NOT NULL, signature BYTEA NOT NULL, package_hint TEXT NOT NULL,
  concat TEXT NOT NULL, parts TEXT NOT NULL, created TEXT COLLATE "C" NOT NULL,
  expires TEXT NOT NULL, state TEXT NOT NULL, committing_package TEXT NOT NULL);
CREATE INDEX uploads_site ON uploads(site);
CREATE TABLE packages(id TEXT COLLATE "C" PRIMARY KEY, sender TEXT NOT NULL,
  size BIGINT NOT NULL, blake2b TEXT NOT NULL, signature BYTEA NOT NULL, created TEXT NOT NULL,
  upload_started TEXT NOT NULL, committed TEXT COLLATE "C" NOT NULL, expires TEXT NOT NULL,
  state TEXT NOT NULL, all_acked TEXT);
CREATE INDEX packages_sender ON packages(sender, committed);
CREATE INDEX packages_state ON packages(state, committed);
CREATE TABLE recipients(package TEXT NOT NULL, site TEXT NOT NULL, pos INTEGER NOT NULL,
  first_fetched TEXT, acknowledged TEXT, receipt_statement TEXT NOT NULL DEFAULT '',
  receipt_signature TEXT NOT NULL DEFAULT '', PRIMARY KEY(package, site));
CREATE INDEX recipients_site ON recipients(site, acknowledged);
CREATE TABLE audit(seq BIGINT PRIMARY KEY, hash TEXT NOT NULL, line TEXT NOT NULL);
CREATE TABLE audit_head(id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL,
  hash TEXT NOT NULL);
INSERT INTO audit_head(id, seq, hash) VALUES(1, 0, repeat('0', 64));
CREATE TABLE checkpoints(id BIGSERIAL PRIMARY KEY, json TEXT NOT NULL);
)",
};
constexpr int kSchemaVersion = static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]);

// pg_advisory_xact_lock key that serialises migrations ("iep-migr").
constexpr std::int64_t kMigrateLock = 0x6965702d6d696772;
constexpr std::size_t kPoolMax = 8;

// What may be shown of a conninfo: never the user info (password) nor the
// query (password=, sslpassword=) of a URI; host, port and database of a
// key=value string.
std::string shown(const std::string& conninfo) {
  auto scheme = conninfo.find("://");
  if (scheme != std::string::npos) {
    std::string rest = conninfo.substr(scheme + 3);
    rest = rest.substr(0, rest.find('?'));
    auto at = rest.rfind('@');
    if (at != std::string::npos) rest = "...@" + rest.substr(at + 1);
    return conninfo.substr(0, scheme + 3) + rest.substr(0, 200);
  }
  std::string out;
  if (PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), nullptr)) {
    for (auto* o = opts; o->keyword != nullptr; ++o) {
      if (o->val == nullptr) continue;
      std::string k = o->keyword;
      if (k == "host" || k == "hostaddr" || k == "port" || k == "dbname")
        out += (out.empty() ? "" : " ") + k + "=" + o->val;
    }
    PQconninfoFree(opts);
  }
  return out.empty() ? "(conninfo)" : out;
}

// libpq's messages end with a newline and may span lines: one line.
std::string one_line(const char* msg) {
  std::string s = msg != nullptr ? msg : "unknown error";
  for (auto& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

struct Finish {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, Finish>;
struct Clear {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, Clear>;

// The connection broke (server restarted, network): the method is retried
// once on a new one. Never leaves this file.
struct ConnLost {
  std::string message;
};

Conn connect(const std::string& conninfo) {
  Conn c(PQconnectdb(conninfo.c_str()));
  if (!c) throw Error(Exit::internal, "index " + shown(conninfo) + ": postgres: out of memory");
  if (PQstatus(c.get()) != CONNECTION_OK)
    throw Error(Exit::internal,
                "index " + shown(conninfo) + ": postgres: " + one_line(PQerrorMessage(c.get())));
  // Notices (e.g. "relation exists, skipping") are not ours to print.
  PQsetNoticeProcessor(
      c.get(), [](void*, const char*) {}, nullptr);
  return c;
}

// One query parameter: text, NULL, or bytes (BYTEA, sent in binary).
struct Param {
  std::string value;
  bool null = false;
  bool bytes = false;
};
Param txt(const std::string& s) {
  return Param{s, false, false};
}
Param num(std::int64_t v) {
  return Param{std::to_string(v), false, false};
}
Param num(std::uint64_t v) {
  return Param{std::to_string(v), false, false};
}
Param bin(const std::string& s) {
  return Param{s, false, true};
}
Param opt(const std::optional<std::uint64_t>& v) {
  return v ? num(*v) : Param{"", true, false};
}

// A query's result (text format).
class Result {
 public:
  explicit Result(ResultPtr r) : r_(std::move(r)) {}
  [[nodiscard]] int rows() const { return PQntuples(r_.get()); }
  [[nodiscard]] bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  [[nodiscard]] std::string text(int row, int col) const {
    return {PQgetvalue(r_.get(), row, col),
            static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
  }
  [[nodiscard]] std::optional<std::string> opt_text(int row, int col) const {
    if (null(row, col)) return std::nullopt;
    return text(row, col);
  }
  [[nodiscard]] std::int64_t i64(int row, int col) const {
    return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
  }
  [[nodiscard]] bool boolean(int row, int col) const {
    return PQgetvalue(r_.get(), row, col)[0] == 't';
  }
  // A BYTEA column: hex output ("\x...") since PostgreSQL 9.0.
  [[nodiscard]] std::string bytes(int row, int col) const {
    std::string s = text(row, col);
    if (s.size() < 2 || s[0] != '\\' || s[1] != 'x') return s;
    std::string out;
    out.reserve((s.size() - 2) / 2);
    auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    for (std::size_t i = 2; i + 1 < s.size(); i += 2)
      out.push_back(static_cast<char>(nib(s[i]) << 4 | nib(s[i + 1])));
    return out;
  }
  // Rows an INSERT/UPDATE/DELETE touched.
  [[nodiscard]] std::int64_t affected() const {
    return std::strtoll(PQcmdTuples(r_.get()), nullptr, 10);
  }

 private:
  ResultPtr r_;
};

// Checks a result: ConnLost when the connection is gone, Error(usage) for
// a constraint (as SqliteIndex: a duplicate id), else Error(internal).
Result checked(PGconn* c, PGresult* raw) {
  ResultPtr r(raw);
  auto st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Result(std::move(r));
  std::string msg = one_line(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(c));
  if (msg.empty()) msg = one_line(PQerrorMessage(c));
  if (PQstatus(c) == CONNECTION_BAD) throw ConnLost{msg};
  const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
  if (state != nullptr && std::strncmp(state, "23", 2) == 0)
    throw Error(Exit::usage, "index: postgres: " + msg);
  throw Error(Exit::internal, "index: postgres: " + msg);
}

Result exec(PGconn* c, const char* sql, const std::vector<Param>& params = {}) {
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (const auto& p : params) {
    values.push_back(p.null ? nullptr : p.value.data());
    lengths.push_back(static_cast<int>(p.value.size()));
    formats.push_back(p.bytes ? 1 : 0);
  }
  return checked(c, PQexecParams(c, sql, static_cast<int>(params.size()), nullptr, values.data(),
                                 lengths.data(), formats.data(), 0));
}

// Several statements, no parameters (the migrations).
void exec_script(PGconn* c, const char* sql) {
  checked(c, PQexec(c, sql));
}

// The version the database's schema is at, 0 when it has none.
int schema_version(PGconn* c) {
  if (exec(c, "SELECT to_regclass('schema_version')").null(0, 0)) return 0;
  Result v = exec(c, "SELECT version FROM schema_version");
  return v.rows() == 0 ? 0 : static_cast<int>(v.i64(0, 0));
}

// The lease key as an advisory lock key: the first 8 bytes of BLAKE2b of
// the key string.
std::int64_t lock_key(const std::string& key) {
  unsigned char h[crypto_generichash_BYTES];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                     nullptr, 0);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | h[i];
  return static_cast<std::int64_t>(v);
}

// Up to kPoolMax connections; a method borrows one for its transaction.
class Pool {
 public:
  explicit Pool(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  Conn borrow() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return !idle_.empty() || open_ < kPoolMax; });
    if (!idle_.empty()) {
      Conn c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    ++open_;
    lk.unlock();
    try {
      return connect(conninfo_);
    } catch (...) {
      lk.lock();
      --open_;
      cv_.notify_one();
      throw;
    }
  }
  void give_back(Conn c) {
    std::lock_guard lk(mu_);
    idle_.push_back(std::move(c));
    cv_.notify_one();
  }
  // A connection found broken: closed, and the idle ones with it, since
  // they went to the same server (a restart breaks all of them).
  void broken(Conn c) {
    std::vector<Conn> dead;
    {
      std::lock_guard lk(mu_);
      dead.swap(idle_);
      open_ -= dead.size() + 1;
      cv_.notify_all();
    }
    c.reset();
  }
  [[nodiscard]] const std::string& conninfo() const { return conninfo_; }

 private:
  std::string conninfo_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Conn> idle_;
  std::size_t open_ = 0;
};

class PgIndex : public Index {
 public:
  explicit PgIndex(const std::string& conninfo) : pool_(conninfo) {
    Conn c = pool_.borrow();
    int have = schema_version(c.get());
    if (have != kSchemaVersion)
      throw Error(Exit::usage, "index " + shown(conninfo) + ": schema version " +
                                   std::to_string(have) + ", this iep-serve needs " +
                                   std::to_string(kSchemaVersion) + ": run iep-serve migrate");
    pool_.give_back(std::move(c));
  }
  ~PgIndex() override {
    stop_ = true;
    if (watcher_.joinable()) watcher_.join();
  }
  PgIndex(const PgIndex&) = delete;
  PgIndex& operator=(const PgIndex&) = delete;

  // ---- sites
  void add_site(const SiteRow& s, const AuditEvent& audit) override {
    tx([&](PGconn* c) {
      // Serialised by the chain head first, so that two nodes adding the
      // same site see each other.
      AuditHead head = lock_head(c);
      Result q = exec(c, "SELECT name FROM sites WHERE name=$1 OR key_id=$2",
                      {txt(s.name), txt(s.key_id)});
      if (q.rows() > 0)
        throw Error(Exit::rejected, "site " + s.name + ": a site " + q.text(0, 0) +
                                        " with this name or signing key is registered already");
      exec(c, "INSERT INTO sites(name,card,key_id,active,added) VALUES($1,$2,$3,TRUE,$4)",
           {txt(s.name), txt(s.card), txt(s.key_id), txt(s.added)});
      append_audit(c, head, audit);
    });
  }
  std::optional<SiteRow> site(const std::string& name) override {
    return tx([&](PGconn* c) -> std::optional<SiteRow> {
      Result q =
          exec(c, "SELECT name,card,key_id,active,added FROM sites WHERE name=$1", {txt(name)});
      if (q.rows() == 0) return std::nullopt;
      return site_row(q, 0);
    });
  }
  std::vector<SiteRow> sites() override {
    return tx([&](PGconn* c) {
      Result q = exec(c, "SELECT name,card,key_id,active,added FROM sites ORDER BY name");
      std::vector<SiteRow> out;
      for (int i = 0; i < q.rows(); ++i) out.push_back(site_row(q, i));
      return out;
    });
  }
  bool remove_site(const std::string& name, const AuditEvent& audit) override {
    return tx([&](PGconn* c) {
      AuditHead head = lock_head(c);
      if (exec(c, "UPDATE sites SET active=FALSE WHERE name=$1 AND active", {txt(name)})
              .affected() == 0)
        return false;
      exec(c, "UPDATE tokens SET revoked=TRUE WHERE site=$1", {txt(name)});
      append_audit(c, head, audit);
      return true;
    });
  }

  // ---- tokens
  void add_token(const TokenRow& t, const AuditEvent& audit) override {
    tx([&](PGconn* c) {
      AuditHead head = lock_head(c);
      exec(c, "INSERT INTO tokens(id,hash,site,admin,created,revoked) VALUES($1,$2,$3,$4,$5,FALSE)",
           {txt(t.id), txt(t.hash), txt(t.site), txt(t.admin ? "t" : "f"), txt(t.created)});
      append_audit(c, head, audit);
    });
  }
  std::optional<TokenRow> token_by_hash(const std::string& hash) override {
    return tx([&](PGconn* c) -> std::optional<TokenRow> {
      Result q = exec(c, "SELECT id,hash,site,admin,created,revoked FROM tokens WHERE hash=$1",
                      {txt(hash)});
      if (q.rows() == 0) return std::nullopt;
      return token_row(q, 0);
    });
  }
  std::vector<TokenRow> tokens() override {
    return tx([&](PGconn* c) {
      Result q = exec(c, "SELECT id,hash,site,admin,created,revoked FROM tokens ORDER BY created");
      std::vector<TokenRow> out;
      for (int i = 0; i < q.rows(); ++i) out.push_back(token_row(q, i));
      return out;
    });
  }
  bool revoke_token(const std::string& id, const AuditEvent& audit) override {
    return tx([&](PGconn* c) {
      AuditHead head = lock_head(c);
      if (exec(c, "UPDATE tokens SET revoked=TRUE WHERE id=$1 AND NOT revoked", {txt(id)})
              .affected() == 0)
        return false;
      append_audit(c, head, audit);
      return true;
    });
  }

  // ---- uploads
  void add_upload(const UploadRow& u) override {
    tx([&](PGconn* c) {
      exec(c,
           "INSERT INTO uploads(id,site,length,off,metadata,signature,package_hint,concat,parts,"
           "created,expires,state,committing_package) "
           "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
           {txt(u.id), txt(u.site), opt(u.length), num(u.offset), bin(u.metadata), bin(u.signature),
            txt(u.package_hint), txt(u.concat), txt(u.parts), txt(u.created), txt(u.expires),
            txt(u.state), txt(u.committing_package)});
    });
  }
  std::optional<UploadRow> upload(const std::string& id) override {
    return tx([&](PGconn* c) -> std::optional<UploadRow> {
      Result q = exec(c, kUploadCols " WHERE id=$1", {txt(id)});
      if (q.rows() == 0) return std::nullopt;
      return upload_row(q, 0);
    });
  }
  std::vector<UploadRow> uploads() override {
    return tx([&](PGconn* c) {
      Result q = exec(c, kUploadCols " ORDER BY created");
      std::vector<UploadRow> out;
      for (int i = 0; i < q.rows(); ++i) out.push_back(upload_row(q, i));
      return out;
    });
  }
  void update_upload(const UploadRow& u) override {
    tx([&](PGconn* c) {
      exec(c,
           "UPDATE uploads SET length=$1,off=$2,expires=$3,state=$4,committing_package=$5 "
           "WHERE id=$6",
           {opt(u.length), num(u.offset), txt(u.expires), txt(u.state), txt(u.committing_package),
            txt(u.id)});
    });
  }
  void remove_upload(const std::string& id) override {
    tx([&](PGconn* c) { exec(c, "DELETE FROM uploads WHERE id=$1", {txt(id)}); });
  }
  std::uint64_t bytes_held(const std::string& site) override {
    return tx([&](PGconn* c) {
      // An expired upload's row is kept a while (to answer 410), its bytes are not.
      Result q = exec(c,
                      "SELECT (SELECT COALESCE(SUM(COALESCE(length,off)),0) FROM uploads"
                      " WHERE site=$1 AND state!='expired'),"
                      " (SELECT COALESCE(SUM(size),0) FROM packages WHERE sender=$1"
                      " AND state NOT IN ('deleted','expired'))",
                      {txt(site)});
      return static_cast<std::uint64_t>(q.i64(0, 0) + q.i64(0, 1));
    });
  }
  std::size_t open_uploads(const std::string& site) override {
    return tx([&](PGconn* c) {
      Result q =
          exec(c, "SELECT COUNT(*) FROM uploads WHERE site=$1 AND state!='expired'", {txt(site)});
      return static_cast<std::size_t>(q.i64(0, 0));
    });
  }

  // ---- leases: a session advisory lock on one connection kept for them,
  // so a lease dies with the process. Advisory locks are re-entrant within
  // a session: the set refuses a second holder in this process. When that
  // connection breaks, the server has dropped every lease it held: the set
  // is emptied and the holders' writes are no longer exclusive (they still
  // only ever append durable bytes at the offset the index records).
  bool try_lease(const std::string& key) override {
    std::lock_guard lk(lease_mu_);
    if (held_.count(key) != 0) return false;
    for (int attempt = 0;; ++attempt) {
      try {
        if (!lease_conn_) lease_conn_ = connect(pool_.conninfo());
        Result r = exec(lease_conn_.get(), "SELECT pg_try_advisory_lock($1)", {num(lock_key(key))});
        if (!r.boolean(0, 0)) return false;
        held_.insert(key);
        return true;
      } catch (const ConnLost& e) {
        lease_conn_.reset();
        held_.clear();  // the server released them with the session
        if (attempt > 0) throw Error(Exit::internal, "index: postgres: " + e.message);
      }
    }
  }
  void release_lease(const std::string& key) override {
    std::lock_guard lk(lease_mu_);
    if (held_.erase(key) == 0 || !lease_conn_) return;
    try {
      exec(lease_conn_.get(), "SELECT pg_advisory_unlock($1)", {num(lock_key(key))});
    } catch (const ConnLost&) {
      lease_conn_.reset();  // every lock went with the session
      held_.clear();
    } catch (const Error&) {
      // Called on cleanup paths: a lock that cannot be released now goes
      // with the session.
    }
  }

  // ---- packages
  AuditRecord commit(const CommitRecord& cr) override {
    return tx([&](PGconn* c) {
      const PackageRow& p = cr.package;
      AuditHead head = lock_head(c);
      exec(c, "DELETE FROM uploads WHERE id=$1", {txt(cr.upload_id)});
      exec(c,
           "INSERT INTO packages(id,sender,size,blake2b,signature,created,upload_started,"
           "committed,expires,state,all_acked) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,NULL)",
           {txt(p.id), txt(p.sender), num(p.size), txt(p.blake2b), bin(p.signature), txt(p.created),
            txt(p.upload_started), txt(p.committed), txt(p.expires), txt(p.state)});
      std::int64_t pos = 0;
      for (const auto& r : p.recipients)
        exec(c, "INSERT INTO recipients(package,site,pos) VALUES($1,$2,$3)",
             {txt(p.id), txt(r.site), num(pos++)});
      AuditRecord rec = append_audit(c, head, cr.audit);
      // Delivered with the commit, to every node LISTENing (watch()).
      exec(c, "SELECT pg_notify('iep_commit', $1)", {txt(p.id)});
      return rec;
    });
  }
  std::optional<PackageRow> package(const std::string& id) override {
    return tx([&](PGconn* c) -> std::optional<PackageRow> {
      Result q = exec(c, kPackageCols " WHERE id=$1", {txt(id)});
      if (q.rows() == 0) return std::nullopt;
      return with_recipients(c, package_row(q, 0));
    });
  }
  std::vector<PackageRow> sent(const std::string& sender, std::size_t limit,
                               const std::string& after) override {
    return tx([&](PGconn* c) {
      std::string cutoff;
      if (!after.empty()) {
        Result q = exec(c, "SELECT committed FROM packages WHERE id=$1 AND sender=$2",
                        {txt(after), txt(sender)});
        if (q.rows() > 0) cutoff = q.text(0, 0);
      }
      auto n = static_cast<std::int64_t>(limit);
      Result q =
          cutoff.empty()
              ? exec(c, kPackageCols " WHERE sender=$1 ORDER BY committed DESC, id DESC LIMIT $2",
                     {txt(sender), num(n)})
              : exec(c,
                     kPackageCols
                     " WHERE sender=$1 AND (committed<$2 OR (committed=$2 AND id<$3))"
                     " ORDER BY committed DESC, id DESC LIMIT $4",
                     {txt(sender), txt(cutoff), txt(after), num(n)});
      std::vector<PackageRow> out;
      for (int i = 0; i < q.rows(); ++i) out.push_back(with_recipients(c, package_row(q, i)));
      return out;
    });
  }
  std::vector<PackageRow> mailbox(const std::string& site) override {
    return tx([&](PGconn* c) {
      Result q =
          exec(c,
               "SELECT p.id,p.sender,p.size,p.blake2b,p.signature,p.created,p.upload_started,"
               "p.committed,p.expires,p.state,p.all_acked FROM packages p JOIN recipients r"
               " ON r.package=p.id WHERE r.site=$1 AND r.acknowledged IS NULL"
               " AND p.state IN ('committed','delivered') ORDER BY p.committed, p.id LIMIT 1000",
               {txt(site)});
      std::vector<PackageRow> out;
      for (int i = 0; i < q.rows(); ++i) out.push_back(package_row(q, i));
      return out;
    });
  }
  void set_first_fetched(const std::string& package, const std::string& site,
                         const std::string& time) override {
    tx([&](PGconn* c) {
      exec(c,
           "UPDATE recipients SET first_fetched=$1 WHERE package=$2 AND site=$3"
           " AND first_fetched IS NULL",
           {txt(time), txt(package), txt(site)});
    });
  }
  std::string acknowledge(const std::string& package, const std::string& site,
                          const std::string& statement, const std::string& signature,
                          const std::string& time, const AuditEvent& audit) override {
    return tx([&](PGconn* c) {
      // The package row first: two recipients acknowledging on two nodes at
      // once are serialised, so the last one sees the other and marks it
      // delivered.
      exec(c, "SELECT id FROM packages WHERE id=$1 FOR UPDATE", {txt(package)});
      Result q = exec(c, "SELECT acknowledged FROM recipients WHERE package=$1 AND site=$2",
                      {txt(package), txt(site)});
      if (q.rows() == 0)
        throw Error(Exit::input, "package " + package + " is not addressed to " + site);
      if (auto t = q.opt_text(0, 0)) return *t;
      AuditHead head = lock_head(c);
      exec(c,
           "UPDATE recipients SET acknowledged=$1,receipt_statement=$2,receipt_signature=$3,"
           "first_fetched=COALESCE(first_fetched,$1) WHERE package=$4 AND site=$5",
           {txt(time), txt(statement), txt(signature), txt(package), txt(site)});
      Result left =
          exec(c, "SELECT COUNT(*) FROM recipients WHERE package=$1 AND acknowledged IS NULL",
               {txt(package)});
      if (left.i64(0, 0) == 0)
        exec(c,
             "UPDATE packages SET state='delivered',all_acked=$1 WHERE id=$2"
             " AND state='committed'",
             {txt(time), txt(package)});
      append_audit(c, head, audit);
      return time;
    });
  }
  bool set_package_state(const std::string& package, const std::string& from, const std::string& to,
                         const AuditEvent& audit) override {
    return tx([&](PGconn* c) {
      // The row lock decides between racing nodes: the second UPDATE waits,
      // then finds the state moved and touches nothing.
      if (exec(c, "UPDATE packages SET state=$1 WHERE id=$2 AND state=$3",
               {txt(to), txt(package), txt(from)})
              .affected() == 0)
        return false;
      AuditHead head = lock_head(c);
      append_audit(c, head, audit);
      return true;
    });
  }
  std::vector<PackageRow> packages_in_state(const std::string& state) override {
    return tx([&](PGconn* c) {
      Result q = exec(c, kPackageCols " WHERE state=$1 ORDER BY committed", {txt(state)});
      std::vector<PackageRow> out;
      for (int i = 0; i < q.rows(); ++i) out.push_back(package_row(q, i));
      return out;
    });
  }

  // ---- audit
  AuditRecord audit(const AuditEvent& e) override {
    return tx([&](PGconn* c) {
      AuditHead head = lock_head(c);
      return append_audit(c, head, e);
    });
  }
  std::vector<std::string> audit_lines(std::uint64_t after, std::size_t limit) override {
    return tx([&](PGconn* c) {
      Result q = exec(c, "SELECT line FROM audit WHERE seq>$1 ORDER BY seq LIMIT $2",
                      {num(after), num(static_cast<std::uint64_t>(limit))});
      std::vector<std::string> out;
      for (int i = 0; i < q.rows(); ++i) out.push_back(q.text(i, 0));
      return out;
    });
  }
  std::optional<AuditRecord> audit_head() override {
    return tx([&](PGconn* c) -> std::optional<AuditRecord> {
      Result q = exec(c, "SELECT seq,hash,line FROM audit ORDER BY seq DESC LIMIT 1");
      if (q.rows() == 0) return std::nullopt;
      AuditRecord r;
      r.seq = static_cast<std::uint64_t>(q.i64(0, 0));
      r.hash = q.text(0, 1);
      r.line = q.text(0, 2);
      return r;
    });
  }
  void add_checkpoint(const std::string& json) override {
    tx([&](PGconn* c) { exec(c, "INSERT INTO checkpoints(json) VALUES($1)", {txt(json)}); });
  }
  std::vector<std::string> checkpoints() override {
    return tx([&](PGconn* c) {
      Result q = exec(c, "SELECT json FROM checkpoints ORDER BY id");
      std::vector<std::string> out;
      for (int i = 0; i < q.rows(); ++i) out.push_back(q.text(i, 0));
      return out;
    });
  }

  // ---- notifications of commits on any node
  void watch(std::function<void()> fn) override {
    if (watcher_.joinable()) return;  // one watcher per index, as the hub asks
    watcher_ = std::thread([this, fn = std::move(fn)] { watch_loop(fn); });
  }

 private:
  struct AuditHead {
    std::uint64_t seq = 0;
    std::string hash;
  };

  // Runs f(conn) in one transaction on a pooled connection and commits.
  // A connection lost before COMMIT (a server restart) retries the whole
  // method once on a new one: the server rolled the transaction back. Lost
  // during COMMIT, the outcome is unknown (the server may have committed):
  // no retry, which could append an audit record twice; the caller sees
  // an error, as for any failed transaction.
  template <class F>
  auto tx(F&& f) -> decltype(f(static_cast<PGconn*>(nullptr))) {
    for (int attempt = 0;; ++attempt) {
      Conn c = pool_.borrow();
      bool committing = false;
      try {
        exec(c.get(), "BEGIN");
        if constexpr (std::is_void_v<decltype(f(c.get()))>) {
          f(c.get());
          committing = true;
          exec(c.get(), "COMMIT");
          pool_.give_back(std::move(c));
          return;
        } else {
          auto r = f(c.get());
          committing = true;
          exec(c.get(), "COMMIT");
          pool_.give_back(std::move(c));
          return r;
        }
      } catch (const ConnLost& e) {
        pool_.broken(std::move(c));
        if (committing)
          throw Error(Exit::internal,
                      "index: postgres: the connection broke during COMMIT (whether it was "
                      "committed is unknown): " +
                          e.message);
        if (attempt > 0) throw Error(Exit::internal, "index: postgres: " + e.message);
      } catch (...) {
        // The transaction is aborted: roll back so the connection is clean
        // for the next borrower.
        if (PQstatus(c.get()) == CONNECTION_OK && PQtransactionStatus(c.get()) != PQTRANS_IDLE)
          ResultPtr(PQexec(c.get(), "ROLLBACK"));
        if (PQstatus(c.get()) == CONNECTION_OK)
          pool_.give_back(std::move(c));
        else
          pool_.broken(std::move(c));
        throw;
      }
    }
  }

  // The chain head, locked until the transaction ends: every append on
  // every node waits here, so the chain stays one line.
  static AuditHead lock_head(PGconn* c) {
    Result q = exec(c, "SELECT seq,hash FROM audit_head WHERE id=1 FOR UPDATE");
    if (q.rows() == 0) throw Error(Exit::internal, "index: postgres: audit_head has no row");
    return AuditHead{static_cast<std::uint64_t>(q.i64(0, 0)), q.text(0, 1)};
  }
  static AuditRecord append_audit(PGconn* c, const AuditHead& head, const AuditEvent& e) {
    AuditRecord r = next_audit_record(head.seq, head.hash, e, now_ms());
    exec(c, "INSERT INTO audit(seq,hash,line) VALUES($1,$2,$3)",
         {num(r.seq), txt(r.hash), txt(r.line)});
    exec(c, "UPDATE audit_head SET seq=$1, hash=$2 WHERE id=1", {num(r.seq), txt(r.hash)});
    return r;
  }

  // The watcher thread: LISTEN on its own connection, poll() with a short
  // timeout so the destructor can stop it, reconnect when it breaks and
  // then call fn once, since a commit may have been missed meanwhile.
  void watch_loop(const std::function<void()>& fn) {
    Conn c;
    bool missed = false;
    auto call = [&] {
      try {
        fn();
      } catch (...) {
        // A waker that fails must not end the watch.
      }
    };
    while (!stop_) {
      if (!c) {
        try {
          c = connect(pool_.conninfo());
          exec(c.get(), "LISTEN iep_commit");
        } catch (...) {
          c.reset();
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          missed = true;
          continue;
        }
        if (missed) call();
        missed = false;
      }
      if (PQsocket(c.get()) < 0) {
        c.reset();
        missed = true;
        continue;
      }
      pollfd p{PQsocket(c.get()), POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;  // timeout (check stop_) or EINTR
      if (PQconsumeInput(c.get()) == 0 || PQstatus(c.get()) == CONNECTION_BAD) {
        c.reset();
        missed = true;
        continue;
      }
      while (PGnotify* note = PQnotifies(c.get())) {
        PQfreemem(note);
        call();
      }
    }
  }

  static SiteRow site_row(const Result& q, int i) {
    return SiteRow{q.text(i, 0), q.text(i, 1), q.text(i, 2), q.boolean(i, 3), q.text(i, 4)};
  }
  static TokenRow token_row(const Result& q, int i) {
    return TokenRow{q.text(i, 0),    q.text(i, 1), q.text(i, 2),
                    q.boolean(i, 3), q.text(i, 4), q.boolean(i, 5)};
  }
  static UploadRow upload_row(const Result& q, int i) {
    UploadRow u;
    u.id = q.text(i, 0);
    u.site = q.text(i, 1);
    if (!q.null(i, 2)) u.length = static_cast<std::uint64_t>(q.i64(i, 2));
    u.offset = static_cast<std::uint64_t>(q.i64(i, 3));
    u.metadata = q.bytes(i, 4);
    u.signature = q.bytes(i, 5);
    u.package_hint = q.text(i, 6);
    u.concat = q.text(i, 7);
    u.parts = q.text(i, 8);
    u.created = q.text(i, 9);
    u.expires = q.text(i, 10);
    u.state = q.text(i, 11);
    u.committing_package = q.text(i, 12);
    return u;
  }
  static PackageRow package_row(const Result& q, int i) {
    PackageRow p;
    p.id = q.text(i, 0);
    p.sender = q.text(i, 1);
    p.size = static_cast<std::uint64_t>(q.i64(i, 2));
    p.blake2b = q.text(i, 3);
    p.signature = q.bytes(i, 4);
    p.created = q.text(i, 5);
    p.upload_started = q.text(i, 6);
    p.committed = q.text(i, 7);
    p.expires = q.text(i, 8);
    p.state = q.text(i, 9);
    p.all_acked = q.opt_text(i, 10);
    return p;
  }
  static PackageRow with_recipients(PGconn* c, PackageRow p) {
    Result q = exec(c,
                    "SELECT site,first_fetched,acknowledged,receipt_statement,receipt_signature"
                    " FROM recipients WHERE package=$1 ORDER BY pos",
                    {txt(p.id)});
    for (int i = 0; i < q.rows(); ++i)
      p.recipients.push_back(RecipientRow{q.text(i, 0), q.opt_text(i, 1), q.opt_text(i, 2),
                                          q.text(i, 3), q.text(i, 4)});
    return p;
  }

  Pool pool_;
  std::mutex lease_mu_;
  Conn lease_conn_;
  std::set<std::string> held_;
  std::atomic<bool> stop_{false};
  std::thread watcher_;
};

}  // namespace

std::unique_ptr<Index> open_pg_index(const std::string& conninfo) {
  return std::make_unique<PgIndex>(conninfo);
}

int migrate_pg_index(const std::string& conninfo) {
  Conn c = connect(conninfo);
  PGconn* db = c.get();
  try {
    exec(db, "BEGIN");
    // Several nodes may start at once: one migrates, the others wait and
    // then find nothing to do.
    exec(db, "SELECT pg_advisory_xact_lock($1)", {num(kMigrateLock)});
    exec(db, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)");
    int have = schema_version(db);
    if (have > kSchemaVersion)
      throw Error(Exit::usage, "index " + shown(conninfo) + ": schema version " +
                                   std::to_string(have) + " is newer than this iep-serve (" +
                                   std::to_string(kSchemaVersion) + ")");
    for (int v = have; v < kSchemaVersion; ++v) exec_script(db, kMigrations[v]);
    if (have == 0)
      exec(db, "INSERT INTO schema_version(version) VALUES($1)",
           {num(std::int64_t{kSchemaVersion})});
    else if (have != kSchemaVersion)
      exec(db, "UPDATE schema_version SET version=$1", {num(std::int64_t{kSchemaVersion})});
    exec(db, "COMMIT");
  } catch (const ConnLost& e) {
    throw Error(Exit::internal, "index " + shown(conninfo) + ": postgres: " + e.message);
  }
  return kSchemaVersion;
}

}  // namespace iep::hub
