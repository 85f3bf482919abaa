#include "iep/package/package.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <unordered_set>

#include "core/util.h"
#include "iep/package/age.h"
#include "iep/package/tar.h"
#include "iep/package/zstd.h"
#include "iep/pacs/report.h"
#include "read_ahead.h"

namespace iep::package {
namespace fs = std::filesystem;

#ifdef IEP_FUZZING
bool fuzzing::skip_signatures = false;
#endif

namespace {

constexpr std::size_t kBuf = 256 * 1024;
constexpr std::uint64_t kMaxManifest = 64ull << 20;
constexpr std::uint64_t kMaxSignature = 8 << 10;
constexpr std::string_view kAgeMagic = "age-encryption.org/v1\n";

// ---- planning -----------------------------------------------------------

bool is_dicomdir_name(const fs::path& p) {
  std::string n = p.filename().string();
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::toupper(c); });
  return n == "DICOMDIR";
}

void collect(const fs::path& p, std::vector<fs::path>& out, bool& saw_dicomdir) {
  std::error_code ec;
  auto st = fs::status(p, ec);
  if (ec || !fs::exists(st)) throw Error(Exit::input, p.string() + ": No such file or directory");
  if (fs::is_directory(st)) {
    std::vector<fs::path> entries;
    fs::directory_iterator it(p, ec);
    if (ec) throw Error(Exit::input, p.string() + ": " + ec.message());
    for (const auto& e : it) entries.push_back(e.path());
    std::sort(entries.begin(), entries.end());
    // A folder with a DICOMDIR (a CD) is read through its DICOMDIR.
    for (const auto& e : entries)
      if (is_dicomdir_name(e) && fs::is_regular_file(e)) return collect(e, out, saw_dicomdir);
    for (const auto& e : entries) {
      if (fs::is_symlink(fs::symlink_status(e)) && fs::is_directory(e)) continue;  // no loops
      collect(e, out, saw_dicomdir);
    }
  } else if (fs::is_regular_file(st)) {
    if (is_dicomdir_name(p)) {
      saw_dicomdir = true;
      auto files = dicom::dicomdir_files(p);
      out.insert(out.end(), files.begin(), files.end());
    } else {
      out.push_back(p);
    }
  } else {
    throw Error(Exit::input, p.string() + ": not a regular file or folder");
  }
}

// A UID as a path component; anything else is replaced by a stable digest.
std::string uid_name(const std::string& uid) {
  if (uid.empty()) return "unknown";
  if (dicom::valid_uid(uid)) return uid;
  util::Blake2b256 h;
  h.write(util::as_bytes(uid));
  auto d = h.digest();
  return "x" + util::hex(ByteSpan(d.data(), 8));
}

std::uint64_t size_of(const fs::path& p) {
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  if (ec) throw Error(Exit::input, p.string() + ": " + ec.message());
  return n;
}

struct Scanned {
  fs::path source;
  dicom::Info info;
  bool failure = false;  // not an acceptable DICOM instance
  std::string why;       // dicom::scan's message, naming the file and the cause
};

// Scans files with DCMTK on every core: parsing headers is most of the cost
// of planning. Results keep the input order; any error other than "not
// DICOM" is rethrown, the first in input order.
std::vector<Scanned> scan_all(std::vector<fs::path>& files) {
  std::vector<Scanned> out(files.size());
  std::vector<std::exception_ptr> errors(files.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next++) < files.size();) {
      out[i].source = std::move(files[i]);
      try {
        out[i].info = dicom::scan(out[i].source);
      } catch (const Error& e) {
        if (e.code() == Exit::invalid_dicom)
          out[i].failure = true, out[i].why = e.what();
        else
          errors[i] = std::current_exception();
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  unsigned n = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  if (files.size() < 16) n = 1;
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

// ---- streams ------------------------------------------------------------

class TeeSink : public Sink {
 public:
  TeeSink(Sink& out, Sink& tap) : out_(out), tap_(tap) {}
  void write(ByteSpan d) override {
    tap_.write(d);
    out_.write(d);
  }
  void finish() override {}

 private:
  Sink& out_;
  Sink& tap_;
};

// Lets us look at the first bytes of a stream and then read all of it.
class PeekSource : public Source {
 public:
  PeekSource(Source& in, std::size_t n) : in_(in), head_(n) { head_.resize(read_full(in_, head_)); }
  [[nodiscard]] std::string_view head() const {
    return {reinterpret_cast<const char*>(head_.data()), head_.size()};
  }
  std::size_t read(MutableByteSpan buf) override {
    if (pos_ < head_.size()) {
      std::size_t n = std::min(buf.size(), head_.size() - pos_);
      std::memcpy(buf.data(), head_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    return in_.read(buf);
  }

 private:
  Source& in_;
  Bytes head_;
  std::size_t pos_ = 0;
};

// How many bytes `a` and `b` end with in common.
std::size_t common_suffix(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  constexpr std::size_t kStep = 4096;
  std::size_t k = 0;
  while (k + kStep <= n &&
         std::memcmp(a.data() + a.size() - k - kStep, b.data() + b.size() - k - kStep, kStep) == 0)
    k += kStep;
  while (k < n && a[a.size() - 1 - k] == b[b.size() - 1 - k]) ++k;
  return k;
}

// Counts the bytes read through it: where a reader is in the stream.
class CountingSource : public Source {
 public:
  explicit CountingSource(Source& in) : in_(in) {}
  std::size_t read(MutableByteSpan buf) override {
    const std::size_t n = in_.read(buf);
    count_ += n;
    return n;
  }
  [[nodiscard]] std::uint64_t count() const { return count_; }

 private:
  Source& in_;
  std::uint64_t count_ = 0;
};

// An unnamed temporary file (O_TMPFILE), gone when closed.
class SpoolFile : public Sink {
 public:
  SpoolFile() {
    fd_ = unnamed_temp_file("a package");
    name_ = temp_root().string() + " (temporary file)";
  }
  void write(ByteSpan d) override {
    written_ += d.size();
    if (limit_ != 0 && written_ > limit_)
      throw Error(Exit::corrupt, "the package unpacks to more than " + std::to_string(limit_) +
                                     " bytes (the bound given)");
    FdSink(fd_.get(), name_).write(d);
  }
  void finish() override {}
  void set_limit(std::uint64_t limit) { limit_ = limit; }
  void copy_to(Sink& out) {
    auto src = reread();
    copy(*src, out);
  }
  // What was written, from the start.
  std::unique_ptr<Source> reread() {
    if (::lseek(fd_.get(), 0, SEEK_SET) != 0) throw Error(Exit::output, name_ + ": seek failed");
    return std::make_unique<FdSource>(fd_.get(), name_);
  }

 private:
  UniqueFd fd_;
  std::string name_;
  std::uint64_t written_ = 0, limit_ = 0;
};

// ---- writing ------------------------------------------------------------

class PackageWriter {
 public:
  PackageWriter(Sink& out, const WriteOptions& o, std::int64_t mtime) : mtime_(mtime) {
    Sink* s = &out;
    if (o.compress) {
      zstd_ = std::make_unique<zstd::Compressor>(out, o.level, o.workers);
      s = zstd_.get();
    }
    tar_ = std::make_unique<tar::Writer>(*s);
  }

  void begin(const std::string& path, std::uint64_t size) {
    tar_->begin_file(path, size, mtime_);
    hash_ = util::Blake2b256();
  }
  void data(ByteSpan d) {
    hash_.write(d);
    tar_->write(d);
  }
  // Ends the compressed frame here (iep/package/zstd.h).
  void cut() {
    if (zstd_) zstd_->end_frame();
  }
  // Content `d`, with `frame`, one whole zstd frame of exactly `d`, to put
  // in the compressed stream as it is.
  void data(ByteSpan d, Bytes frame) {
    if (!zstd_) return data(d);
    hash_.write(d);
    tar_->wrote_below(d.size());
    zstd_->write_frame(std::move(frame));
  }
  std::array<std::uint8_t, 32> end() {
    tar_->end_file();
    return hash_.digest();
  }

  // Copies a file of a known size; a file that changes meanwhile is an error.
  std::array<std::uint8_t, 32> add_file(const std::string& path, const fs::path& src,
                                        std::uint64_t size) {
    FileSource in(src);
    begin(path, size);
    std::uint64_t left = size;
    while (left > 0) {
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf_.size()));
      std::size_t n = in.read(MutableByteSpan(buf_.data(), want));
      if (n == 0) break;
      data(ByteSpan(buf_.data(), n));
      left -= n;
    }
    std::uint8_t extra = 0;
    if (left != 0 || in.read(MutableByteSpan(&extra, 1)) != 0)
      throw Error(Exit::input, src.string() + ": changed while it was being packed");
    return end();
  }

  // Copies file `i` of `files` (read and hashed ahead on other threads);
  // a `tail` (PlannedFile) is framed on its own.
  std::array<std::uint8_t, 32> add_file(const std::string& path, std::uint64_t size,
                                        ReadAhead& files, std::size_t i, std::uint64_t tail) {
    std::uint64_t at = 0;
    auto digest = files.copy(
        i, [&] { tar_->begin_file(path, size, mtime_); },
        [&](ByteSpan d) {
          if (tail > 0 && tail >= at && tail < at + d.size()) {
            const auto head = static_cast<std::size_t>(tail - at);
            tar_->write(d.first(head));
            cut();
            tar_->write(d.subspan(head));
          } else {
            tar_->write(d);
          }
          at += d.size();
        });
    if (tail > 0) cut();
    tar_->end_file();
    return digest;
  }

  // Writes the manifest and its signature, ends the tar and the zstd frame.
  // The manifest is serialised twice (to measure and sign it, then to write
  // it) rather than held whole in memory.
  void finish(const Manifest& m, const SiteIdentity& self) {
    std::uint64_t size = 0;
    minisign::Prehash ph;
    m.write_json([&](std::string_view piece) {
      size += piece.size();
      ph.write(util::as_bytes(piece));
    });
    auto sig = minisign::Signature::sign(
        self.signing, ph.digest(),
        "iep-manifest package=" + m.package_id + " sender=" + m.sender.site,
        "iep manifest signature");
    begin(kManifestName, size);
    m.write_json([&](std::string_view piece) { data(util::as_bytes(piece)); });
    (void)end();
    std::string sig_text = sig.encode();
    tar_->add_file(kManifestSigName, util::as_bytes(sig_text), mtime_);
    tar_->finish();
    if (zstd_) zstd_->finish();
  }

 private:
  std::int64_t mtime_;
  std::unique_ptr<zstd::Compressor> zstd_;
  std::unique_ptr<tar::Writer> tar_;
  util::Blake2b256 hash_;
  Bytes buf_ = Bytes(kBuf);
};

// Passes content on unchanged into a PackageWriter: where a compressed
// frame of the input (FrameLog) holds exactly a run of it, the frame is
// copied as it is; the rest is written (and compressed) as usual. The
// content is framed on its own: a frame ends where it begins and ends.
// Holds at most one frame's worth of content (while that frame may still
// be decoding).
class FrameCopier {
 public:
  FrameCopier(PackageWriter& w, zstd::FrameLog& frames) : w_(w), frames_(frames) {}
  // The content to come begins at `at` of the current entry.
  void start(std::uint64_t at) {
    at_ = at;
    pending_.clear();
    pos_ = 0;
    frame_.reset();
    w_.cut();
  }
  void write(ByteSpan d) {
    pending_.insert(pending_.end(), d.begin(), d.end());
    pump(false);
  }
  // The content ends here (with the entry).
  void finish() {
    pump(true);
    w_.cut();
  }

 private:
  [[nodiscard]] std::size_t held() const { return pending_.size() - pos_; }
  void plain(std::size_t n) {
    w_.data(ByteSpan(pending_.data() + pos_, n));
    consumed(n);
  }
  void consumed(std::size_t n) {
    pos_ += n;
    at_ += n;
    if (pos_ == pending_.size()) pending_.clear(), pos_ = 0;
  }
  void pump(bool last) {
    while (held() > 0) {
      if (!frame_) {
        const auto next = frames_.next(at_);
        if (next && *next > at_) {
          plain(static_cast<std::size_t>(std::min<std::uint64_t>(held(), *next - at_)));
          continue;
        }
        if (next) frame_ = frames_.take(at_);
        if (!frame_) {
          // Nothing logged from here on yet: the frame holding these bytes
          // may still be decoding, unless it is over the log's limit.
          if (!last && held() <= frames_.max_frame()) return;
          plain(held());
          return;
        }
      }
      if (frame_->size <= held()) {
        w_.data(ByteSpan(pending_.data() + pos_, frame_->size), std::move(frame_->bytes));
        consumed(frame_->size);
        frame_.reset();
        continue;
      }
      if (!last) return;  // the rest of the frame is still to come
      frame_.reset();     // it runs past the end of the content
      plain(held());
    }
  }
  PackageWriter& w_;
  zstd::FrameLog& frames_;
  Bytes pending_;  // content not yet written, from pos_ on
  std::size_t pos_ = 0;
  std::uint64_t at_ = 0;                        // where pending_[pos_] is in the entry
  std::optional<zstd::FrameLog::Frame> frame_;  // logged, beginning at at_
};

ManifestSite site_of(const SiteCard& c, bool with_key) {
  return ManifestSite{c.site, c.recipient.encode(),
                      with_key ? c.signing_key.encode() : std::string()};
}

Manifest new_manifest(const SiteIdentity& self, const std::vector<SiteCard>& to) {
  Manifest m;
  m.package_id = new_package_id();
  m.created = util::utc_now();
  m.sender = site_of(self.card(), true);
  for (const auto& c : to) m.recipients.push_back(site_of(c, false));
  return m;
}

Manifest write_package(Plan plan, const SiteIdentity& self, const std::vector<SiteCard>& to,
                       Sink& out, const WriteOptions& options) {
  Manifest m = new_manifest(self, to);
  m.study = std::move(plan.study);
  m.files.reserve(plan.files.size());
  PackageWriter w(out, options, std::time(nullptr));
  // Reading and hashing run on every core, ahead of writing.
  std::vector<ReadAhead::File> inputs;
  inputs.reserve(plan.files.size());
  for (auto& f : plan.files) inputs.push_back({std::move(f.source), f.entry.size});
  ReadAhead ahead(std::move(inputs), std::clamp(std::thread::hardware_concurrency(), 1u, 4u));
  for (std::size_t i = 0; i < plan.files.size(); ++i) {
    ManifestFile& mf = m.files.emplace_back(std::move(plan.files[i].entry));
    mf.blake2b = w.add_file(mf.path, mf.size, ahead, i, plan.files[i].tail);
  }
  m.summarise();
  w.finish(m, self);
  return m;
}

Sealed sign_sealed(const SiteIdentity& self, Manifest m, minisign::Prehash& ph) {
  SealedStatement st{m.package_id, m.sender.site, m.created, std::vector<std::string>{}};
  for (const auto& r : m.recipients) st.to->push_back(r.site);
  auto digest = ph.digest();
  auto sig = minisign::Signature::sign(self.signing, digest, st.encode(),
                                       "iep sealed package signature from " + m.sender.site);
  return Sealed{std::move(m), std::move(sig), digest};
}

std::vector<age::Recipient> recipients_of(const std::vector<SiteCard>& to) {
  if (to.empty()) throw Error(Exit::usage, "no recipient: give --to SITE or --to CARD");
  std::vector<age::Recipient> r;
  for (const auto& c : to) r.push_back(c.recipient);
  return r;
}

// ---- reading ------------------------------------------------------------

class NullHandler : public EntryHandler {
 public:
  void begin(const std::string&, std::uint64_t) override {}
  void data(ByteSpan) override {}
  void end() override {}
};

struct Content {
  Manifest manifest;
  SiteCard sender;  // the trusted card that signed the manifest
};

std::string key_id_hex(const minisign::KeyId& id) {
  minisign::PublicKey k;
  k.id = id;
  return k.id_hex();
}

// The trusted card whose key made `sig` over `digest`. A signature names
// only an 8-byte key id: every card with that id is tried, so that a card
// sharing the id cannot shadow the genuine one. Throws
// Error(Exit::bad_signature) saying whose `what` failed.
const SiteCard& signer_of(const minisign::Signature& sig,
                          const std::array<std::uint8_t, 64>& digest, const TrustStore& trust,
                          const std::string& name, const std::string& what) {
  auto candidates = trust.with_key_id(sig.key_id);
  if (candidates.empty()) {
    // Who the (unverified) trusted comment says signed, to help whoever
    // must install the card; only a valid site name is repeated.
    std::string claimed;
    auto at = sig.trusted_comment.find(" sender=");
    if (at != std::string::npos) {
      std::string v = sig.trusted_comment.substr(at + 8);
      v = v.substr(0, v.find(' '));
      if (valid_site_name(v)) claimed = ", said to be from '" + v + "'";
    }
    throw Error(Exit::bad_signature, name + ": " + what + ": signed by an unknown key (" +
                                         key_id_hex(sig.key_id) + claimed +
                                         "): no known site card has it");
  }
  for (const SiteCard* c : candidates)
    if (sig.verify(c->signing_key, digest)) return *c;
#ifdef IEP_FUZZING
  // The fuzzer's own card is the last with its id (with_self adds it last).
  if (fuzzing::skip_signatures) return *candidates.back();
#endif
  std::string sites;
  for (const SiteCard* c : candidates) sites += (sites.empty() ? "'" : ", '") + c->site + "'";
  throw Error(Exit::bad_signature,
              name + ": " + what + ": the signature does not verify with the key of " + sites);
}

std::string read_entry(tar::Reader& r, const tar::Entry& e, std::uint64_t max,
                       const std::string& name) {
  if (e.size > max) throw Error(Exit::corrupt, name + ": " + e.path + " is too large");
  std::string s(e.size, '\0');
  tar::EntrySource src(r);
  if (read_full(src, MutableByteSpan(reinterpret_cast<std::uint8_t*>(s.data()), s.size())) !=
      s.size())
    throw Error(Exit::corrupt, name + ": " + e.path + " is truncated");
  return s;
}

// The BLAKE2b-256 of each entry of a stream of entries, computed on the
// thread of the BackgroundSink that writes into it (beside the reader, who
// unpacks or spools the same bytes): the reader announces each entry's size
// with next() before it writes the entry's bytes; digest(i) once the sink
// has finished and drain() was called.
class EntryHashes : public Sink {
 public:
  void next(std::uint64_t size) {
    std::lock_guard lock(m_);
    sizes_.push_back(size);
  }
  void write(ByteSpan d) override {
    while (!d.empty()) {
      if (!open_) start();
      if (left_ == 0) {  // an empty entry before these bytes
        close();
        continue;
      }
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, d.size()));
      hash_.write(d.first(n));
      d = d.subspan(n);
      if ((left_ -= n) == 0) close();
    }
  }
  void finish() override {}
  // After the sink finished: the digests of the entries still due (empty ones).
  void drain() {
    for (;;) {
      {
        std::lock_guard lock(m_);
        if (sizes_.empty()) break;
      }
      start();
      if (left_ != 0) throw Error(Exit::internal, "an entry's hash is missing bytes");
      close();
    }
  }
  [[nodiscard]] const std::array<std::uint8_t, 32>& digest(std::size_t i) const {
    return digests_.at(i);
  }

 private:
  void start() {
    {
      std::lock_guard lock(m_);
      if (sizes_.empty()) throw Error(Exit::internal, "bytes of an entry not announced");
      left_ = sizes_.front();
      sizes_.pop_front();
    }
    hash_ = util::Blake2b256();
    open_ = true;
  }
  void close() {
    digests_.push_back(hash_.digest());
    open_ = false;
  }
  std::mutex m_;
  std::deque<std::uint64_t> sizes_;
  std::vector<std::array<std::uint8_t, 32>> digests_;
  util::Blake2b256 hash_;
  std::uint64_t left_ = 0;
  bool open_ = false;
};

// Reads a plain package, handing file entries to `h`, and checks it whole:
// the manifest signature by a trusted sender, every file's size and hash,
// nothing missing, nothing extra.
// With `frames`, the zstd frames read are logged there, with their
// positions counted from the start of each entry's content.
Content read_package(Source& plain, const std::string& name, const TrustStore& trust,
                     EntryHandler& h, zstd::FrameLog* frames = nullptr) {
  // Decompression runs on its own thread, ahead of unpacking and hashing.
  zstd::AutoSource unzstd(plain, name, frames);
  PrefetchSource ahead(unzstd);
  CountingSource src(ahead);
  tar::Reader tr(src, name);
  struct Seen {
    std::uint64_t size;
    std::size_t index;  // in `hashes`
  };
  std::map<std::string, Seen> seen;
  // Hashing runs on its own thread too, beside `h` (writing files, spooling).
  EntryHashes hashes;
  BackgroundSink hashing(hashes);
  std::size_t hashed = 0;
  std::set<std::string> folders;  // of the entries so far
  std::string json, sig_text;
  bool have_manifest = false, have_sig = false;
  Bytes buf(kBuf);
  while (auto e = tr.next()) {
    if (have_sig)
      throw Error(Exit::corrupt, name + ": entry '" + e->path + "' after the manifest signature");
    if (e->path == kManifestName) {
      if (have_manifest) throw Error(Exit::corrupt, name + ": two manifests");
      json = read_entry(tr, *e, kMaxManifest, name);
      have_manifest = true;
      continue;
    }
    if (e->path == kManifestSigName) {
      if (!have_manifest)
        throw Error(Exit::corrupt, name + ": manifest signature before the manifest");
      sig_text = read_entry(tr, *e, kMaxSignature, name);
      have_sig = true;
      continue;
    }
    if (have_manifest)
      throw Error(Exit::corrupt, name + ": entry '" + e->path + "' after the manifest");
    if (seen.size() >= 1'000'000) throw Error(Exit::corrupt, name + ": too many entries");
    // No entry may be the folder of another ("a" and "a/b"), whatever the
    // manifest says: refused before anything is unpacked.
    if (folders.contains(e->path))
      throw Error(Exit::corrupt, name + ": '" + e->path + "' is both a file and a folder");
    for (auto slash = e->path.find('/'); slash != std::string::npos;
         slash = e->path.find('/', slash + 1)) {
      std::string dir = e->path.substr(0, slash);
      if (seen.contains(dir))
        throw Error(Exit::corrupt,
                    name + ": '" + dir + "' is both a file and the folder of '" + e->path + "'");
      folders.insert(std::move(dir));
    }
    if (frames) frames->set_origin(src.count());
    h.begin(e->path, e->size);
    hashes.next(e->size);
    for (;;) {
      std::size_t n = tr.read(buf);
      if (n == 0) break;
      hashing.write(ByteSpan(buf.data(), n));
      h.data(ByteSpan(buf.data(), n));
    }
    h.end();
    seen[e->path] = Seen{e->size, hashed++};
  }
  // Only zero padding may follow the end of the archive.
  for (;;) {
    std::size_t n = src.read(buf);
    if (n == 0) break;
    if (std::any_of(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n),
                    [](auto b) { return b != 0; }))
      throw Error(Exit::corrupt, name + ": data after the end of the archive");
  }
  hashing.finish();
  hashes.drain();
  if (!have_manifest)
    throw Error(Exit::not_package, name + ": no MANIFEST.json: not an iep package");
  if (!have_sig) throw Error(Exit::bad_signature, name + ": the manifest is not signed");

  // The manifest's exact bytes are authenticated before any of them is
  // parsed: the signature (small, bounded) names a key id, the cards with
  // that id are tried, and only then is the JSON read.
  minisign::Signature sig;
  try {
    sig = minisign::Signature::parse(sig_text);
  } catch (const Error& e) {
    throw Error(Exit::bad_signature, name + ": " + kManifestSigName + ": " + e.what());
  }
  minisign::Prehash ph;
  ph.write(util::as_bytes(json));
  const SiteCard& card = signer_of(sig, ph.digest(), trust, name, "the manifest");
  Content c{Manifest::parse(json, name, seen.size()), card};
  const Manifest& m = c.manifest;
  // The name shown is the one bound to the key that signed.
  bool same_key = false;
  try {
    same_key = minisign::PublicKey::parse(m.sender.signing_key) == card.signing_key;
  } catch (const Error&) {
  }
  if (!same_key || m.sender.site != card.site)
    throw Error(Exit::bad_signature, name + ": signed with the key of site '" + card.site +
                                         "' but claims to be from '" + m.sender.site + "'");
  if (m.files.size() != seen.size())
    throw Error(Exit::corrupt, name + ": the manifest lists " + std::to_string(m.files.size()) +
                                   " files but the package holds " + std::to_string(seen.size()));
  for (const auto& f : m.files) {
    auto it = seen.find(f.path);
    if (it == seen.end())
      throw Error(Exit::corrupt, name + ": " + f.path + " is listed but missing");
    if (it->second.size != f.size || hashes.digest(it->second.index) != f.blake2b)
      throw Error(Exit::corrupt,
                  name + ": " + f.path + ": content does not match the signed manifest");
  }
  h.manifest(json, sig_text);
  return c;
}

TrustStore with_self(const TrustStore* trust, const SiteIdentity& self) {
  TrustStore t = trust ? *trust : TrustStore();
  t.add(self.card());
  return t;
}

// Checks the detached signature over the sealed bytes: made by the sender
// the manifest names, for this very package.
void check_origin(const minisign::Signature& sig, const std::array<std::uint8_t, 64>& digest,
                  const Content& c, const TrustStore& trust, const std::string& name) {
  const SiteCard& sealer = signer_of(sig, digest, trust, name, "the sealed bytes");
  if (sealer.site != c.sender.site || sealer.signing_key != c.sender.signing_key)
    throw Error(Exit::bad_signature, name + ": sealed by " + sealer.site + ", not by the sender (" +
                                         c.sender.site + "): re-sealed or forged");
  auto st = SealedStatement::parse(sig.trusted_comment);
  if (st.package_id != c.manifest.package_id || st.sender != c.manifest.sender.site)
    throw Error(Exit::bad_signature, name + ": the signature belongs to another package");
  if (st.to) {  // older packages carry no recipient list in the statement
    std::vector<std::string> named;
    for (const auto& r : c.manifest.recipients) named.push_back(r.site);
    if (*st.to != named)
      throw Error(Exit::bad_signature,
                  name + ": the signed recipient list differs from the manifest's");
  }
}

// Reads the plain package out of an opened age stream; `outer` has been
// tapping the sealed bytes from the start.
Content read_decrypted(age::Decryptor& dec, minisign::Prehash& outer, const std::string& name,
                       const OpenOptions& o, EntryHandler& h, Sink* plain_tap) {
  // Reading, hashing and decrypting the sealed bytes run on their own thread.
  PrefetchSource decrypted(dec);
  std::optional<TeeSource> tap;
  Source* plain = &decrypted;
  if (plain_tap) plain = &tap.emplace(decrypted, *plain_tap);
  TrustStore trust = with_self(o.trust, *o.self);
  Content c = read_package(*plain, name, trust, h);
  Bytes rest(4096);
  if (plain->read(rest) != 0) throw Error(Exit::corrupt, name + ": data after the package");
  if (o.signature) check_origin(*o.signature, outer.digest(), c, trust, name);
  std::string me = o.self->encryption.recipient().encode();
  bool for_us = std::any_of(c.manifest.recipients.begin(), c.manifest.recipients.end(),
                            [&](const ManifestSite& r) { return r.age_recipient == me; });
  if (!for_us)
    throw Error(Exit::not_for_us, name + ": the signed manifest does not name this site (" +
                                      o.self->site +
                                      ") as a recipient: it was re-sealed by someone else");
  return c;
}

Content read_sealed(Source& sealed, const std::string& name, const OpenOptions& o, EntryHandler& h,
                    Sink* plain_tap) {
  if (o.self == nullptr) throw Error(Exit::identity, name + ": opening needs this site's identity");
  minisign::Prehash outer;
  TeeSource tee(sealed, outer);
  age::Decryptor dec(tee, o.self->encryption, name);
  return read_decrypted(dec, outer, name, o, h, plain_tap);
}

// Checks who sealed the bytes, with nothing but known cards.
std::string check_origin_only(const minisign::Signature& sig,
                              const std::array<std::uint8_t, 64>& digest, const TrustStore& trust,
                              const std::string& name) {
  const SiteCard& card = signer_of(sig, digest, trust, name, "the sealed bytes");
  check_sealed_signature(sig, digest, card, name);
  return card.site;
}

// Unpacks entries into a private partial folder beside `dest` (a
// StagedFolder: every entry created relative to its descriptor, never
// through a symbolic link; removed if never committed, on SIGTERM too; the
// partial folders of killed runs removed first), renamed into place by
// commit().
class FolderWriter : public EntryHandler {
 public:
  FolderWriter(fs::path dest, std::uint64_t limit) : folder_(std::move(dest)), limit_(limit) {}
  FolderWriter(const FolderWriter&) = delete;
  FolderWriter& operator=(const FolderWriter&) = delete;

  void begin(const std::string& path, std::uint64_t) override {
    fd_ = folder_.create_file(path);
    cur_ = (folder_.dest() / path).string();
    at_ = started_ = 0;
  }
  void data(ByteSpan d) override {
    written_ += d.size();
    if (limit_ != 0 && written_ > limit_)
      throw Error(Exit::corrupt, folder_.dest().string() + ": the package unpacks to more than " +
                                     std::to_string(limit_) + " bytes (the bound given)");
    FdSink(fd_.get(), cur_).write(d);
    at_ += d.size();
    if (at_ - started_ >= kWriteback) writeback();
  }
  void end() override {
    writeback();
    if (::close(fd_.release()) != 0)
      throw Error(Exit::output, cur_ + ": close failed: " + std::strerror(errno));
  }
  void manifest(const std::string& json, const std::string& sig) override {
    begin(kManifestName, json.size());
    data(util::as_bytes(json));
    end();
    begin(kManifestSigName, sig.size());
    data(util::as_bytes(sig));
    end();
  }
  void commit() { folder_.commit(); }

 private:
  // Starts writing what is written so far to the disk, without waiting: the
  // disk works while the rest is decrypted and unpacked, instead of all of
  // it during commit()'s sync (which alone makes the folder durable). Only a
  // hint: an error shows again at the sync.
  void writeback() {
    if (at_ > started_)
      (void)::sync_file_range(fd_.get(), static_cast<off_t>(started_),
                              static_cast<off_t>(at_ - started_), SYNC_FILE_RANGE_WRITE);
    started_ = at_;
  }
  static constexpr std::uint64_t kWriteback = 4 << 20;
  StagedFolder folder_;
  UniqueFd fd_;
  std::string cur_;
  std::uint64_t limit_ = 0, written_ = 0;
  std::uint64_t at_ = 0, started_ = 0;  // in the current file: written, writeback started
};

// The second pass of iep-verify: parses the entries the verified manifest
// lists as DICOM (not attachments), each spooled to a memory file (or, if
// large, an unnamed temporary file) and parsed only once its bytes hash to
// the signed BLAKE2b-256, so DCMTK never sees a byte that is not
// authenticated, even if the file changed since the first pass.
class DicomChecker : public EntryHandler {
 public:
  DicomChecker(const Manifest& m, std::string name) : m_(m), name_(std::move(name)) {
    for (const auto& f : m.files)
      if (!f.attachment) dicom_[f.path] = &f;
  }
  DicomChecker(const DicomChecker&) = delete;
  DicomChecker& operator=(const DicomChecker&) = delete;
  void begin(const std::string& path, std::uint64_t size) override {
    auto it = dicom_.find(path);
    cur_ = it == dicom_.end() || it->second->size != size ? nullptr : it->second;
    if (cur_ == nullptr) return;  // an attachment, or refused by the reader anyway
    UniqueFd& fd = size <= kInMemory ? memfd_ : tmpfile_;
    if (fd.get() < 0) {
      if (&fd == &memfd_) {
        fd.reset(::memfd_create("iep-verify-entry", MFD_CLOEXEC));
        if (fd.get() < 0)
          throw Error(Exit::output,
                      "cannot create a memory file for " + path + ": " + std::strerror(errno));
      } else {
        fd = unnamed_temp_file(path);
      }
    }
    if (::ftruncate(fd.get(), 0) != 0 || ::lseek(fd.get(), 0, SEEK_SET) != 0)
      throw Error(Exit::output, "temporary file: " + std::string(std::strerror(errno)));
    fd_ = fd.get();
    hash_ = util::Blake2b256();
  }
  void data(ByteSpan d) override {
    if (cur_ == nullptr) return;
    hash_.write(d);
    FdSink(fd_, "temporary file").write(d);
  }
  void end() override {
    if (cur_ == nullptr) return;
    if (hash_.digest() != cur_->blake2b)
      throw Error(Exit::corrupt, name_ + ": " + cur_->path + " changed since it was verified");
    try {
      (void)dicom::scan("/proc/self/fd/" + std::to_string(fd_));
    } catch (const Error& e) {
      std::string why = e.what();
      auto colon = why.find(": ");
      failures_[cur_->path] = colon == std::string::npos ? why : why.substr(colon + 2);
    }
    ++parsed_;
  }
  // The first DICOM file (in manifest order) that did not parse.
  void check() const {
    for (const auto& f : m_.files)
      if (!f.attachment)
        if (auto it = failures_.find(f.path); it != failures_.end())
          throw Error(Exit::invalid_dicom, name_ + ": " + f.path + ": " + it->second);
    if (parsed_ != dicom_.size())
      throw Error(Exit::corrupt, name_ + ": changed since it was verified");
  }

 private:
  static constexpr std::uint64_t kInMemory = 64ull << 20;
  const Manifest& m_;
  std::string name_;
  std::map<std::string, const ManifestFile*> dicom_;
  const ManifestFile* cur_ = nullptr;
  UniqueFd memfd_, tmpfile_;
  int fd_ = -1;
  util::Blake2b256 hash_;
  std::size_t parsed_ = 0;
  std::map<std::string, std::string> failures_;
};

std::string human_bytes(std::uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace

// ---- public API -----------------------------------------------------------

std::vector<fs::path> input_files(const std::vector<fs::path>& paths, bool* saw_dicomdir) {
  std::vector<fs::path> out;
  bool saw = false;
  for (const auto& p : paths) collect(p, out, saw);
  if (saw_dicomdir != nullptr) *saw_dicomdir = saw;
  return out;
}

std::vector<Plan> plan(const PackInput& input) {
  std::vector<fs::path> paths = input_files(input.paths);
  std::set<fs::path> unique;
  // Each file is read once, by name: drop repeats (the same file given twice).
  std::vector<fs::path> files;
  files.reserve(paths.size());
  for (auto& p : paths) {
    std::error_code ec;
    fs::path canon = fs::weakly_canonical(p, ec);
    if (unique.insert(ec ? p : canon).second) files.push_back(std::move(p));
  }
  unique.clear();
  std::vector<Scanned> scanned = scan_all(files);
  std::vector<std::string> bad;
  for (auto& s : scanned)
    if (s.failure) bad.push_back(s.why);
  std::erase_if(scanned, [](const Scanned& s) { return s.failure || s.info.is_dicomdir; });
  if (!bad.empty()) {
    std::string names;
    for (std::size_t i = 0; i < bad.size() && i < 5; ++i) names += (i ? "; " : "") + bad[i];
    if (bad.size() > 5) names += "; and " + std::to_string(bad.size() - 5) + " more";
    throw Error(Exit::invalid_dicom,
                std::to_string(bad.size()) + (bad.size() == 1 ? " file is" : " files are") +
                    " not valid DICOM: " + names + " (carry other files with --attach FILE)");
  }
  if (scanned.empty()) {
    std::string where;
    for (const auto& p : input.paths) where += (where.empty() ? "" : ", ") + p.string();
    throw Error(Exit::input, where + ": no DICOM files found");
  }

  std::map<std::string, std::vector<Scanned*>> by_study;
  for (auto& s : scanned) by_study[s.info.study_instance_uid].push_back(&s);

  std::vector<Plan> plans;
  for (auto& [study_uid, items] : by_study) {
    std::sort(items.begin(), items.end(), [](const Scanned* a, const Scanned* b) {
      return std::tie(a->info.series_instance_uid, a->info.instance_number,
                      a->info.sop_instance_uid,
                      a->source) < std::tie(b->info.series_instance_uid, b->info.instance_number,
                                            b->info.sop_instance_uid, b->source);
    });
    Plan plan;
    plan.files.reserve(items.size() + input.attachments.size());
    const dicom::Info& first = items.front()->info;
    plan.study.study_instance_uid = study_uid;
    plan.study.patient_name = util::to_utf8(first.patient_name);
    plan.study.patient_id = util::to_utf8(first.patient_id);
    plan.study.study_date = util::to_utf8(first.study_date);
    plan.study.study_description = util::to_utf8(first.study_description);
    plan.study.accession_number = util::to_utf8(first.accession_number);
    std::set<std::string> used;
    auto unique_path = [&used](const std::string& base, const std::string& ext) {
      std::string p = base + ext;
      for (int i = 2; !used.insert(p).second; ++i) p = base + "-" + std::to_string(i) + ext;
      return p;
    };
    for (Scanned* s : items) {
      dicom::Info& info = s->info;
      PlannedFile& f = plan.files.emplace_back();
      f.source = std::move(s->source);
      ManifestFile& e = f.entry;
      e.size = size_of(f.source);
      e.path = unique_path(uid_name(study_uid) + "/" + uid_name(info.series_instance_uid) + "/" +
                               uid_name(info.sop_instance_uid),
                           ".dcm");
      e.sop_class_uid = std::move(info.sop_class_uid);
      e.sop_instance_uid = std::move(info.sop_instance_uid);
      e.series_instance_uid = std::move(info.series_instance_uid);
      e.transfer_syntax_uid = std::move(info.transfer_syntax_uid);
      e.modality = util::to_utf8(info.modality);
      if (e.modality.size() > 64) e.modality.clear();  // a CS value is at most 16 bytes
      if (info.tail_start > 0 && e.size >= info.tail_start + kFramedTail) f.tail = info.tail_start;
      info = dicom::Info();  // nothing more is needed of it
    }
    auto carried = input.attachments;
    carried.insert(carried.end(), input.reports.begin(), input.reports.end());
    for (std::size_t i = 0; i < carried.size(); ++i) {
      const fs::path& a = carried[i];
      if (!fs::is_regular_file(a)) throw Error(Exit::input, a.string() + ": not a readable file");
      PlannedFile f;
      f.source = a;
      f.entry.attachment = true;
      if (i >= input.attachments.size()) f.entry.report = pacs::kind_name(pacs::report_kind(a));
      f.entry.size = size_of(a);
      std::string base = a.filename().string();
      if (!tar::safe_path(base)) base = "attachment";
      auto dot = base.rfind('.');
      std::string stem = dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
      std::string ext = dot == std::string::npos || dot == 0 ? "" : base.substr(dot);
      f.entry.path = unique_path("attachments/" + stem, ext);
      plan.files.push_back(std::move(f));
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

Plan plan_one(const PackInput& input) {
  auto plans = plan(input);
  if (plans.size() > 1)
    throw Error(Exit::several_studies,
                "the input holds " + std::to_string(plans.size()) +
                    " studies; pack them one per package with iep-pack --split DIR");
  return std::move(plans.front());
}

Manifest write_plain(Plan plan, const SiteIdentity& self, Sink& out, const WriteOptions& options) {
  return write_package(std::move(plan), self, {}, out, options);
}

std::string split_file_name(const std::string& study_uid, const WriteOptions& options) {
  return uid_name(study_uid) + (options.compress ? ".tar.zst" : ".tar");
}

std::vector<fs::path> pack_split(const PackInput& input, const SiteIdentity& self,
                                 const fs::path& dir, const WriteOptions& options) {
  auto plans = plan(input);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(Exit::output, dir.string() + ": cannot create the folder: " + ec.message());
  std::vector<fs::path> written;
  for (auto& p : plans) {
    fs::path out = dir / split_file_name(p.study.study_instance_uid, options);
    if (fs::exists(out)) continue;  // a re-run finishes what is missing
    AtomicFile f(out);
    write_plain(std::move(p), self, f, options);
    f.commit();
    written.push_back(out);
  }
  return written;
}

Sealed seal(Plan plan, const SiteIdentity& self, const std::vector<SiteCard>& to, Sink& out,
            const WriteOptions& options) {
  auto recipients = recipients_of(to);
  minisign::Prehash outer;
  TeeSink tee(out, outer);
  age::Encryptor enc(tee, recipients);
  BackgroundSink encrypting(enc);  // encrypt, sign-hash and write on another thread
  Manifest m = write_package(std::move(plan), self, to, encrypting, options);
  encrypting.finish();
  enc.finish();
  return sign_sealed(self, std::move(m), outer);
}

Sealed seal_plain(Source& plain, const std::string& name, const SiteIdentity& self,
                  const TrustStore& trust, const std::vector<SiteCard>& to, Sink& out,
                  const WriteOptions& options) {
  auto recipients = recipients_of(to);
  minisign::Prehash outer;
  TeeSink tee(out, outer);
  age::Encryptor enc(tee, recipients);
  BackgroundSink encrypting(enc);
  PackageWriter w(encrypting, options, std::time(nullptr));
  // Entries pass through unchanged: the compressed frames of large ones
  // are copied.
  struct Reemit : EntryHandler {
    Reemit(PackageWriter& w, zstd::FrameLog& frames) : w(w), copier(w, frames) {}
    void begin(const std::string& path, std::uint64_t size) override {
      w.begin(path, size);
      large = size >= kFramedTail;
      if (large) copier.start(0);
    }
    void data(ByteSpan d) override { large ? copier.write(d) : w.data(d); }
    void end() override {
      if (large) copier.finish();
      w.end();
    }
    PackageWriter& w;
    FrameCopier copier;
    bool large = false;
  };
  zstd::FrameLog frames;
  Reemit reemit(w, frames);
  Content c = read_package(plain, name, with_self(&trust, self), reemit, &frames);
  Manifest m = new_manifest(self, to);
  m.study = c.manifest.study;
  m.files = c.manifest.files;
  m.summarise();
  w.finish(m, self);
  encrypting.finish();
  enc.finish();
  return sign_sealed(self, std::move(m), outer);
}

Manifest rewrite_plain(Source& plain, const std::string& name, const SiteIdentity& self,
                       const TrustStore& trust, const Rewriter& rewrite,
                       const MemoryRewriter& in_memory,
                       const std::function<StudySummary(const Manifest&)>& summary, Sink& out,
                       const WriteOptions& options, std::uint64_t held) {
  PackageWriter w(out, options, std::time(nullptr));
  // Holds each entry in memory (whole, or its head while the rest streams
  // on), or spools it to a private temporary folder; rewrites it, and
  // writes the result into the new package.
  class Rewriting : public EntryHandler {
   public:
    Rewriting(PackageWriter& w, const Rewriter& rewrite, const MemoryRewriter& in_memory,
              std::uint64_t held, zstd::FrameLog& frames)
        : w_(w), rewrite_(rewrite), in_memory_(in_memory), held_(held), copier_(w, frames) {}
    Rewriting(const Rewriting&) = delete;
    Rewriting& operator=(const Rewriting&) = delete;
    void begin(const std::string& path, std::uint64_t size) override {
      path_ = path;
      size_ = size;
      if (in_memory_) {
        mode_ = Mode::held;
        content_.clear();
        content_.reserve(static_cast<std::size_t>(std::min(size, held_)));
      } else {
        open_spool();
      }
    }
    void data(ByteSpan d) override {
      switch (mode_) {
        case Mode::held: {
          // Up to the limit; past it, the head decides where the rest goes.
          const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(
              d.size(), held_ - std::min<std::uint64_t>(held_, content_.size())));
          content_.append(reinterpret_cast<const char*>(d.data()), n);
          if (n == d.size()) return;
          rewrite_held(size_);
          data(d.subspan(n));
          return;
        }
        case Mode::streamed: copier_.write(d); return;
        case Mode::dropped: return;
        case Mode::spooled: FdSink(fd_.get(), spool_name()).write(d); return;
      }
    }
    void end() override {
      const bool whole = mode_ == Mode::held;
      if (whole) rewrite_held(content_.size());
      if (mode_ == Mode::dropped) return;
      if (mode_ == Mode::streamed) {
        if (!whole) copier_.finish();
        entry_.blake2b = w_.end();
        files.push_back(std::move(entry_));
        return;
      }
      fd_.reset();
      auto r = rewrite_(path_, dir_.path() / "in", dir_.path() / "out");
      if (!r) return;
      claim(r->entry.path);
      r->entry.size = size_of(r->file);
      r->entry.blake2b = w_.add_file(r->entry.path, r->file, r->entry.size);
      files.push_back(std::move(r->entry));
    }
    std::vector<ManifestFile> files;

   private:
    // held: content_ gathers the entry (or its head); streamed: its
    // replacement is being written (the rest, if any, copied on as it
    // arrives); dropped: the rest is ignored; spooled: it goes to the
    // spool file.
    enum class Mode : std::uint8_t { held, streamed, dropped, spooled };

    // The bytes held (the whole entry, or its head when `size` is more) to
    // the MemoryRewriter: the replacement begun in the new package (the
    // rest, if any, copied on as it comes), or the entry dropped or spooled.
    void rewrite_held(std::uint64_t size) {
      bool spool = false;
      out_.clear();
      auto entry = in_memory_(path_, content_, size, out_, spool);
      if (spool) {
        open_spool();
        FdSink(fd_.get(), spool_name()).write(util::as_bytes(content_));
        return;
      }
      if (!entry) {
        mode_ = Mode::dropped;
        return;
      }
      claim(entry->path);
      entry->size = out_.size() + (size - content_.size());
      w_.begin(entry->path, entry->size);
      write_held();
      entry_ = std::move(*entry);
      mode_ = Mode::streamed;
    }
    // Writes the replacement held in out_. What it keeps of the entry's end
    // unchanged (the pixel data, as a rule: the input's last bytes, and the
    // rest still to come if the entry was not held whole) goes through the
    // FrameCopier: the input's frames that hold it are copied as they are.
    void write_held() {
      const bool whole = content_.size() == size_;
      const std::size_t same = common_suffix(content_, out_);
      if (whole && same < kFramedTail) return w_.data(util::as_bytes(out_));
      const ByteSpan out = util::as_bytes(out_);
      w_.data(out.first(out.size() - same));
      copier_.start(content_.size() - same);
      copier_.write(out.last(same));
      if (whole) copier_.finish();
    }
    void open_spool() {
      std::error_code ec;
      fs::remove_all(dir_.path() / "out", ec);
      fs::create_directory(dir_.path() / "out", ec);
      fd_.reset(::open((dir_.path() / "in").c_str(),
                       O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (fd_.get() < 0) throw Error(Exit::output, spool_name() + ": " + std::strerror(errno));
      mode_ = Mode::spooled;
    }
    [[nodiscard]] std::string spool_name() const { return (dir_.path() / "in").string(); }
    // Names the rewriter gives must differ. Their hashes are kept, not the
    // names (10,000 names are a megabyte or two); a hash seen before is
    // checked against the names written.
    void claim(const std::string& path) {
      if (names_.insert(std::hash<std::string>{}(path)).second) return;
      if (std::any_of(files.begin(), files.end(), [&](const auto& f) { return f.path == path; }))
        throw Error(Exit::internal, "rewritten package: two entries named " + path);
    }
    PackageWriter& w_;
    const Rewriter& rewrite_;
    const MemoryRewriter& in_memory_;
    const std::uint64_t held_;
    FrameCopier copier_;
    TempDir dir_{"iep-rewrite"};
    std::string path_;
    std::uint64_t size_ = 0;
    Mode mode_ = Mode::held;
    ManifestFile entry_;         // streamed: the entry being written
    std::string content_, out_;  // kept for the next entry: no fresh pages each time
    UniqueFd fd_;
    std::unordered_set<std::size_t> names_;
  };
  zstd::FrameLog frames;
  Rewriting rewriting(w, rewrite, in_memory, held, frames);
  Content c = read_package(plain, name, with_self(&trust, self), rewriting, &frames);
  Manifest m = new_manifest(self, {});
  m.study = summary(c.manifest);
  m.files = std::move(rewriting.files);
  m.summarise();
  w.finish(m, self);
  return m;
}

Manifest read_plain(Source& plain, const std::string& name, const TrustStore& trust,
                    EntryHandler& entries) {
  return read_package(plain, name, trust, entries).manifest;
}

Manifest open_to_folder(Source& sealed, const std::string& name, const OpenOptions& options,
                        const fs::path& dest) {
  FolderWriter folder(dest, options.max_unpacked);
  Content c = read_sealed(sealed, name, options, folder, nullptr);
  folder.commit();
  return std::move(c.manifest);
}

Manifest open_to_stream(Source& sealed, const std::string& name, const OpenOptions& options,
                        Sink& out) {
  SpoolFile spool;
  spool.set_limit(options.max_unpacked);
  NullHandler none;
  Content c = read_sealed(sealed, name, options, none, &spool);
  spool.copy_to(out);
  return std::move(c.manifest);
}

fs::path signature_path(const fs::path& sealed_file) {
  fs::path p = sealed_file;
  p += ".minisig";
  return p;
}

bool looks_sealed(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return false;
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return false;
  char head[kAgeMagic.size()];
  return ::pread(fd.get(), head, sizeof head, 0) == static_cast<ssize_t>(sizeof head) &&
         std::string_view(head, sizeof head) == kAgeMagic;
}

namespace {

// Both passes of verify(): `reread` gives the same bytes again for the
// second (DICOM) pass.
Report verify_passes(Source& input, const std::string& name, const VerifyOptions& options,
                     const std::function<std::unique_ptr<Source>()>& reread) {
  Report rep;
  rep.input = name;
  auto pass = [&rep](std::string check, std::string detail) {
    rep.checks.push_back({std::move(check), true, std::move(detail)});
  };
  try {
    PeekSource in(input, kAgeMagic.size());
    rep.sealed = in.head() == kAgeMagic;
    const OpenOptions& o = options.open;
    NullHandler none;
    Content c;
    if (rep.sealed) {
      minisign::Prehash outer;
      TeeSource tee(in, outer);
      std::optional<age::Decryptor> dec;
      if (o.self) {
        try {
          dec.emplace(tee, o.self->encryption, name);
        } catch (const Error& e) {
          if (e.code() != Exit::not_for_us || !options.identity_optional) throw;
          rep.checks.push_back(
              {"decrypt", false, "not addressed to " + o.self->site + ": contents not checked"});
        }
      }
      if (!dec) {
        // Without a key that opens it, only the origin can be checked; this
        // site's own card counts as known (it may be the one that sealed it).
        if (!o.signature)
          throw Error(
              Exit::usage,
              name + ": nothing to check without this site's identity or the package's signature");
        NullSink rest;
        copy(tee, rest);
        TrustStore trust =
            o.self ? with_self(o.trust, *o.self) : (o.trust ? *o.trust : TrustStore());
        rep.signed_by = check_origin_only(*o.signature, outer.digest(), trust, name);
        pass("origin-signature", "sealed bytes signed by " + rep.signed_by);
        if (o.self == nullptr)
          rep.checks.push_back({"contents", false, "not checked: no identity to open it"});
        return rep;
      }
      c = read_decrypted(*dec, outer, name, o, none, nullptr);
      pass("decrypt", "opened with the identity of " + o.self->site);
      if (o.signature) {
        rep.signed_by = c.manifest.sender.site;
        pass("origin-signature", "sealed bytes signed by " + c.manifest.sender.site);
      }
      pass("recipient", o.self->site + " is a named recipient");
    } else {
      TrustStore trust = o.self ? with_self(o.trust, *o.self) : (o.trust ? *o.trust : TrustStore());
      c = read_package(in, name, trust, none);
    }
    pass("manifest-signature", "signed by " + c.sender.site);
    std::uint64_t bytes = 0;
    for (const auto& f : c.manifest.files) bytes += f.size;
    pass("content", std::to_string(c.manifest.files.size()) + " files, " + human_bytes(bytes) +
                        ", every size and BLAKE2b-256 as signed; no unsafe entries");
    if (options.check_dicom && reread) {
      // Everything is authenticated: now, and only now, DCMTK may parse.
      auto again = reread();
      DicomChecker dicom(c.manifest, name);
      if (rep.sealed) {
        minisign::Prehash outer;
        TeeSource tee(*again, outer);
        age::Decryptor dec(tee, o.self->encryption, name);
        (void)read_decrypted(dec, outer, name, o, dicom, nullptr);
      } else {
        TrustStore trust =
            o.self ? with_self(o.trust, *o.self) : (o.trust ? *o.trust : TrustStore());
        (void)read_package(*again, name, trust, dicom);
      }
      dicom.check();
      pass("dicom", std::to_string(c.manifest.study.instances) + " DICOM instances parse");
    }
    rep.manifest = std::move(c.manifest);
  } catch (const Error& e) {
    rep.result = e.code();
    rep.error = e.what();
    rep.checks.push_back({exit_name(e.code()), false, e.what()});
  }
  return rep;
}

Report failed(const std::string& name, const Error& e) {
  Report rep;
  rep.input = name;
  rep.result = e.code();
  rep.error = e.what();
  rep.checks.push_back({exit_name(e.code()), false, e.what()});
  return rep;
}

}  // namespace

Report verify(Source& input, const std::string& name, const VerifyOptions& options) {
  if (!options.check_dicom) return verify_passes(input, name, options, nullptr);
  std::optional<SpoolFile> spool;
  try {
    spool.emplace();
  } catch (const Error& e) {
    return failed(name, e);
  }
  TeeSource tee(input, *spool);
  return verify_passes(tee, name, options, [&spool] { return spool->reread(); });
}

Report verify_file(const std::string& path, const std::string& name, const VerifyOptions& options) {
  std::unique_ptr<FileSource> file;
  int fd = 0;
  if (path != "-") {
    try {
      file = std::make_unique<FileSource>(path);
    } catch (const Error& e) {
      return failed(name, e);
    }
    fd = file->fd();
  }
  struct stat st {};
  off_t start = ::lseek(fd, 0, SEEK_CUR);
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || start < 0) {
    FdSource in(fd, name);
    return verify(in, name, options);  // a pipe: copied while read once
  }
  FdSource in(fd, name);
  return verify_passes(in, name, options, [fd, start, &name]() -> std::unique_ptr<Source> {
    if (::lseek(fd, start, SEEK_SET) != start)
      throw Error(Exit::input, name + ": cannot read it again: " + std::strerror(errno));
    return std::make_unique<FdSource>(fd, name);
  });
}

std::string Report::to_json() const {
  using nlohmann::json;
  json checks_j = json::array();
  for (const auto& c : checks)
    checks_j.push_back({{"check", c.name}, {"ok", c.ok}, {"detail", c.detail}});
  json j = {{"input", input},
            {"sealed", sealed},
            {"result", exit_name(result)},
            {"exit_code", static_cast<int>(result)},
            {"checks", checks_j}};
  if (!error.empty()) j["error"] = error;
  if (!signed_by.empty()) j["signed_by"] = signed_by;
  if (manifest) j["manifest"] = json::parse(manifest->to_json());
  return j.dump(2) + "\n";
}

std::string SealedStatement::encode() const {
  std::string s = "iep-sealed package=" + package_id + " sender=" + sender + " created=" + created;
  if (to) {
    std::string list;
    for (const auto& site : *to) list += (list.empty() ? "" : ",") + site;
    if (list.size() > kMaxStatementRecipientBytes)
      throw Error(Exit::usage, "too many recipients for one package: their names take " +
                                   std::to_string(list.size()) + " bytes, at most " +
                                   std::to_string(kMaxStatementRecipientBytes));
    s += " to=" + list;
  }
  return s;
}

SealedStatement SealedStatement::parse(std::string_view comment) {
  auto bad = [&](const std::string& why) {
    return Error(Exit::bad_signature, "not an iep-sealed statement (" + why + ")");
  };
  SealedStatement st;
  bool first = true;
  while (!comment.empty()) {
    auto sp = comment.find(' ');
    std::string_view tok = comment.substr(0, sp);
    comment = sp == std::string_view::npos ? std::string_view{} : comment.substr(sp + 1);
    if (first) {
      if (tok != "iep-sealed") throw bad("it does not start with iep-sealed");
      first = false;
      continue;
    }
    auto eq = tok.find('=');
    if (eq == std::string_view::npos) throw bad("a field without '='");
    auto key = tok.substr(0, eq);
    std::string value(tok.substr(eq + 1));
    if (key == "package") {
      if (value.size() != 32 || value.find_first_not_of("0123456789abcdef") != std::string::npos)
        throw bad("package is not 32 hex digits");
      st.package_id = value;
    } else if (key == "sender") {
      if (!valid_site_name(value)) throw bad("sender is not a site name");
      st.sender = value;
    } else if (key == "created") {
      if (value.size() > 64 || !valid_rfc3339(value)) throw bad("created is not an RFC 3339 time");
      st.created = value;
    } else if (key == "to") {
      if (value.size() > kMaxStatementRecipientBytes) throw bad("the recipient list is too long");
      std::vector<std::string> sites;
      std::string_view rest = value;
      while (true) {
        auto comma = rest.find(',');
        std::string site(rest.substr(0, comma));
        if (!valid_site_name(site)) throw bad("a recipient is not a site name");
        sites.push_back(site);
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
      }
      st.to = std::move(sites);
    }
  }
  if (first || st.package_id.empty() || st.sender.empty()) throw bad("package or sender missing");
  return st;
}

SealedStatement check_sealed_signature(const minisign::Signature& sig,
                                       const std::array<std::uint8_t, 64>& digest,
                                       const SiteCard& sender, const std::string& name) {
  if (sig.key_id != sender.signing_key.id)
    throw Error(Exit::bad_signature, name + ": not signed by the key of " + sender.site);
  if (!sig.verify(sender.signing_key, digest))
    throw Error(Exit::bad_signature,
                name + ": the signature over the sealed bytes does not verify");
  SealedStatement st;
  try {
    st = SealedStatement::parse(sig.trusted_comment);
  } catch (const Error& e) {
    throw Error(Exit::bad_signature, name + ": " + e.what());
  }
  if (st.sender != sender.site)
    throw Error(Exit::bad_signature, name + ": signed by " + sender.site +
                                         " but the statement names " + st.sender + " as sender");
  return st;
}

}  // namespace iep::package
