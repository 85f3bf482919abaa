// Packages iep-store read from stdin and could not store completely
// (private to libiep): kept in the state folder, STATE/store/pending/
// PACKAGE-ID.tar[.zst] with PACKAGE-ID.pacs naming the PACS it was for, so
// that nothing acknowledged at the hub by iep-fetch --stdout is lost; every
// later run for the same PACS sends them first and removes each once all
// its instances are stored.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "iep/pacs/dimse.h"

namespace iep::pacs {

// The pending folder beside the journal files.
std::filesystem::path pending_folder(const std::filesystem::path& journal);

// Copies the package in `fd` (from its first byte to its end) to
// DIR/PACKAGE-ID.tar.zst (or .tar when it is not zstd-compressed) and its
// PACS to DIR/PACKAGE-ID.pacs, each written beside and fsynced before it is
// renamed into place (a package pending already is replaced). Returns the
// package's path. Error(Exit::output) naming the file when it cannot.
std::filesystem::path keep_pending(const std::filesystem::path& dir, const std::string& package_id,
                                   const Peer& pacs, int fd);

// The packages pending for `pacs`, in name order.
std::vector<std::filesystem::path> pending_for(const std::filesystem::path& dir, const Peer& pacs);

// Removes a pending package and its .pacs file.
void drop_pending(const std::filesystem::path& package);

}  // namespace iep::pacs
