#include "iep/dicom/dicom_stream.h"

#include <dcmtk/config/osconfig.h>  // must come first among DCMTK headers
#include <dcmtk/dcmdata/dcdicent.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcvr.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

#include "iep/core/error.h"

namespace fs = std::filesystem;

namespace iep::dicom {
namespace {

constexpr std::uint32_t kUndefined = 0xFFFFFFFF;
constexpr std::uint32_t kItem = 0xFFFEE000;
constexpr std::uint32_t kItemEnd = 0xFFFEE00D;
constexpr std::uint32_t kSequenceEnd = 0xFFFEE0DD;
constexpr std::uint32_t kTransferSyntax = 0x00020010;

// VRs whose explicit encoding has two reserved bytes and a 32-bit length.
bool long_form(std::array<char, 2> vr) {
  static constexpr const char* kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ",
                                          "SV", "UC", "UN", "UR", "UT", "UV"};
  return std::any_of(std::begin(kLong), std::end(kLong),
                     [&](const char* v) { return vr[0] == v[0] && vr[1] == v[1]; });
}

bool binary_vr(std::array<char, 2> vr) {
  static constexpr const char* kBinary[] = {"OB", "OD", "OF", "OL", "OV", "OW", "UN", "SL",
                                            "SS", "UL", "US", "FL", "FD", "AT", "SV", "UV"};
  return std::any_of(std::begin(kBinary), std::end(kBinary),
                     [&](const char* v) { return vr[0] == v[0] && vr[1] == v[1]; });
}

bool vr_letters(const std::uint8_t* p) {
  return p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'A' && p[1] <= 'Z';
}

std::string tag_name(std::uint32_t tag) {
  char s[16];
  std::snprintf(s, sizeof s, "(%04X,%04X)", tag >> 16, tag & 0xFFFF);
  return s;
}

Syntax syntax_of(std::string_view uid) {
  if (uid == "1.2.840.10008.1.2") return Syntax::implicit_le;
  if (uid == "1.2.840.10008.1.2.2") return Syntax::explicit_be;
  if (uid == "1.2.840.10008.1.2.1.99") return Syntax::deflated;
  return Syntax::explicit_le;
}

const char* uid_of(Syntax s) {
  switch (s) {
    case Syntax::implicit_le: return "1.2.840.10008.1.2";
    case Syntax::explicit_be: return "1.2.840.10008.1.2.2";
    case Syntax::deflated: return "1.2.840.10008.1.2.1.99";
    case Syntax::explicit_le: break;
  }
  return "1.2.840.10008.1.2.1";
}

std::string_view trim_value(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

}  // namespace

// ------------------------------------------------------------- elements

void Element::set(std::string text) {
  if (text.size() % 2) text += is("UI") || binary_vr(vr) ? '\0' : ' ';
  value = std::move(text);
  external = encapsulated = false;
  offset = length = 0;
  items.clear();
}

void Element::clear() {
  set({});
}

Element* Item::find(std::uint32_t tag) {
  auto it = std::lower_bound(elements.begin(), elements.end(), tag,
                             [](const Element& e, std::uint32_t t) { return e.tag < t; });
  return it != elements.end() && it->tag == tag ? &*it : nullptr;
}

const Element* Item::find(std::uint32_t tag) const {
  return const_cast<Item*>(this)->find(tag);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
}

Element& Item::put(std::uint32_t tag) {
  if (Element* e = find(tag)) return *e;
  const std::array<char, 2> vr = dictionary_vr(tag);
  return put(tag, std::string(vr.data(), 2).c_str());
}

Element& Item::put(std::uint32_t tag, const char* vr) {
  auto it = std::lower_bound(elements.begin(), elements.end(), tag,
                             [](const Element& e, std::uint32_t t) { return e.tag < t; });
  if (it != elements.end() && it->tag == tag) return *it;
  Element e;
  e.tag = tag;
  e.vr = {{vr[0], vr[1]}};
  return *elements.insert(it, std::move(e));
}

std::array<char, 2> dictionary_vr(std::uint32_t tag) {
  const DcmDataDictionary& dict = dcmDataDict.rdlock();
  const DcmDictEntry* entry =
      dict.findEntry(DcmTagKey(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag)), nullptr);
  DcmEVR evr = entry != nullptr ? entry->getEVR() : EVR_UN;
  dcmDataDict.rdunlock();
  switch (evr) {  // the ambiguous dictionary VRs, resolved the common way
    case EVR_ox:
    case EVR_px: evr = EVR_OB; break;
    case EVR_xs:
    case EVR_lt: evr = EVR_US; break;
    case EVR_up: evr = EVR_UL; break;
    case EVR_na:
    case EVR_UNKNOWN:
    case EVR_UNKNOWN2B: evr = EVR_UN; break;
    default: break;
  }
  const char* name = DcmVR(evr).getValidVRName();
  if (name == nullptr || std::strlen(name) != 2) return {{'U', 'N'}};
  return {{name[0], name[1]}};
}

// ------------------------------------------------------------- reading

namespace {
// Thrown when parse_head() would need bytes past its head.
struct NotInHead {};
}  // namespace

struct Parser {
  Parser(File& file, const ReadLimits& limits) : f(file), lim(limits) {}
  File& f;
  const ReadLimits& lim;
  std::uint64_t size = 0;  // of the source
  std::uint64_t pos = 0;
  // A window of the source: all of a memory source, or a buffer of the
  // file's (not zero-filled: it is read into as soon as it is made).
  const char* window = nullptr;
  std::unique_ptr<char[]> window_buf;
  std::size_t window_len = 0;
  std::uint64_t window_at = 0;
  std::size_t elements = 0;
  std::uint64_t held = 0;  // bytes of values held in memory

  // Without the preamble and "DICM" the bytes may be anything (nearly any
  // bytes start like a bare data set): say so rather than only name a
  // made-up element.
  [[noreturn]] void fail(const std::string& why) const {
    if (!f.part10) throw Error(Exit::invalid_dicom, f.name_ + ": not a DICOM file (" + why + ")");
    throw Error(Exit::invalid_dicom, f.name_ + ": " + why);
  }

  // Copies n bytes at `at` of the source into dst. What the window holds
  // (nearly every tag, VR, length and short value) is copied inline.
  void fetch(std::uint64_t at, std::size_t n, void* dst) {
    if (at >= window_at && at - window_at < window_len && n <= window_len - (at - window_at)) {
      std::memcpy(dst, window + (at - window_at), n);
      return;
    }
    fetch_outside(at, n, dst);
  }

  [[gnu::noinline]] void fetch_outside(std::uint64_t at, std::size_t n, void* dst) {
    if (at > size || n > size - at)
      fail((in_element == 0 ? std::string("cut short")
                            : "cut inside element " + tag_name(in_element)) +
           ": the file ends at byte " + std::to_string(size) + ", before the " + std::to_string(n) +
           " bytes expected at byte " + std::to_string(at));
    if (f.in_memory_) {
      // A head (parse_head): what lies past it is not read here.
      if (at > f.memory_.size() || n > f.memory_.size() - at) throw NotInHead{};
      window = f.memory_.data(), window_len = f.memory_.size(), window_at = 0;
      std::memcpy(dst, f.memory_.data() + at, n);
      return;
    }
    constexpr std::size_t kWindow = 16 * 1024;
    if (n > kWindow) {
      read_fd(at, n, dst);
      return;
    }
    if (!window_buf) window_buf = std::make_unique_for_overwrite<char[]>(kWindow);
    window_len = 0;  // (until it is read whole)
    const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(kWindow, size - at));
    read_fd(at, len, window_buf.get());
    window = window_buf.get(), window_len = len, window_at = at;
    std::memcpy(dst, window + (at - window_at), n);
  }

  void read_fd(std::uint64_t at, std::size_t n, void* dst) const {
    auto* p = static_cast<char*>(dst);
    while (n > 0) {
      const ssize_t r = ::pread(f.fd_.get(), p, n, static_cast<off_t>(at));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw Error(Exit::input, f.name_ + ": cannot read: " + std::strerror(errno));
      if (r == 0) fail("the file shrank while it was read");
      p += r, n -= static_cast<std::size_t>(r), at += static_cast<std::uint64_t>(r);
    }
  }

  // Whether the rest of the source is NUL bytes (padding some writers leave
  // after the data set). The last non-zero byte a scan found is remembered:
  // without it, a run of all-zero elements ((0000,0000), length 0) before a
  // non-zero tail would rescan the tail for every element, quadratic time.
  std::uint64_t nonzero_at = 0;
  bool nonzero_known = false;
  std::uint32_t in_element = 0;  // the tag whose header or value is being read
  bool zeros_to_end() {
    if (pos >= size || (nonzero_known && nonzero_at >= pos)) return false;
    std::uint8_t b[4096];
    const std::size_t first = static_cast<std::size_t>(std::min<std::uint64_t>(size - pos, 4));
    fetch(pos, first, b);  // most elements start with a non-zero group: decided here
    if (std::any_of(b, b + first, [](std::uint8_t c) { return c != 0; })) return false;
    for (std::uint64_t at = pos + first; at < size;) {
      const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(size - at, sizeof b));
      fetch(at, k, b);
      const std::uint8_t* nz = std::find_if(b, b + k, [](std::uint8_t c) { return c != 0; });
      if (nz != b + k) {
        nonzero_at = at + static_cast<std::uint64_t>(nz - b);
        nonzero_known = true;
        return false;
      }
      at += k;
    }
    return true;
  }

  void take(std::size_t n, void* dst) {
    fetch(pos, n, dst);
    pos += n;
  }
  std::uint16_t u16(bool be) {
    std::uint8_t b[2];
    take(2, b);
    return be ? static_cast<std::uint16_t>(b[0] << 8 | b[1])
              : static_cast<std::uint16_t>(b[1] << 8 | b[0]);
  }
  std::uint32_t u32(bool be) {
    std::uint8_t b[4];
    take(4, b);
    return be ? std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 |
                    b[3]
              : std::uint32_t{b[3]} << 24 | std::uint32_t{b[2]} << 16 | std::uint32_t{b[1]} << 8 |
                    b[0];
  }
  std::uint32_t tag(bool be) {
    const std::uint32_t g = u16(be);
    return g << 16 | u16(be);
  }

  // Parses elements into `item` until `end` (defined length), or an Item
  // Delimitation (undefined length item), or the end of the source (top
  // level, end == size, undefined false).
  void dataset(Item& item, bool undefined, std::uint64_t end, Syntax syn, int depth,
               bool meta_only = false) {
    elements_of(item, undefined, end, syn, depth, meta_only);
    const auto not_before = [](const Element& a, const Element& b) { return a.tag >= b.tag; };
    if (std::adjacent_find(item.elements.begin(), item.elements.end(), not_before) !=
        item.elements.end())
      order(item);
  }

  void elements_of(Item& item, bool undefined, std::uint64_t end, Syntax syn, int depth,
                   bool meta_only) {
    const bool be = syn == Syntax::explicit_be;
    for (;;) {
      if (!undefined && pos == end) return;
      if (!undefined && pos > end) fail("an element overruns its item");
      if (depth == 0 && !meta_only && zeros_to_end()) return;  // trailing padding
      in_element = 0;
      if (meta_only) {  // stop at the first element past group 0002
        std::uint8_t b[2];
        if (pos + 2 > size) return;
        fetch(pos, 2, b);
        if ((b[1] << 8 | b[0]) != 0x0002) return;
      }
      const std::uint64_t start = pos;
      const std::uint32_t t = tag(be);
      in_element = t;
      if (t == kItemEnd) {
        u32(be);
        if (!undefined)
          fail("an item delimiter in a defined-length item at byte " + std::to_string(start));
        return;
      }
      if ((t >> 16) == 0xFFFE)
        fail("unexpected " + tag_name(t) + " at byte " + std::to_string(start));
      if (++elements > lim.max_elements)
        fail("more than " + std::to_string(lim.max_elements) + " elements");
      item.elements.push_back(element(t, syn, depth, start));
    }
  }

  // Elements out of order: sorted, as DCMTK does; the same tag twice is an error.
  void order(Item& item) const {
    std::stable_sort(item.elements.begin(), item.elements.end(),
                     [](const Element& a, const Element& b) { return a.tag < b.tag; });
    for (std::size_t i = 1; i < item.elements.size(); ++i)
      if (item.elements[i - 1].tag == item.elements[i].tag)
        fail(tag_name(item.elements[i].tag) + " appears twice in one item");
  }

  Element element(std::uint32_t t, Syntax syn, int depth, std::uint64_t start) {
    const bool be = syn == Syntax::explicit_be;
    Element e;
    e.tag = t;
    std::uint32_t len = 0;
    bool implicit = syn == Syntax::implicit_le;
    if (!implicit) {
      std::uint8_t v[2];
      fetch(pos, 2, v);
      if (!vr_letters(v)) {
        // Meta headers of some old writers are implicit VR; nothing else is.
        if ((t >> 16) != 0x0002)
          fail("no VR for " + tag_name(t) + " at byte " + std::to_string(start) +
               " in an explicit VR data set");
        implicit = true;
      }
    }
    if (implicit) {
      e.vr = dictionary_vr(t);
      len = u32(be);
    } else {
      take(2, e.vr.data());
      if (long_form(e.vr)) {
        pos += 2;
        len = u32(be);
      } else {
        len = u16(be);
      }
    }
    if (len == kUndefined) {
      if (e.is_sequence() || e.is("UN") || (implicit && !e.is("OB") && !e.is("OW"))) {
        // Undefined-length UN is a sequence in Implicit VR Little Endian (Part 5 §6.2.2).
        const Syntax inner = e.is_sequence() && !implicit ? syn : Syntax::implicit_le;
        // Its little endian values would be written back unswapped under a
        // big endian SQ header: garbage. Rare enough (a retired syntax) to refuse.
        if (inner == Syntax::implicit_le && syn == Syntax::explicit_be)
          fail("the undefined-length " + tag_name(t) + " in a big endian data set");
        e.vr = {{'S', 'Q'}};
        items(e, true, 0, inner, depth);
        return e;
      }
      if (e.is("OB") || e.is("OW")) return encapsulated(std::move(e));
      fail(tag_name(t) + " has an undefined length but is not a sequence");
    }
    if (len > size - std::min(size, pos))
      fail("cut inside element " + tag_name(t) + ": its value of " + std::to_string(len) +
           " bytes at byte " + std::to_string(pos) + " runs past the end of the file at byte " +
           std::to_string(size));
    if (e.is_sequence()) {
      items(e, false, pos + len, implicit ? Syntax::implicit_le : syn, depth);
      return e;
    }
    // A sequence written as UN with a defined length (a writer that did not
    // know the tag): its items are Implicit VR Little Endian (Part 5
    // §6.2.2). Read as the sequence it is, so that what it holds is seen
    // (and de-identified); if it does not parse as one, its bytes are kept.
    if (e.is("UN") && len > 0 && syn != Syntax::explicit_be) {
      const std::array<char, 2> known = dictionary_vr(t);
      if (known[0] == 'S' && known[1] == 'Q') {
        const std::uint64_t at = pos;
        const std::size_t counted = elements;
        const std::uint64_t held_before = held;
        try {
          Element seq = e;
          seq.vr = {{'S', 'Q'}};
          items(seq, false, pos + len, Syntax::implicit_le, depth);
          return seq;
        } catch (const Error& err) {
          if (err.code() != Exit::invalid_dicom) throw;
          pos = at, elements = counted, held = held_before;
        }
      }
    }
    if (len <= lim.inline_value && (len <= 64 || held + len <= lim.max_held)) {
      e.value.resize(len);
      take(len, e.value.data());
      held += len;
      return e;
    }
    e.external = true;
    e.offset = pos;
    e.length = len;
    pos += len;
    return e;
  }

  void items(Element& seq, bool undefined, std::uint64_t end, Syntax syn, int depth) {
    if (depth >= lim.max_depth)
      fail("sequences nested over " + std::to_string(lim.max_depth) + " deep");
    const bool be = syn == Syntax::explicit_be;
    for (;;) {
      if (!undefined && pos == end) return;
      if (!undefined && pos > end) fail("an item overruns " + tag_name(seq.tag));
      in_element = seq.tag;
      const std::uint64_t start = pos;
      const std::uint32_t t = tag(be);
      const std::uint32_t len = u32(be);
      if (t == kSequenceEnd) {
        if (!undefined) fail("a sequence delimiter in the defined-length " + tag_name(seq.tag));
        return;
      }
      if (t != kItem)
        fail("expected an item in " + tag_name(seq.tag) + " at byte " + std::to_string(start) +
             ", found " + tag_name(t));
      if (++elements > lim.max_elements)
        fail("more than " + std::to_string(lim.max_elements) + " elements");
      Item& item = seq.items.emplace_back();
      if (len == kUndefined) {
        dataset(item, true, 0, syn, depth + 1);
      } else {
        if (len > size - pos) fail("an item of " + tag_name(seq.tag) + " past the end of the file");
        dataset(item, false, pos + len, syn, depth + 1);
      }
    }
  }

  // Encapsulated pixel data: fragment items up to the sequence delimiter,
  // kept as one range of the source (always little endian, Part 5 A.4).
  Element encapsulated(Element e) {
    const std::uint64_t start = pos;
    for (;;) {
      const std::uint32_t t = tag(false);
      const std::uint32_t len = u32(false);
      if (t == kSequenceEnd) break;
      if (t != kItem || len == kUndefined)
        fail("a broken fragment in the encapsulated " + tag_name(e.tag));
      if (len > size - pos)
        fail("cut inside element " + tag_name(e.tag) + ": a fragment of " + std::to_string(len) +
             " bytes runs past the end of the file at byte " + std::to_string(size));
      if (++elements > lim.max_elements)
        fail("more than " + std::to_string(lim.max_elements) + " elements");
      ++e.fragments;
      pos += len;
    }
    e.encapsulated = e.external = true;
    e.offset = start;
    e.length = pos - start;
    return e;
  }

  void file() {
    std::uint8_t head[132];
    if (size >= 132) {
      fetch(0, 132, head);
      f.part10 = std::memcmp(head + 128, "DICM", 4) == 0;
    }
    pos = f.part10 ? 132 : 0;
    dataset(f.meta, false, size, Syntax::explicit_le, 0, /*meta_only=*/true);
    if (!f.meta.elements.empty()) {
      const Element* ts = f.meta.find(kTransferSyntax);
      f.transfer_syntax_uid =
          ts != nullptr && !ts->external ? std::string(trim_value(ts->value)) : "";
      if (f.transfer_syntax_uid.empty())
        guess();  // a meta header without one: as if there were none
      else
        f.syntax = syntax_of(f.transfer_syntax_uid);
    } else {
      if (f.part10) fail("no meta header after the DICM prefix");
      guess();
    }
    in_element = 0;
    if (f.syntax == Syntax::deflated) inflate_rest();
    dataset(f.data, false, size, f.syntax, 0);
    if (f.data.elements.empty()) fail("an empty data set");
  }

  // A bare data set: Explicit VR if VR letters follow the first tag; big
  // endian if its group only makes sense read that way.
  void guess() {
    std::uint8_t b[6];
    if (pos + 8 > size) fail("too short");
    fetch(pos, 6, b);
    const unsigned group_le = b[0] | b[1] << 8, group_be = b[0] << 8 | b[1];
    f.syntax = !vr_letters(b + 4)                        ? Syntax::implicit_le
               : group_le >= 0x0100 && group_be < 0x0100 ? Syntax::explicit_be
                                                         : Syntax::explicit_le;
    f.transfer_syntax_uid = uid_of(f.syntax);
  }

  // Deflated data set: inflate the rest, bounded, and parse that. A file
  // source is inflated into an unnamed temporary file, read like any source
  // (so memory stays bounded whatever the data set holds); a source already
  // in memory (File::parse) into memory.
  void inflate_rest() {
    // Meta values left in the source would be read from the inflated data
    // instead once the source is swapped below.
    if (has_external(f.meta)) fail("a meta header value over the inline limit");
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw Error(Exit::internal, "zlib: cannot start");
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
    const bool to_memory = f.in_memory_;
    UniqueFd spool;
    if (!to_memory) spool = temporary_file();
    std::string packed(1 << 20, '\0');
    std::uint64_t packed_at = pos;
    std::string out, chunk(to_memory ? 0 : 1 << 20, '\0');
    std::uint64_t total = 0;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
      if (zs.avail_in == 0 && packed_at < size) {
        const auto k =
            static_cast<std::size_t>(std::min<std::uint64_t>(size - packed_at, packed.size()));
        fetch(packed_at, k, packed.data());
        packed_at += k;
        zs.next_in = reinterpret_cast<Bytef*>(packed.data());
        zs.avail_in = static_cast<uInt>(k);
      }
      if (total >= lim.max_inflated)
        fail("the deflated data set inflates to over " + std::to_string(lim.max_inflated >> 20) +
             " MiB");
      char* dst = chunk.data();
      if (to_memory) {
        out.resize(out.size() + (1 << 20));
        dst = out.data() + total;
      }
      zs.next_out = reinterpret_cast<Bytef*>(dst);
      zs.avail_out = 1 << 20;
      rc = ::inflate(&zs, Z_NO_FLUSH);
      const std::size_t got = (1 << 20) - zs.avail_out;
      if (to_memory)
        out.resize(static_cast<std::size_t>(total) + got);
      else
        write_at(spool.get(), total, dst, got);
      total += got;
      if (rc == Z_BUF_ERROR && zs.avail_in == 0 && packed_at == size)
        fail("the deflated data set is truncated");
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
        fail("the deflated data set is corrupt");
    }
    if (to_memory) {
      f.memory_ = std::move(out);
    } else {
      f.fd_ = std::move(spool);
    }
    pos = 0;
    size = total;
    window_len = 0;
    window_at = 0;
    nonzero_known = false;
  }

  // An unnamed file in $TMPDIR (or /tmp), gone when closed.
  UniqueFd temporary_file() const { return unnamed_temp_file("inflating " + f.name_); }

  void write_at(int fd, std::uint64_t at, const char* p, std::size_t n) const {
    while (n > 0) {
      const ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(at));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0)
        throw Error(Exit::output,
                    f.name_ + ": cannot spool the inflated data set: " + std::strerror(errno));
      p += w, n -= static_cast<std::size_t>(w), at += static_cast<std::uint64_t>(w);
    }
  }

  static bool has_external(const Item& item) {
    return std::any_of(item.elements.begin(), item.elements.end(), [](const Element& e) {
      return e.external || std::any_of(e.items.begin(), e.items.end(), has_external);
    });
  }
};

File::~File() = default;

File File::read(const fs::path& path, const ReadLimits& limits) {
  // Non-blocking: opening a FIFO must not wait for a writer (it is refused below).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw Error(Exit::input, path.string() + ": cannot open: " + std::strerror(errno));
  return read(UniqueFd(fd), path.string(), limits);
}

File File::read(UniqueFd fd, std::string name, const ReadLimits& limits) {
  File f;
  f.name_ = std::move(name);
  f.fd_ = std::move(fd);
  struct stat st {};
  if (::fstat(f.fd_.get(), &st) != 0 || !S_ISREG(st.st_mode))
    throw Error(Exit::input, f.name_ + ": not a regular file");
  Parser p(f, limits);
  p.size = f.size = static_cast<std::uint64_t>(st.st_size);
  p.file();
  return f;
}

File File::parse(std::string bytes, const std::string& name, const ReadLimits& limits) {
  File f;
  f.name_ = name;
  f.memory_ = std::move(bytes);
  f.in_memory_ = true;
  Parser p(f, limits);
  p.size = f.size = f.memory_.size();
  p.file();
  return f;
}

std::optional<File> File::parse_head(std::string head, std::uint64_t size, const std::string& name,
                                     const ReadLimits& limits) {
  if (head.size() > size)
    throw Error(Exit::internal, name + ": a head longer than the file it begins");
  File f;
  f.name_ = name;
  f.memory_ = std::move(head);
  f.in_memory_ = true;
  Parser p(f, limits);
  p.size = f.size = size;
  try {
    p.file();
  } catch (const NotInHead&) {
    return std::nullopt;
  }
  // Every byte past the head was skipped as part of some long value: it
  // must be the last element's, at the top level, not encapsulated.
  f.tail_ = size - f.memory_.size();
  if (f.syntax == Syntax::deflated || !f.tail_intact()) return std::nullopt;
  return f;
}

bool File::tail_intact() const {
  if (tail_ == 0) return true;
  if (data.elements.empty()) return false;
  const Element& e = data.elements.back();
  return e.external && !e.encapsulated && e.offset <= memory_.size() && e.length <= size &&
         e.offset == size - e.length && e.group() != 0x0002 && e.element() != 0x0000;
}

std::string File::bytes(const Element& e, std::size_t max) const {
  if (!e.external) {
    if (e.value.size() > max)
      throw Error(Exit::invalid_dicom, name_ + ": " + tag_name(e.tag) + " is too long (" +
                                           std::to_string(e.value.size()) + " bytes)");
    return e.value;
  }
  if (e.length > max)
    throw Error(Exit::invalid_dicom, name_ + ": " + tag_name(e.tag) + " is too long (" +
                                         std::to_string(e.length) + " bytes)");
  if (in_memory_) {
    // The range comes from parsing this very buffer: outside it is our bug.
    if (e.offset > memory_.size() || e.length > memory_.size() - e.offset)
      throw Error(Exit::internal, name_ + ": " + tag_name(e.tag) + " lies outside the data set");
    return memory_.substr(static_cast<std::size_t>(e.offset), static_cast<std::size_t>(e.length));
  }
  std::string out(static_cast<std::size_t>(e.length), '\0');
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t r = ::pread(fd_.get(), out.data() + done, out.size() - done,
                              static_cast<off_t>(e.offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0)
      throw Error(Exit::input, name_ + ": cannot read: " +
                                   (r == 0 ? std::string("file shrank") : std::strerror(errno)));
    done += static_cast<std::size_t>(r);
  }
  return out;
}

std::string File::text(std::uint32_t tag) const {
  const Element* e = data.find(tag);
  if (e == nullptr || e->external || e->is_sequence() || e->value.size() > 1024) return {};
  return std::string(trim_value(e->value));
}

bool File::is_dicomdir() const {
  const Element* media = meta.find(0x00020002);
  return data.find(0x00041220) != nullptr ||
         (media != nullptr && trim_value(media->value) == "1.2.840.10008.1.3.10");
}

// ------------------------------------------------------------- writing

namespace {

// Buffers small writes; external values go straight from the source.
class Writer {
 public:
  Writer(int fd, std::string name, std::string* memory)
      : fd_(fd), name_(std::move(name)), memory_(memory) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer() {
    if (deflating_) deflateEnd(&zs_);
  }

  // From here on, what is put is deflated (raw, PS3.5 A.5) on its way out,
  // in chunks: the data set is never held whole. finish() ends the stream.
  void start_deflate() {
    flush();
    if (deflateInit2(&zs_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
      throw Error(Exit::internal, "zlib: cannot start");
    deflating_ = true;
  }
  void finish() {
    if (!deflating_) return flush();
    deflate_out(Z_FINISH);
    deflateEnd(&zs_);
    deflating_ = false;
    if (packed_ % 2) write_all("", 1);  // even length: one NUL byte of padding
  }

  void put(const void* p, std::size_t n) {
    std::string& b = memory_ != nullptr ? *memory_ : buf_;
    b.append(static_cast<const char*>(p), n);
    if (memory_ == nullptr && buf_.size() >= (1 << 20)) flush();
  }
  void u16(std::uint16_t v, bool be) {
    const std::uint8_t b[2] = {static_cast<std::uint8_t>(be ? v >> 8 : v),
                               static_cast<std::uint8_t>(be ? v : v >> 8)};
    put(b, 2);
  }
  void u32(std::uint32_t v, bool be) {
    u16(static_cast<std::uint16_t>(be ? v >> 16 : v), be);
    u16(static_cast<std::uint16_t>(be ? v : v >> 16), be);
  }
  void tag(std::uint32_t t, bool be) {
    u16(static_cast<std::uint16_t>(t >> 16), be);
    u16(static_cast<std::uint16_t>(t), be);
  }

  void flush() {
    if (deflating_)
      deflate_out(Z_NO_FLUSH);
    else
      write_all(buf_.data(), buf_.size());
    buf_.clear();
  }

  // Bytes [offset, offset + n) of a file descriptor, copied in the kernel
  // where it can.
  void copy_from(int in, std::uint64_t offset, std::uint64_t n) {
    if (memory_ != nullptr) {
      const std::size_t at = memory_->size();
      memory_->resize(at + static_cast<std::size_t>(n));
      read_at(in, offset, memory_->data() + at, static_cast<std::size_t>(n));
      return;
    }
    flush();
    if (deflating_) {  // through the compressor, a chunk at a time
      std::string chunk;
      while (n > 0) {
        chunk.resize(static_cast<std::size_t>(std::min<std::uint64_t>(n, 1 << 20)));
        read_at(in, offset, chunk.data(), chunk.size());
        put(chunk.data(), chunk.size());
        flush();
        offset += chunk.size();
        n -= chunk.size();
      }
      return;
    }
    auto off = static_cast<loff_t>(offset);
    while (n > 0) {
      const ssize_t r = ::copy_file_range(in, &off, fd_, nullptr, n, 0);
      if (r > 0) {
        n -= static_cast<std::uint64_t>(r);
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) throw Error(Exit::input, name_ + ": the source shrank while it was copied");
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) fail();
      // Between file systems (the input on a disk, the output on tmpfs):
      // sendfile still copies in the kernel, without a round trip through
      // a buffer that malloc maps, zero-fills and unmaps for every file.
      while (n > 0) {
        const ssize_t s = ::sendfile(fd_, in, &off,
                                     static_cast<std::size_t>(std::min<std::uint64_t>(n, 1 << 30)));
        if (s > 0) {
          n -= static_cast<std::uint64_t>(s);
          continue;
        }
        if (s < 0 && errno == EINTR) continue;
        if (s == 0) throw Error(Exit::input, name_ + ": the source shrank while it was copied");
        if (errno != EINVAL && errno != ENOSYS) fail();
        break;
      }
      // No kernel copy between these files: through a buffer.
      std::string chunk;
      while (n > 0) {
        chunk.resize(static_cast<std::size_t>(std::min<std::uint64_t>(n, 1 << 20)));
        read_at(in, static_cast<std::uint64_t>(off), chunk.data(), chunk.size());
        write_all(chunk.data(), chunk.size());
        off += static_cast<loff_t>(chunk.size());
        n -= chunk.size();
      }
    }
  }

 private:
  void read_at(int in, std::uint64_t offset, char* p, std::size_t n) const {
    while (n > 0) {
      const ssize_t r = ::pread(in, p, n, static_cast<off_t>(offset));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) throw Error(Exit::input, name_ + ": the source could not be read back");
      p += r, n -= static_cast<std::size_t>(r), offset += static_cast<std::uint64_t>(r);
    }
  }
  void write_all(const char* p, std::size_t n) {
    while (n > 0) {
      const ssize_t r = ::write(fd_, p, n);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) fail();
      p += r, n -= static_cast<std::size_t>(r);
    }
  }
  [[noreturn]] void fail() const {
    throw Error(Exit::output, name_ + ": cannot write: " + std::strerror(errno));
  }
  // Compresses buf_ (all of it) and writes what comes out.
  void deflate_out(int mode) {
    // buf_ is at most a few MiB (flushed at 1 MiB): fits zlib's 32-bit counts.
    zs_.next_in = reinterpret_cast<Bytef*>(buf_.data());
    zs_.avail_in = static_cast<uInt>(buf_.size());
    char out[1 << 16];
    for (;;) {
      zs_.next_out = reinterpret_cast<Bytef*>(out);
      zs_.avail_out = sizeof out;
      const int rc = ::deflate(&zs_, mode);
      if (rc == Z_STREAM_ERROR) throw Error(Exit::internal, "zlib: cannot deflate");
      const std::size_t got = sizeof out - zs_.avail_out;
      write_all(out, got);
      packed_ += got;
      if (mode == Z_FINISH ? rc == Z_STREAM_END : zs_.avail_in == 0 && zs_.avail_out != 0) break;
    }
  }

  int fd_;
  std::string name_;
  std::string* memory_;
  std::string buf_;
  z_stream zs_{};
  bool deflating_ = false;
  std::uint64_t packed_ = 0;  // compressed bytes written
};

}  // namespace

struct Emitter {
  const File& f;
  Writer& w;
  int source_fd;
  bool be = false, implicit = false;

  void header(const Element& e, std::uint32_t len) {
    w.tag(e.tag, be);
    if (implicit) {
      w.u32(len, be);
      return;
    }
    w.put(e.vr.data(), 2);
    if (long_form(e.vr)) {
      w.u16(0, be);
      w.u32(len, be);
    } else {
      if (len > 0xFFFF)
        throw Error(Exit::invalid_dicom, f.name() + ": " + tag_name(e.tag) +
                                             " is too long for VR " + std::string(e.vr.data(), 2));
      w.u16(static_cast<std::uint16_t>(len), be);
    }
  }

  // Group lengths (gggg,0000) are left out: retired outside group 0002, and
  // stale once sequences are rewritten with undefined lengths.
  void items(const Item& item) {
    for (const Element& e : item.elements)
      if (e.element() != 0x0000) element(e);
  }
  // The data set, also without group 0002 elements a sender left in it:
  // sorted to its front, they would read as part of the new meta header.
  void data_set(const Item& data) {
    for (const Element& e : data.elements)
      if (e.group() != 0x0002 && e.element() != 0x0000) element(e);
  }

  void element(const Element& e) {
    if (e.is_sequence()) {
      header(e, kUndefined);
      for (const Item& it : e.items) {
        w.tag(kItem, be);
        w.u32(kUndefined, be);
        items(it);
        w.tag(kItemEnd, be);
        w.u32(0, be);
      }
      w.tag(kSequenceEnd, be);
      w.u32(0, be);
      return;
    }
    if (e.external) {
      header(e, e.encapsulated ? kUndefined : static_cast<std::uint32_t>(e.length));
      if (source_fd >= 0) {
        w.copy_from(source_fd, e.offset, e.length);
      } else if (f.in_memory_ && e.offset <= f.memory_.size() &&
                 e.length <= f.memory_.size() - e.offset) {
        // Straight from the source in memory, not through a copy.
        w.put(f.memory_.data() + e.offset, static_cast<std::size_t>(e.length));
      } else if (f.tail_ != 0 && &e == &f.data.elements.back()) {
        // A head's last value (parse_head; write() checked tail_intact()):
        // its bytes in the head; the caller appends the rest.
        w.put(f.memory_.data() + e.offset, f.memory_.size() - static_cast<std::size_t>(e.offset));
      } else {
        const std::string v = f.bytes(e, static_cast<std::size_t>(e.length));
        w.put(v.data(), v.size());
      }
      return;
    }
    header(e, static_cast<std::uint32_t>(e.value.size()));
    w.put(e.value.data(), e.value.size());
  }
};

void File::write(int out_fd, const std::string& out_name) const {
  if (tail_ != 0) throw Error(Exit::internal, name_ + ": a file's head is written to memory only");
  write_to(out_fd, out_name, nullptr);
}

void File::write(std::string& out) const {
  if (syntax == Syntax::deflated)
    throw Error(Exit::internal, name_ + ": a deflated data set is written to a file only");
  if (!tail_intact())
    throw Error(Exit::internal, name_ + ": the value its head ends in is no longer its last");
  write_to(-1, name_, &out);
}

void File::write_to(int out_fd, const std::string& out_name, std::string* memory) const {
  Writer w(out_fd, out_name, memory);
  const std::string ts = transfer_syntax_uid.empty() ? uid_of(syntax) : transfer_syntax_uid;
  Item m;
  auto meta_put = [&](std::uint32_t tag, const char* vr, std::string v) {
    m.put(tag, vr).set(std::move(v));
  };
  meta_put(0x00020001, "OB", std::string("\0\1", 2));
  meta_put(0x00020002, "UI", text(0x00080016));
  meta_put(0x00020003, "UI", text(0x00080018));
  meta_put(0x00020010, "UI", ts);
  meta_put(0x00020012, "UI", kImplementationClassUid);
  meta_put(0x00020013, "SH", kImplementationVersion);
  std::uint32_t group_length = 0;
  for (const Element& e : m.elements)
    group_length += static_cast<std::uint32_t>((long_form(e.vr) ? 12 : 8) + e.value.size());

  const std::string preamble(128, '\0');
  w.put(preamble.data(), preamble.size());
  w.put("DICM", 4);
  Emitter meta_out{*this, w, -1};
  Element gl;
  gl.tag = 0x00020000;
  gl.vr = {{'U', 'L'}};
  gl.value.resize(4);
  for (int i = 0; i < 4; ++i)
    gl.value[static_cast<std::size_t>(i)] = static_cast<char>(group_length >> (8 * i));
  meta_out.element(gl);
  meta_out.items(m);

  const int source = in_memory_ ? -1 : fd_.get();
  if (syntax == Syntax::deflated) {
    w.start_deflate();
    Emitter{*this, w, source, false, false}.data_set(data);
  } else {
    Emitter out{*this, w, source, syntax == Syntax::explicit_be, syntax == Syntax::implicit_le};
    out.data_set(data);
  }
  w.finish();
}

std::optional<MetaHeader> meta_header(ByteSpan file) {
  if (file.size() < 132 || std::memcmp(file.data() + 128, "DICM", 4) != 0) return std::nullopt;
  const auto u16 = [&](std::size_t at) { return file[at] | file[at + 1] << 8; };
  MetaHeader m;
  std::size_t pos = 132;
  while (file.size() - pos >= 8 && u16(pos) == 0x0002) {
    const std::uint32_t tag = 0x00020000u | u16(pos + 2);
    const std::array<char, 2> vr{
        {static_cast<char>(file[pos + 4]), static_cast<char>(file[pos + 5])}};
    if (!vr_letters(file.data() + pos + 4)) return std::nullopt;
    std::uint64_t len = u16(pos + 6), head = 8;
    if (long_form(vr)) {
      if (file.size() - pos < 12) return std::nullopt;
      len = static_cast<std::uint64_t>(u16(pos + 8)) | static_cast<std::uint64_t>(u16(pos + 10))
                                                           << 16;
      head = 12;
    }
    if (len == kUndefined || len > file.size() - pos - head) return std::nullopt;
    if (tag == kTransferSyntax)
      m.transfer_syntax_uid = trim_value(
          std::string_view(reinterpret_cast<const char*>(file.data() + pos + head), len));
    pos += head + len;
  }
  if (m.transfer_syntax_uid.empty() || pos >= file.size()) return std::nullopt;
  m.data_offset = pos;
  return m;
}

}  // namespace iep::dicom
