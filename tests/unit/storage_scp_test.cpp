// The storage SCP (lib/src/pacs/storage_scp.h) against DCMTK's storescu,
// dcmsend and echoscu as pushing peers, and our own Association as a
// storage commitment requester: real associations on loopback.
#include "../../lib/src/pacs/storage_scp.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/dimse.h>
#include <doctest/doctest.h>

#include <csignal>
#include <mutex>
#include <thread>

#include "../../lib/src/pacs/association.h"
#include "iep/dicom/dicom.h"
#include "iep/package/site.h"
#include "iep/pacs/gateway.h"
#include "test_util.h"

namespace fs = std::filesystem;
using iep::pacs::StorageScp;
using iep::pacs::StorageScpOptions;
using iep::pacs::StoredInstance;
using iep::test::quote;
using iep::test::run;

namespace {

// A StorageScp running on its own thread for the life of the object.
struct Running {
  std::mutex mu;
  std::vector<StoredInstance> stored;
  std::vector<std::string> log;
  std::unique_ptr<StorageScp> scp;
  std::thread thread;

  explicit Running(StorageScpOptions o) {
    o.host = "127.0.0.1";
    o.on_stored = [this](const StoredInstance& s) {
      std::lock_guard l(mu);
      stored.push_back(s);
    };
    o.log = [this](const std::string& line) {
      std::lock_guard l(mu);
      log.push_back(line);
    };
    o.net.dimse_timeout = 10;
    o.net.acse_timeout = 10;
    scp = std::make_unique<StorageScp>(std::move(o));
    thread = std::thread([this] { scp->run(); });
  }
  ~Running() {
    scp->stop();
    thread.join();
  }
  [[nodiscard]] std::string port() const { return std::to_string(scp->port()); }
  std::string logged() {
    std::lock_guard l(mu);
    std::string all;
    for (const auto& s : log) all += s + "\n";
    return all;
  }
};

std::size_t files_under(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) ++n;
  return n;
}

StorageScpOptions options(const fs::path& dir) {
  StorageScpOptions o;
  o.dir = dir;
  o.called_aets = {"IEP_GW"};
  o.min_free_bytes = 1 << 20;
  return o;
}

}  // namespace

TEST_CASE("storescu pushes two instances: each durable under STUDY/SOP.dcm, reported once") {
  const fs::path dir = iep::test::scratch("scp-basic");
  Running r(options(dir / "in"));
  const auto ct = iep::test::kPydicom / "CT_small.dcm";
  const auto mr = iep::test::kPydicom / "MR_small.dcm";
  const auto res = run("storescu -aet PUSHER -aec IEP_GW 127.0.0.1 " + r.port() + " " +
                           quote(ct.string()) + " " + quote(mr.string()),
                       dir);
  CHECK_MESSAGE(res.status == 0, res.err);
  std::lock_guard l(r.mu);
  REQUIRE(r.stored.size() == 2);
  for (const auto& s : r.stored) {
    CHECK(s.from.called_aet == "IEP_GW");
    CHECK(s.from.calling_aet == "PUSHER");
    CHECK(fs::exists(s.path));
    CHECK(s.path == dir / "in" / s.study_instance_uid / (s.sop_instance_uid + ".dcm"));
    const auto info = iep::dicom::scan(s.path);
    CHECK(info.sop_instance_uid == s.sop_instance_uid);
  }
  CHECK(iep::dicom::scan(ct).sop_instance_uid == r.stored[0].sop_instance_uid);
  CHECK(fs::is_empty(dir / "in" / ".incoming"));
}

TEST_CASE("a compressed instance is kept in its transfer syntax") {
  const fs::path dir = iep::test::scratch("scp-jpeg");
  Running r(options(dir / "in"));
  const auto jpeg = iep::test::kPydicom / "SC_rgb_jpeg_dcmtk.dcm";
  const std::string ts = iep::dicom::scan(jpeg).transfer_syntax_uid;
  REQUIRE(ts != UID_LittleEndianExplicitTransferSyntax);
  // dcmsend proposes the file's own transfer syntax.
  const auto res = run(
      "dcmsend -aet PUSHER -aec IEP_GW 127.0.0.1 " + r.port() + " " + quote(jpeg.string()), dir);
  CHECK_MESSAGE(res.status == 0, res.err);
  std::lock_guard l(r.mu);
  REQUIRE(r.stored.size() == 1);
  CHECK(iep::dicom::scan(r.stored[0].path).transfer_syntax_uid == ts);
}

TEST_CASE("an unknown called AE title is rejected; C-ECHO works for a known one") {
  const fs::path dir = iep::test::scratch("scp-aet");
  Running r(options(dir / "in"));
  const auto ct = iep::test::kPydicom / "CT_small.dcm";
  auto res =
      run("storescu -aet PUSHER -aec NOBODY 127.0.0.1 " + r.port() + " " + quote(ct.string()), dir);
  CHECK(res.status != 0);
  CHECK_MESSAGE(res.err.find("Called AE Title Not Recognized") != std::string::npos, res.err);
  CHECK(files_under(dir / "in") == 0);
  CHECK(r.logged().find("rejected: called AE title not recognized") != std::string::npos);
  res = run("echoscu -aet PUSHER -aec IEP_GW 127.0.0.1 " + r.port(), dir);
  CHECK_MESSAGE(res.status == 0, res.err);
}

TEST_CASE("an instance past the size bound aborts its association and leaves nothing") {
  const fs::path dir = iep::test::scratch("scp-big");
  auto o = options(dir / "in");
  o.max_instance_size = 4096;
  Running r(std::move(o));
  const auto ct = iep::test::kPydicom / "CT_small.dcm";  // 39 KB
  const auto res =
      run("storescu -aet PUSHER -aec IEP_GW 127.0.0.1 " + r.port() + " " + quote(ct.string()), dir);
  CHECK(res.status != 0);
  CHECK(files_under(dir / "in") == 0);
  CHECK(r.logged().find("is larger than") != std::string::npos);
  std::lock_guard l(r.mu);
  CHECK(r.stored.empty());
}

TEST_CASE("a nearly full disk refuses instances with A700 (out of resources)") {
  const fs::path dir = iep::test::scratch("scp-full");
  auto o = options(dir / "in");
  o.min_free_bytes = std::uint64_t{1} << 62;
  Running r(std::move(o));
  const auto ct = iep::test::kPydicom / "CT_small.dcm";
  const auto res = run("storescu -v -aet PUSHER -aec IEP_GW 127.0.0.1 " + r.port() + " " +
                           quote(ct.string()) + " 2>&1",
                       dir);
  CHECK_MESSAGE(res.out.find("Refused: OutOfResources") != std::string::npos, res.out);
  CHECK(files_under(dir / "in") == 0);
  CHECK_MESSAGE(r.logged().find("out of resources (A700)") != std::string::npos, r.logged());
}

// Asks `port` (called AE IEP_GW or `called`) to commit `uids` (CT image
// storage); returns the instances reported committed and failed, in order.
struct Report {
  std::vector<std::string> committed, failed;
  std::vector<Uint16> reasons;
  Uint16 event = 0;
};
Report request_commitment(std::uint16_t port, const std::vector<std::string>& uids,
                          const std::string& called = "IEP_GW") {
  iep::pacs::Peer peer{called, "127.0.0.1", port};
  iep::pacs::NetOptions net;
  net.calling_aet = "COMMITTER";
  iep::pacs::Association a(peer, net,
                           {{UID_StorageCommitmentPushModelSOPClass,
                             iep::pacs::uncompressed_syntaxes(), ASC_SC_ROLE_DEFAULT}});
  const auto pres = a.accepted(UID_StorageCommitmentPushModelSOPClass);
  REQUIRE(pres != 0);
  DcmDataset ds;
  ds.putAndInsertString(DCM_TransactionUID, "1.2.826.0.1.99");
  for (const auto& uid : uids) {
    DcmItem* item = nullptr;
    REQUIRE(ds.findOrCreateSequenceItem(DCM_ReferencedSOPSequence, item, -2).good());
    item->putAndInsertString(DCM_ReferencedSOPClassUID, UID_CTImageStorage);
    item->putAndInsertString(DCM_ReferencedSOPInstanceUID, uid.c_str());
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
  REQUIRE(
      DIMSE_sendMessageUsingMemoryData(a.get(), pres, &msg, nullptr, &ds, nullptr, nullptr).good());
  T_DIMSE_Message rsp{};
  T_ASC_PresentationContextID p = 0;
  REQUIRE(DIMSE_receiveCommand(a.get(), DIMSE_BLOCKING, 0, &p, &rsp, nullptr).good());
  REQUIRE(rsp.CommandField == DIMSE_N_ACTION_RSP);
  CHECK(rsp.msg.NActionRSP.DimseStatus == STATUS_Success);
  T_DIMSE_Message ev{};
  REQUIRE(DIMSE_receiveCommand(a.get(), DIMSE_BLOCKING, 0, &p, &ev, nullptr).good());
  REQUIRE(ev.CommandField == DIMSE_N_EVENT_REPORT_RQ);
  Report out;
  out.event = ev.msg.NEventReportRQ.EventTypeID;
  DcmDataset* report = nullptr;
  REQUIRE(DIMSE_receiveDataSetInMemory(a.get(), DIMSE_BLOCKING, 0, &p, &report, nullptr, nullptr)
              .good());
  std::unique_ptr<DcmDataset> owned(report);
  OFString tuid;
  report->findAndGetOFString(DCM_TransactionUID, tuid);
  CHECK(tuid == "1.2.826.0.1.99");
  for (const auto& [tag, list] : {std::pair{DCM_ReferencedSOPSequence, &out.committed},
                                  {DCM_FailedSOPSequence, &out.failed}}) {
    DcmSequenceOfItems* seq = nullptr;
    if (report->findAndGetSequence(tag, seq).bad() || !seq) continue;
    for (unsigned long i = 0; i < seq->card(); ++i) {
      OFString uid;
      seq->getItem(i)->findAndGetOFString(DCM_ReferencedSOPInstanceUID, uid);
      list->push_back(uid.c_str());
      Uint16 reason = 0;
      if (seq->getItem(i)->findAndGetUint16(DCM_FailureReason, reason).good())
        out.reasons.push_back(reason);
    }
  }
  // Answer the report, then release.
  T_DIMSE_Message ack{};
  ack.CommandField = DIMSE_N_EVENT_REPORT_RSP;
  auto& ar = ack.msg.NEventReportRSP;
  ar.MessageIDBeingRespondedTo = ev.msg.NEventReportRQ.MessageID;
  OFStandard::strlcpy(ar.AffectedSOPClassUID, UID_StorageCommitmentPushModelSOPClass,
                      sizeof ar.AffectedSOPClassUID);
  OFStandard::strlcpy(ar.AffectedSOPInstanceUID, UID_StorageCommitmentPushModelSOPInstance,
                      sizeof ar.AffectedSOPInstanceUID);
  ar.DimseStatus = STATUS_Success;
  ar.EventTypeID = ev.msg.NEventReportRQ.EventTypeID;
  ar.DataSetType = DIMSE_DATASET_NULL;
  ar.opts = O_NEVENTREPORT_AFFECTEDSOPCLASSUID | O_NEVENTREPORT_AFFECTEDSOPINSTANCEUID |
            O_NEVENTREPORT_EVENTTYPEID;
  CHECK(DIMSE_sendMessageUsingMemoryData(a.get(), p, &ack, nullptr, nullptr, nullptr, nullptr)
            .good());
  a.release();
  return out;
}

TEST_CASE("a storage commitment request is answered on the same association") {
  const fs::path dir = iep::test::scratch("scp-commit");
  auto o = options(dir / "in");
  std::vector<std::string> asked;
  o.on_commitment = [&](const iep::pacs::CommitmentRequest& req) {
    std::vector<bool> ok;
    for (const auto& it : req.items) {
      asked.push_back(it.sop_instance_uid);
      ok.push_back(it.sop_instance_uid == "1.2.3.4");
    }
    return ok;
  };
  Running r(std::move(o));
  const Report rep = request_commitment(r.scp->port(), {"1.2.3.4", "1.2.3.5"});
  CHECK(rep.event == 2);  // some failed
  CHECK(rep.committed == std::vector<std::string>{"1.2.3.4"});
  CHECK(rep.failed == std::vector<std::string>{"1.2.3.5"});
  CHECK(rep.reasons == std::vector<Uint16>{0x0112});
  CHECK(asked == std::vector<std::string>{"1.2.3.4", "1.2.3.5"});
  CHECK(r.logged().find("storage commitment 1.2.826.0.1.99: 1 of 2 instance(s) committed") !=
        std::string::npos);
}

TEST_CASE("several associations at once; more than the bound are rejected, none lost") {
  const fs::path dir = iep::test::scratch("scp-many");
  auto o = options(dir / "in");
  o.max_associations = 2;
  Running r(std::move(o));
  // Four senders at once, each retried until accepted (storescu exits
  // non-zero on a rejected association).
  const auto ct = iep::test::kPydicom / "CT_small.dcm";
  const auto mr = iep::test::kPydicom / "MR_small.dcm";
  std::string cmd;
  for (int i = 0; i < 4; ++i)
    cmd += "( for n in $(seq 300); do storescu -aet P" + std::to_string(i) +
           " -aec IEP_GW 127.0.0.1 " + r.port() + " " + quote(i % 2 ? ct.string() : mr.string()) +
           " && exit 0; sleep 0.1; done; echo gave up >&2; exit 1 ) & pids=\"$pids $!\"; ";
  cmd += "fail=0; for p in $pids; do wait $p || fail=1; done; exit $fail";
  const auto res = run("bash -c " + quote(cmd), dir);
  CHECK_MESSAGE(res.status == 0, std::string(res.err + r.logged()));
  CHECK(files_under(dir / "in") == 2);  // the same two instances, stored once each
  std::lock_guard l(r.mu);
  CHECK(r.stored.size() == 4);
}

TEST_CASE("iep-gateway: a study its sender committed whole is packed before the quiet period") {
  const fs::path dir = iep::test::scratch("gw-commit");
  const iep::SiteIdentity self = iep::SiteIdentity::generate("trust-a");
  iep::pacs::GatewayOptions o;
  o.data = dir / "gw";
  o.host = "127.0.0.1";
  o.port = 0;
  o.port_file = dir / "port";
  o.routes = {{"IEP_GW", "trust-b"}};
  o.quiet_seconds = 3600;  // only the commitment can complete the study here
  o.self = &self;
  o.min_free_bytes = 1 << 20;
  // run_gateway takes SIGTERM with sigtimedwait: every thread blocks it.
  sigset_t sigs, old;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, &old);
  std::thread gw([&] { iep::pacs::run_gateway(o); });
  for (int i = 0; i < 300 && !fs::exists(o.port_file); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(fs::exists(o.port_file));
  const std::string port = iep::test::read_file(o.port_file);
  const auto ct = iep::test::kPydicom / "CT_small.dcm";
  const auto res = run("storescu -aet PUSHER -aec IEP_GW 127.0.0.1 " +
                           port.substr(0, port.find('\n')) + " " + quote(ct.string()),
                       dir);
  CHECK_MESSAGE(res.status == 0, res.err);
  const std::string sop = iep::dicom::scan(ct).sop_instance_uid;
  const Report rep =
      request_commitment(static_cast<std::uint16_t>(std::stoi(port)), {sop, "1.2.3.999"});
  CHECK(rep.committed == std::vector<std::string>{sop});
  CHECK(rep.failed == std::vector<std::string>{"1.2.3.999"});
  const fs::path outbox = o.data / "outbox" / "trust-b";
  const auto packed = [&] { return fs::exists(outbox) && !fs::is_empty(outbox); };
  for (int i = 0; i < 300 && !packed(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(packed());
  // Asked again once it was packed: still held, so committed.
  CHECK(request_commitment(static_cast<std::uint16_t>(std::stoi(port)), {sop}).committed ==
        std::vector<std::string>{sop});
  ::kill(::getpid(), SIGTERM);
  gw.join();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  CHECK(fs::exists(o.data / "packed" / "trust-b" / iep::dicom::scan(ct).study_instance_uid));
}

TEST_CASE("DICOM over TLS: storescu with TLS stores; without TLS it does not") {
  const fs::path dir = iep::test::scratch("scp-tls");
  const auto made =
      run("openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 "
          "-subj /CN=iep-gateway >/dev/null 2>&1",
          dir);
  REQUIRE_MESSAGE(made.status == 0, made.err);
  auto o = options(dir / "in");
  o.net.tls_cert = (dir / "cert.pem").string();
  o.net.tls_key = (dir / "key.pem").string();
  Running r(std::move(o));
  const auto ct = iep::test::kPydicom / "CT_small.dcm";
  auto res = run("storescu +tla +cf cert.pem -aet PUSHER -aec IEP_GW localhost " + r.port() + " " +
                     quote(ct.string()),
                 dir);
  CHECK_MESSAGE(res.status == 0, res.err);
  res = run("storescu -to 10 -ta 10 -aet PUSHER -aec IEP_GW 127.0.0.1 " + r.port() + " " +
                quote(ct.string()),
            dir);
  CHECK(res.status != 0);
  std::lock_guard l(r.mu);
  CHECK(r.stored.size() == 1);
}
