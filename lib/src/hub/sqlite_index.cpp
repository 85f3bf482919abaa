// SqliteIndex: the embedded index, one SQLite file in WAL mode.
#include <sqlite3.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <mutex>
#include <set>

#include "hub/hub_util.h"
#include "hub/index_columns.h"
#include "iep/core/error.h"
#include "iep/hub/index.h"

namespace iep::hub {

std::string now_ms(std::int64_t seconds_from_now) {
  auto now = std::chrono::system_clock::now() + std::chrono::seconds(seconds_from_now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

namespace {

constexpr int kSchemaVersion = 1;

const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sites(name TEXT PRIMARY KEY, card TEXT NOT NULL,
  key_id TEXT NOT NULL UNIQUE, active INTEGER NOT NULL, added TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens(id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, site TEXT NOT NULL,
  admin INTEGER NOT NULL, created TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS uploads(id TEXT PRIMARY KEY, site TEXT NOT NULL, length INTEGER,
  off INTEGER NOT NULL, metadata TEXT NOT NULL, signature TEXT NOT NULL, package_hint TEXT NOT NULL,
  concat TEXT NOT NULL, parts TEXT NOT NULL, created TEXT NOT NULL, expires TEXT NOT NULL,
  state TEXT NOT NULL, committing_package TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS packages(id TEXT PRIMARY KEY, sender TEXT NOT NULL, size INTEGER NOT NULL,
  blake2b TEXT NOT NULL, signature TEXT NOT NULL, created TEXT NOT NULL, upload_started TEXT NOT NULL,
  committed TEXT NOT NULL, expires TEXT NOT NULL, state TEXT NOT NULL, all_acked TEXT);
CREATE INDEX IF NOT EXISTS packages_sender ON packages(sender, committed);
CREATE TABLE IF NOT EXISTS recipients(package TEXT NOT NULL, site TEXT NOT NULL, first_fetched TEXT,
  acknowledged TEXT, receipt_statement TEXT NOT NULL DEFAULT '', receipt_signature TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(package, site));
CREATE INDEX IF NOT EXISTS recipients_site ON recipients(site, acknowledged);
CREATE TABLE IF NOT EXISTS audit(seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, line TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints(id INTEGER PRIMARY KEY AUTOINCREMENT, json TEXT NOT NULL);
)";

class Db;

// One prepared statement, finalized on destruction.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK)
      throw Error(Exit::internal, std::string("index: ") + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& bind(int i, const std::string& s) {
    sqlite3_bind_text(st_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  Stmt& bind_opt(int i, const std::optional<std::string>& s) {
    if (s) return bind(i, *s);
    sqlite3_bind_null(st_, i);
    return *this;
  }
  Stmt& bind_opt(int i, const std::optional<std::uint64_t>& v) {
    if (v) return bind(i, static_cast<std::int64_t>(*v));
    sqlite3_bind_null(st_, i);
    return *this;
  }
  // True while there is a row.
  bool step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    if (rc == SQLITE_CONSTRAINT)
      throw Error(Exit::usage, std::string("index: ") + sqlite3_errmsg(db_));
    throw Error(Exit::internal, std::string("index: ") + sqlite3_errmsg(db_));
  }
  void run() { step(); }
  std::string text(int i) {
    auto* p = sqlite3_column_text(st_, i);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(st_, i)))
             : std::string();
  }
  std::optional<std::string> opt_text(int i) {
    if (sqlite3_column_type(st_, i) == SQLITE_NULL) return std::nullopt;
    return text(i);
  }
  std::int64_t i64(int i) { return sqlite3_column_int64(st_, i); }
  bool null(int i) { return sqlite3_column_type(st_, i) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

class SqliteIndex : public Index {
 public:
  explicit SqliteIndex(const std::filesystem::path& path) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    conn_.reset(db);
    db_ = db;
    if (rc != SQLITE_OK)
      throw Error(Exit::input, path.string() + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_busy_timeout(db_, 10000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("PRAGMA foreign_keys=ON");
    Tx tx(*this);
    exec(kSchema);
    Stmt v(db_, "SELECT value FROM meta WHERE key='schema'");
    if (v.step()) {
      int have = std::stoi(v.text(0));
      if (have > kSchemaVersion)
        throw Error(Exit::input, path.string() + ": index schema " + std::to_string(have) +
                                     " is newer than this iep-serve understands (" +
                                     std::to_string(kSchemaVersion) + ")");
    } else {
      Stmt(db_, "INSERT INTO meta(key,value) VALUES('schema',?)")
          .bind(1, std::to_string(kSchemaVersion))
          .run();
    }
    tx.commit();
  }

  // ---- sites
  void add_site(const SiteRow& s, const AuditEvent& audit) override {
    Tx tx(*this);
    Stmt q(db_, "SELECT name FROM sites WHERE name=? OR key_id=?");
    q.bind(1, s.name).bind(2, s.key_id);
    if (q.step())
      throw Error(Exit::rejected, "site " + s.name + ": a site " + q.text(0) +
                                      " with this name or signing key is registered already");
    Stmt(db_, "INSERT INTO sites(name,card,key_id,active,added) VALUES(?,?,?,1,?)")
        .bind(1, s.name)
        .bind(2, s.card)
        .bind(3, s.key_id)
        .bind(4, s.added)
        .run();
    append_audit(audit);
    tx.commit();
  }
  std::optional<SiteRow> site(const std::string& name) override {
    std::lock_guard lk(mu_);
    Stmt q(db_, "SELECT name,card,key_id,active,added FROM sites WHERE name=?");
    q.bind(1, name);
    if (!q.step()) return std::nullopt;
    return site_row(q);
  }
  std::vector<SiteRow> sites() override {
    std::lock_guard lk(mu_);
    Stmt q(db_, "SELECT name,card,key_id,active,added FROM sites ORDER BY name");
    std::vector<SiteRow> out;
    while (q.step()) out.push_back(site_row(q));
    return out;
  }
  bool remove_site(const std::string& name, const AuditEvent& audit) override {
    Tx tx(*this);
    Stmt u(db_, "UPDATE sites SET active=0 WHERE name=? AND active=1");
    u.bind(1, name).run();
    if (sqlite3_changes(db_) == 0) return false;
    Stmt(db_, "UPDATE tokens SET revoked=1 WHERE site=?").bind(1, name).run();
    append_audit(audit);
    tx.commit();
    return true;
  }

  // ---- tokens
  void add_token(const TokenRow& t, const AuditEvent& audit) override {
    Tx tx(*this);
    Stmt(db_, "INSERT INTO tokens(id,hash,site,admin,created,revoked) VALUES(?,?,?,?,?,0)")
        .bind(1, t.id)
        .bind(2, t.hash)
        .bind(3, t.site)
        .bind(4, t.admin ? 1 : 0)
        .bind(5, t.created)
        .run();
    append_audit(audit);
    tx.commit();
  }
  std::optional<TokenRow> token_by_hash(const std::string& hash) override {
    std::lock_guard lk(mu_);
    Stmt q(db_, "SELECT id,hash,site,admin,created,revoked FROM tokens WHERE hash=?");
    q.bind(1, hash);
    if (!q.step()) return std::nullopt;
    return token_row(q);
  }
  std::vector<TokenRow> tokens() override {
    std::lock_guard lk(mu_);
    Stmt q(db_, "SELECT id,hash,site,admin,created,revoked FROM tokens ORDER BY created");
    std::vector<TokenRow> out;
    while (q.step()) out.push_back(token_row(q));
    return out;
  }
  bool revoke_token(const std::string& id, const AuditEvent& audit) override {
    Tx tx(*this);
    Stmt(db_, "UPDATE tokens SET revoked=1 WHERE id=? AND revoked=0").bind(1, id).run();
    if (sqlite3_changes(db_) == 0) return false;
    append_audit(audit);
    tx.commit();
    return true;
  }

  // ---- uploads
  void add_upload(const UploadRow& u) override {
    std::lock_guard lk(mu_);
    Stmt(db_,
         "INSERT INTO uploads(id,site,length,off,metadata,signature,package_hint,concat,parts,"
         "created,expires,state,committing_package) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)")
        .bind(1, u.id)
        .bind(2, u.site)
        .bind_opt(3, u.length)
        .bind(4, static_cast<std::int64_t>(u.offset))
        .bind(5, u.metadata)
        .bind(6, u.signature)
        .bind(7, u.package_hint)
        .bind(8, u.concat)
        .bind(9, u.parts)
        .bind(10, u.created)
        .bind(11, u.expires)
        .bind(12, u.state)
        .bind(13, u.committing_package)
        .run();
  }
  std::optional<UploadRow> upload(const std::string& id) override {
    std::lock_guard lk(mu_);
    Stmt q(db_, kUploadCols " WHERE id=?");
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    return upload_row(q);
  }
  std::vector<UploadRow> uploads() override {
    std::lock_guard lk(mu_);
    Stmt q(db_, kUploadCols " ORDER BY created");
    std::vector<UploadRow> out;
    while (q.step()) out.push_back(upload_row(q));
    return out;
  }
  void update_upload(const UploadRow& u) override {
    std::lock_guard lk(mu_);
    Stmt(db_, "UPDATE uploads SET length=?,off=?,expires=?,state=?,committing_package=? WHERE id=?")
        .bind_opt(1, u.length)
        .bind(2, static_cast<std::int64_t>(u.offset))
        .bind(3, u.expires)
        .bind(4, u.state)
        .bind(5, u.committing_package)
        .bind(6, u.id)
        .run();
  }
  void remove_upload(const std::string& id) override {
    std::lock_guard lk(mu_);
    Stmt(db_, "DELETE FROM uploads WHERE id=?").bind(1, id).run();
  }
  std::uint64_t bytes_held(const std::string& site) override {
    std::lock_guard lk(mu_);
    // An expired upload's row is kept a while (to answer 410), its bytes are not.
    Stmt a(db_,
           "SELECT COALESCE(SUM(COALESCE(length,off)),0) FROM uploads WHERE site=?"
           " AND state!='expired'");
    a.bind(1, site).step();
    Stmt b(db_,
           "SELECT COALESCE(SUM(size),0) FROM packages WHERE sender=? AND state NOT IN "
           "('deleted','expired')");
    b.bind(1, site).step();
    return static_cast<std::uint64_t>(a.i64(0) + b.i64(0));
  }

  std::size_t open_uploads(const std::string& site) override {
    std::lock_guard lk(mu_);
    Stmt a(db_, "SELECT COUNT(*) FROM uploads WHERE site=? AND state!='expired'");
    a.bind(1, site).step();
    return static_cast<std::size_t>(a.i64(0));
  }

  bool try_lease(const std::string& key) override {
    std::lock_guard lk(lease_mu_);
    return leases_.insert(key).second;
  }
  void release_lease(const std::string& key) override {
    std::lock_guard lk(lease_mu_);
    leases_.erase(key);
  }

  // ---- packages
  AuditRecord commit(const CommitRecord& c) override {
    Tx tx(*this);
    const PackageRow& p = c.package;
    Stmt(db_, "DELETE FROM uploads WHERE id=?").bind(1, c.upload_id).run();
    Stmt(db_,
         "INSERT INTO packages(id,sender,size,blake2b,signature,created,upload_started,committed,"
         "expires,state,all_acked) VALUES(?,?,?,?,?,?,?,?,?,?,NULL)")
        .bind(1, p.id)
        .bind(2, p.sender)
        .bind(3, static_cast<std::int64_t>(p.size))
        .bind(4, p.blake2b)
        .bind(5, p.signature)
        .bind(6, p.created)
        .bind(7, p.upload_started)
        .bind(8, p.committed)
        .bind(9, p.expires)
        .bind(10, p.state)
        .run();
    for (const auto& r : p.recipients)
      Stmt(db_, "INSERT INTO recipients(package,site) VALUES(?,?)")
          .bind(1, p.id)
          .bind(2, r.site)
          .run();
    AuditRecord rec = append_audit(c.audit);
    tx.commit();
    return rec;
  }
  std::optional<PackageRow> package(const std::string& id) override {
    std::lock_guard lk(mu_);
    Stmt q(db_, kPackageCols " WHERE id=?");
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    return with_recipients(package_row(q));
  }
  std::vector<PackageRow> sent(const std::string& sender, std::size_t limit,
                               const std::string& after) override {
    std::lock_guard lk(mu_);
    std::vector<PackageRow> out;
    std::string cutoff;
    if (!after.empty()) {
      Stmt c(db_, "SELECT committed FROM packages WHERE id=? AND sender=?");
      c.bind(1, after).bind(2, sender);
      if (c.step()) cutoff = c.text(0);
    }
    Stmt q(db_, cutoff.empty() ? kPackageCols
                    " WHERE sender=? ORDER BY committed DESC, id DESC LIMIT ?"
                               : kPackageCols
                    " WHERE sender=? AND (committed<? OR (committed=? AND id<?))"
                    " ORDER BY committed DESC, id DESC LIMIT ?");
    q.bind(1, sender);
    if (cutoff.empty()) {
      q.bind(2, static_cast<std::int64_t>(limit));
    } else {
      q.bind(2, cutoff).bind(3, cutoff).bind(4, after).bind(5, static_cast<std::int64_t>(limit));
    }
    while (q.step()) out.push_back(package_row(q));
    for (auto& p : out) p = with_recipients(std::move(p));
    return out;
  }
  std::vector<PackageRow> mailbox(const std::string& site) override {
    std::lock_guard lk(mu_);
    Stmt q(db_,
           "SELECT p.id,p.sender,p.size,p.blake2b,p.signature,p.created,p.upload_started,"
           "p.committed,p.expires,p.state,p.all_acked FROM packages p JOIN recipients r"
           " ON r.package=p.id WHERE r.site=? AND r.acknowledged IS NULL"
           " AND p.state IN ('committed','delivered') ORDER BY p.committed, p.id LIMIT 1000");
    q.bind(1, site);
    std::vector<PackageRow> out;
    while (q.step()) out.push_back(package_row(q));
    return out;
  }
  void set_first_fetched(const std::string& package, const std::string& site,
                         const std::string& time) override {
    std::lock_guard lk(mu_);
    Stmt(db_,
         "UPDATE recipients SET first_fetched=? WHERE package=? AND site=? AND first_fetched IS "
         "NULL")
        .bind(1, time)
        .bind(2, package)
        .bind(3, site)
        .run();
  }
  std::string acknowledge(const std::string& package, const std::string& site,
                          const std::string& statement, const std::string& signature,
                          const std::string& time, const AuditEvent& audit) override {
    Tx tx(*this);
    Stmt q(db_, "SELECT acknowledged FROM recipients WHERE package=? AND site=?");
    q.bind(1, package).bind(2, site);
    if (!q.step()) throw Error(Exit::input, "package " + package + " is not addressed to " + site);
    if (auto t = q.opt_text(0)) return *t;
    Stmt(db_,
         "UPDATE recipients SET acknowledged=?,receipt_statement=?,receipt_signature=?,"
         "first_fetched=COALESCE(first_fetched,?) WHERE package=? AND site=?")
        .bind(1, time)
        .bind(2, statement)
        .bind(3, signature)
        .bind(4, time)
        .bind(5, package)
        .bind(6, site)
        .run();
    Stmt left(db_, "SELECT COUNT(*) FROM recipients WHERE package=? AND acknowledged IS NULL");
    left.bind(1, package).step();
    if (left.i64(0) == 0)
      Stmt(db_,
           "UPDATE packages SET state='delivered',all_acked=? WHERE id=? AND state='committed'")
          .bind(1, time)
          .bind(2, package)
          .run();
    append_audit(audit);
    tx.commit();
    return time;
  }
  bool set_package_state(const std::string& package, const std::string& from, const std::string& to,
                         const AuditEvent& audit) override {
    Tx tx(*this);
    Stmt(db_, "UPDATE packages SET state=? WHERE id=? AND state=?")
        .bind(1, to)
        .bind(2, package)
        .bind(3, from)
        .run();
    if (sqlite3_changes(db_) == 0) return false;
    append_audit(audit);
    tx.commit();
    return true;
  }
  std::vector<PackageRow> packages_in_state(const std::string& state) override {
    std::lock_guard lk(mu_);
    Stmt q(db_, kPackageCols " WHERE state=? ORDER BY committed");
    q.bind(1, state);
    std::vector<PackageRow> out;
    while (q.step()) out.push_back(package_row(q));
    return out;
  }

  // ---- audit
  AuditRecord audit(const AuditEvent& e) override {
    Tx tx(*this);
    AuditRecord r = append_audit(e);
    tx.commit();
    return r;
  }
  std::vector<std::string> audit_lines(std::uint64_t after, std::size_t limit) override {
    std::lock_guard lk(mu_);
    Stmt q(db_, "SELECT line FROM audit WHERE seq>? ORDER BY seq LIMIT ?");
    q.bind(1, static_cast<std::int64_t>(after)).bind(2, static_cast<std::int64_t>(limit));
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    return out;
  }
  std::optional<AuditRecord> audit_head() override {
    std::lock_guard lk(mu_);
    Stmt q(db_, "SELECT seq,hash,line FROM audit ORDER BY seq DESC LIMIT 1");
    if (!q.step()) return std::nullopt;
    AuditRecord r;
    r.seq = static_cast<std::uint64_t>(q.i64(0));
    r.hash = q.text(1);
    r.line = q.text(2);
    return r;
  }
  void add_checkpoint(const std::string& json) override {
    std::lock_guard lk(mu_);
    Stmt(db_, "INSERT INTO checkpoints(json) VALUES(?)").bind(1, json).run();
  }
  std::vector<std::string> checkpoints() override {
    std::lock_guard lk(mu_);
    Stmt q(db_, "SELECT json FROM checkpoints ORDER BY id");
    std::vector<std::string> out;
    while (q.step()) out.push_back(q.text(0));
    return out;
  }

 private:
  // A write transaction (BEGIN IMMEDIATE: the write lock first, so that two
  // processes never deadlock upgrading), holding the connection's mutex.
  class Tx {
   public:
    explicit Tx(SqliteIndex& ix) : ix_(ix), lk_(ix.mu_) { ix_.exec("BEGIN IMMEDIATE"); }
    ~Tx() {
      if (!done_) sqlite3_exec(ix_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Tx(const Tx&) = delete;
    Tx& operator=(const Tx&) = delete;
    void commit() {
      ix_.exec("COMMIT");
      done_ = true;
    }

   private:
    SqliteIndex& ix_;
    std::unique_lock<std::recursive_mutex> lk_;
    bool done_ = false;
  };

  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      throw Error(Exit::internal, "index: " + msg);
    }
  }

  // Inside a transaction.
  AuditRecord append_audit(const AuditEvent& e) {
    std::uint64_t seq = 0;
    std::string prev = kAuditGenesis;
    Stmt q(db_, "SELECT seq,hash FROM audit ORDER BY seq DESC LIMIT 1");
    if (q.step()) {
      seq = static_cast<std::uint64_t>(q.i64(0));
      prev = q.text(1);
    }
    AuditRecord r = next_audit_record(seq, prev, e, now_ms());
    Stmt(db_, "INSERT INTO audit(seq,hash,line) VALUES(?,?,?)")
        .bind(1, static_cast<std::int64_t>(r.seq))
        .bind(2, r.hash)
        .bind(3, r.line)
        .run();
    return r;
  }

  static SiteRow site_row(Stmt& q) {
    return SiteRow{q.text(0), q.text(1), q.text(2), q.i64(3) != 0, q.text(4)};
  }
  static TokenRow token_row(Stmt& q) {
    return TokenRow{q.text(0), q.text(1), q.text(2), q.i64(3) != 0, q.text(4), q.i64(5) != 0};
  }
  static UploadRow upload_row(Stmt& q) {
    UploadRow u;
    u.id = q.text(0);
    u.site = q.text(1);
    if (!q.null(2)) u.length = static_cast<std::uint64_t>(q.i64(2));
    u.offset = static_cast<std::uint64_t>(q.i64(3));
    u.metadata = q.text(4);
    u.signature = q.text(5);
    u.package_hint = q.text(6);
    u.concat = q.text(7);
    u.parts = q.text(8);
    u.created = q.text(9);
    u.expires = q.text(10);
    u.state = q.text(11);
    u.committing_package = q.text(12);
    return u;
  }
  static PackageRow package_row(Stmt& q) {
    PackageRow p;
    p.id = q.text(0);
    p.sender = q.text(1);
    p.size = static_cast<std::uint64_t>(q.i64(2));
    p.blake2b = q.text(3);
    p.signature = q.text(4);
    p.created = q.text(5);
    p.upload_started = q.text(6);
    p.committed = q.text(7);
    p.expires = q.text(8);
    p.state = q.text(9);
    p.all_acked = q.opt_text(10);
    return p;
  }
  PackageRow with_recipients(PackageRow p) {
    Stmt q(
        db_,
        "SELECT site,first_fetched,acknowledged,receipt_statement,receipt_signature FROM recipients"
        " WHERE package=? ORDER BY rowid");
    q.bind(1, p.id);
    while (q.step())
      p.recipients.push_back(
          RecipientRow{q.text(0), q.opt_text(1), q.opt_text(2), q.text(3), q.text(4)});
    return p;
  }

  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  std::unique_ptr<sqlite3, Close> conn_;  // closed also when the constructor throws
  sqlite3* db_ = nullptr;
  std::recursive_mutex mu_;
  std::mutex lease_mu_;
  std::set<std::string> leases_;
};

}  // namespace

std::unique_ptr<Index> open_sqlite_index(const std::filesystem::path& path) {
  return std::make_unique<SqliteIndex>(path);
}

}  // namespace iep::hub
