// Site identities and site cards.
//
// A site identity is what a hospital keeps secret: an age X25519 identity
// for decryption and a minisign Ed25519 key for signing, under the site's
// name. The file is a valid age identity file (`age -d -i FILE` works); the
// signing key and the name ride in comment lines. It must be mode 0600.
//
// A site card is what a site hands to others: name, age recipient and
// minisign public key. The card is a valid minisign public key file
// (`minisign -V -p CARD` works); the other fields follow the key line.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iep/package/age.h"
#include "iep/package/minisign.h"

namespace iep {

struct SiteCard {
  std::string site;
  age::Recipient recipient;
  minisign::PublicKey signing_key;

  [[nodiscard]] std::string encode() const;
  // `source` names the file in errors. Throws Error(Exit::identity).
  static SiteCard parse(std::string_view text, const std::string& source);
  static SiteCard load(const std::filesystem::path& path);
};

class SiteIdentity {
 public:
  static SiteIdentity generate(std::string site);
  // Refuses a file that group or others can read, like ssh does.
  static SiteIdentity load(const std::filesystem::path& path);
  // Writes with mode 0600; refuses to overwrite an existing file.
  void save(const std::filesystem::path& path) const;
  [[nodiscard]] std::string encode() const;
  [[nodiscard]] SiteCard card() const;

  std::string site;
  age::Identity encryption;
  minisign::SecretKey signing;
};

// Site names: 1-64 of [a-z0-9._-], starting with a letter or digit.
bool valid_site_name(std::string_view name);

// Where this site's identity is: the --identity flag if given, else
// $IEP_IDENTITY, else ~/.config/iep/identity, else /etc/iep/identity.
std::filesystem::path identity_path(const std::string& flag);
// Where iep-keygen puts an identity by default: $XDG_CONFIG_HOME/iep/identity
// or ~/.config/iep/identity.
std::filesystem::path default_identity_path();

// The folders holding known site cards (NAME.card): $IEP_SITES (colon
// separated) if set, else ~/.config/iep/sites then /etc/iep/sites.
std::vector<std::filesystem::path> site_dirs();

// A card given on the command line: a path to a card file, or a site name
// looked up in site_dirs(). Throws Error(Exit::identity) if not found.
SiteCard find_card(const std::string& name_or_path);

// The sites a reader trusts as senders: explicit cards, plus every card in
// site_dirs(), plus this site's own card.
class TrustStore {
 public:
  void add(SiteCard card);
  void add_dirs();  // every *.card in site_dirs()
  // The card whose signing key is `key`, if any.
  [[nodiscard]] const SiteCard* by_key(const minisign::PublicKey& key) const;
  // Every card whose signing key has the 8-byte key id `id` (a signature
  // names only the id): a reader tries each, so that a card that merely
  // shares the id cannot shadow the genuine one.
  [[nodiscard]] std::vector<const SiteCard*> with_key_id(const minisign::KeyId& id) const;

 private:
  std::vector<SiteCard> cards_;
};

}  // namespace iep
