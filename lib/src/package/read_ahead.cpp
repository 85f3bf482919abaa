#include "read_ahead.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "core/util.h"
#include "iep/core/error.h"

namespace iep::package {

namespace {

struct Chunk {
  std::size_t buffer;
  std::size_t size;
};

// What the writer is told of one file.
struct Slot {
  std::deque<Chunk> chunks;  // read and hashed, not yet written
  bool done = false;         // nothing more will come: digest or error is set
  std::exception_ptr error;
  std::array<std::uint8_t, 32> digest{};
};

}  // namespace

struct ReadAhead::State {
  std::vector<File> files;
  std::size_t chunk;
  std::vector<Bytes> pool;
  std::vector<std::size_t> free;  // indices into pool
  // Files being read or waiting to be written: file j is slots[j % size].
  std::vector<Slot> slots;
  std::size_t claimed = 0;  // the next file a worker takes
  std::size_t current = 0;  // the file the writer is on
  bool stop = false;
  std::mutex m;
  std::condition_variable work;   // workers wait here (a buffer, a file, stop)
  std::condition_variable ready;  // the writer waits here (a chunk, a file done)
  std::vector<std::thread> threads;

  State(std::vector<File> f, std::size_t chunk_size, std::size_t buffers)
      : files(std::move(f)), chunk(chunk_size), slots(buffers + 2) {
    pool.reserve(buffers);
    for (std::size_t i = 0; i < buffers; ++i) {
      pool.emplace_back(chunk);
      free.push_back(i);
    }
  }
  ~State() {
    {
      std::lock_guard lock(m);
      stop = true;
    }
    work.notify_all();
    for (auto& t : threads) t.join();
  }

  // A free buffer for file j, or none when stopping. Files ahead of the
  // writer leave the last free buffer to the file it waits for, so that
  // buffers held by files read ahead can never starve it.
  std::optional<std::size_t> acquire(std::size_t j) {
    std::unique_lock lock(m);
    work.wait(lock, [&] { return stop || free.size() > (j == current ? 0 : 1); });
    if (stop) return std::nullopt;
    const std::size_t b = free.back();
    free.pop_back();
    return b;
  }
  void release(std::size_t b) {
    {
      std::lock_guard lock(m);
      free.push_back(b);
    }
    work.notify_all();
  }
  void publish(Slot& s, std::optional<Chunk> c, std::exception_ptr error = nullptr) {
    {
      std::lock_guard lock(m);
      if (c) {
        s.chunks.push_back(*c);
      } else {
        s.done = true;
        s.error = std::move(error);
      }
    }
    ready.notify_one();
  }

  void run() {
    for (;;) {
      std::size_t j = 0;
      {
        std::unique_lock lock(m);
        work.wait(lock, [&] {
          return stop || claimed == files.size() || claimed < current + slots.size();
        });
        if (stop || claimed == files.size()) return;
        j = claimed++;
      }
      read(j, slots[j % slots.size()]);
    }
  }

  // Reads file j whole in chunks, hashing them, one byte past its planned
  // size to see whether it grew.
  void read(std::size_t j, Slot& s) {
    const File f{std::move(files[j].path), files[j].size};  // held no longer than needed
    try {
      FileSource in(f.path);
      util::Blake2b256 hash;
      std::uint64_t left = f.size;
      for (;;) {
        const auto b = acquire(j);
        if (!b) return;
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk - 1) + 1);
        const std::size_t n = read_full(in, MutableByteSpan(pool[*b].data(), want));
        if (n > left || (n < want && n < left)) {
          release(*b);
          throw Error(Exit::input, f.path.string() + ": changed while it was being packed");
        }
        if (n == 0) {
          release(*b);
        } else {
          hash.write(ByteSpan(pool[*b].data(), n));
          publish(s, Chunk{*b, n});
        }
        left -= n;
        if (n < want) break;  // the end, where it was planned
      }
      s.digest = hash.digest();
      publish(s, std::nullopt);
    } catch (...) {
      publish(s, std::nullopt, std::current_exception());
    }
  }
};

ReadAhead::ReadAhead(std::vector<File> files, unsigned workers, std::size_t chunk,
                     std::size_t buffers)
    : s_(std::make_unique<State>(std::move(files), std::max<std::size_t>(chunk, 2),
                                 std::max<std::size_t>(buffers, 2))) {
  const std::size_t n = std::min<std::size_t>(std::max(workers, 1u), s_->files.size());
  for (std::size_t t = 0; t < n; ++t) s_->threads.emplace_back([this] { s_->run(); });
}

ReadAhead::~ReadAhead() = default;

std::array<std::uint8_t, 32> ReadAhead::copy(std::size_t i, const std::function<void()>& opened,
                                             const std::function<void(ByteSpan)>& write) {
  State& s = *s_;
  if (i != s.current || i >= s.files.size())
    throw Error(Exit::internal, "ReadAhead: files taken out of order");
  Slot& slot = s.slots[i % s.slots.size()];
  bool began = false;
  for (;;) {
    Chunk c{};
    {
      std::unique_lock lock(s.m);
      s.ready.wait(lock, [&] { return !slot.chunks.empty() || slot.done; });
      if (slot.chunks.empty()) {
        if (slot.error) std::rethrow_exception(slot.error);
        break;
      }
      c = slot.chunks.front();
      slot.chunks.pop_front();
    }
    struct Give {  // the buffer goes back to the pool whatever write() does
      State& s;
      std::size_t b;
      ~Give() { s.release(b); }
    } give{s, c.buffer};
    if (!began) {
      opened();
      began = true;
    }
    write(ByteSpan(s.pool[c.buffer].data(), c.size));
  }
  if (!began) opened();
  const auto digest = slot.digest;
  {
    std::lock_guard lock(s.m);
    slot = Slot();  // fresh for the file it will hold next
    ++s.current;
  }
  s.work.notify_all();
  return digest;
}

}  // namespace iep::package
