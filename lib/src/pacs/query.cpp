#include "iep/pacs/query.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <fmt/format.h>

#include <cctype>
#include <ctime>
#include <set>

#include "iep/core/error.h"
#include "iep/dicom/dicom.h"
#include "pacs/association.h"

namespace iep::pacs {

const std::vector<std::string>& query_keywords() {
  static const std::vector<std::string> k = {"PatientID",       "PatientName",
                                             "AccessionNumber", "StudyInstanceUID",
                                             "StudyDate",       "ModalitiesInStudy"};
  return k;
}

namespace {

std::string local_date(int days_back) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  tm.tm_mday -= days_back;
  tm.tm_hour = 12;  // away from daylight saving edges
  tm.tm_isdst = -1;
  std::mktime(&tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
  return buf;
}

// YYYYMMDD that names a real day.
bool valid_date(const std::string& d) {
  if (d.size() != 8) return false;
  for (char c : d)
    if (c < '0' || c > '9') return false;
  const int y = std::stoi(d.substr(0, 4)), m = std::stoi(d.substr(4, 2)),
            day = std::stoi(d.substr(6, 2));
  if (y < 1800 || m < 1 || m > 12 || day < 1) return false;
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int max = days[m - 1];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) max = 29;
  return day <= max;
}

bool printable(const std::string& v, bool allow_backslash) {
  for (unsigned char c : v)
    if (c < 0x20 || c > 0x7e || (c == '\\' && !allow_backslash)) return false;
  return true;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

}  // namespace

void StudyQuery::add(const std::string& text, const char* flag, const std::string& today_in) {
  const auto eq = text.find('=');
  const auto bad = [&](const std::string& why) {
    return Error(Exit::usage, fmt::format("{} '{}': {}", flag, text, why));
  };
  if (eq == std::string::npos || eq == 0) throw bad("expected KEY=VALUE");
  const std::string key = text.substr(0, eq);
  std::string value = text.substr(eq + 1);
  const auto& allowed = query_keywords();
  if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
    std::string list;
    for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
    throw bad(fmt::format("unknown key '{}' (allowed: {})", key, list));
  }
  for (const auto& k : keys_)
    if (k.keyword == key) throw bad(fmt::format("{} given twice", key));
  if (value.empty()) throw bad("empty value");
  if (value.size() > 1024) throw bad("value longer than 1024 characters");
  const bool list = key == "StudyInstanceUID" || key == "ModalitiesInStudy";
  if (!printable(value, list))
    throw bad(list ? "only printable ASCII characters"
                   : "only printable ASCII characters without backslash");
  if (key == "PatientID" || key == "PatientName") {
    if (value.size() > 64) throw bad("longer than 64 characters");
  } else if (key == "AccessionNumber") {
    if (value.size() > 16) throw bad("longer than 16 characters");
  } else if (key == "StudyInstanceUID") {
    for (const auto& uid : split(value, '\\'))
      if (!dicom::usable_uid(uid) || uid.find_first_not_of("0123456789.") != std::string::npos)
        throw bad(fmt::format("'{}' is not a UID (digits and dots, up to 64)", uid));
  } else if (key == "ModalitiesInStudy") {
    for (const auto& m : split(value, '\\'))
      if (m.empty() || m.size() > 16 ||
          m.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != std::string::npos)
        throw bad(fmt::format("'{}' is not a modality (upper-case letters, digits, _)", m));
  } else if (key == "StudyDate") {
    std::string today = today_in.empty() ? local_date(0) : today_in;
    const auto word = [&](const std::string& d) -> std::string {
      if (d == "today") return today;
      if (d == "yesterday") {
        if (!today_in.empty()) {
          std::tm tm{};
          tm.tm_year = std::stoi(today.substr(0, 4)) - 1900;
          tm.tm_mon = std::stoi(today.substr(4, 2)) - 1;
          tm.tm_mday = std::stoi(today.substr(6, 2)) - 1;
          tm.tm_hour = 12;
          tm.tm_isdst = -1;
          std::mktime(&tm);
          char buf[16];
          std::strftime(buf, sizeof buf, "%Y%m%d", &tm);
          return buf;
        }
        return local_date(1);
      }
      return d;
    };
    const auto dash = value.find('-');
    if (dash == std::string::npos) {
      value = word(value);
      if (!valid_date(value))
        throw bad(
            "expected YYYYMMDD, a range FROM-TO (either end may be left out), today or "
            "yesterday");
    } else {
      if (value.find('-', dash + 1) != std::string::npos) throw bad("more than one '-'");
      std::string from = word(value.substr(0, dash)), to = word(value.substr(dash + 1));
      if (from.empty() && to.empty()) throw bad("a range needs at least one date");
      for (const auto& d : {from, to})
        if (!d.empty() && !valid_date(d))
          throw bad(fmt::format("'{}' is not a date (YYYYMMDD, today, yesterday)", d));
      if (!from.empty() && !to.empty() && from > to)
        throw bad(fmt::format("the range ends ({}) before it starts ({})", to, from));
      value = from + "-" + to;
    }
  }
  keys_.push_back({key, value});
}

std::string StudyQuery::to_string() const {
  std::string s;
  for (const auto& k : keys_) s += (s.empty() ? "" : " ") + k.keyword + "=" + k.value;
  return s;
}

namespace {

DcmTagKey tag_of(const std::string& keyword) {
  if (keyword == "PatientID") return DCM_PatientID;
  if (keyword == "PatientName") return DCM_PatientName;
  if (keyword == "AccessionNumber") return DCM_AccessionNumber;
  if (keyword == "StudyInstanceUID") return DCM_StudyInstanceUID;
  if (keyword == "StudyDate") return DCM_StudyDate;
  return DCM_ModalitiesInStudy;
}

std::string text(DcmDataset& ds, const DcmTagKey& tag) {
  OFString v;
  if (ds.findAndGetOFStringArray(tag, v).bad()) return {};
  std::string s = v.c_str();
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  if (s.size() > 1024) s.resize(1024);
  return s;
}

// DICOM wildcard matching (PS3.4 C.2.2.2.4): * any run, ? one character.
bool wildcard(const std::string& pattern, const std::string& value, bool fold) {
  const auto eq = [fold](char a, char b) {
    return fold ? std::tolower(static_cast<unsigned char>(a)) ==
                      std::tolower(static_cast<unsigned char>(b))
                : a == b;
  };
  std::size_t p = 0, v = 0, star = std::string::npos, mark = 0;
  while (v < value.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || eq(pattern[p], value[v]))) {
      ++p;
      ++v;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = v;
    } else if (star != std::string::npos) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// Whether a match's returned value satisfies a query key. Some PACS ignore
// keys they cannot match on (dcmqrscp and ModalitiesInStudy) and return
// every study: iep checks each match itself rather than pull what nobody
// asked for. Empty: the PACS returned no value to check.
std::optional<bool> satisfies(const QueryKey& k, const std::string& got) {
  if (k.value.find_first_not_of('*') == std::string::npos) return true;  // universal
  if (got.empty()) return std::nullopt;
  if (k.keyword == "StudyInstanceUID") {
    for (const auto& u : split(k.value, '\\'))
      if (u == got) return true;
    return false;
  }
  if (k.keyword == "ModalitiesInStudy") {
    for (const auto& want : split(k.value, '\\'))
      for (const auto& have : split(got, '\\'))
        if (want == have) return true;
    return false;
  }
  if (k.keyword == "StudyDate") {
    const std::string d = got.substr(0, 8);
    const auto dash = k.value.find('-');
    if (dash == std::string::npos) return d == k.value;
    const std::string from = k.value.substr(0, dash), to = k.value.substr(dash + 1);
    return (from.empty() || d >= from) && (to.empty() || d <= to);
  }
  return wildcard(k.value, got, k.keyword == "PatientName");
}

}  // namespace

std::vector<FoundStudy> find_studies(const Peer& peer, const NetOptions& options,
                                     const StudyQuery& query) {
  const std::string model = UID_FINDStudyRootQueryRetrieveInformationModel;
  Association assoc(peer, options, {{model, uncompressed_syntaxes()}});
  const auto id = assoc.accepted(model);
  if (id == 0)
    throw Error(Exit::pacs_rejected,
                fmt::format("{}: the peer does not accept study root C-FIND", peer.to_string()));
  DcmDataset q;
  q.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
  for (const DcmTagKey& t :
       {DCM_StudyInstanceUID, DCM_PatientID, DCM_PatientName, DCM_AccessionNumber, DCM_StudyDate,
        DCM_ModalitiesInStudy, DCM_StudyDescription, DCM_NumberOfStudyRelatedInstances})
    q.insertEmptyElement(t);
  for (const auto& k : query.keys()) q.putAndInsertString(tag_of(k.keyword), k.value.c_str());

  std::vector<FoundStudy> found;
  std::set<std::string> seen;
  std::size_t unusable = 0, ignored = 0;
  std::string unchecked;  // a key the PACS returned no value for
  bool too_many = false;
  const std::uint16_t status = assoc.find(id, q, [&](DcmDataset& r) {
    FoundStudy s;
    s.study_uid = text(r, DCM_StudyInstanceUID);
    if (!dicom::usable_uid(s.study_uid)) {
      ++unusable;
      return;
    }
    for (const auto& k : query.keys()) {
      const auto ok = satisfies(k, text(r, tag_of(k.keyword)));
      if (!ok) {
        unchecked = k.keyword;
        return;
      }
      if (!*ok) {
        ++ignored;
        return;
      }
    }
    if (!seen.insert(s.study_uid).second) return;
    if (found.size() >= kMaxStudies) {
      too_many = true;
      return;
    }
    s.patient_id = text(r, DCM_PatientID);
    s.patient_name = text(r, DCM_PatientName);
    s.accession_number = text(r, DCM_AccessionNumber);
    s.study_date = text(r, DCM_StudyDate);
    s.modalities = text(r, DCM_ModalitiesInStudy);
    s.description = text(r, DCM_StudyDescription);
    const std::string n = text(r, DCM_NumberOfStudyRelatedInstances);
    if (!n.empty() && n.size() <= 9 && n.find_first_not_of("0123456789 +") == std::string::npos)
      s.instances = static_cast<std::uint32_t>(std::stoul(n));
    found.push_back(std::move(s));
  });
  assoc.release();
  if (!status_success(status) && !status_warning(status))
    throw Error(Exit::pacs_rejected, fmt::format("{}: C-FIND {} refused: {}", peer.to_string(),
                                                 query.to_string(), status_text(status)));
  if (!unchecked.empty())
    throw Error(Exit::pacs_rejected,
                fmt::format("{}: the PACS returns no {} with its matches, so iep cannot check that "
                            "they match {} (it may not support matching on {}); query by other "
                            "keys",
                            peer.to_string(), unchecked, query.to_string(), unchecked));
  (void)ignored;
  if (too_many)
    throw Error(Exit::instances_failed,
                fmt::format("{}: more than {} studies match {}; narrow the query", peer.to_string(),
                            kMaxStudies, query.to_string()));
  if (unusable > 0)
    throw Error(Exit::instances_failed,
                fmt::format("{}: {} of the studies matching {} came without a usable Study "
                            "Instance UID, so they cannot be retrieved",
                            peer.to_string(), unusable, query.to_string()));
  return found;
}

}  // namespace iep::pacs
