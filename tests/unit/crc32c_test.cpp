// iep::crc32c against the check values published with the algorithm (RFC
// 3720 section B.4, and the "123456789" check of the CRC catalogues), and
// the SSE 4.2 path against the table at every length and alignment.
#include "iep/core/crc32c.h"

#include <doctest/doctest.h>

#include <random>
#include <string_view>

using iep::Bytes;
using iep::ByteSpan;
using iep::crc32c;
using iep::crc32c_portable;

namespace {

ByteSpan span(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

TEST_CASE("crc32c: the published check values") {
  CHECK(crc32c(span("123456789")) == 0xE3069283u);
  CHECK(crc32c(ByteSpan()) == 0u);
  Bytes zeros(32, 0), ones(32, 0xff), up(32), down(32);
  for (int i = 0; i < 32; ++i) {
    up[i] = static_cast<std::uint8_t>(i);
    down[i] = static_cast<std::uint8_t>(31 - i);
  }
  CHECK(crc32c(zeros) == 0x8A9136AAu);
  CHECK(crc32c(ones) == 0x62A8AB43u);
  CHECK(crc32c(up) == 0x46DD794Eu);
  CHECK(crc32c(down) == 0x113FDB5Cu);
  CHECK(crc32c_portable(span("123456789")) == 0xE3069283u);
  CHECK(crc32c_portable(up) == 0x46DD794Eu);
}

TEST_CASE("crc32c: instruction and table agree at every length and alignment, and chain") {
  std::mt19937 gen(7);
  Bytes data(4096 + 64);
  for (auto& b : data) b = static_cast<std::uint8_t>(gen());
  for (std::size_t off = 0; off < 9; ++off)
    for (std::size_t n = 0; n < 300; ++n) {
      ByteSpan s(data.data() + off, n);
      REQUIRE(crc32c(s) == crc32c_portable(s));
    }
  ByteSpan all(data);
  const std::uint32_t whole = crc32c(all);
  CHECK(whole == crc32c_portable(all));
  for (std::size_t cut : {0, 1, 7, 8, 9, 1000, 4095, 4160}) {
    CHECK(crc32c(all.subspan(cut), crc32c(all.first(cut))) == whole);
    CHECK(crc32c_portable(all.subspan(cut), crc32c_portable(all.first(cut))) == whole);
  }
}
