#include "iep/core/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace iep {
namespace {

constexpr std::uint32_t kPoly = 0x82f63b78;  // reflected Castagnoli polynomial

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? (c >> 1) ^ kPoly : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr auto kTable = make_table();

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t by_instruction(std::uint32_t c, ByteSpan d) {
  const std::uint8_t* p = d.data();
  std::size_t n = d.size();
  std::uint64_t x = c;
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, 8);
    x = _mm_crc32_u64(x, v);
  }
  c = static_cast<std::uint32_t>(x);
  for (; n > 0; ++p, --n) c = _mm_crc32_u8(c, *p);
  return c;
}
bool have_instruction() {
  static const bool have = (__builtin_cpu_init(), __builtin_cpu_supports("sse4.2"));
  return have;
}
#endif

}  // namespace

std::uint32_t crc32c_portable(ByteSpan data, std::uint32_t crc) {
  std::uint32_t c = ~crc;
  for (std::uint8_t b : data) c = kTable[(c ^ b) & 0xff] ^ (c >> 8);
  return ~c;
}

std::uint32_t crc32c(ByteSpan data, std::uint32_t crc) {
#if defined(__x86_64__)
  if (have_instruction()) return ~by_instruction(~crc, data);
#endif
  return crc32c_portable(data, crc);
}

}  // namespace iep
