// Residual patient data in de-identified DICOM files: structure checked
// against PS3.15 Table E.1-1 with DCMTK, raw bytes searched for the original
// file's identifying values with one streaming Aho-Corasick pass.
#include "iep/anon/phi.h"

#include <dcmtk/config/osconfig.h>  // must come first among DCMTK headers
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>

#include "anon/anon_rules.h"
#include "anon/anon_table.h"
#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/dicom/dicom.h"

namespace fs = std::filesystem;
using namespace std::string_view_literals;

namespace iep::phi {
namespace {

using anon::Profile;
using anon::Row;

// Values longer than this are not read into memory by the structural walk:
// no text attribute is legitimately this long (the raw byte search still
// covers them).
constexpr Uint32 kMaxValue = 64 * 1024;           // one attribute value
constexpr std::size_t kMaxNeedleBytes = 4 << 20;  // all needles of a batch
constexpr std::size_t kMaxNeedle = 1024;
// Bound on the search automaton: states x byte classes (4 bytes each).
constexpr std::size_t kMaxAutomaton = 4u << 20;
constexpr std::size_t kChunk = 64 * 1024;
constexpr int kMaxDepth = 64;
constexpr int kMaxHitsPerNeedle = 8;

// DCMTK logs parse problems itself; we report errors once, ourselves.
void quiet_dcmtk() {
  static std::once_flag once;
  std::call_once(once, [] { OFLog::configure(OFLogger::OFF_LOG_LEVEL); });
}

// Validates `file` the way every iep command does (bounded inflation of
// deflated data sets, truncation checks), then loads its structure leaving
// large values on disk.
void load(DcmFileFormat& ff, const fs::path& file) {
  (void)dicom::scan(file);
  quiet_dcmtk();
  const OFCondition cond = ff.loadFile(OFFilename(file.c_str()), EXS_Unknown, EGL_noChange,
                                       DCM_MaxReadLength, ERM_autoDetect);
  if (cond.bad())
    throw Error(Exit::invalid_dicom, file.string() + ": not a DICOM file (" + cond.text() + ")");
}

std::string tag_text(std::uint16_t g, std::uint16_t e) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "(%04X,%04X)", g, e);
  return buf;
}

// A value for a one-line message: non-printable bytes (ISO 2022 escapes,
// line breaks) as \xNN, long ones cut.
std::string printable(std::string_view v) {
  std::string out;
  for (unsigned char c : v.substr(0, 80)) {
    if (c >= 0x20 && c != 0x7F) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  if (v.size() > 80) out += "...";
  return out;
}

std::string trim(std::string_view s, std::string_view chars = " \0"sv) {
  const std::size_t b = s.find_first_not_of(chars);
  if (b == std::string_view::npos) return {};
  const std::size_t e = s.find_last_not_of(chars);
  return std::string(s.substr(b, e - b + 1));
}

bool is_digit(std::uint8_t c) {
  return c >= '0' && c <= '9';
}

// Dates, times and numeric IDs: they only count as found where they are not
// part of a longer number.
bool numeric(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789.+-") == std::string_view::npos;
}

// ---------------------------------------------------------------------------
// Table E.1-1 and the profile's columns.

// What the profile does to a row (anon_rules.h), and whether the original
// value may legitimately remain: an enabled option keeps it (K) or cleans
// it (C), which may keep it, except that C of the modified-dates option
// shifts it.
struct Action {
  std::string_view effective;
  bool keeps = false;
};

Action action(const Row& r, const Profile& p) {
  const auto on = anon::enabled_columns(p);
  Action a{anon::effective_action(r, on)};
  for (int c = anon::kBasic + 1; c < anon::kColumns; ++c) {
    const std::string_view v = r.action[c];
    if (on[c] && (v == "K" || (v == "C" && c != anon::kRetainLongModified))) a.keeps = true;
  }
  return a;
}

// The whole value of a text element (values joined by '\'), as stored; a UN
// element's raw bytes. False for binary VRs and values over kMaxValue.
bool text_value(DcmElement& el, std::string& out) {
  out.clear();
  if (el.getLength() > kMaxValue) return false;
  if (el.ident() == EVR_UN) {
    Uint8* bytes = nullptr;
    if (el.getUint8Array(bytes).bad() || bytes == nullptr) return el.getLength() == 0;
    out.assign(reinterpret_cast<const char*>(bytes), el.getLength());
    return true;
  }
  if (!el.isaString()) return false;
  OFString v;
  if (el.getOFStringArray(v, OFFalse).bad()) return false;
  out.assign(v.c_str(), v.length());
  return true;
}

// The VR an element has by the dictionary when the file gave none (UN).
DcmEVR vr_of(DcmElement& el) {
  DcmEVR vr = el.ident();
  if (vr == EVR_UN) {
    const DcmTag dict(el.getTag().getXTag());
    if (dict.getEVR() != EVR_UNKNOWN) vr = dict.getEVR();
  }
  return vr;
}

std::string creator_of(DcmItem& item, std::uint16_t g, std::uint16_t e) {
  OFString v;
  if (item.findAndGetOFString(DcmTagKey(g, static_cast<Uint16>(e >> 8)), v).bad()) return {};
  return trim(std::string_view(v.c_str(), v.length()));
}

}  // namespace

// ---------------------------------------------------------------------------
// Multi-pattern search: Aho-Corasick compiled to a dense automaton over byte
// classes (only the bytes the needles use get their own column), so a
// stream costs one table lookup per byte.

namespace detail {

class Matcher {
 public:
  explicit Matcher(const std::vector<std::string>& patterns) : patterns_(patterns) {
    cls_.fill(0);
    ncls_ = 1;  // class 0: every byte no pattern uses
    for (const auto& p : patterns_)
      for (unsigned char c : p)
        if (cls_[c] == 0) cls_[c] = static_cast<std::uint16_t>(ncls_++);
    add_state();
    for (std::size_t i = 0; i < patterns_.size(); ++i) {
      const std::string& p = patterns_[i];
      if (p.empty()) continue;
      maxlen_ = std::max(maxlen_, p.size());
      std::uint32_t s = 0;
      for (unsigned char c : p) {
        const std::size_t at = std::size_t{s} * ncls_ + cls_[c];
        if (delta_[at] == kNone) {
          const std::uint32_t fresh = add_state();  // grows delta_: index again
          delta_[at] = fresh;
        }
        s = delta_[at];
      }
      out_[s] = static_cast<std::int32_t>(i);
    }
    // Breadth first: failure links, missing transitions and output links.
    std::vector<std::uint32_t> fail(out_.size(), 0);
    std::deque<std::uint32_t> queue;
    for (std::size_t c = 0; c < ncls_; ++c) {
      std::uint32_t& t = delta_[c];
      if (t == kNone) {
        t = 0;
      } else {
        fail[t] = 0;
        queue.push_back(t);
      }
    }
    while (!queue.empty()) {
      const std::uint32_t s = queue.front();
      queue.pop_front();
      const std::uint32_t f = fail[s];
      dict_[s] = out_[f] >= 0 ? f : dict_[f];
      for (std::size_t c = 0; c < ncls_; ++c) {
        std::uint32_t& t = delta_[std::size_t{s} * ncls_ + c];
        const std::uint32_t via_fail = delta_[std::size_t{f} * ncls_ + c];
        if (t == kNone) {
          t = via_fail;
        } else {
          fail[t] = via_fail;
          queue.push_back(t);
        }
      }
    }
    numeric_.reserve(patterns_.size());
    for (const auto& p : patterns_) numeric_.push_back(numeric(p));
    ring_size_ = 1;
    while (ring_size_ < maxlen_ + 1) ring_size_ <<= 1;
  }

  [[nodiscard]] const std::string& pattern(std::size_t i) const { return patterns_[i]; }

  // One stream through the automaton; reports (pattern, start offset) of
  // every match, a needle split across feed() calls included.
  class Run {
   public:
    explicit Run(const Matcher& m) : m_(m), ring_(m.ring_size_) {}

    template <class F>
    void feed(ByteSpan data, F&& on_match) {
      const std::size_t mask = ring_.size() - 1;
      for (const std::uint8_t c : data) {
        // A numeric match that ended on the previous byte: it counts unless
        // this byte continues the number.
        if (!pending_.empty()) {
          if (!is_digit(c))
            for (const auto& [i, start] : pending_) on_match(i, start);
          pending_.clear();
        }
        ring_[pos_ & mask] = c;
        state_ = m_.delta_[std::size_t{state_} * m_.ncls_ + m_.cls_[c]];
        std::uint32_t s = m_.out_[state_] >= 0 ? state_ : m_.dict_[state_];
        for (; s != 0; s = m_.dict_[s]) {
          const auto i = static_cast<std::size_t>(m_.out_[s]);
          const std::uint64_t start = pos_ + 1 - m_.patterns_[i].size();
          if (!m_.numeric_[i]) {
            on_match(i, start);
          } else if (start == 0 ||
                     (!is_digit(ring_[(start - 1) & mask]) && ring_[(start - 1) & mask] != '.')) {
            pending_.emplace_back(i, start);
          }
        }
        ++pos_;
      }
    }

    template <class F>
    void finish(F&& on_match) {
      for (const auto& [i, start] : pending_) on_match(i, start);
      pending_.clear();
    }

   private:
    const Matcher& m_;
    std::vector<std::uint8_t> ring_;  // the last bytes, for the byte before a match
    std::vector<std::pair<std::size_t, std::uint64_t>> pending_;
    std::uint32_t state_ = 0;
    std::uint64_t pos_ = 0;
  };

  // Every pattern found in `text`, taken as a whole stream.
  template <class F>
  void search(std::string_view text, F&& on_match) const {
    Run run(*this);
    run.feed(ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), on_match);
    run.finish(on_match);
  }

 private:
  static constexpr std::uint32_t kNone = 0xFFFFFFFF;

  std::uint32_t add_state() {
    if ((out_.size() + 1) * ncls_ > kMaxAutomaton)
      throw Error(Exit::usage, "too many identifying values to search for");
    delta_.resize(delta_.size() + ncls_, kNone);
    out_.push_back(-1);
    dict_.push_back(0);
    return static_cast<std::uint32_t>(out_.size() - 1);
  }

  std::vector<std::string> patterns_;
  std::vector<bool> numeric_;
  std::array<std::uint16_t, 256> cls_{};
  std::size_t ncls_ = 1;
  std::vector<std::uint32_t> delta_;
  std::vector<std::int32_t> out_;    // the pattern ending exactly at a state, or -1
  std::vector<std::uint32_t> dict_;  // nearest suffix state with a pattern (0: none)
  std::size_t maxlen_ = 0;
  std::size_t ring_size_ = 1;
};

}  // namespace detail

// ---------------------------------------------------------------------------
// Identifying values.

namespace {
using detail::Matcher;

bool placeholder(std::string_view v) {
  // "----", "0000000000", "XXXX": filler, not identity; so is a value with
  // no letter or digit at all.
  if (v.find_first_not_of(v.front()) == std::string_view::npos) return true;
  if (std::none_of(v.begin(), v.end(), [](unsigned char c) {
        return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c >= 0x80;
      }))
    return true;
  static constexpr std::array<std::string_view, 8> kStop = {
      "ANON", "ANONYMOUS", "ANONYMIZED", "ANONYMISED", "UNKNOWN", "NONE", "REMOVED", "DELETED"};
  std::string up(v);
  for (char& c : up)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return std::find(kStop.begin(), kStop.end(), up) != kStop.end();
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

struct Collector {
  std::vector<Needle> needles;
  std::map<std::string, std::size_t, std::less<>> seen;
  std::size_t bytes = 0;
  std::string file;

  void add(std::string value, const char* vr, const std::string& where) {
    value = trim(value);
    if (value.size() < 4 || placeholder(value)) return;
    if (value.size() > kMaxNeedle) value.resize(kMaxNeedle);
    if (seen.count(value) != 0) return;
    bytes += value.size();
    if (bytes > kMaxNeedleBytes)
      throw Error(Exit::usage,
                  file + ": more than 4 MiB of identifying values; check fewer studies at once");
    seen.emplace(value, needles.size());
    needles.push_back(Needle{std::move(value), vr, where});
  }

  // One stored attribute value, split into the needles it yields.
  void add_value(std::string_view whole, DcmEVR vr, const std::string& where) {
    for (std::string_view v : split(whole, '\\')) {
      switch (vr) {
        case EVR_PN: {
          const std::string name = trim(v, " \0^="sv);
          add(name, "PN", where);
          for (std::string_view group : split(name, '=')) {
            add(trim(group, " \0^"sv), "PN", where);
            for (std::string_view part : split(group, '^')) add(std::string(part), "PN", where);
          }
          break;
        }
        case EVR_LO: add(std::string(v), "LO", where); break;
        case EVR_SH: add(std::string(v), "SH", where); break;
        case EVR_DA: {
          const std::string d = trim(v);
          if (d.size() == 8) add(d, "DA", where);  // a partial date identifies little
          break;
        }
        case EVR_DT: {
          // The date part: the instant within the day adds nothing once the
          // date is known, and per-frame DT values would swamp the search.
          const std::string d = trim(v);
          if (d.size() >= 8 && numeric(d.substr(0, 8))) add(d.substr(0, 8), "DT", where);
          break;
        }
        case EVR_TM: add(trim(v).substr(0, trim(v).find('.')), "TM", where); break;
        default: break;
      }
    }
  }
};

bool needle_vr(DcmEVR vr) {
  return vr == EVR_PN || vr == EVR_LO || vr == EVR_SH || vr == EVR_DA || vr == EVR_DT ||
         vr == EVR_TM;
}

// Walks every element of `item` and its sequences; `visit(element, item,
// path, row)` for each; stops descending below kMaxDepth.
template <class F>
void walk(DcmItem& item, const std::string& prefix, int depth, F&& visit) {
  if (depth > kMaxDepth) return;
  const unsigned long n = item.card();
  for (unsigned long i = 0; i < n; ++i) {
    DcmElement* el = item.getElement(i);
    if (el == nullptr) continue;
    const std::uint16_t g = el->getGTag(), e = el->getETag();
    const std::string path = prefix + tag_text(g, e);
    if (!visit(*el, item, path, depth)) continue;
    if (el->ident() != EVR_SQ) continue;
    auto& seq = static_cast<DcmSequenceOfItems&>(*el);
    for (unsigned long k = 0; k < seq.card(); ++k)
      if (DcmItem* child = seq.getItem(k); child != nullptr)
        walk(*child, path + "[" + std::to_string(k) + "].", depth + 1, visit);
  }
}

// A match of needle `needle` at [start, end) of a file or value.
struct Hit {
  std::size_t needle;
  std::uint64_t start, end;
};

// Drops the matches that lie inside a longer one ("Doe" within
// "Doe^John"): one residue, one finding.
std::vector<Hit> outermost(std::vector<Hit> hits) {
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.start != b.start ? a.start < b.start : a.end > b.end;
  });
  std::vector<Hit> out;
  std::uint64_t reach = 0;
  for (const Hit& h : hits) {
    if (!out.empty() && h.end <= reach) continue;
    reach = std::max(reach, h.end);
    out.push_back(h);
  }
  return out;
}

// True when the profile keeps a private attribute of `item`.
bool private_kept(DcmItem& item, std::uint16_t g, std::uint16_t e, const Profile& p) {
  if (!p.retain_safe_private) return false;
  if (e >= 0x0010 && e <= 0x00FF) {
    OFString v;
    DcmElement* el = nullptr;
    if (item.findAndGetElement(DcmTagKey(g, e), el).bad() || el == nullptr) return false;
    if (el->getOFString(v, 0).bad()) return false;
    return anon::safe_creator(g, trim(std::string_view(v.c_str(), v.length())));
  }
  if (e < 0x1000) return false;
  return anon::safe_private(g, static_cast<std::uint8_t>(e & 0xFF), creator_of(item, g, e));
}

}  // namespace

// ---------------------------------------------------------------------------

namespace {

// Is this element's value in the output by the profile's own choice?
bool kept_by_profile(DcmElement& el, DcmItem& item, const Profile& profile) {
  const std::uint16_t g = el.getGTag(), e = el.getETag();
  if ((g & 1) != 0) return private_kept(item, g, e, profile);
  const Row* row = anon::find_row(g, e);
  return row == nullptr || action(*row, profile).keeps;
}

}  // namespace

std::vector<Needle> identifying_values(const std::vector<fs::path>& originals,
                                       const Profile& profile) {
  Collector col;
  std::string value;
  for (const auto& f : originals) {
    DcmFileFormat ff;
    load(ff, f);
    col.file = f.string();
    walk(*ff.getDataset(), "", 0, [&](DcmElement& el, DcmItem& item, const std::string& path, int) {
      if ((el.getGTag() & 1) != 0 || kept_by_profile(el, item, profile)) return true;
      const DcmEVR vr = vr_of(el);
      if (needle_vr(vr) && text_value(el, value)) col.add_value(value, vr, path);
      return true;
    });
  }
  if (col.needles.empty()) return {};

  // Drop what a kept value of any of the files contains: it reaches the
  // output legitimately (say, one file's Institution Name equal to another
  // file's Manufacturer).
  std::vector<std::string> patterns;
  patterns.reserve(col.needles.size());
  for (const auto& n : col.needles) patterns.push_back(n.value);
  const Matcher matcher(patterns);
  std::vector<bool> drop(patterns.size(), false);
  for (const auto& f : originals) {
    DcmFileFormat ff;
    load(ff, f);
    walk(*ff.getDataset(), "", 0, [&](DcmElement& el, DcmItem& item, const std::string&, int) {
      if (kept_by_profile(el, item, profile) && text_value(el, value))
        matcher.search(value, [&](std::size_t i, std::uint64_t) { drop[i] = true; });
      return true;
    });
  }
  std::vector<Needle> out;
  for (std::size_t i = 0; i < col.needles.size(); ++i)
    if (!drop[i]) out.push_back(std::move(col.needles[i]));
  return out;
}

std::vector<Needle> identifying_values(const fs::path& original_dicom, const Profile& profile) {
  return identifying_values(std::vector<fs::path>{original_dicom}, profile);
}

struct Scanner::Impl {
  Profile profile;
  std::vector<Needle> needles;
  std::optional<Matcher> matcher;

  [[nodiscard]] std::string describe(std::size_t i) const {
    const Needle& n = needles[i];
    std::string d = "original value '" + printable(n.value) + "' (" + n.vr + " from input";
    if (!n.where.empty()) d += " " + n.where;
    return d + ")";
  }
};

Scanner::Scanner(Profile profile, std::vector<Needle> needles) : impl_(std::make_unique<Impl>()) {
  impl_->profile = profile;
  // An empty needle would match everywhere.
  std::erase_if(needles, [](const Needle& n) { return n.value.empty(); });
  impl_->needles = std::move(needles);
  if (!impl_->needles.empty()) {
    std::vector<std::string> patterns;
    for (const auto& n : impl_->needles) patterns.push_back(n.value);
    impl_->matcher.emplace(patterns);
  }
}

Scanner::~Scanner() = default;
Scanner::Scanner(Scanner&&) noexcept = default;
Scanner& Scanner::operator=(Scanner&&) noexcept = default;

std::vector<Finding> Scanner::scan_bytes(const fs::path& file) const {
  std::vector<Finding> out;
  if (!impl_->matcher) return out;
  const Matcher& m = *impl_->matcher;
  std::vector<int> counts(impl_->needles.size(), 0);
  std::vector<Hit> hits;
  auto on_match = [&](std::size_t i, std::uint64_t start) {
    if (++counts[i] <= kMaxHitsPerNeedle) hits.push_back({i, start, start + m.pattern(i).size()});
  };
  FileSource src(file);
  Matcher::Run run(m);
  std::vector<std::uint8_t> buf(kChunk);
  for (;;) {
    const std::size_t n = src.read(buf);
    if (n == 0) break;
    run.feed(ByteSpan(buf.data(), n), on_match);
  }
  run.finish(on_match);
  for (const Hit& h : outermost(std::move(hits)))
    out.push_back({file.string(), "",
                   impl_->describe(h.needle) + " found at byte " + std::to_string(h.start)});
  for (std::size_t i = 0; i < counts.size(); ++i)
    if (counts[i] > kMaxHitsPerNeedle)
      out.push_back({file.string(), "",
                     impl_->describe(i) + " found " +
                         std::to_string(counts[i] - kMaxHitsPerNeedle) + " more times"});
  return out;
}

std::vector<Finding> Scanner::scan(const fs::path& file) const {
  const std::string name = file.string();
  DcmFileFormat ff;
  load(ff, file);
  DcmDataset& ds = *ff.getDataset();
  const Profile& profile = impl_->profile;

  // A DICOMDIR is an index, not an instance: its records copy values from
  // the files (each checked like any value) and keep empty Type 2 keys,
  // and it has no Patient Identity Removed of its own.
  const bool dicomdir = ds.tagExists(DCM_DirectoryRecordSequence);
  std::vector<Finding> out;
  std::string value;
  walk(ds, "", 0, [&](DcmElement& el, DcmItem& item, const std::string& path, int depth) {
    const std::uint16_t g = el.getGTag(), e = el.getETag();
    if (depth == kMaxDepth && el.ident() == EVR_SQ && el.getLength() > 0)
      out.push_back({name, path, "sequence nested too deep to check"});
    const Row* row = nullptr;
    std::string label = "private attribute";
    if ((g & 1) != 0) {
      if (e == 0x0000) return true;  // group length
      if (!private_kept(item, g, e, profile)) {
        std::string what;
        if (e >= 0x0010 && e <= 0x00FF) {
          OFString v;
          el.getOFString(v, 0);
          what = "private creator '" + printable(v.c_str()) + "'";
        } else {
          const std::string creator = creator_of(item, g, e);
          what = "private attribute";
          if (!creator.empty()) what += " of '" + printable(creator) + "'";
        }
        out.push_back({name, path, what});
        return false;  // its contents go with it
      }
    } else {
      row = anon::find_row(g, e);
      label = row != nullptr ? row->name : DcmTag(el.getTag().getXTag()).getTagName();
    }
    if (row != nullptr) {
      const std::string_view act = action(*row, profile).effective;
      // Only X is decidable here: Z allows "a dummy value consistent with
      // the VR" (PS3.15 E.1), and D, U, C replace values, which only the
      // needles can tell from the original.
      if (act == "X" && !(dicomdir && el.getLength() == 0))
        out.push_back({name, path, label + ": present, the profile removes it"});
    }
    if (impl_->matcher && el.ident() != EVR_SQ && text_value(el, value)) {
      const Matcher& m = *impl_->matcher;
      std::vector<Hit> hits;
      m.search(value, [&](std::size_t i, std::uint64_t start) {
        if (hits.size() < 64) hits.push_back({i, start, start + m.pattern(i).size()});
      });
      std::vector<std::size_t> told;  // at most 64 hits: a short list, not a flag per needle
      for (const Hit& h : outermost(std::move(hits))) {
        if (std::find(told.begin(), told.end(), h.needle) != told.end()) continue;
        told.push_back(h.needle);
        out.push_back({name, path,
                       (label.empty() ? std::string("value") : label) + ": contains " +
                           impl_->describe(h.needle)});
      }
    }
    return true;
  });

  OFString removed;
  if (dicomdir) {
    // nothing: see above
  } else if (ds.findAndGetOFString(DCM_PatientIdentityRemoved, removed).bad())
    out.push_back(
        {name, tag_text(0x0012, 0x0062), "Patient Identity Removed: missing, must be YES"});
  else if (trim(removed.c_str()) != "YES")
    out.push_back({name, tag_text(0x0012, 0x0062),
                   "Patient Identity Removed: '" + printable(removed.c_str()) + "', must be YES"});

  std::vector<Finding> bytes = scan_bytes(file);
  out.insert(out.end(), std::make_move_iterator(bytes.begin()),
             std::make_move_iterator(bytes.end()));
  return out;
}

}  // namespace iep::phi
