#include "iep/transfer/http.h"

#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>

#include "core/curl_util.h"
#include "core/util.h"
#include "iep/core/error.h"

namespace iep::transfer {
std::atomic<bool>& stop_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}
}  // namespace iep::transfer

namespace iep::transfer::http {
namespace {

int on_progress(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return stop_flag().load() ? 1 : 0;  // abort: the command was told to stop
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = util::ascii_lower(c);
  return r;
}

struct Transfer {
  const Request* req = nullptr;
  Response* resp = nullptr;
  CURL* curl = nullptr;
  std::exception_ptr error;
  bool too_big = false;
  bool started = false;
  std::string host;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {  // a new response (after 100 Continue, redirects)
    t->resp->headers.clear();
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  if (t->resp->headers.size() >= 200) return size * n;  // bounded
  std::string name = lower(util::trim(line.substr(0, colon)));
  std::string value(util::trim(line.substr(colon + 1)));
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
  t->resp->headers.emplace_back(std::move(name), std::move(value));
  return size * n;
}

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  try {
    if (t->req->download != nullptr && status >= 200 && status < 300) {
      if (!t->started) {
        t->started = true;
        if (t->req->on_download_start) t->req->on_download_start(status);
      }
      t->req->download->write(ByteSpan(reinterpret_cast<const std::uint8_t*>(data), len));
      t->resp->downloaded += len;
      return len;
    }
    if (t->resp->body.size() + len > t->req->max_body) {
      t->too_big = true;
      return 0;
    }
    t->resp->body.append(data, len);
    return len;
  } catch (...) {
    t->error = std::current_exception();
    return 0;
  }
}

size_t on_read(char* buf, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  try {
    return t->req->upload->read(MutableByteSpan(reinterpret_cast<std::uint8_t*>(buf), size * n));
  } catch (...) {
    t->error = std::current_exception();
    return CURL_READFUNC_ABORT;
  }
}

}  // namespace

std::optional<std::string> Response::header(std::string_view name) const {
  std::string n = lower(name);
  for (const auto& [k, v] : headers)
    if (k == n) return v;
  return std::nullopt;
}

Client::Client(Options options) : options_(std::move(options)) {
  global_init();
  curl_ = curl_easy_init();
  if (curl_ == nullptr) throw Error(Exit::internal, "libcurl: cannot create a handle");
}

Client::~Client() {
  curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Response Client::perform(const Request& req) {
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);
  Response resp;
  Transfer t;
  t.req = &req;
  t.resp = &resp;
  t.curl = c;
  t.host = host_of(req.url);

  curl::Headers hdrs;
  auto add = [&](const std::string& line) { hdrs.add(line); };
  bool expect = false;
  for (const auto& [k, v] : req.headers) {
    add(k + ": " + v);
    expect = expect || lower(k) == "expect";
  }
  if (!expect) add("Expect:");  // no 100-continue round trip unless asked for

  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.cacert.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.cacert.c_str());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options_.low_speed_time);
  if (req.timeout > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT, req.timeout);
  if (options_.limit_rate > 0) {
    curl_easy_setopt(c, CURLOPT_MAX_SEND_SPEED_LARGE, static_cast<curl_off_t>(options_.limit_rate));
    curl_easy_setopt(c, CURLOPT_MAX_RECV_SPEED_LARGE, static_cast<curl_off_t>(options_.limit_rate));
  }
  // Bigger buffers than curl's defaults (16 KiB down, 64 KiB up): a package
  // moves in ten to thirty times fewer callbacks and system calls. Not with
  // a rate limit, which curl keeps only roughly with big buffers.
  if (options_.limit_rate == 0) {
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
  }
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "iep/0.1");
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);

  if (req.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (req.upload != nullptr) {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &t);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.upload_size));
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  } else if (req.method == "POST" || req.method == "PATCH" || req.method == "PUT" ||
             !req.body.empty()) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    if (req.method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  } else if (req.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs.get());
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);

  CURLcode rc = curl_easy_perform(c);
  if (t.error) std::rethrow_exception(t.error);
  if (t.too_big)
    throw Error(Exit::network,
                t.host + ": response body larger than " + std::to_string(req.max_body) + " bytes");
  if (rc != CURLE_OK) {
    std::string why = rc == CURLE_ABORTED_BY_CALLBACK ? std::string("stopped")
                      : errbuf[0]                     ? std::string(errbuf)
                                                      : std::string(curl_easy_strerror(rc));
    while (!why.empty() && why.back() == '\n') why.pop_back();
    throw Error(Exit::network, t.host + ": " + why);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
  if (options_.verbose)
    std::fprintf(stderr, "iep: %s %s -> %ld\n", req.method.c_str(), req.url.c_str(), resp.status);
  return resp;
}

std::string host_of(const std::string& url) {
  global_init();
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return url;
  char* host = nullptr;
  if (curl_url_get(u.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK) return url;
  std::string h = host;
  curl_free(host);
  char* port = nullptr;
  if (curl_url_get(u.get(), CURLUPART_PORT, &port, 0) == CURLUE_OK) {
    h += ":";
    h += port;
    curl_free(port);
  }
  return h;
}

std::string resolve(const std::string& base, const std::string& ref) {
  global_init();
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK ||
      curl_url_set(u.get(), CURLUPART_URL, ref.c_str(), 0) != CURLUE_OK)
    throw Error(Exit::network, host_of(base) + ": bad location '" + ref + "'");
  char* s = nullptr;
  if (curl_url_get(u.get(), CURLUPART_URL, &s, 0) != CURLUE_OK)
    throw Error(Exit::network, host_of(base) + ": bad location '" + ref + "'");
  std::string r = s;
  curl_free(s);
  return r;
}

std::string base64(ByteSpan data) {
  std::string out(sodium_base64_encoded_len(data.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data.data(), data.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::string unbase64(std::string_view text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
    return {};
  out.resize(len);
  return out;
}

}  // namespace iep::transfer::http
