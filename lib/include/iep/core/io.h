// Byte streams: the seam every stage of a package pipeline plugs into.
//
// A Source yields bytes until it returns 0; a Sink takes bytes and is told
// when the stream is complete with finish(). Stages (zstd, age, tar, hashing
// taps) wrap another Source or Sink, so pack | compress | encrypt | file is a
// chain of objects with constant memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace iep {

using Bytes = std::vector<std::uint8_t>;
using ByteSpan = std::span<const std::uint8_t>;
using MutableByteSpan = std::span<std::uint8_t>;

class Source {
 public:
  virtual ~Source() = default;
  // Reads up to buf.size() bytes; returns 0 only at the end of the stream.
  virtual std::size_t read(MutableByteSpan buf) = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(ByteSpan data) = 0;
  // The stream is complete: flush, write trailers. Called once.
  virtual void finish() = 0;
};

// Fills buf completely unless the stream ends first; returns bytes read.
std::size_t read_full(Source& src, MutableByteSpan buf);
// Copies src to dst until src ends (does not call dst.finish()).
std::uint64_t copy(Source& src, Sink& dst);

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  [[nodiscard]] int get() const { return fd_; }
  int release();
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Reads a file descriptor. `name` is used in error messages ("-" shows as stdin).
class FdSource : public Source {
 public:
  FdSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  std::size_t read(MutableByteSpan buf) override;

 private:
  int fd_;
  std::string name_;
};

// Opens a file for reading; throws Error(Exit::input) naming the path.
class FileSource : public Source {
 public:
  explicit FileSource(const std::filesystem::path& path);
  std::size_t read(MutableByteSpan buf) override;
  [[nodiscard]] int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::string name_;
};

// Writes to a file descriptor (stdout); a write failure is Error(Exit::output).
class FdSink : public Sink {
 public:
  FdSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  void write(ByteSpan data) override;
  void finish() override {}

 private:
  int fd_;
  std::string name_;
};

// Writes a file atomically: into a temporary sibling, which commit() fsyncs
// and renames over `path`. Destroyed without commit(), it removes the
// temporary, so a failed run leaves nothing behind. Refuses to replace an
// existing file unless `overwrite`.
class AtomicFile : public Sink {
 public:
  explicit AtomicFile(std::filesystem::path path, bool overwrite = false, unsigned mode = 0644);
  ~AtomicFile() override;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(ByteSpan data) override;
  void finish() override {}
  void commit();
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  // The temporary being written, for writers that want a name (DCMTK's
  // saveFile): what they write there is what commit() syncs and links.
  [[nodiscard]] const std::filesystem::path& temp_path() const { return tmp_; }

 private:
  std::filesystem::path path_;
  std::filesystem::path tmp_;
  UniqueFd fd_;
  bool overwrite_;
  bool committed_ = false;
};

// Discards everything (iep-verify opens a package into nothing).
class NullSink : public Sink {
 public:
  void write(ByteSpan) override {}
  void finish() override {}
};

// Collects a stream in memory; for small things (manifests, tests).
class BytesSink : public Sink {
 public:
  void write(ByteSpan data) override { bytes.insert(bytes.end(), data.begin(), data.end()); }
  void finish() override {}
  Bytes bytes;
};

class BytesSource : public Source {
 public:
  explicit BytesSource(ByteSpan data) : data_(data) {}
  std::size_t read(MutableByteSpan buf) override;

 private:
  ByteSpan data_;
  std::size_t pos_ = 0;
};

// Reads `in` on a background thread, a few buffers ahead, so the stages
// below it (reading, decrypting, decompressing) run on another core than
// the stages above. Data read before an error is delivered first, then the
// error is rethrown by read(). `in` must not be used by anyone else.
class PrefetchSource : public Source {
 public:
  explicit PrefetchSource(Source& in, std::size_t buffer_size = 256 * 1024, std::size_t depth = 4);
  ~PrefetchSource() override;  // stops the thread and waits for it
  PrefetchSource(const PrefetchSource&) = delete;
  PrefetchSource& operator=(const PrefetchSource&) = delete;
  std::size_t read(MutableByteSpan buf) override;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Writes into `out` on a background thread (e.g. encrypting and signing
// while the caller compresses). An error in `out` is rethrown by the next
// write() or by finish(), which waits until everything reached `out` (and
// does not call out.finish()).
class BackgroundSink : public Sink {
 public:
  explicit BackgroundSink(Sink& out, std::size_t buffer_size = 256 * 1024, std::size_t depth = 4);
  ~BackgroundSink() override;
  BackgroundSink(const BackgroundSink&) = delete;
  BackgroundSink& operator=(const BackgroundSink&) = delete;
  void write(ByteSpan data) override;
  void finish() override;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// fsyncs a directory so a rename inside it is durable.
void fsync_dir(const std::filesystem::path& dir);

// Creates a new hidden sibling of `path`, ".NAME.XXXXXXXX.tmp" (O_EXCL,
// `mode`), for a file under construction; sets `tmp` to its name.
// Error(Exit::output) naming `path` when it cannot.
UniqueFd create_sibling(const std::filesystem::path& path, unsigned mode,
                        std::filesystem::path& tmp);

// Reads a whole small file (keys, cards, signatures); refuses files larger
// than max_size. Errors are Error(Exit::input) naming the path.
std::string read_small_file(const std::filesystem::path& path, std::size_t max_size = 1 << 20);

}  // namespace iep
