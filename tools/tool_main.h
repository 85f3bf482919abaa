// The one place an iep command prints an error and picks its exit code.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace iep::tool {

// Runs body(); an iep::Error is printed as "NAME: message" on stderr and its
// exit code returned; CLI11 errors exit with the usage code.
int run(const char* name, const std::function<int()>& body);

}  // namespace iep::tool

#include <CLI/CLI.hpp>
#include <optional>
#include <vector>

#include "iep/package/package.h"
#include "iep/package/site.h"
#include "iep/pacs/dimse.h"
#include "iep/transfer/hub_client.h"

namespace iep::tool {

// Parses the command line. Returns the exit code when the command is done
// already: 0 after --help, the usage code after a bad flag (CLI11 has
// printed why); nothing when the command should go on.
std::optional<int> parse(CLI::App& app, int argc, char** argv);

// This site's identity from --identity, IEP_IDENTITY or the default places.
SiteIdentity load_identity(const std::string& flag);
// As load_identity, but none when no flag was given and none is configured.
std::optional<SiteIdentity> maybe_identity(const std::string& flag);
// Known senders: the --from cards plus every card in the site folders.
TrustStore load_trust(const std::vector<std::string>& from);
// The detached signature of a sealed package: --signature FILE if given,
// else FILE.minisig beside the input if it exists.
std::optional<minisign::Signature> load_signature(const std::string& flag,
                                                  const std::string& input);
// Opens an input path, "-" meaning stdin.
std::unique_ptr<Source> open_input(const std::string& path);
// A byte count with an optional K, M or G suffix (powers of 1024); empty
// is 0. `flag` names it in the usage error.
std::uint64_t parse_size(const std::string& text, const char* flag);
// Refuses to write binary data to a terminal.
void refuse_tty_stdout(const char* what);

// The flags every hub command takes (iep-send, iep-fetch): -i, --hub,
// --token-file, --cacert, --state, --limit-rate, --retry-time.
struct HubFlags {
  std::string identity, hub, token_file, cacert, state, limit_rate;
  double retry_time = 300;
};
void add_hub_flags(CLI::App& app, HubFlags& flags);
// The hub's URL, token and HTTP options from those flags (and the
// configuration files and environment behind them).
transfer::HubOptions hub_options(const HubFlags& flags, bool verbose);

// DICOM over TLS, the same three flags on every command that talks to a
// PACS (iep-pack --pacs, iep-store, iep-gateway): --tls-cert FILE and
// --tls-key FILE (ours, PEM, together) and --tls-ca FILE (the CA the
// peer's certificate must chain to; without it, the system's trusted CAs).
struct DicomNetFlags {
  std::string tls_cert, tls_key, tls_ca;
  [[nodiscard]] bool any() const {
    return !tls_cert.empty() || !tls_key.empty() || !tls_ca.empty();
  }
};
void add_dicom_net_flags(CLI::App& app, DicomNetFlags& flags);
// Checks them (a certificate and its key go together; every file given
// exists and is readable: usage errors naming the flag) and puts them into
// `net`.
void apply(const DicomNetFlags& flags, pacs::NetOptions& net);

}  // namespace iep::tool
