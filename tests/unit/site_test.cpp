// Site cards and the trust store: names bound to keys, the site folders.
#include "iep/package/site.h"

#include <sys/stat.h>

#include <cstdlib>

#include "test_util.h"

namespace fs = std::filesystem;
using iep::Exit;
using iep::SiteCard;
using iep::SiteIdentity;
using iep::TrustStore;
using iep::test::error_of;
using iep::test::write_file;

namespace {

// Sets an environment variable for one scope, restoring the old value.
class Env {
 public:
  Env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~Env() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

const SiteIdentity& site_a() {
  static const SiteIdentity id = SiteIdentity::generate("trust-a");
  return id;
}
const SiteIdentity& site_b() {
  static const SiteIdentity id = SiteIdentity::generate("trust-b");
  return id;
}

// A card's text with one line replaced (0-based), or a line appended.
std::string edit(const std::string& card, std::size_t line, const std::string& text) {
  std::vector<std::string> ls;
  std::size_t pos = 0;
  while (pos < card.size()) {
    std::size_t nl = card.find('\n', pos);
    ls.push_back(card.substr(pos, nl - pos));
    pos = nl + 1;
  }
  if (line < ls.size())
    ls[line] = text;
  else
    ls.push_back(text);
  std::string out;
  for (const auto& l : ls) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("site names: 1-64 of a-z 0-9 . _ -, starting with a letter or digit") {
  CHECK(iep::valid_site_name("trust-a"));
  CHECK(iep::valid_site_name("0"));
  CHECK(iep::valid_site_name("a.b_c-d"));
  CHECK(iep::valid_site_name(std::string(64, 'a')));
  CHECK_FALSE(iep::valid_site_name(std::string(65, 'a')));
  CHECK_FALSE(iep::valid_site_name(""));
  CHECK_FALSE(iep::valid_site_name("Trust-a"));
  CHECK_FALSE(iep::valid_site_name("-trust"));
  CHECK_FALSE(iep::valid_site_name(".trust"));
  CHECK_FALSE(iep::valid_site_name("trust a"));
  CHECK_FALSE(iep::valid_site_name("trust/a"));
  CHECK_FALSE(iep::valid_site_name("trust\xc3\xa9"));
}

TEST_CASE("a card round-trips and its field rules hold") {
  const std::string text = site_a().card().encode();
  SiteCard c = SiteCard::parse(text, "a.card");
  CHECK(c.same_keys(site_a().card()));
  CHECK_FALSE(c.same_keys(site_b().card()));

  // Comments, blank lines and CRLF line ends are allowed.
  CHECK(SiteCard::parse(edit(text, 9, "# a comment") + "\n\n", "x").site == "trust-a");
  std::string crlf;
  for (char ch : text) crlf += ch == '\n' ? std::string("\r\n") : std::string(1, ch);
  CHECK(SiteCard::parse(crlf, "x").site == "trust-a");

  std::string why = error_of([&] { (void)SiteCard::parse(edit(text, 9, "colour: red"), "x.card"); },
                             Exit::identity);
  CHECK(why.find("x.card: site card has an unknown line: colour: red") == 0);
  // A field twice is ambiguous: refused, not "the last wins".
  why = error_of([&] { (void)SiteCard::parse(edit(text, 9, "site: trust-b"), "x.card"); },
                 Exit::identity);
  CHECK(why.find("two 'site:' lines") != std::string::npos);
  why = error_of(
      [&] {
        (void)SiteCard::parse(edit(text, 9, "age-recipient: " + site_b().card().recipient.encode()),
                              "x.card");
      },
      Exit::identity);
  CHECK(why.find("two 'age-recipient:' lines") != std::string::npos);
  // Names outside the rule, and missing fields.
  for (std::string bad :
       {std::string("site: Trust-A"), std::string("site: "), std::string("site: -a"),
        "site: " + std::string(65, 'a'), std::string("site:trust-a"), std::string("site: trust a")})
    CHECK(error_of([&] { (void)SiteCard::parse(edit(text, 2, bad), "x"); }, Exit::identity)
              .find("x: site card ") == 0);
  CHECK(SiteCard::parse(edit(text, 2, "site: " + std::string(64, 'a')), "x").site ==
        std::string(64, 'a'));
  (void)error_of([&] { (void)SiteCard::parse(edit(text, 3, "# none"), "x"); }, Exit::identity);
  (void)error_of([&] { (void)SiteCard::parse(edit(text, 3, "age-recipient: age1xyz"), "x"); },
                 Exit::identity);
  (void)error_of([&] { (void)SiteCard::parse(edit(text, 1, "RWQnotakey"), "x"); }, Exit::identity);
  (void)error_of([&] { (void)SiteCard::parse(edit(text, 0, "comment"), "x"); }, Exit::identity);
  (void)error_of([&] { (void)SiteCard::parse("", "x"); }, Exit::identity);
}

TEST_CASE("site folders: IEP_SITES, else XDG_CONFIG_HOME or ~/.config, then /etc") {
  {
    Env s("IEP_SITES", "/one::/two:");
    auto d = iep::site_dirs();
    REQUIRE(d.size() == 2);
    CHECK(d[0] == "/one");
    CHECK(d[1] == "/two");
  }
  Env s("IEP_SITES", nullptr);
  {
    Env x("XDG_CONFIG_HOME", "/xdg");
    auto d = iep::site_dirs();
    REQUIRE(d.size() == 2);
    CHECK(d[0] == "/xdg/iep/sites");
    CHECK(d[1] == "/etc/iep/sites");
  }
  Env x("XDG_CONFIG_HOME", "");
  Env h("HOME", "/home/u");
  auto d = iep::site_dirs();
  REQUIRE(d.size() == 2);
  CHECK(d[0] == "/home/u/.config/iep/sites");
  CHECK(d[1] == "/etc/iep/sites");
}

TEST_CASE("a card installed under another name is refused, naming the file") {
  fs::path dir = iep::test::scratch("site-misnamed");
  Env s("IEP_SITES", dir.c_str());
  write_file(dir / "trust-b.card", site_b().card().encode());
  // trust-b's operator installs a card that says it is trust-a as rogue.card.
  SiteIdentity rogue = SiteIdentity::generate("trust-a");
  write_file(dir / "rogue.card", rogue.card().encode());
  TrustStore t;
  std::string why = error_of([&] { t.add_dirs(); }, Exit::identity);
  CHECK(why.find((dir / "rogue.card").string() + ": the card is for site 'trust-a'") == 0);
  CHECK(why.find("installed as 'rogue.card'") != std::string::npos);
  CHECK(why.find('\n') == std::string::npos);
  (void)error_of([&] { (void)iep::load_installed_card(dir / "rogue.card"); }, Exit::identity);
  // By name, the folder's trust-b card is found; rogue is no site name's card.
  CHECK(iep::find_card("trust-b").same_keys(site_b().card()));
  (void)error_of([&] { (void)iep::find_card("rogue"); }, Exit::identity);
  // Given by path on the command line, a card may have any file name.
  CHECK(iep::find_card((dir / "rogue.card").string()).site == "trust-a");

  // A card whose name is not a site's (upper case) is misnamed too.
  fs::remove(dir / "rogue.card");
  write_file(dir / "Trust-a.card", site_a().card().encode());
  TrustStore t2;
  (void)error_of([&] { t2.add_dirs(); }, Exit::identity);
  fs::remove(dir / "Trust-a.card");
  // A malformed card in a folder fails the load, naming it.
  write_file(dir / "trust-c.card", "hello\n");
  TrustStore t3;
  CHECK(error_of([&] { t3.add_dirs(); }, Exit::identity).find("trust-c.card") != std::string::npos);
  fs::remove(dir / "trust-c.card");
  // Other files in a site folder are not cards.
  write_file(dir / "README", "not a card");
  write_file(dir / ".trust-b.card.1234.tmp", "half written");
  TrustStore t4;
  t4.add_dirs();
  CHECK(t4.by_key(site_b().signing.public_key()) != nullptr);
  fs::remove_all(dir);
}

TEST_CASE("one name, one card; one key, one name; across the site folders") {
  fs::path base = iep::test::scratch("site-dup");
  fs::path d1 = base / "one", d2 = base / "two";
  std::string both = d1.string() + ":" + d2.string();
  Env s("IEP_SITES", both.c_str());
  write_file(d1 / "trust-a.card", site_a().card().encode());
  write_file(d1 / "trust-b.card", site_b().card().encode());

  SUBCASE("the same card in two folders is one card") {
    write_file(d2 / "trust-a.card", site_a().card().encode());
    TrustStore t;
    t.add_dirs();
    CHECK(t.by_key(site_a().signing.public_key())->site == "trust-a");
    CHECK(iep::find_card("trust-a").same_keys(site_a().card()));
    // ... and this site's own card again changes nothing.
    t.add(site_a().card());
  }
  SUBCASE("two different cards for one name are refused, naming both files") {
    SiteIdentity other = SiteIdentity::generate("trust-a");
    write_file(d2 / "trust-a.card", other.card().encode());
    TrustStore t;
    std::string why = error_of([&] { t.add_dirs(); }, Exit::identity);
    CHECK(why.find((d1 / "trust-a.card").string()) != std::string::npos);
    CHECK(why.find((d2 / "trust-a.card").string()) != std::string::npos);
    CHECK(why.find("different cards for site 'trust-a'") != std::string::npos);
    why = error_of([&] { (void)iep::find_card("trust-a"); }, Exit::identity);
    CHECK(why.find((d1 / "trust-a.card").string()) != std::string::npos);
    CHECK(why.find((d2 / "trust-a.card").string()) != std::string::npos);
  }
  SUBCASE("one signing key under two names is refused") {
    SiteCard c = site_b().card();
    c.site = "trust-c";
    c.recipient = SiteIdentity::generate("x").encryption.recipient();
    write_file(d2 / "trust-c.card", c.encode());
    TrustStore t;
    std::string why = error_of([&] { t.add_dirs(); }, Exit::identity);
    CHECK(why.find("one signing key") != std::string::npos);
    CHECK(why.find("trust-b.card") != std::string::npos);
    CHECK(why.find("trust-c.card") != std::string::npos);
  }
  SUBCASE("one age recipient under two names is refused") {
    SiteCard c = SiteIdentity::generate("trust-c").card();
    c.recipient = site_b().card().recipient;
    write_file(d2 / "trust-c.card", c.encode());
    TrustStore t;
    CHECK(error_of([&] { t.add_dirs(); }, Exit::identity).find("one age recipient") !=
          std::string::npos);
  }
  SUBCASE("a card that claims this site's own name conflicts with its identity") {
    SiteIdentity self = SiteIdentity::generate("trust-b");
    TrustStore t;
    t.add_dirs();
    CHECK(error_of([&] { t.add(self.card()); }, Exit::identity)
              .find("different cards for site 'trust-b'") != std::string::npos);
  }
  SUBCASE("a card given with --from that conflicts with a folder's") {
    TrustStore t;
    t.add(SiteIdentity::generate("trust-a").card(), "elsewhere/a.card");
    std::string why = error_of([&] { t.add_dirs(); }, Exit::identity);
    CHECK(why.find("elsewhere/a.card") != std::string::npos);
  }
  fs::remove_all(base);
}

TEST_CASE("an unreadable card is an identity error naming it") {
  if (::geteuid() == 0) return;  // root reads everything
  fs::path dir = iep::test::scratch("site-unreadable");
  Env s("IEP_SITES", dir.c_str());
  write_file(dir / "trust-a.card", site_a().card().encode());
  ::chmod((dir / "trust-a.card").c_str(), 0);
  TrustStore t;
  CHECK(error_of([&] { t.add_dirs(); }, Exit::identity).find("trust-a.card") != std::string::npos);
  fs::remove_all(dir);
}
