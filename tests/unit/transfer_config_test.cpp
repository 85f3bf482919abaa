// Client configuration (hub URL, token, state folder: files, variables,
// flags in that order of precedence) and pinned site cards, the latter
// against a real HTTP server on loopback (python3 -m http.server) serving
// cards where a hub serves them.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "iep/transfer/hub_client.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace iep;
using namespace iep::transfer;

namespace {

// A scratch HOME with nothing configured; restores nothing (each test sets
// what it needs).
fs::path fresh_home(const std::string& name) {
  fs::path home = test::scratch(name);
  ::setenv("HOME", home.c_str(), 1);
  ::setenv("XDG_CONFIG_HOME", (home / ".config").c_str(), 1);
  ::unsetenv("XDG_STATE_HOME");
  ::unsetenv("IEP_HUB");
  ::unsetenv("IEP_TOKEN");
  ::setenv("IEP_SITES", (home / "sites").c_str(), 1);
  return home;
}

void write_secret(const fs::path& p, const std::string& text, unsigned mode) {
  test::write_file(p, text);
  ::chmod(p.c_str(), mode);
}

// python3 -m http.server on a free port, serving `root`.
class FileServer {
 public:
  explicit FileServer(const fs::path& root) {
    fs::path log = root.parent_path() / (root.filename().string() + ".log");
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      std::string cmd = "exec python3 -u -m http.server 0 --bind 127.0.0.1 --directory " +
                        test::quote(root.string()) + " >" + test::quote(log.string()) + " 2>&1";
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      std::string text = fs::exists(log) ? test::read_file(log) : "";
      auto p = text.find(" port ");
      if (p != std::string::npos && text.find(' ', p + 6) != std::string::npos) {
        url = "http://127.0.0.1:" + text.substr(p + 6, text.find(' ', p + 6) - p - 6);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("python3 -m http.server did not start");
  }
  ~FileServer() {
    ::kill(pid_, SIGTERM);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
  FileServer(const FileServer&) = delete;
  FileServer& operator=(const FileServer&) = delete;
  std::string url;

 private:
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("config: the hub URL from /etc, ~/.config, $IEP_HUB, --hub, lowest first") {
  fs::path home = fresh_home("cfg-hub");
  if (!fs::exists("/etc/iep/hub")) test::error_of([] { hub_url(""); }, Exit::usage);
  test::write_file(home / ".config/iep/hub", "# the hub\nhttps://file.example:8443/\n");
  CHECK(hub_url("") == "https://file.example:8443");
  ::setenv("IEP_HUB", "http://env.example", 1);
  CHECK(hub_url("") == "http://env.example");
  CHECK(hub_url("http://flag.example:1") == "http://flag.example:1");
  test::error_of([] { hub_url("ftp://x"); }, Exit::usage);
  ::unsetenv("IEP_HUB");
}

TEST_CASE("config: the token from files (0600 only), $IEP_TOKEN, --token-file") {
  fs::path home = fresh_home("cfg-token");
  if (!fs::exists("/etc/iep/token")) test::error_of([] { hub_token(""); }, Exit::auth);
  write_secret(home / ".config/iep/token", "iep1_fromfile\n", 0644);
  auto msg = test::error_of([] { hub_token(""); }, Exit::identity);
  CHECK(msg.find("chmod 600") != std::string::npos);
  CHECK(msg.find("iep1_fromfile") == std::string::npos);  // never shown
  ::chmod((home / ".config/iep/token").c_str(), 0600);
  CHECK(hub_token("") == "iep1_fromfile");
  ::setenv("IEP_TOKEN", "iep1_fromenv", 1);
  CHECK(hub_token("") == "iep1_fromenv");
  write_secret(home / "flag-token", "iep1_fromflag", 0600);
  CHECK(hub_token((home / "flag-token").string()) == "iep1_fromflag");
  write_secret(home / "bad-token", "iep1 with spaces\n", 0600);
  msg = test::error_of([&] { hub_token((home / "bad-token").string()); }, Exit::auth);
  CHECK(msg.find("with spaces") == std::string::npos);
  ::unsetenv("IEP_TOKEN");
}

TEST_CASE("config: the state folder from --state, $XDG_STATE_HOME, ~/.local/state") {
  fs::path home = fresh_home("cfg-state");
  CHECK(state_dir("") == home / ".local/state/iep");
  ::setenv("XDG_STATE_HOME", (home / "xdg").c_str(), 1);
  CHECK(state_dir("") == home / "xdg/iep");
  CHECK(state_dir("/x/y") == fs::path("/x/y"));
  ::unsetenv("XDG_STATE_HOME");
}

TEST_CASE("pinning: first use saved, same card accepted, a changed card refused until accepted") {
  fs::path home = fresh_home("cfg-pin");
  fs::path root = home / "www";
  auto b1 = SiteIdentity::generate("trust-b");
  auto b2 = SiteIdentity::generate("trust-b");
  auto c = SiteIdentity::generate("trust-c");
  test::write_file(root / "v1/sites/trust-b/card", b1.card().encode());
  test::write_file(root / "v1/sites/liar/card", c.card().encode());
  FileServer server(root);
  HubOptions ho;
  ho.url = server.url;
  ho.token = "iep1_test";
  ho.retry.give_up_after = 2;
  Hub hub(ho);

  fs::path pin = home / "sites/trust-b.card";
  CHECK(!fs::exists(pin));
  SiteCard got = pinned_card(hub, "trust-b");
  CHECK(got.signing_key == b1.card().signing_key);
  REQUIRE(fs::exists(pin));  // first use: pinned
  CHECK(SiteCard::load(pin).signing_key == b1.card().signing_key);
  CHECK(pinned_card(hub, "trust-b").signing_key == b1.card().signing_key);

  // The hub now serves another key for the same site: refused.
  test::write_file(root / "v1/sites/trust-b/card", b2.card().encode());
  auto msg = test::error_of([&] { pinned_card(hub, "trust-b"); }, Exit::identity);
  CHECK(msg.find("trust-b") != std::string::npos);
  CHECK(msg.find(b1.card().signing_key.id_hex()) != std::string::npos);
  CHECK(msg.find(b2.card().signing_key.id_hex()) != std::string::npos);
  CHECK(msg.find("--accept-card trust-b") != std::string::npos);
  CHECK(SiteCard::load(pin).signing_key == b1.card().signing_key);  // the pin is kept

  accept_card(hub, "trust-b");
  CHECK(SiteCard::load(pin).signing_key == b2.card().signing_key);
  CHECK(pinned_card(hub, "trust-b").signing_key == b2.card().signing_key);

  // A card naming another site than asked for, and a site the hub does not know.
  test::error_of([&] { pinned_card(hub, "liar"); }, Exit::identity);
  CHECK(!fs::exists(home / "sites/liar.card"));
  test::error_of([&] { pinned_card(hub, "nobody"); }, Exit::rejected);
  test::error_of([&] { pinned_card(hub, "../etc"); }, Exit::usage);
}

TEST_CASE("hub client: a hostile mailbox answer is refused, a good one parsed") {
  fs::path home = fresh_home("cfg-mailbox");
  fs::path root = home / "www";
  std::string id(32, 'a'), b2(128, 'b');
  std::string good = R"({"packages":[{"package":")" + id +
                     R"(","sender":"trust-a","size":10,"blake2b":")" + b2 +
                     R"(","committed":"T","expires":"T","signature":"S"}]})";
  test::write_file(root / "v1/mailbox", good);
  FileServer server(root);
  HubOptions ho;
  ho.url = server.url;
  ho.token = "iep1_test";
  ho.retry.give_up_after = 1;
  Hub hub(ho);
  auto box = hub.mailbox(0);
  REQUIRE(box.size() == 1);
  CHECK(box[0].package == id);
  CHECK(box[0].sender == "trust-a");
  CHECK(box[0].size == 10);
  CHECK(box[0].blake2b == b2);

  // Nested far too deep: refused before parsing.
  test::write_file(root / "v1/mailbox", std::string(100000, '[') + std::string(100000, ']'));
  auto msg = test::error_of([&] { hub.mailbox(0); }, Exit::network);
  CHECK(msg.find("deep") != std::string::npos);
  // Not JSON; no package list; an id that is not an id; a sender that is a path.
  test::write_file(root / "v1/mailbox", "<html>");
  test::error_of([&] { hub.mailbox(0); }, Exit::network);
  test::write_file(root / "v1/mailbox", R"({"files":[]})");
  test::error_of([&] { hub.mailbox(0); }, Exit::network);
  std::string bad_id = good;
  bad_id.replace(bad_id.find(id), 32, "../../../../etc/passwd0000000000");
  test::write_file(root / "v1/mailbox", bad_id);
  test::error_of([&] { hub.mailbox(0); }, Exit::network);
  std::string bad_sender = good;
  bad_sender.replace(bad_sender.find("trust-a"), 7, "../x/yz");
  test::write_file(root / "v1/mailbox", bad_sender);
  test::error_of([&] { hub.mailbox(0); }, Exit::network);
  // An answer larger than the bound.
  test::write_file(root / "v1/mailbox", std::string(17 << 20, ' '));
  test::error_of([&] { hub.mailbox(0); }, Exit::network);
}

TEST_CASE("hub client: a hub that is not there is Exit::network after the retry time") {
  fresh_home("cfg-down");
  HubOptions ho;
  ho.url = "http://127.0.0.1:1";
  ho.token = "iep1_test";
  ho.retry.give_up_after = 0.5;
  ho.retry.base = 0.1;
  Hub hub(ho);
  auto msg = test::error_of([&] { hub.mailbox(0); }, Exit::network);
  CHECK(msg.starts_with("127.0.0.1:1: "));
  CHECK(msg.find("iep1_test") == std::string::npos);
}
