// minisign keys and signatures, checked against the real `minisign` (0.11):
// what we sign, minisign verifies, and the other way round; damaged keys and
// signatures are refused.
#include "iep/package/minisign.h"

#include <doctest/doctest.h>
#include <sodium.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "test_util.h"

namespace fs = std::filesystem;
namespace ms = iep::minisign;
using iep::Exit;
using namespace iep::test;
using Digest = std::array<std::uint8_t, 64>;

namespace {

Digest prehash_file(const fs::path& p) {
  ms::Prehash h;
  iep::FileSource src(p);
  iep::copy(src, h);
  return h.digest();
}

std::string sample_message(std::size_t n) {
  std::string s(n, '\0');
  std::uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

std::string pub_file(const ms::PublicKey& pk) {
  return "untrusted comment: minisign public key " + pk.id_hex() + "\n" + pk.encode() + "\n";
}

// Line i (0-based) of a text, without its newline.
std::string line_of(const std::string& text, int i) {
  std::istringstream s(text);
  std::string line;
  for (int k = 0; k <= i; ++k) std::getline(s, line);
  return line;
}

std::string b64(const std::vector<std::uint8_t>& bin) {
  std::string out(sodium_base64_ENCODED_LEN(bin.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bin.data(), bin.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
  return out;
}

std::vector<std::uint8_t> unb64(const std::string& text) {
  std::vector<std::uint8_t> bin(text.size());
  std::size_t len = 0;
  REQUIRE(sodium_base642bin(bin.data(), bin.size(), text.data(), text.size(), nullptr, &len,
                            nullptr, sodium_base64_VARIANT_ORIGINAL) == 0);
  bin.resize(len);
  return bin;
}

// The exit code a call throws, or Exit::ok when it does not throw.
Exit thrown(const std::function<void()>& f) {
  try {
    f();
  } catch (const iep::Error& e) {
    return e.code();
  }
  return Exit::ok;
}

std::string thrown_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const iep::Error& e) {
    return e.what();
  }
  return {};
}

// A signature text is refused: parse throws bad_signature, or it parses and
// does not verify.
bool refused(const std::string& text, const ms::PublicKey& pk, const Digest& prehash) {
  try {
    return !ms::Signature::parse(text).verify(pk, prehash);
  } catch (const iep::Error& e) {
    CHECK(e.code() == Exit::bad_signature);
    return true;
  }
}

}  // namespace

TEST_CASE("Prehash is BLAKE2b-512 of the whole stream, however it is cut") {
  const std::string msg = sample_message(100'003);
  Digest want{};
  REQUIRE(sodium_init() >= 0);
  crypto_generichash(want.data(), want.size(), reinterpret_cast<const unsigned char*>(msg.data()),
                     msg.size(), nullptr, 0);

  ms::Prehash h;
  const auto* p = reinterpret_cast<const std::uint8_t*>(msg.data());
  std::size_t off = 0;
  for (std::size_t step = 0; off < msg.size(); ++step) {
    const std::size_t n = std::min<std::size_t>((step * 7919) % 1000, msg.size() - off);  // 0 too
    h.write(iep::ByteSpan(p + off, n));
    off += n;
  }
  CHECK(h.digest() == want);
  CHECK(thrown([&] { (void)h.digest(); }) == Exit::internal);
  CHECK(thrown([&] { h.write(iep::ByteSpan(p, 1)); }) == Exit::internal);

  // The empty message, and a different message, differ.
  ms::Prehash empty;
  Digest want_empty{};
  crypto_generichash(want_empty.data(), want_empty.size(), nullptr, 0, nullptr, 0);
  CHECK(empty.digest() == want_empty);
  CHECK(want_empty != want);
}

TEST_CASE("minisign -V accepts what we sign, and refuses a changed file") {
  const fs::path dir = scratch("minisign-verify");
  const auto sk = ms::SecretKey::generate();
  const auto pk = sk.public_key();
  write_file(dir / "our.pub", pub_file(pk));
  write_file(dir / "data.bin", sample_message(70'000));

  const std::string tc = "timestamp:1700000000\tfile:data.bin\tiep \xc3\xa9tude";
  const Digest ph = prehash_file(dir / "data.bin");
  const auto sig = ms::Signature::sign(sk, ph, tc, "signature from iep test");
  write_file(dir / "data.bin.minisig", sig.encode());
  CHECK(sig.verify(pk, ph));

  Run ok = run("minisign -Vm data.bin -p our.pub 2>&1", dir);
  CHECK(ok.status == 0);
  CHECK(ok.out.find("Trusted comment: " + tc) != std::string::npos);
  // The inline key form too.
  CHECK(run("minisign -Vm data.bin -P " + pk.encode(), dir).status == 0);

  // Change one byte of the file: both minisign and we refuse.
  std::string data = read_file(dir / "data.bin");
  data[12345] = static_cast<char>(data[12345] ^ 0x01);
  write_file(dir / "data.bin", data);
  CHECK(run("minisign -Vm data.bin -p our.pub", dir).status != 0);
  CHECK_FALSE(sig.verify(pk, prehash_file(dir / "data.bin")));

  // A modified trusted comment: minisign and we refuse.
  write_file(dir / "data.bin", sample_message(70'000));
  std::string text = sig.encode();
  text.replace(text.find("iep \xc3"), 4, "IEP ");  // in the trusted comment
  write_file(dir / "data.bin.minisig", text);
  CHECK(run("minisign -Vm data.bin -p our.pub", dir).status != 0);
  CHECK(ms::Signature::parse(text).trusted_comment != tc);
  CHECK_FALSE(ms::Signature::parse(text).verify(pk, ph));
}

TEST_CASE("keys made by minisign -G -W work both ways") {
  const fs::path dir = scratch("minisign-keys");
  REQUIRE(run("minisign -G -W -p k.pub -s k.key", dir).status == 0);
  const std::string pub_text = read_file(dir / "k.pub");
  const std::string key_text = read_file(dir / "k.key");

  const auto pk = ms::PublicKey::parse(pub_text);
  const auto sk = ms::SecretKey::parse(line_of(key_text, 1));
  CHECK(sk.public_key() == pk);
  CHECK(ms::SecretKey::parse(key_text).public_key() == pk);  // the whole file works too
  CHECK(ms::PublicKey::parse(line_of(pub_text, 1)) == pk);
  CHECK(pk.encode() == line_of(pub_text, 1));
  // minisign names the key by the id we print (it drops leading zeros, as
  // printf's %X does; we always print 16 digits).
  std::string id = pk.id_hex();
  id.erase(0, std::min(id.find_first_not_of('0'), id.size() - 1));
  CHECK(line_of(pub_text, 0) == "untrusted comment: minisign public key " + id);

  // minisign signs, we verify.
  write_file(dir / "data.bin", sample_message(5000));
  const Digest ph = prehash_file(dir / "data.bin");
  REQUIRE(run("minisign -S -s k.key -m data.bin -t 'made by minisign'", dir).status == 0);
  const auto theirs = ms::Signature::parse(read_file(dir / "data.bin.minisig"));
  CHECK(theirs.trusted_comment == "made by minisign");
  CHECK(theirs.key_id == pk.id);
  CHECK(theirs.verify(pk, ph));
  // Our encoding of their signature is the same file, up to the comment.
  CHECK(theirs.encode() == read_file(dir / "data.bin.minisig"));

  // We sign with their key, minisign verifies.
  const auto ours = ms::Signature::sign(sk, ph, "made by iep", "x");
  write_file(dir / "ours.minisig", ours.encode());
  Run v = run("minisign -V -p k.pub -m data.bin -x ours.minisig 2>&1", dir);
  CHECK(v.status == 0);
  CHECK(v.out.find("Trusted comment: made by iep") != std::string::npos);

  // minisign's legacy (non-prehashed) signatures are refused, with a reason.
  REQUIRE(run("minisign -S -l -s k.key -m data.bin -x legacy.minisig", dir).status == 0);
  const std::string legacy = read_file(dir / "legacy.minisig");
  CHECK(thrown([&] { (void)ms::Signature::parse(legacy); }) == Exit::bad_signature);
  CHECK(thrown_message([&] { (void)ms::Signature::parse(legacy); }).find("legacy") !=
        std::string::npos);
}

TEST_CASE("minisign -S signs with a secret key we encoded") {
  const fs::path dir = scratch("minisign-sign");
  const auto sk = ms::SecretKey::generate();
  const auto pk = sk.public_key();
  const std::string line = sk.encode();
  write_file(dir / "our.key", "untrusted comment: x\n" + line + "\n");
  write_file(dir / "our.pub", pub_file(pk));
  write_file(dir / "data.bin", sample_message(3000));

  REQUIRE(run("minisign -S -s our.key -m data.bin -t 'our key, their signer'", dir).status == 0);
  const auto s = ms::Signature::parse(read_file(dir / "data.bin.minisig"));
  CHECK(s.verify(pk, prehash_file(dir / "data.bin")));
  CHECK(run("minisign -Vm data.bin -p our.pub", dir).status == 0);
  // minisign derives the same public key from it.
  REQUIRE(run("minisign -R -s our.key -p derived.pub", dir).status == 0);
  CHECK(ms::PublicKey::parse(read_file(dir / "derived.pub")) == pk);

  // Round trip.
  const auto back = ms::SecretKey::parse(line);
  CHECK(back.public_key() == pk);
  CHECK(back.encode() == line);
}

TEST_CASE("damaged or unsupported secret keys are refused") {
  const auto sk = ms::SecretKey::generate();
  const std::vector<std::uint8_t> good = unb64(sk.encode());
  REQUIRE(good.size() == 158);
  auto parse_bin = [](const std::vector<std::uint8_t>& bin) {
    return thrown([&] { (void)ms::SecretKey::parse(b64(bin)); });
  };
  CHECK(parse_bin(good) == Exit::ok);

  // Any changed byte of key id, secret key or checksum is caught.
  for (std::size_t i = 54; i < good.size(); ++i) {
    auto bad = good;
    bad[i] ^= 0x20;
    INFO("byte ", i);
    CHECK(parse_bin(bad) == Exit::identity);
  }
  // minisign -W writes a zero checksum: accepted, but the seed must still
  // match the public half.
  auto zero_chk = good;
  std::fill(zero_chk.begin() + 126, zero_chk.end(), 0);
  CHECK(parse_bin(zero_chk) == Exit::ok);
  auto zero_chk_bad = zero_chk;
  zero_chk_bad[62 + 5] ^= 1;  // a seed byte
  CHECK(parse_bin(zero_chk_bad) == Exit::identity);
  zero_chk_bad = zero_chk;
  zero_chk_bad[62 + 40] ^= 1;  // a public-half byte
  CHECK(parse_bin(zero_chk_bad) == Exit::identity);

  // Encrypted keys are refused with a reason; unknown algorithms too.
  auto encrypted = good;
  encrypted[2] = 'S', encrypted[3] = 'c';
  CHECK(parse_bin(encrypted) == Exit::identity);
  CHECK(thrown_message([&] { (void)ms::SecretKey::parse(b64(encrypted)); }).find("encrypted") !=
        std::string::npos);
  for (std::size_t i : {0, 1, 2, 4, 5}) {
    auto bad = good;
    bad[i] ^= 0x01;
    INFO("byte ", i);
    CHECK(parse_bin(bad) == Exit::identity);
  }

  // Wrong sizes and plain garbage.
  CHECK(parse_bin(std::vector<std::uint8_t>(good.begin(), good.end() - 3)) == Exit::identity);
  CHECK(thrown([] { (void)ms::SecretKey::parse(""); }) == Exit::identity);
  CHECK(thrown([] { (void)ms::SecretKey::parse("not base64 at all!"); }) == Exit::identity);
  CHECK(thrown([&] { (void)ms::SecretKey::parse(sk.public_key().encode()); }) == Exit::identity);
}

TEST_CASE("public keys: bare line, .pub file, site card; garbage refused") {
  const auto pk = ms::SecretKey::generate().public_key();
  const std::string line = pk.encode();
  CHECK(line.size() == 56);
  CHECK(line.starts_with("RW"));
  CHECK(ms::PublicKey::parse(line) == pk);
  CHECK(ms::PublicKey::parse(line + "\n") == pk);
  CHECK(ms::PublicKey::parse(pub_file(pk)) == pk);
  CHECK(ms::PublicKey::parse("untrusted comment: x\r\n" + line + "\r\n") == pk);
  CHECK(ms::PublicKey::parse(pub_file(pk) + "site: St Elsewhere\nage: age1xyz\n") == pk);

  // id_hex is the id bytes reversed, upper case.
  ms::PublicKey fixed;
  fixed.id = {0x7b, 0xa2, 0xa9, 0x37, 0x81, 0xe2, 0x68, 0x36};
  CHECK(fixed.id_hex() == "3668E28137A9A27B");

  for (const std::string& bad : std::vector<std::string>{
           std::string(), std::string("\n"), std::string("untrusted comment: only\n"),
           line.substr(0, 55), line + "A", line.substr(0, 52) + "!!!!", "hello world",
           "untrusted comment: x\nnot a key\n" + line + "\n"}) {
    INFO("input: ", bad);
    CHECK(thrown([&] { (void)ms::PublicKey::parse(bad); }) == Exit::identity);
  }
  // Algorithm other than "Ed".
  auto bin = unb64(line);
  bin[1] = 'D';
  CHECK(thrown([&] { (void)ms::PublicKey::parse(b64(bin)); }) == Exit::identity);
}

TEST_CASE("verify needs the right key and the right id") {
  const auto a = ms::SecretKey::generate();
  const auto b = ms::SecretKey::generate();
  const Digest ph = [] {
    ms::Prehash h;
    const std::string m = sample_message(100);
    h.write(iep::ByteSpan(reinterpret_cast<const std::uint8_t*>(m.data()), m.size()));
    return h.digest();
  }();
  const auto s = ms::Signature::sign(a, ph, "tc", "uc");
  CHECK(s.verify(a.public_key(), ph));
  CHECK_FALSE(s.verify(b.public_key(), ph));  // other key, other id
  CHECK_FALSE(s.verify(ms::PublicKey{a.public_key().id, b.public_key().key}, ph));  // same id
  CHECK_FALSE(s.verify(ms::PublicKey{b.public_key().id, a.public_key().key}, ph));  // other id
  Digest other = ph;
  other[0] ^= 1;
  CHECK_FALSE(s.verify(a.public_key(), other));

  // A copied or assigned key signs the same.
  ms::SecretKey c = b;
  c = a;
  CHECK(c.public_key() == a.public_key());
  CHECK(ms::Signature::sign(c, ph, "tc", "uc").verify(a.public_key(), ph));
}

TEST_CASE("tampered, truncated and malformed signatures are refused") {
  const auto sk = ms::SecretKey::generate();
  const auto pk = sk.public_key();
  const Digest ph = [] {
    ms::Prehash h;
    h.write(iep::ByteSpan(reinterpret_cast<const std::uint8_t*>("hello"), 5));
    return h.digest();
  }();
  const std::string text =
      ms::Signature::sign(sk, ph, "timestamp:1\tfile:x", "signature from iep").encode();
  REQUIRE_FALSE(refused(text, pk, ph));

  // Every character of both base64 lines, changed.
  const std::size_t l2 = text.find('\n') + 1;
  const std::size_t l3 = text.find('\n', l2) + 1;
  const std::size_t l4 = text.find('\n', l3) + 1;
  const std::size_t end = text.size() - 1;
  for (std::size_t i = l2; i < end; ++i) {
    if (i >= l3 - 1 && i < l4) continue;  // the trusted comment line: below
    std::string bad = text;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    INFO("offset ", i, ": ", bad);
    CHECK(refused(bad, pk, ph));
  }
  // The trusted comment is signed; the untrusted one is not.
  std::string bad = text;
  bad.replace(bad.find("file:x"), 6, "file:y");
  CHECK(refused(bad, pk, ph));
  bad = text;
  bad.replace(bad.find("from iep"), 8, "from Bob");
  CHECK_FALSE(refused(bad, pk, ph));
  CHECK(ms::Signature::parse(bad).untrusted_comment == "signature from Bob");

  // Truncated anywhere (dropping only the final newline is harmless).
  for (std::size_t n = 0; n + 1 < text.size(); ++n) {
    INFO("length ", n);
    CHECK(refused(text.substr(0, n), pk, ph));
  }
  CHECK_FALSE(refused(text.substr(0, text.size() - 1), pk, ph));

  // CRLF line ends are tolerated (minisign tolerates them too).
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  CHECK_FALSE(refused(crlf, pk, ph));

  auto parse_code = [](const std::string& t) {
    return thrown([&] { (void)ms::Signature::parse(t); });
  };
  const std::string sig_line = line_of(text, 1);
  const std::string global_line = line_of(text, 3);
  for (const std::string& g : std::vector<std::string>{
           std::string(),
           std::string("garbage"),
           std::string("\n\n\n\n"),
           std::string(10'000, 'A'),
           std::string("\0\0\0\0", 4),
           "untrusted comment: x\n" + sig_line + "\ntrusted comment: y\n",  // 3 lines
           text + "extra line\n",                                           // 5 lines
           "comment: x\n" + sig_line + "\ntrusted comment: y\n" + global_line + "\n",
           "untrusted comment: x\n" + sig_line + "\nuntrusted comment: y\n" + global_line + "\n",
           "untrusted comment: x\n" + global_line + "\ntrusted comment: y\n" + sig_line + "\n",
           "untrusted comment: x\n" + sig_line + "=\ntrusted comment: y\n" + global_line + "\n",
           "untrusted comment: x\n" + sig_line + "\ntrusted comment: y\n" + global_line + "AAAA\n",
           "untrusted comment: x\n" + sig_line + "\ntrusted comment: a\x01z\n" + global_line + "\n",
           "untrusted comment: x\n" + sig_line + "\ntrusted comment: a\rz\n" + global_line + "\n",
           "untrusted comment: x\n" + sig_line + "\ntrusted comment: \xff\n" + global_line + "\n",
       }) {
    INFO("input: ", g);
    CHECK(parse_code(g) == Exit::bad_signature);
  }
  // Over 8 KiB even with a good signature in front.
  CHECK(parse_code(text + std::string(8192, '\n')) == Exit::bad_signature);

  // Unknown algorithm in the signature line.
  auto blob = unb64(sig_line);
  blob[0] = 'X', blob[1] = 'X';
  std::string unknown = text;
  unknown.replace(l2, sig_line.size(), b64(blob));
  CHECK(parse_code(unknown) == Exit::bad_signature);
}

TEST_CASE("comments must be one printable line") {
  const auto sk = ms::SecretKey::generate();
  const Digest ph{};
  for (const std::string& tc : std::vector<std::string>{
           "a\nb", "a\rb", std::string("a\0b", 3), "bell\x07", "\xc3(", std::string(5000, 'x')}) {
    INFO("trusted comment: ", tc);
    CHECK(thrown([&] { (void)ms::Signature::sign(sk, ph, tc, "u"); }) == Exit::usage);
  }
  CHECK(thrown([&] { (void)ms::Signature::sign(sk, ph, "t", "two\nlines"); }) == Exit::usage);
  // Tabs and UTF-8 are fine, as in minisign's own default comment.
  auto s = ms::Signature::sign(sk, ph, "timestamp:1\tfile:\xc3\xa9t\xc3\xa9.dcm", "");
  CHECK(ms::Signature::parse(s.encode()).verify(sk.public_key(), ph));
  // encode() will not write a file that breaks the line structure.
  s.untrusted_comment = "x\ntrusted comment: forged";
  CHECK(thrown([&] { (void)s.encode(); }) == Exit::usage);
  s.untrusted_comment = "x";
  s.trusted_comment += "\nmore";
  CHECK(thrown([&] { (void)s.encode(); }) == Exit::usage);
  CHECK_FALSE(s.verify(sk.public_key(), ph));
}
