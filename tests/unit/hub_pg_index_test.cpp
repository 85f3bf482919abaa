// The PostgreSQL index as several hub nodes share it: migrations run at
// once, leases across nodes, one audit chain written by two nodes,
// commits waking the other node, racing sweeps, a server restart. Runs
// against the cluster IEP_TEST_ENGINES names (tests/engines.sh start DIR);
// skipped, saying so, without one.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "iep/hub/index.h"
#include "pg_util.h"
#include "test_util.h"

using namespace iep;
using namespace iep::hub;

namespace {

AuditEvent ev(const std::string& action) {
  AuditEvent e;
  e.action = action;
  e.actor = "hub";
  return e;
}

PackageRow package(const std::string& id, const std::vector<std::string>& to) {
  PackageRow p;
  p.id = id;
  p.sender = "trust-a";
  p.size = 10;
  p.blake2b = std::string(64, 'b');
  p.signature = "sig";
  p.created = p.upload_started = p.committed = now_ms();
  p.expires = now_ms(3600);
  for (auto& s : to) p.recipients.push_back(RecipientRow{s, std::nullopt, std::nullopt, "", ""});
  return p;
}

CommitRecord commit_of(const std::string& id) {
  CommitRecord c;
  c.upload_id = std::string(32, 'u');
  c.package = package(id, {"trust-b"});
  c.audit = ev("commit");
  return c;
}

// The whole chain as iep-verify --audit checks it.
AuditVerdict verify(Index& ix) {
  std::string text;
  for (auto& l : ix.audit_lines(0, 1000000)) text += l + "\n";
  BytesSource src(ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  return verify_chain(src, {}, nullptr);
}

// Counts fn() calls; waits for the next one.
struct Wakes {
  std::mutex mu;
  std::condition_variable cv;
  int n = 0;
  std::function<void()> fn() {
    return [this] {
      std::lock_guard lk(mu);
      ++n;
      cv.notify_all();
    };
  }
  // True when the count passes `seen` within `seconds` (a bound on a hang,
  // not a timing assertion).
  bool wait_past(int seen, int seconds) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, std::chrono::seconds(seconds), [&] { return n > seen; });
  }
  int count() {
    std::lock_guard lk(mu);
    return n;
  }
};

}  // namespace

TEST_CASE("postgres: migrations from four nodes at once, then again; an old schema is refused") {
  auto admin = test::pg_admin_url();
  if (!admin) {
    MESSAGE(test::kPgSkipped);
    return;
  }
  test::PgDatabase db(*admin);
  // Before any migration: refused, naming the command, never the password.
  const std::string with_pw =
      "postgresql://iep:s3cr3t-pw@" + db.url().substr(db.url().find('@') + 1);
  std::string msg = test::error_of([&] { open_pg_index(with_pw); }, Exit::usage);
  CHECK(msg.find("schema version 0, this iep-serve needs 1: run iep-serve migrate") !=
        std::string::npos);
  CHECK(msg.find("s3cr3t") == std::string::npos);
  CHECK(msg.find("iep:") == std::string::npos);

  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      try {
        if (migrate_pg_index(db.url()) == 1) ++ok;
      } catch (const std::exception& e) {
        MESSAGE(std::string(e.what()));
      }
    });
  for (auto& t : ts) t.join();
  CHECK(ok == 4);
  CHECK(migrate_pg_index(db.url()) == 1);
  auto ix = open_pg_index(db.url());
  CHECK(ix->audit(ev("list")).seq == 1);  // one head row, not four

  // A schema newer than this build: open and migrate both refuse.
  test::pg_exec(db.url(), "UPDATE schema_version SET version=99");
  msg = test::error_of([&] { open_pg_index(db.url()); }, Exit::usage);
  CHECK(msg.find("schema version 99") != std::string::npos);
  CHECK(test::code_of([&] { migrate_pg_index(db.url()); }) == Exit::usage);
}

TEST_CASE("postgres: a lease is one writer across nodes and within one") {
  auto admin = test::pg_admin_url();
  if (!admin) {
    MESSAGE(test::kPgSkipped);
    return;
  }
  test::PgDatabase db(*admin);
  migrate_pg_index(db.url());
  auto a = open_pg_index(db.url()), b = open_pg_index(db.url());
  CHECK(a->try_lease("upload-1"));
  CHECK_FALSE(a->try_lease("upload-1"));  // the same node: the in-process set
  CHECK_FALSE(b->try_lease("upload-1"));  // the other node: the advisory lock
  CHECK(b->try_lease("upload-2"));
  CHECK_FALSE(a->try_lease("upload-2"));
  a->release_lease("upload-1");
  CHECK(b->try_lease("upload-1"));
  CHECK_FALSE(a->try_lease("upload-1"));
  // A lease dies with its holder. The server ends the session (and drops
  // its locks) a moment after the client has closed it: retried a while.
  b.reset();
  auto eventually = [&](const std::string& key) {
    for (int i = 0; i < 100; ++i) {
      if (a->try_lease(key)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  CHECK(eventually("upload-1"));
  CHECK(eventually("upload-2"));
}

TEST_CASE("postgres: two nodes appending at once write one chain") {
  auto admin = test::pg_admin_url();
  if (!admin) {
    MESSAGE(test::kPgSkipped);
    return;
  }
  test::PgDatabase db(*admin);
  migrate_pg_index(db.url());
  auto a = open_pg_index(db.url()), b = open_pg_index(db.url());
  std::atomic<int> failed{0};
  auto writer = [&](Index& ix, int n) {
    for (int i = 0; i < n; ++i) {
      try {
        ix.audit(ev("list"));
      } catch (...) {
        ++failed;
      }
    }
  };
  // Two threads per node, two nodes: 4 x 100 appends.
  std::vector<std::thread> ts;
  ts.emplace_back(writer, std::ref(*a), 100);
  ts.emplace_back(writer, std::ref(*a), 100);
  ts.emplace_back(writer, std::ref(*b), 100);
  ts.emplace_back(writer, std::ref(*b), 100);
  for (auto& t : ts) t.join();
  CHECK(failed == 0);
  auto v = verify(*a);
  CHECK_MESSAGE(v.ok, v.error);
  CHECK(v.records == 400);
  CHECK(b->audit_head()->hash == v.head);
  CHECK(b->audit_head()->seq == 400);
}

TEST_CASE("postgres: a commit on one node wakes the other's watch") {
  auto admin = test::pg_admin_url();
  if (!admin) {
    MESSAGE(test::kPgSkipped);
    return;
  }
  test::PgDatabase db(*admin);
  migrate_pg_index(db.url());
  auto a = open_pg_index(db.url()), b = open_pg_index(db.url());
  Wakes w;
  b->watch(w.fn());
  // LISTEN is issued by the watcher's thread: commit until it has heard one.
  int tries = 0;
  for (; tries < 20 && w.count() == 0; ++tries) {
    a->commit(commit_of("p" + std::to_string(tries)));
    w.wait_past(0, 1);
  }
  REQUIRE(w.count() > 0);
  int seen = w.count();
  a->commit(commit_of("another"));
  CHECK(w.wait_past(seen, 10));
}

TEST_CASE("postgres: racing sweeps move a package once") {
  auto admin = test::pg_admin_url();
  if (!admin) {
    MESSAGE(test::kPgSkipped);
    return;
  }
  test::PgDatabase db(*admin);
  migrate_pg_index(db.url());
  auto a = open_pg_index(db.url()), b = open_pg_index(db.url());
  for (int i = 0; i < 20; ++i) {
    const std::string id = "race" + std::to_string(i);
    a->commit(commit_of(id));
    bool ra = false, rb = false;
    // An exception escaping a thread would end the run: the race's
    // failures are counted as "both true" instead.
    auto sweep = [&](Index& ix, bool& moved) {
      try {
        moved = ix.set_package_state(id, "committed", "expired", ev("expire"));
      } catch (...) {
        moved = true;
      }
    };
    std::thread ta(sweep, std::ref(*a), std::ref(ra));
    std::thread tb(sweep, std::ref(*b), std::ref(rb));
    ta.join();
    tb.join();
    CHECK(ra != rb);
    CHECK(a->package(id)->state == "expired");
  }
  // One commit and one expiry record per package.
  auto v = verify(*b);
  CHECK_MESSAGE(v.ok, v.error);
  CHECK(v.records == 40);
  CHECK_FALSE(a->set_package_state("race0", "committed", "deleted", ev("delete")));
  CHECK(a->set_package_state("race0", "expired", "deleted", ev("delete")));
  CHECK(b->audit_head()->seq == 41);
}

TEST_CASE("postgres: the index keeps working across a server restart") {
  if (!test::pg_admin_url()) {
    MESSAGE(test::kPgSkipped);
    return;
  }
  // A cluster of this test's own: restarting the shared one would break
  // the tests running beside it.
  auto dir = test::scratch("hub_pg_restart");
  const std::string lib = test::quote(std::string(IEP_SOURCE_DIR) + "/tests/e2e/pg_lib.bash");
  const std::string d = test::quote(dir.string());
  auto r = test::run(
      "bash -c 'source \"$1\" && pg_start \"$2\" >&2 && pg_new_db t >&2 && "
      "echo \"${PG_URL%/*}/t\"' _ " +
      lib + " " + d);
  REQUIRE(r.status == 0);
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  const std::string url = r.out;
  struct Stop {
    std::string lib, d;
    ~Stop() { (void)test::run("bash -c 'source \"$1\" && pg_stop \"$2\"' _ " + lib + " " + d); }
  } stop{lib, d};

  migrate_pg_index(url);
  auto a = open_pg_index(url), b = open_pg_index(url);
  Wakes w;
  b->watch(w.fn());
  // Several pooled connections, so that all of them are broken by the restart.
  std::atomic<int> failed{0};
  auto append = [&] {
    try {
      a->audit(ev("list"));
    } catch (...) {
      ++failed;
    }
  };
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) ts.emplace_back(append);
  for (auto& t : ts) t.join();
  CHECK(a->try_lease("held"));
  const int seen = w.count();

  REQUIRE(test::run("bash -c 'source \"$1\" && pg_restart \"$2\"' _ " + lib + " " + d).status == 0);

  // Every method once on connections the restart broke: each retries on a
  // new one.
  CHECK(a->audit(ev("list")).seq == 5);
  CHECK(a->sites().empty());
  ts.clear();
  for (int i = 0; i < 4; ++i) ts.emplace_back(append);
  for (auto& t : ts) t.join();
  CHECK(failed == 0);
  auto v = verify(*a);
  CHECK_MESSAGE(v.ok, v.error);
  CHECK(v.records == 9);
  // The lease went with the old session: the process knows it lost it
  // only when it next uses the lease connection, and then starts afresh.
  CHECK(a->try_lease("other"));
  CHECK(a->try_lease("held"));
  CHECK_FALSE(b->try_lease("held"));
  // The watcher reconnected and said so once (a commit may have been missed).
  CHECK(w.wait_past(seen, 30));
  const int after = w.count();
  a->commit(commit_of("after-restart"));
  CHECK(w.wait_past(after, 30));
}
