// iep-send --status's library side: times relative to the commit, the
// human-readable timeline, and what counts as a receipt that does not verify.
#include <doctest/doctest.h>

#include "iep/transfer/status.h"

using iep::transfer::PackageStatus;
using iep::transfer::RecipientStatus;
using iep::transfer::seconds_between;

TEST_CASE("seconds_between: RFC 3339 UTC times with and without fractions") {
  CHECK(*seconds_between("2026-12-02T10:00:00.000Z", "2026-12-02T10:00:00.210Z") ==
        doctest::Approx(0.21));
  CHECK(*seconds_between("2026-12-02T23:59:59Z", "2026-12-03T00:00:01.5Z") == doctest::Approx(2.5));
  CHECK(*seconds_between("2026-12-02T10:00:01Z", "2026-12-02T10:00:00Z") == doctest::Approx(-1.0));
  CHECK_FALSE(seconds_between("yesterday", "2026-12-02T10:00:00Z"));
  CHECK_FALSE(seconds_between("2026-12-02T10:00:00Z", "2026-13-02T10:00:00Z"));
  CHECK_FALSE(seconds_between("2026-12-02T10:00:00Z", ""));
}

namespace {
PackageStatus sample() {
  PackageStatus st;
  st.info.package = "0123456789abcdef0123456789abcdef";
  st.info.sender = "trust-a";
  st.info.size = 1234;
  st.info.blake2b = std::string(64, 'a');
  st.info.state = "delivered";
  st.info.committed = "2026-12-02T10:00:01.000Z";
  st.created = "2026-12-02T10:00:00.000Z";
  st.upload_started = "2026-12-02T10:00:00.500Z";
  RecipientStatus b;
  b.site = "trust-b";
  b.first_fetched = "2026-12-02T10:00:01.210Z";
  b.acknowledged = "2026-12-02T10:00:01.430Z";
  b.has_receipt = true;
  b.receipt_verified = true;
  RecipientStatus c;
  c.site = "trust-c";
  st.recipients = {b, c};
  st.info.json =
      R"({"package":"0123456789abcdef0123456789abcdef","recipients":[{"site":"trust-b"},{"site":"trust-c"}]})";
  return st;
}
}  // namespace

TEST_CASE("the timeline for people: each recipient relative to the commit") {
  auto st = sample();
  std::string t = st.to_text();
  CHECK(t.find("  trust-b: fetched +0.21 s, acknowledged +0.43 s, receipt verified\n") !=
        std::string::npos);
  CHECK(t.find("  trust-c: not fetched, not acknowledged\n") != std::string::npos);
  CHECK(t.find("upload started  2026-12-02T10:00:00.500Z (-0.50 s)") != std::string::npos);
  CHECK(st.receipts_ok());
}

TEST_CASE("a receipt that does not verify is shown and fails the status") {
  auto st = sample();
  st.recipients[0].receipt_verified = false;
  st.recipients[0].receipt_error = "the receipt names sender 'trust-c'";
  CHECK_FALSE(st.receipts_ok());
  CHECK(st.to_text().find("RECEIPT DOES NOT VERIFY: the receipt names sender 'trust-c'") !=
        std::string::npos);
  std::string j = st.to_json();
  CHECK(j.find(R"("receipt_verified":false)") != std::string::npos);
  CHECK(j.find(R"("receipt_verified":null)") != std::string::npos);  // trust-c: no receipt
}

TEST_CASE("no receipt yet is not a failure") {
  auto st = sample();
  st.recipients[0].has_receipt = false;
  st.recipients[0].receipt_verified = false;
  CHECK(st.receipts_ok());
}
