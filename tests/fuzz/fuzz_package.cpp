// Fuzzes the package reader end to end: bytes are read as a sealed package
// (when they start like an age file) or a plain one, with a fixed site
// identity, as iep-verify would. Any input must end in a verdict, never a
// crash, a leak or undefined behaviour.
#include <cstddef>
#include <cstdint>

#include "iep/core/io.h"
#include "iep/package/package.h"

namespace {
struct Fixture {
  iep::SiteIdentity self = iep::SiteIdentity::generate("fuzz");
  iep::TrustStore trust;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture f;
  iep::BytesSource in(iep::ByteSpan(data, size));
  iep::package::VerifyOptions opts;
  opts.open = {&f.self, &f.trust, std::nullopt};
  opts.check_dicom = false;
  (void)iep::package::verify(in, "fuzz", opts);
  return 0;
}
