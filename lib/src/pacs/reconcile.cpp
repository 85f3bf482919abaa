// Patient ID reconciliation on import: the rules file, the mapping table,
// the C-FIND lookup, the decision, the coercion and the quarantine. The
// rules are documented in iep-reconcile(5); keep both in step.
#include "iep/pacs/reconcile.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "iep/core/error.h"
#include "iep/dicom/dicom.h"
#include "iep/dicom/dicom_stream.h"
#include "iep/pacs/dimse.h"
#include "pacs/association.h"
#include "pacs/reconcile_dataset.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace iep::pacs {

namespace {

// ---- Small text helpers -------------------------------------------------

std::string trim(std::string s) {
  const auto pad = [](unsigned char c) { return c == ' ' || c == '\0' || c == '\t'; };
  while (!s.empty() && pad(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && pad(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// An identifier we are willing to write into a PACS: 1-64 printable ASCII
// characters (LO), no backslash (the value separator).
bool plain_id(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '\\'; });
}

std::string shown(const std::string& s) {
  return s.empty() ? "(none)" : s;
}

std::string with_issuer(const std::string& id, const std::string& issuer) {
  return issuer.empty() ? fmt::format("{} (no issuer)", id)
                        : fmt::format("{} (issuer {})", id, issuer);
}

// Patient's Name compared as people would: the alphabetic group (before
// '='), family and given names, ASCII case and padding ignored; middle
// names only when both have one; prefix and suffix ignored.
struct NameParts {
  std::string family, given, middle;
};
NameParts name_parts(const std::string& name) {
  std::string alpha = name.substr(0, name.find('='));
  std::vector<std::string> c;
  std::size_t start = 0;
  for (;;) {
    const std::size_t caret = alpha.find('^', start);
    c.push_back(upper(trim(alpha.substr(start, caret - start))));
    if (caret == std::string::npos) break;
    start = caret + 1;
  }
  c.resize(std::max<std::size_t>(c.size(), 3));
  return {c[0], c[1], c[2]};
}
// Empty when the names match; else what differs.
std::string name_difference(const std::string& a, const std::string& b) {
  const NameParts x = name_parts(a), y = name_parts(b);
  if (x.family.empty() || y.family.empty()) return "a family name is missing";
  if (x.family != y.family) return "family name differs";
  if (x.given != y.given) return "given name differs";
  if (!x.middle.empty() && !y.middle.empty() && x.middle != y.middle) return "middle name differs";
  return {};
}

std::string now_dt() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  return fmt::format("{}.{:06d}+0000", buf, us);
}

std::string now_compact() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

// ---- Reading keys with DCMTK --------------------------------------------

std::string get(DcmItem& item, const DcmTagKey& tag) {
  OFString v;
  if (item.findAndGetOFStringArray(tag, v, OFFalse).bad()) return {};
  return trim(v.c_str());
}

}  // namespace

PatientKey patient_key(DcmItem& ds) {
  PatientKey k;
  k.patient_id = get(ds, DCM_PatientID);
  k.issuer = get(ds, DCM_IssuerOfPatientID);
  k.birth_date = get(ds, DCM_PatientBirthDate);
  k.sex = upper(get(ds, DCM_PatientSex));
  k.accession = get(ds, DCM_AccessionNumber);
  k.study_uid = get(ds, DCM_StudyInstanceUID);
  k.name = get(ds, DCM_PatientName);
  const std::string charset = get(ds, DCM_SpecificCharacterSet);
  if (!charset.empty() && charset != "ISO_IR 6" && charset != "ISO_IR 192") {
    DcmElement* e = nullptr;
    if (ds.findAndGetElement(DCM_PatientName, e, OFFalse).good() && e) {
      DcmItem tmp;
      tmp.insert(static_cast<DcmElement*>(e->clone()));
      OFString v;
      if (tmp.convertCharacterSet(charset.c_str(), "ISO_IR 192").good() &&
          tmp.findAndGetOFStringArray(DCM_PatientName, v).good())
        k.name = trim(v.c_str());
    }
  }
  DcmSequenceOfItems* seq = nullptr;
  if (ds.findAndGetSequence(DCM_OtherPatientIDsSequence, seq, OFFalse).good() && seq) {
    for (unsigned long i = 0; i < seq->card() && i < 64; ++i) {
      DcmItem* item = seq->getItem(i);
      if (!item) continue;
      OtherPatientId o{get(*item, DCM_PatientID), get(*item, DCM_IssuerOfPatientID)};
      if (!o.id.empty()) k.other_ids.push_back(std::move(o));
    }
  }
  return k;
}

std::vector<std::string> PatientKey::ids_issued_by(const std::string& iss) const {
  std::vector<std::string> out;
  for (const auto& o : other_ids)
    if (o.issuer == iss && std::find(out.begin(), out.end(), o.id) == out.end())
      out.push_back(o.id);
  return out;
}

std::string PatientKey::id_text() const {
  return with_issuer(patient_id, issuer);
}

std::optional<PatientKey> study_key(const std::vector<PatientKey>& keys, std::string* why) {
  const auto fail = [&](const std::string& w) -> std::optional<PatientKey> {
    if (why) *why = w;
    return std::nullopt;
  };
  if (keys.empty()) return fail("the study has no instances");
  PatientKey k = keys.front();
  for (std::size_t i = 1; i < keys.size(); ++i) {
    const PatientKey& o = keys[i];
    const auto differ = [&](const char* what, const std::string& a, const std::string& b) {
      return fail(fmt::format("the instances of study {} disagree on {}: '{}' and '{}'",
                              k.study_uid, what, a, b));
    };
    if (o.study_uid != k.study_uid) return differ("Study Instance UID", k.study_uid, o.study_uid);
    if (o.patient_id != k.patient_id) return differ("Patient ID", k.patient_id, o.patient_id);
    if (o.issuer != k.issuer) return differ("Issuer of Patient ID", k.issuer, o.issuer);
    if (o.name != k.name) return differ("Patient's Name", k.name, o.name);
    if (o.birth_date != k.birth_date)
      return differ("Patient's Birth Date", k.birth_date, o.birth_date);
    if (o.sex != k.sex) return differ("Patient's Sex", k.sex, o.sex);
    if (o.accession != k.accession) return differ("Accession Number", k.accession, o.accession);
    for (const auto& id : o.other_ids)
      if (std::find(k.other_ids.begin(), k.other_ids.end(), id) == k.other_ids.end())
        k.other_ids.push_back(id);
  }
  return k;
}

// ---- Decisions in words --------------------------------------------------

std::string Decision::summary() const {
  const std::string who = fmt::format("study {}: sender's patient {} {}", shown(sender.study_uid),
                                      sender.id_text(), shown(sender.name));
  switch (action) {
    case Action::coerce:
      return fmt::format(
          "{} -> local {}{} by {}", who, with_issuer(patient_id, issuer),
          accession ? fmt::format(", accession {} -> {}", shown(sender.accession), *accession)
                    : std::string(),
          rule);
    case Action::keep: return fmt::format("{} kept as local by {}", who, rule);
    case Action::quarantine: break;
  }
  return fmt::format("{} quarantined: {}", who, reason);
}

std::string Decision::to_json() const {
  json sender_j = {
      {"patient_id", sender.patient_id}, {"issuer", sender.issuer}, {"name", sender.name},
      {"birth_date", sender.birth_date}, {"sex", sender.sex},       {"accession", sender.accession},
      {"study_uid", sender.study_uid}};
  json others = json::array();
  for (const auto& o : sender.other_ids) others.push_back({{"id", o.id}, {"issuer", o.issuer}});
  sender_j["other_ids"] = others;
  json j = {{"action", action == Action::coerce ? "coerce"
                       : action == Action::keep ? "keep"
                                                : "quarantine"},
            {"sender", sender_j},
            {"rule", rule}};
  if (action == Action::quarantine) {
    j["reason"] = reason;
  } else {
    j["local"] = {{"patient_id", patient_id}, {"issuer", issuer}};
    if (accession) j["local"]["accession"] = *accession;
  }
  j["decided_at"] = modified_at;
  j["summary"] = summary();
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

// ---- The rules -------------------------------------------------------------

namespace {

struct TableRow {
  std::string sender_issuer, sender_id, local_id, local_issuer, sender_accession, local_accession;
  std::size_t line = 0;
};

struct Table {
  fs::path path;
  std::string shown;                                    // the name as the rules file gave it
  std::unordered_multimap<std::string, TableRow> rows;  // CSV; key: issuer '\n' id
  bool sqlite = false;  // an SQLite file: its table reconcile_map, queried for each study
  struct timespec mtime {};
  off_t size = -1;
  std::size_t count = 0;
};

constexpr std::size_t kMaxTable = 256u << 20;  // bytes of a CSV table

std::string table_key(const std::string& issuer, const std::string& id) {
  return issuer + '\n' + id;
}

// RFC 4180 fields of one record starting at `pos`; advances past its end.
// Quoted fields may hold commas, doubled quotes and line breaks.
std::vector<std::string> csv_record(const std::string& text, std::size_t& pos, std::size_t& line,
                                    const std::string& name) {
  std::vector<std::string> fields(1);
  bool quoted = false, was_quoted = false;
  const std::size_t start_line = line;
  while (pos < text.size()) {
    const char c = text[pos++];
    if (quoted) {
      if (c == '"') {
        if (pos < text.size() && text[pos] == '"') {
          fields.back() += '"';
          ++pos;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        fields.back() += c;
      }
      continue;
    }
    if (c == '"') {
      if (!fields.back().empty() || was_quoted)
        throw Error(Exit::usage,
                    fmt::format("{} line {}: a quote inside an unquoted field", name, start_line));
      quoted = was_quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
      was_quoted = false;
    } else if (c == '\n') {
      ++line;
      break;
    } else if (c == '\r' && pos < text.size() && text[pos] == '\n') {
      continue;
    } else {
      if (was_quoted)
        throw Error(Exit::usage,
                    fmt::format("{} line {}: text after a quoted field", name, start_line));
      fields.back() += c;
    }
  }
  if (quoted)
    throw Error(Exit::usage, fmt::format("{} line {}: unterminated quote", name, start_line));
  return fields;
}

// A row's values must be identifiers we are willing to write into a PACS.
void check_row(const TableRow& r, const std::string& name, const char* unit) {
  const auto check = [&](const std::string& v, const char* what, bool required) {
    if ((required || !v.empty()) && !plain_id(v))
      throw Error(Exit::usage, fmt::format("{} {} {}: {} '{}' is not 1-64 printable ASCII "
                                           "characters without a backslash",
                                           name, unit, r.line, what, v));
  };
  check(r.sender_id, "sender_patient_id", true);
  check(r.local_id, "local_patient_id", true);
  check(r.sender_issuer, "sender_issuer", false);
  check(r.local_issuer, "local_issuer", false);
  check(r.sender_accession, "sender_accession", false);
  check(r.local_accession, "local_accession", false);
  if (r.local_accession.size() > 16 || r.sender_accession.size() > 16)
    throw Error(Exit::usage, fmt::format("{} {} {}: an accession number is at most 16 "
                                         "characters (SH)",
                                         name, unit, r.line));
}

// ---- SQLite tables ----------------------------------------------------------

struct SqliteClose {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct SqliteFinalize {
  void operator()(sqlite3_stmt* st) const { sqlite3_finalize(st); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteClose>;
using SqliteStmt = std::unique_ptr<sqlite3_stmt, SqliteFinalize>;

constexpr const char* kSqliteColumns =
    "sender_issuer, sender_patient_id, local_patient_id, local_issuer, sender_accession, "
    "local_accession";

SqliteDb sqlite_open(const Table& t) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(t.path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  SqliteDb db(raw);
  if (rc != SQLITE_OK)
    throw Error(Exit::input, fmt::format("{}: cannot open the mapping table: {}", t.path.string(),
                                         raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  sqlite3_busy_timeout(db.get(), 10000);  // a RIS export writing meanwhile
  return db;
}

SqliteStmt sqlite_prepare(const Table& t, sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
    throw Error(Exit::usage,
                fmt::format("{}: not a mapping table (a table reconcile_map with the columns {}): "
                            "{}",
                            t.path.string(), kSqliteColumns, sqlite3_errmsg(db)));
  return SqliteStmt(st);
}

std::string column_text(sqlite3_stmt* st, int i) {
  const unsigned char* v = sqlite3_column_text(st, i);
  return v ? trim(reinterpret_cast<const char*>(v)) : std::string();
}

// The rows for (issuer, id), each checked.
std::vector<TableRow> sqlite_rows(const Table& t, const std::string& issuer,
                                  const std::string& id) {
  SqliteDb db = sqlite_open(t);
  SqliteStmt st = sqlite_prepare(
      t, db.get(),
      fmt::format("SELECT rowid, {} FROM reconcile_map WHERE IFNULL(sender_issuer, '') = ?1 AND "
                  "sender_patient_id = ?2 LIMIT 1000",
                  kSqliteColumns));
  sqlite3_bind_text(st.get(), 1, issuer.c_str(), static_cast<int>(issuer.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st.get(), 2, id.c_str(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
  std::vector<TableRow> rows;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    TableRow r{column_text(st.get(), 1),
               column_text(st.get(), 2),
               column_text(st.get(), 3),
               column_text(st.get(), 4),
               column_text(st.get(), 5),
               column_text(st.get(), 6),
               static_cast<std::size_t>(sqlite3_column_int64(st.get(), 0))};
    check_row(r, t.path.string(), "row");
    rows.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE)
    throw Error(Exit::input, fmt::format("{}: cannot read the mapping table: {}", t.path.string(),
                                         sqlite3_errmsg(db.get())));
  return rows;
}

void load_sqlite(Table& t) {
  SqliteDb db = sqlite_open(t);
  // Every column there (the statement does not prepare otherwise).
  sqlite_prepare(t, db.get(), fmt::format("SELECT {} FROM reconcile_map LIMIT 0", kSqliteColumns));
  SqliteStmt count = sqlite_prepare(t, db.get(), "SELECT count(*) FROM reconcile_map");
  if (sqlite3_step(count.get()) != SQLITE_ROW)
    throw Error(Exit::input, fmt::format("{}: cannot read the mapping table: {}", t.path.string(),
                                         sqlite3_errmsg(db.get())));
  t.count = static_cast<std::size_t>(sqlite3_column_int64(count.get(), 0));
  t.sqlite = true;
}

void load_table(Table& t) {
  struct stat st {};
  if (::stat(t.path.c_str(), &st) != 0)
    throw Error(Exit::input, fmt::format("{}: cannot read the mapping table: {}", t.path.string(),
                                         std::strerror(errno)));
  {
    // An SQLite file begins with "SQLite format 3\0".
    std::string magic(16, '\0');
    FileSource f(t.path);
    magic.resize(read_full(f, MutableByteSpan(reinterpret_cast<std::uint8_t*>(magic.data()), 16)));
    if (magic == std::string("SQLite format 3\0", 16)) {
      load_sqlite(t);
      return;
    }
  }
  const std::string text = read_small_file(t.path, kMaxTable);
  const std::string name = t.path.string();
  std::size_t pos = 0, line = 1;
  if (text.starts_with("\xEF\xBB\xBF")) pos = 3;  // a UTF-8 byte order mark (spreadsheets)
  // The header names the columns, in any order.
  std::vector<std::string> header;
  while (pos < text.size() && header.empty()) {
    auto rec = csv_record(text, pos, line, name);
    if (rec.size() == 1 && (trim(rec[0]).empty() || rec[0][0] == '#')) continue;
    header = std::move(rec);
  }
  if (header.empty()) throw Error(Exit::usage, name + ": empty mapping table (no header line)");
  static const std::vector<std::string> kColumns = {"sender_issuer",    "sender_patient_id",
                                                    "local_patient_id", "local_issuer",
                                                    "sender_accession", "local_accession"};
  std::vector<int> col(kColumns.size(), -1);
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string h = trim(header[i]);
    const auto it = std::find(kColumns.begin(), kColumns.end(), h);
    if (it == kColumns.end())
      throw Error(Exit::usage, fmt::format("{} line 1: unknown column '{}' (known: {})", name, h,
                                           fmt::join(kColumns, ", ")));
    if (col[it - kColumns.begin()] >= 0)
      throw Error(Exit::usage, fmt::format("{} line 1: column '{}' twice", name, h));
    col[it - kColumns.begin()] = static_cast<int>(i);
  }
  for (int required = 0; required < 3; ++required)
    if (col[required] < 0)
      throw Error(Exit::usage,
                  fmt::format("{}: the header has no column '{}' (a table starts with a "
                              "header line: {})",
                              name, kColumns[required], fmt::join(kColumns, ",")));
  t.rows.clear();
  t.count = 0;
  while (pos < text.size()) {
    const std::size_t at = line;
    auto rec = csv_record(text, pos, line, name);
    if (rec.size() == 1 && (trim(rec[0]).empty() || rec[0][0] == '#')) continue;
    if (rec.size() != header.size())
      throw Error(Exit::usage, fmt::format("{} line {}: {} fields, the header has {}", name, at,
                                           rec.size(), header.size()));
    const auto field = [&](int c) { return c < 0 ? std::string() : trim(rec[c]); };
    TableRow r{field(col[0]),
               field(col[1]),
               field(col[2]),
               field(col[3]),
               field(col[4]),
               field(col[5]),
               at};
    check_row(r, name, "line");
    t.rows.emplace(table_key(r.sender_issuer, r.sender_id), std::move(r));
    ++t.count;
  }
  t.mtime = st.st_mtim;
  t.size = st.st_size;
}

// True when the table file changed since it was read.
bool table_changed(const Table& t) {
  if (t.sqlite) return false;  // queried for each study
  struct stat st {};
  if (::stat(t.path.c_str(), &st) != 0) return true;
  return st.st_size != t.size || st.st_mtim.tv_sec != t.mtime.tv_sec ||
         st.st_mtim.tv_nsec != t.mtime.tv_nsec;
}

enum class Model { patient, study, worklist };

struct Find {
  Peer peer;
  NetOptions net;
  Model model = Model::patient;
  bool narrow_by_birth_date = false;
  std::size_t max_matches = 100;
};

// A candidate local identity and where it came from.
struct Candidate {
  std::string id, issuer;
  std::optional<std::string> accession;
  std::string rule;
};

}  // namespace

struct Reconciler::Rules {
  fs::path file;
  std::string local_issuer;
  std::string modifying_system = "iep";
  std::string national_issuer;
  bool require_national_id = false;
  bool coerce_accession = false;
  std::vector<std::string> keep_issuers;
  std::optional<Table> table;
  std::optional<Find> find;
};

Reconciler::Reconciler(std::unique_ptr<Rules> rules) : rules_(std::move(rules)) {}
Reconciler::~Reconciler() = default;
Reconciler::Reconciler(Reconciler&&) noexcept = default;
Reconciler& Reconciler::operator=(Reconciler&&) noexcept = default;

Reconciler Reconciler::load(const fs::path& file) {
  const std::string name = file.string();
  const std::string text = read_small_file(file, 1 << 20);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(Exit::usage, fmt::format("{}: not JSON: {}", name, e.what()));
  }
  const auto bad = [&](const std::string& why) { return Error(Exit::usage, name + ": " + why); };
  if (!j.is_object()) throw bad("the rules are a JSON object");
  auto r = std::make_unique<Rules>();
  r->file = file;
  const auto str = [&](const json& o, const char* key, const std::string& where) -> std::string {
    if (!o.contains(key)) return {};
    if (!o[key].is_string()) throw bad(fmt::format("{}{} must be a string", where, key));
    return o[key].get<std::string>();
  };
  const auto boolean = [&](const json& o, const char* key, const std::string& where) {
    if (!o.contains(key)) return false;
    if (!o[key].is_boolean()) throw bad(fmt::format("{}{} must be true or false", where, key));
    return o[key].get<bool>();
  };
  static const std::set<std::string> kKeys = {
      "local_issuer",     "modifying_system", "national_issuer", "require_national_id",
      "coerce_accession", "keep_issuers",     "table",           "find"};
  for (const auto& [k, v] : j.items())
    if (!kKeys.count(k)) throw bad(fmt::format("unknown key '{}'", k));
  r->local_issuer = str(j, "local_issuer", "");
  if (!plain_id(r->local_issuer))
    throw bad(
        "local_issuer (the Issuer of Patient ID of local patient IDs) must be given, 1-64 "
        "printable ASCII characters");
  if (j.contains("modifying_system")) r->modifying_system = str(j, "modifying_system", "");
  if (!plain_id(r->modifying_system))
    throw bad("modifying_system must be 1-64 printable ASCII characters");
  r->national_issuer = str(j, "national_issuer", "");
  r->require_national_id = boolean(j, "require_national_id", "");
  r->coerce_accession = boolean(j, "coerce_accession", "");
  if (r->require_national_id && r->national_issuer.empty())
    throw bad("require_national_id needs national_issuer");
  if (j.contains("keep_issuers")) {
    if (!j["keep_issuers"].is_array()) throw bad("keep_issuers must be an array of strings");
    for (const auto& v : j["keep_issuers"]) {
      if (!v.is_string() || !plain_id(v.get<std::string>()))
        throw bad("keep_issuers must be an array of issuers (1-64 printable ASCII characters)");
      r->keep_issuers.push_back(v.get<std::string>());
    }
  }
  if (j.contains("table")) {
    const std::string t = str(j, "table", "");
    if (t.empty()) throw bad("table must name a CSV file");
    Table table;
    table.shown = t;
    table.path = fs::path(t).is_absolute() ? fs::path(t) : file.parent_path() / t;
    load_table(table);
    r->table = std::move(table);
  }
  if (j.contains("find")) {
    const json& f = j["find"];
    if (!f.is_object()) throw bad("find must be an object");
    static const std::set<std::string> kFindKeys = {
        "pacs", "calling_aet", "model", "narrow_by_birth_date", "max_matches", "timeout"};
    for (const auto& [k, v] : f.items())
      if (!kFindKeys.count(k)) throw bad(fmt::format("unknown key 'find.{}'", k));
    if (r->national_issuer.empty())
      throw bad(
          "find needs national_issuer (the issuer of the national identifier in Other "
          "Patient IDs Sequence, e.g. \"NHS\")");
    Find find;
    find.peer = parse_peer(str(f, "pacs", "find."), "find.pacs");
    if (f.contains("calling_aet")) {
      find.net.calling_aet = str(f, "calling_aet", "find.");
      check_aet(find.net.calling_aet, "find.calling_aet");
    }
    const std::string model = f.contains("model") ? str(f, "model", "find.") : "patient";
    if (model == "patient")
      find.model = Model::patient;
    else if (model == "study")
      find.model = Model::study;
    else if (model == "worklist")
      find.model = Model::worklist;
    else
      throw bad("find.model must be \"patient\", \"study\" or \"worklist\"");
    find.narrow_by_birth_date = boolean(f, "narrow_by_birth_date", "find.");
    if (f.contains("max_matches")) {
      if (!f["max_matches"].is_number_unsigned() || f["max_matches"].get<std::uint64_t>() < 1 ||
          f["max_matches"].get<std::uint64_t>() > 10000)
        throw bad("find.max_matches must be a number from 1 to 10000");
      find.max_matches = f["max_matches"].get<std::size_t>();
    }
    if (f.contains("timeout")) {
      if (!f["timeout"].is_number_unsigned() || f["timeout"].get<std::uint64_t>() < 1 ||
          f["timeout"].get<std::uint64_t>() > 3600)
        throw bad("find.timeout must be a number of seconds from 1 to 3600");
      const int s = f["timeout"].get<int>();
      find.net.connect_timeout = s;
      find.net.acse_timeout = s;
      find.net.dimse_timeout = s;
    }
    r->find = std::move(find);
  }
  if (!r->table && !r->find && r->keep_issuers.empty())
    throw bad("no rule: give a table, find, or keep_issuers");
  return Reconciler(std::move(r));
}

std::string Reconciler::describe() const {
  std::vector<std::string> parts;
  if (rules_->table)
    parts.push_back(fmt::format("table {} ({} rows)", rules_->table->shown, rules_->table->count));
  if (rules_->find)
    parts.push_back(fmt::format("C-FIND {} ({}) on {}", rules_->find->peer.to_string(),
                                rules_->find->model == Model::patient ? "patient level"
                                : rules_->find->model == Model::study ? "study level"
                                                                      : "worklist",
                                rules_->national_issuer));
  if (!rules_->keep_issuers.empty())
    parts.push_back(fmt::format("keep issuers {}", fmt::join(rules_->keep_issuers, ", ")));
  return fmt::format("{}; local issuer {}", fmt::join(parts, ", "), rules_->local_issuer);
}

// ---- Deciding --------------------------------------------------------------

namespace {

// Thrown inside decide() for a quarantine, caught there.
struct Quarantine {
  std::string reason;
};

std::optional<Candidate> from_table(Table& t, const std::string& local_issuer, bool accession,
                                    const PatientKey& key, std::string& note) {
  std::vector<const TableRow*> rows;
  std::vector<TableRow> queried;
  if (t.sqlite) {
    queried = sqlite_rows(t, key.issuer, key.patient_id);
    for (const auto& r : queried)
      if (r.sender_accession.empty() || r.sender_accession == key.accession) rows.push_back(&r);
  } else {
    const auto [first, last] = t.rows.equal_range(table_key(key.issuer, key.patient_id));
    for (auto it = first; it != last; ++it)
      if (it->second.sender_accession.empty() || it->second.sender_accession == key.accession)
        rows.push_back(&it->second);
  }
  const char* unit = t.sqlite ? "row" : "line";
  if (rows.empty()) {
    note = fmt::format("no row of table {} for {}", t.shown, key.id_text());
    return std::nullopt;
  }
  std::sort(rows.begin(), rows.end(),
            [](const TableRow* a, const TableRow* b) { return a->line < b->line; });
  const auto issuer_of = [&](const TableRow* r) {
    return r->local_issuer.empty() ? local_issuer : r->local_issuer;
  };
  const TableRow* first_row = rows.front();
  for (const TableRow* r : rows)
    if (r->local_id != first_row->local_id || issuer_of(r) != issuer_of(first_row))
      throw Quarantine{fmt::format("table {} is ambiguous for {}: {} {} maps it to {}, {} {} to {}",
                                   t.shown, key.id_text(), unit, first_row->line,
                                   with_issuer(first_row->local_id, issuer_of(first_row)), unit,
                                   r->line, with_issuer(r->local_id, issuer_of(r)))};
  Candidate c{first_row->local_id, issuer_of(first_row), std::nullopt, {}};
  // The accession: rows for this very accession first, then rows for any.
  std::vector<std::size_t> lines;
  for (const TableRow* r : rows) lines.push_back(r->line);
  c.rule = fmt::format("table {} {}{} {}", t.shown, unit, lines.size() > 1 ? "s" : "",
                       fmt::join(lines, ", "));
  for (int specific = 1; accession && specific >= 0 && !c.accession; --specific) {
    const TableRow* chosen = nullptr;
    for (const TableRow* r : rows) {
      if (r->local_accession.empty() || r->sender_accession.empty() == (specific == 1)) continue;
      if (chosen && chosen->local_accession != r->local_accession)
        throw Quarantine{fmt::format(
            "table {} is ambiguous for the accession number {} of {}: {} {} maps it to {}, {} {} "
            "to {}",
            t.shown, shown(key.accession), key.id_text(), unit, chosen->line,
            chosen->local_accession, unit, r->line, r->local_accession)};
      chosen = r;
    }
    if (chosen) c.accession = chosen->local_accession;
  }
  return c;
}

// One C-FIND response that carries the national identifier.
struct Match {
  PatientKey key;
};

std::vector<Match> query(const Find& f, const std::string& national_issuer,
                         const std::string& national_id, const PatientKey& key) {
  const char* sop = f.model == Model::patient ? UID_FINDPatientRootQueryRetrieveInformationModel
                    : f.model == Model::study ? UID_FINDStudyRootQueryRetrieveInformationModel
                                              : UID_FINDModalityWorklistInformationModel;
  Association assoc(f.peer, f.net, {Context{sop, uncompressed_syntaxes()}});
  const T_ASC_PresentationContextID pc = assoc.accepted(sop);
  if (pc == 0)
    throw Error(Exit::pacs_rejected, fmt::format("{}: does not accept C-FIND ({})",
                                                 f.peer.to_string(), dcmFindNameOfUID(sop, sop)));
  DcmDataset q;
  if (f.model == Model::patient) q.putAndInsertString(DCM_QueryRetrieveLevel, "PATIENT");
  if (f.model == Model::study) q.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
  q.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
  q.putAndInsertString(DCM_PatientName, "");
  q.putAndInsertString(DCM_PatientID, "");
  q.putAndInsertString(DCM_IssuerOfPatientID, "");
  q.putAndInsertString(DCM_PatientBirthDate, f.narrow_by_birth_date ? key.birth_date.c_str() : "");
  q.putAndInsertString(DCM_PatientSex, "");
  if (f.model != Model::patient) q.putAndInsertString(DCM_AccessionNumber, "");
  if (f.model == Model::study) q.putAndInsertString(DCM_StudyInstanceUID, "");
  DcmItem* item = nullptr;
  q.findOrCreateSequenceItem(DCM_OtherPatientIDsSequence, item, 0);
  if (item) {
    item->putAndInsertString(DCM_PatientID, national_id.c_str());
    item->putAndInsertString(DCM_IssuerOfPatientID, national_issuer.c_str());
  }
  if (f.model == Model::worklist) {
    DcmItem* sps = nullptr;
    q.findOrCreateSequenceItem(DCM_ScheduledProcedureStepSequence, sps, 0);
    if (sps) sps->putAndInsertString(DCM_Modality, "");
  }
  std::vector<Match> matches;
  std::size_t responses = 0;
  const std::uint16_t status = assoc.find(pc, q, [&](DcmDataset& r) {
    if (++responses > f.max_matches) return;
    PatientKey k = patient_key(r);
    // The SCP may ignore matching on the sequence (Orthanc does) and answer
    // with every patient: only records that carry the identifier count.
    const auto ids = k.ids_issued_by(national_issuer);
    const bool carries = std::find(ids.begin(), ids.end(), national_id) != ids.end() ||
                         (k.patient_id == national_id && k.issuer == national_issuer);
    if (carries) matches.push_back({std::move(k)});
  });
  assoc.release();
  if (!status_success(status))
    throw Error(Exit::pacs_rejected,
                fmt::format("{}: C-FIND for {} {} failed: {}", f.peer.to_string(), national_issuer,
                            national_id, status_text(status)));
  if (responses > f.max_matches)
    throw Quarantine{fmt::format(
        "{} answered more than {} records to the C-FIND for {} {} (find.max_matches): too many to "
        "trust (the PACS may ignore matching on Other Patient IDs Sequence; try "
        "find.narrow_by_birth_date)",
        f.peer.to_string(), f.max_matches, national_issuer, national_id)};
  return matches;
}

std::optional<Candidate> from_find(const Find& f, const Reconciler::Rules& rules,
                                   const PatientKey& key, std::string& note) {
  const auto national = key.ids_issued_by(rules.national_issuer);
  if (national.empty()) {
    note = fmt::format("no {} identifier in Other Patient IDs Sequence to look up",
                       rules.national_issuer);
    return std::nullopt;
  }
  const std::string& nid = national.front();
  const std::string where = fmt::format("C-FIND {} ({})", f.peer.to_string(),
                                        f.model == Model::patient ? "patient"
                                        : f.model == Model::study ? "study"
                                                                  : "worklist");
  std::vector<Match> matches = query(f, rules.national_issuer, nid, key);
  if (matches.empty()) {
    note = fmt::format("{} found no local patient with {} {}", where, rules.national_issuer, nid);
    return std::nullopt;
  }
  const auto issuer_of = [&](const PatientKey& k) {
    return k.issuer.empty() ? rules.local_issuer : k.issuer;
  };
  const PatientKey& first = matches.front().key;
  for (const Match& m : matches) {
    if (!plain_id(m.key.patient_id))
      throw Quarantine{
          fmt::format("{}: the local record with {} {} has no usable Patient ID ('{}')", where,
                      rules.national_issuer, nid, m.key.patient_id)};
    if (m.key.patient_id != first.patient_id || issuer_of(m.key) != issuer_of(first))
      throw Quarantine{fmt::format("{}: {} {} belongs to more than one local patient: {} and {}",
                                   where, rules.national_issuer, nid,
                                   with_issuer(first.patient_id, issuer_of(first)),
                                   with_issuer(m.key.patient_id, issuer_of(m.key)))};
  }
  // The local record must be the same person by name, birth date and sex.
  for (const Match& m : matches) {
    const std::string local = fmt::format("local patient {} ({}, born {})",
                                          with_issuer(m.key.patient_id, issuer_of(m.key)),
                                          shown(m.key.name), shown(m.key.birth_date));
    const std::string theirs =
        fmt::format("the study's patient is {}, born {}", shown(key.name), shown(key.birth_date));
    const std::string nd = name_difference(key.name, m.key.name);
    if (!nd.empty())
      throw Quarantine{fmt::format("{}: {} {} is {}, but {}: {}", where, rules.national_issuer, nid,
                                   local, theirs, nd)};
    if (key.birth_date.empty() || m.key.birth_date.empty())
      throw Quarantine{fmt::format("{}: {} {} is {}, but {}: a birth date is missing", where,
                                   rules.national_issuer, nid, local, theirs)};
    if (key.birth_date != m.key.birth_date)
      throw Quarantine{fmt::format("{}: {} {} is {}, but {}: birth date differs", where,
                                   rules.national_issuer, nid, local, theirs)};
    const auto known = [](const std::string& s) { return s == "M" || s == "F"; };
    if (known(key.sex) && known(m.key.sex) && key.sex != m.key.sex)
      throw Quarantine{
          fmt::format("{}: {} {} is {} of sex {}, but the study's patient is of sex {}", where,
                      rules.national_issuer, nid, local, m.key.sex, key.sex)};
  }
  Candidate c{first.patient_id, issuer_of(first), std::nullopt,
              fmt::format("{} on {} {}", where, rules.national_issuer, nid)};
  if (f.model == Model::worklist) {
    std::set<std::string> acc;
    for (const Match& m : matches)
      if (!m.key.accession.empty()) acc.insert(m.key.accession);
    if (acc.size() > 1 && rules.coerce_accession)
      throw Quarantine{
          fmt::format("{}: {} {} has {} scheduled orders ({}): which accession number "
                      "is this study's is not known",
                      where, rules.national_issuer, nid, acc.size(), fmt::join(acc, ", "))};
    if (acc.size() == 1) c.accession = *acc.begin();
  }
  return c;
}

}  // namespace

Decision Reconciler::decide(const std::vector<PatientKey>& instances) {
  std::string why;
  const auto key = study_key(instances, &why);
  if (key) return decide(*key);
  Decision d;
  if (!instances.empty()) d.sender = instances.front();
  d.modified_at = now_dt();
  d.modifying_system = rules_->modifying_system;
  d.action = Decision::Action::quarantine;
  d.reason = why;
  return d;
}

Decision Reconciler::decide(const PatientKey& key) {
  const Rules& r = *rules_;
  Decision d;
  d.sender = key;
  d.modified_at = now_dt();
  d.modifying_system = r.modifying_system;
  d.source = key.issuer;
  if (rules_->table && table_changed(*rules_->table)) load_table(*rules_->table);
  try {
    if (key.patient_id.empty()) throw Quarantine{"the study has no Patient ID"};
    std::vector<std::string> notes;
    if (!r.national_issuer.empty()) {
      const auto national = key.ids_issued_by(r.national_issuer);
      if (national.size() > 1)
        throw Quarantine{fmt::format("the study carries {} different {} identifiers: {}",
                                     national.size(), r.national_issuer,
                                     fmt::join(national, ", "))};
      if (national.empty() && r.require_national_id)
        throw Quarantine{
            fmt::format("the study has no {} identifier (an Other Patient IDs "
                        "Sequence item with issuer {}), which the rules require",
                        r.national_issuer, r.national_issuer)};
    }
    std::vector<Candidate> candidates;
    std::string note;
    if (rules_->table) {
      if (auto c = from_table(*rules_->table, r.local_issuer, r.coerce_accession, key, note))
        candidates.push_back(*c);
      else
        notes.push_back(note);
    }
    if (r.find) {
      if (auto c = from_find(*r.find, r, key, note))
        candidates.push_back(*c);
      else
        notes.push_back(note);
    }
    if (std::find(r.keep_issuers.begin(), r.keep_issuers.end(), key.issuer) != r.keep_issuers.end())
      candidates.push_back({key.patient_id, key.issuer, std::nullopt,
                            fmt::format("keep_issuers: issuer {} is local", key.issuer)});
    if (candidates.empty())
      throw Quarantine{fmt::format("no rule matched: {}", fmt::join(notes, "; "))};
    const Candidate& c = candidates.front();
    for (const Candidate& o : candidates)
      if (o.id != c.id || o.issuer != c.issuer)
        throw Quarantine{fmt::format("the rules disagree: {} says {}, {} says {}", c.rule,
                                     with_issuer(c.id, c.issuer), o.rule,
                                     with_issuer(o.id, o.issuer))};
    std::vector<std::string> rules_used;
    std::optional<std::string> accession;
    const Candidate* accession_from = nullptr;
    for (const Candidate& o : candidates) {
      rules_used.push_back(o.rule);
      if (!r.coerce_accession || !o.accession) continue;
      if (accession && *accession != *o.accession)
        throw Quarantine{
            fmt::format("the rules disagree on the accession number: {} says {}, "
                        "{} says {}",
                        accession_from->rule, *accession, o.rule, *o.accession)};
      accession = o.accession;
      accession_from = &o;
    }
    d.patient_id = c.id;
    d.issuer = c.issuer;
    if (accession && *accession != key.accession) d.accession = accession;
    d.rule = fmt::format("{}", fmt::join(rules_used, "; "));
    d.action = d.patient_id == key.patient_id && d.issuer == key.issuer && !d.accession
                   ? Decision::Action::keep
                   : Decision::Action::coerce;
  } catch (const Quarantine& q) {
    d.action = Decision::Action::quarantine;
    d.reason = q.reason;
    d.patient_id.clear();
    d.issuer.clear();
    d.accession.reset();
  }
  return d;
}

// ---- Coercing ----------------------------------------------------------------

bool apply(DcmItem& ds, const Decision& d) {
  if (d.action == Decision::Action::quarantine)
    throw Error(Exit::internal,
                fmt::format("study {}: a quarantined study cannot be coerced", d.sender.study_uid));
  if (d.action == Decision::Action::keep) return false;
  struct Change {
    DcmTagKey tag;
    std::string value;
  };
  std::vector<Change> changes;
  const auto want = [&](const DcmTagKey& tag, const std::string& value) {
    OFString cur;
    const bool present = ds.tagExists(tag);
    if (present && ds.findAndGetOFStringArray(tag, cur).good() && trim(cur.c_str()) == value)
      return;
    changes.push_back({tag, value});
  };
  want(DCM_PatientID, d.patient_id);
  want(DCM_IssuerOfPatientID, d.issuer);
  if (d.accession) want(DCM_AccessionNumber, *d.accession);
  if (changes.empty()) return false;

  auto original = std::make_unique<DcmItem>();
  auto modified = std::make_unique<DcmItem>();
  for (const Change& c : changes) {
    DcmElement* e = nullptr;
    if (ds.findAndGetElement(c.tag, e).good() && e) {
      modified->insert(static_cast<DcmElement*>(e->clone()), OFTrue);
    } else {
      modified->insertEmptyElement(c.tag);
    }
  }
  auto seq = std::make_unique<DcmSequenceOfItems>(DCM_ModifiedAttributesSequence);
  seq->append(modified.release());
  original->insert(seq.release());
  original->putAndInsertString(DCM_AttributeModificationDateTime, d.modified_at.c_str());
  original->putAndInsertString(DCM_ModifyingSystem, d.modifying_system.c_str());
  original->putAndInsertString(DCM_SourceOfPreviousValues, d.source.c_str());
  original->putAndInsertString(DCM_ReasonForTheAttributeModification, "COERCE");

  DcmSequenceOfItems* oas = nullptr;
  if (ds.findAndGetSequence(DCM_OriginalAttributesSequence, oas).bad() || !oas) {
    auto fresh = std::make_unique<DcmSequenceOfItems>(DCM_OriginalAttributesSequence);
    oas = fresh.get();
    if (ds.insert(fresh.release(), OFTrue).bad())
      throw Error(Exit::internal, "cannot insert Original Attributes Sequence");
  }
  if (oas->append(original.release()).bad())
    throw Error(Exit::internal, "cannot append to Original Attributes Sequence");
  for (const Change& c : changes)
    if (ds.putAndInsertString(c.tag, c.value.c_str()).bad())
      throw Error(Exit::internal,
                  fmt::format("cannot set ({:04x},{:04x})", c.tag.getGroup(), c.tag.getElement()));
  return true;
}

// ---- Files -------------------------------------------------------------------

PatientKey read_patient_key(const fs::path& file) {
  return patient_key(dicom::File::read(file));
}

PatientKey patient_key(const dicom::File& f) {
  DcmDataset ds;
  const auto put = [&](DcmItem& into, const dicom::Item& from, std::uint32_t tag) {
    const dicom::Element* e = from.find(tag);
    if (!e || e->is_sequence()) return;
    const std::string v = f.bytes(*e, 1024);
    into.putAndInsertString(DcmTagKey(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag)),
                            v.c_str());
  };
  for (std::uint32_t tag : {0x00080005u, 0x00080050u, 0x00100010u, 0x00100020u, 0x00100021u,
                            0x00100030u, 0x00100040u, 0x0020000Du})
    put(ds, f.data, tag);
  if (const dicom::Element* seq = f.data.find(0x00101002u); seq && seq->is_sequence()) {
    for (std::size_t i = 0; i < seq->items.size() && i < 64; ++i) {
      DcmItem* item = nullptr;
      ds.findOrCreateSequenceItem(DCM_OtherPatientIDsSequence, item, -2);
      if (!item) break;
      put(*item, seq->items[i], 0x00100020u);
      put(*item, seq->items[i], 0x00100021u);
    }
  }
  return patient_key(ds);
}

void apply_to_file(const fs::path& in, const fs::path& out, const Decision& decision) {
  DcmFileFormat ff;
  OFCondition c = ff.loadFile(in.c_str(), EXS_Unknown, EGL_noChange, 64 * 1024);
  if (c.bad()) throw Error(Exit::invalid_dicom, fmt::format("{}: {}", in.string(), c.text()));
  DcmDataset* ds = ff.getDataset();
  ds->loadAllDataIntoMemory();
  apply(*ds, decision);
  AtomicFile file(out);
  const E_TransferSyntax xfer = ds->getOriginalXfer();
  c = ff.saveFile(file.temp_path().c_str(), xfer == EXS_Unknown ? EXS_LittleEndianExplicit : xfer);
  if (c.bad()) throw Error(Exit::output, fmt::format("{}: {}", out.string(), c.text()));
  file.commit();
}

// ---- Quarantine --------------------------------------------------------------

fs::path quarantine(const fs::path& dir, Source& package, const std::string& package_name,
                    const Decision& decision) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir))
    throw Error(Exit::output, fmt::format("{}: cannot create the quarantine folder: {}",
                                          dir.string(), ec ? ec.message() : "not a folder"));
  // The study UID comes from outside: only a well-formed one names a folder.
  const std::string uid =
      dicom::valid_uid(decision.sender.study_uid) ? decision.sender.study_uid : "no-study-uid";
  // The first bytes tell a zstd stream from a tar, for the default name.
  Bytes head(65536);
  head.resize(read_full(package, head));
  const bool zstd =
      head.size() >= 4 && head[0] == 0x28 && head[1] == 0xB5 && head[2] == 0x2F && head[3] == 0xFD;
  std::string file_name = fs::path(package_name).filename().string();
  if (file_name.empty() || file_name == "." || file_name == ".." || file_name == "-" ||
      file_name.rfind("report.", 0) == 0)
    file_name = zstd ? "package.tar.zst" : "package.tar";
  else if (!zstd && file_name.size() > 8 && file_name.ends_with(".tar.zst"))
    file_name.resize(file_name.size() - 4);  // given out decompressed
  const std::string base = now_compact() + "-" + uid;
  for (int n = 1; n <= 1000; ++n) {
    fs::path dest = dir / (n == 1 ? base : fmt::format("{}-{}", base, n));
    if (fs::exists(fs::symlink_status(dest))) continue;
    StagedFolder folder(dest);
    const auto write_all = [&](const UniqueFd& fd, ByteSpan data, const std::string& what) {
      FdSink sink(fd.get(), (dest / what).string());
      sink.write(data);
    };
    {
      UniqueFd fd = folder.create_file(file_name, 0600);
      FdSink sink(fd.get(), (dest / file_name).string());
      sink.write(head);
      copy(package, sink);
      if (::fsync(fd.get()) != 0)
        throw Error(Exit::output, (dest / file_name).string() + ": " + std::strerror(errno));
    }
    const std::string report = decision.to_json() + "\n";
    write_all(folder.create_file("report.json", 0600),
              ByteSpan(reinterpret_cast<const std::uint8_t*>(report.data()), report.size()),
              "report.json");
    const std::string line = decision.summary() + "\n";
    write_all(folder.create_file("report.txt", 0600),
              ByteSpan(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()),
              "report.txt");
    folder.commit();
    return dest;
  }
  throw Error(Exit::output,
              fmt::format("{}: too many quarantine folders named {}", dir.string(), base));
}

}  // namespace iep::pacs
