// Fuzzes the manifest parser: any bytes either parse or throw iep::Error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "iep/core/error.h"
#include "iep/package/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto m =
        iep::Manifest::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    // What parses must serialise and parse again to the same thing.
    auto again = iep::Manifest::parse(m.to_json(), "fuzz");
    if (again.to_json() != m.to_json()) __builtin_trap();
  } catch (const iep::Error&) {
  }
  return 0;
}
