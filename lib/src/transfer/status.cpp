#include "iep/transfer/status.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "core/util.h"
#include "iep/core/error.h"
#include "iep/transfer/receipt.h"

namespace iep::transfer {
namespace {

using json = nlohmann::json;

std::string str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return {};
  return j[key].get<std::string>().substr(0, 1 << 16);
}

std::optional<std::string> time_or_null(const json& j, const char* key) {
  std::string t = str(j, key);
  if (t.empty()) return std::nullopt;
  return t;
}

// Seconds since the epoch of an RFC 3339 UTC time, with its fraction.
std::optional<double> epoch_seconds(const std::string& t) {
  if (!valid_utc_time(t)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(t.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(t.substr(5, 2)) - 1;
  tm.tm_mday = std::stoi(t.substr(8, 2));
  tm.tm_hour = std::stoi(t.substr(11, 2));
  tm.tm_min = std::stoi(t.substr(14, 2));
  tm.tm_sec = std::stoi(t.substr(17, 2));
  double s = static_cast<double>(::timegm(&tm));
  if (t[19] == '.') {
    double scale = 0.1;
    for (std::size_t i = 20; i < t.size() && t[i] != 'Z'; ++i, scale /= 10)
      s += (t[i] - '0') * scale;
  }
  return s;
}

std::string since(const std::string& commit, const std::string& t) {
  auto d = seconds_between(commit, t);
  if (!d) return t;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%+.2f s", *d);
  return buf;
}

}  // namespace

std::optional<double> seconds_between(const std::string& from, const std::string& to) {
  auto a = epoch_seconds(from), b = epoch_seconds(to);
  if (!a || !b) return std::nullopt;
  return *b - *a;
}

PackageStatus package_status(Hub& hub, const SiteIdentity& self, const std::string& id) {
  auto info = hub.package(id);
  if (!info)
    throw Error(Exit::rejected, hub.host() + ": no package " + id + " sent by " + self.site +
                                    " (unknown id, or not this site's)");
  if (info->sender != self.site)
    throw Error(Exit::rejected, hub.host() + ": package " + id + " was sent by '" + info->sender +
                                    "', not by " + self.site);
  if (info->package != id)
    throw Error(Exit::network,
                hub.host() + ": asked for package " + id + ", answered " + info->package);
  PackageStatus st;
  st.info = *info;
  json j;
  try {
    j = json::parse(info->json, nullptr, true, false);  // already bounded by Hub::package
  } catch (const json::exception&) {
    throw Error(Exit::network, hub.host() + ": package " + id + ": the answer is not JSON");
  }
  st.created = str(j, "created");
  st.upload_started = str(j, "upload_started");
  st.expires = str(j, "expires");
  if (!j.contains("recipients") || !j["recipients"].is_array())
    throw Error(Exit::network, hub.host() + ": package " + id + ": no recipient list");
  for (const auto& r : j["recipients"]) {
    if (!r.is_object()) continue;
    RecipientStatus rs;
    rs.site = str(r, "site");
    if (!valid_site_name(rs.site))
      throw Error(Exit::network, hub.host() + ": package " + id + ": a malformed recipient");
    rs.first_fetched = time_or_null(r, "first_fetched");
    rs.acknowledged = time_or_null(r, "acknowledged");
    if (r.contains("receipt") && r["receipt"].is_object()) {
      rs.has_receipt = true;
      try {
        SiteCard card = pinned_card(hub, rs.site);
        Receipt rec =
            verify_receipt(str(r["receipt"], "statement"), str(r["receipt"], "signature"), card);
        if (rec.package_id != id)
          rs.receipt_error = "the receipt names package " + rec.package_id;
        else if (rec.sealed_blake2b != info->blake2b)
          rs.receipt_error = "the receipt names other bytes (blake2b " + rec.sealed_blake2b + ")";
        else if (rec.sender != self.site)
          rs.receipt_error = "the receipt names sender '" + rec.sender + "'";
        else
          rs.receipt_verified = true;
      } catch (const Error& e) {
        if (e.code() == Exit::network || e.code() == Exit::auth) throw;
        rs.receipt_error = e.what();
      }
    }
    st.recipients.push_back(std::move(rs));
    if (st.recipients.size() > 10000) break;
  }
  return st;
}

bool PackageStatus::receipts_ok() const {
  for (const auto& r : recipients)
    if (r.has_receipt && !r.receipt_verified) return false;
  return true;
}

std::string PackageStatus::to_json() const {
  json j = json::parse(info.json, nullptr, false, false);
  if (!j.is_object()) j = json::object();
  if (j.contains("recipients") && j["recipients"].is_array()) {
    for (auto& r : j["recipients"]) {
      if (!r.is_object()) continue;
      std::string site = str(r, "site");
      r["receipt_verified"] = nullptr;
      for (const auto& rs : recipients)
        if (rs.site == site && rs.has_receipt) {
          r["receipt_verified"] = rs.receipt_verified;
          if (!rs.receipt_verified) r["receipt_error"] = rs.receipt_error;
        }
    }
  }
  return j.dump() + "\n";
}

std::string PackageStatus::to_text() const {
  const std::string& c = info.committed;
  std::string out = "package " + info.package + " from " + info.sender + " (" +
                    std::to_string(info.size) + " bytes, blake2b " + info.blake2b.substr(0, 16) +
                    "...): " + info.state + "\n";
  out += "  created         " + created + "\n";
  out += "  upload started  " + upload_started + " (" + since(c, upload_started) + ")\n";
  out += "  committed       " + c + "\n";
  if (!expires.empty()) out += "  expires         " + expires + "\n";
  for (const auto& r : recipients) {
    out += "  " + r.site + ": ";
    out += r.first_fetched ? "fetched " + since(c, *r.first_fetched) : std::string("not fetched");
    out += r.acknowledged ? ", acknowledged " + since(c, *r.acknowledged)
                          : std::string(", not acknowledged");
    if (r.has_receipt)
      out += r.receipt_verified ? ", receipt verified"
                                : ", RECEIPT DOES NOT VERIFY: " + r.receipt_error;
    else if (r.acknowledged)
      out += ", no receipt";
    out += "\n";
  }
  return out;
}

}  // namespace iep::transfer
