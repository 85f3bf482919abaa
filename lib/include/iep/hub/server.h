// The hub's HTTP server: libmicrohttpd (a thread per connection, bounded in
// connections, connections per address, header memory and idle time),
// request bodies streamed into the Hub's exchanges, package bodies sent
// from their files. TLS through GnuTLS, TLS 1.2 and 1.3 only.
#pragma once

#include <string>

#include "iep/hub/hub.h"

namespace iep::hub {

struct ServerConfig {
  std::string listen = "127.0.0.1:0";  // HOST:PORT, [V6]:PORT; port 0 picks one
  std::string tls_cert, tls_key;       // PEM files; both or neither
  bool insecure = false;               // allow plain HTTP on a non-loopback address
  unsigned max_connections = 256;
  unsigned per_ip_connections = 32;
  unsigned timeout = 60;                  // seconds a connection may stay idle
  std::size_t header_memory = 64 * 1024;  // per connection: request line and headers
  std::string port_file;                  // where to write the port chosen
};

// Serves until SIGTERM or SIGINT, then stops accepting, lets requests in
// flight end (a cut upload keeps its durable bytes), writes a checkpoint
// and returns. Prints "listening on URL" to stderr once listening.
// Throws Error(Exit::usage) for a bad --listen, Error(Exit::network) when
// the address cannot be bound.
void serve(Hub& hub, const ServerConfig& config);

}  // namespace iep::hub
