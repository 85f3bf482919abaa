// iep-anon: de-identify DICOM studies (PS3.15 Basic Profile and Options)
// with consistent keyed pseudonyms, folder to folder.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <thread>

#include "iep/anon/anon.h"
#include "iep/anon/anon_batch.h"
#include "iep/core/error.h"
#include "tool_main.h"

int main(int argc, char** argv) {
  return iep::tool::run("iep-anon", [&] {
    CLI::App app{
        "De-identify DICOM files by the DICOM PS3.15 confidentiality profile, with keyed "
        "pseudonyms."};
    std::string profile = "basic", profile_file, key, new_key, mapping, reid_map, reid_to, identity,
                clean_pixels;
    std::vector<std::string> from;
    std::vector<std::string> paths;
    int jobs = 1;
    bool json = false, verbose = false, check = false;
    std::vector<std::string> originals;
    app.add_option("paths", paths, "inputs (files, folders, DICOMDIRs), then the output folder");
    app.add_option("-p,--profile", profile,
                   "profile and options, comma separated (default: basic)");
    app.add_option("--profile-file", profile_file,
                   "a profile file with local keep/remove/set overrides");
    app.add_option("-k,--key", key, "the project key (pseudonyms and UIDs are derived from it)");
    app.add_option("--new-key", new_key, "make a new project key in FILE (mode 0600) and exit");
    app.add_option("--clean-pixels", clean_pixels,
                   "rules of rectangles to blank in images with burned-in text (else quarantined)");
    app.add_option("--mapping", mapping,
                   "CSV of original patient id,subject id; wins over pseudonyms");
    app.add_option("-j,--jobs", jobs, "worker threads")->check(CLI::Range(1, 256));
    app.add_option("--reid-map", reid_map, "write the re-identification map here, sealed with age");
    app.add_option("--reid-to", reid_to,
                   "the site (card or name) that may open the re-identification map");
    app.add_flag("--check", check, "scan OUTDIR for residual identifying data instead");
    app.add_option("--original", originals,
                   "with --check: the inputs, whose identifying values must not appear")
        ->allow_extra_args(false);
    app.add_option("-i,--identity", identity,
                   "with -: this site's identity, to sign the new package");
    app.add_option("--from", from, "with -: also trust this card as the signer of the input")
        ->allow_extra_args(false);
    app.add_flag("--json", json, "print the report as JSON on stdout");
    app.add_flag("-v,--verbose", verbose, "print a summary on stderr");
    if (auto done = iep::tool::parse(app, argc, argv)) return *done;
    if (!new_key.empty()) {
      iep::anon::ProjectKey::generate().save(new_key);
      return 0;
    }
    if (check) {
      if (paths.size() != 1)
        throw iep::Error(iep::Exit::usage, "--check takes one folder: the de-identified output");
      iep::anon::Profile p = iep::anon::Profile::parse(profile);
      std::vector<iep::anon::Override> ignored;
      if (!profile_file.empty()) iep::anon::load_profile_file(profile_file, p, ignored);
      auto report =
          iep::anon::check_folder(p, {originals.begin(), originals.end()}, paths[0], jobs);
      if (json)
        std::fputs(report.to_json().c_str(), stdout);
      else
        for (const auto& f : report.findings) std::printf("%s\n", f.c_str());
      for (const auto& why : report.invalid)
        std::fprintf(stderr, "iep-anon: not a valid DICOM instance: %s\n", why.c_str());
      if (!report.findings.empty()) {
        std::fprintf(stderr, "iep-anon: %zu findings of identifying data in %s\n",
                     report.findings.size(), paths[0].c_str());
        return static_cast<int>(iep::Exit::phi_found);
      }
      if (!report.invalid.empty()) {
        std::fprintf(stderr, "iep-anon: %zu files in %s are not valid DICOM instances\n",
                     report.invalid.size(), paths[0].c_str());
        return static_cast<int>(iep::Exit::invalid_dicom);
      }
      return 0;
    }
    if (key.empty())
      throw iep::Error(iep::Exit::usage, "--key FILE is required (make one with --new-key FILE)");
    const bool pipe = paths.size() == 1 && paths[0] == "-";
    if (paths.size() < 2 && !pipe)
      throw iep::Error(iep::Exit::usage,
                       "give the inputs and then the output folder, or - for a package on stdin");
    if (json && pipe)
      throw iep::Error(iep::Exit::usage,
                       "--json needs a folder output (stdout carries the package)");
    if (reid_map.empty() != reid_to.empty())
      throw iep::Error(iep::Exit::usage, "--reid-map and --reid-to go together");

    iep::anon::Options opts;
    opts.profile = iep::anon::Profile::parse(profile);
    if (!profile_file.empty())
      iep::anon::load_profile_file(profile_file, opts.profile, opts.overrides);
    if (!mapping.empty()) opts.subject_ids = iep::anon::load_mapping(mapping);
    if (!clean_pixels.empty()) opts.pixel_rules = iep::pixels::Rules::load(clean_pixels);
    std::optional<iep::SiteCard> reid_card;
    if (!reid_to.empty()) reid_card = iep::find_card(reid_to);
    iep::anon::Anonymiser anonymiser(iep::anon::ProjectKey::load(key), std::move(opts));

    iep::anon::BatchReport report;
    if (pipe) {
      // A pipe stage: plain package in, de-identified plain package out.
      iep::tool::refuse_tty_stdout("a package");
      auto self = iep::tool::load_identity(identity);
      iep::FdSource in(0, "-");
      iep::FdSink stdout_sink(1, "-");
      report = iep::anon::anonymise_package(anonymiser, in, "stdin", self,
                                            iep::tool::load_trust(from), stdout_sink);
    } else {
      std::filesystem::path out = paths.back();
      paths.pop_back();
      iep::anon::BatchOptions batch;
      batch.jobs = jobs;
      batch.progress = ::isatty(2) != 0;
      report = iep::anon::anonymise_folder(anonymiser, {paths.begin(), paths.end()}, out, batch);
    }
    if (reid_card) iep::anon::write_reid_map(report, *reid_card, reid_map);
    if (json) std::fputs(report.to_json().c_str(), stdout);
    if (verbose)
      for (const auto& [file, tags] : report.nonconformant_uids) {
        std::string list;
        for (const auto& t : tags) list += (list.empty() ? "" : ", ") + t;
        std::fprintf(stderr, "iep-anon: %s: non-conformant UIDs (replaced) in %s\n", file.c_str(),
                     list.c_str());
      }
    if (verbose || !report.quarantined.empty()) {
      for (const auto& [file, reason] : report.quarantined)
        std::fprintf(stderr, "iep-anon: quarantined %s: %s\n", file.c_str(), reason.c_str());
      std::fprintf(stderr, "iep-anon: %s\n", report.summary().c_str());
    }
    return report.quarantined.empty() ? 0 : static_cast<int>(iep::Exit::quarantined);
  });
}
