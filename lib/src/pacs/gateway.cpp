#include "iep/pacs/gateway.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/transfer/send.h"
#include "pacs/storage_scp.h"

namespace iep::pacs {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::pair<std::string, std::string> parse_route(const std::string& text) {
  const auto eq = text.rfind('=');
  if (eq == std::string::npos)
    throw Error(Exit::usage, fmt::format("--route '{}': expected AET=SITE", text));
  std::string aet = text.substr(0, eq), site = text.substr(eq + 1);
  check_aet(aet, "--route");
  if (!valid_site_name(site))
    throw Error(Exit::usage, fmt::format("--route '{}': '{}' is not a site name", text, site));
  return {aet, site};
}

std::map<std::string, std::string> read_routes(const fs::path& file) {
  const std::string text = read_small_file(file, 1 << 20);
  std::map<std::string, std::string> routes;
  std::size_t start = 0;
  int line_no = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      std::size_t j = i;
      while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
      if (j > i) words.push_back(line.substr(i, j - i));
      i = j;
    }
    if (words.empty()) continue;
    const auto bad = [&](const std::string& why) {
      return Error(Exit::input, fmt::format("{}:{}: {}", file.string(), line_no, why));
    };
    if (words.size() != 2) throw bad("expected AET SITE");
    try {
      check_aet(words[0], "AE title");
    } catch (const Error& e) {
      throw bad(e.what());
    }
    if (!valid_site_name(words[1])) throw bad(fmt::format("'{}' is not a site name", words[1]));
    if (!routes.emplace(words[0], words[1]).second)
      throw bad(fmt::format("AE title {} routed twice", words[0]));
  }
  return routes;
}

namespace {

void say(const std::string& line) {
  std::fprintf(stderr, "iep-gateway: %s\n", line.c_str());
  std::fflush(stderr);
}

bool hidden(const fs::path& p) {
  return p.filename().string().starts_with(".");
}

// FNV-1a, 64 bits: names a package after the instances it holds, the same
// in every run.
std::string set_hash(const std::set<std::string>& sops) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const auto& s : sops) {
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    h = (h ^ '\n') * 0x100000001b3ull;
  }
  return fmt::format("{:016x}", h);
}

struct Key {
  std::string site, study;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const Key&) const = default;
};

struct Study {
  Clock::time_point last;
  std::set<std::string> instances;  // in incoming/, not yet packed
  std::set<std::string> committed;  // of those, committed by the sender
  bool commitment = false;          // the sender asked for storage commitment
};

class Gateway {
 public:
  explicit Gateway(const GatewayOptions& o) : o_(o) {
    if (!o_.self) throw Error(Exit::identity, "iep-gateway: no site identity to sign packages");
    if (o_.routes.empty())
      throw Error(Exit::usage, "no route: give --route AET=SITE (or --routes FILE)");
    for (const char* sub : {"incoming", "outbox", "sent", "packed"}) {
      std::error_code ec;
      fs::create_directories(o_.data / sub, ec);
      if (ec)
        throw Error(Exit::output,
                    fmt::format("{}: cannot create: {}", (o_.data / sub).string(), ec.message()));
    }
    rescan();
  }

  // Instances received before a restart: their studies wait a quiet period
  // again from now; the packed lists tell which instances went out already.
  void rescan() {
    const auto now = Clock::now();
    std::error_code ec;
    for (const auto& site : fs::directory_iterator(o_.data / "packed", ec)) {
      if (!site.is_directory() || hidden(site.path())) continue;
      for (const auto& f : fs::directory_iterator(site.path(), ec))
        if (f.path().extension() == ".pending") recover(site.path().filename(), f.path());
      for (const auto& f : fs::directory_iterator(site.path(), ec)) {
        if (f.path().extension() == ".pending") continue;
        std::ifstream in(f.path());
        std::string sop;
        while (std::getline(in, sop))
          if (!sop.empty()) packed_[sop] = {site.path().filename(), f.path().filename()};
      }
    }
    std::size_t n = 0, studies = 0;
    for (const auto& site : fs::directory_iterator(o_.data / "incoming", ec)) {
      if (!site.is_directory() || hidden(site.path())) continue;
      for (const auto& study : fs::directory_iterator(site.path(), ec)) {
        if (!study.is_directory() || hidden(study.path())) continue;
        Key key{site.path().filename(), study.path().filename()};
        Study s;
        s.last = now;
        for (const auto& f : fs::directory_iterator(study.path(), ec))
          if (f.is_regular_file() && f.path().extension() == ".dcm")
            s.instances.insert(f.path().stem());
        if (s.instances.empty()) {
          fs::remove(study.path(), ec);  // left empty by a pack
          continue;
        }
        n += s.instances.size();
        ++studies;
        studies_[key] = std::move(s);
      }
    }
    if (studies)
      say(fmt::format("resuming {} study(ies) of {} instance(s) received before a restart", studies,
                      n));
  }

  // A pack that a crash interrupted (packed/SITE/STUDY.pending: the
  // package's name, then its instances): if the package was made, its
  // instances are recorded as packed and leave incoming/, as the pack
  // would have done; if not, nothing happened.
  void recover(const std::string& site, const fs::path& pending) {
    std::ifstream in(pending);
    std::string name, sop;
    std::getline(in, name);
    std::set<std::string> sops;
    while (std::getline(in, sop))
      if (!sop.empty()) sops.insert(sop);
    const std::string study = pending.stem();
    std::error_code ec;
    if (!name.empty() && (fs::exists(o_.data / "outbox" / site / name) ||
                          fs::exists(o_.data / "sent" / site / name))) {
      record(Key{site, study}, sops);
      for (const auto& s : sops) fs::remove(o_.data / "incoming" / site / study / (s + ".dcm"), ec);
      say(fmt::format("study {} for {}: completed a pack a restart interrupted ({})", study, site,
                      name));
    }
    fs::remove(pending, ec);
  }

  // Appends instances to the packed list of a study (durably), skipping
  // those listed already.
  void record(const Key& key, const std::set<std::string>& sops) {
    const fs::path list = o_.data / "packed" / key.site / key.study;
    std::set<std::string> have;
    {
      std::ifstream in(list);
      std::string line;
      while (std::getline(in, line)) have.insert(line);
    }
    std::string lines;
    for (const auto& sop : sops)
      if (!have.contains(sop)) lines += sop + "\n";
    fs::create_directories(list.parent_path());
    const bool made = !fs::exists(list);
    UniqueFd fd(::open(list.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (fd.get() < 0 ||
        ::write(fd.get(), lines.data(), lines.size()) != static_cast<ssize_t>(lines.size()) ||
        ::fsync(fd.get()) != 0)
      throw Error(Exit::output,
                  fmt::format("{}: cannot record: {}", list.string(), std::strerror(errno)));
    if (made) fsync_dir(list.parent_path());
    std::lock_guard lock(mu_);
    for (const auto& sop : sops) packed_[sop] = key;
  }

  fs::path place(const StoredInstance& si) const {
    const auto it = o_.routes.find(si.from.called_aet);
    if (it == o_.routes.end())  // the SCP admits only routed AE titles
      throw Error(Exit::usage, "no route for called AE title " + si.from.called_aet);
    return fs::path(it->second) / si.study_instance_uid / (si.sop_instance_uid + ".dcm");
  }

  void stored(const StoredInstance& si) {
    const Key key{o_.routes.at(si.from.called_aet), si.study_instance_uid};
    std::lock_guard lock(mu_);
    auto [it, fresh] = studies_.try_emplace(key);
    it->second.last = Clock::now();
    it->second.instances.insert(si.sop_instance_uid);
    if (fresh)
      say(fmt::format("study {} for {}: first instance from {}{}", key.study, key.site,
                      si.from.calling_aet,
                      sent_before(key) ? " (a follow-up: the study was sent)" : ""));
  }

  std::vector<bool> commit(const CommitmentRequest& req) {
    std::vector<bool> ok;
    std::lock_guard lock(mu_);
    const auto route = o_.routes.find(req.from.called_aet);
    for (const auto& item : req.items) {
      bool found = false;
      if (route != o_.routes.end()) {
        for (auto& [key, s] : studies_) {
          if (key.site != route->second || !s.instances.contains(item.sop_instance_uid)) continue;
          s.committed.insert(item.sop_instance_uid);
          s.commitment = true;
          found = true;
          break;
        }
        for (const auto* held : {&packing_, &packed_}) {
          if (found) break;
          const auto p = held->find(item.sop_instance_uid);
          found = p != held->end() && p->second.site == route->second;
        }
      }
      ok.push_back(found);
    }
    return ok;
  }

  // Packs every complete study (the main thread, once a second).
  void tick() {
    std::vector<std::pair<Key, Study>> ready;
    {
      std::lock_guard lock(mu_);
      const auto now = Clock::now();
      for (auto it = studies_.begin(); it != studies_.end();) {
        const Study& s = it->second;
        const bool committed =
            s.commitment && std::includes(s.committed.begin(), s.committed.end(),
                                          s.instances.begin(), s.instances.end());
        if (committed || now - s.last >= std::chrono::seconds(o_.quiet_seconds)) {
          for (const auto& sop : s.instances) packing_.emplace(sop, it->first);
          ready.emplace_back(it->first, std::move(it->second));
          it = studies_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& [key, s] : ready) {
      try {
        pack(key, s);
      } catch (const std::exception& e) {
        say(
            fmt::format("study {} for {}: not packed: {} (kept in incoming/, tried again at the "
                        "next start)",
                        key.study, key.site, e.what()));
      }
      std::lock_guard lock(mu_);
      for (const auto& sop : s.instances) packing_.erase(sop);
    }
  }

  void pack(const Key& key, const Study& s) {
    const fs::path folder = o_.data / "incoming" / key.site / key.study;
    std::set<std::string> before;
    {
      std::lock_guard lock(mu_);
      for (const auto& [sop, k] : packed_)
        if (k == key) before.insert(sop);
    }
    std::set<std::string> fresh;
    std::error_code ec;
    for (const auto& sop : s.instances) {
      if (before.contains(sop)) {
        say(fmt::format("study {} for {}: instance {} was sent already: dropped", key.study,
                        key.site, sop));
        fs::remove(folder / (sop + ".dcm"), ec);
      } else {
        fresh.insert(sop);
      }
    }
    if (fresh.empty()) return;
    const std::string name = key.study + "-" + set_hash(fresh) + ".tar.zst";
    const fs::path outbox = o_.data / "outbox" / key.site;
    fs::create_directories(outbox);
    fs::create_directories(o_.data / "packed" / key.site);
    // What this pack is about to do, for recover() after a crash.
    const fs::path pending = o_.data / "packed" / key.site / (key.study + ".pending");
    {
      AtomicFile intent(pending, true);
      std::string text = name + "\n";
      for (const auto& sop : fresh) text += sop + "\n";
      intent.write(ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
      intent.commit();
    }
    const fs::path out = outbox / name;
    if (!fs::exists(out) && !fs::exists(o_.data / "sent" / key.site / name)) {
      package::PackInput in;
      for (const auto& sop : fresh) in.paths.push_back(folder / (sop + ".dcm"));
      AtomicFile file(out);
      package::write_plain(package::plan_one(in), *o_.self, file, o_.write);
      file.commit();
      fsync_dir(outbox);
    }
    record(key, fresh);  // which instances went out, before they leave incoming/
    fs::remove(pending, ec);
    for (const auto& sop : fresh) fs::remove(folder / (sop + ".dcm"), ec);
    say(fmt::format(
        "study {} for {}: {} instance(s) {} ({}): outbox/{}/{}", key.study, key.site, fresh.size(),
        before.empty() ? "packed" : "packed as a follow-up",
        s.commitment ? "all committed" : fmt::format("quiet for {} s", o_.quiet_seconds), key.site,
        name));
    wake_.notify_all();
  }

  // The sender thread: every package in outbox/ to the hub, oldest first,
  // each retried with a growing pause until it is committed.
  void send_loop() {
    std::map<fs::path, std::pair<Clock::time_point, int>> backoff;
    while (!stopping_.load()) {
      std::vector<std::pair<std::string, fs::path>> queue;
      std::error_code ec;
      for (const auto& site : fs::directory_iterator(o_.data / "outbox", ec)) {
        if (!site.is_directory() || hidden(site.path())) continue;
        for (const auto& f : fs::directory_iterator(site.path(), ec))
          if (f.is_regular_file() && !hidden(f.path()) && f.path().extension() == ".zst")
            queue.emplace_back(site.path().filename(), f.path());
      }
      std::sort(queue.begin(), queue.end(), [](const auto& a, const auto& b) {
        std::error_code e;
        return fs::last_write_time(a.second, e) < fs::last_write_time(b.second, e);
      });
      for (const auto& [site, file] : queue) {
        if (stopping_.load()) break;
        auto& [next, failures] = backoff[file];
        if (Clock::now() < next) continue;
        try {
          send(site, file);
          backoff.erase(file);
        } catch (const std::exception& e) {
          const int wait = std::min(o_.retry_max_seconds, 5 << std::min(failures, 10));
          ++failures;
          next = Clock::now() + std::chrono::seconds(wait);
          say(fmt::format("sending {} to {} failed: {}; trying again in {} s",
                          file.filename().string(), site, e.what(), wait));
        }
      }
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_.load(); });
    }
    sender_done_.store(true);
  }
  [[nodiscard]] bool sender_done() const { return sender_done_.load(); }

  void send(const std::string& site, const fs::path& file) {
    transfer::Hub hub(*o_.hub);
    const SiteCard card = transfer::pinned_card(hub, site);
    transfer::SendOptions so;
    so.state = o_.send_state.empty() ? o_.data / "state" : o_.send_state;
    so.verbose = o_.verbose;
    so.write = o_.write;
    FileSource in(file);
    TrustStore trust;  // the package is ours: signed by o_.self
    const auto r = transfer::send_plain(hub, *o_.self, in, trust, {card}, so);
    const fs::path sent = o_.data / "sent" / site;
    fs::create_directories(sent);
    if (::rename(file.c_str(), (sent / file.filename()).c_str()) != 0)
      throw Error(Exit::output, fmt::format("{}: cannot move to {}: {}", file.string(),
                                            sent.string(), std::strerror(errno)));
    fsync_dir(sent);
    fsync_dir(file.parent_path());
    say(fmt::format("{} sent to {} as package {} ({} bytes){}", file.filename().string(), site,
                    r.package, r.size, r.already_sent ? ", already committed before" : ""));
  }

  void stop() {
    stopping_.store(true);
    wake_.notify_all();
  }

 private:
  [[nodiscard]] bool sent_before(const Key& key) const {
    for (const auto& [sop, k] : packed_)
      if (k == key) return true;
    return false;
  }

  const GatewayOptions& o_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> sender_done_{false};
  std::map<Key, Study> studies_;
  std::map<std::string, Key> packed_;  // SOP Instance UID -> where it was packed
  // Instances of studies taken by tick() and not yet recorded as packed: a
  // commitment request meanwhile still finds them (durable in incoming/).
  std::map<std::string, Key> packing_;
};

}  // namespace

void run_gateway(const GatewayOptions& options) {
  GatewayOptions o = options;
  o.data = fs::absolute(o.data);
  if (o.quiet_seconds < 1) throw Error(Exit::usage, "--quiet-period must be at least 1 second");
  // SIGTERM and SIGINT are taken by sigtimedwait below: blocked before any
  // thread starts, so that every thread inherits the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  auto gw = std::make_unique<Gateway>(o);
  StorageScpOptions so;
  so.host = o.host;
  so.port = o.port;
  so.dir = o.data / "incoming";
  for (const auto& [aet, site] : o.routes) so.called_aets.insert(aet);
  so.net = o.net;
  so.max_associations = o.max_associations;
  so.max_instance_size = o.max_instance_size;
  so.min_free_bytes = o.min_free_bytes;
  Gateway* g = gw.get();
  so.place = [g](const StoredInstance& si) { return g->place(si); };
  so.on_stored = [g](const StoredInstance& si) { g->stored(si); };
  so.on_commitment = [g](const CommitmentRequest& r) { return g->commit(r); };
  so.log = [](const std::string& line) { say(line); };
  so.verbose = o.verbose;
  std::unique_ptr<StorageScp> made;
  try {
    made = std::make_unique<StorageScp>(so);
  } catch (const Error& e) {
    // A port in use is the network's error here, as for iep-serve.
    if (e.code() != Exit::pacs_unreachable) throw;
    throw Error(Exit::network, e.what());
  }
  StorageScp& scp = *made;
  std::string routes;
  for (const auto& [aet, site] : o.routes)
    routes += fmt::format("{}{}->{}", routes.empty() ? "" : ", ", aet, site);
  say(fmt::format("listening on {}:{} ({}), quiet period {} s, {}", o.host.empty() ? "*" : o.host,
                  scp.port(), routes, o.quiet_seconds,
                  o.hub ? "sending to " + o.hub->url : "no hub: packages stay in outbox/"));
  if (!o.port_file.empty()) {
    AtomicFile f(o.port_file, true);
    const std::string p = std::to_string(scp.port()) + "\n";
    f.write(ByteSpan(reinterpret_cast<const std::uint8_t*>(p.data()), p.size()));
    f.commit();
  }
  std::thread listener([&] {
    try {
      scp.run();
    } catch (const std::exception& e) {
      say(fmt::format("the storage SCP stopped: {}", e.what()));
    }
  });
  std::thread sender;
  if (o.hub) sender = std::thread([g] { g->send_loop(); });
  int sig = 0;
  for (;;) {
    timespec ts{1, 0};
    sig = sigtimedwait(&sigs, nullptr, &ts);
    if (sig == SIGTERM || sig == SIGINT) break;
    gw->tick();
  }
  say(fmt::format("{}: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
  scp.stop();
  gw->stop();
  listener.join();
  if (sender.joinable()) {
    // A send under way may take its retries; its state resumes at the next
    // start, so the process need not wait for it.
    for (int i = 0; i < 50 && !gw->sender_done(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (gw->sender_done()) {
      sender.join();
      return;
    }
    say("a send is under way: it resumes at the next start");
    std::fflush(stderr);
    std::_Exit(0);
  }
}

}  // namespace iep::pacs
