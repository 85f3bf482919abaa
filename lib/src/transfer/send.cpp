#include "iep/transfer/send.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/util.h"
#include "iep/core/error.h"

namespace fs = std::filesystem;

namespace iep::transfer {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void write_file(const fs::path& p, std::string_view text) {
  AtomicFile f(p, true, 0600);
  f.write(util::as_bytes(text));
  f.commit();
}

// An exclusive flock on a file, released on destruction.
class Lock {
 public:
  Lock(const fs::path& p, bool wait, const std::string& what, bool verbose) {
    fd_.reset(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (fd_.get() < 0) throw Error(Exit::output, p.string() + ": " + std::strerror(errno));
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) == 0) return;
    if (errno != EWOULDBLOCK) throw Error(Exit::output, p.string() + ": " + std::strerror(errno));
    if (!wait)
      throw Error(Exit::busy, what + ": another run is working on the same input (lock " +
                                  p.string() + "); it will finish, or run again later");
    if (verbose) std::fprintf(stderr, "iep: %s: waiting for another run to finish\n", what.c_str());
    while (::flock(fd_.get(), LOCK_EX) != 0)
      if (errno != EINTR) throw Error(Exit::output, p.string() + ": " + std::strerror(errno));
  }

 private:
  UniqueFd fd_;
};

// The sealed file under construction: written by the sealer, read (from
// what is there so far) by the uploader on another thread.
class GrowingFile : public Sink, public UploadData {
 public:
  explicit GrowingFile(fs::path p) : path_(std::move(p)) {
    fd_.reset(::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (fd_.get() < 0) throw Error(Exit::output, path_.string() + ": " + std::strerror(errno));
  }
  void write(ByteSpan d) override {
    FdSink(fd_.get(), path_.string()).write(d);
    std::lock_guard<std::mutex> g(m_);
    written_ += d.size();
    cv_.notify_all();
  }
  void finish() override {}
  // Not fsynced: the hub's copy is the durable one; a resume checks this
  // one against its signature first (Job::sealed_verifies).
  void complete() {
    std::lock_guard<std::mutex> g(m_);
    done_ = true;
    cv_.notify_all();
  }
  void fail() {
    std::lock_guard<std::mutex> g(m_);
    failed_ = true;
    cv_.notify_all();
  }
  std::pair<std::uint64_t, bool> wait(std::uint64_t want) override {
    std::unique_lock<std::mutex> g(m_);
    cv_.wait(g, [&] { return written_ >= want || done_ || failed_; });
    if (failed_) throw Error(Exit::internal, "sealing stopped");
    return {written_, done_};
  }
  void read_at(std::uint64_t offset, MutableByteSpan buf) override {
    std::size_t done = 0;
    while (done < buf.size()) {
      ssize_t n = ::pread(fd_.get(), buf.data() + done, buf.size() - done,
                          static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw Error(Exit::input, path_.string() + ": read failed");
      done += static_cast<std::size_t>(n);
    }
  }
  std::uint64_t size() {
    std::lock_guard<std::mutex> g(m_);
    return written_;
  }

 private:
  fs::path path_;
  UniqueFd fd_;
  std::mutex m_;
  std::condition_variable cv_;
  std::uint64_t written_ = 0;
  bool done_ = false, failed_ = false;
};

// The one line of a small file of ours (the upload URL), without its newline.
std::string read_line(const fs::path& p) {
  std::string s = read_small_file(p, 4096);
  s = s.substr(0, s.find('\n'));
  return std::string(util::trim(s));
}

std::string recipients_key(const std::vector<SiteCard>& to) {
  std::vector<std::string> v;
  for (const auto& c : to) v.push_back(c.site + " " + c.signing_key.id_hex());
  std::sort(v.begin(), v.end());
  std::string s;
  for (const auto& x : v) s += "to " + x + "\n";
  return s;
}

std::string key_of(std::string_view material) {
  util::Blake2b256 h;
  h.write(util::as_bytes(material));
  return util::hex(h.digest());
}

class Progress {
 public:
  Progress(bool on, std::string label) : on_(on), label_(std::move(label)) {}
  void operator()(std::uint64_t offset) {
    if (!on_) return;
    auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    std::fprintf(stderr, "\r\033[Kiep-send: %s: %.1f MiB on the hub", label_.c_str(),
                 static_cast<double>(offset) / (1 << 20));
  }
  void done() {
    if (on_) std::fputs("\r\033[K", stderr);
  }

 private:
  bool on_;
  std::string label_;
  Clock::time_point last_{};
};

// The BLAKE2b-512 prehash (what a sealed package's signature covers) and the
// size of a file.
std::pair<std::array<std::uint8_t, 64>, std::uint64_t> prehash_of(const fs::path& p) {
  FileSource in(p);
  minisign::Prehash pre;
  Bytes buf(1 << 20);
  std::uint64_t size = 0;
  while (std::size_t n = in.read(buf)) {
    pre.write(ByteSpan(buf.data(), n));
    size += n;
  }
  return {pre.digest(), size};
}

// One input's folder in the state and what happens in it.
class Job {
 public:
  Job(Hub& hub, const SiteIdentity& self, const std::vector<SiteCard>& to, const SendOptions& o,
      fs::path dir, std::string input)
      : hub_(hub), self_(self.card()), o_(o), dir_(std::move(dir)), sealed_(dir_ / "sealed") {
    r_.input = std::move(input);
    for (const auto& c : to) r_.recipients.push_back(c.site);
  }

  // The input is already sent: the result.
  bool already_sent() {
    fs::path p = dir_ / "sent.json";
    std::error_code ec;
    if (!fs::exists(p, ec)) return false;
    json j = json::parse(read_small_file(p, 1 << 20), nullptr, false);
    if (j.is_object()) {
      if (j.contains("package") && j["package"].is_string()) r_.package = j["package"];
      if (j.contains("size") && j["size"].is_number_unsigned()) r_.size = j["size"];
      if (j.contains("committed") && j["committed"].is_string()) r_.committed = j["committed"];
      if (j.contains("blake2b") && j["blake2b"].is_string()) r_.blake2b = j["blake2b"];
    }
    r_.already_sent = true;
    return true;
  }

  [[nodiscard]] const SendResult& result() const { return r_; }

  // Called once the seal is complete, before its signature is written and
  // the upload committed; false: commit nothing (the upload is terminated).
  void on_sealed(std::function<bool(Job&)> f) { on_sealed_ = std::move(f); }
  // The job continues in `dir` (its files moved there by the caller).
  void relocate(fs::path dir) {
    dir_ = std::move(dir);
    sealed_ = dir_ / "sealed";
  }
  // The result is another run's (the same input, already sent).
  void adopt(const SendResult& r) { r_ = r; }

  // Gives up this job's unfinished upload (best effort) and its files,
  // keeping the lock and nothing else.
  void abandon() {
    std::error_code ec;
    if (fs::exists(dir_ / "upload", ec)) {
      try {
        hub_.tus().terminate(read_line(dir_ / "upload"));
      } catch (const Error&) {
      }
    }
    for (const char* f : {"sealed", "sealed.minisig", "upload", "plain", "input"})
      fs::remove(dir_ / f, ec);
  }

  // Uploads and commits a package sealed earlier (iep-send --output), from
  // where it is; its signature is the job's sealed.minisig.
  SendResult run_sealed(const fs::path& sealed, const std::string& package, std::uint64_t size,
                        const std::vector<std::string>& recipients) {
    sealed_ = sealed;
    r_.package = package;
    r_.size = size;
    r_.recipients = recipients;
    upload_sealed(sealed, "uploading");
    return r_;
  }

  // Seals with `seal` (writing into the sink given) unless a complete
  // sealed package is there already, uploads, commits.
  SendResult run(const std::function<package::Sealed(Sink&)>& seal) {
    fs::path sealed = sealed_, sig = dir_ / "sealed.minisig", up = dir_ / "upload";
    std::error_code ec;
    if (fs::exists(sig, ec) && sealed_verifies()) {
      upload_sealed(sealed, "resuming");
      return r_;
    }
    if (fs::exists(up, ec)) {  // a run stopped while sealing: its bytes cannot be finished
      try {
        hub_.tus().terminate(read_line(up));
      } catch (const Error& e) {
        if (e.code() == Exit::network || e.code() == Exit::auth) throw;
      }
      fs::remove(up, ec);
    }
    fs::remove(sig, ec);
    fs::remove(sealed, ec);
    seal_and_upload(seal);
    return r_;
  }

 private:
  void seal_and_upload(const std::function<package::Sealed(Sink&)>& seal) {
    fs::path up = dir_ / "upload";
    auto t0 = Clock::now();
    std::string url = hub_.tus().create(std::nullopt, {{"filename", "sealed.iep"}});
    write_file(up, url + "\n");
    GrowingFile file(dir_ / "sealed");
    Progress progress(o_.progress, "sending");
    std::exception_ptr upload_error;
    double upload_end = 0;
    std::thread uploader([&] {
      try {
        hub_.tus().upload(url, file, std::ref(progress), TusClient::Status{});
      } catch (...) {
        upload_error = std::current_exception();
      }
      upload_end = since(t0);
    });
    // A seal that failed, or a hook that finds nothing to commit: the
    // uploader stops at its next chunk, the upload is given up on the hub
    // and what was sealed is removed.
    auto give_up = [&] {
      file.fail();
      uploader.join();
      progress.done();
      hub_.tus().terminate(url);
      std::error_code ec;
      fs::remove(dir_ / "upload", ec);
      fs::remove(dir_ / "sealed", ec);
    };
    package::Sealed s;
    bool go = false;
    try {
      s = seal(file);
      file.complete();
      go = !on_sealed_ || on_sealed_(*this);
    } catch (...) {
      give_up();
      throw;
    }
    if (!go) {
      give_up();
      return;
    }
    r_.seal_seconds = since(t0);
    r_.size = file.size();
    r_.blake2b = util::hex(s.digest);
    r_.package = s.manifest.package_id;
    std::string sig_text = s.signature.encode();
    write_file(dir_ / "sealed.minisig", sig_text);
    fsync_dir(dir_);
    uploader.join();
    progress.done();
    r_.upload_seconds = upload_end;
    if (upload_error) std::rethrow_exception(upload_error);
    commit(url, sig_text);
  }

  // The sealed file of an earlier run is not fsynced (the hub's copy is what
  // must be durable): after a crash or a reboot it may be short or damaged.
  // It is trusted for a resume only if this site's signature, written once
  // the file was complete, verifies over it; then its id, size and hash
  // are taken from this one pass. Otherwise the run seals anew.
  bool sealed_verifies() {
    const fs::path& sealed = sealed_;
    try {
      auto sig = minisign::Signature::parse(read_small_file(dir_ / "sealed.minisig", 16384));
      auto [digest, size] = prehash_of(sealed);
      auto st = package::check_sealed_signature(sig, digest, self_, sealed.string());
      r_.package = st.package_id;
      r_.blake2b = util::hex(digest);
      r_.size = size;
      return true;
    } catch (const Error& e) {
      std::fprintf(stderr,
                   "iep-send: %s: the sealed copy of an earlier run does not verify (%s); "
                   "sealing again\n",
                   r_.input.c_str(), e.what());
      return false;
    }
  }

  // Uploads (from the hub's offset when the upload was begun by an earlier
  // run) and commits the complete sealed package `sealed`, signed by the
  // job's sealed.minisig; r_ holds its id and size.
  void upload_sealed(const fs::path& sealed, const char* verb) {
    fs::path up = dir_ / "upload";
    std::string sig_text = read_small_file(dir_ / "sealed.minisig", 16384);
    if (o_.verbose)
      std::fprintf(stderr, "iep-send: %s package %s (%llu bytes sealed before)\n", verb,
                   r_.package.c_str(), static_cast<unsigned long long>(r_.size));
    std::error_code ec;
    std::string url;
    if (fs::exists(up, ec)) url = read_line(up);
    std::optional<TusClient::Status> status;
    if (!url.empty()) status = hub_.tus().status(url);
    if (!status) {
      // Gone: committed by an earlier run whose answer was lost, or expired.
      if (committed_already()) return;
      url = hub_.tus().create(r_.size, {{"filename", "sealed.iep"}, {"package", r_.package}});
      write_file(up, url + "\n");
      status = TusClient::Status{0, r_.size};
    }
    auto t0 = Clock::now();
    FileUploadData data(sealed.string());
    Progress progress(o_.progress, "sending");
    hub_.tus().upload(url, data, std::ref(progress), status);
    progress.done();
    r_.upload_seconds = since(t0);
    commit(url, sig_text);
  }

  bool committed_already() {
    auto info = hub_.package(r_.package);
    if (!info) return false;
    if (r_.blake2b.empty()) r_.blake2b = util::hex(prehash_of(sealed_).first);
    if (info->blake2b != r_.blake2b)
      throw Error(Exit::rejected, hub_.host() + ": package " + r_.package +
                                      " was committed with other bytes than the ones sealed here");
    record(*info);
    return true;
  }

  void commit(const std::string& url, const std::string& sig_text) {
    auto t0 = Clock::now();
    PackageInfo info;
    try {
      info = hub_.commit(url, sig_text);
    } catch (const Error& e) {
      if (e.code() == Exit::rejected && committed_already()) return;
      throw;
    }
    r_.commit_seconds = since(t0);
    // A package sealed earlier is not hashed here: the hub's check of its
    // signature over the bytes it holds is what proves them ours.
    if (r_.blake2b.empty()) r_.blake2b = info.blake2b;
    if (info.package != r_.package || (!info.blake2b.empty() && info.blake2b != r_.blake2b))
      throw Error(Exit::rejected, hub_.host() + ": the commit answer names another package (" +
                                      info.package + ") than the one sent (" + r_.package + ")");
    record(info);
  }

  void record(const PackageInfo& info) {
    r_.committed = info.committed;
    if (!info.recipients.empty()) r_.recipients = info.recipients;
    json j = json::parse(info.json, nullptr, false);
    if (!j.is_object()) j = json::object();
    j["package"] = r_.package;
    j["size"] = r_.size;
    j["blake2b"] = r_.blake2b;
    j["committed"] = r_.committed;
    write_file(dir_ / "sent.json", j.dump() + "\n");
    fsync_dir(dir_);
    std::error_code ec;
    for (const char* f : {"sealed", "sealed.minisig", "upload", "plain"}) fs::remove(dir_ / f, ec);
  }

  Hub& hub_;
  SiteCard self_;
  const SendOptions& o_;
  fs::path dir_;
  fs::path sealed_;  // the sealed bytes: in dir_, or the file of run_sealed()
  SendResult r_;
  std::function<bool(Job&)> on_sealed_;
};

fs::path job_dir(const SendOptions& o, const std::string& key) {
  fs::path d = o.state / "send" / key;
  std::error_code ec;
  fs::create_directories(d, ec);
  if (ec) throw Error(Exit::output, d.string() + ": " + ec.message());
  ::chmod(o.state.c_str(), 0700);
  return d;
}

std::string describe(const package::Plan& plan) {
  std::string s = plan.study.study_instance_uid;
  if (!plan.files.empty()) s = plan.files.front().source.parent_path().string() + " (" + s + ")";
  return s;
}

}  // namespace

std::string SendResult::to_json() const {
  json j = {{"input", input},
            {"package", package},
            {"recipients", recipients},
            {"size", size},
            {"blake2b", blake2b},
            {"already_sent", already_sent},
            {"committed", committed},
            {"seconds",
             {{"seal", seal_seconds}, {"upload", upload_seconds}, {"commit", commit_seconds}}}};
  return j.dump() + "\n";
}

SendResult send_plan(Hub& hub, const SiteIdentity& self, package::Plan plan,
                     const std::vector<SiteCard>& to, const SendOptions& o) {
  std::string material =
      "iep-send v1\nhub " + hub.url() + "\nfrom " + self.site + "\n" + recipients_key(to);
  for (const auto& f : plan.files) {
    std::error_code ec;
    fs::path c = fs::canonical(f.source, ec);
    struct stat sb {};
    if (ec || ::stat(c.c_str(), &sb) != 0)
      throw Error(Exit::input, f.source.string() + ": cannot read it");
    material += "file " + c.string() + " " + std::to_string(sb.st_size) + " " +
                std::to_string(sb.st_mtim.tv_sec) + "." + std::to_string(sb.st_mtim.tv_nsec) + " " +
                f.entry.path + "\n";
  }
  std::string key = key_of(material);
  fs::path dir = job_dir(o, key);
  std::string what = describe(plan);
  Lock lock(dir / "lock", o.wait_for_lock, what, o.verbose);
  Job job(hub, self, to, o, dir, what);
  if (job.already_sent()) return job.result();
  write_file(dir / "input", material);
  auto p = std::make_shared<package::Plan>(std::move(plan));
  return job.run([&](Sink& out) { return package::seal(std::move(*p), self, to, out, o.write); });
}

namespace {

std::string stdin_material(Hub& hub, const SiteIdentity& self, const std::vector<SiteCard>& to,
                           util::Blake2b256& h) {
  return "iep-send v1\nhub " + hub.url() + "\nfrom " + self.site + "\n" + recipients_key(to) +
         "stdin " + util::hex(h.digest()) + "\n";
}

// A job for stdin in this state folder that was sealed but stopped before
// its commit, less than a week ago: a re-run of it must find it by its key
// (reading stdin whole first) to resume its upload.
bool stdin_job_pending(const fs::path& sdir) {
  std::error_code ec;
  const auto week_ago = fs::file_time_type::clock::now() - std::chrono::hours(24 * 7);
  for (const auto& de : fs::directory_iterator(sdir, ec)) {
    const fs::path& d = de.path();
    std::error_code e2;
    if (d.filename().string().starts_with(".") || !de.is_directory(e2) ||
        fs::exists(d / "sent.json", e2) || !fs::exists(d / "sealed.minisig", e2) ||
        fs::last_write_time(d / "sealed.minisig", e2) < week_ago)
      continue;
    try {
      if (read_small_file(d / "input").find("\nstdin ") != std::string::npos) return true;
    } catch (const Error&) {
    }
  }
  return false;
}

// Folders of streamed runs that ended without reaching their job (killed
// while reading stdin): their uploads are given up, the folders removed.
void clear_stopped_streams(Hub& hub, const SiteIdentity& self, const std::vector<SiteCard>& to,
                           const SendOptions& o, const fs::path& sdir) {
  std::error_code ec;
  std::vector<fs::path> stopped;
  for (const auto& de : fs::directory_iterator(sdir, ec))
    if (de.path().filename().string().starts_with(".stream.")) stopped.push_back(de.path());
  for (const auto& d : stopped) {
    try {
      Lock lock(d / "lock", false, "stdin", false);
      Job(hub, self, to, o, d, "stdin").abandon();
    } catch (const Error&) {
      continue;  // a run still reading its stdin
    }
    fs::remove_all(d, ec);
  }
}

// Seals while reading stdin, in a folder of its own (.stream.XXXXXX). Once
// stdin has ended its key is known: if a package was already sent for the
// same bytes, this run commits nothing (its upload is given up); else its
// files move into the job's folder, replacing what an unfinished run of the
// same bytes left there, and the upload is committed from there.
SendResult send_streamed(Hub& hub, const SiteIdentity& self, Source& plain, const TrustStore& trust,
                         const std::vector<SiteCard>& to, const SendOptions& o,
                         const fs::path& sdir) {
  std::string name = (sdir / ".stream.XXXXXX").string();
  if (::mkdtemp(name.data()) == nullptr)
    throw Error(Exit::output, sdir.string() + ": " + std::strerror(errno));
  struct Removed {
    fs::path dir;
    ~Removed() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } const tmp{name};
  Lock tmp_lock(tmp.dir / "lock", false, "stdin", o.verbose);
  util::Blake2b256 h;
  TeeSource in(plain, h);  // the key: the hash of all of stdin
  Job job(hub, self, to, o, tmp.dir, "stdin");
  std::unique_ptr<Lock> lock;  // the job's own, once its key is known
  job.on_sealed([&](Job& j) {
    Bytes rest(1 << 16);
    while (in.read(rest) > 0) {
    }  // the key covers all of stdin, as when it is spooled first
    const std::string material = stdin_material(hub, self, to, h);
    const fs::path dir = job_dir(o, key_of(material));
    lock = std::make_unique<Lock>(dir / "lock", o.wait_for_lock, "stdin", o.verbose);
    Job earlier(hub, self, to, o, dir, "stdin");
    if (earlier.already_sent()) {
      j.adopt(earlier.result());
      return false;
    }
    earlier.abandon();
    for (const char* f : {"sealed", "upload"}) fs::rename(tmp.dir / f, dir / f);
    write_file(dir / "input", material);
    fsync_dir(dir);
    j.relocate(dir);
    return true;
  });
  return job.run(
      [&](Sink& out) { return package::seal_plain(in, "stdin", self, trust, to, out, o.write); });
}

}  // namespace

SendResult send_plain(Hub& hub, const SiteIdentity& self, Source& plain, const TrustStore& trust,
                      const std::vector<SiteCard>& to, const SendOptions& o) {
  fs::path sdir = o.state / "send";
  std::error_code ec;
  fs::create_directories(sdir, ec);
  if (ec) throw Error(Exit::output, sdir.string() + ": " + ec.message());
  ::chmod(o.state.c_str(), 0700);
  // Spools of runs killed while reading stdin, a day old or more.
  for (const auto& de : fs::directory_iterator(sdir, ec)) {
    std::string n = de.path().filename().string();
    std::error_code e2;
    if (n.starts_with(".stdin.") && n.ends_with(".tmp") &&
        fs::last_write_time(de.path(), e2) <
            fs::file_time_type::clock::now() - std::chrono::hours(24))
      fs::remove(de.path(), e2);
  }
  clear_stopped_streams(hub, self, to, o, sdir);
  if (!stdin_job_pending(sdir)) return send_streamed(hub, self, plain, trust, to, o, sdir);

  // Spool the plain package while hashing it: the key is its bytes.
  fs::path tmp;
  std::string key;
  {
    UniqueFd fd = create_sibling(sdir / "stdin", 0600, tmp);
    util::Blake2b256 h;
    struct Tee : Sink {
      FdSink file;
      util::Blake2b256& h;
      Tee(int fd, const std::string& n, util::Blake2b256& h) : file(fd, n), h(h) {}
      void write(ByteSpan d) override {
        file.write(d);
        h.write(d);
      }
      void finish() override {}
    } tee(fd.get(), tmp.string(), h);
    try {
      copy(plain, tee);
      if (::fsync(fd.get()) != 0) throw Error(Exit::output, tmp.string() + ": fsync failed");
    } catch (...) {
      fs::remove(tmp, ec);
      throw;
    }
    std::string material = stdin_material(hub, self, to, h);
    key = key_of(material);
    fs::path dir = job_dir(o, key);
    write_file(dir / "input", material);
  }
  fs::path dir = o.state / "send" / key;
  Lock lock(dir / "lock", o.wait_for_lock, "stdin", o.verbose);
  Job job(hub, self, to, o, dir, "stdin");
  if (job.already_sent()) {
    fs::remove(tmp, ec);
    return job.result();
  }
  if (fs::exists(dir / "plain", ec))
    fs::remove(tmp, ec);  // the same bytes, kept by an earlier run
  else
    fs::rename(tmp, dir / "plain");
  return job.run([&](Sink& out) {
    FileSource in(dir / "plain");
    return package::seal_plain(in, "stdin", self, trust, to, out, o.write);
  });
}

SendResult send_sealed(Hub& hub, const SiteIdentity& self, const fs::path& sealed,
                       const fs::path& signature, const std::vector<std::string>& to,
                       const SendOptions& o) {
  const std::string name = sealed.string();
  std::string sig_text;
  try {
    sig_text = read_small_file(signature, 16384);
  } catch (const Error& e) {
    throw Error(Exit::input, name + ": its signature cannot be read: " + e.what());
  }
  // Only what routes the upload is read here; the hub checks the signature
  // over the bytes it receives before it commits them.
  const auto sig = minisign::Signature::parse(sig_text);
  if (sig.key_id != self.card().signing_key.id)
    throw Error(Exit::bad_signature, signature.string() + ": not signed by this site (" +
                                         self.site +
                                         "): only the site that sealed a package "
                                         "can send it");
  const auto st = package::SealedStatement::parse(sig.trusted_comment);
  if (st.sender != self.site || !st.to || st.to->empty())
    throw Error(Exit::bad_signature, signature.string() + ": does not name " + self.site +
                                         " as sender and the sites it was sealed for");
  auto listed = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
  };
  if (!to.empty() && listed(to) != listed(*st.to))
    throw Error(Exit::usage,
                name + ": sealed for " + listed(*st.to) + ", not for " + listed(to) + " (--to)");
  struct stat sb {};
  if (::stat(sealed.c_str(), &sb) != 0)
    throw Error(Exit::input, name + ": " + std::strerror(errno));

  const std::string material = "iep-send v1\nhub " + hub.url() + "\nfrom " + self.site +
                               "\nsealed " + st.package_id + "\n" + sig_text;
  fs::path dir = job_dir(o, key_of(material));
  Lock lock(dir / "lock", o.wait_for_lock, name, o.verbose);
  Job job(hub, self, {}, o, dir, name);
  if (job.already_sent()) return job.result();
  write_file(dir / "input", material);
  if (!fs::exists(dir / "sealed.minisig")) write_file(dir / "sealed.minisig", sig_text);
  return job.run_sealed(sealed, st.package_id, static_cast<std::uint64_t>(sb.st_size), *st.to);
}

std::vector<SendOutcome> send_plans(const HubOptions& hub_options, const SiteIdentity& self,
                                    std::vector<package::Plan> plans,
                                    const std::vector<SiteCard>& to, const SendOptions& o) {
  std::vector<SendOutcome> out(plans.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    std::unique_ptr<Hub> hub;
    for (;;) {
      std::size_t i = next++;
      if (i >= plans.size()) return;
      try {
        if (!hub) hub = std::make_unique<Hub>(hub_options);
        out[i].result.input = describe(plans[i]);
        out[i].result = send_plan(*hub, self, std::move(plans[i]), to, o);
      } catch (const Error& e) {
        out[i].code = e.code();
        out[i].error = e.what();
      } catch (const std::exception& e) {
        out[i].code = Exit::internal;
        out[i].error = e.what();
      }
    }
  };
  int n = std::max(1, std::min<int>(o.jobs, static_cast<int>(plans.size())));
  std::vector<std::thread> threads;
  for (int i = 1; i < n; ++i) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return out;
}

}  // namespace iep::transfer
