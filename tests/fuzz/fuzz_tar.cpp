// Feeds arbitrary bytes to tar::Reader: it must either return safe, unique
// entries whose content has the announced size, or throw iep::Error.
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/package/tar.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  iep::BytesSource src(iep::ByteSpan(data, size));
  iep::tar::Reader reader(src, "fuzz");
  std::set<std::string> names;
  // Odd read sizes exercise partial reads of content and padding.
  std::uint8_t buf[1000];
  try {
    while (auto entry = reader.next()) {
      if (!iep::tar::safe_path(entry->path) || !names.insert(entry->path).second) std::abort();
      std::uint64_t got = 0;
      // Every other entry is left unread, so next() has to skip it.
      if (names.size() % 2 == 0) continue;
      for (;;) {
        std::size_t n = reader.read(iep::MutableByteSpan(buf, sizeof buf));
        if (n == 0) break;
        got += n;
      }
      if (got != entry->size) std::abort();
    }
  } catch (const iep::Error&) {
  }
  return 0;
}
