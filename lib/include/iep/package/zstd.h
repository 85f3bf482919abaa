// Zstandard streams (RFC 8878), the optional compression of a plain package.
#pragma once

#include <memory>
#include <string>

#include "iep/core/io.h"

namespace iep::zstd {

// Compresses into `out` (does not call out.finish(); finish() ends the frame).
// `workers` > 0 compresses in background threads (libzstd's multithreading).
class Compressor : public Sink {
 public:
  Compressor(Sink& out, int level = 1, int workers = 0);
  ~Compressor() override;
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;
  void write(ByteSpan data) override;
  void finish() override;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Decompresses one or more concatenated frames; a truncated or corrupt frame
// is Error(Exit::corrupt) naming `name`. Window size is capped (128 MiB) so a
// hostile frame cannot make us allocate without bound.
class Decompressor : public Source {
 public:
  Decompressor(Source& in, std::string name);
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
  AutoSource(Source& in, std::string name);
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
