// Minisign key and signature formats, byte for byte as minisign 0.11 reads
// and writes them (see https://jedisct1.github.io/minisign/):
//
//   public key  base64("Ed" || key id[8] || Ed25519 pk[32])
//   secret key  base64("Ed" || kdf[2] || "B2" || salt[32] || opslimit[8] ||
//                      memlimit[8] || key id[8] || Ed25519 sk[64] || chk[32])
//   signature   untrusted comment: <text>
//               base64("ED" || key id[8] || Ed25519(BLAKE2b-512(message)))
//               trusted comment: <text>
//               base64(Ed25519(signature[64] || trusted comment))
#include "iep/package/minisign.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <span>
#include <vector>

#include "iep/core/error.h"

namespace iep::minisign {
namespace {

constexpr std::string_view kUntrustedPrefix = "untrusted comment: ";
constexpr std::string_view kTrustedPrefix = "trusted comment: ";

// Bounds. minisign reads lines with fixed buffers (1024 bytes for the
// untrusted comment line, 8192 for the trusted one); we stay well inside them
// so that what we write, minisign reads.
constexpr std::size_t kMaxSignatureText = 8192;
constexpr std::size_t kMaxUntrustedComment = 1000;
constexpr std::size_t kMaxTrustedComment = 4096;

// Binary layouts.
constexpr std::size_t kPublicKeyBytes = 2 + 8 + 32;
constexpr std::size_t kSigBlobBytes = 2 + 8 + 64;
constexpr std::size_t kSecretKeyBytes = 2 + 2 + 2 + 32 + 8 + 8 + 8 + 64 + 32;
constexpr std::size_t kSkIdOffset = 2 + 2 + 2 + 32 + 8 + 8;
constexpr std::size_t kSkKeyOffset = kSkIdOffset + 8;
constexpr std::size_t kSkChkOffset = kSkKeyOffset + 64;
static_assert(kSkChkOffset + 32 == kSecretKeyBytes);

void ensure_sodium() {
  // sodium_init() is idempotent and thread-safe; run it once.
  static const int rc = sodium_init();
  if (rc < 0) throw Error(Exit::internal, "libsodium: initialisation failed");
}

// Zeroes a buffer holding secret material when the scope ends.
class Wipe {
 public:
  explicit Wipe(std::span<std::uint8_t> s) : s_(s) {}
  Wipe(const Wipe&) = delete;
  Wipe& operator=(const Wipe&) = delete;
  ~Wipe() { sodium_memzero(s_.data(), s_.size()); }

 private:
  std::span<std::uint8_t> s_;
};

std::string to_base64(ByteSpan bin) {
  std::string out(sodium_base64_ENCODED_LEN(bin.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bin.data(), bin.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // drop the terminating NUL
  return out;
}

// Decodes standard padded base64 into exactly out.size() bytes. Refuses any
// other length, stray characters, and non-zero padding bits, so a given value
// has exactly one accepted text.
bool from_base64(std::string_view text, std::span<std::uint8_t> out) {
  const std::size_t want =
      sodium_base64_ENCODED_LEN(out.size(), sodium_base64_VARIANT_ORIGINAL) - 1;
  if (text.size() != want) return false;
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0)
    return false;
  return len == out.size() && end == text.data() + text.size();
}

// Splits off the first line (without "\n" or "\r\n"); advances `rest`.
// Returns false when nothing is left.
bool next_line(std::string_view& rest, std::string_view& line) {
  if (rest.empty()) return false;
  const std::size_t nl = rest.find('\n');
  line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return true;
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The key line of a public or secret key file: either the text is that line
// alone, or a file whose first line is an untrusted comment.
std::string_view key_line(std::string_view text) {
  std::string_view line;
  if (!next_line(text, line)) return {};
  if (line.starts_with("untrusted comment:") && !next_line(text, line)) return {};
  return trim_blanks(line);
}

// minisign's rule for comments it will print: valid UTF-8 without control
// characters (C0, DEL, C1), tab allowed.
bool printable(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p++;
    if (c == '\t' || (c >= 0x20 && c <= 0x7e)) continue;
    if (c < 0x20 || c == 0x7f) return false;
    // Lead byte of a 2, 3 or 4 byte sequence (0xc0, 0xc1, 0xf5+ never occur).
    std::size_t need = 0;
    if (c >= 0xc2 && c <= 0xdf)
      need = 1;
    else if (c >= 0xe0 && c <= 0xef)
      need = 2;
    else if (c >= 0xf0 && c <= 0xf4)
      need = 3;
    else
      return false;
    std::uint32_t cp = c & (need == 1 ? 0x1fu : need == 2 ? 0x0fu : 0x07u);
    if (static_cast<std::size_t>(end - p) < need) return false;
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
    if ((c == 0xe0 && p[0] < 0xa0) || (c == 0xed && p[0] > 0x9f) || (c == 0xf0 && p[0] < 0x90) ||
        (c == 0xf4 && p[0] > 0x8f))
      return false;
    for (std::size_t i = 0; i < need; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if (cp >= 0x80 && cp <= 0x9f) return false;  // C1 controls
    p += need;
  }
  return true;
}

void check_comment(std::string_view what, std::string_view text, std::size_t max) {
  if (text.size() > max)
    throw Error(Exit::usage, std::string(what) + ": longer than " + std::to_string(max) + " bytes");
  if (!printable(text))
    throw Error(
        Exit::usage,
        std::string(what) + ": must be one line of printable UTF-8 text (no control characters)");
}

// BLAKE2b-256("Ed" || key id || secret key): minisign's secret key checksum.
std::array<std::uint8_t, 32> secret_checksum(const KeyId& id,
                                             const std::array<std::uint8_t, 64>& sk) {
  crypto_generichash_state st;
  std::array<std::uint8_t, 32> chk{};
  crypto_generichash_init(&st, nullptr, 0, chk.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>("Ed"), 2);
  crypto_generichash_update(&st, id.data(), id.size());
  crypto_generichash_update(&st, sk.data(), sk.size());
  crypto_generichash_final(&st, chk.data(), chk.size());
  sodium_memzero(&st, sizeof st);
  return chk;
}

}  // namespace

// ---------------------------------------------------------------- Prehash

Prehash::Prehash() {
  static_assert(sizeof(crypto_generichash_state) == std::tuple_size_v<decltype(state_)>,
                "Prehash::state_ must match libsodium's crypto_generichash_state");
  static_assert(alignof(crypto_generichash_state) <= 64);
  ensure_sodium();
  auto* st = ::new (static_cast<void*>(state_.data())) crypto_generichash_state;
  crypto_generichash_init(st, nullptr, 0, crypto_generichash_BYTES_MAX);
}

void Prehash::write(ByteSpan data) {
  if (done_) throw Error(Exit::internal, "prehash: write after digest()");
  auto* st = std::launder(reinterpret_cast<crypto_generichash_state*>(state_.data()));
  crypto_generichash_update(st, data.data(), data.size());
}

std::array<std::uint8_t, 64> Prehash::digest() {
  if (done_) throw Error(Exit::internal, "prehash: digest() taken twice");
  done_ = true;
  auto* st = std::launder(reinterpret_cast<crypto_generichash_state*>(state_.data()));
  std::array<std::uint8_t, 64> out{};
  if (crypto_generichash_final(st, out.data(), out.size()) != 0)
    throw Error(Exit::internal, "prehash: BLAKE2b finalisation failed");
  return out;
}

// -------------------------------------------------------------- PublicKey

std::string PublicKey::encode() const {
  std::array<std::uint8_t, kPublicKeyBytes> bin{};
  bin[0] = 'E', bin[1] = 'd';
  std::copy(id.begin(), id.end(), bin.begin() + 2);
  std::copy(key.begin(), key.end(), bin.begin() + 10);
  return to_base64(bin);
}

PublicKey PublicKey::parse(std::string_view text) {
  ensure_sodium();
  std::array<std::uint8_t, kPublicKeyBytes> bin{};
  if (!from_base64(key_line(text), bin))
    throw Error(Exit::identity, "public key: not a minisign public key (bad base64 or length)");
  if (bin[0] != 'E' || bin[1] != 'd')
    throw Error(Exit::identity,
                "public key: unsupported signature algorithm (want Ed25519 \"Ed\")");
  PublicKey pk;
  std::copy_n(bin.begin() + 2, 8, pk.id.begin());
  std::copy_n(bin.begin() + 10, 32, pk.key.begin());
  return pk;
}

std::string PublicKey::id_hex() const {
  // minisign prints the id as a little-endian 64-bit number.
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (auto it = id.rbegin(); it != id.rend(); ++it) {
    out += kHex[*it >> 4];
    out += kHex[*it & 0xf];
  }
  return out;
}

// -------------------------------------------------------------- SecretKey

SecretKey SecretKey::generate() {
  ensure_sodium();
  SecretKey k;
  randombytes_buf(k.id_.data(), k.id_.size());
  std::array<std::uint8_t, 32> pk{};
  crypto_sign_keypair(pk.data(), k.sk_.data());
  return k;
}

SecretKey::SecretKey(const SecretKey& o) : id_(o.id_), sk_(o.sk_) {}

SecretKey& SecretKey::operator=(const SecretKey& o) {
  if (this != &o) {
    sodium_memzero(sk_.data(), sk_.size());
    id_ = o.id_;
    sk_ = o.sk_;
  }
  return *this;
}

SecretKey::~SecretKey() {
  sodium_memzero(sk_.data(), sk_.size());
}

PublicKey SecretKey::public_key() const {
  PublicKey pk;
  pk.id = id_;
  std::copy(sk_.begin() + 32, sk_.end(), pk.key.begin());  // libsodium sk = seed || pk
  return pk;
}

std::string SecretKey::encode() const {
  ensure_sodium();
  // Unencrypted: kdf "\0\0", zero salt and limits, as `minisign -G -W`.
  std::array<std::uint8_t, kSecretKeyBytes> bin{};
  Wipe wipe(bin);
  bin[0] = 'E', bin[1] = 'd';
  bin[4] = 'B', bin[5] = '2';
  std::copy(id_.begin(), id_.end(), bin.begin() + kSkIdOffset);
  std::copy(sk_.begin(), sk_.end(), bin.begin() + kSkKeyOffset);
  // minisign 0.11 leaves the checksum of an unencrypted key zero and never
  // checks it; we write the real one so other implementations can check it.
  const auto chk = secret_checksum(id_, sk_);
  std::copy(chk.begin(), chk.end(), bin.begin() + kSkChkOffset);
  return to_base64(bin);
}

SecretKey SecretKey::parse(std::string_view base64_line) {
  ensure_sodium();
  std::array<std::uint8_t, kSecretKeyBytes> bin{};
  Wipe wipe(bin);
  if (!from_base64(key_line(base64_line), bin))
    throw Error(Exit::identity, "secret key: not a minisign secret key (bad base64 or length)");
  if (bin[0] != 'E' || bin[1] != 'd')
    throw Error(Exit::identity,
                "secret key: unsupported signature algorithm (want Ed25519 \"Ed\")");
  if (bin[4] != 'B' || bin[5] != '2')
    throw Error(Exit::identity, "secret key: unsupported checksum algorithm (want BLAKE2b \"B2\")");
  if (bin[2] == 'S' && bin[3] == 'c')
    throw Error(Exit::identity,
                "secret key: encrypted with a password; iep needs an unencrypted key "
                "(minisign -G -W)");
  if (bin[2] != 0 || bin[3] != 0)
    throw Error(Exit::identity, "secret key: unsupported key derivation function");

  SecretKey k;
  std::copy_n(bin.begin() + kSkIdOffset, 8, k.id_.begin());
  std::copy_n(bin.begin() + kSkKeyOffset, 64, k.sk_.begin());

  // minisign -G -W writes an all-zero checksum; anything else must be right.
  const std::span<const std::uint8_t> stored(bin.data() + kSkChkOffset, 32);
  if (!sodium_is_zero(stored.data(), stored.size())) {
    const auto chk = secret_checksum(k.id_, k.sk_);
    if (sodium_memcmp(chk.data(), stored.data(), chk.size()) != 0)
      throw Error(Exit::identity, "secret key: checksum mismatch (corrupt key)");
  }
  // The stored public half must be the one the seed gives, else signatures
  // would not verify under the public key we derive (and a zero checksum
  // would let a damaged key through).
  std::array<std::uint8_t, 32> pk{};
  std::array<std::uint8_t, 64> sk{};
  Wipe wipe_sk(sk);
  crypto_sign_seed_keypair(pk.data(), sk.data(), k.sk_.data());
  if (sodium_memcmp(sk.data(), k.sk_.data(), sk.size()) != 0)
    throw Error(Exit::identity, "secret key: corrupt (public half does not match the seed)");
  return k;
}

// -------------------------------------------------------------- Signature

Signature Signature::sign(const SecretKey& key, const std::array<std::uint8_t, 64>& prehash,
                          std::string trusted_comment, std::string_view untrusted_comment) {
  ensure_sodium();
  check_comment("trusted comment", trusted_comment, kMaxTrustedComment);
  check_comment("untrusted comment", untrusted_comment, kMaxUntrustedComment);
  Signature s;
  s.key_id = key.id_;
  s.trusted_comment = std::move(trusted_comment);
  s.untrusted_comment = std::string(untrusted_comment);
  crypto_sign_detached(s.sig.data(), nullptr, prehash.data(), prehash.size(), key.sk_.data());
  std::vector<std::uint8_t> msg(s.sig.begin(), s.sig.end());
  msg.insert(msg.end(), s.trusted_comment.begin(), s.trusted_comment.end());
  crypto_sign_detached(s.global_sig.data(), nullptr, msg.data(), msg.size(), key.sk_.data());
  return s;
}

std::string Signature::encode() const {
  // The fields are public: refuse to write a file that would not parse back.
  check_comment("trusted comment", trusted_comment, kMaxTrustedComment);
  check_comment("untrusted comment", untrusted_comment, kMaxUntrustedComment);
  std::array<std::uint8_t, kSigBlobBytes> blob{};
  blob[0] = 'E', blob[1] = 'D';
  std::copy(key_id.begin(), key_id.end(), blob.begin() + 2);
  std::copy(sig.begin(), sig.end(), blob.begin() + 10);
  std::string out;
  out.append(kUntrustedPrefix).append(untrusted_comment).append("\n");
  out.append(to_base64(blob)).append("\n");
  out.append(kTrustedPrefix).append(trusted_comment).append("\n");
  out.append(to_base64(global_sig)).append("\n");
  return out;
}

Signature Signature::parse(std::string_view text) {
  ensure_sodium();
  auto bad = [](const std::string& why) { return Error(Exit::bad_signature, "signature: " + why); };
  if (text.size() > kMaxSignatureText) throw bad("larger than 8 KiB, not a minisign signature");

  std::string_view rest = text;
  std::array<std::string_view, 4> lines;
  for (auto& line : lines)
    if (!next_line(rest, line)) throw bad("truncated (a minisign signature has four lines)");
  // Nothing may follow but line ends.
  if (rest.find_first_not_of("\r\n") != std::string_view::npos)
    throw bad("unexpected text after the fourth line");

  Signature s;
  if (!lines[0].starts_with(kUntrustedPrefix))
    throw bad("first line does not start with \"untrusted comment: \"");
  s.untrusted_comment = std::string(lines[0].substr(kUntrustedPrefix.size()));
  if (!printable(s.untrusted_comment)) throw bad("untrusted comment holds control characters");

  std::array<std::uint8_t, kSigBlobBytes> blob{};
  if (!from_base64(lines[1], blob))
    throw bad("second line is not a base64 signature of the right length");
  if (blob[0] == 'E' && blob[1] == 'd')
    throw bad("legacy (non-prehashed \"Ed\") signature; re-sign with a current minisign");
  if (blob[0] != 'E' || blob[1] != 'D') throw bad("unsupported signature algorithm");
  std::copy_n(blob.begin() + 2, 8, s.key_id.begin());
  std::copy_n(blob.begin() + 10, 64, s.sig.begin());

  if (!lines[2].starts_with(kTrustedPrefix))
    throw bad("third line does not start with \"trusted comment: \"");
  s.trusted_comment = std::string(lines[2].substr(kTrustedPrefix.size()));
  if (!printable(s.trusted_comment))
    throw bad("trusted comment holds control characters or bad UTF-8");

  if (!from_base64(lines[3], s.global_sig))
    throw bad("fourth line is not a base64 signature of the right length");
  return s;
}

bool Signature::verify(const PublicKey& key, const std::array<std::uint8_t, 64>& prehash) const {
  ensure_sodium();
  if (key_id != key.id) return false;
  // A trusted comment is one line; minisign would never show another.
  if (!printable(trusted_comment)) return false;
  if (crypto_sign_verify_detached(sig.data(), prehash.data(), prehash.size(), key.key.data()) != 0)
    return false;
  std::vector<std::uint8_t> msg(sig.begin(), sig.end());
  msg.insert(msg.end(), trusted_comment.begin(), trusted_comment.end());
  return crypto_sign_verify_detached(global_sig.data(), msg.data(), msg.size(), key.key.data()) ==
         0;
}

}  // namespace iep::minisign
