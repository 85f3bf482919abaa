// iep-send: seal a study (or a plain package from stdin) for recipient sites.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "iep/package/package.h"
#include "tool_main.h"

int main(int argc, char** argv) {
  return iep::tool::run("iep-send", [&] {
    CLI::App app{"Seal a study for recipient sites: encrypt (age) to each, sign (minisign)."};
    std::string identity, output, signature;
    std::vector<std::string> to, paths, attach, from;
    bool verbose = false, json = false;
    app.add_option("paths", paths, "DICOM files or folders, or - for a plain package on stdin")
        ->required();
    app.add_option("-t,--to", to,
                   "recipient: a site name (its card in the site folders) or a card file")
        ->allow_extra_args(false)
        ->required();
    app.add_option("-i,--identity", identity, "this site's identity");
    app.add_option("-o,--output", output,
                   "write the sealed package to FILE (and FILE.minisig), or - for stdout");
    app.add_option("--signature", signature, "where to write the signature when --output is -");
    app.add_option("-a,--attach", attach, "carry a non-DICOM file (e.g. a report PDF)")
        ->allow_extra_args(false);
    app.add_option("--from", from, "also trust this card as the signer of a plain package on stdin")
        ->allow_extra_args(false);
    app.add_flag("-v,--verbose", verbose, "say what was sealed, on stderr");
    app.add_flag("--json", json, "print the result as JSON on stdout");
    if (auto done = iep::tool::parse(app, argc, argv)) return *done;
    if (output.empty())
      throw iep::Error(iep::Exit::usage,
                       "uploading to a hub is not available yet: give --output FILE or --output -");
    if (output == "-" && signature.empty())
      throw iep::Error(iep::Exit::usage,
                       "--output - needs --signature FILE: the signature cannot follow the sealed "
                       "bytes on a pipe");
    if (output == "-" && json)
      throw iep::Error(iep::Exit::usage, "--json needs --output FILE (stdout carries the package)");
    bool from_stdin = paths.size() == 1 && paths[0] == "-";
    if (from_stdin && !attach.empty())
      throw iep::Error(iep::Exit::usage, "--attach works with files, not with a package on stdin");

    auto self = iep::tool::load_identity(identity);
    std::vector<iep::SiteCard> cards;
    for (const auto& t : to) cards.push_back(iep::find_card(t));
    std::optional<iep::package::Plan> plan;
    if (!from_stdin)
      plan = iep::package::plan_one({{paths.begin(), paths.end()}, {attach.begin(), attach.end()}});

    auto seal = [&](iep::Sink& out) {
      if (plan) return iep::package::seal(std::move(*plan), self, cards, out);
      iep::FdSource in(0, "-");
      return iep::package::seal_plain(in, "stdin", self, iep::tool::load_trust(from), cards, out);
    };
    std::filesystem::path sig_path =
        signature.empty() ? iep::package::signature_path(output) : std::filesystem::path(signature);
    iep::package::Sealed sealed;
    if (output == "-") {
      iep::tool::refuse_tty_stdout("a sealed package");
      iep::AtomicFile sig(sig_path, true);
      iep::FdSink out(1, "-");
      sealed = seal(out);
      std::string text = sealed.signature.encode();
      sig.write(iep::ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
      sig.commit();
    } else {
      iep::AtomicFile file(output);
      iep::AtomicFile sig(sig_path);
      sealed = seal(file);
      std::string text = sealed.signature.encode();
      sig.write(iep::ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
      sig.commit();
      try {
        file.commit();
      } catch (...) {
        std::filesystem::remove(sig_path);  // no signature without its package
        throw;
      }
    }
    const auto& m = sealed.manifest;
    if (verbose)
      std::fprintf(stderr, "iep-send: sealed package %s: %llu files of study %s for %zu site(s)\n",
                   m.package_id.c_str(), static_cast<unsigned long long>(m.files.size()),
                   m.study.study_instance_uid.c_str(), cards.size());
    if (json) std::fputs(m.to_json().c_str(), stdout);
    return 0;
  });
}
