// Delivery receipts (iep-protocol(7)): one strict line, signed with
// minisign's prehashed signature by the receiving site, so that the sender
// checks it with minisign and the receiver's card alone.
#include "iep/transfer/receipt.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "core/util.h"
#include "iep/core/error.h"

namespace iep::transfer {
namespace {

constexpr std::string_view kTag = "iep-receipt";
// The longest well-formed statement is about 320 bytes (64-byte site names,
// nanosecond time); anything longer is not a receipt.
constexpr std::size_t kMaxStatement = 512;
constexpr std::size_t kMaxTime = 40;

bool lower_hex(std::string_view s, std::size_t n) {
  return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string trusted_comment(const Receipt& r) {
  return "iep-receipt package=" + r.package_id + " receiver=" + r.receiver;
}

// What is wrong with a receipt's fields, or empty when nothing is.
std::string field_problem(const Receipt& r) {
  if (!lower_hex(r.package_id, 32)) return "package is not 32 lower-case hex digits";
  if (!lower_hex(r.sealed_blake2b, 128)) return "blake2b is not 128 lower-case hex digits";
  if (!valid_site_name(r.receiver)) return "receiver is not a site name";
  if (!valid_site_name(r.sender)) return "sender is not a site name";
  if (!valid_utc_time(r.time)) return "time is not an RFC 3339 UTC time";
  return {};
}

std::array<std::uint8_t, 64> prehash(std::string_view text) {
  minisign::Prehash h;
  h.write(util::as_bytes(text));
  return h.digest();
}

}  // namespace

bool valid_utc_time(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.F+]Z
  if (t.size() < 20 || t.size() > kMaxTime) return false;
  auto digits = [&](std::size_t pos, std::size_t n, int& out) {
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      out = out * 10 + (t[i] - '0');
    }
    return true;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(0, 4, year) || t[4] != '-' || !digits(5, 2, month) || t[7] != '-' ||
      !digits(8, 2, day) || t[10] != 'T' || !digits(11, 2, hour) || t[13] != ':' ||
      !digits(14, 2, minute) || t[16] != ':' || !digits(17, 2, second))
    return false;
  std::size_t pos = 19;
  if (t[pos] == '.') {
    const std::size_t start = ++pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') ++pos;
    if (pos == start || pos - start > 9) return false;
  }
  if (pos + 1 != t.size() || t[pos] != 'Z') return false;
  static constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1]) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return false;
  return hour <= 23 && minute <= 59 && second <= 60;  // 60: a leap second
}

std::string Receipt::statement() const {
  if (auto why = field_problem(*this); !why.empty())
    throw Error(Exit::usage, "delivery receipt: " + why);
  return std::string(kTag) + " package=" + package_id + " blake2b=" + sealed_blake2b +
         " receiver=" + receiver + " sender=" + sender + " time=" + time + "\n";
}

Receipt Receipt::parse(std::string_view text) {
  auto bad = [](const std::string& why) {
    return Error(Exit::bad_signature, "delivery receipt: " + why);
  };
  if (text.size() > kMaxStatement) throw bad("longer than a receipt statement can be");
  if (text.empty() || text.back() != '\n') throw bad("not one line ending in a newline");
  std::string_view line = text.substr(0, text.size() - 1);
  if (line.find_first_of("\n\r") != std::string_view::npos) throw bad("more than one line");

  static constexpr std::array<std::string_view, 5> kKeys = {"package", "blake2b", "receiver",
                                                            "sender", "time"};
  std::array<std::string_view, 5> values;
  std::size_t sp = line.find(' ');
  if (line.substr(0, sp) != kTag) throw bad("it does not start with \"iep-receipt \"");
  for (std::size_t i = 0; i < kKeys.size(); ++i) {
    if (sp == std::string_view::npos) throw bad("field " + std::string(kKeys[i]) + " missing");
    line.remove_prefix(sp + 1);
    sp = line.find(' ');
    const std::string_view tok = line.substr(0, sp);
    const std::string_view key = kKeys[i];
    if (tok.size() <= key.size() || !tok.starts_with(key) || tok[key.size()] != '=')
      throw bad("expected field " + std::string(key) + "= in position " + std::to_string(i + 1));
    values[i] = tok.substr(key.size() + 1);
  }
  if (sp != std::string_view::npos) throw bad("text after the time field");

  Receipt r{std::string(values[0]), std::string(values[1]), std::string(values[2]),
            std::string(values[3]), std::string(values[4])};
  if (auto why = field_problem(r); !why.empty()) throw bad(why);
  return r;
}

SignedReceipt sign_receipt(const Receipt& r, const SiteIdentity& self) {
  if (r.receiver != self.site)
    throw Error(Exit::usage, "delivery receipt: names " + r.receiver + " as receiver, but " +
                                 self.site + " is signing it");
  const std::string text = r.statement();
  auto sig = minisign::Signature::sign(self.signing, prehash(text), trusted_comment(r),
                                       "iep delivery receipt from " + self.site);
  return SignedReceipt{r, std::move(sig)};
}

Receipt verify_receipt(std::string_view statement, std::string_view signature_text,
                       const SiteCard& receiver) {
  Receipt r = Receipt::parse(statement);
  const auto sig = minisign::Signature::parse(signature_text);
  if (r.receiver != receiver.site)
    throw Error(Exit::bad_signature, "delivery receipt: names " + r.receiver +
                                         " as receiver, checked against the card of " +
                                         receiver.site);
  if (sig.key_id != receiver.signing_key.id)
    throw Error(Exit::bad_signature, "delivery receipt: not signed by the key of " + receiver.site +
                                         " (" + receiver.signing_key.id_hex() + ")");
  if (!sig.verify(receiver.signing_key, prehash(statement)))
    throw Error(Exit::bad_signature,
                "delivery receipt: the signature of " + receiver.site + " does not verify");
  if (sig.trusted_comment != trusted_comment(r))
    throw Error(Exit::bad_signature,
                "delivery receipt: the signed comment does not name this package and receiver");
  return r;
}

}  // namespace iep::transfer
