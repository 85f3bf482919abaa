// StagedFolder: output folders built relative to a private folder's
// descriptor, never through a symbolic link; stale partial folders of killed
// runs removed, live ones kept. TempDir and AtomicFile leave nothing.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

namespace fs = std::filesystem;
using iep::Exit;
using iep::StagedFolder;
using iep::UniqueFd;
using iep::test::error_of;

namespace {

void put(UniqueFd fd, std::string_view text) {
  REQUIRE(fd.get() >= 0);
  REQUIRE(::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()));
}

std::size_t count_entries(const fs::path& dir) {
  std::size_t n = 0;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it)
    ++n;
  return n;
}

std::vector<fs::path> partials(const fs::path& dir, const std::string& name) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().starts_with("." + name + ".partial-")) out.push_back(e.path());
  return out;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("a staged folder appears whole, private, only on commit") {
  fs::path dir = iep::test::scratch("staged-basic");
  fs::path dest = dir / "study";
  {
    StagedFolder f(dest);
    CHECK(f.partial().parent_path() == dir);
    CHECK(mode_of(f.partial()) == 0700);
    put(f.create_file("MANIFEST.json"), "{}");
    put(f.create_file("a/b/1.dcm"), "one");
    put(f.create_file("a/b/2.dcm"), "two");
    put(f.create_file("a/c/3.dcm"), "three");
    put(f.create_file("d.dcm"), "four");
    CHECK_FALSE(fs::exists(dest));
    // Never an existing file, never a path that leaves the folder.
    (void)error_of([&] { (void)f.create_file("a/b/1.dcm"); }, Exit::output);
    for (std::string bad : {"../x", "/etc/x", "a//b", "a/./b", "", "a/", "a/../../x"})
      (void)error_of([&] { (void)f.create_file(bad); }, Exit::output);
    // A file where a folder is wanted.
    (void)error_of([&] { (void)f.create_file("d.dcm/x"); }, Exit::output);
    f.commit();
  }
  CHECK(mode_of(dest) == 0700);
  CHECK(iep::test::read_file(dest / "a/b/2.dcm") == "two");
  CHECK(iep::test::read_file(dest / "a/c/3.dcm") == "three");
  CHECK(partials(dir, "study").empty());
  // It never replaces anything.
  (void)error_of([&] { StagedFolder g(dest); }, Exit::output);
  fs::create_directory(dir / "x");
  fs::create_symlink(dir / "x", dir / "link");
  (void)error_of([&] { StagedFolder g(dir / "link"); }, Exit::output);
  (void)error_of([&] { StagedFolder g(dir / "none" / "study"); }, Exit::output);
  // Not committed: nothing left.
  {
    StagedFolder f(dir / "other");
    put(f.create_file("a/1"), "x");
  }
  CHECK_FALSE(fs::exists(dir / "other"));
  CHECK(partials(dir, "other").empty());
  fs::remove_all(dir);
}

TEST_CASE("a partial folder swapped for a symbolic link receives nothing") {
  fs::path dir = iep::test::scratch("staged-swap");
  fs::path dest = dir / "study", evil = dir / "evil", moved = dir / "moved";
  fs::create_directory(evil);
  {
    StagedFolder f(dest);
    put(f.create_file("series/1.dcm"), "one");
    // Whoever can rename in `dir` moves the partial folder away and puts a
    // link to their own folder in its place.
    fs::path partial = f.partial();
    fs::rename(partial, moved);
    fs::create_symlink(evil, partial);
    put(f.create_file("series/2.dcm"), "two");
    put(f.create_file("other/3.dcm"), "three");
    put(f.create_file("4.dcm"), "four");
    CHECK(count_entries(evil) == 0);
    std::string why = error_of([&] { f.commit(); }, Exit::output);
    CHECK(why.find("was moved or replaced") != std::string::npos);
    CHECK_FALSE(fs::exists(fs::symlink_status(dest)));
    fs::remove(partial);
  }
  CHECK(count_entries(evil) == 0);
  // The files went where the run's folder really is, and were removed there.
  CHECK(fs::is_directory(moved));
  CHECK(count_entries(moved) == 0);
  fs::remove_all(dir);
}

TEST_CASE("a subfolder swapped for a symbolic link is not followed") {
  fs::path dir = iep::test::scratch("staged-subswap");
  fs::path dest = dir / "study", evil = dir / "evil";
  fs::create_directory(evil);
  {
    StagedFolder f(dest);
    put(f.create_file("a/1.dcm"), "one");
    put(f.create_file("b/1.dcm"), "one");
    fs::rename(f.partial() / "a", dir / "a-moved");
    fs::create_symlink(evil, f.partial() / "a");
    (void)error_of([&] { (void)f.create_file("a/2.dcm"); }, Exit::output);
    (void)error_of([&] { (void)f.create_file("a/x/3.dcm"); }, Exit::output);
    fs::create_symlink(evil / "target", f.partial() / "c.dcm");
    (void)error_of([&] { (void)f.create_file("c.dcm"); }, Exit::output);
  }
  CHECK(count_entries(evil) == 0);
  CHECK(partials(dir, "study").empty());
  fs::remove_all(dir);
}

TEST_CASE("partial folders of killed runs are removed, those of live runs kept") {
  fs::path dir = iep::test::scratch("staged-stale");
  fs::path dest = dir / "study";
  // Runs killed (no destructor ran): each leaves its partial folder, and
  // removes the one the run before it left.
  for (int i = 0; i < 3; ++i) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      StagedFolder f(dest);
      UniqueFd fd = f.create_file("series/1.dcm");
      (void)!::write(fd.get(), "secret", 6);
      ::_exit(0);
    }
    int st = 0;
    REQUIRE(::waitpid(pid, &st, 0) == pid);
    REQUIRE(partials(dir, "study").size() == 1);
  }
  // Something that only looks like one: a symbolic link to a folder, and a
  // partial folder for another destination.
  fs::create_directory(dir / "keep");
  iep::test::write_file(dir / "keep" / "file", "mine");
  fs::create_symlink(dir / "keep", dir / ".study.partial-ABCDEF");
  fs::create_directory(dir / ".study2.partial-ABCDEF");
  {
    StagedFolder live(dest);  // removes the stale one
    put(live.create_file("x"), "live");
    auto left = partials(dir, "study");
    REQUIRE(left.size() == 2);  // the live one and the link
    CHECK(fs::exists(dir / "keep" / "file"));
    CHECK(fs::is_symlink(dir / ".study.partial-ABCDEF"));
    CHECK(fs::exists(dir / ".study2.partial-ABCDEF"));
    // A second run for the same destination keeps the live run's folder.
    CHECK(iep::remove_stale_partials(dest) == 0);
    CHECK(fs::exists(live.partial() / "x"));
    {
      StagedFolder second(dest);
      CHECK(fs::exists(live.partial() / "x"));
      second.commit();
    }
    CHECK(fs::exists(live.partial() / "x"));
    // The first one then finds the destination taken, and cleans up.
    (void)error_of([&] { live.commit(); }, Exit::output);
  }
  CHECK(partials(dir, "study").size() == 1);  // the link, untouched
  CHECK(iep::test::read_file(dir / "keep" / "file") == "mine");
  fs::remove_all(dir);
}

TEST_CASE("a temporary folder and an uncommitted atomic file leave nothing") {
  fs::path dir = iep::test::scratch("staged-temp");
  ::setenv("TMPDIR", dir.c_str(), 1);
  fs::path where;
  {
    iep::TempDir t("iep-test");
    where = t.path();
    CHECK(where.parent_path() == dir);
    CHECK(mode_of(where) == 0700);
    iep::test::write_file(where / "a" / "b", "x");
  }
  ::unsetenv("TMPDIR");
  CHECK_FALSE(fs::exists(where));
  {
    iep::AtomicFile f(dir / "out.txt");
    f.write(iep::ByteSpan(reinterpret_cast<const std::uint8_t*>("abc"), 3));
    CHECK(fs::exists(f.temp_path()));
  }
  CHECK(count_entries(dir) == 0);
  {
    iep::AtomicFile f(dir / "out.txt");
    f.write(iep::ByteSpan(reinterpret_cast<const std::uint8_t*>("abc"), 3));
    f.commit();
  }
  CHECK(count_entries(dir) == 1);
  fs::remove_all(dir);
}

TEST_CASE("an unnamed temporary file holds data and leaves no name in TMPDIR") {
  fs::path dir = iep::test::scratch("unnamed-temp");
  ::setenv("TMPDIR", dir.c_str(), 1);
  CHECK(iep::temp_root() == dir);
  {
    iep::UniqueFd fd = iep::unnamed_temp_file("a test");
    REQUIRE(fd.get() >= 0);
    CHECK(::pwrite(fd.get(), "abc", 3, 0) == 3);
    char back[3] = {};
    CHECK(::pread(fd.get(), back, 3, 0) == 3);
    CHECK(std::string(back, 3) == "abc");
    CHECK(count_entries(dir) == 0);
  }
  ::setenv("TMPDIR", (dir / "missing").c_str(), 1);
  CHECK_THROWS_AS(iep::unnamed_temp_file("a test"), iep::Error);
  ::unsetenv("TMPDIR");
  CHECK(iep::temp_root() == "/tmp");
  fs::remove_all(dir);
}
