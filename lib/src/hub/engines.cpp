// Picks the index and store engines that --index and --store name.
#include <string_view>

#include "iep/core/error.h"
#include "iep/hub/index.h"
#include "iep/hub/store.h"

namespace iep::hub {
namespace {

bool starts(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// A spec as it may be shown: without a password or a secret.
std::string shown(const std::string& spec) {
  auto at = spec.find('@');
  auto colon = spec.find("://");
  if (at == std::string::npos || colon == std::string::npos) return spec.substr(0, 200);
  return spec.substr(0, colon + 3) + "...@" + spec.substr(at + 1, 200);
}

}  // namespace

std::unique_ptr<Index> open_index(const std::string& spec, const std::filesystem::path& data) {
  if (spec.empty()) {
    if (data.empty()) throw Error(Exit::usage, "--data DIR or --index URL is required");
    return open_sqlite_index(data / "index.sqlite");
  }
  if (starts(spec, "postgres://") || starts(spec, "postgresql://")) return open_pg_index(spec);
  throw Error(Exit::usage, "--index " + shown(spec) + ": not an engine iep-serve knows");
}

std::unique_ptr<Store> open_store(const std::string& spec, const std::filesystem::path& data) {
  if (spec.empty()) {
    if (data.empty()) throw Error(Exit::usage, "--data DIR or --store URL is required");
    return open_file_store(data);
  }
  if (starts(spec, "s3://")) return open_s3_store(spec);
  throw Error(Exit::usage, "--store " + shown(spec) + ": not an engine iep-serve knows");
}

}  // namespace iep::hub
