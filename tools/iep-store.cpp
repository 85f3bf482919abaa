// iep-store: deliver plain packages into a PACS by DICOM C-STORE.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>

#include "iep/pacs/reconcile.h"
#include "iep/pacs/store.h"
#include "iep/transfer/hub_client.h"
#include "tool_main.h"

int main(int argc, char** argv) {
  return iep::tool::run("iep-store", [&] {
    CLI::App app{
        "Deliver plain packages into a PACS by C-STORE; a re-run sends only what is missing."};
    std::vector<std::string> inputs, from;
    std::string pacs, calling_aet = "IEP", state, identity, reconcile, quarantine;
    int associations = 1, retries = 3, timeout = 120;
    bool json = false, verbose = false, commit = false, pending = false;
    int commit_port = 0, commit_timeout = 60;
    app.add_option("input", inputs, "plain package files or folders of them; - or none: stdin");
    app.add_option("--pacs", pacs, "the PACS, AET@HOST:PORT")->required();
    app.add_option("--calling-aet", calling_aet, "our AE title (default IEP)");
    app.add_option("--associations", associations, "associations in parallel (default 1)")
        ->check(CLI::Range(1, 32));
    app.add_option("--retries", retries,
                   "tries more for an instance refused for lack of resources or cut off "
                   "(default 3)")
        ->check(CLI::Range(0, 20));
    app.add_option("--timeout", timeout,
                   "seconds to wait for the PACS's answer to an instance (default 120)")
        ->check(CLI::Range(1, 3600));
    app.add_flag("--commit", commit,
                 "ask the PACS for Storage Commitment of each package and wait for its report");
    app.add_option("--commit-port", commit_port,
                   "with --commit: listen on this port for a report on a new association")
        ->check(CLI::Range(1, 65535));
    app.add_option("--commit-timeout", commit_timeout,
                   "with --commit: seconds to wait for the report (default 60)")
        ->check(CLI::Range(1, 86400));
    app.add_option("--state", state, "the state folder (the journal is in its store/ folder)");
    app.add_option("-i,--identity", identity, "this site's identity: its own packages verify");
    app.add_option("--from", from, "trust this sender card (besides the site folders)")
        ->allow_extra_args(false);
    app.add_option("--reconcile", reconcile,
                   "patient ID reconciliation rules (iep-reconcile(5)); needs --quarantine");
    app.add_option("--quarantine", quarantine,
                   "with --reconcile: the folder for the studies that cannot be reconciled");
    app.add_flag("--pending", pending,
                 "only send the packages kept pending for this PACS (read from stdin earlier "
                 "and not completely stored); every run sends them first");
    app.add_flag("--json", json, "print one JSON line per package on stdout");
    app.add_flag("-v,--verbose", verbose, "print each instance stored, and each retry");
    iep::tool::DicomNetFlags tls;
    iep::tool::add_dicom_net_flags(app, tls);
    if (auto done = iep::tool::parse(app, argc, argv)) return *done;

    if (pending && !inputs.empty())
      throw iep::Error(iep::Exit::usage, "--pending takes no input: it sends the pending packages");
    const bool reads_stdin = !pending && (inputs.empty() || std::find(inputs.begin(), inputs.end(),
                                                                      "-") != inputs.end());
    if (reads_stdin && ::isatty(0))
      throw iep::Error(iep::Exit::usage,
                       "standard input is a terminal: give package files, or pipe packages in");
    iep::pacs::StoreOptions o;
    o.pacs = iep::pacs::parse_peer(pacs, "--pacs");
    iep::pacs::check_aet(calling_aet, "--calling-aet");
    o.net.calling_aet = calling_aet;
    o.net.dimse_timeout = timeout;
    iep::tool::apply(tls, o.net);
    o.associations = associations;
    o.pending_only = pending;
    o.retries = retries;
    o.journal = iep::transfer::state_dir(state) / "store";
    if ((commit_port != 0 || app.count("--commit-timeout") > 0) && !commit)
      throw iep::Error(iep::Exit::usage, "--commit-port and --commit-timeout need --commit");
    o.commit = commit;
    o.commit_port = static_cast<std::uint16_t>(commit_port);
    o.commit_timeout = commit_timeout;
    auto trust = iep::tool::load_trust(from);
    if (auto self = iep::tool::maybe_identity(identity)) trust.add(self->card());
    o.trust = &trust;
    if (!reconcile.empty() || !quarantine.empty())
      o.study_hook =
          iep::pacs::reconcile_hook({reconcile, quarantine, o.journal.parent_path() / "reconcile",
                                     o.pacs.to_string(), [verbose](const std::string& line) {
                                       if (verbose)
                                         std::fprintf(stderr, "iep-store: %s\n", line.c_str());
                                     }});
    if (verbose)
      o.log = [](const std::string& line) {
        std::fprintf(stderr, "iep-store: %s\n", line.c_str());
      };
    const bool tty = ::isatty(2) != 0 && !verbose;
    if (tty)
      o.progress = [](std::uint64_t n, std::uint64_t total, std::uint64_t bytes,
                      std::uint64_t total_bytes) {
        std::fprintf(stderr, "\r%llu/%llu instances, %.1f/%.1f MiB ",
                     static_cast<unsigned long long>(n), static_cast<unsigned long long>(total),
                     static_cast<double>(bytes) / 1048576.0,
                     static_cast<double>(total_bytes) / 1048576.0);
      };
    auto code = iep::pacs::store(inputs, o, [&](const iep::pacs::StoreResult& r) {
      if (tty && r.sent + r.failed.size() > 0) std::fputs("\n", stderr);
      if (json) {
        std::fputs(r.to_json().c_str(), stdout);
        std::fflush(stdout);
      }
      for (const auto& f : r.failed)
        std::fprintf(stderr, "iep-store: %s: %s (%s): %s\n", r.input.c_str(),
                     f.sop_instance_uid.c_str(), f.path.c_str(), f.status.c_str());
      if (r.result != iep::Exit::ok)
        std::fprintf(stderr, "iep-store: %s\n", r.error.c_str());
      else if (verbose)
        std::fprintf(stderr, "iep-store: %s: study %s: %llu sent, %llu already there\n",
                     r.input.c_str(), r.study_instance_uid.c_str(),
                     static_cast<unsigned long long>(r.sent),
                     static_cast<unsigned long long>(r.already));
    });
    return static_cast<int>(code);
  });
}
