// One DICOM association as an object (private to libiep): opened in the
// constructor (TCP_NODELAY, timeouts, optional TLS), released or aborted in
// the destructor, the peer's refusals turned into iep::Error in words.
// Operations that need more than C-ECHO, C-STORE and C-FIND (C-MOVE, C-GET,
// N-ACTION) build on get() and next_message_id().
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/pacs/dimse.h"

class DcmDataset;
class DcmTransportLayer;

namespace iep::pacs {

// Process-wide DCMTK network setup, idempotent: TCP_NODELAY on for every
// association DCMTK opens or accepts (unless the user set TCP_NODELAY=0),
// DCMTK's own logging quiet (IEP_DCMTK_LOG=debug|info|warn turns it on).
void init_dcmtk_network();

// A presentation context to propose.
struct Context {
  std::string abstract_syntax;
  std::vector<std::string> transfer_syntaxes;  // in order of preference
  T_ASC_SC_ROLE role = ASC_SC_ROLE_DEFAULT;
};

// Uncompressed transfer syntaxes every SCP must accept: explicit VR little
// endian, implicit VR little endian.
std::vector<std::string> uncompressed_syntaxes();

class Association {
 public:
  // Opens an association with `peer`. Throws iep::Error: pacs_unreachable
  // (no TCP connection, timeout), pacs_rejected (the peer rejected the
  // association, with its reason in words, or accepted none of `contexts`).
  Association(const Peer& peer, const NetOptions& options, const std::vector<Context>& contexts);
  ~Association();
  Association(const Association&) = delete;
  Association& operator=(const Association&) = delete;

  // The accepted context for an abstract syntax (and, if given, transfer
  // syntax); 0 when the peer accepted none.
  [[nodiscard]] T_ASC_PresentationContextID accepted(const std::string& abstract_syntax,
                                                     const std::string& transfer_syntax = {}) const;
  [[nodiscard]] std::string accepted_syntax(T_ASC_PresentationContextID id) const;

  // C-ECHO; returns the DIMSE status.
  std::uint16_t echo();
  // C-STORE of a data set on context `id`; returns the DIMSE status (and
  // the peer's error comment, if any). Throws iep::Error(network) when the
  // association broke (then the object is closed).
  std::uint16_t store(T_ASC_PresentationContextID id, DcmDataset& dataset,
                      const std::string& sop_class, const std::string& sop_instance,
                      std::string* comment = nullptr);
  // The same with a data set as stored (the bytes after a file's meta
  // header), sent byte for byte without parsing it: the caller makes sure
  // context `id` has the data set's own transfer syntax.
  std::uint16_t store(T_ASC_PresentationContextID id, ByteSpan dataset,
                      const std::string& sop_class, const std::string& sop_instance,
                      std::string* comment = nullptr);
  // C-FIND: on_match for every pending response's identifier; returns the
  // final status. Throws iep::Error(network) when the association broke.
  std::uint16_t find(T_ASC_PresentationContextID id, DcmDataset& query,
                     const std::function<void(DcmDataset&)>& on_match);

  // Releases the association (A-RELEASE); the destructor aborts instead when
  // this was not called or failed.
  void release();
  void abort();
  [[nodiscard]] bool open() const { return assoc_ != nullptr; }

  T_ASC_Association* get() { return assoc_; }
  DIC_US next_message_id() { return ++message_id_; }
  [[nodiscard]] const Peer& peer() const { return peer_; }
  [[nodiscard]] const NetOptions& options() const { return options_; }
  // An iep::Error for a failed DIMSE call: "PEER: WHAT: cause" (network).
  [[noreturn]] void fail(const std::string& what, const OFCondition& cond);

 private:
  Peer peer_;
  NetOptions options_;
  std::unique_ptr<DcmTransportLayer> tls_;  // outlives net_
  T_ASC_Network* net_ = nullptr;
  T_ASC_Association* assoc_ = nullptr;
  DIC_US message_id_ = 0;
};

// TLS for DICOM from NetOptions (requestor or acceptor); null when plain.
std::unique_ptr<DcmTransportLayer> make_tls(const NetOptions& options, T_ASC_NetworkRole role);

}  // namespace iep::pacs
