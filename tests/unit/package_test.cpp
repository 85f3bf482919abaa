// iep::package reading and verification: nothing from outside is parsed
// before it is authenticated. Packages are crafted here byte by byte (tar,
// manifest, minisign signature) to be hostile in one way each.
#include "iep/package/package.h"

#include <doctest/doctest.h>
#include <sodium.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "iep/core/error.h"
#include "iep/package/tar.h"
#include "test_util.h"

using iep::Exit;
using iep::Manifest;
using iep::SiteCard;
using iep::SiteIdentity;
namespace pkg = iep::package;
namespace fs = std::filesystem;

namespace {

iep::ByteSpan span(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

struct Entry {
  std::string path;
  std::string content;
  bool attachment = false;
};

std::array<std::uint8_t, 32> blake2b(const std::string& s) {
  std::array<std::uint8_t, 32> h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(s.data()), s.size(),
                     nullptr, 0);
  return h;
}

// The manifest a sender would write for `entries`.
Manifest manifest_of(const SiteIdentity& sender, const std::vector<Entry>& entries) {
  Manifest m;
  m.package_id = iep::new_package_id();
  m.created = "2026-12-02T05:28:29Z";
  const SiteCard card = sender.card();
  m.sender = {card.site, card.recipient.encode(), card.signing_key.encode()};
  m.study.study_instance_uid = "1.2.3";
  for (const auto& e : entries) {
    iep::ManifestFile f;
    f.path = e.path;
    f.size = e.content.size();
    f.blake2b = blake2b(e.content);
    f.attachment = e.attachment;
    if (!e.attachment) {
      f.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
      f.sop_instance_uid = "1.2.3.4";
      f.series_instance_uid = "1.2.3.4.5";
      f.transfer_syntax_uid = "1.2.840.10008.1.2.1";
      f.modality = "CT";
    }
    m.files.push_back(f);
  }
  m.summarise();
  return m;
}

// A plain (uncompressed) package: the entries, then `manifest` signed by
// `signer`.
std::string plain(const std::vector<Entry>& entries, const std::string& manifest,
                  const SiteIdentity& signer) {
  iep::BytesSink out;
  iep::tar::Writer w(out);
  for (const auto& e : entries) w.add_file(e.path, span(e.content), 0);
  iep::minisign::Prehash ph;
  ph.write(span(manifest));
  auto sig =
      iep::minisign::Signature::sign(signer.signing, ph.digest(), "iep-manifest test", "test");
  w.add_file(pkg::kManifestName, span(manifest), 0);
  w.add_file(pkg::kManifestSigName, span(sig.encode()), 0);
  w.finish();
  return {out.bytes.begin(), out.bytes.end()};
}

pkg::Report verify(const std::string& bytes, const SiteIdentity* self, const iep::TrustStore* trust,
                   bool dicom = false, std::optional<iep::minisign::Signature> sig = std::nullopt,
                   bool identity_optional = false) {
  iep::BytesSource in(span(bytes));
  pkg::VerifyOptions o;
  o.open = {self, trust, std::move(sig)};
  o.check_dicom = dicom;
  o.identity_optional = identity_optional;
  return pkg::verify(in, "pkg", o);
}

// A card of another site whose signing key has the same 8-byte key id as
// `genuine`'s but another key.
SiteCard shadow_of(const SiteCard& genuine) {
  SiteCard c = SiteIdentity::generate("shadow").card();
  c.signing_key.id = genuine.signing_key.id;
  return c;
}

// A DICOM data set of `levels` nested sequences (as a DICOM file would hold
// it after a valid preamble and meta header): enough to overflow the stack
// of a recursive parser.
std::string deep_dicom(std::size_t levels) {
  std::string d(128, '\0');
  d += "DICM";
  auto le16 = [&](unsigned v) { d += char(v & 0xff), d += char(v >> 8); };
  auto le32 = [&](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) d += char((v >> (8 * i)) & 0xff);
  };
  const std::string ts = std::string("1.2.840.10008.1.2.1") + '\0';
  le16(0x0002), le16(0x0010), d += "UI", le16(static_cast<unsigned>(ts.size())), d += ts;
  for (std::size_t i = 0; i < levels; ++i) {
    le16(0x0008), le16(0x1115), d += "SQ", le16(0), le32(0xffffffff);
    le16(0xfffe), le16(0xe000), le32(0xffffffff);
  }
  for (std::size_t i = 0; i < levels; ++i) {
    le16(0xfffe), le16(0xe00d), le32(0);
    le16(0xfffe), le16(0xe0dd), le32(0);
  }
  return d;
}

std::size_t entries_in(const fs::path& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), {}));
}

}  // namespace

TEST_CASE("an unknown key id is refused before the manifest is parsed") {
  const auto a = SiteIdentity::generate("trust-a");
  const auto mallory = SiteIdentity::generate("mallory");
  iep::TrustStore trust;
  trust.add(a.card());
  // Not JSON at all, and a JSON bomb: neither is looked at.
  for (const std::string& manifest : {std::string("not json"), std::string(100000, '[')}) {
    auto rep = verify(plain({}, manifest, mallory), nullptr, &trust);
    CHECK(rep.result == Exit::bad_signature);
    CHECK(rep.error.find("unknown key") != std::string::npos);
    CHECK(rep.error.find('\n') == std::string::npos);
  }
  // A trusted key id whose signature does not verify: not parsed either.
  SiteCard fake = shadow_of(mallory.card());
  fake.site = "fake";
  trust.add(fake);
  auto rep = verify(plain({}, "not json", mallory), nullptr, &trust);
  CHECK(rep.result == Exit::bad_signature);
  CHECK(rep.error.find("does not verify with the key of 'fake'") != std::string::npos);
}

TEST_CASE("a card sharing the signer's key id does not shadow it") {
  const auto a = SiteIdentity::generate("trust-a");
  const auto b = SiteIdentity::generate("trust-b");
  iep::TrustStore trust;
  trust.add(shadow_of(a.card()));  // first, so a lookup by id alone finds it
  trust.add(a.card());
  CHECK(trust.with_key_id(a.card().signing_key.id).size() == 2);
  const std::vector<Entry> files = {{"x/report.txt", "hello", true}};
  auto rep = verify(plain(files, manifest_of(a, files).to_json(), a), nullptr, &trust);
  CHECK_MESSAGE(rep.result == Exit::ok, rep.error);

  // The detached signature over sealed bytes, checked by origin only.
  pkg::Plan plan;
  plan.study.study_instance_uid = "1.2.3";
  const fs::path dir = iep::test::scratch("package-shadow");
  iep::test::write_file(dir / "r.txt", "report");
  pkg::PlannedFile pf;
  pf.source = dir / "r.txt";
  pf.entry.path = "attachments/r.txt";
  pf.entry.size = 6;
  pf.entry.attachment = true;
  plan.files.push_back(pf);
  iep::BytesSink sealed;
  auto s = pkg::seal(plan, a, {b.card()}, sealed);
  const std::string bytes(sealed.bytes.begin(), sealed.bytes.end());
  auto origin = verify(bytes, nullptr, &trust, false, s.signature);
  CHECK_MESSAGE(origin.result == Exit::ok, origin.error);
  CHECK(origin.signed_by == "trust-a");
  // Opened by the recipient, with the shadow card among its cards too.
  auto opened = verify(bytes, &b, &trust, true, s.signature);
  CHECK_MESSAGE(opened.result == Exit::ok, opened.error);

  // The site that sealed it checks it by origin: its own card counts.
  iep::TrustStore none;
  auto own = verify(bytes, &a, &none, true, s.signature, /*identity_optional=*/true);
  CHECK_MESSAGE(own.result == Exit::ok, own.error);
  CHECK(own.signed_by == "trust-a");
  fs::remove_all(dir);
}

TEST_CASE("the sender a manifest names is the site whose key signed it") {
  const auto a = SiteIdentity::generate("trust-a");
  const auto b = SiteIdentity::generate("trust-b");
  iep::TrustStore trust;
  trust.add(a.card());
  trust.add(b.card());
  const std::vector<Entry> files = {{"r.txt", "hello", true}};
  // Signed by a, naming b (with b's key, or with a's key under b's name).
  Manifest m = manifest_of(b, files);
  auto rep = verify(plain(files, m.to_json(), a), nullptr, &trust);
  CHECK(rep.result == Exit::bad_signature);
  CHECK(rep.error.find("claims to be from 'trust-b'") != std::string::npos);
  m = manifest_of(a, files);
  m.sender.site = "trust-b";
  CHECK(verify(plain(files, m.to_json(), a), nullptr, &trust).result == Exit::bad_signature);
  m = manifest_of(a, files);
  CHECK(verify(plain(files, m.to_json(), a), nullptr, &trust).result == Exit::ok);
}

TEST_CASE("entries 'a' and 'a/b' are refused as corrupt when verifying") {
  const auto a = SiteIdentity::generate("trust-a");
  iep::TrustStore trust;
  trust.add(a.card());
  const std::vector<Entry> files = {{"a", "one", true}, {"a/b", "two", true}};
  auto rep = verify(plain(files, manifest_of(a, files).to_json(), a), nullptr, &trust);
  CHECK(rep.result == Exit::corrupt);
  CHECK(rep.error.find("both a file and the folder") != std::string::npos);
}

TEST_CASE("DICOM is parsed only after everything is authenticated, and only DICOM entries") {
  const auto a = SiteIdentity::generate("trust-a");
  iep::TrustStore trust;
  trust.add(a.card());
  const fs::path tmp = iep::test::scratch("package-tmpdir");
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  ::setenv("TMPDIR", tmp.c_str(), 1);
  const std::string deep = deep_dicom(300000);
  const std::string ct = iep::test::read_file(iep::test::kPydicom / "CT_small.dcm");

  // Unsigned deep nesting: refused by its signature, never parsed (a
  // recursive DICOM parser would overflow its stack on it).
  const auto mallory = SiteIdentity::generate("mallory");
  std::vector<Entry> files = {{"1.2.3/deep.dcm", deep, false}};
  auto rep =
      verify(plain(files, manifest_of(mallory, files).to_json(), mallory), nullptr, &trust, true);
  CHECK(rep.result == Exit::bad_signature);

  // Signed: a good instance and the same bytes as an attachment pass; the
  // deep nesting as an attachment is not parsed.
  files = {{"1.2.3/ct.dcm", ct, false}, {"attachments/deep.bin", deep, true}};
  rep = verify(plain(files, manifest_of(a, files).to_json(), a), nullptr, &trust, true);
  CHECK_MESSAGE(rep.result == Exit::ok, rep.error);
  CHECK(rep.checks.back().name == "dicom");

  // A signed DICOM entry that is not DICOM: invalid_dicom naming the entry.
  files = {{"1.2.3/ct.dcm", ct, false}, {"1.2.3/bad.dcm", "not dicom at all", false}};
  rep = verify(plain(files, manifest_of(a, files).to_json(), a), nullptr, &trust, true);
  CHECK(rep.result == Exit::invalid_dicom);
  CHECK(rep.error.find("1.2.3/bad.dcm") != std::string::npos);

  // A hash mismatch stops before any parsing (corrupt, not invalid_dicom).
  files = {{"1.2.3/bad.dcm", "not dicom at all", false}};
  Manifest m = manifest_of(a, files);
  m.files[0].blake2b[0] ^= 1;
  rep = verify(plain(files, m.to_json(), a), nullptr, &trust, true);
  CHECK(rep.result == Exit::corrupt);

  // Nothing is left in $TMPDIR.
  CHECK(entries_in(tmp) == 0);
  if (old)
    ::setenv("TMPDIR", saved.c_str(), 1);
  else
    ::unsetenv("TMPDIR");
  fs::remove_all(tmp);
}

TEST_CASE("verify_file reads a file twice and a pipe once") {
  const auto a = SiteIdentity::generate("trust-a");
  iep::TrustStore trust;
  trust.add(a.card());
  const fs::path dir = iep::test::scratch("package-verify-file");
  const std::string ct = iep::test::read_file(iep::test::kPydicom / "CT_small.dcm");
  std::vector<Entry> files = {{"1.2.3/ct.dcm", ct, false}};
  iep::test::write_file(dir / "good.tar", plain(files, manifest_of(a, files).to_json(), a));
  files = {{"1.2.3/bad.dcm", "not dicom", false}};
  iep::test::write_file(dir / "bad.tar", plain(files, manifest_of(a, files).to_json(), a));
  pkg::VerifyOptions o;
  o.open = {nullptr, &trust, std::nullopt};
  auto rep = pkg::verify_file((dir / "good.tar").string(), "good.tar", o);
  CHECK_MESSAGE(rep.result == Exit::ok, rep.error);
  rep = pkg::verify_file((dir / "bad.tar").string(), "bad.tar", o);
  CHECK(rep.result == Exit::invalid_dicom);
  rep = pkg::verify_file((dir / "missing.tar").string(), "missing.tar", o);
  CHECK(rep.result == Exit::input);
  fs::remove_all(dir);
}
