// Fuzzes iep::dicom::File, the reader iep-anon runs on every input file:
// any bytes must end in a parsed file that writes back out, or in
// Error(Exit::invalid_dicom); never a crash, a leak or undefined behaviour.
// And the same bytes read from a head (File::parse_head, the pipe stage's
// way for large entries): where both readings succeed, the head's writing
// followed by the rest of the bytes is the whole file's writing.
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
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  std::string whole;
  bool whole_read = false;
  try {
    const auto f = iep::dicom::File::parse(bytes, "fuzz", limits);
    (void)f.text(0x00100010);
    (void)f.is_dicomdir();
    f.write(null.get(), "/dev/null");
    if (f.syntax != iep::dicom::Syntax::deflated) {
      f.write(whole);
      whole_read = true;
    }
  } catch (const iep::Error& e) {
    if (e.code() != iep::Exit::invalid_dicom) __builtin_trap();
  }
  // How many bytes are left out of the head: chosen by the preamble's
  // first two bytes (which the reader ignores in a Part 10 file).
  const std::size_t tail = size < 2 ? 0 : (data[0] | data[1] << 8) % (size + 1);
  try {
    const auto h = iep::dicom::File::parse_head(bytes.substr(0, size - tail), size, "fuzz", limits);
    if (h) {
      if (h->tail() != tail) __builtin_trap();
      std::string out;
      h->write(out);
      out.append(bytes, size - tail, tail);
      if (whole_read && out != whole) __builtin_trap();
    }
  } catch (const iep::Error& e) {
    if (e.code() != iep::Exit::invalid_dicom) __builtin_trap();
    if (whole_read) __builtin_trap();  // what reads whole reads from any head, or is declined
  }
  return 0;
}
