// POSIX pax tar streams: a writer for regular files and a reader hardened
// against hostile archives (see iep/tar.h).
//
// Reader decisions, for the record:
// - Only regular files ('0', '\0') and pax extended headers ('x') are
//   accepted. A pax global header ('g') is refused: it would change the
//   meaning of every later entry, and our writer never emits one.
// - In pax records only "path" and "size" matter; other keywords (mtime,
//   atime, uid, uname, SCHILY.*, LIBARCHIVE.*, ...) are ignored, except
//   "GNU.sparse.*", which is refused because it changes how content is read.
// - The end of the archive is two zero blocks; one zero block followed by EOF
//   is refused as truncated. After the marker only zero bytes may follow
//   (GNU tar pads to 10240-byte records); the rest of the input is read so the
//   layers below (zstd checksum, age authentication) see their end too.
// - Numbers are octal; GNU base-256 is accepted for positive values only.
#include "iep/package/tar.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <string_view>

#include "iep/core/error.h"

namespace iep::tar {
namespace {

constexpr std::size_t kBlock = 512;
using Block = std::array<std::uint8_t, kBlock>;

// ustar header fields (POSIX.1-2001 "ustar Interchange Format").
struct Field {
  std::size_t off, len;
};
constexpr Field kName{0, 100}, kMode{100, 8}, kUid{108, 8}, kGid{116, 8}, kSize{124, 12},
    kMtime{136, 12}, kChksum{148, 8}, kMagic{257, 6}, kVersion{263, 2}, kDevmajor{329, 8},
    kDevminor{337, 8}, kPrefix{345, 155};
constexpr std::size_t kType = 156;

constexpr std::uint64_t kMaxOctal11 = (std::uint64_t{1} << 33) - 1;  // 8^11 - 1
constexpr std::size_t kMaxPaxSize = 1 << 20;                         // one pax extended header
constexpr std::size_t kMaxPath = 4096;                               // one entry name
constexpr std::size_t kMaxEntries = 1'000'000;  // names remembered for duplicates
constexpr std::size_t kMaxNameBytes = 64u << 20;

// A name as it may appear in a one-line error message: control bytes
// escaped, long names shortened.
std::string show(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s.substr(0, 200)) {
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > 200) out += "...";
  return out;
}

// ---- writing ----

void put_octal(Block& b, Field f, std::uint64_t v) {
  // f.len - 1 zero-filled digits, then NUL (as GNU tar writes them).
  for (std::size_t i = f.len - 1; i-- > 0;) {
    b[f.off + i] = static_cast<std::uint8_t>('0' + (v & 7));
    v >>= 3;
  }
  b[f.off + f.len - 1] = 0;
}

void put_string(Block& b, Field f, std::string_view s) {
  std::memcpy(b.data() + f.off, s.data(), std::min(s.size(), f.len));
}

Block make_header(std::string_view name, std::uint64_t size, std::int64_t mtime, char type) {
  Block b{};
  put_string(b, kName, name);
  put_octal(b, kMode, 0644);
  put_octal(b, kUid, 0);
  put_octal(b, kGid, 0);
  put_octal(b, kSize, size);
  // The 11-digit mtime field covers 1970..2242; clamp rather than emit pax.
  put_octal(b, kMtime,
            static_cast<std::uint64_t>(
                std::clamp<std::int64_t>(mtime, 0, static_cast<std::int64_t>(kMaxOctal11))));
  b[kType] = static_cast<std::uint8_t>(type);
  put_string(b, kMagic, std::string_view("ustar\0", 6));
  put_string(b, kVersion, "00");
  put_octal(b, kDevmajor, 0);
  put_octal(b, kDevminor, 0);
  // Checksum: sum of all bytes with the checksum field read as spaces;
  // six digits, NUL, space.
  std::memset(b.data() + kChksum.off, ' ', kChksum.len);
  unsigned sum = 0;
  for (std::uint8_t c : b) sum += c;
  put_octal(b, Field{kChksum.off, 7}, sum);
  return b;
}

// One pax record, "<len> <key>=<value>\n", where len counts the whole
// record including its own digits.
std::string pax_record(std::string_view key, std::string_view value) {
  const std::size_t body = 1 + key.size() + 1 + value.size() + 1;
  std::size_t len = body;
  for (;;) {
    std::size_t next = body + std::to_string(len).size();
    if (next == len) break;
    len = next;
  }
  std::string r = std::to_string(len);
  r += ' ';
  r += key;
  r += '=';
  r += value;
  r += '\n';
  return r;
}

// The last path component cut to `max` bytes without splitting a UTF-8
// sequence.
std::string short_base(const std::string& path, std::size_t max) {
  std::string base = path.substr(path.rfind('/') + 1);
  if (base.size() <= max) return base;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(base[cut]) & 0xC0) == 0x80) --cut;
  return base.substr(0, cut);
}

void write_zeros(Sink& out, std::size_t n) {
  static const std::array<std::uint8_t, 2 * kBlock> zeros{};
  while (n > 0) {
    std::size_t k = std::min(n, zeros.size());
    out.write(ByteSpan(zeros.data(), k));
    n -= k;
  }
}

// ---- reading ----

bool all_zero(const Block& b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c == 0; });
}

// An octal number (leading spaces, then digits, then NULs or spaces) or a
// positive GNU base-256 number; nullopt when malformed or over 64 bits.
std::optional<std::uint64_t> parse_number(const Block& b, Field f) {
  const std::uint8_t* p = b.data() + f.off;
  std::uint64_t v = 0;
  if (p[0] & 0x80) {
    if (p[0] & 0x40) return std::nullopt;  // negative
    v = p[0] & 0x3f;
    for (std::size_t i = 1; i < f.len; ++i) {
      if (v >> 56) return std::nullopt;
      v = (v << 8) | p[i];
    }
    return v;
  }
  std::size_t i = 0;
  while (i < f.len && p[i] == ' ') ++i;
  const std::size_t start = i;
  for (; i < f.len && p[i] >= '0' && p[i] <= '7'; ++i) {
    if (v >> 61) return std::nullopt;
    v = v * 8 + (p[i] - '0');
  }
  if (i == start) return std::nullopt;
  for (; i < f.len; ++i)
    if (p[i] != ' ' && p[i] != 0) return std::nullopt;
  return v;
}

// tar accepts the checksum computed over unsigned or over signed bytes
// (some old writers used signed char).
bool checksum_ok(const Block& b) {
  auto stored = parse_number(b, kChksum);
  if (!stored || (b[kChksum.off] & 0x80)) return false;
  std::uint64_t usum = 0;
  std::int64_t ssum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) {
    const bool in_field = i >= kChksum.off && i < kChksum.off + kChksum.len;
    const std::uint8_t c = in_field ? ' ' : b[i];
    usum += c;
    ssum += static_cast<std::int8_t>(c);
  }
  return *stored == usum || static_cast<std::int64_t>(*stored) == ssum;
}

enum class Magic { none, posix, gnu };

Magic magic(const Block& b) {
  const char* m = reinterpret_cast<const char*>(b.data() + kMagic.off);
  if (std::memcmp(m, "ustar\0", 6) == 0) return Magic::posix;
  if (std::memcmp(m, "ustar  \0", 8) == 0) return Magic::gnu;
  return Magic::none;
}

// A NUL-terminated (or full-width) string field.
std::string get_string(const Block& b, Field f) {
  const char* p = reinterpret_cast<const char*>(b.data() + f.off);
  return std::string(p, strnlen(p, f.len));
}

// The name in the header itself: ustar keeps long names as prefix "/" name
// (GNU's old format uses the prefix area for other things).
std::string header_path(const Block& b) {
  std::string name = get_string(b, kName);
  if (magic(b) == Magic::posix && b[kPrefix.off] != 0) return get_string(b, kPrefix) + "/" + name;
  return name;
}

const char* type_name(char t) {
  switch (t) {
    case '1': return "hard link";
    case '2': return "symbolic link";
    case '3': return "character device";
    case '4': return "block device";
    case '5': return "directory";
    case '6': return "FIFO";
    case '7': return "contiguous file";
    case 'g': return "pax global header";
    case 'K': return "GNU long link name";
    case 'L': return "GNU long name";
    case 'S': return "GNU sparse file";
    case 'D': return "GNU dump directory";
    case 'M': return "GNU multi-volume continuation";
    case 'V': return "GNU volume label";
    default: return nullptr;
  }
}

// Reads and discards n bytes; false on EOF.
bool skip(Source& in, std::uint64_t n) {
  std::array<std::uint8_t, 16384> buf;
  while (n > 0) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(n, buf.size()));
    std::size_t got = in.read(MutableByteSpan(buf.data(), want));
    if (got == 0) return false;
    n -= got;
  }
  return true;
}

std::uint64_t padding_for(std::uint64_t size) {
  return (kBlock - size % kBlock) % kBlock;
}

// Strict decimal for the pax "size" record: digits only, no sign or spaces.
std::optional<std::uint64_t> parse_decimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

struct PaxValues {
  std::optional<std::string> path;
  std::optional<std::uint64_t> size;
};

// Parses the records of a pax extended header; returns an error or "".
std::string parse_pax(std::string_view data, PaxValues& out) {
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t i = pos;
    std::uint64_t len = 0;
    for (; i < data.size() && data[i] >= '0' && data[i] <= '9'; ++i) {
      len = len * 10 + static_cast<std::uint64_t>(data[i] - '0');
      if (len > data.size()) return "pax record length exceeds the header";
    }
    if (i == pos || i >= data.size() || data[i] != ' ') return "malformed pax record length";
    if (len > data.size() - pos) return "pax record length exceeds the header";
    const std::size_t end = pos + static_cast<std::size_t>(len);
    if (end < i + 3 || data[end - 1] != '\n') return "pax record not ended by a newline";
    const std::string_view rec = data.substr(i + 1, end - 1 - (i + 1));
    const std::size_t eq = rec.find('=');
    if (eq == std::string_view::npos || eq == 0) return "pax record without keyword=value";
    const std::string_view key = rec.substr(0, eq), value = rec.substr(eq + 1);
    if (key == "path") {
      // An empty value cancels the keyword (POSIX).
      if (value.empty()) {
        out.path.reset();
      } else {
        if (value.find('\0') != std::string_view::npos) return "NUL byte in pax path";
        if (value.size() > kMaxPath) return "pax path longer than 4096 bytes";
        out.path = std::string(value);
      }
    } else if (key == "size") {
      if (value.empty()) {
        out.size.reset();
      } else {
        out.size = parse_decimal(value);
        if (!out.size) return "malformed pax size";
      }
    } else if (key.starts_with("GNU.sparse.")) {
      return "sparse files are not supported";
    }
    pos = end;
  }
  return "";
}

}  // namespace

bool safe_path(const std::string& path) {
  if (path.empty() || path.size() > kMaxPath) return false;
  for (unsigned char c : path)
    if (c < 0x20 || c == 0x7f || c == '\\') return false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    const std::string_view part =
        std::string_view(path).substr(start, slash == std::string::npos ? slash : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

// ---- Writer ----

void Writer::begin_file(const std::string& path, std::uint64_t size, std::int64_t mtime) {
  if (in_file_) throw Error(Exit::internal, "tar: new entry while '" + show(path_) + "' is open");
  if (!safe_path(path)) throw Error(Exit::input, show(path) + ": unsafe path for a package entry");
  // Names over 100 bytes and sizes over 8 GiB - 1 go into a pax header
  // (never the ustar prefix split, which only some names fit).
  std::string pax;
  if (path.size() > kName.len) pax += pax_record("path", path);
  if (size > kMaxOctal11) pax += pax_record("size", std::to_string(size));
  if (!pax.empty()) {
    const std::string xname = "PaxHeaders/" + short_base(path, kName.len - 11);
    const Block x = make_header(xname, pax.size(), mtime, 'x');
    out_.write(x);
    out_.write(ByteSpan(reinterpret_cast<const std::uint8_t*>(pax.data()), pax.size()));
    write_zeros(out_, padding_for(pax.size()));
  }
  out_.write(make_header(path, size > kMaxOctal11 ? 0 : size, mtime, '0'));
  path_ = path;
  size_ = size;
  remaining_ = size;
  in_file_ = true;
}

void Writer::write(ByteSpan data) {
  wrote_below(data.size());
  out_.write(data);
}

void Writer::wrote_below(std::uint64_t n) {
  if (!in_file_) throw Error(Exit::internal, "tar: content written outside an entry");
  if (n > remaining_)
    throw Error(Exit::input, show(path_) + ": file grew while packing (expected " +
                                 std::to_string(size_) + " bytes)");
  remaining_ -= n;
}

void Writer::end_file() {
  if (!in_file_) throw Error(Exit::internal, "tar: end_file() outside an entry");
  if (remaining_ != 0)
    throw Error(Exit::input, show(path_) + ": file shrank while packing (expected " +
                                 std::to_string(size_) + " bytes, got " +
                                 std::to_string(size_ - remaining_) + ")");
  write_zeros(out_, padding_for(size_));
  in_file_ = false;
}

void Writer::add_file(const std::string& path, ByteSpan data, std::int64_t mtime) {
  begin_file(path, data.size(), mtime);
  write(data);
  end_file();
}

void Writer::finish() {
  if (in_file_) throw Error(Exit::internal, "tar: finish() while '" + show(path_) + "' is open");
  write_zeros(out_, 2 * kBlock);
}

// ---- Reader ----

std::optional<Entry> Reader::next() {
  if (done_) return std::nullopt;
  auto corrupt = [&](const std::string& entry, const std::string& why) {
    return Error(Exit::corrupt, name_ + ": entry '" + show(entry) + "': " + why);
  };
  // Skip what the caller did not read of the previous entry.
  if (!skip(in_, remaining_) || !skip(in_, padding_)) throw corrupt(path_, "truncated content");
  remaining_ = padding_ = 0;

  PaxValues pax;
  bool have_pax = false;
  std::string pax_name;  // the 'x' header's own name, for messages
  for (;;) {
    Block b;
    const std::size_t got = read_full(in_, b);
    if (first_ && (got < kBlock || (!all_zero(b) && (!checksum_ok(b) || magic(b) == Magic::none))))
      throw Error(Exit::not_package, name_ + ": not a tar stream");
    if (got < kBlock) {
      if (have_pax) throw corrupt(pax_name, "truncated after a pax header");
      throw Error(Exit::corrupt, name_ + ": truncated tar stream (no end-of-archive marker)");
    }

    if (all_zero(b)) {
      if (have_pax) throw corrupt(pax_name, "pax header not followed by an entry");
      // End of archive: a second zero block, then only zero padding.
      Block z;
      if (read_full(in_, z) < kBlock || !all_zero(z)) {
        if (first_) throw Error(Exit::not_package, name_ + ": not a tar stream");
        throw Error(Exit::corrupt, name_ + ": truncated tar stream (lone zero block)");
      }
      for (;;) {
        const std::size_t n = in_.read(z);
        if (n == 0) break;
        if (!std::all_of(z.begin(), z.begin() + static_cast<std::ptrdiff_t>(n),
                         [](std::uint8_t c) { return c == 0; }))
          throw Error(Exit::corrupt, name_ + ": data after the end-of-archive marker");
      }
      first_ = false;
      done_ = true;
      return std::nullopt;
    }

    first_ = false;
    const std::string hpath = header_path(b);
    const std::string& shown = pax.path ? *pax.path : hpath;
    if (!checksum_ok(b)) throw corrupt(shown, "bad header checksum");
    if (magic(b) == Magic::none) throw corrupt(shown, "not a ustar header");
    const auto size = parse_number(b, kSize);
    if (!size) throw corrupt(shown, "malformed size field");
    const auto mtime = parse_number(b, kMtime);
    if (!mtime || *mtime > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      throw corrupt(shown, "malformed mtime field");
    const char type = static_cast<char>(b[kType]);

    if (type == 'x') {
      if (have_pax) throw corrupt(hpath, "two pax extended headers in a row");
      if (*size > kMaxPaxSize) throw corrupt(hpath, "pax extended header larger than 1 MiB");
      std::string data(static_cast<std::size_t>(*size), '\0');
      MutableByteSpan span(reinterpret_cast<std::uint8_t*>(data.data()), data.size());
      if (read_full(in_, span) < data.size() || !skip(in_, padding_for(*size)))
        throw corrupt(hpath, "truncated pax header");
      if (std::string err = parse_pax(data, pax); !err.empty()) throw corrupt(hpath, err);
      have_pax = true;
      pax_name = hpath;
      continue;
    }
    if (type != '0' && type != '\0') {
      const char* what = type_name(type);
      if (what) throw corrupt(shown, std::string(what) + " not allowed (regular files only)");
      static const char* hex = "0123456789abcdef";
      const auto t = static_cast<unsigned char>(type);
      throw corrupt(shown, std::string("unknown entry type 0x") + hex[t >> 4] + hex[t & 15]);
    }

    std::string path = pax.path ? *pax.path : hpath;
    const std::uint64_t content = pax.size ? *pax.size : *size;
    if (!safe_path(path)) throw corrupt(path, "unsafe path");
    if (seen_.size() >= kMaxEntries || seen_bytes_ + path.size() > kMaxNameBytes)
      throw corrupt(path, "too many entries");
    if (!seen_.insert(path).second) throw corrupt(path, "duplicate entry");
    seen_bytes_ += path.size();
    path_ = path;
    remaining_ = content;
    padding_ = padding_for(content);
    return Entry{std::move(path), content, static_cast<std::int64_t>(*mtime)};
  }
}

std::size_t Reader::read(MutableByteSpan buf) {
  if (remaining_ == 0 || buf.empty()) return 0;
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), remaining_));
  const std::size_t got = in_.read(buf.first(want));
  if (got == 0)
    throw Error(Exit::corrupt, name_ + ": entry '" + show(path_) + "': truncated content");
  remaining_ -= got;
  return got;
}

}  // namespace iep::tar
