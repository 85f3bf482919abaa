// DICOM over TLS (make_tls in lib/src/pacs/association.cpp) on both sides:
// our StorageScp as the acceptor, our Association as the requestor, a C-ECHO
// between them with certificates from a throwaway CA made by openssl. The
// requestor always verifies the acceptor; an acceptor given a CA requires
// the caller's certificate; TLS below 1.2 is never spoken.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <doctest/doctest.h>

#include <thread>

#include "../../lib/src/pacs/association.h"
#include "../../lib/src/pacs/storage_scp.h"
#include "test_util.h"

namespace fs = std::filesystem;
using iep::Exit;
using iep::test::quote;
using iep::test::run;

namespace {

// $DIR/ca.crt, a CA; srv.crt/key and cli.crt/key signed by it; other.crt,
// another CA.
fs::path make_pki() {
  static const fs::path dir = [] {
    const fs::path d = iep::test::scratch("pki");
    const std::string ca = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=";
    const auto leaf = [&](const std::string& name) {
      return "openssl req -newkey rsa:2048 -nodes -subj /CN=" + name + " -keyout " + name +
             ".key -out " + name + ".csr && openssl x509 -req -in " + name +
             ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out " + name + ".crt";
    };
    const auto r =
        run(ca + "ca -keyout ca.key -out ca.crt && " + ca +
                "other -keyout other.key -out other.crt && " + leaf("srv") + " && " + leaf("cli"),
            d);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    return d;
  }();
  return dir;
}

// Our storage SCP on a loopback port, TLS as given, on its own thread.
struct Scp {
  std::unique_ptr<iep::pacs::StorageScp> scp;
  std::thread thread;
  explicit Scp(const iep::pacs::NetOptions& net) {
    iep::pacs::StorageScpOptions o;
    o.host = "127.0.0.1";
    o.dir = iep::test::scratch("tls-scp");
    o.called_aets = {"IEP_GW"};
    o.min_free_bytes = 0;
    o.net = net;
    o.net.acse_timeout = 10;
    o.net.dimse_timeout = 10;
    scp = std::make_unique<iep::pacs::StorageScp>(std::move(o));
    thread = std::thread([this] { scp->run(); });
  }
  ~Scp() {
    scp->stop();
    thread.join();
  }
  [[nodiscard]] iep::pacs::Peer peer() const { return {"IEP_GW", "127.0.0.1", scp->port()}; }
};

// A C-ECHO over a fresh association; its status.
std::uint16_t echo(const iep::pacs::Peer& peer, iep::pacs::NetOptions net) {
  net.connect_timeout = 5;
  net.acse_timeout = 10;
  net.dimse_timeout = 10;
  iep::pacs::Association a(
      peer, net,
      {{UID_VerificationSOPClass, iep::pacs::uncompressed_syntaxes(), ASC_SC_ROLE_DEFAULT}});
  const auto status = a.echo();
  a.release();
  return status;
}

iep::pacs::NetOptions tls(const fs::path& d, const std::string& who, const std::string& ca) {
  iep::pacs::NetOptions n;
  if (!who.empty()) {
    n.tls_cert = (d / (who + ".crt")).string();
    n.tls_key = (d / (who + ".key")).string();
  }
  if (!ca.empty()) n.tls_ca = (d / (ca + ".crt")).string();
  return n;
}

}  // namespace

TEST_CASE("C-ECHO over TLS, both ends verified against the CA") {
  const auto d = make_pki();
  Scp scp(tls(d, "srv", "ca"));
  CHECK(echo(scp.peer(), tls(d, "cli", "ca")) == 0);
}

TEST_CASE("the requestor refuses a peer whose certificate does not chain to --tls-ca: 19") {
  const auto d = make_pki();
  Scp scp(tls(d, "srv", "ca"));
  const auto msg = iep::test::error_of([&] { echo(scp.peer(), tls(d, "cli", "other")); },
                                       Exit::pacs_unreachable);
  CHECK_MESSAGE(msg.find(scp.peer().to_string() + ": DICOM TLS handshake failed") == 0, msg);
  CHECK_MESSAGE(msg.find("does not chain to " + (d / "other.crt").string()) != std::string::npos,
                msg);
}

TEST_CASE("without a CA the requestor verifies against the system store, never skips") {
  const auto d = make_pki();
  Scp scp(tls(d, "srv", ""));  // acceptor without a CA: callers need no certificate
  const fs::path empty = iep::test::scratch("tls-no-cas");
  setenv("SSL_CERT_DIR", empty.c_str(), 1);
  setenv("SSL_CERT_FILE", (d / "other.crt").c_str(), 1);
  const auto msg =
      iep::test::error_of([&] { echo(scp.peer(), tls(d, "cli", "")); }, Exit::pacs_unreachable);
  CHECK_MESSAGE(msg.find("none of the system's trusted CAs") != std::string::npos, msg);
  setenv("SSL_CERT_FILE", (d / "ca.crt").c_str(), 1);
  iep::pacs::NetOptions sys = tls(d, "cli", "");
  CHECK(echo(scp.peer(), sys) == 0);
  unsetenv("SSL_CERT_DIR");
  unsetenv("SSL_CERT_FILE");
}

TEST_CASE("an acceptor given a CA requires the caller's certificate") {
  const auto d = make_pki();
  Scp scp(tls(d, "srv", "ca"));
  // Only the CA: no certificate of ours to show.
  const auto msg =
      iep::test::error_of([&] { echo(scp.peer(), tls(d, "", "ca")); }, Exit::pacs_unreachable);
  CHECK_MESSAGE(msg.find(scp.peer().to_string()) == 0, msg);
  // A certificate from another CA (the server's own key pair is signed by
  // "ca"; "other" is self-signed by a different key).
  iep::pacs::NetOptions stranger = tls(d, "", "ca");
  stranger.tls_cert = (d / "other.crt").string();
  stranger.tls_key = (d / "other.key").string();
  iep::test::error_of([&] { echo(scp.peer(), stranger); }, Exit::pacs_unreachable);
}

TEST_CASE("plain TCP to a TLS acceptor fails cleanly: 19") {
  const auto d = make_pki();
  Scp scp(tls(d, "srv", "ca"));
  iep::test::error_of([&] { echo(scp.peer(), iep::pacs::NetOptions{}); }, Exit::pacs_unreachable);
}
