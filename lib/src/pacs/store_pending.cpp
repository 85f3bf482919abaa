// Packages kept pending by iep-store (store_pending.h).
#include "pacs/store_pending.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/util.h"
#include "iep/core/error.h"
#include "iep/core/io.h"

namespace iep::pacs {
namespace fs = std::filesystem;

namespace {

bool package_id_ok(const std::string& id) {
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

fs::path peer_file(const fs::path& package) {
  std::string name = package.filename().string();
  name = name.substr(0, name.find('.'));
  return package.parent_path() / (name + ".pacs");
}

}  // namespace

fs::path pending_folder(const fs::path& journal) {
  return journal / "pending";
}

fs::path keep_pending(const fs::path& dir, const std::string& package_id, const Peer& pacs,
                      int fd) {
  if (!package_id_ok(package_id)) throw Error(Exit::internal, "not a package ID: " + package_id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(Exit::output, dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  std::uint8_t magic[4] = {};
  const bool zstd = ::pread(fd, magic, 4, 0) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 &&
                    magic[2] == 0x2f && magic[3] == 0xfd;
  fs::path out = dir / (package_id + (zstd ? ".tar.zst" : ".tar"));
  const fs::path other = dir / (package_id + (zstd ? ".tar" : ".tar.zst"));
  {
    AtomicFile peer(dir / (package_id + ".pacs"), true, 0600);
    const std::string line = pacs.to_string() + "\n";
    peer.write(util::as_bytes(line));
    peer.commit();
  }
  AtomicFile file(out, true, 0600);
  Bytes buf(1 << 20);
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), at);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(Exit::output, out.string() + ": cannot read the package back: " +
                                    std::string(std::strerror(errno)));
    }
    if (n == 0) break;
    file.write(ByteSpan(buf.data(), static_cast<std::size_t>(n)));
    at += n;
  }
  file.commit();
  fs::remove(other, ec);
  fsync_dir(dir);
  return out;
}

std::vector<fs::path> pending_for(const fs::path& dir, const Peer& pacs) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  const std::string want = pacs.to_string();
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with(".") || !(name.ends_with(".tar") || name.ends_with(".tar.zst"))) continue;
    if (!package_id_ok(name.substr(0, name.find('.')))) continue;
    std::string peer;
    try {
      peer = read_small_file(peer_file(it->path()), 4096);
    } catch (const Error&) {
      continue;  // no PACS recorded: not ours to send
    }
    while (!peer.empty() && (peer.back() == '\n' || peer.back() == '\r')) peer.pop_back();
    if (peer == want) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void drop_pending(const fs::path& package) {
  std::error_code ec;
  fs::remove(package, ec);
  fs::remove(peer_file(package), ec);
  fsync_dir(package.parent_path());
}

}  // namespace iep::pacs
