// Patient ID reconciliation on import (IHE IRWF): before a study goes into
// the local PACS, the sender's Patient ID (with its Issuer) is mapped to the
// local one by rules, or the study is quarantined. The rules file and the
// decision rules are documented in iep-reconcile(5); the DCMTK side (reading
// a key from a data set, coercing one) is in lib/src/pacs/reconcile_dataset.h.
//
// A wrong-patient study in a PACS is a clinical incident: every doubt is a
// quarantine that says exactly why, never a guess.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "iep/core/io.h"

namespace iep::pacs {

// One item of Other Patient IDs Sequence (0010,1002).
struct OtherPatientId {
  std::string id;      // Patient ID (0010,0020) of the item
  std::string issuer;  // Issuer of Patient ID (0010,0021) of the item
  bool operator==(const OtherPatientId&) const = default;
};

// Who a study says its patient is. Text values without padding; the name
// in UTF-8 when the character set could be converted.
struct PatientKey {
  std::string patient_id;                 // (0010,0020)
  std::string issuer;                     // (0010,0021)
  std::string name;                       // (0010,0010)
  std::string birth_date;                 // (0010,0030), YYYYMMDD
  std::string sex;                        // (0010,0040)
  std::vector<OtherPatientId> other_ids;  // (0010,1002)
  std::string accession;                  // (0008,0050)
  std::string study_uid;                  // (0020,000D)

  // The IDs of Other Patient IDs Sequence issued by `issuer` (normally at
  // most one; several different ones make a national lookup ambiguous).
  [[nodiscard]] std::vector<std::string> ids_issued_by(const std::string& issuer) const;
  // "ID (issuer ISSUER)", or "ID (no issuer)".
  [[nodiscard]] std::string id_text() const;
};

// The key of a study from the keys of its instances: they must agree on
// the patient (ID, issuer, name, birth date, sex), the study and the
// accession number; Other Patient IDs are united. Returns the reason in
// words in *why and nothing when they disagree (quarantine).
std::optional<PatientKey> study_key(const std::vector<PatientKey>& instances, std::string* why);

// What to do with a study.
struct Decision {
  enum class Action { coerce, keep, quarantine };
  Action action = Action::quarantine;
  // coerce and keep: the local identity the study is stored under.
  std::string patient_id, issuer;
  std::optional<std::string> accession;  // coerce: the local accession number, if mapped
  std::string rule;    // which rule(s) decided, in words ("table map.csv line 4; ...")
  std::string reason;  // quarantine: why, in words
  PatientKey sender;   // the study's key as received
  // For Original Attributes Sequence (0400,0561): the same for every
  // instance of the study.
  std::string modified_at;       // Attribute Modification DateTime, DICOM DT (UTC)
  std::string modifying_system;  // Modifying System
  std::string source;            // Source of Previous Values (the sender)

  [[nodiscard]] bool quarantined() const { return action == Action::quarantine; }
  // One line for people: "study 1.2.3: sender's patient P1 (issuer X)
  // SMITH^JOHN -> local L9 (issuer RXX) by table map.csv line 4", or
  // "... quarantined: why".
  [[nodiscard]] std::string summary() const;
  // The decision as a JSON object (for reports and --json).
  [[nodiscard]] std::string to_json() const;
};

// Reconciliation rules, read from a rules file (iep-reconcile(5)).
class Reconciler {
 public:
  // Reads and checks the rules file (JSON, at most 1 MiB) and the mapping
  // table it names. Error(Exit::input) when a file cannot be read,
  // Error(Exit::usage) naming the file and the cause when it is malformed.
  static Reconciler load(const std::filesystem::path& rules_file);
  ~Reconciler();
  Reconciler(Reconciler&&) noexcept;
  Reconciler& operator=(Reconciler&&) noexcept;

  // Decides for one study. May query the local PACS or worklist (C-FIND);
  // a peer that cannot be reached or fails is an iep::Error
  // (pacs_unreachable, pacs_rejected, network): neither stored nor
  // quarantined, try again later. A CSV table changed on disk since it was
  // read is read again first.
  Decision decide(const PatientKey& key);
  // As decide() for the keys of every instance of a study (study_key()).
  Decision decide(const std::vector<PatientKey>& instances);

  // The description of the rules, for -v: "table map.csv (12 rows), C-FIND
  // PACS@host:104 (patient level) on NHS, keep issuers RXX".
  [[nodiscard]] std::string describe() const;

  struct Rules;

 private:
  explicit Reconciler(std::unique_ptr<Rules> rules);
  std::unique_ptr<Rules> rules_;
};

// Reads the patient key of a DICOM file (bounded reader). Error(Exit::
// invalid_dicom) when it does not parse.
PatientKey read_patient_key(const std::filesystem::path& file);

// Coerces a DICOM file by `decision` (nothing to do for keep) into `out`
// (a new file, written atomically), keeping the original values in Original
// Attributes Sequence. Mostly for tests and tools that work on files; a
// C-STORE sender coerces its DcmDataset with reconcile_dataset.h's apply().
void apply_to_file(const std::filesystem::path& in, const std::filesystem::path& out,
                   const Decision& decision);

struct StudyHook;  // iep-store's per-study hook (store.h)

struct ReconcileOptions {
  std::filesystem::path rules;       // --reconcile
  std::filesystem::path quarantine;  // --quarantine
  // Where each package's decision is remembered, per PACS (empty: not
  // remembered): a re-run that finishes a package uses the same local
  // patient and modification time, and quarantines the package when the
  // rules now say otherwise.
  std::filesystem::path decisions;
  std::string pacs;                             // the PACS stored into, AET@HOST:PORT
  std::function<void(const std::string&)> log;  // each decision's summary line; may be empty
};

// The hook iep-store plugs into StoreOptions::study_hook for --reconcile
// RULES --quarantine DIR: reads the key of every instance of a package,
// decides by the rules (Source of Previous Values: the package's sender
// site), and either coerces every instance as it is sent or quarantines the
// package into the quarantine folder (nothing of it is sent: exit status
// 12). Error(Exit::usage) unless both rules and quarantine are given.
std::shared_ptr<const StudyHook> reconcile_hook(const ReconcileOptions& options);

// Quarantines a study: the package as received (read from `package`, named
// `package_name` in the folder; "-" or "": package.tar.zst, or package.tar
// when it is not zstd) and a report (report.json, and report.txt
// with one line for people) go into a new folder of `dir` named
// TIME-STUDYUID (TIME as 20261202T151500Z; -2, -3... when taken), built
// out of sight and moved into place whole: never overwriting, nothing
// partial left. Returns the new folder. Error(Exit::output) when it cannot.
std::filesystem::path quarantine(const std::filesystem::path& dir, Source& package,
                                 const std::string& package_name, const Decision& decision);

}  // namespace iep::pacs
