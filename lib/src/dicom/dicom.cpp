// DICOM scanning with DCMTK: what a package needs to know of each file, and
// the files a CD's DICOMDIR references.
#include "iep/dicom/dicom.h"

#include <dcmtk/config/osconfig.h>  // must come first among DCMTK headers
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <mutex>
#include <optional>
#include <set>
#include <system_error>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/dicom/dicom_stream.h"

namespace fs = std::filesystem;

namespace iep::dicom {
namespace {

constexpr const char* kMediaStorageDirectory = "1.2.840.10008.1.3.10";

// Values longer than this are not read into strings: every attribute we
// extract is at most 64 characters by the standard (PN: 5 x 64), so anything
// near this is hostile and must not make us allocate what the file says.
constexpr Uint32 kMaxStringValue = 64 * 1024;

// DCMTK logs parse problems to stderr through its own logger; our tools
// report errors themselves, once, so silence it before the first parse.
void quiet_dcmtk() {
  static std::once_flag once;
  std::call_once(once, [] { OFLog::configure(OFLogger::OFF_LOG_LEVEL); });
}

std::string trim_trailing(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

// Leading spaces are allowed in IS; anything unparsable reads as 0.
std::int64_t parse_is(const std::string& s) {
  std::size_t b = s.find_first_not_of(' ');
  if (b == std::string::npos) return 0;
  const char* first = s.data() + b;
  const char* last = s.data() + s.size();
  if (*first == '+') ++first;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (ec != std::errc() || ptr != last) return 0;
  return v;
}

// Parses the whole structure of `file` (values over DCM_MaxReadLength stay on
// disk, so pixel data is skipped, not loaded) and returns the loaded object.
void load(DcmFileFormat& ff, const fs::path& file) {
  quiet_dcmtk();
  OFCondition cond = ff.loadFile(OFFilename(file.c_str()), EXS_Unknown, EGL_noChange,
                                 DCM_MaxReadLength, ERM_autoDetect);
  if (cond.bad())
    throw Error(Exit::invalid_dicom, file.string() + ": not a DICOM file (" + cond.text() + ")");
}

bool plausible_uid(const std::string& s) {
  return !s.empty() && s.size() <= 64 && s.find_first_not_of("0123456789.") == std::string::npos;
}

// ASCII-only case folding: DICOM file IDs are upper case letters, digits
// and '_' (PS3.10 8.2), so locale rules play no part.
std::string ascii_upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

// A directory entry name as an ISO 9660 reader may show it: "IM1;1" or
// "IM1." stand for "IM1".
std::string iso9660_base(std::string name) {
  std::size_t semi = name.rfind(';');
  if (semi != std::string::npos && semi + 1 < name.size() &&
      name.find_first_not_of("0123456789", semi + 1) == std::string::npos)
    name.erase(semi);
  if (name.size() > 1 && name.back() == '.') name.pop_back();
  return name;
}

// Finds the entry of `dir` named `component`, exactly or else ignoring case.
// Returns an empty path when there is none.
fs::path find_entry(const fs::path& dir, const std::string& component, const std::string& dicomdir,
                    const std::string& id) {
  std::error_code ec;
  fs::path exact = dir / component;
  if (fs::symlink_status(exact, ec).type() != fs::file_type::not_found && !ec) return exact;

  const std::string want = ascii_upper(component);
  std::vector<std::string> hits;
  fs::directory_iterator it(dir, ec);
  if (ec) return {};
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) throw Error(Exit::input, dir.string() + ": " + ec.message());
    std::string name = it->path().filename().string();
    if (ascii_upper(name) == want || ascii_upper(iso9660_base(name)) == want)
      hits.push_back(std::move(name));
  }
  if (hits.empty()) return {};
  if (hits.size() > 1)
    throw Error(Exit::input, dicomdir + ": reference " + id +
                                 " matches several files differing only in case in " +
                                 dir.string());
  return dir / hits.front();
}

// Resolves one Referenced File ID (its components in order) below `root`.
fs::path resolve_reference(const fs::path& root, const fs::path& canonical_root,
                           const std::vector<std::string>& components, const std::string& dicomdir,
                           const std::string& id) {
  fs::path at = root;
  for (std::size_t i = 0; i < components.size(); ++i) {
    const std::string& c = components[i];
    // Only plain names: nothing that climbs out, is absolute, or hides a
    // separator.
    if (c.empty() || c == "." || c == ".." || c.find('/') != std::string::npos ||
        c.find('\0') != std::string::npos)
      throw Error(Exit::invalid_dicom, dicomdir + ": unsafe Referenced File ID " + id);
    fs::path next = find_entry(at, c, dicomdir, id);
    if (next.empty()) throw Error(Exit::input, dicomdir + ": references missing file " + id);
    at = std::move(next);
  }
  std::error_code ec;
  fs::file_status st = fs::status(at, ec);
  if (ec || !fs::exists(st)) throw Error(Exit::input, dicomdir + ": references missing file " + id);
  if (!fs::is_regular_file(st))
    throw Error(Exit::input, dicomdir + ": reference " + id + " is not a regular file");
  // A symbolic link on the medium may point anywhere; do not follow one out
  // of the DICOMDIR's folder.
  fs::path real = fs::canonical(at, ec);
  if (ec) throw Error(Exit::input, at.string() + ": " + ec.message());
  auto [r, p] =
      std::mismatch(canonical_root.begin(), canonical_root.end(), real.begin(), real.end());
  if (r != canonical_root.end())
    throw Error(Exit::invalid_dicom, dicomdir + ": reference " + id + " leads outside its folder");
  return at;
}

}  // namespace

namespace {

constexpr std::uint32_t kSopClass = 0x00080016, kSopInstance = 0x00080018;
constexpr std::uint32_t kRecordSequence = 0x00041220;

// An UL value of `item` (first value), or nullopt when absent or not 4 bytes.
std::optional<std::uint32_t> ul_value(const File& f, const Item& item, std::uint32_t tag) {
  const Element* e = item.find(tag);
  if (e == nullptr || e->external || e->value.size() != 4) return std::nullopt;
  const auto* b = reinterpret_cast<const std::uint8_t*>(e->value.data());
  if (f.syntax == Syntax::explicit_be)
    return std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
  return std::uint32_t{b[3]} << 24 | std::uint32_t{b[2]} << 16 | std::uint32_t{b[1]} << 8 | b[0];
}

// A DICOMDIR names its records by file offset; the offsets of the first and
// last root records and every record's links must lie inside the file, so a
// DICOMDIR cut at a record boundary is caught.
bool dicomdir_offsets_inside(const File& f) {
  auto inside = [&f](const Item& item, std::uint32_t tag) {
    const auto off = ul_value(f, item, tag);
    return !off || *off < f.size;
  };
  if (!inside(f.data, 0x00041200) || !inside(f.data, 0x00041202)) return false;
  const Element* records = f.data.find(kRecordSequence);
  if (records == nullptr || !records->is_sequence()) return false;
  return std::all_of(records->items.begin(), records->items.end(),
                     [&](const Item& r) { return inside(r, 0x00041400) && inside(r, 0x00041420); });
}

// A UID of the data set (or, for a DICOMDIR, of the meta header).
std::string uid_of(const File& f, std::uint32_t tag, std::uint32_t meta_tag) {
  std::string v = f.text(tag);
  if (v.empty()) {
    const Element* m = f.meta.find(meta_tag);
    if (m != nullptr && !m->external && m->value.size() <= 1024) v = trim_trailing(m->value);
  }
  return v;
}

}  // namespace

void check_instance(const File& f) {
  auto reject = [&f](const std::string& why) {
    return Error(Exit::invalid_dicom, f.name() + ": " + why);
  };
  const Element* class_uid = f.data.find(kSopClass);
  const Element* instance_uid = f.data.find(kSopInstance);
  const std::string sop_class = f.text(kSopClass), sop_instance = f.text(kSopInstance);
  if (!f.part10) {
    // Nearly any byte soup reads as some bare data set: only accept one
    // that names itself as a DICOM object.
    if (!plausible_uid(sop_class) || !plausible_uid(sop_instance))
      throw reject("not a DICOM file (no DICM prefix, and no SOP Class and Instance UIDs)");
  }
  if (f.is_dicomdir()) {
    if (f.data.find(kRecordSequence) == nullptr || !dicomdir_offsets_inside(f))
      throw reject(
          "a DICOMDIR cut short (no Directory Record Sequence, or a record offset past "
          "the end of the file)");
    return;
  }
  if (class_uid == nullptr || sop_class.empty()) throw reject("no SOP Class UID in the data set");
  if (instance_uid == nullptr || sop_instance.empty())
    throw reject("no SOP Instance UID in the data set");
  if (!usable_uid(sop_class)) throw reject("the SOP Class UID is not a UID");
  if (!usable_uid(sop_instance)) throw reject("the SOP Instance UID is not a UID");
  const bool image = dcmIsImageStorageSOPClassUID(sop_class.c_str()) ||
                     (f.data.find(0x00280010) != nullptr && f.data.find(0x00280011) != nullptr);
  const Element* pixels = f.data.find(0x7FE00010);
  if (image && pixels == nullptr && f.data.find(0x7FE00008) == nullptr &&
      f.data.find(0x7FE00009) == nullptr)
    throw reject("image object without Pixel Data, cut short?");
  if (pixels != nullptr && pixels->encapsulated && pixels->fragments < 2)
    throw reject("encapsulated Pixel Data (7FE0,0010) without fragments, cut short?");
}

Info info_of(const File& f) {
  Info info;
  info.sop_class_uid = uid_of(f, kSopClass, 0x00020002);
  info.sop_instance_uid = uid_of(f, kSopInstance, 0x00020003);
  info.is_dicomdir = f.is_dicomdir() || info.sop_class_uid == kMediaStorageDirectory;
  info.study_instance_uid = f.text(0x0020000D);
  info.series_instance_uid = f.text(0x0020000E);
  info.transfer_syntax_uid = f.transfer_syntax_uid;
  info.modality = f.text(0x00080060);
  info.patient_name = f.text(0x00100010);
  info.patient_id = f.text(0x00100020);
  info.study_date = f.text(0x00080020);
  info.study_description = f.text(0x00081030);
  info.accession_number = f.text(0x00080050);
  info.instance_number = parse_is(f.text(0x00200013));
  if (!f.data.elements.empty() && f.syntax != Syntax::deflated) {
    const Element& last = f.data.elements.back();
    if (last.external && last.offset + last.length == f.size) info.tail_start = last.offset;
  }
  return info;
}

// No DCMTK here: iep's own reader is bounded in depth, count and memory
// for any input (DCMTK recurses once per nested sequence and holds every
// element), and it is the reader iep-anon rewrites with, so every command
// accepts exactly the same files.
Info scan(const fs::path& file) {
  const File f = File::read(file);
  check_instance(f);
  return info_of(f);
}

std::vector<fs::path> dicomdir_files(const fs::path& dicomdir) {
  const std::string name = dicomdir.string();
  // The one rule first, bounded (DCMTK reads only what passed it).
  if (!scan(dicomdir).is_dicomdir)
    throw Error(Exit::invalid_dicom, name + ": not a DICOMDIR (no Directory Record Sequence)");
  DcmFileFormat ff;
  load(ff, dicomdir);
  DcmSequenceOfItems* records = nullptr;
  if (ff.getDataset()->findAndGetSequence(DCM_DirectoryRecordSequence, records).bad() ||
      records == nullptr)
    throw Error(Exit::invalid_dicom, name + ": not a DICOMDIR (no Directory Record Sequence)");

  fs::path root = dicomdir.parent_path();
  if (root.empty()) root = ".";
  std::error_code ec;
  const fs::path canonical_root = fs::canonical(root, ec);
  if (ec) throw Error(Exit::input, root.string() + ": " + ec.message());

  std::vector<fs::path> out;
  std::set<fs::path> seen;
  const unsigned long n = records->card();
  for (unsigned long i = 0; i < n; ++i) {
    DcmItem* record = records->getItem(i);
    if (record == nullptr) continue;
    DcmElement* elem = nullptr;
    if (record->findAndGetElement(DCM_ReferencedFileID, elem, OFFalse).bad() || elem == nullptr ||
        elem->getLength() == 0)
      continue;  // patient/study/series records reference no file
    if (elem->getLength() > kMaxStringValue)
      throw Error(Exit::invalid_dicom, name + ": Referenced File ID too long");

    std::vector<std::string> components;
    std::string id;
    const unsigned long vm = elem->getVM();
    for (unsigned long k = 0; k < vm; ++k) {
      OFString v;
      if (elem->getOFString(v, k, OFFalse).bad())
        throw Error(Exit::invalid_dicom, name + ": unreadable Referenced File ID");
      // CS values may be padded with spaces on either side.
      std::string c(v.c_str(), v.length());
      c = trim_trailing(std::move(c));
      c.erase(0, std::min(c.find_first_not_of(' '), c.size()));
      if (!id.empty()) id += '\\';
      id += c;
      components.push_back(std::move(c));
    }
    if (components.empty()) continue;
    fs::path file = resolve_reference(root, canonical_root, components, name, id);
    if (seen.insert(file).second) out.push_back(std::move(file));
  }
  return out;
}

bool usable_uid(const std::string& uid) {
  return !uid.empty() && uid.size() <= 64 && std::all_of(uid.begin(), uid.end(), [](char c) {
    return c >= 0x20 && c < 0x7f && c != '\\';
  });
}

bool valid_uid(const std::string& uid) {
  if (uid.empty() || uid.size() > 64) return false;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = uid.find('.', start);
    if (end == std::string::npos) end = uid.size();
    const std::size_t len = end - start;
    if (len == 0) return false;  // empty component, or leading/trailing dot
    for (std::size_t i = start; i < end; ++i)
      if (uid[i] < '0' || uid[i] > '9') return false;
    if (len > 1 && uid[start] == '0') return false;  // leading zero
    if (end == uid.size()) return true;
    start = end + 1;
  }
}

}  // namespace iep::dicom
