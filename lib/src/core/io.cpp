#include "iep/core/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <random>
#include <thread>

#include "iep/core/error.h"

namespace iep {
namespace fs = std::filesystem;

namespace {
std::string display(const std::string& name) {
  return name == "-" ? "stdin" : name;
}
}  // namespace

std::size_t read_full(Source& src, MutableByteSpan buf) {
  std::size_t got = 0;
  while (got < buf.size()) {
    std::size_t n = src.read(buf.subspan(got));
    if (n == 0) break;
    got += n;
  }
  return got;
}

std::uint64_t copy(Source& src, Sink& dst) {
  std::vector<std::uint8_t> buf(256 * 1024);
  std::uint64_t total = 0;
  for (;;) {
    std::size_t n = src.read(buf);
    if (n == 0) return total;
    dst.write(ByteSpan(buf.data(), n));
    total += n;
  }
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}
UniqueFd::~UniqueFd() {
  reset();
}
int UniqueFd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}
void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::size_t FdSource::read(MutableByteSpan buf) {
  for (;;) {
    ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    throw Error(Exit::input, display(name_) + ": read failed: " + std::strerror(errno));
  }
}

FileSource::FileSource(const fs::path& path) : name_(path.string()) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(Exit::input, name_ + ": " + std::strerror(errno));
  fd_.reset(fd);
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
    throw Error(Exit::input, name_ + ": is a directory");
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
}

std::size_t FileSource::read(MutableByteSpan buf) {
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    throw Error(Exit::input, name_ + ": read failed: " + std::strerror(errno));
  }
}

namespace {
void write_all(int fd, ByteSpan data, const std::string& name) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(Exit::output, name + ": write failed: " + std::strerror(errno));
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
}
}  // namespace

void FdSink::write(ByteSpan data) {
  write_all(fd_, data, name_ == "-" ? "stdout" : name_);
}

AtomicFile::AtomicFile(fs::path path, bool overwrite, unsigned mode)
    : path_(std::move(path)), overwrite_(overwrite) {
  if (!overwrite_ && fs::exists(fs::symlink_status(path_)))
    throw Error(Exit::output, path_.string() + ": already exists; refusing to overwrite it");
  fd_ = create_sibling(path_, mode, tmp_);
}

UniqueFd create_sibling(const fs::path& path, unsigned mode, fs::path& tmp) {
  std::random_device rd;
  for (int attempt = 0; attempt < 16; ++attempt) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".%08x.tmp", rd());
    std::string name(1, '.');  // (not "." + string: g++ 12 -O3 warns falsely on that)
    name.append(path.filename().string()).append(suffix);
    fs::path candidate = path.parent_path() / name;
    const int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd >= 0) {
      tmp = std::move(candidate);
      return UniqueFd(fd);
    }
    if (errno != EEXIST)
      throw Error(Exit::output, path.string() + ": cannot create: " + std::strerror(errno));
  }
  throw Error(Exit::output, path.string() + ": cannot create a temporary file beside it");
}

AtomicFile::~AtomicFile() {
  if (!committed_ && !tmp_.empty()) {
    fd_.reset();
    ::unlink(tmp_.c_str());
  }
}

void AtomicFile::write(ByteSpan data) {
  write_all(fd_.get(), data, path_.string());
}

void AtomicFile::commit() {
  if (::fsync(fd_.get()) != 0)
    throw Error(Exit::output, path_.string() + ": fsync failed: " + std::strerror(errno));
  if (::close(fd_.release()) != 0)
    throw Error(Exit::output, path_.string() + ": close failed: " + std::strerror(errno));
  if (overwrite_) {
    if (::rename(tmp_.c_str(), path_.c_str()) != 0)
      throw Error(Exit::output, path_.string() + ": rename failed: " + std::strerror(errno));
  } else {
    // link() fails if the target appeared meanwhile: never replace a file.
    if (::link(tmp_.c_str(), path_.c_str()) != 0)
      throw Error(Exit::output, path_.string() + ": cannot create: " + std::strerror(errno));
    ::unlink(tmp_.c_str());
  }
  committed_ = true;
  fs::path dir = path_.parent_path();
  fsync_dir(dir.empty() ? fs::path(".") : dir);
}

std::size_t BytesSource::read(MutableByteSpan buf) {
  std::size_t n = std::min(buf.size(), data_.size() - pos_);
  if (n == 0) return 0;
  std::memcpy(buf.data(), data_.data() + pos_, n);
  pos_ += n;
  return n;
}

// A bounded hand-off of buffers between two threads: `full` flows from the
// producer to the consumer, `empty` back. Shared by both stream adapters.
struct Handoff {
  std::mutex m;
  std::condition_variable cv;
  std::deque<Bytes> full;
  std::vector<Bytes> empty;
  bool done = false;  // the producer will add nothing more
  bool stop = false;  // the consumer has gone away
  std::exception_ptr error;

  Handoff(std::size_t size, std::size_t depth) {
    for (std::size_t i = 0; i < depth; ++i) empty.emplace_back(size);
  }
  // Producer: an empty buffer, or nothing when told to stop.
  bool take_empty(Bytes& buf) {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return !empty.empty() || stop; });
    if (stop) return false;
    buf = std::move(empty.back());
    empty.pop_back();
    return true;
  }
  void give_full(Bytes&& buf) {
    std::lock_guard lock(m);
    full.push_back(std::move(buf));
    cv.notify_all();
  }
  void finish(std::exception_ptr e) {
    std::lock_guard lock(m);
    done = true;
    error = std::move(e);
    cv.notify_all();
  }
  void give_empty(Bytes&& buf) {
    std::lock_guard lock(m);
    empty.push_back(std::move(buf));
    cv.notify_all();
  }
};

struct PrefetchSource::State {
  State(Source& in, std::size_t size, std::size_t depth) : h(size, depth), size(size) {
    thread = std::thread([this, &in] { run(in); });
  }
  // Fills each buffer whole (short only at the end); what a buffer holds
  // when `in` throws is handed on before the error.
  void run(Source& in) {
    Bytes buf;
    std::size_t n = 0;
    try {
      while (h.take_empty(buf)) {
        buf.resize(size);
        n = 0;
        bool end = false;
        while (n < size && !end) {
          std::size_t got = in.read(MutableByteSpan(buf.data() + n, size - n));
          n += got;
          end = got == 0;
        }
        buf.resize(n);
        if (n > 0) h.give_full(std::move(buf));
        n = 0;
        if (end) break;
      }
      h.finish(nullptr);
    } catch (...) {
      auto err = std::current_exception();
      if (n > 0) {
        buf.resize(n);
        h.give_full(std::move(buf));
      }
      h.finish(err);
    }
  }
  Handoff h;
  std::size_t size;
  Bytes cur;
  std::size_t pos = 0;
  std::thread thread;
};

PrefetchSource::PrefetchSource(Source& in, std::size_t buffer_size, std::size_t depth)
    : s_(std::make_unique<State>(in, buffer_size, depth)) {}

PrefetchSource::~PrefetchSource() {
  {
    std::lock_guard lock(s_->h.m);
    s_->h.stop = true;
    s_->h.cv.notify_all();
  }
  s_->thread.join();
}

std::size_t PrefetchSource::read(MutableByteSpan buf) {
  State& s = *s_;
  if (s.pos == s.cur.size()) {
    std::unique_lock lock(s.h.m);
    if (!s.cur.empty() || s.cur.capacity() > 0) {
      s.h.empty.push_back(std::move(s.cur));
      s.h.cv.notify_all();
    }
    s.cur = Bytes();
    s.pos = 0;
    s.h.cv.wait(lock, [&] { return !s.h.full.empty() || s.h.done; });
    if (s.h.full.empty()) {
      if (s.h.error) std::rethrow_exception(s.h.error);
      return 0;
    }
    s.cur = std::move(s.h.full.front());
    s.h.full.pop_front();
  }
  std::size_t n = std::min(buf.size(), s.cur.size() - s.pos);
  std::memcpy(buf.data(), s.cur.data() + s.pos, n);
  s.pos += n;
  return n;
}

struct BackgroundSink::State {
  State(Sink& out, std::size_t size, std::size_t depth) : h(size, depth), size(size) {
    thread = std::thread([this, &out] { run(out); });
  }
  void run(Sink& out) {
    try {
      for (;;) {
        Bytes buf;
        {
          std::unique_lock lock(h.m);
          h.cv.wait(lock, [&] { return !h.full.empty() || h.done || h.stop; });
          if (h.full.empty()) return;  // all written (done) or abandoned (stop)
          buf = std::move(h.full.front());
          h.full.pop_front();
        }
        out.write(buf);
        buf.clear();
        h.give_empty(std::move(buf));
      }
    } catch (...) {
      std::lock_guard lock(h.m);
      h.error = std::current_exception();
      h.full.clear();
      h.cv.notify_all();
    }
  }
  void rethrow_if_failed() {
    std::lock_guard lock(h.m);
    if (h.error) std::rethrow_exception(h.error);
  }
  Handoff h;
  std::size_t size;
  Bytes cur;
  std::thread thread;
  bool finished = false;
};

BackgroundSink::BackgroundSink(Sink& out, std::size_t buffer_size, std::size_t depth)
    : s_(std::make_unique<State>(out, buffer_size, depth)) {}

BackgroundSink::~BackgroundSink() {
  if (!s_->thread.joinable()) return;  // finish() already waited for it
  {
    std::lock_guard lock(s_->h.m);
    s_->h.stop = true;
    s_->h.cv.notify_all();
  }
  s_->thread.join();
}

void BackgroundSink::write(ByteSpan data) {
  State& s = *s_;
  while (!data.empty()) {
    if (s.cur.capacity() == 0) {
      // Wait for an empty buffer, or for the writer to have failed.
      std::unique_lock lock(s.h.m);
      s.h.cv.wait(lock, [&] { return !s.h.empty.empty() || s.h.error; });
      if (s.h.error) std::rethrow_exception(s.h.error);
      s.cur = std::move(s.h.empty.back());
      s.h.empty.pop_back();
      s.cur.clear();
    }
    std::size_t n = std::min(data.size(), s.size - s.cur.size());
    s.cur.insert(s.cur.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    data = data.subspan(n);
    if (s.cur.size() == s.size) {
      s.h.give_full(std::move(s.cur));
      s.cur = Bytes();
    }
  }
}

void BackgroundSink::finish() {
  State& s = *s_;
  if (s.finished) return;
  s.finished = true;
  if (!s.cur.empty()) s.h.give_full(std::move(s.cur));
  s.cur = Bytes();
  {
    std::lock_guard lock(s.h.m);
    s.h.done = true;
    s.h.cv.notify_all();
  }
  s.thread.join();
  s.rethrow_if_failed();
}

void fsync_dir(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0)
    throw Error(Exit::output, dir.string() + ": fsync failed: " + std::strerror(errno));
}

std::string read_small_file(const fs::path& path, std::size_t max_size) {
  FileSource src(path);
  std::string out;
  char buf[8192];
  for (;;) {
    std::size_t n = src.read(MutableByteSpan(reinterpret_cast<std::uint8_t*>(buf), sizeof buf));
    if (n == 0) break;
    out.append(buf, n);
    if (out.size() > max_size)
      throw Error(Exit::input,
                  path.string() + ": too large (over " + std::to_string(max_size) + " bytes)");
  }
  return out;
}

}  // namespace iep
