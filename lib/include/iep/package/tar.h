// POSIX pax tar streams: what a plain package is made of.
//
// The writer emits ustar headers, with a pax extended header ('x') before an
// entry whose path or size does not fit ustar, and the two zero blocks at the
// end; GNU tar and bsdtar read it. The reader is hardened for hostile input:
// it accepts only regular files (and pax 'x' headers that describe them),
// refuses absolute paths, "..", empty or NUL-bearing names, links, devices,
// FIFOs, directories, bad checksums, numeric overflows and truncation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>

#include "iep/core/io.h"

namespace iep::tar {

class Writer {
 public:
  explicit Writer(Sink& out) : out_(out) {}
  // Starts a regular file of exactly `size` bytes (mode 0644, uid/gid 0).
  // Paths are relative, '/'-separated, without "." or ".." components.
  void begin_file(const std::string& path, std::uint64_t size, std::int64_t mtime);
  void write(ByteSpan data);
  // Counts `n` bytes of content that the caller put into the stream below
  // this writer itself (a compressed frame of them, copied whole).
  void wrote_below(std::uint64_t n);
  // Pads the entry to a 512-byte block; throws if fewer or more bytes than
  // announced were written.
  void end_file();
  // Convenience: a whole small file.
  void add_file(const std::string& path, ByteSpan data, std::int64_t mtime);
  // Writes the end-of-archive marker (does not call out.finish()).
  void finish();

 private:
  Sink& out_;
  std::string path_;  // the open entry, for error messages
  std::uint64_t remaining_ = 0;
  std::uint64_t size_ = 0;
  bool in_file_ = false;
};

struct Entry {
  std::string path;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;
};

// Reads entries in order. Errors are Error(Exit::not_package) when the input
// is not a tar stream at all (first header), Error(Exit::corrupt) for an
// unsafe or malformed entry or truncation later; messages name `name` and the
// entry.
class Reader {
 public:
  Reader(Source& in, std::string name) : in_(in), name_(std::move(name)) {}
  // The next entry, or nullopt at the end-of-archive marker. Skips any unread
  // content of the previous entry.
  std::optional<Entry> next();
  // Reads the current entry's content; 0 at its end.
  std::size_t read(MutableByteSpan buf);

 private:
  Source& in_;
  std::string name_;
  std::uint64_t remaining_ = 0;
  std::uint64_t padding_ = 0;
  bool first_ = true;
  bool done_ = false;
  std::string path_;                      // the current entry, for error messages
  std::unordered_set<std::string> seen_;  // entry names so far, to refuse duplicates
  std::size_t seen_bytes_ = 0;            // bounds seen_ (memory)
};

// The current entry's content as a Source (reads through Reader::read).
class EntrySource : public Source {
 public:
  explicit EntrySource(Reader& r) : r_(r) {}
  std::size_t read(MutableByteSpan buf) override { return r_.read(buf); }

 private:
  Reader& r_;
};

// True when `path` is acceptable as an entry name: relative, no "." or ".."
// components, no empty components, no backslashes or control characters,
// at most 4096 bytes.
bool safe_path(const std::string& path);

}  // namespace iep::tar
