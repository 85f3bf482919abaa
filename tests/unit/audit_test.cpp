// The hub's audit chain: the canonical line (checked by python3's json and
// hashlib, an independent implementation), the hash chain and every way of
// breaking it, checkpoints checked by the real minisign both ways, and the
// DICOM PS3.15 audit messages validated by jing against the RELAX NG schema
// extracted at run time from the standard itself.
#include "iep/hub/audit.h"

#include <doctest/doctest.h>
#include <sodium.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/package/minisign.h"
#include "test_util.h"

namespace fs = std::filesystem;
namespace ms = iep::minisign;
using iep::Exit;
using iep::hub::AuditEvent;
using iep::hub::AuditRecord;
using iep::hub::Checkpoint;
using namespace iep::test;

namespace {

const std::string kT0 = "2026-12-02T10:00:00.123Z";

std::string blake2b_hex(std::string_view s) {
  REQUIRE(sodium_init() >= 0);
  unsigned char d[32];
  crypto_generichash(d, sizeof d, reinterpret_cast<const unsigned char*>(s.data()), s.size(),
                     nullptr, 0);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : d) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string time_of(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "2026-12-02T10:%02d:%02d.%03dZ", (i / 60) % 60, i % 60, i % 1000);
  return buf;
}

// A realistic chain: the actions a hub writes, with details.
std::vector<AuditRecord> make_chain(int n) {
  static const std::vector<AuditEvent> kinds = {
      {"upload.create", "trust-a", "0123456789abcdef0123456789abcdef", "00000000000000a1",
       R"({"length":1234})"},
      {"upload.patch", "trust-a", "0123456789abcdef0123456789abcdef", "00000000000000a2",
       R"({"offset":0,"bytes":1234})"},
      {"commit", "trust-a", "fedcba9876543210fedcba9876543210", "00000000000000a3",
       R"({"recipients":["st-elsewhere","trust-b"],"size":1234,"blake2b":"ab"})"},
      {"list", "st-elsewhere", "", "00000000000000a4", R"({"wait":30})"},
      {"download", "st-elsewhere", "fedcba9876543210fedcba9876543210", "00000000000000a5",
       R"({"range":"bytes=0-"})"},
      {"ack", "st-elsewhere", "fedcba9876543210fedcba9876543210", "00000000000000a6",
       R"({"sender":"trust-a"})"},
      {"auth.fail", "anonymous", "", "00000000000000a7", R"({"remote":"127.0.0.1"})"},
      {"admin.site.add", "local-admin", "", "", R"({"site":"trust-c","key":"0123ABCD"})"},
      {"admin.token.issue", "admin", "", "00000000000000a9", R"({"site":"trust-c","id":"t7"})"},
      {"reject", "trust-b", "", "00000000000000aa", R"({"error":"bad_signature"})"},
      {"delete", "hub", "fedcba9876543210fedcba9876543210", "", "{}"},
  };
  std::vector<AuditRecord> out;
  std::string prev = iep::hub::kAuditGenesis;
  for (int i = 0; i < n; ++i) {
    out.push_back(iep::hub::chain_next(static_cast<std::uint64_t>(i), prev,
                                       kinds[static_cast<std::size_t>(i) % kinds.size()],
                                       time_of(i)));
    prev = out.back().hash;
  }
  return out;
}

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

std::vector<std::string> lines_of(const std::vector<AuditRecord>& chain) {
  std::vector<std::string> v;
  for (const auto& r : chain) v.push_back(r.line);
  return v;
}

iep::hub::AuditVerdict check(const std::string& log, const std::vector<Checkpoint>& cps = {},
                             const ms::PublicKey* key = nullptr) {
  iep::BytesSource src(
      iep::ByteSpan(reinterpret_cast<const std::uint8_t*>(log.data()), log.size()));
  return iep::hub::verify_chain(src, cps, key);
}

std::string pub_file(const ms::PublicKey& pk) {
  return "untrusted comment: minisign public key " + pk.id_hex() + "\n" + pk.encode() + "\n";
}

}  // namespace

TEST_CASE("a record is the documented canonical line, hashed without its hash") {
  const AuditEvent e{"commit", "trust-a", "0123456789abcdef0123456789abcdef", "00000000000000a3",
                     R"({"size": 5, "recipients": ["b", "a"], "blake2b": "x"})"};
  const AuditRecord r = iep::hub::chain_next(0, iep::hub::kAuditGenesis, e, kT0);
  const std::string body =
      R"({"action":"commit","actor":"trust-a","detail":{"blake2b":"x","recipients":["b","a"],"size":5},)"
      R"("package":"0123456789abcdef0123456789abcdef","prev":")" +
      std::string(64, '0') + R"(","request":"00000000000000a3","seq":1,"time":")" + kT0 + R"("})";
  CHECK(r.seq == 1);
  CHECK(r.prev == std::string(64, '0'));
  CHECK(r.hash == blake2b_hex(body));
  const std::string expect_line = body.substr(0, body.find(",\"package\"")) + ",\"hash\":\"" +
                                  r.hash + "\"" + body.substr(body.find(",\"package\""));
  CHECK(r.line == expect_line);
  CHECK(r.event.detail_json == R"({"blake2b":"x","recipients":["b","a"],"size":5})");

  const AuditRecord back = iep::hub::parse_record(r.line, "line 1");
  CHECK(back.seq == 1);
  CHECK(back.hash == r.hash);
  CHECK(back.event.action == "commit");
  CHECK(back.event.actor == "trust-a");
  CHECK(back.event.package == e.package);
  CHECK(back.event.request == e.request);
  CHECK(back.event.detail_json == r.event.detail_json);
  CHECK(back.time == kT0);
  CHECK(back.line == r.line);

  // The next one links to it.
  const AuditRecord r2 = iep::hub::chain_next(1, r.hash, {"list", "b", "", "", "{}"}, kT0);
  CHECK(r2.seq == 2);
  CHECK(r2.prev == r.hash);
  CHECK(r2.line.find("\"detail\":{}") != std::string::npos);
}

TEST_CASE("python3's json and hashlib agree with every line (strings escaped per RFC 8259)") {
  const fs::path dir = scratch("audit-python");
  // Strings that need escaping, and ones that must not be escaped.
  const AuditEvent e{
      "admin.site.add", "local-admin", "", "",
      "{\"q\":\"say \\\"hi\\\"\",\"bs\":\"a\\\\b\",\"ctl\":\"\\u0001\\t\\n\\r\\b\\f\\u001f\","
      "\"slash\":\"a/b\",\"u\":\"\\u00e9t\\u00e9 \xe2\x82\xac \xf0\x9f\x98\x80\","
      "\"del\":\"\x7f\",\"n\":[1,-2,18446744073709551615,true,false,null],"
      "\"nested\":{\"z\":{},\"a\":[]},\"\xc3\xa9\":1,\"Z\":2,\"a\":3}"};
  auto chain = make_chain(30);
  chain.push_back(iep::hub::chain_next(30, chain.back().hash, e, kT0));
  CHECK(chain.back().line.find(R"("ctl":"\u0001\t\n\r\b\f\u001f")") != std::string::npos);
  CHECK(chain.back().line.find(R"("q":"say \"hi\"")") != std::string::npos);
  CHECK(chain.back().line.find("\"slash\":\"a/b\"") != std::string::npos);
  CHECK(chain.back().line.find("\xe2\x82\xac") != std::string::npos);  // UTF-8, not \u20ac
  write_file(dir / "audit.jsonl", join(lines_of(chain)));
  write_file(dir / "check.py", R"PY(
import hashlib, json, sys
prev = "0" * 64
for n, line in enumerate(open(sys.argv[1], encoding="utf-8").read().split("\n")[:-1], 1):
    rec = json.loads(line)
    canon = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canon == line, (n, canon, line)
    h = rec.pop("hash")
    body = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.blake2b(body.encode(), digest_size=32).hexdigest() == h, n
    assert rec["prev"] == prev and rec["seq"] == n, n
    prev = h
print(n)
)PY");
  Run r = run("python3 check.py audit.jsonl", dir);
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK(r.out == "31\n");
}

TEST_CASE("chain_next refuses events that would not make a checkable record") {
  const auto& g = iep::hub::kAuditGenesis;
  auto code = [&](const AuditEvent& e, const std::string& prev = iep::hub::kAuditGenesis,
                  const std::string& t = kT0) {
    return code_of([&] { (void)iep::hub::chain_next(0, prev, e, t); });
  };
  CHECK(code({"commit", "a", "", "", "{}"}) == Exit::ok);
  CHECK(code({"commit", "a", "", "", "[]"}) == Exit::internal);
  CHECK(code({"commit", "a", "", "", "\"x\""}) == Exit::internal);
  CHECK(code({"commit", "a", "", "", "{"}) == Exit::internal);
  CHECK(code({"commit", "a", "", "", R"({"x":1.5})"}) == Exit::internal);
  CHECK(code({"commit", "a", "", "", R"({"x":[1e3]})"}) == Exit::internal);
  CHECK(code({"commit", "a", "", "", "{\"x\":\"\xff\"}"}) == Exit::internal);
  CHECK(code({"commit", "a", "", "",
              "{\"x\":" + std::string(20, '[') + std::string(20, ']') + "}"}) == Exit::internal);
  CHECK(code({"commit", "a", "", "", "{\"x\":\"" + std::string(17'000, 'y') + "\"}"}) ==
        Exit::internal);
  CHECK(code({"", "a", "", "", "{}"}) == Exit::internal);
  CHECK(code({"Commit", "a", "", "", "{}"}) == Exit::internal);
  CHECK(code({"commit", "", "", "", "{}"}) == Exit::internal);
  CHECK(code({"commit", std::string(200, 'a'), "", "", "{}"}) == Exit::internal);
  CHECK(code({"commit", "a", "", "", "{}"}, "abc") == Exit::internal);
  CHECK(code({"commit", "a", "", "", "{}"}, g, "2026-12-02 10:00:00") == Exit::internal);
}

TEST_CASE("parse_record takes only the canonical line with its own hash") {
  const AuditRecord r = make_chain(3)[2];  // commit, with a detail
  const std::string& L = r.line;
  CHECK(code_of([&] { (void)iep::hub::parse_record(L, "line 3"); }) == Exit::ok);
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = L;
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  // Recomputes the hash of a changed line, so only the rule at hand fails.
  auto rehash = [](std::string s) {
    const auto at = s.find(",\"hash\":\"");
    REQUIRE(at != std::string::npos);
    std::string body = s;
    body.erase(at, 9 + 64 + 1);
    return s.replace(at + 9, 64, blake2b_hex(body));
  };
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"hash does not match", with("\"size\":1234", "\"size\":1235")},
      {"hash does not match", with("commit", "reject")},
      {"hash does not match", with(r.hash.substr(0, 4), "ffff")},
      {"canonical", with("{\"action\"", "{ \"action\"")},
      {"canonical", with("\"commit\"", "\"c\\u006fmmit\"")},
      {"canonical", L + " "},
      {"canonical", with("{\"action\":\"commit\",", "{\"action\":\"x\",\"action\":\"commit\",")},
      {"canonical", with("{\"action\":\"commit\",\"actor\":\"trust-a\"",
                         "{\"actor\":\"trust-a\",\"action\":\"commit\"")},
      {"not valid JSON", L.substr(0, L.size() - 1)},
      {"not valid JSON", with("\"seq\":3", "\"seq\":03")},
      {"not valid JSON", ""},
      {"not a JSON object", "[1]"},
      {"nine members", with("\"seq\":3,", "")},
      {"nine members", with("\"seq\":3,", "\"seq\":3,\"x\":1,")},
      {"missing", with("\"seq\":3,", "\"sex\":3,")},
      {"seq", rehash(with("\"seq\":3,", "\"seq\":0,"))},
      {"seq", rehash(with("\"seq\":3,", "\"seq\":-3,"))},
      {"seq", rehash(with("\"seq\":3,", "\"seq\":3.0,"))},
      {"seq", rehash(with("\"seq\":3,", "\"seq\":\"3\","))},
      {"not a string", rehash(with("\"actor\":\"trust-a\"", "\"actor\":7"))},
      {"detail is not an object",
       rehash(with(L.substr(L.find("\"detail\":"), L.find(",\"hash\"") - L.find("\"detail\":")),
                   "\"detail\":[]"))},
      {"floating-point", rehash(with("\"size\":1234", "\"size\":12.5"))},
      {"time", rehash(with(r.time, "2026-12-02T10:00:02"))},
      {"prev", rehash(with(r.prev, std::string(63, '0')))},
      {"prev", rehash(with(r.prev, std::string(64, 'A')))},
      {"action", rehash(with("commit", "COMMIT"))},
      {"not valid JSON", rehash(with("trust-a", "trust-\xff"))},  // invalid UTF-8
      {"nested deeper",
       with("\"size\":1234", "\"size\":" + std::string(40, '[') + std::string(40, ']'))},
      {"nested deeper", std::string(60'000, '[')},
      {"longer than 64 KiB",
       with("\"blake2b\":\"ab\"", "\"blake2b\":\"" + std::string(70'000, 'a') + "\"")},
  };
  for (const auto& item : bad) {  // not a structured binding: clang 14 cannot capture one
    const std::string& why = item.first;
    const std::string& line = item.second;
    INFO("want: ", why, "; line: ", line.substr(0, 300));
    const std::string msg =
        error_of([&] { (void)iep::hub::parse_record(line, "line 3"); }, Exit::corrupt);
    CHECK(msg.starts_with("line 3: "));
    CHECK_MESSAGE(msg.find(why) != std::string::npos, msg);
  }
}

TEST_CASE("verify_chain: a good log, then every way of breaking it, each at its line") {
  const auto chain = make_chain(40);
  const auto L = lines_of(chain);
  auto v = check(join(L));
  CHECK(v.ok);
  CHECK(v.result == Exit::ok);
  CHECK(v.records == 40);
  CHECK(v.head == chain.back().hash);
  CHECK(v.error.empty());
  // Without the last newline, and empty.
  std::string nonl = join(L);
  nonl.pop_back();
  CHECK(check(nonl).ok);
  v = check("");
  CHECK(v.ok);
  CHECK(v.records == 0);

  auto expect_bad = [](const iep::hub::AuditVerdict& verdict, std::uint64_t line,
                       const std::string& why) {
    CHECK_FALSE(verdict.ok);
    CHECK(verdict.result == Exit::corrupt);
    CHECK(verdict.line == line);
    CHECK_MESSAGE(verdict.error.starts_with("line " + std::to_string(line) + ": "), verdict.error);
    CHECK_MESSAGE(verdict.error.find(why) != std::string::npos, verdict.error);
  };

  // One byte of record 17 changed.
  auto bad = L;
  bad[16][bad[16].find("\"time\":\"") + 10] ^= 0x01;
  expect_bad(check(join(bad)), 17, "");
  // Record 17 removed.
  bad = L;
  bad.erase(bad.begin() + 16);
  expect_bad(check(join(bad)), 17, "seq 18 where 17 was expected");
  // Records 20 and 21 swapped.
  bad = L;
  std::swap(bad[19], bad[20]);
  expect_bad(check(join(bad)), 20, "seq 21 where 20 was expected");
  // Record 1 missing: the log must start at seq 1.
  bad = L;
  bad.erase(bad.begin());
  expect_bad(check(join(bad)), 1, "seq 2 where 1 was expected");
  // A record replaced by a well-formed record of its seq that does not link.
  bad = L;
  bad[9] = iep::hub::chain_next(9, std::string(64, 'f'), {"list", "x", "", "", "{}"}, kT0).line;
  expect_bad(check(join(bad)), 10, "prev does not match");
  // An empty line, CRLF, a duplicated record.
  bad = L;
  bad.insert(bad.begin() + 5, "");
  expect_bad(check(join(bad)), 6, "empty");
  bad = L;
  bad[7] += "\r";
  expect_bad(check(join(bad)), 8, "canonical");
  bad = L;
  bad.insert(bad.begin() + 30, L[29]);
  expect_bad(check(join(bad)), 31, "seq 30 where 31 was expected");
  // An endless line: refused at its line without reading it whole.
  bad = L;
  bad[3] = std::string(200'000, 'x');
  expect_bad(check(join(bad)), 4, "longer than 64 KiB");
  // Garbage in the middle.
  bad = L;
  bad[11] = "not json at all";
  expect_bad(check(join(bad)), 12, "not valid JSON");
}

TEST_CASE("checkpoints: a consistent rewrite of the tail is caught only by a checkpoint") {
  const auto hub = ms::SecretKey::generate();
  const auto hub_pub = hub.public_key();
  const auto chain = make_chain(30);
  const auto L = lines_of(chain);
  const Checkpoint cp10 = iep::hub::sign_checkpoint(10, chain[9].hash, time_of(10), hub);
  const Checkpoint cp25 = iep::hub::sign_checkpoint(25, chain[24].hash, time_of(25), hub);

  auto v = check(join(L), {cp10, cp25}, &hub_pub);
  CHECK(v.ok);
  CHECK(v.checkpoints_checked == 2);

  // The operator rewrites records 20.. consistently (drops record 20, relinks).
  std::vector<std::string> rewritten(L.begin(), L.begin() + 19);
  std::string prev = chain[18].hash;
  for (std::uint64_t s = 20; s <= 30; ++s) {
    auto r = iep::hub::chain_next(s - 1, prev, {"list", "trust-a", "", "", "{}"}, time_of(50));
    prev = r.hash;
    rewritten.push_back(r.line);
  }
  v = check(join(rewritten));
  CHECK(v.ok);  // a chain alone cannot tell
  v = check(join(rewritten), {cp10}, &hub_pub);
  CHECK(v.ok);  // nor a checkpoint before the rewrite
  v = check(join(rewritten), {cp10, cp25}, &hub_pub);
  CHECK_FALSE(v.ok);
  CHECK(v.result == Exit::corrupt);
  CHECK(v.line == 25);
  CHECK(v.error.find("line 25: ") == 0);
  CHECK(v.error.find("rewritten") != std::string::npos);
  CHECK(v.checkpoints_checked == 1);

  // The tail cut off after a checkpoint.
  v = check(join({L.begin(), L.begin() + 20}), {cp10, cp25}, &hub_pub);
  CHECK_FALSE(v.ok);
  CHECK(v.result == Exit::corrupt);
  CHECK(v.line == 21);
  CHECK(v.error.find("removed") != std::string::npos);

  // A checkpoint signed by another key, or altered: bad_signature.
  const auto other = ms::SecretKey::generate();
  const Checkpoint forged = iep::hub::sign_checkpoint(25, chain[24].hash, time_of(25), other);
  v = check(join(L), {cp10, forged}, &hub_pub);
  CHECK(v.result == Exit::bad_signature);
  CHECK_FALSE(v.ok);
  Checkpoint moved = cp25;
  moved.seq = 26;
  moved.head = chain[25].hash;
  CHECK(check(join(L), {moved}, &hub_pub).result == Exit::bad_signature);
  Checkpoint retimed = cp25;
  retimed.time = time_of(99);
  CHECK(check(join(L), {retimed}, &hub_pub).result == Exit::bad_signature);
  // No key given: nothing is trusted.
  CHECK_FALSE(check(join(L), {cp10}, nullptr).ok);

  // The JSON the hub serves round-trips.
  const Checkpoint back = Checkpoint::from_json(cp25.to_json());
  CHECK(back.seq == 25);
  CHECK(back.head == cp25.head);
  CHECK(back.time == cp25.time);
  CHECK(back.signature.encode() == cp25.signature.encode());
  CHECK(iep::hub::verify_checkpoint(back, hub_pub));
  CHECK(cp25.statement() ==
        "iep-audit-checkpoint seq=25 head=" + chain[24].hash + " time=" + time_of(25) + "\n");
  CHECK(cp25.signature.trusted_comment == cp25.statement().substr(0, cp25.statement().size() - 1));
}

TEST_CASE("malformed checkpoint JSON is refused") {
  const auto hub = ms::SecretKey::generate();
  const Checkpoint cp = iep::hub::sign_checkpoint(3, std::string(64, 'a'), kT0, hub);
  const std::string good = cp.to_json();
  CHECK(code_of([&] { (void)Checkpoint::from_json(good); }) == Exit::ok);
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  for (const std::string& bad : std::vector<std::string>{
           "", "[]", "{}", "{", good.substr(0, good.size() - 2), with("\"seq\":3", "\"seq\":0"),
           with("\"seq\":3", "\"seq\":-3"), with("\"seq\":3", "\"seq\":\"3\""),
           with("\"seq\":3", "\"seq\":3.5"), with(std::string(64, 'a'), std::string(63, 'a')),
           with("\"time\":\"" + kT0, "\"time\":\"now"),
           with("\"signature\":\"", "\"signature\":\"x"),
           with("\"statement\":\"iep-audit-checkpoint seq=3",
                "\"statement\":\"iep-audit-checkpoint seq=4"),
           std::string(20'000, ' ') + good, std::string(10'000, '[')}) {
    INFO(bad.substr(0, 200));
    CHECK(code_of([&] { (void)Checkpoint::from_json(bad); }) == Exit::corrupt);
  }
}

TEST_CASE("checkpoints are plain minisign: minisign -V checks ours, we check minisign -S's") {
  const fs::path dir = scratch("audit-checkpoint-minisign");
  const auto hub = ms::SecretKey::generate();
  const std::string head = make_chain(5).back().hash;
  const Checkpoint cp = iep::hub::sign_checkpoint(5, head, kT0, hub);
  write_file(dir / "cp.txt", cp.statement());
  write_file(dir / "cp.txt.minisig", cp.signature.encode());
  write_file(dir / "hub.pub", pub_file(hub.public_key()));
  Run v = run("minisign -Vm cp.txt -p hub.pub 2>&1", dir);
  CHECK(v.status == 0);
  CHECK(v.out.find("Trusted comment: iep-audit-checkpoint seq=5 head=" + head) !=
        std::string::npos);

  // minisign signs the statement with the hub's key and the statement as
  // its trusted comment: that is a checkpoint.
  write_file(dir / "hub.key", "untrusted comment: x\n" + hub.encode() + "\n");
  Checkpoint theirs;
  theirs.seq = 5;
  theirs.head = head;
  theirs.time = "2026-12-02T11:00:00Z";
  write_file(dir / "theirs.txt", theirs.statement());
  REQUIRE(run("minisign -S -s hub.key -m theirs.txt -t " +
                  quote(theirs.statement().substr(0, theirs.statement().size() - 1)),
              dir)
              .status == 0);
  theirs.signature = ms::Signature::parse(read_file(dir / "theirs.txt.minisig"));
  CHECK(iep::hub::verify_checkpoint(theirs, hub.public_key()));
  // With minisign's default trusted comment, the signature is good but it
  // does not state the checkpoint: refused.
  REQUIRE(run("minisign -S -s hub.key -m theirs.txt -x default.minisig", dir).status == 0);
  theirs.signature = ms::Signature::parse(read_file(dir / "default.minisig"));
  CHECK_FALSE(iep::hub::verify_checkpoint(theirs, hub.public_key()));
}

namespace {

// The RELAX NG Compact schema of PS3.15 A.5.1.1, taken from the standard at
// run time. Its "##" documentation comments after the last choice of a
// group are not valid RNC (jing: "syntax error"); as plain "#" comments
// they change no pattern.
fs::path extract_schema(const fs::path& dir) {
  const fs::path standard =
      fs::path(IEP_SOURCE_DIR) / ".." / "shared" / "dicom-standard" / "part15-2023b.xml";
  REQUIRE_MESSAGE(fs::exists(standard),
                  (std::string("the DICOM standard is missing: ") + standard.string()));
  write_file(dir / "extract.py", R"PY(
import sys, xml.etree.ElementTree as ET
X = "{http://www.w3.org/XML/1998/namespace}id"
for s in ET.parse(sys.argv[1]).getroot().iter():
    if s.get(X) == "sect_A.5.1.1":
        rnc = [e for e in s.iter() if e.tag.endswith("programlisting")][0].text
        assert "element AuditMessage" in rnc
        open(sys.argv[2], "w").write(rnc.replace("##", "# "))
        sys.exit(0)
sys.exit("section A.5.1.1 not found")
)PY");
  Run r = run("python3 extract.py " + quote(standard.string()) + " audit.rnc", dir);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  return dir / "audit.rnc";
}

}  // namespace

TEST_CASE("DICOM audit messages validate against the standard's schema (jing)") {
  const fs::path dir = scratch("audit-dicom");
  const fs::path rnc = extract_schema(dir);
  REQUIRE_MESSAGE(run("command -v jing").status == 0,
                  "jing is not installed (scripts/install-deps.sh)");

  // Every action the hub writes, and one it does not know.
  auto chain = make_chain(11);
  chain.push_back(iep::hub::chain_next(
      11, chain.back().hash,
      {"upload.terminate", "trust-a", "0123456789abcdef0123456789abcdef", "", "{}"}, kT0));
  chain.push_back(iep::hub::chain_next(
      12, chain.back().hash,
      {"hub.future-thing", "hub", "", "", R"({"note":"<&\"'>\u0001\uffff\ufffe\ud83d\ude00"})"},
      kT0));
  chain.push_back(iep::hub::chain_next(13, chain.back().hash,
                                       {"admin.site.remove", "local-admin", "", "", "{}"}, kT0));
  // Text XML cannot carry (controls, U+FFFE, U+FFFF) and markup, in what
  // the message shows as text.
  chain.push_back(iep::hub::chain_next(
      14, chain.back().hash,
      {"reject", "trust-b", "", "",
       R"({"error":"<&\"'>\u0001\uffff\ufffe\ud83d\ude00 x","recipients":["a&b"]})"},
      kT0));
  std::vector<std::string> files;
  const std::map<std::string, std::string> want_event = {{"upload.create", "110102"},
                                                         {"upload.patch", "110102"},
                                                         {"commit", "110102"},
                                                         {"list", "110112"},
                                                         {"download", "110102"},
                                                         {"ack", "110104"},
                                                         {"auth.fail", "110114"},
                                                         {"admin.site.add", "110113"},
                                                         {"admin.token.issue", "110113"},
                                                         {"reject", "110102"},
                                                         {"delete", "110105"},
                                                         {"upload.terminate", "110105"},
                                                         {"hub.future-thing", "110113"},
                                                         {"admin.site.remove", "110113"}};
  for (const auto& r : chain) {
    const std::string x = iep::hub::to_dicom_audit_message(r, "hub.example");
    const std::string name = "m" + std::to_string(r.seq) + ".xml";
    write_file(dir / name, x);
    files.push_back(name);
    INFO(r.event.action, ": ", x);
    CHECK(x.find("<EventID csd-code=\"" + want_event.at(r.event.action) + "\"") !=
          std::string::npos);
    CHECK(x.find("AuditSourceID=\"hub.example\"") != std::string::npos);
  }
  std::string all;
  for (const auto& f : files) all += " " + f;
  Run v = run("jing -c audit.rnc" + all +
                  " >jing.out 2>&1; s=$?; grep -v '^\\[warning\\]' jing.out; exit $s",
              dir);
  CHECK_MESSAGE(v.status == 0, v.out);

  // The validator really checks: a message without a required attribute fails.
  std::string broken = read_file(dir / "m3.xml");
  broken.erase(broken.find(" UserIsRequestor=\"true\""), 23);
  write_file(dir / "broken.xml", broken);
  Run b = run("jing -c audit.rnc broken.xml 2>&1", dir);
  CHECK(b.status != 0);
  CHECK(b.out.find("UserIsRequestor") != std::string::npos);

  // The event codes and meanings are the standard's own (read from its text),
  // and the record rides along intact.
  write_file(dir / "codes.py", R"PY(
import sys, re, base64, xml.etree.ElementTree as ET
std = open(sys.argv[1], encoding="utf-8").read()
for f in sys.argv[2:]:
    root = ET.parse(f).getroot()
    assert root.tag == "AuditMessage", f
    for e in root.iter():
        if e.get("codeSystemName") == "DCM":
            code, meaning = e.get("csd-code"), e.get("originalText")
            assert '(%s, DCM, "%s")' % (code, meaning) in std or \
                   '(%s, DCM, &quot;%s&quot;)' % (code, meaning) in std or \
                   code in ("110129", "110137"), (f, code, meaning)
    recs = [d.get("value") for d in root.iter("ParticipantObjectDetail") if d.get("type") == "iep-audit-record"]
    assert len(recs) == 1, f
    base64.b64decode(recs[0]).decode("utf-8")
print("ok")
)PY");
  const fs::path standard =
      fs::path(IEP_SOURCE_DIR) / ".." / "shared" / "dicom-standard" / "part15-2023b.xml";
  Run c = run("python3 codes.py " + quote(standard.string()) + all, dir);
  CHECK_MESSAGE(c.status == 0, c.err);
  CHECK(c.out == "ok\n");
  // The record inside the message is the line itself.
  const std::string x = read_file(dir / "m3.xml");
  CHECK(x.find("ParticipantObjectID=\"fedcba9876543210fedcba9876543210\"") != std::string::npos);
  CHECK(x.find("<ActiveParticipant UserID=\"st-elsewhere\" UserIsRequestor=\"false\"><RoleIDCode "
               "csd-code=\"110152\"") != std::string::npos);
  // The hub's own detail members: "to" for a commit, "id" for a token, the
  // refusal's message.
  const AuditRecord hub_commit =
      iep::hub::chain_next(0, iep::hub::kAuditGenesis,
                           {"commit", "trust-a", "fedcba9876543210fedcba9876543210", "",
                            R"({"upload":"u","size":5,"blake2b":"ab","to":["trust-b"]})"},
                           kT0);
  CHECK(iep::hub::to_dicom_audit_message(hub_commit, "h")
            .find("<ActiveParticipant UserID=\"trust-b\" UserIsRequestor=\"false\"><RoleIDCode "
                  "csd-code=\"110152\"") != std::string::npos);
  const AuditRecord token =
      iep::hub::chain_next(0, iep::hub::kAuditGenesis,
                           {"admin.token.issue", "local-admin", "", "",
                            R"({"id":"ab12","site":"trust-b","admin":false})"},
                           kT0);
  CHECK(
      iep::hub::to_dicom_audit_message(token, "h").find("ParticipantObjectID=\"iep:token/ab12\"") !=
      std::string::npos);
  const AuditRecord reject = iep::hub::chain_next(
      0, iep::hub::kAuditGenesis,
      {"reject", "trust-a", "", "", R"({"code":"bad_signature","message":"p: does not verify"})"},
      kT0);
  const std::string rx = iep::hub::to_dicom_audit_message(reject, "h");
  CHECK(rx.find("EventOutcomeIndicator=\"4\"") != std::string::npos);
  CHECK(rx.find("<EventOutcomeDescription>p: does not verify</EventOutcomeDescription>") !=
        std::string::npos);
  write_file(dir / "h1.xml", iep::hub::to_dicom_audit_message(hub_commit, "h"));
  write_file(dir / "h2.xml", iep::hub::to_dicom_audit_message(token, "h"));
  write_file(dir / "h3.xml", rx);
  Run h =
      run("jing -c audit.rnc h1.xml h2.xml h3.xml >jing.out 2>&1; s=$?; "
          "grep -v '^\\[warning\\]' jing.out; exit $s",
          dir);
  CHECK_MESSAGE(h.status == 0, h.out);
}

TEST_CASE("checkpoint files: one object or a list, as the hub serves them") {
  const auto hub = ms::SecretKey::generate();
  const auto chain = make_chain(4);
  const Checkpoint a = iep::hub::sign_checkpoint(2, chain[1].hash, kT0, hub);
  const Checkpoint b = iep::hub::sign_checkpoint(4, chain[3].hash, kT0, hub);
  auto list = iep::hub::parse_checkpoints("[" + a.to_json() + "," + b.to_json() + "]\n", "cps");
  REQUIRE(list.size() == 2);
  CHECK(list[0].seq == 2);
  CHECK(list[1].head == chain[3].hash);
  const auto pub = hub.public_key();
  CHECK(check(join(lines_of(chain)), list, &pub).checkpoints_checked == 2);
  CHECK(iep::hub::parse_checkpoints(b.to_json(), "cp").size() == 1);
  CHECK(iep::hub::parse_checkpoints("[]", "none").empty());
  for (const std::string& bad : std::vector<std::string>{
           "", "3", "\"x\"", "[" + a.to_json() + ",{}]", "[[" + a.to_json() + "]]",
           "[" + a.to_json() + "," + a.to_json().substr(1) + "]"}) {
    INFO(bad);
    const std::string msg =
        error_of([&] { (void)iep::hub::parse_checkpoints(bad, "cps.json"); }, Exit::corrupt);
    CHECK(msg.starts_with("cps.json: "));
  }
  CHECK(error_of([&] { (void)iep::hub::parse_checkpoints("[" + a.to_json() + ",{}]", "f"); },
                 Exit::corrupt)
            .find("checkpoint 2") != std::string::npos);
}
