// iep-keygen: make a site identity and print its public site card.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "iep/error.h"
#include "iep/site.h"
#include "tool_main.h"

int main(int argc, char** argv) {
  return iep::tool::run("iep-keygen", [&] {
    CLI::App app{"Make a site identity (secret) and print its public site card."};
    std::string out, site, card_out, show;
    app.add_option("-o,--output", out, "where to write the secret identity (default ~/.config/iep/identity)");
    app.add_option("-s,--site", site, "the site's name, e.g. trust-a");
    app.add_option("-c,--card", card_out, "also write the public site card to this file");
    app.add_option("-y,--card-of", show, "print the site card of an existing identity instead");
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return app.exit(e) == 0 ? 0 : static_cast<int>(iep::Exit::usage);
    }
    if (!show.empty()) {
      std::fputs(iep::SiteIdentity::load(show).card().encode().c_str(), stdout);
      return 0;
    }
    if (site.empty()) throw iep::Error(iep::Exit::usage, "--site NAME is required");
    std::filesystem::path path = out;
    if (path.empty()) {
      const char* home = std::getenv("HOME");
      if (home == nullptr) throw iep::Error(iep::Exit::usage, "give --output FILE (HOME is not set)");
      path = std::filesystem::path(home) / ".config" / "iep" / "identity";
      std::filesystem::create_directories(path.parent_path());
      std::filesystem::permissions(path.parent_path(), std::filesystem::perms::owner_all);
    }
    auto id = iep::SiteIdentity::generate(site);
    std::string card = id.card().encode();
    if (!card_out.empty()) {
      iep::AtomicFile f(card_out);
      f.write(iep::ByteSpan(reinterpret_cast<const std::uint8_t*>(card.data()), card.size()));
      f.commit();
    }
    id.save(path);
    std::fputs(card.c_str(), stdout);
    return 0;
  });
}
