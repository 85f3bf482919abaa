// iep-verify: check a sealed or plain package with what we are given.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "iep/hub/audit.h"
#include "iep/package/package.h"
#include "tool_main.h"

int main(int argc, char** argv) {
  return iep::tool::run("iep-verify", [&] {
    CLI::App app{"Check a sealed or plain package: origin, integrity, DICOM validity."};
    std::string input, identity, signature, audit, hub_card;
    std::vector<std::string> from, checkpoints;
    bool json = false, verbose = false, no_dicom = false;
    app.add_option("package", input, "the package, or - for stdin");
    auto* audit_opt = app.add_option(
        "--audit", audit, "instead of a package, check a hub's exported audit log (- for stdin)");
    app.add_option("--checkpoint", checkpoints,
                   "with --audit: a file of the hub's signed checkpoints (repeatable)")
        ->allow_extra_args(false)
        ->needs(audit_opt);
    app.add_option("--hub-card", hub_card,
                   "with --audit: the hub's public key file, which signs the checkpoints")
        ->needs(audit_opt);
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
    if (!audit.empty()) {
      if (!input.empty()) throw iep::Error(iep::Exit::usage, "--audit takes no package");
      auto v = iep::hub::verify_audit_files(audit, checkpoints, hub_card);
      if (json)
        std::fputs(v.to_json().c_str(), stdout);
      else if (!v.ok)
        std::fprintf(stderr, "iep-verify: %s: %s\n", v.input.c_str(), v.error.c_str());
      else if (verbose)
        std::fprintf(stderr, "ok   %s: %llu records, head %s, %llu checkpoint(s) matched\n",
                     v.input.c_str(), static_cast<unsigned long long>(v.records),
                     v.head.empty() ? "none" : v.head.c_str(),
                     static_cast<unsigned long long>(v.checkpoints_checked));
      return static_cast<int>(v.result);
    }
    if (input.empty()) throw iep::Error(iep::Exit::usage, "no package given (see --help)");
    auto self = iep::tool::maybe_identity(identity);
    auto trust = iep::tool::load_trust(from);
    iep::package::VerifyOptions opts;
    opts.open = {self ? &*self : nullptr, &trust, iep::tool::load_signature(signature, input)};
    opts.check_dicom = !no_dicom;
    opts.identity_optional = identity.empty();
    auto report = iep::package::verify_file(input, input == "-" ? "stdin" : input, opts);
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
