// lib/src/core/io.cpp on its own: AtomicFile on a full disk and on the paths
// that must fail, the temporaries it leaves (none), UniqueFd, read_full,
// read_small_file, and the error paths of the sinks and the threaded stream
// adapters.  A full disk is a real one where the test may mount a small
// tmpfs (as root); elsewhere the same write failure comes from
// RLIMIT_FSIZE.
#include "iep/core/io.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "iep/core/error.h"
#include "test_util.h"

namespace fs = std::filesystem;
using iep::Exit;
using iep::test::code_of;
using iep::test::error_of;
using iep::test::quote;
using iep::test::read_file;
using iep::test::run;
using iep::test::scratch;
using iep::test::write_file;

namespace {

// The names in a folder, hidden ones included.
std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

bool fd_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

iep::ByteSpan span_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A Source that hands out at most `step` bytes per read (a pipe, a socket).
class Trickle : public iep::Source {
 public:
  Trickle(std::string data, std::size_t step) : data_(std::move(data)), step_(step) {}
  std::size_t read(iep::MutableByteSpan buf) override {
    const std::size_t n = std::min({buf.size(), step_, data_.size() - pos_});
    std::copy_n(data_.data() + pos_, n, buf.data());
    pos_ += n;
    ++calls;
    return n;
  }
  int calls = 0;

 private:
  std::string data_;
  std::size_t step_, pos_ = 0;
};

// A Source that fails after `good` bytes.
class Failing : public iep::Source {
 public:
  explicit Failing(std::size_t good) : good_(good) {}
  std::size_t read(iep::MutableByteSpan buf) override {
    if (given_ >= good_) throw iep::Error(Exit::input, "disk.img: read failed: Input/output error");
    const std::size_t n = std::min(buf.size(), good_ - given_);
    std::fill_n(buf.data(), n, std::uint8_t{'x'});
    given_ += n;
    return n;
  }

 private:
  std::size_t good_, given_ = 0;
};

// A small tmpfs mounted on a folder for the life of the object, if this
// process may mount (root); mounted() says whether it is.
class SmallDisk {
 public:
  SmallDisk(const fs::path& dir, const std::string& size) : dir_(dir) {
    fs::create_directories(dir_);
    if (::geteuid() == 0)
      mounted_ =
          run("mount -t tmpfs -o size=" + size + " tmpfs " + quote(dir_.string()) + " 2>/dev/null")
              .status == 0;
  }
  ~SmallDisk() {
    if (mounted_) run("umount " + quote(dir_.string()));
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  [[nodiscard]] bool mounted() const { return mounted_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
};

// RLIMIT_FSIZE lowered for the life of the object: a write past it fails
// with EFBIG (SIGXFSZ ignored meanwhile), as a full disk fails with ENOSPC.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit l = old_;
    l.rlim_cur = bytes;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &l) == 0);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};

}  // namespace

TEST_CASE("AtomicFile: the file appears whole on commit, never before, with its mode") {
  const fs::path dir = scratch("io-atomic");
  const fs::path target = dir / "out.bin";
  {
    iep::AtomicFile f(target, false, 0600);
    f.write(span_of("hello, "));
    f.write(span_of("world"));
    CHECK_FALSE(fs::exists(target));
    REQUIRE(fs::exists(f.temp_path()));
    CHECK(f.temp_path().parent_path() == dir);
    CHECK(f.temp_path().filename().string().rfind(".out.bin.", 0) == 0);
    f.commit();
  }
  CHECK(read_file(target) == "hello, world");
  CHECK((fs::status(target).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(entries(dir) == std::vector<std::string>{"out.bin"});
}

TEST_CASE("AtomicFile: destroyed without commit, nothing is left") {
  const fs::path dir = scratch("io-abandon");
  fs::path tmp;
  {
    iep::AtomicFile f(dir / "out.bin");
    f.write(span_of("half"));
    tmp = f.temp_path();
    CHECK(fs::exists(tmp));
  }
  CHECK_FALSE(fs::exists(tmp));
  CHECK(entries(dir).empty());
}

TEST_CASE("AtomicFile: an existing file is never replaced unless asked") {
  const fs::path dir = scratch("io-exists");
  const fs::path target = dir / "keep.txt";
  write_file(target, "original");
  const std::string msg = error_of([&] { iep::AtomicFile f(target); }, Exit::output);
  CHECK(msg.find("keep.txt") != std::string::npos);
  CHECK(msg.find("already exists") != std::string::npos);
  // A dangling symlink counts as existing (it could be pointed elsewhere).
  fs::create_symlink(dir / "nowhere", dir / "link");
  error_of([&] { iep::AtomicFile f(dir / "link"); }, Exit::output);
  CHECK_FALSE(fs::exists(dir / "nowhere"));

  // The file appears between the start and the commit: link() refuses, the
  // other file stays, the temporary goes.
  {
    iep::AtomicFile f(dir / "race.txt");
    f.write(span_of("ours"));
    write_file(dir / "race.txt", "theirs");
    error_of([&] { f.commit(); }, Exit::output);
  }
  CHECK(read_file(dir / "race.txt") == "theirs");

  // overwrite = true replaces it.
  {
    iep::AtomicFile f(target, true);
    f.write(span_of("new"));
    f.commit();
  }
  CHECK(read_file(target) == "new");
  CHECK(entries(dir) == std::vector<std::string>{"keep.txt", "link", "race.txt"});
}

TEST_CASE("AtomicFile: a folder that is missing or read-only is an output error naming the path") {
  const fs::path dir = scratch("io-nodir");
  std::string msg = error_of([&] { iep::AtomicFile f(dir / "missing" / "x"); }, Exit::output);
  CHECK(msg.find("missing/x") != std::string::npos);
  if (::geteuid() != 0) {  // root writes into read-only folders anyway
    fs::create_directory(dir / "ro");
    fs::permissions(dir / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    msg = error_of([&] { iep::AtomicFile f(dir / "ro" / "x"); }, Exit::output);
    CHECK(msg.find("ro/x") != std::string::npos);
    fs::permissions(dir / "ro", fs::perms::owner_all);
  }
}

TEST_CASE("AtomicFile on a full disk: an output error, no file, no temporary") {
  const fs::path dir = scratch("io-full") / "disk";
  SmallDisk disk(dir, "64k");
  const std::string chunk(16 * 1024, 'z');
  std::string msg;
  {
    // Without a mount, RLIMIT_FSIZE cuts the file at 40 KiB.
    std::unique_ptr<FileSizeLimit> limit;
    if (!disk.mounted()) limit = std::make_unique<FileSizeLimit>(40 * 1024);
    const std::string how =
        disk.mounted() ? "a 64 KiB tmpfs" : "RLIMIT_FSIZE of 40 KiB (no tmpfs: not root)";
    MESSAGE(how);
    const Exit code = code_of(
        [&] {
          iep::AtomicFile f(dir / "big.bin");
          for (int i = 0; i < 16; ++i) f.write(span_of(chunk));  // 256 KiB
          f.commit();
        },
        &msg);
    CHECK(code == Exit::output);
  }
  CHECK(msg.find("big.bin") != std::string::npos);
  CHECK(msg.find("write failed") != std::string::npos);
  CHECK(msg.find(disk.mounted() ? "No space left" : "too large") != std::string::npos);
  CHECK(entries(dir).empty());
  // The disk is usable again once the failed file is gone.
  {
    iep::AtomicFile f(dir / "small.bin");
    f.write(span_of(chunk));
    f.commit();
  }
  CHECK(fs::file_size(dir / "small.bin") == chunk.size());
}

TEST_CASE("FdSink: a write error (/dev/full) names the sink; stdout shows as stdout") {
  iep::UniqueFd fd(::open("/dev/full", O_WRONLY | O_CLOEXEC));
  REQUIRE(fd.get() >= 0);
  iep::FdSink named(fd.get(), "report.txt");
  std::string msg = error_of([&] { named.write(span_of("x")); }, Exit::output);
  CHECK(msg.find("report.txt: write failed") != std::string::npos);
  CHECK(msg.find("No space left") != std::string::npos);
  iep::FdSink out(fd.get(), "-");
  msg = error_of([&] { out.write(span_of("x")); }, Exit::output);
  CHECK(msg.find("stdout") != std::string::npos);
  // Nothing to write is no write at all.
  CHECK(code_of([&] { out.write({}); }) == Exit::ok);
}

TEST_CASE("UniqueFd: closes once, on destruction, reset and move; release gives it away") {
  int a = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int b = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(a >= 0);
  REQUIRE(b >= 0);
  {
    iep::UniqueFd fa(a);
    CHECK(fa.get() == a);
    fa.reset(b);  // a closed, b owned
    CHECK_FALSE(fd_open(a));
    CHECK(fd_open(b));
    iep::UniqueFd moved(std::move(fa));
    CHECK(fa.get() == -1);  // NOLINT(bugprone-use-after-move): the moved-from state is defined
    CHECK(moved.get() == b);
    iep::UniqueFd other(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int c = other.get();
    other = std::move(moved);  // c closed, b now in other
    CHECK_FALSE(fd_open(c));
    CHECK(other.get() == b);
    CHECK(fd_open(b));
    auto& self = other;
    other = std::move(self);  // self-assignment keeps it
    CHECK(other.get() == b);
  }
  CHECK_FALSE(fd_open(b));
  int d = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  {
    iep::UniqueFd fd(d);
    CHECK(fd.release() == d);
    CHECK(fd.get() == -1);
  }
  CHECK(fd_open(d));  // released: not closed
  ::close(d);
  iep::UniqueFd empty;
  CHECK(empty.get() == -1);
  empty.reset();  // closing nothing is harmless
}

TEST_CASE("read_full: fills the buffer across short reads, short only at the end") {
  const std::string data(1000, 'q');
  Trickle src(data, 7);
  std::vector<std::uint8_t> buf(600);
  CHECK(iep::read_full(src, buf) == 600);
  CHECK(src.calls == 86);  // 85 reads of 7 and one of 5
  CHECK(iep::read_full(src, buf) == 400);
  CHECK(iep::read_full(src, buf) == 0);
  std::vector<std::uint8_t> none;
  Trickle empty("", 7);
  CHECK(iep::read_full(empty, none) == 0);
  // An error is not an end: it propagates.
  Failing bad(10);
  CHECK(code_of([&] { iep::read_full(bad, buf); }) == Exit::input);
}

TEST_CASE("copy: everything, counted; FileSource names the file it cannot read") {
  const fs::path dir = scratch("io-copy");
  std::string data;
  for (int i = 0; i < 100000; ++i) data += static_cast<char>('a' + i % 26);
  write_file(dir / "in.bin", data);
  iep::FileSource src(dir / "in.bin");
  iep::BytesSink sink;
  CHECK(iep::copy(src, sink) == data.size());
  CHECK(std::string(sink.bytes.begin(), sink.bytes.end()) == data);
  std::string msg = error_of([&] { iep::FileSource s(dir / "absent.bin"); }, Exit::input);
  CHECK(msg.find("absent.bin") != std::string::npos);
  msg = error_of([&] { iep::FileSource s(dir); }, Exit::input);
  CHECK(msg.find("is a directory") != std::string::npos);
}

TEST_CASE("read_small_file: whole, bounded, errors name the path") {
  const fs::path dir = scratch("io-small");
  write_file(dir / "key", "0123456789");
  CHECK(iep::read_small_file(dir / "key") == "0123456789");
  CHECK(iep::read_small_file(dir / "key", 10) == "0123456789");
  std::string msg = error_of([&] { iep::read_small_file(dir / "key", 9); }, Exit::input);
  CHECK(msg.find("key") != std::string::npos);
  msg = error_of([&] { iep::read_small_file(dir / "nokey"); }, Exit::input);
  CHECK(msg.find("nokey") != std::string::npos);
  write_file(dir / "empty", "");
  CHECK(iep::read_small_file(dir / "empty").empty());
}

TEST_CASE("create_sibling: hidden, exclusive, with the mode; a missing folder is an error") {
  const fs::path dir = scratch("io-sibling");
  fs::path t1, t2;
  iep::UniqueFd a = iep::create_sibling(dir / "pkg.iep", 0600, t1);
  iep::UniqueFd b = iep::create_sibling(dir / "pkg.iep", 0600, t2);
  CHECK(t1 != t2);
  CHECK(t1.filename().string().rfind(".pkg.iep.", 0) == 0);
  CHECK(t1.filename().string().ends_with(".tmp"));
  struct stat st {};
  REQUIRE(::stat(t1.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  fs::path t3;
  const std::string msg =
      error_of([&] { iep::create_sibling(dir / "no" / "pkg.iep", 0600, t3); }, Exit::output);
  CHECK(msg.find("no/pkg.iep") != std::string::npos);
  CHECK(t3.empty());
}

namespace {
// Reads `good` bytes, then an error, through a PrefetchSource of 64 KiB
// buffers; returns the bytes delivered before the error.
std::size_t prefetched_before_error(std::size_t good) {
  Failing src(good);
  iep::PrefetchSource pre(src, 64 * 1024, 3);
  std::vector<std::uint8_t> buf(16 * 1024);
  std::size_t got = 0;
  std::string msg;
  const Exit code = code_of(
      [&] {
        for (;;) {
          const std::size_t n = pre.read(buf);
          if (n == 0) break;
          got += n;
        }
      },
      &msg);
  CHECK(code == Exit::input);
  CHECK(msg.find("disk.img") != std::string::npos);
  return got;
}
}  // namespace

TEST_CASE("PrefetchSource: whole buffers read before an error arrive, then the error") {
  CHECK(prefetched_before_error(256 * 1024) == 256 * 1024);
  CHECK(prefetched_before_error(0) == 0);
}

// io.h promises "Data read before an error is delivered first": today the
// part of a buffer read before the error is dropped (State::run's read_full
// throws with the partly filled buffer in hand).
TEST_CASE("PrefetchSource: the part of a buffer read before an error arrives too") {
  CHECK(prefetched_before_error(300 * 1024) == 300 * 1024);
}

TEST_CASE("BackgroundSink: a write error of the sink comes back from finish()") {
  std::string msg;

  // A sink that fails on /dev/full: the error comes back from finish().
  iep::UniqueFd full(::open("/dev/full", O_WRONLY | O_CLOEXEC));
  REQUIRE(full.get() >= 0);
  iep::FdSink sink(full.get(), "archive.tar");
  iep::BackgroundSink bg(sink, 4096, 2);
  msg.clear();
  const Exit wcode = code_of(
      [&] {
        bg.write(span_of(std::string(1000, 'a')));
        bg.finish();
      },
      &msg);
  CHECK(wcode == Exit::output);
  CHECK(msg.find("archive.tar") != std::string::npos);
}
