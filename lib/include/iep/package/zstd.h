// Zstandard streams (RFC 8878), the optional compression of a plain package.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "iep/core/io.h"

namespace iep::zstd {

// Compresses into `out` (does not call out.finish()). The stream is a
// series of independent frames of at most 1 MiB of content each, cut also
// wherever end_frame() asks, so that a reader can copy a frame whose content
// it passes on unchanged (FrameLog). `workers` > 0 compresses frames on that
// many background threads; the output is the same bytes either way.
class Compressor : public Sink {
 public:
  Compressor(Sink& out, int level = 1, int workers = 0);
  ~Compressor() override;
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;
  void write(ByteSpan data) override;
  // Ends the current frame here: what is written next starts a new one.
  void end_frame();
  // Ends the current frame and puts `frame`, one whole zstd frame (of the
  // content the caller means to write next), into the stream as it is
  // (taken over, not copied).
  void write_frame(Bytes frame);
  // Ends the last frame and writes what is still pending. An empty stream
  // is one empty frame.
  void finish() override;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// The frames a Decompressor has decoded, with their compressed bytes, so
// that a writer passing some content on unchanged can copy the frames that
// hold it instead of compressing it again. Positions count bytes of the
// decompressed stream from an origin the reader sets (where the content it
// is about to read begins). Thread-safe: the decompressor may run ahead on
// another thread. Keeps at most `max_bytes` of frames (the oldest are
// forgotten first) and only frames of at most `max_frame` bytes.
class FrameLog {
 public:
  struct Frame {
    std::uint64_t start = 0, size = 0;  // the content it decodes to
    Bytes bytes;                        // the whole frame
  };
  explicit FrameLog(std::size_t max_bytes = 8u << 20, std::size_t max_frame = 2u << 20);
  // From the decompressor: a frame decoded, its content at `start` of the stream.
  void add(std::uint64_t start, std::uint64_t size, Bytes bytes);
  [[nodiscard]] std::size_t max_frame() const { return max_frame_; }
  // Positions given and returned count from stream offset `at` on.
  void set_origin(std::uint64_t at);
  // Forgets the frames that begin before `at`; where the next one logged
  // begins (nothing if none is, yet).
  std::optional<std::uint64_t> next(std::uint64_t at);
  // The frame that begins at `at`, taken out of the log, if it is logged.
  std::optional<Frame> take(std::uint64_t at);

 private:
  std::mutex m_;
  std::deque<Frame> frames_;  // start is absolute here
  std::size_t bytes_ = 0;
  const std::size_t max_bytes_, max_frame_;
  std::uint64_t origin_ = 0;
};

// Decompresses one or more concatenated frames; a truncated or corrupt frame
// is Error(Exit::corrupt) naming `name`. Window size is capped (128 MiB) so a
// hostile frame cannot make us allocate without bound. With a `log`, every
// frame decoded is recorded there.
class Decompressor : public Source {
 public:
  Decompressor(Source& in, std::string name, FrameLog* log = nullptr);
  ~Decompressor() override;
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;
  std::size_t read(MutableByteSpan buf) override;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// A Source that peeks at the first bytes of `in`: if they are a zstd frame it
// decompresses, otherwise it passes bytes through (an uncompressed tar).
class AutoSource : public Source {
 public:
  AutoSource(Source& in, std::string name, FrameLog* log = nullptr);
  ~AutoSource() override;
  AutoSource(const AutoSource&) = delete;
  AutoSource& operator=(const AutoSource&) = delete;
  std::size_t read(MutableByteSpan buf) override;
  [[nodiscard]] bool compressed() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace iep::zstd
