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

#include <mutex>
#include <thread>

#include "../../lib/src/pacs/association.h"
#include "iep/dicom/dicom.h"
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
  iep::pacs::Peer peer{"IEP_GW", "127.0.0.1", r.scp->port()};
  iep::pacs::NetOptions net;
  net.calling_aet = "COMMITTER";
  iep::pacs::Association a(peer, net,
                           {{UID_StorageCommitmentPushModelSOPClass,
                             iep::pacs::uncompressed_syntaxes(), ASC_SC_ROLE_DEFAULT}});
  const auto pres = a.accepted(UID_StorageCommitmentPushModelSOPClass);
  REQUIRE(pres != 0);
  DcmDataset ds;
  ds.putAndInsertString(DCM_TransactionUID, "1.2.826.0.1.99");
  for (const char* uid : {"1.2.3.4", "1.2.3.5"}) {
    DcmItem* item = nullptr;
    REQUIRE(ds.findOrCreateSequenceItem(DCM_ReferencedSOPSequence, item, -2).good());
    item->putAndInsertString(DCM_ReferencedSOPClassUID, UID_CTImageStorage);
    item->putAndInsertString(DCM_ReferencedSOPInstanceUID, uid);
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
  CHECK(ev.msg.NEventReportRQ.EventTypeID == 2);  // some failed
  DcmDataset* report = nullptr;
  REQUIRE(DIMSE_receiveDataSetInMemory(a.get(), DIMSE_BLOCKING, 0, &p, &report, nullptr, nullptr)
              .good());
  std::unique_ptr<DcmDataset> owned(report);
  DcmSequenceOfItems* good = nullptr;
  DcmSequenceOfItems* failed = nullptr;
  REQUIRE(report->findAndGetSequence(DCM_ReferencedSOPSequence, good).good());
  REQUIRE(report->findAndGetSequence(DCM_FailedSOPSequence, failed).good());
  OFString uid;
  REQUIRE(good->card() == 1);
  good->getItem(0)->findAndGetOFString(DCM_ReferencedSOPInstanceUID, uid);
  CHECK(uid == "1.2.3.4");
  REQUIRE(failed->card() == 1);
  failed->getItem(0)->findAndGetOFString(DCM_ReferencedSOPInstanceUID, uid);
  CHECK(uid == "1.2.3.5");
  Uint16 reason = 0;
  failed->getItem(0)->findAndGetUint16(DCM_FailureReason, reason);
  CHECK(reason == 0x0112);
  a.release();
  CHECK(asked == std::vector<std::string>{"1.2.3.4", "1.2.3.5"});
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
