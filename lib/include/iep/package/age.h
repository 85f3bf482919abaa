// The age v1 file format (https://age-encryption.org/v1) with X25519
// recipients, so that `age -d -i IDENTITY` opens what we seal and we open
// what `age -r RECIPIENT` seals.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "iep/core/io.h"

namespace iep::age {

// An X25519 recipient: "age1..." (Bech32, HRP "age").
struct Recipient {
  std::array<std::uint8_t, 32> key{};
  [[nodiscard]] std::string encode() const;
  // Throws Error(Exit::identity) with a clear message on a malformed string.
  static Recipient parse(std::string_view text);
  bool operator==(const Recipient&) const = default;
};

// An X25519 identity: "AGE-SECRET-KEY-1..." (Bech32, upper case). The secret
// is wiped with sodium_memzero on destruction.
class Identity {
 public:
  static Identity generate();
  // Throws Error(Exit::identity) on a malformed string.
  static Identity parse(std::string_view text);
  Identity(const Identity&);
  Identity& operator=(const Identity&);
  ~Identity();
  [[nodiscard]] std::string encode() const;
  [[nodiscard]] Recipient recipient() const;
  [[nodiscard]] const std::array<std::uint8_t, 32>& secret() const { return secret_; }

 private:
  Identity() = default;
  std::array<std::uint8_t, 32> secret_{};
};

// Encrypts a stream to one or more recipients. Writes the header at
// construction time and the payload as 64 KiB STREAM chunks to `out`; the
// final chunk is written by finish(), so a stream cut short before finish()
// never decrypts. Does not call out.finish().
class Encryptor : public Sink {
 public:
  Encryptor(Sink& out, const std::vector<Recipient>& recipients);
  ~Encryptor() override;
  Encryptor(const Encryptor&) = delete;
  Encryptor& operator=(const Encryptor&) = delete;
  void write(ByteSpan data) override;
  void finish() override;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Decrypts an age stream. The constructor reads and authenticates the header:
// Error(Exit::not_package) if it is not an age v1 file, Error(Exit::not_for_us)
// if no X25519 stanza opens with `identity`, Error(Exit::corrupt) if the header
// MAC fails. read() then yields authenticated plaintext; any tampering,
// reordering, truncation or trailing data is Error(Exit::corrupt).
// `name` is used in messages.
class Decryptor : public Source {
 public:
  Decryptor(Source& in, const Identity& identity, std::string name);
  ~Decryptor() override;
  Decryptor(const Decryptor&) = delete;
  Decryptor& operator=(const Decryptor&) = delete;
  std::size_t read(MutableByteSpan buf) override;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Bech32 (BIP 173, without the 90-character limit, as age uses it).
std::string bech32_encode(std::string_view hrp, ByteSpan data);
// Returns false on a bad checksum, mixed case or bad characters. `hrp` is
// returned in lower case.
bool bech32_decode(std::string_view text, std::string& hrp, Bytes& data);

}  // namespace iep::age
