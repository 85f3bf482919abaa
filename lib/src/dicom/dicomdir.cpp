// A fresh DICOMDIR for de-identified output, built with DCMTK's
// DicomDirInterface (what dcmgpdir/dcmmkdir use), written atomically.
#include "iep/dicom/dicomdir.h"

#include <dcmtk/config/osconfig.h>  // must come first among DCMTK headers
#include <dcmtk/dcmdata/dcddirif.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdicdir.h>
#include <dcmtk/dcmdata/dcdirrec.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/oflog/appender.h>
#include <dcmtk/oflog/oflog.h>
#include <dcmtk/oflog/spi/logevent.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <system_error>

#include "iep/core/error.h"
#include "iep/core/io.h"

namespace fs = std::filesystem;

namespace iep::dicom {
namespace {

// DICOM PS3.10 8.5 / PS3.12: a File ID has at most 8 components of 1-8
// characters from A-Z 0-9 _; the File-set ID is at most 16 characters of the
// same set (DCMTK refuses spaces in it too).
constexpr std::size_t kMaxComponents = 8;
constexpr std::size_t kMaxComponentLength = 8;
constexpr std::size_t kMaxFilesetId = 16;
// Bounds on what we keep of DCMTK's log while explaining a refusal.
constexpr std::size_t kMaxLogLines = 6;
constexpr std::size_t kMaxLogLine = 300;

bool conformant_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Same policy as the rest of libiep: DCMTK must not print; we report errors.
void quiet_dcmtk() {
  static std::once_flag once;
  std::call_once(once, [] { OFLog::configure(OFLogger::OFF_LOG_LEVEL); });
}

// Checks one file ID ("DICOM/S0000001/I0000001"); returns why it is not
// conformant, or "" when it is. Works on the text, so "A//B", "A/" and "/A"
// (empty components) are refused rather than normalised.
std::string file_id_problem(const std::string& id) {
  if (id.empty()) return "empty file ID";
  if (id == "DICOMDIR") return "the DICOMDIR cannot index itself";
  std::size_t count = 0;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = id.find('/', start);
    const std::string c = id.substr(start, slash == std::string::npos ? slash : slash - start);
    if (++count > kMaxComponents) return "more than 8 components";
    if (c.empty() || c.size() > kMaxComponentLength)
      return "component \"" + c + "\" is not 1-8 characters";
    for (char ch : c)
      if (!conformant_char(ch))
        return "component \"" + c + "\" has characters other than A-Z 0-9 _";
    if (slash == std::string::npos) return {};
    start = slash + 1;
  }
}

// Collects the error messages DCMTK's dcmdata logs from this thread while a
// LogCapture is alive: DicomDirInterface returns only a generic condition
// ("Missing attribute") and says which attribute of which file in its log.
thread_local std::vector<std::string>* t_capture = nullptr;

class CaptureAppender final : public dcmtk::log4cplus::Appender {
 public:
  ~CaptureAppender() override { destructorImpl(); }
  void close() override { closed = true; }

 protected:
  void append(const dcmtk::log4cplus::spi::InternalLoggingEvent& event) override {
    // Other threads' messages (if any run now) are not ours to report.
    if (t_capture == nullptr || t_capture->size() >= kMaxLogLines) return;
    std::string line = event.getMessage().c_str();
    for (char& c : line)
      if (c == '\n' || c == '\r') c = ' ';
    if (line.size() > kMaxLogLine) line = line.substr(0, kMaxLogLine) + "...";
    t_capture->push_back(std::move(line));
  }
};

// Routes dcmdata's ERROR messages of this thread into lines() for the
// lifetime of the object, then restores the logger as it was.
class LogCapture {
 public:
  LogCapture()
      : logger_(OFLog::getLogger("dcmtk.dcmdata")),
        // log4cplus appenders are intrusively reference-counted: the shared
        // pointer owns the object from here on.
        appender_(new CaptureAppender),
        old_level_(logger_.getLogLevel()),
        old_additivity_(logger_.getAdditivity()) {
    logger_.addAppender(appender_);
    logger_.setAdditivity(false);  // keep the messages off the (silenced) console
    logger_.setLogLevel(OFLogger::ERROR_LOG_LEVEL);
    t_capture = &lines_;
  }
  ~LogCapture() {
    t_capture = nullptr;
    logger_.setLogLevel(old_level_);
    logger_.setAdditivity(old_additivity_);
    logger_.removeAppender(appender_);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // The messages logged since the last take(), without a trailing mention of
  // `file` (our message names the file already) and without those that only
  // repeat `known` (the condition text, which the caller reports).
  std::string take(const std::string& file, const std::string& known) {
    std::string out;
    for (std::string& line : lines_) {
      if (!known.empty() && line.rfind(known, 0) == 0) continue;
      const std::string suffixes[] = {": " + file, " in file", " for file", " of file"};
      for (const std::string& suffix : suffixes)
        if (line.size() >= suffix.size() &&
            line.compare(line.size() - suffix.size(), suffix.size(), suffix) == 0)
          line.erase(line.size() - suffix.size());
      if (!out.empty()) out += "; ";
      out += line;
    }
    lines_.clear();
    return out;
  }

 private:
  OFLogger logger_;
  dcmtk::log4cplus::SharedAppenderPtr appender_;
  dcmtk::log4cplus::LogLevel old_level_;
  bool old_additivity_;
  std::vector<std::string> lines_;
};

// A private folder inside ROOT for DCMTK to write the new DICOMDIR into (it
// deletes an existing file of the name it is given, and writes its own
// temporary beside it); removed with whatever is left in it.
std::string reason(const OFCondition& cond, LogCapture& log, const std::string& file) {
  std::string why = cond.text();
  const std::string detail = log.take(file, why);
  if (!detail.empty()) why += " (" + detail + ")";
  return why;
}

// DCMTK does not check the stream when it closes the file it wrote (a full
// disk goes unnoticed), so read it back: it must parse and reference every
// file once.
void verify_written(const fs::path& dicomdir, std::size_t expected_refs) {
  DcmFileFormat ff;
  OFCondition cond = ff.loadFile(dicomdir.c_str());
  if (cond.bad())
    throw Error(Exit::output,
                dicomdir.string() + ": written DICOMDIR does not read back: " + cond.text());
  DcmSequenceOfItems* seq = nullptr;
  if (ff.getDataset()->findAndGetSequence(DCM_DirectoryRecordSequence, seq).bad() || seq == nullptr)
    throw Error(Exit::output, dicomdir.string() + ": written DICOMDIR has no record sequence");
  std::size_t refs = 0;
  for (unsigned long i = 0; i < seq->card(); ++i) {
    DcmItem* rec = seq->getItem(i);
    if (rec != nullptr && rec->tagExistsWithValue(DCM_ReferencedFileID)) ++refs;
  }
  if (refs != expected_refs)
    throw Error(Exit::internal, dicomdir.string() + ": DCMTK indexed " + std::to_string(refs) +
                                    " of " + std::to_string(expected_refs) + " files");
}

// The SOP Instance UID a file's meta header declares ("" if none), read
// without the data set.
std::string media_sop_instance(const fs::path& file) {
  DcmFileFormat ff;
  if (ff.loadFile(file.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_metaOnly).bad())
    return {};
  OFString uid;
  if (ff.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, uid).bad()) return {};
  return uid.c_str();
}

void fsync_file(const fs::path& file) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0)
    throw Error(Exit::output, file.string() + ": fsync failed: " + std::strerror(errno));
}

}  // namespace

namespace {

// The first file a record (or one below it) references, relative to the
// DICOMDIR's folder; "" if none.
std::string first_file(DcmDirectoryRecord& rec) {
  if (OFString f; rec.findAndGetOFStringArray(DCM_ReferencedFileID, f).good() && !f.empty())
    return f.c_str();
  for (unsigned long i = 0; i < rec.cardSub(); ++i)
    if (DcmDirectoryRecord* sub = rec.getSub(i))
      if (std::string f = first_file(*sub); !f.empty()) return f;
  return {};
}

// DCMTK invents a missing Study Date and Time from the clock and a missing
// Study ID from a counter (which can look like a time of the originals);
// where the study's files have none, use fixed dummies and an ID derived
// from the Study Instance UID instead, so the same files always give the
// same DICOMDIR.
void settle_study_keys(DcmDirectoryRecord& root, const fs::path& folder) {
  for (unsigned long p = 0; p < root.cardSub(); ++p) {
    DcmDirectoryRecord* patient = root.getSub(p);
    if (patient == nullptr) continue;
    for (unsigned long s = 0; s < patient->cardSub(); ++s) {
      DcmDirectoryRecord* study = patient->getSub(s);
      if (study == nullptr || study->getRecordType() != ERT_Study) continue;
      std::string file = first_file(*study);
      std::replace(file.begin(), file.end(), '\\', '/');
      DcmFileFormat ff;
      if (file.empty() ||
          ff.loadFile(OFFilename((folder / file).c_str()), EXS_Unknown, EGL_noChange, 4096).bad())
        continue;
      OFString value;
      if (ff.getDataset()->findAndGetOFString(DCM_StudyDate, value).bad() || value.empty())
        study->putAndInsertString(DCM_StudyDate, "19000101");
      if (ff.getDataset()->findAndGetOFString(DCM_StudyTime, value).bad() || value.empty())
        study->putAndInsertString(DCM_StudyTime, "000000");
      if (ff.getDataset()->findAndGetOFString(DCM_StudyID, value).bad() || value.empty()) {
        OFString uid;
        ff.getDataset()->findAndGetOFString(DCM_StudyInstanceUID, uid);
        unsigned char h[8];
        crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(uid.c_str()),
                           uid.length(), nullptr, 0);
        std::string id;
        for (unsigned char c : h) id += "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[c & 31];
        study->putAndInsertString(DCM_StudyID, id.c_str());
      }
    }
  }
}

// Rewrites a new DICOMDIR deterministically: fixed study dates and times
// where DCMTK invented them, and, when given, our Media Storage SOP
// Instance UID instead of DCMTK's random one. DcmDicomDir recomputes the
// record offsets, which move with the meta header's length.
void settle(const fs::path& dicomdir, const fs::path& folder, const std::string& uid) {
  OFCondition cond;
  {
    DcmDicomDir dd(OFFilename(dicomdir.c_str()));
    cond = dd.error();
    if (cond.good()) settle_study_keys(dd.getRootRecord(), folder);
    if (cond.good() && !uid.empty())
      cond = dd.getDirFileFormat().getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID,
                                                                     uid.c_str());
    if (cond.good()) cond = dd.write(EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_withoutGL);
  }
  if (cond.bad()) throw Error(Exit::output, dicomdir.string() + ": cannot rewrite: " + cond.text());
}

}  // namespace

void write_dicomdir(const fs::path& root, const std::vector<fs::path>& files,
                    const std::string& fileset_id, const std::string& media_uid,
                    std::vector<std::string>* refused) {
  quiet_dcmtk();

  if (fileset_id.size() > kMaxFilesetId)
    throw Error(Exit::usage, "file-set ID \"" + fileset_id + "\": longer than 16 characters");
  for (char c : fileset_id)
    if (!conformant_char(c))
      throw Error(Exit::usage, "file-set ID \"" + fileset_id + "\": only A-Z 0-9 _ are allowed");

  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw Error(Exit::output, root.string() + ": not a folder");

  // Check every name and file before DCMTK sees any, so a bad list leaves no
  // trace and the message is ours rather than DCMTK's.
  std::set<std::string> seen;
  for (const fs::path& rel : files) {
    const std::string id = rel.generic_string();
    if (const std::string problem = file_id_problem(id); !problem.empty())
      throw Error(Exit::internal, id + ": not a DICOMDIR file ID: " + problem);
    if (!seen.insert(id).second) throw Error(Exit::internal, id + ": listed twice");
    const fs::path full = root / rel;
    // symlink_status: a link could index a file outside ROOT.
    const fs::file_status st = fs::symlink_status(full, ec);
    if (!fs::exists(st)) throw Error(Exit::input, full.string() + ": no such file");
    if (!fs::is_regular_file(st)) throw Error(Exit::input, full.string() + ": not a regular file");
  }

  // Declared first, so it is removed after DicomDirInterface is gone: that
  // destructor writes out an unfinished DICOMDIR, which must land in here.
  TempDir tmp(root, ".iep-dicomdir");
  const fs::path staged = tmp.path() / "DICOMDIR";
  LogCapture log;
  std::size_t indexed = 0;
  {
    DicomDirInterface ddir;
    ddir.enableInventMode();            // invent missing Type 1 keys (PatientID, StudyID, ...)
    ddir.disableTransferSyntaxCheck();  // compressed images stay as they came
    ddir.disableBackupMode();           // we keep the old DICOMDIR ourselves until the rename

    OFCondition cond = ddir.createNewDicomDir(DicomDirInterface::AP_GeneralPurpose,
                                              OFFilename(staged.c_str()), fileset_id.c_str());
    if (cond.bad())
      throw Error(Exit::output,
                  staged.string() + ": cannot create DICOMDIR: " + reason(cond, log, ""));

    const OFFilename dir(root.c_str());
    // DCMTK only warns about a second file with the same SOP instance and
    // indexes one of them; a file-set must not hold both.
    std::map<std::string, std::string> instances;  // SOP Instance UID -> file ID
    for (const fs::path& rel : files) {
      const std::string id = rel.generic_string();
      auto refuse = [&](const std::string& why) {
        std::string message = (root / rel).string() + ": " + why;
        if (refused == nullptr) throw Error(Exit::invalid_dicom, message);
        refused->push_back(std::move(message));
      };
      const std::string uid = media_sop_instance(root / rel);
      if (auto it = instances.find(uid); !uid.empty() && it != instances.end()) {
        refuse("same SOP instance as " + it->second);
        continue;
      }
      cond = ddir.addDicomFile(OFFilename(id.c_str()), dir);
      if (cond.bad()) {
        refuse(reason(cond, log, id));
        continue;
      }
      if (!uid.empty()) instances.emplace(uid, id);
      ++indexed;
    }
    cond = ddir.writeDicomDir();
    if (cond.bad())
      throw Error(Exit::output,
                  staged.string() + ": cannot write DICOMDIR: " + reason(cond, log, ""));
  }

  settle(staged, root, media_uid);
  verify_written(staged, indexed);
  fsync_file(staged);
  const fs::path target = root / "DICOMDIR";
  fs::rename(staged, target, ec);
  if (ec) throw Error(Exit::output, target.string() + ": cannot replace: " + ec.message());
  fsync_dir(root);
}

}  // namespace iep::dicom
