// Fuzzes the patient ID reconciliation inputs (iep-reconcile(5)): the first
// byte picks the rules file ('r', loaded only: a rule may name a PACS to
// query) or the CSV mapping table ('t', loaded and then asked for three
// patients, which reaches the row matching and ambiguity checks). Any bytes
// either load or throw iep::Error; a decision is a coercion with a local ID
// or a quarantine with a reason.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "iep/core/error.h"
#include "iep/pacs/reconcile.h"

namespace {

std::filesystem::path dir() {
  static const std::filesystem::path d = [] {
    auto p = std::filesystem::temp_directory_path() / ("iep-fuzz-reconcile-" + std::to_string(getpid()));
    std::filesystem::create_directories(p);
    return p;
  }();
  return d;
}

void put(const std::filesystem::path& p, const char* data, std::size_t size) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(data, static_cast<std::streamsize>(size));
}

void check(const iep::pacs::Decision& d) {
  if (d.quarantined() ? d.reason.empty() : d.patient_id.empty()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const char* body = reinterpret_cast<const char*>(data) + 1;
  const auto rules = dir() / "rules.json";
  const auto table = dir() / "map.csv";
  try {
    if (data[0] == 'r') {
      put(rules, body, size - 1);
      put(table, "sender_issuer,sender_patient_id,local_patient_id\n,P1,L1\n", 52);
      (void)iep::pacs::Reconciler::load(rules);
      return 0;
    }
    if (data[0] != 't') return 0;
    static const char kRules[] = R"({"local_issuer": "RXX", "table": "map.csv", "coerce_accession": true})";
    put(rules, kRules, sizeof kRules - 1);
    put(table, body, size - 1);
    auto r = iep::pacs::Reconciler::load(rules);
    iep::pacs::PatientKey key;
    key.patient_id = "P1";
    check(r.decide(key));
    key.issuer = "SENDER";
    key.accession = "ACC1";
    check(r.decide(key));
    key.patient_id = "P2";
    key.issuer.clear();
    check(r.decide(key));
  } catch (const iep::Error&) {
  }
  return 0;
}
