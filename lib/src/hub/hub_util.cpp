// Small helpers private to the hub, and the seams to the audit and receipt
// modules.
#include "hub/hub_util.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "core/util.h"
#include "iep/core/error.h"
#include "iep/package/minisign.h"
#include "iep/transfer/receipt.h"

namespace iep::hub {

AuditRecord next_audit_record(std::uint64_t prev_seq, const std::string& prev_hash,
                              const AuditEvent& e, const std::string& time) {
  return chain_next(prev_seq, prev_hash, e, time);
}

void check_receipt(std::string_view statement, std::string_view signature, const SiteCard& receiver,
                   const std::string& package, const std::string& blake2b,
                   const std::string& sender) {
  auto r = transfer::verify_receipt(statement, signature, receiver);
  if (r.package_id != package || r.sealed_blake2b != blake2b || r.receiver != receiver.site ||
      r.sender != sender)
    throw Error(Exit::bad_signature,
                "the receipt does not name this package, its blake2b, this receiver and sender");
}

std::string make_checkpoint_json(std::uint64_t seq, const std::string& head,
                                 const std::string& time, const minisign::SecretKey& key) {
  return sign_checkpoint(seq, head, time, key).to_json();
}

std::string audit_line_to_dicom(const std::string& line, const std::string& hub_name) {
  return to_dicom_audit_message(parse_record(line, "the audit log"), hub_name);
}

std::string random_hex(std::size_t bytes) {
  util::sodium_ready();
  std::string b(bytes, '\0');
  randombytes_buf(b.data(), b.size());
  return util::hex(util::as_bytes(b));
}

std::string blake2b256_hex(std::string_view data) {
  util::Blake2b256 h;
  h.write(util::as_bytes(data));
  auto d = h.digest();
  return util::hex(d);
}

std::string base64_encode(std::string_view data, bool url) {
  int variant = url ? sodium_base64_VARIANT_URLSAFE_NO_PADDING : sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_encoded_len(data.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(data.data()),
                    data.size(), variant);
  out.resize(std::strlen(out.c_str()));
  return out;
}

bool base64_decode(std::string_view text, std::string& out, bool url) {
  int variant = url ? sodium_base64_VARIANT_URLSAFE_NO_PADDING : sodium_base64_VARIANT_ORIGINAL;
  out.assign(text.size() / 4 * 3 + 3, '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, variant) != 0 ||
      end != text.data() + text.size())
    return false;
  out.resize(len);
  return true;
}

std::string json_string(std::string_view s) {
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace iep::hub
