// Patient ID reconciliation plugged into iep-store (store_hook.h): every
// instance's key read, one decision per package, each instance coerced as
// it is sent, or the package quarantined whole and nothing sent.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <fmt/format.h>

#include <mutex>

#include "iep/core/error.h"
#include "iep/pacs/reconcile.h"
#include "pacs/reconcile_dataset.h"
#include "pacs/store_hook.h"

namespace fs = std::filesystem;

namespace iep::pacs {

std::shared_ptr<const StudyHook> reconcile_hook(const fs::path& rules_file,
                                                const fs::path& quarantine_dir,
                                                std::function<void(const std::string&)> log) {
  if (rules_file.empty()) throw Error(Exit::usage, "--quarantine needs --reconcile RULES");
  if (quarantine_dir.empty())
    throw Error(Exit::usage,
                "--reconcile needs --quarantine DIR: where the studies that cannot "
                "be reconciled go");
  struct State {
    State(Reconciler r, fs::path d, std::function<void(const std::string&)> l)
        : rules(std::move(r)), dir(std::move(d)), log(std::move(l)) {}
    std::mutex m;  // one decision at a time (a changed table is read again)
    Reconciler rules;
    fs::path dir;
    std::function<void(const std::string&)> log;
  };
  auto state =
      std::make_shared<State>(Reconciler::load(rules_file), quarantine_dir, std::move(log));
  auto hook = std::make_shared<StudyHook>();
  hook->keep_package = true;
  hook->decide = [state](const StudyInput& in) -> StudyDecision {
    std::vector<PatientKey> keys;
    in.each_instance([&](DcmDataset& ds) { keys.push_back(patient_key(ds)); });
    std::unique_lock lock(state->m);
    Decision d = state->rules.decide(keys);
    if (!in.manifest.sender.site.empty()) d.source = in.manifest.sender.site;
    if (d.quarantined()) {
      if (!in.package) throw Error(Exit::internal, in.input + ": the package was not kept");
      std::error_code ec;
      const std::string name = fs::is_regular_file(in.input, ec) ? in.input : "-";
      const fs::path where = quarantine(state->dir, *in.package, name, d);
      if (state->log) state->log(d.summary());
      return {true, fmt::format("{} (quarantined in {})", d.reason, where.string()), {}};
    }
    if (state->log) state->log(d.summary());
    if (d.action == Decision::Action::keep) return {false, {}, {}};
    return {false, {}, [d](DcmDataset& ds) { apply(ds, d); }};
  };
  return hook;
}

}  // namespace iep::pacs
