// Plain packages one after another in one stream (iep-fetch --stdout): where
// one ends and the next begins. The tar structure decides: a package ends
// after its end-of-archive marker (and the zero blocks padding it), or, when
// compressed, with the zstd frame in which that marker was. Nothing here
// trusts the bytes: read_plain() checks each package whole afterwards; this
// only has to find the boundary without reading past it.
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

#include "iep/package/package.h"

namespace iep::package {

namespace {

constexpr std::size_t kBlock = 512;
constexpr std::uint64_t kMaxPax = 1 << 20;
constexpr int kWindowLogMax = 27;
constexpr std::uint8_t kZstdMagic[4] = {0x28, 0xb5, 0x2f, 0xfd};

std::uint64_t round_block(std::uint64_t n, const std::string& name) {
  if (n > (std::uint64_t{1} << 62)) throw Error(Exit::corrupt, name + ": tar entry size too large");
  return (n + kBlock - 1) / kBlock * kBlock;
}

// The size field of a ustar header: octal, or base-256 when the top bit is set.
std::uint64_t header_size(const std::uint8_t* f, const std::string& name) {
  std::uint64_t v = 0;
  if (f[0] & 0x80) {
    for (int i = 1; i < 12; ++i) {
      if (v >> 55) throw Error(Exit::corrupt, name + ": tar entry size too large");
      v = (v << 8) | f[i];
    }
    return v;
  }
  int i = 0;
  while (i < 12 && f[i] == ' ') ++i;
  for (; i < 12 && f[i] >= '0' && f[i] <= '7'; ++i) {
    if (v >> 60) throw Error(Exit::corrupt, name + ": tar entry size too large");
    v = v * 8 + static_cast<std::uint64_t>(f[i] - '0');
  }
  return v;
}

// "size" from pax records "<len> <key>=<value>\n"; nothing if absent or odd
// (the reader refuses odd records itself later).
std::optional<std::uint64_t> pax_size(const std::string& pax) {
  std::size_t at = 0;
  while (at < pax.size()) {
    std::size_t sp = pax.find(' ', at);
    if (sp == std::string::npos) return std::nullopt;
    std::uint64_t len = 0;
    for (std::size_t i = at; i < sp; ++i) {
      if (pax[i] < '0' || pax[i] > '9' || len > kMaxPax) return std::nullopt;
      len = len * 10 + static_cast<std::uint64_t>(pax[i] - '0');
    }
    if (len == 0 || at + len > pax.size()) return std::nullopt;
    std::string_view rec(pax.data() + sp + 1, at + len - sp - 2);
    if (rec.starts_with("size=")) {
      std::uint64_t v = 0;
      for (char c : rec.substr(5)) {
        if (c < '0' || c > '9' || v > (std::uint64_t{1} << 58)) return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
      }
      return v;
    }
    at += len;
  }
  return std::nullopt;
}

// Follows a tar stream byte by byte until its end-of-archive marker.
class TarWalker {
 public:
  explicit TarWalker(const std::string& name) : name_(name) {}
  // Consumes bytes up to the end of the marker; returns how many.
  std::size_t feed(const std::uint8_t* p, std::size_t n) {
    std::size_t i = 0;
    while (i < n && !ended_) {
      if (skip_ > 0) {
        std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, n - i));
        if (in_pax_) {
          std::size_t keep = static_cast<std::size_t>(std::min<std::uint64_t>(pax_left_, take));
          pax_.append(reinterpret_cast<const char*>(p + i), keep);
          pax_left_ -= keep;
        }
        i += take;
        skip_ -= take;
        if (skip_ == 0 && in_pax_) {
          next_size_ = pax_size(pax_);
          in_pax_ = false;
        }
        continue;
      }
      std::size_t take = std::min(kBlock - have_, n - i);
      std::memcpy(block_ + have_, p + i, take);
      have_ += take;
      i += take;
      if (have_ < kBlock) break;
      have_ = 0;
      header();
    }
    return i;
  }
  [[nodiscard]] bool ended() const { return ended_; }

 private:
  void header() {
    if (std::all_of(block_, block_ + kBlock, [](std::uint8_t b) { return b == 0; })) {
      if (++zeros_ == 2) ended_ = true;
      return;
    }
    zeros_ = 0;
    // Not a valid header (not a tar at all, or damaged): stop following;
    // the tar reader refuses it with its own words.
    if (!checksum_ok()) {
      ended_ = true;
      return;
    }
    std::uint64_t size = header_size(block_ + 124, name_);
    const char type = static_cast<char>(block_[156]);
    if (type == 'x' || type == 'g') {
      if (size > kMaxPax) throw Error(Exit::corrupt, name_ + ": pax header too large");
      in_pax_ = type == 'x';
      pax_.clear();
      pax_left_ = size;
    } else if (next_size_) {
      size = *next_size_;
      next_size_.reset();
    }
    skip_ = round_block(size, name_);
    if (skip_ == 0 && in_pax_) {
      next_size_ = pax_size(pax_);
      in_pax_ = false;
    }
  }

  bool checksum_ok() const {
    std::uint64_t want = 0;
    int i = 148;
    while (i < 156 && block_[i] == ' ') ++i;
    bool digits = false;
    for (; i < 156 && block_[i] >= '0' && block_[i] <= '7'; ++i, digits = true)
      want = want * 8 + static_cast<std::uint64_t>(block_[i] - '0');
    if (!digits) return false;
    std::uint64_t sum = 0;
    for (std::size_t k = 0; k < kBlock; ++k) sum += (k >= 148 && k < 156) ? ' ' : block_[k];
    return sum == want;
  }

  const std::string& name_;
  std::uint8_t block_[kBlock]{};
  std::size_t have_ = 0;
  std::uint64_t skip_ = 0;
  bool in_pax_ = false;
  std::string pax_;
  std::uint64_t pax_left_ = 0;
  std::optional<std::uint64_t> next_size_;
  int zeros_ = 0;
  bool ended_ = false;
};

struct ZstdFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

}  // namespace

struct PackageStream::State {
  State(Source& i, std::string n) : in(i), name(std::move(n)) {}
  Source& in;
  std::string name;
  Bytes buf = Bytes(256 * 1024);
  std::size_t pos = 0, len = 0;
  bool eof = false;
  std::size_t count = 0;
  std::unique_ptr<Source> current;  // the package given out last
  bool current_done = true;         // ... read to its end

  // At least `n` bytes buffered from pos on, unless the stream ends first.
  void ensure(std::size_t n) {
    if (len - pos >= n) return;
    if (pos > 0) {
      std::memmove(buf.data(), buf.data() + pos, len - pos);
      len -= pos;
      pos = 0;
    }
    while (len < n && !eof) {
      std::size_t got = in.read(MutableByteSpan(buf.data() + len, buf.size() - len));
      if (got == 0) eof = true;
      len += got;
    }
  }
  [[nodiscard]] std::size_t avail() const { return len - pos; }
  [[nodiscard]] std::string which() const {
    return name + " (package " + std::to_string(count) + ")";
  }
};

namespace {

// An uncompressed tar: passes bytes through up to the end-of-archive
// marker, then the all-zero blocks that follow it.
class TarPackage : public Source {
 public:
  explicit TarPackage(PackageStream::State& s) : s_(s), label_(s.which()), walker_(label_) {}
  TarPackage(const TarPackage&) = delete;
  TarPackage& operator=(const TarPackage&) = delete;
  std::size_t read(MutableByteSpan out) override {
    if (done_ || out.empty()) return 0;
    if (!walker_.ended()) {
      s_.ensure(1);
      if (s_.avail() == 0)
        throw Error(Exit::corrupt, label_ + ": truncated: the tar stream ends early");
      std::size_t n = std::min(out.size(), s_.avail());
      n = walker_.feed(s_.buf.data() + s_.pos, n);
      std::memcpy(out.data(), s_.buf.data() + s_.pos, n);
      s_.pos += n;
      if (n > 0) return n;
    }
    // Padding: whole zero blocks after the marker belong to this package.
    if (pad_ == 0) {
      s_.ensure(kBlock);
      if (s_.avail() < kBlock ||
          !std::all_of(s_.buf.begin() + static_cast<std::ptrdiff_t>(s_.pos),
                       s_.buf.begin() + static_cast<std::ptrdiff_t>(s_.pos + kBlock),
                       [](std::uint8_t b) { return b == 0; })) {
        // A trailing partial block of zeros at the very end is padding too.
        if (s_.eof && std::all_of(s_.buf.begin() + static_cast<std::ptrdiff_t>(s_.pos),
                                  s_.buf.begin() + static_cast<std::ptrdiff_t>(s_.len),
                                  [](std::uint8_t b) { return b == 0; }))
          s_.pos = s_.len;
        done_ = true;
        s_.current_done = true;
        return 0;
      }
      pad_ = kBlock;
    }
    std::size_t n = std::min(out.size(), pad_);
    std::memset(out.data(), 0, n);
    s_.pos += n;
    pad_ -= n;
    return n;
  }

 private:
  PackageStream::State& s_;
  std::string label_;
  TarWalker walker_;
  std::size_t pad_ = 0;
  bool done_ = false;
};

// A zstd-compressed tar: decompresses frame after frame until a frame ends
// after the tar's end-of-archive marker; gives the decompressed tar.
class ZstdPackage : public Source {
 public:
  explicit ZstdPackage(PackageStream::State& s)
      : s_(s), label_(s.which()), walker_(label_), dctx_(ZSTD_createDCtx()) {
    if (!dctx_) throw Error(Exit::internal, "zstd: cannot allocate a decompression context");
    ZSTD_DCtx_setParameter(dctx_.get(), ZSTD_d_windowLogMax, kWindowLogMax);
  }
  ZstdPackage(const ZstdPackage&) = delete;
  ZstdPackage& operator=(const ZstdPackage&) = delete;
  std::size_t read(MutableByteSpan out) override {
    if (done_ || out.empty()) return 0;
    for (;;) {
      if (!in_frame_ && walker_.ended()) {
        done_ = true;
        s_.current_done = true;
        return 0;
      }
      s_.ensure(1);
      if (s_.avail() == 0)
        throw Error(Exit::corrupt, label_ + ": truncated zstd stream: the package ends early");
      ZSTD_inBuffer in{s_.buf.data() + s_.pos, s_.avail(), 0};
      ZSTD_outBuffer o{out.data(), out.size(), 0};
      const std::size_t r = ZSTD_decompressStream(dctx_.get(), &o, &in);
      if (ZSTD_isError(r))
        throw Error(Exit::corrupt, label_ + ": corrupt zstd stream: " + ZSTD_getErrorName(r));
      s_.pos += in.pos;
      in_frame_ = r != 0;
      const auto* p = static_cast<const std::uint8_t*>(o.dst);
      for (std::size_t fed = 0; fed < o.pos && !walker_.ended();)
        fed += walker_.feed(p + fed, o.pos - fed);
      if (o.pos > 0) return o.pos;
    }
  }

 private:
  PackageStream::State& s_;
  std::string label_;
  TarWalker walker_;
  std::unique_ptr<ZSTD_DCtx, ZstdFree> dctx_;
  bool in_frame_ = true;
  bool done_ = false;
};

}  // namespace

PackageStream::PackageStream(Source& in, std::string name)
    : s_(std::make_unique<State>(in, std::move(name))) {}

PackageStream::~PackageStream() = default;

Source* PackageStream::next() {
  if (s_->current && !s_->current_done) {
    // The caller stopped early (a package that did not verify): skip the
    // rest of it. A stream that cannot be followed throws here.
    Bytes scratch(64 * 1024);
    while (s_->current->read(scratch) > 0) {
    }
  }
  s_->current.reset();
  s_->ensure(sizeof kZstdMagic);
  if (s_->avail() == 0) return nullptr;
  ++s_->count;
  if (s_->avail() >= sizeof kZstdMagic &&
      std::memcmp(s_->buf.data() + s_->pos, kZstdMagic, sizeof kZstdMagic) == 0)
    s_->current = std::make_unique<ZstdPackage>(*s_);
  else
    s_->current = std::make_unique<TarPackage>(*s_);
  s_->current_done = false;
  return s_->current.get();
}

bool PackageStream::at_boundary() const {
  return s_->current_done;
}

std::size_t PackageStream::count() const {
  return s_->count;
}

}  // namespace iep::package
