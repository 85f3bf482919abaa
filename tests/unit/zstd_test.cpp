// iep::zstd against itself, against the zstd CLI both ways, and against
// truncated, corrupted and oversized frames.
#include "iep/package/zstd.h"

#include <doctest/doctest.h>
#include <zstd.h>

#include <filesystem>
#include <random>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "test_util.h"

namespace fs = std::filesystem;
using iep::Bytes;
using iep::ByteSpan;
using iep::Exit;
using namespace iep::test;

namespace {

// Half random, half repetitive text, so both paths of the compressor run.
Bytes sample(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i)
    b[i] = (i / 4096) % 2 ? static_cast<std::uint8_t>(gen())
                          : static_cast<std::uint8_t>("DICOM "[i % 6]);
  return b;
}

Bytes compress(ByteSpan data, int level = 1, int workers = 0, std::size_t piece = 100000) {
  iep::BytesSink sink;
  iep::zstd::Compressor c(sink, level, workers);
  for (std::size_t off = 0; off < data.size(); off += piece)
    c.write(data.subspan(off, std::min(piece, data.size() - off)));
  c.finish();
  return sink.bytes;
}

Bytes drain(iep::Source& src, std::size_t chunk) {
  Bytes out, buf(chunk);
  for (;;) {
    std::size_t n = src.read(buf);
    if (n == 0) return out;
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
}

Bytes decompress(ByteSpan z, std::size_t chunk = 65536) {
  iep::BytesSource src(z);
  iep::zstd::Decompressor d(src, "test.zst");
  return drain(d, chunk);
}

// The error decompressing `z` raises, or "" when it succeeds.
std::string failure(ByteSpan z) {
  try {
    decompress(z);
  } catch (const iep::Error& e) {
    CHECK(e.code() == Exit::corrupt);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("round trip with and without workers") {
  const Bytes data = sample(3'000'000, 1);
  for (int workers : {0, 1, 3}) {
    for (int level : {1, 3, 9}) {
      CAPTURE(workers);
      CAPTURE(level);
      const Bytes z = compress(data, level, workers);
      CHECK(z.size() < data.size() * 3 / 4);
      CHECK(decompress(z) == data);
    }
  }
  // Tiny reads, and empty input makes a valid empty frame.
  const Bytes small = sample(5000, 2);
  CHECK(decompress(compress(small), 1) == small);
  CHECK(decompress(compress(small), 7) == small);
  const Bytes empty = compress({});
  CHECK(empty.size() > 4);
  CHECK(decompress(empty).empty());
}

TEST_CASE("zstd CLI reads ours and we read the CLI's") {
  const fs::path dir = scratch("zstd-cli");
  const Bytes data = sample(2'000'000, 3);
  write_file(dir / "data", data);

  write_file(dir / "ours.zst", compress(data, 3, 2));
  REQUIRE(run("zstd -q -t ours.zst", dir).status == 0);
  REQUIRE(run("zstd -q -d -c ours.zst > ours.out", dir).status == 0);
  CHECK(read_bytes(dir / "ours.out") == data);
  write_file(dir / "empty.zst", compress({}));
  REQUIRE(run("zstd -q -d -c empty.zst > empty.out", dir).status == 0);
  CHECK(fs::file_size(dir / "empty.out") == 0);

  for (std::string flags : {"-1", "-19", "-3 -T4", "--no-check", "-3 --long=27"}) {
    CAPTURE(flags);
    REQUIRE(run("zstd -q -f " + flags + " -c data > cli.zst", dir).status == 0);
    CHECK(decompress(read_bytes(dir / "cli.zst")) == data);
  }
  // Concatenated frames (and a skippable frame between them) decode as one stream.
  REQUIRE(
      run("zstd -q -c data > two.zst && printf '\\120\\052\\115\\030\\003\\000\\000\\000abc' >> "
          "two.zst"
          " && zstd -q -c data >> two.zst",
          dir)
          .status == 0);
  Bytes twice = data;
  twice.insert(twice.end(), data.begin(), data.end());
  CHECK(decompress(read_bytes(dir / "two.zst")) == twice);
  fs::remove_all(dir);
}

TEST_CASE("truncated and corrupted frames are refused") {
  const Bytes data = sample(150'000, 4);
  const Bytes z = compress(data, 3);
  // Every cut of the frame is refused (including inside the checksum).
  for (std::size_t cut = 0; cut < z.size(); cut += (cut < 64 || cut + 64 > z.size()) ? 1 : 97) {
    CAPTURE(cut);
    std::string err = failure(ByteSpan(z.data(), cut));
    CHECK(err.find("test.zst: ") == 0);
    if (cut == 0 || cut + 4 > z.size() || cut < 4) CHECK(err == "test.zst: truncated zstd stream");
  }
  // Every flipped byte is detected (format checks, the content size or the
  // content checksum). Our frames are single-segment (their content size
  // known), so there is no window descriptor, where a larger window would
  // be harmless.
  REQUIRE((z[4] & 0x20) != 0);
  for (std::size_t pos = 0; pos < z.size(); pos += (pos < 32 || pos + 32 > z.size()) ? 1 : 53) {
    CAPTURE(pos);
    Bytes bad = z;
    bad[pos] ^= 0x20;
    CHECK(!failure(bad).empty());
  }
  // The content checksum catches what decodes cleanly.
  {
    Bytes bad = z;
    bad[bad.size() - 1] ^= 1;
    CHECK(failure(bad).find("checksum") != std::string::npos);
  }
  // Garbage after a complete frame.
  {
    Bytes bad = z;
    for (char c : std::string("trailing garbage")) bad.push_back(static_cast<std::uint8_t>(c));
    CHECK(failure(bad).find("test.zst: corrupt zstd stream: ") == 0);
  }
}

TEST_CASE("a frame asking for a huge window is refused") {
  // Frame header: magic, descriptor 0 (no single segment, no checksum, no
  // content size), window descriptor 0xA8 = 2^31 bytes; then a raw last block.
  Bytes z = {0x28, 0xB5, 0x2F, 0xFD, 0x00, 0xA8, 0x19, 0x00, 0x00, 'a', 'b', 'c'};
  std::string err = failure(z);
  CHECK(err.find("test.zst: corrupt zstd stream: ") == 0);
  CHECK(err.find("memory") != std::string::npos);
  // The same frame with a 2^27 window (0x88) decodes: the cap is exactly 128 MiB.
  z[5] = 0x88;
  CHECK(decompress(z) == Bytes{'a', 'b', 'c'});
  z[5] = 0x90;  // 2^28
  CHECK(!failure(z).empty());
}

TEST_CASE("AutoSource passes plain bytes through and decompresses zstd") {
  const Bytes data = sample(200'000, 5);
  for (const Bytes& plain :
       {Bytes{}, Bytes{0x28}, Bytes{0x28, 0xB5, 0x2F}, Bytes{0x28, 0xB5, 0x2F, 0xFE, 1, 2}, data}) {
    iep::BytesSource src(plain);
    iep::zstd::AutoSource a(src, "plain");
    CHECK(!a.compressed());
    CHECK(drain(a, 3) == plain);
  }
  for (std::size_t chunk : {1, 2, 5, 65536}) {
    const Bytes small = sample(3000, 6);
    const Bytes z = compress(small);
    iep::BytesSource src(z);
    iep::zstd::AutoSource a(src, "packed");
    CHECK(a.compressed());
    CHECK(drain(a, chunk) == small);
  }
  const Bytes z = compress(data, 1, 2);
  iep::BytesSource src(z);
  iep::zstd::AutoSource a(src, "packed");
  CHECK(drain(a, 65536) == data);
  // A truncated compressed stream through AutoSource is still refused.
  iep::BytesSource cut(ByteSpan(z.data(), z.size() - 1));
  iep::zstd::AutoSource b(cut, "cut.zst");
  try {
    drain(b, 65536);
    FAIL("truncated stream accepted");
  } catch (const iep::Error& e) {
    CHECK(e.code() == Exit::corrupt);
    CHECK(std::string(e.what()) == "cut.zst: truncated zstd stream");
  }
}

namespace {

// The frames of a stream, split with libzstd's own frame walker.
std::vector<Bytes> frames_of(const Bytes& z) {
  std::vector<Bytes> out;
  for (std::size_t at = 0; at < z.size();) {
    const std::size_t n = ZSTD_findFrameCompressedSize(z.data() + at, z.size() - at);
    REQUIRE(!ZSTD_isError(n));
    out.emplace_back(z.begin() + static_cast<std::ptrdiff_t>(at),
                     z.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
  }
  return out;
}

}  // namespace

TEST_CASE("frames end where asked, are copied whole, and a reader logs them") {
  const Bytes data = sample(2'500'000, 6);
  const ByteSpan all(data);
  auto framed = [&](int workers) {
    iep::BytesSink sink;
    iep::zstd::Compressor c(sink, 1, workers);
    c.write(all.first(1000));
    c.end_frame();
    c.end_frame();  // twice, or at the start of a frame: no empty frame
    c.write(all.subspan(1000, 299'000));
    c.end_frame();
    c.write(all.subspan(300'000));
    c.finish();
    return sink.bytes;
  };
  const Bytes z = framed(0);
  CHECK(framed(2) == z);  // the same bytes with workers
  const auto frames = frames_of(z);
  std::vector<unsigned long long> sizes;
  for (const auto& f : frames) sizes.push_back(ZSTD_getFrameContentSize(f.data(), f.size()));
  // Cut where asked, and at every MiB of the stream.
  CHECK(sizes == std::vector<unsigned long long>{1000, 299'000, 748'576, 1'048'576, 402'848});
  CHECK(decompress(z) == data);

  // A reader logs each frame with the content it decodes to.
  iep::zstd::FrameLog log;
  {
    iep::BytesSource src(z);
    iep::zstd::Decompressor d(src, "test.zst", &log);
    CHECK(drain(d, 70'000) == data);
  }
  log.set_origin(1000);  // positions count from the second frame on
  CHECK(!log.take(5));   // no frame begins there
  CHECK(log.next(0) == 0);
  auto second = log.take(0);
  REQUIRE(second);
  CHECK(second->start == 0);
  CHECK(second->size == 299'000);
  CHECK(second->bytes == frames[1]);
  CHECK(log.next(0) == 299'000);  // the third frame
  // Frames that begin before the position asked for are forgotten: the
  // third, and the fourth (which holds the position): the fifth is next.
  CHECK(log.next(1'100'000) == 2'096'152);
  auto last = log.take(2'096'152);
  REQUIRE(last);
  CHECK(last->bytes == frames[4]);
  CHECK(!log.next(0));

  // write_frame() puts a frame in as it is, between compressed content;
  // the zstd CLI reads the result.
  iep::BytesSink sink;
  {
    iep::zstd::Compressor c(sink, 3, 1);
    c.write(all.first(5000));
    c.write_frame(frames[1]);
    c.write(all.first(7));
    c.finish();
  }
  Bytes want(data.begin(), data.begin() + 5000);
  want.insert(want.end(), data.begin() + 1000, data.begin() + 300'000);
  want.insert(want.end(), data.begin(), data.begin() + 7);
  CHECK(decompress(sink.bytes) == want);
  const fs::path dir = scratch("zstd-frames");
  write_file(dir / "copied.zst", sink.bytes);
  REQUIRE(run("zstd -q -d -c copied.zst > copied.out", dir).status == 0);
  CHECK(read_bytes(dir / "copied.out") == want);
  fs::remove_all(dir);
}

TEST_CASE("a frame log keeps a bounded number of bytes") {
  const Bytes data = sample(3'000'000, 7);
  const Bytes z = compress(data);
  const auto frames = frames_of(z);
  REQUIRE(frames.size() == 3);
  // Room for about one frame: the older ones are forgotten as newer come.
  iep::zstd::FrameLog log(frames[0].size() + 10, 4u << 20);
  iep::BytesSource src(z);
  iep::zstd::Decompressor d(src, "test.zst", &log);
  CHECK(drain(d, 1 << 20) == data);
  CHECK(log.next(0) == 2'097'152);
  auto kept = log.take(2'097'152);
  REQUIRE(kept);
  CHECK(kept->bytes == frames[2]);
  // Frames over the per-frame limit are not kept at all.
  iep::zstd::FrameLog tiny(1u << 20, 100);
  iep::BytesSource again(z);
  iep::zstd::Decompressor d2(again, "test.zst", &tiny);
  CHECK(drain(d2, 1 << 20) == data);
  CHECK(!tiny.next(0));
}

TEST_CASE(
    "a sink that fails mid-stream: the error comes out of write() or finish(), workers stop") {
  // Fails on its `fail_at`-th write.
  struct Failing : iep::Sink {
    int writes = 0, fail_at = 0;
    void write(ByteSpan) override {
      if (++writes == fail_at) throw iep::Error(Exit::output, "out: No space left on device");
    }
    void finish() override {}
  };
  const Bytes data = sample(6'000'000, 8);
  for (int workers : {0, 2}) {
    for (int fail_at : {1, 3}) {
      CAPTURE(workers);
      CAPTURE(fail_at);
      Failing sink;
      sink.fail_at = fail_at;
      std::string err;
      {
        iep::zstd::Compressor c(sink, 1, workers);
        try {
          for (std::size_t off = 0; off < data.size(); off += 300'000)
            c.write(ByteSpan(data).subspan(off, std::min<std::size_t>(300'000, data.size() - off)));
          c.finish();
        } catch (const iep::Error& e) {
          err = e.what();
        }
      }  // destroyed with jobs still queued: must not hang or crash
      CHECK(err == "out: No space left on device");
    }
  }
}
