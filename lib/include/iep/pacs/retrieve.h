// Retrieving a study from a PACS into a folder: by C-GET (the instances
// come back on the same association, iep taking the storage SCP role), or
// by C-MOVE to iep's own storage SCP, which listens while the move runs.
// What arrives is counted against what the PACS announced.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "iep/pacs/dimse.h"

namespace iep::pacs {

enum class RetrieveMethod {
  automatic,  // C-GET when the PACS accepts it, else C-MOVE (needs move_aet and move_port)
  get,
  move,
};

// What one retrieval did.
struct Retrieval {
  std::string method;  // "C-GET" or "C-MOVE"
  // The final response: its status and sub-operation counts (counts_known
  // false when the PACS left them out).
  std::uint16_t status = 0;
  bool counts_known = false;
  std::uint32_t completed = 0, failed = 0, warning = 0;
  // Distinct instances written into the folder, and their bytes.
  std::uint32_t received = 0;
  std::uint64_t bytes = 0;
  // Instances iep refused or could not write (each "UID: cause"), and the
  // PACS's Failed SOP Instance UID List.
  std::vector<std::string> refused;
  std::vector<std::string> failed_uids;
  // A likely cause in words when the PACS refused without saying why.
  std::string hint;
};

struct RetrieveOptions {
  RetrieveMethod method = RetrieveMethod::automatic;
  // C-MOVE destination: iep's storage SCP, which the PACS must know by this
  // AE title (e.g. in Orthanc's DicomModalities) with this host and port.
  std::string move_aet;
  std::uint16_t move_port = 0;
  // Called after each instance written (for progress); it must not throw
  // and must return quickly (a C-MOVE's storage SCP waits on it).
  std::function<void(const Retrieval&)> on_instance;
};

// Retrieves studies from one PACS. Holds the C-MOVE listener (opened on the
// first C-MOVE, kept for the next studies) between retrievals.
class Retriever {
 public:
  Retriever(Peer peer, NetOptions net, RetrieveOptions options);
  ~Retriever();
  Retriever(const Retriever&) = delete;
  Retriever& operator=(const Retriever&) = delete;

  // Retrieves every instance of study `study_uid` into the existing folder
  // `dir`, one file per SOP Instance UID (a file written in full before it
  // gets its name). Returns what happened; the caller decides whether it is
  // complete. Throws Error: pacs_unreachable, pacs_rejected (association
  // refused, neither C-GET nor C-MOVE accepted, C-MOVE without a
  // destination, the destination unknown to the PACS: status A801),
  // usage (the move port cannot be listened on), network (the association
  // broke or went silent for longer than the DIMSE timeout).
  Retrieval retrieve(const std::string& study_uid, const std::filesystem::path& dir);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace iep::pacs
