// The index, on every engine at hand (SQLite always; PostgreSQL when
// IEP_TEST_ENGINES names a running cluster): sites, tokens, uploads, the
// atomic commit, mailbox, receipts, the audit chain, reopening.
#include <doctest/doctest.h>
#include <sodium.h>

#include <cstdio>

#include "iep/hub/hub.h"
#include "iep/hub/index.h"
#include "iep/package/site.h"
#include "pg_util.h"
#include "test_util.h"

using namespace iep;
using namespace iep::hub;

namespace {
AuditEvent ev(const std::string& action) {
  AuditEvent e;
  e.action = action;
  e.actor = "local-admin";
  return e;
}
std::string b2(const std::string& s) {
  unsigned char h[32];
  crypto_generichash(h, 32, reinterpret_cast<const unsigned char*>(s.data()), s.size(), nullptr, 0);
  std::string out;
  char x[3];
  for (unsigned char c : h) {
    std::snprintf(x, sizeof x, "%02x", c);
    out += x;
  }
  return out;
}
PackageRow package(const std::string& id, const std::string& sender,
                   const std::vector<std::string>& to) {
  PackageRow p;
  p.id = id;
  p.sender = sender;
  p.size = 10;
  p.blake2b = std::string(64, 'b');
  p.signature = "sig";
  p.created = p.upload_started = p.committed = now_ms();
  p.expires = now_ms(3600);
  for (auto& s : to) p.recipients.push_back(RecipientRow{s, std::nullopt, std::nullopt, "", ""});
  return p;
}

// Runs `f(open)` once per engine; `open()` opens (again) the same index.
template <class F>
void on_engines(const std::string& name, F&& f) {
  {
    INFO("engine: sqlite");
    auto dir = test::scratch(name);
    f([dir] { return open_sqlite_index(dir / "index.sqlite"); });
  }
  if (auto admin = test::pg_admin_url()) {
    INFO("engine: postgres");
    test::PgDatabase db(*admin);
    CHECK(migrate_pg_index(db.url()) == 1);
    f([&db] { return open_pg_index(db.url()); });
  } else {
    MESSAGE(test::kPgSkipped);
  }
}
}  // namespace

TEST_CASE("sites and tokens; names and keys are unique; removal revokes") {
  on_engines("hub_index_sites", [](auto open) {
    auto ix = open();
    auto a = SiteIdentity::generate("trust-a"), b = SiteIdentity::generate("trust-b");
    CHECK(admin_site_add(*ix, a.card().encode(), "local-admin") == "trust-a");
    CHECK(admin_site_add(*ix, b.card().encode(), "local-admin") == "trust-b");
    CHECK(test::code_of([&] { admin_site_add(*ix, a.card().encode(), "x"); }) == Exit::rejected);
    auto a2 = a;  // another name, the same key
    a2.site = "trust-a2";
    CHECK(test::code_of([&] { admin_site_add(*ix, a2.card().encode(), "x"); }) == Exit::rejected);
    CHECK(ix->sites().size() == 2);

    auto [tok, id] = admin_token_issue(*ix, "trust-a", "local-admin");
    CHECK(tok.size() == 48);
    CHECK(tok.rfind("iep1_", 0) == 0);
    auto row = ix->token_by_hash(b2(tok));
    REQUIRE(row);
    CHECK(row->id == id);
    CHECK(row->site == "trust-a");
    CHECK_FALSE(row->admin);
    CHECK_FALSE(ix->token_by_hash(tok));  // only the hash is stored
    auto issued = admin_token_issue(*ix, "", "local-admin");
    // Not structured bindings: clang 14 cannot capture those in a lambda.
    const std::string admin = issued.first, aid = issued.second;
    CHECK(ix->token_by_hash(b2(admin))->admin);
    CHECK(test::code_of([&] { admin_token_issue(*ix, "nobody", "x"); }) == Exit::input);
    admin_token_revoke(*ix, aid, "local-admin");
    CHECK(ix->token_by_hash(b2(admin))->revoked);
    CHECK(test::code_of([&] { admin_token_revoke(*ix, aid, "x"); }) == Exit::input);
    admin_site_remove(*ix, "trust-a", "local-admin");
    CHECK_FALSE(ix->site("trust-a")->active);
    CHECK(ix->token_by_hash(b2(tok))->revoked);
    CHECK(test::code_of([&] { admin_site_remove(*ix, "trust-a", "x"); }) == Exit::input);
  });
}

TEST_CASE("commit moves an upload into a package with its mailbox rows, in one step") {
  on_engines("hub_index_commit", [](auto open) {
    auto ix = open();
    UploadRow u;
    u.id = std::string(32, '1');
    u.site = "trust-a";
    u.length = 10;
    u.created = now_ms();
    u.expires = now_ms(60);
    ix->add_upload(u);
    u.offset = 10;
    ix->update_upload(u);
    CHECK(ix->upload(u.id)->offset == 10);
    CHECK(ix->bytes_held("trust-a") == 10);

    CommitRecord c;
    c.upload_id = u.id;
    c.package = package(std::string(32, 'p'), "trust-a", {"trust-b", "trust-c"});
    c.audit = ev("commit");
    auto rec = ix->commit(c);
    CHECK(rec.seq == 1);
    CHECK(rec.prev == kAuditGenesis);
    CHECK_FALSE(ix->upload(u.id));
    // The same package id twice is refused whole: nothing half-written.
    c.upload_id = std::string(32, '2');
    CHECK(test::code_of([&] { ix->commit(c); }) != Exit::ok);
    CHECK(ix->audit_head()->seq == 1);

    CHECK(ix->mailbox("trust-b").size() == 1);
    CHECK(ix->mailbox("trust-c").size() == 1);
    CHECK(ix->mailbox("trust-a").empty());
    CHECK(ix->sent("trust-a", 10, "").size() == 1);
    CHECK(ix->bytes_held("trust-a") == 10);

    ix->set_first_fetched(c.package.id, "trust-b", "2026-12-02T10:00:00.000Z");
    ix->set_first_fetched(c.package.id, "trust-b", "2026-12-02T11:00:00.000Z");
    auto p = ix->package(c.package.id);
    CHECK(*p->recipients[0].first_fetched == "2026-12-02T10:00:00.000Z");

    auto t1 = ix->acknowledge(c.package.id, "trust-b", "stmt", "sig", "2026-12-02T12:00:00.000Z",
                              ev("ack"));
    auto t2 = ix->acknowledge(c.package.id, "trust-b", "stmt2", "sig2", "2026-12-02T13:00:00.000Z",
                              ev("ack"));
    CHECK(t1 == t2);  // a second ack answers the first
    CHECK(ix->mailbox("trust-b").empty());
    CHECK(ix->package(c.package.id)->state == "committed");  // trust-c has not acknowledged
    ix->acknowledge(c.package.id, "trust-c", "s", "g", now_ms(), ev("ack"));
    CHECK(ix->package(c.package.id)->state == "delivered");
    CHECK(test::code_of([&] {
            ix->acknowledge(c.package.id, "trust-z", "s", "g", now_ms(), ev("ack"));
          }) == Exit::input);
  });
}

TEST_CASE("the audit chain links every record and survives reopening") {
  on_engines("hub_index_audit", [](auto open) {
    std::string head;
    {
      auto ix = open();
      for (int i = 0; i < 5; ++i) ix->audit(ev("list"));
      head = ix->audit_head()->hash;
    }
    auto ix = open();
    auto lines = ix->audit_lines(0, 100);
    REQUIRE(lines.size() == 5);
    std::string prev = kAuditGenesis;
    for (auto& l : lines) {
      auto r = parse_record(l, "line");
      CHECK(r.prev == prev);
      prev = r.hash;
    }
    CHECK(prev == head);
    CHECK(ix->audit_lines(3, 100).size() == 2);
    CHECK(ix->audit(ev("list")).prev == head);
  });
}

TEST_CASE("leases: one writer at a time") {
  on_engines("hub_index_lease", [](auto open) {
    auto ix = open();
    CHECK(ix->try_lease("u1"));
    CHECK_FALSE(ix->try_lease("u1"));
    CHECK(ix->try_lease("u2"));
    ix->release_lease("u1");
    CHECK(ix->try_lease("u1"));
  });
}

TEST_CASE("a newer schema is refused") {
  auto dir = test::scratch("hub_index_schema");
  { auto ix = open_sqlite_index(dir / "index.sqlite"); }
  auto r = test::run("sqlite3 " + test::quote((dir / "index.sqlite").string()) +
                     " \"UPDATE meta SET value='99' WHERE key='schema'\"");
  REQUIRE(r.status == 0);
  CHECK(test::code_of([&] { open_sqlite_index(dir / "index.sqlite"); }) == Exit::input);
}

TEST_CASE("uploads keep any bytes of the metadata and signature they were given") {
  on_engines("hub_index_bytes", [](auto open) {
    auto ix = open();
    UploadRow u;
    u.id = std::string(32, '3');
    u.site = "trust-a";
    u.metadata = std::string("filename \xff\xfe,package x\0y", 23);
    u.signature = std::string("\0\x80\xc3(untrusted", 13);
    u.created = now_ms();
    u.expires = now_ms(60);
    ix->add_upload(u);
    auto got = ix->upload(u.id);
    REQUIRE(got);
    CHECK(got->metadata == u.metadata);
    CHECK(got->signature == u.signature);
    CHECK_FALSE(got->length);
    CHECK(ix->open_uploads("trust-a") == 1);
    CHECK(ix->uploads().size() == 1);
    ix->remove_upload(u.id);
    CHECK_FALSE(ix->upload(u.id));
  });
}
