// iep-store: plain packages into a PACS by C-STORE. Each package is read
// once, whole, into an unnamed temporary file while its manifest signature
// and every hash are checked; only then is anything of it parsed or sent.
// The instances are sent by N workers, each with its own association,
// reading their instance from the temporary file (pread), so a package of
// any size moves in the memory of N instances.
#include "iep/pacs/store.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "core/util.h"
#include "iep/core/io.h"
#include "iep/dicom/dicom_stream.h"
#include "iep/package/package.h"
#include "iep/pacs/report.h"
#include "pacs/association.h"
#include "pacs/commit.h"
#include "pacs/store_hook.h"
#include "pacs/store_pending.h"
#include "pacs/store_report.h"

namespace iep::pacs {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr std::uint64_t kInMemory = 64ull << 20;  // larger instances: their own temp file

void register_decoders() {
  static std::once_flag once;
  std::call_once(once, [] {
    DcmRLEDecoderRegistration::registerCodecs();
    DJDecoderRegistration::registerCodecs(EDC_photometricInterpretation, EUC_never);
    DJLSDecoderRegistration::registerCodecs(EJLSUC_never);
  });
}

std::string class_name(const std::string& uid) {
  const char* n = dcmFindNameOfUID(uid.c_str(), nullptr);
  return n ? n : uid;
}

std::string syntax_name(const std::string& uid) {
  DcmXfer x(uid.c_str());
  return x.getXfer() == EXS_Unknown ? uid : x.getXferName();
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// ---- pass 1: the package spooled while it is verified ---------------------

class Spool : public package::EntryHandler {
 public:
  Spool() : fd_(unnamed_temp_file("a package to store")) {}
  void begin(const std::string& path, std::uint64_t size) override { at_[path] = {written_, size}; }
  void data(ByteSpan d) override {
    FdSink(fd_.get(), temp_root().string() + " (temporary file)").write(d);
    written_ += d.size();
  }
  void end() override {}
  [[nodiscard]] int fd() const { return fd_.get(); }
  // Where an entry's bytes are: offset, size.
  [[nodiscard]] std::pair<std::uint64_t, std::uint64_t> where(const std::string& path) const {
    auto it = at_.find(path);
    if (it == at_.end()) throw Error(Exit::internal, path + ": not in the spool");
    return it->second;
  }

 private:
  UniqueFd fd_;
  std::uint64_t written_ = 0;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> at_;
};

// One instance, parsed from the spool: in memory, or when large from its
// own unnamed temporary file (DCMTK then leaves large values on disk until
// they are sent).
struct Instance {
  std::unique_ptr<DcmFileFormat> file;
  UniqueFd own;  // the large instance's file
};

// `n` bytes of the spool from `at` on.
void read_at(const Spool& spool, const ManifestFile& f, std::uint8_t* dst, std::uint64_t n,
             std::uint64_t at) {
  while (n > 0) {
    ssize_t r =
        ::pread(spool.fd(), dst, static_cast<std::size_t>(std::min<std::uint64_t>(n, 1 << 30)),
                static_cast<off_t>(at));
    if (r <= 0) throw Error(Exit::output, f.path + ": cannot read the temporary copy");
    dst += r;
    n -= static_cast<std::uint64_t>(r);
    at += static_cast<std::uint64_t>(r);
  }
}

// An entry's bytes from the spool, into `out` (in memory: the caller bounds them).
void read_spooled(const Spool& spool, const ManifestFile& f, Bytes& out) {
  const auto [offset, size] = spool.where(f.path);
  out.resize(size);
  read_at(spool, f, out.data(), size, offset);
}

// An instance parsed from its bytes in memory.
Instance parse_instance(ByteSpan bytes, const ManifestFile& f) {
  Instance inst;
  inst.file = std::make_unique<DcmFileFormat>();
  DcmInputBufferStream in;
  in.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
  in.setEos();
  inst.file->transferInit();
  const OFCondition c = inst.file->read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
  inst.file->transferEnd();
  if (c.bad()) throw Error(Exit::invalid_dicom, f.path + ": does not parse: " + c.text());
  return inst;
}

// A large instance copied from the spool into an unnamed temporary file of its own.
UniqueFd copy_out(const Spool& spool, const ManifestFile& f) {
  const auto [offset, size] = spool.where(f.path);
  UniqueFd own = unnamed_temp_file(f.path);
  Bytes chunk(4 << 20);
  for (std::uint64_t done = 0; done < size;) {
    std::uint64_t n = std::min<std::uint64_t>(chunk.size(), size - done);
    read_at(spool, f, chunk.data(), n, offset + done);
    FdSink(own.get(), f.path).write(ByteSpan(chunk.data(), n));
    done += n;
  }
  return own;
}

Instance load_instance(const Spool& spool, const ManifestFile& f, Bytes& buf) {
  if (spool.where(f.path).second <= kInMemory) {
    read_spooled(spool, f, buf);
    return parse_instance(buf, f);
  }
  Instance inst;
  inst.file = std::make_unique<DcmFileFormat>();
  {
    inst.own = copy_out(spool, f);
    const OFCondition c =
        inst.file->loadFile(OFFilename(("/proc/self/fd/" + std::to_string(inst.own.get())).c_str()),
                            EXS_Unknown, EGL_noChange, 64 * 1024);
    if (c.bad()) throw Error(Exit::invalid_dicom, f.path + ": does not parse: " + c.text());
  }
  return inst;
}

// An instance read by iep's bounded reader: from its first bytes when a
// pixel data value that runs to its end follows them (not read), else whole.
dicom::File read_light(const Spool& spool, const ManifestFile& f) {
  constexpr std::uint64_t kHead = 64 * 1024;
  const auto [offset, size] = spool.where(f.path);
  std::string head(static_cast<std::size_t>(std::min(size, kHead)), '\0');
  read_at(spool, f, reinterpret_cast<std::uint8_t*>(head.data()), head.size(), offset);
  if (head.size() < size) {
    if (auto file = dicom::File::parse_head(head, size, f.path)) return std::move(*file);
    if (size > kInMemory) return dicom::File::read(copy_out(spool, f), f.path);
    const std::size_t have = head.size();  // and the rest
    head.resize(static_cast<std::size_t>(size));
    read_at(spool, f, reinterpret_cast<std::uint8_t*>(head.data()) + have, size - have,
            offset + have);
  }
  return dicom::File::parse(std::move(head), f.path);
}

// An attachment's bytes from the spool (a report: bounded by the caller).
Bytes read_spooled(const Spool& spool, const ManifestFile& f) {
  Bytes b;
  read_spooled(spool, f, b);
  return b;
}

// ---- the journal: what is stored already ----------------------------------

class Journal {
 public:
  Journal(const fs::path& dir, const std::string& package_id, const Peer& peer) {
    util::Blake2b256 h;
    const std::string p = peer.to_string();
    h.write(util::as_bytes(p));
    const auto d = h.digest();
    std::string key;
    for (int i = 0; i < 8; ++i) key += fmt::format("{:02x}", d[static_cast<std::size_t>(i)]);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error(Exit::output, dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
    path_ = dir / (package_id + "-" + key + ".journal");
    if (fs::exists(path_)) {
      const std::string text = read_small_file(path_, 256u << 20);
      std::size_t at = 0;
      while (at < text.size()) {
        std::size_t nl = text.find('\n', at);
        if (nl == std::string::npos) break;  // a line cut by a crash: not stored
        std::string line = text.substr(at, nl - at);
        at = nl + 1;
        if (!line.empty() && line[0] != '#') done_.insert(std::move(line));
      }
    }
    const bool fresh = !fs::exists(path_);
    fd_.reset(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    if (fd_.get() < 0)
      throw Error(Exit::output, path_.string() + ": " + std::string(std::strerror(errno)));
    if (fresh) {
      append_raw(fmt::format("# iep-store: package {} into {}\n", package_id, p));
      ::fdatasync(fd_.get());
      fsync_dir(dir);
    }
    syncer_ = std::thread([this] { sync_loop(); });
  }
  ~Journal() {
    {
      std::lock_guard lock(m_);
      closing_ = true;
    }
    cv_.notify_one();
    syncer_.join();
    ::fdatasync(fd_.get());
  }
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  [[nodiscard]] bool stored(const std::string& uid) const { return done_.contains(uid); }
  // Records a stored instance: written at once (a killed process loses
  // nothing), synced to disk by a thread of its own, at most every
  // kSyncEvery, so that the senders never wait for the disk and the disk is
  // not asked to flush for every instance (a machine crash may lose the
  // last lines: those instances are sent again, and a PACS keeps one copy
  // of a SOP instance).
  void add(const std::string& uid) {
    std::lock_guard lock(m_);
    append_raw(uid + "\n");
    ++unsynced_;
    cv_.notify_one();
  }

 private:
  void sync_loop() {
    std::unique_lock lock(m_);
    for (;;) {
      cv_.wait(lock, [this] { return closing_ || unsynced_ > 0; });
      if (closing_) return;
      unsynced_ = 0;
      lock.unlock();
      ::fdatasync(fd_.get());
      lock.lock();
      cv_.wait_for(lock, kSyncEvery, [this] { return closing_; });
    }
  }
  static constexpr std::chrono::milliseconds kSyncEvery{100};
  void append_raw(const std::string& s) {
    if (::write(fd_.get(), s.data(), s.size()) != static_cast<ssize_t>(s.size()))
      throw Error(Exit::output, path_.string() + ": " + std::string(std::strerror(errno)));
  }
  fs::path path_;
  UniqueFd fd_;
  std::set<std::string> done_;
  std::mutex m_;
  std::condition_variable cv_;
  std::size_t unsynced_ = 0;
  bool closing_ = false;
  std::thread syncer_;
};

// ---- pass 2: sending ------------------------------------------------------

bool is_uncompressed(const std::string& ts) {
  return ts == UID_LittleEndianExplicitTransferSyntax ||
         ts == UID_LittleEndianImplicitTransferSyntax;
}

// A status worth another try: the peer is out of resources, or busy.
bool transient(std::uint16_t s) {
  return (s & 0xff00) == 0xa700 || s == 0x0213;
}

std::vector<Context> contexts_for(const std::vector<const ManifestFile*>& files) {
  std::map<std::string, std::set<std::string>> by_class;
  for (const auto* f : files) by_class[f->sop_class_uid].insert(f->transfer_syntax_uid);
  std::vector<Context> out;
  for (const auto& [cls, syntaxes] : by_class) {
    for (const auto& ts : syntaxes)
      if (!is_uncompressed(ts) && !ts.empty()) out.push_back({cls, {ts}});
    out.push_back({cls, uncompressed_syntaxes()});
  }
  return out;
}

class Sender {
 public:
  Sender(const StoreOptions& o, const Spool& spool, Journal& journal,
         std::vector<const ManifestFile*> todo, StoreResult& r,
         std::function<void(DcmDataset&)> apply)
      : o_(o),
        spool_(spool),
        journal_(journal),
        todo_(std::move(todo)),
        r_(r),
        apply_(std::move(apply)),
        contexts_(contexts_for(todo_)) {
    for (const auto* f : todo_) total_bytes_ += f->size;
    outcome_.resize(todo_.size());
  }

  void run() {
    register_decoders();
    // The first association opens here: an unreachable or refusing peer
    // fails the package before anything is sent.
    auto first = std::make_unique<Association>(o_.pacs, o_.net, contexts_);
    const int n = std::max(1, std::min<int>(o_.associations, static_cast<int>(todo_.size())));
    std::vector<std::thread> workers;
    std::exception_ptr error;
    std::mutex error_m;
    for (int i = 0; i < n; ++i) {
      std::unique_ptr<Association> a = i == 0 ? std::move(first) : nullptr;
      workers.emplace_back([this, i, a = std::move(a), &error, &error_m]() mutable {
        try {
          work(i, std::move(a));
        } catch (...) {
          std::lock_guard lock(error_m);
          if (!error) error = std::current_exception();
          stop_ = true;
        }
      });
    }
    for (auto& w : workers) w.join();
    if (error) std::rethrow_exception(error);
    for (std::size_t i = 0; i < todo_.size(); ++i) {
      const Outcome& out = outcome_[i];
      if (out.stored) {
        ++r_.sent;
        r_.bytes += todo_[i]->size;
        if (out.warning) ++r_.warnings;
      } else {
        r_.failed.push_back({todo_[i]->sop_instance_uid, todo_[i]->path,
                             out.status.empty() ? "not sent: " + stop_reason_ : out.status});
      }
    }
    if (r_.sent == 0 && stop_code_ != Exit::ok && !r_.failed.empty()) {
      r_.result = stop_code_;
      r_.error = stop_reason_;
    }
  }

 private:
  struct Outcome {
    bool stored = false;
    bool warning = false;
    std::string status;  // a failure, in words
  };

  void log(const std::string& line) {
    if (!o_.log) return;
    std::lock_guard lock(log_m_);
    o_.log(line);
  }

  void done(std::size_t i, Outcome out) {
    const ManifestFile& f = *todo_[i];
    if (out.stored) journal_.add(f.sop_instance_uid);
    std::lock_guard lock(log_m_);
    outcome_[i] = std::move(out);
    ++count_done_;
    bytes_done_ += f.size;
    if (o_.progress) o_.progress(count_done_, todo_.size(), bytes_done_, total_bytes_);
  }

  std::unique_ptr<Association> open_association() {
    return std::make_unique<Association>(o_.pacs, o_.net, contexts_);
  }

  void work(int worker, std::unique_ptr<Association> assoc) {
    if (!assoc) {
      try {
        assoc = open_association();
      } catch (const Error& e) {
        // Others carry on (a peer that takes one association at a time).
        log(fmt::format("association {}: {}", worker + 1, e.what()));
        return;
      }
    }
    // The next instance is read and parsed while this one is on the wire.
    const std::size_t n = todo_.size();
    const auto start = [this, n](std::size_t j) {
      std::future<Prepared> f;
      if (j < n && !stop_) f = std::async(std::launch::async, [this, j] { return prepare(j); });
      return f;
    };
    std::size_t i = next_.fetch_add(1);
    std::future<Prepared> cur = start(i);
    while (i < n) {
      const std::size_t j = next_.fetch_add(1);
      std::future<Prepared> ahead = start(j);
      if (cur.valid()) {
        Prepared p = cur.get();
        if (!stop_) send(i, assoc, p);
      }
      i = j;
      cur = std::move(ahead);
    }
    if (assoc) assoc->release();
  }

  struct Prepared {
    Instance inst;                          // parsed (and coerced by the hook)
    Bytes bytes;                            // or as stored: the file's bytes,
    std::optional<dicom::MetaHeader> meta;  // and where its data set starts
    std::string error;
  };

  // Reads one instance from the spool. Without a hook to apply, one with a
  // meta header is kept as its bytes, sent as they are when the peer takes
  // its transfer syntax (most of the time: it is proposed first); parsing
  // waits until the peer wants it decoded. Otherwise parsed, and the hook
  // applied.
  Prepared prepare(std::size_t i) {
    Prepared p;
    const ManifestFile& f = *todo_[i];
    try {
      if (!apply_ && spool_.where(f.path).second <= kInMemory) {
        read_spooled(spool_, f, p.bytes);
        p.meta = dicom::meta_header(p.bytes);
        if (p.meta) return p;
        p.inst = parse_instance(p.bytes, f);
        p.bytes = Bytes();
      } else {
        Bytes buf;
        p.inst = load_instance(spool_, f, buf);
        if (apply_) apply_(*p.inst.file->getDataset());
      }
    } catch (const std::exception& e) {
      p.error = e.what();
    }
    return p;
  }

  void send(std::size_t i, std::unique_ptr<Association>& assoc, Prepared& p) {
    const ManifestFile& f = *todo_[i];
    if (!p.error.empty()) {
      done(i, {false, false, p.error});
      return;
    }
    const std::string stored_ts =
        p.meta ? p.meta->transfer_syntax_uid
               : DcmXfer(p.inst.file->getDataset()->getOriginalXfer()).getXferID();
    std::string last;
    for (int attempt = 0; attempt <= o_.retries; ++attempt) {
      if (stop_) {
        done(i, {false, false, "not sent: " + stop_reason_});
        return;
      }
      if (attempt > 0) {
        const double wait =
            std::min(30.0, o_.backoff * static_cast<double>(1 << std::min(attempt - 1, 10)));
        log(fmt::format("retry {} of {} for {} ({}) in {:.1f}s: {}", attempt, o_.retries,
                        f.sop_instance_uid, f.path, wait, last));
        std::this_thread::sleep_for(std::chrono::duration<double>(wait));
      }
      if (!assoc || !assoc->open()) {
        try {
          assoc = open_association();
        } catch (const Error& e) {
          last = e.what();
          assoc.reset();
          if (attempt == o_.retries) {
            // The peer is gone: the rest is not sent either.
            std::lock_guard lock(log_m_);
            if (!stop_) {
              stop_reason_ = last;
              stop_code_ = e.code();
              stop_ = true;
            }
          }
          continue;
        }
      }
      // The stored syntax if the peer took it, else uncompressed (decoded).
      // (DCMTK's lookup falls back to any context of the class by itself.)
      T_ASC_PresentationContextID pc = assoc->accepted(f.sop_class_uid, stored_ts);
      std::string as = pc != 0 ? assoc->accepted_syntax(pc) : std::string();
      if (as != stored_ts && !is_uncompressed(as)) pc = 0;
      if (pc == 0) {
        done(i, {false, false,
                 fmt::format("refused: the peer accepted no presentation context for {} in {} "
                             "or uncompressed",
                             class_name(f.sop_class_uid), syntax_name(stored_ts))});
        return;
      }
      const bool as_stored = p.meta && as == stored_ts;
      if (!as_stored && !p.inst.file) {
        try {
          p.inst = parse_instance(p.bytes, f);
        } catch (const Error& e) {
          done(i, {false, false, e.what()});
          return;
        }
      }
      if (as != stored_ts) {
        DcmDataset& ds = *p.inst.file->getDataset();
        const E_TransferSyntax to = DcmXfer(as.c_str()).getXfer();
        if (ds.chooseRepresentation(to, nullptr).bad() || !ds.canWriteXfer(to)) {
          done(i, {false, false,
                   fmt::format("not sent: the peer does not accept {} and it cannot be decoded "
                               "to send it uncompressed",
                               syntax_name(stored_ts))});
          return;
        }
      }
      std::uint16_t status = 0;
      std::string comment;
      try {
        if (as_stored)
          status = assoc->store(pc, ByteSpan(p.bytes).subspan(p.meta->data_offset), f.sop_class_uid,
                                f.sop_instance_uid, &comment);
        else
          status = assoc->store(pc, *p.inst.file->getDataset(), f.sop_class_uid, f.sop_instance_uid,
                                &comment);
      } catch (const Error& e) {
        last = fmt::format("the association broke: {}", e.what());
        assoc.reset();
        continue;
      }
      std::string words = status_text(status);
      if (!comment.empty()) words += ": " + comment;
      if (status_success(status) || status_warning(status)) {
        log(fmt::format("stored {} ({}) as {}: {}", f.path, f.sop_instance_uid, syntax_name(as),
                        words));
        done(i, {true, status_warning(status), {}});
        return;
      }
      last = words;
      if (!transient(status)) break;
    }
    log(fmt::format("FAILED {} ({}): {}", f.path, f.sop_instance_uid, last));
    done(i, {false, false, last});
  }

  const StoreOptions& o_;
  const Spool& spool_;
  Journal& journal_;
  std::vector<const ManifestFile*> todo_;
  StoreResult& r_;
  std::function<void(DcmDataset&)> apply_;
  std::vector<Context> contexts_;
  std::vector<Outcome> outcome_;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> stop_{false};
  std::string stop_reason_;
  Exit stop_code_ = Exit::ok;
  std::mutex log_m_;
  std::uint64_t count_done_ = 0, bytes_done_ = 0, total_bytes_ = 0;
};

// ---- one package ------------------------------------------------------------

// Storage Commitment for every instance of the package (sent now or before).
void commit(const StoreOptions& o, const Manifest& m, const std::string& label, StoreResult& r,
            const std::vector<ManifestFile>& reports) {
  CommitRequest req;
  req.listen_port = o.commit_port;
  req.timeout = o.commit_timeout;
  std::map<std::string, const ManifestFile*> by_uid;
  for (const auto& f : m.files)
    if (!f.attachment) {
      req.instances.emplace_back(f.sop_class_uid, f.sop_instance_uid);
      by_uid[f.sop_instance_uid] = &f;
    }
  for (const auto& f : reports) {
    req.instances.emplace_back(f.sop_class_uid, f.sop_instance_uid);
    by_uid[f.sop_instance_uid] = &f;
  }
  CommitReport rep = storage_commit(o.pacs, o.net, req);
  std::set<std::string> committed(rep.committed.begin(), rep.committed.end());
  for (const auto& [uid, f] : by_uid) {
    if (committed.contains(uid)) {
      ++r.committed;
      continue;
    }
    auto it = rep.failed.find(uid);
    r.failed.push_back(
        {uid, f->path,
         "not committed: " +
             (it != rep.failed.end() ? it->second : std::string("not in the report"))});
  }
  if (!r.failed.empty()) {
    r.result = Exit::instances_failed;
    r.error = fmt::format("{}: {} of {} instances not committed by {}", label, r.failed.size(),
                          r.instances, o.pacs.to_string());
  }
  if (o.log)
    o.log(fmt::format("{}: {} instances committed by {}", label, r.committed, o.pacs.to_string()));
}

// Reads a package through, copying every byte into an unnamed temporary
// file, which rewind() then gives for reading from the start.
class KeptPackage : public Source {
 public:
  explicit KeptPackage(Source& in)
      : fd_(unnamed_temp_file("a package as received")),
        copy_(fd_.get(), temp_root().string() + " (temporary file)"),
        tee_(in, copy_) {}
  KeptPackage(const KeptPackage&) = delete;  // tee_ points into this object
  KeptPackage& operator=(const KeptPackage&) = delete;
  std::size_t read(MutableByteSpan buf) override { return tee_.read(buf); }
  int rewind() {
    // What the reader left after the package's end (padding) is part of it.
    std::uint8_t buf[65536];
    while (read(MutableByteSpan(buf, sizeof buf)) > 0) {
    }
    if (::lseek(fd_.get(), 0, SEEK_SET) != 0)
      throw Error(Exit::output, "cannot read back the temporary copy of a package");
    return fd_.get();
  }

 private:
  UniqueFd fd_;
  FdSink copy_;
  TeeSource tee_;
};

// For packages read from stdin: where one not completely stored is kept
// (store_pending.h).
struct Pending {
  fs::path dir;
};

StoreResult store_one(Source& src, const std::string& label, const StoreOptions& o,
                      const TrustStore& trust, const Pending* pending = nullptr) {
  StoreResult r;
  r.input = label;
  const double start = now_seconds();
  // The package as received, kept when the hook wants it (quarantine) or
  // when it came from stdin (pending).
  std::optional<KeptPackage> kept;
  bool verified = false;
  try {
    Spool spool;
    if (pending || (o.study_hook && o.study_hook->keep_package)) kept.emplace(src);
    Manifest m = package::read_plain(kept ? static_cast<Source&>(*kept) : src, label, trust, spool);
    verified = true;
    r.package_id = m.package_id;
    r.study_instance_uid = m.study.study_instance_uid;
    Journal journal(o.journal, m.package_id, o.pacs);
    std::vector<const ManifestFile*> todo;
    for (const auto& f : m.files) {
      if (f.attachment) continue;
      ++r.instances;
      if (journal.stored(f.sop_instance_uid))
        ++r.already;
      else
        todo.push_back(&f);
    }
    // The study's report, delivered as a DICOM instance of it (made below).
    const ManifestFile* first_instance = nullptr;
    for (const auto& f : m.files)
      if (!f.attachment) {
        first_instance = &f;
        break;
      }
    std::deque<std::pair<const ManifestFile*, ManifestFile>> reports;
    std::vector<ManifestFile> report_entries;  // for Storage Commitment
    for (const auto& f : m.files) {
      if (!f.attachment || f.report.empty() || !first_instance) continue;
      ManifestFile e = report_entry(m, f);
      report_entries.push_back(e);
      ++r.instances;
      if (journal.stored(e.sop_instance_uid))
        ++r.already;
      else
        reports.emplace_back(&f, std::move(e));
    }
    if (!todo.empty() || !reports.empty()) {
      // (Either needs a DICOM instance: todo holds them, a report is made from one.)
      if (!first_instance) throw Error(Exit::internal, label + ": no DICOM instance to send");
      std::function<void(DcmDataset&)> apply;
      if (o.study_hook && o.study_hook->decide) {
        Bytes buf;
        Instance inst = load_instance(spool, *first_instance, buf);
        std::optional<FdSource> package;
        if (kept) package.emplace(kept->rewind(), label);
        StudyInput in{*inst.file->getDataset(), m, label,
                      [&](const std::function<void(const dicom::File&)>& f) {
                        for (const auto& e : m.files)
                          if (!e.attachment) f(read_light(spool, e));
                      },
                      package ? &*package : nullptr};
        StudyDecision d = o.study_hook->decide(in);
        if (d.quarantine)
          throw Error(Exit::quarantined, fmt::format("{}: study {} quarantined, nothing stored: {}",
                                                     label, m.study.study_instance_uid, d.reason));
        apply = std::move(d.apply);
      }
      for (auto& [attachment, e] : reports) {
        Bytes buf;
        Instance inst = load_instance(spool, *first_instance, buf);
        if (apply) apply(*inst.file->getDataset());
        if (attachment->size > kMaxReportBytes)
          throw Error(Exit::input, label + ": the report " + attachment->path + " is too large");
        const Bytes dicom = report_dicom(*inst.file->getDataset(), read_spooled(spool, *attachment),
                                         *attachment, e, label);
        e.size = dicom.size();
        spool.begin(e.path, e.size);
        spool.data(dicom);
        todo.push_back(&e);
      }
      Sender sender(o, spool, journal, std::move(todo), r, std::move(apply));
      sender.run();
      if (r.result == Exit::ok && !r.failed.empty()) {
        r.result = Exit::instances_failed;
        r.error = fmt::format("{}: {} of {} instances not stored into {}", label, r.failed.size(),
                              r.instances, o.pacs.to_string());
      }
    }
    if (o.commit && r.result == Exit::ok && r.instances > 0) commit(o, m, label, r, report_entries);
  } catch (const Error& e) {
    r.result = e.code();
    r.error = e.what();
  }
  if (pending && verified && r.result != Exit::ok && r.result != Exit::quarantined) {
    try {
      const fs::path at = keep_pending(pending->dir, r.package_id, o.pacs, kept->rewind());
      r.error +=
          fmt::format("; the package is kept in {}, sent first by the next iep-store --pacs {}",
                      at.string(), o.pacs.to_string());
    } catch (const Error& e) {
      r.error += fmt::format("; the package could not be kept: {}", e.what());
    }
  }
  r.seconds = now_seconds() - start;
  return r;
}

// The package files a folder holds, in name order (hidden files skipped).
void walk(const fs::path& p, std::vector<fs::path>& out) {
  std::vector<fs::path> here;
  std::error_code ec;
  for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().starts_with(".")) continue;
    here.push_back(it->path());
  }
  if (ec) throw Error(Exit::input, p.string() + ": " + ec.message());
  std::sort(here.begin(), here.end());
  for (const auto& q : here) {
    if (fs::is_directory(q))
      walk(q, out);
    else if (fs::is_regular_file(q))
      out.push_back(q);
  }
}

}  // namespace

std::string StoreResult::to_json() const {
  json j;
  j["input"] = input;
  j["package"] = package_id;
  j["study_instance_uid"] = study_instance_uid;
  j["instances"] = instances;
  j["sent"] = sent;
  j["warnings"] = warnings;
  j["already"] = already;
  json f = json::array();
  for (const auto& x : failed)
    f.push_back({{"sop_instance_uid", x.sop_instance_uid}, {"path", x.path}, {"status", x.status}});
  j["failed"] = std::move(f);
  j["committed"] = committed;
  j["bytes"] = bytes;
  j["seconds"] = std::round(seconds * 1000) / 1000;
  j["result"] = exit_name(result);
  if (result != Exit::ok) j["error"] = error;
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

Exit store(const std::vector<std::string>& inputs_in, const StoreOptions& o,
           const std::function<void(const StoreResult&)>& on_package) {
  init_dcmtk_network();
  TrustStore none;
  const TrustStore& trust = o.trust ? *o.trust : none;
  std::vector<std::string> inputs = inputs_in;
  if (o.pending_only)
    inputs.clear();
  else if (inputs.empty())
    inputs.push_back("-");
  // Every input named exists before anything is sent.
  std::vector<std::string> files;
  for (const auto& in : inputs) {
    if (in == "-") {
      files.push_back(in);
      continue;
    }
    std::error_code ec;
    auto st = fs::status(in, ec);
    if (ec || !fs::exists(st)) throw Error(Exit::input, in + ": no such file or folder");
    if (fs::is_directory(st)) {
      std::vector<fs::path> found;
      walk(in, found);
      if (found.empty()) throw Error(Exit::input, in + ": the folder holds no package");
      for (auto& p : found) files.push_back(p.string());
    } else {
      files.push_back(in);
    }
  }
  Exit worst = Exit::ok;
  Pending pending;
  pending.dir = pending_folder(o.journal);
  // The packages a run read from stdin and kept pending: false when the
  // PACS was unreachable or refused the association.
  const auto send_pending = [&] {
    for (const auto& p : pending_for(pending.dir, o.pacs)) {
      // A pending file that cannot be read is reported and left there: it
      // must not stop the run (stdin would be lost).
      StoreResult r;
      try {
        FileSource raw(p);
        package::PackageStream stream(raw, p.string());
        Source* src = stream.next();
        if (!src) throw Error(Exit::corrupt, p.string() + ": empty: no package");
        r = store_one(*src, p.string() + " (pending)", o, trust);
      } catch (const Error& e) {
        r.input = p.string() + " (pending)";
        r.result = e.code();
        r.error = e.what();
      }
      if (r.result == Exit::ok || r.result == Exit::quarantined)
        drop_pending(p);
      else
        r.error += "; still pending";
      on_package(r);
      if (r.result != Exit::ok && worst == Exit::ok) worst = r.result;
      if (r.result == Exit::pacs_unreachable || r.result == Exit::pacs_rejected) return false;
    }
    return true;
  };
  // First those of earlier runs.
  bool gone = !send_pending();
  for (const auto& file : files) {
    if (gone && file != "-") return worst;
    std::unique_ptr<Source> raw;
    const std::string name = file == "-" ? "stdin" : file;
    if (file == "-")
      raw = std::make_unique<FdSource>(0, "stdin");
    else
      raw = std::make_unique<FileSource>(file);
    package::PackageStream stream(*raw, name);
    for (;;) {
      Source* src = stream.next();
      if (!src) break;
      std::string label = name;
      if (file == "-" || stream.count() > 1)
        label = fmt::format("{} (package {})", name, stream.count());
      StoreResult r = store_one(*src, label, o, trust, file == "-" ? &pending : nullptr);
      on_package(r);
      if (r.result != Exit::ok && worst == Exit::ok) worst = r.result;
      if (r.result == Exit::pacs_unreachable || r.result == Exit::pacs_rejected) {
        // The rest of stdin is acknowledged at the hub already: each is
        // still read, tried, and kept pending if it fails too.
        if (file != "-") return worst;
        gone = true;
      } else if (gone && r.result == Exit::ok && file == "-") {
        // The PACS is back: the packages kept meanwhile go now.
        gone = !send_pending();
      }
      // A package whose structure failed hides where the next one starts.
      if (r.result == Exit::not_package || (r.result != Exit::ok && !stream.at_boundary())) break;
    }
    if (stream.count() == 0) throw Error(Exit::input, name + ": empty: no package");
  }
  return worst;
}

}  // namespace iep::pacs
