// iep-store's pieces: packages one after another in one stream
// (PackageStream), and the per-study hook (lib/src/pacs/store_hook.h) that
// reconciliation plugs into: a quarantined study sends nothing, an applied
// change reaches the PACS (a real storescp).
#include "iep/pacs/store.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../../lib/src/pacs/store_hook.h"
#include "iep/package/package.h"
#include "test_util.h"

namespace pkg = iep::package;
using iep::BytesSink;
using iep::BytesSource;
using iep::Exit;
using iep::SiteIdentity;
namespace fs = std::filesystem;

namespace {

class Ignore : public pkg::EntryHandler {
 public:
  void begin(const std::string&, std::uint64_t) override {}
  void data(iep::ByteSpan) override {}
  void end() override {}
};

std::string package_bytes(const SiteIdentity& self, const fs::path& file, bool compress) {
  BytesSink out;
  pkg::WriteOptions w;
  w.compress = compress;
  pkg::PackInput input;
  input.paths = {file};
  pkg::write_plain(pkg::plan_one(input), self, out, w);
  return {out.bytes.begin(), out.bytes.end()};
}

std::string free_port() {
  auto r = iep::test::run(
      "python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); "
      "print(s.getsockname()[1])'");
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

// DCMTK's storescp on a free loopback port, saving into `dir` (created),
// stopped when it goes out of scope.
struct Storescp {
  explicit Storescp(const fs::path& dir) : port(free_port()) {
    fs::create_directories(dir);
    pid = iep::test::run("TCP_NODELAY=1 storescp --aetitle PACS --output-directory " +
                         iep::test::quote(dir.string()) + " " + port + " >/dev/null 2>&1 & echo $!")
              .out;
    iep::test::run("for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/" + port +
                   ") 2>/dev/null && break; sleep 0.1; done");
  }
  ~Storescp() { iep::test::run("kill " + pid); }
  Storescp(const Storescp&) = delete;
  Storescp& operator=(const Storescp&) = delete;
  std::string port, pid;
};

// A package of one CT instance (pydicom's CT_small.dcm) signed by trust-a at
// dir/p.tar, a storescp saving into dir/in, and options that trust trust-a
// and store into that storescp.
struct OneInstanceToStorescp {
  explicit OneInstanceToStorescp(const fs::path& dir) : peer(dir / "in") {
    trust.add(sender.card());
    iep::test::write_file(dir / "p.tar",
                          package_bytes(sender, iep::test::kPydicom / "CT_small.dcm", false));
    options.pacs = iep::pacs::parse_peer("PACS@127.0.0.1:" + peer.port);
    options.trust = &trust;
  }
  SiteIdentity sender = SiteIdentity::generate("trust-a");
  iep::TrustStore trust;
  Storescp peer;
  iep::pacs::StoreOptions options;
};

// A study hook that applies `change` to every instance.
std::shared_ptr<iep::pacs::StudyHook> hook_applying(std::function<void(DcmDataset&)> change) {
  auto hook = std::make_shared<iep::pacs::StudyHook>();
  hook->decide = [change = std::move(change)](const iep::pacs::StudyInput&) {
    iep::pacs::StudyDecision d;
    d.apply = change;
    return d;
  };
  return hook;
}

}  // namespace

TEST_CASE("packages one after another are found one by one, compressed or not") {
  const auto a = SiteIdentity::generate("trust-a");
  iep::TrustStore trust;
  trust.add(a.card());
  const std::string p1 = package_bytes(a, iep::test::kPydicom / "CT_small.dcm", true);
  const std::string p2 = package_bytes(a, iep::test::kPydicom / "MR_small.dcm", false);
  const std::string p3 = package_bytes(a, iep::test::kPydicom / "CT_small.dcm", false);
  const std::string all = p1 + p2 + p3 + p1;
  const iep::Bytes data(all.begin(), all.end());
  BytesSource in(data);
  pkg::PackageStream stream(in, "stdin");
  std::vector<std::string> ids;
  while (iep::Source* src = stream.next()) {
    Ignore none;
    ids.push_back(pkg::read_plain(*src, "stdin", trust, none).package_id);
    CHECK(stream.at_boundary());
  }
  REQUIRE(ids.size() == 4);
  CHECK(ids[0] == ids[3]);
  CHECK(ids[0] != ids[1]);
  CHECK(ids[1] != ids[2]);
}

TEST_CASE("a package in several zstd frames (zstd of each half) is one package") {
  const auto dir = iep::test::scratch("store-frames");
  const auto a = SiteIdentity::generate("trust-a");
  iep::TrustStore trust;
  trust.add(a.card());
  iep::test::write_file(dir / "p.tar",
                        package_bytes(a, iep::test::kPydicom / "CT_small.dcm", false));
  iep::test::write_file(dir / "q.tar.zst",
                        package_bytes(a, iep::test::kPydicom / "MR_small.dcm", true));
  auto r = iep::test::run(
      "n=$(stat -c %s p.tar); head -c $((n / 2)) p.tar | zstd -q -c > 1.zst && "
      "tail -c +$((n / 2 + 1)) p.tar | zstd -q -c > 2.zst && cat 1.zst 2.zst q.tar.zst > all",
      dir);
  REQUIRE(r.status == 0);
  const std::string all = iep::test::read_file(dir / "all");
  const iep::Bytes data(all.begin(), all.end());
  BytesSource in(data);
  pkg::PackageStream stream(in, "stdin");
  std::vector<std::uint64_t> instances;
  while (iep::Source* src = stream.next()) {
    Ignore none;
    instances.push_back(pkg::read_plain(*src, "stdin", trust, none).study.instances);
  }
  CHECK(instances == std::vector<std::uint64_t>{1, 1});
  fs::remove_all(dir);
}

TEST_CASE("a package cut short in a stream is corrupt, naming the stream") {
  const auto a = SiteIdentity::generate("trust-a");
  iep::TrustStore trust;
  trust.add(a.card());
  for (bool compress : {true, false}) {
    const std::string p = package_bytes(a, iep::test::kPydicom / "CT_small.dcm", compress);
    const std::string cut = p.substr(0, p.size() / 2);
    const iep::Bytes data(cut.begin(), cut.end());
    BytesSource in(data);
    pkg::PackageStream stream(in, "stdin");
    iep::Source* src = stream.next();
    REQUIRE(src != nullptr);
    Ignore none;
    const std::string msg = iep::test::error_of(
        [&] { (void)pkg::read_plain(*src, "stdin", trust, none); }, Exit::corrupt);
    CHECK(msg.find("stdin") != std::string::npos);
  }
}

TEST_CASE("a quarantined study sends nothing: the PACS is not even called") {
  const auto dir = iep::test::scratch("store-quarantine");
  const auto a = SiteIdentity::generate("trust-a");
  iep::TrustStore trust;
  trust.add(a.card());
  iep::test::write_file(dir / "p.tar.zst",
                        package_bytes(a, iep::test::kPydicom / "CT_small.dcm", true));
  iep::pacs::StoreOptions o;
  o.pacs = iep::pacs::parse_peer("NOBODY@127.0.0.1:" + free_port());
  o.trust = &trust;
  o.journal = dir / "state";
  std::string seen_patient;
  auto hook = std::make_shared<iep::pacs::StudyHook>();
  hook->decide = [&](const iep::pacs::StudyInput& in) {
    OFString id;
    in.first.findAndGetOFString(DCM_PatientID, id);
    seen_patient = id.c_str();
    CHECK(in.manifest.study.instances == 1);
    return iep::pacs::StudyDecision{true, "two local patients match", {}};
  };
  o.study_hook = hook;
  std::vector<iep::pacs::StoreResult> results;
  const Exit code =
      iep::pacs::store({(dir / "p.tar.zst").string()}, o,
                       [&](const iep::pacs::StoreResult& r) { results.push_back(r); });
  CHECK(code == Exit::quarantined);
  REQUIRE(results.size() == 1);
  CHECK(results[0].sent == 0);
  CHECK(results[0].error.find("two local patients match") != std::string::npos);
  CHECK(seen_patient == "1CT1");
  fs::remove_all(dir);
}

TEST_CASE("the hook's change reaches the PACS, for every instance") {
  const auto dir = iep::test::scratch("store-hook");
  OneInstanceToStorescp f(dir);
  iep::pacs::StoreOptions& o = f.options;
  o.journal = dir / "state";
  o.study_hook =
      hook_applying([](DcmDataset& ds) { ds.putAndInsertString(DCM_PatientID, "LOCAL-42"); });
  const Exit code = iep::pacs::store({(dir / "p.tar").string()}, o, [](const auto&) {});
  CHECK(code == Exit::ok);
  auto dump =
      iep::test::run("dcmdump -q +P 0010,0020 " + iep::test::quote((dir / "in").string()) + "/*");
  CHECK(dump.out.find("[LOCAL-42]") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("an instance sent from its bytes arrives as one parsed and encoded by DCMTK would") {
  // Without a hook, iep-store sends the data set as stored; with one (that
  // changes nothing) it parses and encodes it: storescp must save the same file.
  const auto dir = iep::test::scratch("store-bytes");
  OneInstanceToStorescp f(dir);
  iep::pacs::StoreOptions& o = f.options;
  std::string stored[2];
  for (int parsed = 0; parsed < 2; ++parsed) {
    o.journal = dir / ("state" + std::to_string(parsed));
    if (parsed) {
      o.study_hook = hook_applying([](DcmDataset&) {});
    }
    iep::pacs::StoreResult r;
    const Exit code =
        iep::pacs::store({(dir / "p.tar").string()}, o, [&](const auto& res) { r = res; });
    CHECK(code == Exit::ok);
    CHECK(r.sent == 1);
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir / "in")) files.push_back(e.path());
    REQUIRE(files.size() == 1);
    stored[parsed] = iep::test::read_file(files[0]);
    fs::remove(files[0]);
  }
  CHECK(!stored[0].empty());
  CHECK(stored[0] == stored[1]);
  fs::remove_all(dir);
}
