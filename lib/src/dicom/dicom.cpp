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
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <mutex>
#include <set>
#include <system_error>

#include "iep/core/error.h"
#include "iep/core/io.h"

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

// The whole value of a string attribute of `item` (all values joined by '\'),
// as stored, without trailing padding; empty when absent.
std::string get_string(DcmItem& item, const DcmTagKey& tag, const std::string& file) {
  DcmElement* elem = nullptr;
  if (item.findAndGetElement(tag, elem).bad() || elem == nullptr) return {};
  if (elem->getLength() > kMaxStringValue)
    throw Error(Exit::invalid_dicom, file + ": not a DICOM file (" + DcmTag(tag).getTagName() +
                                         " is " + std::to_string(elem->getLength()) +
                                         " bytes long)");
  if (elem->ident() == EVR_UN) {
    // A text attribute read as UN (a data set encoded in another transfer
    // syntax than its meta header says): its bytes are still the text.
    Uint8* bytes = nullptr;
    if (elem->getUint8Array(bytes).bad() || bytes == nullptr) return {};
    return trim_trailing(std::string(reinterpret_cast<const char*>(bytes), elem->getLength()));
  }
  if (!elem->isaString()) return {};  // a private or broken VR: no text to give
  OFString value;
  if (elem->getOFStringArray(value, OFFalse).bad()) return {};
  return trim_trailing(std::string(value.c_str(), value.length()));
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

// True when the file has the Part 10 128-byte preamble followed by "DICM".
bool has_part10_preamble(FileSource& src) {
  std::array<std::uint8_t, 132> head{};
  if (read_full(src, head) != head.size()) return false;
  return head[128] == 'D' && head[129] == 'I' && head[130] == 'C' && head[131] == 'M';
}

// DCMTK cannot leave values of a deflated data set on disk, so it holds the
// whole inflated data set in memory; a few MB of deflate can claim GBs.
// Inflate it here first, counting, and refuse one that is too large.
constexpr std::uint64_t kMaxInflated = 256ull << 20;
constexpr const char* kDeflatedSyntax = "1.2.840.10008.1.2.1.99";

// The Transfer Syntax UID of a Part 10 file, read from its meta header bytes
// (explicit VR little endian after "DICM"), and where the data set starts.
// Empty when the meta header is not of the simple, usual shape.
struct Meta {
  std::string syntax;
  std::uint64_t end = 0;
};

Meta read_meta(FileSource& src) {
  // Called right after the 132 bytes of preamble and "DICM"; reads a little
  // past the meta header (seek back to `end`).
  Meta meta;
  std::uint64_t pos = 132;
  std::array<std::uint8_t, 8> h{};
  for (int n = 0; n < 64; ++n) {  // a meta header has a dozen elements
    if (read_full(src, h) != h.size()) return {};
    const unsigned group = h[0] | h[1] << 8, element = h[2] | h[3] << 8;
    if (group != 0x0002) {
      meta.end = pos;
      return meta;
    }
    std::uint32_t len = h[6] | h[7] << 8;
    pos += 8;
    const bool long_form = (h[4] == 'O' && h[5] == 'B') || (h[4] == 'U' && h[5] == 'N');
    if (long_form) {
      std::array<std::uint8_t, 4> l{};
      if (read_full(src, l) != l.size()) return {};
      len = static_cast<std::uint32_t>(l[0] | l[1] << 8 | l[2] << 16) |
            static_cast<std::uint32_t>(l[3]) << 24;
      pos += 4;
    }
    if (len > 1024) return {};
    std::string value(len, '\0');
    if (read_full(src, MutableByteSpan(reinterpret_cast<std::uint8_t*>(value.data()), len)) != len)
      return {};
    pos += len;
    if (element == 0x0010) meta.syntax = trim_trailing(std::move(value));
  }
  return {};
}

// Counts the bytes a raw deflate stream (PS3.5 A.5) inflates to, stopping at
// `limit`.
std::uint64_t inflated_size(FileSource& src, std::uint64_t limit) {
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return 0;
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&zs};
  std::vector<std::uint8_t> in(1 << 16), out(1 << 16);
  std::uint64_t total = 0;
  for (;;) {
    const std::size_t n = src.read(in);
    if (n == 0) return total;
    zs.next_in = in.data();
    zs.avail_in = static_cast<uInt>(n);
    while (zs.avail_in > 0) {
      zs.next_out = out.data();
      zs.avail_out = static_cast<uInt>(out.size());
      const int rc = inflate(&zs, Z_NO_FLUSH);
      total += out.size() - zs.avail_out;
      if (total > limit || rc == Z_STREAM_END) return total;
      if (rc != Z_OK && rc != Z_BUF_ERROR) return total;  // DCMTK will report it
      if (rc == Z_BUF_ERROR && zs.avail_in > 0 && zs.avail_out > 0) return total;
    }
  }
}

// What we learn from the raw bytes before DCMTK parses the file.
struct Head {
  bool part10 = false;  // 128-byte preamble then "DICM"
  std::uint64_t size = 0;
};

// Opens `file`, refusing anything but a regular file (DCMTK would read
// /dev/zero or a FIFO forever), and looks at its first bytes.
Head read_head(const fs::path& file) {
  FileSource src(file);
  struct stat st {};
  if (::fstat(src.fd(), &st) != 0 || !S_ISREG(st.st_mode))
    throw Error(Exit::input, file.string() + ": not a regular file");
  Head head;
  head.size = static_cast<std::uint64_t>(st.st_size);
  head.part10 = has_part10_preamble(src);
  if (head.part10) {
    const Meta meta = read_meta(src);
    if (meta.syntax == kDeflatedSyntax &&
        ::lseek(src.fd(), static_cast<off_t>(meta.end), SEEK_SET) >= 0 &&
        inflated_size(src, kMaxInflated) > kMaxInflated)
      throw Error(Exit::invalid_dicom,
                  file.string() + ": not a DICOM file (deflated data set inflates to over " +
                      std::to_string(kMaxInflated >> 20) + " MiB)");
  }
  return head;
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

// A DICOMDIR names its records by file offset; the offsets of the first and
// last root records and every record's links must lie inside the file, so a
// DICOMDIR cut at a record boundary (which DCMTK accepts) is caught.
bool dicomdir_offsets_inside(DcmDataset& ds, std::uint64_t size) {
  auto inside = [size](DcmItem& item, const DcmTagKey& tag) {
    Uint32 off = 0;
    return item.findAndGetUint32(tag, off).bad() || off < size;
  };
  if (!inside(ds, DCM_OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity) ||
      !inside(ds, DCM_OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity))
    return false;
  DcmSequenceOfItems* records = nullptr;
  if (ds.findAndGetSequence(DCM_DirectoryRecordSequence, records).bad() || records == nullptr)
    return false;
  for (unsigned long i = 0; i < records->card(); ++i) {
    DcmItem* r = records->getItem(i);
    if (r != nullptr && (!inside(*r, DCM_OffsetOfTheNextDirectoryRecord) ||
                         !inside(*r, DCM_OffsetOfReferencedLowerLevelDirectoryEntity)))
      return false;
  }
  return true;
}

// Parses `file` into `ff`, checks that it is a complete DICOM object, and
// returns what we need to know of it.
Info parse(const fs::path& file, DcmFileFormat& ff) {
  const std::string name = file.string();
  const Head head = read_head(file);

  load(ff, file);
  DcmDataset& ds = *ff.getDataset();
  DcmMetaInfo& meta = *ff.getMetaInfo();

  Info info;
  info.sop_class_uid = get_string(ds, DCM_SOPClassUID, name);
  info.sop_instance_uid = get_string(ds, DCM_SOPInstanceUID, name);
  const std::string media_class = get_string(meta, DCM_MediaStorageSOPClassUID, name);
  const std::string media_instance = get_string(meta, DCM_MediaStorageSOPInstanceUID, name);
  // A DICOMDIR keeps its identity only in the meta header.
  if (info.sop_class_uid.empty()) info.sop_class_uid = media_class;
  if (info.sop_instance_uid.empty()) info.sop_instance_uid = media_instance;

  auto reject = [&name](const std::string& why) {
    return Error(Exit::invalid_dicom, name + ": not a DICOM file (" + why + ")");
  };
  if (!head.part10) {
    // DCMTK reads nearly any byte soup as a raw data set; only accept one
    // that identifies itself as a DICOM object.
    if (!plausible_uid(info.sop_class_uid) || !plausible_uid(info.sop_instance_uid))
      throw reject("no DICM preamble and no SOP Class and Instance UIDs");
  }
  info.is_dicomdir =
      info.sop_class_uid == kMediaStorageDirectory || media_class == kMediaStorageDirectory;

  // DCMTK notices a file that ends inside an element, but not one cut at an
  // element boundary: that still parses, just without its tail. Catch the
  // cuts that matter with what every complete object must have.
  Uint32 meta_length = 0;
  if (head.part10 &&
      meta.findAndGetUint32(DCM_FileMetaInformationGroupLength, meta_length).good() &&
      head.size < 132 + 12 + std::uint64_t{meta_length})
    throw reject("truncated in the meta header");
  if (info.is_dicomdir) {
    if (!ds.tagExists(DCM_DirectoryRecordSequence) || !dicomdir_offsets_inside(ds, head.size))
      throw reject("truncated DICOMDIR");
  } else {
    if (!ds.tagExists(DCM_SOPClassUID) || !ds.tagExists(DCM_SOPInstanceUID))
      throw reject("no SOP Class UID or SOP Instance UID in the data set");
    const bool image = dcmIsImageStorageSOPClassUID(info.sop_class_uid.c_str()) ||
                       (ds.tagExists(DCM_Rows) && ds.tagExists(DCM_Columns));
    if (image && !ds.tagExists(DCM_PixelData) && !ds.tagExists(DCM_FloatPixelData) &&
        !ds.tagExists(DCM_DoubleFloatPixelData))
      throw reject("image without Pixel Data, truncated?");
  }
  // (A cut inside a sequence of undefined length DCMTK reports itself: the
  // delimiter is missing.)
  DcmElement* pixels = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, pixels).good() && pixels != nullptr &&
      pixels->ident() == EVR_PixelData && pixels->getLengthField() == DCM_UndefinedLength) {
    // Encapsulated: the Basic Offset Table item and at least one fragment.
    DcmPixelSequence* fragments = nullptr;
    if (static_cast<DcmPixelData*>(pixels)
            ->getEncapsulatedRepresentation(ds.getOriginalXfer(), nullptr, fragments)
            .bad() ||
        fragments == nullptr || fragments->card() < 2)
      throw reject("encapsulated Pixel Data without fragments, truncated?");
  }

  info.study_instance_uid = get_string(ds, DCM_StudyInstanceUID, name);
  info.series_instance_uid = get_string(ds, DCM_SeriesInstanceUID, name);
  info.transfer_syntax_uid = get_string(meta, DCM_TransferSyntaxUID, name);
  const DcmXfer xfer(ds.getOriginalXfer());
  if (info.transfer_syntax_uid.empty() && xfer.getXfer() != EXS_Unknown)
    info.transfer_syntax_uid = xfer.getXferID();
  info.modality = get_string(ds, DCM_Modality, name);
  info.patient_name = get_string(ds, DCM_PatientName, name);
  info.patient_id = get_string(ds, DCM_PatientID, name);
  info.study_date = get_string(ds, DCM_StudyDate, name);
  info.study_description = get_string(ds, DCM_StudyDescription, name);
  info.accession_number = get_string(ds, DCM_AccessionNumber, name);
  info.instance_number = parse_is(get_string(ds, DCM_InstanceNumber, name));
  return info;
}

}  // namespace

Info scan(const fs::path& file) {
  DcmFileFormat ff;
  return parse(file, ff);
}

std::vector<fs::path> dicomdir_files(const fs::path& dicomdir) {
  const std::string name = dicomdir.string();
  DcmFileFormat ff;
  parse(dicomdir, ff);
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
