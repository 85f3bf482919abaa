// iep::package writing: files are read and hashed ahead of the writer on
// other threads; the package holds them in plan order, byte for byte, and a
// file that is missing or changed since planning is refused, naming it.
#include <doctest/doctest.h>
#include <sodium.h>

#include <filesystem>
#include <string>
#include <vector>

#include "iep/core/error.h"
#include "iep/package/package.h"
#include "test_util.h"

using iep::Exit;
namespace pkg = iep::package;
namespace fs = std::filesystem;

namespace {

// Bytes that differ from file to file and from block to block.
std::string content(std::size_t size, unsigned seed) {
  std::string s(size, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

std::array<std::uint8_t, 32> blake2b(const std::string& s) {
  std::array<std::uint8_t, 32> h{};
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(s.data()), s.size(),
                     nullptr, 0);
  return h;
}

// "f" + i, spelled so that g++ 12 -O3 does not warn falsely (-Wrestrict).
std::string name(std::size_t i) {
  std::string n = "f";
  n += std::to_string(i);
  return n;
}

// A plan of the files in `dir` named by `sizes` (written there), carried as
// attachments: no DICOM is needed to exercise writing.
pkg::Plan plan_of(const fs::path& dir, const std::vector<std::size_t>& sizes) {
  pkg::Plan p;
  p.study.study_instance_uid = "1.2.3";
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const fs::path f = dir / name(i);
    iep::test::write_file(f, content(sizes[i], static_cast<unsigned>(i)));
    pkg::PlannedFile& pf = p.files.emplace_back();
    pf.source = f;
    pf.entry.path = "attachments/" + name(i);
    pf.entry.size = sizes[i];
    pf.entry.attachment = true;
  }
  return p;
}

struct Collect : pkg::EntryHandler {
  std::vector<std::pair<std::string, std::string>> files;
  void begin(const std::string& path, std::uint64_t) override { files.push_back({path, {}}); }
  void data(iep::ByteSpan d) override { files.back().second.append(d.begin(), d.end()); }
  void end() override {}
};

const iep::SiteIdentity& self() {
  static const auto id = iep::SiteIdentity::generate("trust-a");
  return id;
}

iep::Bytes pack(pkg::Plan plan, bool compress) {
  iep::BytesSink out;
  pkg::WriteOptions o;
  o.compress = compress;
  pkg::write_plain(std::move(plan), self(), out, o);
  return out.bytes;
}

}  // namespace

TEST_CASE("files are packed in plan order, byte for byte, with their hashes") {
  const fs::path dir = iep::test::scratch("pack-order");
  // Empty files, block and chunk (1 MiB) boundaries, files of several
  // chunks, and more files than the reader keeps buffers for.
  std::vector<std::size_t> sizes = {
      0, 1, 511, 512, 513, (1u << 20) - 1, 1u << 20, (1u << 20) + 1, (3u << 20) + 7, 0};
  for (unsigned i = 0; i < 40; ++i) sizes.push_back(1000 + 37 * i);
  for (bool compress : {false, true}) {
    CAPTURE(compress);
    const iep::Bytes bytes = pack(plan_of(dir, sizes), compress);
    iep::BytesSource in(bytes);
    iep::TrustStore trust;
    trust.add(self().card());
    Collect got;
    const iep::Manifest m = pkg::read_plain(in, "pkg", trust, got);
    REQUIRE(got.files.size() == sizes.size());
    REQUIRE(m.files.size() == sizes.size());
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      const std::string want = content(sizes[i], static_cast<unsigned>(i));
      CHECK(got.files[i].first == "attachments/" + name(i));
      CHECK(got.files[i].second == want);
      CHECK(m.files[i].size == sizes[i]);
      CHECK(m.files[i].blake2b == blake2b(want));
    }
  }
}

TEST_CASE("a file that changed since planning is refused, naming it") {
  const fs::path dir = iep::test::scratch("pack-changed");
  const std::vector<std::size_t> sizes(30, 4096);
  enum Change { shrank, grew, emptied, gone, folder };
  for (Change change : {shrank, grew, emptied, gone, folder}) {
    for (std::size_t victim : {std::size_t{0}, std::size_t{17}, std::size_t{29}}) {
      CAPTURE(change);
      CAPTURE(victim);
      pkg::Plan p = plan_of(dir, sizes);
      const fs::path f = p.files[victim].source;
      switch (change) {
        case shrank: iep::test::write_file(f, content(4000, 1)); break;
        case grew: iep::test::write_file(f, content(4097, 1)); break;
        case emptied: iep::test::write_file(f, ""); break;
        case gone: fs::remove(f); break;
        case folder: fs::remove(f), fs::create_directory(f); break;
      }
      const auto msg =
          iep::test::error_of([&] { pack(std::move(p), change == grew); }, Exit::input);
      CHECK(msg.rfind(f.string() + ": ", 0) == 0);
      if (change == shrank || change == grew || change == emptied)
        CHECK(msg == f.string() + ": changed while it was being packed");
      if (change == folder) fs::remove(f);
    }
  }
}

TEST_CASE("a large file grown past a chunk boundary is refused") {
  const fs::path dir = iep::test::scratch("pack-grown");
  pkg::Plan p = plan_of(dir, {1u << 20, 5});
  iep::test::write_file(p.files[0].source, content((2u << 20) + 3, 9));
  iep::test::error_of([&] { pack(std::move(p), false); }, Exit::input);
}
