#include "iep/anon/anon_batch.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>
#include <thread>
#include <tuple>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/dicom/dicom.h"
#include "iep/dicom/dicom_stream.h"
#include "iep/dicom/dicomdir.h"
#include "iep/package/age.h"
#include "iep/package/package.h"
#include "iep/package/tar.h"

namespace iep::anon {
namespace fs = std::filesystem;

bool ReidEntry::operator<(const ReidEntry& o) const {
  return std::tie(original_patient_id, original_study_uid) <
         std::tie(o.original_patient_id, o.original_study_uid);
}

std::string BatchReport::to_json() const {
  nlohmann::json q = nlohmann::json::array();
  for (const auto& [file, reason] : quarantined) q.push_back({{"file", file}, {"reason", reason}});
  nlohmann::json nc = nlohmann::json::array();
  for (const auto& [file, tags] : nonconformant_uids)
    nc.push_back({{"file", file}, {"attributes", tags}});
  nlohmann::json j = {{"files", files},
                      {"written", written},
                      {"already_done", already_done},
                      {"pixels_cleaned", pixels_cleaned},
                      {"not_in_dicomdir", not_indexed},
                      {"studies", studies.size()},
                      {"quarantined", q},
                      {"nonconformant_uids", nc}};
  return j.dump(2) + "\n";
}

std::string BatchReport::summary() const {
  return std::to_string(files) + " files: " + std::to_string(written) + " de-identified, " +
         std::to_string(already_done) + " already done, " + std::to_string(quarantined.size()) +
         " quarantined; " + std::to_string(studies.size()) + " studies" +
         (pixels_cleaned ? "; pixels cleaned in " + std::to_string(pixels_cleaned) : "") +
         (not_indexed.empty() ? ""
                              : "; not in the DICOMDIR: " + std::to_string(not_indexed.size()));
}

namespace {

// The name an input gets in the output, known before it is processed so a
// re-run can tell what is done: new (or kept) UIDs of study, series, instance.
//
// From a CD (a DICOMDIR in the input) the output is a CD again, with
// DICOMDIR-conformant file IDs: DICOM/STUDY/SERIES/INSTANCE, each 8
// base32 characters of a digest of the new UID (40 bits: a collision
// inside one series of thousands is about one in a million, and is caught
// as a duplicate).
// A UID as a path component of the output: the new UID, or a kept one if
// it is well-formed (never ".."), else a keyed digest of it.
std::string uid_name(const Anonymiser& a, const std::string& u) {
  if (u.empty()) return "unknown";
  if (!a.options().profile.retain_uids) return a.uid(u);
  return dicom::valid_uid(u) ? u : "x" + a.uid(u).substr(5, 16);
}

fs::path output_name(const Anonymiser& a, const dicom::Info& info, bool cd) {
  auto uid = [&](const std::string& u) { return uid_name(a, u); };
  if (cd) {
    auto id = [&](const std::string& u) {
      static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
      std::array<unsigned char, 8> h{};
      const std::string v = uid(u);
      crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(v.data()),
                         v.size(), nullptr, 0);
      std::string out;
      for (unsigned char c : h) out += kAlphabet[c & 31];
      return out;
    };
    return fs::path("DICOM") / id(info.study_instance_uid) / id(info.series_instance_uid) /
           id(info.sop_instance_uid);
  }
  return fs::path(uid(info.study_instance_uid)) / uid(info.series_instance_uid) /
         (uid(info.sop_instance_uid) + ".dcm");
}

// Indexes every file under OUT/DICOM in a new OUT/DICOMDIR. A file DCMTK
// will not index (it lacks what the General Purpose CD profile requires)
// stays on the disk, unindexed, and is reported.
void regenerate_dicomdir(const Anonymiser& a, const fs::path& out_dir, BatchReport& report) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(out_dir / "DICOM", ec), end; !ec && it != end;
       it.increment(ec))
    if (it->is_regular_file() && !it->path().filename().string().starts_with("."))
      files.push_back(fs::relative(it->path(), out_dir));
  if (ec) throw Error(Exit::output, (out_dir / "DICOM").string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::string listing = "iep-anon DICOMDIR";  // its UID: keyed, from what it indexes
  for (const fs::path& f : files) listing += "\n" + f.generic_string();
  dicom::write_dicomdir(out_dir, files, "IEP_ANON", a.uid(listing), &report.not_indexed);
}

// What a file is, from its header (dicom::File::read: pixel data is
// skipped, not read).
dicom::Info identify(const dicom::File& f) {
  dicom::check_instance(f);  // the rule every command applies
  dicom::Info info;
  info.patient_id = f.text(0x00100020);
  info.sop_instance_uid = f.text(0x00080018);
  info.study_instance_uid = f.text(0x0020000D);
  info.series_instance_uid = f.text(0x0020000E);
  info.is_dicomdir = f.is_dicomdir();
  return info;
}

// What an earlier run left at an output's name.
enum class Left { nothing, done, other };

// Outputs are linked into place only once written, but not synced one by
// one: after a power cut the file system may keep the name of a file whose
// data it lost. So an existing output counts as done only if it parses
// whole (pixel data included, as far as lengths tell: an empty file or one
// cut inside an element fails; one cut exactly between elements does not)
// and is the instance expected; a broken one is removed and made again; one that is another
// instance (an 8-character CD file ID shared by two) is left alone.
Left left_at(const Anonymiser& a, const dicom::Info& in, const fs::path& out) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(out, ec))) return Left::nothing;
  const std::string expected =
      a.options().profile.retain_uids ? in.sop_instance_uid : a.uid(in.sop_instance_uid);
  try {
    return dicom::File::read(out).text(0x00080018) == expected ? Left::done : Left::other;
  } catch (const Error& e) {
    if (e.code() != Exit::invalid_dicom) throw;
  }
  fs::remove(out, ec);  // (another thread may have removed it: not an error)
  if (ec)
    throw Error(Exit::output,
                out.string() + ": an unfinished output that cannot be removed: " + ec.message());
  return Left::nothing;
}

// Runs work(i) for i in [0, n) on `jobs` threads; the first exception stops
// the handing out of work and is rethrown once all threads are done.
template <typename F>
void parallel_for(std::size_t n, int jobs, F work) {
  std::atomic<std::size_t> next{0};
  std::mutex m;
  std::exception_ptr failure;
  auto run = [&] {
    for (std::size_t i; (i = next++) < n;) {
      try {
        work(i);
      } catch (...) {
        std::lock_guard lock(m);
        if (!failure) failure = std::current_exception();
        next = n;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < jobs; ++t) threads.emplace_back(run);
  run();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

BatchReport anonymise_folder(const Anonymiser& anonymiser, const std::vector<fs::path>& inputs,
                             const fs::path& out_dir, const BatchOptions& options) {
  bool cd = false;
  std::vector<fs::path> files = package::input_files(inputs, &cd);
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec)
    throw Error(Exit::output, out_dir.string() + ": cannot create the folder: " + ec.message());
  const int jobs = std::max(1, options.jobs);
  BatchReport report;
  report.files = files.size();
  // Each input is read once: its header parsed, its output named, what an
  // earlier run left there looked at, and (unless it is done) rewritten
  // into this private, locked folder of the output folder. Whether that
  // result is moved into place is decided in input order (below), so the
  // outcome does not depend on threads. Removed with what is left in it at
  // the end; a crashed run's is removed by the next run.
  StagedFolder partial(out_dir / "iep-anon-work");

  struct Item {
    dicom::Info info;
    std::string not_dicom;  // why, when it is not DICOM
    fs::path out;
    Left left = Left::nothing;  // what an earlier run left at `out`
    Outcome outcome;            // of the rewrite, when there was one
    fs::path temp;  // the result (empty if quarantined), until moved to `out` or removed
    std::exception_ptr failure;  // of the rewrite: raised if the result was wanted
  };
  // Only the items in flight are held (prepared, not decided yet): memory
  // stays flat over any number of files.
  std::vector<std::unique_ptr<Item>> items(files.size());
  // The output's folders, made once (a study's files share one or a few).
  std::mutex folders_m;
  std::set<fs::path> folders;
  auto make_folder = [&](const fs::path& dir) {
    {
      std::lock_guard lock(folders_m);
      if (folders.contains(dir)) return;
    }
    std::error_code dir_error;
    fs::create_directories(dir, dir_error);
    if (dir_error) throw Error(Exit::output, dir.string() + ": " + dir_error.message());
    std::lock_guard lock(folders_m);
    folders.insert(dir);
  };
  auto prepare = [&](std::size_t i) {
    items[i] = std::make_unique<Item>();
    Item& it = *items[i];
    std::optional<dicom::File> f;
    try {
      f.emplace(dicom::File::read(files[i]));
      it.info = identify(*f);
      it.out = out_dir / output_name(anonymiser, it.info, cd);
      it.left = left_at(anonymiser, it.info, it.out);
    } catch (const Error& e) {
      if (e.code() != Exit::invalid_dicom) throw;
      std::string why = e.what();
      if (why.starts_with(files[i].string() + ": ")) why.erase(0, files[i].string().size() + 2);
      it.not_dicom = why.empty() ? "not DICOM" : why;
      return;
    }
    if (it.info.is_dicomdir || it.left != Left::nothing) return;  // nothing to write
    // Written even if it turns out to repeat an earlier input's instance
    // (then thrown away): rare, and not known until the earlier ones are.
    try {
      make_folder(it.out.parent_path());
      // (A plain name: StagedFolder::create_file is safe from any thread.)
      const std::string name = std::to_string(i);
      UniqueFd fd = partial.create_file(name);
      it.temp = partial.partial() / name;
      it.outcome = anonymiser.file(std::move(*f), files[i], fd.get(), it.temp);
    } catch (const Error& e) {
      if (e.code() != Exit::invalid_dicom) {
        it.failure = std::current_exception();
      } else {
        it.outcome.quarantined = true;  // a header that scanned but a file it cannot rewrite
        it.outcome.reason = e.what();
      }
    } catch (...) {
      it.failure = std::current_exception();
    }
  };

  // Decides item i, once every earlier one is decided: quarantine what is
  // not DICOM or repeats an instance, skip what an earlier run finished,
  // move the rest into place.
  std::map<fs::path, std::size_t> claimed;
  std::size_t finished = 0;
  auto decide = [&](std::size_t i) {
    Item& it = *items[i];
    if (!it.not_dicom.empty()) {
      report.quarantined.emplace_back(files[i].string(), it.not_dicom);
    } else if (it.info.is_dicomdir) {
      // indexes are never passed through
    } else if (auto [pos, fresh] = claimed.emplace(it.out, i); !fresh) {
      report.quarantined.emplace_back(files[i].string(),
                                      "same SOP Instance UID as " + files[pos->second].string());
    } else if (it.left == Left::other) {
      report.quarantined.emplace_back(
          files[i].string(), "its output name " + it.out.string() + " holds another instance");
    } else if (it.left == Left::done) {
      // Finished by an earlier run: its pseudonyms are known from the keys.
      ++report.already_done;
      const dicom::Info& in = it.info;
      const std::string study =
          anonymiser.options().profile.retain_uids || in.study_instance_uid.empty()
              ? in.study_instance_uid
              : anonymiser.uid(in.study_instance_uid);
      report.studies.insert(study);
      report.reid.insert(
          {in.patient_id, anonymiser.patient_id(in.patient_id), in.study_instance_uid, study});
    } else if (it.failure) {
      std::rethrow_exception(it.failure);
    } else if (const Outcome& o = it.outcome; o.quarantined) {
      report.quarantined.emplace_back(files[i].string(), o.reason);
    } else {
      // Never replaces a file that appeared meanwhile.
      if (::renameat2(AT_FDCWD, it.temp.c_str(), AT_FDCWD, it.out.c_str(), RENAME_NOREPLACE) != 0)
        throw Error(
            Exit::output,
            it.out.string() + (errno == EEXIST
                                   ? ": already exists; refusing to overwrite it"
                                   : ": cannot create: " + std::string(std::strerror(errno))));
      it.temp.clear();
      ++report.written;
      report.pixels_cleaned += o.pixels_cleaned;
      if (!o.nonconformant_uids.empty())
        report.nonconformant_uids.emplace_back(files[i].string(), o.nonconformant_uids);
      report.studies.insert(o.new_study_uid);
      report.reid.insert(
          {o.original_patient_id, o.pseudonym_patient_id, o.original_study_uid, o.new_study_uid});
      ++finished;
      if (options.progress) std::fprintf(stderr, "\riep-anon: %zu files de-identified", finished);
    }
    if (!it.temp.empty()) ::unlink(it.temp.c_str());  // a repeat, or quarantined
    items[i].reset();  // what is left to keep: its output's name in `claimed`
  };

  // Each thread prepares the next item, then decides every item in order
  // up to the first one not prepared yet.
  std::mutex m;
  std::vector<char> prepared(files.size(), 0);
  std::size_t next_decided = 0;
  bool broken = false;  // a decision failed: decide nothing more
  parallel_for(files.size(), jobs, [&](std::size_t i) {
    prepare(i);
    std::lock_guard lock(m);
    prepared[i] = 1;
    while (!broken && next_decided < files.size() && prepared[next_decided] != 0) {
      try {
        decide(next_decided++);
      } catch (...) {
        broken = true;
        throw;
      }
    }
  });
  if (options.progress && finished > 0) std::fputc('\n', stderr);
  if (cd) regenerate_dicomdir(anonymiser, out_dir, report);
  std::sort(report.quarantined.begin(), report.quarantined.end());
  std::sort(report.nonconformant_uids.begin(), report.nonconformant_uids.end());
  return report;
}

BatchReport anonymise_package(const Anonymiser& anonymiser, Source& plain, const std::string& name,
                              const SiteIdentity& self, const TrustStore& trust, Sink& out) {
  BatchReport report;
  std::string study_uid, patient_id;
  std::map<std::string, std::string> named;  // entry name in the new package -> input entry
  // What becomes of an entry once de-identified (or not): its manifest
  // entry, or nothing when it is dropped.
  auto drop = [&](const std::string& path, std::string reason) -> std::optional<ManifestFile> {
    report.quarantined.emplace_back(path, std::move(reason));
    return std::nullopt;
  };
  auto entry_of = [&](const std::string& path, const Outcome& o) -> std::optional<ManifestFile> {
    if (o.quarantined) return drop(path, o.reason);
    ManifestFile e;
    // The UIDs of the output (kept ones with retain-uids) as path names.
    auto part = [&](const std::string& u) {
      if (u.empty()) return std::string("unknown");
      return dicom::valid_uid(u) ? u : "x" + anonymiser.uid(u).substr(5, 16);
    };
    e.path = part(o.new_study_uid) + "/" + part(o.series_instance_uid) + "/" +
             part(o.sop_instance_uid) + ".dcm";
    if (auto [at, fresh] = named.emplace(e.path, path); !fresh)
      return drop(path, "same SOP Instance UID as " + at->second);
    ++report.written;
    if (!o.nonconformant_uids.empty())
      report.nonconformant_uids.emplace_back(path, o.nonconformant_uids);
    report.studies.insert(o.new_study_uid);
    report.reid.insert(
        {o.original_patient_id, o.pseudonym_patient_id, o.original_study_uid, o.new_study_uid});
    if (study_uid.empty()) study_uid = o.new_study_uid, patient_id = o.pseudonym_patient_id;
    if (!tar::safe_path(e.path))
      throw Error(Exit::internal, name + ": unsafe entry name " + e.path);
    e.sop_class_uid = o.sop_class_uid;
    e.sop_instance_uid = o.sop_instance_uid;
    e.series_instance_uid = o.series_instance_uid;
    e.transfer_syntax_uid = o.transfer_syntax_uid;
    e.modality = o.modality;
    return e;
  };
  auto rewrite = [&](const std::string& path, const fs::path& content,
                     const fs::path& scratch) -> std::optional<package::Rewritten> {
    ++report.files;
    // Anonymiser::file() quarantines a DICOMDIR and refuses what is not DICOM.
    fs::path result = scratch / "instance.dcm";
    Outcome o;
    try {
      o = anonymiser.file(content, result);
    } catch (const Error& e) {
      if (e.code() != Exit::invalid_dicom) throw;
      std::string why = e.what();  // "SCRATCH-PATH: cause": the entry is named by drop()
      if (why.starts_with(content.string() + ": ")) why.erase(0, content.string().size() + 2);
      if (why.starts_with("not a DICOM file"))
        why += " (an attachment may hold identifying data, so it is not carried)";
      drop(path, why);
      return std::nullopt;
    }
    auto e = entry_of(path, o);
    if (!e) return std::nullopt;
    return package::Rewritten{result, std::move(*e)};
  };
  // The same in memory, without a temporary file: the same Anonymiser on
  // the same parser and writer, so the same bytes. What it refuses (not
  // DICOM, a broken instance) goes the file way, which words the reason.
  auto rewrite_in_memory = [&](const std::string& path, const std::string& content,
                               std::uint64_t size, std::string& out,
                               bool& spool) -> std::optional<ManifestFile> {
    std::optional<Outcome> o;
    try {
      o = content.size() == size ? anonymiser.bytes(content, path, out)
                                 : anonymiser.head(content, size, path, out);
    } catch (const Error& e) {
      if (e.code() != Exit::invalid_dicom) throw;
    }
    if (!o) {
      spool = true;
      return std::nullopt;
    }
    ++report.files;
    return entry_of(path, *o);
  };
  // The study summary carries only what is pseudonymous.
  auto summary = [&](const Manifest&) {
    StudySummary st;
    st.study_instance_uid = study_uid;
    st.patient_id = patient_id;
    return st;
  };
  // IEP_ANON_SPOOL=1: every entry the spooled way (the e2e tests compare
  // the two; a way around a fault of the in-memory one in the field).
  // IEP_ANON_HELD=BYTES: entries held whole up to BYTES, larger ones
  // rewritten from their first BYTES as they stream (tests take real
  // files, all small, through the streaming way with it).
  const char* spool = std::getenv("IEP_ANON_SPOOL");
  const bool spool_all = spool != nullptr && std::string_view(spool) == "1";
  std::uint64_t held = package::kRewriteInMemory;
  if (const char* h = std::getenv("IEP_ANON_HELD"); h != nullptr) {
    const std::string_view v(h);
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), held);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || held > (64u << 20))
      throw Error(Exit::usage, "IEP_ANON_HELD: '" + std::string(v) +
                                   "' is not a number of bytes up to 67108864");
  }
  package::rewrite_plain(
      plain, name, self, trust, rewrite,
      spool_all ? package::MemoryRewriter() : package::MemoryRewriter(rewrite_in_memory), summary,
      out, {}, held);
  std::sort(report.quarantined.begin(), report.quarantined.end());
  return report;
}

std::string CheckReport::to_json() const {
  nlohmann::json j = {{"files", files}, {"findings", findings}, {"invalid", invalid}};
  return j.dump(2) + "\n";
}

namespace {

// A file named *.dcm, or with the Part 10 preamble and "DICM".
bool meant_as_dicom(const fs::path& file) {
  std::string ext = file.extension().string();
  for (char& c : ext) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (ext == ".dcm") return true;
  try {
    FileSource src(file);
    std::array<std::uint8_t, 132> head{};
    return read_full(src, head) == head.size() && head[128] == 'D' && head[129] == 'I' &&
           head[130] == 'C' && head[131] == 'M';
  } catch (const Error&) {
    return false;
  }
}

}  // namespace

CheckReport check_folder(const Profile& profile, const std::vector<fs::path>& originals,
                         const fs::path& out_dir, int jobs) {
  jobs = std::max(1, jobs);
  // The identifying values of the DICOM files among the originals.
  std::vector<fs::path> sources =
      originals.empty() ? std::vector<fs::path>() : package::input_files(originals);
  std::vector<char> usable(sources.size(), 0);
  parallel_for(sources.size(), jobs, [&](std::size_t i) {
    try {
      usable[i] = !dicom::scan(sources[i]).is_dicomdir;
    } catch (const Error& e) {
      if (e.code() != Exit::invalid_dicom) throw;  // not DICOM: nothing to look for
    }
  });
  std::vector<fs::path> dicom_sources;
  for (std::size_t i = 0; i < sources.size(); ++i)
    if (usable[i]) dicom_sources.push_back(sources[i]);
  std::vector<phi::Needle> needles = phi::identifying_values(dicom_sources, profile);
  phi::Scanner scanner(profile, std::move(needles));

  // Every file of the output, not the DICOMDIR's view of it: files it does
  // not index, and the DICOMDIR itself, are checked too.
  std::vector<fs::path> outputs;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(out_dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file()) outputs.push_back(it->path());
  if (ec) throw Error(Exit::input, out_dir.string() + ": " + ec.message());
  std::sort(outputs.begin(), outputs.end());
  CheckReport report;
  report.files = outputs.size();
  std::vector<std::vector<std::string>> lines(outputs.size());
  std::vector<std::string> invalid(outputs.size());
  parallel_for(outputs.size(), jobs, [&](std::size_t i) {
    std::vector<phi::Finding> found;
    try {
      found = scanner.scan(outputs[i]);
    } catch (const Error& e) {
      if (e.code() != Exit::invalid_dicom) throw;
      // Meant as DICOM but not an acceptable instance (cut short?): reported,
      // exit 8. Other files (a package's MANIFEST.json, notes) are only
      // searched as bytes.
      if (meant_as_dicom(outputs[i])) invalid[i] = e.what();
      found = scanner.scan_bytes(outputs[i]);
    }
    for (const auto& f : found)
      lines[i].push_back(f.file + ": " + (f.tag.empty() ? std::string() : f.tag + " ") + f.what);
  });
  for (auto& l : lines) report.findings.insert(report.findings.end(), l.begin(), l.end());
  for (auto& why : invalid)
    if (!why.empty()) report.invalid.push_back(std::move(why));
  return report;
}

void write_reid_map(const BatchReport& report, const SiteCard& to, const fs::path& file) {
  std::string csv = "original_patient_id,pseudonym_patient_id,original_study_uid,new_study_uid\n";
  auto field = [](const std::string& v) {
    if (v.find_first_of(",\"\n") == std::string::npos) return v;
    std::string q = "\"";
    for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  for (const auto& r : report.reid)
    csv += field(r.original_patient_id) + "," + field(r.pseudonym_patient_id) + "," +
           field(r.original_study_uid) + "," + field(r.new_study_uid) + "\n";
  AtomicFile f(file, false, 0600);
  age::Encryptor enc(f, {to.recipient});
  enc.write(ByteSpan(reinterpret_cast<const std::uint8_t*>(csv.data()), csv.size()));
  enc.finish();
  f.commit();
}

}  // namespace iep::anon
