// The sealed package's signed statement (iep-package(5), SEALED PACKAGE):
// its encoding, its strict parsing, and check_sealed_signature, which a hub
// runs with nothing but the sender's card.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "iep/core/error.h"
#include "iep/package/minisign.h"
#include "iep/package/package.h"
#include "iep/package/site.h"
#include "test_util.h"

using iep::Exit;
using iep::package::SealedStatement;
using namespace iep::test;
using Digest = std::array<std::uint8_t, 64>;

namespace {

const std::string kId = "0123456789abcdef0123456789abcdef";
const std::string kCreated = "2026-12-02T10:00:00Z";

Digest digest_of(std::string_view bytes) {
  iep::minisign::Prehash h;
  h.write(iep::ByteSpan(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  return h.digest();
}

SealedStatement sample() {
  return SealedStatement{kId, "trust-a", kCreated, std::vector<std::string>{"trust-b", "st-c"}};
}

}  // namespace

TEST_CASE("encode: the documented fields, in order") {
  CHECK(sample().encode() ==
        "iep-sealed package=" + kId + " sender=trust-a created=" + kCreated + " to=trust-b,st-c");
  SealedStatement old = sample();
  old.to.reset();
  CHECK(old.encode() == "iep-sealed package=" + kId + " sender=trust-a created=" + kCreated);
  SealedStatement one = sample();
  one.to = std::vector<std::string>{"trust-b"};
  CHECK(one.encode().ends_with(" to=trust-b"));
}

TEST_CASE("parse: round trip, older statements, unknown fields ignored") {
  const SealedStatement st = SealedStatement::parse(sample().encode());
  CHECK(st.package_id == kId);
  CHECK(st.sender == "trust-a");
  CHECK(st.created == kCreated);
  REQUIRE(st.to.has_value());
  CHECK(*st.to == std::vector<std::string>{"trust-b", "st-c"});

  // No to= : an older package, recipients unknown (not an empty list).
  const SealedStatement old =
      SealedStatement::parse("iep-sealed package=" + kId + " sender=trust-a created=" + kCreated);
  CHECK_FALSE(old.to.has_value());

  // Fields a later version adds are skipped, wherever they are.
  const SealedStatement later = SealedStatement::parse("iep-sealed future=1 package=" + kId +
                                                       " sender=trust-a x=a=b created=" + kCreated +
                                                       " to=trust-b hub-hint=eu");
  CHECK(later.package_id == kId);
  CHECK(later.sender == "trust-a");
  CHECK(*later.to == std::vector<std::string>{"trust-b"});
}

TEST_CASE("parse: malformed statements are refused") {
  const std::string good = sample().encode();
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  const std::vector<std::string> bad = {
      "",
      "iep-sealed",
      "timestamp:1700000000\tfile:s.iep",  // minisign's default comment
      with("iep-sealed ", "iep-receipt "),
      with("iep-sealed ", "IEP-SEALED "),
      with("iep-sealed ", "iep-sealed  "),  // an empty field
      with(" sender=", " sender "),         // a field without '='
      with("package=" + kId + " ", ""),     // no package
      with("sender=trust-a ", ""),          // no sender
      with(kId, kId.substr(1)),
      with(kId, kId + "0"),
      with(kId, "0123456789ABCDEF0123456789ABCDEF"),
      with(kId, "0123456789abcdef0123456789abcdeg"),
      with("sender=trust-a", "sender=Trust-A"),
      with("sender=trust-a", "sender="),
      with("sender=trust-a", "sender=" + std::string(65, 'a')),
      with("created=" + kCreated, "created="),
      with("created=" + kCreated, "created=" + std::string(65, '1')),
      with("created=" + kCreated, "created=yesterday"),
      with("created=" + kCreated, "created=2026-13-02T10:00:00Z"),
      with("to=trust-b,st-c", "to="),
      with("to=trust-b,st-c", "to=trust-b,,st-c"),
      with("to=trust-b,st-c", "to=trust-b,st-c,"),
      with("to=trust-b,st-c", "to=,trust-b"),
      with("to=trust-b,st-c", "to=trust-b;st-c"),
      with("to=trust-b,st-c", "to=trust/b"),
      with("to=trust-b,st-c", "to=" + std::string(7001, 'a')),
  };
  for (const auto& b : bad) {
    INFO("statement: ", b);
    CHECK(code_of([&] { (void)SealedStatement::parse(b); }) == Exit::bad_signature);
  }
}

TEST_CASE("encode refuses more recipients than a statement can carry") {
  // 7000 bytes of names and commas is the limit.
  std::vector<std::string> names;
  for (int i = 0; i < 100; ++i) {
    std::string n = "site-" + std::to_string(1000 + i);
    names.push_back(n + std::string(64 - n.size(), 'x'));
  }
  SealedStatement st = sample();
  st.to = names;  // 100 * 64 + 99 = 6499 bytes
  const std::string fits = st.encode();
  CHECK(SealedStatement::parse(fits).to->size() == 100);
  for (int i = 0; i < 8; ++i) st.to->push_back("extra-" + std::to_string(i) + std::string(56, 'y'));
  // 108 * 64 + 107 = 7019 bytes: too many.
  std::string message;
  CHECK(code_of([&] { (void)st.encode(); }, &message) == Exit::usage);
  CHECK(message.find("too many recipients") != std::string::npos);

  // Exactly at the limit: written and read back.
  st.to = names;
  for (int i = 0; i < 7; ++i) st.to->push_back("more-" + std::to_string(i) + std::string(58, 'w'));
  st.to->push_back(std::string(45, 'z'));  // 6499 + 7 * 65 + 1 + 45 = 7000
  const std::string at_limit = st.encode();
  CHECK(at_limit.size() - at_limit.find(" to=") - 4 == iep::package::kMaxStatementRecipientBytes);
  CHECK(SealedStatement::parse(at_limit).to->size() == 108);
  st.to->back() += "z";
  CHECK(code_of([&] { (void)st.encode(); }) == Exit::usage);
}

TEST_CASE("check_sealed_signature: the sender's card, and nothing else, passes") {
  const auto a = iep::SiteIdentity::generate("trust-a");
  const auto b = iep::SiteIdentity::generate("trust-b");
  const Digest sealed = digest_of("the sealed bytes of a package");
  auto sign = [](const iep::SiteIdentity& who, const Digest& d, const std::string& tc) {
    return iep::minisign::Signature::sign(who.signing, d, tc,
                                          "iep sealed package signature from " + who.site);
  };
  const auto sig = sign(a, sealed, sample().encode());

  const SealedStatement st = iep::package::check_sealed_signature(sig, sealed, a.card(), "p.iep");
  CHECK(st.package_id == kId);
  CHECK(st.sender == "trust-a");
  CHECK(*st.to == std::vector<std::string>{"trust-b", "st-c"});
  // Through the text form too, as a hub receives it.
  CHECK(iep::package::check_sealed_signature(iep::minisign::Signature::parse(sig.encode()), sealed,
                                             a.card(), "p.iep")
            .sender == "trust-a");

  auto refused = [&](const iep::minisign::Signature& s, const Digest& d, const iep::SiteCard& card,
                     const std::string& why) {
    const std::string msg =
        error_of([&] { (void)iep::package::check_sealed_signature(s, d, card, "p.iep"); },
                 Exit::bad_signature);
    CHECK(msg.starts_with("p.iep: "));
    CHECK_MESSAGE(msg.find(why) != std::string::npos, msg);
  };
  // Another site's card.
  refused(sig, sealed, b.card(), "not signed by the key of trust-b");
  // Another key under the same key id: the signature does not verify.
  iep::SiteCard same_id = b.card();
  same_id.signing_key.id = a.card().signing_key.id;
  refused(sig, sealed, same_id, "does not verify");
  // Tampered sealed bytes.
  Digest tampered = sealed;
  tampered[17] ^= 0x01;
  refused(sig, tampered, a.card(), "does not verify");
  refused(sig, digest_of("the sealed bytes of a packagE"), a.card(), "does not verify");
  // A statement naming another sender, signed by trust-a.
  SealedStatement other = sample();
  other.sender = "trust-b";
  refused(sign(a, sealed, other.encode()), sealed, a.card(), "names trust-b as sender");
  // trust-a's key under a card naming another site.
  iep::SiteCard renamed = a.card();
  renamed.site = "trust-z";
  refused(sig, sealed, renamed, "as sender");
  // A signed comment that is not a statement.
  refused(sign(a, sealed, "timestamp:1700000000\tfile:p.iep"), sealed, a.card(), "iep-sealed");
  // An edited statement under the old signature.
  auto edited = sig;
  edited.trusted_comment =
      SealedStatement{kId, "trust-a", kCreated, std::vector<std::string>{"trust-c"}}.encode();
  refused(edited, sealed, a.card(), "does not verify");
  // Without to= the statement still checks: a hub then refuses to route it.
  SealedStatement old = sample();
  old.to.reset();
  CHECK_FALSE(
      iep::package::check_sealed_signature(sign(a, sealed, old.encode()), sealed, a.card(), "p.iep")
          .to.has_value());
}
