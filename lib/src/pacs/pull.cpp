#include "iep/pacs/pull.h"

#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "iep/core/io.h"

namespace fs = std::filesystem;

namespace iep::pacs {

namespace {

std::string counts_text(const StudyResult& s) {
  const auto& r = s.retrieval;
  std::string t = fmt::format("{} of {} instances received", r.received,
                              s.expected ? std::to_string(*s.expected) : std::string("?"));
  std::string why;
  if (s.study.instances) why += fmt::format("C-FIND announced {}", *s.study.instances);
  if (!r.method.empty()) {
    if (!why.empty()) why += "; ";
    why += r.method + ": ";
    why += r.counts_known ? fmt::format("{} completed, {} failed, {} warning", r.completed,
                                        r.failed, r.warning)
                          : std::string("no sub-operation counts");
    if (!status_success(r.status)) why += ", " + status_text(r.status);
  }
  if (!why.empty()) t += " (" + why + ")";
  return t;
}

bool per_study(Exit e) {
  return e == Exit::instances_failed || e == Exit::invalid_dicom || e == Exit::network ||
         e == Exit::several_studies;
}

}  // namespace

std::string check_complete(StudyResult& s) {
  const auto& r = s.retrieval;
  std::optional<std::uint32_t> expected = s.study.instances;
  if (r.counts_known) {
    const std::uint32_t announced = r.completed + r.warning + r.failed;
    if (!expected || announced > *expected) expected = announced;
  }
  s.expected = expected;
  std::vector<std::string> causes;
  if (!status_success(r.status) && !status_warning(r.status))
    causes.push_back(r.method + " " + status_text(r.status));
  if (r.failed > 0) causes.push_back(fmt::format("{} sub-operations failed", r.failed));
  if (!r.failed_uids.empty()) {
    std::string l;
    for (std::size_t i = 0; i < r.failed_uids.size() && i < 5; ++i)
      l += (i ? ", " : "") + r.failed_uids[i];
    if (r.failed_uids.size() > 5) l += ", ...";
    causes.push_back("failed: " + l);
  }
  for (const auto& x : r.refused) causes.push_back("refused " + x);
  if (!r.hint.empty()) causes.push_back(r.hint);
  if (r.received == 0)
    causes.push_back("nothing arrived");
  else if (expected && r.received < *expected)
    causes.push_back(fmt::format("{} missing", *expected - r.received));
  if (r.counts_known && r.received > r.completed + r.warning)
    causes.push_back(fmt::format("{} more than the PACS reported sending",
                                 r.received - r.completed - r.warning));
  if (causes.empty()) return {};
  std::string t = counts_text(s) + ": ";
  for (std::size_t i = 0; i < causes.size(); ++i) t += (i ? "; " : "") + causes[i];
  return t;
}

std::string StudyResult::to_json() const {
  nlohmann::json j = {
      {"study", study.study_uid},
      {"accession_number", study.accession_number},
      {"study_date", study.study_date},
      {"modalities", study.modalities},
      {"expected", expected ? nlohmann::json(*expected) : nlohmann::json()},
      {"find_instances", study.instances ? nlohmann::json(*study.instances) : nlohmann::json()},
      {"method", retrieval.method},
      {"completed", retrieval.completed},
      {"failed", retrieval.failed},
      {"warning", retrieval.warning},
      {"received", retrieval.received},
      {"bytes", retrieval.bytes},
      {"package", package},
      {"package_id", package_id},
      {"already_there", already_there},
      {"seconds", seconds},
      {"result", exit_name(result)}};
  if (!error.empty()) j["error"] = error;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string StudyResult::to_text() const {
  if (result != Exit::ok) return fmt::format("study {}: not packed: {}\n", study.study_uid, error);
  if (already_there)
    return fmt::format("study {}: {} exists, not retrieved\n", study.study_uid, package);
  return fmt::format("study {}: {} by {}, {:.1f} MB, {:.1f} s -> {}\n", study.study_uid,
                     counts_text(*this), retrieval.method,
                     static_cast<double>(retrieval.bytes) / 1e6, seconds, package);
}

std::vector<StudyResult> pull(const PullOptions& o, const SiteIdentity& self) {
  auto found = find_studies(o.peer, o.net, o.query);
  if (found.empty())
    throw Error(Exit::input,
                fmt::format("{}: no study matches {}", o.peer.to_string(), o.query.to_string()));
  if (o.output == PullOutput::file && found.size() > 1)
    throw Error(Exit::several_studies,
                fmt::format("{}: {} studies match {}; give --split DIR for one package each, or "
                            "narrow the query",
                            o.peer.to_string(), found.size(), o.query.to_string()));
  if (o.output == PullOutput::folder) {
    std::error_code ec;
    fs::create_directories(o.path, ec);
    if (ec)
      throw Error(Exit::output, o.path.string() + ": cannot create the folder: " + ec.message());
  }
  RetrieveOptions ro = o.retrieve;
  const FoundStudy* current = nullptr;
  if (o.on_progress)
    ro.on_instance = [&](const Retrieval& r) {
      if (current) o.on_progress(*current, r);
    };
  Retriever retriever(o.peer, o.net, ro);
  std::vector<StudyResult> results;
  std::vector<std::string> failures;
  Exit first = Exit::ok;
  for (std::size_t i = 0; i < found.size(); ++i) {
    const auto start = std::chrono::steady_clock::now();
    StudyResult s;
    s.study = found[i];
    fs::path out;
    if (o.output == PullOutput::folder) {
      out = o.path / package::split_file_name(s.study.study_uid, o.write);
      if (fs::exists(out)) {
        s.already_there = true;
        s.package = out.string();
        if (o.on_study) o.on_study(s);
        results.push_back(std::move(s));
        continue;  // a re-run retrieves only what is missing
      }
    } else if (o.output == PullOutput::file) {
      out = o.path;
    }
    if (o.on_start) o.on_start(s.study, i + 1, found.size());
    current = &found[i];
    bool streaming = false;  // once a package is begun on the stream, any error ends the run
    try {
      TempDir tmp("iep-pull");
      s.retrieval = retriever.retrieve(s.study.study_uid, tmp.path());
      if (auto why = check_complete(s); !why.empty()) throw Error(Exit::instances_failed, why);
      auto plans = package::plan(package::PackInput{{tmp.path()}, {}, {}});
      if (plans.size() != 1 || plans[0].study.study_instance_uid != s.study.study_uid) {
        std::string uids;
        for (const auto& p : plans) uids += (uids.empty() ? "" : ", ") + p.study.study_instance_uid;
        throw Error(Exit::instances_failed,
                    fmt::format("the instances received belong to other studies: {}", uids));
      }
      if (plans[0].files.size() != s.retrieval.received)
        throw Error(Exit::instances_failed,
                    fmt::format("{} instances received, {} packable", s.retrieval.received,
                                plans[0].files.size()));
      if (o.output == PullOutput::stream) {
        s.package = "-";
        streaming = true;
        s.package_id =
            package::write_plain(std::move(plans[0]), self, *o.stream, o.write).package_id;
      } else {
        AtomicFile f(out);
        s.package_id = package::write_plain(std::move(plans[0]), self, f, o.write).package_id;
        f.commit();
        s.package = out.string();
      }
    } catch (const Error& e) {
      if (!per_study(e.code()) || streaming) throw;
      // An association that broke or went silent mid-study: its instances
      // were not retrieved.
      s.result = e.code() == Exit::network ? Exit::instances_failed : e.code();
      s.error = e.what();
      if (!s.expected) check_complete(s);
      if (first == Exit::ok) first = s.result;
      failures.push_back(fmt::format("study {}: {}", s.study.study_uid, s.error));
    }
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (o.on_study) o.on_study(s);
    results.push_back(std::move(s));
  }
  if (!failures.empty()) {
    std::string msg = fmt::format("{}: {} of {} studies not packed", o.peer.to_string(),
                                  failures.size(), found.size());
    for (const auto& f : failures) msg += "; " + f;
    throw Error(first, msg);
  }
  return results;
}

}  // namespace iep::pacs
