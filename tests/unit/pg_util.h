// PostgreSQL for the unit tests: the cluster a CTest fixture started
// (tests/engines.sh start DIR, DIR in IEP_TEST_ENGINES, its admin URL in
// DIR/pg), and a fresh database per test case, dropped after.
#pragma once

#include <libpq-fe.h>
#include <sodium.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "test_util.h"

namespace iep::test {

// The admin URL of the test cluster; none when IEP_TEST_ENGINES names no
// folder holding `pg`.
inline std::optional<std::string> pg_admin_url() {
  const char* dir = std::getenv("IEP_TEST_ENGINES");
  if (dir == nullptr || *dir == 0) return std::nullopt;
  const std::filesystem::path f = std::filesystem::path(dir) / "pg";
  if (!std::filesystem::exists(f)) return std::nullopt;
  std::string url = read_file(f);
  while (!url.empty() && (url.back() == '\n' || url.back() == '\r' || url.back() == ' '))
    url.pop_back();
  return url;
}

inline const std::string kPgSkipped =
    "PostgreSQL variants skipped: IEP_TEST_ENGINES is not set (tests/engines.sh start DIR)";

// Runs one SQL command at `url`; the test fails when it does not succeed.
inline void pg_exec(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  REQUIRE_MESSAGE(PQstatus(c) == CONNECTION_OK, PQerrorMessage(c));
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  const std::string msg = PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
  const std::string what = sql + ": " + msg;
  REQUIRE_MESSAGE(ok, what);
}

// A database of its own on the cluster at `admin`, dropped (its sessions
// ended) on destruction.
class PgDatabase {
 public:
  explicit PgDatabase(std::string admin) : admin_(std::move(admin)) {
    unsigned char r[8];
    randombytes_buf(r, sizeof r);
    name_ = "t_";
    char x[3];
    for (unsigned char c : r) {
      std::snprintf(x, sizeof x, "%02x", c);
      name_ += x;
    }
    pg_exec(admin_, "CREATE DATABASE " + name_);
    url_ = admin_.substr(0, admin_.rfind('/') + 1) + name_;
  }
  ~PgDatabase() {
    PGconn* c = PQconnectdb(admin_.c_str());
    PQclear(PQexec(c, ("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)").c_str()));
    PQfinish(c);
  }
  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;
  [[nodiscard]] const std::string& url() const { return url_; }
  [[nodiscard]] const std::string& name() const { return name_; }

 private:
  std::string admin_, name_, url_;
};

}  // namespace iep::test
