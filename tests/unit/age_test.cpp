// age v1: Bech32 vectors, key round trips, interop with the real age and
// age-keygen (Debian `age`), strict header parsing and tampering.
#include "iep/package/age.h"

#include <doctest/doctest.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <string>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "test_util.h"

namespace fs = std::filesystem;
namespace age = iep::age;
using iep::Bytes;
using iep::ByteSpan;
using iep::Exit;
using namespace iep::test;

namespace {

constexpr std::size_t kChunk = 65536;
constexpr std::size_t kSealed = kChunk + 16;

std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

Bytes random_bytes(std::size_t n) {
  Bytes b(n);
  if (n > 0) randombytes_buf(b.data(), n);
  return b;
}

Bytes to_bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

// Encrypts with our Encryptor, writing `piece` bytes at a time.
Bytes seal(ByteSpan plain, const std::vector<age::Recipient>& rs, std::size_t piece = SIZE_MAX) {
  iep::BytesSink sink;
  age::Encryptor enc(sink, rs);
  for (std::size_t i = 0; i < plain.size(); i += piece)
    enc.write(plain.subspan(i, std::min(piece, plain.size() - i)));
  enc.finish();
  return sink.bytes;
}

struct Opened {
  Bytes plain;  // everything read() handed out
  std::optional<Exit> err;
  std::string msg;
};

// Decrypts with our Decryptor, reading into a buffer of `bufsize` bytes.
Opened open(ByteSpan sealed, const age::Identity& id, std::size_t bufsize = kChunk) {
  Opened o;
  try {
    // (A non-null span even when empty: BytesSource memcpy's from data().)
    static const std::uint8_t none = 0;
    iep::BytesSource src(sealed.empty() ? ByteSpan(&none, 0) : sealed);
    age::Decryptor dec(src, id, "test.age");
    Bytes buf(bufsize);
    for (;;) {
      std::size_t n = dec.read(buf);
      if (n == 0) break;
      o.plain.insert(o.plain.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
  } catch (const iep::Error& e) {
    o.err = e.code();
    o.msg = e.what();
  }
  return o;
}

bool is_prefix(const Bytes& p, const Bytes& whole) {
  return p.size() <= whole.size() && std::equal(p.begin(), p.end(), whole.begin());
}

std::size_t header_len(const Bytes& f) {
  std::string_view s(reinterpret_cast<const char*>(f.data()), f.size());
  std::size_t m = s.find("\n---");
  REQUIRE(m != std::string_view::npos);
  return s.find('\n', m + 1) + 1;
}

// ---- an independent, minimal age writer, so tests can build headers and
// payloads that our Encryptor would never produce, with a valid MAC.

std::string b64(ByteSpan b) {
  std::string s(sodium_base64_encoded_len(b.size(), sodium_base64_VARIANT_ORIGINAL_NO_PADDING),
                '\0');
  sodium_bin2base64(s.data(), s.size(), b.data(), b.size(),
                    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  s.resize(std::strlen(s.c_str()));
  return s;
}

std::array<std::uint8_t, 32> hmac(ByteSpan key, ByteSpan a, ByteSpan b = {}) {
  std::array<std::uint8_t, 32> out{};
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  crypto_auth_hmacsha256_update(&st, a.data(), a.size());
  if (!b.empty()) crypto_auth_hmacsha256_update(&st, b.data(), b.size());
  crypto_auth_hmacsha256_final(&st, out.data());
  return out;
}

std::array<std::uint8_t, 32> hkdf(ByteSpan salt, ByteSpan ikm, std::string_view info) {
  std::array<std::uint8_t, 32> zero{};
  auto prk = hmac(salt.empty() ? ByteSpan(zero) : salt, ikm);
  Bytes msg = to_bytes(info);
  msg.push_back(1);
  return hmac(prk, msg);
}

struct Mini {
  std::array<std::uint8_t, 16> file_key{};
  Mini() { randombytes_buf(file_key.data(), file_key.size()); }

  // "-> X25519 share\nbody\n" wrapping the file key to r (body_len trims it).
  [[nodiscard]] std::string x25519(const age::Recipient& r, std::string arg_suffix = "",
                                   std::size_t body_len = 32) const {
    std::array<std::uint8_t, 32> eph{}, share{}, shared{};
    randombytes_buf(eph.data(), eph.size());
    crypto_scalarmult_base(share.data(), eph.data());
    REQUIRE(crypto_scalarmult(shared.data(), eph.data(), r.key.data()) == 0);
    Bytes salt(share.begin(), share.end());
    salt.insert(salt.end(), r.key.begin(), r.key.end());
    auto wrap = hkdf(salt, shared, "age-encryption.org/v1/X25519");
    std::array<std::uint8_t, 32> body{};
    std::uint8_t nonce[12] = {};
    crypto_aead_chacha20poly1305_ietf_encrypt(body.data(), nullptr, file_key.data(), 16, nullptr, 0,
                                              nullptr, nonce, wrap.data());
    return "-> X25519 " + b64(share) + arg_suffix + "\n" + b64(ByteSpan(body).first(body_len)) +
           "\n";
  }

  struct Chunk {
    Bytes plain;
    std::uint64_t counter;
    bool last;
  };

  // Header (version line + stanzas as given) + valid MAC + payload chunks.
  [[nodiscard]] Bytes file(const std::string& stanzas, const std::vector<Chunk>& chunks) const {
    std::string h = "age-encryption.org/v1\n" + stanzas + "---";
    auto hk = hkdf({}, file_key, "header");
    h += " " + b64(hmac(hk, to_bytes(h))) + "\n";
    Bytes out = to_bytes(h);
    auto nonce = random_bytes(16);
    out.insert(out.end(), nonce.begin(), nonce.end());
    auto pk = hkdf(nonce, file_key, "payload");
    for (const Chunk& c : chunks) {
      std::uint8_t n[12] = {};
      for (int i = 0; i < 8; ++i) n[10 - i] = static_cast<std::uint8_t>(c.counter >> (8 * i));
      n[11] = c.last ? 1 : 0;
      Bytes ct(c.plain.size() + 16);
      crypto_aead_chacha20poly1305_ietf_encrypt(ct.data(), nullptr, c.plain.data(), c.plain.size(),
                                                nullptr, 0, nullptr, n, pk.data());
      out.insert(out.end(), ct.begin(), ct.end());
    }
    return out;
  }
};

// Whether the real `age -d` opens `file` with the identity in `key`.
bool real_age_opens(const fs::path& dir, const Bytes& file, const fs::path& key) {
  write_file(dir / "probe.age", file);
  return run("age -d -i " + quote(key.string()) + " -o /dev/null " +
             quote((dir / "probe.age").string()) + " 2>/dev/null")
             .status == 0;
}

}  // namespace

TEST_CASE("bech32 known vectors (BIP 173)") {
  std::string hrp;
  Bytes data;
  CHECK(age::bech32_decode("A12UEL5L", hrp, data));
  CHECK(hrp == "a");
  CHECK(data.empty());
  CHECK(age::bech32_decode("a12uel5l", hrp, data));
  CHECK(age::bech32_decode(
      "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
      hrp, data));
  CHECK(hrp ==
        "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio");

  // The 32 data characters are the values 0..31 in order: 160 bits, 20 bytes.
  const std::string v = "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw";
  REQUIRE(age::bech32_decode(v, hrp, data));
  CHECK(hrp == "abcdef");
  Bytes expect(20);
  for (unsigned i = 0; i < 32; ++i)
    for (unsigned b = 0; b < 5; ++b)
      if ((i >> (4 - b)) & 1)
        expect[(i * 5 + b) / 8] |= static_cast<std::uint8_t>(0x80 >> ((i * 5 + b) % 8));
  CHECK(data == expect);
  CHECK(age::bech32_encode("abcdef", expect) == v);
  CHECK(age::bech32_encode("ABCDEF", expect) == v);  // HRP is lower-cased

  // Invalid: bad checksum, mixed case, empty HRP, short checksum, bad data
  // character, HRP character out of range, no separator.
  for (const std::string& bad :
       std::vector<std::string>{"a12uel5m", "A12uEL5L", "1qzzfhee", "li1dgmt3", "x1b4n0q5v",
                                std::string("\x20") + "1nwldj5", std::string("\x7f") + "1axkwrx",
                                "pzry9x0s0muk", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxx"}) {
    CAPTURE(bad);
    CHECK_FALSE(age::bech32_decode(bad, hrp, data));
  }
  // Every single-character substitution of a valid string breaks the checksum.
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::string t = v;
    t[i] = t[i] == 'q' ? 'p' : 'q';
    if (i == 6) continue;  // replacing the separator moves the HRP boundary
    CAPTURE(t);
    CHECK_FALSE(age::bech32_decode(t, hrp, data));
  }
  // No 90-character limit (age keys need more): a long round trip.
  Bytes big = random_bytes(200);
  REQUIRE(age::bech32_decode(age::bech32_encode("x", big), hrp, data));
  CHECK(data == big);
  // Padding: at most 4 bits, all zero. Strings built with an independent
  // checksum over raw 5-bit values.
  auto raw = [](std::string_view hrp, std::vector<std::uint8_t> values) {
    const char* cs = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    std::vector<std::uint8_t> all;
    for (char c : hrp) all.push_back(static_cast<std::uint8_t>(c) >> 5);
    all.push_back(0);
    for (char c : hrp) all.push_back(static_cast<std::uint8_t>(c) & 31);
    all.insert(all.end(), values.begin(), values.end());
    all.insert(all.end(), 6, 0);
    std::uint32_t chk = 1;
    const std::uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    for (std::uint8_t v : all) {
      std::uint32_t top = chk >> 25;
      chk = (chk & 0x1ffffff) << 5 ^ v;
      for (int i = 0; i < 5; ++i)
        if ((top >> i) & 1) chk ^= gen[i];
    }
    chk ^= 1;
    std::string out = std::string(hrp) + "1";
    for (std::uint8_t v : values) out += cs[v];
    for (int i = 0; i < 6; ++i) out += cs[(chk >> (5 * (5 - i))) & 31];
    return out;
  };
  std::vector<std::uint8_t> ramp(32);
  for (std::uint8_t i = 0; i < 32; ++i) ramp[i] = i;
  CHECK(raw("abcdef", ramp) == v);
  CHECK(age::bech32_decode(raw("x", {31, 28}), hrp, data));  // 8 bits + 2 zero bits
  CHECK(data == Bytes{0xff});
  CHECK_FALSE(age::bech32_decode(raw("x", {31, 29}), hrp, data));  // non-zero padding bit
  CHECK_FALSE(age::bech32_decode(raw("x", {0}), hrp, data));       // 5 padding bits
  CHECK(age::bech32_decode(raw("x", {0, 0, 0, 0}), hrp, data));    // 20 bits: 2 bytes + 4
  CHECK(data == Bytes{0, 0});
}

TEST_CASE("recipients and identities round trip; malformed strings are refused") {
  for (int i = 0; i < 20; ++i) {
    age::Identity id = age::Identity::generate();
    std::string s = id.encode();
    CHECK(s.starts_with("AGE-SECRET-KEY-1"));
    CHECK(s.size() == 74);
    CHECK(s == [&] {
      std::string u = s;
      for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return u;
    }());
    age::Identity back = age::Identity::parse("  \n" + s + " \r\n");
    CHECK(back.secret() == id.secret());
    age::Identity copy = back;
    CHECK(copy.secret() == id.secret());
    age::Recipient r = id.recipient();
    std::string rs = r.encode();
    CHECK(rs.starts_with("age1"));
    CHECK(rs.size() == 62);
    CHECK(age::Recipient::parse(rs) == r);
    CHECK(age::Recipient::parse(" " + rs + "\n") == r);
  }
  age::Identity id = age::Identity::generate();
  std::string s = id.encode();
  std::string rs = id.recipient().encode();
  // An age-keygen style file with comments is accepted too.
  CHECK(age::Identity::parse("# created: now\n# public key: " + rs + "\n" + s + "\n").secret() ==
        id.secret());

  auto identity_error = [](const std::string& text) {
    try {
      (void)age::Identity::parse(text);
    } catch (const iep::Error& e) {
      CHECK(std::string(e.what()).find("not an age X25519 identity") != std::string::npos);
      return e.code() == Exit::identity;
    }
    return false;
  };
  auto recipient_error = [](const std::string& text) {
    try {
      (void)age::Recipient::parse(text);
    } catch (const iep::Error& e) {
      CHECK(std::string(e.what()).find("not an age X25519 recipient") != std::string::npos);
      return e.code() == Exit::identity;
    }
    return false;
  };
  std::string flipped = s;
  flipped[20] = flipped[20] == 'Q' ? 'P' : 'Q';
  CHECK(identity_error(flipped));
  CHECK(identity_error(""));
  CHECK(identity_error("   \n"));
  CHECK(identity_error(rs));            // a recipient is not an identity
  CHECK(identity_error(s + "\n" + s));  // two keys
  CHECK(identity_error(s.substr(0, s.size() - 1)));
  std::string lower = s;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK(identity_error(lower));  // as age: identities are upper case
  CHECK(identity_error(age::bech32_encode("age-secret-key-", random_bytes(31))));
  CHECK(identity_error(age::bech32_encode("age-secret-kez-", random_bytes(32))));

  std::string rflip = rs;
  rflip[10] = rflip[10] == 'q' ? 'p' : 'q';
  CHECK(recipient_error(rflip));
  CHECK(recipient_error(""));
  CHECK(recipient_error(s));
  std::string upper = rs;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(recipient_error(upper));
  CHECK(recipient_error(age::bech32_encode("age", random_bytes(33))));
  CHECK(recipient_error(age::bech32_encode("agf", random_bytes(32))));
  CHECK(recipient_error("age1\x01\xff"));
}

TEST_CASE("identities agree with age-keygen") {
  fs::path dir = scratch("age-keygen");
  // age-keygen's identity: we derive the same recipient as age-keygen -y.
  REQUIRE(run("age-keygen -o " + quote((dir / "k.txt").string()) + " 2>/dev/null").status == 0);
  const std::string text = read_file(dir / "k.txt");
  age::Identity theirs = age::Identity::parse(text);
  Run y = run("age-keygen -y " + quote((dir / "k.txt").string()));
  REQUIRE(y.status == 0);
  CHECK(theirs.recipient().encode() == trimmed(y.out));
  CHECK(text.find(theirs.encode()) != std::string::npos);  // re-encodes identically

  // Our identity: age-keygen -y derives what we derive.
  for (int i = 0; i < 5; ++i) {
    age::Identity ours = age::Identity::generate();
    write_file(dir / "ours.txt", ours.encode() + "\n");
    y = run("age-keygen -y " + quote((dir / "ours.txt").string()));
    REQUIRE(y.status == 0);
    CHECK(ours.recipient().encode() == trimmed(y.out));
  }
}

TEST_CASE("interop with the real age in both directions") {
  fs::path dir = scratch("age-interop");
  REQUIRE(run("age-keygen -o " + quote((dir / "theirs.txt").string()) + " 2>/dev/null").status ==
          0);
  const Run keygen_y = run("age-keygen -y " + quote((dir / "theirs.txt").string()));
  REQUIRE(keygen_y.status == 0);
  const std::string& their_rs = keygen_y.out;
  age::Recipient theirs = age::Recipient::parse(their_rs);
  age::Identity ours = age::Identity::generate();
  write_file(dir / "ours.txt", ours.encode() + "\n");

  for (std::size_t size : {std::size_t{0}, std::size_t{1}, kChunk - 1, kChunk, kChunk + 1,
                           3 * kChunk, std::size_t{1000003}}) {
    CAPTURE(size);
    Bytes plain = random_bytes(size);

    // Ours -> age -d, with either identity; written whole and in odd pieces.
    for (std::size_t piece : {SIZE_MAX, std::size_t{4097}}) {
      Bytes sealed = seal(plain, {ours.recipient(), theirs}, piece);
      std::size_t chunks = size == 0 ? 1 : (size + kChunk - 1) / kChunk;
      CHECK(sealed.size() == header_len(sealed) + 16 + size + 16 * chunks);
      write_file(dir / "ours.age", sealed);
      for (const char* key : {"theirs.txt", "ours.txt"}) {
        fs::remove(dir / "out");
        // (stdout, not -o: age creates no -o file for an empty payload)
        REQUIRE(run("age -d -i " + quote((dir / key).string()) + " " +
                    quote((dir / "ours.age").string()) + " > " + quote((dir / "out").string()))
                    .status == 0);
        CHECK(read_bytes(dir / "out") == plain);
      }
      Opened o = open(sealed, ours);
      CHECK_FALSE(o.err);
      CHECK(o.plain == plain);
    }

    // age -r -> ours, reading in chunk-sized and small buffers.
    write_file(dir / "plain", plain);
    REQUIRE(run("age -r " + ours.recipient().encode() + " -r " + trimmed(their_rs) + " -o " +
                quote((dir / "theirs.age").string()) + " " + quote((dir / "plain").string()))
                .status == 0);
    Bytes sealed = read_bytes(dir / "theirs.age");
    for (std::size_t bufsize : {kChunk, std::size_t{1000}, std::size_t{7}, 3 * kChunk}) {
      if (bufsize == 7 && size > 200000) continue;  // slow, and covered by smaller sizes
      Opened o = open(sealed, ours, bufsize);
      CHECK_FALSE(o.err);
      CHECK(o.plain == plain);
    }
  }
}

TEST_CASE("encryptor misuse and bad recipients") {
  iep::BytesSink sink;
  CHECK_THROWS_AS(age::Encryptor(sink, {}), iep::Error);
  age::Recipient low{};  // all-zero point: low order, no shared secret
  try {
    age::Encryptor e(sink, {low});
    FAIL("low-order recipient accepted");
  } catch (const iep::Error& e) {
    CHECK(e.code() == Exit::identity);
  }
  age::Identity id = age::Identity::generate();
  age::Encryptor e(sink, {id.recipient()});
  e.write(to_bytes("hello"));
  e.finish();
  CHECK_THROWS_AS(e.finish(), iep::Error);
  CHECK_THROWS_AS(e.write(to_bytes("x")), iep::Error);
  CHECK(open(sink.bytes, id).plain == to_bytes("hello"));
  // A stream never finished has no final chunk and does not decrypt.
  iep::BytesSink cut;
  {
    age::Encryptor c(cut, {id.recipient()});
    c.write(random_bytes(3 * kChunk + 5));
  }
  Opened o = open(cut.bytes, id);
  CHECK(o.err == Exit::corrupt);
  CHECK(o.plain.size() == 2 * kChunk);
}

TEST_CASE("tampering, truncation, reordering and trailing data are refused") {
  age::Identity id = age::Identity::generate();
  Bytes plain = random_bytes(3 * kChunk + 100);  // chunks: full, full, full, 100
  Bytes good = seal(plain, {id.recipient()});
  REQUIRE(open(good, id).plain == plain);
  const std::size_t hl = header_len(good);
  const std::size_t ps = hl + 16;  // first chunk
  auto chunk_at = [&](std::size_t k) { return ps + k * kSealed; };

  auto expect = [&](const Bytes& f, Exit code, std::size_t good_chunks) {
    for (std::size_t bufsize : {kChunk, std::size_t{4000}}) {
      Opened o = open(f, id, bufsize);
      CHECK(o.err == code);
      CHECK(o.msg.starts_with("test.age: "));
      // Only the authentic chunks before the damage are handed out.
      CHECK(o.plain.size() == good_chunks * kChunk);
      CHECK(is_prefix(o.plain, plain));
    }
  };

  SUBCASE("every header byte") {
    std::set<Exit> allowed{Exit::not_package, Exit::corrupt, Exit::not_for_us};
    for (std::size_t i = 0; i < hl; ++i) {
      Bytes f = good;
      f[i] ^= 0x01;
      Opened o = open(f, id);
      CAPTURE(i);
      REQUIRE(o.err);
      CHECK(allowed.count(*o.err) == 1);
      CHECK(o.plain.empty());
      if (i < 21) CHECK(o.err == Exit::not_package);
    }
    // Another valid base64 character in the MAC or in the wrapped file key.
    std::string_view s(reinterpret_cast<const char*>(good.data()), hl);
    std::size_t mac = s.find("\n--- ") + 5;
    Bytes f = good;
    f[mac + 3] = f[mac + 3] == 'A' ? 'B' : 'A';
    expect(f, Exit::corrupt, 0);
    std::size_t body = s.find('\n', s.find("-> X25519")) + 1;
    f = good;
    f[body + 5] = f[body + 5] == 'A' ? 'B' : 'A';
    expect(f, Exit::not_for_us, 0);
    f = good;
    f[s.find("X25519") + 1] = 'Y';  // an unknown stanza type is skipped
    expect(f, Exit::not_for_us, 0);
  }
  SUBCASE("payload nonce") {
    Bytes f = good;
    f[hl + 7] ^= 0x80;
    expect(f, Exit::corrupt, 0);
  }
  SUBCASE("each chunk and tag") {
    for (std::size_t k = 0; k < 4; ++k) {
      std::size_t end = k < 3 ? chunk_at(k + 1) : good.size();
      for (std::size_t off :
           {chunk_at(k), chunk_at(k) + 1000 % (end - chunk_at(k) - 16), end - 16, end - 1}) {
        Bytes f = good;
        f[off] ^= 0x20;
        CAPTURE(k);
        CAPTURE(off);
        expect(f, Exit::corrupt, k);
      }
    }
  }
  SUBCASE("truncation") {
    std::set<std::size_t> offs{hl, hl + 1, hl + 15, ps, ps + 1, ps + 15, ps + 16, good.size() - 1};
    for (std::size_t k = 1; k <= 3; ++k)
      for (std::size_t d : {0, 1, 15, 16, 17}) {
        offs.insert(chunk_at(k) - d);
        offs.insert(chunk_at(k) + d);
      }
    for (int i = 0; i < 40; ++i)
      offs.insert(hl + randombytes_uniform(static_cast<std::uint32_t>(good.size() - hl)));
    for (std::size_t off : offs) {
      Bytes f(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(off));
      CAPTURE(off);
      Opened o = open(f, id);
      CHECK(o.err == Exit::corrupt);
      CHECK(is_prefix(o.plain, plain));
      // Chunk k is only handed out once chunk k+1's first byte is seen.
      std::size_t complete = off > ps ? (off - ps) / kSealed : 0;
      CHECK(o.plain.size() <= complete * kChunk);
    }
    for (std::size_t off : {std::size_t{0}, std::size_t{1}, std::size_t{10}, std::size_t{21}}) {
      Bytes f(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(off));
      CHECK(open(f, id).err == Exit::not_package);
    }
    for (std::size_t off : {std::size_t{22}, std::size_t{40}, hl - 1}) {
      Bytes f(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(off));
      CHECK(open(f, id).err == Exit::corrupt);
    }
  }
  SUBCASE("trailing data") {
    for (std::size_t extra : {1, 15, 16, 17, 65552}) {
      Bytes f = good;
      Bytes more = random_bytes(extra);
      f.insert(f.end(), more.begin(), more.end());
      CAPTURE(extra);
      expect(f, Exit::corrupt, 3);
    }
    // With a full-size final chunk, the extra byte makes it look non-final.
    Bytes full = random_bytes(3 * kChunk);
    Bytes f = seal(full, {id.recipient()});
    REQUIRE(open(f, id).plain == full);
    f.push_back(0);
    Opened o = open(f, id);
    CHECK(o.err == Exit::corrupt);
    CHECK(o.plain.size() == 2 * kChunk);
    // Truncated exactly at each chunk boundary of that file.
    f.pop_back();
    for (std::size_t k = 0; k < 3; ++k) {
      Bytes t(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(header_len(f) + 16 + k * kSealed));
      Opened ot = open(t, id);
      CHECK(ot.err == Exit::corrupt);
      CHECK(ot.plain.size() == (k == 0 ? 0 : (k - 1) * kChunk));
    }
  }
  SUBCASE("swapped chunks") {
    Bytes f = good;
    std::swap_ranges(f.begin() + static_cast<std::ptrdiff_t>(chunk_at(0)),
                     f.begin() + static_cast<std::ptrdiff_t>(chunk_at(1)),
                     f.begin() + static_cast<std::ptrdiff_t>(chunk_at(1)));
    expect(f, Exit::corrupt, 0);
    f = good;  // the final chunk moved up front
    Bytes last(good.begin() + static_cast<std::ptrdiff_t>(chunk_at(3)), good.end());
    f.erase(f.begin() + static_cast<std::ptrdiff_t>(chunk_at(3)), f.end());
    f.insert(f.begin() + static_cast<std::ptrdiff_t>(chunk_at(1)), last.begin(), last.end());
    expect(f, Exit::corrupt, 1);
  }
  SUBCASE("chunk spliced from another file for the same recipient") {
    Bytes other = seal(plain, {id.recipient()});
    Bytes f = good;
    std::size_t ohl = header_len(other) + 16;
    std::copy_n(other.begin() + static_cast<std::ptrdiff_t>(ohl + kSealed), kSealed,
                f.begin() + static_cast<std::ptrdiff_t>(chunk_at(1)));
    expect(f, Exit::corrupt, 1);
  }
  SUBCASE("wrong identity") {
    age::Identity other = age::Identity::generate();
    Opened o = open(good, other);
    CHECK(o.err == Exit::not_for_us);
    CHECK(o.msg == "test.age: not addressed to this identity (no recipient stanza opens with it)");
    CHECK(o.plain.empty());
  }
  SUBCASE("not an age file") {
    CHECK(open(Bytes{}, id).err == Exit::not_package);
    CHECK(open(random_bytes(100000), id).err == Exit::not_package);
    CHECK(open(to_bytes("age-encryption.org/v2\n-> X25519 a\n\n--- a\n"), id).err ==
          Exit::not_package);
    CHECK(open(to_bytes("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n"), id).err ==
          Exit::not_package);
    Bytes f = good;
    f.insert(f.begin(), ' ');
    CHECK(open(f, id).err == Exit::not_package);
  }
  SUBCASE("no reading on after an error") {
    Bytes f = good;
    f[chunk_at(1) + 5] ^= 1;
    iep::BytesSource src(f);
    age::Decryptor dec(src, id, "x.age");
    Bytes buf(kChunk);
    CHECK(dec.read(buf) == kChunk);
    CHECK_THROWS_AS(dec.read(buf), iep::Error);
    CHECK_THROWS_AS(dec.read(buf), iep::Error);
  }
}

TEST_CASE("strict header and STREAM rules, checked against the real age") {
  fs::path dir = scratch("age-strict");
  age::Identity id = age::Identity::generate();
  write_file(dir / "id.txt", id.encode() + "\n");
  age::Recipient r = id.recipient();
  Mini m;
  const Bytes hello = to_bytes("hello");
  const std::vector<Mini::Chunk> one{{hello, 0, true}};
  // ok: both we and the real age open it; bad: both refuse (with our code).
  auto ok = [&](const Bytes& f, const Bytes& expect) {
    Opened o = open(f, id);
    CAPTURE(o.msg);
    CHECK_FALSE(o.err);
    CHECK(o.plain == expect);
    CHECK(real_age_opens(dir, f, dir / "id.txt"));
  };
  auto bad = [&](const Bytes& f, Exit code) {
    Opened o = open(f, id);
    CHECK(o.err == code);
    CHECK(o.plain.empty());
    CHECK_FALSE(real_age_opens(dir, f, dir / "id.txt"));
  };

  ok(m.file(m.x25519(r), one), hello);  // the test writer itself is right
  std::string big_body = "-> grease x\n" + b64(random_bytes(48)).substr(0, 64) + "\n";

  SUBCASE("unknown stanzas are skipped") {
    // A 100-byte body: 134 characters as lines of 64, 64 and 6.
    std::string z = b64(random_bytes(100));
    z = z.substr(0, 64) + "\n" + z.substr(64, 64) + "\n" + z.substr(128) + "\n";
    ok(m.file("-> grease-1 a b c\n\n" + m.x25519(r) + "-> z\n" + z, one), hello);
    // A body of 48 bytes: one full line, then an empty line.
    ok(m.file(big_body + "\n" + m.x25519(r), one), hello);
    // A low-order X25519 share (all-zero shared secret) is treated as a
    // stanza that is not ours. (age and rage refuse the whole file instead;
    // either way it can never yield a file key.)
    std::string zero = "-> X25519 " + b64(Bytes(32)) + "\n" + b64(random_bytes(32)) + "\n";
    Bytes mixed = m.file(zero + m.x25519(r), one);
    CHECK(open(mixed, id).plain == hello);
    CHECK_FALSE(real_age_opens(dir, mixed, dir / "id.txt"));
    bad(m.file(zero, one), Exit::not_for_us);
    bad(m.file("-> scrypt c2FsdA 18\n" + b64(random_bytes(32)) + "\n", one), Exit::not_for_us);
    // 1024 stanzas are fine, 1025 are not.
    std::string many;
    for (int i = 0; i < 1023; ++i) many += "-> g\n\n";
    Opened o = open(m.file(many + m.x25519(r), one), id);
    CHECK(o.plain == hello);
    o = open(m.file(many + "-> g\n\n" + m.x25519(r), one), id);
    CHECK(o.err == Exit::corrupt);
  }
  SUBCASE("malformed headers") {
    bad(m.file(big_body + m.x25519(r), one), Exit::corrupt);  // missing final short line
    bad(m.file("-> g\n" + b64(random_bytes(60)) + "\n" + m.x25519(r), one), Exit::corrupt);  // >64
    bad(m.file(m.x25519(r, " extra"), one), Exit::corrupt);
    bad(m.file(m.x25519(r, "="), one), Exit::corrupt);     // padding
    bad(m.file(m.x25519(r, "", 31), one), Exit::corrupt);  // short body
    bad(m.file("-> X25519\n" + b64(random_bytes(32)) + "\n", one), Exit::corrupt);
    bad(m.file("-> X25519 " + b64(random_bytes(31)) + "\n" + b64(random_bytes(32)) + "\n", one),
        Exit::corrupt);
    bad(m.file("-> g  a\n\n" + m.x25519(r), one), Exit::corrupt);  // empty argument
    bad(m.file("-> g \n\n" + m.x25519(r), one), Exit::corrupt);
    bad(m.file("->\n\n" + m.x25519(r), one), Exit::corrupt);
    bad(m.file("-> g\n=\n" + m.x25519(r), one), Exit::corrupt);
    bad(m.file("-> g\r\n\n" + m.x25519(r), one), Exit::corrupt);
    bad(m.file("", one), Exit::corrupt);  // no stanzas at all
    // Non-canonical base64: the share's last character with unused bits set.
    std::string st = m.x25519(r);
    std::size_t last = st.find('\n') - 1;  // 43rd character: 2 unused bits
    st[last] = st[last] == 'A' ? 'B' : static_cast<char>(st[last] ^ 1);
    if (st[last] == '/' || st[last] == '+') st[last] = 'B';
    bad(m.file(st, one), Exit::corrupt);
    // A header over 64 KiB.
    std::string huge;
    for (int i = 0; i < 700; ++i) huge += "-> g " + std::string(100, 'x') + "\n\n";
    Opened o = open(m.file(huge + m.x25519(r), one), id);
    CHECK(o.err == Exit::corrupt);
  }
  SUBCASE("STREAM framing") {
    Bytes full = random_bytes(kChunk);
    ok(m.file(m.x25519(r), {{{}, 0, true}}), {});  // empty payload: one empty final chunk
    ok(m.file(m.x25519(r), {{full, 0, true}}), full);
    ok(m.file(m.x25519(r), {{full, 0, false}, {hello, 1, true}}), [&] {
      Bytes b = full;
      b.insert(b.end(), hello.begin(), hello.end());
      return b;
    }());
    // An empty final chunk after data.
    Opened o = open(m.file(m.x25519(r), {{full, 0, false}, {{}, 1, true}}), id);
    CHECK(o.err == Exit::corrupt);
    CHECK(o.plain == full);
    CHECK_FALSE(real_age_opens(dir, m.file(m.x25519(r), {{full, 0, false}, {{}, 1, true}}),
                               dir / "id.txt"));
    bad(m.file(m.x25519(r), {}), Exit::corrupt);                   // no chunk at all
    bad(m.file(m.x25519(r), {{hello, 1, true}}), Exit::corrupt);   // counter starts at 1
    bad(m.file(m.x25519(r), {{hello, 0, false}}), Exit::corrupt);  // final flag missing
    bad(m.file(m.x25519(r), {{hello, 0, false}, {hello, 1, true}}), Exit::corrupt);  // short chunk
    bad(m.file(m.x25519(r), {{full, 0, true}, {hello, 1, true}}), Exit::corrupt);    // after final
  }
}
