// iep-keygen: make a site identity and print its public site card.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "iep/core/error.h"
#include "iep/package/site.h"
#include "tool_main.h"

int main(int argc, char** argv) {
  return iep::tool::run("iep-keygen", [&] {
    CLI::App app{"Make a site identity (secret) and print its public site card."};
    std::string out, site, card_out, show;
    app.add_option("-o,--output", out,
                   "where to write the secret identity (default ~/.config/iep/identity)");
    app.add_option("-s,--site", site, "the site's name, e.g. trust-a");
    app.add_option("-c,--card", card_out, "also write the public site card to this file");
    app.add_option("-y,--card-of", show, "print the site card of an existing identity instead");
    if (auto done = iep::tool::parse(app, argc, argv)) return *done;
    if (!show.empty()) {
      std::fputs(iep::SiteIdentity::load(show).card().encode().c_str(), stdout);
      return 0;
    }
    if (site.empty()) throw iep::Error(iep::Exit::usage, "--site NAME is required");
    std::filesystem::path path = out;
    if (path.empty()) {
      path = iep::default_identity_path();
      std::error_code ec;
      std::filesystem::create_directories(path.parent_path(), ec);
      if (ec)
        throw iep::Error(iep::Exit::output, path.parent_path().string() + ": " + ec.message());
    }
    auto id = iep::SiteIdentity::generate(site);
    std::string card = id.card().encode();
    // The card file is claimed first (refusing an existing one) but only
    // appears once the identity it belongs to is saved.
    std::optional<iep::AtomicFile> card_file;
    if (!card_out.empty()) {
      card_file.emplace(card_out);
      card_file->write(
          iep::ByteSpan(reinterpret_cast<const std::uint8_t*>(card.data()), card.size()));
    }
    id.save(path);
    if (card_file) card_file->commit();
    std::fputs(card.c_str(), stdout);
    return 0;
  });
}
