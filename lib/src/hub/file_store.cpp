// FileStore: uploads and packages as files under the data folder.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "iep/core/error.h"
#include "iep/hub/store.h"
#include "iep/hub/tus.h"

namespace iep::hub {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const fs::path& p, const char* what, int err) {
  if (err == ENOSPC || err == EDQUOT)
    throw Error(Exit::output, "disk full: " + p.string() + ": " + what + ": " + std::strerror(err));
  throw Error(Exit::output, p.string() + ": " + what + ": " + std::strerror(err));
}

void sync_fd(int fd, const fs::path& p) {
  if (::fsync(fd) != 0) fail(p, "fsync", errno);
}

// Writes in blocks of kBlock (a PATCH body comes from the HTTP server in
// pieces of tens of KiB), and starts writeback of every few MiB as they
// arrive, so that the sync before the offset is reported has little left
// to do.
class FileWriter : public UploadWriter {
 public:
  FileWriter(fs::path p, std::uint64_t offset) : path_(std::move(p)), pos_(offset) {
    fd_.reset(::open(path_.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd_.get() < 0) fail(path_, "open", errno);
    buf_.reserve(kBlock);
  }
  void write(ByteSpan data) override {
    while (!data.empty()) {
      if (buf_.empty() && data.size() >= kBlock) {  // large enough: no copy
        put(data.first(kBlock));
        data = data.subspan(kBlock);
        continue;
      }
      std::size_t n = std::min(data.size(), kBlock - buf_.size());
      buf_.insert(buf_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
      data = data.subspan(n);
      if (buf_.size() == kBlock) flush();
    }
  }
  std::uint64_t sync() override {
    flush();
    // Appends: fdatasync covers the data and the size that reaches it.
    if (::fdatasync(fd_.get()) != 0) fail(path_, "fdatasync", errno);
    return pos_;
  }

 private:
  static constexpr std::size_t kBlock = 1 << 20;
  static constexpr std::uint64_t kWriteback = 4 << 20;

  void flush() {
    try {
      put(ByteSpan(buf_.data(), buf_.size()));
    } catch (...) {
      buf_.clear();  // the PATCH is refused and cut back
      throw;
    }
    buf_.clear();
  }
  void put(ByteSpan data) {
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd_.get(), data.data(), data.size(), static_cast<off_t>(pos_));
      if (n < 0) {
        if (errno == EINTR) continue;
        fail(path_, "write", errno);
      }
      pos_ += static_cast<std::uint64_t>(n);
      data = data.subspan(static_cast<std::size_t>(n));
    }
#ifdef __linux__
    // Only a hint: an error here shows again at the fdatasync.
    if (pos_ - started_ >= kWriteback) {
      (void)::sync_file_range(fd_.get(), static_cast<off_t>(started_),
                              static_cast<off_t>(pos_ - started_), SYNC_FILE_RANGE_WRITE);
      started_ = pos_;
    }
#endif
  }

  fs::path path_;
  UniqueFd fd_;
  std::uint64_t pos_;
  std::uint64_t started_ = pos_;  // writeback started up to here
  std::vector<std::uint8_t> buf_;
};

// `length` bytes of a file from `offset` on.
class RangeSource : public Source {
 public:
  RangeSource(UniqueFd fd, std::uint64_t offset, std::uint64_t length, std::string name)
      : fd_(std::move(fd)), at_(offset), left_(length), name_(std::move(name)) {}
  std::size_t read(MutableByteSpan buf) override {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), left_));
    if (want == 0) return 0;
    ssize_t n;
    do {
      n = ::pread(fd_.get(), buf.data(), want, static_cast<off_t>(at_));
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw Error(Exit::input, name_ + ": " + std::strerror(errno));
    if (n == 0) throw Error(Exit::input, name_ + ": shorter than the index says");
    at_ += static_cast<std::uint64_t>(n);
    left_ -= static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }

 private:
  UniqueFd fd_;
  std::uint64_t at_, left_;
  std::string name_;
};

class FileStore : public Store {
 public:
  explicit FileStore(fs::path dir) : dir_(std::move(dir)) {
    for (const char* sub : {"uploads", "packages"}) {
      std::error_code ec;
      fs::create_directories(dir_ / sub, ec);
      if (ec) throw Error(Exit::output, (dir_ / sub).string() + ": " + ec.message());
    }
  }

  void create_upload(const std::string& id) override {
    fs::path p = up(id);
    UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) fail(p, "create", errno);
    sync_fd(fd.get(), p);
    fsync_dir(dir_ / "uploads");
  }
  std::uint64_t upload_size(const std::string& id) override {
    struct stat st {};
    if (::stat(up(id).c_str(), &st) != 0) fail(up(id), "stat", errno);
    return static_cast<std::uint64_t>(st.st_size);
  }
  std::unique_ptr<UploadWriter> append(const std::string& id, std::uint64_t offset) override {
    return std::make_unique<FileWriter>(up(id), offset);
  }
  void truncate(const std::string& id, std::uint64_t size) override {
    fs::path p = up(id);
    UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0) fail(p, "open", errno);
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) fail(p, "truncate", errno);
    sync_fd(fd.get(), p);
  }
  std::unique_ptr<Source> read_upload(const std::string& id) override {
    return std::make_unique<FileSource>(up(id));
  }
  void remove_upload(const std::string& id) override {
    std::error_code ec;
    fs::remove(up(id), ec);
  }
  void concat(const std::string& to, const std::string& from) override {
    std::uint64_t size = upload_size(to);
    auto w = append(to, size);
    FileSource src(up(from));
    std::vector<std::uint8_t> buf(1 << 20);
    for (;;) {
      std::size_t n = src.read(buf);
      if (n == 0) break;
      w->write(ByteSpan(buf.data(), n));
    }
    w->sync();
  }

  void commit(const std::string& upload_id, const std::string& package_id) override {
    fs::path from = up(upload_id), to = pkg(package_id);
    {
      UniqueFd fd(::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
      if (fd.get() < 0) fail(from, "open", errno);
      sync_fd(fd.get(), from);
    }
    // Never over a package that is there already (another commit of the
    // same id): its bytes stay as they were.
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0)
      fail(to, "rename", errno);
    fsync_dir(dir_ / "packages");
    fsync_dir(dir_ / "uploads");
  }
  void uncommit(const std::string& package_id, const std::string& upload_id) override {
    fs::path from = pkg(package_id), to = up(upload_id);
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0)
      fail(to, "rename", errno);
    fsync_dir(dir_ / "uploads");
    fsync_dir(dir_ / "packages");
  }
  bool has_package(const std::string& package_id) override {
    std::error_code ec;
    return fs::exists(pkg(package_id), ec);
  }
  PackageReader open_package(const std::string& package_id) override {
    fs::path p = pkg(package_id);
    PackageReader r;
    r.fd.reset(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (r.fd.get() < 0) throw Error(Exit::input, p.string() + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(r.fd.get(), &st) != 0) fail(p, "stat", errno);
    r.size = static_cast<std::uint64_t>(st.st_size);
    return r;
  }
  std::unique_ptr<Source> read_package(const std::string& package_id, std::uint64_t offset,
                                       std::uint64_t length) override {
    return std::make_unique<RangeSource>(open_package(package_id).fd, offset, length,
                                         pkg(package_id).string());
  }
  void remove_package(const std::string& package_id) override {
    std::error_code ec;
    fs::remove(pkg(package_id), ec);
    fsync_dir(dir_ / "packages");
  }
  std::vector<std::string> upload_ids() override {
    std::vector<std::string> ids;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_ / "uploads", ec))
      if (tus::valid_id(e.path().filename().string())) ids.push_back(e.path().filename().string());
    return ids;
  }
  std::uint64_t free_space() override {
    struct statvfs v {};
    if (::statvfs(dir_.c_str(), &v) != 0) return 0;
    return static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
  }

 private:
  // Ids are 32 hex digits: never a path of their own.
  [[nodiscard]] fs::path up(const std::string& id) const { return dir_ / "uploads" / checked(id); }
  [[nodiscard]] fs::path pkg(const std::string& id) const {
    return dir_ / "packages" / checked(id);
  }
  static const std::string& checked(const std::string& id) {
    if (!tus::valid_id(id)) throw Error(Exit::output, "store: not an id: " + id.substr(0, 64));
    return id;
  }
  fs::path dir_;
};

}  // namespace

std::unique_ptr<Store> open_file_store(const std::filesystem::path& dir) {
  return std::make_unique<FileStore>(dir);
}

}  // namespace iep::hub
