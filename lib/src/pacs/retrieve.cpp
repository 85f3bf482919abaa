#include "iep/pacs/retrieve.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>
#include <fmt/format.h>

#include <chrono>
#include <map>
#include <thread>

#include "iep/core/error.h"
#include "iep/dicom/dicom.h"
#include "pacs/association.h"

namespace fs = std::filesystem;

namespace iep::pacs {

namespace {

using Clock = std::chrono::steady_clock;

std::string trimmed(const char* s) {
  std::string v = s;
  while (!v.empty() && (v.back() == ' ' || v.back() == '\0')) v.pop_back();
  return v;
}

// Every transfer syntax iep takes in as a storage SCP: what the PACS holds
// is what goes into the package.
const std::vector<const char*>& accepted_syntaxes() {
  static const std::vector<const char*> ts = {
      UID_LittleEndianExplicitTransferSyntax,
      UID_LittleEndianImplicitTransferSyntax,
      UID_DeflatedExplicitVRLittleEndianTransferSyntax,
      UID_BigEndianExplicitTransferSyntax,
      UID_JPEGProcess1TransferSyntax,
      UID_JPEGProcess2_4TransferSyntax,
      UID_JPEGProcess14TransferSyntax,
      UID_JPEGProcess14SV1TransferSyntax,
      UID_JPEGLSLosslessTransferSyntax,
      UID_JPEGLSLossyTransferSyntax,
      UID_JPEG2000LosslessOnlyTransferSyntax,
      UID_JPEG2000TransferSyntax,
      UID_RLELosslessTransferSyntax,
      UID_MPEG2MainProfileAtMainLevelTransferSyntax,
      UID_MPEG2MainProfileAtHighLevelTransferSyntax,
      UID_MPEG4HighProfileLevel4_1TransferSyntax,
      UID_MPEG4BDcompatibleHighProfileLevel4_1TransferSyntax,
      UID_MPEG4HighProfileLevel4_2_For2DVideoTransferSyntax,
      UID_MPEG4HighProfileLevel4_2_For3DVideoTransferSyntax,
      UID_MPEG4StereoHighProfileLevel4_2TransferSyntax,
      UID_HEVCMainProfileLevel5_1TransferSyntax,
      UID_HEVCMain10ProfileLevel5_1TransferSyntax,
  };
  return ts;
}

// The presentation contexts of a C-GET: the storage SOP classes with iep as
// SCP. A C-GET association has room for 128 contexts, fewer than there are
// storage SOP classes: every non-retired class of DCMTK's list for storage
// SCUs with the uncompressed syntaxes, and for the common image classes two
// more contexts offering the compressed syntaxes, so that compressed
// instances arrive as stored instead of decompressed by the PACS.
std::vector<Context> storage_contexts(std::size_t room) {
  std::vector<Context> out;
  const std::vector<std::string> jpeg = {
      UID_JPEGProcess14SV1TransferSyntax, UID_JPEGProcess1TransferSyntax,
      UID_JPEGProcess2_4TransferSyntax,   UID_JPEGProcess14TransferSyntax,
      UID_JPEGLSLosslessTransferSyntax,   UID_JPEGLSLossyTransferSyntax,
      UID_RLELosslessTransferSyntax};
  const std::vector<std::string> j2k = {UID_JPEG2000LosslessOnlyTransferSyntax,
                                        UID_JPEG2000TransferSyntax};
  for (const char* common :
       {UID_CTImageStorage, UID_MRImageStorage, UID_ComputedRadiographyImageStorage,
        UID_DigitalXRayImageStorageForPresentation,
        UID_DigitalMammographyXRayImageStorageForPresentation, UID_UltrasoundImageStorage,
        UID_UltrasoundMultiframeImageStorage, UID_SecondaryCaptureImageStorage}) {
    out.push_back({common, jpeg, ASC_SC_ROLE_SCP});
    out.push_back({common, j2k, ASC_SC_ROLE_SCP});
  }
  for (int i = 0; i < numberOfDcmLongSCUStorageSOPClassUIDs && out.size() < room; ++i) {
    const char* uid = dcmLongSCUStorageSOPClassUIDs[i];
    if (std::string(dcmFindNameOfUID(uid, "")).rfind("RETIRED_", 0) == 0) continue;
    out.push_back({uid, uncompressed_syntaxes(), ASC_SC_ROLE_SCP});
  }
  return out;
}

// Receives C-STORE requests into a folder, one file per SOP Instance UID.
class Receiver {
 public:
  Receiver(fs::path dir, Retrieval& r, int timeout)
      : dir_(std::move(dir)), r_(r), timeout_(timeout) {}

  // Handles one C-STORE-RQ (its data set still on the wire). Throws
  // Error(network) when the association broke.
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
    auto [it, fresh] = names_.try_emplace(uid, fmt::format("{:06}.dcm", names_.size() + 1));
    const fs::path final = dir_ / it->second;
    if (!fresh) r_.bytes -= fs::file_size(final, ec);
    fs::rename(tmp, final, ec);
    if (ec) {
      fs::remove(tmp, ec);
      r_.refused.push_back(fmt::format("{}: cannot write: {}", uid, ec.message()));
      names_.erase(uid);
      return;
    }
    r_.bytes += fs::file_size(final, ec);
    r_.received = static_cast<std::uint32_t>(names_.size());
  }

 private:
  fs::path dir_;
  Retrieval& r_;
  int timeout_;
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

struct NetDeleter {
  void operator()(T_ASC_Network* n) const { ASC_dropNetwork(&n); }
};

// An association iep accepted (the C-MOVE destination side).
class Incoming {
 public:
  Incoming() = default;
  ~Incoming() { close(true); }
  Incoming(const Incoming&) = delete;
  Incoming& operator=(const Incoming&) = delete;
  T_ASC_Association* get() const { return a_; }
  explicit operator bool() const { return a_ != nullptr; }
  void reset(T_ASC_Association* a) {
    close(true);
    a_ = a;
  }
  T_ASC_Association* take() {
    auto* a = a_;
    a_ = nullptr;
    return a;
  }
  void close(bool abort) {
    if (!a_) return;
    if (abort) ASC_abortAssociation(a_);
    ASC_dropSCPAssociation(a_);
    ASC_destroyAssociation(&a_);
    a_ = nullptr;
  }

 private:
  T_ASC_Association* a_ = nullptr;
};

}  // namespace

struct Retriever::Impl {
  Peer peer;
  NetOptions net;
  RetrieveOptions options;
  std::unique_ptr<T_ASC_Network, NetDeleter> listener;

  [[nodiscard]] std::string who() const { return peer.to_string(); }

  Retrieval get(Association& a, T_ASC_PresentationContextID id, const std::string& study,
                const fs::path& dir);
  Retrieval move(Association& a, T_ASC_PresentationContextID id, const std::string& study,
                 const fs::path& dir);
  void listen();
  void accept(Incoming& sub);
  // One command on the destination association; closes it on release.
  void serve(Incoming& sub, Receiver& receiver);
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
  Receiver receiver(dir, r, net.dimse_timeout);
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
  if (listener) return;
  T_ASC_Network* n = nullptr;
  const OFCondition c =
      ASC_initializeNetwork(NET_ACCEPTOR, options.move_port, net.acse_timeout, &n);
  if (c.bad())
    throw Error(Exit::usage,
                fmt::format("--move-port {}: cannot listen: {}", options.move_port, c.text()));
  listener.reset(n);
}

void Retriever::Impl::accept(Incoming& sub) {
  T_ASC_Association* s = nullptr;
  OFCondition c = ASC_receiveAssociation(listener.get(), &s, static_cast<long>(net.max_pdu),
                                         nullptr, nullptr, OFFalse, DUL_NOBLOCK, net.acse_timeout);
  Incoming in;
  in.reset(s);
  if (c.bad()) return;
  char calling[65] = {}, called[65] = {};
  ASC_getAPTitles(s->params, calling, sizeof calling, called, sizeof called, nullptr, 0);
  const auto reject = [&](T_ASC_RejectParametersReason reason) {
    T_ASC_RejectParameters rej{ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, reason};
    ASC_rejectAssociation(s, &rej);
    in.close(false);
  };
  // Only the PACS asked, calling us by the destination's AE title.
  if (trimmed(called) != options.move_aet) {
    reject(ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED);
    return;
  }
  if (trimmed(calling) != peer.aet) {
    reject(ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED);
    return;
  }
  const auto& ts = accepted_syntaxes();
  auto** tsv = const_cast<const char**>(ts.data());
  ASC_acceptContextsWithPreferredTransferSyntaxes(s->params, dcmAllStorageSOPClassUIDs,
                                                  numberOfDcmAllStorageSOPClassUIDs, tsv,
                                                  static_cast<int>(ts.size()));
  const char* echo[] = {UID_VerificationSOPClass};
  ASC_acceptContextsWithPreferredTransferSyntaxes(s->params, echo, 1, tsv,
                                                  static_cast<int>(ts.size()));
  c = ASC_acknowledgeAssociation(s);
  if (c.bad()) return;
  sub.reset(in.take());
}

void Retriever::Impl::serve(Incoming& sub, Receiver& receiver) {
  T_DIMSE_Message msg{};
  T_ASC_PresentationContextID pid = 0;
  const OFCondition c =
      DIMSE_receiveCommand(sub.get(), DIMSE_NONBLOCKING, net.dimse_timeout, &pid, &msg, nullptr);
  if (c == DUL_PEERREQUESTEDRELEASE) {
    ASC_acknowledgeRelease(sub.get());
    sub.close(false);
    return;
  }
  if (c.bad()) {
    sub.close(true);
    if (c == DUL_PEERABORTEDASSOCIATION) return;
    throw Error(Exit::network,
                fmt::format("{}: the C-MOVE destination association broke: {}", who(), c.text()));
  }
  if (msg.CommandField == DIMSE_C_STORE_RQ) {
    try {
      receiver.store(sub.get(), pid, msg.msg.CStoreRQ, who());
    } catch (...) {
      sub.close(true);
      throw;
    }
  } else if (msg.CommandField == DIMSE_C_ECHO_RQ) {
    DIMSE_sendEchoResponse(sub.get(), pid, &msg.msg.CEchoRQ, STATUS_Success, nullptr);
  } else {
    sub.close(true);
  }
}

Retrieval Retriever::Impl::move(Association& a, T_ASC_PresentationContextID id,
                                const std::string& study, const fs::path& dir) {
  listen();
  Retrieval r;
  r.method = "C-MOVE";
  Receiver receiver(dir, r, net.dimse_timeout);
  T_DIMSE_Message req{};
  req.CommandField = DIMSE_C_MOVE_RQ;
  auto& rq = req.msg.CMoveRQ;
  rq.MessageID = a.next_message_id();
  OFStandard::strlcpy(rq.AffectedSOPClassUID, UID_MOVEStudyRootQueryRetrieveInformationModel,
                      sizeof(rq.AffectedSOPClassUID));
  OFStandard::strlcpy(rq.MoveDestination, options.move_aet.c_str(), sizeof(rq.MoveDestination));
  rq.Priority = DIMSE_PRIORITY_MEDIUM;
  rq.DataSetType = DIMSE_DATASET_PRESENT;
  DcmDataset ids = study_identifier(study);
  OFCondition c =
      DIMSE_sendMessageUsingMemoryData(a.get(), id, &req, nullptr, &ids, nullptr, nullptr);
  if (c.bad()) a.fail("C-MOVE of study " + study, c);
  Incoming sub;
  auto last = Clock::now();
  const auto idle = std::chrono::seconds(net.dimse_timeout);
  bool done = false;
  // Until the final C-MOVE response, and after it until the destination
  // association (if one is still open or waiting) is released.
  while (!done || sub || ASC_associationWaiting(listener.get(), 0)) {
    if (!sub && ASC_associationWaiting(listener.get(), 0)) {
      accept(sub);
      last = Clock::now();
      continue;
    }
    T_ASC_Association* list[2] = {done ? nullptr : a.get(), sub.get()};
    T_ASC_Association* polled[2];
    int n = 0;
    for (auto* p : list)
      if (p) polled[n++] = p;
    if (n == 0) break;
    // With no destination association open, the PACS may connect any
    // moment: poll the listener every few milliseconds; with one open, the
    // data comes on it.
    const bool readable = sub ? ASC_selectReadableAssociation(polled, n, 1)
                              : ASC_selectReadableAssociation(polled, n, 0);
    if (!readable && !sub) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!readable) {
      if (Clock::now() - last > idle) {
        a.abort();
        throw Error(Exit::network, fmt::format("{}: C-MOVE of study {}: nothing for {} s", who(),
                                               study, net.dimse_timeout));
      }
      continue;
    }
    last = Clock::now();
    for (int i = 0; i < n; ++i) {
      if (!polled[i]) continue;
      if (polled[i] == sub.get()) {
        serve(sub, receiver);
        continue;
      }
      T_DIMSE_Message msg{};
      T_ASC_PresentationContextID pid = 0;
      DcmDataset* detail = nullptr;
      c = DIMSE_receiveCommand(a.get(), DIMSE_NONBLOCKING, net.dimse_timeout, &pid, &msg, &detail);
      delete detail;
      if (c.bad()) a.fail("C-MOVE of study " + study, c);
      if (msg.CommandField != DIMSE_C_MOVE_RSP ||
          msg.msg.CMoveRSP.MessageIDBeingRespondedTo != rq.MessageID) {
        a.abort();
        throw Error(Exit::network,
                    fmt::format("{}: C-MOVE of study {}: unexpected DIMSE command 0x{:04x}", who(),
                                study, static_cast<unsigned>(msg.CommandField)));
      }
      const auto& rsp = msg.msg.CMoveRSP;
      take_counts(r, rsp, O_MOVE_NUMBEROFCOMPLETEDSUBOPERATIONS, O_MOVE_NUMBEROFFAILEDSUBOPERATIONS,
                  O_MOVE_NUMBEROFWARNINGSUBOPERATIONS);
      DcmDataset* rsp_ids = nullptr;
      if (rsp.DataSetType != DIMSE_DATASET_NULL) {
        c = DIMSE_receiveDataSetInMemory(a.get(), DIMSE_NONBLOCKING, net.dimse_timeout, &pid,
                                         &rsp_ids, nullptr, nullptr);
        if (c.bad()) a.fail("C-MOVE of study " + study, c);
      }
      std::unique_ptr<DcmDataset> hold(rsp_ids);
      if (!status_pending(rsp.DimseStatus)) {
        take_failed_list(r, rsp_ids);
        done = true;
      }
    }
  }
  a.release();
  if (r.status == 0xa801)
    throw Error(Exit::pacs_rejected,
                fmt::format("{}: C-MOVE of study {}: refused: move destination unknown (A801): "
                            "the PACS does not know the AE title {}; add it with this host and "
                            "port {} to the PACS's DICOM nodes (Orthanc: DicomModalities)",
                            who(), study, options.move_aet, options.move_port));
  if (!status_success(r.status) && !status_warning(r.status) && r.completed == 0 && r.received == 0)
    r.hint = fmt::format("does the PACS know {} as a C-MOVE destination at this host, port {}?",
                         options.move_aet, options.move_port);
  return r;
}

}  // namespace iep::pacs
