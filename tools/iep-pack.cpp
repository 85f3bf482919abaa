// iep-pack: DICOM files, folders, a CD's DICOMDIR or a PACS query into
// plain packages.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "iep/package/package.h"
#include "iep/pacs/pull.h"
#include "tool_main.h"

int main(int argc, char** argv) {
  return iep::tool::run("iep-pack", [&] {
    CLI::App app{
        "Pack DICOM files, folders, a CD (DICOMDIR) or the studies a PACS query finds into a "
        "plain package (tar.zst) on stdout."};
    std::string identity, output, split, pacs, calling_aet = "IEP", retrieve, move_aet;
    std::vector<std::string> paths, attach, report, query;
    std::uint16_t move_port = 0;
    int timeout = 120;
    bool no_compress = false, verbose = false, json = false;
    app.add_option("paths", paths, "DICOM files, folders, DICOMDIR files");
    app.add_option("-i,--identity", identity,
                   "this site's identity (default: IEP_IDENTITY, ~/.config/iep/identity)");
    app.add_option("-o,--output", output, "write the package to FILE instead of stdout");
    app.add_option("-a,--attach", attach, "carry a non-DICOM file (e.g. a report PDF)")
        ->allow_extra_args(false);
    app.add_option("--report", report,
                   "carry the study's report (a PDF, or UTF-8 text; at most 64 MiB), marked as "
                   "such so that the receiver can deliver it as a DICOM instance")
        ->allow_extra_args(false);
    app.add_option("--split", split, "one package per study, written as DIR/STUDY-UID.tar.zst");
    app.add_flag("--no-compress", no_compress, "plain tar without zstd (for local pipes)");
    app.add_option("--pacs", pacs, "retrieve the studies from this PACS (AET@HOST:PORT)");
    app.add_option("--calling-aet", calling_aet, "our AE title towards the PACS (default IEP)");
    app.add_option("-q,--query", query,
                   "KEY=VALUE to match (PatientID, PatientName, AccessionNumber, "
                   "StudyInstanceUID, StudyDate, ModalitiesInStudy); repeat for several")
        ->allow_extra_args(false);
    app.add_option("--retrieve", retrieve, "get or move (default: C-GET, else C-MOVE)")
        ->check(CLI::IsMember({"get", "move"}));
    app.add_option("--move-aet", move_aet, "AE title the PACS knows for iep's storage SCP");
    app.add_option("--move-port", move_port, "port iep's storage SCP listens on for C-MOVE")
        ->check(CLI::Range(1, 65535));
    app.add_option("--timeout", timeout,
                   "seconds to wait for the PACS's next answer or instance (default 120)")
        ->check(CLI::Range(1, 3600));
    iep::tool::DicomNetFlags tls;
    iep::tool::add_dicom_net_flags(app, tls);
    app.add_flag("-v,--verbose", verbose, "report each study on stderr");
    app.add_flag("--json", json, "print each study's result as a JSON line on stdout");
    if (auto done = iep::tool::parse(app, argc, argv)) return *done;
    iep::package::WriteOptions opts;
    opts.compress = !no_compress;

    if (pacs.empty()) {
      for (const char* f : {"--query", "--calling-aet", "--retrieve", "--move-aet", "--move-port",
                            "--timeout", "--json", "--tls-cert", "--tls-key", "--tls-ca"})
        if (app.count(f) > 0) throw iep::Error(iep::Exit::usage, std::string(f) + " needs --pacs");
      if (paths.empty()) throw iep::Error(iep::Exit::usage, "no path given (or --pacs)");
      auto self = iep::tool::load_identity(identity);
      iep::package::PackInput input{{paths.begin(), paths.end()},
                                    {attach.begin(), attach.end()},
                                    {report.begin(), report.end()}};
      if (!split.empty()) {
        iep::package::pack_split(input, self, split, opts);
        return 0;
      }
      auto plan = iep::package::plan_one(input);
      if (!output.empty() && output != "-") {
        iep::AtomicFile f(output);
        iep::package::write_plain(std::move(plan), self, f, opts);
        f.commit();
      } else {
        iep::tool::refuse_tty_stdout("a package");
        iep::FdSink out(1, "-");
        iep::package::write_plain(std::move(plan), self, out, opts);
      }
      return 0;
    }

    // Out of a PACS.
    if (!paths.empty())
      throw iep::Error(iep::Exit::usage, "--pacs takes no paths: the query names the studies");
    if (!attach.empty() || !report.empty())
      throw iep::Error(iep::Exit::usage, "--attach and --report do not go with --pacs");
    if (query.empty())
      throw iep::Error(iep::Exit::usage, "--pacs needs at least one --query KEY=VALUE");
    iep::pacs::PullOptions o;
    o.peer = iep::pacs::parse_peer(pacs, "--pacs");
    iep::pacs::check_aet(calling_aet, "--calling-aet");
    o.net.calling_aet = calling_aet;
    o.net.dimse_timeout = timeout;
    iep::tool::apply(tls, o.net);
    for (const auto& q : query) o.query.add(q);
    o.retrieve.method = retrieve == "get"    ? iep::pacs::RetrieveMethod::get
                        : retrieve == "move" ? iep::pacs::RetrieveMethod::move
                                             : iep::pacs::RetrieveMethod::automatic;
    if (!move_aet.empty()) iep::pacs::check_aet(move_aet, "--move-aet");
    o.retrieve.move_aet = move_aet;
    o.retrieve.move_port = move_port;
    if (retrieve == "move" && (move_aet.empty() || move_port == 0))
      throw iep::Error(iep::Exit::usage, "--retrieve move needs --move-aet and --move-port");
    if (move_aet.empty() != (move_port == 0))
      throw iep::Error(iep::Exit::usage, "--move-aet and --move-port go together");
    o.write = opts;
    auto self = iep::tool::load_identity(identity);
    std::unique_ptr<iep::FdSink> out;
    if (!split.empty()) {
      o.output = iep::pacs::PullOutput::folder;
      o.path = split;
    } else if (!output.empty() && output != "-") {
      o.output = iep::pacs::PullOutput::file;
      o.path = output;
    } else {
      if (json)
        throw iep::Error(iep::Exit::usage,
                         "--json needs --split DIR or --output FILE (stdout carries the packages)");
      iep::tool::refuse_tty_stdout("a package");
      out = std::make_unique<iep::FdSink>(1, "-");
      o.stream = out.get();
    }
    // Progress on a terminal: one line per study, rewritten as instances
    // arrive (at most ten times a second).
    const bool tty = isatty(2) != 0;
    std::size_t index = 0, count = 0;
    bool progress_shown = false;
    auto last = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    o.on_start = [&](const iep::pacs::FoundStudy& s, std::size_t i, std::size_t n) {
      index = i;
      count = n;
      if (verbose)
        std::fprintf(stderr, "iep-pack: study %zu of %zu: %s (%s %s): retrieving\n", i, n,
                     s.study_uid.c_str(), s.study_date.c_str(), s.modalities.c_str());
    };
    if (tty)
      o.on_progress = [&](const iep::pacs::FoundStudy& s, const iep::pacs::Retrieval& r) {
        const auto now = std::chrono::steady_clock::now();
        if (now - last < std::chrono::milliseconds(100)) return;
        last = now;
        const std::string of = s.instances ? " of " + std::to_string(*s.instances) : "";
        std::fprintf(stderr, "\riep-pack: study %zu of %zu: %u%s instances, %.1f MB\033[K", index,
                     count, r.received, of.c_str(), static_cast<double>(r.bytes) / 1e6);
        progress_shown = true;
      };
    o.on_study = [&](const iep::pacs::StudyResult& r) {
      if (progress_shown) {
        std::fputs("\r\033[K", stderr);
        progress_shown = false;
      }
      if (verbose) std::fprintf(stderr, "iep-pack: %s", r.to_text().c_str());
      if (json) {
        std::fputs(r.to_json().c_str(), stdout);
        std::fflush(stdout);
      }
    };
    iep::pacs::pull(o, self);
    return 0;
  });
}
