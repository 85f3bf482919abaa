// iep-serve: the hub (HTTP server) and its local administration.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "iep/core/error.h"
#include "iep/hub/audit.h"
#include "iep/hub/hub.h"
#include "iep/hub/server.h"
#include "tool_main.h"

namespace {

// Where the hub keeps its state: --data, and the engines --index and
// --store name (or IEP_HUB_INDEX, IEP_HUB_STORE), on every subcommand.
struct Engines {
  std::string data, index, store;
  void add(CLI::App* app) {
    app->add_option("--data", data, "the hub's data folder (hub key; index and store by default)");
    app->add_option("--index", index, "postgres://... : the index in PostgreSQL (several nodes)")
        ->envname("IEP_HUB_INDEX");
    app->add_option("--store", store,
                    "s3://BUCKET/PREFIX?endpoint=URL : packages in S3-compatible storage")
        ->envname("IEP_HUB_STORE");
  }
  std::unique_ptr<iep::hub::Index> open_index() const {
    if (index.empty()) {
      if (data.empty()) throw iep::Error(iep::Exit::usage, "--data DIR or --index URL is required");
      std::error_code ec;
      if (std::filesystem::create_directories(data, ec))
        std::filesystem::permissions(data, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::replace, ec);
      if (ec) throw iep::Error(iep::Exit::output, data + ": " + ec.message());
    }
    return iep::hub::open_index(index, data);
  }
};

}  // namespace

int main(int argc, char** argv) {
  return iep::tool::run("iep-serve", [&] {
    CLI::App app{
        "The iep hub: resumable uploads (tus), per-site mailboxes, delivery tracking, audit."};
    app.require_subcommand(0, 1);
    Engines eng;
    iep::hub::HubConfig hc;
    iep::hub::ServerConfig sc;
    std::uint64_t max_size = hc.max_package_size, quota = 0;
    eng.add(&app);
    app.add_option("--listen", sc.listen, "ADDRESS:PORT to listen on (port 0 picks one)")
        ->capture_default_str();
    app.add_option("--port-file", sc.port_file, "write the port listened on into this file");
    app.add_option("--tls-cert", sc.tls_cert, "PEM certificate (chain) for HTTPS");
    app.add_option("--tls-key", sc.tls_key, "PEM private key for HTTPS");
    app.add_flag("--insecure", sc.insecure, "allow plain HTTP on a non-loopback address");
    app.add_option("--max-package-size", max_size, "largest package accepted, bytes")
        ->capture_default_str();
    app.add_option("--site-quota", quota,
                   "bytes a sending site may hold in uploads and packages (0: no limit)");
    app.add_option("--upload-expiry", hc.upload_expiry,
                   "seconds after its last PATCH an unfinished upload is removed")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--expire-after", hc.expire_after,
                   "seconds after commit an unacknowledged package expires")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--ack-grace", hc.ack_grace, "seconds an acknowledged package is kept")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--checkpoint-every", hc.checkpoint_every,
                   "seconds between signed audit checkpoints")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--sweep-every", hc.sweep_every,
                   "seconds between sweeps for expired uploads and packages")
        ->capture_default_str()
        ->check(CLI::Range(1, 86400));
    app.add_option("--max-connections", sc.max_connections, "connections at once")
        ->capture_default_str();
    app.add_option("--per-ip-connections", sc.per_ip_connections,
                   "connections at once from one address")
        ->capture_default_str();
    app.add_option("--timeout", sc.timeout, "seconds an idle connection is kept")
        ->capture_default_str();
    app.add_option("--max-open-uploads", hc.max_open_uploads,
                   "unfinished uploads a site may hold at once")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_flag(
        "-q,--quiet", [&](std::int64_t) { hc.log_requests = false; }, "no line per request");

    auto* site = app.add_subcommand("site", "manage registered sites")->require_subcommand(1);
    std::string card_file, name;
    bool json_out = false;
    auto* site_add = site->add_subcommand("add", "register a site from its card");
    eng.add(site_add);
    site_add->add_option("card", card_file, "the site's card file")->required();
    auto* site_rm = site->add_subcommand("remove", "remove a site (its tokens are revoked)");
    eng.add(site_rm);
    site_rm->add_option("name", name)->required();
    auto* site_ls = site->add_subcommand("list", "list the sites");
    eng.add(site_ls);
    site_ls->add_flag("--json", json_out, "one JSON array");

    auto* tok = app.add_subcommand("token", "manage site tokens")->require_subcommand(1);
    auto* tok_issue = tok->add_subcommand("issue", "issue a token for a site (printed once)");
    eng.add(tok_issue);
    tok_issue->add_option("site", name)->required();
    auto* tok_rev = tok->add_subcommand("revoke", "revoke a token by its id");
    eng.add(tok_rev);
    tok_rev->add_option("id", name)->required();
    auto* tok_ls = tok->add_subcommand("list", "list tokens (ids, never the tokens)");
    eng.add(tok_ls);

    auto* admin_tok = app.add_subcommand("admin-token", "issue an admin token (printed once)");
    eng.add(admin_tok);

    auto* audit = app.add_subcommand("audit", "the audit log")->require_subcommand(1);
    auto* audit_export = audit->add_subcommand("export", "print the audit log (JSON lines)");
    eng.add(audit_export);
    bool dicom = false;
    audit_export->add_flag("--dicom", dicom, "as DICOM PS3.15 A.5 audit messages (XML)");

    auto* migrate = app.add_subcommand(
        "migrate", "create or update the schema of a PostgreSQL index (--index postgres://...)");
    eng.add(migrate);

    if (auto done = iep::tool::parse(app, argc, argv)) return *done;
    const std::string actor = "local-admin";

    if (migrate->parsed()) {
      if (eng.index.rfind("postgres://", 0) != 0 && eng.index.rfind("postgresql://", 0) != 0)
        throw iep::Error(iep::Exit::usage,
                         "migrate: --index postgres://... is required (the SQLite index under "
                         "--data migrates itself)");
      int v = iep::hub::migrate_pg_index(eng.index);
      std::fprintf(stderr, "iep-serve: index schema at version %d\n", v);
      return 0;
    }
    if (site_add->parsed()) {
      auto ix = eng.open_index();
      std::string text = iep::read_small_file(card_file, 64 * 1024);
      std::string n = iep::hub::admin_site_add(*ix, text, actor);
      std::fprintf(stderr, "iep-serve: site %s registered\n", n.c_str());
      return 0;
    }
    if (site_rm->parsed()) {
      auto ix = eng.open_index();
      iep::hub::admin_site_remove(*ix, name, actor);
      return 0;
    }
    if (site_ls->parsed()) {
      auto ix = eng.open_index();
      nlohmann::json arr = nlohmann::json::array();
      for (auto& s : ix->sites()) {
        if (json_out)
          arr.push_back(
              {{"site", s.name}, {"key", s.key_id}, {"active", s.active}, {"added", s.added}});
        else
          std::printf("%s\t%s\t%s\t%s\n", s.name.c_str(), s.key_id.c_str(),
                      s.active ? "active" : "removed", s.added.c_str());
      }
      if (json_out) std::printf("%s\n", arr.dump().c_str());
      return 0;
    }
    if (tok_issue->parsed() || admin_tok->parsed()) {
      auto ix = eng.open_index();
      auto [t, id] = iep::hub::admin_token_issue(*ix, tok_issue->parsed() ? name : "", actor);
      std::printf("%s\n", t.c_str());
      std::fprintf(stderr, "iep-serve: token %s issued\n", id.c_str());
      return 0;
    }
    if (tok_rev->parsed()) {
      auto ix = eng.open_index();
      iep::hub::admin_token_revoke(*ix, name, actor);
      return 0;
    }
    if (tok_ls->parsed()) {
      auto ix = eng.open_index();
      for (auto& t : ix->tokens())
        std::printf("%s\t%s\t%s\t%s\n", t.id.c_str(), t.admin ? "(admin)" : t.site.c_str(),
                    t.revoked ? "revoked" : "active", t.created.c_str());
      return 0;
    }
    if (audit_export->parsed()) {
      auto ix = eng.open_index();
      std::uint64_t after = 0;
      for (;;) {
        auto lines = ix->audit_lines(after, 10000);
        if (lines.empty()) break;
        for (auto& l : lines) {
          if (dicom) {
            auto rec = iep::hub::parse_record(l, "the audit log");
            std::printf("%s\n", iep::hub::to_dicom_audit_message(rec, "iep-hub").c_str());
            after = rec.seq;
          } else {
            std::printf("%s\n", l.c_str());
            ++after;
          }
        }
      }
      return 0;
    }

    if (eng.data.empty()) throw iep::Error(iep::Exit::usage, "--data DIR is required");
    hc.data = eng.data;
    hc.index = eng.index;
    hc.store = eng.store;
    hc.max_package_size = max_size;
    hc.site_quota = quota;
    iep::hub::Hub hub(hc);
    iep::hub::serve(hub, sc);
    return 0;
  });
}
