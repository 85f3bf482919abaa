// Small helpers private to the hub.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "iep/hub/audit.h"
#include "iep/package/site.h"

namespace iep::hub {

// The next audit record (the audit module's chain_next, kept behind this
// seam so that the index does not depend on how records are formatted).
AuditRecord next_audit_record(std::uint64_t prev_seq, const std::string& prev_hash,
                              const AuditEvent& e, const std::string& time);

// Checks a delivery receipt (the receipt module's verify_receipt) and that it
// names `package`, `blake2b`, `receiver` and `sender`. Throws
// Error(Exit::bad_signature) saying what does not hold.
void check_receipt(std::string_view statement, std::string_view signature, const SiteCard& receiver,
                   const std::string& package, const std::string& blake2b,
                   const std::string& sender);

// A signed checkpoint of the audit chain head as one JSON object (the
// audit module's sign_checkpoint(...).to_json()).
std::string make_checkpoint_json(std::uint64_t seq, const std::string& head,
                                 const std::string& time, const minisign::SecretKey& key);

// An exported audit line as a DICOM PS3.15 A.5 audit message.
std::string audit_line_to_dicom(const std::string& line, const std::string& hub_name);

std::string random_hex(std::size_t bytes);
std::string blake2b256_hex(std::string_view data);
std::string base64_encode(std::string_view data, bool url = false);
// False when malformed (standard alphabet with padding, or url-safe without).
bool base64_decode(std::string_view text, std::string& out, bool url = false);
// A JSON string literal of `s`.
std::string json_string(std::string_view s);

}  // namespace iep::hub
