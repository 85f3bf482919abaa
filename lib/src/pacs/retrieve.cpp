#include "iep/pacs/retrieve.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/dicom/dicom.h"
#include "pacs/association.h"
#include "pacs/storage_scp.h"

namespace fs = std::filesystem;

namespace iep::pacs {

namespace {

using Clock = std::chrono::steady_clock;

std::string trimmed(const char* s) {
  std::string v = s;
  while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) v.pop_back();
  return v;
}

// The presentation contexts of a C-GET: the storage SOP classes with iep as
// SCP. A C-GET association has room for 128 contexts, fewer than there are
// storage SOP classes, and the PACS picks one transfer syntax per context,
// so a compressed instance arrives as stored only if a context offers its
// syntax alone. In this order, while there is room:
//   1. the common image classes (CT, MR, SC, US, DX, CR, MG, XA) with the
//      uncompressed syntaxes, then each with JPEG lossless, JPEG baseline,
//      JPEG 2000 lossless, JPEG 2000 and RLE, one context each;
//   2. every other current (not retired) storage class of DCMTK's list with
//      the uncompressed syntaxes, the rarer ones (waveforms, ophthalmic
//      measurements, surface scans) last.
// A class left out fails by C-GET (the PACS counts a failed sub-operation);
// C-MOVE negotiates each class as it comes.
std::vector<Context> storage_contexts(std::size_t room) {
  std::vector<Context> out;
  const auto add = [&](const char* uid, std::vector<std::string> ts) {
    if (out.size() < room) out.push_back({uid, std::move(ts), ASC_SC_ROLE_SCP});
  };
  const char* common[] = {UID_CTImageStorage,
                          UID_MRImageStorage,
                          UID_SecondaryCaptureImageStorage,
                          UID_UltrasoundMultiframeImageStorage,
                          UID_UltrasoundImageStorage,
                          UID_DigitalXRayImageStorageForPresentation,
                          UID_ComputedRadiographyImageStorage,
                          UID_DigitalMammographyXRayImageStorageForPresentation,
                          UID_XRayAngiographicImageStorage};
  for (const char* uid : common) add(uid, uncompressed_syntaxes());
  for (const char* ts : {UID_JPEGProcess14SV1TransferSyntax, UID_JPEGProcess1TransferSyntax,
                         UID_JPEG2000LosslessOnlyTransferSyntax, UID_JPEG2000TransferSyntax,
                         UID_RLELosslessTransferSyntax})
    for (const char* uid : common) add(uid, {ts});
  const auto rare = [](const std::string& name) {
    for (const char* word : {"Waveform", "Measurements", "Refraction", "Prescription",
                             "IntraocularLens", "MacularGrid", "ThicknessMap", "VisualField",
                             "SurfaceScan", "Stereometric", "DeliveryInstruction"})
      if (name.find(word) != std::string::npos) return true;
    return false;
  };
  for (int pass = 0; pass < 2; ++pass)
    for (int i = 0; i < numberOfDcmLongSCUStorageSOPClassUIDs; ++i) {
      const char* uid = dcmLongSCUStorageSOPClassUIDs[i];
      const std::string name = dcmFindNameOfUID(uid, "");
      if (name.rfind("RETIRED_", 0) == 0 || rare(name) != (pass == 1)) continue;
      if (std::find(std::begin(common), std::end(common), std::string(uid)) != std::end(common))
        continue;
      add(uid, uncompressed_syntaxes());
    }
  return out;
}

// The instances of one retrieval, in a folder, one file per SOP Instance
// UID. C-GET's C-STORE sub-operations arrive on our own association and are
// received here; C-MOVE's arrive at the storage SCP, which hands each
// durable file over (add()).
class Receiver {
 public:
  Receiver(fs::path dir, Retrieval& r, int timeout,
           std::function<void(const Retrieval&)> on_instance)
      : dir_(std::move(dir)), r_(r), timeout_(timeout), on_instance_(std::move(on_instance)) {}

  // Takes the complete file `file` as instance `uid` (renamed into the
  // folder; a second copy of a UID replaces the first). Throws Error(output)
  // when it cannot be moved.
  void add(const std::string& uid, const fs::path& file) {
    auto [it, fresh] = names_.try_emplace(uid, fmt::format("{:06}.dcm", names_.size() + 1));
    const fs::path final = dir_ / it->second;
    std::error_code ec;
    if (!fresh) r_.bytes -= fs::file_size(final, ec);
    fs::rename(file, final, ec);
    if (ec) {
      if (fresh) names_.erase(uid);
      throw Error(Exit::output, fmt::format("{}: cannot write: {}", final.string(), ec.message()));
    }
    r_.bytes += fs::file_size(final, ec);
    r_.received = static_cast<std::uint32_t>(names_.size());
    if (on_instance_) on_instance_(r_);
  }

  // Handles one C-STORE-RQ (its data set still on the wire) of a C-GET.
  // Throws Error(network) when the association broke.
  void store(T_ASC_Association* assoc, T_ASC_PresentationContextID id, T_DIMSE_C_StoreRQ& req,
             const std::string& from) {
    const std::string uid = trimmed(req.AffectedSOPInstanceUID);
    const fs::path tmp = dir_ / fmt::format(".incoming-{}", ++count_);
    struct Ctx {
      bool usable;
    } ctx{dicom::usable_uid(uid)};
    const auto callback = [](void* data, T_DIMSE_StoreProgress* progress, T_DIMSE_C_StoreRQ*, char*,
                             DcmDataset**, T_DIMSE_C_StoreRSP* rsp, DcmDataset**) {
      auto* c = static_cast<Ctx*>(data);
      if (progress->state == DIMSE_StoreEnd && !c->usable)
        rsp->DimseStatus = STATUS_STORE_Error_CannotUnderstand;
    };
    const OFCondition c = DIMSE_storeProvider(assoc, id, &req, tmp.c_str(), 1, nullptr, callback,
                                              &ctx, DIMSE_NONBLOCKING, timeout_);
    std::error_code ec;
    if (c.bad()) {
      fs::remove(tmp, ec);
      throw Error(Exit::network,
                  fmt::format("{}: C-STORE of {}: {}", from, uid.empty() ? "?" : uid, c.text()));
    }
    if (!ctx.usable) {
      fs::remove(tmp, ec);
      r_.refused.push_back(fmt::format("'{}': not a usable SOP Instance UID", uid));
      return;
    }
    try {
      add(uid, tmp);
    } catch (const Error& e) {
      fs::remove(tmp, ec);
      r_.refused.push_back(fmt::format("{}: {}", uid, e.what()));
    }
  }

 private:
  fs::path dir_;
  Retrieval& r_;
  int timeout_;
  std::function<void(const Retrieval&)> on_instance_;
  std::uint64_t count_ = 0;
  std::map<std::string, std::string> names_;
};

// The sub-operation counts and failed UIDs of a C-GET/C-MOVE response.
template <class Rsp>
void take_counts(Retrieval& r, const Rsp& rsp, unsigned completed_flag, unsigned failed_flag,
                 unsigned warning_flag) {
  r.status = rsp.DimseStatus;
  if (rsp.opts & completed_flag) {
    r.counts_known = true;
    r.completed = rsp.NumberOfCompletedSubOperations;
  }
  if (rsp.opts & failed_flag) r.failed = rsp.NumberOfFailedSubOperations;
  if (rsp.opts & warning_flag) r.warning = rsp.NumberOfWarningSubOperations;
}

void take_failed_list(Retrieval& r, DcmDataset* ids) {
  if (!ids) return;
  OFString list;
  if (ids->findAndGetOFStringArray(DCM_FailedSOPInstanceUIDList, list).good()) {
    std::string s = list.c_str();
    std::size_t start = 0;
    while (start < s.size() && r.failed_uids.size() < 1000) {
      auto end = s.find('\\', start);
      if (end == std::string::npos) end = s.size();
      if (end > start) r.failed_uids.push_back(s.substr(start, end - start));
      start = end + 1;
    }
  }
}

DcmDataset study_identifier(const std::string& study_uid) {
  DcmDataset ids;
  ids.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
  ids.putAndInsertString(DCM_StudyInstanceUID, study_uid.c_str());
  return ids;
}

}  // namespace

struct Retriever::Impl {
  Peer peer;
  NetOptions net;
  RetrieveOptions options;
  // The C-MOVE destination: the storage SCP on its own thread, writing into
  // a private folder, from where each instance of the study being moved
  // goes to that study's Receiver.
  std::unique_ptr<TempDir> scp_dir;
  std::unique_ptr<StorageScp> scp;
  std::thread scp_thread;
  std::mutex mu;  // guards what follows, written by the SCP's threads
  Receiver* receiver = nullptr;
  std::string study;  // the study being moved
  std::uint32_t strays = 0;
  Clock::time_point last_store;
  std::string scp_error;

  ~Impl() {
    if (scp) scp->stop();
    if (scp_thread.joinable()) scp_thread.join();
  }
  [[nodiscard]] std::string who() const { return peer.to_string(); }

  Retrieval get(Association& a, T_ASC_PresentationContextID id, const std::string& study,
                const fs::path& dir);
  Retrieval move(Association& a, T_ASC_PresentationContextID id, const std::string& study,
                 const fs::path& dir);
  void listen();
};

Retriever::Retriever(Peer peer, NetOptions net, RetrieveOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->peer = std::move(peer);
  impl_->net = std::move(net);
  impl_->options = std::move(options);
}

Retriever::~Retriever() = default;

Retrieval Retriever::retrieve(const std::string& study_uid, const fs::path& dir) {
  auto& o = impl_->options;
  const std::string get_model = UID_GETStudyRootQueryRetrieveInformationModel;
  const std::string move_model = UID_MOVEStudyRootQueryRetrieveInformationModel;
  std::vector<Context> contexts;
  if (o.method != RetrieveMethod::move) contexts.push_back({get_model, uncompressed_syntaxes()});
  if (o.method != RetrieveMethod::get) contexts.push_back({move_model, uncompressed_syntaxes()});
  // Some PACS refuse C-GET and C-MOVE contexts without the matching C-FIND
  // one on the same association (dcmqrscp --require-find).
  contexts.push_back({UID_FINDStudyRootQueryRetrieveInformationModel, uncompressed_syntaxes()});
  if (o.method != RetrieveMethod::move) {
    auto storage = storage_contexts(128 - contexts.size());
    contexts.insert(contexts.end(), storage.begin(), storage.end());
  }
  Association a(impl_->peer, impl_->net, contexts);
  T_ASC_PresentationContextID get_id = 0;
  if (o.method != RetrieveMethod::move) {
    get_id = a.accepted(get_model);
    // C-GET needs at least one storage context with iep as SCP.
    bool storage = false;
    for (std::size_t i = 0; i < contexts.size() && !storage; ++i) {
      if (contexts[i].role != ASC_SC_ROLE_SCP) continue;
      const auto id = static_cast<T_ASC_PresentationContextID>(2 * i + 1);
      T_ASC_PresentationContext pc;
      if (ASC_findAcceptedPresentationContext(a.get()->params, id, &pc).good() &&
          (pc.acceptedRole == ASC_SC_ROLE_SCP || pc.acceptedRole == ASC_SC_ROLE_SCUSCP))
        storage = true;
    }
    if (!storage) get_id = 0;
  }
  if (get_id != 0) return impl_->get(a, get_id, study_uid, dir);
  const auto move_id = o.method == RetrieveMethod::get ? 0 : a.accepted(move_model);
  if (move_id == 0)
    throw Error(
        Exit::pacs_rejected,
        fmt::format("{}: the peer accepts neither study root C-GET (with iep as storage "
                    "SCP) nor C-MOVE{}",
                    impl_->who(),
                    o.method == RetrieveMethod::get ? " (--retrieve get: C-MOVE not asked)" : ""));
  if (o.move_aet.empty() || o.move_port == 0)
    throw Error(Exit::pacs_rejected,
                fmt::format("{}: the peer offers C-MOVE only: give --move-aet and --move-port "
                            "(an AE title and port the PACS knows as a destination)",
                            impl_->who()));
  return impl_->move(a, move_id, study_uid, dir);
}

Retrieval Retriever::Impl::get(Association& a, T_ASC_PresentationContextID id,
                               const std::string& study, const fs::path& dir) {
  Retrieval r;
  r.method = "C-GET";
  Receiver receiver(dir, r, net.dimse_timeout, options.on_instance);
  T_DIMSE_Message req{};
  req.CommandField = DIMSE_C_GET_RQ;
  auto& rq = req.msg.CGetRQ;
  rq.MessageID = a.next_message_id();
  OFStandard::strlcpy(rq.AffectedSOPClassUID, UID_GETStudyRootQueryRetrieveInformationModel,
                      sizeof(rq.AffectedSOPClassUID));
  rq.Priority = DIMSE_PRIORITY_MEDIUM;
  rq.DataSetType = DIMSE_DATASET_PRESENT;
  DcmDataset ids = study_identifier(study);
  OFCondition c =
      DIMSE_sendMessageUsingMemoryData(a.get(), id, &req, nullptr, &ids, nullptr, nullptr);
  if (c.bad()) a.fail("C-GET of study " + study, c);
  for (;;) {
    T_DIMSE_Message msg{};
    T_ASC_PresentationContextID pid = 0;
    DcmDataset* detail = nullptr;
    c = DIMSE_receiveCommand(a.get(), DIMSE_NONBLOCKING, net.dimse_timeout, &pid, &msg, &detail);
    delete detail;
    if (c.bad()) a.fail("C-GET of study " + study, c);
    if (msg.CommandField == DIMSE_C_STORE_RQ) {
      try {
        receiver.store(a.get(), pid, msg.msg.CStoreRQ, who());
      } catch (...) {
        a.abort();
        throw;
      }
      continue;
    }
    if (msg.CommandField != DIMSE_C_GET_RSP ||
        msg.msg.CGetRSP.MessageIDBeingRespondedTo != rq.MessageID) {
      a.abort();
      throw Error(Exit::network,
                  fmt::format("{}: C-GET of study {}: unexpected DIMSE command "
                              "0x{:04x}",
                              who(), study, static_cast<unsigned>(msg.CommandField)));
    }
    const auto& rsp = msg.msg.CGetRSP;
    take_counts(r, rsp, O_GET_NUMBEROFCOMPLETEDSUBOPERATIONS, O_GET_NUMBEROFFAILEDSUBOPERATIONS,
                O_GET_NUMBEROFWARNINGSUBOPERATIONS);
    DcmDataset* rsp_ids = nullptr;
    if (rsp.DataSetType != DIMSE_DATASET_NULL) {
      c = DIMSE_receiveDataSetInMemory(a.get(), DIMSE_NONBLOCKING, net.dimse_timeout, &pid,
                                       &rsp_ids, nullptr, nullptr);
      if (c.bad()) a.fail("C-GET of study " + study, c);
    }
    std::unique_ptr<DcmDataset> hold(rsp_ids);
    if (status_pending(rsp.DimseStatus)) continue;
    take_failed_list(r, rsp_ids);
    break;
  }
  a.release();
  return r;
}

void Retriever::Impl::listen() {
  if (scp) return;
  scp_dir = std::make_unique<TempDir>("iep-move");
  StorageScpOptions so;
  so.port = options.move_port;
  so.dir = scp_dir->path();
  so.called_aets = {options.move_aet};
  so.net = net;
  so.net.tls_cert.clear();  // the C-MOVE destination listens without TLS
  so.net.tls_key.clear();
  so.net.tls_ca.clear();
  so.min_free_bytes = 0;
  so.on_stored = [this](const StoredInstance& s) {
    std::lock_guard lock(mu);
    last_store = Clock::now();
    if (!receiver || s.study_instance_uid != study) {
      ++strays;  // not the study being moved: not ours to pack
      std::error_code ec;
      fs::remove(s.path, ec);
      return;
    }
    receiver->add(s.sop_instance_uid, s.path);
  };
  try {
    scp = std::make_unique<StorageScp>(std::move(so));
  } catch (const Error& e) {
    if (e.code() != Exit::pacs_unreachable) throw;
    throw Error(Exit::usage,
                fmt::format("--move-port {}: cannot listen: {}", options.move_port, e.what()));
  }
  scp_thread = std::thread([this] {
    try {
      scp->run();
    } catch (const std::exception& e) {
      std::lock_guard lock(mu);
      scp_error = e.what();
    }
  });
}

Retrieval Retriever::Impl::move(Association& a, T_ASC_PresentationContextID id,
                                const std::string& study_uid, const fs::path& dir) {
  listen();
  Retrieval r;
  r.method = "C-MOVE";
  Receiver rec(dir, r, net.dimse_timeout, options.on_instance);
  {
    std::lock_guard lock(mu);
    receiver = &rec;
    study = study_uid;
    last_store = Clock::now();
  }
  struct Detach {
    Impl& i;
    ~Detach() {
      std::lock_guard lock(i.mu);
      i.receiver = nullptr;
      i.study.clear();
    }
  } detach{*this};
  T_DIMSE_Message req{};
  req.CommandField = DIMSE_C_MOVE_RQ;
  auto& rq = req.msg.CMoveRQ;
  rq.MessageID = a.next_message_id();
  OFStandard::strlcpy(rq.AffectedSOPClassUID, UID_MOVEStudyRootQueryRetrieveInformationModel,
                      sizeof(rq.AffectedSOPClassUID));
  OFStandard::strlcpy(rq.MoveDestination, options.move_aet.c_str(), sizeof(rq.MoveDestination));
  rq.Priority = DIMSE_PRIORITY_MEDIUM;
  rq.DataSetType = DIMSE_DATASET_PRESENT;
  DcmDataset ids = study_identifier(study_uid);
  OFCondition c =
      DIMSE_sendMessageUsingMemoryData(a.get(), id, &req, nullptr, &ids, nullptr, nullptr);
  if (c.bad()) a.fail("C-MOVE of study " + study_uid, c);
  auto last = Clock::now();
  const auto idle = std::chrono::seconds(net.dimse_timeout);
  for (;;) {
    // The PACS may send no pending responses while it stores: silence on
    // this association is fine while instances arrive at the SCP.
    if (!ASC_dataWaiting(a.get(), 1)) {
      std::lock_guard lock(mu);
      if (!scp_error.empty()) {
        a.abort();
        throw Error(Exit::network, fmt::format("C-MOVE destination: {}", scp_error));
      }
      if (Clock::now() - std::max(last, last_store) > idle) {
        a.abort();
        throw Error(Exit::network, fmt::format("{}: C-MOVE of study {}: nothing for {} s", who(),
                                               study_uid, net.dimse_timeout));
      }
      continue;
    }
    last = Clock::now();
    T_DIMSE_Message msg{};
    T_ASC_PresentationContextID pid = 0;
    DcmDataset* detail = nullptr;
    c = DIMSE_receiveCommand(a.get(), DIMSE_NONBLOCKING, net.dimse_timeout, &pid, &msg, &detail);
    delete detail;
    if (c.bad()) a.fail("C-MOVE of study " + study_uid, c);
    if (msg.CommandField != DIMSE_C_MOVE_RSP ||
        msg.msg.CMoveRSP.MessageIDBeingRespondedTo != rq.MessageID) {
      a.abort();
      throw Error(Exit::network,
                  fmt::format("{}: C-MOVE of study {}: unexpected DIMSE command 0x{:04x}", who(),
                              study_uid, static_cast<unsigned>(msg.CommandField)));
    }
    const auto& rsp = msg.msg.CMoveRSP;
    // Counts are read under the lock: the SCP's threads update `received`.
    std::lock_guard lock(mu);
    take_counts(r, rsp, O_MOVE_NUMBEROFCOMPLETEDSUBOPERATIONS, O_MOVE_NUMBEROFFAILEDSUBOPERATIONS,
                O_MOVE_NUMBEROFWARNINGSUBOPERATIONS);
    DcmDataset* rsp_ids = nullptr;
    if (rsp.DataSetType != DIMSE_DATASET_NULL) {
      c = DIMSE_receiveDataSetInMemory(a.get(), DIMSE_NONBLOCKING, net.dimse_timeout, &pid,
                                       &rsp_ids, nullptr, nullptr);
      if (c.bad()) a.fail("C-MOVE of study " + study_uid, c);
    }
    std::unique_ptr<DcmDataset> hold(rsp_ids);
    if (!status_pending(rsp.DimseStatus)) {
      take_failed_list(r, rsp_ids);
      break;
    }
  }
  a.release();
  // Every sub-operation the PACS counted was answered by the SCP, and the
  // SCP answers only once on_stored has run: what arrived is in `rec` now.
  {
    std::lock_guard lock(mu);
    receiver = nullptr;
    study.clear();
  }
  if (r.status == 0xa801)
    throw Error(Exit::pacs_rejected,
                fmt::format("{}: C-MOVE of study {}: refused: move destination unknown (A801): "
                            "the PACS does not know the AE title {}; add it with this host and "
                            "port {} to the PACS's DICOM nodes (Orthanc: DicomModalities)",
                            who(), study_uid, options.move_aet, options.move_port));
  if (!status_success(r.status) && !status_warning(r.status) && r.completed == 0 && r.received == 0)
    r.hint = fmt::format("does the PACS know {} as a C-MOVE destination at this host, port {}?",
                         options.move_aet, options.move_port);
  return r;
}

}  // namespace iep::pacs
