// iep-fetch: download the packages addressed to this site from the hub,
// verify and open them into a folder (or onto stdout), acknowledge each
// with a signed delivery receipt.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "iep/transfer/fetch.h"
#include "iep/transfer/hub_client.h"
#include "tool_main.h"

namespace {
extern "C" void on_stop(int) {
  iep::transfer::stop_flag().store(true);
}
}  // namespace

int main(int argc, char** argv) {
  return iep::tool::run("iep-fetch", [&] {
    CLI::App app{
        "Fetch the packages addressed to this site from the hub: download (resumably), verify, "
        "open into a folder or onto stdout, acknowledge with a signed receipt."};
    iep::tool::HubFlags hf;
    std::string out, media, exec, max_unpack;
    bool to_stdout = false, watch = false, json = false, verbose = false, no_wait = false;
    int wait = 30;
    app.add_option("-o,--out", out, "the folder studies go into, one folder per package id");
    app.add_option("--media", media,
                   "write each study as a folder to burn onto a disc instead, DIR/PACKAGE-ID "
                   "(DICOMDIR, DICOM/..., IHE PDI)");
    app.add_flag("--stdout", to_stdout,
                 "write each plain package to stdout, one after another, instead of a folder");
    app.add_option("--exec", exec,
                   "run CMD (sh -c) for each delivered study, with IEP_STUDY_DIR, IEP_PACKAGE, "
                   "IEP_SENDER, IEP_STUDY_UID set; acknowledge only if it exits 0");
    app.add_flag("--watch", watch, "keep fetching as packages arrive (long-poll) until SIGTERM");
    app.add_option("--wait", wait, "long-poll seconds with --watch (default 30)")
        ->check(CLI::Range(1, 60));
    iep::tool::add_hub_flags(app, hf);
    app.add_option("--max-unpack", max_unpack,
                   "the most one package may unpack to (suffixes K, M, G; default 4 x its "
                   "sealed size + 64M)");
    app.add_flag("--no-wait", no_wait,
                 "exit 17 (busy) instead of waiting when another iep-fetch uses the state folder");
    app.add_flag("--json", json, "print one JSON line per package on stdout");
    app.add_flag("-v,--verbose", verbose, "say what was delivered, on stderr");
    if (auto done = iep::tool::parse(app, argc, argv)) return *done;
    if (to_stdout + !out.empty() + !media.empty() != 1)
      throw iep::Error(iep::Exit::usage, "give one of --out DIR, --media DIR or --stdout");
    if (to_stdout && json)
      throw iep::Error(iep::Exit::usage, "--json needs --out DIR (stdout carries the packages)");
    if (to_stdout && !exec.empty())
      throw iep::Error(iep::Exit::usage, "--exec needs --out DIR (a folder to give the command)");
    if (to_stdout) iep::tool::refuse_tty_stdout("packages");

    auto self = iep::tool::load_identity(hf.identity);
    iep::transfer::Hub h(iep::tool::hub_options(hf, verbose));
    iep::transfer::FetchOptions fo;
    fo.out = media.empty() ? out : media;
    fo.media = !media.empty();
    fo.to_stdout = to_stdout;
    fo.exec = exec;
    fo.state = iep::transfer::state_dir(hf.state);
    fo.max_unpack = iep::tool::parse_size(max_unpack, "--max-unpack");
    fo.watch = watch;
    fo.wait = wait;
    fo.wait_for_lock = !no_wait;
    fo.verbose = verbose;

    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);

    auto code = iep::transfer::fetch(h, self, fo, [&](const iep::transfer::FetchResult& r) {
      if (json) {
        std::fputs(r.to_json().c_str(), stdout);
        std::fflush(stdout);
      }
      if (r.code != iep::Exit::ok)
        std::fprintf(stderr, "iep-fetch: %s\n", r.error.c_str());
      else if (verbose)
        std::fprintf(stderr, "iep-fetch: %s package %s from %s (study %s) into %s\n",
                     r.outcome.c_str(), r.package.c_str(), r.sender.c_str(), r.study_uid.c_str(),
                     r.destination.c_str());
    });
    return static_cast<int>(code);
  });
}
