#include "iep/transfer/tus.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <future>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <tuple>
#include <utility>

#include "core/util.h"
#include "iep/core/crc32c.h"
#include "iep/core/error.h"

namespace iep::transfer {
namespace {

using Clock = std::chrono::steady_clock;

std::optional<std::uint64_t> parse_u64(const std::optional<std::string>& s) {
  if (!s || s->empty() || s->size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || p != s->data() + s->size()) return std::nullopt;
  return v;
}

bool retryable(long status) {
  return status >= 500 || status == 423 || status == 429 || status == 460;
}

// Sleeps up to `seconds`, waking early when a stop is requested.
void nap(double seconds) {
  auto end = Clock::now() +
             std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (Clock::now() < end && !stop_flag().load()) {
    Clock::duration left = end - Clock::now();
    std::this_thread::sleep_for(std::min<Clock::duration>(left, std::chrono::milliseconds(100)));
  }
}

// The Upload-Checksum value of `data` for a checksum() algorithm.
std::string checksum_b64(const std::string& algorithm, ByteSpan data) {
  if (algorithm == "crc32c") return http::base64(crc32c_bytes(crc32c(data)));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const EVP_MD* type = algorithm == "sha1" ? EVP_sha1() : EVP_sha256();
  if (EVP_Digest(data.data(), data.size(), md, &len, type, nullptr) != 1)
    throw Error(Exit::internal, "OpenSSL: " + algorithm + " failed");
  return http::base64(ByteSpan(md, len));
}

}  // namespace

std::string error_message(const http::Response& r) {
  std::string body = r.body.substr(0, 4096);
  try {
    auto j = nlohmann::json::parse(body);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) {
      std::string m = j["message"].get<std::string>();
      if (j.contains("error") && j["error"].is_string())
        m = j["error"].get<std::string>() + ": " + m;
      return m.substr(0, 300);
    }
  } catch (const nlohmann::json::exception&) {
  }
  std::string line = body.substr(0, body.find('\n'));
  std::string clean;
  for (char c : line.substr(0, 200))
    if (c >= 0x20 && c < 0x7f) clean += c;
  return clean.empty() ? "HTTP " + std::to_string(r.status) : clean;
}

void throw_status(const http::Response& r, const std::string& host, const std::string& what) {
  std::string msg =
      host + ": " + what + ": HTTP " + std::to_string(r.status) + ": " + error_message(r);
  switch (r.status) {
    case 401:
    case 403: throw Error(Exit::auth, msg + " (check the token)");
    case 400:
    case 404:
    case 409:
    case 410:
    case 412:
    case 413:
    case 415:
    case 416:
    case 422: throw Error(Exit::rejected, msg);
    default: throw Error(Exit::network, msg);
  }
}

http::Response with_retries(const RetryPolicy& policy, const std::string& host,
                            const std::function<http::Response()>& attempt, bool verbose) {
  auto start = Clock::now();
  std::mt19937_64 rng(std::random_device{}());
  std::string last;
  for (int n = 0;; ++n) {
    double retry_after = 0;
    try {
      http::Response r = attempt();
      if (!retryable(r.status)) return r;
      last = "HTTP " + std::to_string(r.status) + ": " + error_message(r);
      if (auto ra = parse_u64(r.header("retry-after"))) retry_after = static_cast<double>(*ra);
    } catch (const Error& e) {
      if (e.code() != Exit::network) throw;
      last = e.what();
      if (last.starts_with(host + ": ")) last = last.substr(host.size() + 2);
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    double left = policy.give_up_after - elapsed;
    if (left <= 0 || stop_flag().load())
      throw Error(Exit::network, host + ": " + last + " (gave up after " +
                                     std::to_string(static_cast<long>(elapsed)) + " s)");
    double ceiling = std::min(policy.cap, policy.base * std::pow(2.0, std::min(n, 30)));
    double wait = std::uniform_real_distribution<double>(0, ceiling)(rng);
    wait = std::min(std::max(wait, retry_after), left);
    if (verbose)
      std::fprintf(stderr, "iep: %s: %s; retrying in %.1f s\n", host.c_str(), last.c_str(), wait);
    nap(wait);
  }
}

TusClient::TusClient(http::Client& http, std::string endpoint, http::Headers headers,
                     RetryPolicy retry, std::size_t chunk_size)
    : http_(http),
      endpoint_(std::move(endpoint)),
      headers_(std::move(headers)),
      retry_(retry),
      chunk_(std::max<std::size_t>(chunk_size, 64 * 1024)) {}

http::Response TusClient::request(http::Request& req, const std::string&) {
  for (const auto& h : headers_) req.headers.push_back(h);
  req.headers.emplace_back("Tus-Resumable", "1.0.0");
  return with_retries(
      retry_, http::host_of(req.url), [&] { return http_.perform(req); }, http_.options().verbose);
}

std::string TusClient::create(std::optional<std::uint64_t> length,
                              const std::vector<std::pair<std::string, std::string>>& metadata) {
  http::Request req;
  req.method = "POST";
  req.url = endpoint_;
  if (length)
    req.headers.emplace_back("Upload-Length", std::to_string(*length));
  else
    req.headers.emplace_back("Upload-Defer-Length", "1");
  std::string meta;
  for (const auto& [k, v] : metadata) {
    if (!meta.empty()) meta += ",";
    meta += k + " " + http::base64(util::as_bytes(v));
  }
  if (!meta.empty()) req.headers.emplace_back("Upload-Metadata", meta);
  auto r = request(req, "create upload");
  std::string host = http::host_of(endpoint_);
  if (r.status != 201) throw_status(r, host, "creating an upload");
  auto loc = r.header("location");
  if (!loc || loc->empty())
    throw Error(Exit::network, host + ": creating an upload: no Location in the answer");
  return http::resolve(endpoint_, *loc);
}

std::string choose_checksum(std::string_view offered) {
  std::vector<std::string> names;
  for (std::size_t at = 0; at <= offered.size();) {
    std::size_t comma = std::min(offered.find(',', at), offered.size());
    std::string name(util::trim(offered.substr(at, comma - at)));
    for (char& ch : name) ch = util::ascii_lower(ch);
    names.push_back(std::move(name));
    at = comma + 1;
  }
  auto has = [&](const char* name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  if (has("crc32c")) return "crc32c";
  return has("sha1") && !has("sha256") ? "sha1" : "sha256";
}

const std::string& TusClient::checksum() {
  if (!checksum_) {
    http::Request req;
    req.method = "OPTIONS";
    req.url = endpoint_;
    auto r = request(req, "OPTIONS");
    checksum_ =
        choose_checksum(r.status / 100 == 2 ? r.header("tus-checksum-algorithm").value_or("") : "");
  }
  return *checksum_;
}

std::optional<TusClient::Status> TusClient::status(const std::string& url) {
  http::Request req;
  req.method = "HEAD";
  req.url = url;
  req.headers.emplace_back("Cache-Control", "no-store");
  auto r = request(req, "HEAD");
  if (r.status == 404 || r.status == 410) return std::nullopt;
  std::string host = http::host_of(url);
  if (r.status != 200 && r.status != 204) throw_status(r, host, "checking the upload's offset");
  auto off = parse_u64(r.header("upload-offset"));
  if (!off) throw Error(Exit::network, host + ": HEAD without a valid Upload-Offset");
  Status s;
  s.offset = *off;
  s.length = parse_u64(r.header("upload-length"));
  return s;
}

http::Response TusClient::upload(const std::string& url, UploadData& data,
                                 const std::function<void(std::uint64_t)>& progress,
                                 std::optional<Status> known) {
  std::string host = http::host_of(url);
  auto st = known ? known : status(url);
  if (!st) throw Error(Exit::network, host + ": the upload " + url + " is gone (expired?)");
  std::uint64_t offset = st->offset;
  bool length_known = st->length.has_value();
  // Each chunk is read straight into a request's body (curl sends it from
  // there) and checksummed, the next one on a thread of its own while the
  // current one is sent: the server's work on a chunk and ours on the next
  // overlap. Two buffers serve in turn: no fresh allocation per chunk.
  const std::string& algorithm = checksum();
  struct Chunk {
    std::uint64_t offset = 0, avail = 0;  // where it starts; the data's size then
    bool complete = false;                // the data was complete then
    std::string body, sum;
  };
  auto prepare = [this, &data, &algorithm](std::uint64_t at, std::string buf) {
    Chunk c;
    c.offset = at;
    std::tie(c.avail, c.complete) = data.wait(at + chunk_);
    std::size_t n =
        static_cast<std::size_t>(at < c.avail ? std::min<std::uint64_t>(chunk_, c.avail - at) : 0);
    buf.resize(n);
    auto* bytes = reinterpret_cast<std::uint8_t*>(buf.data());
    data.read_at(at, MutableByteSpan(bytes, n));
    c.sum = checksum_b64(algorithm, ByteSpan(bytes, n));
    c.body = std::move(buf);
    return c;
  };
  std::future<Chunk> ahead;
  std::string spare;
  http::Response last;
  last.status = 204;
  if (progress) progress(offset);
  for (;;) {
    Chunk c = ahead.valid() ? ahead.get() : prepare(offset, std::exchange(spare, {}));
    if (c.offset != offset) c = prepare(offset, std::move(c.body));  // a 409 moved the offset
    if (c.complete && st->length && *st->length != c.avail)
      throw Error(Exit::rejected, host + ": the upload's length (" + std::to_string(*st->length) +
                                      ") is not the package's (" + std::to_string(c.avail) + ")");
    if (offset > c.avail)
      throw Error(Exit::rejected, host + ": the server holds more bytes (" +
                                      std::to_string(offset) + ") than the package has");
    if (c.complete && offset == c.avail && length_known) return last;
    const std::size_t n = c.body.size();
    const bool final_chunk = c.complete && offset + n == c.avail;
    if (!final_chunk)
      ahead = std::async(std::launch::async, prepare, offset + n, std::exchange(spare, {}));
    http::Request req;
    req.method = "PATCH";
    req.url = url;
    req.body = std::move(c.body);
    req.headers.emplace_back("Content-Type", "application/offset+octet-stream");
    req.headers.emplace_back("Upload-Offset", std::to_string(offset));
    req.headers.emplace_back("Upload-Checksum", algorithm + " " + c.sum);
    // A server that refuses the PATCH from its headers (409, 423 while the
    // previous, cut request still holds the upload) answers before the
    // body is sent: a cut costs at most one chunk.
    if (n > 0) req.headers.emplace_back("Expect", "100-continue");
    bool declares = final_chunk && !length_known;
    if (declares) req.headers.emplace_back("Upload-Length", std::to_string(c.avail));
    auto r = request(req, "PATCH");
    spare = std::move(req.body);
    if (r.status == 409) {  // offset mismatch: ask where the server is
      st = status(url);
      if (!st) throw Error(Exit::network, host + ": the upload " + url + " is gone (expired?)");
      offset = st->offset;
      length_known = st->length.has_value();
      continue;
    }
    if (r.status == 404 || r.status == 410)
      throw Error(Exit::network, host + ": the upload " + url + " is gone (expired?)");
    if (r.status != 204 && r.status != 200) throw_status(r, host, "sending bytes");
    auto off = parse_u64(r.header("upload-offset"));
    if (!off || *off != offset + n)
      throw Error(Exit::network, host + ": PATCH answered an unexpected Upload-Offset");
    offset = *off;
    sent_ += n;
    if (declares) length_known = true, st->length = c.avail;
    last = std::move(r);
    if (progress) progress(offset);
  }
}

void TusClient::terminate(const std::string& url) noexcept {
  try {
    http::Request req;
    req.method = "DELETE";
    req.url = url;
    for (const auto& h : headers_) req.headers.push_back(h);
    req.headers.emplace_back("Tus-Resumable", "1.0.0");
    http_.perform(req);
  } catch (...) {
  }
}

FileUploadData::FileUploadData(const std::string& path) : path_(path) {
  fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat sb {};
  if (fd_.get() < 0 || ::fstat(fd_.get(), &sb) != 0)
    throw Error(Exit::input, path + ": " + std::strerror(errno));
  size_ = static_cast<std::uint64_t>(sb.st_size);
}

void FileUploadData::read_at(std::uint64_t offset, MutableByteSpan buf) {
  std::size_t done = 0;
  while (done < buf.size()) {
    ssize_t n =
        ::pread(fd_.get(), buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error(Exit::input, path_ + ": read failed or file shrank");
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace iep::transfer
