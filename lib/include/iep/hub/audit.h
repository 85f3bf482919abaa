// The hub's audit log: an append-only, hash-chained list of records. Each
// record carries the hash of the one before, so that removing or changing
// one breaks every later hash; the hub signs the chain head at intervals
// (checkpoints) with its own key, so that a site holding a checkpoint can
// prove a later rewrite of the log by the hub's operator.
//
// A record is one line of JSON (members sorted, no spaces), e.g.
//   {"action":"commit","actor":"trust-a","detail":{...},"hash":"...","package":"...",
//    "prev":"...","request":"...","seq":7,"time":"2026-12-02T10:00:00.123Z"}
// hash = hex BLAKE2b-256 of the line as it would be without its "hash"
// member; prev = the previous record's hash (64 zeros for seq 1). Written
// down in iep-protocol(7). This module is pure: formatting, chaining and
// checking; the hub's index stores the lines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/package/minisign.h"

namespace iep::hub {

struct AuditEvent {
  std::string action;              // upload.create, upload.patch, upload.terminate, upload.expire,
                                   // commit, reject, list, download, ack, delete, expire,
                                   // admin.site.add, admin.site.remove, admin.token.issue,
                                   // admin.token.revoke, auth.fail, ...
  std::string actor;               // a site name, "local-admin", "admin", "hub" or "anonymous"
  std::string package;             // package or upload id, or empty
  std::string request;             // request id, or empty
  std::string detail_json = "{}";  // a JSON object with event-specific members
};

struct AuditRecord {
  std::uint64_t seq = 0;
  std::string time;  // RFC 3339 UTC with milliseconds
  AuditEvent event;
  std::string prev;  // 64 hex
  std::string hash;  // 64 hex
  std::string line;  // the exact JSON line, no newline
};

inline const std::string kAuditGenesis(64, '0');

// Makes the next record after `prev_hash` (seq = prev_seq + 1).
AuditRecord chain_next(std::uint64_t prev_seq, const std::string& prev_hash,
                       const AuditEvent& event, const std::string& time);

// Parses one line and checks its own hash (not its link). Throws
// Error(Exit::corrupt) naming `where`.
AuditRecord parse_record(std::string_view line, const std::string& where);

// A signed statement of the chain head: "iep-audit-checkpoint seq=N head=HEX time=T",
// signed (minisign, prehashed over that text) by the hub's key.
struct Checkpoint {
  std::uint64_t seq = 0;
  std::string head;  // hash of record seq
  std::string time;
  minisign::Signature signature;
  [[nodiscard]] std::string statement() const;
  [[nodiscard]] std::string to_json() const;
  static Checkpoint from_json(std::string_view json);  // throws Error(Exit::corrupt)
};
Checkpoint sign_checkpoint(std::uint64_t seq, const std::string& head, const std::string& time,
                           const minisign::SecretKey& hub_key);

// True when the checkpoint's signature (both signatures, key id, and a
// trusted comment equal to the statement without its newline) verifies.
bool verify_checkpoint(const Checkpoint& cp, const minisign::PublicKey& hub_key);

struct AuditVerdict {
  bool ok = false;
  std::uint64_t records = 0;
  std::string head;   // hash of the last record
  std::string error;  // first failure: "line 17: hash does not match its content", ...
  std::uint64_t checkpoints_checked = 0;
  Exit result = Exit::ok;  // corrupt (the log), bad_signature (a checkpoint's signature)
  std::uint64_t line = 0;  // line of the first failure, 0 when none or not in the log
  std::string input;       // the log as named to verify_audit_files ("stdin" for "-")
  [[nodiscard]] std::string to_json() const;
};

// Checks a whole exported log (JSON lines from seq 1): every hash, every
// link, seq without gaps; and each checkpoint given (signed by `hub_key`)
// against the record it names. Never throws for a bad log.
AuditVerdict verify_chain(Source& lines, const std::vector<Checkpoint>& checkpoints,
                          const minisign::PublicKey* hub_key);

// Checkpoints as GET /v1/audit/checkpoints serves them: one checkpoint
// object, or a JSON list of them. Throws Error(Exit::corrupt) naming `source`.
std::vector<Checkpoint> parse_checkpoints(std::string_view json, const std::string& source);

// iep-verify --audit: checks the exported log at `log_path` ("-": stdin)
// against the checkpoints in `checkpoint_files` (each as parse_checkpoints
// reads them), whose signatures must verify with the minisign public key in
// `hub_key_path` (a .pub file, as GET /v1/hub/card serves). Checkpoints
// without a key: Error(Exit::usage). Unreadable files: Error(Exit::input);
// a malformed checkpoint file: Error(Exit::corrupt); a malformed key:
// Error(Exit::identity). The log's own verdict is returned, not thrown.
AuditVerdict verify_audit_files(const std::string& log_path,
                                const std::vector<std::string>& checkpoint_files,
                                const std::string& hub_key_path);

// One record as a DICOM PS3.15 A.5 audit message (XML, the schema of
// PS3.15 A.5.1), e.g. DataExport / BeginTransferring / InstancesTransferred
// with the site as active participant and the package as participant object.
std::string to_dicom_audit_message(const AuditRecord& record, const std::string& hub_name);

}  // namespace iep::hub
