// iep-send: seal a study (or a plain package from stdin) for recipient sites
// and upload it to the hub (or, with --output, write the sealed package).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "iep/package/package.h"
#include "iep/transfer/hub_client.h"
#include "iep/transfer/send.h"
#include "iep/transfer/status.h"
#include "tool_main.h"

namespace {

// Seals to a file or stdout: the offline mode.
int seal_to_output(const std::string& output, const std::string& signature, bool json, bool verbose,
                   const iep::SiteIdentity& self, const std::vector<iep::SiteCard>& cards,
                   std::optional<iep::package::Plan> plan, const std::vector<std::string>& from) {
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
}

void report(const iep::transfer::SendResult& r, bool json, bool verbose) {
  if (json) {
    std::fputs(r.to_json().c_str(), stdout);
    std::fflush(stdout);
  }
  if (r.already_sent)
    std::fprintf(stderr, "iep-send: %s: already sent as package %s (committed %s); nothing to do\n",
                 r.input.c_str(), r.package.c_str(), r.committed.c_str());
  else if (verbose)
    std::fprintf(stderr,
                 "iep-send: sent package %s (%llu bytes) of %s: seal %.2f s, upload %.2f s, "
                 "commit %.2f s\n",
                 r.package.c_str(), static_cast<unsigned long long>(r.size), r.input.c_str(),
                 r.seal_seconds, r.upload_seconds, r.commit_seconds);
}

}  // namespace

int main(int argc, char** argv) {
  return iep::tool::run("iep-send", [&] {
    CLI::App app{
        "Seal a study for recipient sites (age, minisign) and upload it to the hub, resumably; "
        "or, with --output, write the sealed package."};
    iep::tool::HubFlags hf;
    std::string output, signature, accept_card, status;
    std::vector<std::string> to, paths, attach, from;
    bool verbose = false, json = false, no_wait = false, split = false;
    int jobs = 1;
    std::size_t chunk_mib = 8;
    app.add_option("paths", paths, "DICOM files or folders, or - for a plain package on stdin");
    app.add_option("-t,--to", to,
                   "recipient: a site name (its card pinned from the hub, or in the site "
                   "folders) or a card file")
        ->allow_extra_args(false);
    app.add_option("-o,--output", output,
                   "write the sealed package to FILE (and FILE.minisig), or - for stdout, "
                   "instead of uploading");
    app.add_option("--signature", signature,
                   "where to write the signature when --output is -; or, for a package sealed "
                   "earlier, where its signature is (default FILE.minisig)");
    app.add_option("-a,--attach", attach, "carry a non-DICOM file (e.g. a report PDF)")
        ->allow_extra_args(false);
    app.add_option("--from", from, "also trust this card as the signer of a plain package on stdin")
        ->allow_extra_args(false);
    app.add_flag("--no-wait", no_wait,
                 "exit 17 (busy) instead of waiting when another run sends the same input");
    app.add_option("-j,--jobs", jobs, "send up to N studies at once (with --split)")
        ->check(CLI::Range(1, 64));
    app.add_flag("--split", split, "send each study found in the inputs as its own package");
    app.add_option("--chunk-size", chunk_mib, "upload chunk size in MiB (default 8)")
        ->check(CLI::Range(1, 1024));
    iep::tool::add_hub_flags(app, hf);
    app.add_option("--status", status,
                   "show the delivery timeline of package ID sent by this site, each receipt "
                   "checked (exit 5 if one does not verify)");
    app.add_option("--accept-card", accept_card,
                   "accept the hub's current card for SITE, replacing the pinned one");
    app.add_flag("-v,--verbose", verbose, "say what was sealed and sent, on stderr");
    app.add_flag("--json", json, "print each result as a JSON line on stdout");
    if (auto done = iep::tool::parse(app, argc, argv)) return *done;

    if (!status.empty()) {
      if (!paths.empty() || !to.empty() || !output.empty() || !accept_card.empty())
        throw iep::Error(iep::Exit::usage,
                         "--status ID takes no input, --to, --output or --accept-card");
      auto self = iep::tool::load_identity(hf.identity);
      iep::transfer::Hub h(iep::tool::hub_options(hf, verbose));
      auto st = iep::transfer::package_status(h, self, status);
      std::fputs(json ? st.to_json().c_str() : st.to_text().c_str(), stdout);
      return st.receipts_ok() ? 0 : static_cast<int>(iep::Exit::bad_signature);
    }
    bool upload = output.empty();
    iep::transfer::HubOptions ho;
    if (upload || !accept_card.empty()) {
      ho = iep::tool::hub_options(hf, verbose);
      ho.chunk_size = chunk_mib << 20;
    }
    if (!accept_card.empty()) {
      iep::transfer::Hub h(ho);
      iep::transfer::accept_card(h, accept_card);
      if (paths.empty() && to.empty()) return 0;
    }
    if (paths.empty()) throw iep::Error(iep::Exit::usage, "no input: give PATH... or -");
    // A package sealed earlier (--output FILE), uploaded as it is.
    const bool sealed_input = paths.size() == 1 && iep::package::looks_sealed(paths[0]);
    if (sealed_input && (!upload || !attach.empty() || split))
      throw iep::Error(iep::Exit::usage,
                       paths[0] +
                           ": already sealed: upload it as it is, without --output, "
                           "--attach or --split");
    if (to.empty() && !sealed_input)
      throw iep::Error(iep::Exit::usage, "no recipient: give --to SITE");
    if (!upload && output == "-" && signature.empty())
      throw iep::Error(iep::Exit::usage,
                       "--output - needs --signature FILE: the signature cannot follow the sealed "
                       "bytes on a pipe");
    if (output == "-" && json)
      throw iep::Error(iep::Exit::usage, "--json needs --output FILE (stdout carries the package)");
    bool from_stdin = paths.size() == 1 && paths[0] == "-";
    if (from_stdin && !attach.empty())
      throw iep::Error(iep::Exit::usage, "--attach works with files, not with a package on stdin");
    if (split && (from_stdin || !upload))
      throw iep::Error(iep::Exit::usage, "--split works when uploading studies from files");

    auto self = iep::tool::load_identity(hf.identity);
    if (!upload) {
      std::vector<iep::SiteCard> cards;
      for (const auto& t : to) cards.push_back(iep::find_card(t));
      std::optional<iep::package::Plan> plan;
      if (!from_stdin)
        plan = iep::package::plan_one(
            {{paths.begin(), paths.end()}, {attach.begin(), attach.end()}, {}});
      return seal_to_output(output, signature, json, verbose, self, cards, std::move(plan), from);
    }

    iep::transfer::Hub h(ho);
    iep::transfer::SendOptions so;
    so.state = iep::transfer::state_dir(hf.state);
    so.wait_for_lock = !no_wait;
    so.verbose = verbose;
    so.jobs = jobs;
    so.progress = ::isatty(2) && !json && jobs == 1;
    auto is_card_file = [](const std::string& t) {
      return t.find('/') != std::string::npos || t.ends_with(".card");
    };
    if (sealed_input) {
      std::vector<std::string> sites;
      for (const auto& t : to) sites.push_back(is_card_file(t) ? iep::SiteCard::load(t).site : t);
      auto r = iep::transfer::send_sealed(h, self, paths[0],
                                          signature.empty() ? iep::package::signature_path(paths[0])
                                                            : std::filesystem::path(signature),
                                          sites, so);
      report(r, json, verbose);
      return 0;
    }
    std::vector<iep::SiteCard> cards;
    for (const auto& t : to)
      cards.push_back(is_card_file(t) ? iep::SiteCard::load(t) : iep::transfer::pinned_card(h, t));
    if (from_stdin) {
      iep::FdSource in(0, "-");
      auto r = iep::transfer::send_plain(h, self, in, iep::tool::load_trust(from), cards, so);
      report(r, json, verbose);
      return 0;
    }
    iep::package::PackInput input{{paths.begin(), paths.end()}, {attach.begin(), attach.end()}, {}};
    if (!split) {
      auto r = iep::transfer::send_plan(h, self, iep::package::plan_one(input), cards, so);
      report(r, json, verbose);
      return 0;
    }
    auto outcomes = iep::transfer::send_plans(ho, self, iep::package::plan(input), cards, so);
    int code = 0;
    for (const auto& o : outcomes) {
      if (o.code == iep::Exit::ok) {
        report(o.result, json, verbose);
        continue;
      }
      std::fprintf(stderr, "iep-send: %s: %s\n", o.result.input.c_str(), o.error.c_str());
      if (code == 0) code = static_cast<int>(o.code);
    }
    return code;
  });
}
