// Fuzzes iep::dicom::File, the reader iep-anon runs on every input file:
// any bytes must end in a parsed file that writes back out, or in
// Error(Exit::invalid_dicom); never a crash, a leak or undefined behaviour.
#include <fcntl.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "iep/dicom/dicom_stream.h"
#include "iep/core/error.h"
#include "iep/core/io.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const iep::UniqueFd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  iep::dicom::ReadLimits limits;
  limits.inline_value = 256;  // exercise values left in the source, too
  limits.max_inflated = 1 << 20;
  try {
    const auto f = iep::dicom::File::parse(std::string(reinterpret_cast<const char*>(data), size),
                                           "fuzz", limits);
    (void)f.text(0x00100010);
    (void)f.is_dicomdir();
    f.write(null.get(), "/dev/null");
  } catch (const iep::Error& e) {
    if (e.code() != iep::Exit::invalid_dicom) __builtin_trap();
  }
  return 0;
}
