#include "iep/package/site.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "core/util.h"
#include "iep/core/error.h"

namespace iep {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kCardComment = "untrusted comment: iep site card ";
constexpr std::string_view kSiteField = "site: ";
constexpr std::string_view kAgeField = "age-recipient: ";
constexpr std::string_view kIdSite = "# iep-site: ";
constexpr std::string_view kIdSigning = "# iep-minisign-secret-key: ";

// The lines of a card or identity file, trimmed.
std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out = util::split_lines(text);
  for (auto& l : out) l = util::trim(l);
  return out;
}

fs::path home_config() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return fs::path(x) / "iep";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".config" / "iep";
  return {};
}

}  // namespace

bool valid_site_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

std::string SiteCard::encode() const {
  std::ostringstream o;
  o << kCardComment << site << " (minisign public key " << signing_key.id_hex() << ")\n"
    << signing_key.encode() << "\n"
    << kSiteField << site << "\n"
    << kAgeField << recipient.encode() << "\n";
  return o.str();
}

SiteCard SiteCard::parse(std::string_view text, const std::string& source) {
  auto ls = lines(text);
  if (ls.size() < 4 || !ls[0].starts_with("untrusted comment:"))
    throw Error(Exit::identity, source + ": not an iep site card");
  std::optional<std::string> site;
  std::optional<age::Recipient> recipient;
  for (std::size_t i = 2; i < ls.size(); ++i) {
    if (ls[i].starts_with(kSiteField)) {
      if (site) throw Error(Exit::identity, source + ": site card has two 'site:' lines");
      site = std::string(ls[i].substr(kSiteField.size()));
    } else if (ls[i].starts_with(kAgeField)) {
      if (recipient)
        throw Error(Exit::identity, source + ": site card has two 'age-recipient:' lines");
      try {
        recipient = age::Recipient::parse(ls[i].substr(kAgeField.size()));
      } catch (const Error& e) {
        throw Error(Exit::identity, source + ": " + e.what());
      }
    } else if (!ls[i].empty() && !ls[i].starts_with("#")) {
      throw Error(Exit::identity,
                  source + ": site card has an unknown line: " + std::string(ls[i].substr(0, 40)));
    }
  }
  if (!site || !valid_site_name(*site))
    throw Error(Exit::identity, source + ": site card lacks a valid 'site:' line");
  if (!recipient)
    throw Error(Exit::identity, source + ": site card lacks an 'age-recipient:' line");
  try {
    return SiteCard{*site, *recipient, minisign::PublicKey::parse(ls[1])};
  } catch (const Error& e) {
    throw Error(Exit::identity, source + ": " + e.what());
  }
}

SiteCard SiteCard::load(const fs::path& path) {
  std::string text;
  try {
    text = read_small_file(path, 64 * 1024);
  } catch (const Error& e) {
    throw Error(Exit::identity, e.what());
  }
  return parse(text, path.string());
}

bool SiteCard::same_keys(const SiteCard& o) const {
  return site == o.site && signing_key == o.signing_key &&
         recipient.encode() == o.recipient.encode();
}

SiteIdentity SiteIdentity::generate(std::string site) {
  if (!valid_site_name(site))
    throw Error(Exit::usage, "'" + site + "' is not a valid site name (1-64 of a-z 0-9 . _ -)");
  return SiteIdentity{std::move(site), age::Identity::generate(), minisign::SecretKey::generate()};
}

std::string SiteIdentity::encode() const {
  std::ostringstream o;
  o << "# iep site identity: SECRET, keep it mode 0600 and never share it.\n"
    << "# This is an age identity file: age -d -i THIS-FILE opens packages sealed to the site.\n"
    << kIdSite << site << "\n"
    << "# public key: " << encryption.recipient().encode() << "\n"
    << kIdSigning << signing.encode() << "\n"
    << encryption.encode() << "\n";
  return o.str();
}

SiteCard SiteIdentity::card() const {
  return SiteCard{site, encryption.recipient(), signing.public_key()};
}

void SiteIdentity::save(const fs::path& path) const {
  AtomicFile f(path, /*overwrite=*/false, 0600);
  std::string text = encode();
  f.write(ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  util::wipe(text);
  f.commit();
}

SiteIdentity SiteIdentity::load(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw Error(Exit::identity,
                path.string() + ": cannot read the site identity: " + std::strerror(errno));
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    throw Error(Exit::identity, path.string() + ": secret key file is accessible by others (mode " +
                                    mode + "); run: chmod 600 " + path.string());
  }
  std::string text;
  try {
    text = read_small_file(path, 64 * 1024);
  } catch (const Error& e) {
    throw Error(Exit::identity, e.what());
  }
  std::optional<std::string> site;
  std::optional<minisign::SecretKey> signing;
  std::optional<age::Identity> encryption;
  try {
    for (auto line : lines(text)) {
      if (line.starts_with(kIdSite))
        site = std::string(line.substr(kIdSite.size()));
      else if (line.starts_with(kIdSigning))
        signing = minisign::SecretKey::parse(line.substr(kIdSigning.size()));
      else if (line.starts_with("AGE-SECRET-KEY-1"))
        encryption = age::Identity::parse(line);
    }
  } catch (const Error& e) {
    util::wipe(text);
    throw Error(Exit::identity, path.string() + ": " + e.what());
  }
  util::wipe(text);
  if (!site || !valid_site_name(*site))
    throw Error(Exit::identity,
                path.string() + ": not an iep site identity (no '# iep-site:' line)");
  if (!signing)
    throw Error(Exit::identity, path.string() + ": site identity lacks its signing key");
  if (!encryption)
    throw Error(Exit::identity, path.string() + ": site identity lacks its AGE-SECRET-KEY");
  return SiteIdentity{*site, *encryption, *signing};
}

fs::path identity_path(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* e = std::getenv("IEP_IDENTITY"); e && *e) return e;
  if (fs::path h = home_config(); !h.empty() && fs::exists(h / "identity")) return h / "identity";
  if (fs::exists("/etc/iep/identity")) return "/etc/iep/identity";
  throw Error(Exit::identity,
              "no site identity: give --identity FILE, set IEP_IDENTITY, or create "
              "~/.config/iep/identity with iep-keygen");
}

fs::path default_identity_path() {
  fs::path h = home_config();
  if (h.empty())
    throw Error(Exit::usage, "neither HOME nor XDG_CONFIG_HOME is set: give --output FILE");
  return h / "identity";
}

std::vector<fs::path> site_dirs() {
  std::vector<fs::path> dirs;
  if (const char* e = std::getenv("IEP_SITES"); e && *e) {
    std::string_view s = e;
    while (!s.empty()) {
      auto c = s.find(':');
      if (c != 0) dirs.emplace_back(std::string(s.substr(0, c)));
      if (c == std::string_view::npos) break;
      s.remove_prefix(c + 1);
    }
    return dirs;
  }
  if (fs::path h = home_config(); !h.empty()) dirs.push_back(h / "sites");
  dirs.emplace_back("/etc/iep/sites");
  return dirs;
}

SiteCard load_installed_card(const fs::path& path) {
  SiteCard card = SiteCard::load(path);
  fs::path name = path.filename();
  if (name.extension() != ".card" || name.stem().string() != card.site)
    throw Error(Exit::identity, path.string() + ": the card is for site '" + card.site +
                                    "' but is installed as '" + name.string() +
                                    "'; a site's card must be installed as " + card.site + ".card");
  return card;
}

SiteCard find_card(const std::string& arg) {
  if (arg.find('/') != std::string::npos || arg.ends_with(".card") || fs::exists(arg))
    return SiteCard::load(arg);
  if (!valid_site_name(arg))
    throw Error(Exit::identity, "'" + arg + "' is neither a site card file nor a site name");
  // The first folder's card, if no other folder holds another one for the name.
  std::optional<SiteCard> found;
  fs::path found_at;
  for (const auto& dir : site_dirs()) {
    fs::path p = dir / (arg + ".card");
    std::error_code ec;
    if (!fs::exists(p, ec)) continue;
    SiteCard card = load_installed_card(p);
    if (!found) {
      found = std::move(card);
      found_at = p;
    } else if (!found->same_keys(card)) {
      throw Error(Exit::identity, p.string() + " and " + found_at.string() +
                                      " are two different cards for site '" + arg +
                                      "': remove the wrong one");
    }
  }
  if (found) return *found;
  throw Error(Exit::identity,
              "unknown site '" + arg + "': no " + arg +
                  ".card in the site folders (IEP_SITES, ~/.config/iep/sites, /etc/iep/sites)");
}

void TrustStore::add(SiteCard card, std::string source) {
  if (source.empty()) source = "the card of '" + card.site + "' given (--from, or this site's own)";
  for (std::size_t i = 0; i < cards_.size(); ++i) {
    const SiteCard& c = cards_[i];
    if (c.same_keys(card)) return;  // the same card again (in two folders, say)
    std::string what;
    if (c.site == card.site)
      what = "different cards for site '" + card.site + "'";
    else if (c.signing_key == card.signing_key)
      what = "one signing key (" + card.signing_key.id_hex() + ") for two sites, '" + c.site +
             "' and '" + card.site + "'";
    else if (c.recipient.encode() == card.recipient.encode())
      what = "one age recipient for two sites, '" + c.site + "' and '" + card.site + "'";
    else
      continue;
    throw Error(Exit::identity,
                source + " and " + sources_[i] + " are " + what + ": remove the wrong card");
  }
  cards_.push_back(std::move(card));
  sources_.push_back(std::move(source));
}

void TrustStore::add_dirs() {
  for (const auto& dir : site_dirs()) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    fs::directory_iterator it(dir, ec), end;
    for (; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".card") files.push_back(it->path());
    if (ec)
      throw Error(Exit::identity, dir.string() + ": cannot read the site folder: " + ec.message());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) add(load_installed_card(f), f.string());
  }
}

const SiteCard* TrustStore::by_key(const minisign::PublicKey& key) const {
  for (const auto& c : cards_)
    if (c.signing_key == key) return &c;
  return nullptr;
}

std::vector<const SiteCard*> TrustStore::with_key_id(const minisign::KeyId& id) const {
  std::vector<const SiteCard*> out;
  for (const auto& c : cards_)
    if (c.signing_key.id == id) out.push_back(&c);
  return out;
}

}  // namespace iep
