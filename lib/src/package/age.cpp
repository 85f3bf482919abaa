// The age v1 file format with X25519 recipients (https://age-encryption.org/v1).
//
// Layout of a file:
//   header:  "age-encryption.org/v1\n"
//            one "-> X25519 <share>\n<wrapped file key>\n" stanza per recipient
//            "--- <HMAC of the header up to and including '---'>\n"
//   payload: 16-byte nonce, then STREAM chunks of 64 KiB plaintext sealed with
//            ChaCha20-Poly1305 under a key derived from the file key and nonce.
//
// Both directions hold at most one chunk in memory and work on it in place.
#include "iep/package/age.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>

#include "iep/core/error.h"

namespace iep::age {
namespace {

constexpr std::string_view kVersionLine = "age-encryption.org/v1\n";
constexpr std::string_view kX25519Info = "age-encryption.org/v1/X25519";
constexpr std::size_t kChunk = 64 * 1024;  // plaintext bytes per STREAM chunk
constexpr std::size_t kTag = crypto_aead_chacha20poly1305_ietf_ABYTES;  // 16
constexpr std::size_t kSealedChunk = kChunk + kTag;
constexpr std::size_t kFileKey = 16;
constexpr std::size_t kPayloadNonce = 16;
constexpr std::size_t kMaxHeader = 64 * 1024;  // refuse headers larger than this
constexpr std::size_t kMaxStanzas = 1024;
constexpr std::size_t kColumns = 64;  // base64 characters per full stanza body line

static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12);
static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == 32);
static_assert(crypto_auth_hmacsha256_BYTES == 32);
static_assert(crypto_scalarmult_BYTES == 32 && crypto_scalarmult_SCALARBYTES == 32);

void ensure_sodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw Error(Exit::internal, "libsodium: initialisation failed");
}

// A fixed-size secret that wipes itself.
template <std::size_t N>
struct Secret {
  std::array<std::uint8_t, N> b{};
  Secret() = default;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { sodium_memzero(b.data(), N); }
  std::uint8_t* data() { return b.data(); }
  [[nodiscard]] const std::uint8_t* data() const { return b.data(); }
  static constexpr std::size_t size() { return N; }
  [[nodiscard]] ByteSpan span() const { return {b.data(), N}; }
};

template <class C>
void wipe(C& c) {
  if (!c.empty()) sodium_memzero(c.data(), c.size() * sizeof(c[0]));
}

ByteSpan as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// HMAC-SHA256 of the concatenation of `parts`.
// An empty key is passed as 32 zero bytes, which HMAC treats identically
// (keys are zero-padded) and which keeps null pointers away from libsodium.
void hmac_sha256(ByteSpan key, std::initializer_list<ByteSpan> parts, std::uint8_t out[32]) {
  static const std::uint8_t kZeroKey[32] = {};
  if (key.empty()) key = ByteSpan(kZeroKey, sizeof kZeroKey);
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  for (ByteSpan p : parts)
    if (!p.empty()) crypto_auth_hmacsha256_update(&st, p.data(), p.size());
  crypto_auth_hmacsha256_final(&st, out);
  sodium_memzero(&st, sizeof st);  // the state holds the padded key
}

// HKDF-SHA256 (RFC 5869) with a 32-byte output, i.e. a single expand block.
// An empty salt means HashLen zero bytes, as RFC 5869 says.
void hkdf32(ByteSpan salt, ByteSpan ikm, std::string_view info, std::uint8_t out[32]) {
  Secret<32> prk;
  hmac_sha256(salt, {ikm}, prk.data());
  const std::uint8_t one = 1;
  hmac_sha256(prk.span(), {as_bytes(info), ByteSpan(&one, 1)}, out);
}

// ---- base64: standard alphabet, no padding, canonical only -------------------

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string b64_encode(ByteSpan in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    std::uint32_t v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (std::size_t rest = in.size() - i; rest > 0) {
    std::uint32_t v = in[i] << 16;
    if (rest == 2) v |= in[i + 1] << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    if (rest == 2) out += kB64[(v >> 6) & 63];
  }
  return out;
}

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Decodes unpadded base64, refusing padding, stray characters and
// non-canonical encodings (unused low bits set), as the spec demands.
bool b64_decode(std::string_view in, Bytes& out) {
  out.clear();
  if (in.size() % 4 == 1) return false;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = b64_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
    acc &= (1u << bits) - 1;
  }
  return acc == 0;  // leftover bits must be zero
}

// ---- Bech32 (BIP 173) --------------------------------------------------------

constexpr char kBech32[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

std::uint32_t polymod_step(std::uint32_t chk, std::uint8_t v) {
  static constexpr std::uint32_t kGen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd,
                                            0x2a1462b3};
  std::uint32_t top = chk >> 25;
  chk = ((chk & 0x1ffffff) << 5) ^ v;
  for (int i = 0; i < 5; ++i)
    if ((top >> i) & 1) chk ^= kGen[i];
  return chk;
}

// The checksum state after the expanded (lower case) HRP.
std::uint32_t polymod_hrp(std::string_view hrp) {
  std::uint32_t chk = 1;
  for (char c : hrp) chk = polymod_step(chk, static_cast<std::uint8_t>(c) >> 5);
  chk = polymod_step(chk, 0);
  for (char c : hrp) chk = polymod_step(chk, static_cast<std::uint8_t>(c) & 31);
  return chk;
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}
char ascii_upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
}

bool has_upper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}
bool has_lower(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// For error messages: a bounded, printable rendering of untrusted text.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 100)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 100) out += "...";
  return out;
}

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n\v\f";
  std::size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// ---- header ------------------------------------------------------------------

struct Stanza {
  std::vector<std::string_view> args;  // args[0] is the type
  Bytes body;
};

// Appends a stanza: argument line, then the body in base64 wrapped at 64
// columns; the last line is always shorter than 64 (possibly empty).
void write_stanza(std::string& out, std::initializer_list<std::string_view> args, ByteSpan body) {
  out += "->";
  for (std::string_view a : args) (out += ' ') += a;
  out += '\n';
  std::string b = b64_encode(body);
  std::size_t i = 0;
  for (; b.size() - i >= kColumns; i += kColumns) (out += b.substr(i, kColumns)) += '\n';
  (out += b.substr(i)) += '\n';
}

struct ParsedHeader {
  std::vector<Stanza> stanzas;
  std::size_t mac_end = 0;  // header bytes covered by the MAC
  std::array<std::uint8_t, 32> mac{};
};

// Parses a complete header (it ends with the "--- MAC\n" line). The version
// line has already been checked. Strict: any deviation is Exit::corrupt.
ParsedHeader parse_header(std::string_view h, const std::string& name) {
  auto bad = [&](const std::string& why) {
    return Error(Exit::corrupt, name + ": malformed age header: " + why);
  };
  std::size_t pos = kVersionLine.size();
  auto next_line = [&]() -> std::string_view {
    std::size_t nl = h.find('\n', pos);
    if (nl == std::string_view::npos) throw bad("unexpected end of header");
    std::string_view line = h.substr(pos, nl - pos);
    pos = nl + 1;
    return line;
  };

  ParsedHeader out;
  for (;;) {
    std::size_t line_start = pos;
    std::string_view line = next_line();
    if (line.starts_with("-> ")) {
      if (out.stanzas.size() >= kMaxStanzas)
        throw bad("more than " + std::to_string(kMaxStanzas) + " stanzas");
      Stanza st;
      std::string_view rest = line.substr(3);
      for (;;) {
        std::size_t sp = rest.find(' ');
        std::string_view arg = rest.substr(0, sp);
        if (arg.empty()) throw bad("empty stanza argument");
        for (char c : arg)
          if (c < 0x21 || c > 0x7e) throw bad("invalid character in stanza argument");
        st.args.push_back(arg);
        if (sp == std::string_view::npos) break;
        rest = rest.substr(sp + 1);
      }
      std::string b64;
      for (;;) {
        std::string_view body_line = next_line();
        if (body_line.size() > kColumns) throw bad("stanza body line longer than 64 columns");
        b64 += body_line;
        if (body_line.size() < kColumns) break;
      }
      if (!b64_decode(b64, st.body)) throw bad("stanza body is not canonical unpadded base64");
      out.stanzas.push_back(std::move(st));
    } else if (line.starts_with("--- ")) {
      Bytes mac;
      if (!b64_decode(line.substr(4), mac) || mac.size() != 32) throw bad("invalid MAC line");
      std::copy(mac.begin(), mac.end(), out.mac.begin());
      out.mac_end = line_start + 3;
      if (pos != h.size()) throw bad("data after MAC line");  // cannot happen: h ends here
      return out;
    } else {
      throw bad("unexpected line \"" + printable(line) + "\"");
    }
  }
}

// Reads the header from `in`: everything up to and including the "--- MAC\n"
// line. Bytes read past it are left in `rest` (at most one read's worth).
std::string read_header(Source& in, const std::string& name, Bytes& rest) {
  std::string h;
  std::array<std::uint8_t, 4096> block{};
  bool version_ok = false;
  std::size_t scan = 0;
  for (;;) {
    std::size_t n = in.read(block);
    if (n > 0) h.append(reinterpret_cast<const char*>(block.data()), n);
    if (!version_ok) {
      std::size_t m = std::min(h.size(), kVersionLine.size());
      if (h.compare(0, m, kVersionLine.substr(0, m)) != 0) {
        if (h.starts_with("-----BEGIN AGE") || std::string_view("-----BEGIN AGE").starts_with(h))
          throw Error(Exit::not_package, name + ": ASCII-armored age files are not supported");
        throw Error(Exit::not_package, name + ": not an age v1 file");
      }
      version_ok = m == kVersionLine.size();
    }
    if (version_ok) {
      // The MAC line is the first line that starts with "---": stanza lines
      // start with "->" and body lines are base64, which has no '-'.
      std::size_t f = h.find("\n---", scan);
      if (f != std::string::npos) {
        std::size_t nl = h.find('\n', f + 1);
        if (nl != std::string::npos) {
          rest.assign(h.begin() + static_cast<std::ptrdiff_t>(nl + 1), h.end());
          h.resize(nl + 1);
          return h;
        }
      }
      scan = h.size() >= 3 ? h.size() - 3 : 0;
    }
    if (h.size() > kMaxHeader)
      throw Error(Exit::corrupt, name + ": age header is larger than 64 KiB");
    if (n == 0) {
      if (!version_ok) throw Error(Exit::not_package, name + ": not an age v1 file (too short)");
      throw Error(Exit::corrupt, name + ": truncated age header");
    }
  }
}

void header_mac(const std::uint8_t file_key[kFileKey], std::string_view covered,
                std::uint8_t out[32]) {
  Secret<32> k;
  hkdf32({}, ByteSpan(file_key, kFileKey), "header", k.data());
  hmac_sha256(k.span(), {as_bytes(covered)}, out);
}

void payload_key(const std::uint8_t file_key[kFileKey], ByteSpan nonce, std::uint8_t out[32]) {
  hkdf32(nonce, ByteSpan(file_key, kFileKey), "payload", out);
}

// The STREAM nonce: 11-byte big-endian chunk counter, then the last-chunk flag.
void chunk_nonce(std::uint64_t counter, bool last, std::uint8_t nonce[12]) {
  std::memset(nonce, 0, 12);
  for (int i = 0; i < 8; ++i) nonce[10 - i] = static_cast<std::uint8_t>(counter >> (8 * i));
  nonce[11] = last ? 1 : 0;
}

// X25519 wrap key for a share/recipient pair from a shared secret.
void wrap_key(ByteSpan shared, ByteSpan share, ByteSpan recipient, std::uint8_t out[32]) {
  std::array<std::uint8_t, 64> salt{};
  std::copy(share.begin(), share.end(), salt.begin());
  std::copy(recipient.begin(), recipient.end(), salt.begin() + 32);
  hkdf32(salt, shared, kX25519Info, out);
}

const std::uint8_t kZeroNonce[12] = {};

}  // namespace

// ---- Bech32 ------------------------------------------------------------------

std::string bech32_encode(std::string_view hrp_in, ByteSpan data) {
  std::string hrp;
  for (char c : hrp_in) hrp += ascii_lower(c);
  // Regroup 8-bit bytes into 5-bit values, zero-padding the last one.
  std::vector<std::uint8_t> values;
  values.reserve(data.size() * 8 / 5 + 1);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::uint8_t b : data) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      values.push_back(static_cast<std::uint8_t>((acc >> bits) & 31));
    }
  }
  if (bits > 0) values.push_back(static_cast<std::uint8_t>((acc << (5 - bits)) & 31));
  sodium_memzero(&acc, sizeof acc);  // it held secret bits

  std::uint32_t chk = polymod_hrp(hrp);
  for (std::uint8_t v : values) chk = polymod_step(chk, v);
  for (int i = 0; i < 6; ++i) chk = polymod_step(chk, 0);
  chk ^= 1;

  std::string out = hrp + '1';
  out.reserve(out.size() + values.size() + 6);
  for (std::uint8_t v : values) out += kBech32[v];
  for (int i = 0; i < 6; ++i) out += kBech32[(chk >> (5 * (5 - i))) & 31];
  wipe(values);  // may hold a secret key
  return out;
}

bool bech32_decode(std::string_view text, std::string& hrp, Bytes& data) {
  hrp.clear();
  data.clear();
  for (char c : text)
    if (c < 33 || c > 126) return false;
  if (has_lower(text) && has_upper(text)) return false;
  std::size_t sep = text.rfind('1');
  if (sep == std::string_view::npos || sep == 0 || text.size() - sep - 1 < 6) return false;

  for (char c : text.substr(0, sep)) hrp += ascii_lower(c);
  std::uint32_t chk = polymod_hrp(hrp);
  std::string_view part = text.substr(sep + 1);
  std::size_t nvalues = part.size() - 6;
  data.reserve(nvalues * 5 / 8);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < part.size(); ++i) {
    const char* p = std::strchr(kBech32, ascii_lower(part[i]));
    if (p == nullptr || *p == '\0') {
      wipe(data);
      data.clear();
      return false;
    }
    auto v = static_cast<std::uint8_t>(p - kBech32);
    chk = polymod_step(chk, v);
    if (i < nvalues) {  // regroup 5-bit values into bytes
      acc = ((acc << 5) | v) & 0xfff;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        data.push_back(static_cast<std::uint8_t>(acc >> bits));
      }
    }
  }
  // Valid only with the right checksum and at most 4 zero padding bits.
  bool ok = chk == 1 && bits < 5 && (acc & ((1u << bits) - 1)) == 0;
  sodium_memzero(&acc, sizeof acc);  // it held secret bits
  if (!ok) {
    wipe(data);
    data.clear();
  }
  return ok;
}

// ---- keys --------------------------------------------------------------------

std::string Recipient::encode() const {
  return bech32_encode("age", key);
}

Recipient Recipient::parse(std::string_view text_in) {
  std::string_view text = trim(text_in);
  auto bad = [&](const char* why) {
    return Error(Exit::identity, "recipient \"" + printable(text) +
                                     "\": not an age X25519 recipient (" + why + ")");
  };
  if (has_upper(text)) throw bad("recipients are lower case");
  std::string hrp;
  Bytes data;
  if (!bech32_decode(text, hrp, data)) throw bad("bad Bech32 encoding or checksum");
  if (hrp != "age") throw bad("it does not start with age1");
  if (data.size() != 32) throw bad("wrong key length");
  Recipient r;
  std::copy(data.begin(), data.end(), r.key.begin());
  return r;
}

Identity Identity::generate() {
  ensure_sodium();
  Identity id;
  randombytes_buf(id.secret_.data(), id.secret_.size());
  return id;
}

Identity Identity::parse(std::string_view text_in) {
  // Accepts the bare key, or an age-keygen style file: blank lines and '#'
  // comments are ignored and exactly one key line must remain. The secret is
  // never echoed in messages.
  auto bad = [](const char* why) {
    return Error(Exit::identity, std::string("identity: not an age X25519 identity (") + why + ")");
  };
  std::string_view text;
  std::size_t keys = 0;
  for (std::string_view rest = text_in; !rest.empty();) {
    std::size_t nl = rest.find('\n');
    std::string_view line = trim(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    text = line;
    ++keys;
  }
  if (keys == 0) throw bad("empty");
  if (keys > 1) throw bad("more than one key line");
  if (has_lower(text)) throw bad("identities are upper case");
  std::string hrp;
  Bytes data;
  bool ok = bech32_decode(text, hrp, data);
  struct Wiper {
    Bytes& d;
    ~Wiper() { wipe(d); }
  } wiper{data};
  if (!ok) throw bad("bad Bech32 encoding or checksum");
  if (hrp != "age-secret-key-") throw bad("it does not start with AGE-SECRET-KEY-1");
  if (data.size() != 32) throw bad("wrong key length");
  Identity id;
  std::copy(data.begin(), data.end(), id.secret_.begin());
  return id;
}

Identity::Identity(const Identity& o) : secret_(o.secret_) {}
Identity& Identity::operator=(const Identity& o) {
  secret_ = o.secret_;
  return *this;
}
Identity::~Identity() {
  sodium_memzero(secret_.data(), secret_.size());
}

std::string Identity::encode() const {
  std::string s = bech32_encode("age-secret-key-", secret_);
  for (char& c : s) c = ascii_upper(c);
  return s;
}

Recipient Identity::recipient() const {
  ensure_sodium();
  Recipient r;
  crypto_scalarmult_base(r.key.data(), secret_.data());
  return r;
}

// ---- Encryptor ---------------------------------------------------------------

// ChaCha20-Poly1305 (RFC 8439) for the payload chunks, through OpenSSL: on
// this hardware libsodium 1.0.18 runs it at 0.4 GB/s and OpenSSL at 3 GB/s,
// and it is the inner loop of sealing and opening. (The header still uses
// libsodium, like everything else.)
class ChunkCipher {
 public:
  explicit ChunkCipher(bool encrypt) : ctx_(EVP_CIPHER_CTX_new()) {
    if (ctx_ == nullptr || EVP_CipherInit_ex(ctx_, EVP_chacha20_poly1305(), nullptr, nullptr,
                                             nullptr, encrypt ? 1 : 0) != 1)
      throw Error(Exit::internal, "age: cannot set up ChaCha20-Poly1305");
  }
  ~ChunkCipher() { EVP_CIPHER_CTX_free(ctx_); }
  ChunkCipher(const ChunkCipher&) = delete;
  ChunkCipher& operator=(const ChunkCipher&) = delete;

  // dst may equal src; the tag goes to `tag`.
  void seal(const std::uint8_t* key, const std::uint8_t* nonce, const std::uint8_t* src,
            std::size_t len, std::uint8_t* dst, std::uint8_t* tag) {
    int n = 0, f = 0;
    if (EVP_CipherInit_ex(ctx_, nullptr, nullptr, key, nonce, 1) != 1 ||
        EVP_CipherUpdate(ctx_, dst, &n, src, static_cast<int>(len)) != 1 ||
        EVP_CipherFinal_ex(ctx_, dst + n, &f) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, kTag, tag) != 1)
      throw Error(Exit::internal, "age: ChaCha20-Poly1305 encryption failed");
  }
  // False when the tag does not authenticate; then dst holds garbage that
  // the caller must discard (it throws, so no reader ever sees it).
  bool open(const std::uint8_t* key, const std::uint8_t* nonce, const std::uint8_t* src,
            std::size_t len, const std::uint8_t* tag, std::uint8_t* dst) {
    int n = 0, f = 0;
    if (EVP_CipherInit_ex(ctx_, nullptr, nullptr, key, nonce, 0) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, kTag, const_cast<std::uint8_t*>(tag)) !=
            1 ||
        EVP_CipherUpdate(ctx_, dst, &n, src, static_cast<int>(len)) != 1)
      return false;
    return EVP_CipherFinal_ex(ctx_, dst + n, &f) == 1;
  }

 private:
  EVP_CIPHER_CTX* ctx_;
};

struct Encryptor::State {
  Sink& out;
  ChunkCipher cipher{true};
  Secret<32> key;        // payload key
  Bytes buf;             // one sealed chunk: plaintext, then room for the tag
  std::size_t fill = 0;  // plaintext bytes buffered
  std::uint64_t counter = 0;
  bool finished = false;

  explicit State(Sink& o) : out(o), buf(kSealedChunk) {}
  ~State() { wipe(buf); }

  // Seals `len` bytes from `src` into buf and writes the sealed chunk.
  void seal(const std::uint8_t* src, std::size_t len, bool last) {
    if (counter == UINT64_MAX) throw Error(Exit::internal, "age: STREAM counter overflow");
    std::uint8_t nonce[12];
    chunk_nonce(counter, last, nonce);
    cipher.seal(key.data(), nonce, src, len, buf.data(), buf.data() + len);
    ++counter;
    out.write(ByteSpan(buf.data(), len + kTag));
  }
};

Encryptor::Encryptor(Sink& out, const std::vector<Recipient>& recipients)
    : s_(std::make_unique<State>(out)) {
  ensure_sodium();
  if (recipients.empty()) throw Error(Exit::usage, "age: no recipients to encrypt to");
  Secret<kFileKey> file_key;
  randombytes_buf(file_key.data(), kFileKey);

  std::string h(kVersionLine);
  for (const Recipient& r : recipients) {
    // A fresh ephemeral key per recipient, so stanzas cannot be linked.
    Secret<32> eph, shared, wrap;
    std::array<std::uint8_t, 32> share{};
    randombytes_buf(eph.data(), eph.size());
    crypto_scalarmult_base(share.data(), eph.data());
    if (crypto_scalarmult(shared.data(), eph.data(), r.key.data()) != 0)
      throw Error(Exit::identity, "recipient " + r.encode() + ": not a usable X25519 key");
    wrap_key(shared.span(), share, r.key, wrap.data());
    std::array<std::uint8_t, kFileKey + kTag> body{};
    crypto_aead_chacha20poly1305_ietf_encrypt(body.data(), nullptr, file_key.data(), kFileKey,
                                              nullptr, 0, nullptr, kZeroNonce, wrap.data());
    write_stanza(h, {"X25519", b64_encode(share)}, body);
  }
  h += "---";
  std::array<std::uint8_t, 32> mac{};
  header_mac(file_key.data(), h, mac.data());
  (h += ' ') += b64_encode(mac);
  h += '\n';

  std::array<std::uint8_t, kPayloadNonce> nonce{};
  randombytes_buf(nonce.data(), nonce.size());
  payload_key(file_key.data(), nonce, s_->key.data());
  h.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  out.write(as_bytes(h));
}

Encryptor::~Encryptor() = default;

void Encryptor::write(ByteSpan data) {
  State& s = *s_;
  if (s.finished) throw Error(Exit::internal, "age: write after finish");
  while (!data.empty()) {
    // A full buffer is sealed as a non-final chunk only once we know more
    // data follows; otherwise finish() seals it as the final chunk.
    if (s.fill == kChunk) {
      s.seal(s.buf.data(), kChunk, false);
      s.fill = 0;
    }
    if (s.fill == 0 && data.size() > kChunk) {
      // Seal straight from the caller's bytes, skipping a copy.
      s.seal(data.data(), kChunk, false);
      data = data.subspan(kChunk);
      continue;
    }
    std::size_t n = std::min(kChunk - s.fill, data.size());
    std::memcpy(s.buf.data() + s.fill, data.data(), n);
    s.fill += n;
    data = data.subspan(n);
  }
}

void Encryptor::finish() {
  State& s = *s_;
  if (s.finished) throw Error(Exit::internal, "age: finish called twice");
  s.finished = true;
  // The final chunk: may be full, and is empty only if the payload is empty.
  s.seal(s.buf.data(), s.fill, true);
  s.fill = 0;
}

// ---- Decryptor ---------------------------------------------------------------

struct Decryptor::State {
  Source& in;
  std::string name;
  ChunkCipher cipher{false};
  Secret<32> key;  // payload key
  // One sealed chunk plus one byte of lookahead at buf[kSealedChunk]: a
  // full-size chunk is the last one only if nothing follows it.
  Bytes buf;
  std::size_t carry = 0;   // bytes of the next chunk already at buf[0..carry)
  bool lookahead = false;  // buf[kSealedChunk] holds the next chunk's first byte
  std::size_t pt_off = 0;  // authenticated plaintext waiting in buf
  std::size_t pt_len = 0;
  std::uint64_t counter = 0;
  bool done = false;    // the final chunk has been authenticated
  bool failed = false;  // an error was thrown; refuse to go on

  State(Source& i, std::string n) : in(i), name(std::move(n)), buf(kSealedChunk + 1) {}
  ~State() { wipe(buf); }

  Error corrupt(const std::string& why) const { return Error(Exit::corrupt, name + ": " + why); }

  // Reads the next sealed chunk into buf; returns its size and whether it is
  // the final chunk.
  std::size_t fill(bool& last) {
    if (lookahead) {
      buf[0] = buf[kSealedChunk];
      carry = 1;
      lookahead = false;
    }
    std::size_t n = carry + read_full(in, MutableByteSpan(buf.data() + carry, buf.size() - carry));
    carry = 0;
    if (n == 0) throw corrupt("truncated age payload (the final chunk is missing)");
    last = n <= kSealedChunk;
    if (!last) lookahead = true;
    std::size_t len = last ? n : kSealedChunk;
    if (len < kTag) throw corrupt("truncated age payload (chunk shorter than its tag)");
    if (last && len == kTag && counter != 0)
      throw corrupt("invalid age payload (empty final chunk after data)");
    return len;
  }

  // Authenticates and decrypts the chunk in buf into `dst` (which may be buf).
  // A chunk that is not authentic throws: what landed in dst is never
  // returned to a reader.
  std::size_t open(std::size_t len, bool last, std::uint8_t* dst) {
    if (counter == UINT64_MAX) throw corrupt("age payload too long (STREAM counter overflow)");
    std::uint8_t nonce[12];
    chunk_nonce(counter, last, nonce);
    std::size_t pt = len - kTag;
    if (!cipher.open(key.data(), nonce, buf.data(), pt, buf.data() + pt, dst)) {
      throw corrupt("age payload chunk " + std::to_string(counter) +
                    " fails authentication (tampered, reordered, truncated or trailing data)");
    }
    ++counter;
    if (last) done = true;
    return pt;
  }
};

Decryptor::Decryptor(Source& in, const Identity& identity, std::string name)
    : s_(std::make_unique<State>(in, std::move(name))) {
  ensure_sodium();
  State& s = *s_;
  Bytes rest;
  std::string h = read_header(in, s.name, rest);
  ParsedHeader ph = parse_header(h, s.name);
  if (ph.stanzas.empty()) throw s.corrupt("malformed age header: no recipient stanzas");

  // Check every X25519 stanza's shape before trying any, so a malformed one
  // is always reported.
  for (const Stanza& st : ph.stanzas) {
    if (st.args[0] != "X25519") continue;  // other types are not for us: skip
    Bytes share;
    if (st.args.size() != 2 || !b64_decode(st.args[1], share) || share.size() != 32 ||
        st.body.size() != kFileKey + kTag)
      throw s.corrupt("malformed age header: invalid X25519 stanza");
  }

  const Recipient me = identity.recipient();
  Secret<kFileKey> file_key;
  bool found = false;
  for (const Stanza& st : ph.stanzas) {
    if (st.args[0] != "X25519") continue;
    Bytes share;
    b64_decode(st.args[1], share);
    Secret<32> shared, wrap;
    // An all-zero shared secret (low-order share) is refused by libsodium and
    // simply means this stanza is not ours.
    if (crypto_scalarmult(shared.data(), identity.secret().data(), share.data()) != 0) continue;
    wrap_key(shared.span(), share, me.key, wrap.data());
    if (crypto_aead_chacha20poly1305_ietf_decrypt(file_key.data(), nullptr, nullptr, st.body.data(),
                                                  st.body.size(), nullptr, 0, kZeroNonce,
                                                  wrap.data()) == 0) {
      found = true;
      break;
    }
  }
  if (!found)
    throw Error(Exit::not_for_us,
                s.name + ": not addressed to this identity (no recipient stanza opens with it)");

  std::array<std::uint8_t, 32> mac{};
  header_mac(file_key.data(), std::string_view(h).substr(0, ph.mac_end), mac.data());
  if (crypto_verify_32(mac.data(), ph.mac.data()) != 0)
    throw s.corrupt("age header MAC does not match (the header was tampered with)");

  // The payload nonce, then whatever was read past it goes in front of the
  // first chunk (rest holds at most one 4 KiB read).
  std::size_t have = std::min(rest.size(), s.buf.size());
  std::copy_n(rest.begin(), have, s.buf.begin());
  if (have < kPayloadNonce)
    have += read_full(in, MutableByteSpan(s.buf.data() + have, kPayloadNonce - have));
  if (have < kPayloadNonce) throw s.corrupt("truncated age payload (no nonce)");
  payload_key(file_key.data(), ByteSpan(s.buf.data(), kPayloadNonce), s.key.data());
  std::memmove(s.buf.data(), s.buf.data() + kPayloadNonce, have - kPayloadNonce);
  s.carry = have - kPayloadNonce;
}

Decryptor::~Decryptor() = default;

std::size_t Decryptor::read(MutableByteSpan out) {
  State& s = *s_;
  if (s.failed) throw s.corrupt("age payload cannot be read after an earlier error");
  if (out.empty()) return 0;
  if (s.pt_len == 0 && !s.done) {
    try {
      bool last = false;
      std::size_t len = s.fill(last);
      if (out.size() >= len - kTag) return s.open(len, last, out.data());  // no copy
      s.pt_off = 0;
      s.pt_len = s.open(len, last, s.buf.data());  // in place, served below
    } catch (...) {
      s.failed = true;
      throw;
    }
  }
  std::size_t n = std::min(out.size(), s.pt_len);
  std::memcpy(out.data(), s.buf.data() + s.pt_off, n);
  s.pt_off += n;
  s.pt_len -= n;
  return n;
}

}  // namespace iep::age
