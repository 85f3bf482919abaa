// iep-verify: check a sealed or plain package with what we are given.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "iep/package/package.h"
#include "tool_main.h"

int main(int argc, char** argv) {
  return iep::tool::run("iep-verify", [&] {
    CLI::App app{"Check a sealed or plain package: origin, integrity, DICOM validity."};
    std::string input, identity, signature;
    std::vector<std::string> from;
    bool json = false, verbose = false, no_dicom = false;
    app.add_option("package", input, "the package, or - for stdin")->required();
    app.add_option("-i,--identity", identity,
                   "this site's identity: also decrypt and check the contents");
    app.add_option("--from", from, "trust this sender card (besides the site folders)")
        ->allow_extra_args(false);
    app.add_option("--signature", signature,
                   "the signature over the sealed bytes (default: PACKAGE.minisig if present)");
    app.add_flag("--json", json, "print a machine-readable report on stdout");
    app.add_flag("--no-dicom", no_dicom, "do not parse the DICOM files");
    app.add_flag("-v,--verbose", verbose, "list the checks that passed");
    if (auto done = iep::tool::parse(app, argc, argv)) return *done;
    auto self = iep::tool::maybe_identity(identity);
    auto trust = iep::tool::load_trust(from);
    iep::package::VerifyOptions opts;
    opts.open = {self ? &*self : nullptr, &trust, iep::tool::load_signature(signature, input)};
    opts.check_dicom = !no_dicom;
    opts.identity_optional = identity.empty();
    auto in = iep::tool::open_input(input);
    auto report = iep::package::verify(*in, input == "-" ? "stdin" : input, opts);
    if (json) {
      std::fputs(report.to_json().c_str(), stdout);
    } else if (verbose) {
      for (const auto& c : report.checks)
        std::fprintf(stderr, "%s %s: %s\n",
                     c.ok                             ? "ok  "
                     : report.result == iep::Exit::ok ? "skip"
                                                      : "FAIL",
                     c.name.c_str(), c.detail.c_str());
    }
    if (report.result != iep::Exit::ok && !json)
      std::fprintf(stderr, "iep-verify: %s\n", report.error.c_str());
    return static_cast<int>(report.result);
  });
}
