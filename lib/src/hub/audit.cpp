// The hub's audit chain (iep-protocol(7)): canonical JSON lines, each
// carrying the BLAKE2b-256 of itself without its "hash" member and the hash
// of the record before; checkpoints sign the head with the hub's key.
#include "iep/hub/audit.h"

#include <sodium.h>

#include <array>
#include <map>
#include <nlohmann/json.hpp>

#include "core/util.h"
#include "iep/core/error.h"
#include "iep/transfer/receipt.h"

namespace iep::hub {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxLine = 64 * 1024;    // one record
constexpr std::size_t kMaxDetail = 16 * 1024;  // its detail object
constexpr std::size_t kMaxDepth = 16;          // nesting of a record (detail: kMaxDepth - 1)
constexpr std::size_t kMaxShort = 128;         // actor, package, request
constexpr std::size_t kMaxAction = 64;
constexpr std::size_t kMaxCheckpointJson = 16 * 1024;

bool lower_hex(std::string_view s, std::size_t n) {
  return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// Floating-point numbers have no single text that every JSON writer agrees
// on, so they would make the hash depend on the implementation: refused.
bool has_float(const json& j) {
  if (j.is_number_float()) return true;
  if (j.is_structured())
    for (const auto& v : j)
      if (has_float(v)) return true;
  return false;
}

// The canonical text: members sorted (nlohmann's object is a std::map, so
// byte order of the UTF-8 names, which is code point order), no spaces,
// strings as UTF-8 with only '"', '\\' and control characters escaped.
// Throws Error(Exit::corrupt) for invalid UTF-8.
std::string canonical(const json& j, const std::string& where) {
  try {
    return j.dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::exception&) {
    throw Error(Exit::corrupt, where + ": a string is not valid UTF-8");
  }
}

std::string hash_hex(std::string_view text) {
  util::Blake2b256 h;
  h.write(util::as_bytes(text));
  const auto d = h.digest();
  return util::hex(d);
}

// What is wrong with an event's fields, or empty.
std::string event_problem(const AuditEvent& e) {
  if (e.action.empty() || e.action.size() > kMaxAction ||
      e.action.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") != std::string::npos)
    return "action is not 1-64 of [a-z0-9._-]";
  if (e.actor.empty() || e.actor.size() > kMaxShort) return "actor is empty or too long";
  if (e.package.size() > kMaxShort) return "package is too long";
  if (e.request.size() > kMaxShort) return "request is too long";
  return {};
}

json parse_json(std::string_view text, const std::string& where, std::size_t max_depth) {
  if (util::json_depth(text) > max_depth)
    throw Error(Exit::corrupt, where + ": nested deeper than " + std::to_string(max_depth));
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception&) {
    throw Error(Exit::corrupt, where + ": not valid JSON");
  }
}

std::array<std::uint8_t, 64> prehash(std::string_view text) {
  minisign::Prehash h;
  h.write(util::as_bytes(text));
  return h.digest();
}

std::string without_newline(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace

AuditRecord chain_next(std::uint64_t prev_seq, const std::string& prev_hash,
                       const AuditEvent& event, const std::string& time) {
  const std::string where = "audit record " + std::to_string(prev_seq + 1);
  if (!lower_hex(prev_hash, 64)) throw Error(Exit::internal, where + ": prev is not 64 hex digits");
  if (!transfer::valid_utc_time(time))
    throw Error(Exit::internal, where + ": time is not an RFC 3339 UTC time");
  if (auto why = event_problem(event); !why.empty())
    throw Error(Exit::internal, where + ": " + why);
  if (event.detail_json.size() > kMaxDetail)
    throw Error(Exit::internal, where + ": detail larger than 16 KiB");
  json detail;
  try {
    detail = parse_json(event.detail_json, where + " detail", kMaxDepth - 1);
  } catch (const Error& e) {
    throw Error(Exit::internal, e.what());
  }
  if (!detail.is_object()) throw Error(Exit::internal, where + ": detail is not a JSON object");
  if (has_float(detail))
    throw Error(Exit::internal, where + ": detail holds a floating-point number");

  json j = json::object();
  j["action"] = event.action;
  j["actor"] = event.actor;
  j["detail"] = std::move(detail);
  j["package"] = event.package;
  j["prev"] = prev_hash;
  j["request"] = event.request;
  j["seq"] = prev_seq + 1;
  j["time"] = time;

  AuditRecord r;
  r.seq = prev_seq + 1;
  r.time = time;
  r.event = event;
  try {
    r.hash = hash_hex(canonical(j, where));
  } catch (const Error& e) {
    throw Error(Exit::internal, e.what());
  }
  r.event.detail_json = canonical(j["detail"], where);
  r.prev = prev_hash;
  j["hash"] = r.hash;
  r.line = canonical(j, where);
  if (r.line.size() > kMaxLine) throw Error(Exit::internal, where + ": longer than 64 KiB");
  return r;
}

AuditRecord parse_record(std::string_view line, const std::string& where) {
  auto bad = [&](const std::string& why) { return Error(Exit::corrupt, where + ": " + why); };
  if (line.size() > kMaxLine) throw bad("longer than 64 KiB");
  json j = parse_json(line, where, kMaxDepth);
  if (!j.is_object()) throw bad("not a JSON object");
  static const std::array<const char*, 9> kMembers = {
      "action", "actor", "detail", "hash", "package", "prev", "request", "seq", "time"};
  if (j.size() != kMembers.size()) throw bad("not the nine members of an audit record");
  for (const char* m : kMembers)
    if (!j.contains(m)) throw bad(std::string("member \"") + m + "\" missing");
  for (const char* m : {"action", "actor", "hash", "package", "prev", "request", "time"})
    if (!j[m].is_string()) throw bad(std::string("member \"") + m + "\" is not a string");
  if (!j["seq"].is_number_unsigned() || j["seq"].get<std::uint64_t>() == 0)
    throw bad("seq is not a positive integer");
  if (!j["detail"].is_object()) throw bad("detail is not an object");
  if (has_float(j["detail"])) throw bad("detail holds a floating-point number");

  AuditRecord r;
  r.seq = j["seq"].get<std::uint64_t>();
  r.time = j["time"].get<std::string>();
  r.event.action = j["action"].get<std::string>();
  r.event.actor = j["actor"].get<std::string>();
  r.event.package = j["package"].get<std::string>();
  r.event.request = j["request"].get<std::string>();
  r.prev = j["prev"].get<std::string>();
  r.hash = j["hash"].get<std::string>();
  if (auto why = event_problem(r.event); !why.empty()) throw bad(why);
  if (!transfer::valid_utc_time(r.time)) throw bad("time is not an RFC 3339 UTC time");
  if (!lower_hex(r.prev, 64)) throw bad("prev is not 64 lower-case hex digits");
  if (!lower_hex(r.hash, 64)) throw bad("hash is not 64 lower-case hex digits");
  // One record has one text: anything else (spaces, order, escapes, a
  // repeated member) is not what the hub wrote.
  if (canonical(j, where) != line) throw bad("not in canonical form (sorted members, no spaces)");
  r.event.detail_json = canonical(j["detail"], where);
  j.erase("hash");
  if (hash_hex(canonical(j, where)) != r.hash) throw bad("hash does not match its content");
  r.line = std::string(line);
  return r;
}

// ------------------------------------------------------------ checkpoints

std::string Checkpoint::statement() const {
  return "iep-audit-checkpoint seq=" + std::to_string(seq) + " head=" + head + " time=" + time +
         "\n";
}

std::string Checkpoint::to_json() const {
  json j = json::object();
  j["seq"] = seq;
  j["head"] = head;
  j["time"] = time;
  j["statement"] = statement();
  j["signature"] = signature.encode();
  return j.dump();
}

Checkpoint Checkpoint::from_json(std::string_view text) {
  const std::string where = "audit checkpoint";
  auto bad = [&](const std::string& why) { return Error(Exit::corrupt, where + ": " + why); };
  if (text.size() > kMaxCheckpointJson) throw bad("larger than 16 KiB");
  json j = parse_json(text, where, 2);
  if (!j.is_object()) throw bad("not a JSON object");
  for (const char* m : {"head", "time", "signature"})
    if (!j.contains(m) || !j[m].is_string()) throw bad(std::string("no string \"") + m + "\"");
  if (!j.contains("seq") || !j["seq"].is_number_unsigned() || j["seq"].get<std::uint64_t>() == 0)
    throw bad("seq is not a positive integer");
  Checkpoint cp;
  cp.seq = j["seq"].get<std::uint64_t>();
  cp.head = j["head"].get<std::string>();
  cp.time = j["time"].get<std::string>();
  if (!lower_hex(cp.head, 64)) throw bad("head is not 64 lower-case hex digits");
  if (!transfer::valid_utc_time(cp.time)) throw bad("time is not an RFC 3339 UTC time");
  if (j.contains("statement") &&
      (!j["statement"].is_string() || j["statement"].get<std::string>() != cp.statement()))
    throw bad("statement does not match seq, head and time");
  try {
    cp.signature = minisign::Signature::parse(j["signature"].get<std::string>());
  } catch (const Error& e) {
    throw bad(e.what());
  }
  return cp;
}

Checkpoint sign_checkpoint(std::uint64_t seq, const std::string& head, const std::string& time,
                           const minisign::SecretKey& hub_key) {
  if (seq == 0 || !lower_hex(head, 64) || !transfer::valid_utc_time(time))
    throw Error(Exit::internal, "audit checkpoint: bad seq, head or time");
  Checkpoint cp;
  cp.seq = seq;
  cp.head = head;
  cp.time = time;
  const std::string text = cp.statement();
  cp.signature = minisign::Signature::sign(hub_key, prehash(text), without_newline(text),
                                           "iep hub audit checkpoint");
  return cp;
}

bool verify_checkpoint(const Checkpoint& cp, const minisign::PublicKey& hub_key) {
  const std::string text = cp.statement();
  return cp.signature.trusted_comment == without_newline(text) &&
         cp.signature.verify(hub_key, prehash(text));
}

// ------------------------------------------------------------ verifying

std::string AuditVerdict::to_json() const {
  json j = json::object();
  j["input"] = input;
  j["ok"] = ok;
  j["result"] = exit_name(result);
  j["exit_code"] = static_cast<int>(result);
  j["records"] = records;
  j["head"] = head;
  j["checkpoints_checked"] = checkpoints_checked;
  if (!ok) {
    j["error"] = error;
    j["line"] = line;
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

AuditVerdict verify_chain(Source& lines, const std::vector<Checkpoint>& checkpoints,
                          const minisign::PublicKey* hub_key) {
  AuditVerdict v;
  auto fail = [&](Exit code, std::uint64_t line, const std::string& why) {
    v.ok = false;
    v.result = code;
    v.line = line;
    v.error = why;
    return v;
  };
  // Signatures first: they do not depend on the log.
  std::multimap<std::uint64_t, const Checkpoint*> by_seq;
  for (const auto& cp : checkpoints) {
    if (hub_key == nullptr)
      return fail(Exit::usage, 0, "checkpoints given without the hub's public key");
    if (!verify_checkpoint(cp, *hub_key))
      return fail(Exit::bad_signature, 0,
                  "checkpoint seq=" + std::to_string(cp.seq) + " time=" + cp.time +
                      ": the signature does not verify with the hub's key " + hub_key->id_hex());
    by_seq.emplace(cp.seq, &cp);
  }

  std::string prev = kAuditGenesis;
  std::uint64_t seq = 0, lineno = 0;
  auto take = [&](std::string_view line) -> bool {
    ++lineno;
    const std::string where = "line " + std::to_string(lineno);
    AuditRecord r;
    try {
      if (line.empty()) throw Error(Exit::corrupt, where + ": empty");
      r = parse_record(line, where);
    } catch (const Error& e) {
      fail(Exit::corrupt, lineno, e.what());
      return false;
    }
    if (r.seq != seq + 1) {
      fail(Exit::corrupt, lineno,
           where + ": seq " + std::to_string(r.seq) + " where " + std::to_string(seq + 1) +
               " was expected (a record removed, added or moved)");
      return false;
    }
    if (r.prev != prev) {
      fail(Exit::corrupt, lineno,
           where + ": prev does not match the hash of the record before (the chain is broken)");
      return false;
    }
    seq = r.seq;
    prev = r.hash;
    auto [lo, hi] = by_seq.equal_range(seq);
    for (auto it = lo; it != hi; ++it) {
      if (it->second->head != r.hash) {
        fail(Exit::corrupt, lineno,
             where + ": record seq " + std::to_string(seq) +
                 " is not the one the hub signed in its checkpoint of " + it->second->time +
                 " (the log was rewritten)");
        return false;
      }
      ++v.checkpoints_checked;
    }
    return true;
  };

  std::string cur;
  std::array<std::uint8_t, 64 * 1024> buf{};
  bool failed = false;
  try {
    while (!failed) {
      const std::size_t n = lines.read(buf);
      if (n == 0) break;
      std::string_view chunk(reinterpret_cast<const char*>(buf.data()), n);
      while (!failed && !chunk.empty()) {
        const std::size_t nl = chunk.find('\n');
        const std::string_view part = chunk.substr(0, nl);
        if (cur.size() + part.size() > kMaxLine) {
          fail(Exit::corrupt, lineno + 1,
               "line " + std::to_string(lineno + 1) + ": longer than 64 KiB, not an audit record");
          failed = true;
          break;
        }
        cur.append(part);
        if (nl == std::string_view::npos) break;
        chunk.remove_prefix(nl + 1);
        failed = !take(cur);
        cur.clear();
      }
    }
    if (!failed && !cur.empty()) failed = !take(cur);  // a last line without its newline
  } catch (const Error& e) {
    return fail(e.code(), lineno + 1, e.what());
  }
  if (failed) return v;

  v.records = seq;
  v.head = seq == 0 ? std::string() : prev;
  for (const auto& [cp_seq, cp] : by_seq)
    if (cp_seq > seq)
      return fail(Exit::corrupt, lineno + 1,
                  "line " + std::to_string(lineno + 1) + ": the log ends after seq " +
                      std::to_string(seq) + ", but the hub's checkpoint of " + cp->time +
                      " covers seq " + std::to_string(cp_seq) + " (records were removed)");
  v.ok = true;
  v.result = Exit::ok;
  return v;
}

std::vector<Checkpoint> parse_checkpoints(std::string_view text, const std::string& source) {
  constexpr std::size_t kMaxFile = 16 * 1024 * 1024;
  auto bad = [&](const std::string& why) { return Error(Exit::corrupt, source + ": " + why); };
  if (text.size() > kMaxFile) throw bad("larger than 16 MiB, not a list of checkpoints");
  const json j = parse_json(text, source, 3);
  std::vector<Checkpoint> out;
  auto one = [&](const json& o, std::size_t i) {
    try {
      out.push_back(Checkpoint::from_json(o.dump()));
    } catch (const Error& e) {
      throw bad("checkpoint " + std::to_string(i + 1) + ": " + e.what());
    }
  };
  if (j.is_object()) {
    one(j, 0);
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) one(j[i], i);
  } else {
    throw bad("neither a checkpoint object nor a list of them");
  }
  return out;
}

namespace {

std::string read_small(const std::string& path, std::size_t max) {
  FileSource in(path);
  std::string out;
  std::array<std::uint8_t, 64 * 1024> buf{};
  while (std::size_t n = in.read(buf)) {
    if (out.size() + n > max)
      throw Error(Exit::corrupt, path + ": larger than " + std::to_string(max >> 20) + " MiB");
    out.append(reinterpret_cast<const char*>(buf.data()), n);
  }
  return out;
}

}  // namespace

AuditVerdict verify_audit_files(const std::string& log_path,
                                const std::vector<std::string>& checkpoint_files,
                                const std::string& hub_key_path) {
  std::vector<Checkpoint> cps;
  for (const auto& f : checkpoint_files) {
    auto more = parse_checkpoints(read_small(f, 16 * 1024 * 1024), f);
    cps.insert(cps.end(), more.begin(), more.end());
  }
  std::optional<minisign::PublicKey> key;
  if (!hub_key_path.empty()) {
    const std::string text = read_small(hub_key_path, 1024 * 1024);
    try {
      key = minisign::PublicKey::parse(text);
    } catch (const Error& e) {
      throw Error(Exit::identity, hub_key_path + ": " + e.what());
    }
  }
  if (!checkpoint_files.empty() && !key)
    throw Error(Exit::usage, "checkpoints can only be checked with the hub's key (--hub-card)");
  const std::string name = log_path == "-" ? "stdin" : log_path;
  std::optional<FileSource> file;
  FdSource stdin_src(0, "stdin");
  Source* src = &stdin_src;
  if (log_path != "-") src = &file.emplace(log_path);
  AuditVerdict v = verify_chain(*src, cps, key ? &*key : nullptr);
  v.input = name;
  return v;
}

// ------------------------------------------------------------ DICOM

namespace {

// Text for an XML attribute or element: the markup characters escaped;
// characters XML 1.0 cannot carry at all (C0 controls but tab, CR, LF;
// U+FFFE, U+FFFF) replaced by U+FFFD. The input is valid UTF-8 (it came through the
// canonical JSON of a record).
std::string xml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    // U+FFFE and U+FFFF are not XML characters either.
    if (c == '\xef' && i + 2 < s.size() && s[i + 1] == '\xbf' &&
        (s[i + 2] == '\xbe' || s[i + 2] == '\xbf')) {
      out += "\xef\xbf\xbd";
      i += 2;
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\t': out += "&#9;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += "\xef\xbf\xbd";
        else
          out += c;
    }
  }
  return out;
}

std::string base64(std::string_view s) {
  util::sodium_ready();
  std::string out(sodium_base64_ENCODED_LEN(s.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(s.data()),
                    s.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the terminating NUL
  return out;
}

struct Code {
  const char* code;
  const char* system;
  const char* meaning;
};

std::string coded(const char* element, const Code& c) {
  return std::string("<") + element + " csd-code=\"" + xml(c.code) + "\" codeSystemName=\"" +
         xml(c.system) + "\" originalText=\"" + xml(c.meaning) + "\"/>";
}

constexpr Code kBeginTransferring{"110102", "DCM", "Begin Transferring DICOM Instances"};
constexpr Code kInstancesTransferred{"110104", "DCM", "DICOM Instances Transferred"};
constexpr Code kStudyDeleted{"110105", "DCM", "DICOM Study Deleted"};
constexpr Code kQuery{"110112", "DCM", "Query"};
constexpr Code kSecurityAlert{"110113", "DCM", "Security Alert"};
constexpr Code kUserAuthentication{"110114", "DCM", "User Authentication"};
constexpr Code kLogin{"110122", "DCM", "Login"};
constexpr Code kSecurityConfiguration{"110129", "DCM", "Security Configuration"};
constexpr Code kUserSecurityChanged{"110137", "DCM", "User security Attributes Changed"};
constexpr Code kDestination{"110152", "DCM", "Destination Role ID"};
constexpr Code kSource{"110153", "DCM", "Source Role ID"};
// Local codes (PS3.15 A.5.2 lets an implementation extend the messages; a
// "99" coding scheme is private by the convention of PS3.3 8.2). The hub
// never sees the study inside an encrypted package, so the package id
// stands where the tables put a Study Instance UID (110180).
constexpr Code kPackageId{"IEP-PACKAGE", "99IEP", "iep package ID"};
constexpr Code kAuditRecord{"IEP-AUDIT-RECORD", "99IEP", "iep audit record hash"};
constexpr Code kUri{"12", "RFC-3881", "URI"};

enum class Kind { transfer, transferred, deleted, query, security, authentication };

struct Mapping {
  Kind kind;
  Code event;
  const char* action_code;
};

// The audit actions as PS3.15 A.5.3 events:
//   upload.create, upload.patch, commit, reject
//       -> 110102 Begin Transferring DICOM Instances (E): the sending site
//          (Source) begins moving a package to the hub and, at commit, to
//          its recipients (Destination); reject is its failure (outcome 4).
//   download
//       -> 110102 Begin Transferring DICOM Instances (E): the hub (Source)
//          begins sending the package to the receiving site (Destination).
//   ack
//       -> 110104 DICOM Instances Transferred (R, as the hub is not the
//          receiver): the transfer completed, proven by the receiver's
//          signed receipt; the pair 110102/110104 lets a reviewer compare
//          what was sent with what arrived, as A.5.3.3 intends.
//   upload.terminate, upload.expire, delete, expire
//       -> 110105 DICOM Study Deleted (D): the package's bytes removed.
//   list
//       -> 110112 Query (E): a site asked the hub what is addressed to it.
//   admin.site.* and other admin.*
//       -> 110113 Security Alert (E), type 110129 Security Configuration:
//          the set of trusted sites changed (an informative alert, outcome 0).
//   admin.token.*
//       -> 110113 Security Alert (E), type 110137 User Security Attributes
//          Changed.
//   auth.fail
//       -> 110114 User Authentication (E), type 110122 Login, outcome 4.
//   anything else
//       -> 110113 Security Alert (E), informative, with the action as a
//          local event type code (the type is from a defined, extensible
//          context group).
Mapping map_action(const std::string& a) {
  if (a == "upload.create" || a == "upload.patch" || a == "commit" || a == "reject" ||
      a == "download")
    return {Kind::transfer, kBeginTransferring, "E"};
  if (a == "ack") return {Kind::transferred, kInstancesTransferred, "R"};
  if (a == "upload.terminate" || a == "upload.expire" || a == "delete" || a == "expire")
    return {Kind::deleted, kStudyDeleted, "D"};
  if (a == "list") return {Kind::query, kQuery, "E"};
  if (a == "auth.fail") return {Kind::authentication, kUserAuthentication, "E"};
  return {Kind::security, kSecurityAlert, "E"};
}

std::string participant(const std::string& user, bool requestor, const Code* role,
                        const std::string& nap = {}, const char* nap_type = nullptr) {
  std::string out = "<ActiveParticipant UserID=\"" + xml(user) + "\" UserIsRequestor=\"" +
                    (requestor ? "true" : "false") + "\"";
  if (nap_type != nullptr)
    out += std::string(" NetworkAccessPointID=\"") + xml(nap) + "\" NetworkAccessPointTypeCode=\"" +
           nap_type + "\"";
  if (role == nullptr) return out + "/>";
  return out + ">" + coded("RoleIDCode", *role) + "</ActiveParticipant>";
}

std::string string_member(const json& detail, const char* name) {
  auto it = detail.find(name);
  return it != detail.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string to_dicom_audit_message(const AuditRecord& record, const std::string& hub_name) {
  const std::string where = "audit record " + std::to_string(record.seq);
  json detail = parse_json(record.event.detail_json, where + " detail", kMaxDepth - 1);
  if (!detail.is_object()) throw Error(Exit::corrupt, where + ": detail is not a JSON object");
  const auto& e = record.event;
  const Mapping m = map_action(e.action);
  // The hub writes {"code","message"} for refusals, {"reason"} for auth.fail.
  std::string error;
  for (const char* k : {"message", "error", "reason", "code"})
    if (error.empty()) error = string_member(detail, k);
  const bool failed =
      e.action == "reject" || e.action == "auth.fail" || e.action.ends_with(".fail");
  const std::string hub = hub_name.empty() ? std::string("iep-hub") : hub_name;

  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AuditMessage>";
  // EventDateTime: xsd:dateTime has no leap second; the record's time otherwise is one.
  std::string when = record.time;
  if (when.size() >= 19 && when.compare(17, 2, "60") == 0) when.replace(17, 2, "59");
  out += std::string("<EventIdentification EventActionCode=\"") + m.action_code +
         "\" EventDateTime=\"" + xml(when) + "\" EventOutcomeIndicator=\"" + (failed ? "4" : "0") +
         "\">";
  out += coded("EventID", m.event);
  if (m.kind == Kind::authentication) out += coded("EventTypeCode", kLogin);
  if (m.kind == Kind::security) {
    if (e.action.starts_with("admin.token."))
      out += coded("EventTypeCode", kUserSecurityChanged);
    else if (e.action.starts_with("admin."))
      out += coded("EventTypeCode", kSecurityConfiguration);
    else
      out += coded("EventTypeCode", Code{"IEP-EVENT", "99IEP", e.action.c_str()});
  }
  if (failed || !error.empty())
    out += "<EventOutcomeDescription>" + xml(error.empty() ? e.action : error) +
           "</EventOutcomeDescription>";
  out += "</EventIdentification>";

  // Who took part.
  const bool actor_is_hub = e.actor == "hub";
  switch (m.kind) {
    case Kind::transfer:
      if (e.action == "download") {
        out += participant(hub, false, &kSource);
        out += participant(e.actor, true, &kDestination);
      } else {
        out += participant(e.actor, true, &kSource);
        out += participant(hub, false, &kDestination);
        for (const char* k : {"to", "recipients"})  // commit: the signed recipient list
          if (auto it = detail.find(k); it != detail.end() && it->is_array())
            for (const auto& r : *it)
              if (r.is_string()) out += participant(r.get<std::string>(), false, &kDestination);
      }
      break;
    case Kind::transferred: {
      std::string sender = string_member(detail, "sender");
      out += participant(sender.empty() ? hub : sender, false, &kSource);
      out += participant(e.actor, true, &kDestination);
      if (!sender.empty()) out += participant(hub, false, nullptr);
      break;
    }
    case Kind::query:
      out += participant(e.actor, true, &kSource);
      out += participant(hub, false, &kDestination);
      break;
    case Kind::authentication: {
      std::string remote = string_member(detail, "remote");
      out += remote.empty() ? participant(e.actor, true, nullptr, hub, "1")
                            : participant(e.actor, true, nullptr, remote, "2");
      out += participant(hub, false, nullptr);
      break;
    }
    case Kind::deleted:
    case Kind::security:
      out += participant(e.actor, true, nullptr);
      if (!actor_is_hub) out += participant(hub, false, nullptr);
      break;
  }

  out += "<AuditSourceIdentification AuditSourceID=\"" + xml(hub) +
         "\"><AuditSourceTypeCode csd-code=\"4\"/></AuditSourceIdentification>";

  // What it was about: the package, or for alerts the subject; each carries
  // the whole audit record (base64, as ValuePair values are), so that a
  // reviewer can check it against the hub's signed chain.
  const std::string record_pair =
      "<ParticipantObjectDetail type=\"iep-audit-record\" value=\"" + base64(record.line) + "\"/>";
  if (m.kind == Kind::security) {
    // The subject: the token (admin.token.*: detail "id"), else the site.
    std::string subject;
    if (e.action.starts_with("admin.token.") && !string_member(detail, "id").empty())
      subject = "iep:token/" + string_member(detail, "id");
    else if (!string_member(detail, "site").empty())
      subject = "iep:site/" + string_member(detail, "site");
    else
      subject = "iep:hub/" + hub;
    out += "<ParticipantObjectIdentification ParticipantObjectID=\"" + xml(subject) +
           "\" ParticipantObjectTypeCode=\"2\" ParticipantObjectTypeCodeRole=\"13\">" +
           coded("ParticipantObjectIDTypeCode", kUri) + "<ParticipantObjectName>" + xml(subject) +
           "</ParticipantObjectName><ParticipantObjectDetail type=\"Alert Description\" value=\"" +
           base64(e.action + " by " + e.actor) + "\"/>" + record_pair +
           "</ParticipantObjectIdentification>";
  } else if (m.kind == Kind::query) {
    out += "<ParticipantObjectIdentification ParticipantObjectID=\"" +
           xml(e.package.empty() ? "mailbox" : e.package) +
           "\" ParticipantObjectTypeCode=\"2\" ParticipantObjectTypeCodeRole=\"3\">" +
           coded("ParticipantObjectIDTypeCode", kPackageId) + "<ParticipantObjectQuery>" +
           base64(record.event.detail_json) + "</ParticipantObjectQuery>" + record_pair +
           "</ParticipantObjectIdentification>";
  } else if (!e.package.empty()) {
    out += "<ParticipantObjectIdentification ParticipantObjectID=\"" + xml(e.package) +
           "\" ParticipantObjectTypeCode=\"2\" ParticipantObjectTypeCodeRole=\"3\">" +
           coded("ParticipantObjectIDTypeCode", kPackageId) + "<ParticipantObjectName>" +
           xml("iep package " + e.package) + "</ParticipantObjectName>" + record_pair +
           "<ParticipantObjectDescription><Encrypted>true</Encrypted>"
           "</ParticipantObjectDescription></ParticipantObjectIdentification>";
  } else {
    out += "<ParticipantObjectIdentification ParticipantObjectID=\"" + xml(record.hash) +
           "\" ParticipantObjectTypeCode=\"2\">" +
           coded("ParticipantObjectIDTypeCode", kAuditRecord) + "<ParticipantObjectName>" +
           xml("iep audit record " + std::to_string(record.seq)) + "</ParticipantObjectName>" +
           record_pair + "</ParticipantObjectIdentification>";
  }
  out += "</AuditMessage>\n";
  return out;
}

}  // namespace iep::hub
