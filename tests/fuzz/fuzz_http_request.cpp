// Fuzzes the hub's request handling without a socket: each input is one
// HTTP request,
//   METHOD PATH[?QUERY]\n(Name: value\n)*\nBODY
// handed to Hub::begin(), its body fed in two pieces, then finish(). The
// hub runs on a scratch data folder with two registered sites (fuzz-a,
// fuzz-b) and one committed package; an Authorization header "Bearer
// site-a", "Bearer site-b" or "Bearer admin" is replaced by that token, so
// seeds (tests/fuzz/corpus/http_request) reach past authentication into
// tus, commit (signature checks), mailbox, ranges and receipts. Two
// uploads are reset before every input: 00..00 (empty, 18 bytes long) and
// 11..11 (complete: the bytes the package's signature covers).
#include <unistd.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "iep/core/error.h"
#include "iep/hub/hub.h"

namespace {

using namespace iep;
using namespace iep::hub;

const char* kCardA =
    R"(untrusted comment: iep site card fuzz-a (minisign public key FC006FC46DEACD93)
RWSTzeptxG8A/IQp3yIEudW4nm+o4miaNTuuJyaRL+q+beIT0lGoNBuR
site: fuzz-a
age-recipient: age17kz2an4u2s6392lf62mt39c0urzgmte5vyjh22q7zahv50s7ly5qlsqprd
)";
const char* kCardB =
    R"(untrusted comment: iep site card fuzz-b (minisign public key 5E4F89C0C7CBCBE8)
RWToy8vHwIlPXt4NejrOndA3JVJ8gH4cbTVdWyKvlm12H/h2+DURfQzP
site: fuzz-b
age-recipient: age19wv0z3vzyu7trurfml9szje6kcetgfg9chtnny40kjfgl7clt9cqg7x7j5
)";
// fuzz-a's signature over kSealed, naming package 0123...ef for fuzz-b.
const char* kSignature = R"(untrusted comment: signature from minisign secret key
RUSTzeptxG8A/HJTe1Vcscp0hSSOc3uP0Kt2z/HjikDPyfbydxfWj4DNFJnbn2W2C2W4U00PYANYaERjx50wfyCkB7hjhKsyOwo=
trusted comment: iep-sealed package=0123456789abcdef0123456789abcdef sender=fuzz-a created=2026-12-02T10:00:00Z to=fuzz-b
nTftkxJB+doQZYbuvp2oZx/0YrhQ4uqIgtKU/s1UrHjW/ahoNEoo9mg8GcOBPbvoJqZqO2jziYiLhKiXj1AmCw==
)";
const std::string kSealed = "fuzz sealed bytes\n";
const std::string kEmpty(32, '0'), kFull(32, '1');

struct World {
  std::unique_ptr<Hub> hub;
  std::string token_a, token_b, admin;
};

Response call(Hub& hub, Request req, std::string_view body) {
  auto ex = hub.begin(std::move(req));
  std::size_t half = body.size() / 2;
  ex->body(ByteSpan(reinterpret_cast<const std::uint8_t*>(body.data()), half));
  ex->body(ByteSpan(reinterpret_cast<const std::uint8_t*>(body.data()) + half, body.size() - half));
  return ex->finish();
}

void reset_upload(World& w, const std::string& id, bool full) {
  Index& ix = w.hub->index();
  Store& st = w.hub->store();
  auto u = ix.upload(id);
  if (!u) {
    st.remove_upload(id);
    st.create_upload(id);
    UploadRow r;
    r.id = id;
    r.site = "fuzz-a";
    r.length = kSealed.size();
    r.created = now_ms();
    r.expires = now_ms(3600);
    ix.add_upload(r);
    u = r;
  }
  st.truncate(id, 0);
  u->offset = 0;
  if (full) {
    auto wr = st.append(id, 0);
    wr->write(ByteSpan(reinterpret_cast<const std::uint8_t*>(kSealed.data()), kSealed.size()));
    u->offset = wr->sync();
  }
  u->length = kSealed.size();
  u->state = "open";
  u->expires = now_ms(3600);
  ix.update_upload(*u);
}

World& world() {
  static World* w = [] {
    auto* w = new World;
    std::string tmpl = (std::filesystem::temp_directory_path() / "fuzz-hub-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    HubConfig cfg;
    cfg.data = tmpl;
    cfg.log_requests = false;
    cfg.max_package_size = 1 << 20;
    cfg.site_quota = 4 << 20;  // reaches the quota paths (reservations of deferred uploads)
    cfg.max_wait = 0;          // no long polls in a fuzzer
    w->hub = std::make_unique<Hub>(cfg);
    admin_site_add(w->hub->index(), kCardA, "fuzz");
    admin_site_add(w->hub->index(), kCardB, "fuzz");
    w->token_a = admin_token_issue(w->hub->index(), "fuzz-a", "fuzz").first;
    w->token_b = admin_token_issue(w->hub->index(), "fuzz-b", "fuzz").first;
    w->admin = admin_token_issue(w->hub->index(), "", "fuzz").first;
    // Commit the package once, through the protocol.
    reset_upload(*w, kFull, true);
    Request req;
    req.method = "POST";
    req.path = "/v1/uploads/" + kFull + "/commit";
    req.headers = {{"authorization", "Bearer " + w->token_a}, {"content-type", "text/plain"}};
    if (call(*w->hub, req, kSignature).status != 200) std::abort();
    return w;
  }();
  return *w;
}

std::string pct_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = world();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  std::string_view line = in.substr(0, nl);
  in.remove_prefix(nl + 1);
  auto sp = line.find(' ');
  if (sp == std::string_view::npos) return 0;
  Request req;
  req.method = std::string(line.substr(0, sp));
  std::string_view target = line.substr(sp + 1);
  auto q = target.find('?');
  req.path = pct_decode(target.substr(0, q));  // as MHD hands it over: decoded
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    while (!query.empty() && req.query.size() < 32) {
      auto amp = query.find('&');
      std::string_view kv = query.substr(0, amp);
      auto eq = kv.find('=');
      req.query.emplace_back(pct_decode(kv.substr(0, eq)),
                             eq == std::string_view::npos ? "" : pct_decode(kv.substr(eq + 1)));
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  while (req.headers.size() < 64) {
    nl = in.find('\n');
    std::string_view h = in.substr(0, nl);
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
    if (h.empty()) break;
    auto colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(h.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    std::string v(value);
    if (name == "authorization") {
      if (v == "Bearer site-a") v = "Bearer " + w.token_a;
      if (v == "Bearer site-b") v = "Bearer " + w.token_b;
      if (v == "Bearer admin") v = "Bearer " + w.admin;
    }
    req.headers.emplace_back(std::move(name), std::move(v));
    if (nl == std::string_view::npos) break;
  }
  reset_upload(w, kEmpty, false);
  reset_upload(w, kFull, true);
  Response r = call(*w.hub, std::move(req), in);
  if (r.status < 100 || r.status > 599) __builtin_trap();
  bool has_id = false;
  for (auto& [k, v] : r.headers) has_id = has_id || k == "X-Request-Id";
  if (!has_id) __builtin_trap();
  // Keep the state small: only the two fixed uploads survive an input.
  for (auto& u : w.hub->index().uploads())
    if (u.id != kEmpty && u.id != kFull) {
      w.hub->index().remove_upload(u.id);
      w.hub->store().remove_upload(u.id);
    }
  return 0;
}
