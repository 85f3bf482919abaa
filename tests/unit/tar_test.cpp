// iep::tar against itself, against GNU tar both ways, and against hostile
// archives made by GNU tar or by hand.
#include "iep/package/tar.h"

#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <random>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "test_util.h"

namespace fs = std::filesystem;
using iep::Bytes;
using iep::ByteSpan;
using iep::Exit;
using namespace iep::test;

namespace {

Bytes random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  Bytes b(n);
  for (auto& c : b) c = static_cast<std::uint8_t>(gen());
  return b;
}

Bytes text(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

struct Item {
  std::string path;
  Bytes data;
};

Bytes make_tar(const std::vector<Item>& items, std::int64_t mtime = 1700000000) {
  iep::BytesSink sink;
  iep::tar::Writer w(sink);
  for (const auto& it : items) w.add_file(it.path, it.data, mtime);
  w.finish();
  return sink.bytes;
}

// Reads a whole archive, content in pieces of `chunk` bytes.
std::vector<Item> read_tar(ByteSpan tar, std::size_t chunk = 65536) {
  iep::BytesSource src(tar);
  iep::tar::Reader r(src, "test.tar");
  std::vector<Item> items;
  Bytes buf(chunk);
  while (auto e = r.next()) {
    Item it{e->path, {}};
    for (;;) {
      std::size_t n = r.read(buf);
      if (n == 0) break;
      it.data.insert(it.data.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
    CHECK(it.data.size() == e->size);
    items.push_back(std::move(it));
  }
  return items;
}

struct Failure {
  Exit code = Exit::ok;
  std::string message;
};

// How reading the archive to its end fails (Exit::ok if it does not).
Failure read_failure(ByteSpan tar) {
  try {
    read_tar(tar, 4096);
  } catch (const iep::Error& e) {
    return {e.code(), e.what()};
  }
  return {};
}

void check_corrupt(ByteSpan tar, const std::string& why) {
  Failure f = read_failure(tar);
  INFO(why, " -> ", f.message);
  CHECK(f.code == Exit::corrupt);
  CHECK(f.message.find(why) != std::string::npos);
  CHECK(f.message.find('\n') == std::string::npos);
}

// ---- hand-made headers ----

using Block = std::array<std::uint8_t, 512>;

struct Hdr {
  explicit Hdr(std::string n, std::uint64_t s = 0, char t = '0')
      : name(std::move(n)), size(s), type(t) {}
  Hdr with_link(std::string v) const {
    Hdr h = *this;
    h.linkname = std::move(v);
    return h;
  }
  Hdr with_prefix(std::string v) const {
    Hdr h = *this;
    h.prefix = std::move(v);
    return h;
  }
  Hdr with_magic(std::string v) const {
    Hdr h = *this;
    h.magic = std::move(v);
    return h;
  }
  Hdr with_size_field(std::string v) const {
    Hdr h = *this;
    h.size_field = std::move(v);
    return h;
  }
  Hdr with_signed_checksum() const {
    Hdr h = *this;
    h.signed_checksum = true;
    return h;
  }

  std::string name;
  std::uint64_t size = 0;
  char type = '0';
  std::string linkname;
  std::string prefix;
  std::string magic = std::string(
      "ustar\0"
      "00",
      8);
  std::string size_field;  // raw 12 bytes, overrides `size` when set
  bool signed_checksum = false;
};

void put(Block& b, std::size_t off, std::size_t len, std::string_view s) {
  std::memcpy(b.data() + off, s.data(), std::min(len, s.size()));
}

void put_octal(Block& b, std::size_t off, std::size_t len, std::uint64_t v) {
  char tmp[32];
  std::snprintf(tmp, sizeof tmp, "%0*llo", static_cast<int>(len - 1),
                static_cast<unsigned long long>(v));
  put(b, off, len - 1, tmp);
}

Block header(const Hdr& h) {
  Block b{};
  put(b, 0, 100, h.name);
  put_octal(b, 100, 8, 0644);
  put_octal(b, 108, 8, 0);
  put_octal(b, 116, 8, 0);
  if (h.size_field.empty())
    put_octal(b, 124, 12, h.size);
  else
    put(b, 124, 12, h.size_field);
  put_octal(b, 136, 12, 1700000000);
  b[156] = static_cast<std::uint8_t>(h.type);
  put(b, 157, 100, h.linkname);
  put(b, 257, 8, h.magic);
  put(b, 345, 155, h.prefix);
  std::memset(b.data() + 148, ' ', 8);
  long sum = 0;
  for (std::uint8_t c : b) sum += h.signed_checksum ? static_cast<std::int8_t>(c) : c;
  char tmp[16];
  std::snprintf(tmp, sizeof tmp, "%06lo", static_cast<unsigned long>(sum));
  put(b, 148, 7, tmp);
  b[154] = 0;
  return b;
}

void append(Bytes& out, ByteSpan data) {
  out.insert(out.end(), data.begin(), data.end());
  out.resize(out.size() + (512 - data.size() % 512) % 512, 0);
}

void append_entry(Bytes& out, const Hdr& h, ByteSpan content = {}) {
  append(out, header(h));
  append(out, content);
}

void append_pax(Bytes& out, std::string_view records) {
  Hdr h("PaxHeaders/x", records.size(), 'x');
  append_entry(out, h, text(records));
}

void append_end(Bytes& out) {
  out.resize(out.size() + 1024, 0);
}

// One pax record with its self-inclusive length.
std::string rec(const std::string& kv) {
  std::size_t len = kv.size() + 3;
  while (std::to_string(len).size() + kv.size() + 2 != len)
    len = std::to_string(len).size() + kv.size() + 2;
  return std::to_string(len) + " " + kv + "\n";
}

// A single hand-made regular entry, optionally after a pax header.
Bytes one_file(const std::string& name, std::string_view pax = {}) {
  Bytes t;
  if (!pax.empty()) append_pax(t, pax);
  append_entry(t, Hdr(name, 3), text("abc"));
  append_end(t);
  return t;
}

const std::string kLong150 =
    "study-1.2.840.113619/series-0001-with-a-rather-long-description/"
    "instance-000000000000000000000000000000000000000000000000000000000001.dcm";

std::vector<Item> awkward_items() {
  return {
      {"empty", {}},
      {"one", text("x")},
      {"dir/b511", random_bytes(511, 1)},
      {"dir/b512", random_bytes(512, 2)},
      {"dir/b513", random_bytes(513, 3)},
      {kLong150, random_bytes(1000, 4)},
      {std::string(100, 'a'), text("exactly 100")},
      {std::string(101, 'b'), text("101, pax")},
      {"Patient/Müller_Zoë/画像/ÉCHO 1.dcm", text("utf-8")},
  };
}

}  // namespace

TEST_CASE("safe_path") {
  for (std::string ok : {"a", "a/b", "DICOM/IM0001", "x.dcm", "..a", "a..", ".hidden/f", "é/名"})
    CHECK_MESSAGE(iep::tar::safe_path(ok), ok);
  for (std::string bad : std::vector<std::string>{"", "/etc/passwd", "..", "../x", "a/../b", "a/..",
                                                  ".", "./a", "a/./b", "a//b", "a/", "a\\b", "a\nb",
                                                  std::string("a\0b", 3), "a\x7f", "a\tb"})
    CHECK_MESSAGE(!iep::tar::safe_path(bad), bad);
  CHECK(iep::tar::safe_path(std::string(4096, 'a')));
  CHECK(!iep::tar::safe_path(std::string(4097, 'a')));
}

TEST_CASE("round trip of awkward sizes and names") {
  const auto items = awkward_items();
  const Bytes tar = make_tar(items);
  CHECK(tar.size() % 512 == 0);
  for (std::size_t chunk : {1, 7, 512, 65536}) {
    auto back = read_tar(tar, chunk);
    REQUIRE(back.size() == items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      CHECK(back[i].path == items[i].path);
      CHECK(back[i].data == items[i].data);
    }
  }
  // mtime survives; unread content is skipped by next().
  iep::BytesSource src(tar);
  iep::tar::Reader r(src, "t");
  std::size_t n = 0;
  while (auto e = r.next()) {
    CHECK(e->mtime == 1700000000);
    CHECK(e->path == items[n++].path);
  }
  CHECK(n == items.size());
  CHECK(!r.next());

  // An empty archive is two zero blocks.
  CHECK(make_tar({}) == Bytes(1024, 0));
  CHECK(read_tar(make_tar({})).empty());
}

TEST_CASE("EntrySource streams one entry") {
  const Bytes big = random_bytes(300000, 9);
  const Bytes tar = make_tar({{"a", big}, {"b", text("bee")}});
  iep::BytesSource src(tar);
  iep::tar::Reader r(src, "t");
  REQUIRE(r.next());
  iep::tar::EntrySource es(r);
  iep::BytesSink sink;
  CHECK(iep::copy(es, sink) == big.size());
  CHECK(sink.bytes == big);
  auto e = r.next();
  REQUIRE(e);
  CHECK(e->path == "b");
}

TEST_CASE("writer refuses misuse") {
  iep::BytesSink sink;
  iep::tar::Writer w(sink);
  CHECK_THROWS_AS(w.begin_file("../x", 1, 0), iep::Error);
  CHECK_THROWS_AS(w.begin_file("/abs", 1, 0), iep::Error);
  CHECK_THROWS_AS(w.write(text("x")), iep::Error);
  w.begin_file("f", 3, 0);
  CHECK_THROWS_AS(w.begin_file("g", 1, 0), iep::Error);
  CHECK_THROWS_AS(w.finish(), iep::Error);
  w.write(text("ab"));
  try {
    w.end_file();
    FAIL("shrunk file accepted");
  } catch (const iep::Error& e) {
    CHECK(e.code() == Exit::input);
    CHECK(std::string(e.what()).find("f: ") == 0);
  }
  CHECK_THROWS_AS(w.write(text("cd")), iep::Error);
  w.write(text("c"));
  w.end_file();
  w.finish();
  auto back = read_tar(sink.bytes);
  REQUIRE(back.size() == 1);
  CHECK(back[0].data == text("abc"));
}

TEST_CASE("GNU tar lists and extracts our archives") {
  const fs::path dir = scratch("tar-gnu-reads-ours");
  const auto items = awkward_items();
  write_file(dir / "ours.tar", make_tar(items));

  Run list = run("tar --quoting-style=literal -tf ours.tar", dir);
  CHECK(list.status == 0);
  CHECK(list.err == "");
  std::string expected;
  for (const auto& it : items) expected += it.path + "\n";
  CHECK(list.out == expected);

  Run verbose = run("TZ=UTC tar -tvf ours.tar", dir);
  CHECK(verbose.status == 0);
  CHECK(verbose.err == "");
  INFO(verbose.out);
  CHECK(verbose.out.find("-rw-r--r-- 0/0             513 2023-11-14 22:13 dir/b513\n") !=
        std::string::npos);

  fs::create_directories(dir / "out");
  Run x = run("tar -xf ours.tar -C out", dir);
  CHECK(x.status == 0);
  CHECK(x.err == "");
  for (const auto& it : items) {
    CHECK_MESSAGE(fs::is_regular_file(dir / "out" / it.path), it.path);
    CHECK(read_bytes(dir / "out" / it.path) == it.data);
  }
  fs::remove_all(dir);
}

namespace {
// A sink that counts bytes and keeps only the first `keep`.
struct HeadSink : iep::Sink {
  explicit HeadSink(std::size_t k) : keep(k) {}
  void write(ByteSpan d) override {
    for (std::size_t i = 0; i < d.size() && head.size() < keep; ++i) head.push_back(d[i]);
    total += d.size();
  }
  void finish() override {}
  std::size_t keep;
  Bytes head;
  std::uint64_t total = 0;
};

// Replays `head`, then zeros up to `total` bytes, without holding them.
struct SyntheticSource : iep::Source {
  SyntheticSource(Bytes h, std::uint64_t t) : head(std::move(h)), total(t) {}
  std::size_t read(iep::MutableByteSpan buf) override {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), total - pos));
    std::memset(buf.data(), 0, n);
    for (std::size_t i = 0; i < n && pos + i < head.size(); ++i)
      buf[i] = head[static_cast<std::size_t>(pos + i)];
    pos += n;
    return n;
  }
  Bytes head;
  std::uint64_t total, pos = 0;
};
}  // namespace

TEST_CASE("sizes over 8 GiB go into a pax header") {
  constexpr std::uint64_t kMaxUstar = (std::uint64_t{1} << 33) - 1;
  constexpr std::uint64_t kBig = kMaxUstar + 6;  // 8589934597
  const Bytes mib(1 << 20, 0);

  // Exactly the ustar limit: no pax header.
  {
    HeadSink sink(512);
    iep::tar::Writer w(sink);
    w.begin_file("limit.bin", kMaxUstar, 0);
    CHECK(sink.head[156] == '0');
    CHECK(std::string(reinterpret_cast<const char*>(sink.head.data()) + 124, 11) == "77777777777");
  }

  HeadSink sink(2048);
  iep::tar::Writer w(sink);
  w.begin_file("big.bin", kBig, 0);
  for (std::uint64_t left = kBig; left > 0;) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, mib.size()));
    w.write(ByteSpan(mib.data(), n));
    left -= n;
  }
  w.end_file();
  w.finish();
  REQUIRE(sink.head.size() == 2048);
  CHECK(sink.head[156] == 'x');
  const std::string pax(reinterpret_cast<const char*>(sink.head.data()) + 512, 20);
  CHECK(pax == std::string("19 size=8589934597\n\0", 20));
  CHECK(sink.head[1024 + 156] == '0');
  const std::uint64_t total = sink.total;
  CHECK(total == 1024 + 512 + (kBig + 512 - kBig % 512) + 1024);

  // Our reader sees the full size and skips the content.
  {
    SyntheticSource src(Bytes(sink.head.begin(), sink.head.begin() + 1536), total);
    iep::tar::Reader r(src, "big.tar");
    auto e = r.next();
    REQUIRE(e);
    CHECK(e->path == "big.bin");
    CHECK(e->size == kBig);
    CHECK(!r.next());
  }
  // GNU tar reads the same size from the headers (then hits the cut).
  const fs::path dir = scratch("tar-big");
  write_file(dir / "head.tar", ByteSpan(sink.head.data(), 1536));
  Run list = run("tar -tvf head.tar", dir);
  CHECK(list.out.find(" 8589934597 ") != std::string::npos);
  CHECK(list.out.find("big.bin") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("reads archives made by GNU tar") {
  const fs::path dir = scratch("tar-ours-reads-gnu");
  const std::vector<Item> items = {
      {"empty", {}},
      {"one", text("1")},
      {"dir/b513", random_bytes(513, 5)},
      {kLong150, random_bytes(70000, 6)},
      {"Zoë/画像.dcm", text("utf-8 name")},
  };
  std::string names;
  for (const auto& it : items) {
    write_file(dir / "src" / it.path, it.data);
    names += " '" + it.path + "'";
  }
  // Explicit file names: GNU tar adds no directory entries for them.
  for (std::string format : {"pax", "ustar", "gnu"}) {
    CAPTURE(format);
    const std::string file = format + ".tar";
    Run c = run("tar --format=" + format + " -C src -cf " + file + names + " 2>&1", dir);
    if (format == "gnu") {
      // GNU format stores the 150-byte name as a 'L' long-name entry: refused.
      REQUIRE(c.status == 0);
      check_corrupt(read_bytes(dir / file), "GNU long name not allowed");
      continue;
    }
    REQUIRE(c.status == 0);
    const Bytes tar = read_bytes(dir / file);
    CHECK(tar.size() % 10240 == 0);  // GNU's record padding after the end marker
    auto back = read_tar(tar);
    REQUIRE(back.size() == items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      CHECK(back[i].path == items[i].path);
      CHECK(back[i].data == items[i].data);
    }
  }
  // GNU format with short names is plain ustar-like and readable.
  Run c = run("tar --format=gnu -C src -cf short.tar one dir/b513", dir);
  REQUIRE(c.status == 0);
  auto back = read_tar(read_bytes(dir / "short.tar"));
  REQUIRE(back.size() == 2);
  CHECK(back[1].data == items[2].data);
  fs::remove_all(dir);
}

TEST_CASE("refuses links, FIFOs, directories and duplicates made by GNU tar") {
  const fs::path dir = scratch("tar-gnu-hostile");
  write_file(dir / "src" / "f", text("content"));
  fs::create_symlink("f", dir / "src" / "sym");
  fs::create_hard_link(dir / "src" / "f", dir / "src" / "hard");
  fs::create_directories(dir / "src" / "d");
  REQUIRE(run("mkfifo src/fifo", dir).status == 0);

  struct Case {
    std::string cmd, why;
  };
  const std::vector<Case> cases = {
      {"tar --format=pax -C src -cf a.tar f sym", "entry 'sym': symbolic link not allowed"},
      {"tar --format=pax -C src -cf a.tar f hard", "entry 'hard': hard link not allowed"},
      {"tar --format=pax -C src -cf a.tar f d", "entry 'd/': directory not allowed"},
      {"tar --format=pax -C src -cf a.tar fifo", "entry 'fifo': FIFO not allowed"},
      // Named twice with --hard-dereference: two regular entries "f".
      {"tar --format=pax --hard-dereference -C src -cf a.tar f f", "entry 'f': duplicate entry"},
      {"tar --format=ustar -C src -cf a.tar f && tar --format=ustar -C src -rf a.tar f",
       "entry 'f': duplicate entry"},
      // -P keeps absolute names and "..".
      {"tar --format=pax -P -cf a.tar \"$PWD/src/f\"", "': unsafe path"},
      {"cd src/d && tar --format=pax -P -cf ../../a.tar ../f", "entry '../f': unsafe path"},
      {"tar --format=pax -C src --transform='s,^,x/../,' -P -cf a.tar f",
       "entry 'x/../f': unsafe path"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.cmd);
    fs::remove(dir / "a.tar");
    Run r = run(c.cmd, dir);
    REQUIRE(r.status == 0);
    check_corrupt(read_bytes(dir / "a.tar"), c.why);
  }
  fs::remove_all(dir);
}

TEST_CASE("refuses hand-made hostile entries") {
  // The helper makes acceptable archives when asked to.
  CHECK(read_tar(one_file("ok")).at(0).data == text("abc"));
  CHECK(read_tar(one_file("x", rec("path=a/b") + rec("mtime=1.5") + rec("SCHILY.xattr.k=v")))
            .at(0)
            .path == "a/b");
  CHECK(read_tar(one_file("ok", rec("path=a/b") + rec("path="))).at(0).path == "ok");
  {
    Hdr h = Hdr("x").with_prefix("some/prefix");
    Bytes t;
    append_entry(t, h);
    append_end(t);
    CHECK(read_tar(t).at(0).path == "some/prefix/x");
  }
  {
    // pax size overrides the header's size field.
    Bytes t;
    append_pax(t, rec("size=5"));
    append_entry(t, Hdr("s", 0), text("hello"));
    append_end(t);
    CHECK(read_tar(t).at(0).data == text("hello"));
  }

  for (auto [type, why] :
       std::vector<std::pair<char, std::string>>{{'1', "hard link not allowed"},
                                                 {'2', "symbolic link not allowed"},
                                                 {'3', "character device not allowed"},
                                                 {'4', "block device not allowed"},
                                                 {'5', "directory not allowed"},
                                                 {'6', "FIFO not allowed"},
                                                 {'7', "contiguous file not allowed"},
                                                 {'g', "pax global header not allowed"},
                                                 {'L', "GNU long name not allowed"},
                                                 {'K', "GNU long link name not allowed"},
                                                 {'S', "GNU sparse file not allowed"},
                                                 {'Z', "unknown entry type 0x5a"},
                                                 {'\x01', "unknown entry type 0x01"}}) {
    Bytes t;
    append_entry(t, Hdr("evil", 0, type).with_link("/etc/passwd"));
    append_end(t);
    check_corrupt(t, "entry 'evil': " + why);
  }

  // Unsafe names in the header and in pax records.
  check_corrupt(one_file("/etc/passwd"), "entry '/etc/passwd': unsafe path");
  check_corrupt(one_file("../x"), "unsafe path");
  check_corrupt(one_file("a\\b"), "unsafe path");
  check_corrupt(one_file("a\x1b[2Jb"), "entry 'a\\x1b[2Jb': unsafe path");
  check_corrupt(one_file("ok", rec("path=../../etc/cron.d/x")), "unsafe path");
  check_corrupt(one_file("ok", rec("path=a/./b")), "unsafe path");
  check_corrupt(one_file("ok", rec("path=a\nb")), "unsafe path");
  check_corrupt(one_file("ok", rec(std::string("path=a\0b", 8))), "NUL byte in pax path");
  check_corrupt(one_file("ok", rec("path=" + std::string(5000, 'a'))), "longer than 4096");
  {
    Hdr h = Hdr("x").with_prefix("../up");
    Bytes t;
    append_entry(t, h);
    append_end(t);
    check_corrupt(t, "entry '../up/x': unsafe path");
  }

  // Malformed pax records.
  check_corrupt(one_file("ok", "99 path=a\n"), "pax record length exceeds");
  check_corrupt(one_file("ok", "5 path=abc\n"), "pax record not ended by a newline");
  check_corrupt(one_file("ok", "0 path=a\n"), "not ended by a newline");
  check_corrupt(one_file("ok", "11 path=abc!"), "not ended by a newline");
  check_corrupt(one_file("ok", "x path=a\n"), "malformed pax record length");
  check_corrupt(one_file("ok", "10path=abc\n"), "malformed pax record length");
  check_corrupt(one_file("ok", rec("pathabc")), "without keyword=value");
  check_corrupt(one_file("ok", rec("=abc")), "without keyword=value");
  check_corrupt(one_file("ok", rec("size=12a")), "malformed pax size");
  check_corrupt(one_file("ok", rec("size=-1")), "malformed pax size");
  check_corrupt(one_file("ok", rec("size= 3")), "malformed pax size");
  check_corrupt(one_file("ok", rec("size=18446744073709551616")), "malformed pax size");
  check_corrupt(one_file("ok", rec("GNU.sparse.major=1")), "sparse files are not supported");
  check_corrupt(one_file("ok", "99999999999999999999999 path=a\n"), "length exceeds");
  {
    Bytes t;
    append_pax(t, rec("path=a"));
    append_pax(t, rec("path=b"));
    append_entry(t, Hdr("c"));
    append_end(t);
    check_corrupt(t, "two pax extended headers in a row");
  }
  {
    Bytes t;
    append_pax(t, rec("path=a"));
    append_end(t);
    check_corrupt(t, "pax header not followed by an entry");
  }
  {
    // A pax header over 1 MiB is refused before it is read.
    Bytes t;
    append(t, header(Hdr("PaxHeaders/x", (1 << 20) + 1, 'x')));
    check_corrupt(t, "pax extended header larger than 1 MiB");
  }
  {
    // A pax size larger than the rest of the archive: truncated.
    Bytes t;
    append_pax(t, rec("size=18446744073709551615"));
    append_entry(t, Hdr("s"), text("abc"));
    append_end(t);
    check_corrupt(t, "entry 's': truncated content");
  }

  // Numeric fields.
  {
    Bytes t;
    append_entry(t, Hdr("n").with_size_field(std::string("0000000008\0", 11)));
    append_end(t);
    check_corrupt(t, "malformed size field");
  }
  {
    Bytes t;
    append_entry(t, Hdr("n").with_size_field(std::string(12, '\0')));
    append_end(t);
    check_corrupt(t, "malformed size field");
  }
  {
    // GNU base-256: positive small value accepted, negative or over 64 bits refused.
    Bytes t;
    append_entry(t, Hdr("n").with_size_field(std::string("\x80\0\0\0\0\0\0\0\0\0\0\x03", 12)),
                 text("abc"));
    append_end(t);
    CHECK(read_tar(t).at(0).data == text("abc"));
    Bytes neg;
    append_entry(neg, Hdr("n").with_size_field(std::string(12, '\xff')));
    append_end(neg);
    check_corrupt(neg, "malformed size field");
    Bytes huge;
    append_entry(huge, Hdr("n").with_size_field(std::string("\x80\x01") + std::string(10, '\0')));
    append_end(huge);
    check_corrupt(huge, "malformed size field");
  }

  // Duplicate names, also when one comes from pax.
  {
    Bytes t;
    append_entry(t, Hdr("same"));
    append_pax(t, rec("path=same"));
    append_entry(t, Hdr("other"));
    append_end(t);
    check_corrupt(t, "entry 'same': duplicate entry");
  }
}

TEST_CASE("checksums") {
  Bytes good = make_tar({{"a", text("1")}, {"b", text("2")}});
  {
    Bytes t = good;
    t[1024 + 0] ^= 1;  // second header's name
    check_corrupt(t, "bad header checksum");
  }
  {
    Bytes t = good;
    t[1024 + 150] = '9';  // not an octal checksum
    check_corrupt(t, "bad header checksum");
  }
  {
    Bytes t = good;
    t[5] ^= 1;  // first header: not a tar stream at all
    Failure f = read_failure(t);
    CHECK(f.code == Exit::not_package);
    CHECK(f.message == "test.tar: not a tar stream");
  }
  {
    // Old writers summed signed chars; tar accepts both.
    Bytes t;
    append_entry(t, Hdr("caf\xc3\xa9", 1).with_signed_checksum(), text("x"));
    append_end(t);
    CHECK(read_tar(t).at(0).path == "caf\xc3\xa9");
  }
  {
    // Right checksum, wrong magic: an old v7 header is not accepted.
    Bytes t;
    append_entry(t, Hdr("a").with_magic(std::string(8, '\0')));
    append_end(t);
    CHECK(read_failure(t).code == Exit::not_package);
    Bytes u = good;
    append_entry(u, Hdr("c").with_magic(std::string(8, '\0')));
    u.erase(u.begin() + 2048, u.begin() + 3072);  // move the end marker after it
    append_end(u);
    check_corrupt(u, "not a ustar header");
  }
}

TEST_CASE("truncation anywhere is refused") {
  const Bytes tar = make_tar(awkward_items());
  std::vector<std::size_t> cuts;
  for (std::size_t off = 0; off < tar.size(); off += 512) {
    cuts.push_back(off);
    cuts.push_back(off + 1);
    cuts.push_back(off + 511);
  }
  for (std::size_t off = 0; off < tar.size(); off += 37) cuts.push_back(off);
  for (std::size_t off : cuts) {
    if (off >= tar.size()) continue;
    CAPTURE(off);
    Failure f = read_failure(ByteSpan(tar.data(), off));
    CHECK(f.code == (off < 512 ? Exit::not_package : Exit::corrupt));
    if (off >= 512) CHECK(f.message.find("truncated") != std::string::npos);
  }
  // Zero padding after the marker is fine (GNU pads to 10240); data is not.
  Bytes padded = tar;
  padded.resize(padded.size() + 9000, 0);
  CHECK(read_tar(padded).size() == awkward_items().size());
  padded.push_back('x');
  check_corrupt(padded, "data after the end-of-archive marker");
}

TEST_CASE("not a tar stream") {
  for (const Bytes& b : {Bytes{}, text("hello"), text(std::string(600, 'a')), random_bytes(4096, 7),
                         Bytes(512, 0), Bytes(700, 0)}) {
    Failure f = read_failure(b);
    CHECK(f.code == Exit::not_package);
    CHECK(f.message == "test.tar: not a tar stream");
  }
}
