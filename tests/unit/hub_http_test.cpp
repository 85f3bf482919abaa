// The hub's protocol driven through Hub::begin() without a socket: what a
// cut connection keeps, one writer per upload, a restart after a crash, and
// a whole exchange with real signatures and a real receipt.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "iep/hub/hub.h"
#include "iep/package/package.h"
#include "iep/transfer/receipt.h"
#include "test_util.h"

using namespace iep;
using namespace iep::hub;

namespace {

struct World {
  std::filesystem::path dir;
  std::unique_ptr<Hub> hub;
  SiteIdentity a = SiteIdentity::generate("trust-a");
  SiteIdentity b = SiteIdentity::generate("trust-b");
  SiteIdentity c = SiteIdentity::generate("trust-c");
  std::string ta, tb, tc;

  explicit World(const std::string& name) : dir(test::scratch(name)) {
    open();
    for (auto* s : {&a, &b, &c}) admin_site_add(hub->index(), s->card().encode(), "test");
    ta = admin_token_issue(hub->index(), "trust-a", "test").first;
    tb = admin_token_issue(hub->index(), "trust-b", "test").first;
    tc = admin_token_issue(hub->index(), "trust-c", "test").first;
  }
  void open() {
    HubConfig cfg;
    cfg.data = dir;
    cfg.log_requests = false;
    cfg.max_wait = 0;
    hub.reset();
    hub = std::make_unique<Hub>(cfg);
  }
};

Request request(const std::string& method, const std::string& path, const std::string& token,
                std::vector<std::pair<std::string, std::string>> headers = {}) {
  Request r;
  r.method = method;
  r.path = path;
  if (!token.empty()) r.headers.emplace_back("authorization", "Bearer " + token);
  r.headers.emplace_back("tus-resumable", "1.0.0");
  for (auto& h : headers) r.headers.push_back(std::move(h));
  return r;
}

ByteSpan bytes(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

Response call(Hub& hub, Request req, std::string_view body = {}) {
  auto ex = hub.begin(std::move(req));
  ex->body(bytes(body));
  return ex->finish();
}

std::string header(const Response& r, const std::string& name) {
  for (auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

std::string create(World& w, std::size_t length, const std::string& token) {
  auto r = call(*w.hub, request("POST", "/v1/uploads", token, {{"upload-length", std::to_string(length)}}));
  REQUIRE(r.status == 201);
  return header(r, "Location");
}

std::string offset(World& w, const std::string& loc, const std::string& token) {
  auto r = call(*w.hub, request("HEAD", loc, token));
  REQUIRE(r.status == 200);
  return header(r, "Upload-Offset");
}

Request patch(const std::string& loc, const std::string& token, std::uint64_t off,
              std::vector<std::pair<std::string, std::string>> more = {}) {
  more.emplace_back("upload-offset", std::to_string(off));
  more.emplace_back("content-type", "application/offset+octet-stream");
  return request("PATCH", loc, token, std::move(more));
}

// A signature by `from` over `sealed`, as iep-send makes it (the bytes need
// not be a real age file: the hub checks only the signature).
std::string seal_signature(const SiteIdentity& from, const std::string& sealed,
                           const std::string& id, const std::string& to) {
  package::SealedStatement st;
  st.package_id = id;
  st.sender = from.site;
  st.created = "2026-12-02T10:00:00Z";
  st.to = std::vector<std::string>{to};
  minisign::Prehash h;
  h.write(bytes(sealed));
  return minisign::Signature::sign(from.signing, h.digest(), st.encode(), "test").encode();
}

}  // namespace

TEST_CASE("a cut connection keeps the durable bytes, unless the PATCH had a checksum") {
  World w("hub_http_cut");
  auto loc = create(w, 100, w.ta);
  {
    auto ex = w.hub->begin(patch(loc, w.ta, 0));
    ex->body(bytes("0123456789"));
    ex->abort();  // the client went away
  }
  CHECK(offset(w, loc, w.ta) == "10");
  {
    auto ex = w.hub->begin(patch(loc, w.ta, 10, {{"upload-checksum", "sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}));
    ex->body(bytes("abcdefghij"));
    ex->abort();
  }
  CHECK(offset(w, loc, w.ta) == "10");
  CHECK(std::filesystem::file_size(w.dir / "uploads" / loc.substr(12)) == 10);
}

TEST_CASE("one writer per upload; the second is told to retry") {
  World w("hub_http_lease");
  auto loc = create(w, 100, w.ta);
  auto first = w.hub->begin(patch(loc, w.ta, 0));
  first->body(bytes("abc"));
  auto second = call(*w.hub, patch(loc, w.ta, 0), "xyz");
  CHECK(second.status == 423);
  CHECK(first->finish().status == 204);
  CHECK(offset(w, loc, w.ta) == "3");
  CHECK(call(*w.hub, patch(loc, w.ta, 3), "def").status == 204);
}

TEST_CASE("after a crash the upload resumes at its recorded offset") {
  World w("hub_http_crash");
  auto loc = create(w, 100, w.ta);
  REQUIRE(call(*w.hub, patch(loc, w.ta, 0), "0123456789").status == 204);
  // Bytes written but never reported (the hub died before its fsync).
  {
    std::ofstream f(w.dir / "uploads" / loc.substr(12), std::ios::app | std::ios::binary);
    f << "garbage";
  }
  w.open();
  CHECK(offset(w, loc, w.ta) == "10");
  CHECK(std::filesystem::file_size(w.dir / "uploads" / loc.substr(12)) == 10);
}

TEST_CASE("a whole exchange: upload, commit, mailbox, ranged download, receipt") {
  World w("hub_http_exchange");
  const std::string sealed(5000, 's'), id = "0123456789abcdef0123456789abcdef";
  auto loc = create(w, sealed.size(), w.ta);
  CHECK(call(*w.hub, request("HEAD", loc, w.tb)).status == 404);  // not b's upload
  REQUIRE(call(*w.hub, patch(loc, w.ta, 0), sealed.substr(0, 3000)).status == 204);
  REQUIRE(call(*w.hub, patch(loc, w.ta, 3000), sealed.substr(3000)).status == 204);

  auto bad = call(*w.hub, request("POST", loc + "/commit", w.ta), seal_signature(w.c, sealed, id, "trust-b"));
  CHECK(bad.status == 422);  // signed by another site than the token's
  auto nowhere = call(*w.hub, request("POST", loc + "/commit", w.ta), seal_signature(w.a, sealed, id, "trust-z"));
  CHECK(nowhere.status == 422);
  CHECK(nowhere.body.find("unknown_recipient") != std::string::npos);
  auto ok = call(*w.hub, request("POST", loc + "/commit", w.ta), seal_signature(w.a, sealed, id, "trust-b"));
  REQUIRE(ok.status == 200);
  CHECK(header(ok, "Iep-Package") == id);
  CHECK(call(*w.hub, request("HEAD", loc, w.ta)).status == 404);  // it became a package

  auto box = call(*w.hub, request("GET", "/v1/mailbox", w.tb));
  CHECK(box.body.find(id) != std::string::npos);
  CHECK(call(*w.hub, request("GET", "/v1/mailbox", w.tc)).body.find(id) == std::string::npos);
  CHECK(call(*w.hub, request("GET", "/v1/mailbox/" + id, w.tc)).status == 404);

  auto part = call(*w.hub, request("GET", "/v1/mailbox/" + id, w.tb, {{"range", "bytes=4000-"}}));
  CHECK(part.status == 206);
  CHECK(part.file_offset == 4000);
  CHECK(part.file_length == 1000);
  CHECK(header(part, "Content-Range") == "bytes 4000-4999/5000");
  std::string etag = header(part, "ETag");
  REQUIRE(etag.size() == 66);

  transfer::Receipt rc;
  rc.package_id = id;
  rc.sealed_blake2b = etag.substr(1, 64);
  rc.receiver = "trust-b";
  rc.sender = "trust-a";
  rc.time = "2026-12-02T10:00:00Z";
  auto signed_rc = transfer::sign_receipt(rc, w.b);
  std::string body = R"({"statement":)" + nlohmann::json(rc.statement()).dump() + R"(,"signature":)" +
                     nlohmann::json(signed_rc.signature.encode()).dump() + "}";
  auto ack = call(*w.hub, request("POST", "/v1/mailbox/" + id + "/ack", w.tb), body);
  CHECK(ack.status == 200);
  CHECK(call(*w.hub, request("GET", "/v1/mailbox", w.tb)).body.find(id) == std::string::npos);
  auto tl = call(*w.hub, request("GET", "/v1/packages/" + id, w.ta));
  CHECK(tl.body.find("\"state\":\"delivered\"") != std::string::npos);
}
