#include "iep/package/manifest.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "iep/core/error.h"
#include "iep/package/tar.h"
#include "core/util.h"

namespace iep {
using nlohmann::json;

namespace {

constexpr std::size_t kMaxFiles = 1'000'000;

json site_json(const ManifestSite& s, bool with_key) {
  json j = {{"site", s.site}, {"age_recipient", s.age_recipient}};
  if (with_key) j["signing_key"] = s.signing_key;
  return j;
}

// Typed accessors that turn any shape error into one message.
struct Reader {
  const std::string& source;
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(Exit::corrupt, source + ": manifest: " + what);
  }
  const json& field(const json& obj, const char* key) const {
    if (!obj.is_object()) fail(std::string("expected an object holding '") + key + "'");
    auto it = obj.find(key);
    if (it == obj.end()) fail(std::string("missing '") + key + "'");
    return *it;
  }
  std::string str(const json& obj, const char* key, std::size_t max = 1024) const {
    const json& v = field(obj, key);
    if (!v.is_string()) fail(std::string("'") + key + "' is not a string");
    auto s = v.get<std::string>();
    if (s.size() > max) fail(std::string("'") + key + "' is too long");
    return s;
  }
  std::string opt_str(const json& obj, const char* key) const {
    return obj.contains(key) ? str(obj, key) : std::string();
  }
  std::uint64_t num(const json& obj, const char* key) const {
    const json& v = field(obj, key);
    if (!v.is_number_unsigned()) fail(std::string("'") + key + "' is not a non-negative integer");
    return v.get<std::uint64_t>();
  }
  ManifestSite site(const json& j, bool with_key) const {
    ManifestSite s{str(j, "site", 64), str(j, "age_recipient", 128), {}};
    if (with_key) s.signing_key = str(j, "signing_key", 128);
    return s;
  }
};

}  // namespace

std::string new_package_id() {
  util::sodium_ready();
  std::array<std::uint8_t, 16> id{};
  randombytes_buf(id.data(), id.size());
  return util::hex(id);
}

void Manifest::summarise() {
  std::set<std::string> series, modalities;
  study.instances = study.bytes = 0;
  for (const auto& f : files) {
    if (f.attachment) continue;
    ++study.instances;
    study.bytes += f.size;
    series.insert(f.series_instance_uid);
    if (!f.modality.empty()) modalities.insert(f.modality);
  }
  study.series = series.size();
  study.modalities.assign(modalities.begin(), modalities.end());
}

void Manifest::write_json(const std::function<void(std::string_view)>& emit) const {
  json recipients_j = json::array();
  for (const auto& r : recipients) recipients_j.push_back(site_json(r, false));
  json head = {
      {"format", kFormat},
      {"package_id", package_id},
      {"created", created},
      {"sender", site_json(sender, true)},
      {"recipients", std::move(recipients_j)},
      {"study",
       {{"study_instance_uid", study.study_instance_uid},
        {"patient_name", study.patient_name},
        {"patient_id", study.patient_id},
        {"study_date", study.study_date},
        {"study_description", study.study_description},
        {"accession_number", study.accession_number},
        {"modalities", study.modalities},
        {"series", study.series},
        {"instances", study.instances},
        {"bytes", study.bytes}}},
  };
  // The file list follows, one compact line per file, so a manifest of many
  // thousand files never exists whole in memory.
  std::string text = head.dump(1);
  text.resize(text.size() - 2);  // drop "\n}"
  text += ",\n \"files\": [";
  emit(text);
  const char* sep = "\n  ";
  for (const auto& f : files) {
    json j = {{"path", f.path},
              {"size", f.size},
              {"blake2b", util::hex(f.blake2b)},
              {"kind", f.attachment ? "attachment" : "dicom"}};
    if (!f.attachment) {
      j["sop_class_uid"] = f.sop_class_uid;
      j["sop_instance_uid"] = f.sop_instance_uid;
      j["series_instance_uid"] = f.series_instance_uid;
      j["transfer_syntax_uid"] = f.transfer_syntax_uid;
      j["modality"] = f.modality;
    }
    text = sep;
    text += j.dump();
    emit(text);
    sep = ",\n  ";
  }
  emit("\n ]\n}\n");
}

std::string Manifest::to_json() const {
  std::string out;
  write_json([&out](std::string_view piece) { out += piece; });
  return out;
}

Manifest Manifest::parse(std::string_view text, const std::string& source) {
  Reader r{source};
  Manifest m;
  std::set<std::string> seen;
  // One file entry, checked and kept as a ManifestFile.
  auto file_entry = [&](const json& x) {
    if (m.files.size() >= kMaxFiles) r.fail("'files' is not a list");
    ManifestFile f;
    f.path = r.str(x, "path", 4096);
    if (!tar::safe_path(f.path) || f.path.starts_with("MANIFEST"))
      r.fail("unsafe or reserved path '" + f.path + "'");
    if (!seen.insert(f.path).second) r.fail("path '" + f.path + "' listed twice");
    f.size = r.num(x, "size");
    if (!util::unhex(r.str(x, "blake2b"), f.blake2b.data(), f.blake2b.size()))
      r.fail("malformed blake2b for '" + f.path + "'");
    std::string kind = r.str(x, "kind");
    if (kind != "dicom" && kind != "attachment") r.fail("unknown kind '" + kind + "'");
    f.attachment = kind == "attachment";
    if (!f.attachment) {
      f.sop_class_uid = r.str(x, "sop_class_uid");
      f.sop_instance_uid = r.str(x, "sop_instance_uid");
      f.series_instance_uid = r.str(x, "series_instance_uid");
      f.transfer_syntax_uid = r.str(x, "transfer_syntax_uid");
      f.modality = r.str(x, "modality");
    }
    m.files.push_back(std::move(f));
  };
  // The file entries are taken one by one as the parser completes them and
  // dropped from the JSON tree: a tree of 10,000 entries would take tens of
  // MB, the entries themselves a few.
  std::string top_key;
  bool files_seen = false;
  const json::parser_callback_t take_files = [&](int depth, json::parse_event_t event,
                                                 json& parsed) {
    if (event == json::parse_event_t::key && depth == 1) top_key = parsed.get<std::string>();
    if (top_key != "files") return true;
    if (event == json::parse_event_t::array_start && depth == 1) {
      if (files_seen) r.fail("'files' given twice");
      files_seen = true;
    }
    if (event == json::parse_event_t::object_end && depth == 2) {
      file_entry(parsed);
      return false;  // not kept in the tree
    }
    if ((event == json::parse_event_t::value || event == json::parse_event_t::array_end) &&
        depth == 2)
      r.fail("'files' holds a non-object");
    return true;
  };
  json j;
  try {
    j = json::parse(text.begin(), text.end(), take_files, /*allow_exceptions=*/true,
                    /*ignore_comments=*/false);
  } catch (const json::exception& e) {
    r.fail(std::string("not valid JSON (") + e.what() + ")");
  }
  if (r.str(j, "format") != kFormat) r.fail("unknown format (expected iep-package/1)");
  m.package_id = r.str(j, "package_id");
  std::array<std::uint8_t, 16> id{};
  if (!util::unhex(m.package_id, id.data(), id.size())) r.fail("malformed package_id");
  m.created = r.str(j, "created", 64);
  m.sender = r.site(r.field(j, "sender"), true);
  const json& rec = r.field(j, "recipients");
  if (!rec.is_array() || rec.size() > 1024)
    r.fail("'recipients' is not a list of at most 1024 sites");
  for (const auto& x : rec) m.recipients.push_back(r.site(x, false));
  const json& st = r.field(j, "study");
  m.study.study_instance_uid = r.str(st, "study_instance_uid");
  m.study.patient_name = r.str(st, "patient_name");
  m.study.patient_id = r.str(st, "patient_id");
  m.study.study_date = r.str(st, "study_date");
  m.study.study_description = r.str(st, "study_description");
  m.study.accession_number = r.str(st, "accession_number");
  const json& mods = r.field(st, "modalities");
  if (!mods.is_array() || mods.size() > 64) r.fail("'modalities' is not a short list");
  for (const auto& x : mods) {
    if (!x.is_string()) r.fail("'modalities' holds a non-string");
    m.study.modalities.push_back(x.get<std::string>());
  }
  m.study.series = r.num(st, "series");
  m.study.instances = r.num(st, "instances");
  m.study.bytes = r.num(st, "bytes");
  // The entries were taken out as they were parsed; the (now empty) list
  // must still be there and be a list.
  if (!r.field(j, "files").is_array()) r.fail("'files' is not a list");
  return m;
}

}  // namespace iep
