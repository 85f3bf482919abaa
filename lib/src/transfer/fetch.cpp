#include "iep/transfer/fetch.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/util.h"
#include "iep/dicom/media.h"
#include "iep/package/package.h"
#include "iep/transfer/receipt.h"

namespace fs = std::filesystem;

namespace iep::transfer {
namespace {

using Clock = std::chrono::steady_clock;

// The replay ledger: what happened to each package id, appended and synced.
class Ledger {
 public:
  explicit Ledger(fs::path p) : path_(std::move(p)) {
    std::ifstream in(path_);
    std::string line;
    while (std::getline(in, line)) {
      auto sp = line.find(' ');
      if (sp != 32) continue;
      auto sp2 = line.find(' ', sp + 1);
      state_[line.substr(0, sp)] =
          line.substr(sp + 1, sp2 == std::string::npos ? sp2 : sp2 - sp - 1);
    }
    fd_.reset(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    if (fd_.get() < 0) throw Error(Exit::output, path_.string() + ": " + std::strerror(errno));
  }
  [[nodiscard]] std::string state(const std::string& id) const {
    auto it = state_.find(id);
    return it == state_.end() ? std::string() : it->second;
  }
  void set(const std::string& id, const std::string& st) {
    std::string line = id + " " + st + " " + util::utc_now() + "\n";
    FdSink(fd_.get(), path_.string()).write(util::as_bytes(line));
    if (::fsync(fd_.get()) != 0)
      throw Error(Exit::output, path_.string() + ": fsync failed: " + std::strerror(errno));
    state_[id] = st;
  }

 private:
  fs::path path_;
  UniqueFd fd_;
  std::map<std::string, std::string> state_;
};

class Lock {
 public:
  Lock(const fs::path& p, bool wait) {
    fd_.reset(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (fd_.get() < 0) throw Error(Exit::output, p.string() + ": " + std::strerror(errno));
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) == 0) return;
    if (!wait)
      throw Error(Exit::busy, p.parent_path().string() +
                                  ": another iep-fetch is using this state folder; it will "
                                  "deliver what is waiting, or run again later");
    while (::flock(fd_.get(), LOCK_EX) != 0)
      if (errno != EINTR) throw Error(Exit::output, p.string() + ": " + std::strerror(errno));
  }

 private:
  UniqueFd fd_;
};

// Runs `cmd` with sh -c and the study in its environment; its stdout goes
// to our stderr (our stdout carries --json). Returns its exit status.
int run_exec(const std::string& cmd, const std::map<std::string, std::string>& env) {
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid < 0) throw Error(Exit::internal, std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    ::dup2(2, 1);
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) throw Error(Exit::internal, "waitpid failed");
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

std::string study_uid_in(const fs::path& dir) {
  try {
    auto m = Manifest::parse(read_small_file(dir / package::kManifestName, 256 << 20),
                             (dir / package::kManifestName).string());
    return m.study.study_instance_uid;
  } catch (const Error&) {
    return {};
  }
}

// The sealed bytes of a download in progress, read from its state file as
// the download thread (through the Hub::Tap side) reports them written. A
// resumed download first replays what the file held, so a reader starts at
// the beginning either way. No hash is taken here: the listed BLAKE2b-512 is
// the prehash the sender's signature covers (checked against the signature
// before the download), and the open checks that signature over the bytes
// it reads; a second BLAKE2b pass over the same bytes proved nothing more.
// Once the open has read the last byte, the file is emptied: the open's
// syncfs would otherwise write the whole download to disk just before it is
// deleted. A run that fails after that point downloads again; one that
// fails earlier resumes.
class ArrivingSource : public Source, public Hub::Tap {
 public:
  ArrivingSource(fs::path file, const MailboxEntry& e, std::string name)
      : file_(std::move(file)), e_(e), name_(std::move(name)) {}

  // ---- the download thread
  void reset() override {
    std::lock_guard lk(mu_);
    written_ = 0;
  }
  void write(ByteSpan d) override {
    if (cancel_.load()) throw Error(Exit::output, name_ + ": download abandoned");
    {
      std::lock_guard lk(mu_);
      written_ += d.size();
    }
    cv_.notify_all();
  }
  [[nodiscard]] bool cancelled() const override { return cancel_.load(); }
  void finish(std::exception_ptr err) {
    {
      std::lock_guard lk(mu_);
      done_ = true;
      error_ = std::move(err);
    }
    cv_.notify_all();
  }
  // ---- the opening thread
  void cancel() { cancel_.store(true); }
  std::size_t read(MutableByteSpan buf) override {
    while (pos_ < e_.size) {
      std::uint64_t avail = 0;
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [&] { return written_ > pos_ || done_; });
        if (written_ <= pos_) {
          if (error_) std::rethrow_exception(error_);
          throw Error(Exit::network, name_ + ": the download ended early");
        }
        avail = written_ - pos_;
      }
      if (fd_.get() < 0) {
        fd_.reset(::open(file_.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd_.get() < 0) throw Error(Exit::output, file_.string() + ": " + std::strerror(errno));
      }
      ssize_t got = ::pread(fd_.get(), buf.data(), std::min<std::uint64_t>(buf.size(), avail),
                            static_cast<off_t>(pos_));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw Error(Exit::output, file_.string() + ": " + std::strerror(errno));
      if (got == 0) continue;  // the download started over meanwhile: wait for it
      pos_ += static_cast<std::uint64_t>(got);
      return static_cast<std::size_t>(got);
    }
    drop_download();
    return 0;
  }

 private:
  // Truncating discards the file's pages unwritten; only once the download
  // thread is done with the file (it checks its size at the end).
  void drop_download() {
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return done_; });
      if (error_) return;
    }
    (void)::truncate(file_.c_str(), 0);
  }

  fs::path file_;
  const MailboxEntry& e_;
  std::string name_;
  UniqueFd fd_;
  std::uint64_t pos_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t written_ = 0;
  bool done_ = false;
  std::exception_ptr error_;
  std::atomic<bool> cancel_{false};
};

class Fetcher {
 public:
  Fetcher(Hub& hub, const SiteIdentity& self, const FetchOptions& o)
      : hub_(hub), self_(self), o_(o), dir_(o.state / "fetch") {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw Error(Exit::output, dir_.string() + ": " + ec.message());
    ::chmod(o.state.c_str(), 0700);
    lock_ = std::make_unique<Lock>(dir_ / "lock", o.wait_for_lock);
    ledger_ = std::make_unique<Ledger>(dir_ / "ledger");
    if (!o.to_stdout) {
      fs::create_directories(o.out, ec);
      if (ec) throw Error(Exit::output, o.out.string() + ": " + ec.message());
    }
  }

  FetchResult process(const MailboxEntry& e) {
    auto t0 = Clock::now();
    FetchResult r;
    r.package = e.package;
    r.sender = e.sender;
    r.size = e.size;
    r.destination = o_.to_stdout ? "-" : (o_.out / e.package).string();
    try {
      deliver(e, r);
    } catch (const Error& err) {
      r.code = err.code();
      r.outcome = r.code == Exit::replayed ? "replayed" : "failed";
      r.error = err.what();
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return r;
  }

 private:
  void deliver(const MailboxEntry& e, FetchResult& r) {
    std::string st = ledger_->state(e.package);
    if (st == "acked") {
      // Acknowledged again (the hub may have been restored from a backup),
      // so that it leaves the mailbox; but never delivered a second time.
      try {
        Receipt rec{e.package, e.blake2b, self_.site, e.sender, util::utc_now()};
        hub_.ack(e.package, rec.statement(), sign_receipt(rec, self_).signature.encode());
      } catch (const Error&) {
      }
      throw Error(Exit::replayed,
                  e.package + ": package from " + e.sender +
                      " was delivered and acknowledged before; the hub offers it again (a "
                      "replay?): refused, nothing written");
    }
    fs::path sealed = dir_ / (e.package + ".sealed");
    fs::path dest = o_.out / e.package;
    std::error_code ec;
    bool found = st == "delivered" || (!o_.to_stdout && fs::is_directory(dest, ec));
    if (found) {
      r.outcome = "already-delivered";
      if (!o_.to_stdout) r.study_uid = study_uid_in(dest);
      if (st != "delivered") ledger_->set(e.package, "delivered");
    } else {
      open(e, sealed, dest, r);
      ledger_->set(e.package, "delivered");
      r.outcome = "delivered";
    }
    if (!o_.exec.empty()) {
      int rc =
          run_exec(o_.exec, {{"IEP_STUDY_DIR", o_.to_stdout ? "" : fs::absolute(dest).string()},
                             {"IEP_PACKAGE", e.package},
                             {"IEP_SENDER", e.sender},
                             {"IEP_STUDY_UID", r.study_uid}});
      if (rc != 0)
        throw Error(Exit::output, e.package + ": --exec command exited " + std::to_string(rc) +
                                      "; not acknowledged (it runs again next time)");
    }
    Receipt rec{e.package, e.blake2b, self_.site, e.sender, util::utc_now()};
    auto signed_rec = sign_receipt(rec, self_);
    hub_.ack(e.package, rec.statement(), signed_rec.signature.encode());
    ledger_->set(e.package, "acked");
    fs::remove(sealed, ec);
    fs::path etag = sealed;
    etag += ".etag";
    fs::remove(etag, ec);
  }

  // Downloads and opens at once: the open reads the sealed bytes from the
  // state file as the download thread writes them (ArrivingSource), so the
  // package is read once, while it arrives. The trust is that of iep-open of
  // a local file: the open decrypts into a private temporary folder and
  // renames it into place only after the sender's signature over the whole
  // sealed bytes and every hash verified; the last bytes reach it only once
  // they are checked against the listed BLAKE2b. The sender's pinned card is
  // the only card trusted for the manifest, and the signature's key must be
  // its key, so the open's check of the signature is against that card.
  void open(const MailboxEntry& e, const fs::path& sealed, const fs::path& dest, FetchResult& r) {
    std::string name = hub_.host() + ": package " + e.package;
    if (e.size == 0) throw Error(Exit::corrupt, name + ": empty");
    minisign::Signature sig;
    try {
      sig = minisign::Signature::parse(e.signature);
    } catch (const Error& err) {
      throw Error(Exit::bad_signature, name + ": the mailbox's signature: " + err.what());
    }
    // The card first: the download thread will be using the hub's connection.
    SiteCard sender = pinned_card(hub_, e.sender);
    // Refusals before any byte is fetched: the statement (the signature's
    // trusted comment, which the open verifies with the rest) and the key.
    check_statement(package::SealedStatement::parse(sig.trusted_comment), e, name);
    if (sig.key_id != sender.signing_key.id)
      throw Error(Exit::bad_signature,
                  name + ": signed by another key than the card of " + e.sender + " pinned here");
    // The listed hash is the prehash the signature covers: checked here, so
    // that the receipt names the signed bytes and the bytes need no second
    // hash pass (the open checks the signature over what it reads).
    std::array<std::uint8_t, 64> listed{};
    if (e.blake2b.size() != 2 * listed.size() ||
        !util::unhex(e.blake2b, listed.data(), listed.size()))
      throw Error(Exit::corrupt, name + ": the mailbox lists a malformed BLAKE2b-512");
    package::check_sealed_signature(sig, listed, sender, name + " (its listed BLAKE2b-512)");
    TrustStore trust;
    trust.add(sender);
    package::OpenOptions oo;
    oo.self = &self_;
    oo.trust = &trust;
    oo.signature = sig;
    oo.max_unpacked = o_.max_unpack != 0 ? o_.max_unpack : e.size * 4 + (64ull << 20);

    ArrivingSource in(sealed, e, name);
    std::thread download([&] {
      std::exception_ptr err;
      try {
        hub_.download(e, sealed, &in);
      } catch (...) {
        err = std::current_exception();
      }
      in.finish(err);
    });
    // A run killed (-9) while opening left its partial folder
    // (.ID.partial-XXXXXX): open_to_folder removes it first, as for
    // iep-open (StagedFolder: only partial folders no live run holds).
    Manifest m;
    try {
      if (o_.to_stdout) {
        FdSink out(1, "stdout");
        m = package::open_to_stream(in, name, oo, out);
      } else if (o_.media) {
        // Opened onto an unnamed temporary file, then laid out as a medium:
        // the partial folder is renamed into place only when complete.
        UniqueFd plain = unnamed_temp_file("an opened package");
        FdSink spool(plain.get(), "temporary file");
        m = package::open_to_stream(in, name, oo, spool);
        if (::lseek(plain.get(), 0, SEEK_SET) != 0)
          throw Error(Exit::output, "temporary file: " + std::string(std::strerror(errno)));
        FdSource src(plain.get(), name);
        m = dicom::write_media(src, name, trust, dest).manifest;
      } else {
        m = package::open_to_folder(in, name, oo, dest);
      }
    } catch (const Error& err) {
      in.cancel();
      download.join();
      // Bytes that do not open are not kept for a resume: the partial file
      // is not fsynced and may be what was damaged; the next run starts over.
      if (err.code() != Exit::network && err.code() != Exit::output) forget(sealed);
      throw;
    } catch (...) {
      in.cancel();
      download.join();
      throw;
    }
    download.join();
    r.study_uid = m.study.study_instance_uid;
  }

  static void forget(const fs::path& sealed) {
    std::error_code ec;
    fs::remove(sealed, ec);
    fs::path etag = sealed;
    etag += ".etag";
    fs::remove(etag, ec);
  }

  void check_statement(const package::SealedStatement& st, const MailboxEntry& e,
                       const std::string& name) const {
    if (st.package_id != e.package)
      throw Error(Exit::bad_signature,
                  name + ": the signature is for package " + st.package_id + ", not this one");
    if (st.sender != e.sender)
      throw Error(Exit::bad_signature, name + ": the signature names sender '" + st.sender +
                                           "', the hub '" + e.sender + "'");
    if (st.to && std::find(st.to->begin(), st.to->end(), self_.site) == st.to->end())
      throw Error(Exit::not_for_us, name + ": not addressed to " + self_.site);
  }

  Hub& hub_;
  const SiteIdentity& self_;
  const FetchOptions& o_;
  fs::path dir_;
  std::unique_ptr<Lock> lock_;
  std::unique_ptr<Ledger> ledger_;
};

}  // namespace

std::string FetchResult::to_json() const {
  nlohmann::json j = {{"package", package},
                      {"sender", sender},
                      {"size", size},
                      {"study_instance_uid", study_uid},
                      {"destination", destination},
                      {"outcome", outcome},
                      {"exit", static_cast<int>(code)},
                      {"seconds", seconds}};
  if (code != Exit::ok) j["error"] = error;
  return j.dump() + "\n";
}

Exit fetch(Hub& hub, const SiteIdentity& self, const FetchOptions& o,
           const std::function<void(const FetchResult&)>& report) {
  Fetcher f(hub, self, o);
  Exit first = Exit::ok;
  bool last_empty = false;
  // With --watch, a package that failed is tried again after a minute, not
  // in a loop (the mailbox answers at once while it holds it).
  std::map<std::string, Clock::time_point> retry_at;
  auto nap = [](int seconds) {
    for (int i = 0; i < seconds * 10 && !stop_flag().load(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  };
  while (!stop_flag().load()) {
    std::vector<MailboxEntry> box;
    try {
      box = hub.mailbox(o.watch && last_empty ? o.wait : 0);
    } catch (const Error& e) {
      if (stop_flag().load()) break;
      if (!o.watch || e.code() != Exit::network) throw;
      std::fprintf(stderr, "iep-fetch: %s; trying again\n", e.what());
      nap(5);
      continue;
    }
    last_empty = true;
    bool tried = false;
    for (const auto& e : box) {
      if (stop_flag().load()) break;
      if (auto it = retry_at.find(e.package); it != retry_at.end() && Clock::now() < it->second)
        continue;
      tried = true;
      FetchResult r = f.process(e);
      if (r.code == Exit::network && stop_flag().load()) break;  // abandoned; resumes next time
      if (r.code != Exit::ok) {
        if (first == Exit::ok) first = r.code;
        retry_at[e.package] = Clock::now() + std::chrono::seconds(60);
      } else {
        last_empty = false;
        retry_at.erase(e.package);
      }
      report(r);
    }
    if (!o.watch) break;
    if (!tried && !box.empty()) nap(o.wait);  // only packages waiting for a retry
  }
  return o.watch ? Exit::ok : first;
}

}  // namespace iep::transfer
