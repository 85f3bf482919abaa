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
#include <functional>
#include <memory>
#include <mutex>
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

// Reads `in` and writes what it read to `tap` as it goes (a copy kept, or
// hashed, beside the reader).
class TeeSource : public Source {
 public:
  TeeSource(Source& in, Sink& tap) : in_(in), tap_(tap) {}
  std::size_t read(MutableByteSpan buf) override {
    std::size_t n = in_.read(buf);
    if (n > 0) tap_.write(ByteSpan(buf.data(), n));
    return n;
  }

 private:
  Source& in_;
  Sink& tap_;
};

// ---- Leaving nothing behind, even when stopped --------------------------
//
// install_signal_cleanup() (each command's run() calls it first) makes
// SIGTERM, SIGINT and SIGHUP run every registered cleanup action (removing
// partial output folders, temporary files and folders) on a watcher
// thread, after which the process dies of the signal (a shell sees exit
// status 128+N: 143 for SIGTERM, 130 SIGINT, 129 SIGHUP). A signal that was
// ignored when the command started (nohup) stays ignored. A command may
// install its own handler for a signal afterwards (iep-fetch stops at a safe
// point on SIGTERM): its destructors then do the cleaning.
void install_signal_cleanup();

// One registered cleanup action, for as long as this object lives. The
// action runs on the watcher thread with the registry locked; the owner
// creates what the action removes while holding hold(), and does its last
// step (commit or removal) through finish(), so that a signal finds each
// thing either not begun or done, never half.
class SignalCleanup {
 public:
  explicit SignalCleanup(std::function<void()> action);
  ~SignalCleanup();  // unregisters, without running the action
  SignalCleanup(const SignalCleanup&) = delete;
  SignalCleanup& operator=(const SignalCleanup&) = delete;
  // Runs fn() with the registry locked, then unregisters; if fn() throws,
  // the action stays registered.
  void finish(const std::function<void()>& fn);
  // No cleanup action runs while this lock is held.
  [[nodiscard]] static std::unique_lock<std::mutex> hold();

 private:
  std::uint64_t id_ = 0;
};

// Writes a file atomically: into a temporary sibling, which commit() fsyncs
// and renames over `path`. Destroyed without commit(), it removes the
// temporary, so a failed run leaves nothing behind. Refuses to replace an
// existing file unless `overwrite`. Writeback starts every few MiB as the
// file is written, so that commit() waits only for the tail.
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
  std::uint64_t written_ = 0, last_kick_ = 0;
  struct Writeback;
  std::unique_ptr<Writeback> writeback_;  // started once the file is large; goes before fd_
  SignalCleanup cleanup_;                 // unlinks tmp_ on SIGTERM, SIGINT, SIGHUP
};

// Where temporary files go: $TMPDIR, else /tmp.
std::filesystem::path temp_root();

// An unnamed file in temp_root() (O_TMPFILE; where the file system has
// none, a file unlinked as soon as it is made), mode 0600, gone when
// closed however the process ends. `purpose` goes into the error message.
UniqueFd unnamed_temp_file(const std::string& purpose);

// A private temporary folder, $TMPDIR/PREFIX-XXXXXX (/tmp if TMPDIR is
// unset) or PARENT/PREFIX-XXXXXX, mode 0700; removed with its contents on
// destruction and on SIGTERM, SIGINT and SIGHUP.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  TempDir(const std::filesystem::path& parent, const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  UniqueFd fd_;
  SignalCleanup cleanup_;
};

// A new folder built out of sight and moved into place whole. Its entries
// are created in a private (mode 0700) hidden sibling of `dest`,
// ".NAME.partial-XXXXXX", every folder and file relative to that folder's
// descriptor (mkdirat/openat, never following a symbolic link), so that
// whoever can rename entries in the parent folder cannot redirect them.
// commit() renames it to NAME, on the parent's descriptor, after checking
// that the name still is this very folder. Not committed, it is removed: on
// destruction, and on SIGTERM, SIGINT and SIGHUP. The run holds an flock on
// its partial folder for as long as it lives; creating one first removes
// the partial folders of the same NAME that no live run holds (left by a
// kill -9, a crash or a power cut). The folder keeps mode 0700 once in
// place; what is inside gets the usual modes (0777, 0644 less the umask).
class StagedFolder {
 public:
  // Error(Exit::output) if `dest` exists or its parent is not a folder.
  explicit StagedFolder(std::filesystem::path dest);
  ~StagedFolder();
  StagedFolder(const StagedFolder&) = delete;
  StagedFolder& operator=(const StagedFolder&) = delete;
  // A new file at `rel`, a relative path of plain names ("a/b/c.dcm"), and
  // its folders as needed; never an existing file. Error(Exit::output).
  UniqueFd create_file(const std::string& rel, unsigned mode = 0644);
  // Syncs the file system, then renames the folder into place.
  void commit();
  [[nodiscard]] const std::filesystem::path& dest() const { return dest_; }
  // Where the partial folder was created (for messages and tests).
  [[nodiscard]] std::filesystem::path partial() const;

 private:
  void remove_partial() noexcept;
  std::filesystem::path dest_;
  std::string name_, tmp_name_;
  UniqueFd parent_, dir_;
  std::string sub_path_;  // the last subfolder created into, and its descriptor
  UniqueFd sub_;
  bool committed_ = false;
  SignalCleanup cleanup_;
};

// Removes the ".NAME.partial-XXXXXX" siblings of `dest` (NAME its file
// name) that belong to this user and that no live run holds, without
// following symbolic links; returns how many it removed.
std::size_t remove_stale_partials(const std::filesystem::path& dest);

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
