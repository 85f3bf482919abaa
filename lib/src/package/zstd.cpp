// Zstandard streams over libzstd's streaming API (see iep/zstd.h).
#include "iep/package/zstd.h"

#include <zstd.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <exception>
#include <thread>

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

namespace {

constexpr std::size_t kJob = 1 << 20;  // content per job, and at most per frame

// A run of content compressed as one or more frames (ends: where each ends
// in `in`), or a frame given whole (verbatim: `out` already holds it).
struct Job {
  Bytes in, out;
  std::vector<std::size_t> ends;
  bool done = false;
  std::exception_ptr error;
};

std::unique_ptr<ZSTD_CCtx, CCtxFree> new_cctx(int level) {
  std::unique_ptr<ZSTD_CCtx, CCtxFree> c(ZSTD_createCCtx());
  if (!c) throw Error(Exit::internal, "zstd: cannot allocate a compression context");
  check(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_compressionLevel, level), "compression level");
  check(ZSTD_CCtx_setParameter(c.get(), ZSTD_c_checksumFlag, 1), "checksum flag");
  return c;
}

void compress(ZSTD_CCtx* cctx, Job& j) {
  std::size_t bound = 0, from = 0;
  for (std::size_t end : j.ends) bound += ZSTD_compressBound(end - from), from = end;
  j.out.resize(bound);
  std::size_t at = 0;
  from = 0;
  for (std::size_t end : j.ends) {
    const std::size_t n =
        ZSTD_compress2(cctx, j.out.data() + at, j.out.size() - at, j.in.data() + from, end - from);
    check(n, "compression failed");
    at += n;
    from = end;
  }
  j.out.resize(at);
}

}  // namespace

struct Compressor::State {
  explicit State(Sink& o) : out(o) {}
  Sink& out;
  std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx;  // without workers
  std::unique_ptr<Job> open;                  // being filled
  std::deque<std::unique_ptr<Job>> queue;     // given out, in stream order
  std::vector<std::unique_ptr<Job>> spare;    // written: their buffers are reused
  std::size_t limit = 1;                      // jobs under way before write() waits
  bool any = false, finished = false;
  // Workers take jobs from `todo`; a job's buffers are theirs until done.
  std::mutex m;
  std::condition_variable work, done;
  std::deque<Job*> todo;
  bool stop = false;
  std::vector<std::thread> threads;

  std::unique_ptr<Job> fresh() {
    if (spare.empty()) {
      auto j = std::make_unique<Job>();
      j->in.reserve(kJob);
      return j;
    }
    auto j = std::move(spare.back());
    spare.pop_back();
    j->in.clear();
    j->out.clear();
    j->ends.clear();
    j->done = false;
    j->error = nullptr;
    return j;
  }
  void worker(int lvl) {
    auto c = new_cctx(lvl);
    for (;;) {
      Job* j = nullptr;
      {
        std::unique_lock lock(m);
        work.wait(lock, [&] { return stop || !todo.empty(); });
        if (stop) return;
        j = todo.front();
        todo.pop_front();
      }
      try {
        compress(c.get(), *j);
      } catch (...) {
        j->error = std::current_exception();
      }
      {
        std::lock_guard lock(m);
        j->done = true;
      }
      done.notify_all();
    }
  }
  void cut() {
    if (open && !open->in.empty() && (open->ends.empty() || open->ends.back() != open->in.size()))
      open->ends.push_back(open->in.size());
  }
  // Hands the open job on (compressed here without workers).
  void dispatch() {
    if (!open || open->in.empty()) return;
    cut();
    any = true;
    Job* j = open.get();
    queue.push_back(std::move(open));
    if (threads.empty()) {
      compress(cctx.get(), *j);
      j->done = true;
    } else {
      {
        std::lock_guard lock(m);
        todo.push_back(j);
      }
      work.notify_one();
    }
    drain(false);
  }
  // Writes the finished jobs at the head of the queue; waits for the head
  // while too many are under way, or for all of them.
  void drain(bool all) {
    while (!queue.empty()) {
      Job& j = *queue.front();
      {
        std::unique_lock lock(m);
        if (!j.done) {
          if (!all && queue.size() <= limit) return;
          done.wait(lock, [&] { return j.done; });
        }
      }
      if (j.error) std::rethrow_exception(j.error);
      out.write(j.out);
      spare.push_back(std::move(queue.front()));
      queue.pop_front();
    }
  }
};

Compressor::Compressor(Sink& out, int level, int workers) : s_(std::make_unique<State>(out)) {
  s_->cctx = new_cctx(level);  // also checks the level
  if (workers > 0) {
    s_->limit = static_cast<std::size_t>(workers) + 1;
    for (int i = 0; i < workers; ++i)
      s_->threads.emplace_back([this, level] { s_->worker(level); });
  }
}

Compressor::~Compressor() {
  {
    std::lock_guard lock(s_->m);
    s_->stop = true;
  }
  s_->work.notify_all();
  for (auto& t : s_->threads) t.join();
}

void Compressor::write(ByteSpan data) {
  State& s = *s_;
  if (s.finished) throw Error(Exit::internal, "zstd: write after finish");
  while (!data.empty()) {
    if (!s.open) s.open = s.fresh();
    const std::size_t n = std::min(data.size(), kJob - s.open->in.size());
    s.open->in.insert(s.open->in.end(), data.begin(),
                      data.begin() + static_cast<std::ptrdiff_t>(n));
    data = data.subspan(n);
    if (s.open->in.size() == kJob) s.dispatch();
  }
}

void Compressor::end_frame() {
  s_->cut();
}

void Compressor::write_frame(Bytes frame) {
  State& s = *s_;
  if (s.finished) throw Error(Exit::internal, "zstd: write after finish");
  s.dispatch();
  auto j = s.fresh();
  j->out = std::move(frame);
  j->done = true;
  s.any = true;
  s.queue.push_back(std::move(j));
  s.drain(false);
}

void Compressor::finish() {
  State& s = *s_;
  if (s.finished) return;
  s.dispatch();
  s.drain(true);
  if (!s.any) {  // one empty frame
    Bytes empty(ZSTD_compressBound(0));
    const std::size_t n = ZSTD_compress2(s.cctx.get(), empty.data(), empty.size(), nullptr, 0);
    check(n, "compression failed");
    s.out.write(ByteSpan(empty.data(), n));
  }
  s.finished = true;
}

// ---- FrameLog ----

FrameLog::FrameLog(std::size_t max_bytes, std::size_t max_frame)
    : max_bytes_(max_bytes), max_frame_(max_frame) {}

void FrameLog::add(std::uint64_t start, std::uint64_t size, Bytes bytes) {
  if (size == 0 || bytes.size() > max_frame_) return;
  std::lock_guard lock(m_);
  bytes_ += bytes.size();
  frames_.push_back(Frame{start, size, std::move(bytes)});
  while (bytes_ > max_bytes_) {
    bytes_ -= frames_.front().bytes.size();
    frames_.pop_front();
  }
}

void FrameLog::set_origin(std::uint64_t at) {
  std::lock_guard lock(m_);
  origin_ = at;
}

std::optional<std::uint64_t> FrameLog::next(std::uint64_t at) {
  std::lock_guard lock(m_);
  at += origin_;
  while (!frames_.empty() && frames_.front().start < at) {
    bytes_ -= frames_.front().bytes.size();
    frames_.pop_front();
  }
  if (frames_.empty()) return std::nullopt;
  return frames_.front().start - origin_;
}

std::optional<FrameLog::Frame> FrameLog::take(std::uint64_t at) {
  std::lock_guard lock(m_);
  if (frames_.empty() || frames_.front().start != at + origin_) return std::nullopt;
  Frame f = std::move(frames_.front());
  frames_.pop_front();
  bytes_ -= f.bytes.size();
  f.start = at;
  return f;
}

// ---- Decompressor ----

struct Decompressor::State {
  State(Source& i, std::string n, FrameLog* l) : in(i), name(std::move(n)), log(l) {}
  Source& in;
  std::string name;
  FrameLog* log;
  std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx{ZSTD_createDCtx()};
  Bytes buf = Bytes(ZSTD_DStreamInSize());
  ZSTD_inBuffer inb{nullptr, 0, 0};
  bool eof = false;
  bool in_frame = false;  // a frame has begun and not ended
  bool any_input = false;
  // With a log: the stream's content so far, and the current frame.
  std::uint64_t produced = 0, frame_start = 0;
  Bytes frame;
  bool frame_kept = true;  // not over the log's size limit

  void record(std::size_t in_from, std::size_t made, bool ended) {
    if (log == nullptr) return;
    const std::size_t used = inb.pos - in_from;
    if (frame_kept && frame.size() + used <= log->max_frame()) {
      const auto* p = static_cast<const std::uint8_t*>(inb.src) + in_from;
      frame.insert(frame.end(), p, p + used);
    } else {
      frame_kept = false;
    }
    produced += made;
    if (!ended) return;
    if (frame_kept) log->add(frame_start, produced - frame_start, std::move(frame));
    frame = Bytes();
    frame_kept = true;
    frame_start = produced;
  }
};

Decompressor::Decompressor(Source& in, std::string name, FrameLog* log)
    : s_(std::make_unique<State>(in, std::move(name), log)) {
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
    // One call never reads past the end of a frame.
    const std::size_t in_from = s.inb.pos, out_from = out.pos;
    const std::size_t r = ZSTD_decompressStream(s.dctx.get(), &out, &s.inb);
    if (ZSTD_isError(r))
      throw Error(Exit::corrupt, s.name + ": corrupt zstd stream: " + ZSTD_getErrorName(r));
    s.in_frame = r != 0;  // 0: a frame ended and all its output was flushed
    s.record(in_from, out.pos - out_from, r == 0);
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

AutoSource::AutoSource(Source& in, std::string name, FrameLog* log)
    : s_(std::make_unique<State>(in)) {
  s_->replay.peek();
  if (s_->replay.starts_with_magic())
    s_->dec = std::make_unique<Decompressor>(s_->replay, std::move(name), log);
}

AutoSource::~AutoSource() = default;

std::size_t AutoSource::read(MutableByteSpan buf) {
  return s_->dec ? s_->dec->read(buf) : s_->replay.read(buf);
}

bool AutoSource::compressed() const {
  return s_->dec != nullptr;
}

}  // namespace iep::zstd
