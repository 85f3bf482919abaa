#include "tool_main.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <utility>

#include "iep/core/error.h"
#include "iep/core/io.h"

namespace iep::tool {

int run(const char* name, const std::function<int()>& body) {
  // A closed stdout must give a write error we can report, not a silent death.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    // SIGTERM, SIGINT, SIGHUP: remove partial output and temporary files,
    // then die of the signal (iep(7)).
    install_signal_cleanup();
    return body();
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", name, e.what());
    return static_cast<int>(Exit::internal);
  }
}

std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : static_cast<int>(Exit::usage);
  }
  return std::nullopt;
}

SiteIdentity load_identity(const std::string& flag) {
  return SiteIdentity::load(identity_path(flag));
}

std::optional<SiteIdentity> maybe_identity(const std::string& flag) {
  std::filesystem::path p;
  try {
    p = identity_path(flag);
  } catch (const Error&) {
    return std::nullopt;  // none given, none configured
  }
  return SiteIdentity::load(p);
}

TrustStore load_trust(const std::vector<std::string>& from) {
  TrustStore t;
  for (const auto& f : from) t.add(find_card(f));
  t.add_dirs();
  return t;
}

std::optional<minisign::Signature> load_signature(const std::string& flag,
                                                  const std::string& input) {
  std::filesystem::path p = flag;
  if (p.empty()) {
    if (input == "-") return std::nullopt;
    p = package::signature_path(input);
    if (!std::filesystem::exists(p)) return std::nullopt;
  }
  std::string text;
  try {
    text = read_small_file(p, 8192);
  } catch (const Error& e) {
    throw Error(Exit::bad_signature, e.what());
  }
  try {
    return minisign::Signature::parse(text);
  } catch (const Error& e) {
    throw Error(Exit::bad_signature, p.string() + ": " + e.what());
  }
}

std::unique_ptr<Source> open_input(const std::string& path) {
  if (path == "-") return std::make_unique<FdSource>(0, "-");
  return std::make_unique<FileSource>(path);
}

std::uint64_t parse_size(const std::string& text, const char* flag) {
  if (text.empty()) return 0;
  std::size_t pos = 0;
  std::uint64_t v = 0;
  try {
    v = std::stoull(text, &pos);
  } catch (const std::exception&) {
    throw Error(Exit::usage, std::string(flag) + ": '" + text + "' is not a size");
  }
  std::string suffix = text.substr(pos);
  int shift = 0;
  if (suffix == "K" || suffix == "k")
    shift = 10;
  else if (suffix == "M" || suffix == "m")
    shift = 20;
  else if (suffix == "G" || suffix == "g")
    shift = 30;
  else if (!suffix.empty())
    throw Error(Exit::usage, std::string(flag) + ": '" + text + "' is not a size");
  if (v > (UINT64_MAX >> shift)) throw Error(Exit::usage, std::string(flag) + ": too large");
  return v << shift;
}

void refuse_tty_stdout(const char* what) {
  if (::isatty(1))
    throw Error(Exit::usage, std::string("refusing to write ") + what +
                                 " to a terminal; redirect stdout or give --output FILE");
}

void add_hub_flags(CLI::App& app, HubFlags& f) {
  app.add_option("-i,--identity", f.identity, "this site's identity");
  app.add_option("--hub", f.hub, "the hub's URL (else $IEP_HUB, ~/.config/iep/hub, /etc/iep/hub)");
  app.add_option("--token-file", f.token_file,
                 "this site's hub token (else $IEP_TOKEN, ~/.config/iep/token, /etc/iep/token)");
  app.add_option("--cacert", f.cacert, "trust this CA file for the hub's TLS certificate");
  app.add_option("--state", f.state,
                 "the state folder (else $XDG_STATE_HOME/iep or ~/.local/state/iep)");
  app.add_option("--limit-rate", f.limit_rate, "at most RATE bytes/s (suffixes K, M, G)");
  app.add_option("--retry-time", f.retry_time,
                 "give up (exit 14) after this many seconds without progress (default 300)")
      ->check(CLI::Range(0.0, 86400.0 * 7));
}

transfer::HubOptions hub_options(const HubFlags& f, bool verbose) {
  transfer::HubOptions ho;
  ho.url = transfer::hub_url(f.hub);
  ho.token = transfer::hub_token(f.token_file);
  ho.http.cacert = f.cacert;
  ho.http.verbose = verbose;
  ho.http.limit_rate = parse_size(f.limit_rate, "--limit-rate");
  ho.retry.give_up_after = f.retry_time;
  return ho;
}

void add_dicom_net_flags(CLI::App& app, DicomNetFlags& f) {
  app.add_option("--tls-cert", f.tls_cert, "DICOM over TLS: our certificate (PEM), with --tls-key");
  app.add_option("--tls-key", f.tls_key, "DICOM over TLS: our private key (PEM)");
  app.add_option("--tls-ca", f.tls_ca,
                 "DICOM over TLS: the peer's certificate must chain to this CA (PEM; default: "
                 "the system's trusted CAs)");
}

void apply(const DicomNetFlags& f, pacs::NetOptions& net) {
  if (f.tls_cert.empty() != f.tls_key.empty())
    throw Error(Exit::usage, "--tls-cert and --tls-key go together");
  for (const auto& [flag, file] :
       {std::pair{"--tls-cert", &f.tls_cert}, std::pair{"--tls-key", &f.tls_key},
        std::pair{"--tls-ca", &f.tls_ca}}) {
    if (file->empty()) continue;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*file, ec) || access(file->c_str(), R_OK) != 0)
      throw Error(Exit::usage, std::string(flag) + " " + *file + ": not a readable file");
  }
  net.tls_cert = f.tls_cert;
  net.tls_key = f.tls_key;
  net.tls_ca = f.tls_ca;
}

}  // namespace iep::tool
