// libmicrohttpd glue: each HTTP request becomes a hub Exchange.
#include "iep/hub/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/util.h"
#include "iep/core/error.h"

namespace iep::hub {
namespace {

struct Conn {
  std::unique_ptr<Exchange> ex;
  bool finished = false;  // finish() called or an early response queued
};

MHD_Result collect(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto* v = static_cast<std::vector<std::pair<std::string, std::string>>*>(cls);
  if (v->size() >= 200) return MHD_NO;
  std::string k = key ? key : "";
  for (char& c : k) c = util::ascii_lower(c);
  v->emplace_back(std::move(k), value ? value : "");
  return MHD_YES;
}

MHD_Result send(MHD_Connection* conn, Response& r) {
  MHD_Response* resp;
  if (r.file.get() >= 0) {
    resp = MHD_create_response_from_fd_at_offset64(r.file_length, r.file.get(),
                                                   static_cast<int64_t>(r.file_offset));
    if (resp) r.file.release();  // MHD closes it
  } else if (r.stream) {
    // MHD pulls from the stream (an object store's ranged reads) as the
    // client takes the bytes; an error ends the response early.
    resp = MHD_create_response_from_callback(
        r.file_length, 1 << 20,
        [](void* cls, std::uint64_t, char* buf, size_t max) -> ssize_t {
          try {
            std::size_t n = static_cast<Source*>(cls)->read(
                MutableByteSpan(reinterpret_cast<std::uint8_t*>(buf), max));
            return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : static_cast<ssize_t>(n);
          } catch (const std::exception& e) {
            std::fprintf(stderr, "iep-serve: a download stopped: %s\n", e.what());
            return MHD_CONTENT_READER_END_WITH_ERROR;
          }
        },
        r.stream.get(), [](void* cls) { delete static_cast<Source*>(cls); });
    if (resp) (void)r.stream.release();  // MHD frees it
  } else {
    resp = MHD_create_response_from_buffer(r.body.size(), r.body.data(), MHD_RESPMEM_MUST_COPY);
  }
  if (!resp) return MHD_NO;
  for (auto& [k, v] : r.headers) MHD_add_response_header(resp, k.c_str(), v.c_str());
  MHD_Result ret = MHD_queue_response(conn, static_cast<unsigned>(r.status), resp);
  MHD_destroy_response(resp);
  return ret;
}

MHD_Result on_request(void* cls, MHD_Connection* conn, const char* url, const char* method,
                      const char*, const char* upload_data, size_t* upload_size, void** con_cls) {
  auto* hub = static_cast<Hub*>(cls);
  auto* c = static_cast<Conn*>(*con_cls);
  if (c == nullptr) {
    c = new Conn;
    *con_cls = c;
    Request req;
    req.method = method;
    req.path = url;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect, &req.headers);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect, &req.query);
    if (const auto* info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS)) {
      char host[INET6_ADDRSTRLEN + 1] = "?";
      const sockaddr* sa = info->client_addr;
      if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, host, sizeof host);
      else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, host,
                  sizeof host);
      req.peer = host;
    }
    const std::string* expect = req.header("expect");
    const std::string* clen = req.header("content-length");
    bool no_body = (!clen || *clen == "0") && !req.header("transfer-encoding");
    bool waits = expect != nullptr;
    c->ex = hub->begin(std::move(req));
    const Response* early = c->ex->early();
    if (early && !no_body && (waits || early->status == 401)) {
      // Answer now; the body (if any) is never asked for. Without
      // Expect: 100-continue only for a client without a valid token:
      // its body is not read (the connection is closed after the answer).
      c->finished = true;
      Response r = c->ex->finish();
      return send(conn, r);
    }
    return MHD_YES;
  }
  if (c->finished) {
    *upload_size = 0;
    return MHD_YES;
  }
  if (*upload_size > 0) {
    c->ex->body(ByteSpan(reinterpret_cast<const std::uint8_t*>(upload_data), *upload_size));
    *upload_size = 0;
    return MHD_YES;
  }
  c->finished = true;
  Response r = c->ex->finish();
  return send(conn, r);
}

void on_completed(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
  auto* c = static_cast<Conn*>(*con_cls);
  if (c == nullptr) return;
  if (!c->finished && c->ex) c->ex->abort();
  delete c;
  *con_cls = nullptr;
}

struct Daemon {
  MHD_Daemon* d = nullptr;
  ~Daemon() {
    if (d) MHD_stop_daemon(d);
  }
};

bool loopback(const sockaddr* sa) {
  if (sa->sa_family == AF_INET)
    return (ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr) >> 24) == 127;
  if (sa->sa_family == AF_INET6)
    return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr);
  return false;
}

void log_mhd(void*, const char* fmt, va_list ap) {
  std::fputs("iep-serve: http: ", stderr);
  std::vfprintf(stderr, fmt, ap);
}

}  // namespace

void serve(Hub& hub, const ServerConfig& cfg) {
  // HOST:PORT or [V6]:PORT.
  std::string host, port;
  if (!cfg.listen.empty() && cfg.listen[0] == '[') {
    auto e = cfg.listen.find("]:");
    if (e == std::string::npos)
      throw Error(Exit::usage, "--listen " + cfg.listen + ": expected [ADDRESS]:PORT");
    host = cfg.listen.substr(1, e - 1);
    port = cfg.listen.substr(e + 2);
  } else {
    auto e = cfg.listen.rfind(':');
    if (e == std::string::npos)
      throw Error(Exit::usage, "--listen " + cfg.listen + ": expected ADDRESS:PORT");
    host = cfg.listen.substr(0, e);
    port = cfg.listen.substr(e + 1);
  }
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* ai = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &ai) != 0 || ai == nullptr)
    throw Error(Exit::usage, "--listen " + cfg.listen + ": not a numeric address and port");
  sockaddr_storage addr{};
  std::memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
  freeaddrinfo(ai);
  bool tls = !cfg.tls_cert.empty() || !cfg.tls_key.empty();
  if (tls && (cfg.tls_cert.empty() || cfg.tls_key.empty()))
    throw Error(Exit::usage, "--tls-cert and --tls-key go together");
  if (!tls && !cfg.insecure && !loopback(reinterpret_cast<sockaddr*>(&addr)))
    throw Error(Exit::usage, "--listen " + cfg.listen +
                                 ": refusing plain HTTP on a non-loopback address (give "
                                 "--tls-cert and --tls-key, or --insecure)");
  std::string cert, key;
  if (tls) {
    cert = read_small_file(cfg.tls_cert, 1 << 20);
    key = read_small_file(cfg.tls_key, 1 << 20);
  }

  // SIGTERM and SIGINT are taken by sigtimedwait below: blocked here, before
  // MHD's threads start, so they inherit the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                   MHD_USE_ERROR_LOG | MHD_USE_ITC;
  if (addr.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
  if (tls) flags |= MHD_USE_TLS;
  std::vector<MHD_OptionItem> opts;
  opts.push_back({MHD_OPTION_SOCK_ADDR, 0, &addr});
  opts.push_back({MHD_OPTION_CONNECTION_LIMIT, cfg.max_connections, nullptr});
  opts.push_back({MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg.per_ip_connections, nullptr});
  opts.push_back({MHD_OPTION_CONNECTION_TIMEOUT, cfg.timeout, nullptr});
  opts.push_back(
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(cfg.header_memory), nullptr});
  opts.push_back({MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&on_completed), nullptr});
  if (tls) {
    opts.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, cert.data()});
    opts.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, key.data()});
    opts.push_back({MHD_OPTION_HTTPS_PRIORITIES, 0,
                    const_cast<char*>("NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2")});
  }
  opts.push_back({MHD_OPTION_END, 0, nullptr});
  Daemon d;
  d.d = MHD_start_daemon(flags, 0, nullptr, nullptr, &on_request, &hub, MHD_OPTION_EXTERNAL_LOGGER,
                         &log_mhd, nullptr, MHD_OPTION_ARRAY, opts.data(), MHD_OPTION_END);
  util::wipe(key);
  if (!d.d)
    throw Error(Exit::network, "cannot listen on " + cfg.listen +
                                   " (address in use, or a bad TLS key or certificate)");
  const auto* info = MHD_get_daemon_info(d.d, MHD_DAEMON_INFO_LISTEN_FD);
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  getsockname(info->listen_fd, reinterpret_cast<sockaddr*>(&bound), &blen);
  unsigned bport =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  std::string shown = addr.ss_family == AF_INET6 ? "[" + host + "]" : host;
  std::fprintf(stderr, "listening on %s://%s:%u\n", tls ? "https" : "http", shown.c_str(), bport);
  if (!cfg.port_file.empty()) {
    AtomicFile f(cfg.port_file, true);
    std::string p = std::to_string(bport) + "\n";
    f.write(util::as_bytes(p));
    f.commit();
  }

  auto last_sweep = std::chrono::steady_clock::now();
  auto last_cp = last_sweep;
  for (;;) {
    timespec ts{1, 0};
    int sig = sigtimedwait(&sigs, nullptr, &ts);
    if (sig == SIGTERM || sig == SIGINT) {
      std::fprintf(stderr, "iep-serve: %s: stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      break;
    }
    auto now = std::chrono::steady_clock::now();
    try {
      if (now - last_sweep >= std::chrono::seconds(hub.config().sweep_every)) {
        last_sweep = now;
        hub.sweep();
      }
      if (hub.config().checkpoint_every > 0 &&
          now - last_cp >= std::chrono::seconds(hub.config().checkpoint_every)) {
        last_cp = now;
        hub.checkpoint();
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "iep-serve: sweeper: %s\n", e.what());
    }
  }
  MHD_quiesce_daemon(d.d);
  hub.wake_all();
  MHD_stop_daemon(d.d);
  d.d = nullptr;
  hub.checkpoint();
}

}  // namespace iep::hub
