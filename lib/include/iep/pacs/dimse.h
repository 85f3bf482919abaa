// DICOM networking shared by the PACS commands (iep-store, iep-pack --pacs,
// iep-gateway): who a peer is, how long to wait for it, and its answers in
// words. The associations themselves live in lib/src/pacs/association.h.
#pragma once

#include <cstdint>
#include <string>

namespace iep::pacs {

// A DICOM application entity on the network: "AET@HOST:PORT".
struct Peer {
  std::string aet;
  std::string host;
  std::uint16_t port = 0;
  [[nodiscard]] std::string to_string() const;  // "AET@HOST:PORT"
};

// Parses "AET@HOST:PORT" (HOST may be [v6]); an AE title is 1-16 printable
// characters without backslash, not only spaces. Throws iep::Error(usage)
// naming `flag` and the cause.
Peer parse_peer(const std::string& text, const char* flag = "--pacs");

// Checks an AE title (ours or a peer's); throws iep::Error(usage).
void check_aet(const std::string& aet, const char* flag);

// How we talk to peers. Every association sets TCP_NODELAY (Debian's DCMTK
// leaves Nagle on: about 22 files/s on loopback instead of 600).
struct NetOptions {
  std::string calling_aet = "IEP";
  int connect_timeout = 10;       // seconds to open the TCP connection
  int acse_timeout = 30;          // seconds to wait for association accept/release
  int dimse_timeout = 120;        // seconds to wait for a DIMSE response or data
  std::uint32_t max_pdu = 65536;  // largest PDU we accept (bytes)
  // DICOM over TLS (DCMTK's dcmtls): all three empty for plain TCP.
  std::string tls_cert, tls_key, tls_ca;
  [[nodiscard]] bool tls() const { return !tls_cert.empty() || !tls_ca.empty(); }
};

// A DIMSE status code in words: "success", "warning: coercion of data
// elements (B000)", "refused: out of resources (A700)", ...
std::string status_text(std::uint16_t status);
// Status classes of PS3.4 / PS3.7 C.
bool status_success(std::uint16_t status);  // 0000
bool status_warning(std::uint16_t status);  // 0001, 0107, 0116, Bxxx
bool status_pending(std::uint16_t status);  // FF00, FF01

}  // namespace iep::pacs
