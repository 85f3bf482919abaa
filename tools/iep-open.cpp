// iep-open: verify and decrypt a sealed package addressed to this site.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "iep/package/package.h"
#include "tool_main.h"

int main(int argc, char** argv) {
  return iep::tool::run("iep-open", [&] {
    CLI::App app{
        "Open a sealed package: check signatures and every hash, then unpack it into a new folder "
        "or write the plain package to stdout."};
    std::string input, identity, output, signature;
    std::vector<std::string> from;
    bool verbose = false;
    app.add_option("package", input, "the sealed package, or - for stdin")->required();
    app.add_option("-o,--output", output,
                   "a new folder to unpack into, or - for the plain package on stdout")
        ->required();
    app.add_option("-i,--identity", identity, "this site's identity");
    app.add_option("--from", from, "trust this sender card (besides the site folders)")
        ->allow_extra_args(false);
    app.add_option("--signature", signature,
                   "the signature over the sealed bytes (default: PACKAGE.minisig if present)");
    app.add_flag("-v,--verbose", verbose, "say what was opened, on stderr");
    if (auto done = iep::tool::parse(app, argc, argv)) return *done;
    auto self = iep::tool::load_identity(identity);
    auto trust = iep::tool::load_trust(from);
    iep::package::OpenOptions opts{&self, &trust, iep::tool::load_signature(signature, input)};
    auto in = iep::tool::open_input(input);
    std::string name = input == "-" ? "stdin" : input;
    iep::Manifest m;
    if (output == "-") {
      iep::tool::refuse_tty_stdout("a package");
      iep::FdSink out(1, "-");
      m = iep::package::open_to_stream(*in, name, opts, out);
    } else {
      m = iep::package::open_to_folder(*in, name, opts, output);
    }
    if (verbose)
      std::fprintf(stderr, "iep-open: package %s from %s: %zu files, study %s\n",
                   m.package_id.c_str(), m.sender.site.c_str(), m.files.size(),
                   m.study.study_instance_uid.c_str());
    return 0;
  });
}
