#include "pacs/association.h"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcostrma.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/dul.h>
#include <dcmtk/dcmtls/tlslayer.h>
#include <dcmtk/oflog/oflog.h>
#include <fmt/format.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

namespace iep::pacs {

void init_dcmtk_network() {
  static std::once_flag once;
  std::call_once(once, [] {
    // DCMTK reads TCP_NODELAY when it opens or accepts a connection; 0 left
    // as the user set it.
    setenv("TCP_NODELAY", "1", 0);
    const char* level = std::getenv("IEP_DCMTK_LOG");
    OFLogger::LogLevel l = OFLogger::OFF_LOG_LEVEL;
    if (level && std::strcmp(level, "debug") == 0)
      l = OFLogger::DEBUG_LOG_LEVEL;
    else if (level && std::strcmp(level, "info") == 0)
      l = OFLogger::INFO_LOG_LEVEL;
    else if (level && std::strcmp(level, "warn") == 0)
      l = OFLogger::WARN_LOG_LEVEL;
    OFLog::configure(l);
  });
}

std::vector<std::string> uncompressed_syntaxes() {
  return {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax};
}

namespace {

std::string reject_words(const T_ASC_RejectParameters& rej) {
  const char* reason = "no reason given";
  switch (rej.reason) {
    case ASC_REASON_SU_APPCONTEXTNAMENOTSUPPORTED:
      reason = "application context not supported";
      break;
    case ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED:
      reason = "calling AE title not recognized";
      break;
    case ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED: reason = "called AE title not recognized"; break;
    case ASC_REASON_SP_ACSE_PROTOCOLVERSIONNOTSUPPORTED:
      reason = "protocol version not supported";
      break;
    case ASC_REASON_SP_PRES_TEMPORARYCONGESTION: reason = "temporary congestion"; break;
    case ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED: reason = "local limit exceeded"; break;
    default: break;
  }
  return fmt::format("{} ({})", reason,
                     rej.result == ASC_RESULT_REJECTEDTRANSIENT ? "transient" : "permanent");
}

}  // namespace

namespace {

// The system's trusted CAs as OpenSSL finds them ($SSL_CERT_DIR,
// $SSL_CERT_FILE, else OpenSSL's defaults, /etc/ssl/certs on Debian).
// Returns false when there are none to add.
bool add_system_cas(DcmTLSTransportLayer& tls) {
  bool any = false;
  std::error_code ec;
  const char* dir = std::getenv(X509_get_default_cert_dir_env());
  if (!dir) dir = X509_get_default_cert_dir();
  if (dir && std::filesystem::is_directory(dir, ec))
    any = tls.addTrustedCertificateDir(dir, DCF_Filetype_PEM).good() || any;
  const char* file = std::getenv(X509_get_default_cert_file_env());
  if (!file) file = X509_get_default_cert_file();
  if (file && std::filesystem::is_regular_file(file, ec))
    any = tls.addTrustedCertificateFile(file, DCF_Filetype_PEM).good() || any;
  return any;
}

}  // namespace

// TLS 1.2 and later only (the non-downgrading BCP 195 profile: the plain
// BCP 195 one falls back to TLS 1.0), never a peer unverified:
// - requestor: the peer's certificate must chain to --tls-ca, else to the
//   system's trusted CAs (DCV_requireCertificate either way); ours is sent
//   when tls_cert is set;
// - acceptor: with tls_ca, every caller must present a certificate that
//   chains to it; without, callers are not asked for one (TLS as HTTPS does
//   it: the called AE titles decide who may store).
// DCMTK checks the chain, not the host name (DICOM TLS names no rule for it).
std::unique_ptr<DcmTransportLayer> make_tls(const NetOptions& o, T_ASC_NetworkRole role) {
  if (!o.tls()) return nullptr;
  if (role == NET_ACCEPTOR && o.tls_cert.empty())
    throw Error(Exit::usage,
                "DICOM TLS as a server needs a certificate and its key (--tls-cert, "
                "--tls-key)");
  auto tls = std::make_unique<DcmTLSTransportLayer>(role, nullptr, OFTrue);
  const auto check = [](const OFCondition& c, const std::string& what) {
    if (c.bad()) throw Error(Exit::identity, fmt::format("{}: {}", what, c.text()));
  };
  if (!o.tls_ca.empty())
    check(tls->addTrustedCertificateFile(o.tls_ca.c_str(), DCF_Filetype_PEM), o.tls_ca);
  else if (role != NET_ACCEPTOR && !add_system_cas(*tls))
    throw Error(Exit::identity,
                "DICOM TLS: no --tls-ca given and no system CA store to verify the peer against");
  if (!o.tls_cert.empty()) {
    // An encrypted key fails to load rather than ask on the terminal (a
    // nightly job has none).
    tls->setPrivateKeyPasswd("");
    check(tls->setPrivateKeyFile(o.tls_key.c_str(), DCF_Filetype_PEM),
          o.tls_key + ": not an unencrypted PEM private key");
    check(tls->setCertificateFile(o.tls_cert.c_str(), DCF_Filetype_PEM), o.tls_cert);
    if (!tls->checkPrivateKeyMatchesCertificate())
      throw Error(Exit::identity, fmt::format("{}: the key does not match the certificate {}",
                                              o.tls_key, o.tls_cert));
  }
  check(tls->setTLSProfile(TSP_Profile_BCP195_ND), "DICOM TLS profile");
  check(tls->activateCipherSuites(), "DICOM TLS cipher suites");
  tls->setCertificateVerification(
      role == NET_ACCEPTOR && o.tls_ca.empty() ? DCV_ignoreCertificate : DCV_requireCertificate);
  return tls;
}

Association::Association(const Peer& peer, const NetOptions& options,
                         const std::vector<Context>& contexts)
    : peer_(peer), options_(options) {
  init_dcmtk_network();
  dcmConnectionTimeout.set(options.connect_timeout);
  const auto cond_text = [](const OFCondition& c) { return std::string(c.text()); };
  OFCondition c = ASC_initializeNetwork(NET_REQUESTOR, 0, options.acse_timeout, &net_);
  if (c.bad()) throw Error(Exit::internal, "DICOM network: " + cond_text(c));
  T_ASC_Parameters* params = nullptr;
  const auto drop = [&] {
    if (params) ASC_destroyAssociationParameters(&params);
    ASC_dropNetwork(&net_);
    net_ = nullptr;
  };
  try {
    tls_ = make_tls(options, NET_REQUESTOR);
  } catch (...) {
    drop();
    throw;
  }
  if (tls_) {
    c = ASC_setTransportLayer(net_, tls_.get(), 0);
    if (c.bad()) {
      drop();
      throw Error(Exit::internal, "DICOM TLS: " + cond_text(c));
    }
  }
  c = ASC_createAssociationParameters(&params, static_cast<long>(options.max_pdu));
  if (c.bad()) {
    drop();
    throw Error(Exit::internal, "DICOM association parameters: " + cond_text(c));
  }
  ASC_setAPTitles(params, options.calling_aet.c_str(), peer.aet.c_str(), nullptr);
  const std::string address = fmt::format("{}:{}", peer.host, peer.port);
  ASC_setPresentationAddresses(params, "localhost", address.c_str());
  ASC_setTransportLayerType(params, tls_ ? OFTrue : OFFalse);
  T_ASC_PresentationContextID id = 1;
  for (const auto& ctx : contexts) {
    std::vector<const char*> ts;
    for (const auto& t : ctx.transfer_syntaxes) ts.push_back(t.c_str());
    c = ASC_addPresentationContext(params, id, ctx.abstract_syntax.c_str(), ts.data(),
                                   static_cast<int>(ts.size()), ctx.role);
    if (c.bad()) {
      drop();
      throw Error(Exit::usage, fmt::format("{}: too many presentation contexts ({}): {}",
                                           peer.to_string(), contexts.size(), cond_text(c)));
    }
    id = static_cast<T_ASC_PresentationContextID>(id + 2);
  }
  c = ASC_requestAssociation(net_, params, &assoc_);
  if (c.bad()) {
    Error error(Exit::pacs_unreachable,
                fmt::format("{}: cannot connect: {}", peer.to_string(), cond_text(c)));
    if (c == DUL_ASSOCIATIONREJECTED) {
      T_ASC_RejectParameters rej;
      ASC_getRejectParameters(params, &rej);
      error = Error(Exit::pacs_rejected, fmt::format("{}: association rejected: {}",
                                                     peer.to_string(), reject_words(rej)));
    } else if (tls_ && cond_text(c).rfind("TLS error: ", 0) == 0) {
      // "TLS error: certificate verify failed", "... protocol version", ...
      // (DCMTK gives no code of its own for each)
      std::string cause = cond_text(c).substr(11);
      std::string hint;
      if (cause.find("certificate verify failed") != std::string::npos)
        hint = options.tls_ca.empty()
                   ? " (its certificate chains to none of the system's trusted CAs; --tls-ca "
                     "names the PACS's CA)"
                   : fmt::format(" (its certificate does not chain to {})", options.tls_ca);
      else if (cause.find("protocol version") != std::string::npos)
        hint = " (iep speaks TLS 1.2 and later only)";
      error = Error(Exit::pacs_unreachable, fmt::format("{}: DICOM TLS handshake failed: {}{}",
                                                        peer.to_string(), cause, hint));
    } else if (tls_ && options.tls_cert.empty()) {
      // A TLS 1.3 server refuses a missing client certificate after the
      // handshake: we only see the connection go.
      error = Error(Exit::pacs_unreachable,
                    fmt::format("{}: cannot connect: {} (does it want our certificate? "
                                "--tls-cert, --tls-key)",
                                peer.to_string(), cond_text(c)));
    } else if (c == DUL_READTIMEOUT || c == DUL_NETWORKCLOSED) {
      error =
          Error(Exit::pacs_unreachable, fmt::format("{}: no answer to the association request: {}",
                                                    peer.to_string(), cond_text(c)));
    }
    if (assoc_) {
      ASC_destroyAssociation(&assoc_);  // frees params
      assoc_ = nullptr;
      params = nullptr;
    }
    drop();
    throw error;
  }
  if (ASC_countAcceptedPresentationContexts(params) == 0) {
    abort();  // frees params with the association
    params = nullptr;
    drop();  // no destructor runs for a constructor that throws
    throw Error(Exit::pacs_rejected,
                fmt::format("{}: the peer accepted none of the {} proposed presentation contexts",
                            peer.to_string(), contexts.size()));
  }
}

Association::~Association() {
  if (assoc_) abort();
  if (net_) ASC_dropNetwork(&net_);
}

T_ASC_PresentationContextID Association::accepted(const std::string& abstract_syntax,
                                                  const std::string& transfer_syntax) const {
  if (!assoc_) return 0;
  if (transfer_syntax.empty())
    return ASC_findAcceptedPresentationContextID(assoc_, abstract_syntax.c_str());
  return ASC_findAcceptedPresentationContextID(assoc_, abstract_syntax.c_str(),
                                               transfer_syntax.c_str());
}

std::string Association::accepted_syntax(T_ASC_PresentationContextID id) const {
  T_ASC_PresentationContext pc;
  if (!assoc_ || ASC_findAcceptedPresentationContext(assoc_->params, id, &pc).bad()) return {};
  return pc.acceptedTransferSyntax;
}

void Association::fail(const std::string& what, const OFCondition& cond) {
  abort();
  throw Error(Exit::network, fmt::format("{}: {}: {}", peer_.to_string(), what, cond.text()));
}

std::uint16_t Association::echo() {
  DIC_US status = 0;
  DcmDataset* detail = nullptr;
  const OFCondition c = DIMSE_echoUser(assoc_, next_message_id(), DIMSE_BLOCKING,
                                       options_.dimse_timeout, &status, &detail);
  delete detail;
  if (c.bad()) fail("C-ECHO", c);
  return status;
}

std::uint16_t Association::store(T_ASC_PresentationContextID id, DcmDataset& dataset,
                                 const std::string& sop_class, const std::string& sop_instance,
                                 std::string* comment) {
  T_DIMSE_C_StoreRQ req{};
  req.MessageID = next_message_id();
  OFStandard::strlcpy(req.AffectedSOPClassUID, sop_class.c_str(), sizeof(req.AffectedSOPClassUID));
  OFStandard::strlcpy(req.AffectedSOPInstanceUID, sop_instance.c_str(),
                      sizeof(req.AffectedSOPInstanceUID));
  req.DataSetType = DIMSE_DATASET_PRESENT;
  req.Priority = DIMSE_PRIORITY_MEDIUM;
  T_DIMSE_C_StoreRSP rsp{};
  DcmDataset* detail = nullptr;
  const OFCondition c = DIMSE_storeUser(assoc_, id, &req, nullptr, &dataset, nullptr, nullptr,
                                        DIMSE_BLOCKING, options_.dimse_timeout, &rsp, &detail);
  if (comment) {
    comment->clear();
    OFString text;
    if (detail && detail->findAndGetOFString(DCM_ErrorComment, text).good())
      *comment = text.c_str();
  }
  delete detail;
  if (c.bad()) fail("C-STORE of " + sop_instance, c);
  return rsp.DimseStatus;
}

namespace {
// A data set that DIMSE writes out as the bytes it was made from: DCMTK
// builds the C-STORE command and reads the response as for any data set,
// and the instance's bytes go to the wire without being parsed or encoded
// again (DCMTK 3.6.7's file-data path parses the file too).
class StoredDataSet : public DcmDataset {
 public:
  explicit StoredDataSet(ByteSpan bytes) : bytes_(bytes) {}
  OFBool isEmpty(const OFBool) override { return bytes_.empty(); }
  OFBool canWriteXfer(const E_TransferSyntax, const E_TransferSyntax) override { return OFTrue; }
  void transferInit() override {
    DcmDataset::transferInit();
    at_ = 0;
  }
  using DcmDataset::write;
  OFCondition write(DcmOutputStream& out, const E_TransferSyntax, const E_EncodingType,
                    DcmWriteCache*, const E_GrpLenEncoding, const E_PaddingEncoding, const Uint32,
                    const Uint32, Uint32) override {
    while (at_ < bytes_.size()) {
      const offile_off_t room = out.avail();
      if (room <= 0) return EC_StreamNotifyClient;  // sent as a PDV; called again
      auto n = static_cast<std::size_t>(
          std::min<std::uint64_t>(static_cast<std::uint64_t>(room), bytes_.size() - at_));
      // DIMSE refuses an odd-length PDV but the last: hand over even pieces.
      if (n < bytes_.size() - at_) n &= ~std::size_t{1};
      if (n == 0) return EC_StreamNotifyClient;
      const offile_off_t put = out.write(bytes_.data() + at_, static_cast<offile_off_t>(n));
      if (put <= 0) return EC_StreamNotifyClient;
      at_ += static_cast<std::size_t>(put);
    }
    return EC_Normal;
  }

 private:
  ByteSpan bytes_;
  std::size_t at_ = 0;
};
}  // namespace

std::uint16_t Association::store(T_ASC_PresentationContextID id, ByteSpan dataset,
                                 const std::string& sop_class, const std::string& sop_instance,
                                 std::string* comment) {
  StoredDataSet ds(dataset);
  return store(id, ds, sop_class, sop_instance, comment);
}

namespace {
struct FindState {
  const std::function<void(DcmDataset&)>* on_match;
};
void find_callback(void* data, T_DIMSE_C_FindRQ*, int, T_DIMSE_C_FindRSP*,
                   DcmDataset* identifiers) {
  auto* state = static_cast<FindState*>(data);
  if (identifiers) (*state->on_match)(*identifiers);
}
}  // namespace

std::uint16_t Association::find(T_ASC_PresentationContextID id, DcmDataset& query,
                                const std::function<void(DcmDataset&)>& on_match) {
  T_ASC_PresentationContext pc;
  ASC_findAcceptedPresentationContext(assoc_->params, id, &pc);
  T_DIMSE_C_FindRQ req{};
  req.MessageID = next_message_id();
  OFStandard::strlcpy(req.AffectedSOPClassUID, pc.abstractSyntax, sizeof(req.AffectedSOPClassUID));
  req.DataSetType = DIMSE_DATASET_PRESENT;
  req.Priority = DIMSE_PRIORITY_MEDIUM;
  T_DIMSE_C_FindRSP rsp{};
  DcmDataset* detail = nullptr;
  FindState state{&on_match};
  int responses = 0;
  const OFCondition c = DIMSE_findUser(assoc_, id, &req, &query, responses, find_callback, &state,
                                       DIMSE_BLOCKING, options_.dimse_timeout, &rsp, &detail);
  delete detail;
  if (c.bad()) fail("C-FIND", c);
  return rsp.DimseStatus;
}

void Association::release() {
  if (!assoc_) return;
  const OFCondition c = ASC_releaseAssociation(assoc_);
  if (c.bad()) ASC_abortAssociation(assoc_);
  ASC_destroyAssociation(&assoc_);
  assoc_ = nullptr;
}

void Association::abort() {
  if (!assoc_) return;
  ASC_abortAssociation(assoc_);
  ASC_destroyAssociation(&assoc_);
  assoc_ = nullptr;
}

}  // namespace iep::pacs
