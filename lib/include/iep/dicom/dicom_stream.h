// A DICOM file as a light tree of elements, read and written without
// decoding: small values are held in memory, large ones (pixel data) stay
// in the source file and are copied through byte for byte on write. This is
// what lets iep-anon cost little more than copying the file.
//
// Reading is hardened for hostile input: every length is checked against
// its container and the file, nesting and element counts are bounded, and
// nothing the input claims is allocated before it has been read.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iep/core/io.h"

namespace iep::dicom {

// How the data set is encoded (Part 5 §10): everything but these three is
// Explicit VR Little Endian, with encapsulated pixel data where compressed.
enum class Syntax : std::uint8_t { implicit_le, explicit_le, explicit_be, deflated };

struct Item;

struct Element {
  std::uint32_t tag = 0;                 // group << 16 | element
  std::array<char, 2> vr{{'U', 'N'}};    // as in the file; from the dictionary for implicit VR
  std::string value;                     // a value held in memory, as stored (padding included)
  std::uint64_t offset = 0, length = 0;  // a value left in the source: its byte range
  bool external = false;                 // true: the value is that range of the source
  bool encapsulated = false;             // undefined-length pixel data: the range holds the
                                         // fragment items and the sequence delimiter
  std::uint32_t fragments = 0;           // encapsulated: its items (offset table included)
  std::vector<Item> items;               // for SQ

  [[nodiscard]] std::uint16_t group() const { return static_cast<std::uint16_t>(tag >> 16); }
  [[nodiscard]] std::uint16_t element() const { return static_cast<std::uint16_t>(tag); }
  [[nodiscard]] bool is(const char* v) const { return vr[0] == v[0] && vr[1] == v[1]; }
  [[nodiscard]] bool is_sequence() const { return is("SQ"); }
  // The value's length as stored (for a sequence: its number of items).
  [[nodiscard]] std::uint64_t size() const;
  // Replaces the value with `text`, padded to even length as the VR wants
  // (NUL for UI and binary VRs, space for text); drops items.
  void set(std::string text);
  // Empty value (a sequence without items).
  void clear();
};

struct Item {
  std::vector<Element> elements;  // in ascending tag order, as DICOM requires

  Element* find(std::uint32_t tag);
  const Element* find(std::uint32_t tag) const;
  // The element with this tag, inserted in order (empty, with this VR or
  // the dictionary's) when absent.
  Element& put(std::uint32_t tag);
  Element& put(std::uint32_t tag, const char* vr);
};

inline std::uint64_t Element::size() const {
  return is_sequence() ? items.size() : external ? length : value.size();
}

// The VR the data dictionary gives a standard tag ("UN" when unknown; "US"
// for US-or-SS, "OB" for OB-or-OW and the like).
std::array<char, 2> dictionary_vr(std::uint32_t tag);

// The bounds of every reading of DICOM in iep (iep-pack, iep-verify,
// iep-anon and its --check all read with the defaults): beyond them a file
// is refused, whatever it claims, before anything grows with it.
struct ReadLimits {
  std::uint64_t inline_value = 64 * 1024;  // larger values stay in the source
  // Values held in memory in all: once this much is held, further values
  // (but the tiny ones, at most 64 bytes) stay in the source too, so a file
  // of a million 64 KiB values costs no more memory than one of empty ones.
  std::uint64_t max_held = 16ull << 20;
  std::uint64_t max_inflated = 256ull << 20;  // a deflated data set, inflated
  std::size_t max_elements = 1 << 20;         // elements and items, all levels
  int max_depth = 32;                         // sequences in sequences
};

// A parsed file. Keeps the source open: external values are read from it
// when the file is written.
class File {
 public:
  // Parses Part 10 (with or without preamble) or a bare data set (syntax
  // guessed). Throws Error(Exit::invalid_dicom, "PATH: cause") for anything
  // that is not well-formed DICOM, Error(Exit::input) when it cannot be read.
  static File read(const std::filesystem::path& path, const ReadLimits& limits = {});
  // The same from an open regular file, named `name` in messages (a
  // temporary file of no name of its own).
  static File read(UniqueFd fd, std::string name, const ReadLimits& limits = {});
  // The same from bytes in memory (for fuzzing and tests).
  static File parse(std::string bytes, const std::string& name, const ReadLimits& limits = {});
  // The same from the first bytes (`head`) of a file of `size` bytes whose
  // last element is a value that starts in `head` and runs to the file's
  // end: pixel data that follows the header, still to come when the file
  // is read from a stream. nullopt when the file is not of that shape as
  // far as `head` shows (the header goes on past `head`, an element follows
  // the long value, encapsulated or deflated data): read it whole instead.
  // Malformed bytes within `head` throw as parse() does.
  static std::optional<File> parse_head(std::string head, std::uint64_t size,
                                        const std::string& name, const ReadLimits& limits = {});

  File(File&&) = default;
  File& operator=(File&&) = default;
  ~File();

  bool part10 = false;     // had the 128-byte preamble and "DICM"
  std::uint64_t size = 0;  // of the source file, in bytes
  Syntax syntax = Syntax::explicit_le;
  std::string transfer_syntax_uid;  // from the meta header, or the guessed syntax's
  Item meta;                        // group 0002 as read
  Item data;                        // the data set

  // The bytes of a value (in memory or read from the source), at most `max`
  // bytes: longer is Error(Exit::invalid_dicom) naming the file and tag.
  [[nodiscard]] std::string bytes(const Element& e, std::size_t max) const;
  // A short string value without trailing padding (spaces, NULs), "" when
  // absent or too long to be a name or UID.
  [[nodiscard]] std::string text(std::uint32_t tag) const;
  [[nodiscard]] const std::string& name() const { return name_; }
  // A DICOMDIR (Media Storage Directory Storage, or a directory record sequence).
  [[nodiscard]] bool is_dicomdir() const;
  // Of a File from parse_head(): the bytes of the source past its head,
  // the end of the last element's value, which write() leaves for the
  // caller to append (0 for any other File). The last element must still
  // be that value (the one with `offset + length == size`) when the file
  // is written: tail_intact() says whether it is.
  [[nodiscard]] std::uint64_t tail() const { return tail_; }
  [[nodiscard]] bool tail_intact() const;

  // Writes a Part 10 file to `out`: preamble, a new meta header (file meta
  // version, the data set's SOP Class and Instance UIDs, the transfer
  // syntax, iep's implementation UID and version; nothing else of the
  // sender's), then the data set in its original syntax. Sequences and items
  // are written with undefined lengths; group lengths (gggg,0000), and group
  // 0002 elements left in the data set, are not written. `out_name` is used
  // in errors.
  void write(int out_fd, const std::string& out_name) const;
  // The same into memory (appended to `out`); not for a deflated data set
  // (Error(Exit::internal)). Of a File from parse_head(), all but its
  // tail() (Error(Exit::internal) unless tail_intact()).
  void write(std::string& out) const;

 private:
  File() = default;
  void write_to(int out_fd, const std::string& out_name, std::string* memory) const;
  UniqueFd fd_;         // the source, for external values
  std::string memory_;  // or the source in memory (a parsed buffer, or an inflated data set)
  bool in_memory_ = false;
  std::uint64_t tail_ = 0;  // parse_head(): source bytes past memory_
  std::string name_;
  friend struct Parser;
  friend struct Emitter;
};

// Where a Part 10 file's data set starts and its transfer syntax, from the
// file's first bytes alone (preamble, "DICM", a group 0002 in explicit VR
// little endian): what it takes to send the data set as stored, without
// parsing it. nullopt when `file` holds no such header whole (no preamble,
// an element cut short or of undefined length, no transfer syntax, nothing
// after the header).
struct MetaHeader {
  std::uint64_t data_offset = 0;
  std::string transfer_syntax_uid;
};
std::optional<MetaHeader> meta_header(ByteSpan file);

// iep's Implementation Class UID and Version Name in the meta headers it writes.
inline constexpr const char* kImplementationClassUid =
    "2.25.223994427006466227806104327468616474155";
inline constexpr const char* kImplementationVersion = "IEP_0.1";

}  // namespace iep::dicom
