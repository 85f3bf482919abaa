// The hub's protocol driven through Hub::begin() without a socket: what a
// cut connection keeps, one writer per upload, a restart after a crash, and
// a whole exchange with real signatures and a real receipt.
#include <doctest/doctest.h>
#include <sodium.h>
#include <sqlite3.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
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

  std::function<void(HubConfig&)> tweak;

  explicit World(const std::string& name, std::function<void(HubConfig&)> t = {})
      : dir(test::scratch(name)), tweak(std::move(t)) {
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
    if (tweak) tweak(cfg);
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

ByteSpan bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

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
  auto r = call(*w.hub,
                request("POST", "/v1/uploads", token, {{"upload-length", std::to_string(length)}}));
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
    auto ex = w.hub->begin(
        patch(loc, w.ta, 10, {{"upload-checksum", "sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}));
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

  auto bad = call(*w.hub, request("POST", loc + "/commit", w.ta),
                  seal_signature(w.c, sealed, id, "trust-b"));
  CHECK(bad.status == 422);  // signed by another site than the token's
  auto nowhere = call(*w.hub, request("POST", loc + "/commit", w.ta),
                      seal_signature(w.a, sealed, id, "trust-z"));
  CHECK(nowhere.status == 422);
  CHECK(nowhere.body.find("unknown_recipient") != std::string::npos);
  auto ok = call(*w.hub, request("POST", loc + "/commit", w.ta),
                 seal_signature(w.a, sealed, id, "trust-b"));
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
  REQUIRE(etag.size() == 130);

  transfer::Receipt rc;
  rc.package_id = id;
  rc.sealed_blake2b = etag.substr(1, 128);
  rc.receiver = "trust-b";
  rc.sender = "trust-a";
  rc.time = "2026-12-02T10:00:00Z";
  auto signed_rc = transfer::sign_receipt(rc, w.b);
  std::string body = R"({"statement":)" + nlohmann::json(rc.statement()).dump() +
                     R"(,"signature":)" + nlohmann::json(signed_rc.signature.encode()).dump() + "}";
  auto ack = call(*w.hub, request("POST", "/v1/mailbox/" + id + "/ack", w.tb), body);
  CHECK(ack.status == 200);
  CHECK(call(*w.hub, request("GET", "/v1/mailbox", w.tb)).body.find(id) == std::string::npos);
  auto tl = call(*w.hub, request("GET", "/v1/packages/" + id, w.ta));
  CHECK(tl.body.find("\"state\":\"delivered\"") != std::string::npos);
}

namespace {

std::string test_b64(const std::string& s) {
  std::string out(sodium_base64_ENCODED_LEN(s.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(s.data()),
                    s.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

// A response as a client sees it, less the request id (random per request).
std::string seen(const Response& r) {
  std::string out = std::to_string(r.status) + "\n";
  for (auto& [k, v] : r.headers)
    if (k != "X-Request-Id") out += k + ": " + v + "\n";
  return out + "\n" + r.body;
}

std::string ack_body(World& w, const std::string& id, const std::string& blake) {
  transfer::Receipt rc;
  rc.package_id = id;
  rc.sealed_blake2b = blake;
  rc.receiver = "trust-b";
  rc.sender = "trust-a";
  rc.time = "2026-12-02T10:00:00Z";
  auto signed_rc = transfer::sign_receipt(rc, w.b);
  return R"({"statement":)" + nlohmann::json(rc.statement()).dump() + R"(,"signature":)" +
         nlohmann::json(signed_rc.signature.encode()).dump() + "}";
}

// Uploads `sealed` for `token` with the signature in its metadata: the
// completing PATCH commits.
Response send(World& w, const std::string& token, const std::string& sealed,
              const std::string& sig) {
  std::string meta = "signature " + test_b64(sig);
  auto r =
      call(*w.hub,
           request("POST", "/v1/uploads", token,
                   {{"upload-length", std::to_string(sealed.size())}, {"upload-metadata", meta}}));
  REQUIRE(r.status == 201);
  return call(*w.hub, patch(header(r, "Location"), token, 0), sealed);
}

}  // namespace

TEST_CASE("another site's objects answer exactly as objects that do not exist") {
  World w("hub_http_isolation");
  const std::string sealed(3000, 'q'), id = "00112233445566778899aabbccddeeff";
  const std::string none = "ffffffffffffffffffffffffffffffff";
  auto loc = create(w, sealed.size() + 10, w.ta);  // a's, unfinished
  REQUIRE(call(*w.hub, patch(loc, w.ta, 0), "abc").status == 204);
  REQUIRE(send(w, w.ta, sealed, seal_signature(w.a, sealed, id, "trust-b")).status == 204);
  auto same = [&](const std::string& method, const std::string& mine, const std::string& missing,
                  const std::vector<std::pair<std::string, std::string>>& hs = {},
                  const std::string& body = "") {
    INFO(method << " " << mine);
    auto theirs = call(*w.hub, request(method, mine, w.tc, hs), body);
    auto nothing = call(*w.hub, request(method, missing, w.tc, hs), body);
    CHECK(theirs.status == 404);
    CHECK(seen(theirs) == seen(nothing));
  };
  std::string up = "/v1/uploads/" + loc.substr(12);
  same("HEAD", up, "/v1/uploads/" + none);
  same("PATCH", up, "/v1/uploads/" + none,
       {{"upload-offset", "3"}, {"content-type", "application/offset+octet-stream"}}, "xyz");
  same("PATCH", up, "/v1/uploads/" + none, {{"upload-offset", "0"}});
  same("DELETE", up, "/v1/uploads/" + none);
  same("POST", up + "/commit", "/v1/uploads/" + none + "/commit", {},
       seal_signature(w.c, "abc", none, "trust-b"));
  same("GET", "/v1/packages/" + id, "/v1/packages/" + none);
  same("GET", "/v1/mailbox/" + id, "/v1/mailbox/" + none);
  same("GET", "/v1/mailbox/" + id, "/v1/mailbox/" + none, {{"range", "bytes=0-10"}});
  same("GET", "/v1/mailbox/" + id + "/signature", "/v1/mailbox/" + none + "/signature");
  same("POST", "/v1/mailbox/" + id + "/ack", "/v1/mailbox/" + none + "/ack", {},
       ack_body(w, id, std::string(128, '0')));
  // The sender may read its timeline but not fetch the bytes as a recipient.
  CHECK(call(*w.hub, request("GET", "/v1/packages/" + id, w.ta)).status == 200);
  same("GET", "/v1/mailbox/" + id, "/v1/mailbox/" + none);
  // Nothing of a's was touched by c's attempts.
  CHECK(offset(w, loc, w.ta) == "3");
  CHECK(call(*w.hub, request("GET", "/v1/mailbox", w.tb)).body.find(id) != std::string::npos);
}

TEST_CASE("paths that are not routes answer 404 for every kind of token") {
  World w("hub_http_routes");
  auto admin = admin_token_issue(w.hub->index(), "", "test").first;
  for (std::string path : {"/v1", "/v1/", "//v1//", "/v1/uploads/x/y/z", "/v1/nothing", "/"}) {
    INFO(path);
    CHECK(call(*w.hub, request("GET", path, w.ta)).status == 404);
    auto r = call(*w.hub, request("GET", path, admin));
    CHECK((r.status == 404 || r.status == 403));
    CHECK(call(*w.hub, request("GET", path, "")).status >= 400);
  }
  // A site token on admin routes; an admin token on site routes.
  CHECK(call(*w.hub, request("GET", "/v1/admin/audit", w.ta)).status == 403);
  CHECK(call(*w.hub, request("POST", "/v1/admin/sites/trust-b/tokens", w.ta)).status == 403);
  CHECK(call(*w.hub, request("GET", "/v1/mailbox", admin)).status == 403);
  CHECK(call(*w.hub, request("POST", "/v1/uploads", admin, {{"upload-length", "5"}})).status ==
        403);
}

TEST_CASE("a package is delivered once: replays, other senders and removed sites") {
  World w("hub_http_replay", [](HubConfig& c) { c.ack_grace = -10; });
  const std::string sealed(4000, 'r'), id = "abcdefabcdefabcdefabcdefabcdef00";
  auto sig = seal_signature(w.a, sealed, id, "trust-b");
  auto first = send(w, w.ta, sealed, sig);
  REQUIRE(first.status == 204);
  CHECK(header(first, "Iep-Package") == id);
  auto tl = nlohmann::json::parse(call(*w.hub, request("GET", "/v1/packages/" + id, w.ta)).body);
  std::string blake = tl["blake2b"];

  // c cannot pass a's signed bytes off as its own, nor take a's package id.
  CHECK(send(w, w.tc, sealed, sig).status == 422);
  auto taken = send(w, w.tc, "other bytes", seal_signature(w.c, "other bytes", id, "trust-b"));
  CHECK(taken.status == 409);
  auto rd = w.hub->store().open_package(id);
  CHECK(rd.size == sealed.size());
  auto tl2 = nlohmann::json::parse(call(*w.hub, request("GET", "/v1/packages/" + id, w.ta)).body);
  CHECK(tl2["sender"] == "trust-a");
  CHECK(tl2["blake2b"] == blake);

  // b acknowledges; the same upload again does not put it back.
  REQUIRE(call(*w.hub, request("POST", "/v1/mailbox/" + id + "/ack", w.tb), ack_body(w, id, blake))
              .status == 200);
  CHECK(send(w, w.ta, sealed, sig).status == 204);  // idempotent for the sender
  CHECK(call(*w.hub, request("GET", "/v1/mailbox", w.tb)).body.find(id) == std::string::npos);
  // Deleted after the grace: a replay neither re-delivers nor brings bytes back.
  w.hub->sweep();
  REQUIRE(nlohmann::json::parse(
              call(*w.hub, request("GET", "/v1/packages/" + id, w.ta)).body)["state"] == "deleted");
  CHECK(send(w, w.ta, sealed, sig).status == 204);
  CHECK(call(*w.hub, request("GET", "/v1/mailbox", w.tb)).body.find(id) == std::string::npos);
  CHECK(call(*w.hub, request("GET", "/v1/mailbox/" + id, w.tb)).status == 410);
  CHECK_FALSE(w.hub->store().has_package(id));
  // An upload id left behind by the idempotent commits: none.
  for (auto& u : w.hub->index().uploads()) CHECK(u.site != "trust-a");

  // A removed recipient is refused; a removed site's token at once.
  admin_site_remove(w.hub->index(), "trust-c", "test");
  const std::string id2 = "abcdefabcdefabcdefabcdefabcdef01";
  auto to_c = send(w, w.ta, sealed, seal_signature(w.a, sealed, id2, "trust-c"));
  CHECK(to_c.status == 422);
  CHECK(to_c.body.find("unknown_recipient") != std::string::npos);
  CHECK(call(*w.hub, request("GET", "/v1/mailbox", w.tc)).status == 401);
}

TEST_CASE("concatenation takes only this site's complete partials, each once") {
  World w("hub_http_concat");
  auto partial = [&](const std::string& tok, const std::string& data, bool finish) {
    auto r = call(*w.hub, request("POST", "/v1/uploads", tok,
                                  {{"upload-length", std::to_string(data.size())},
                                   {"upload-concat", "partial"}}));
    REQUIRE(r.status == 201);
    std::string loc = header(r, "Location");
    REQUIRE(call(*w.hub, patch(loc, tok, 0), finish ? data : data.substr(0, 1)).status == 204);
    return loc;
  };
  auto final_of = [&](const std::string& tok, const std::string& parts) {
    return call(*w.hub, request("POST", "/v1/uploads", tok, {{"upload-concat", "final;" + parts}}));
  };
  auto a1 = partial(w.ta, "aaaa", true), a2 = partial(w.ta, "bbbb", true);
  auto half = partial(w.ta, "cccc", false), c1 = partial(w.tc, "zzzz", true);
  auto plain = create(w, 4, w.ta);
  REQUIRE(call(*w.hub, patch(plain, w.ta, 0), "dddd").status == 204);
  CHECK(final_of(w.ta, a1 + " " + c1).status == 404);     // c's partial
  CHECK(final_of(w.ta, a1 + " " + a1).status == 400);     // the same twice
  CHECK(final_of(w.ta, a1 + " " + half).status == 400);   // incomplete
  CHECK(final_of(w.ta, a1 + " " + plain).status == 400);  // not a partial
  CHECK(final_of(w.ta, a1 + " /v1/uploads/../uploads/x").status == 400);
  auto fin = final_of(w.ta, a1 + " " + a2);
  REQUIRE(fin.status == 201);
  CHECK(final_of(w.ta, header(fin, "Location")).status == 400);  // a final
  CHECK(final_of(w.ta, a2).status == 404);                       // consumed
  // The refusals consumed nothing.
  CHECK(call(*w.hub, request("HEAD", c1, w.tc)).status == 200);
  CHECK(call(*w.hub, request("HEAD", half, w.ta)).status == 200);
  CHECK(call(*w.hub, request("HEAD", plain, w.ta)).status == 200);
}

TEST_CASE("a site holds a bounded number of unfinished uploads") {
  World w("hub_http_open", [](HubConfig& c) { c.max_open_uploads = 3; });
  std::vector<std::string> locs;
  for (int i = 0; i < 3; ++i) locs.push_back(create(w, 10, w.ta));
  auto over = call(*w.hub, request("POST", "/v1/uploads", w.ta, {{"upload-defer-length", "1"}}));
  CHECK(over.status == 429);
  CHECK(over.body.find("unfinished uploads") != std::string::npos);
  CHECK(create(w, 10, w.tb).size() > 0);  // another site is not affected
  REQUIRE(call(*w.hub, request("DELETE", locs[0], w.ta)).status == 204);
  CHECK(create(w, 10, w.ta).size() > 0);
}

TEST_CASE("deferred-length uploads written at once stay within the quota together") {
  World w("hub_http_quota", [](HubConfig& c) { c.site_quota = 100000; });
  auto deferred = [&] {
    auto r = call(*w.hub, request("POST", "/v1/uploads", w.ta, {{"upload-defer-length", "1"}}));
    REQUIRE(r.status == 201);
    return header(r, "Location");
  };
  auto u1 = deferred(), u2 = deferred();
  const std::string chunk(60000, 'x');
  auto e1 = w.hub->begin(patch(u1, w.ta, 0));
  auto e2 = w.hub->begin(patch(u2, w.ta, 0));
  e1->body(bytes(chunk));
  e2->body(bytes(chunk));
  auto r1 = e1->finish(), r2 = e2->finish();
  CHECK(r1.status == 204);
  CHECK(r2.status == 413);
  CHECK(w.hub->index().bytes_held("trust-a") <= 100000);
  CHECK(offset(w, u2, w.ta) == "0");
  // What the refused one reserved is given back.
  CHECK(call(*w.hub, patch(u2, w.ta, 0), std::string(40000, 'y')).status == 204);
}

TEST_CASE("an expired upload no longer counts against the quota") {
  World w("hub_http_quota_expired", [](HubConfig& c) {
    c.site_quota = 100000;
    c.upload_expiry = -10;  // every upload is past its expiry at the next sweep
  });
  auto old = create(w, 60000, w.ta);
  w.hub->sweep();
  CHECK(call(*w.hub, request("HEAD", old, w.ta)).status == 410);  // remembered, bytes gone
  auto r = call(*w.hub, request("POST", "/v1/uploads", w.ta, {{"upload-length", "60000"}}));
  CHECK(r.status == 201);
}

TEST_CASE("bad tokens cannot flood the audit log; no method override outside uploads") {
  World w("hub_http_authflood");
  auto before = w.hub->index().audit_lines(0, 100000).size();
  for (int i = 0; i < 300; ++i) {
    std::string tok = "iep1_" + std::string(40, 'A') + std::to_string(100 + i);
    CHECK(call(*w.hub, request("GET", "/v1/mailbox", tok)).status == 401);
  }
  auto lines = w.hub->index().audit_lines(0, 100000);
  std::size_t fails = 0;
  for (auto& l : lines) fails += l.find("auth.fail") != std::string::npos;
  CHECK(fails >= 1);
  CHECK(fails < 100);
  CHECK(lines.size() - before < 100);

  // A recipient fetches only by GET, which records the download.
  const std::string sealed(1000, 'o'), id = "0a0b0c0d0e0f0a0b0c0d0e0f0a0b0c0d";
  REQUIRE(send(w, w.ta, sealed, seal_signature(w.a, sealed, id, "trust-b")).status == 204);
  auto sneaky = call(
      *w.hub, request("POST", "/v1/mailbox/" + id, w.tb, {{"x-http-method-override", "HEAD"}}));
  CHECK(sneaky.status == 404);
  CHECK(sneaky.file.get() < 0);
  auto tl = nlohmann::json::parse(call(*w.hub, request("GET", "/v1/packages/" + id, w.ta)).body);
  CHECK(tl["recipients"][0]["first_fetched"].is_null());
}

TEST_CASE("a deferred length declared later is held to the quota too") {
  World w("hub_http_quota_late", [](HubConfig& c) { c.site_quota = 100000; });
  auto r = call(*w.hub, request("POST", "/v1/uploads", w.ta, {{"upload-defer-length", "1"}}));
  REQUIRE(r.status == 201);
  auto loc = header(r, "Location");
  REQUIRE(call(*w.hub, patch(loc, w.ta, 0), std::string(1000, 'a')).status == 204);
  auto big =
      call(*w.hub, patch(loc, w.ta, 1000, {{"upload-length", "5000000"}}), std::string(1000, 'b'));
  CHECK(big.status == 413);
  CHECK(big.body.find("quota") != std::string::npos);
  CHECK(offset(w, loc, w.ta) == "1000");
  CHECK(call(*w.hub, request("HEAD", loc, w.ta)).status == 200);
  auto fits =
      call(*w.hub, patch(loc, w.ta, 1000, {{"upload-length", "90000"}}), std::string(1000, 'b'));
  CHECK(fits.status == 204);
  CHECK(w.hub->index().bytes_held("trust-a") == 90000);
}

TEST_CASE("a crash in the middle of a commit is reconciled at start") {
  World w("hub_http_commit_crash");
  const std::string sealed(2000, 'k'), id = "feedfacefeedfacefeedfacefeedface";
  auto sig = seal_signature(w.a, sealed, id, "trust-b");
  auto loc = create(w, sealed.size(), w.ta);
  REQUIRE(call(*w.hub, patch(loc, w.ta, 0), sealed).status == 204);
  std::string uid = loc.substr(12);
  // The hub marked the upload as committing and moved its bytes into the
  // package store, then died before the index transaction.
  auto u = *w.hub->index().upload(uid);
  u.state = "committing";
  u.committing_package = id;
  w.hub->index().update_upload(u);
  w.hub->store().commit(uid, id);
  w.open();
  CHECK_FALSE(w.hub->store().has_package(id));
  CHECK(offset(w, loc, w.ta) == std::to_string(sealed.size()));
  CHECK(call(*w.hub, request("GET", "/v1/mailbox/" + id, w.tb)).status == 404);
  // The same, dying before the rename: the bytes never left the upload.
  u = *w.hub->index().upload(uid);
  u.state = "committing";
  u.committing_package = id;
  w.hub->index().update_upload(u);
  w.open();
  CHECK(w.hub->index().upload(uid)->state == "open");
  // Either way the client's retry commits it whole, once.
  auto ok = call(*w.hub, request("POST", loc + "/commit", w.ta), sig);
  REQUIRE(ok.status == 200);
  CHECK(w.hub->store().open_package(id).size == sealed.size());
  CHECK(w.hub->store().upload_ids().empty());
}

TEST_CASE("small bodies declared too large are refused before they are read") {
  World w("hub_http_small_bodies");
  auto loc = create(w, 10, w.ta);
  auto admin = admin_token_issue(w.hub->index(), "", "test").first;
  for (const auto& target :
       {std::pair{loc + "/commit", w.ta},
        std::pair{std::string("/v1/mailbox/") + std::string(32, 'a') + "/ack", w.tb},
        std::pair{std::string("/v1/admin/sites"), admin}}) {
    INFO(target.first);
    auto ex = w.hub->begin(
        request("POST", target.first, target.second, {{"content-length", "100000000"}}));
    REQUIRE(ex->early() != nullptr);
    CHECK(ex->early()->status == 413);
    CHECK(ex->finish().status == 413);
  }
}

TEST_CASE("a site polling its empty mailbox hard does not grow the audit log with each poll") {
  World w("hub_http_poll_flood");
  auto before = w.hub->index().audit_lines(0, 100000).size();
  for (int i = 0; i < 200; ++i)
    CHECK(call(*w.hub, request("GET", "/v1/mailbox", w.tb)).status == 200);
  CHECK(w.hub->index().audit_lines(0, 100000).size() - before < 20);
  // A list that names a package is audited every time.
  const std::string sealed(100, 'p'), id = "99999999999999999999999999999999";
  REQUIRE(send(w, w.ta, sealed, seal_signature(w.a, sealed, id, "trust-b")).status == 204);
  auto mid = w.hub->index().audit_lines(0, 100000).size();
  for (int i = 0; i < 3; ++i) call(*w.hub, request("GET", "/v1/mailbox", w.tb));
  CHECK(w.hub->index().audit_lines(0, 100000).size() == mid + 3);
}

namespace {

// How many commits read their upload again to hash it (the rest used the
// hashes the PATCHes fed).
std::string rehashed(World& w) {
  auto m = call(*w.hub, request("GET", "/metrics", "")).body;
  auto at = m.find("\niep_commits_rehashed_total ");
  REQUIRE(at != std::string::npos);
  at += std::strlen("\niep_commits_rehashed_total ");
  return m.substr(at, m.find('\n', at) - at);
}

std::string blake2b512_hex(const std::string& s) {
  std::array<unsigned char, 64> h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(s.data()), s.size(),
                     nullptr, 0);
  std::string out(129, '\0');
  sodium_bin2hex(out.data(), out.size(), h.data(), h.size());
  out.resize(128);
  return out;
}

}  // namespace

TEST_CASE("the commit's hashes are those of the durable bytes, whatever PATCHes were refused") {
  World w("hub_http_running_hash");
  std::string sealed;
  for (int i = 0; i < 6000; ++i) sealed += static_cast<char>('a' + (i * 7 + i / 13) % 26);
  const std::string id = "abcdefabcdefabcdefabcdefabcdef01";
  auto loc = create(w, sealed.size(), w.ta);
  REQUIRE(call(*w.hub, patch(loc, w.ta, 0), sealed.substr(0, 1000)).status == 204);
  // Refused: a wrong checksum (460), a wrong offset (409), a body past the
  // length (400), a cut with a checksum. None of their bytes may count.
  CHECK(call(*w.hub,
             patch(loc, w.ta, 1000, {{"upload-checksum", "sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}),
             "XXXXXXXXXX")
            .status == 460);
  CHECK(call(*w.hub, patch(loc, w.ta, 500), "YYYY").status == 409);
  CHECK(call(*w.hub, patch(loc, w.ta, 1000), sealed.substr(1000) + "past the end").status == 400);
  {
    auto ex = w.hub->begin(
        patch(loc, w.ta, 1000, {{"upload-checksum", "sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}));
    ex->body(bytes("ZZZZZZZZZZ"));
    ex->abort();
  }
  REQUIRE(offset(w, loc, w.ta) == "1000");
  // A cut without a checksum keeps what arrived: those bytes count.
  {
    auto ex = w.hub->begin(patch(loc, w.ta, 1000));
    ex->body(bytes(sealed.substr(1000, 1500)));
    ex->abort();
  }
  REQUIRE(offset(w, loc, w.ta) == "2500");
  REQUIRE(call(*w.hub, patch(loc, w.ta, 2500), sealed.substr(2500)).status == 204);
  auto ok = call(*w.hub, request("POST", loc + "/commit", w.ta),
                 seal_signature(w.a, sealed, id, "trust-b"));
  REQUIRE(ok.status == 200);
  CHECK(nlohmann::json::parse(ok.body)["blake2b"] == blake2b512_hex(sealed));
  CHECK(rehashed(w) == "0");  // from the running hashes, not a second read
  auto pkg = w.hub->store().open_package(id);
  CHECK(pkg.size == sealed.size());
}

TEST_CASE("a hub restarted mid-upload reads the bytes again to commit them") {
  World w("hub_http_restart_hash");
  std::string sealed;
  for (int i = 0; i < 5000; ++i) sealed += static_cast<char>('A' + (i * 11 + i / 7) % 26);
  const std::string id = "abcdefabcdefabcdefabcdefabcdef02";
  std::string meta = "signature " + test_b64(seal_signature(w.a, sealed, id, "trust-b"));
  auto r =
      call(*w.hub,
           request("POST", "/v1/uploads", w.ta,
                   {{"upload-length", std::to_string(sealed.size())}, {"upload-metadata", meta}}));
  REQUIRE(r.status == 201);
  auto loc = header(r, "Location");
  REQUIRE(call(*w.hub, patch(loc, w.ta, 0), sealed.substr(0, 2000)).status == 204);
  w.open();  // no running hash survives
  auto done = call(*w.hub, patch(loc, w.ta, 2000), sealed.substr(2000));
  REQUIRE(done.status == 204);
  CHECK(header(done, "Iep-Package") == id);
  CHECK(rehashed(w) == "1");
  auto tl = call(*w.hub, request("GET", "/v1/packages/" + id, w.ta));
  CHECK(tl.body.find(blake2b512_hex(sealed)) != std::string::npos);
}

TEST_CASE("bytes other than the signed ones are refused, by the running hashes too") {
  World w("hub_http_tampered");
  std::string sealed(4000, 't');
  const std::string id = "abcdefabcdefabcdefabcdefabcdef03";
  auto sig = seal_signature(w.a, sealed, id, "trust-b");
  std::string other = sealed;
  other[3999] = 'u';  // the last byte differs
  auto loc = create(w, other.size(), w.ta);
  REQUIRE(call(*w.hub, patch(loc, w.ta, 0), other.substr(0, 1500)).status == 204);
  REQUIRE(call(*w.hub, patch(loc, w.ta, 1500), other.substr(1500)).status == 204);
  auto bad = call(*w.hub, request("POST", loc + "/commit", w.ta), sig);
  CHECK(bad.status == 422);
  CHECK(bad.body.find("bad_signature") != std::string::npos);
  CHECK(rehashed(w) == "0");
  CHECK_FALSE(w.hub->store().has_package(id));
  // A refused commit leaves the running hashes for a retry with the right
  // signature (of these bytes).
  auto ok = call(*w.hub, request("POST", loc + "/commit", w.ta),
                 seal_signature(w.a, other, id, "trust-b"));
  CHECK(ok.status == 200);
  CHECK(rehashed(w) == "0");
}

TEST_CASE("PATCHes of several MiB are hashed in blocks, refused ones left out") {
  World w("hub_http_big_hash");
  std::string sealed;
  sealed.reserve(5u << 20);
  for (std::size_t i = 0; i < (5u << 20) + 12345; ++i)
    sealed += static_cast<char>((i * 2654435761u) >> 13);
  const std::string id = "abcdefabcdefabcdefabcdefabcdef04";
  auto loc = create(w, sealed.size(), w.ta);
  const std::size_t half = (2u << 20) + 777;
  REQUIRE(call(*w.hub, patch(loc, w.ta, 0), sealed.substr(0, half)).status == 204);
  std::string wrong = sealed.substr(half, 3u << 20);
  wrong[100] ^= 1;
  CHECK(call(*w.hub,
             patch(loc, w.ta, half, {{"upload-checksum", "sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}),
             wrong)
            .status == 460);
  {
    auto ex = w.hub->begin(
        patch(loc, w.ta, half, {{"upload-checksum", "sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}));
    ex->body(bytes(wrong));
    ex->abort();
  }
  REQUIRE(offset(w, loc, w.ta) == std::to_string(half));
  REQUIRE(call(*w.hub, patch(loc, w.ta, half), sealed.substr(half)).status == 204);
  auto ok = call(*w.hub, request("POST", loc + "/commit", w.ta),
                 seal_signature(w.a, sealed, id, "trust-b"));
  REQUIRE(ok.status == 200);
  CHECK(nlohmann::json::parse(ok.body)["blake2b"] == blake2b512_hex(sealed));
  CHECK(rehashed(w) == "0");
}

namespace {

// Upload-Checksum "sha256 ..." of `s` (sha256sum: the test links no libcrypto).
std::string sha256_checksum(World& w, const std::string& s) {
  const auto f = w.dir / "sum.in";
  test::write_file(f, std::string_view(s));
  auto r = test::run("sha256sum " + test::quote(f.string()));
  REQUIRE(r.status == 0);
  std::string bin;
  REQUIRE(r.out.size() >= 64);
  for (std::size_t i = 0; i < 64; i += 2)
    bin += static_cast<char>(std::stoi(r.out.substr(i, 2), nullptr, 16));
  return "sha256 " + test_b64(bin);
}

// Upload-Checksum "crc32c ..." of `s`, from tests/crc32c.py (bit by bit,
// no code shared with the hub's).
std::string crc32c_checksum(World& w, const std::string& s) {
  const auto f = w.dir / "crc.in";
  test::write_file(f, std::string_view(s));
  auto r = test::run("python3 " + test::quote(std::string(IEP_SOURCE_DIR) + "/tests/crc32c.py") +
                     " " + test::quote(f.string()));
  REQUIRE(r.status == 0);
  return r.out.substr(0, r.out.find('\n'));
}

// A body handed over in pieces of `piece` bytes, as the HTTP server does.
Response call_in_pieces(Hub& hub, Request req, std::string_view body, std::size_t piece) {
  auto ex = hub.begin(std::move(req));
  for (std::size_t at = 0; at < body.size(); at += piece) ex->body(bytes(body.substr(at, piece)));
  return ex->finish();
}

}  // namespace

TEST_CASE("crc32c checksums: offered, matched, and a mismatch refused with the offset kept") {
  World w("hub_http_crc32c");
  auto opts = call(*w.hub, request("OPTIONS", "/v1/uploads", ""));
  CHECK(header(opts, "Tus-Checksum-Algorithm") == "crc32c,sha1,sha256");
  std::string sealed;
  for (int i = 0; i < 70000; ++i) sealed += static_cast<char>((i * 2654435761u) >> 13);
  auto loc = create(w, sealed.size(), w.ta);
  const std::string a = sealed.substr(0, 40000), b = sealed.substr(40000);
  REQUIRE(call_in_pieces(*w.hub, patch(loc, w.ta, 0, {{"upload-checksum", crc32c_checksum(w, a)}}),
                         a, 4096)
              .status == 204);
  std::string bad = b;
  bad[12345] ^= 0x01;
  auto refused =
      call(*w.hub, patch(loc, w.ta, 40000, {{"upload-checksum", crc32c_checksum(w, b)}}), bad);
  CHECK(refused.status == 460);
  CHECK(offset(w, loc, w.ta) == "40000");
  // Not base64 of four bytes' worth, or the wrong four: refused alike.
  CHECK(call(*w.hub, patch(loc, w.ta, 40000, {{"upload-checksum", "crc32c AAAAAA=="}}), b).status ==
        460);
  CHECK(call(*w.hub, patch(loc, w.ta, 40000, {{"upload-checksum", "crc32c AAAA"}}), b).status ==
        460);
  CHECK(offset(w, loc, w.ta) == "40000");
  CHECK(call(*w.hub, patch(loc, w.ta, 40000, {{"upload-checksum", crc32c_checksum(w, b)}}), b)
            .status == 204);
  CHECK(offset(w, loc, w.ta) == "70000");
}

TEST_CASE("checksums of PATCHes of several MiB in small pieces, across block edges") {
  World w("hub_http_piece_sums");
  std::string sealed;
  for (std::size_t i = 0; i < (3u << 20) + 54321; ++i)
    sealed += static_cast<char>((i * 2654435761u) >> 11);
  const std::string id = "abcdefabcdefabcdefabcdefabcdef05";
  auto loc = create(w, sealed.size(), w.ta);
  const std::size_t first = (2u << 20) + 4097;  // ends inside a block
  const std::string a = sealed.substr(0, first), b = sealed.substr(first);
  REQUIRE(call_in_pieces(*w.hub, patch(loc, w.ta, 0, {{"upload-checksum", sha256_checksum(w, a)}}),
                         a, 32768)
              .status == 204);
  CHECK(offset(w, loc, w.ta) == std::to_string(first));
  // A byte changed in the last, partial block: the sum does not match.
  std::string bad = b;
  bad[bad.size() - 3] ^= 0x40;
  CHECK(call_in_pieces(*w.hub,
                       patch(loc, w.ta, first, {{"upload-checksum", sha256_checksum(w, b)}}), bad,
                       10000)
            .status == 460);
  CHECK(offset(w, loc, w.ta) == std::to_string(first));
  // One byte past the length, in pieces smaller than a block: refused
  // although no block was full yet.
  CHECK(call_in_pieces(*w.hub, patch(loc, w.ta, first), b + "x", 999).status == 400);
  CHECK(offset(w, loc, w.ta) == std::to_string(first));
  REQUIRE(call_in_pieces(*w.hub,
                         patch(loc, w.ta, first, {{"upload-checksum", sha256_checksum(w, b)}}), b,
                         65536)
              .status == 204);
  auto ok = call(*w.hub, request("POST", loc + "/commit", w.ta),
                 seal_signature(w.a, sealed, id, "trust-b"));
  REQUIRE(ok.status == 200);
  CHECK(nlohmann::json::parse(ok.body)["blake2b"] == blake2b512_hex(sealed));
  CHECK(rehashed(w) == "0");
}

TEST_CASE("an admin change the index cannot make is a 500, never a 404 or a 400") {
  World w("hub-admin-busy");
  const auto admin = admin_token_issue(w.hub->index(), "", "test").first;
  // Another connection holds the index's write lock past the hub's busy
  // timeout (10 s): the hub's writes fail.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((w.dir / "index.sqlite").c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  CHECK(call(*w.hub, request("DELETE", "/v1/admin/sites/trust-c", admin)).status == 500);
  CHECK(call(*w.hub, request("POST", "/v1/admin/sites", admin), w.c.card().encode()).status == 500);
  REQUIRE(sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  // Once it is free: removed, then nothing left to remove; the same for a
  // token.
  CHECK(call(*w.hub, request("DELETE", "/v1/admin/sites/trust-c", admin)).status == 204);
  CHECK(call(*w.hub, request("DELETE", "/v1/admin/sites/trust-c", admin)).status == 404);
  const auto id = admin_token_issue(w.hub->index(), "trust-a", "test").second;
  CHECK(call(*w.hub, request("DELETE", "/v1/admin/tokens/" + id, admin)).status == 204);
  CHECK(call(*w.hub, request("DELETE", "/v1/admin/tokens/" + id, admin)).status == 404);
}
