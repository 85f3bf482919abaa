// Patient ID reconciliation plugged into iep-store (store_hook.h): every
// instance's key read, one decision per package, each instance coerced as
// it is sent, or the package quarantined whole and nothing sent.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <fmt/format.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/pacs/reconcile.h"
#include "pacs/reconcile_dataset.h"
#include "pacs/store_hook.h"

namespace fs = std::filesystem;

namespace iep::pacs {

namespace {

// FNV-1a, 64 bits: a stable short name for a PACS address.
std::string fnv(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return fmt::format("{:016x}", h);
}

// The file remembering a package's decision for one PACS.
fs::path decision_file(const fs::path& dir, const std::string& package_id,
                       const std::string& pacs) {
  const bool safe = !package_id.empty() && package_id.size() <= 128 &&
                    package_id.find_first_not_of(
                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789-_") == std::string::npos;
  return dir / fmt::format("{}-{}.json", safe ? package_id : fnv(package_id), fnv(pacs));
}

// Compares a decision with the one remembered for the package, if any:
// the same local identity takes the remembered time (every instance of
// the study, whichever run sent it, carries the same item); another one
// turns the decision into a quarantine. Remembers a new decision.
void remember(const ReconcileOptions& o, const std::string& package_id, Decision& d) {
  if (o.decisions.empty()) return;
  const fs::path file = decision_file(o.decisions, package_id, o.pacs);
  std::error_code ec;
  if (fs::exists(file, ec)) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_small_file(file, 1 << 16));
    } catch (const nlohmann::json::exception& e) {
      throw Error(Exit::input,
                  fmt::format("{}: not a remembered decision: {}", file.string(), e.what()));
    }
    const auto str = [&](const char* k) {
      return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
    };
    const std::optional<std::string> accession =
        j.contains("accession") && j["accession"].is_string()
            ? std::optional<std::string>(j["accession"].get<std::string>())
            : std::nullopt;
    if (str("patient_id") == d.patient_id && str("issuer") == d.issuer &&
        accession == d.accession) {
      d.modified_at = str("modified_at");
      return;
    }
    const std::string then =
        fmt::format("{} (issuer {}){}", str("patient_id"), str("issuer"),
                    accession ? fmt::format(", accession {}", *accession) : std::string());
    const std::string now =
        fmt::format("{} (issuer {}){}", d.patient_id, d.issuer,
                    d.accession ? fmt::format(", accession {}", *d.accession) : std::string());
    d.reason = fmt::format(
        "an earlier run stored this package into {} as local patient {} (decided {} by {}); the "
        "rules now say {}: part of the study may be in the PACS under the first; resolve it there, "
        "then remove {}",
        o.pacs, then, str("modified_at"), str("rule"), now, file.string());
    d.action = Decision::Action::quarantine;
    return;
  }
  fs::create_directories(o.decisions, ec);
  nlohmann::json j = {{"package", package_id},          {"pacs", o.pacs},
                      {"patient_id", d.patient_id},     {"issuer", d.issuer},
                      {"modified_at", d.modified_at},   {"rule", d.rule},
                      {"study_uid", d.sender.study_uid}};
  if (d.accession) j["accession"] = *d.accession;
  const std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  AtomicFile out(file, false, 0600);
  out.write(ByteSpan(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  out.commit();
}

}  // namespace

std::shared_ptr<const StudyHook> reconcile_hook(const ReconcileOptions& options) {
  if (options.rules.empty()) throw Error(Exit::usage, "--quarantine needs --reconcile RULES");
  if (options.quarantine.empty())
    throw Error(Exit::usage,
                "--reconcile needs --quarantine DIR: where the studies that cannot "
                "be reconciled go");
  struct State {
    State(Reconciler r, ReconcileOptions o) : rules(std::move(r)), o(std::move(o)) {}
    std::mutex m;  // one decision at a time (a changed table is read again)
    Reconciler rules;
    ReconcileOptions o;
  };
  auto state = std::make_shared<State>(Reconciler::load(options.rules), options);
  auto hook = std::make_shared<StudyHook>();
  hook->keep_package = true;
  hook->decide = [state](const StudyInput& in) -> StudyDecision {
    std::vector<PatientKey> keys;
    in.each_instance([&](const dicom::File& f) { keys.push_back(patient_key(f)); });
    std::unique_lock lock(state->m);
    const ReconcileOptions& o = state->o;
    Decision d = state->rules.decide(keys);
    if (!in.manifest.sender.site.empty()) d.source = in.manifest.sender.site;
    if (!d.quarantined()) remember(o, in.manifest.package_id, d);
    if (o.log) o.log(d.summary());
    if (d.quarantined()) {
      if (!in.package) throw Error(Exit::internal, in.input + ": the package was not kept");
      std::error_code ec;
      const std::string name = fs::is_regular_file(in.input, ec) ? in.input : "-";
      const fs::path where = quarantine(o.quarantine, *in.package, name, d);
      return {true, fmt::format("{} (quarantined in {})", d.reason, where.string()), {}};
    }
    if (d.action == Decision::Action::keep) return {false, {}, {}};
    return {false, {}, [d](DcmDataset& ds) { apply(ds, d); }};
  };
  return hook;
}

}  // namespace iep::pacs
