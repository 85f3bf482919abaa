// Reads the files of a package ahead of its writer, on worker threads: each
// file read once into pooled buffers and hashed (BLAKE2b-256) there, so that
// the writer only copies bytes out and the per-file hash that the manifest
// needs costs no time on the writing thread.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "iep/core/io.h"

namespace iep::package {

class ReadAhead {
 public:
  struct File {
    std::filesystem::path path;
    std::uint64_t size = 0;  // as planned: any other size is an error
  };
  // `workers` threads read (at least one; none are started for no file).
  // Memory: `buffers` buffers of `chunk` bytes, whatever the files' sizes.
  explicit ReadAhead(std::vector<File> files, unsigned workers = 2,
                     std::size_t chunk = std::size_t{1} << 20, std::size_t buffers = 6);
  ~ReadAhead();  // stops the workers and waits for them
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // Hands file `i`'s bytes to `write` in order and returns their
  // BLAKE2b-256. Files are taken in order: 0, 1, 2, ... `opened` runs
  // first, once the file is known to open (so that a file that cannot be
  // read is refused before anything of it is written). Throws
  // Error(Exit::input) naming the file when it cannot be read, or when it
  // has not the planned size ("changed while it was being packed").
  std::array<std::uint8_t, 32> copy(std::size_t i, const std::function<void()>& opened,
                                    const std::function<void(ByteSpan)>& write);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace iep::package
