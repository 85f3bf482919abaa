// Minisign keys and signatures (https://jedisct1.github.io/minisign/), so
// that `minisign -V -p site.pub` checks what we sign. We sign in the
// prehashed mode ("ED": Ed25519 over BLAKE2b-512 of the message), which is
// minisign's default and streams; legacy "Ed" signatures are refused.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "iep/core/io.h"

namespace iep::minisign {

using KeyId = std::array<std::uint8_t, 8>;

// Streaming BLAKE2b-512, the prehash signatures are made over. Also a Sink,
// so it can tap a stream.
class Prehash : public Sink {
 public:
  Prehash();
  void write(ByteSpan data) override;
  void finish() override {}
  [[nodiscard]] std::array<std::uint8_t, 64> digest();  // once

 private:
  // Storage for libsodium's crypto_generichash_state (64-byte aligned, 384
  // bytes in libsodium 1.0.18; checked by a static_assert in minisign.cpp),
  // so this header does not need <sodium.h>.
  alignas(64) std::array<std::uint8_t, 384> state_{};
  bool done_ = false;  // digest() taken: further use is a bug
};

struct PublicKey {
  KeyId id{};
  std::array<std::uint8_t, 32> key{};
  // The base64 line of a minisign public key file ("RW...").
  [[nodiscard]] std::string encode() const;
  // Accepts the base64 line alone or a whole .pub file (comment + line).
  // Throws Error(Exit::identity) when malformed.
  static PublicKey parse(std::string_view text);
  // Key id as minisign prints it: 16 upper-case hex digits, bytes reversed.
  [[nodiscard]] std::string id_hex() const;
  bool operator==(const PublicKey&) const = default;
};

// An Ed25519 secret key; wiped on destruction.
class SecretKey {
 public:
  static SecretKey generate();
  SecretKey(const SecretKey&);
  SecretKey& operator=(const SecretKey&);
  ~SecretKey();
  [[nodiscard]] PublicKey public_key() const;
  // The base64 line of an unencrypted minisign secret key file (as
  // `minisign -G -W` writes), and back. Throws Error(Exit::identity).
  [[nodiscard]] std::string encode() const;
  static SecretKey parse(std::string_view base64_line);

 private:
  SecretKey() = default;
  friend struct Signature;
  KeyId id_{};
  std::array<std::uint8_t, 64> sk_{};  // libsodium's seed||pk form
};

struct Signature {
  KeyId key_id{};
  std::array<std::uint8_t, 64> sig{};         // over the prehash
  std::string trusted_comment;                // without the "trusted comment: " prefix
  std::array<std::uint8_t, 64> global_sig{};  // over sig || trusted_comment

  // Signs a prehash; the trusted comment must be one line.
  static Signature sign(const SecretKey& key, const std::array<std::uint8_t, 64>& prehash,
                        std::string trusted_comment, std::string_view untrusted_comment);
  // The four-line .minisig text.
  [[nodiscard]] std::string encode() const;
  std::string untrusted_comment = "signature from iep";
  // Throws Error(Exit::bad_signature) when malformed.
  static Signature parse(std::string_view text);
  // True when both signatures verify under `key` and the key ids match.
  [[nodiscard]] bool verify(const PublicKey& key,
                            const std::array<std::uint8_t, 64>& prehash) const;
};

}  // namespace iep::minisign
