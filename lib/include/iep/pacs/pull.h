// Packages out of a PACS (iep-pack --pacs): find the studies matching a
// query, retrieve each into a private temporary folder, check that every
// instance the PACS announced arrived, and only then pack it. A study with
// missing or failed instances is an error, never a partial package.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/package/package.h"
#include "iep/pacs/dimse.h"
#include "iep/pacs/query.h"
#include "iep/pacs/retrieve.h"

namespace iep::pacs {

// What became of one study.
struct StudyResult {
  FoundStudy study;
  // The most instances the PACS announced: the C-FIND's Number of Study
  // Related Instances, or the final response's completed + warning + failed
  // sub-operations, whichever is larger; none when it announced neither.
  std::optional<std::uint32_t> expected;
  Retrieval retrieval;
  std::string package;  // the file written, "-" for the stream
  std::string package_id;
  bool already_there = false;  // folder output: the package existed; nothing retrieved
  double seconds = 0;
  Exit result = Exit::ok;
  std::string error;  // why the study was not packed

  [[nodiscard]] std::string to_json() const;  // one line, with "\n"
  [[nodiscard]] std::string to_text() const;  // one line for -v, with "\n"
};

// Whether a retrieval is the complete study: sets s.expected and returns
// empty when it is, else why not, with the counts ("49 of 50 instances
// received (C-FIND announced 50; C-GET: 49 completed, 0 failed, 0 warning):
// 1 missing"). Complete means: a final status of success or warning, no
// failed sub-operation, nothing refused, at least one instance, none fewer
// than the C-FIND announced nor than the sub-operations counted, none more
// than the PACS reported sending.
std::string check_complete(StudyResult& s);

enum class PullOutput {
  stream,  // every package, one after another, to `stream`
  file,    // one package to the file `path` (exactly one study must match)
  folder,  // one package per study into the folder `path`, as iep-pack --split names them
};

struct PullOptions {
  Peer peer;
  NetOptions net;
  StudyQuery query;
  RetrieveOptions retrieve;
  package::WriteOptions write;
  PullOutput output = PullOutput::stream;
  std::filesystem::path path;
  Sink* stream = nullptr;
  // Told which study comes next (index from 1 of count), and each result.
  std::function<void(const FoundStudy&, std::size_t index, std::size_t count)> on_start;
  std::function<void(const StudyResult&)> on_study;
  // Each instance as it is written (see RetrieveOptions::on_instance).
  std::function<void(const FoundStudy&, const Retrieval&)> on_progress;
};

// Runs the whole pull; returns every study's result when all were packed
// (or already there). Throws Error: input when no study matches the query;
// several_studies when file output is asked for several; the errors of
// find_studies() and Retriever::retrieve() that concern the whole PACS
// (unreachable, rejected, the move destination unknown) at once; and, after
// the other studies were done, instances_failed (or the first failed
// study's own code: invalid_dicom, network) naming each study that was not
// packed and why.
std::vector<StudyResult> pull(const PullOptions& options, const SiteIdentity& self);

}  // namespace iep::pacs
