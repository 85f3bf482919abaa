// Zstandard streams over libzstd's streaming API (see iep/zstd.h).
#include "iep/package/zstd.h"

#include <zstd.h>

#include <algorithm>
#include <array>

#include "iep/core/error.h"

namespace iep::zstd {
namespace {

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// 2^27 = 128 MiB: the largest window we allocate for a hostile frame (zstd's
// own default limit, and enough for every level up to 19).
constexpr int kWindowLogMax = 27;
constexpr std::array<std::uint8_t, 4> kMagic{0x28, 0xB5, 0x2F, 0xFD};

void check(std::size_t r, const char* what) {
  if (ZSTD_isError(r))
    throw Error(Exit::internal, std::string("zstd: ") + what + ": " + ZSTD_getErrorName(r));
}

// Replays the bytes AutoSource peeked at, then the rest of the stream.
class ReplaySource : public Source {
 public:
  explicit ReplaySource(Source& in) : in_(in) {}
  void peek() { len_ = read_full(in_, head_); }
  [[nodiscard]] bool starts_with_magic() const { return len_ == head_.size() && head_ == kMagic; }
  std::size_t read(MutableByteSpan buf) override {
    if (pos_ < len_) {
      const std::size_t n = std::min(buf.size(), len_ - pos_);
      std::copy_n(head_.begin() + static_cast<std::ptrdiff_t>(pos_), n, buf.begin());
      pos_ += n;
      return n;
    }
    return in_.read(buf);
  }

 private:
  Source& in_;
  std::array<std::uint8_t, 4> head_{};
  std::size_t len_ = 0, pos_ = 0;
};

}  // namespace

// ---- Compressor ----

struct Compressor::State {
  explicit State(Sink& o) : out(o) {}
  Sink& out;
  std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx{ZSTD_createCCtx()};
  Bytes buf = Bytes(ZSTD_CStreamOutSize());
  bool finished = false;

  // Runs one compressStream2 call and hands its output on; returns its hint.
  std::size_t step(ZSTD_inBuffer& in, ZSTD_EndDirective mode) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    const std::size_t r = ZSTD_compressStream2(cctx.get(), &o, &in, mode);
    check(r, "compression failed");
    if (o.pos > 0) out.write(ByteSpan(buf.data(), o.pos));
    return r;
  }
};

Compressor::Compressor(Sink& out, int level, int workers) : s_(std::make_unique<State>(out)) {
  if (!s_->cctx) throw Error(Exit::internal, "zstd: cannot allocate a compression context");
  check(ZSTD_CCtx_setParameter(s_->cctx.get(), ZSTD_c_compressionLevel, level),
        "compression level");
  check(ZSTD_CCtx_setParameter(s_->cctx.get(), ZSTD_c_checksumFlag, 1), "checksum flag");
  if (workers > 0) {
    check(ZSTD_CCtx_setParameter(s_->cctx.get(), ZSTD_c_nbWorkers, workers), "worker threads");
    // Jobs of 1 MiB, not the default 4 windows (2 MiB at level 1): the
    // buffers zstd keeps for them are half as large (about 5 MiB less).
    check(ZSTD_CCtx_setParameter(s_->cctx.get(), ZSTD_c_jobSize, 1 << 20), "job size");
  }
}

Compressor::~Compressor() = default;

void Compressor::write(ByteSpan data) {
  if (s_->finished) throw Error(Exit::internal, "zstd: write after finish");
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  // With workers the call may return before taking all input; it blocks
  // rather than spin when it can make no progress.
  while (in.pos < in.size) s_->step(in, ZSTD_e_continue);
}

void Compressor::finish() {
  if (s_->finished) return;
  ZSTD_inBuffer in{nullptr, 0, 0};
  while (s_->step(in, ZSTD_e_end) != 0) {
  }
  s_->finished = true;
}

// ---- Decompressor ----

struct Decompressor::State {
  State(Source& i, std::string n) : in(i), name(std::move(n)) {}
  Source& in;
  std::string name;
  std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx{ZSTD_createDCtx()};
  Bytes buf = Bytes(ZSTD_DStreamInSize());
  ZSTD_inBuffer inb{nullptr, 0, 0};
  bool eof = false;
  bool in_frame = false;  // a frame has begun and not ended
  bool any_input = false;
};

Decompressor::Decompressor(Source& in, std::string name)
    : s_(std::make_unique<State>(in, std::move(name))) {
  if (!s_->dctx) throw Error(Exit::internal, "zstd: cannot allocate a decompression context");
  check(ZSTD_DCtx_setParameter(s_->dctx.get(), ZSTD_d_windowLogMax, kWindowLogMax), "window limit");
}

Decompressor::~Decompressor() = default;

std::size_t Decompressor::read(MutableByteSpan buf) {
  State& s = *s_;
  if (buf.empty()) return 0;
  ZSTD_outBuffer out{buf.data(), buf.size(), 0};
  for (;;) {
    if (s.inb.pos == s.inb.size && !s.eof) {
      const std::size_t n = s.in.read(s.buf);
      if (n == 0) {
        s.eof = true;
      } else {
        s.inb = ZSTD_inBuffer{s.buf.data(), n, 0};
        s.any_input = true;
      }
    }
    const bool drained = s.inb.pos == s.inb.size && s.eof;
    if (drained && !s.in_frame) {
      // Clean end between frames; an empty input holds no frame at all.
      if (!s.any_input) throw Error(Exit::corrupt, s.name + ": truncated zstd stream");
      return 0;
    }
    const std::size_t r = ZSTD_decompressStream(s.dctx.get(), &out, &s.inb);
    if (ZSTD_isError(r))
      throw Error(Exit::corrupt, s.name + ": corrupt zstd stream: " + ZSTD_getErrorName(r));
    s.in_frame = r != 0;  // 0: a frame ended and all its output was flushed
    if (out.pos > 0) return out.pos;
    // No input left, none to come, nothing produced, frame unfinished.
    if (drained && s.in_frame) throw Error(Exit::corrupt, s.name + ": truncated zstd stream");
  }
}

// ---- AutoSource ----

struct AutoSource::State {
  explicit State(Source& in) : replay(in) {}
  ReplaySource replay;
  std::unique_ptr<Decompressor> dec;  // destroyed before replay
};

AutoSource::AutoSource(Source& in, std::string name) : s_(std::make_unique<State>(in)) {
  s_->replay.peek();
  if (s_->replay.starts_with_magic())
    s_->dec = std::make_unique<Decompressor>(s_->replay, std::move(name));
}

AutoSource::~AutoSource() = default;

std::size_t AutoSource::read(MutableByteSpan buf) {
  return s_->dec ? s_->dec->read(buf) : s_->replay.read(buf);
}

bool AutoSource::compressed() const {
  return s_->dec != nullptr;
}

}  // namespace iep::zstd
