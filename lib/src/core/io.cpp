#include "iep/core/io.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
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

// ---- signal cleanup ----------------------------------------------------

namespace {

struct CleanupRegistry {
  std::mutex m;
  std::map<std::uint64_t, std::function<void()>> actions;
  std::uint64_t next = 1;
};

// Never destroyed: a signal may come while static objects are destroyed.
CleanupRegistry& registry() {
  static auto* r = new CleanupRegistry;
  return *r;
}

std::atomic<int> g_signal_pipe{-1};

extern "C" void on_termination_signal(int sig) {
  const int saved = errno;
  const auto b = static_cast<unsigned char>(sig);
  if (const int fd = g_signal_pipe.load(); fd >= 0) {
    ssize_t n = ::write(fd, &b, 1);
    (void)n;
  }
  errno = saved;
}

// The watcher thread: waits for a signal's byte, runs every cleanup with the
// registry locked (so nothing new is created meanwhile), then dies of the
// signal.
void watch_signals(int fd) {
  unsigned char b = 0;
  for (;;) {
    const ssize_t n = ::read(fd, &b, 1);
    if (n == 1) break;
    if (n < 0 && errno == EINTR) continue;
    return;
  }
  const int sig = b;
  CleanupRegistry& r = registry();
  r.m.lock();  // held until the process is gone
  for (auto& [id, action] : r.actions) {
    try {
      action();
    } catch (...) {  // nothing to report to: clean what can be cleaned
    }
  }
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  ::raise(sig);
  ::_exit(128 + sig);
}

}  // namespace

void install_signal_cleanup() {
  static std::once_flag once;
  std::call_once(once, [] {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0)
      throw Error(Exit::internal, std::string("pipe2: ") + std::strerror(errno));
    g_signal_pipe.store(p[1]);
    // The watcher takes no signal itself: it is created with all blocked.
    sigset_t all, old;
    sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, &old);
    std::thread(watch_signals, p[0]).detach();
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    struct sigaction sa {};
    sa.sa_handler = on_termination_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
      struct sigaction was {};
      if (::sigaction(sig, nullptr, &was) == 0 && was.sa_handler == SIG_IGN) continue;
      ::sigaction(sig, &sa, nullptr);
    }
  });
}

SignalCleanup::SignalCleanup(std::function<void()> action) {
  CleanupRegistry& r = registry();
  std::lock_guard lock(r.m);
  id_ = r.next++;
  r.actions.emplace(id_, std::move(action));
}

SignalCleanup::~SignalCleanup() {
  if (id_ == 0) return;
  CleanupRegistry& r = registry();
  std::lock_guard lock(r.m);
  r.actions.erase(id_);
}

void SignalCleanup::finish(const std::function<void()>& fn) {
  CleanupRegistry& r = registry();
  std::lock_guard lock(r.m);
  if (id_ == 0) return;
  fn();
  r.actions.erase(id_);
  id_ = 0;
}

std::unique_lock<std::mutex> SignalCleanup::hold() {
  return std::unique_lock(registry().m);
}

// ---- files and folders built out of sight -------------------------------

AtomicFile::AtomicFile(fs::path path, bool overwrite, unsigned mode)
    : path_(std::move(path)), overwrite_(overwrite), cleanup_([this] {
        if (!committed_ && !tmp_.empty()) ::unlink(tmp_.c_str());
      }) {
  if (!overwrite_ && fs::exists(fs::symlink_status(path_)))
    throw Error(Exit::output, path_.string() + ": already exists; refusing to overwrite it");
  auto lock = SignalCleanup::hold();
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
  try {
    writeback_.reset();
    cleanup_.finish([this] {
      if (!committed_ && !tmp_.empty()) {
        fd_.reset();
        ::unlink(tmp_.c_str());
      }
    });
  } catch (...) {
  }
}

// Starts the writeback of what was written so far, on a thread of its own:
// commit()'s fsync then waits for the last few MiB, not for the whole file
// (a 186 MB package: 0.15-0.21 s of fsync on this disk), and the writer
// never waits for a busy disk's queue (sync_file_range blocks then: 0.24 s
// at once was seen). Only a hint: an error here shows again at the fsync.
struct AtomicFile::Writeback {
  explicit Writeback(int fd) : fd(fd), thread([this] { run(); }) {}
  ~Writeback() {
    {
      std::lock_guard lock(m);
      stop = true;
    }
    cv.notify_one();
    thread.join();
  }
  Writeback(const Writeback&) = delete;
  Writeback& operator=(const Writeback&) = delete;
  void upto(std::uint64_t end) {
    {
      std::lock_guard lock(m);
      target = end;
    }
    cv.notify_one();
  }
  void run() {
    std::unique_lock lock(m);
    for (;;) {
      cv.wait(lock, [&] { return stop || target > started; });
      if (stop) return;
      const std::uint64_t from = started, to = target;
      lock.unlock();
#ifdef __linux__
      (void)::sync_file_range(fd, static_cast<off_t>(from), static_cast<off_t>(to - from),
                              SYNC_FILE_RANGE_WRITE);
#endif
      lock.lock();
      started = to;
    }
  }
  int fd;
  std::mutex m;
  std::condition_variable cv;
  std::uint64_t target = 0, started = 0;
  bool stop = false;
  std::thread thread;  // last: starts once the rest is set
};

void AtomicFile::write(ByteSpan data) {
  write_all(fd_.get(), data, path_.string());
  written_ += data.size();
  constexpr std::uint64_t kWriteback = 8 << 20;  // small files never start the thread
  if (written_ - last_kick_ >= kWriteback) {
    if (!writeback_) writeback_ = std::make_unique<Writeback>(fd_.get());
    writeback_->upto(written_);
    last_kick_ = written_;
  }
}

void AtomicFile::commit() {
  writeback_.reset();
  if (::fsync(fd_.get()) != 0)
    throw Error(Exit::output, path_.string() + ": fsync failed: " + std::strerror(errno));
  if (::close(fd_.release()) != 0)
    throw Error(Exit::output, path_.string() + ": close failed: " + std::strerror(errno));
  cleanup_.finish([this] {
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
  });
  fs::path dir = path_.parent_path();
  fsync_dir(dir.empty() ? fs::path(".") : dir);
}

namespace {

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Whether `name` in `parent` is (still) the folder open as `fd`.
bool is_at(int parent, const std::string& name, int fd) {
  struct stat a {
  }, b{};
  return ::fstat(fd, &a) == 0 && ::fstatat(parent, name.c_str(), &b, AT_SYMLINK_NOFOLLOW) == 0 &&
         same_file(a, b);
}

// Removes everything inside the folder open as `dir`, relative to
// descriptors, never following a symbolic link. Best effort: what cannot be
// removed stays.
void remove_contents(int dir, int depth = 0) noexcept {
  if (depth > 256) return;
  std::vector<std::pair<std::string, bool>> names;  // name, is a folder
  {
    int d = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0) return;
    DIR* dp = ::fdopendir(d);
    if (dp == nullptr) {
      ::close(d);
      return;
    }
    try {
      while (const dirent* e = ::readdir(dp)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") continue;
        bool is_dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN) {
          struct stat st {};
          is_dir = ::fstatat(dir, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        names.emplace_back(std::move(n), is_dir);
      }
    } catch (...) {
    }
    ::closedir(dp);
  }
  for (const auto& [n, is_dir] : names) {
    if (is_dir) {
      UniqueFd sub(::openat(dir, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub.get() >= 0) remove_contents(sub.get(), depth + 1);
      ::unlinkat(dir, n.c_str(), AT_REMOVEDIR);
    } else {
      ::unlinkat(dir, n.c_str(), 0);
    }
  }
}

// Removes the folder `name` in `parent`, open as `fd`: its contents through
// `fd` (wherever it is now), the name only if it still is that folder.
void remove_tree(int parent, const std::string& name, int fd) noexcept {
  remove_contents(fd);
  if (parent >= 0 && is_at(parent, name, fd)) ::unlinkat(parent, name.c_str(), AT_REMOVEDIR);
}

constexpr std::string_view kPartial = ".partial-";
constexpr std::size_t kPartialRandom = 6;

bool is_partial_of(const std::string& entry, const std::string& name) {
  const std::size_t head = 1 + name.size() + kPartial.size();
  if (entry.size() != head + kPartialRandom || entry[0] != '.' ||
      entry.compare(1, name.size(), name) != 0 ||
      entry.compare(1 + name.size(), kPartial.size(), kPartial) != 0)
    return false;
  for (std::size_t i = head; i < entry.size(); ++i) {
    const char c = entry[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

std::size_t remove_stale_partials_at(int parent, const std::string& name) {
  std::vector<std::string> found;
  {
    int d = ::openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0) return 0;
    DIR* dp = ::fdopendir(d);
    if (dp == nullptr) {
      ::close(d);
      return 0;
    }
    while (const dirent* e = ::readdir(dp))
      if (is_partial_of(e->d_name, name)) found.emplace_back(e->d_name);
    ::closedir(dp);
  }
  std::size_t removed = 0;
  for (const auto& n : found) {
    UniqueFd fd(::openat(parent, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) continue;  // not a folder, a symbolic link, or not ours to read
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || st.st_uid != ::geteuid()) continue;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;  // a live run's
    if (!is_at(parent, n, fd.get())) continue;
    remove_tree(parent, n, fd.get());
    ++removed;
  }
  return removed;
}

UniqueFd open_parent(const fs::path& dest) {
  fs::path parent = dest.parent_path().empty() ? fs::path(".") : dest.parent_path();
  return UniqueFd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

fs::path without_trailing_slash(fs::path p) {
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();
  return p;
}

}  // namespace

std::size_t remove_stale_partials(const fs::path& dest0) {
  const fs::path dest = without_trailing_slash(dest0);
  UniqueFd parent = open_parent(dest);
  if (parent.get() < 0) return 0;
  return remove_stale_partials_at(parent.get(), dest.filename().string());
}

StagedFolder::StagedFolder(fs::path dest)
    : dest_(without_trailing_slash(std::move(dest))), cleanup_([this] {
        if (!committed_ && dir_.get() >= 0) remove_tree(parent_.get(), tmp_name_, dir_.get());
      }) {
  name_ = dest_.filename().string();
  if (name_.empty() || name_ == "." || name_ == "..")
    throw Error(Exit::output, dest_.string() + ": not a name for a new folder");
  if (fs::exists(fs::symlink_status(dest_)))
    throw Error(Exit::output, dest_.string() + ": already exists; refusing to overwrite it");
  parent_ = open_parent(dest_);
  if (parent_.get() < 0)
    throw Error(Exit::output,
                dest_.string() + ": cannot create a folder beside it: " + std::strerror(errno));
  remove_stale_partials_at(parent_.get(), name_);

  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::random_device rd;
  for (int attempt = 0; attempt < 32; ++attempt) {
    std::string tmp(1, '.');
    tmp.append(name_).append(kPartial);
    for (std::size_t i = 0; i < kPartialRandom; ++i) tmp += kChars[rd() % (sizeof kChars - 1)];
    auto lock = SignalCleanup::hold();
    if (::mkdirat(parent_.get(), tmp.c_str(), 0700) != 0) {
      if (errno == EEXIST) continue;
      throw Error(Exit::output,
                  dest_.string() + ": cannot create a folder beside it: " + std::strerror(errno));
    }
    UniqueFd fd(
        ::openat(parent_.get(), tmp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    // Gone or replaced before it was opened (another run took it for stale,
    // or someone renamed it): try another name.
    if (fd.get() < 0) continue;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0)
      continue;
    // Held for as long as this run lives; taken by another run, or no longer
    // at its name, it is that run's to remove: try another name.
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;
    if (!is_at(parent_.get(), tmp, fd.get())) continue;
    dir_ = std::move(fd);
    tmp_name_ = std::move(tmp);
    return;
  }
  throw Error(Exit::output, dest_.string() + ": cannot create a private folder beside it");
}

StagedFolder::~StagedFolder() {
  try {
    cleanup_.finish([this] { remove_partial(); });
  } catch (...) {
  }
}

void StagedFolder::remove_partial() noexcept {
  sub_.reset();
  if (!committed_ && dir_.get() >= 0) remove_tree(parent_.get(), tmp_name_, dir_.get());
}

fs::path StagedFolder::partial() const {
  return dest_.parent_path() / tmp_name_;
}

UniqueFd StagedFolder::create_file(const std::string& rel, unsigned mode) {
  std::vector<std::string> parts;
  for (std::size_t pos = 0;;) {
    const std::size_t slash = rel.find('/', pos);
    parts.push_back(rel.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos));
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  for (const auto& p : parts)
    if (p.empty() || p == "." || p == "..")
      throw Error(Exit::output, dest_.string() + ": '" + rel + "' is not a plain relative path");
  auto fail = [&](const std::string& what) {
    return Error(Exit::output,
                 dest_.string() + ": cannot create " + what + ": " + std::strerror(errno));
  };
  auto lock = SignalCleanup::hold();
  int dir = dir_.get();
  const std::string folder = rel.substr(0, rel.size() - parts.back().size());
  if (!folder.empty()) {
    if (folder != sub_path_ || sub_.get() < 0) {
      sub_.reset();
      sub_path_.clear();
      UniqueFd cur;
      std::string so_far;
      for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        const int at = cur.get() >= 0 ? cur.get() : dir_.get();
        so_far += parts[i] + "/";
        if (::mkdirat(at, parts[i].c_str(), 0777) != 0 && errno != EEXIST) throw fail(so_far);
        UniqueFd next(
            ::openat(at, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (next.get() < 0) throw fail(so_far);
        cur = std::move(next);
      }
      sub_ = std::move(cur);
      sub_path_ = folder;
    }
    dir = sub_.get();
  }
  UniqueFd fd(::openat(dir, parts.back().c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (fd.get() < 0) throw fail(rel);
  return fd;
}

void StagedFolder::commit() {
  sub_.reset();
  if (::syncfs(dir_.get()) != 0)
    throw Error(Exit::output, dest_.string() + ": sync failed: " + std::strerror(errno));
  cleanup_.finish([this] {
    if (!is_at(parent_.get(), tmp_name_, dir_.get()))
      throw Error(Exit::output, dest_.string() + ": its partial folder " + partial().string() +
                                    " was moved or replaced while it was written; nothing was "
                                    "put in place");
    if (::renameat2(parent_.get(), tmp_name_.c_str(), parent_.get(), name_.c_str(),
                    RENAME_NOREPLACE) != 0)
      throw Error(Exit::output,
                  dest_.string() + ": cannot move into place: " + std::strerror(errno));
    committed_ = true;
  });
  if (::fsync(parent_.get()) != 0)
    throw Error(Exit::output,
                dest_.string() + ": fsync of its folder failed: " + std::strerror(errno));
}

namespace {
// The owner of a temporary folder may be creating files in it by name (DCMTK
// does) while a signal's cleanup runs: empty it until it can be removed.
void remove_temp_dir(int fd, const fs::path& path) noexcept {
  if (path.empty()) return;
  for (int i = 0; i < 1000; ++i) {
    if (fd >= 0) remove_contents(fd);
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT || errno == ENOTDIR) return;
    std::this_thread::yield();
  }
}
}  // namespace

std::filesystem::path temp_root() {
  const char* t = std::getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

UniqueFd unnamed_temp_file(const std::string& purpose) {
  const std::string dir = temp_root().string();
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
    std::string name = dir + "/iep-XXXXXX";
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(name.c_str());
  }
  if (fd < 0)
    throw Error(Exit::output, dir + ": cannot make a temporary file for " + purpose + ": " +
                                  std::strerror(errno));
  return UniqueFd(fd);
}

TempDir::TempDir(const std::string& prefix) : TempDir(temp_root(), prefix) {}

TempDir::TempDir(const std::filesystem::path& parent, const std::string& prefix)
    : cleanup_([this] { remove_temp_dir(fd_.get(), path_); }) {
  std::string tmpl = (parent / (prefix + "-XXXXXX")).string();
  auto lock = SignalCleanup::hold();
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw Error(Exit::output, tmpl + ": cannot create a temporary folder: " + std::strerror(errno));
  path_ = tmpl;
  fd_.reset(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

TempDir::~TempDir() {
  try {
    cleanup_.finish([this] { remove_temp_dir(fd_.get(), path_); });
  } catch (...) {
  }
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
