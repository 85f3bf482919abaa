// FileStore: appends at the durable offset, cut back, commit into packages.
#include <doctest/doctest.h>

#include "iep/hub/store.h"
#include "test_util.h"

using namespace iep;
using namespace iep::hub;

namespace {
ByteSpan bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
std::string read_all(Source& s) {
  std::string out;
  char buf[4096];
  for (;;) {
    std::size_t n = s.read(MutableByteSpan(reinterpret_cast<std::uint8_t*>(buf), sizeof buf));
    if (n == 0) return out;
    out.append(buf, n);
  }
}
}  // namespace

TEST_CASE("an upload grows by appends, is cut back, and commits into a package") {
  auto dir = test::scratch("hub_store");
  auto st = open_file_store(dir);
  const std::string id = "0123456789abcdef0123456789abcdef",
                    pkg = "fedcba9876543210fedcba9876543210";
  st->create_upload(id);
  CHECK(st->upload_size(id) == 0);
  {
    auto w = st->append(id, 0);
    w->write(bytes("hello "));
    CHECK(w->sync() == 6);
  }
  {
    auto w = st->append(id, 6);
    w->write(bytes("garbage that a checksum refused"));
  }
  st->truncate(id, 6);
  CHECK(st->upload_size(id) == 6);
  {
    auto w = st->append(id, 6);
    w->write(bytes("world"));
    CHECK(w->sync() == 11);
  }
  CHECK(read_all(*st->read_upload(id)) == "hello world");
  CHECK(st->upload_ids() == std::vector<std::string>{id});
  CHECK_FALSE(st->has_package(pkg));
  st->commit(id, pkg);
  CHECK(st->has_package(pkg));
  CHECK(st->upload_ids().empty());
  auto r = st->open_package(pkg);
  CHECK(r.size == 11);
  FdSource src(r.fd.get(), "package");
  CHECK(read_all(src) == "hello world");
  // An index transaction that failed after the rename puts it back.
  st->uncommit(pkg, id);
  CHECK_FALSE(st->has_package(pkg));
  CHECK(st->upload_size(id) == 11);
  st->commit(id, pkg);
  st->remove_package(pkg);
  CHECK_FALSE(st->has_package(pkg));
  CHECK(st->free_space() > 0);
}

TEST_CASE("concatenation appends whole uploads") {
  auto dir = test::scratch("hub_store_concat");
  auto st = open_file_store(dir);
  const std::string a(32, 'a'), b(32, 'b'), f(32, 'f');
  for (auto& [id, text] :
       std::vector<std::pair<std::string, std::string>>{{a, "first,"}, {b, "second"}}) {
    st->create_upload(id);
    auto w = st->append(id, 0);
    w->write(bytes(text));
    w->sync();
  }
  st->create_upload(f);
  st->concat(f, a);
  st->concat(f, b);
  CHECK(read_all(*st->read_upload(f)) == "first,second");
}

TEST_CASE("a missing upload or package is an error, not a crash") {
  auto dir = test::scratch("hub_store_missing");
  auto st = open_file_store(dir);
  CHECK(test::code_of([&] { st->upload_size(std::string(32, 'c')); }) == Exit::output);
  CHECK(test::code_of([&] { st->open_package(std::string(32, 'c')); }) == Exit::input);
  CHECK(test::code_of([&] { st->create_upload("../../escape/x"); }) == Exit::output);
}

TEST_CASE("a commit never replaces a package that is there already") {
  // Two uploads committed under one package id (a client's retry racing its
  // first attempt): the second rename must fail and leave the first's bytes.
  auto dir = test::scratch("hub_store_noreplace");
  auto st = open_file_store(dir);
  const std::string u1 = "11111111111111111111111111111111",
                    u2 = "22222222222222222222222222222222",
                    pkg = "fedcba9876543210fedcba9876543210";
  for (auto [id, text] : {std::pair{u1, "first"}, std::pair{u2, "second"}}) {
    st->create_upload(id);
    auto w = st->append(id, 0);
    w->write(bytes(text));
    w->sync();
  }
  st->commit(u1, pkg);
  CHECK_THROWS_AS(st->commit(u2, pkg), Error);
  auto rd = st->open_package(pkg);
  FileSource src(dir / "packages" / pkg);
  CHECK(read_all(src) == "first");
  CHECK(st->upload_size(u2) == 6);  // the loser keeps its bytes as an upload
  // uncommit() does not replace an upload either.
  CHECK_THROWS_AS(st->uncommit(pkg, u2), Error);
  CHECK(st->has_package(pkg));
}
