// The hub's protocol (iep-protocol(7)): routing, authentication, tus
// uploads, commit, mailbox, timeline, acknowledgements, administration.
#include "iep/hub/hub.h"

#include <openssl/evp.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/util.h"
#include "hub/hub_util.h"
#include "iep/core/crc32c.h"
#include "iep/core/error.h"
#include "iep/hub/tus.h"
#include "iep/package/package.h"

namespace iep::hub {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string* Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return &v;
  return nullptr;
}
const std::string* Request::param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return &v;
  return nullptr;
}

namespace {

constexpr const char* kTusExtensions =
    "creation,creation-with-upload,creation-defer-length,expiration,termination,checksum,"
    "concatenation";
constexpr std::size_t kMaxSignature = 8 * 1024;
constexpr std::size_t kMaxJsonBody = 64 * 1024;

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2026-12-02T10:00:00.123Z" -> seconds since the epoch (0 when malformed).
std::int64_t parse_time(const std::string& t) {
  std::tm tm{};
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(::timegm(&tm));
}

// RFC 7231 IMF-fixdate.
std::string http_date(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

Response error(int status, const std::string& code, const std::string& message) {
  Response r;
  r.status = status;
  r.set("Content-Type", "application/json");
  r.body = "{\"error\":" + json_string(code) + ",\"message\":" + json_string(message) + "}\n";
  if (status == 401) r.set("WWW-Authenticate", "Bearer realm=\"iep\"");
  return r;
}
Response not_found() {
  return error(404, "not_found", "no such object");
}

// A failure to write the store or the index: 507 when the disk is full (the
// store says so, or less than 1 MiB is left, where SQLite fails first).
Response storage_error(const std::exception& e, Store& st, const char* what) {
  bool full =
      std::string_view(e.what()).substr(0, 9) == "disk full" || st.free_space() < (1u << 20);
  std::fprintf(stderr, "iep-serve: %s: %s\n", what, e.what());
  return full ? error(507, "disk_full", "the hub's disk is full; resume later")
              : error(500, "internal", std::string(what));
}

Response json_response(int status, const json& j) {
  Response r;
  r.status = status;
  r.set("Content-Type", "application/json");
  r.body = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  return r;
}

Response text_response(int status, std::string body,
                       const char* type = "text/plain; charset=utf-8") {
  Response r;
  r.status = status;
  r.set("Content-Type", type);
  r.body = std::move(body);
  return r;
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto p = path.find('/');
    out.push_back(path.substr(0, p));
    if (p == std::string_view::npos) break;
    path.remove_prefix(p);
    if (out.size() > 8) break;
  }
  return out;
}

// A running checksum of one PATCH body: crc32c (the 4 bytes big-endian),
// sha1 and sha256 (OpenSSL EVP).
class Digest {
 public:
  static constexpr const char* kAlgorithms = "crc32c,sha1,sha256";
  static bool supports(const std::string& algorithm) {
    return algorithm == "crc32c" || algorithm == "sha1" || algorithm == "sha256";
  }
  explicit Digest(const std::string& algorithm) : crc_(algorithm == "crc32c") {
    const EVP_MD* md = algorithm == "sha1"     ? EVP_sha1()
                       : algorithm == "sha256" ? EVP_sha256()
                                               : nullptr;
    if (md == nullptr) return;
    ctx_ = EVP_MD_CTX_new();
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, md, nullptr) != 1)
      throw Error(Exit::internal, "cannot start a " + algorithm + " digest");
  }
  ~Digest() { EVP_MD_CTX_free(ctx_); }
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;
  [[nodiscard]] bool known() const { return crc_ || ctx_ != nullptr; }
  void update(ByteSpan d) {
    if (crc_)
      crc_value_ = crc32c(d, crc_value_);
    else
      EVP_DigestUpdate(ctx_, d.data(), d.size());
  }
  std::string result() {
    if (crc_) {
      auto b = crc32c_bytes(crc_value_);
      return {b.begin(), b.end()};
    }
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, out, &n);
    return {reinterpret_cast<char*>(out), n};
  }

 private:
  bool crc_;
  std::uint32_t crc_value_ = 0;
  EVP_MD_CTX* ctx_ = nullptr;
};

// ---- exchanges -------------------------------------------------------------

// A response known before the body: the body is read and dropped.
class Immediate : public Exchange {
 public:
  explicit Immediate(Response r) : r_(std::move(r)) {}
  void body(ByteSpan) override {}
  Response finish() override { return std::move(r_); }
  [[nodiscard]] const Response* early() const override { return &r_; }

 private:
  Response r_;
};

// Collects a small body (at most `limit` bytes), then answers.
class Buffered : public Exchange {
 public:
  Buffered(std::size_t limit, std::function<Response(std::string)> fn)
      : limit_(limit), fn_(std::move(fn)) {}
  void body(ByteSpan d) override {
    if (over_ || body_.size() + d.size() > limit_) {
      over_ = true;
      return;
    }
    body_.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  Response finish() override {
    if (over_) return too_large(limit_);
    return fn_(std::move(body_));
  }
  static Response too_large(std::size_t limit) {
    return error(413, "too_large", "the request body is over " + std::to_string(limit) + " bytes");
  }

 private:
  std::size_t limit_;
  std::function<Response(std::string)> fn_;
  std::string body_;
  bool over_ = false;
};

// Releases an upload's lease on every way out of a scope.
struct LeaseGuard {
  Index& ix;
  std::string id;
  bool keep = false;  // handed on (to an UploadBody)
  LeaseGuard(Index& i, std::string k) : ix(i), id(std::move(k)) {}
  ~LeaseGuard() {
    if (!keep) ix.release_lease(id);
  }
  LeaseGuard(const LeaseGuard&) = delete;
  LeaseGuard& operator=(const LeaseGuard&) = delete;
};

}  // namespace

// ---- the hub's state ---------------------------------------------------------

struct Ctx {
  Request req;
  std::string rid;
  TokenRow token;
  SiteRow site;
  std::string package;  // for the log line
};

struct Hub::Impl {
  Hub& hub;
  Index& ix;
  Store& st;
  const HubConfig& cfg;
  minisign::SecretKey key;
  std::mutex mb_mu;
  std::condition_variable mb_cv;
  std::uint64_t commits = 0;
  std::uint64_t sweeps = 0;  // only the sweeper thread counts them
  bool stopping = false;
  std::map<std::string, unsigned> waiting;  // long polls held, by site (under mb_mu)

  // Quota and open uploads: creations are checked and recorded under q_mu,
  // and PATCHes of deferred-length uploads reserve the quota they write
  // (`inflight`) so that concurrent requests cannot together exceed it.
  std::mutex q_mu;
  std::map<std::string, std::uint64_t> inflight;

  // Metrics.
  std::mutex m_mu;
  std::map<std::pair<std::string, int>, std::uint64_t> requests;
  std::uint64_t bytes_in = 0, bytes_out = 0;
  std::uint64_t rehashed = 0;  // commits that read the upload again to hash it
  struct Histogram {
    static constexpr std::array<double, 8> kBounds{1, 5, 30, 60, 300, 1800, 3600, 86400};
    std::array<std::uint64_t, 8> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
    void add(double x) {
      for (std::size_t i = 0; i < kBounds.size(); ++i)
        if (x <= kBounds[i]) ++buckets[i];
      ++count;
      sum += x;
    }
  } upload_latency, delivery_latency;

  Impl(Hub& h, const minisign::SecretKey& k)
      : hub(h), ix(*h.index_), st(*h.store_), cfg(h.cfg_), key(k) {}

  void audit(const Ctx& c, const std::string& action, const std::string& package,
             const json& detail = json::object()) {
    AuditEvent e;
    e.action = action;
    e.actor = c.site.name.empty() ? (c.token.admin ? "admin" : "anonymous") : c.site.name;
    e.package = package;
    e.request = c.rid;
    e.detail_json = detail.dump(-1, ' ', false, json::error_handler_t::replace);
    try {
      ix.audit(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "iep-serve: audit append failed: %s\n", ex.what());
    }
  }
  AuditEvent event(const Ctx& c, const std::string& action, const std::string& package,
                   const json& detail = json::object()) {
    AuditEvent e;
    e.action = action;
    e.actor = c.site.name.empty() ? (c.token.admin ? "admin" : "anonymous") : c.site.name;
    e.package = package;
    e.request = c.rid;
    e.detail_json = detail.dump(-1, ' ', false, json::error_handler_t::replace);
    return e;
  }

  // The running hashes of open uploads: the one digest a commit needs
  // (the BLAKE2b-512 prehash the signature covers, which is also the
  // package's hash in the protocol), fed by
  // each PATCH with its bytes in order and kept here only once the PATCH's
  // offset is durable and recorded (a PATCH feeds a copy and swaps it in).
  // A commit whose upload has no state at its offset (a hub restarted
  // mid-upload, a concatenation) reads the stored bytes again instead.
  struct RunningHash {
    std::uint64_t offset = 0;  // bytes fed
    minisign::Prehash pre;
  };
  std::mutex h_mu;
  std::map<std::string, RunningHash> hashes;  // by upload id
  // A copy of the upload's state if it has fed exactly `offset` bytes (a
  // fresh one at 0), else nothing: that upload's commit reads the file.
  std::optional<RunningHash> running_hash(const std::string& id, std::uint64_t offset) {
    std::lock_guard lk(h_mu);
    auto it = hashes.find(id);
    if (it != hashes.end() && it->second.offset == offset) return it->second;
    if (offset == 0) return RunningHash{};
    return std::nullopt;
  }
  void keep_hash(const std::string& id, std::optional<RunningHash> h) {
    std::lock_guard lk(h_mu);
    if (h)
      hashes.insert_or_assign(id, std::move(*h));
    else
      hashes.erase(id);
  }
  // Bytes of uploads the index no longer knows (a crash between the two
  // removals; a multipart upload whose creation was cut): an upload is in
  // the index before its bytes are in the store, so these are no one's.
  void remove_orphans() {
    for (auto& id : st.upload_ids())
      if (!ix.upload(id)) st.remove_upload(id);
  }

  // Brings an upload's recorded offset and its bytes in the store in line
  // (under its lease): after a crash, or a PATCH whose offset could not be
  // recorded after the store made its bytes durable. Bytes beyond the
  // offset are cut back; where the store cannot (an object store holds them
  // in a part, durable since its sync()), the offset moves up to them.
  void settle(UploadRow& u) {
    std::uint64_t size = 0;
    try {
      size = st.upload_size(u.id);
    } catch (const Error&) {
      st.create_upload(u.id);
    }
    if (size == u.offset) return;
    if (size > u.offset) {
      try {
        st.truncate(u.id, u.offset);
        return;
      } catch (const Error& e) {
        std::fprintf(stderr, "iep-serve: upload %s: keeps %llu bytes: %s\n", u.id.c_str(),
                     static_cast<unsigned long long>(size), e.what());
      }
    }
    u.offset = size;
    ix.update_upload(u);
  }

  void drop_hash(const std::string& id) {
    std::lock_guard lk(h_mu);
    hashes.erase(id);
  }

  // Empty mailbox polls by site: when one was last audited, and how many
  // were not since.
  std::mutex poll_mu;
  std::map<std::string, std::pair<std::int64_t, std::uint64_t>> empty_polls;
  bool empty_poll_recorded(const std::string& site, std::uint64_t& unrecorded) {
    std::lock_guard lk(poll_mu);
    auto& [last, count] = empty_polls[site];
    std::int64_t now = now_s();
    if (last != 0 && now - last < 60) {
      ++count;
      return false;
    }
    last = now;
    unrecorded = count;
    count = 0;
    return true;
  }

  // ---- authentication
  static constexpr unsigned kAuthFailAudits = 5;
  std::mutex af_mu;
  std::int64_t af_second = 0;
  unsigned af_count = 0;
  std::uint64_t af_unrecorded = 0;
  // Whether this failure gets an audit record; `unrecorded` is set to the
  // failures left out since the last one recorded.
  bool auth_fail_recorded(std::uint64_t& unrecorded) {
    std::lock_guard lk(af_mu);
    std::int64_t now = now_s();
    if (now != af_second) {
      af_second = now;
      af_count = 0;
    }
    if (af_count >= kAuthFailAudits) {
      ++af_unrecorded;
      return false;
    }
    ++af_count;
    unrecorded = af_unrecorded;
    af_unrecorded = 0;
    return true;
  }
  std::optional<Response> authenticate(Ctx& c) {
    const std::string* auth = c.req.header("authorization");
    std::string_view tok;
    if (auth && auth->size() > 7 && util::ascii_lower((*auth)[0]) == 'b' &&
        std::string_view(*auth).substr(1, 6) == "earer ")
      tok = util::trim(std::string_view(*auth).substr(7));
    if (tok.size() != 48 || tok.substr(0, 5) != "iep1_") {
      return error(401, "unauthorized", "a bearer token is required");
    }
    auto row = ix.token_by_hash(blake2b256_hex(tok));
    if (!row || row->revoked) {
      // Recorded, but at most kAuthFailAudits a second: anyone can send
      // bad tokens, and every record is a synchronous index write.
      std::uint64_t unrecorded = 0;
      if (auth_fail_recorded(unrecorded))
        audit(c, "auth.fail", "",
              {{"reason", row ? "revoked" : "unknown token"}, {"unrecorded_before", unrecorded}});
      return error(401, "unauthorized", "unknown or revoked token");
    }
    c.token = *row;
    if (!row->admin) {
      auto s = ix.site(row->site);
      if (!s || !s->active) return error(401, "unauthorized", "the token's site is removed");
      c.site = *s;
    }
    return std::nullopt;
  }

  // ---- uploads
  std::optional<UploadRow> own_upload(const Ctx& c, std::string_view id, Response& err) {
    if (!tus::valid_id(id)) {
      err = not_found();
      return std::nullopt;
    }
    auto u = ix.upload(std::string(id));
    if (!u || u->site != c.site.name) {
      err = not_found();
      return std::nullopt;
    }
    if (u->state == "expired") {
      err = error(410, "expired", "this upload expired");
      return std::nullopt;
    }
    return u;
  }

  // Under q_mu.
  std::int64_t remaining_locked(const std::string& site) {
    if (cfg.site_quota == 0) return INT64_MAX;
    std::uint64_t used = ix.bytes_held(site);
    if (auto it = inflight.find(site); it != inflight.end()) used += it->second;
    return used >= cfg.site_quota ? 0 : static_cast<std::int64_t>(cfg.site_quota - used);
  }
  std::int64_t remaining_quota(const std::string& site) {
    std::lock_guard lk(q_mu);
    return remaining_locked(site);
  }
  // Reserves quota for bytes about to be written: at least `need`, up to
  // `want`. Returns what it reserved, 0 when not even `need` is left.
  std::uint64_t reserve(const std::string& site, std::uint64_t need, std::uint64_t want) {
    if (cfg.site_quota == 0) return want;
    std::lock_guard lk(q_mu);
    auto left = static_cast<std::uint64_t>(remaining_locked(site));
    if (left < need) return 0;
    std::uint64_t got = std::min(want, left);
    inflight[site] += got;
    return got;
  }
  // Gives a reservation back (the bytes written are in the index by now).
  void unreserve(const std::string& site, std::uint64_t n) {
    if (cfg.site_quota == 0 || n == 0) return;
    std::lock_guard lk(q_mu);
    auto it = inflight.find(site);
    if (it == inflight.end()) return;
    it->second -= std::min(n, it->second);
    if (it->second == 0) inflight.erase(it);
  }

  static void tus_headers(Response& r) { r.set("Tus-Resumable", "1.0.0"); }

  Response options() {
    Response r;
    r.status = 204;
    tus_headers(r);
    r.set("Tus-Version", "1.0.0");
    r.set("Tus-Extension", kTusExtensions);
    r.set("Tus-Checksum-Algorithm", Digest::kAlgorithms);
    r.set("Tus-Max-Size", std::to_string(cfg.max_package_size));
    return r;
  }

  std::unique_ptr<Exchange> create(Ctx& c);
  std::unique_ptr<Exchange> patch(Ctx& c, std::string_view id);
  Response head(Ctx& c, std::string_view id);
  Response terminate(Ctx& c, std::string_view id);
  Response commit_endpoint(Ctx& c, std::string_view id, const std::string& body);

  // Commits a complete upload; on success fills `pkg`, else returns the
  // error response. The caller holds the upload's lease.
  std::optional<Response> commit(Ctx& c, UploadRow& u, const std::string& sig_text,
                                 PackageRow& pkg);

  // ---- packages
  json package_json(const PackageRow& p, bool full);
  Response timeline(Ctx& c, std::string_view id);
  Response sent(Ctx& c);
  Response mailbox(Ctx& c);
  Response download(Ctx& c, std::string_view id);
  Response signature(Ctx& c, std::string_view id);
  Response ack(Ctx& c, std::string_view id, const std::string& body);
  std::optional<PackageRow> addressed(const Ctx& c, std::string_view id);

  Response metrics();
  std::unique_ptr<Exchange> route(Ctx& c);
};

// ---- tus -----------------------------------------------------------------------

namespace {

// Hashes a PATCH body in blocks on a thread of its own, in one pass per
// block: the upload's running prehash (when it has one at this offset) and
// the PATCH's Upload-Checksum (when it carries one). Hashing (BLAKE2b and
// SHA: most of the hub's CPU time while receiving) then overlaps with
// receiving and writing. Blocks are handed over, not copied, and come back
// to be filled again. The thread starts with the first full block: a small
// PATCH is hashed in place.
class BlockHasher {
 public:
  static constexpr std::size_t kBlock = 1 << 20;

  BlockHasher(std::optional<Hub::Impl::RunningHash> h, std::unique_ptr<Digest> sum)
      : h_(std::move(h)), sum_(std::move(sum)) {}
  ~BlockHasher() {
    {
      std::lock_guard lk(mu_);
      done_ = abandon_ = true;
    }
    cv_.notify_all();
    if (t_.joinable()) t_.join();
  }
  BlockHasher(const BlockHasher&) = delete;
  BlockHasher& operator=(const BlockHasher&) = delete;

  [[nodiscard]] bool needed() const { return h_.has_value() || sum_ != nullptr; }

  // Queues a full block (waiting while kQueued are queued) and returns an
  // empty one, with room for kBlock bytes, to fill next.
  std::vector<std::uint8_t> push(std::vector<std::uint8_t> block) {
    if (!t_.joinable()) t_ = std::thread([this] { run(); });
    std::vector<std::uint8_t> next;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return q_.size() < kQueued; });
      q_.push_back(std::move(block));
      if (!free_.empty()) {
        next = std::move(free_.back());
        free_.pop_back();
      }
    }
    cv_.notify_all();
    next.clear();
    next.reserve(kBlock);
    return next;
  }
  // Hashes the queued blocks and then `tail`; afterwards the states are
  // this thread's to read.
  void finish(ByteSpan tail) {
    if (t_.joinable()) {
      {
        std::lock_guard lk(mu_);
        done_ = true;
      }
      cv_.notify_all();
      t_.join();
    }
    feed(tail);
  }
  // After finish(): the running prehash, and whether the checksum matched.
  std::optional<Hub::Impl::RunningHash> take_hash() { return std::move(h_); }
  bool checksum_is(const std::string& want) { return sum_ == nullptr || sum_->result() == want; }

 private:
  static constexpr std::size_t kQueued = 2;  // blocks waiting, at most

  void feed(ByteSpan d) {
    if (h_) {
      h_->pre.write(d);
      h_->offset += d.size();
    }
    if (sum_) sum_->update(d);
  }
  void run() {
    for (;;) {
      std::vector<std::uint8_t> b;
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return done_ || !q_.empty(); });
        if (abandon_ || q_.empty()) return;
        b = std::move(q_.front());
        q_.pop_front();
      }
      feed(ByteSpan(b.data(), b.size()));
      {
        std::lock_guard lk(mu_);
        free_.push_back(std::move(b));
      }
      cv_.notify_all();
    }
  }

  std::optional<Hub::Impl::RunningHash> h_;  // the thread's while it runs
  std::unique_ptr<Digest> sum_;              // likewise
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<std::uint8_t>> q_;
  std::vector<std::vector<std::uint8_t>> free_;  // hashed, to be filled again
  bool done_ = false, abandon_ = false;
  std::thread t_;
};

// Streams one PATCH body (or a creation-with-upload body) into the store.
class UploadBody : public Exchange {
 public:
  UploadBody(Hub::Impl& h, Ctx& c, UploadRow u, std::optional<tus::Checksum> sum,
             std::uint64_t limit, std::function<Response(Response)> wrap)
      : h_(h), c_(c), u_(std::move(u)), start_(u_.offset), limit_(limit), wrap_(std::move(wrap)) {
    std::unique_ptr<Digest> digest;
    if (sum) {
      digest = std::make_unique<Digest>(sum->algorithm);
      want_ = sum->digest;
      summed_ = true;
    }
    try {
      w_ = h_.st.append(u_.id, start_);
    } catch (const Error& e) {
      failed_ = error(500, "internal", "cannot write the upload");
    }
    std::optional<Hub::Impl::RunningHash> running;
    if (u_.concat != "partial") running = h_.running_hash(u_.id, start_);
    hash_ = std::make_unique<BlockHasher>(std::move(running), std::move(digest));
  }
  ~UploadBody() override { release(); }
  UploadBody(const UploadBody&) = delete;
  UploadBody& operator=(const UploadBody&) = delete;

  void body(ByteSpan d) override {
    if (failed_) return;
    const std::uint64_t received = written_ + block_.size();
    if (!u_.length && received + d.size() > reserved_) {
      // A deferred length: no length was counted against the quota at
      // creation, so the bytes are, as they come.
      std::uint64_t need = received + d.size() - reserved_;
      std::uint64_t got = h_.reserve(u_.site, need, std::max<std::uint64_t>(need, 1 << 20));
      if (got == 0) {
        failed_ = error(413, "quota",
                        "this site's quota of " + std::to_string(h_.cfg.site_quota) +
                            " bytes would be exceeded");
        return;
      }
      reserved_ += got;
    }
    if (received + d.size() > limit_) {
      bool past_length = u_.length && start_ + received + d.size() > *u_.length;
      failed_ = past_length ? error(400, "bad_request", "the body goes past Upload-Length")
                            : error(413, "too_large",
                                    "the upload goes past the hub's maximum "
                                    "package size or this site's quota");
      return;
    }
    // Gathered into blocks: the store and the hasher get whole blocks (the
    // HTTP server hands the body over in pieces of tens of KiB), the block
    // is copied once and handed to the hasher after the store wrote it.
    if (block_.capacity() == 0) block_.reserve(BlockHasher::kBlock);
    while (!d.empty() && !failed_) {
      std::size_t n = std::min(d.size(), BlockHasher::kBlock - block_.size());
      block_.insert(block_.end(), d.begin(), d.begin() + static_cast<std::ptrdiff_t>(n));
      d = d.subspan(n);
      if (block_.size() == BlockHasher::kBlock) flush(true);
    }
  }

  Response finish() override {
    Response r = complete();
    release();  // the next PATCH may come on this connection before it is torn down
    if (r.status >= 400 && r.status != 422 && r.status != 409)  // commit refusals audit themselves
      h_.audit(c_, "reject", u_.id, {{"status", r.status}, {"offset", start_}});
    return r;
  }

  void abort() override {
    // A cut connection: keep what arrived and is now durable, unless the
    // PATCH carried a checksum (then nothing of it is kept).
    if (!failed_ && !summed_) flush(false);
    if (failed_ || summed_) {
      cut_back();
    } else {
      try {
        u_.offset = w_->sync();
        u_.expires = now_ms(h_.cfg.upload_expiry);
        h_.ix.update_upload(u_);
        keep_hash();
      } catch (const std::exception&) {
        cut_back();
      }
    }
    release();
  }

 private:
  void release() {
    if (!released_) {
      h_.ix.release_lease(u_.id);
      h_.unreserve(u_.site, reserved_);
    }
    released_ = true;
  }

  // Writes the block gathered so far, then hashes it: a full block on the
  // hasher's thread (`whole`), else here, the last of this body.
  void flush(bool whole) {
    try {
      w_->write(ByteSpan(block_.data(), block_.size()));
      written_ += block_.size();
    } catch (const Error& e) {
      bool full = std::string_view(e.what()).substr(0, 9) == "disk full";
      failed_ = full ? error(507, "disk_full", "the hub's disk is full; resume later")
                     : error(500, "internal", "cannot write the upload");
      block_.clear();
      return;
    }
    if (!hash_->needed()) {
      block_.clear();
    } else if (whole) {
      block_ = hash_->push(std::move(block_));
    } else {
      hash_->finish(ByteSpan(block_.data(), block_.size()));
      block_.clear();
      finished_ = true;
    }
  }

  Response complete() {
    if (!failed_) flush(false);
    if (failed_) {
      cut_back();
      return wrap_(std::move(*failed_));
    }
    // Checked before anything is made durable: an object store cannot cut
    // back below what it has made durable.
    if (!hash_->checksum_is(want_)) {
      cut_back();
      return wrap_(error(460, "checksum_mismatch", "Upload-Checksum does not match the body"));
    }
    std::uint64_t end = 0;
    try {
      end = w_->sync();
    } catch (const Error& e) {
      cut_back();
      bool full = std::string_view(e.what()).substr(0, 9) == "disk full";
      return wrap_(full ? error(507, "disk_full", "the hub's disk is full; resume later")
                        : error(500, "internal", "cannot make the upload durable"));
    }
    u_.offset = end;
    u_.expires = now_ms(h_.cfg.upload_expiry);
    try {
      h_.ix.update_upload(u_);
    } catch (const Error& e) {
      // Not recorded: the offset stays where it was, and so do the bytes.
      u_.offset = start_;
      cut_back();
      return wrap_(storage_error(e, h_.st, "cannot record the upload's offset"));
    }
    keep_hash();
    if (written_ > 0)
      h_.audit(c_, "upload.patch", u_.id, {{"offset", start_}, {"bytes", written_}});
    Response r;
    r.status = 204;
    r.set("Upload-Offset", std::to_string(u_.offset));
    r.set("Upload-Expires", http_date(parse_time(u_.expires)));
    if (u_.length && u_.offset == *u_.length && !u_.signature.empty() && u_.concat != "partial") {
      PackageRow pkg;
      if (auto err = h_.commit(c_, u_, u_.signature, pkg)) {
        err->set("Upload-Offset", std::to_string(u_.offset));
        return wrap_(std::move(*err));
      }
      r.set("Iep-Package", pkg.id);
    }
    return wrap_(std::move(r));
  }

  // The offset is durable and recorded: the state fed with its bytes is
  // the upload's now (or none, when it did not start at this PATCH's offset).
  void keep_hash() {
    std::optional<Hub::Impl::RunningHash> h;
    if (finished_) h = hash_->take_hash();
    if (h && h->offset != u_.offset) h.reset();  // not every byte went through body()
    h_.keep_hash(u_.id, std::move(h));
  }

  void cut_back() {
    try {
      w_.reset();
      h_.st.truncate(u_.id, start_);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "iep-serve: upload %s: cannot cut back to %llu: %s\n", u_.id.c_str(),
                   static_cast<unsigned long long>(start_), e.what());
    }
  }

  Hub::Impl& h_;
  Ctx& c_;
  UploadRow u_;
  std::uint64_t start_;
  std::uint64_t limit_;
  std::uint64_t written_ = 0;
  std::function<Response(Response)> wrap_;
  std::unique_ptr<UploadWriter> w_;
  std::unique_ptr<BlockHasher> hash_;  // fed from start_ on; the upload's once durable
  std::vector<std::uint8_t> block_;    // gathered, not yet written
  bool finished_ = false;              // every byte written is hashed
  std::string want_;                   // the Upload-Checksum's digest
  bool summed_ = false;                // the PATCH carries one
  std::optional<Response> failed_;
  std::uint64_t reserved_ = 0;  // quota reserved (deferred length)
  bool released_ = false;
};

}  // namespace

std::unique_ptr<Exchange> Hub::Impl::create(Ctx& c) {
  auto bad = [](Response r) -> std::unique_ptr<Exchange> {
    return std::make_unique<Immediate>(std::move(r));
  };
  const std::string* len_h = c.req.header("upload-length");
  const std::string* defer_h = c.req.header("upload-defer-length");
  const std::string* meta_h = c.req.header("upload-metadata");
  const std::string* concat_h = c.req.header("upload-concat");
  UploadRow u;
  u.site = c.site.name;
  std::optional<tus::Concat> concat;
  if (concat_h) {
    concat = tus::parse_concat(*concat_h);
    if (!concat) return bad(error(400, "bad_request", "malformed Upload-Concat"));
    u.concat = concat->partial ? "partial" : "final";
  }
  if (meta_h) {
    auto md = tus::parse_metadata(*meta_h);
    if (!md) return bad(error(400, "bad_request", "malformed Upload-Metadata"));
    u.metadata = *meta_h;
    for (auto& [k, v] : *md) {
      if (k == "signature") {
        if (v.size() > kMaxSignature)
          return bad(error(413, "too_large", "the signature is over 8 KiB"));
        u.signature = v;
      } else if (k == "package" && tus::valid_id(v)) {
        u.package_hint = v;
      }
    }
  }
  if (u.concat == "final") {
    if (len_h || defer_h) return bad(error(400, "bad_request", "a final upload takes no length"));
  } else if (len_h) {
    if (defer_h)
      return bad(error(400, "bad_request", "Upload-Length and Upload-Defer-Length both given"));
    u.length = tus::parse_uint(*len_h);
    if (!u.length) return bad(error(400, "bad_request", "malformed Upload-Length"));
    if (*u.length > cfg.max_package_size)
      return bad(error(413, "too_large",
                       "Upload-Length is over the hub's maximum package size of " +
                           std::to_string(cfg.max_package_size) + " bytes"));
  } else if (!defer_h || *defer_h != "1") {
    return bad(error(400, "bad_request", "Upload-Length or Upload-Defer-Length: 1 is required"));
  }
  u.id = random_hex(16);
  u.created = now_ms();
  u.expires = now_ms(cfg.upload_expiry);

  auto created = [](const UploadRow& row, Response r) {
    r.set("Location", "/v1/uploads/" + row.id);
    r.set("Upload-Expires", http_date(parse_time(row.expires)));
    return r;
  };

  if (u.concat == "final") {
    // Concatenate complete partial uploads of this site into a new upload.
    std::vector<UploadRow> parts;
    std::vector<std::unique_ptr<LeaseGuard>> leases;
    std::uint64_t total = 0;
    std::set<std::string> seen;
    for (auto& id : concat->parts) {
      Response err;
      auto p = own_upload(c, id, err);
      if (!p) return bad(std::move(err));
      if (!seen.insert(id).second || p->concat != "partial" || !p->length ||
          p->offset != *p->length)
        return bad(error(400, "bad_request", "upload " + id + " is not a complete partial upload"));
      if (!ix.try_lease(id)) return bad(error(423, "busy", "upload " + id + " is being written"));
      leases.push_back(std::make_unique<LeaseGuard>(ix, id));
      p = ix.upload(id);  // as it is under the lease (another final may have consumed it)
      if (!p || p->state != "open" || !p->length || p->offset != *p->length)
        return bad(error(400, "bad_request", "upload " + id + " is not a complete partial upload"));
      total += *p->length;
      parts.push_back(*p);
    }
    if (total > cfg.max_package_size)
      return bad(
          error(413, "too_large", "the concatenation is over the hub's maximum package size"));
    std::string parts_text;
    for (auto& p : parts) parts_text += (parts_text.empty() ? "" : " ") + p.id;
    u.parts = parts_text;
    u.length = total;
    // In the index first (at offset 0, its id known to no client yet): a
    // node starting now takes the store's bytes for its own, not orphans.
    ix.add_upload(u);
    try {
      st.create_upload(u.id);
      for (auto& p : parts) st.concat(u.id, p.id);
      u.offset = total;
      ix.update_upload(u);
    } catch (const Error& e) {
      ix.remove_upload(u.id);
      st.remove_upload(u.id);
      return bad(storage_error(e, st, "cannot concatenate"));
    }
    for (auto& p : parts) {
      ix.remove_upload(p.id);
      st.remove_upload(p.id);
      drop_hash(p.id);
    }
    audit(c, "upload.create", u.id,
          {{"concat", "final"}, {"parts", parts_text}, {"length", total}});
    Response r;
    r.status = 201;
    if (!u.signature.empty()) {
      if (!ix.try_lease(u.id)) return bad(error(423, "busy", "upload is being written"));
      LeaseGuard lease(ix, u.id);
      PackageRow pkg;
      auto err = commit(c, u, u.signature, pkg);
      if (err) return bad(created(u, std::move(*err)));
      r.set("Iep-Package", pkg.id);
    }
    return bad(created(u, std::move(r)));
  }

  {
    // Checked and recorded together: concurrent creations see each other.
    std::lock_guard lk(q_mu);
    if (ix.open_uploads(c.site.name) >= cfg.max_open_uploads) {
      Response r = error(429, "busy",
                         "this site has " + std::to_string(cfg.max_open_uploads) +
                             " unfinished uploads, the most the hub keeps; finish or "
                             "terminate (DELETE) some, or wait for them to expire");
      r.set("Retry-After", "60");
      return bad(std::move(r));
    }
    if (u.length && static_cast<std::int64_t>(*u.length) > remaining_locked(c.site.name))
      return bad(error(
          413, "quota",
          "this site's quota of " + std::to_string(cfg.site_quota) + " bytes would be exceeded"));
    try {
      ix.add_upload(u);
      st.create_upload(u.id);
    } catch (const Error& e) {
      ix.remove_upload(u.id);
      st.remove_upload(u.id);
      return bad(storage_error(e, st, "cannot create the upload"));
    }
  }
  audit(c, "upload.create", u.id,
        {{"length", u.length ? json(*u.length) : json(nullptr)},
         {"concat", u.concat},
         {"package", u.package_hint}});

  const std::string* ctype = c.req.header("content-type");
  const std::string* clen = c.req.header("content-length");
  bool has_body = (clen && *clen != "0") || c.req.header("transfer-encoding");
  if (!has_body || !ctype || util::trim(*ctype) != "application/offset+octet-stream") {
    Response r;
    r.status = 201;
    return bad(created(u, std::move(r)));
  }
  // creation-with-upload: the body is a PATCH at offset 0.
  std::uint64_t limit =
      u.length ? *u.length
               : std::min<std::uint64_t>(cfg.max_package_size,
                                         static_cast<std::uint64_t>(remaining_quota(c.site.name)));
  std::optional<tus::Checksum> sum;
  if (const std::string* ck = c.req.header("upload-checksum")) {
    sum = tus::parse_checksum(*ck);
    if (!sum || !Digest::supports(sum->algorithm))
      return bad(error(400, "bad_request", "malformed or unsupported Upload-Checksum"));
  }
  if (!ix.try_lease(u.id)) return bad(error(423, "busy", "upload is being written"));
  UploadRow row = u;
  return std::make_unique<UploadBody>(*this, c, u, sum, limit, [created, row](Response r) {
    if (r.status == 204) r.status = 201;
    if (r.status == 201 || r.status == 460 || r.status == 507) return created(row, std::move(r));
    return r;
  });
}

std::unique_ptr<Exchange> Hub::Impl::patch(Ctx& c, std::string_view id) {
  auto bad = [](Response r) -> std::unique_ptr<Exchange> {
    return std::make_unique<Immediate>(std::move(r));
  };
  Response err;
  auto u = own_upload(c, id, err);
  if (!u) return bad(std::move(err));
  const std::string* ctype = c.req.header("content-type");
  if (!ctype || util::trim(*ctype) != "application/offset+octet-stream")
    return bad(error(415, "unsupported_media_type",
                     "Content-Type must be application/offset+octet-stream"));
  const std::string* off_h = c.req.header("upload-offset");
  auto off = off_h ? tus::parse_uint(*off_h) : std::nullopt;
  if (!off) return bad(error(400, "bad_request", "a valid Upload-Offset is required"));
  std::optional<tus::Checksum> sum;
  if (const std::string* ck = c.req.header("upload-checksum")) {
    sum = tus::parse_checksum(*ck);
    if (!sum) return bad(error(400, "bad_request", "malformed Upload-Checksum"));
    if (!Digest::supports(sum->algorithm))
      return bad(error(400, "bad_request", "unsupported checksum algorithm " + sum->algorithm));
  }
  if (u->concat == "final") return bad(error(403, "forbidden", "a final upload cannot be patched"));
  if (!ix.try_lease(u->id))
    return bad(error(423, "busy", "another request is writing this upload"));
  LeaseGuard lease(ix, u->id);
  u = ix.upload(u->id);  // fresh, under the lease
  if (!u) return bad(not_found());
  try {
    settle(*u);
  } catch (const Error& e) {
    return bad(storage_error(e, st, "cannot read the upload's state"));
  }
  if (*off != u->offset) {
    Response r = error(409, "offset_mismatch",
                       "Upload-Offset " + std::to_string(*off) + " is not the upload's offset " +
                           std::to_string(u->offset));
    r.set("Upload-Offset", std::to_string(u->offset));
    return bad(std::move(r));
  }
  if (const std::string* len_h = c.req.header("upload-length")) {
    auto len = tus::parse_uint(*len_h);
    if (!len) return bad(error(400, "bad_request", "malformed Upload-Length"));
    if (u->length && *u->length != *len)
      return bad(error(400, "bad_request", "Upload-Length is already set"));
    if (*len < u->offset)
      return bad(error(400, "bad_request", "Upload-Length is below the offset"));
    if (*len > cfg.max_package_size)
      return bad(error(413, "too_large", "Upload-Length is over the hub's maximum package size"));
    if (!u->length) {
      // From now on the whole length counts against the quota (it counted
      // the offset so far), as it would have from a creation with it.
      std::lock_guard lk(q_mu);
      if (*len - u->offset > static_cast<std::uint64_t>(remaining_locked(c.site.name)))
        return bad(error(
            413, "quota",
            "this site's quota of " + std::to_string(cfg.site_quota) + " bytes would be exceeded"));
      u->length = len;
      ix.update_upload(*u);
    }
  }
  std::uint64_t limit;
  if (u->length) {
    limit = *u->length - u->offset;
  } else {
    std::uint64_t cap = cfg.max_package_size;
    std::int64_t q = remaining_quota(c.site.name);
    limit = cap > u->offset ? cap - u->offset : 0;
    limit = std::min<std::uint64_t>(limit, static_cast<std::uint64_t>(q));
  }
  if (const std::string* clen = c.req.header("content-length")) {
    auto n = tus::parse_uint(*clen);
    if (n && *n > limit) {
      if (u->length && u->offset + *n > *u->length)
        return bad(error(400, "bad_request", "the body goes past Upload-Length"));
      return bad(error(413, "too_large",
                       "the upload goes past the hub's maximum package size or this site's quota"));
    }
    if (n && *n > st.free_space()) {
      Response r = error(507, "disk_full", "the hub's disk is full; resume later");
      r.set("Upload-Offset", std::to_string(u->offset));
      return bad(std::move(r));
    }
  }
  lease.keep = true;  // UploadBody releases it
  return std::make_unique<UploadBody>(*this, c, *u, sum, limit, [](Response r) { return r; });
}

Response Hub::Impl::head(Ctx& c, std::string_view id) {
  Response err;
  auto u = own_upload(c, id, err);
  if (!u) return err;
  Response r;
  r.status = 200;
  r.set("Cache-Control", "no-store");
  r.set("Upload-Offset", std::to_string(u->offset));
  if (u->length)
    r.set("Upload-Length", std::to_string(*u->length));
  else
    r.set("Upload-Defer-Length", "1");
  r.set("Upload-Expires", http_date(parse_time(u->expires)));
  if (!u->metadata.empty()) r.set("Upload-Metadata", u->metadata);
  if (u->concat == "partial") r.set("Upload-Concat", "partial");
  if (u->concat == "final") {
    std::string v = "final;";
    std::string_view parts = u->parts;
    bool first = true;
    while (!parts.empty()) {
      auto sp = parts.find(' ');
      if (!first) v += ' ';
      v += "/v1/uploads/";
      v += parts.substr(0, sp);
      first = false;
      if (sp == std::string_view::npos) break;
      parts.remove_prefix(sp + 1);
    }
    r.set("Upload-Concat", v);
  }
  return r;
}

Response Hub::Impl::terminate(Ctx& c, std::string_view id) {
  Response err;
  auto u = own_upload(c, id, err);
  if (!u) return err;
  if (!ix.try_lease(u->id)) return error(423, "busy", "another request is writing this upload");
  LeaseGuard lease(ix, u->id);
  ix.remove_upload(u->id);
  st.remove_upload(u->id);
  drop_hash(u->id);
  audit(c, "upload.terminate", u->id);
  Response r;
  r.status = 204;
  return r;
}

Response Hub::Impl::commit_endpoint(Ctx& c, std::string_view id, const std::string& body) {
  Response err;
  auto u = own_upload(c, id, err);
  if (!u) return err;
  if (u->concat == "partial")
    return error(400, "bad_request", "a partial upload cannot be committed");
  if (!u->length || u->offset != *u->length)
    return error(409, "conflict", "the upload is not complete");
  if (!ix.try_lease(u->id)) return error(423, "busy", "another request is writing this upload");
  LeaseGuard lease(ix, u->id);
  PackageRow pkg;
  auto res = commit(c, *u, body, pkg);
  if (res) return std::move(*res);
  json j = {{"package", pkg.id},
            {"sender", pkg.sender},
            {"size", pkg.size},
            {"blake2b", pkg.blake2b},
            {"committed", pkg.committed}};
  json rc = json::array();
  for (auto& r : pkg.recipients) rc.push_back(r.site);
  j["recipients"] = rc;
  Response r = json_response(200, j);
  r.set("Iep-Package", pkg.id);
  return r;
}

std::optional<Response> Hub::Impl::commit(Ctx& c, UploadRow& u, const std::string& sig_text,
                                          PackageRow& pkg) {
  auto reject = [&](int status, const std::string& code, const std::string& msg) {
    audit(c, "reject", u.id, {{"code", code}, {"message", msg}});
    return error(status, code, msg);
  };
  if (sig_text.size() > kMaxSignature)
    return reject(413, "too_large", "the signature is over 8 KiB");
  minisign::Signature sig;
  try {
    sig = minisign::Signature::parse(sig_text);
  } catch (const Error& e) {
    return reject(422, "bad_signature", std::string("malformed signature: ") + e.what());
  }
  // The prehash the signature covers: as the PATCHes fed it, else from the
  // stored bytes.
  minisign::Prehash pre;
  std::uint64_t size = 0;
  auto fed = running_hash(u.id, u.offset);
  try {
    if (fed && fed->offset > 0 && st.upload_size(u.id) == fed->offset) {
      pre = fed->pre;
      size = fed->offset;
    } else {
      {
        std::lock_guard lk(m_mu);
        ++rehashed;
      }
      auto src = st.read_upload(u.id);
      std::vector<std::uint8_t> buf(1 << 20);
      for (;;) {
        std::size_t n = src->read(buf);
        if (n == 0) break;
        ByteSpan d(buf.data(), n);
        pre.write(d);
        size += n;
      }
    }
  } catch (const Error&) {
    return error(500, "internal", "cannot read the upload");
  }
  if (!u.length || size != *u.length)
    return error(500, "internal", "the stored upload is not complete");
  SiteCard card;
  try {
    card = SiteCard::parse(c.site.card, "site " + c.site.name);
  } catch (const Error&) {
    return error(500, "internal", "the registered card of this site does not parse");
  }
  // The package's hash (protocol: "blake2b") is this digest: what b2sum prints.
  const auto digest = pre.digest();
  package::SealedStatement stmt;
  try {
    stmt = package::check_sealed_signature(sig, digest, card, "upload " + u.id);
  } catch (const Error& e) {
    return reject(422, "bad_signature", e.what());
  }
  if (!tus::valid_id(stmt.package_id))
    return reject(422, "bad_signature", "the signed statement's package id is malformed");
  if (!stmt.to || stmt.to->empty())
    return reject(422, "not_routable", "the signed statement names no recipients (to=)");
  std::vector<std::string> to;
  for (auto& r : *stmt.to) {
    auto s = ix.site(r);
    if (!s || !s->active) return reject(422, "unknown_recipient", "unknown recipient site " + r);
    if (std::find(to.begin(), to.end(), r) == to.end()) to.push_back(r);
  }
  std::string blake = util::hex(digest);
  c.package = stmt.package_id;
  // One commit of a package id at a time (a client's retry racing its first
  // attempt, or another site that learnt the id): the check below and the
  // store's rename then see each other.
  std::string plock = "package:" + stmt.package_id;
  if (!ix.try_lease(plock))
    return error(423, "busy",
                 "package " + stmt.package_id + " is being committed by another request");
  LeaseGuard package_lease(ix, plock);
  if (auto existing = ix.package(stmt.package_id)) {
    if (existing->sender == c.site.name && existing->blake2b == blake) {
      ix.remove_upload(u.id);
      st.remove_upload(u.id);
      drop_hash(u.id);
      pkg = *existing;
      return std::nullopt;  // idempotent
    }
    return reject(409, "conflict",
                  "package " + stmt.package_id + " was committed with other bytes");
  }
  pkg.id = stmt.package_id;
  pkg.sender = c.site.name;
  pkg.size = size;
  pkg.blake2b = blake;
  pkg.signature = sig_text;
  pkg.created = stmt.created;
  pkg.upload_started = u.created;
  pkg.committed = now_ms();
  pkg.expires = now_ms(cfg.expire_after);
  pkg.state = "committed";
  for (auto& r : to) pkg.recipients.push_back(RecipientRow{r, std::nullopt, std::nullopt, "", ""});

  u.state = "committing";
  u.committing_package = pkg.id;
  ix.update_upload(u);
  try {
    st.commit(u.id, pkg.id);
  } catch (const Error& e) {
    u.state = "open";
    u.committing_package.clear();
    ix.update_upload(u);
    bool full = std::string_view(e.what()).substr(0, 9) == "disk full";
    return full ? error(507, "disk_full", "the hub's disk is full")
                : error(500, "internal", "cannot store the package");
  }
  drop_hash(u.id);
  CommitRecord rec;
  rec.upload_id = u.id;
  rec.package = pkg;
  json rj = json::array();
  for (auto& r : to) rj.push_back(r);
  rec.audit = event(c, "commit", pkg.id,
                    {{"upload", u.id}, {"size", size}, {"blake2b", blake}, {"to", rj}});
  try {
    ix.commit(rec);
  } catch (const std::exception& e) {
    try {
      st.uncommit(pkg.id, u.id);
      u.state = "open";
      u.committing_package.clear();
      ix.update_upload(u);
    } catch (const std::exception&) {
    }
    return error(500, "internal", "cannot record the package");
  }
  {
    std::lock_guard lk(m_mu);
    upload_latency.add(
        static_cast<double>(parse_time(pkg.committed) - parse_time(pkg.upload_started)));
  }
  {
    std::lock_guard lk(mb_mu);
    ++commits;
  }
  mb_cv.notify_all();
  std::fprintf(stderr, "iep-serve: %s package %s committed from %s, %llu bytes\n", c.rid.c_str(),
               pkg.id.c_str(), pkg.sender.c_str(), static_cast<unsigned long long>(size));
  return std::nullopt;
}

// ---- packages ---------------------------------------------------------------------

json Hub::Impl::package_json(const PackageRow& p, bool full) {
  json j = {{"package", p.id},      {"sender", p.sender},       {"size", p.size},
            {"blake2b", p.blake2b}, {"committed", p.committed}, {"expires", p.expires}};
  if (!full) {
    j["signature"] = p.signature;
    return j;
  }
  j["state"] = p.state;
  j["created"] = p.created;
  j["upload_started"] = p.upload_started;
  json rs = json::array();
  for (auto& r : p.recipients) {
    json x = {{"site", r.site},
              {"first_fetched", r.first_fetched ? json(*r.first_fetched) : json(nullptr)},
              {"acknowledged", r.acknowledged ? json(*r.acknowledged) : json(nullptr)},
              {"receipt", nullptr}};
    if (!r.receipt_statement.empty())
      x["receipt"] = {{"statement", r.receipt_statement}, {"signature", r.receipt_signature}};
    rs.push_back(x);
  }
  j["recipients"] = rs;
  return j;
}

Response Hub::Impl::timeline(Ctx& c, std::string_view id) {
  if (!tus::valid_id(id)) return not_found();
  auto p = ix.package(std::string(id));
  if (!p) return not_found();
  bool mine = p->sender == c.site.name;
  for (auto& r : p->recipients) mine = mine || r.site == c.site.name;
  if (!mine) return not_found();
  c.package = p->id;
  return json_response(200, package_json(*p, true));
}

Response Hub::Impl::sent(Ctx& c) {
  std::size_t limit = 100;
  if (const std::string* l = c.req.param("limit")) {
    auto n = tus::parse_uint(*l);
    if (!n || *n == 0) return error(400, "bad_request", "limit must be a positive number");
    limit = std::min<std::size_t>(*n, 1000);
  }
  std::string after;
  if (const std::string* a = c.req.param("after")) {
    if (!tus::valid_id(*a)) return error(400, "bad_request", "after must be a package id");
    after = *a;
  }
  json arr = json::array();
  for (auto& p : ix.sent(c.site.name, limit, after)) arr.push_back(package_json(p, true));
  return json_response(200, {{"packages", arr}});
}

Response Hub::Impl::mailbox(Ctx& c) {
  std::int64_t wait = 0;
  if (const std::string* w = c.req.param("wait")) {
    auto n = tus::parse_uint(*w);
    if (!n || *n > 60) return error(400, "bad_request", "wait must be 0 to 60 seconds");
    wait = std::min(static_cast<std::int64_t>(*n), cfg.max_wait);
  }
  // A site holds at most max_waits_per_site long polls at once; beyond
  // that a poll answers at once, so one site cannot hold every connection.
  struct Waiter {
    Impl& h;
    std::string site;
    bool held = false;
    ~Waiter() {
      if (!held) return;
      std::lock_guard lk(h.mb_mu);
      if (--h.waiting[site] == 0) h.waiting.erase(site);
    }
  } waiter{*this, c.site.name};
  if (wait > 0) {
    std::lock_guard lk(mb_mu);
    unsigned& n = waiting[c.site.name];
    if (n >= cfg.max_waits_per_site) {
      wait = 0;
      if (n == 0) waiting.erase(c.site.name);
    } else {
      ++n;
      waiter.held = true;
    }
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait);
  std::vector<PackageRow> list;
  for (;;) {
    std::uint64_t gen;
    {
      std::lock_guard lk(mb_mu);
      gen = commits;
    }
    list = ix.mailbox(c.site.name);
    if (!list.empty() || wait == 0) break;
    std::unique_lock lk(mb_mu);
    if (!mb_cv.wait_until(lk, deadline, [&] { return commits != gen || stopping; })) break;
    if (stopping) break;
  }
  json arr = json::array();
  for (auto& p : list) arr.push_back(package_json(p, false));
  // A list that names packages is always audited; an empty one (a poll)
  // at most once a minute per site, with the number of polls since: a site
  // polling hard must not turn each poll into a synchronous index write.
  std::uint64_t polls = 0;
  if (!list.empty() || empty_poll_recorded(c.site.name, polls))
    audit(c, "list", "", {{"count", list.size()}, {"empty_polls_before", polls}});
  return json_response(200, {{"packages", arr}});
}

std::optional<PackageRow> Hub::Impl::addressed(const Ctx& c, std::string_view id) {
  if (!tus::valid_id(id)) return std::nullopt;
  auto p = ix.package(std::string(id));
  if (!p) return std::nullopt;
  for (auto& r : p->recipients)
    if (r.site == c.site.name) return p;
  return std::nullopt;
}

Response Hub::Impl::download(Ctx& c, std::string_view id) {
  auto p = addressed(c, id);
  if (!p) return not_found();
  c.package = p->id;
  if (p->state == "expired") return error(410, "expired", "this package expired unfetched");
  if (p->state == "deleted") return error(410, "expired", "this package was deleted");
  PackageReader rd;
  try {
    rd = st.open_package(p->id);
  } catch (const Error&) {
    return error(500, "internal", "the package's bytes are missing");
  }
  std::string etag = "\"" + p->blake2b + "\"";
  Response r;
  r.set("ETag", etag);
  r.set("Accept-Ranges", "bytes");
  r.set("Content-Type", "application/octet-stream");
  std::uint64_t first = 0, last = rd.size ? rd.size - 1 : 0;
  bool partial = false;
  const std::string* range_h = c.req.header("range");
  const std::string* ifr = c.req.header("if-range");
  if (range_h && (!ifr || util::trim(*ifr) == etag)) {
    if (auto rg = tus::parse_range(*range_h, rd.size)) {
      if (!rg->satisfiable) {
        Response e = error(416, "bad_request", "the range is outside the package");
        e.set("Content-Range", "bytes */" + std::to_string(rd.size));
        return e;
      }
      first = rg->first;
      last = rg->last;
      partial = true;
    }
  }
  r.status = partial ? 206 : 200;
  if (partial)
    r.set("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                               std::to_string(rd.size));
  r.file_offset = first;
  r.file_length = rd.size == 0 ? 0 : last - first + 1;
  if (rd.fd.get() >= 0) {
    r.file = std::move(rd.fd);
  } else if (c.req.method == "GET") {
    try {
      r.stream = st.read_package(p->id, first, r.file_length);
    } catch (const Error&) {
      return error(500, "internal", "the package's bytes cannot be read");
    }
  }
  if (c.req.method != "GET") return r;  // HEAD: no download yet
  std::string now = now_ms();
  ix.set_first_fetched(p->id, c.site.name, now);
  {
    std::lock_guard lk(m_mu);
    if (!p->recipients.empty() && first == 0)
      for (auto& r : p->recipients)
        if (r.site == c.site.name && !r.first_fetched)
          delivery_latency.add(static_cast<double>(now_s() - parse_time(p->committed)));
  }
  audit(c, "download", p->id, {{"first", first}, {"last", last}});
  return r;
}

Response Hub::Impl::signature(Ctx& c, std::string_view id) {
  auto p = addressed(c, id);
  if (!p) return not_found();
  c.package = p->id;
  return text_response(200, p->signature);
}

Response Hub::Impl::ack(Ctx& c, std::string_view id, const std::string& body) {
  auto p = addressed(c, id);
  if (!p) return not_found();
  c.package = p->id;
  json j = util::json_depth(body) > 4 ? json(nullptr) : json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("statement") ||
      !j["statement"].is_string() || !j.contains("signature") || !j["signature"].is_string())
    return error(400, "bad_request", "the body must be {\"statement\":...,\"signature\":...}");
  std::string stmt = j["statement"], sig = j["signature"];
  try {
    SiteCard card = SiteCard::parse(c.site.card, "site " + c.site.name);
    check_receipt(stmt, sig, card, p->id, p->blake2b, p->sender);
  } catch (const Error& e) {
    audit(c, "reject", p->id, {{"code", "bad_receipt"}, {"message", e.what()}});
    return error(422, "bad_receipt", e.what());
  }
  std::string t = ix.acknowledge(p->id, c.site.name, stmt, sig, now_ms(), event(c, "ack", p->id));
  std::fprintf(stderr, "iep-serve: %s package %s acknowledged by %s\n", c.rid.c_str(),
               p->id.c_str(), c.site.name.c_str());
  return json_response(200, {{"package", p->id}, {"acknowledged", t}});
}

Response Hub::Impl::metrics() {
  std::string out;
  std::lock_guard lk(m_mu);
  out += "# HELP iep_http_requests_total HTTP requests by method and status.\n";
  out += "# TYPE iep_http_requests_total counter\n";
  for (auto& [k, n] : requests)
    out += "iep_http_requests_total{method=\"" + k.first + "\",status=\"" +
           std::to_string(k.second) + "\"} " + std::to_string(n) + "\n";
  out +=
      "# HELP iep_http_bytes_in_total Request body bytes received.\n# TYPE iep_http_bytes_in_total "
      "counter\n";
  out += "iep_http_bytes_in_total " + std::to_string(bytes_in) + "\n";
  out +=
      "# HELP iep_http_bytes_out_total Response body bytes sent.\n# TYPE iep_http_bytes_out_total "
      "counter\n";
  out += "iep_http_bytes_out_total " + std::to_string(bytes_out) + "\n";
  out +=
      "# HELP iep_commits_rehashed_total Commits that read their upload again to hash it (no "
      "running hash: a restart mid-upload, a concatenation).\n# TYPE iep_commits_rehashed_total "
      "counter\n";
  out += "iep_commits_rehashed_total " + std::to_string(rehashed) + "\n";
  out += "# HELP iep_packages Packages held by state.\n# TYPE iep_packages gauge\n";
  for (const char* s : {"committed", "delivered", "expired", "deleted"})
    out += std::string("iep_packages{state=\"") + s + "\"} " +
           std::to_string(ix.packages_in_state(s).size()) + "\n";
  auto hist = [&](const char* name, const char* help, const Histogram& h) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " histogram\n";
    for (std::size_t i = 0; i < h.kBounds.size(); ++i) {
      char le[32];
      std::snprintf(le, sizeof le, "%g", h.kBounds[i]);
      out +=
          std::string(name) + "_bucket{le=\"" + le + "\"} " + std::to_string(h.buckets[i]) + "\n";
    }
    out += std::string(name) + "_bucket{le=\"+Inf\"} " + std::to_string(h.count) + "\n";
    char sum[64];
    std::snprintf(sum, sizeof sum, "%g", h.sum);
    out += std::string(name) + "_sum " + sum + "\n" + name + "_count " + std::to_string(h.count) +
           "\n";
  };
  {
    std::lock_guard wl(mb_mu);
    unsigned n = 0;
    for (auto& [site, k] : waiting) n += k;
    out += "# HELP iep_long_polls Mailbox long polls being held.\n# TYPE iep_long_polls gauge\n";
    out += "iep_long_polls " + std::to_string(n) + "\n";
  }
  hist("iep_upload_seconds", "From upload start to commit.", upload_latency);
  hist("iep_delivery_seconds", "From commit to first fetch.", delivery_latency);
  return text_response(200, out, "text/plain; version=0.0.4");
}

// ---- routing -----------------------------------------------------------------------

std::unique_ptr<Exchange> Hub::Impl::route(Ctx& c) {
  auto now = [](Response r) -> std::unique_ptr<Exchange> {
    return std::make_unique<Immediate>(std::move(r));
  };
  const std::string& m = c.req.method;
  auto seg = segments(c.req.path);
  // A small body collected whole; one declared larger is refused before it
  // is sent (with Expect: 100-continue) or read.
  auto buffered = [&c](std::size_t limit,
                       std::function<Response(std::string)> fn) -> std::unique_ptr<Exchange> {
    if (const std::string* cl = c.req.header("content-length"))
      if (auto n = tus::parse_uint(*cl); n && *n > limit)
        return std::make_unique<Immediate>(Buffered::too_large(limit));
    return std::make_unique<Buffered>(limit, std::move(fn));
  };
  if (seg.size() == 1 && seg[0] == "healthz" && (m == "GET" || m == "HEAD"))
    return now(text_response(200, "ok\n"));
  if (seg.size() == 1 && seg[0] == "metrics" && (m == "GET" || m == "HEAD")) return now(metrics());
  if (seg.empty() || seg[0] != "v1") return now(not_found());
  bool tus_path = seg.size() >= 2 && seg[1] == "uploads" && seg.size() <= 3;
  if (m == "OPTIONS" && tus_path) return now(options());
  if (auto denied = authenticate(c)) return now(std::move(*denied));
  if (seg.size() < 2) return now(not_found());
  bool is_tus = tus_path && (m == "POST" || m == "HEAD" || m == "PATCH" || m == "DELETE") &&
                !(seg.size() == 3 && m == "POST");
  if (is_tus) {
    const std::string* v = c.req.header("tus-resumable");
    if (!v || util::trim(*v) != "1.0.0") {
      Response r = error(412, "precondition_failed", "Tus-Resumable: 1.0.0 is required");
      r.set("Tus-Version", "1.0.0");
      return now(std::move(r));
    }
  }
  // Admin endpoints.
  if (seg.size() >= 2 && seg[1] == "admin") {
    if (!c.token.admin) return now(error(403, "forbidden", "an admin token is required"));
    std::string actor = "admin";
    // A removal: 204, or 404 when nothing active has that name. Any other
    // failure (the index's) goes on up as a 500: never "no such object".
    auto removal = [&now](const std::function<void()>& remove) {
      try {
        remove();
      } catch (const Error& e) {
        if (e.code() != Exit::input) throw;
        return now(not_found());
      }
      Response r;
      r.status = 204;
      return now(std::move(r));
    };
    if (seg.size() == 3 && seg[2] == "sites" && m == "POST")
      return buffered(kMaxJsonBody, [this, actor](const std::string& body) {
        try {
          std::string name = admin_site_add(ix, body, actor);
          return json_response(201, {{"site", name}});
        } catch (const Error& e) {
          if (e.code() == Exit::rejected) return error(409, "conflict", e.what());
          if (e.code() == Exit::internal) throw;  // the index's: a 500
          return error(400, "bad_request", e.what());
        }
      });
    if (seg.size() == 4 && seg[2] == "sites" && m == "DELETE")
      return removal([&] { admin_site_remove(ix, std::string(seg[3]), actor); });
    if (seg.size() == 5 && seg[2] == "sites" && seg[4] == "tokens" && m == "POST") {
      auto s = ix.site(std::string(seg[3]));
      if (!s || !s->active) return now(not_found());
      auto [tok, id] = admin_token_issue(ix, s->name, actor);
      Response r = json_response(201, {{"token", tok}, {"id", id}});
      util::wipe(tok);
      return now(std::move(r));
    }
    if (seg.size() == 4 && seg[2] == "tokens" && m == "DELETE")
      return removal([&] { admin_token_revoke(ix, std::string(seg[3]), actor); });
    if (seg.size() == 3 && seg[2] == "audit" && m == "GET") {
      std::uint64_t after = 0;
      if (const std::string* a = c.req.param("after")) {
        auto n = tus::parse_uint(*a);
        if (!n) return now(error(400, "bad_request", "after must be a sequence number"));
        after = *n;
      }
      std::string out;
      for (auto& l : ix.audit_lines(after, 100000)) out += l + "\n";
      return now(text_response(200, out, "application/jsonl"));
    }
    return now(not_found());
  }
  if (seg.size() == 3 && seg[1] == "audit" && seg[2] == "checkpoints" && m == "GET") {
    std::string out = "[";
    bool first = true;
    for (auto& cp : ix.checkpoints()) {
      out += (first ? "" : ",") + cp;
      first = false;
    }
    return now(text_response(200, out + "]\n", "application/json"));
  }
  if (seg.size() == 3 && seg[1] == "hub" && seg[2] == "card" && m == "GET")
    return now(text_response(200, hub_public_key_file(key)));
  if (c.token.admin) return now(error(403, "forbidden", "a site token is required"));

  if (seg[1] == "uploads") {
    if (seg.size() == 2 && m == "POST") return create(c);
    if (seg.size() == 3 && m == "PATCH") return patch(c, seg[2]);
    if (seg.size() == 3 && m == "HEAD") return now(head(c, seg[2]));
    if (seg.size() == 3 && m == "DELETE") return now(terminate(c, seg[2]));
    if (seg.size() == 4 && seg[3] == "commit" && m == "POST") {
      std::string id(seg[2]);
      return buffered(kMaxSignature, [this, &c, id](const std::string& body) {
        return commit_endpoint(c, id, body);
      });
    }
    return now(not_found());
  }
  if (seg[1] == "packages" && seg.size() == 3 && (m == "GET" || m == "HEAD"))
    return now(timeline(c, seg[2]));
  if (seg[1] == "sent" && seg.size() == 2 && (m == "GET" || m == "HEAD")) return now(sent(c));
  if (seg[1] == "sites" && seg.size() == 4 && seg[3] == "card" && (m == "GET" || m == "HEAD")) {
    auto s = ix.site(std::string(seg[2]));
    if (!s || !s->active) return now(not_found());
    return now(text_response(200, s->card));
  }
  if (seg[1] == "mailbox") {
    if (seg.size() == 2 && (m == "GET" || m == "HEAD")) return now(mailbox(c));
    if (seg.size() == 3 && (m == "GET" || m == "HEAD")) return now(download(c, seg[2]));
    if (seg.size() == 4 && seg[3] == "signature" && (m == "GET" || m == "HEAD"))
      return now(signature(c, seg[2]));
    if (seg.size() == 4 && seg[3] == "ack" && m == "POST") {
      std::string id(seg[2]);
      return buffered(kMaxJsonBody,
                      [this, &c, id](const std::string& body) { return ack(c, id, body); });
    }
  }
  return now(not_found());
}

// ---- the Hub ------------------------------------------------------------------------

namespace {

// Wraps every exchange: request id, Tus-Resumable, metrics, the log line.
class Logged : public Exchange {
 public:
  Logged(Hub& hub, Hub::Impl& impl, std::unique_ptr<Ctx> c)
      : hub_(hub), impl_(impl), c_(std::move(c)) {
    try {
      inner_ = impl_.route(*c_);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "iep-serve: %s: %s\n", c_->rid.c_str(), e.what());
      inner_ = std::make_unique<Immediate>(error(500, "internal", "internal error"));
    }
    if (const Response* r = inner_->early()) {
      early_ = Response();
      early_->status = r->status;
      early_->headers = r->headers;
      early_->body = r->body;
      decorate(*early_);
    }
  }
  void body(ByteSpan d) override {
    in_ += d.size();
    try {
      inner_->body(d);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "iep-serve: %s: %s\n", c_->rid.c_str(), e.what());
    }
  }
  Response finish() override {
    Response r;
    try {
      r = inner_->finish();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "iep-serve: %s: %s\n", c_->rid.c_str(), e.what());
      r = error(500, "internal", "internal error");
    }
    decorate(r);
    done(r.status, r.file.get() >= 0 || r.stream ? r.file_length : r.body.size());
    return r;
  }
  void abort() override {
    try {
      inner_->abort();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "iep-serve: %s: %s\n", c_->rid.c_str(), e.what());
    }
    done(499, 0);
  }
  [[nodiscard]] const Response* early() const override { return early_ ? &*early_ : nullptr; }
  ~Logged() override { inner_.reset(); }
  Logged(const Logged&) = delete;
  Logged& operator=(const Logged&) = delete;

 private:
  void decorate(Response& r) {
    r.set("X-Request-Id", c_->rid);
    auto seg = segments(c_->req.path);
    if (seg.size() >= 2 && seg[0] == "v1" && seg[1] == "uploads") {
      bool has = false;
      for (auto& [k, v] : r.headers) has = has || k == "Tus-Resumable";
      if (!has) r.set("Tus-Resumable", "1.0.0");
    }
  }
  void done(int status, std::uint64_t out) {
    {
      std::lock_guard lk(impl_.m_mu);
      impl_.requests[{c_->req.method, status}]++;
      impl_.bytes_in += in_;
      impl_.bytes_out += out;
    }
    hub_.log_request(c_->req, status, in_, out, c_->rid, c_->package);
  }
  Hub& hub_;
  Hub::Impl& impl_;
  std::unique_ptr<Ctx> c_;
  std::unique_ptr<Exchange> inner_;
  std::optional<Response> early_;
  std::uint64_t in_ = 0;
};

}  // namespace

Hub::Hub(HubConfig config) : cfg_(std::move(config)) {
  std::error_code ec;
  // A new data folder is private to the hub's user (sealed packages only,
  // but also the hub's key and who sent what to whom).
  if (fs::create_directories(cfg_.data, ec))
    fs::permissions(cfg_.data, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) throw Error(Exit::output, cfg_.data.string() + ": " + ec.message());
  index_ = open_index(cfg_.index, cfg_.data);
  store_ = open_store(cfg_.store, cfg_.data);
  impl_ = std::make_unique<Impl>(*this, hub_key(cfg_.data));
  // Commits on other nodes sharing the index wake this node's long polls.
  index_->watch([impl = impl_.get()] {
    {
      std::lock_guard lk(impl->mb_mu);
      ++impl->commits;
    }
    impl->mb_cv.notify_all();
  });
  // Bring the uploads in line with the bytes that are durable. With several
  // nodes, an upload another node is writing now is left to it.
  for (auto& u : index_->uploads()) {
    if (u.state == "expired" || !index_->try_lease(u.id)) continue;
    LeaseGuard lease(*index_, u.id);
    auto fresh = index_->upload(u.id);  // as it is now that this node holds it
    if (!fresh) continue;
    u = *fresh;
    if (u.state == "committing") {
      if (!index_->package(u.committing_package) && store_->has_package(u.committing_package))
        store_->uncommit(u.committing_package, u.id);
      u.state = "open";
      u.committing_package.clear();
      index_->update_upload(u);
    }
    impl_->settle(u);
  }
  impl_->remove_orphans();
}

// The index's watcher thread wakes impl_'s long polls: the index goes
// first, so that no wake-up comes after impl_ is gone.
Hub::~Hub() {
  index_.reset();
}

std::unique_ptr<Exchange> Hub::begin(Request req) {
  auto c = std::make_unique<Ctx>();
  c->req = std::move(req);
  // tus clients behind proxies that drop PATCH send POST with an override;
  // only for uploads (a POST made HEAD elsewhere would send a package's
  // bytes without recording the download).
  if (c->req.method == "POST" && c->req.path.rfind("/v1/uploads/", 0) == 0)
    if (const std::string* o = c->req.header("x-http-method-override"))
      if (*o == "PATCH" || *o == "DELETE") c->req.method = *o;
  c->rid = random_hex(8);
  return std::make_unique<Logged>(*this, *impl_, std::move(c));
}

void Hub::wake_all() {
  {
    std::lock_guard lk(impl_->mb_mu);
    impl_->stopping = true;
  }
  impl_->mb_cv.notify_all();
}

void Hub::log_request(const Request& req, int status, std::uint64_t in, std::uint64_t out,
                      const std::string& rid, const std::string& package) const {
  if (!cfg_.log_requests) return;
  std::string path = req.path.size() > 200 ? req.path.substr(0, 200) + "..." : req.path;
  for (char& ch : path)
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) >= 0x7f) ch = '?';
  std::fprintf(stderr, "%s %s %s %s %s %d in=%llu out=%llu%s%s\n", now_ms().c_str(), rid.c_str(),
               req.peer.c_str(), req.method.c_str(), path.c_str(), status,
               static_cast<unsigned long long>(in), static_cast<unsigned long long>(out),
               package.empty() ? "" : " package=", package.c_str());
}

void Hub::sweep() {
  // Orphans are looked for every 60th sweep only: listing an object store
  // is a request per thousand uploads.
  if (impl_->sweeps++ % 60 == 59) impl_->remove_orphans();
  Ctx hub_ctx;
  hub_ctx.site.name = "hub";
  std::int64_t now = now_s();
  for (auto& u : index_->uploads()) {
    std::int64_t exp = parse_time(u.expires);
    if (u.state == "open" && exp > 0 && exp < now && index_->try_lease(u.id)) {
      LeaseGuard lease(*index_, u.id);
      u.state = "expired";
      index_->update_upload(u);
      store_->remove_upload(u.id);
      impl_->drop_hash(u.id);
      impl_->audit(hub_ctx, "upload.expire", u.id);
      std::fprintf(stderr, "iep-serve: upload %s of %s expired\n", u.id.c_str(), u.site.c_str());
    } else if (u.state == "expired" && exp + cfg_.upload_expiry < now) {
      index_->remove_upload(u.id);
    }
  }
  // A package's state moves first, in one transaction with its audit
  // record, and only the node that moved it removes its bytes: sweeps on
  // several nodes at once delete each package once.
  for (auto& p : index_->packages_in_state("committed")) {
    if (parse_time(p.expires) < now &&
        index_->set_package_state(p.id, "committed", "expired",
                                  impl_->event(hub_ctx, "expire", p.id))) {
      store_->remove_package(p.id);
      std::fprintf(stderr, "iep-serve: package %s from %s expired unfetched\n", p.id.c_str(),
                   p.sender.c_str());
    }
  }
  for (auto& p : index_->packages_in_state("delivered")) {
    if (p.all_acked && parse_time(*p.all_acked) + cfg_.ack_grace < now &&
        index_->set_package_state(p.id, "delivered", "deleted",
                                  impl_->event(hub_ctx, "delete", p.id))) {
      store_->remove_package(p.id);
      std::fprintf(stderr, "iep-serve: package %s deleted after delivery\n", p.id.c_str());
    }
  }
}

void Hub::checkpoint() {
  auto head = index_->audit_head();
  if (!head) return;
  auto cps = index_->checkpoints();
  if (!cps.empty()) {
    json last = json::parse(cps.back(), nullptr, false);
    if (!last.is_discarded() && last.value("seq", std::uint64_t{0}) == head->seq) return;
  }
  index_->add_checkpoint(make_checkpoint_json(head->seq, head->hash, now_ms(), impl_->key));
}

// ---- administration -----------------------------------------------------------------

namespace {
AuditEvent admin_event(const std::string& actor, const std::string& action, const json& detail) {
  AuditEvent e;
  e.action = action;
  e.actor = actor;
  e.detail_json = detail.dump(-1, ' ', false, json::error_handler_t::replace);
  return e;
}
}  // namespace

std::string admin_site_add(Index& ix, const std::string& card_text, const std::string& actor) {
  SiteCard card = SiteCard::parse(card_text, "the card");
  if (!valid_site_name(card.site))
    throw Error(Exit::identity, "the card's site name is not valid: " + card.site);
  SiteRow row{card.site, card.encode(), card.signing_key.id_hex(), true, now_ms()};
  ix.add_site(row,
              admin_event(actor, "admin.site.add", {{"site", card.site}, {"key", row.key_id}}));
  return card.site;
}

void admin_site_remove(Index& ix, const std::string& name, const std::string& actor) {
  if (!ix.remove_site(name, admin_event(actor, "admin.site.remove", {{"site", name}})))
    throw Error(Exit::input, "no active site " + name);
}

std::pair<std::string, std::string> admin_token_issue(Index& ix, const std::string& site,
                                                      const std::string& actor) {
  if (!site.empty()) {
    auto s = ix.site(site);
    if (!s || !s->active) throw Error(Exit::input, "no active site " + site);
  }
  util::sodium_ready();
  std::string raw(32, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string token = "iep1_" + base64_encode(raw, true);
  util::wipe(raw);
  TokenRow t{random_hex(8), blake2b256_hex(token), site, site.empty(), now_ms(), false};
  ix.add_token(t, admin_event(actor, "admin.token.issue",
                              {{"id", t.id}, {"site", site}, {"admin", site.empty()}}));
  return {token, t.id};
}

void admin_token_revoke(Index& ix, const std::string& id, const std::string& actor) {
  if (!ix.revoke_token(id, admin_event(actor, "admin.token.revoke", {{"id", id}})))
    throw Error(Exit::input, "no active token " + id);
}

minisign::SecretKey hub_key(const fs::path& data) {
  fs::path p = data / "hub.key";
  std::error_code ec;
  if (!fs::exists(p, ec)) {
    auto k = minisign::SecretKey::generate();
    std::string text = "untrusted comment: iep hub audit key\n" + k.encode() + "\n";
    try {
      AtomicFile f(p, false, 0600);
      f.write(util::as_bytes(text));
      f.commit();
    } catch (const Error&) {
      if (!fs::exists(p, ec)) throw;  // else: another process made it first
    }
    util::wipe(text);
  }
  std::string text = read_small_file(p, 4096);
  auto lines = util::split_lines(text);
  if (lines.size() < 2) throw Error(Exit::identity, p.string() + ": not a minisign secret key");
  auto k = minisign::SecretKey::parse(util::trim(lines[1]));
  util::wipe(text);
  return k;
}

std::string hub_public_key_file(const minisign::SecretKey& key) {
  auto pk = key.public_key();
  return "untrusted comment: iep hub audit key " + pk.id_hex() + "\n" + pk.encode() + "\n";
}

}  // namespace iep::hub
