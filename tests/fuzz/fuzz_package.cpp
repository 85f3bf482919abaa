// Fuzzes the package reader end to end: bytes are read as a sealed package
// (when they start like an age file) or a plain one, as iep-verify would,
// by the fixture site "fuzz" (tests/fuzz/fixture/fuzz.identity: a test key
// made with iep-keygen, guarding nothing). The fixture trusts itself and a
// card that shares its key id (so the reader must try every card with the
// id), and run-fuzzer.sh makes seeds it signed and sealed to itself, so that
// mutations reach every check after the signatures: the manifest, the file
// count, missing files, hashes, the sender binding and the recipients. Each
// input is read twice, the second time with fuzzing::skip_signatures (this
// build only), so that mutated manifests are parsed and checked too.
// Any input must end in a verdict, never a crash, a leak or undefined
// behaviour.
#include <cstddef>
#include <cstdint>
#include <string>

#include "iep/core/io.h"
#include "iep/package/package.h"

#ifndef IEP_FUZZING
#error "fuzz_package needs the fuzzing build (tests/fuzz/CMakeLists.txt defines IEP_FUZZING)"
#endif

namespace {

// The fixture identity, read without the 0600 check (a checkout is 0644).
iep::SiteIdentity fixture() {
  std::string text = iep::read_small_file(IEP_FUZZ_FIXTURE, 64 * 1024);
  std::string site, signing, age;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t nl = text.find('\n', at);
    std::string line = text.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
    at = nl == std::string::npos ? text.size() : nl + 1;
    if (line.starts_with("# iep-site: ")) site = line.substr(12);
    if (line.starts_with("# iep-minisign-secret-key: ")) signing = line.substr(27);
    if (line.starts_with("AGE-SECRET-KEY-1")) age = line;
  }
  return iep::SiteIdentity{site, iep::age::Identity::parse(age),
                           iep::minisign::SecretKey::parse(signing)};
}

struct Fixture {
  iep::SiteIdentity self = fixture();
  iep::TrustStore trust;
  Fixture() {
    // Another site's card with the fixture's key id but another key: it must
    // not shadow the genuine one.
    iep::SiteCard shadow = self.card();
    shadow.site = "shadow";
    shadow.signing_key.key.fill(0x5a);
    trust.add(shadow);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture f;
  for (bool skip : {false, true}) {
    iep::package::fuzzing::skip_signatures = skip;
    iep::BytesSource in(iep::ByteSpan(data, size));
    iep::package::VerifyOptions opts;
    opts.open = {&f.self, &f.trust, std::nullopt};
    opts.check_dicom = false;
    (void)iep::package::verify(in, "fuzz", opts);
  }
  iep::package::fuzzing::skip_signatures = false;
  return 0;
}
