// Fuzzes the --clean-pixels rules parser: any bytes either parse into rules
// that keep the documented invariants, or throw iep::Error(Exit::usage)
// naming the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "iep/core/error.h"
#include "iep/dicom/pixels.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const iep::pixels::Rules rules = iep::pixels::Rules::parse(text, "fuzz");
    if (rules.rules.empty()) __builtin_trap();
    for (const auto& r : rules.rules) {
      if (r.rects.empty() || r.line < 1 || r.rows < 0 || r.columns < 0) __builtin_trap();
      for (const auto& rect : r.rects)
        if (rect.x < 0 || rect.y < 0 || rect.width < 1 || rect.height < 1 || rect.x > 65535 ||
            rect.y > 65535 || rect.width > 65535 || rect.height > 65535)
          __builtin_trap();
      // A rule matches its own criteria.
      if (rules.match(r.manufacturer, r.model, r.rows, r.columns) == nullptr) __builtin_trap();
    }
  } catch (const iep::Error& e) {
    if (e.code() != iep::Exit::usage || std::string_view(e.what()).substr(0, 5) != "fuzz:")
      __builtin_trap();
  }
  return 0;
}
