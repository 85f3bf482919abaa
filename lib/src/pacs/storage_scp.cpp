#include "pacs/storage_scp.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcostrmf.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dulstruc.h>
#include <dcmtk/dcmtls/tlslayer.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <random>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/dicom/dicom.h"
#include "pacs/association.h"

namespace iep::pacs {

namespace {

namespace fs = std::filesystem;

// A UID that can name a file: 1-64 digits and dots.
bool path_uid(const std::string& uid) {
  if (uid.empty() || uid.size() > 64 || uid.front() == '.') return false;
  for (char c : uid)
    if ((c < '0' || c > '9') && c != '.') return false;
  return true;
}

std::uint64_t free_bytes(const fs::path& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

// Cuts an association's connection from inside a DIMSE progress callback:
// the reads below it then fail and the call returns an error.
// (DCMTK keeps the socket of a connection protected: a member pointer taken
// in a derived class reaches it.)
struct SocketOf : DcmTransportConnection {
  static DcmNativeSocketType of(DcmTransportConnection& c) { return (c.*(&SocketOf::getSocket))(); }
};
void cut(T_ASC_Association* assoc) {
  auto* key = reinterpret_cast<PRIVATE_ASSOCIATIONKEY*>(assoc->DULassociation);
  if (key && key->connection) ::shutdown(SocketOf::of(*key->connection), SHUT_RDWR);
}

struct Receiving {
  T_ASC_Association* assoc;
  std::uint64_t limit;
  std::function<void()> before_cut;  // past the limit, before the connection is cut
  std::uint64_t bytes = 0;
  bool over = false;
};

void on_progress(void* ctx, unsigned long bytes) {
  auto* r = static_cast<Receiving*>(ctx);
  r->bytes = bytes;
  if (!r->over && r->bytes > r->limit) {
    r->over = true;
    if (r->before_cut) r->before_cut();
    cut(r->assoc);
  }
}

std::string unique_name() {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{}-{}-{:016x}.part", ::getpid(), counter.fetch_add(1), rng());
}

void fsync_file(const fs::path& p) {
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0)
    throw Error(Exit::output, fmt::format("{}: cannot sync: {}", p.string(), std::strerror(errno)));
}

// A listening socket on HOST:PORT (any address when HOST is empty).
UniqueFd listen_on(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  const int rc =
      ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  const std::string where = fmt::format("{}:{}", host.empty() ? "*" : host, port);
  if (rc != 0) throw Error(Exit::usage, fmt::format("--listen {}: {}", where, ::gai_strerror(rc)));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, ::freeaddrinfo);
  // Prefer IPv6 with dual stack when no host is given.
  std::string last = "no address";
  for (int pass = 0; pass < 2; ++pass) {
    for (addrinfo* a = res; a; a = a->ai_next) {
      if ((pass == 0) != (a->ai_family == AF_INET6)) continue;
      UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
      if (fd.get() < 0) {
        last = std::strerror(errno);
        continue;
      }
      int one = 1, zero = 0;
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      // Accepted connections inherit it (DCMTK sets it too, from the
      // TCP_NODELAY variable that init_dcmtk_network() sets).
      ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (a->ai_family == AF_INET6 && host.empty())
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
      if (::bind(fd.get(), a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd.get(), 64) != 0) {
        last = std::strerror(errno);
        continue;
      }
      return fd;
    }
  }
  throw Error(Exit::pacs_unreachable, fmt::format("cannot listen on {}: {}", where, last));
}

std::uint16_t port_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

// The transfer syntax to accept for a proposed storage context: the first
// one the peer proposed that DCMTK knows (peers list their preferred first;
// compressed data is kept as sent).
const char* pick_syntax(const T_ASC_PresentationContext& pc, bool storage) {
  if (storage) {
    for (int i = 0; i < pc.transferSyntaxCount; ++i)
      if (DcmXfer(pc.proposedTransferSyntaxes[i]).getXfer() != EXS_Unknown)
        return pc.proposedTransferSyntaxes[i];
    return nullptr;
  }
  for (const char* want :
       {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax})
    for (int i = 0; i < pc.transferSyntaxCount; ++i)
      if (std::strcmp(pc.proposedTransferSyntaxes[i], want) == 0)
        return pc.proposedTransferSyntaxes[i];
  return nullptr;
}

bool storage_class(const char* uid) {
  return dcmIsaStorageSOPClassUID(uid, ESSC_All) ||
         std::strncmp(uid, "1.2.840.10008.5.1.4.1.1.", 24) == 0;
}

std::string trimmed(const char* s) {
  std::string t(s);
  while (!t.empty() && t.back() == ' ') t.pop_back();
  while (!t.empty() && t.front() == ' ') t.erase(0, 1);
  return t;
}

}  // namespace

StorageScp::StorageScp(StorageScpOptions options) : o_(std::move(options)) {
  init_dcmtk_network();
  std::error_code ec;
  fs::create_directories(o_.dir / ".incoming", ec);
  if (ec)
    throw Error(Exit::output, fmt::format("{}: cannot create: {}", o_.dir.string(), ec.message()));
  o_.dir = fs::absolute(o_.dir);
  // Instances that were arriving when a previous run died were never
  // acknowledged: their senders send them again.
  for (const auto& e : fs::directory_iterator(o_.dir / ".incoming", ec)) fs::remove(e.path(), ec);

  UniqueFd sock = listen_on(o_.host, o_.port);
  port_ = port_of(sock.get());
  // Several acceptors take connections from the one socket, each through a
  // DCMTK network of its own (DCMTK reads the association request on the
  // thread that accepted): a peer that connects and stays silent holds one
  // of them for at most the ACSE timeout, not the whole gateway. The socket
  // is non-blocking, so an acceptor that loses the race returns at once.
  ::fcntl(sock.get(), F_SETFL, ::fcntl(sock.get(), F_GETFL) | O_NONBLOCK);
  tls_ = make_tls(o_.net, NET_ACCEPTOR);
  const int n = std::clamp(o_.max_associations, 1, 4);
  try {
    add_networks(sock.get(), n);
  } catch (...) {
    for (auto* net : nets_) ASC_dropNetwork(&net);
    throw;
  }
}

void StorageScp::add_networks(int sock, int n) {
  for (int i = 0; i < n; ++i) {
    T_ASC_Network* net = nullptr;
    OFCondition c = ASC_initializeNetwork(NET_ACCEPTOR, 0, o_.net.acse_timeout, &net);
    if (c.bad()) throw Error(Exit::internal, fmt::format("DICOM network: {}", c.text()));
    nets_.push_back(net);
    // DCMTK bound a socket of its own (any address, any port); ours takes
    // its place, so that HOST, PORT and IPv6 are honoured.
    auto* key = reinterpret_cast<PRIVATE_NETWORKKEY*>(net->network);
    if (::dup2(sock, key->networkSpecific.TCP.listenSocket) < 0)
      throw Error(Exit::internal, fmt::format("DICOM network: {}", std::strerror(errno)));
    ::fcntl(key->networkSpecific.TCP.listenSocket, F_SETFD, FD_CLOEXEC);
    if (tls_) {
      c = ASC_setTransportLayer(net, tls_.get(), 0);
      if (c.bad()) throw Error(Exit::internal, fmt::format("DICOM TLS: {}", c.text()));
    }
  }
}

StorageScp::~StorageScp() {
  stop();
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return active_ == 0; });
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  for (auto* net : nets_) ASC_dropNetwork(&net);
}

void StorageScp::say(const std::string& line) const {
  if (o_.log) o_.log(line);
}

void StorageScp::run() {
  std::vector<std::thread> acceptors;
  for (auto* net : nets_) acceptors.emplace_back([this, net] { accept_loop(net); });
  for (auto& t : acceptors) t.join();
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return active_ == 0; });
}

void StorageScp::accept_loop(T_ASC_Network* net) {
  auto* key = reinterpret_cast<PRIVATE_NETWORKKEY*>(net->network);
  const int listen_fd = key->networkSpecific.TCP.listenSocket;
  while (!stopping_.load()) {
    {  // join the threads of ended associations
      std::lock_guard lock(mu_);
      for (auto id : finished_)
        for (auto it = threads_.begin(); it != threads_.end(); ++it)
          if (it->get_id() == id) {
            it->join();
            threads_.erase(it);
            break;
          }
      finished_.clear();
    }
    pollfd pfd{listen_fd, POLLIN, 0};
    if (::poll(&pfd, 1, 500) <= 0) continue;
    T_ASC_Association* assoc = nullptr;
    OFCondition c = ASC_receiveAssociation(net, &assoc, static_cast<long>(o_.net.max_pdu), nullptr,
                                           nullptr, tls_ ? OFTrue : OFFalse, DUL_NOBLOCK, 1);
    if (c.bad() || !assoc || !assoc->params) {
      // Another acceptor took the connection (DUL_NOASSOCIATIONREQUEST or
      // an accept error), or the peer did not speak DICOM in time.
      if (assoc && c != DUL_NOASSOCIATIONREQUEST &&
          !std::strstr(c.text(), std::strerror(EAGAIN)))  // another acceptor took it
        say(fmt::format("association request failed: {}", c.text()));
      if (assoc) {
        ASC_dropSCPAssociation(assoc);
        ASC_destroyAssociation(&assoc);
      }
      continue;
    }
    AssociationInfo info;
    {
      char calling[65] = {}, called[65] = {}, responding[65] = {};
      ASC_getAPTitles(assoc->params, calling, sizeof calling, called, sizeof called, responding,
                      sizeof responding);
      char peer[256] = {}, ours[256] = {};
      ASC_getPresentationAddresses(assoc->params, peer, sizeof peer, ours, sizeof ours);
      info.calling_aet = trimmed(calling);
      info.called_aet = trimmed(called);
      info.peer_host = peer;
    }
    if (info.called_aet.empty() || info.calling_aet.empty()) {
      say(fmt::format("connection from {}: no association request", info.peer_host));
      ASC_dropSCPAssociation(assoc);
      ASC_destroyAssociation(&assoc);
      continue;
    }
    const std::string who =
        fmt::format("{}@{} to {}", info.calling_aet, info.peer_host, info.called_aet);
    const auto reject = [&](T_ASC_RejectParametersResult result,
                            T_ASC_RejectParametersSource source,
                            T_ASC_RejectParametersReason reason, const std::string& why) {
      say(fmt::format("association from {} rejected: {}", who, why));
      T_ASC_RejectParameters rej{result, source, reason};
      ASC_rejectAssociation(assoc, &rej);
      ASC_dropSCPAssociation(assoc);
      ASC_destroyAssociation(&assoc);
    };
    if (!o_.called_aets.empty() && !o_.called_aets.contains(info.called_aet)) {
      reject(ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
             ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED, "called AE title not recognized");
      continue;
    }
    {
      std::lock_guard lock(mu_);
      if (active_ >= o_.max_associations) {
        reject(ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
               ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED,
               fmt::format("{} associations at once already", active_));
        continue;
      }
    }
    int accepted = 0;
    const int n = ASC_countPresentationContexts(assoc->params);
    for (int i = 0; i < n; ++i) {
      T_ASC_PresentationContext pc;
      if (ASC_getPresentationContext(assoc->params, i, &pc).bad()) continue;
      const bool storage = storage_class(pc.abstractSyntax);
      const bool known =
          storage || std::strcmp(pc.abstractSyntax, UID_VerificationSOPClass) == 0 ||
          (o_.on_commitment &&
           std::strcmp(pc.abstractSyntax, UID_StorageCommitmentPushModelSOPClass) == 0);
      if (!known) {
        ASC_refusePresentationContext(assoc->params, pc.presentationContextID,
                                      ASC_P_ABSTRACTSYNTAXNOTSUPPORTED);
        continue;
      }
      const char* ts = pick_syntax(pc, storage);
      if (!ts) {
        ASC_refusePresentationContext(assoc->params, pc.presentationContextID,
                                      ASC_P_TRANSFERSYNTAXESNOTSUPPORTED);
        continue;
      }
      if (ASC_acceptPresentationContext(assoc->params, pc.presentationContextID, ts).good())
        ++accepted;
    }
    c = ASC_acknowledgeAssociation(assoc);
    if (c.bad()) {
      say(fmt::format("association from {}: cannot acknowledge: {}", who, c.text()));
      ASC_dropSCPAssociation(assoc);
      ASC_destroyAssociation(&assoc);
      continue;
    }
    if (o_.verbose)
      say(fmt::format("association from {} accepted ({} of {} contexts)", who, accepted, n));
    std::lock_guard lock(mu_);
    ++active_;
    threads_.emplace_back([this, assoc, info] {
      try {
        serve(assoc, info);
      } catch (const std::exception& e) {
        say(fmt::format("association from {}@{}: {}", info.calling_aet, info.peer_host, e.what()));
      }
      std::lock_guard l(mu_);
      --active_;
      finished_.push_back(std::this_thread::get_id());
      cv_.notify_all();
    });
  }
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return active_ == 0; });
}

void StorageScp::serve(T_ASC_Association* assoc, AssociationInfo info) {
  int stored = 0, failed = 0, idle = 0;
  std::string end = "released";
  const auto started = std::chrono::steady_clock::now();
  for (;;) {
    T_DIMSE_Message msg{};
    T_ASC_PresentationContextID pres = 0;
    DcmDataset* detail = nullptr;
    OFCondition c = DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING, 1, &pres, &msg, &detail);
    delete detail;
    if (c == DIMSE_NODATAAVAILABLE) {
      if (stopping_.load()) {
        end = "aborted: the gateway is stopping";
        ASC_abortAssociation(assoc);
        break;
      }
      if (++idle >= o_.net.dimse_timeout) {
        end = fmt::format("aborted: nothing received for {} s", idle);
        ASC_abortAssociation(assoc);
        break;
      }
      continue;
    }
    idle = 0;
    if (c == DUL_PEERREQUESTEDRELEASE) {
      ASC_acknowledgeRelease(assoc);
      break;
    }
    if (c == DUL_PEERABORTEDASSOCIATION) {
      end = "aborted by the peer";
      break;
    }
    if (c.bad()) {
      end = fmt::format("aborted: {}", c.text());
      ASC_abortAssociation(assoc);
      break;
    }
    bool broken = false;
    switch (msg.CommandField) {
      case DIMSE_C_ECHO_RQ:
        c = DIMSE_sendEchoResponse(assoc, pres, &msg.msg.CEchoRQ, STATUS_Success, nullptr);
        broken = c.bad();
        break;
      case DIMSE_C_STORE_RQ: broken = !handle_store(assoc, info, &msg, pres, stored, failed); break;
      case DIMSE_N_ACTION_RQ: broken = !handle_commitment(assoc, info, &msg, pres); break;
      case DIMSE_N_EVENT_REPORT_RSP:
        if (o_.verbose)
          say(fmt::format("{}: storage commitment report answered: {}", info.calling_aet,
                          status_text(msg.msg.NEventReportRSP.DimseStatus)));
        break;
      default:
        end = fmt::format("aborted: unsupported DIMSE command 0x{:04x}",
                          static_cast<unsigned>(msg.CommandField));
        ASC_abortAssociation(assoc);
        broken = true;
        break;
    }
    if (broken) {
      if (end == "released") end = "aborted";
      break;
    }
  }
  ASC_dropSCPAssociation(assoc);
  ASC_destroyAssociation(&assoc);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  say(fmt::format("association from {}@{} to {}: {} instance(s) stored, {} refused, {:.1f} s, {}",
                  info.calling_aet, info.peer_host, info.called_aet, stored, failed, secs, end));
}

bool StorageScp::handle_store(T_ASC_Association* assoc, const AssociationInfo& info, void* m,
                              unsigned char pres_id, int& stored, int& failed) {
  auto& msg = *static_cast<T_DIMSE_Message*>(m);
  T_DIMSE_C_StoreRQ& req = msg.msg.CStoreRQ;
  const T_ASC_PresentationContextID pres = pres_id;
  T_DIMSE_C_StoreRSP rsp{};
  rsp.MessageIDBeingRespondedTo = req.MessageID;
  OFStandard::strlcpy(rsp.AffectedSOPClassUID, req.AffectedSOPClassUID,
                      sizeof rsp.AffectedSOPClassUID);
  OFStandard::strlcpy(rsp.AffectedSOPInstanceUID, req.AffectedSOPInstanceUID,
                      sizeof rsp.AffectedSOPInstanceUID);
  rsp.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID;
  rsp.DataSetType = DIMSE_DATASET_NULL;
  const std::string sop = req.AffectedSOPInstanceUID;
  std::string why;
  const auto respond = [&](std::uint16_t status) {
    rsp.DimseStatus = status;
    if (status == STATUS_Success)
      ++stored;
    else {
      ++failed;
      say(fmt::format("{}@{} to {}: instance {} refused ({}): {}", info.calling_aet, info.peer_host,
                      info.called_aet, sop, status_text(status), why));
    }
    DcmDataset* detail = nullptr;
    if (status != STATUS_Success && !why.empty()) {
      detail = new DcmDataset;
      detail->putAndInsertString(DCM_ErrorComment, why.substr(0, 64).c_str());
    }
    const OFCondition c = DIMSE_sendStoreResponse(assoc, pres, &req, &rsp, detail);
    delete detail;
    if (c.bad()) {
      say(fmt::format("{}: cannot send the C-STORE response: {}", info.calling_aet, c.text()));
      ASC_abortAssociation(assoc);
      return false;
    }
    return true;
  };
  // Refuses an instance before reading it: its data is read and dropped.
  const auto refuse_unread = [&](std::uint16_t status) {
    DIC_UL bytes = 0, pdvs = 0;
    if (DIMSE_ignoreDataSet(assoc, DIMSE_NONBLOCKING, o_.net.dimse_timeout, &bytes, &pdvs).bad()) {
      ++failed;
      ASC_abortAssociation(assoc);
      return false;
    }
    return respond(status);
  };
  const std::uint64_t avail = free_bytes(o_.dir);
  if (avail < o_.min_free_bytes) {
    why = fmt::format("disk nearly full ({} MiB free)", avail >> 20);
    return refuse_unread(STATUS_STORE_Refused_OutOfResources);
  }
  const fs::path tmp = o_.dir / ".incoming" / unique_name();
  struct Remove {
    fs::path p;
    bool keep = false;
    ~Remove() {
      std::error_code ec;
      if (!keep) fs::remove(p, ec);
    }
  } guard{tmp};
  DcmOutputFileStream* out = nullptr;
  OFCondition c = DIMSE_createFilestream(tmp.c_str(), &req, assoc, pres, OFTrue, &out);
  if (c.bad()) {
    why = fmt::format("cannot create a file: {}", c.text());
    return refuse_unread(STATUS_STORE_Refused_OutOfResources);
  }
  const std::uint64_t limit = std::min(o_.max_instance_size, avail - o_.min_free_bytes);
  // The partial file goes, and the cause is said, before the connection is
  // cut: once the peer sees the association end, nothing of it is left.
  Receiving r{assoc, limit, [&] {
                std::error_code ec;
                fs::remove(tmp, ec);
                say(fmt::format(
                    "{}@{} to {}: instance {} is larger than {} MiB (or the disk is "
                    "nearly full): association aborted",
                    info.calling_aet, info.peer_host, info.called_aet, sop, limit >> 20));
              }};
  T_ASC_PresentationContextID data_pres = 0;
  c = DIMSE_receiveDataSetInFile(assoc, DIMSE_NONBLOCKING, o_.net.dimse_timeout, &data_pres, out,
                                 on_progress, &r);
  const bool written = out->status().good();
  delete out;
  if (c.bad() || r.over) {
    ++failed;
    if (!r.over)
      say(fmt::format("{}@{} to {}: instance {} not received: {}", info.calling_aet, info.peer_host,
                      info.called_aet, sop, c.text()));
    ASC_abortAssociation(assoc);
    return false;
  }
  if (!written) {
    why = "cannot write the instance to disk";
    return respond(STATUS_STORE_Refused_OutOfResources);
  }
  StoredInstance si;
  si.from = info;
  si.size = r.bytes;
  try {
    fsync_file(tmp);
    const dicom::Info di = dicom::scan(tmp);
    si.sop_class_uid = di.sop_class_uid;
    si.sop_instance_uid = di.sop_instance_uid;
    si.study_instance_uid = di.study_instance_uid;
    si.transfer_syntax = di.transfer_syntax_uid;
  } catch (const Error& e) {
    why = e.what();
    if (e.code() == Exit::output) return respond(STATUS_STORE_Refused_OutOfResources);
    return respond(STATUS_STORE_Error_CannotUnderstand);
  }
  if (si.sop_instance_uid != sop) {
    why = "the data set's SOP Instance UID differs from the request's";
    return respond(STATUS_STORE_Error_DataSetDoesNotMatchSOPClass);
  }
  if (!path_uid(si.sop_instance_uid) || !path_uid(si.study_instance_uid)) {
    why = si.study_instance_uid.empty() ? "no Study Instance UID"
                                        : "a UID that is not digits and dots";
    return respond(STATUS_STORE_Error_CannotUnderstand);
  }
  try {
    const fs::path rel =
        o_.place ? o_.place(si) : fs::path(si.study_instance_uid) / (si.sop_instance_uid + ".dcm");
    const fs::path dest = o_.dir / rel;
    const fs::path folder = dest.parent_path();
    const bool made = !fs::exists(folder);
    fs::create_directories(folder);
    if (::rename(tmp.c_str(), dest.c_str()) != 0)
      throw Error(Exit::output, fmt::format("{}: cannot rename into place: {}", dest.string(),
                                            std::strerror(errno)));
    guard.keep = true;
    fsync_dir(folder);
    if (made) {
      for (fs::path p = folder.parent_path(); p.string().size() >= o_.dir.string().size();
           p = p.parent_path()) {
        fsync_dir(p);
        if (p == o_.dir) break;
      }
    }
    si.path = dest;
    if (o_.on_stored) o_.on_stored(si);
  } catch (const std::exception& e) {
    why = e.what();
    return respond(STATUS_STORE_Refused_OutOfResources);
  }
  if (o_.verbose)
    say(fmt::format("{}@{} to {}: stored {} ({} bytes) of study {}", info.calling_aet,
                    info.peer_host, info.called_aet, sop, si.size, si.study_instance_uid));
  return respond(STATUS_Success);
}

bool StorageScp::handle_commitment(T_ASC_Association* assoc, const AssociationInfo& info, void* m,
                                   unsigned char pres_id) {
  auto& msg = *static_cast<T_DIMSE_Message*>(m);
  T_DIMSE_N_ActionRQ& req = msg.msg.NActionRQ;
  const T_ASC_PresentationContextID pres = pres_id;
  DcmDataset* raw = nullptr;
  if (req.DataSetType != DIMSE_DATASET_NULL) {
    Receiving r{assoc, 64u << 20, {}};
    T_ASC_PresentationContextID p = 0;
    const OFCondition c = DIMSE_receiveDataSetInMemory(
        assoc, DIMSE_NONBLOCKING, o_.net.dimse_timeout, &p, &raw, on_progress, &r);
    if (c.bad() || r.over) {
      delete raw;
      say(fmt::format("{}: storage commitment request not received: {}", info.calling_aet,
                      r.over ? "larger than 64 MiB" : c.text()));
      ASC_abortAssociation(assoc);
      return false;
    }
  }
  std::unique_ptr<DcmDataset> ds(raw);
  CommitmentRequest request;
  request.from = info;
  std::uint16_t status = STATUS_N_Success;
  std::string why;
  if (std::strcmp(req.RequestedSOPClassUID, UID_StorageCommitmentPushModelSOPClass) != 0 ||
      !o_.on_commitment) {
    status = STATUS_N_NoSuchSOPClass;
    why = "not storage commitment";
  } else if (req.ActionTypeID != 1) {
    status = STATUS_N_NoSuchAction;
    why = "action type is not 1";
  } else if (!ds) {
    status = STATUS_N_MissingAttribute;
    why = "no data set";
  } else {
    OFString tuid;
    DcmSequenceOfItems* seq = nullptr;
    if (ds->findAndGetOFString(DCM_TransactionUID, tuid).bad() || tuid.empty() ||
        ds->findAndGetSequence(DCM_ReferencedSOPSequence, seq).bad() || !seq || seq->card() == 0) {
      status = STATUS_N_MissingAttribute;
      why = "no Transaction UID or Referenced SOP Sequence";
    } else {
      request.transaction_uid = tuid.c_str();
      for (unsigned long i = 0; i < seq->card(); ++i) {
        OFString cls, inst;
        seq->getItem(i)->findAndGetOFString(DCM_ReferencedSOPClassUID, cls);
        seq->getItem(i)->findAndGetOFString(DCM_ReferencedSOPInstanceUID, inst);
        request.items.push_back({cls.c_str(), inst.c_str()});
      }
    }
  }
  T_DIMSE_Message rsp{};
  rsp.CommandField = DIMSE_N_ACTION_RSP;
  auto& ar = rsp.msg.NActionRSP;
  ar.MessageIDBeingRespondedTo = req.MessageID;
  OFStandard::strlcpy(ar.AffectedSOPClassUID, req.RequestedSOPClassUID,
                      sizeof ar.AffectedSOPClassUID);
  OFStandard::strlcpy(ar.AffectedSOPInstanceUID, req.RequestedSOPInstanceUID,
                      sizeof ar.AffectedSOPInstanceUID);
  ar.DimseStatus = status;
  ar.ActionTypeID = req.ActionTypeID;
  ar.DataSetType = DIMSE_DATASET_NULL;
  ar.opts = O_NACTION_AFFECTEDSOPCLASSUID | O_NACTION_AFFECTEDSOPINSTANCEUID |
            (status == STATUS_N_Success ? O_NACTION_ACTIONTYPEID : 0);
  OFCondition c =
      DIMSE_sendMessageUsingMemoryData(assoc, pres, &rsp, nullptr, nullptr, nullptr, nullptr);
  if (c.bad() || status != STATUS_N_Success) {
    say(fmt::format("{}@{} to {}: storage commitment refused ({}): {}", info.calling_aet,
                    info.peer_host, info.called_aet, status_text(status),
                    c.bad() ? c.text() : why));
    if (c.bad()) ASC_abortAssociation(assoc);
    return c.good();
  }
  std::vector<bool> ok;
  try {
    ok = o_.on_commitment(request);
  } catch (const std::exception& e) {
    say(fmt::format("{}: storage commitment: {}", info.calling_aet, e.what()));
  }
  ok.resize(request.items.size(), false);
  DcmDataset report;
  report.putAndInsertString(DCM_TransactionUID, request.transaction_uid.c_str());
  std::size_t good = 0;
  for (std::size_t i = 0; i < request.items.size(); ++i) {
    const auto& it = request.items[i];
    DcmItem* item = nullptr;
    const DcmTagKey seq = ok[i] ? DCM_ReferencedSOPSequence : DCM_FailedSOPSequence;
    if (report.findOrCreateSequenceItem(seq, item, -2).bad() || !item) continue;
    item->putAndInsertString(DCM_ReferencedSOPClassUID, it.sop_class_uid.c_str());
    item->putAndInsertString(DCM_ReferencedSOPInstanceUID, it.sop_instance_uid.c_str());
    if (ok[i])
      ++good;
    else
      item->putAndInsertUint16(DCM_FailureReason, STATUS_N_NoSuchSOPInstance);
  }
  T_DIMSE_Message ev{};
  ev.CommandField = DIMSE_N_EVENT_REPORT_RQ;
  auto& er = ev.msg.NEventReportRQ;
  er.MessageID = assoc->nextMsgID++;
  OFStandard::strlcpy(er.AffectedSOPClassUID, UID_StorageCommitmentPushModelSOPClass,
                      sizeof er.AffectedSOPClassUID);
  OFStandard::strlcpy(er.AffectedSOPInstanceUID, UID_StorageCommitmentPushModelSOPInstance,
                      sizeof er.AffectedSOPInstanceUID);
  er.DataSetType = DIMSE_DATASET_PRESENT;
  er.EventTypeID = good == request.items.size() ? 1 : 2;
  c = DIMSE_sendMessageUsingMemoryData(assoc, pres, &ev, nullptr, &report, nullptr, nullptr);
  say(fmt::format("{}@{} to {}: storage commitment {}: {} of {} instance(s) committed{}",
                  info.calling_aet, info.peer_host, info.called_aet, request.transaction_uid, good,
                  request.items.size(),
                  c.bad() ? fmt::format(", but the report could not be sent: {}", c.text()) : ""));
  if (c.bad()) ASC_abortAssociation(assoc);
  return c.good();
}

}  // namespace iep::pacs
