// De-identification by PS3.15 Annex E over dicom::File: one read (large
// values stay on disk), one pass over the data set and its sequences, one
// write that copies the untouched values (pixel data) through in the kernel.
//
// How each action code of Table E.1-1 is carried out here:
//   X  remove the element.
//   Z  zero length (a sequence loses its items).
//   D  a dummy value of the VR: "ANONYMIZED" for text, 19000101 / 000000 /
//      19000101000000 for DA / TM / DT, "0" for numbers, the keyed uid() of
//      the old value for UI; a sequence keeps its items, but every value in
//      them becomes such a dummy (so Type 1 attributes inside stay present,
//      and no text the table does not name survives, such as the Unformatted
//      Text Value of a graphic annotation).
//   K  kept; a sequence's items are de-identified recursively (E.1-1a).
//   C  clean: DA / DT shifted by the patient's date_shift_days() (time of
//      day kept, TM kept as is); UI mapped as U; a sequence cleaned
//      recursively; overlay data zeroed (same size, so the overlay module
//      stays consistent: we cannot read text drawn into a bitmap); other
//      binary values kept; other text replaced by "ANONYMIZED".
//   U  every UID of the value replaced by uid(), so references between
//      files keep resolving; a sequence is cleaned recursively.
//
// The combined codes depend on the attribute's Type in its IOD, which we do
// not know. We always pick the choice that is conformant for every Type
// (Type 1 needs a value, Type 2 presence, Type 3 nothing), so no Type 1
// attribute is ever lost or emptied:
//   X/Z -> Z,  X/D -> D,  X/Z/D -> D,  Z/D -> D,
//   X/Z/U* -> keep the sequence and replace the UIDs inside (U rows).
// One refinement: an element that is already empty in the input cannot be
// Type 1 there (assuming a conformant input), so X/Z/D and Z/D leave it
// empty (Z) and X/D removes it (X): no dummy values are invented for it.
//
// Patient ID and Patient's Name (Z/D and Z) get the pseudonyms, which are
// allowed dummy values. Private attributes (odd groups) are removed, with
// their creators, except those of Table E.3.10-1 under Retain Safe Private.
#include "iep/anon/anon.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>

#include "anon/anon_rules.h"
#include "anon/anon_table.h"
#include "core/util.h"
#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/dicom/dicom.h"
#include "iep/dicom/dicom_stream.h"

namespace fs = std::filesystem;

namespace iep::anon {
namespace {

// ---------------------------------------------------------------- keyed maps

constexpr std::string_view kKeyMagic = "IEP-ANON-KEY-1";

// 12 base32 characters (60 bits) of a keyed hash: short, upper case ASCII.
std::string token(const std::array<std::uint8_t, 32>& h) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | h[static_cast<std::size_t>(i)];
  std::string out;
  for (int i = 0; i < 12; ++i) {
    out += kAlphabet[v >> 59];
    v <<= 5;
  }
  return out;
}

// ------------------------------------------------------------ text helpers

using util::split_lines;
using util::trim;

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// "(gggg,eeee)" or "gggg,eeee", hex.
bool parse_tag(std::string_view s, std::uint16_t& g, std::uint16_t& e) {
  if (s.size() == 11 && s.front() == '(' && s.back() == ')') s = s.substr(1, 9);
  if (s.size() != 9 || s[4] != ',') return false;
  auto hex4 = [](std::string_view h, std::uint16_t& out) {
    out = 0;
    for (char c : h) {
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) return false;
      out = static_cast<std::uint16_t>(out << 4 | d);
    }
    return true;
  };
  return hex4(s.substr(0, 4), g) && hex4(s.substr(5, 4), e);
}

// ------------------------------------------------------------- the table

enum class Act : std::uint8_t { none, X, Z, D, K, C, U, XZ, XD, XZD, ZD, XZU };

Act parse_act(std::string_view s) {
  if (s.empty()) return Act::none;
  if (s == "X") return Act::X;
  if (s == "Z") return Act::Z;
  if (s == "D") return Act::D;
  if (s == "K") return Act::K;
  if (s == "C") return Act::C;
  if (s == "U") return Act::U;
  if (s == "X/Z") return Act::XZ;
  if (s == "X/D") return Act::XD;
  if (s == "X/Z/D") return Act::XZD;
  if (s == "Z/D") return Act::ZD;
  if (s == "X/Z/U*" || s == "X/Z/U") return Act::XZU;
  return Act::X;  // an unknown code: the safe reading is to remove
}

// The action a profile takes on a row (see anon_rules.h).
Act effective(const Row& row, const std::array<bool, kColumns>& on) {
  return parse_act(effective_action(row, on));
}

// ------------------------------------------------------------- dates

// Days since 1970-01-01 of a proleptic Gregorian date, and back (the
// classic era-based algorithms).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "YYYYMMDD" shifted by `days`; empty when it is not a valid date.
std::string shift_yyyymmdd(std::string_view s, int days) {
  if (s.size() != 8 || !all_digits(s)) return {};
  const int y = std::stoi(std::string(s.substr(0, 4)));
  const unsigned m = static_cast<unsigned>(std::stoi(std::string(s.substr(4, 2))));
  const unsigned d = static_cast<unsigned>(std::stoi(std::string(s.substr(6, 2))));
  if (m < 1 || m > 12 || d < 1 || d > 31) return {};
  std::int64_t yy = 0;
  unsigned mm = 0, dd = 0;
  civil_from_days(days_from_civil(y, m, d), yy, mm, dd);
  if (yy != y || mm != m || dd != d) return {};  // Feb 30 and the like
  civil_from_days(days_from_civil(y, m, d) + days, yy, mm, dd);
  if (yy < 1 || yy > 9999) return {};
  char out[16];
  std::snprintf(out, sizeof out, "%04d%02u%02u", static_cast<int>(yy), mm, dd);
  return out;
}

std::string shift_da(std::string_view v, int days) {
  std::string s(trim(v));
  if (s.size() == 10 && s[4] == '.' && s[7] == '.')  // ACR-NEMA "YYYY.MM.DD"
    s = s.substr(0, 4) + s.substr(5, 2) + s.substr(8, 2);
  std::string out = shift_yyyymmdd(s, days);
  return out.empty() ? "19000101" : out;
}

// DT "YYYY[MM[DD[HH...]]][&ZZXX]": the date part moves, the rest stays.
std::string shift_dt(std::string_view v, int days) {
  std::string_view s = trim(v);
  std::size_t n = 0;
  while (n < s.size() && n < 8 && s[n] >= '0' && s[n] <= '9') ++n;
  std::string date(s.substr(0, n));
  const std::size_t precision = n;
  if (n == 4) date += "0101";
  if (n == 6) date += "01";
  if (n != 4 && n != 6 && n != 8) return "19000101";
  std::string shifted = shift_yyyymmdd(date, days);
  if (shifted.empty()) return "19000101";
  return shifted.substr(0, precision) + std::string(s.substr(n));
}

// Calls f on each backslash-separated value, joining the results.
template <class F>
std::string map_values(std::string_view v, F f) {
  std::string out;
  for (;;) {
    const auto bs = v.find('\\');
    out += f(v.substr(0, bs));
    if (bs == std::string_view::npos) break;
    out += '\\';
    v.remove_prefix(bs + 1);
  }
  return out;
}

// ------------------------------------------------------------- the pass

constexpr std::size_t kMaxReadValue = 64 * 1024;  // UIDs, dates, IDs: tiny by the standard
constexpr const char* kDummyText = "ANONYMIZED";

constexpr std::uint32_t kPatientName = 0x00100010;
constexpr std::uint32_t kPatientId = 0x00100020;
constexpr std::uint32_t kSopClass = 0x00080016;
constexpr std::uint32_t kSopInstance = 0x00080018;
constexpr std::uint32_t kStudyUid = 0x0020000D;
constexpr std::uint32_t kSeriesUid = 0x0020000E;
constexpr std::uint32_t kModality = 0x00080060;
constexpr std::uint32_t kBurnedIn = 0x00280301;

using dicom::Element;
using dicom::Item;
using VR = std::array<char, 2>;

bool is(VR vr, const char* name) {
  return vr[0] == name[0] && vr[1] == name[1];
}

struct Context {
  const Anonymiser& anonymiser;
  const Options& options;
  const dicom::File& file;
  std::array<bool, kColumns> on{};
  std::string pseudonym_name;
  int shift = 0;
  std::set<std::uint32_t> nonconformant;  // tags holding a UID that breaks the UID syntax
  std::uint64_t held = 0;                 // bytes of values held in memory after the pass
};

// Values held in memory per file, after rewriting (what the reader holds,
// itself bounded by ReadLimits::max_held, and what the pass makes): a file
// that needs more (a million UIDs to replace, say) is quarantined instead.
constexpr std::uint64_t kMaxHeld = 32ull << 20;

std::string tag_text(std::uint32_t tag) {
  char s[16];
  std::snprintf(s, sizeof s, "(%04X,%04X)", tag >> 16, tag & 0xFFFF);
  return s;
}

// The value of `e` as stored (raw bytes for UN), bounded.
std::string value_of(const Element& e, const Context& ctx) {
  return ctx.file.bytes(e, kMaxReadValue);
}

std::string map_uids(const Anonymiser& a, std::string_view v) {
  return map_values(v, [&a](std::string_view one) {
    const std::string_view u = trim(one);
    return u.empty() ? std::string() : a.uid(u);
  });
}

// The UIDs of `e` replaced, noting values that break the UID syntax (they
// are replaced like any other: the keyed map takes any string).
std::string map_uids(const Element& e, Context& ctx) {
  const std::string v = value_of(e, ctx);
  map_values(v, [&](std::string_view one) {
    const std::string_view u = trim(one);
    if (!u.empty() && !dicom::valid_uid(std::string(u))) ctx.nonconformant.insert(e.tag);
    return std::string();
  });
  return map_uids(ctx.anonymiser, v);
}

// The VR that decides how we write a value: the dictionary's for UN.
VR value_vr(const Element& e) {
  return e.is("UN") ? dicom::dictionary_vr(e.tag) : e.vr;
}

bool string_vr(VR vr) {
  static constexpr const char* kText[] = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT",
                                          "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"};
  return std::any_of(std::begin(kText), std::end(kText), [&](const char* t) { return is(vr, t); });
}

// Writes text into `e`, even-padded as its value VR wants (a UN element
// holds the bytes of its real VR).
void put_text(Element& e, std::string text) {
  if (text.size() % 2) text += is(value_vr(e), "UI") ? '\0' : ' ';
  e.set(std::move(text));
}

void dummy(Element& e, Context& ctx);

// D on a sequence: its items keep their structure (so Type 1 attributes
// inside stay present) but every value in them becomes a dummy; private
// attributes and group lengths go. An empty sequence stays empty (an item
// made up would lack the Type 1 attributes of its macro).
void dummy_sequence(Element& e, Context& ctx) {
  for (Item& item : e.items) {
    std::erase_if(item.elements,
                  [](const Element& x) { return (x.group() & 1) || x.element() == 0x0000; });
    for (Element& x : item.elements) dummy(x, ctx);
  }
}

// Binary zeros the size of one value of the VR.
std::string zero_value(VR vr) {
  if (is(vr, "US") || is(vr, "SS")) return std::string(2, '\0');
  if (is(vr, "UL") || is(vr, "SL") || is(vr, "FL") || is(vr, "AT")) return std::string(4, '\0');
  return std::string(8, '\0');  // FD, SV, UV, and OB/OW/OD/OF/OL/OV/UN (a multiple of each)
}

void dummy(Element& e, Context& ctx) {
  const VR vr = value_vr(e);
  if (is(vr, "SQ")) {
    if (e.is_sequence())
      dummy_sequence(e, ctx);
    else
      e.clear();
    return;
  }
  if (is(vr, "DA")) return put_text(e, "19000101");
  if (is(vr, "DT")) return put_text(e, "19000101000000");
  if (is(vr, "TM")) return put_text(e, "000000");
  if (is(vr, "AS")) return put_text(e, "000Y");
  if (is(vr, "DS") || is(vr, "IS")) return put_text(e, "0");
  if (is(vr, "UI")) {
    const std::string mapped = map_uids(e, ctx);
    return put_text(e, mapped.empty() ? ctx.anonymiser.uid("iep-anon dummy") : mapped);
  }
  if (string_vr(vr)) return put_text(e, kDummyText);
  e.set(zero_value(vr));  // numbers and other binary values: a zero
}

void process_item(Item& item, Context& ctx);

void process_sequence(Element& e, Context& ctx) {
  for (Item& it : e.items) process_item(it, ctx);
}

void clean(Element& e, Context& ctx) {
  if (e.is_sequence()) return process_sequence(e, ctx);
  if (e.size() == 0) return;  // nothing to clean
  const VR vr = value_vr(e);
  if (is(vr, "DA"))
    return put_text(e, map_values(value_of(e, ctx), [&](std::string_view v) {
                      return trim(v).empty() ? std::string() : shift_da(v, ctx.shift);
                    }));
  if (is(vr, "DT"))
    return put_text(e, map_values(value_of(e, ctx), [&](std::string_view v) {
                      return trim(v).empty() ? std::string() : shift_dt(v, ctx.shift);
                    }));
  if (is(vr, "TM")) return;  // time of day is kept: dates move by whole days
  if (is(vr, "UI")) return put_text(e, map_uids(e, ctx));
  if ((e.group() & 0xFF00) == 0x6000 && e.element() == 0x3000) {
    // Overlay bitmap: same size, no pixels set (we cannot read text drawn
    // into a bitmap).
    if (e.size() > (64u << 20))
      e.clear();
    else
      e.set(std::string(static_cast<std::size_t>(e.size()), '\0'));
    return;
  }
  if (string_vr(vr)) return put_text(e, kDummyText);
  // Numbers and other binary values carry no text: kept.
}

struct Creator {
  std::size_t index;
  std::uint16_t group, element;
  std::string name;
  bool used = false;
};

const Override* find_override(const Options& o, std::uint32_t tag) {
  for (const Override& ov : o.overrides)
    if ((std::uint32_t{ov.group} << 16 | ov.element) == tag) return &ov;
  return nullptr;
}

// Counts what element `e` holds once processed, against kMaxHeld.
void account(const Element& e, Context& ctx) {
  if (e.is_sequence() || e.external) return;
  ctx.held += e.value.size();
  if (ctx.held > kMaxHeld)
    throw Error(Exit::invalid_dicom,
                ctx.file.name() + ": over " + std::to_string(kMaxHeld >> 20) +
                    " MiB of values to hold and rewrite outside the pixel data (at " +
                    tag_text(e.tag) + "): not de-identified");
}

void process_item(Item& item, Context& ctx) {
  std::vector<bool> remove(item.elements.size(), false);  // removed after the walk
  std::vector<Creator> creators;
  for (std::size_t i = 0; i < item.elements.size(); ++i) {
    if (i > 0) account(item.elements[i - 1], ctx);
    Element& e = item.elements[i];
    const std::uint16_t g = e.group(), el = e.element();
    if (const Override* ov = find_override(ctx.options, e.tag)) {
      if (ov->kind == Override::Kind::remove) remove[i] = true;
      if (ov->kind == Override::Kind::keep && (g & 1) && el >= 0x1000)
        for (Creator& c : creators)
          if (c.group == g && c.element == el >> 8) c.used = true;
      continue;  // keep and set: as is here; set is applied at the end
    }
    if (el == 0x0000) {  // group lengths: stale once we change the group
      remove[i] = true;
      continue;
    }
    if (g & 1) {  // private (and the illegal odd groups 1-7, FFFF)
      if (el >= 0x0010 && el <= 0x00FF) {
        creators.push_back({i, g, el, std::string(trim(value_of(e, ctx)))});
        continue;  // decided once the block's elements are seen
      }
      Creator* owner = nullptr;
      if (el >= 0x1000)
        for (Creator& c : creators)
          if (c.group == g && c.element == el >> 8) owner = &c;
      if (ctx.options.profile.retain_safe_private && owner != nullptr &&
          safe_private(g, static_cast<std::uint8_t>(el & 0xFF), owner->name)) {
        owner->used = true;
        continue;
      }
      remove[i] = true;
      continue;
    }
    // A sequence the reader could only keep as UN bytes: what it holds
    // cannot be seen, so it cannot be kept.
    const bool opaque = !e.is_sequence() && is(value_vr(e), "SQ") && e.size() > 0;
    const Row* row = find_row(g, el);
    if (row == nullptr) {
      if (opaque) remove[i] = true;
      process_sequence(e, ctx);  // not in the table: kept, contents cleaned
      continue;
    }
    Act a = effective(*row, ctx.on);
    const bool empty = e.size() == 0;
    switch (a) {  // the combined codes, see the top of this file
      case Act::XZ: a = Act::Z; break;
      case Act::XD: a = empty ? Act::X : Act::D; break;
      case Act::XZD:
      case Act::ZD: a = empty ? Act::Z : Act::D; break;
      default: break;
    }
    if ((e.tag == kPatientId || e.tag == kPatientName) && a != Act::K && a != Act::X) {
      if (e.tag == kPatientId)
        put_text(e, ctx.anonymiser.patient_id(trim(value_of(e, ctx))));
      else
        put_text(e, ctx.pseudonym_name);
      continue;
    }
    switch (a) {
      case Act::none:
      case Act::K:
        if (opaque) remove[i] = true;
        process_sequence(e, ctx);
        break;
      case Act::X: remove[i] = true; break;
      case Act::Z: e.clear(); break;
      case Act::D: dummy(e, ctx); break;
      case Act::C:
        if (opaque) remove[i] = true;
        clean(e, ctx);
        break;
      case Act::U:
      case Act::XZU:
        if (opaque) {
          e.clear();
          break;
        }
        if (e.is_sequence())
          process_sequence(e, ctx);
        else if (is(value_vr(e), "UI"))
          put_text(e, map_uids(e, ctx));
        else if (a == Act::U)
          dummy(e, ctx);
        else
          e.clear();
        break;
      default: remove[i] = true; break;
    }
  }
  if (!item.elements.empty()) account(item.elements.back(), ctx);
  for (const Creator& c : creators)
    if (!c.used) remove[c.index] = true;
  std::size_t i = 0;
  std::erase_if(item.elements, [&](const Element&) { return remove[i++]; });
}

// ------------------------------------------------------------- files

std::string upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

// Why a file must not be de-identified by this profile, or empty.
std::string profile_reason(const dicom::File& f, const Profile& p) {
  if (f.text(kSopClass).starts_with("1.2.840.10008.5.1.4.1.1.88.") && !p.clean_structured_content)
    return "a structured report: the basic profile removes its Content Sequence, which would "
           "leave an invalid document (use the clean-structured-content option)";
  return {};
}

// Why the pixels may show identity (burned-in text), or empty.
std::string burned_in_reason(const dicom::File& f) {
  const std::string burned = upper(f.text(kBurnedIn));
  if (burned == "YES") return "Burned In Annotation is YES: pixel data may show identity";
  if (!burned.empty()) return {};
  const std::string modality = upper(f.text(kModality));
  for (const char* risky : {"US", "SC", "XA", "ES", "OT"})
    if (modality == risky)
      return "no Burned In Annotation for modality " + modality + ": pixel data may show identity";
  if (f.text(kSopClass).starts_with("1.2.840.10008.5.1.4.1.1.7"))  // the Secondary Capture family
    return "no Burned In Annotation for a Secondary Capture image: pixel data may show identity";
  return {};
}

// An US value of the data set (Rows, Columns), 0 when absent.
int us_value(const dicom::File& f, std::uint32_t tag) {
  const Element* e = f.data.find(tag);
  if (e == nullptr || e->external || e->value.size() < 2) return 0;
  const auto b0 = static_cast<unsigned char>(e->value[0]),
             b1 = static_cast<unsigned char>(e->value[1]);
  return f.syntax == dicom::Syntax::explicit_be ? b0 << 8 | b1 : b1 << 8 | b0;
}

// The code of each applied profile and option (CID 7050).
std::vector<std::pair<const char*, const char*>> method_codes(const Profile& p,
                                                              bool pixels_cleaned) {
  std::vector<std::pair<const char*, const char*>> c;
  c.emplace_back("113100", "Basic Application Confidentiality Profile");
  if (pixels_cleaned) c.emplace_back("113101", "Clean Pixel Data Option");
  if (p.clean_graphics) c.emplace_back("113103", "Clean Graphics Option");
  if (p.clean_structured_content) c.emplace_back("113104", "Clean Structured Content Option");
  if (p.clean_descriptors) c.emplace_back("113105", "Clean Descriptors Option");
  if (p.retain_long_full_dates)
    c.emplace_back("113106", "Retain Longitudinal Temporal Information Full Dates Option");
  if (p.retain_long_modified_dates)
    c.emplace_back("113107", "Retain Longitudinal Temporal Information Modified Dates Option");
  if (p.retain_patient_characteristics)
    c.emplace_back("113108", "Retain Patient Characteristics Option");
  if (p.retain_device_identity) c.emplace_back("113109", "Retain Device Identity Option");
  if (p.retain_uids) c.emplace_back("113110", "Retain UIDs Option");
  if (p.retain_safe_private) c.emplace_back("113111", "Retain Safe Private Option");
  if (p.retain_institution_identity) c.emplace_back("113112", "Retain Institution Identity Option");
  return c;
}

void mark(Item& ds, const Profile& p, bool pixels_cleaned) {
  put_text(ds.put(0x00120062, "CS"), "YES");  // Patient Identity Removed
  std::string method = "iep " + p.names();
  if (method.size() > 64) method = "iep PS3.15 Annex E, see the method code sequence";
  put_text(ds.put(0x00120063, "LO"), method);  // De-identification Method
  Element& codes = ds.put(0x00120064, "SQ");   // De-identification Method Code Sequence
  codes.clear();
  codes.vr = {{'S', 'Q'}};  // even if the input had it as UN
  for (const auto& [value, meaning] : method_codes(p, pixels_cleaned)) {
    Item& item = codes.items.emplace_back();
    put_text(item.put(0x00080100, "SH"), value);    // Code Value
    put_text(item.put(0x00080102, "SH"), "DCM");    // Coding Scheme Designator
    put_text(item.put(0x00080104, "LO"), meaning);  // Code Meaning
  }
  const char* temporal = p.retain_long_full_dates       ? "UNMODIFIED"
                         : p.retain_long_modified_dates ? "MODIFIED"
                                                        : "REMOVED";
  put_text(ds.put(0x00280303, "CS"), temporal);  // Longitudinal Temporal Information Modified
}

// The output file under construction: an unnamed file in the output's
// folder (O_TMPFILE) that gets its name only once complete, so a crash
// leaves nothing behind; or, where the file system cannot do that, a hidden
// sibling removed on destruction.
struct TempFile {
  fs::path path;  // the hidden sibling, when there is one
  UniqueFd fd;
  TempFile() = default;
  TempFile(TempFile&&) = default;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }

  // Names the complete file `out`; never replaces a file that appeared meanwhile.
  void link_as(const fs::path& out) const {
    const std::string from =
        path.empty() ? "/proc/self/fd/" + std::to_string(fd.get()) : path.string();
    const int flags = path.empty() ? AT_SYMLINK_FOLLOW : 0;
    if (::linkat(AT_FDCWD, from.c_str(), AT_FDCWD, out.c_str(), flags) != 0)
      throw Error(Exit::output, out.string() + ": cannot create: " + std::strerror(errno));
  }
};

TempFile make_temp(const fs::path& out) {
  TempFile t;
  const fs::path dir = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  const int unnamed = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (unnamed >= 0) {
    t.fd.reset(unnamed);
    return t;
  }
  t.fd = create_sibling(out, 0644, t.path);
  return t;
}

}  // namespace

// ---------------------------------------------------------------- ProjectKey

ProjectKey ProjectKey::generate() {
  util::sodium_ready();
  ProjectKey k;
  randombytes_buf(k.key_.data(), k.key_.size());
  return k;
}

ProjectKey::ProjectKey(const ProjectKey& o) : key_(o.key_) {}

ProjectKey& ProjectKey::operator=(const ProjectKey& o) {
  key_ = o.key_;
  return *this;
}

ProjectKey::~ProjectKey() {
  sodium_memzero(key_.data(), key_.size());
}

void ProjectKey::save(const fs::path& path) const {
  AtomicFile f(path, /*overwrite=*/false, 0600);
  std::string text = std::string(kKeyMagic) + " " + util::hex(key_) +
                     "\n# iep-anon project key: SECRET. The same key gives the same "
                     "pseudonyms; keep it mode 0600.\n";
  f.write(util::as_bytes(text));
  util::wipe(text);
  f.commit();
}

ProjectKey ProjectKey::load(const fs::path& path) {
  util::sodium_ready();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw Error(Exit::identity,
                path.string() + ": cannot read the project key: " + std::strerror(errno));
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    throw Error(Exit::identity, path.string() +
                                    ": project key file is accessible by others (mode " + mode +
                                    "); run: chmod 600 " + path.string());
  }
  std::string text;
  try {
    text = read_small_file(path, 4096);
  } catch (const Error& e) {
    throw Error(Exit::identity, e.what());
  }
  ProjectKey k;
  bool found = false;
  bool bad = false;
  for (std::string_view line : split_lines(text)) {
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    if (found || !line.starts_with(kKeyMagic) || line.size() != kKeyMagic.size() + 1 + 64 ||
        line[kKeyMagic.size()] != ' ' ||
        !util::unhex(line.substr(kKeyMagic.size() + 1), k.key_.data(), k.key_.size())) {
      bad = true;
      break;
    }
    found = true;
  }
  util::wipe(text);
  if (bad || !found)
    throw Error(Exit::identity, path.string() + ": not an iep project key (expected one line \"" +
                                    std::string(kKeyMagic) + " <64 hex digits>\")");
  return k;
}

// ---------------------------------------------------------------- Profile

namespace {
struct OptionName {
  const char* name;
  bool Profile::*flag;
};
constexpr OptionName kOptionNames[] = {
    {"retain-safe-private", &Profile::retain_safe_private},
    {"retain-uids", &Profile::retain_uids},
    {"retain-device-identity", &Profile::retain_device_identity},
    {"retain-institution-identity", &Profile::retain_institution_identity},
    {"retain-patient-characteristics", &Profile::retain_patient_characteristics},
    {"retain-longitudinal-full-dates", &Profile::retain_long_full_dates},
    {"retain-longitudinal-modified-dates", &Profile::retain_long_modified_dates},
    {"clean-descriptors", &Profile::clean_descriptors},
    {"clean-structured-content", &Profile::clean_structured_content},
    {"clean-graphics", &Profile::clean_graphics},
};
}  // namespace

Profile Profile::parse(std::string_view names) {
  Profile p;
  while (true) {
    const auto comma = names.find(',');
    const std::string_view name = trim(names.substr(0, comma));
    if (!name.empty() && name != "basic") {
      bool known = false;
      for (const OptionName& o : kOptionNames)
        if (name == o.name) {
          p.*(o.flag) = true;
          known = true;
        }
      if (!known) {
        std::string list = "basic";
        for (const OptionName& o : kOptionNames) list += std::string(", ") + o.name;
        throw Error(Exit::usage,
                    "unknown profile option '" + std::string(name) + "' (known: " + list + ")");
      }
    }
    if (comma == std::string_view::npos) break;
    names.remove_prefix(comma + 1);
  }
  if (p.retain_long_full_dates && p.retain_long_modified_dates)
    throw Error(Exit::usage,
                "profile options retain-longitudinal-full-dates and "
                "retain-longitudinal-modified-dates exclude each other");
  return p;
}

std::string Profile::names() const {
  std::string out = "basic";
  for (const OptionName& o : kOptionNames)
    if (this->*(o.flag)) out += std::string(",") + o.name;
  return out;
}

void load_profile_file(const fs::path& path, Profile& profile, std::vector<Override>& overrides) {
  const std::string text = read_small_file(path, 1 << 20);
  const auto lines = split_lines(text);
  bool have_profile = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string where = path.string() + ":" + std::to_string(i + 1) + ": ";
    const std::string_view line = trim(lines[i]);
    if (line.empty() || line.front() == '#') continue;
    const auto sp = line.find_first_of(" \t");
    const std::string_view word = line.substr(0, sp);
    const std::string_view rest = sp == std::string_view::npos ? "" : trim(line.substr(sp));
    if (word == "profile") {
      if (have_profile) throw Error(Exit::usage, where + "a second 'profile' line");
      try {
        profile = Profile::parse(rest);
      } catch (const Error& e) {
        throw Error(Exit::usage, where + e.what());
      }
      have_profile = true;
      continue;
    }
    Override ov;
    if (word == "keep")
      ov.kind = Override::Kind::keep;
    else if (word == "remove")
      ov.kind = Override::Kind::remove;
    else if (word == "set")
      ov.kind = Override::Kind::set;
    else
      throw Error(Exit::usage, where + "unknown directive '" + std::string(word.substr(0, 40)) +
                                   "' (expected profile, keep, remove or set)");
    const auto sp2 = rest.find_first_of(" \t");
    const std::string_view tag = rest.substr(0, sp2);
    if (!parse_tag(tag, ov.group, ov.element))
      throw Error(Exit::usage, where + "bad tag '" + std::string(tag.substr(0, 40)) +
                                   "' (expected (gggg,eeee) in hex)");
    const std::string_view value = sp2 == std::string_view::npos ? "" : trim(rest.substr(sp2));
    if (ov.kind == Override::Kind::set) {
      if (value.empty() || value.size() > 1024 || !printable_ascii(value))
        throw Error(Exit::usage, where + "'set' needs a value of printable ASCII (at most 1024)");
      if (ov.group & 1 || ov.group == 0x0002 || ov.group == 0x0000)
        throw Error(Exit::usage, where + "'set' of a private, meta or command tag");
      const auto vr = dicom::dictionary_vr(std::uint32_t{ov.group} << 16 | ov.element);
      if (vr[0] == 'S' && vr[1] == 'Q')
        throw Error(Exit::usage, where + "'set' of a sequence (use keep or remove)");
      ov.value = std::string(value);
    } else if (!value.empty()) {
      throw Error(Exit::usage, where + "unexpected text after the tag");
    }
    for (const Override& o : overrides)
      if (o.group == ov.group && o.element == ov.element)
        throw Error(Exit::usage, where + "tag " + std::string(tag) + " given twice");
    overrides.push_back(std::move(ov));
  }
}

std::map<std::string, std::string> load_mapping(const fs::path& path) {
  const std::string text = read_small_file(path, 64 << 20);
  const auto lines = split_lines(text);
  std::map<std::string, std::string> out;
  std::set<std::string> subjects;
  bool first = true;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string where = path.string() + ":" + std::to_string(i + 1) + ": ";
    const std::string_view line = trim(lines[i]);
    if (line.empty() || line.front() == '#') continue;
    const auto comma = line.find(',');
    if (comma == std::string_view::npos || line.find(',', comma + 1) != std::string_view::npos)
      throw Error(Exit::usage, where + "expected \"patient id,subject id\"");
    const std::string original(trim(line.substr(0, comma)));
    const std::string subject(trim(line.substr(comma + 1)));
    if (first && upper(original) == "PATIENT_ID" && upper(subject) == "SUBJECT_ID") {
      first = false;
      continue;
    }
    first = false;
    if (original.empty() || subject.empty())
      throw Error(Exit::usage, where + "empty patient id or subject id");
    if (original.size() > 64 || subject.size() > 64)
      throw Error(Exit::usage, where + "an id longer than 64 characters");
    if (!printable_ascii(subject) || subject.find('\\') != std::string::npos)
      throw Error(Exit::usage, where + "subject id must be printable ASCII without '\\'");
    if (out.count(original))
      throw Error(Exit::usage, where + "patient id '" + original + "' mapped twice");
    if (!subjects.insert(subject).second)
      throw Error(Exit::usage, where + "subject id '" + subject + "' given to two patients");
    out.emplace(original, subject);
  }
  return out;
}

// ---------------------------------------------------------------- Anonymiser

// The keyed maps: HMAC-SHA256(key, label || 0 || message), one independent
// function per label. Each costs about 19,000 instructions, and a study's
// files repeat most of what they map (study, series and frame of reference
// UIDs, the patient's ID three times a file): so the key's two blocks and
// the label are hashed once here, and results are remembered. The memo is
// emptied when it holds kMemo entries, so memory stays flat over any number
// of files; it is shared by the threads of a batch (a lock per lookup costs
// far less than a hash).
class Anonymiser::Keyed {
 public:
  enum Label { uid, patient, date_shift, labels };

  explicit Keyed(const std::array<std::uint8_t, 32>& key) {
    static constexpr std::string_view kLabels[labels] = {"iep-anon uid", "iep-anon patient",
                                                         "iep-anon date shift"};
    const unsigned char zero = 0;
    for (int l = 0; l < labels; ++l) {
      crypto_auth_hmacsha256_init(&start_[l], key.data(), key.size());
      crypto_auth_hmacsha256_update(
          &start_[l], reinterpret_cast<const unsigned char*>(kLabels[l].data()), kLabels[l].size());
      crypto_auth_hmacsha256_update(&start_[l], &zero, 1);
    }
  }
  ~Keyed() { sodium_memzero(start_.data(), sizeof start_); }
  Keyed(const Keyed&) = delete;
  Keyed& operator=(const Keyed&) = delete;

  [[nodiscard]] std::array<std::uint8_t, 32> mac(Label l, std::string_view message) const {
    crypto_auth_hmacsha256_state st = start_[l];
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(message.data()),
                                  message.size());
    std::array<std::uint8_t, 32> out{};
    crypto_auth_hmacsha256_final(&st, out.data());
    sodium_memzero(&st, sizeof st);
    return out;
  }

  // make(message) for label l, remembered. Only short messages (UIDs and
  // IDs are at most 64 bytes): a hostile file's long values would make the
  // memo's bound a matter of megabytes.
  template <typename F>
  std::string memo(Label l, std::string_view message, F make) const {
    if (message.size() > kMemoMessage) return make(mac(l, message));
    std::string k(1, static_cast<char>('0' + l));
    k += message;
    {
      std::lock_guard lock(m_);
      if (auto it = memo_.find(k); it != memo_.end()) return it->second;
    }
    std::string v = make(mac(l, message));
    std::lock_guard lock(m_);
    if (memo_.size() >= kMemo) memo_.clear();
    memo_.emplace(std::move(k), v);
    return v;
  }

 private:
  static constexpr std::size_t kMemo = 4096, kMemoMessage = 128;
  std::array<crypto_auth_hmacsha256_state, labels> start_{};
  mutable std::mutex m_;
  mutable std::unordered_map<std::string, std::string> memo_;
};

Anonymiser::Anonymiser(const ProjectKey& key, Options options)
    : key_(key),
      options_(std::move(options)),
      keyed_((util::sodium_ready(), std::make_shared<Keyed>(key_.bytes()))) {
  find_row(0, 0);  // index the table now, not in the first file
}

std::string Anonymiser::uid(std::string_view original) const {
  return keyed_->memo(Keyed::uid, trim(original), [](const std::array<std::uint8_t, 32>& h) {
    __extension__ typedef unsigned __int128 u128;
    u128 v = 0;
    for (int i = 0; i < 16; ++i) v = v << 8 | h[static_cast<std::size_t>(i)];
    std::string digits;
    do {
      digits += static_cast<char>('0' + static_cast<int>(v % 10));
      v /= 10;
    } while (v != 0);
    std::reverse(digits.begin(), digits.end());
    return "2.25." + digits;  // at most 5 + 39 characters
  });
}

std::string Anonymiser::patient_id(std::string_view original) const {
  original = trim(original);
  auto it = options_.subject_ids.find(std::string(original));
  if (it != options_.subject_ids.end()) return it->second;
  return "ANON-" + keyed_->memo(Keyed::patient, original,
                                [](const std::array<std::uint8_t, 32>& h) { return token(h); });
}

std::string Anonymiser::patient_name(std::string_view original_id) const {
  original_id = trim(original_id);
  auto it = options_.subject_ids.find(std::string(original_id));
  if (it != options_.subject_ids.end()) return it->second;
  return "ANON^" + keyed_->memo(Keyed::patient, original_id,
                                [](const std::array<std::uint8_t, 32>& h) { return token(h); });
}

int Anonymiser::date_shift_days(std::string_view original_patient_id) const {
  const auto h = keyed_->mac(Keyed::date_shift, trim(original_patient_id));
  const std::uint32_t v =
      std::uint32_t{h[0]} << 24 | std::uint32_t{h[1]} << 16 | std::uint32_t{h[2]} << 8 | h[3];
  return -static_cast<int>(1 + v % 3650);  // 1 day to 10 years back
}

namespace {

// The checks file() and bytes() share: sets o.quarantined and o.reason, or
// returns the --clean-pixels rule that must blank the pixels first.
const pixels::Rule* screen(const Anonymiser& a, const dicom::File& f, Outcome& o) {
  // The rule every command applies (dicom.h): what fails it is not
  // de-identified (an image cut before its pixels must not leave as whole).
  dicom::check_instance(f);
  if (f.is_dicomdir()) {
    o.quarantined = true;
    o.reason = "a DICOMDIR: it indexes patients by name and is rebuilt, not de-identified";
    return nullptr;
  }
  const Options& options = a.options();
  const std::string profile_why = profile_reason(f, options.profile);
  o.reason = profile_why.empty() ? burned_in_reason(f) : profile_why;
  if (profile_why.empty() && !o.reason.empty() && options.pixel_rules) {
    const pixels::Rule* rule = options.pixel_rules->match(
        f.text(0x00080070), f.text(0x00081090), us_value(f, 0x00280010), us_value(f, 0x00280011));
    if (rule != nullptr) return rule;
    o.reason += " (no --clean-pixels rule matches)";
  }
  o.quarantined = !o.reason.empty();
  return nullptr;
}

// De-identifies `f` in place (the table, the overrides, the marks).
void deidentify(const Anonymiser& a, dicom::File& f, Outcome& o, const std::string& name) {
  const Options& options = a.options();
  o.original_patient_id = f.text(kPatientId);
  o.original_study_uid = f.text(kStudyUid);
  o.pseudonym_patient_id = a.patient_id(o.original_patient_id);
  Context ctx{a,
              options,
              f,
              enabled_columns(options.profile),
              a.patient_name(o.original_patient_id),
              a.date_shift_days(o.original_patient_id),
              {},
              0};
  process_item(f.data, ctx);
  for (std::uint32_t tag : ctx.nonconformant) o.nonconformant_uids.push_back(tag_text(tag));
  for (const Override& ov : options.overrides) {
    if (ov.kind != Override::Kind::set) continue;
    Element& e = f.data.put(std::uint32_t{ov.group} << 16 | ov.element);
    if (e.is_sequence())  // a private dictionary's sequence: load_profile_file cannot know
      throw Error(Exit::usage, name + ": cannot 'set' a sequence");
    put_text(e, ov.value);
  }
  mark(f.data, options.profile, o.pixels_cleaned);
}

// What the manifest says of the written file.
void describe(const dicom::File& f, Outcome& o) {
  o.new_study_uid = f.text(kStudyUid);
  o.sop_class_uid = f.text(kSopClass);
  o.sop_instance_uid = f.text(kSopInstance);
  o.series_instance_uid = f.text(kSeriesUid);
  o.modality = f.text(kModality);
  o.transfer_syntax_uid = f.transfer_syntax_uid;
}

}  // namespace

namespace {

// screen(), and the --clean-pixels rule it asks for applied: false when `f`
// is quarantined (o.reason says why).
bool screened(const Anonymiser& a, dicom::File& f, const fs::path& in, const fs::path& out,
              Outcome& o) {
  if (const pixels::Rule* rule = screen(a, f, o)) {
    // Blank into a hidden file beside the output, read it back, and let
    // it go at once: the open descriptor keeps it until written.
    char hidden[48];
    std::snprintf(hidden, sizeof hidden, ".iep-clean-%08x.dcm", randombytes_random());
    const fs::path cleaned = out.parent_path() / hidden;
    pixels::clean(in, cleaned, *rule);
    try {
      f = dicom::File::read(cleaned);
    } catch (...) {
      ::unlink(cleaned.c_str());
      throw;
    }
    ::unlink(cleaned.c_str());
    o.reason.clear();
    o.pixels_cleaned = true;
  }
  return !o.quarantined;
}

}  // namespace

Outcome Anonymiser::file(const fs::path& in, const fs::path& out) const {
  dicom::File f = dicom::File::read(in);
  Outcome o;
  if (!screened(*this, f, in, out, o)) return o;
  if (fs::exists(fs::symlink_status(out)))
    throw Error(Exit::output, out.string() + ": already exists; refusing to overwrite it");
  deidentify(*this, f, o, in.string());

  // A new meta header from the data set (File::write): Media Storage SOP
  // Instance UID follows the new SOP Instance UID, nothing of the sender
  // (Source AE Title...) survives, and the transfer syntax stays the same.
  TempFile tmp = make_temp(out);
  f.write(tmp.fd.get(), out.string());
  tmp.link_as(out);
  describe(f, o);
  return o;
}

Outcome Anonymiser::file(dicom::File f, const fs::path& in, int out_fd, const fs::path& out) const {
  Outcome o;
  if (!screened(*this, f, in, out, o)) return o;
  deidentify(*this, f, o, in.string());
  f.write(out_fd, out.string());
  describe(f, o);
  return o;
}

namespace {

// bytes() and head() once the file is parsed.
std::optional<Outcome> in_memory(const Anonymiser& a, dicom::File& f, const std::string& name,
                                 std::string& out) {
  if (f.syntax == dicom::Syntax::deflated) return std::nullopt;  // written through zlib to a file
  Outcome o;
  if (screen(a, f, o) != nullptr) return std::nullopt;  // pixels::clean works on files
  if (o.quarantined) return o;
  deidentify(a, f, o, name);
  // The streamed pixel data must still end the file (nothing the profile
  // or an override adds after it, nothing removed).
  if (!f.tail_intact()) return std::nullopt;
  out.clear();
  f.write(out);
  describe(f, o);
  return o;
}

}  // namespace

std::optional<Outcome> Anonymiser::bytes(std::string in, const std::string& name,
                                         std::string& out) const {
  // A deflated data set inflates in memory here: bounded well below the
  // file reader's bound, past which the caller takes the file path.
  dicom::ReadLimits limits;
  limits.max_inflated = 8ull << 20;
  dicom::File f = dicom::File::parse(std::move(in), name, limits);
  return in_memory(*this, f, name, out);
}

std::optional<Outcome> Anonymiser::head(std::string head, std::uint64_t size,
                                        const std::string& name, std::string& out) const {
  std::optional<dicom::File> f = dicom::File::parse_head(std::move(head), size, name);
  if (!f) return std::nullopt;
  return in_memory(*this, *f, name, out);
}

}  // namespace iep::anon
