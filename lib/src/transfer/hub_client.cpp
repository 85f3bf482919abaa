#include "iep/transfer/hub_client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/util.h"
#include "iep/core/error.h"

namespace fs = std::filesystem;

namespace iep::transfer {
namespace {

using json = nlohmann::json;

fs::path config_home() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return fs::path(x) / "iep";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".config" / "iep";
  return {};
}

std::optional<std::string> first_line_of(const fs::path& p) {
  std::error_code ec;
  if (p.empty() || !fs::exists(p, ec)) return std::nullopt;
  std::string text = read_small_file(p, 4096);
  auto lines = util::split_lines(text);
  for (auto l : lines) {
    auto t = util::trim(l);
    if (!t.empty() && t[0] != '#') return std::string(t);
  }
  return std::string();
}

void check_token(std::string& t, const std::string& source) {
  std::string_view v = util::trim(t);
  t = std::string(v);
  if (t.empty() || t.size() > 512)
    throw Error(Exit::auth, source + ": not a hub token (empty or too long)");
  for (char c : t)
    if (c <= 0x20 || c >= 0x7f)
      throw Error(Exit::auth, source + ": not a hub token (stray characters)");
}

std::string token_from_file(const fs::path& p) {
  struct stat sb {};
  if (::stat(p.c_str(), &sb) != 0)
    throw Error(Exit::auth, p.string() + ": cannot read the token: " + std::strerror(errno));
  if ((sb.st_mode & 077) != 0)
    throw Error(Exit::identity, p.string() +
                                    ": the token file is readable by others; chmod 600 it (like "
                                    "the identity)");
  std::string text = read_small_file(p, 4096);
  std::string t(util::trim(text.substr(0, text.find('\n'))));
  util::wipe(text);
  check_token(t, p.string());
  return t;
}

std::string str(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) return {};
  return j[key].get<std::string>().substr(0, 1 << 16);
}

std::uint64_t num(const json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number_unsigned()) return 0;
  return j[key].get<std::uint64_t>();
}

json parse_json(const http::Response& r, const std::string& host, const std::string& what) {
  if (util::json_depth(r.body) > 16)
    throw Error(Exit::network, host + ": " + what + ": the answer nests too deeply");
  try {
    return json::parse(r.body, nullptr, true, false);
  } catch (const json::exception&) {
    throw Error(Exit::network, host + ": " + what + ": the answer is not JSON");
  }
}

PackageInfo package_info(const json& j, std::string text) {
  PackageInfo p;
  if (!j.is_object()) return p;
  p.package = str(j, "package");
  p.sender = str(j, "sender");
  p.size = num(j, "size");
  p.blake2b = str(j, "blake2b");
  p.committed = str(j, "committed");
  p.state = str(j, "state");
  if (j.contains("recipients") && j["recipients"].is_array()) {
    for (const auto& r : j["recipients"]) {
      if (r.is_string())
        p.recipients.push_back(r.get<std::string>());
      else if (r.is_object())
        p.recipients.push_back(str(r, "site"));
      if (p.recipients.size() > 10000) break;
    }
  }
  p.json = std::move(text);
  return p;
}

bool valid_id(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::string hub_url(const std::string& flag) {
  std::string url;
  if (auto l = first_line_of("/etc/iep/hub")) url = *l;
  if (auto h = config_home(); !h.empty())
    if (auto l = first_line_of(h / "hub")) url = *l;
  if (const char* e = std::getenv("IEP_HUB"); e && *e) url = e;
  if (!flag.empty()) url = flag;
  if (url.empty())
    throw Error(Exit::usage,
                "no hub given: --hub URL, $IEP_HUB, ~/.config/iep/hub or /etc/iep/hub");
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  if (!url.starts_with("http://") && !url.starts_with("https://"))
    throw Error(Exit::usage, url + ": the hub URL must start with http:// or https://");
  return url;
}

std::string hub_token(const std::string& token_file_flag) {
  if (!token_file_flag.empty()) return token_from_file(token_file_flag);
  if (const char* e = std::getenv("IEP_TOKEN"); e && *e) {
    std::string t = e;
    check_token(t, "$IEP_TOKEN");
    return t;
  }
  if (auto h = config_home(); !h.empty() && fs::exists(h / "token"))
    return token_from_file(h / "token");
  if (fs::exists("/etc/iep/token")) return token_from_file("/etc/iep/token");
  throw Error(Exit::auth,
              "no hub token: --token-file FILE, $IEP_TOKEN, ~/.config/iep/token or "
              "/etc/iep/token");
}

fs::path state_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return fs::path(x) / "iep";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".local" / "state" / "iep";
  throw Error(Exit::usage, "neither HOME nor XDG_STATE_HOME is set: give --state DIR");
}

Hub::Hub(HubOptions options) : opt_(std::move(options)) {
  http_ = std::make_unique<http::Client>(opt_.http);
  tus_ = std::make_unique<TusClient>(*http_, opt_.url + "/v1/uploads", auth(), opt_.retry,
                                     opt_.chunk_size);
}

Hub::~Hub() {
  util::wipe(opt_.token);
}

http::Headers Hub::auth() const {
  return {{"Authorization", "Bearer " + opt_.token}};
}

http::Response Hub::call(http::Request req) {
  for (auto& h : auth()) req.headers.push_back(std::move(h));
  return with_retries(
      opt_.retry, host(), [&] { return http_->perform(req); }, opt_.http.verbose);
}

std::string Hub::card_text(const std::string& site) {
  if (!valid_site_name(site)) throw Error(Exit::usage, site + ": not a site name");
  http::Request req;
  req.url = opt_.url + "/v1/sites/" + site + "/card";
  req.max_body = 16384;
  auto r = call(req);
  if (r.status == 404)
    throw Error(Exit::rejected, host() + ": no site named '" + site + "' is registered");
  if (r.status != 200) throw_status(r, host(), "fetching the card of " + site);
  return r.body;
}

PackageInfo Hub::commit(const std::string& upload_url, const std::string& signature_text) {
  http::Request req;
  req.method = "POST";
  req.url = upload_url + "/commit";
  req.body = signature_text;
  req.headers.emplace_back("Content-Type", "text/plain");
  auto r = call(req);
  if (r.status != 200 && r.status != 201) throw_status(r, host(), "committing the package");
  return package_info(parse_json(r, host(), "commit"), r.body);
}

std::optional<PackageInfo> Hub::package(const std::string& id) {
  if (!valid_id(id)) throw Error(Exit::usage, id + ": not a package id");
  http::Request req;
  req.url = opt_.url + "/v1/packages/" + id;
  auto r = call(req);
  if (r.status == 404) return std::nullopt;
  if (r.status != 200) throw_status(r, host(), "asking for package " + id);
  return package_info(parse_json(r, host(), "package"), r.body);
}

std::vector<MailboxEntry> Hub::mailbox(int wait_seconds) {
  http::Request req;
  req.url = opt_.url + "/v1/mailbox?wait=" + std::to_string(wait_seconds);
  req.max_body = 16 << 20;
  req.timeout = wait_seconds + 30;
  auto r = call(req);
  if (r.status != 200) throw_status(r, host(), "listing the mailbox");
  json j = parse_json(r, host(), "mailbox");
  std::vector<MailboxEntry> out;
  if (!j.is_object() || !j.contains("packages") || !j["packages"].is_array())
    throw Error(Exit::network, host() + ": mailbox: no package list in the answer");
  for (const auto& p : j["packages"]) {
    if (!p.is_object()) continue;
    MailboxEntry e;
    e.package = str(p, "package");
    e.sender = str(p, "sender");
    e.size = num(p, "size");
    e.blake2b = str(p, "blake2b");
    e.committed = str(p, "committed");
    e.expires = str(p, "expires");
    e.signature = str(p, "signature");
    if (!valid_id(e.package) || !valid_site_name(e.sender) || e.blake2b.size() != 128)
      throw Error(Exit::network, host() + ": mailbox: a malformed entry");
    out.push_back(std::move(e));
    if (out.size() >= 10000) break;
  }
  return out;
}

namespace {
// Empties a download's file, if it holds anything. Never an empty one:
// ext4 flushes a file truncated to zero when it is closed (auto_da_alloc,
// for editors that rewrite in place), which would write every downloaded
// byte to disk although the file is deleted right after the open.
void empty(int fd, const fs::path& file) {
  struct stat sb {};
  if (::fstat(fd, &sb) == 0 && sb.st_size == 0) return;
  if (::ftruncate(fd, 0) != 0)
    throw Error(Exit::output, file.string() + ": " + std::strerror(errno));
}
}  // namespace

std::uint64_t Hub::download(const MailboxEntry& e, const fs::path& file, Tap* tap) {
  fs::path etag_file = file;
  etag_file += ".etag";
  std::string etag = "\"" + e.blake2b + "\"";
  std::uint64_t received = 0;
  UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd.get() < 0) throw Error(Exit::output, file.string() + ": " + std::strerror(errno));
  // A file holding another package's bytes (another ETag) starts over.
  std::string saved;
  std::error_code ec;
  if (fs::exists(etag_file, ec)) saved = read_small_file(etag_file, 256);
  if (saved != etag) {
    empty(fd.get(), file);
    AtomicFile f(etag_file, true, 0600);
    f.write(util::as_bytes(etag));
    f.commit();
  }
  // Replays the first `n` bytes of the file into the tap.
  auto replay = [&](std::uint64_t n) {
    if (tap == nullptr) return;
    tap->reset();
    Bytes buf(1 << 20);
    std::uint64_t off = 0;
    while (off < n) {
      ssize_t got = ::pread(fd.get(), buf.data(), std::min<std::uint64_t>(buf.size(), n - off),
                            static_cast<off_t>(off));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) throw Error(Exit::output, file.string() + ": read failed");
      tap->write(ByteSpan(buf.data(), static_cast<std::size_t>(got)));
      off += static_cast<std::uint64_t>(got);
    }
  };
  // libcurl hands the body over 16 KiB at a time: written (and told to the
  // tap) a MiB at a time, 64 times fewer writes and wake-ups of the reader.
  struct FileSink : Sink {
    int fd;
    std::uint64_t pos = 0, limit = 0;
    std::string name;
    Tap* tap = nullptr;
    Bytes held;
    void write(ByteSpan d) override {
      if (pos + held.size() + d.size() > limit)
        throw Error(Exit::corrupt, name + ": the hub sent more bytes than the package's size");
      held.insert(held.end(), d.begin(), d.end());
      if (held.size() >= (1 << 20)) finish();
    }
    void finish() override {
      std::size_t done = 0;
      while (done < held.size()) {
        ssize_t n = ::pwrite(fd, held.data() + done, held.size() - done, static_cast<off_t>(pos));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error(Exit::output, name + ": " + std::strerror(errno));
        done += static_cast<std::size_t>(n);
        pos += static_cast<std::uint64_t>(n);
      }
      if (tap != nullptr && !held.empty()) tap->write(held);  // written: a reader may pread them
      held.clear();
    }
  };
  auto attempt = [&]() -> http::Response {
    if (tap != nullptr && tap->cancelled())
      throw Error(Exit::output, file.string() + ": download abandoned");
    struct stat sb {};
    ::fstat(fd.get(), &sb);
    std::uint64_t have = static_cast<std::uint64_t>(sb.st_size);
    FileSink sink;
    sink.fd = fd.get();
    sink.limit = e.size;
    sink.name = file.string();
    sink.tap = tap;
    http::Request req;
    req.url = opt_.url + "/v1/mailbox/" + e.package;
    for (auto& h : auth()) req.headers.push_back(std::move(h));
    if (have > 0 && have < e.size) {
      req.headers.emplace_back("Range", "bytes=" + std::to_string(have) + "-");
      req.headers.emplace_back("If-Range", etag);
    }
    if (have >= e.size && e.size > 0) {
      replay(have);
      http::Response done;
      done.status = 200;
      return done;
    }
    req.download = &sink;
    req.on_download_start = [&](long status) {
      if (status == 206) {
        replay(have);
        sink.pos = have;
      } else {
        if (tap != nullptr) tap->reset();
        empty(fd.get(), file);
        sink.pos = 0;
      }
    };
    auto r = http_->perform(req);
    sink.finish();  // what arrived is kept for a resume
    received += r.downloaded;
    if (r.status == 416 && ::ftruncate(fd.get(), 0) == 0) r.status = 503;  // start over
    return r;
  };
  auto r = with_retries(opt_.retry, host(), attempt, opt_.http.verbose);
  if (r.status != 200 && r.status != 206) throw_status(r, host(), "downloading " + e.package);
  struct stat sb {};
  ::fstat(fd.get(), &sb);
  if (static_cast<std::uint64_t>(sb.st_size) != e.size)
    throw Error(Exit::network, host() + ": " + e.package + ": download ended at " +
                                   std::to_string(sb.st_size) + " of " + std::to_string(e.size) +
                                   " bytes");
  // Not fsynced: the file only saves a resumed download from fetching its
  // first part again; what it holds is replayed into the hashes, so bytes
  // lost or damaged by a crash are found (and the download started over),
  // never trusted.
  return received;
}

std::string Hub::ack(const std::string& id, const std::string& statement,
                     const std::string& signature_text) {
  http::Request req;
  req.method = "POST";
  req.url = opt_.url + "/v1/mailbox/" + id + "/ack";
  req.body = json{{"statement", statement}, {"signature", signature_text}}.dump();
  req.headers.emplace_back("Content-Type", "application/json");
  auto r = call(req);
  if (r.status != 200) throw_status(r, host(), "acknowledging " + id);
  return r.body;
}

// ---- Pinned cards --------------------------------------------------------

namespace {

std::optional<fs::path> local_card(const std::string& site) {
  for (const auto& dir : site_dirs()) {
    fs::path p = dir / (site + ".card");
    std::error_code ec;
    if (fs::exists(p, ec)) return p;
  }
  return std::nullopt;
}

fs::path pin_path(const std::string& site) {
  auto dirs = site_dirs();
  if (dirs.empty()) throw Error(Exit::identity, "no folder to keep site cards in (set HOME)");
  return dirs.front() / (site + ".card");
}

void save_card(const fs::path& p, const std::string& text) {
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  AtomicFile f(p, true, 0644);
  f.write(util::as_bytes(text));
  f.commit();
}

SiteCard parse_hub_card(Hub& hub, const std::string& site, std::string& text) {
  text = hub.card_text(site);
  SiteCard c = SiteCard::parse(text, hub.host() + ": card of " + site);
  if (c.site != site)
    throw Error(Exit::identity,
                hub.host() + ": the card served for '" + site + "' names '" + c.site + "'");
  return c;
}

}  // namespace

SiteCard pinned_card(Hub& hub, const std::string& site) {
  std::string text;
  SiteCard fetched = parse_hub_card(hub, site, text);
  if (auto p = local_card(site)) {
    SiteCard pinned = SiteCard::load(*p);
    if (pinned.signing_key == fetched.signing_key &&
        pinned.recipient.encode() == fetched.recipient.encode())
      return pinned;
    throw Error(Exit::identity,
                "the hub's card for site '" + site + "' (key " + fetched.signing_key.id_hex() +
                    ") differs from the pinned one in " + p->string() + " (key " +
                    pinned.signing_key.id_hex() +
                    "); if the site really changed its keys: iep-send --accept-card " + site);
  }
  fs::path p = pin_path(site);
  save_card(p, fetched.encode());
  std::fprintf(stderr, "iep: pinned the card of site '%s' (key %s) from %s in %s\n", site.c_str(),
               fetched.signing_key.id_hex().c_str(), hub.host().c_str(), p.c_str());
  return fetched;
}

SiteCard accept_card(Hub& hub, const std::string& site) {
  std::string text;
  SiteCard fetched = parse_hub_card(hub, site, text);
  auto existing = local_card(site);
  fs::path p = existing ? *existing : pin_path(site);
  std::string old;
  if (existing) {
    try {
      old = SiteCard::load(*existing).signing_key.id_hex();
    } catch (const Error&) {
      old = "unreadable";
    }
  }
  save_card(p, fetched.encode());
  if (old.empty())
    std::fprintf(stderr, "iep: pinned the card of site '%s' (key %s) in %s\n", site.c_str(),
                 fetched.signing_key.id_hex().c_str(), p.c_str());
  else
    std::fprintf(stderr, "iep: the card of site '%s' is now key %s (was %s) in %s\n", site.c_str(),
                 fetched.signing_key.id_hex().c_str(), old.c_str(), p.c_str());
  return fetched;
}

}  // namespace iep::transfer
