// Delivery receipts, checked against the real minisign (0.11): what we sign,
// `minisign -V` verifies with the receiver's card; what `minisign -S` signs
// with the receiver's key, verify_receipt accepts; tampered statements,
// other keys and other receivers are refused.
#include "iep/transfer/receipt.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "iep/core/error.h"
#include "iep/package/site.h"
#include "test_util.h"

namespace fs = std::filesystem;
using iep::Exit;
using iep::transfer::Receipt;
using namespace iep::test;

namespace {

Receipt sample(const std::string& receiver = "st-elsewhere") {
  return Receipt{"0123456789abcdef0123456789abcdef",
                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
                 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                 receiver, "trust-a", "2026-12-02T10:00:00.123Z"};
}

// The identity's signing key as a minisign secret key file.
std::string key_file(const iep::SiteIdentity& id) {
  return "untrusted comment: x\n" + id.signing.encode() + "\n";
}

}  // namespace

TEST_CASE("the statement is the documented line, and parses back") {
  const Receipt r = sample();
  const std::string text = r.statement();
  CHECK(text ==
        "iep-receipt package=0123456789abcdef0123456789abcdef "
        "blake2b=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff "
        "receiver=st-elsewhere sender=trust-a time=2026-12-02T10:00:00.123Z\n");
  const Receipt back = Receipt::parse(text);
  CHECK(back.package_id == r.package_id);
  CHECK(back.sealed_blake2b == r.sealed_blake2b);
  CHECK(back.receiver == r.receiver);
  CHECK(back.sender == r.sender);
  CHECK(back.time == r.time);
  CHECK(back.statement() == text);
}

TEST_CASE("malformed statements are refused") {
  const std::string good = sample().statement();
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  const std::vector<std::string> bad = {
      "",
      "\n",
      good.substr(0, good.size() - 1),  // no newline
      good + "\n",                      // two lines
      good + "x",
      with("\n", "\r\n"),
      with("iep-receipt ", "iep-receipts "),
      with("iep-receipt ", "IEP-RECEIPT "),
      with("iep-receipt ", " iep-receipt "),
      with(" blake2b", "  blake2b"),
      with("package=0123456789abcdef0123456789abcdef ", ""),  // missing field
      with("package=0123", "package=0123456789abcdef0123"),   // 56 digits
      with("package=0123", "package=01"),                     // 30 digits
      with("package=0123456789abcdef0123456789abcdef", "package=0123456789ABCDEF0123456789ABCDEF"),
      with("blake2b=0011", "blake2b=0g11"),
      with("blake2b=", "sha256="),
      with("receiver=st-elsewhere", "receiver=St-Elsewhere"),
      with("receiver=st-elsewhere", "receiver="),
      with("receiver=st-elsewhere", "receiver=-x"),
      with("sender=trust-a", "sender=trust/a"),
      with("receiver=st-elsewhere sender=trust-a", "sender=trust-a receiver=st-elsewhere"),
      with("time=2026-12-02T10:00:00.123Z", "time=2026-12-02T10:00:00.123+01:00"),
      with("time=2026-12-02T10:00:00.123Z", "time=2026-02-30T10:00:00Z"),
      with("time=2026-12-02T10:00:00.123Z", "time=yesterday"),
      with("time=2026-12-02T10:00:00.123Z", "time=2026-12-02T10:00:00.123Z extra=1"),
      with("time=2026-12-02T10:00:00.123Z", "time=2026-12-02T10:00:00.123Z "),
      with("sender=trust-a", "sender=" + std::string(65, 'a')),
      good.substr(0, good.size() - 1) + std::string(600, ' ') + "\n",
      std::string(100'000, 'x') + "\n",
      with("trust-a", std::string("trust\0a", 7)),
  };
  for (const auto& b : bad) {
    INFO("statement: ", b);
    CHECK(code_of([&] { (void)Receipt::parse(b); }) == Exit::bad_signature);
  }
  // A receipt that would not parse is never written.
  Receipt r = sample();
  r.time = "2026-12-02 10:00:00";
  CHECK(code_of([&] { (void)r.statement(); }) == Exit::usage);
  r = sample();
  r.receiver = "bad name";
  CHECK(code_of([&] { (void)r.statement(); }) == Exit::usage);
}

TEST_CASE("RFC 3339 UTC times") {
  for (const char* t :
       {"2026-12-02T10:00:00Z", "2026-12-02T10:00:00.1Z", "2026-12-02T23:59:60.123456789Z",
        "2024-02-29T00:00:00Z", "2000-02-29T00:00:00.000Z"}) {
    INFO(t);
    CHECK(iep::transfer::valid_utc_time(t));
  }
  for (const char* t :
       {"", "2026-12-02T10:00:00", "2026-12-02t10:00:00z", "2026-12-02T10:00:00+00:00",
        "2026-12-02T24:00:00Z", "2026-13-02T10:00:00Z", "2026-00-02T10:00:00Z",
        "2026-04-31T10:00:00Z", "2025-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
        "2026-12-02T10:00:00.Z", "2026-12-02T10:00:00.1234567890Z", "2026-12-02T10:60:00Z",
        "2026-12-02T10:00:61Z", "+2026-12-02T10:00:0Z", "2026-12-02 10:00:00Z",
        "2026-1a-02T10:00:00Z"}) {
    INFO(t);
    CHECK_FALSE(iep::transfer::valid_utc_time(t));
  }
}

TEST_CASE("minisign -V checks our receipts with the receiver's card alone") {
  const fs::path dir = scratch("receipt-minisign-v");
  const auto receiver = iep::SiteIdentity::generate("st-elsewhere");
  const auto signed_r = iep::transfer::sign_receipt(sample(), receiver);
  write_file(dir / "receipt.txt", signed_r.receipt.statement());
  write_file(dir / "receipt.txt.minisig", signed_r.signature.encode());
  write_file(dir / "receiver.card", receiver.card().encode());

  Run ok = run("minisign -Vm receipt.txt -x receipt.txt.minisig -p receiver.card 2>&1", dir);
  CHECK(ok.status == 0);
  CHECK(ok.out.find("Trusted comment: iep-receipt package=0123456789abcdef0123456789abcdef "
                    "receiver=st-elsewhere") != std::string::npos);
  CHECK(signed_r.signature.untrusted_comment == "iep delivery receipt from st-elsewhere");
  // The default file name works too.
  CHECK(run("minisign -Vm receipt.txt -p receiver.card", dir).status == 0);
  // And we accept it.
  CHECK(iep::transfer::verify_receipt(read_file(dir / "receipt.txt"),
                                      read_file(dir / "receipt.txt.minisig"), receiver.card())
            .package_id == sample().package_id);

  // A changed statement: minisign refuses, so do we.
  std::string text = read_file(dir / "receipt.txt");
  text.replace(text.find("10:00:00"), 8, "11:00:00");
  write_file(dir / "receipt.txt", text);
  CHECK(run("minisign -Vm receipt.txt -p receiver.card", dir).status != 0);
  CHECK(code_of([&] {
          (void)iep::transfer::verify_receipt(text, signed_r.signature.encode(), receiver.card());
        }) == Exit::bad_signature);

  // Another site's card: minisign refuses (other key id), so do we.
  const auto other = iep::SiteIdentity::generate("st-elsewhere");
  write_file(dir / "receipt.txt", signed_r.receipt.statement());
  write_file(dir / "other.card", other.card().encode());
  CHECK(run("minisign -Vm receipt.txt -p other.card", dir).status != 0);
  CHECK(error_of(
            [&] {
              (void)iep::transfer::verify_receipt(signed_r.receipt.statement(),
                                                  signed_r.signature.encode(), other.card());
            },
            Exit::bad_signature)
            .find("not signed by the key") != std::string::npos);

  // The receiver's own key, but a card naming another site: the receipt
  // names st-elsewhere, so it is not a receipt of that site.
  auto renamed = receiver.card();
  renamed.site = "trust-b";
  CHECK(error_of(
            [&] {
              (void)iep::transfer::verify_receipt(signed_r.receipt.statement(),
                                                  signed_r.signature.encode(), renamed);
            },
            Exit::bad_signature)
            .find("receiver") != std::string::npos);
}

TEST_CASE("receipts signed by minisign -S with the receiver's key are accepted") {
  const fs::path dir = scratch("receipt-minisign-s");
  const auto receiver = iep::SiteIdentity::generate("st-elsewhere");
  write_file(dir / "k.key", key_file(receiver));
  write_file(dir / "receipt.txt", sample().statement());

  REQUIRE(run("minisign -S -s k.key -m receipt.txt -t 'iep-receipt "
              "package=0123456789abcdef0123456789abcdef receiver=st-elsewhere'",
              dir)
              .status == 0);
  const Receipt r = iep::transfer::verify_receipt(
      read_file(dir / "receipt.txt"), read_file(dir / "receipt.txt.minisig"), receiver.card());
  CHECK(r.receiver == "st-elsewhere");
  CHECK(r.sender == "trust-a");

  // minisign's default trusted comment (timestamp, file name) does not name
  // the package and receiver: refused.
  REQUIRE(run("minisign -S -s k.key -m receipt.txt -x default.minisig", dir).status == 0);
  CHECK(error_of(
            [&] {
              (void)iep::transfer::verify_receipt(read_file(dir / "receipt.txt"),
                                                  read_file(dir / "default.minisig"),
                                                  receiver.card());
            },
            Exit::bad_signature)
            .find("comment") != std::string::npos);
  // A comment naming another package: refused.
  REQUIRE(run("minisign -S -s k.key -m receipt.txt -x other.minisig -t 'iep-receipt "
              "package=ffffffffffffffffffffffffffffffff receiver=st-elsewhere'",
              dir)
              .status == 0);
  CHECK(code_of([&] {
          (void)iep::transfer::verify_receipt(read_file(dir / "receipt.txt"),
                                              read_file(dir / "other.minisig"), receiver.card());
        }) == Exit::bad_signature);
  // A legacy (non-prehashed) signature: refused.
  REQUIRE(run("minisign -S -l -s k.key -m receipt.txt -x legacy.minisig -t 'iep-receipt "
              "package=0123456789abcdef0123456789abcdef receiver=st-elsewhere'",
              dir)
              .status == 0);
  CHECK(code_of([&] {
          (void)iep::transfer::verify_receipt(read_file(dir / "receipt.txt"),
                                              read_file(dir / "legacy.minisig"), receiver.card());
        }) == Exit::bad_signature);
  // Garbage as a signature.
  CHECK(code_of([&] {
          (void)iep::transfer::verify_receipt(read_file(dir / "receipt.txt"), "not a signature",
                                              receiver.card());
        }) == Exit::bad_signature);
}

TEST_CASE("a site signs only its own receipts") {
  const auto a = iep::SiteIdentity::generate("trust-a");
  CHECK(code_of([&] { (void)iep::transfer::sign_receipt(sample("st-elsewhere"), a); }) ==
        Exit::usage);
  const auto s = iep::transfer::sign_receipt(sample("trust-a"), a);
  CHECK(s.signature.trusted_comment ==
        "iep-receipt package=0123456789abcdef0123456789abcdef receiver=trust-a");
  CHECK_NOTHROW(
      (void)iep::transfer::verify_receipt(s.receipt.statement(), s.signature.encode(), a.card()));
  // The signature of one receipt does not carry over to another.
  Receipt other = s.receipt;
  other.sealed_blake2b[0] = 'f';
  CHECK(code_of([&] {
          (void)iep::transfer::verify_receipt(other.statement(), s.signature.encode(), a.card());
        }) == Exit::bad_signature);
}
