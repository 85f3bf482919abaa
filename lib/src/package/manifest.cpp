#include "iep/package/manifest.h"

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "core/util.h"
#include "iep/core/error.h"
#include "iep/package/tar.h"

namespace iep {
using nlohmann::json;

namespace {

constexpr std::size_t kMaxFiles = 1'000'000;
constexpr std::size_t kMaxModality = 64;

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
    if (f.attachment && !f.report.empty()) j["report"] = f.report;
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

namespace {

// Bounds of the JSON parser, for signed input too: a manifest is at most
// 64 MiB, and whatever its shape, parsing it takes time in proportion to
// its size and keeps in memory only what Manifest holds.
constexpr std::size_t kMaxDepth = 8;        // the format needs 3
constexpr std::size_t kMaxMembers = 64;     // per object; a file entry has 10
constexpr std::size_t kMaxElements = 1024;  // per array other than "files"
constexpr std::size_t kMaxNodes = 16 * kMaxFiles;
constexpr std::size_t kMaxString = 4096;  // the longest field is a path
constexpr std::size_t kMaxKey = 64;

bool known_top_key(std::string_view k) {
  return k == "format" || k == "package_id" || k == "created" || k == "sender" ||
         k == "recipients" || k == "study" || k == "files";
}

// Builds the top-level object of a manifest while parsing (SAX), within the
// bounds above. Unknown top-level members are checked but not kept; each
// entry of "files" is handed to `on_file` as soon as it is complete and then
// dropped. Duplicate keys in any object are refused.
class ManifestSax : public nlohmann::json_sax<json> {
 public:
  ManifestSax(const Reader& r, std::function<void(const json&)> on_file)
      : r_(r), on_file_(std::move(on_file)) {}
  json root;

  bool null() override { return scalar(nullptr); }
  bool boolean(bool v) override { return scalar(v); }
  bool number_integer(number_integer_t v) override { return scalar(v); }
  bool number_unsigned(number_unsigned_t v) override { return scalar(v); }
  bool number_float(number_float_t v, const string_t&) override { return scalar(v); }
  bool string(string_t& v) override {
    if (v.size() > kMaxString)
      r_.fail("a string longer than " + std::to_string(kMaxString) + " bytes");
    return scalar(std::move(v));
  }
  bool binary(binary_t&) override { r_.fail("binary value"); }
  bool start_object(std::size_t) override {
    json* slot = place();
    if (in_files()) {
      entry_ = json::object();
      slot = &entry_;
    } else if (slot != nullptr) {
      *slot = json::object();
    }
    push(slot, true, false);
    return true;
  }
  bool key(string_t& k) override {
    Frame& f = stack_.back();
    if (k.size() > kMaxKey) r_.fail("a key longer than " + std::to_string(kMaxKey) + " bytes");
    if (std::find(f.keys.begin(), f.keys.end(), k) != f.keys.end())
      r_.fail("key '" + k + "' given twice in one object");
    if (f.keys.size() >= kMaxMembers)
      r_.fail("an object of more than " + std::to_string(kMaxMembers) + " members");
    f.keys.push_back(k);
    key_ = std::move(k);
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    if (in_files()) {
      on_file_(entry_);
      entry_ = json();
    }
    return true;
  }
  bool start_array(std::size_t) override {
    bool files = stack_.size() == 1 && key_ == "files";
    json* slot = place();
    if (in_files()) r_.fail("'files' holds a non-object");
    if (slot != nullptr) *slot = json::array();
    push(files ? nullptr : slot, false, files);
    return true;
  }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    r_.fail(std::string("not valid JSON (") + e.what() + ")");
  }

 private:
  struct Frame {
    json* target;  // where members go; nullptr: checked, not kept
    bool object;
    bool files;  // the top-level "files" list
    std::size_t count = 0;
    std::vector<std::string> keys;  // an object's, to refuse duplicates
  };

  // Whether the innermost open container is the "files" list.
  [[nodiscard]] bool in_files() const { return !stack_.empty() && stack_.back().files; }

  void push(json* target, bool object, bool files) {
    if (stack_.size() >= kMaxDepth)
      r_.fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    stack_.push_back(Frame{target, object, files, 0, {}});
  }

  // Counts a new value and returns where it is kept, if it is.
  json* place() {
    if (++nodes_ > kMaxNodes) r_.fail("more than " + std::to_string(kMaxNodes) + " values");
    if (stack_.empty()) {
      if (seen_root_) r_.fail("more than one value");
      seen_root_ = true;
      return &root;
    }
    Frame& f = stack_.back();
    ++f.count;
    if (f.files) {
      if (f.count > kMaxFiles) r_.fail("more than " + std::to_string(kMaxFiles) + " files");
      return nullptr;
    }
    if (!f.object && f.count > kMaxElements)
      r_.fail("a list of more than " + std::to_string(kMaxElements) + " values");
    if (f.target == nullptr) return nullptr;
    if (f.object) {
      if (stack_.size() == 1 && !known_top_key(key_)) return nullptr;
      return &(*f.target)[key_];
    }
    f.target->push_back(nullptr);
    return &f.target->back();
  }

  template <class T>
  bool scalar(T&& v) {
    json* slot = place();
    if (in_files()) r_.fail("'files' holds a non-object");
    if (slot != nullptr) *slot = std::forward<T>(v);
    return true;
  }

  const Reader& r_;
  std::function<void(const json&)> on_file_;
  std::vector<Frame> stack_;
  json entry_;
  std::string key_;
  std::size_t nodes_ = 0;
  bool seen_root_ = false;
};

bool digits(std::string_view s, std::size_t at, std::size_t n, int lo, int hi) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  return v >= lo && v <= hi;
}

}  // namespace

bool valid_rfc3339(std::string_view s) {
  // 2026-12-02T05:28:29[.fraction](Z|+hh:mm|-hh:mm)
  if (s.size() < 20 || s.size() > 64) return false;
  if (!digits(s, 0, 4, 0, 9999) || s[4] != '-' || !digits(s, 5, 2, 1, 12) || s[7] != '-' ||
      !digits(s, 8, 2, 1, 31) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, 0, 23) ||
      s[13] != ':' || !digits(s, 14, 2, 0, 59) || s[16] != ':' || !digits(s, 17, 2, 0, 60))
    return false;
  std::size_t i = 19;
  if (s[i] == '.') {
    std::size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  std::string_view zone = s.substr(i);
  if (zone == "Z" || zone == "z") return true;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && digits(zone, 1, 2, 0, 23) &&
         zone[3] == ':' && digits(zone, 4, 2, 0, 59);
}

Manifest Manifest::parse(std::string_view text, const std::string& source,
                         std::size_t expected_files) {
  Reader r{source};
  Manifest m;
  m.files.reserve(std::min<std::size_t>(expected_files, kMaxFiles));
  // One file entry, checked and kept as a ManifestFile.
  auto file_entry = [&](const json& x) {
    ManifestFile f;
    f.path = r.str(x, "path", 4096);
    if (!tar::safe_path(f.path) || f.path.starts_with("MANIFEST"))
      r.fail("unsafe or reserved path '" + f.path + "'");
    f.size = r.num(x, "size");
    if (!util::unhex(r.str(x, "blake2b"), f.blake2b.data(), f.blake2b.size()))
      r.fail("malformed blake2b for '" + f.path + "'");
    std::string kind = r.str(x, "kind");
    if (kind != "dicom" && kind != "attachment") r.fail("unknown kind '" + kind + "'");
    f.attachment = kind == "attachment";
    if (x.contains("report")) {
      if (!f.attachment) r.fail("'" + f.path + "': a report must be an attachment");
      f.report = r.str(x, "report", 16);
      if (f.report != "pdf" && f.report != "text")
        r.fail("'" + f.path + "': unknown report kind '" + f.report + "'");
    }
    if (!f.attachment) {
      f.sop_class_uid = r.str(x, "sop_class_uid");
      f.sop_instance_uid = r.str(x, "sop_instance_uid");
      f.series_instance_uid = r.str(x, "series_instance_uid");
      f.transfer_syntax_uid = r.str(x, "transfer_syntax_uid");
      f.modality = r.str(x, "modality", kMaxModality);
    }
    m.files.push_back(std::move(f));
  };
  ManifestSax sax(r, file_entry);
  try {
    json::sax_parse(text.begin(), text.end(), &sax, json::input_format_t::json, /*strict=*/true,
                    /*ignore_comments=*/false);
  } catch (const json::exception& e) {
    r.fail(std::string("not valid JSON (") + e.what() + ")");
  }
  const json& j = sax.root;
  if (!j.is_object()) r.fail("not a JSON object");
  if (r.str(j, "format") != kFormat) r.fail("unknown format (expected iep-package/1)");
  m.package_id = r.str(j, "package_id");
  std::array<std::uint8_t, 16> id{};
  if (!util::unhex(m.package_id, id.data(), id.size())) r.fail("malformed package_id");
  m.created = r.str(j, "created", 64);
  if (!valid_rfc3339(m.created)) r.fail("'created' is not an RFC 3339 time");
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
    if (x.get_ref<const std::string&>().size() > kMaxModality)
      r.fail("'modalities' holds a string longer than " + std::to_string(kMaxModality) + " bytes");
    m.study.modalities.push_back(x.get<std::string>());
  }
  m.study.series = r.num(st, "series");
  m.study.instances = r.num(st, "instances");
  m.study.bytes = r.num(st, "bytes");
  // The entries were taken out as they were parsed; the (now empty) list
  // must still be there and be a list.
  if (!r.field(j, "files").is_array()) r.fail("'files' is not a list");
  // No path twice, and no entry a folder of another ("a" and "a/b"):
  // unpacked, one would have to be both a file and a folder. Checked on
  // the paths sorted, without a second copy of them.
  std::vector<std::string_view> paths(m.files.size());
  std::transform(m.files.begin(), m.files.end(), paths.begin(),
                 [](const ManifestFile& f) { return std::string_view(f.path); });
  std::sort(paths.begin(), paths.end());
  if (auto twice = std::adjacent_find(paths.begin(), paths.end()); twice != paths.end())
    r.fail("path '" + std::string(*twice) + "' listed twice");
  auto listed = [&](std::string_view p) {
    return std::binary_search(paths.begin(), paths.end(), p);
  };
  for (const auto& f : m.files)
    for (auto slash = f.path.find('/'); slash != std::string::npos;
         slash = f.path.find('/', slash + 1))
      if (listed(std::string_view(f.path).substr(0, slash)))
        r.fail("'" + std::string(f.path, 0, slash) + "' is both a file and the folder of '" +
               f.path + "'");
  return m;
}

}  // namespace iep
