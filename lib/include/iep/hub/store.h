// The hub's byte store: the bytes of uploads in progress and of committed
// packages. The index (index.h) says what they are; the store only keeps
// bytes, durably.
//
// One interface, several engines: FileStore (the embedded default, files
// under --data) now; S3-compatible object storage for several hub nodes
// later (an upload as a multipart upload, commit as its completion). So the
// operations are the few an object store can also do: append at an offset,
// cut back, commit whole, read a range, remove.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "iep/core/io.h"

namespace iep::hub {

// Appends to one upload. Bytes written are not durable until sync(); a
// writer destroyed without sync() leaves them to be cut back by truncate().
class UploadWriter {
 public:
  virtual ~UploadWriter() = default;
  // Error(Exit::output) on failure; its message starts with "disk full"
  // when the store has no room.
  virtual void write(ByteSpan data) = 0;
  // Makes everything written durable (fsync) and returns the new size.
  virtual std::uint64_t sync() = 0;
};

// A package opened for reading.
struct PackageReader {
  UniqueFd fd;
  std::uint64_t size = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual void create_upload(const std::string& id) = 0;
  // The size of the upload's bytes as they are (after a crash possibly
  // beyond the durable offset the index recorded).
  virtual std::uint64_t upload_size(const std::string& id) = 0;
  // Writes from `offset` on (which must be the upload's current size).
  virtual std::unique_ptr<UploadWriter> append(const std::string& id, std::uint64_t offset) = 0;
  // Cuts the upload back to `size` bytes, durably (a failed or refused PATCH).
  virtual void truncate(const std::string& id, std::uint64_t size) = 0;
  virtual std::unique_ptr<Source> read_upload(const std::string& id) = 0;
  virtual void remove_upload(const std::string& id) = 0;
  // Appends the bytes of upload `from` to upload `to` (tus concatenation).
  virtual void concat(const std::string& to, const std::string& from) = 0;

  // Moves a complete upload into the package store, durably (fsync the
  // bytes, rename, fsync the folder). uncommit() undoes it (an index
  // transaction that failed after it).
  virtual void commit(const std::string& upload_id, const std::string& package_id) = 0;
  virtual void uncommit(const std::string& package_id, const std::string& upload_id) = 0;
  virtual bool has_package(const std::string& package_id) = 0;
  // The package's size, and a descriptor of its bytes where the engine has
  // one (the server sends it with sendfile); else fd is -1 and the bytes
  // come from read_package().
  virtual PackageReader open_package(const std::string& package_id) = 0;
  // `length` bytes of the package from `offset` on, streamed.
  virtual std::unique_ptr<Source> read_package(const std::string& package_id, std::uint64_t offset,
                                               std::uint64_t length) = 0;
  virtual void remove_package(const std::string& package_id) = 0;

  virtual std::vector<std::string> upload_ids() = 0;
  // Bytes free for new data.
  virtual std::uint64_t free_space() = 0;
};

// Files under `dir`: uploads/ID (partial bytes) and packages/ID (sealed
// packages), both created if missing.
std::unique_ptr<Store> open_file_store(const std::filesystem::path& dir);

// An S3-compatible bucket: "s3://BUCKET/PREFIX?endpoint=URL&region=R"
// (path-style requests to the endpoint; default https://s3.REGION.amazonaws.com;
// region else AWS_REGION, AWS_DEFAULT_REGION, us-east-1). Credentials from
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, else the
// shared credentials file. Error(Exit::usage) for a malformed URL or no
// credentials.
std::unique_ptr<Store> open_s3_store(const std::string& url);

// The engine `spec` names: empty for files under `data`,
// "s3://BUCKET/PREFIX?endpoint=..." for S3-compatible object storage.
// Error(Exit::usage) for anything else.
std::unique_ptr<Store> open_store(const std::string& spec, const std::filesystem::path& data);

}  // namespace iep::hub
