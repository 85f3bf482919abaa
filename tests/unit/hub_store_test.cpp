// The hub's byte stores: FileStore's own cases, then the store contract against
// every engine (FileStore, and S3 when a test endpoint is given).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "iep/hub/store.h"
#include "test_util.h"

using namespace iep;
using namespace iep::hub;

namespace {
ByteSpan bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
std::string read_all(Source& s) {
  std::string out;
  char buf[4096];
  for (;;) {
    std::size_t n = s.read(MutableByteSpan(reinterpret_cast<std::uint8_t*>(buf), sizeof buf));
    if (n == 0) return out;
    out.append(buf, n);
  }
}
}  // namespace

TEST_CASE("an upload grows by appends, is cut back, and commits into a package") {
  auto dir = test::scratch("hub_store");
  auto st = open_file_store(dir);
  const std::string id = "0123456789abcdef0123456789abcdef",
                    pkg = "fedcba9876543210fedcba9876543210";
  st->create_upload(id);
  CHECK(st->upload_size(id) == 0);
  {
    auto w = st->append(id, 0);
    w->write(bytes("hello "));
    CHECK(w->sync() == 6);
  }
  {
    auto w = st->append(id, 6);
    w->write(bytes("garbage that a checksum refused"));
  }
  st->truncate(id, 6);
  CHECK(st->upload_size(id) == 6);
  {
    auto w = st->append(id, 6);
    w->write(bytes("world"));
    CHECK(w->sync() == 11);
  }
  CHECK(read_all(*st->read_upload(id)) == "hello world");
  CHECK(st->upload_ids() == std::vector<std::string>{id});
  CHECK_FALSE(st->has_package(pkg));
  st->commit(id, pkg);
  CHECK(st->has_package(pkg));
  CHECK(st->upload_ids().empty());
  auto r = st->open_package(pkg);
  CHECK(r.size == 11);
  FdSource src(r.fd.get(), "package");
  CHECK(read_all(src) == "hello world");
  // An index transaction that failed after the rename puts it back.
  st->uncommit(pkg, id);
  CHECK_FALSE(st->has_package(pkg));
  CHECK(st->upload_size(id) == 11);
  st->commit(id, pkg);
  st->remove_package(pkg);
  CHECK_FALSE(st->has_package(pkg));
  CHECK(st->free_space() > 0);
}

TEST_CASE("concatenation appends whole uploads") {
  auto dir = test::scratch("hub_store_concat");
  auto st = open_file_store(dir);
  const std::string a(32, 'a'), b(32, 'b'), f(32, 'f');
  for (auto& [id, text] :
       std::vector<std::pair<std::string, std::string>>{{a, "first,"}, {b, "second"}}) {
    st->create_upload(id);
    auto w = st->append(id, 0);
    w->write(bytes(text));
    w->sync();
  }
  st->create_upload(f);
  st->concat(f, a);
  st->concat(f, b);
  CHECK(read_all(*st->read_upload(f)) == "first,second");
}

TEST_CASE("a missing upload or package is an error, not a crash") {
  auto dir = test::scratch("hub_store_missing");
  auto st = open_file_store(dir);
  CHECK(test::code_of([&] { st->upload_size(std::string(32, 'c')); }) == Exit::output);
  CHECK(test::code_of([&] { st->open_package(std::string(32, 'c')); }) == Exit::input);
  CHECK(test::code_of([&] { st->create_upload("../../escape/x"); }) == Exit::output);
}

TEST_CASE("a commit never replaces a package that is there already") {
  // Two uploads committed under one package id (a client's retry racing its
  // first attempt): the second rename must fail and leave the first's bytes.
  auto dir = test::scratch("hub_store_noreplace");
  auto st = open_file_store(dir);
  const std::string u1 = "11111111111111111111111111111111",
                    u2 = "22222222222222222222222222222222",
                    pkg = "fedcba9876543210fedcba9876543210";
  for (auto [id, text] : {std::pair{u1, "first"}, std::pair{u2, "second"}}) {
    st->create_upload(id);
    auto w = st->append(id, 0);
    w->write(bytes(text));
    w->sync();
  }
  st->commit(u1, pkg);
  CHECK_THROWS_AS(st->commit(u2, pkg), Error);
  auto rd = st->open_package(pkg);
  FileSource src(dir / "packages" / pkg);
  CHECK(read_all(src) == "first");
  CHECK(st->upload_size(u2) == 6);  // the loser keeps its bytes as an upload
  // uncommit() does not replace an upload either.
  CHECK_THROWS_AS(st->uncommit(pkg, u2), Error);
  CHECK(st->has_package(pkg));
}

// ---- The store contract, against every engine there is -----------------
//
// FileStore always; the S3 engine when IEP_TEST_ENGINES names a folder with
// a file `s3` holding an S3 endpoint URL (tests/engines.sh start DIR), each
// case in a fresh bucket.

namespace {

constexpr std::size_t kPart = 8 << 20;  // the S3 engine's part size

struct Engine {
  std::string name;
  std::unique_ptr<Store> st;
  std::string bucket, endpoint;  // S3 only
};

std::string sh_quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

// A signed request to the S3 emulator with curl, beside the store (making
// buckets, a bare multipart upload).
bool s3_curl(const std::string& method, const std::string& url,
             const std::vector<std::string>& headers = {}, const std::string& body_file = "") {
  std::string cmd = "curl -sSf -o /dev/null -X " + method;
  for (const auto& h : headers) cmd += " -H " + sh_quote(h);
  if (!body_file.empty()) cmd += " --data-binary @" + sh_quote(body_file);
  cmd +=
      " --aws-sigv4 aws:amz:us-east-1:s3 -u \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\""
      " -H 'x-amz-content-sha256: "
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' " +
      sh_quote(url);
  return std::system(cmd.c_str()) == 0;
}

std::vector<Engine> engines(const std::string& tag) {
  std::vector<Engine> out;
  out.push_back({"file", open_file_store(test::scratch("hub_store_" + tag)), "", ""});
  const char* dir = std::getenv("IEP_TEST_ENGINES");
  std::filesystem::path f = dir ? std::filesystem::path(dir) / "s3" : "";
  std::error_code ec;
  if (!dir || !std::filesystem::exists(f, ec)) {
    MESSAGE("S3 engine skipped: IEP_TEST_ENGINES names no folder with an s3 endpoint");
    return out;
  }
  std::string endpoint = read_small_file(f);
  while (!endpoint.empty() && (endpoint.back() == '\n' || endpoint.back() == ' '))
    endpoint.pop_back();
  ::setenv("AWS_ACCESS_KEY_ID", "test", 0);
  ::setenv("AWS_SECRET_ACCESS_KEY", "test", 0);
  static int n = 0;
  std::string bucket = "iep-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
  const std::string made = endpoint + "/" + bucket;
  REQUIRE_MESSAGE(s3_curl("PUT", made), made);
  out.push_back(
      {"s3", open_s3_store("s3://" + bucket + "/hub?endpoint=" + endpoint), bucket, endpoint});
  return out;
}

// Deterministic bytes that differ from part to part.
std::string pattern(std::size_t n, std::uint32_t seed) {
  std::string s(n, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

// Writes `data` in pieces of odd sizes (as an HTTP body arrives); returns sync().
std::uint64_t write_all(Store& st, const std::string& id, std::uint64_t offset,
                        std::string_view data) {
  auto w = st.append(id, offset);
  for (std::size_t at = 0; at < data.size();) {
    std::size_t n = std::min<std::size_t>((1 << 20) + 7, data.size() - at);
    w->write(bytes(data.substr(at, n)));
    at += n;
  }
  return w->sync();
}

std::string package_range(Store& st, const std::string& pkg, std::uint64_t offset,
                          std::uint64_t length) {
  return read_all(*st.read_package(pkg, offset, length));
}

const std::string kId = "0123456789abcdef0123456789abcdef";
const std::string kPkg = "fedcba9876543210fedcba9876543210";

}  // namespace

// FileStore gathers a PATCH's bytes into blocks: appends that start and end
// anywhere (a resume after a cut, a tus client's own chunk size) must read
// back as written, on disk and on tmpfs.
TEST_CASE("FileStore: appends starting at any offset read back whole, on disk and on tmpfs") {
  std::vector<std::filesystem::path> dirs{test::scratch("hub_store_direct")};
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec)) {
    std::string t = "/dev/shm/iep-hub-store-XXXXXX";
    if (::mkdtemp(t.data()) != nullptr) dirs.emplace_back(t);
  }
  for (const auto& dir : dirs) {
    CAPTURE(dir.string());
    auto st = open_file_store(dir);
    st->create_upload(kId);
    std::string all;
    std::uint32_t seed = 10;
    for (std::size_t n : {std::size_t{1}, std::size_t{4095}, std::size_t{4096}, std::size_t{4097},
                          (std::size_t{1} << 20) + 3, std::size_t{3} << 20, std::size_t{17},
                          std::size_t{8191}, std::size_t{1} << 20}) {
      const std::string piece = pattern(n, seed++);
      CHECK(write_all(*st, kId, all.size(), piece) == all.size() + n);
      all += piece;
      CHECK(st->upload_size(kId) == all.size());
    }
    CHECK(read_all(*st->read_upload(kId)) == all);
    st->commit(kId, kPkg);
    CHECK(package_range(*st, kPkg, 4093, 9000) == all.substr(4093, 9000));
    CHECK(package_range(*st, kPkg, 0, all.size()) == all);
    if (dir.string().rfind("/dev/shm/", 0) == 0) std::filesystem::remove_all(dir, ec);
  }
}

TEST_CASE("contract: appends across several parts are durable at sync") {
  for (auto& e : engines("parts")) {
    CAPTURE(e.name);
    auto& st = *e.st;
    const std::string data = pattern(2 * kPart + (3 << 20) + 12345, 1);
    st.create_upload(kId);
    CHECK(st.upload_size(kId) == 0);
    CHECK(write_all(st, kId, 0, data.substr(0, 5 << 20)) == 5 << 20);
    CHECK(st.upload_size(kId) == 5 << 20);
    CHECK(write_all(st, kId, 5 << 20, data.substr(5 << 20)) == data.size());
    CHECK(st.upload_size(kId) == data.size());
    CHECK(write_all(st, kId, data.size(), "end") == data.size() + 3);
    CHECK(st.upload_size(kId) == data.size() + 3);
    CHECK(read_all(*st.read_upload(kId)) == data + "end");
    CHECK_THROWS_AS(st.upload_size(std::string(32, 'c')), Error);
  }
}

TEST_CASE("contract: a writer dropped without sync loses only its own write") {
  for (auto& e : engines("drop")) {
    CAPTURE(e.name);
    auto& st = *e.st;
    const std::string kept = pattern(2 * kPart + (1 << 20), 2), lost = pattern(kPart + 99, 3),
                      next = pattern(kPart + 5, 4);
    st.create_upload(kId);
    REQUIRE(write_all(st, kId, 0, kept) == kept.size());
    {
      // A node killed mid-PATCH: a whole part of it reached the store.
      auto w = st.append(kId, kept.size());
      w->write(bytes(lost));
    }
    if (e.name == "s3") CHECK(st.upload_size(kId) == kept.size());
    st.truncate(kId, kept.size());  // what the hub's recovery does
    CHECK(st.upload_size(kId) == kept.size());
    CHECK(write_all(st, kId, kept.size(), next) == kept.size() + next.size());
    CHECK(read_all(*st.read_upload(kId)) == kept + next);
  }
}

TEST_CASE("contract: truncate cuts back within the bytes after the last part") {
  for (auto& e : engines("cut")) {
    CAPTURE(e.name);
    auto& st = *e.st;
    const std::string data = pattern(kPart + 100, 5);
    st.create_upload(kId);
    REQUIRE(write_all(st, kId, 0, data) == data.size());
    REQUIRE(write_all(st, kId, data.size(), "refused by a checksum") == data.size() + 21);
    st.truncate(kId, kPart + 60);
    CHECK(st.upload_size(kId) == kPart + 60);
    CHECK(write_all(st, kId, kPart + 60, "xyz") == kPart + 63);
    CHECK(read_all(*st.read_upload(kId)) == data.substr(0, kPart + 60) + "xyz");
  }
}

TEST_CASE("contract: truncate below a durable part is refused by the S3 engine") {
  for (auto& e : engines("below")) {
    CAPTURE(e.name);
    auto& st = *e.st;
    const std::string data = pattern(2 * kPart + 10, 6);
    st.create_upload(kId);
    REQUIRE(write_all(st, kId, 0, data) == data.size());
    if (e.name == "s3") {
      auto msg = test::error_of([&] { st.truncate(kId, kPart - 1); }, Exit::output);
      CHECK(msg.find("cannot cut back below a durable part") != std::string::npos);
      CHECK(st.upload_size(kId) == data.size());  // untouched
      CHECK(read_all(*st.read_upload(kId)) == data);
    } else {
      st.truncate(kId, kPart - 1);
      CHECK(st.upload_size(kId) == kPart - 1);
    }
  }
}

TEST_CASE("contract: a complete upload stays readable, and concatenates") {
  for (auto& e : engines("complete")) {
    CAPTURE(e.name);
    auto& st = *e.st;
    const std::string a(32, 'a'), b(32, 'b'), f(32, 'f');
    const std::string big = pattern(kPart + 3, 7);
    st.create_upload(a);
    write_all(st, a, 0, "small,");
    st.create_upload(b);
    write_all(st, b, 0, big);
    for (int i = 0; i < 2; ++i) {
      CHECK(read_all(*st.read_upload(a)) == "small,");
      CHECK(read_all(*st.read_upload(b)) == big);
      CHECK(st.upload_size(a) == 6);
      CHECK(st.upload_size(b) == big.size());
    }
    st.create_upload(f);
    st.concat(f, a);
    st.concat(f, b);
    CHECK(st.upload_size(f) == 6 + big.size());
    CHECK(read_all(*st.read_upload(f)) == "small," + big);
    // An empty upload is complete too.
    const std::string z(32, 'e');
    st.create_upload(z);
    CHECK(read_all(*st.read_upload(z)).empty());
  }
}

TEST_CASE("contract: commit, uncommit, and no commit over a package") {
  for (auto& e : engines("commit")) {
    CAPTURE(e.name);
    auto& st = *e.st;
    const std::string data = pattern(kPart + 4321, 8), other(32, '2');
    st.create_upload(kId);
    write_all(st, kId, 0, data);
    CHECK(st.upload_ids() == std::vector<std::string>{kId});
    CHECK_FALSE(st.has_package(kPkg));
    st.commit(kId, kPkg);
    CHECK(st.has_package(kPkg));
    CHECK(st.upload_ids().empty());
    CHECK(st.open_package(kPkg).size == data.size());
    CHECK(package_range(st, kPkg, 0, data.size()) == data);
    st.uncommit(kPkg, kId);
    CHECK_FALSE(st.has_package(kPkg));
    CHECK(st.upload_size(kId) == data.size());
    CHECK(read_all(*st.read_upload(kId)) == data);
    st.commit(kId, kPkg);
    st.create_upload(other);
    write_all(st, other, 0, "second");
    CHECK_THROWS_AS(st.commit(other, kPkg), Error);
    CHECK(package_range(st, kPkg, 0, data.size()) == data);
    CHECK(st.upload_size(other) == 6);
    // uncommit() does not replace an upload either.
    CHECK_THROWS_AS(st.uncommit(kPkg, other), Error);
    CHECK(st.has_package(kPkg));
    st.remove_package(kPkg);
    CHECK_FALSE(st.has_package(kPkg));
    CHECK(test::code_of([&] { st.open_package(kPkg); }) == Exit::input);
    CHECK(st.free_space() > 0);
  }
}

TEST_CASE("contract: read_package ranges") {
  for (auto& e : engines("ranges")) {
    CAPTURE(e.name);
    auto& st = *e.st;
    const std::string data = pattern(2 * kPart + 123, 9);
    st.create_upload(kId);
    write_all(st, kId, 0, data);
    st.commit(kId, kPkg);
    CHECK(package_range(st, kPkg, 0, 1) == data.substr(0, 1));
    CHECK(package_range(st, kPkg, kPart - 10, 20) == data.substr(kPart - 10, 20));
    CHECK(package_range(st, kPkg, 100, 2 * kPart) == data.substr(100, 2 * kPart));
    CHECK(package_range(st, kPkg, data.size() - 1, 1) == data.substr(data.size() - 1));
    CHECK(package_range(st, kPkg, data.size(), 0).empty());
    CHECK(package_range(st, kPkg, 0, data.size()) == data);
  }
}

TEST_CASE("contract: removing is idempotent") {
  for (auto& e : engines("remove")) {
    CAPTURE(e.name);
    auto& st = *e.st;
    st.create_upload(kId);
    write_all(st, kId, 0, pattern(kPart + 1, 10));
    st.remove_upload(kId);
    st.remove_upload(kId);
    st.remove_upload(std::string(32, '9'));
    CHECK(st.upload_ids().empty());
    CHECK_THROWS_AS(st.upload_size(kId), Error);
    st.remove_package(kPkg);
    st.create_upload(kId);  // the id is free again
    CHECK(st.upload_size(kId) == 0);
  }
}

TEST_CASE("contract: a small upload commits by one PUT; uncommit after it stopped halfway") {
  for (auto& e : engines("smallcommit")) {
    if (e.name != "s3") continue;
    auto& st = *e.st;
    const std::string data = pattern(100'000, 12);
    st.create_upload(kId);
    write_all(st, kId, 0, data);
    const std::string base = e.endpoint + "/" + e.bucket + "/hub/";
    st.commit(kId, kPkg);
    CHECK(package_range(st, kPkg, 0, data.size()) == data);
    CHECK_THROWS(st.upload_size(kId));
    // The state object put back, as a node stopped between the package's
    // PUT and the state's removal leaves it.
    const auto tail = test::scratch("hub_store_smallcommit_tail") / "tail";
    test::write_file(tail, data);
    REQUIRE(s3_curl("PUT", base + "uploads/" + kId + ".state",
                    {"Content-Type: application/octet-stream",
                     "x-amz-meta-multipart: ", "x-amz-meta-parts: 0", "x-amz-meta-parts-bytes: 0"},
                    tail.string()));
    st.uncommit(kPkg, kId);
    CHECK_FALSE(st.has_package(kPkg));
    CHECK(st.upload_size(kId) == data.size());
    st.commit(kId, kPkg);
    CHECK(package_range(st, kPkg, 0, data.size()) == data);
  }
}

TEST_CASE("contract: upload_ids finds a multipart upload that has no state object") {
  for (auto& e : engines("orphan")) {
    if (e.name != "s3") continue;
    auto& st = *e.st;
    const std::string orphan(32, '7');
    // A node stopped between CreateMultipartUpload and its first state object.
    REQUIRE(s3_curl("POST", e.endpoint + "/" + e.bucket + "/hub/uploads/" + orphan + "?uploads="));
    st.create_upload(kId);
    CHECK(st.upload_ids() == std::vector<std::string>{kId, orphan});  // sorted
    st.remove_upload(orphan);
    CHECK(st.upload_ids() == std::vector<std::string>{kId});
  }
}

// Not a check by itself: tests/e2e/s3_store.sh runs it to commit a file into
// a bucket that boto3 then reads back (the oracle), through a faulty proxy.
TEST_CASE("oracle: commit IEP_S3_ORACLE_FILE into IEP_S3_ORACLE_STORE") {
  const char* url = std::getenv("IEP_S3_ORACLE_STORE");
  const char* file = std::getenv("IEP_S3_ORACLE_FILE");
  if (!url || !file) return;
  auto st = open_s3_store(url);
  FileSource src(file);
  st->create_upload(kId);
  // PATCHes of odd sizes, each synced, as a client would send them.
  std::vector<std::uint8_t> buf(3 * kPart + 77);
  std::uint64_t offset = 0;
  for (;;) {
    std::size_t n = read_full(src, buf);
    if (n == 0) break;
    auto w = st->append(kId, offset);
    w->write(ByteSpan(buf.data(), n));
    offset = w->sync();
  }
  CHECK(st->upload_size(kId) == offset);
  st->commit(kId, kPkg);
  CHECK(st->open_package(kPkg).size == offset);
  CHECK(st->upload_ids().empty());
}

TEST_CASE("contract: uncommit after a commit that stopped before removing its upload") {
  for (auto& e : engines("halfcommit")) {
    if (e.name != "s3") continue;
    auto& st = *e.st;
    const std::string data = pattern(kPart + 17, 11);
    st.create_upload(kId);
    write_all(st, kId, 0, data);
    st.commit(kId, kPkg);
    // Put the upload's objects back as they were before the commit removed
    // them (completed, and copied into the package).
    const std::string base = e.endpoint + "/" + e.bucket + "/hub/";
    REQUIRE(s3_curl("PUT", base + "uploads/" + kId,
                    {"x-amz-copy-source: /" + e.bucket + "/hub/packages/" + kPkg}));
    REQUIRE(s3_curl(
        "PUT", base + "uploads/" + kId + ".state",
        {"x-amz-meta-multipart: ", "x-amz-meta-parts: 0",
         "x-amz-meta-parts-bytes: " + std::to_string(data.size()), "x-amz-meta-completed: 1"}));
    CHECK(st.upload_size(kId) == data.size());
    st.uncommit(kPkg, kId);
    CHECK_FALSE(st.has_package(kPkg));
    CHECK(read_all(*st.read_upload(kId)) == data);
    st.commit(kId, kPkg);
    CHECK(package_range(st, kPkg, 0, data.size()) == data);
  }
}

TEST_CASE("contract: a package above CopyObject's limit is copied in parts") {
  // Limits of 10 MiB and 5 MiB stand for 5 GiB and 1 GiB.
  ::setenv("IEP_TEST_S3_COPY_LIMITS", "10485760,5242880", 1);
  auto all = engines("bigcopy");
  ::unsetenv("IEP_TEST_S3_COPY_LIMITS");
  for (auto& e : all) {
    CAPTURE(e.name);
    auto& st = *e.st;
    const std::string data = pattern(2 * kPart + 123, 12);  // 4 ranges, the last short
    st.create_upload(kId);
    write_all(st, kId, 0, data);
    st.commit(kId, kPkg);
    CHECK(st.open_package(kPkg).size == data.size());
    CHECK(package_range(st, kPkg, 0, data.size()) == data);
    st.uncommit(kPkg, kId);  // back, in parts too
    CHECK(read_all(*st.read_upload(kId)) == data);
  }
}

TEST_CASE("s3:// URLs and credentials are checked when the store opens") {
  // Opening contacts no server: these need no S3 endpoint.
  std::map<std::string, std::optional<std::string>> saved;
  for (const char* v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                        "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE", "HOME"}) {
    const char* x = std::getenv(v);
    saved[v] = x ? std::optional<std::string>(x) : std::nullopt;
    ::unsetenv(v);
  }
  auto dir = test::scratch("hub_store_s3_open");
  ::setenv("HOME", dir.c_str(), 1);
  const std::string url = "s3://bucket-1/hub/a?endpoint=http://127.0.0.1:9&region=eu-west-1";
  auto msg = test::error_of([&] { open_s3_store(url); }, Exit::usage);
  CHECK(msg.find("no AWS credentials") != std::string::npos);

  // The shared credentials file, in the profile AWS_PROFILE names.
  std::filesystem::create_directories(dir / ".aws");
  std::ofstream(dir / ".aws" / "credentials")
      << "[default]\naws_access_key_id = AKDEFAULT\n\n[other]\n# a comment\n"
         "aws_access_key_id=AKOTHER\naws_secret_access_key = very/secret+key\n";
  CHECK(test::code_of([&] { open_s3_store(url); }) == Exit::usage);  // default lacks a secret
  ::setenv("AWS_PROFILE", "other", 1);
  CHECK(open_s3_store(url) != nullptr);
  ::setenv("AWS_PROFILE", "missing", 1);
  CHECK(test::code_of([&] { open_s3_store(url); }) == Exit::usage);
  ::setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  CHECK(open_s3_store(url) != nullptr);
  CHECK(open_s3_store("s3://bucket-1") != nullptr);  // AWS itself, no prefix

  for (const char* bad :
       {"s3://", "s3://B/x", "s3://bucket/../x", "s3://bucket/a//b",
        "s3://bucket/x?endpoint=ftp://h", "s3://bucket/x?endpoint=http://h/path",
        "s3://bucket/x?color=red", "s3://bucket/x?region=EU_1", "s3://bucket/x y"}) {
    CAPTURE(bad);
    std::string m;
    CHECK(test::code_of([&] { open_s3_store(bad); }, &m) == Exit::usage);
    CHECK(m.find("secret") == std::string::npos);
  }
  CHECK(test::code_of([&] { open_store("s3://B", {}); }) == Exit::usage);
  CHECK(open_store("s3://bucket/p?endpoint=http://127.0.0.1:9", {}) != nullptr);

  for (auto& [k, v] : saved)
    if (v)
      ::setenv(k.c_str(), v->c_str(), 1);
    else
      ::unsetenv(k.c_str());
}
