// iep-pack: DICOM files, folders or a CD's DICOMDIR into a plain package.
#include <CLI/CLI.hpp>

#include "iep/package/package.h"
#include "tool_main.h"

int main(int argc, char** argv) {
  return iep::tool::run("iep-pack", [&] {
    CLI::App app{
        "Pack DICOM files, folders or a CD (DICOMDIR) into a plain package (tar.zst) on stdout."};
    std::string identity, output, split;
    std::vector<std::string> paths, attach, report;
    bool no_compress = false;
    app.add_option("paths", paths, "DICOM files, folders, DICOMDIR files")->required();
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
    if (auto done = iep::tool::parse(app, argc, argv)) return *done;
    auto self = iep::tool::load_identity(identity);
    iep::package::PackInput input{{paths.begin(), paths.end()},
                                  {attach.begin(), attach.end()},
                                  {report.begin(), report.end()}};
    iep::package::WriteOptions opts;
    opts.compress = !no_compress;
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
  });
}
