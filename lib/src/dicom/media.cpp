// Media export (PDI): a verified plain package as a folder with a DICOMDIR.
#include "iep/dicom/media.h"

#include <dcmtk/config/osconfig.h>  // must come first among DCMTK headers
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "core/util.h"
#include "iep/dicom/dicom.h"
#include "iep/dicom/dicomdir.h"
#include "iep/package/package.h"
#include "iep/package/tar.h"
#include "iep/package/zstd.h"
#include "iep/pacs/report.h"

namespace fs = std::filesystem;

namespace iep::dicom {
namespace {

constexpr std::size_t kBuf = 256 * 1024;
constexpr const char* kExplicitLittle = "1.2.840.10008.1.2.1";
constexpr std::size_t kMaxPerFolder = 999'999;  // two letters and six digits

void decoders_ready() {
  static std::once_flag once;
  std::call_once(once, [] {
    OFLog::configure(OFLogger::OFF_LOG_LEVEL);
    // Registration is process-wide and idempotent (a second call is a no-op).
    DcmRLEDecoderRegistration::registerCodecs();
    DJDecoderRegistration::registerCodecs(EDC_photometricInterpretation, EUC_never);
    DJLSDecoderRegistration::registerCodecs(EJLSUC_never);
  });
}

std::string fd_path(int fd) {
  return "/proc/self/fd/" + std::to_string(fd);
}

// "XX" and six digits: ST000001, SE000042, IM000007.
std::string numbered(const char* prefix, std::size_t n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%s%06zu", prefix, n);
  return buf;
}

// An upper-case 8.3 name of A-Z 0-9 _ for an attachment ("report.pdf" ->
// "REPORT.PDF"); unique among `used` by a numbered stem.
std::string short_name(const std::string& path, std::set<std::string>& used) {
  std::string base = fs::path(path).filename().string();
  auto dot = base.rfind('.');
  std::string stem = dot == std::string::npos ? base : base.substr(0, dot);
  std::string ext = dot == std::string::npos ? "" : base.substr(dot + 1);
  auto clean = [](const std::string& s, std::size_t max) {
    std::string out;
    for (char c : s) {
      if (out.size() == max) break;
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      out += (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
    }
    return out;
  };
  stem = clean(stem, 8);
  ext = clean(ext, 3);
  if (stem.empty()) stem = "ATTACH";
  std::string name = ext.empty() ? stem : stem + "." + ext;
  for (std::size_t i = 2; !used.insert(name).second; ++i) {
    std::string n = std::to_string(i);
    std::string s = stem.substr(0, 8 - std::min<std::size_t>(7, n.size() + 1)) + "_" + n;
    name = ext.empty() ? s : s + "." + ext;
  }
  return name;
}

// An unnamed temporary file for one entry, reused.
class Scratch {
 public:
  explicit Scratch(std::string purpose) : purpose_(std::move(purpose)) {}
  int reset() {
    if (fd_.get() < 0) fd_ = unnamed_temp_file(purpose_);
    if (::ftruncate(fd_.get(), 0) != 0 || ::lseek(fd_.get(), 0, SEEK_SET) != 0)
      throw Error(Exit::output, temp_root().string() + ": " + std::strerror(errno));
    return fd_.get();
  }
  [[nodiscard]] int fd() const { return fd_.get(); }

 private:
  std::string purpose_;
  UniqueFd fd_;
};

bool has_preamble(int fd) {
  char magic[4] = {};
  return ::pread(fd, magic, 4, 128) == 4 && std::memcmp(magic, "DICM", 4) == 0;
}

void copy_fd(int from, int to, const std::string& what) {
  if (::lseek(from, 0, SEEK_SET) != 0)
    throw Error(Exit::output, what + ": " + std::string(std::strerror(errno)));
  FdSource in(from, "temporary file");
  FdSink out(to, what);
  copy(in, out);
}

// Writes the instance held in `from` to `to` as a Part 10 file in Explicit
// VR Little Endian, decoding compressed pixel data; the UIDs are kept.
void transcode(int from, int to, const std::string& name) {
  decoders_ready();
  DcmFileFormat ff;
  OFCondition st = ff.loadFile(OFFilename(fd_path(from).c_str()), EXS_Unknown, EGL_noChange,
                               DCM_MaxReadLength, ERM_autoDetect);
  if (st.bad()) throw Error(Exit::invalid_dicom, name + ": does not parse (" + st.text() + ")");
  DcmDataset& ds = *ff.getDataset();
  const E_TransferSyntax in = ds.getOriginalXfer();
  st = ds.chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
  if (st.bad() || !ds.canWriteXfer(EXS_LittleEndianExplicit))
    throw Error(Exit::invalid_dicom,
                name + ": cannot decode pixel data in " + DcmXfer(in).getXferName() +
                    " for a General Purpose CD-R (" + (st.bad() ? st.text() : "no decoder") + ")");
  // A fresh meta header that says what is written now.
  st = ff.saveFile(OFFilename(fd_path(to).c_str()), EXS_LittleEndianExplicit, EET_ExplicitLength,
                   EGL_recalcGL, EPD_withoutPadding, 0, 0, EWM_createNewMeta);
  if (st.bad()) throw Error(Exit::output, name + ": cannot write (" + st.text() + ")");
}

// Reads a plain package entry by entry after it verified (the second
// pass), writing the PDI folder.
class MediaWriter {
 public:
  MediaWriter(const Manifest& m, const std::string& name, StagedFolder& out)
      : m_(m), name_(name), out_(out) {
    for (const auto& f : m.files) by_path_[f.path] = &f;
  }

  void run(Source& plain) {
    zstd::AutoSource unzstd(plain, name_);
    tar::Reader tr(unzstd, name_);
    Bytes buf(kBuf);
    while (auto e = tr.next()) {
      auto it = by_path_.find(e->path);
      if (it == by_path_.end()) continue;  // the manifest and its signature
      const ManifestFile& f = *it->second;
      if (f.size != e->size) changed(f);
      int fd = entry_.reset();
      util::Blake2b256 hash;
      FdSink spool(fd, "temporary file");
      for (;;) {
        std::size_t n = tr.read(buf);
        if (n == 0) break;
        hash.write(ByteSpan(buf.data(), n));
        spool.write(ByteSpan(buf.data(), n));
      }
      if (hash.digest() != f.blake2b) changed(f);
      ++seen_;
      if (f.attachment)
        attachment(f, fd);
      else
        instance(f, fd);
    }
    if (seen_ != m_.files.size())
      throw Error(Exit::corrupt, name_ + ": changed since it was verified");
  }

  // Turns the reports into DICOM instances of the study; call after run().
  std::size_t add_reports() {
    if (reports_.empty()) return 0;
    if (first_instance_.empty())
      throw Error(Exit::invalid_dicom,
                  name_ + ": a report but no instance to take the study's attributes from");
    auto study = pacs::study_attributes(out_.partial() / first_instance_);
    TempDir tmp("iep-media-report");
    for (const auto& [f, kind] : reports_) {
      std::string id = next_id("");
      fs::path made = tmp.path() / "report.dcm";
      Bytes content = read_back(out_.partial() / attachment_ids_.at(f->path), f->size);
      (void)pacs::make_report_instance(study, content, kind, fs::path(f->path).filename().string(),
                                       made);
      UniqueFd to = out_.create_file(id);
      FileSource in(made);
      FdSink sink(to.get(), (out_.dest() / id).string());
      copy(in, sink);
      if (::close(to.release()) != 0)
        throw Error(Exit::output, (out_.dest() / id).string() + ": " + std::strerror(errno));
      fs::remove(made);
      files_.push_back(id);
      entries_[id] = f->path + " (as DICOM)";
    }
    return reports_.size();
  }

  [[nodiscard]] const std::vector<fs::path>& files() const { return files_; }
  // File ID -> the package entry it holds.
  [[nodiscard]] const std::map<std::string, std::string>& entries() const { return entries_; }

 private:
  [[noreturn]] void changed(const ManifestFile& f) const {
    throw Error(Exit::corrupt, name_ + ": " + f.path + " changed since it was verified");
  }

  static Bytes read_back(const fs::path& p, std::uint64_t size) {
    Bytes b(size);
    FileSource in(p);
    if (read_full(in, b) != size) throw Error(Exit::output, p.string() + ": cannot read back");
    return b;
  }

  // The next file ID in the series `series` ("" for a series of its own).
  std::string next_id(const std::string& series) {
    std::size_t index;
    if (series.empty()) {
      index = ++series_count_;
    } else {
      auto [it, fresh] = series_.try_emplace(series, 0);
      if (fresh) it->second = ++series_count_;
      index = it->second;
    }
    std::size_t n = ++in_series_[index];
    if (index > kMaxPerFolder || n > kMaxPerFolder)
      throw Error(Exit::output, name_ + ": more than " + std::to_string(kMaxPerFolder) +
                                    " series or instances in a series for one medium");
    return "DICOM/ST000001/" + numbered("SE", index) + "/" + numbered("IM", n);
  }

  void instance(const ManifestFile& f, int fd) {
    const std::string what = name_ + ": " + f.path;
    Info info;
    try {
      info = scan(fd_path(fd));  // the bounded reader's rule first
    } catch (const Error& e) {
      std::string why = e.what();
      auto colon = why.find(": ");
      throw Error(e.code(),
                  what + ": " + (colon == std::string::npos ? why : why.substr(colon + 2)));
    }
    std::string id = next_id(f.series_instance_uid.empty() ? "-" : f.series_instance_uid);
    UniqueFd to = out_.create_file(id);
    if (info.transfer_syntax_uid == kExplicitLittle && has_preamble(fd))
      copy_fd(fd, to.get(), (out_.dest() / id).string());
    else
      transcode(fd, to.get(), what);
    if (::close(to.release()) != 0)
      throw Error(Exit::output, (out_.dest() / id).string() + ": " + std::strerror(errno));
    if (first_instance_.empty()) first_instance_ = id;
    files_.push_back(id);
    entries_[id] = f.path;
  }

  void attachment(const ManifestFile& f, int fd) {
    std::string id = "ATTACH/" + short_name(f.path, attachment_names_);
    UniqueFd to = out_.create_file(id);
    copy_fd(fd, to.get(), (out_.dest() / id).string());
    if (::close(to.release()) != 0)
      throw Error(Exit::output, (out_.dest() / id).string() + ": " + std::strerror(errno));
    attachment_ids_[f.path] = id;
    if (!f.report.empty()) reports_.emplace_back(&f, pacs::parse_kind(f.report));
  }

  const Manifest& m_;
  const std::string& name_;
  StagedFolder& out_;
  std::map<std::string, const ManifestFile*> by_path_;
  Scratch entry_{"a package entry for media"};
  std::size_t seen_ = 0;
  std::map<std::string, std::size_t> series_;  // Series Instance UID -> index
  std::size_t series_count_ = 0;
  std::map<std::size_t, std::size_t> in_series_;
  std::set<std::string> attachment_names_;
  std::map<std::string, std::string> attachment_ids_;  // entry -> ATTACH/NAME
  std::vector<std::pair<const ManifestFile*, pacs::ReportKind>> reports_;
  std::string first_instance_;
  std::vector<fs::path> files_;
  std::map<std::string, std::string> entries_;
};

std::string readme(const Manifest& m, std::size_t instances) {
  std::string s;
  s += "This medium holds DICOM images written by iep (iep-fetch --media).\r\n\r\n";
  s += "Created:   " + util::utc_now() + "\r\n";
  s += "Sent by:   " + m.sender.site + " (iep package " + m.package_id + ", " + m.created + ")\r\n";
  s += "Study:     " + m.study.study_instance_uid + "\r\n";
  s += "Instances: " + std::to_string(instances) + "\r\n\r\n";
  s += "Layout (IHE Portable Data for Imaging, DICOM General Purpose CD-R):\r\n";
  s += "  DICOMDIR   the DICOM index of every instance; open it with a DICOM viewer\r\n";
  s += "  DICOM/     the instances, one folder per series (Explicit VR Little Endian)\r\n";
  s += "  ATTACH/    other files that travelled with the study, if any\r\n";
  return s;
}

}  // namespace

MediaResult write_media(Source& plain, const std::string& name, const TrustStore& trust,
                        const fs::path& dest) {
  StagedFolder out(dest);  // refuses an existing dest before anything is read

  // First pass: the whole package checked against its signed manifest,
  // copied meanwhile for the second pass.
  UniqueFd spool = unnamed_temp_file("a package for media");
  FdSink copy(spool.get(), "temporary file");
  TeeSource tee(plain, copy);
  package::VerifyOptions vo;
  vo.open.trust = &trust;
  vo.check_dicom = false;
  package::Report rep = package::verify(tee, name, vo);
  if (rep.sealed)
    throw Error(Exit::usage,
                name + ": a sealed package; open it first (iep-open --stdout, iep-fetch --media)");
  if (rep.result != Exit::ok || !rep.manifest) throw Error(rep.result, rep.error);

  MediaResult result;
  result.manifest = std::move(*rep.manifest);
  if (::lseek(spool.get(), 0, SEEK_SET) != 0)
    throw Error(Exit::output, temp_root().string() + ": " + std::strerror(errno));
  FdSource again(spool.get(), name);
  MediaWriter w(result.manifest, name, out);
  w.run(again);
  result.reports = w.add_reports();
  result.instances = w.files().size();
  if (result.instances == 0)
    throw Error(Exit::invalid_dicom, name + ": no DICOM instance to write onto a medium");

  // DCMTK indexes the files where they are (the partial folder, ours alone,
  // mode 0700) and writes the DICOMDIR there.
  try {
    write_dicomdir(out.partial(), w.files(), "IEP", "", nullptr);
  } catch (const Error& e) {
    // Name the package's entry rather than the hidden partial folder.
    std::string why = e.what();
    for (const auto& [id, entry] : w.entries()) {
      const std::string where = (out.partial() / id).string() + ": ";
      if (why.starts_with(where))
        throw Error(e.code(), name + ": " + entry + ": " + why.substr(where.size()));
    }
    throw;
  }
  std::string text = readme(result.manifest, result.instances);
  UniqueFd r = out.create_file("README.TXT");
  FdSink(r.get(), (dest / "README.TXT").string()).write(util::as_bytes(text));
  r.reset();
  out.commit();
  return result;
}

}  // namespace iep::dicom
