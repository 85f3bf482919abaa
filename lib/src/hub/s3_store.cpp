// S3Store: the hub's bytes in an S3-compatible bucket (AWS S3, MinIO, Ceph),
// shared by several iep-serve nodes.
//
// Layout under PREFIX: uploads/ID is an upload's multipart upload (and the
// completed object once complete); uploads/ID.state is its "state object":
// the bytes after the last full part (the tail, under 8 MiB) with metadata
// multipart=<UploadId>, parts=N, parts-bytes=B (bytes in parts 1..N),
// completed=1 once the upload is one object. packages/PKG are committed
// packages. Parts 1..N plus the state object are an upload's durable bytes:
// the single PUT of the state object in sync() is the commit point, so a
// writer that never syncs leaves only parts beyond N, which the next append
// overwrites (the same part numbers) and completion ignores.
//
// Requests are path-style (ENDPOINT/BUCKET/KEY), signed here with AWS
// Signature Version 4 (sign() below), not by libcurl's CURLOPT_AWS_SIGV4:
// libcurl 7.88 (Debian bookworm) signs its canonical headers sorted as
// "name:value" lines (x-amz-copy-source-range before x-amz-copy-source,
// x-amz-meta-parts-bytes before x-amz-meta-parts), signs an empty header
// that only removes one of curl's own ("Expect:") although it sends none,
// takes the query string as it is, and sends no x-amz-content-sha256 (S3
// requires one): S3 answers SignatureDoesNotMatch to each (moto with IAM
// authentication, which checks with botocore's signer, showed all of them).
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "core/curl_util.h"
#include "core/util.h"
#include "hub/s3_xml.h"
#include "iep/core/error.h"
#include "iep/hub/store.h"
#include "iep/hub/tus.h"

namespace iep::hub {
namespace {

using s3::kMaxListed;
using s3::kMaxReply;
using s3::number;
using s3::xml_first;

constexpr std::size_t kPart = 8 << 20;           // an upload's part, and a ranged GET
constexpr std::uint64_t kCopyMax = 5ULL << 30;   // CopyObject's limit
constexpr std::uint64_t kCopyPart = 1ULL << 30;  // UploadPartCopy ranges above it
constexpr int kAttempts = 6;

// ---- Encodings -------------------------------------------------------------

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// Digest of `data` with `md` (MD5 for Content-MD5, SHA-256 for the payload hash).
std::string digest(const EVP_MD* md, ByteSpan data) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> c(EVP_MD_CTX_new());
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!c || EVP_DigestInit_ex(c.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(c.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(c.get(), out, &n) != 1)
    throw Error(Exit::internal, "OpenSSL: cannot hash a request body");
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string base64(const std::string& raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()),
                          static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string hexs(const std::string& raw) {
  return hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

// ASCII only, whatever the locale.
bool alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 3986: unreserved characters as they are, every other byte %XX (what
// SigV4 wants in a canonical query).
std::string pct(std::string_view s) {
  static const char* d = "0123456789ABCDEF";
  std::string r;
  for (unsigned char c : s) {
    if (alnum(static_cast<char>(c)) || c == '-' || c == '_' || c == '.' || c == '~') {
      r += static_cast<char>(c);
    } else {
      r += '%';
      r += d[c >> 4];
      r += d[c & 15];
    }
  }
  return r;
}

std::string pct_decode(std::string_view s) {
  std::string r;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() &&
        std::isxdigit(static_cast<unsigned char>(s[i + 1])) != 0 &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2])) != 0) {
      r += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      r += s[i];
    }
  }
  return r;
}

// A canonical SigV4 query: std::map sorts the keys by bytes.
std::string query(const std::map<std::string, std::string>& q) {
  std::string s;
  for (const auto& [k, v] : q) s += (s.empty() ? "" : "&") + pct(k) + "=" + pct(v);
  return s;
}

// ---- Signing (AWS Signature Version 4) -------------------------------------

std::string hmac(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n) == nullptr)
    throw Error(Exit::internal, "OpenSSL: HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(out), n);
}

struct Signing {
  std::string method, path, query;             // path and query already canonical (URI-encoded)
  std::map<std::string, std::string> headers;  // lower-case names: every header signed
  std::string payload_hash;
};

// The Authorization header for `s` at `amz_date` (YYYYMMDDTHHMMSSZ).
std::string sign(const Signing& s, const std::string& amz_date, const std::string& region,
                 const std::string& key_id, const std::string& secret) {
  std::string canonical = s.method + "\n" + s.path + "\n" + s.query + "\n", names;
  for (const auto& [k, v] : s.headers) {
    canonical += k + ":" + v + "\n";
    names += (names.empty() ? "" : ";") + k;
  }
  canonical += "\n" + names + "\n" + s.payload_hash;
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = date + "/" + region + "/s3/aws4_request";
  const std::string to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" +
      hexs(digest(EVP_sha256(), ByteSpan(reinterpret_cast<const std::uint8_t*>(canonical.data()),
                                         canonical.size())));
  std::string k = hmac(hmac(hmac(hmac("AWS4" + secret, date), region), "s3"), "aws4_request");
  return "AWS4-HMAC-SHA256 Credential=" + key_id + "/" + scope + ", SignedHeaders=" + names +
         ", Signature=" + hexs(hmac(k, to_sign));
}

// ---- Credentials -------------------------------------------------------------

struct Credentials {
  std::string key, secret, token;
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// The usual AWS places: the environment, else the shared credentials file.
Credentials load_credentials() {
  Credentials c{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")};
  if (!c.key.empty() && !c.secret.empty()) return c;
  std::string file = env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !env("HOME").empty()) file = env("HOME") + "/.aws/credentials";
  std::string profile = env("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  c = {};
  if (!file.empty()) {
    std::error_code ec;
    if (std::filesystem::exists(file, ec)) {
      std::string text = read_small_file(file, 1 << 20);
      std::string section;
      std::size_t at = 0;
      while (at < text.size()) {
        std::size_t nl = text.find('\n', at);
        if (nl == std::string::npos) nl = text.size();
        std::string_view line = util::trim(std::string_view(text).substr(at, nl - at));
        at = nl + 1;
        if (line.empty() || line[0] == '#' || line[0] == ';') continue;
        if (line.front() == '[' && line.back() == ']') {
          section = std::string(util::trim(line.substr(1, line.size() - 2)));
          continue;
        }
        auto eq = line.find('=');
        if (section != profile || eq == std::string_view::npos) continue;
        std::string k(util::trim(line.substr(0, eq)));
        std::string v(util::trim(line.substr(eq + 1)));
        if (k == "aws_access_key_id") c.key = v;
        if (k == "aws_secret_access_key") c.secret = v;
        if (k == "aws_session_token") c.token = v;
      }
    }
  }
  if (c.key.empty() || c.secret.empty())
    throw Error(Exit::usage,
                "--store s3://: no AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "or profile " +
                    profile + " in " + (file.empty() ? "~/.aws/credentials" : file) + ")");
  return c;
}

// ---- Requests ----------------------------------------------------------------

using CurlPtr = curl::Easy;

struct Request {
  std::string method;
  std::string key;    // under the bucket, prefix included
  std::string query;  // canonical (query())
  std::vector<std::string> headers;
  ByteSpan body;
  std::size_t max_reply = kMaxReply;
};

struct Reply {
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool too_big = false;
  [[nodiscard]] std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return "";
  }
  [[nodiscard]] std::string code() const { return xml_first(body, "Code"); }
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Reply*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {  // a new response (after 100 Continue)
    r->headers.clear();
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos || r->headers.size() >= 200) return size * n;
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  std::string name(util::trim(line.substr(0, colon)));
  for (auto& c : name) c = util::ascii_lower(c);
  r->headers.emplace_back(std::move(name), std::string(util::trim(line.substr(colon + 1))));
  return size * n;
}

struct WriteCtx {
  Reply* reply;
  std::size_t max;
};

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* w = static_cast<WriteCtx*>(user);
  if (w->reply->body.size() + size * n > w->max) {
    w->reply->too_big = true;
    return 0;
  }
  w->reply->body.append(data, size * n);
  return size * n;
}

// One bucket, its endpoint and credentials; a pool of curl handles so that
// concurrent requests (one per hub connection) reuse connections.
class Client {
 public:
  Client(std::string endpoint, std::string bucket, std::string region, Credentials creds)
      : endpoint_(std::move(endpoint)),
        bucket_(std::move(bucket)),
        host_(endpoint_.substr(endpoint_.find("://") + 3)),
        region_(std::move(region)),
        creds_(std::move(creds)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  // `what` names the operation in errors ("UploadPart"). Retried on
  // connection errors, 500, 503 and SlowDown, replaying the body.
  Reply call(const Request& req, const char* what) {
    auto delay = std::chrono::milliseconds(100);
    std::string last;
    for (int attempt = 1;; ++attempt) {
      Reply r;
      CURLcode rc = perform(req, r);
      if (rc == CURLE_OK && r.too_big)
        throw Error(Exit::output, where(req, what) + ": the reply is larger than expected");
      if (rc != CURLE_OK) {
        last = curl_easy_strerror(rc);  // retried
      } else {
        // CompleteMultipartUpload and CopyObject may fail after a 200.
        std::string code = r.status == 200 && req.method != "GET" && req.method != "HEAD" &&
                                   r.body.find("<Error>") != std::string::npos
                               ? r.code()
                               : (r.status >= 300 ? r.code() : "");
        if (r.status == 200 && !code.empty()) r.status = code == "SlowDown" ? 503 : 500;
        const bool retry = r.status == 500 || r.status == 503 || code == "SlowDown" ||
                           code == "InternalError" || code == "RequestTimeout";
        last = "HTTP " + std::to_string(r.status) + (code.empty() ? "" : " " + code);
        if (!retry) return r;
      }
      if (attempt == kAttempts)
        throw Error(Exit::output, where(req, what) + ": " + last + " (after " +
                                      std::to_string(kAttempts) + " attempts)");
      std::this_thread::sleep_for(delay);
      delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::seconds(3));
    }
  }

  // The call's reply, which must have one of `ok` statuses; else an Error
  // with S3's error code and message.
  Reply expect(const Request& req, const char* what, std::initializer_list<long> ok,
               Exit code = Exit::output) {
    Reply r = call(req, what);
    if (std::find(ok.begin(), ok.end(), r.status) == ok.end()) {
      std::string msg = xml_first(r.body, "Message");
      throw Error(code, where(req, what) + ": HTTP " + std::to_string(r.status) +
                            (r.code().empty() ? "" : " " + r.code()) +
                            (msg.empty() ? "" : ": " + msg.substr(0, 300)));
    }
    return r;
  }

  [[nodiscard]] std::string where(const Request& req, const char* what) const {
    return std::string("S3 ") + what + " s3://" + bucket_ + "/" + req.key;
  }
  [[nodiscard]] const std::string& bucket() const { return bucket_; }

 private:
  CurlPtr take() {
    {
      std::lock_guard lk(mu_);
      if (!pool_.empty()) {
        CurlPtr c = std::move(pool_.back());
        pool_.pop_back();
        return c;
      }
    }
    CurlPtr c(curl_easy_init());
    if (!c) throw Error(Exit::internal, "libcurl: cannot create a handle");
    return c;
  }
  void give(CurlPtr c) {
    std::lock_guard lk(mu_);
    if (pool_.size() < 16) pool_.push_back(std::move(c));
  }

  CURLcode perform(const Request& req, Reply& r) {
    CurlPtr h = take();
    CURL* c = h.get();
    curl_easy_reset(c);
    curl::Headers hdrs;
    auto add = [&](const std::string& line) { hdrs.add(line); };
    // Every header this request sends of its own is signed, and sent as
    // signed (Host too: curl would leave a default port out).
    // The bucket itself as "/BUCKET", as the AWS SDKs send it.
    const std::string path = "/" + bucket_ + (req.key.empty() ? "" : "/" + req.key);
    Signing s{req.method, path, req.query, {}, {}};
    s.payload_hash = hexs(digest(EVP_sha256(), req.body));
    s.headers["host"] = host_;
    s.headers["x-amz-content-sha256"] = s.payload_hash;
    if (!creds_.token.empty()) s.headers["x-amz-security-token"] = creds_.token;
    if (req.method == "PUT" || req.method == "POST")
      s.headers["content-type"] = "application/octet-stream";  // not curl's form default
    for (const auto& line : req.headers) {
      auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (auto& ch : name) ch = util::ascii_lower(ch);
      std::string value(util::trim(std::string_view(line).substr(colon + 1)));
      if (!value.empty()) s.headers[name] = value;  // curl sends no empty header
    }
    char amz_date[32];
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    std::strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);
    s.headers["x-amz-date"] = amz_date;
    for (const auto& [k, v] : s.headers) add(k + ": " + v);
    add("Authorization: " + sign(s, amz_date, region_, creds_.key, creds_.secret));
    add("Expect:");  // no 100-continue round trip (not signed: curl sends none)
    std::string url = endpoint_ + path;
    if (!req.query.empty()) url += "?" + req.query;
    WriteCtx w{&r, req.max_reply};

    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "iep-serve/0.1");
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &w);
    if (req.method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (req.method == "PUT" || req.method == "POST") {
      // The body from memory, so that a retry replays it.
      static const char empty = 0;
      curl_easy_setopt(c, CURLOPT_POST, 1L);
      curl_easy_setopt(c, CURLOPT_POSTFIELDS,
                       req.body.empty() ? &empty : reinterpret_cast<const char*>(req.body.data()));
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    } else if (req.method != "GET") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs.get());
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    if (rc == CURLE_WRITE_ERROR && r.too_big) rc = CURLE_OK;
    give(std::move(h));
    return rc;
  }

  std::string endpoint_, bucket_, host_, region_;
  Credentials creds_;
  std::mutex mu_;
  std::vector<CurlPtr> pool_;
};

// `length` bytes of an object from `offset` on, in ranged GETs of at most
// kPart each (each retried): flat memory however large the object.
class ObjectSource : public Source {
 public:
  ObjectSource(std::shared_ptr<Client> c, std::string key, std::uint64_t offset,
               std::uint64_t length)
      : c_(std::move(c)), key_(std::move(key)), at_(offset), left_(length) {}
  std::size_t read(MutableByteSpan buf) override {
    if (pos_ == chunk_.size()) {
      if (left_ == 0 || buf.empty()) return 0;
      std::uint64_t n = std::min<std::uint64_t>(left_, kPart);
      // Room for an error reply however small the range.
      Request req{"GET", key_, "",
                  {},    {},   std::max<std::size_t>(static_cast<std::size_t>(n), 1 << 16)};
      req.headers.push_back("Range: bytes=" + std::to_string(at_) + "-" +
                            std::to_string(at_ + n - 1));
      Reply r = c_->expect(req, "GetObject", {200, 206}, Exit::input);
      if (r.body.size() != n || (r.status == 200 && at_ != 0))
        throw Error(Exit::input, c_->where(req, "GetObject") + ": " +
                                     std::to_string(r.body.size()) + " bytes where " +
                                     std::to_string(n) + " were asked for");
      chunk_ = std::move(r.body);
      pos_ = 0;
      at_ += n;
      left_ -= n;
    }
    std::size_t k = std::min(buf.size(), chunk_.size() - pos_);
    std::memcpy(buf.data(), chunk_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::shared_ptr<Client> c_;
  std::string key_;
  std::uint64_t at_, left_;
  std::string chunk_;
  std::size_t pos_ = 0;
};

// What an upload's state object says.
struct State {
  std::string multipart;          // the S3 UploadId; empty once completed
  std::uint64_t parts = 0;        // N
  std::uint64_t parts_bytes = 0;  // B
  bool completed = false;         // the upload is the object uploads/ID, B bytes
  std::string tail;               // the bytes after part N (GET only)
  std::uint64_t tail_size = 0;
  [[nodiscard]] std::uint64_t size() const { return parts_bytes + tail_size; }
};

class S3Store;

class S3Writer : public UploadWriter {
 public:
  S3Writer(S3Store& s, std::string id, State st);
  void write(ByteSpan data) override;
  std::uint64_t sync() override;

 private:
  S3Store& s_;
  std::string id_;
  State st_;
  std::string buf_;  // the tail: bytes after part N
  bool failed_ = false;
};

class S3Store : public Store {
 public:
  S3Store(std::shared_ptr<Client> c, std::string prefix)
      : c_(std::move(c)), prefix_(std::move(prefix)) {
    // The tests' way to take the multipart copy path without 5 GiB
    // packages: IEP_TEST_S3_COPY_LIMITS=MAX,PART (bytes; PART at least 5 MiB).
    std::string limits = env("IEP_TEST_S3_COPY_LIMITS");
    if (auto comma = limits.find(','); comma != std::string::npos) {
      auto max = number(std::string_view(limits).substr(0, comma));
      auto part = number(std::string_view(limits).substr(comma + 1));
      if (max && part && *part >= (5 << 20)) {
        copy_max_ = *max;
        copy_part_ = *part;
      }
    }
  }

  // The multipart upload is made when the first whole part is written: an
  // upload smaller than a part (most studies of a few images) never needs
  // one, and costs a state object and, on commit, one PUT.
  void create_upload(const std::string& id) override {
    if (head_state(id)) throw Error(Exit::output, where(state_key(id)) + ": exists already");
    put_state(id, State{}, {});
  }
  std::string create_multipart(const std::string& id) {
    Reply r =
        c_->expect(post(up_key(id), query({{"uploads", ""}}), {}), "CreateMultipartUpload", {200});
    std::string multipart = xml_first(r.body, "UploadId");
    if (multipart.empty() || multipart.size() > 1024)
      throw Error(Exit::output, where(up_key(id)) + ": CreateMultipartUpload gave no UploadId");
    return multipart;
  }
  std::uint64_t upload_size(const std::string& id) override {
    auto st = head_state(id);
    if (!st) throw Error(Exit::input, where(state_key(id)) + ": no such upload");
    return st->size();
  }
  std::unique_ptr<UploadWriter> append(const std::string& id, std::uint64_t offset) override {
    State st = get_state(id);
    if (st.completed) throw Error(Exit::output, where(up_key(id)) + ": the upload is complete");
    if (offset != st.size())
      throw Error(Exit::output, where(up_key(id)) + ": an append at " + std::to_string(offset) +
                                    " to an upload of " + std::to_string(st.size()) + " bytes");
    return std::make_unique<S3Writer>(*this, id, std::move(st));
  }
  void truncate(const std::string& id, std::uint64_t size) override {
    State st = get_state(id);
    if (size == st.size()) return;
    if (size > st.size() || st.completed)
      throw Error(Exit::output, where(up_key(id)) + ": cannot cut an upload of " +
                                    std::to_string(st.size()) + " bytes to " +
                                    std::to_string(size));
    // Parts cannot be read back before completion, nor rewritten shorter.
    if (size < st.parts_bytes)
      throw Error(Exit::output, where(up_key(id)) + ": cannot cut back below a durable part (to " +
                                    std::to_string(size) + " bytes; " +
                                    std::to_string(st.parts_bytes) + " are in parts)");
    st.tail.resize(static_cast<std::size_t>(size - st.parts_bytes));
    put_state(id, st, bytes(st.tail));
  }
  std::unique_ptr<Source> read_upload(const std::string& id) override {
    State st = get_state(id);
    std::uint64_t size = complete(id, st);
    return std::make_unique<ObjectSource>(c_, up_key(id), 0, size);
  }
  void remove_upload(const std::string& id) override {
    if (auto st = head_state(id); st && !st->multipart.empty()) abort(id, st->multipart);
    // Multipart uploads with no state object (a node stopped between the two).
    for (auto& [key, upload] : multipart_uploads(up_key(id)))
      if (key == up_key(id)) abort(id, upload);
    remove_object(state_key(id));
    remove_object(up_key(id));
  }
  void concat(const std::string& to, const std::string& from) override {
    auto src = read_upload(from);
    auto w = append(to, upload_size(to));
    std::vector<std::uint8_t> buf(1 << 20);
    for (;;) {
      std::size_t n = src->read(buf);
      if (n == 0) break;
      w->write(ByteSpan(buf.data(), n));
    }
    w->sync();
  }

  void commit(const std::string& upload_id, const std::string& package_id) override {
    State st = get_state(upload_id);
    // Never over a package that is there already (another commit of the
    // same id). Not atomic across nodes: the index's conditional state
    // moves are what keep two commits of one package apart.
    if (has_package(package_id))
      throw Error(Exit::output, where(pkg_key(package_id)) + ": exists already");
    if (!st.completed && st.parts == 0) {
      // Smaller than a part: the state object's tail is the whole upload,
      // PUT as the package at once.
      Request req = put(pkg_key(package_id), "", bytes(st.tail));
      req.headers.push_back("x-amz-meta-upload: " + upload_id);
      put_checked(req, "PutObject");
      if (!st.multipart.empty()) abort(upload_id, st.multipart);
      remove_object(state_key(upload_id));
      return;
    }
    std::uint64_t size = complete(upload_id, st);
    // The package names its upload: uncommit() after a node stopped
    // before the upload's objects were removed needs only remove it.
    copy(up_key(upload_id), pkg_key(package_id), size, "x-amz-meta-upload: " + upload_id);
    remove_object(state_key(upload_id));
    remove_object(up_key(upload_id));
  }
  void uncommit(const std::string& package_id, const std::string& upload_id) override {
    auto pkg = head_reply(pkg_key(package_id));
    if (!pkg) throw Error(Exit::input, where(pkg_key(package_id)) + ": no such package");
    if (auto st = head_state(upload_id)) {
      // A commit that stopped between the copy (or PUT) and the removal of
      // the upload: the upload is whole (completed before the copy, or a
      // tail only, still in its state object).
      if ((st->completed || st->parts == 0) && pkg->header("x-amz-meta-upload") == upload_id) {
        remove_object(pkg_key(package_id));
        return;
      }
      throw Error(Exit::output, where(state_key(upload_id)) + ": exists already");
    }
    auto size = number(pkg->header("content-length"));
    if (!size) throw Error(Exit::input, where(pkg_key(package_id)) + ": HeadObject gave no size");
    copy(pkg_key(package_id), up_key(upload_id), *size, "");
    State st;
    st.completed = true;
    st.parts_bytes = *size;
    put_state(upload_id, st, {});
    remove_object(pkg_key(package_id));
  }
  bool has_package(const std::string& package_id) override {
    return head(pkg_key(package_id)).has_value();
  }
  PackageReader open_package(const std::string& package_id) override {
    auto size = head(pkg_key(package_id));
    if (!size) throw Error(Exit::input, where(pkg_key(package_id)) + ": no such package");
    PackageReader r;
    r.size = *size;
    return r;
  }
  std::unique_ptr<Source> read_package(const std::string& package_id, std::uint64_t offset,
                                       std::uint64_t length) override {
    return std::make_unique<ObjectSource>(c_, pkg_key(package_id), offset, length);
  }
  void remove_package(const std::string& package_id) override {
    remove_object(pkg_key(package_id));
  }

  std::vector<std::string> upload_ids() override {
    std::set<std::string> ids;
    const std::string dir = key("uploads/");
    auto add = [&](std::string_view k) {
      if (!k.starts_with(dir)) return;
      k.remove_prefix(dir.size());
      if (k.ends_with(".state")) k.remove_suffix(6);
      if (tus::valid_id(k)) ids.emplace(k);
    };
    std::string token;
    for (;;) {
      std::map<std::string, std::string> q{{"list-type", "2"}, {"prefix", dir}};
      if (!token.empty()) q["continuation-token"] = token;
      auto page =
          s3::parse_list_objects(c_->expect(get("", query(q)), "ListObjectsV2", {200}).body);
      for (const auto& k : page.keys) add(k);
      token = std::move(page.next);
      if (token.empty()) break;
    }
    for (auto& [k, upload] : multipart_uploads(dir)) add(k);
    return {ids.begin(), ids.end()};
  }
  std::uint64_t free_space() override { return std::numeric_limits<std::uint64_t>::max(); }

  // ---- for S3Writer ----

  // UploadPart `n` of upload `id`, checked by Content-MD5.
  std::string upload_part(const std::string& id, const std::string& multipart, std::uint64_t n,
                          ByteSpan data) {
    Request req =
        put(up_key(id), query({{"partNumber", std::to_string(n)}, {"uploadId", multipart}}), data);
    std::string md5 = digest(EVP_md5(), data);
    req.headers.push_back("Content-MD5: " + base64(md5));
    Reply r = c_->expect(req, "UploadPart", {200});
    std::string etag = r.header("etag");
    if (etag.empty()) throw Error(Exit::output, where(up_key(id)) + ": UploadPart gave no ETag");
    return etag;
  }

  void put_state(const std::string& id, const State& st, ByteSpan tail) {
    Request req = put(state_key(id), "", tail);
    req.headers.push_back("x-amz-meta-multipart: " + st.multipart);
    req.headers.push_back("x-amz-meta-parts: " + std::to_string(st.parts));
    req.headers.push_back("x-amz-meta-parts-bytes: " + std::to_string(st.parts_bytes));
    if (st.completed) req.headers.push_back("x-amz-meta-completed: 1");
    put_checked(req, "PutObject");
  }

 private:
  [[nodiscard]] std::string key(const std::string& rel) const {
    return prefix_.empty() ? rel : prefix_ + "/" + rel;
  }
  // Ids are 32 hex digits: never a key of their own.
  static const std::string& checked(const std::string& id) {
    if (!tus::valid_id(id)) throw Error(Exit::output, "store: not an id: " + id.substr(0, 64));
    return id;
  }
  [[nodiscard]] std::string up_key(const std::string& id) const {
    return key("uploads/" + checked(id));
  }
  [[nodiscard]] std::string state_key(const std::string& id) const { return up_key(id) + ".state"; }
  [[nodiscard]] std::string pkg_key(const std::string& id) const {
    return key("packages/" + checked(id));
  }
  [[nodiscard]] std::string where(const std::string& k) const {
    return "s3://" + c_->bucket() + "/" + k;
  }
  static ByteSpan bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
  }
  static Request get(std::string k, std::string q) {
    return Request{"GET", std::move(k), std::move(q), {}, {}};
  }
  static Request put(std::string k, std::string q, ByteSpan body) {
    return Request{"PUT", std::move(k), std::move(q), {}, body};
  }
  static Request post(std::string k, std::string q, ByteSpan body) {
    return Request{"POST", std::move(k), std::move(q), {}, body};
  }

  // A single PUT with Content-MD5, and its ETag compared with the MD5.
  void put_checked(Request& req, const char* what) {
    std::string md5 = digest(EVP_md5(), req.body);
    req.headers.push_back("Content-MD5: " + base64(md5));
    Reply r = c_->expect(req, what, {200});
    std::string etag = r.header("etag");
    if (etag != "\"" + hexs(md5) + "\"")
      throw Error(Exit::output, c_->where(req, what) + ": ETag " + etag.substr(0, 80) +
                                    " is not the MD5 of what was sent");
  }

  // The object's HEAD reply, nullopt if there is none.
  std::optional<Reply> head_reply(const std::string& k) {
    Reply r = c_->expect(Request{"HEAD", k, "", {}, {}}, "HeadObject", {200, 404}, Exit::input);
    if (r.status == 404) return std::nullopt;
    return r;
  }
  // The object's size, nullopt if there is none.
  std::optional<std::uint64_t> head(const std::string& k) {
    auto r = head_reply(k);
    if (!r) return std::nullopt;
    auto n = number(r->header("content-length"));
    if (!n) throw Error(Exit::input, where(k) + ": HeadObject gave no Content-Length");
    return n;
  }

  State parse_state(const std::string& id, const Reply& r) {
    State st;
    st.multipart = r.header("x-amz-meta-multipart");
    auto parts = number(r.header("x-amz-meta-parts"));
    auto bytes = number(r.header("x-amz-meta-parts-bytes"));
    auto len = number(r.header("content-length"));
    st.completed = r.header("x-amz-meta-completed") == "1";
    if (!parts || !bytes || !len ||
        (st.completed ? *parts != 0 || *len != 0
                      : *bytes != *parts * kPart || (*parts > 0 && st.multipart.empty())))
      throw Error(Exit::output, where(state_key(id)) + ": not an upload's state object");
    st.parts = *parts;
    st.parts_bytes = *bytes;
    st.tail_size = *len;
    return st;
  }
  std::optional<State> head_state(const std::string& id) {
    Reply r = c_->expect(Request{"HEAD", state_key(id), "", {}, {}}, "HeadObject", {200, 404},
                         Exit::input);
    if (r.status == 404) return std::nullopt;
    return parse_state(id, r);
  }
  State get_state(const std::string& id) {
    Request req{"GET", state_key(id), "", {}, {}, kPart};
    Reply r = c_->expect(req, "GetObject", {200, 404}, Exit::input);
    if (r.status == 404) throw Error(Exit::input, where(state_key(id)) + ": no such upload");
    State st = parse_state(id, r);
    if (r.body.size() != st.tail_size)
      throw Error(Exit::input, where(state_key(id)) + ": shorter than its Content-Length");
    st.tail = std::move(r.body);
    return st;
  }

  void remove_object(const std::string& k) {
    c_->expect(Request{"DELETE", k, "", {}, {}}, "DeleteObject", {200, 204, 404});
  }
  void abort(const std::string& id, const std::string& multipart) {
    c_->expect(Request{"DELETE", up_key(id), query({{"uploadId", multipart}}), {}, {}},
               "AbortMultipartUpload", {200, 204, 404});
  }

  // (key, UploadId) of the multipart uploads under `prefix`.
  std::vector<std::pair<std::string, std::string>> multipart_uploads(const std::string& prefix) {
    std::vector<std::pair<std::string, std::string>> out;
    std::string key_marker, id_marker;
    for (;;) {
      std::map<std::string, std::string> q{{"prefix", prefix}, {"uploads", ""}};
      if (!key_marker.empty()) q["key-marker"] = key_marker;
      if (!id_marker.empty()) q["upload-id-marker"] = id_marker;
      auto page =
          s3::parse_list_uploads(c_->expect(get("", query(q)), "ListMultipartUploads", {200}).body);
      for (auto& u : page.uploads)
        if (out.size() < kMaxListed) out.push_back(std::move(u));
      key_marker = std::move(page.next_key);
      id_marker = std::move(page.next_upload_id);
      if (key_marker.empty()) break;
    }
    return out;
  }

  // The ETags of parts 1..n of a multipart upload (ListParts, paginated).
  std::vector<std::string> part_etags(const std::string& id, const std::string& multipart,
                                      std::uint64_t n) {
    std::vector<std::string> etags(static_cast<std::size_t>(n));
    std::string marker;
    for (;;) {
      std::map<std::string, std::string> q{{"uploadId", multipart}};
      if (!marker.empty()) q["part-number-marker"] = marker;
      auto page =
          s3::parse_list_parts(c_->expect(get(up_key(id), query(q)), "ListParts", {200}).body);
      for (auto& p : page.parts) {
        if (p.number < 1 || p.number > n) continue;  // beyond N: an unsynced write's
        if (p.size != kPart)
          throw Error(Exit::output, where(up_key(id)) + ": part " + std::to_string(p.number) +
                                        " is not " + std::to_string(kPart) + " bytes");
        etags[static_cast<std::size_t>(p.number - 1)] = std::move(p.etag);
      }
      marker = std::move(page.next);
      if (marker.empty()) break;
    }
    for (std::size_t i = 0; i < etags.size(); ++i)
      if (etags[i].empty())
        throw Error(Exit::output,
                    where(up_key(id)) + ": part " + std::to_string(i + 1) + " is missing");
    return etags;
  }

  // Makes the upload one object, uploads/ID, and marks it complete; returns
  // its size. Idempotent: a completed upload stays readable.
  std::uint64_t complete(const std::string& id, State& st) {
    if (st.completed) return st.parts_bytes;
    const std::uint64_t size = st.size();
    const std::string k = up_key(id);
    if (st.parts == 0) {
      // Small: one PUT (a multipart upload needs a part, and parts but the
      // last need 5 MiB).
      Request req = put(k, "", bytes(st.tail));
      put_checked(req, "PutObject");
      if (!st.multipart.empty()) abort(id, st.multipart);
    } else {
      std::vector<std::string> etags;
      try {
        etags = part_etags(id, st.multipart, st.parts);
      } catch (const Error&) {
        // Completed by a node that stopped before it marked the state.
        if (head(k) != size) throw;
      }
      if (!etags.empty()) {
        if (!st.tail.empty())
          etags.push_back(upload_part(id, st.multipart, st.parts + 1, bytes(st.tail)));
        std::string xml = "<CompleteMultipartUpload>";
        for (std::size_t i = 0; i < etags.size(); ++i)
          xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags[i] +
                 "</ETag></Part>";
        xml += "</CompleteMultipartUpload>";
        Reply r = c_->call(post(k, query({{"uploadId", st.multipart}}), bytes(xml)),
                           "CompleteMultipartUpload");
        // A retry after a completion whose reply was lost finds no upload.
        if (r.status != 200 && !(r.code() == "NoSuchUpload" && head(k) == size))
          throw Error(Exit::output,
                      c_->where(Request{"POST", k, "", {}, {}}, "CompleteMultipartUpload") +
                          ": HTTP " + std::to_string(r.status) + " " + r.code());
      }
    }
    if (head(k) != size)
      throw Error(Exit::output,
                  where(k) + ": the completed upload is not " + std::to_string(size) + " bytes");
    State done;
    done.completed = true;
    done.parts_bytes = size;
    put_state(id, done, {});
    st = done;
    return size;
  }

  // Copies an object within the bucket (CopyObject; in 1 GiB UploadPartCopy
  // ranges above CopyObject's 5 GiB), then checks the copy's size.
  void copy(const std::string& from, const std::string& to, std::uint64_t size,
            const std::string& meta) {
    const std::string source = "x-amz-copy-source: /" + c_->bucket() + "/" + from;
    if (size <= copy_max_) {
      Request req = put(to, "", {});
      req.headers.push_back(source);
      req.headers.push_back("x-amz-metadata-directive: REPLACE");
      if (!meta.empty()) req.headers.push_back(meta);
      c_->expect(req, "CopyObject", {200});
    } else {
      Request create = post(to, query({{"uploads", ""}}), {});
      if (!meta.empty()) create.headers.push_back(meta);
      Reply r = c_->expect(create, "CreateMultipartUpload", {200});
      std::string upload = xml_first(r.body, "UploadId");
      std::string xml = "<CompleteMultipartUpload>";
      std::uint64_t part = 1;
      for (std::uint64_t at = 0; at < size; at += copy_part_, ++part) {
        Request req =
            put(to, query({{"partNumber", std::to_string(part)}, {"uploadId", upload}}), {});
        req.headers.push_back(source);
        req.headers.push_back("x-amz-copy-source-range: bytes=" + std::to_string(at) + "-" +
                              std::to_string(std::min(size, at + copy_part_) - 1));
        Reply p = c_->expect(req, "UploadPartCopy", {200});
        xml += "<Part><PartNumber>" + std::to_string(part) + "</PartNumber><ETag>" +
               xml_first(p.body, "ETag") + "</ETag></Part>";
      }
      xml += "</CompleteMultipartUpload>";
      c_->expect(post(to, query({{"uploadId", upload}}), bytes(xml)), "CompleteMultipartUpload",
                 {200});
    }
    if (head(to) != size)
      throw Error(Exit::output, where(to) + ": the copy is not " + std::to_string(size) + " bytes");
  }

  std::shared_ptr<Client> c_;
  std::string prefix_;
  std::uint64_t copy_max_ = kCopyMax, copy_part_ = kCopyPart;
};

S3Writer::S3Writer(S3Store& s, std::string id, State st)
    : s_(s), id_(std::move(id)), st_(std::move(st)), buf_(std::move(st_.tail)) {
  buf_.reserve(kPart);
}

void S3Writer::write(ByteSpan data) {
  if (failed_) throw Error(Exit::output, "S3 upload " + id_ + ": an earlier write failed");
  while (!data.empty()) {
    std::size_t n = std::min(data.size(), kPart - buf_.size());
    buf_.append(reinterpret_cast<const char*>(data.data()), n);
    data = data.subspan(n);
    if (buf_.size() == kPart) {
      try {
        if (st_.multipart.empty()) st_.multipart = s_.create_multipart(id_);
        s_.upload_part(id_, st_.multipart, st_.parts + 1,
                       ByteSpan(reinterpret_cast<const std::uint8_t*>(buf_.data()), buf_.size()));
      } catch (...) {
        failed_ = true;  // the PATCH is refused and cut back
        throw;
      }
      ++st_.parts;
      st_.parts_bytes += kPart;
      buf_.clear();
    }
  }
}

std::uint64_t S3Writer::sync() {
  if (failed_) throw Error(Exit::output, "S3 upload " + id_ + ": an earlier write failed");
  s_.put_state(id_, st_, ByteSpan(reinterpret_cast<const std::uint8_t*>(buf_.data()), buf_.size()));
  return st_.parts_bytes + buf_.size();
}

bool bucket_ok(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  return std::all_of(b.begin(), b.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
  });
}

bool prefix_ok(std::string_view p) {
  if (p.size() > 512 || p.find("//") != std::string_view::npos || p.starts_with("/")) return false;
  if (p == ".." || p.starts_with("../") || p.find("/../") != std::string_view::npos ||
      p.ends_with("/.."))
    return false;
  return std::all_of(p.begin(), p.end(), [](char c) {
    return alnum(c) || c == '.' || c == '-' || c == '_' || c == '/';
  });
}

}  // namespace

std::unique_ptr<Store> open_s3_store(const std::string& url) {
  const std::string shown = "--store " + url.substr(0, url.find('?')).substr(0, 200);
  if (!url.starts_with("s3://")) throw Error(Exit::usage, shown + ": not an s3:// URL");
  std::string rest = url.substr(5), params;
  if (auto q = rest.find('?'); q != std::string::npos) {
    params = rest.substr(q + 1);
    rest.resize(q);
  }
  std::string bucket = rest.substr(0, rest.find('/'));
  std::string prefix = rest.size() > bucket.size() ? rest.substr(bucket.size() + 1) : "";
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (!bucket_ok(bucket))
    throw Error(Exit::usage, shown + ": not a bucket name: " + bucket.substr(0, 80));
  if (!prefix_ok(prefix))
    throw Error(Exit::usage, shown + ": the prefix may hold letters, digits, . - _ and /");
  std::string endpoint, region;
  std::size_t at = 0;
  while (at < params.size()) {
    std::size_t amp = params.find('&', at);
    if (amp == std::string::npos) amp = params.size();
    std::string_view kv = std::string_view(params).substr(at, amp - at);
    at = amp + 1;
    auto eq = kv.find('=');
    std::string k(kv.substr(0, eq)),
        v = eq == std::string_view::npos ? "" : pct_decode(kv.substr(eq + 1));
    if (k == "endpoint") {
      endpoint = v;
    } else if (k == "region") {
      region = v;
    } else {
      throw Error(Exit::usage, shown + ": unknown parameter " + k.substr(0, 40) +
                                   " (endpoint and region are known)");
    }
  }
  if (region.empty()) region = env("AWS_REGION");
  if (region.empty()) region = env("AWS_DEFAULT_REGION");
  if (region.empty()) region = "us-east-1";
  if (!std::all_of(region.begin(), region.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      }))
    throw Error(Exit::usage, shown + ": not a region: " + region.substr(0, 40));
  if (endpoint.empty()) endpoint = "https://s3." + region + ".amazonaws.com";
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  if ((!endpoint.starts_with("http://") && !endpoint.starts_with("https://")) ||
      endpoint.find('/', endpoint.find("://") + 3) != std::string::npos ||
      endpoint.find_first_of("?#@ ") != std::string::npos)
    throw Error(Exit::usage,
                shown + ": the endpoint must be http://HOST[:PORT] or https://HOST[:PORT]");
  auto client = std::make_shared<Client>(endpoint, bucket, region, load_credentials());
  return std::make_unique<S3Store>(std::move(client), prefix);
}

}  // namespace iep::hub
