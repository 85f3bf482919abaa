// The tus uploader against the reference server, @tus/server (file store),
// started on loopback by tests/interop/tus-server.mjs.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include "iep/transfer/tus.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace iep;
using namespace iep::transfer;

namespace {

const char* kToken = "iep1_test-token-for-the-reference-server";

// @tus/server on a free loopback port, stopped on destruction.
class TusServer {
 public:
  explicit TusServer(const fs::path& dir, const std::string& extra = "") {
    std::string src = IEP_SOURCE_DIR;
    auto inst = test::run("bash " + test::quote(src + "/tests/interop/install.sh") + " --quiet");
    REQUIRE_MESSAGE(inst.status == 0, "tests/interop/install.sh failed (npm ci)");
    fs::path port_file = dir / "port";
    store_ = dir / "store";
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      std::string cmd = "exec node " + test::quote(src + "/tests/interop/tus-server.mjs") +
                        " --dir " + test::quote(store_.string()) + " --port-file " +
                        test::quote(port_file.string()) + " --token " + kToken + " " + extra +
                        " >/dev/null 2>" + test::quote((dir / "server.log").string());
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 400 && !fs::exists(port_file); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE_MESSAGE(fs::exists(port_file), "@tus/server did not start");
    std::string port = test::read_file(port_file);
    while (!port.empty() && port.back() == '\n') port.pop_back();
    url = "http://127.0.0.1:" + port + "/files";
  }
  ~TusServer() {
    ::kill(pid_, SIGTERM);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
  TusServer(const TusServer&) = delete;
  TusServer& operator=(const TusServer&) = delete;
  // The bytes the server stored for an upload URL.
  [[nodiscard]] std::string stored(const std::string& upload_url) const {
    return test::read_file(store_ / upload_url.substr(upload_url.rfind('/') + 1));
  }
  std::string url;

 private:
  pid_t pid_ = -1;
  fs::path store_;
};

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

http::Headers auth() {
  return {{"Authorization", std::string("Bearer ") + kToken}};
}

// Bytes that appear over time, like a package being sealed.
class Growing : public UploadData {
 public:
  explicit Growing(std::string all) : all_(std::move(all)) {}
  void feed(std::size_t n) {
    std::lock_guard<std::mutex> g(m_);
    have_ = std::min(all_.size(), have_ + n);
    cv_.notify_all();
  }
  std::pair<std::uint64_t, bool> wait(std::uint64_t want) override {
    std::unique_lock<std::mutex> g(m_);
    cv_.wait(g, [&] { return have_ >= want || have_ == all_.size(); });
    if (fail_after_ && want > *fail_after_) throw Error(Exit::network, "cut by the test");
    return {have_, have_ == all_.size()};
  }
  void read_at(std::uint64_t off, MutableByteSpan buf) override {
    std::memcpy(buf.data(), all_.data() + off, buf.size());
  }
  std::optional<std::size_t> fail_after_;

 private:
  std::string all_;
  std::mutex m_;
  std::condition_variable cv_;
  std::size_t have_ = 0;
};

}  // namespace

TEST_CASE("tus: a file of known length, in chunks, with checksums, against @tus/server") {
  fs::path dir = test::scratch("tus-known");
  TusServer server(dir);
  std::string data = random_bytes(3 * 65536 + 1234, 1);
  test::write_file(dir / "in", data);
  http::Client client;
  TusClient tus(client, server.url, auth(), RetryPolicy{}, 65536);
  std::string url = tus.create(data.size(), {{"filename", "in"}});
  CHECK(url.starts_with(server.url + "/"));
  FileUploadData in((dir / "in").string());
  std::vector<std::uint64_t> offsets;
  tus.upload(url, in, [&](std::uint64_t o) { offsets.push_back(o); });
  CHECK(server.stored(url) == data);
  CHECK(offsets.size() == 5);  // the start, then four chunks
  auto st = tus.status(url);
  REQUIRE(st);
  CHECK(st->offset == data.size());
  CHECK(st->length == data.size());
  // @tus/server offers no checksum algorithm: the chunks carried sha256.
  CHECK(tus.checksum() == "sha256");
}

TEST_CASE("tus: the checksum chosen from what the server offers") {
  CHECK(choose_checksum("crc32c,sha1,sha256") == "crc32c");  // iep-serve's offer
  CHECK(choose_checksum("SHA1, CRC32C") == "crc32c");
  CHECK(choose_checksum("sha1,sha256") == "sha256");
  CHECK(choose_checksum("md5,sha1") == "sha1");
  CHECK(choose_checksum("md5") == "sha256");
  CHECK(choose_checksum("") == "sha256");
  CHECK(choose_checksum("crc32c2,xcrc32c") == "sha256");
}

TEST_CASE("tus: deferred length while the bytes are still being made") {
  fs::path dir = test::scratch("tus-deferred");
  TusServer server(dir);
  std::string data = random_bytes(5 * 65536 + 77, 2);
  http::Client client;
  TusClient tus(client, server.url, auth(), RetryPolicy{}, 65536);
  std::string url = tus.create(std::nullopt, {});
  auto st = tus.status(url);
  REQUIRE(st);
  CHECK(!st->length);  // deferred
  Growing g(data);
  std::thread maker([&] {
    for (int i = 0; i < 40; ++i) {
      g.feed(10000);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  tus.upload(url, g);
  maker.join();
  CHECK(server.stored(url) == data);
  st = tus.status(url);
  REQUIRE(st);
  CHECK(st->length == data.size());
}

namespace {

// An upload of `data` (6 chunks of 64 KiB) cut while its fourth chunk is
// read; its URL.
std::string cut_upload(http::Client& client, const TusServer& server, const std::string& data) {
  TusClient tus(client, server.url, auth(), RetryPolicy{}, 65536);
  std::string url = tus.create(data.size(), {});
  Growing g(data);
  g.fail_after_ = 3 * 65536;
  g.feed(data.size());
  CHECK(test::code_of([&] { tus.upload(url, g); }) == Exit::network);
  return url;
}

}  // namespace

TEST_CASE("tus: an upload cut in the middle resumes from the server's offset") {
  fs::path dir = test::scratch("tus-resume");
  TusServer server(dir);
  std::string data = random_bytes(6 * 65536, 3);
  http::Client client;
  std::string url = cut_upload(client, server, data);
  std::string before = server.stored(url);
  CHECK(before.size() >= 3 * 65536);
  CHECK(before.size() < data.size());
  test::write_file(dir / "in", data);
  FileUploadData in((dir / "in").string());
  TusClient tus(client, server.url, auth(), RetryPolicy{}, 65536);
  SUBCASE("its offset asked for (HEAD)") {
    tus.upload(url, in);
  }
  SUBCASE("told a status the server no longer has") {
    // Told the upload is at 0: the first PATCH is refused (409), and the
    // chunk read ahead for 65536 is not the one the server's offset wants.
    tus.upload(url, in, {}, TusClient::Status{0, data.size()});
  }
  CHECK(tus.bytes_sent() == data.size() - before.size());  // nothing sent twice
  CHECK(server.stored(url) == data);
}

TEST_CASE("tus: a bad token is Exit::auth, a server that is gone is Exit::network") {
  fs::path dir = test::scratch("tus-errors");
  std::string url;
  {
    TusServer server(dir);
    url = server.url;
    http::Client client;
    TusClient bad(client, url, {{"Authorization", "Bearer iep1_wrong"}}, RetryPolicy{}, 65536);
    auto msg = test::error_of([&] { bad.create(10, {}); }, Exit::auth);
    CHECK(msg.find("127.0.0.1") != std::string::npos);
    CHECK(msg.find("wrong") == std::string::npos);  // the token is never shown
  }
  // The server has stopped: retries, then a bounded give-up.
  http::Client client;
  RetryPolicy quick;
  quick.give_up_after = 1;
  quick.base = 0.1;
  TusClient tus(client, url, auth(), quick, 65536);
  auto msg = test::error_of([&] { tus.create(10, {}); }, Exit::network);
  CHECK(msg.find("gave up") != std::string::npos);
}

TEST_CASE("tus: an upload larger than the server takes is Exit::rejected") {
  fs::path dir = test::scratch("tus-too-large");
  TusServer server(dir, "--max-size 1000");
  http::Client client;
  TusClient tus(client, server.url, auth(), RetryPolicy{}, 65536);
  test::error_of([&] { tus.create(5000, {}); }, Exit::rejected);
}
