// Fuzzes iep::dicom::scan, the one acceptance rule (dicom::check_instance)
// that iep-pack and iep-verify run on every DICOM file: any bytes must end
// in an Info or in Error(Exit::invalid_dicom); never a crash (a stack
// overflow on deep nesting), a leak, undefined behaviour or memory that
// grows with what the input claims. scan() takes a path, so each input is
// written to a memory file and scanned through /proc/self/fd.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/dicom/dicom.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const iep::UniqueFd memory(::memfd_create("fuzz_dicom_scan", MFD_CLOEXEC));
  static const std::string path = "/proc/self/fd/" + std::to_string(memory.get());
  if (memory.get() < 0 || ::ftruncate(memory.get(), 0) != 0) __builtin_trap();
  for (std::size_t done = 0; done < size;) {
    const ssize_t n = ::pwrite(memory.get(), data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) __builtin_trap();
    done += static_cast<std::size_t>(n);
  }
  try {
    const iep::dicom::Info info = iep::dicom::scan(path);
    // What scan() accepts names an instance (or is a DICOMDIR).
    if (!info.is_dicomdir && (info.sop_class_uid.empty() || info.sop_instance_uid.empty()))
      __builtin_trap();
  } catch (const iep::Error& e) {
    if (e.code() != iep::Exit::invalid_dicom) __builtin_trap();
  }
  return 0;
}
