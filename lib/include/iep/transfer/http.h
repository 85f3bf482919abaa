// A small HTTP client over libcurl for the hub protocol (iep-protocol(7)).
//
// One Client holds one curl easy handle (connections are reused between
// requests). TLS is always verified, against the system store or the CA
// file given; it is never switched off. Failures to reach a host are
// Error(Exit::network, "HOST: cause"); an HTTP status is not an error here,
// the caller decides. The Authorization header is never logged.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "iep/core/io.h"

namespace iep::transfer {
// Set from a signal handler: requests in flight abort, sleeps between
// retries end early, and the long-running loops stop at a safe point.
std::atomic<bool>& stop_flag();
}  // namespace iep::transfer

namespace iep::transfer::http {

struct Options {
  std::string cacert;            // a CA bundle file; empty: the system store
  long connect_timeout = 15;     // seconds to establish a connection
  long low_speed_time = 60;      // abort when under 1 byte/s for this long
  std::uint64_t limit_rate = 0;  // bytes/s each way, 0: unlimited
  bool verbose = false;          // one line per request on stderr (never the token)
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  // The body: either bytes in memory, or a stream of exactly upload_size bytes.
  std::string body;
  Source* upload = nullptr;
  std::uint64_t upload_size = 0;
  // Where a 2xx response body goes; others (and 2xx without a sink) are
  // kept in Response::body, at most max_body bytes (more: Exit::network).
  Sink* download = nullptr;
  // Called with the status before the first byte goes to `download`.
  std::function<void(long)> on_download_start;
  std::size_t max_body = 1 << 20;
  long timeout = 0;  // whole request, seconds; 0: none (long-polls set one)
};

struct Response {
  long status = 0;
  Headers headers;  // names in lower case
  std::string body;
  std::uint64_t downloaded = 0;  // bytes written to Request::download
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
};

class Client {
 public:
  explicit Client(Options options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Response perform(const Request& req);
  [[nodiscard]] const Options& options() const { return options_; }

 private:
  Options options_;
  void* curl_;  // CURL*
};

// The host[:port] of a URL, for messages.
std::string host_of(const std::string& url);
// Resolves a reference (absolute URL or absolute path) against a base URL.
std::string resolve(const std::string& base, const std::string& ref);
// base64 (standard, padded) for tus headers.
std::string base64(ByteSpan data);
std::string unbase64(std::string_view text);  // empty on malformed input

}  // namespace iep::transfer::http
