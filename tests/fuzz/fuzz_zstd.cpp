// Feeds arbitrary bytes to zstd::AutoSource (pass-through or decompression):
// it must return bytes or throw iep::Error. Every frame it logs (FrameLog,
// what a writer may copy into a new package as it is) must decode, alone,
// to exactly the bytes logged for it. Small inputs also go through a
// compress / decompress round trip, which must give them back.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/package/zstd.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const iep::ByteSpan input(data, size);
  std::uint8_t buf[4096];
  iep::zstd::FrameLog log;
  iep::Bytes content;  // the first MiB of what was decoded
  try {
    iep::BytesSource src(input);
    iep::zstd::AutoSource in(src, "fuzz", &log);
    std::uint64_t total = 0;
    for (;;) {
      std::size_t n = in.read(iep::MutableByteSpan(buf, sizeof buf));
      if (n == 0) break;
      // Plain input passes through unchanged.
      if (!in.compressed() && std::memcmp(buf, data + total, n) != 0) std::abort();
      if (content.size() < (1u << 20)) content.insert(content.end(), buf, buf + n);
      total += n;
    }
    if (!in.compressed() && total != size) std::abort();
  } catch (const iep::Error&) {
  }
  for (auto at = log.next(0); at && *at < content.size(); at = log.next(*at)) {
    auto f = log.take(*at);
    if (!f) std::abort();
    if (f->start + f->size > content.size()) break;
    iep::BytesSource one(f->bytes);
    iep::zstd::Decompressor d(one, "one frame");
    iep::BytesSink alone;
    iep::copy(d, alone);  // throws (a crash here) if it does not decode
    if (alone.bytes.size() != f->size ||
        std::memcmp(alone.bytes.data(), content.data() + f->start, f->size) != 0)
      std::abort();
  }

  if (size <= 4096) {
    iep::BytesSink packed;
    iep::zstd::Compressor c(packed, 1, 0);
    c.write(input);
    c.finish();
    iep::BytesSource src(packed.bytes);
    iep::zstd::Decompressor d(src, "round trip");
    iep::BytesSink back;
    iep::copy(d, back);
    if (back.bytes.size() != size || (size > 0 && std::memcmp(back.bytes.data(), data, size) != 0))
      std::abort();
  }
  return 0;
}
