// A tus 1.0.0 uploader (https://tus.io/protocols/resumable-upload): creation
// (with a deferred length while the bytes are still being made), PATCH in
// chunks each carrying an Upload-Checksum (crc32c when the server offers
// it, else sha256), HEAD to resume from the server's offset, retries with
// exponential backoff and full jitter.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "iep/transfer/http.h"

namespace iep::transfer {

struct RetryPolicy {
  double give_up_after = 300;  // seconds without progress before Exit::network
  double base = 0.5;           // first backoff ceiling, doubled per attempt
  double cap = 30;             // largest backoff
};

// Runs `attempt` (one HTTP exchange) until it answers something other than
// a network error, a 5xx, 423, 429 or 460 (checksum mismatch), sleeping
// between attempts (full jitter; Retry-After honoured). Past give_up_after:
// Error(Exit::network) naming the host and the last cause.
http::Response with_retries(const RetryPolicy& policy, const std::string& host,
                            const std::function<http::Response()>& attempt, bool verbose = false);

// The hub's answer as an error: 401/403 Exit::auth, 413/422/400/409/415
// Exit::rejected with the hub's message, 404 Exit::rejected ("not found"),
// anything else Exit::network. `what` says which request it was.
[[noreturn]] void throw_status(const http::Response& r, const std::string& host,
                               const std::string& what);
// The "message" of a JSON error body, or its first line (bounded).
std::string error_message(const http::Response& r);

// Bytes to upload that may still be growing (a package being sealed).
class UploadData {
 public:
  virtual ~UploadData() = default;
  // Blocks until at least `want` bytes exist or the data is complete;
  // returns the bytes available and whether that is all of them.
  virtual std::pair<std::uint64_t, bool> wait(std::uint64_t want) = 0;
  // Reads exactly buf.size() bytes at `offset` (below what wait() returned).
  virtual void read_at(std::uint64_t offset, MutableByteSpan buf) = 0;
};

// Of the algorithms a server offers (Tus-Checksum-Algorithm, a comma list),
// the one to use: crc32c, else sha256, else sha1; sha256 when it names none
// of them (a server without the checksum extension ignores the header).
std::string choose_checksum(std::string_view offered);

class TusClient {
 public:
  // `endpoint`: the creation URL (".../v1/uploads"); `headers`: sent with
  // every request (Authorization).
  TusClient(http::Client& http, std::string endpoint, http::Headers headers, RetryPolicy retry,
            std::size_t chunk_size = 8 << 20);

  // Creates an upload; no length means `Upload-Defer-Length: 1`. Returns its
  // absolute URL.
  std::string create(std::optional<std::uint64_t> length,
                     const std::vector<std::pair<std::string, std::string>>& metadata);

  struct Status {
    std::uint64_t offset = 0;
    std::optional<std::uint64_t> length;  // none while deferred
  };
  // HEAD; nothing when the upload is gone (404, 410).
  std::optional<Status> status(const std::string& url);

  // Sends what the server lacks, from its offset (HEAD, unless the caller
  // `known` it: an upload it just created or asked about) to the end of
  // `data`, declaring the length in the last PATCH when it was deferred.
  // `progress(offset)` after each chunk. Returns the last PATCH's answer.
  http::Response upload(const std::string& url, UploadData& data,
                        const std::function<void(std::uint64_t)>& progress = {},
                        std::optional<Status> known = std::nullopt);

  // DELETE (termination); errors are ignored (best effort).
  void terminate(const std::string& url) noexcept;

  [[nodiscard]] std::uint64_t bytes_sent() const { return sent_; }

  // The Upload-Checksum algorithm of the PATCHes: choose_checksum() of the
  // server's OPTIONS Tus-Checksum-Algorithm, asked once.
  const std::string& checksum();

 private:
  // Adds the common headers to `req` and performs it with retries.
  http::Response request(http::Request& req, const std::string& what);
  http::Client& http_;
  std::string endpoint_;
  http::Headers headers_;
  RetryPolicy retry_;
  std::size_t chunk_;
  std::uint64_t sent_ = 0;
  std::optional<std::string> checksum_;
};

// Upload data from a complete file.
class FileUploadData : public UploadData {
 public:
  explicit FileUploadData(const std::string& path);
  std::pair<std::uint64_t, bool> wait(std::uint64_t) override { return {size_, true}; }
  void read_at(std::uint64_t offset, MutableByteSpan buf) override;

 private:
  UniqueFd fd_;
  std::string path_;
  std::uint64_t size_ = 0;
};

}  // namespace iep::transfer
