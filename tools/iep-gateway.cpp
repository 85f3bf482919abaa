// iep-gateway: a DICOM storage SCP that PACS and modalities push to; each
// complete study is packed and sent to the site its called AE title routes to.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "iep/pacs/gateway.h"
#include "iep/transfer/hub_client.h"
#include "tool_main.h"

int main(int argc, char** argv) {
  return iep::tool::run("iep-gateway", [&] {
    CLI::App app{
        "Receive DICOM studies by C-STORE (a storage SCP), route them by called AE title to a "
        "site, pack each complete study and send it to the hub."};
    iep::tool::HubFlags hf;
    std::string data, listen, routes_file, max_size = "4G", min_free = "1G";
    std::vector<std::string> routes;
    iep::pacs::GatewayOptions o;
    bool verbose = false, no_send = false;
    app.add_option("--data", data, "the gateway's data folder")->required();
    app.add_option("--listen", listen, "[HOST:]PORT to listen on (PORT 0: any free port)")
        ->required();
    app.add_option("--port-file", o.port_file, "write the port listened on to FILE");
    app.add_option("--route", routes, "AET=SITE: studies sent to called AE title AET go to SITE")
        ->allow_extra_args(false);
    app.add_option("--routes", routes_file, "a file of routes, one 'AET SITE' a line");
    app.add_option("--quiet-period", o.quiet_seconds,
                   "a study is complete after SECONDS without a new instance (default 60), "
                   "unless the sender committed all of it first")
        ->check(CLI::Range(1, 86400));
    app.add_option("--max-associations", o.max_associations,
                   "associations at once (default 8); more are rejected")
        ->check(CLI::Range(1, 256));
    app.add_option("--max-instance-size", max_size, "largest instance accepted (default 4G)");
    app.add_option("--min-free", min_free,
                   "refuse instances when the data folder's file system has less free (default "
                   "1G)");
    app.add_option("--dimse-timeout", o.net.dimse_timeout,
                   "seconds a sender may stay silent on an association (default 120)")
        ->check(CLI::Range(1, 3600));
    app.add_option("--acse-timeout", o.net.acse_timeout,
                   "seconds to wait for an association request (default 30)")
        ->check(CLI::Range(1, 3600));
    app.add_option("--tls-cert", o.net.tls_cert, "DICOM over TLS: our certificate (PEM)");
    app.add_option("--tls-key", o.net.tls_key, "DICOM over TLS: our private key (PEM)");
    app.add_option("--tls-ca", o.net.tls_ca, "DICOM over TLS: require peer certificates from CA");
    app.add_flag("--no-send", no_send,
                 "only pack into DATA/outbox/SITE/; another process sends (no hub needed)");
    iep::tool::add_hub_flags(app, hf);
    app.add_flag("-v,--verbose", verbose, "also a line per instance and per send");
    if (auto done = iep::tool::parse(app, argc, argv)) return *done;

    o.data = data;
    // [HOST:]PORT, HOST may be [v6].
    std::string port = listen;
    if (!listen.empty() && listen.front() == '[') {
      const auto close = listen.find("]:");
      if (close == std::string::npos)
        throw iep::Error(iep::Exit::usage, "--listen " + listen + ": expected [HOST]:PORT");
      o.host = listen.substr(1, close - 1);
      port = listen.substr(close + 2);
    } else if (const auto colon = listen.rfind(':'); colon != std::string::npos) {
      o.host = listen.substr(0, colon);
      port = listen.substr(colon + 1);
    }
    try {
      std::size_t used = 0;
      const unsigned long p = std::stoul(port, &used);
      if (used != port.size() || p > 65535) throw std::out_of_range("port");
      o.port = static_cast<std::uint16_t>(p);
    } catch (const std::exception&) {
      throw iep::Error(iep::Exit::usage,
                       "--listen " + listen + ": the port is not a number from 0 to 65535");
    }
    if (!routes_file.empty()) o.routes = iep::pacs::read_routes(routes_file);
    for (const auto& r : routes) {
      auto [aet, site] = iep::pacs::parse_route(r);
      if (!o.routes.emplace(aet, site).second)
        throw iep::Error(iep::Exit::usage, "--route: AE title " + aet + " routed twice");
    }
    o.max_instance_size = iep::tool::parse_size(max_size, "--max-instance-size");
    o.min_free_bytes = iep::tool::parse_size(min_free, "--min-free");
    o.verbose = verbose;
    const iep::SiteIdentity self = iep::tool::load_identity(hf.identity);
    o.self = &self;
    if (!no_send) {
      o.hub = iep::tool::hub_options(hf, false);  // -v: instances, not HTTP requests
      if (!hf.state.empty()) o.send_state = iep::transfer::state_dir(hf.state);  // else DATA/state
    }
    iep::pacs::run_gateway(o);
    return 0;
  });
}
