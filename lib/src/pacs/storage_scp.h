// A storage SCP (private to libiep): listens for associations, accepts the
// storage SOP classes in every transfer syntax DCMTK knows (compressed ones
// kept as sent), receives C-STORE requests and writes each instance durably
// (temporary name, fsync, rename, fsync of the folder) before it answers
// success. Used by iep-gateway and as the C-MOVE destination of
// iep-pack --pacs.
//
// Bounds: at most max_associations at once (more are rejected, transient,
// "local limit exceeded"), each handled on its own thread; an instance
// larger than max_instance_size aborts its association; an instance that
// would leave less than min_free_bytes free on the file system is refused
// (A700, out of resources) or, when that happens while it is arriving,
// aborts the association. Every wait is bounded by NetOptions' timeouts.
//
// Storage Commitment Push Model (1.2.840.10008.1.20.1) is accepted when
// on_commitment is set: the N-ACTION is answered, then the N-EVENT-REPORT
// goes out on the same association. (Sending it on a new association, as
// PS3.4 J.3 allows once the requester released, is not done.)
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "iep/pacs/dimse.h"

struct T_ASC_Network;
struct T_ASC_Association;
class DcmTransportLayer;

namespace iep::pacs {

// Who is talking to us on one association.
struct AssociationInfo {
  std::string called_aet, calling_aet, peer_host;
};

// One instance received and durable on disk.
struct StoredInstance {
  AssociationInfo from;
  std::string sop_class_uid, sop_instance_uid, study_instance_uid, transfer_syntax;
  std::filesystem::path path;  // where it is now (absolute)
  std::uint64_t size = 0;
};

// One Storage Commitment request (N-ACTION).
struct CommitmentRequest {
  AssociationInfo from;
  std::string transaction_uid;
  struct Item {
    std::string sop_class_uid, sop_instance_uid;
  };
  std::vector<Item> items;
};

struct StorageScpOptions {
  std::string host;           // address to listen on; empty: every interface
  std::uint16_t port = 0;     // 0: a free port (port() tells which)
  std::filesystem::path dir;  // instances go under here (and .incoming/ while arriving)
  // Called AE titles we answer to; empty: any. A request for another is
  // rejected: "called AE title not recognized".
  std::set<std::string> called_aets;
  NetOptions net;  // timeouts, largest PDU, TLS as acceptor (tls_cert/key, tls_ca)
  int max_associations = 8;
  std::uint64_t max_instance_size = std::uint64_t{4} << 30;
  std::uint64_t min_free_bytes = std::uint64_t{1} << 30;
  // Where an instance goes, relative to dir (its UIDs are checked to be
  // digits and dots first); default STUDY_UID/SOP_INSTANCE_UID.dcm. May
  // throw iep::Error to refuse the instance (A700).
  std::function<std::filesystem::path(const StoredInstance&)> place;
  // Called once each instance is durable, before the C-STORE response; if
  // it throws, the sender is answered A700 (the file stays).
  std::function<void(const StoredInstance&)> on_stored;
  // Storage commitment: for each item, whether it is durably stored (and
  // then committed). Unset: the commitment SOP class is not accepted.
  std::function<std::vector<bool>(const CommitmentRequest&)> on_commitment;
  // One line per association and per refusal (no newline); unset: quiet.
  std::function<void(const std::string&)> log;
  bool verbose = false;  // also a line per instance
};

class StorageScp {
 public:
  // Binds the port. Throws iep::Error(output) when dir cannot be made,
  // Error(pacs_unreachable) when the port cannot be bound (iep-pack --pacs
  // maps it to a usage error of --move-port, iep-gateway to network).
  explicit StorageScp(StorageScpOptions options);
  ~StorageScp();  // stop() and wait for the associations
  StorageScp(const StorageScp&) = delete;
  StorageScp& operator=(const StorageScp&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  // Accepts associations until stop(); returns once the running ones ended.
  void run();
  // Makes run() return soon (within about a second); running associations
  // finish the instance they receive and are then aborted. Safe from a
  // signal handler's thread, not from the handler itself.
  void stop() { stopping_.store(true); }
  [[nodiscard]] bool stopping() const { return stopping_.load(); }

 private:
  void add_networks(int sock, int n);
  void accept_loop(T_ASC_Network* net);
  void serve(T_ASC_Association* assoc, AssociationInfo info);
  // Both return false when the association ended (aborted).
  bool handle_store(T_ASC_Association* assoc, const AssociationInfo& info, void* msg,
                    unsigned char pres_id, int& stored, int& failed);
  bool handle_commitment(T_ASC_Association* assoc, const AssociationInfo& info, void* msg,
                         unsigned char pres_id);
  void say(const std::string& line) const;

  StorageScpOptions o_;
  std::unique_ptr<DcmTransportLayer> tls_;
  std::vector<T_ASC_Network*> nets_;  // one per acceptor thread
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  int active_ = 0;
  std::list<std::thread> threads_;
  std::list<std::thread::id> finished_;
};

}  // namespace iep::pacs
