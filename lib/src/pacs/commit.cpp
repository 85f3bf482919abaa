#include "pacs/commit.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>
#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "iep/core/error.h"
#include "pacs/association.h"

namespace iep::pacs {

namespace {

using Clock = std::chrono::steady_clock;

int seconds_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<long long>(1, left));
}

std::string reason_words(std::uint16_t r) {
  switch (r) {
    case 0x0110: return "processing failure (0110)";
    case 0x0112: return "no such object instance (0112)";
    case 0x0213: return "resource limitation (0213)";
    case 0x0122: return "referenced SOP class not supported (0122)";
    case 0x0119: return "class-instance conflict (0119)";
    case 0x0131: return "duplicate transaction UID (0131)";
    default: return fmt::format("failure reason {:04X}", r);
  }
}

// The committed and failed instances of a report, if it is for `transaction`.
bool read_report(DcmDataset& ds, const std::string& transaction, CommitReport& out) {
  OFString uid;
  if (ds.findAndGetOFString(DCM_TransactionUID, uid).bad() || transaction != uid.c_str())
    return false;
  DcmItem* item = nullptr;
  for (unsigned long i = 0;
       ds.findAndGetSequenceItem(DCM_ReferencedSOPSequence, item, static_cast<int>(i)).good() &&
       item;
       ++i) {
    OFString sop;
    if (item->findAndGetOFString(DCM_ReferencedSOPInstanceUID, sop).good())
      out.committed.emplace_back(sop.c_str());
    if (i > 10'000'000) break;
  }
  for (unsigned long i = 0;
       ds.findAndGetSequenceItem(DCM_FailedSOPSequence, item, static_cast<int>(i)).good() && item;
       ++i) {
    OFString sop;
    Uint16 reason = 0;
    item->findAndGetOFString(DCM_ReferencedSOPInstanceUID, sop);
    item->findAndGetUint16(DCM_FailureReason, reason);
    out.failed[sop.c_str()] = reason_words(reason);
    if (i > 10'000'000) break;
  }
  return true;
}

// Answers an N-EVENT-REPORT and returns its data set (null if it had none).
std::unique_ptr<DcmDataset> take_event(T_ASC_Association* assoc, T_ASC_PresentationContextID pc,
                                       T_DIMSE_Message& msg, int timeout) {
  const T_DIMSE_N_EventReportRQ& rq = msg.msg.NEventReportRQ;
  DcmDataset* ds = nullptr;
  if (rq.DataSetType != DIMSE_DATASET_NULL) {
    T_ASC_PresentationContextID dpc = 0;
    if (DIMSE_receiveDataSetInMemory(assoc, DIMSE_NONBLOCKING, timeout, &dpc, &ds, nullptr, nullptr)
            .bad())
      return nullptr;
  }
  T_DIMSE_Message rsp{};
  rsp.CommandField = DIMSE_N_EVENT_REPORT_RSP;
  auto& r = rsp.msg.NEventReportRSP;
  r.MessageIDBeingRespondedTo = rq.MessageID;
  OFStandard::strlcpy(r.AffectedSOPClassUID, rq.AffectedSOPClassUID, sizeof r.AffectedSOPClassUID);
  OFStandard::strlcpy(r.AffectedSOPInstanceUID, rq.AffectedSOPInstanceUID,
                      sizeof r.AffectedSOPInstanceUID);
  r.DimseStatus = 0;
  r.EventTypeID = rq.EventTypeID;
  r.DataSetType = DIMSE_DATASET_NULL;
  r.opts = O_NEVENTREPORT_AFFECTEDSOPCLASSUID | O_NEVENTREPORT_AFFECTEDSOPINSTANCEUID |
           O_NEVENTREPORT_EVENTTYPEID;
  DIMSE_sendMessageUsingMemoryData(assoc, pc, &rsp, nullptr, nullptr, nullptr, nullptr);
  return std::unique_ptr<DcmDataset>(ds);
}

// A port of ours the PACS connects to with its report.
class Listener {
 public:
  Listener(std::uint16_t port, const NetOptions& net) : net_opts_(net) {
    const OFCondition c = ASC_initializeNetwork(NET_ACCEPTOR, port, net.acse_timeout, &net_);
    if (c.bad())
      throw Error(Exit::usage, fmt::format("--commit-port {}: cannot listen for the report: {}",
                                           port, c.text()));
  }
  ~Listener() {
    if (net_) ASC_dropNetwork(&net_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Takes associations until one brings the report for `transaction`.
  bool wait(const std::string& transaction, Clock::time_point deadline, CommitReport& out) {
    while (Clock::now() < deadline) {
      T_ASC_Association* assoc = nullptr;
      OFCondition c =
          ASC_receiveAssociation(net_, &assoc, static_cast<long>(net_opts_.max_pdu), nullptr,
                                 nullptr, OFFalse, DUL_NOBLOCK, seconds_left(deadline));
      if (c.bad()) {
        if (assoc) ASC_destroyAssociation(&assoc);
        continue;
      }
      const char* classes[] = {UID_StorageCommitmentPushModelSOPClass};
      const char* syntaxes[] = {UID_LittleEndianExplicitTransferSyntax,
                                UID_LittleEndianImplicitTransferSyntax};
      ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, classes, 1, syntaxes, 2);
      if (ASC_acknowledgeAssociation(assoc).bad()) {
        ASC_dropSCPAssociation(assoc);
        ASC_destroyAssociation(&assoc);
        continue;
      }
      bool found = false;
      for (;;) {
        T_DIMSE_Message msg{};
        T_ASC_PresentationContextID pc = 0;
        c = DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING, seconds_left(deadline), &pc, &msg,
                                 nullptr);
        if (c == DUL_PEERREQUESTEDRELEASE) {
          ASC_acknowledgeRelease(assoc);
          break;
        }
        if (c.bad()) {
          ASC_abortAssociation(assoc);
          break;
        }
        if (msg.CommandField != DIMSE_N_EVENT_REPORT_RQ) continue;
        auto ds = take_event(assoc, pc, msg, seconds_left(deadline));
        if (ds && read_report(*ds, transaction, out)) found = true;
      }
      ASC_dropSCPAssociation(assoc);
      ASC_destroyAssociation(&assoc);
      if (found) return true;
    }
    return false;
  }

 private:
  NetOptions net_opts_;
  T_ASC_Network* net_ = nullptr;
};

}  // namespace

CommitReport storage_commit(const Peer& peer, const NetOptions& net, const CommitRequest& req) {
  init_dcmtk_network();
  std::unique_ptr<Listener> listener;
  if (req.listen_port != 0) listener = std::make_unique<Listener>(req.listen_port, net);
  const auto deadline = Clock::now() + std::chrono::seconds(req.timeout);

  std::unique_ptr<Association> opened;
  try {
    opened = std::make_unique<Association>(
        peer, net,
        std::vector<Context>{{UID_StorageCommitmentPushModelSOPClass, uncompressed_syntaxes()}});
  } catch (const Error& e) {
    if (e.code() != Exit::pacs_rejected) throw;
    throw Error(e.code(), std::string(e.what()) + " (for storage commitment)");
  }
  Association& a = *opened;
  const T_ASC_PresentationContextID pc = a.accepted(UID_StorageCommitmentPushModelSOPClass);
  if (pc == 0)
    throw Error(Exit::pacs_rejected,
                peer.to_string() + ": storage commitment: the peer does not offer it");
  char transaction[100];
  dcmGenerateUniqueIdentifier(transaction, SITE_INSTANCE_UID_ROOT);
  DcmDataset info;
  info.putAndInsertString(DCM_TransactionUID, transaction);
  for (const auto& [cls, sop] : req.instances) {
    auto* item = new DcmItem();
    item->putAndInsertString(DCM_ReferencedSOPClassUID, cls.c_str());
    item->putAndInsertString(DCM_ReferencedSOPInstanceUID, sop.c_str());
    info.insertSequenceItem(DCM_ReferencedSOPSequence, item);
  }
  T_DIMSE_Message msg{};
  msg.CommandField = DIMSE_N_ACTION_RQ;
  auto& rq = msg.msg.NActionRQ;
  rq.MessageID = a.next_message_id();
  OFStandard::strlcpy(rq.RequestedSOPClassUID, UID_StorageCommitmentPushModelSOPClass,
                      sizeof rq.RequestedSOPClassUID);
  OFStandard::strlcpy(rq.RequestedSOPInstanceUID, UID_StorageCommitmentPushModelSOPInstance,
                      sizeof rq.RequestedSOPInstanceUID);
  rq.ActionTypeID = 1;
  rq.DataSetType = DIMSE_DATASET_PRESENT;
  OFCondition c =
      DIMSE_sendMessageUsingMemoryData(a.get(), pc, &msg, nullptr, &info, nullptr, nullptr);
  if (c.bad()) a.fail("storage commitment N-ACTION", c);

  CommitReport out;
  bool reported = false;
  // The N-ACTION's response; the report may follow on this association
  // (with a listener, it is awaited there instead).
  while (!reported && Clock::now() < deadline) {
    T_DIMSE_Message in{};
    T_ASC_PresentationContextID ipc = 0;
    DcmDataset* detail = nullptr;
    c = DIMSE_receiveCommand(a.get(), DIMSE_NONBLOCKING, seconds_left(deadline), &ipc, &in,
                             &detail);
    delete detail;
    if (c == DIMSE_NODATAAVAILABLE) break;  // the timeout
    if (c.bad()) a.fail("storage commitment", c);
    if (in.CommandField == DIMSE_N_ACTION_RSP) {
      const auto& rsp = in.msg.NActionRSP;
      if (rsp.DataSetType != DIMSE_DATASET_NULL) {
        DcmDataset* extra = nullptr;
        DIMSE_receiveDataSetInMemory(a.get(), DIMSE_NONBLOCKING, seconds_left(deadline), &ipc,
                                     &extra, nullptr, nullptr);
        delete extra;
      }
      if (!status_success(rsp.DimseStatus) && !status_warning(rsp.DimseStatus))
        throw Error(Exit::instances_failed,
                    fmt::format("{}: storage commitment refused: {}", peer.to_string(),
                                status_text(rsp.DimseStatus)));
      if (listener) break;
    } else if (in.CommandField == DIMSE_N_EVENT_REPORT_RQ) {
      auto ds = take_event(a.get(), ipc, in, seconds_left(deadline));
      if (ds && read_report(*ds, transaction, out)) reported = true;
    }
  }
  a.release();
  if (!reported && listener) reported = listener->wait(transaction, deadline, out);
  if (!reported)
    throw Error(
        Exit::instances_failed,
        fmt::format("{}: no storage commitment report within {}s{}", peer.to_string(), req.timeout,
                    listener ? fmt::format(" (on this association or port {})", req.listen_port)
                             : " on this association (give --commit-port if the PACS "
                               "reports on an association of its own)"));
  return out;
}

}  // namespace iep::pacs
