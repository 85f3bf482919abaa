// Fuzzes the audit chain: parse_record on every line, verify_chain on the
// whole input, and checkpoints made over what verifies.
//   - nothing throws but iep::Error (verify_chain never throws);
//   - a line that parses is exactly the line chain_next makes of its fields
//     (one record, one text), and makes a DICOM audit message;
//   - a log that verifies verifies again with a checkpoint of its head, and
//     fails with a checkpoint past its end.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "iep/core/error.h"
#include "iep/core/io.h"
#include "iep/hub/audit.h"
#include "iep/package/minisign.h"

namespace {

const iep::minisign::SecretKey& hub_key() {
  static const auto key = iep::minisign::SecretKey::generate();
  return key;
}

void one_line(std::string_view line) {
  iep::hub::AuditRecord r;
  try {
    r = iep::hub::parse_record(line, "fuzz");
  } catch (const iep::Error&) {
    return;
  }
  if (r.line != line) __builtin_trap();
  if (r.event.detail_json.size() <= 16 * 1024) {
    const auto again = iep::hub::chain_next(r.seq - 1, r.prev, r.event, r.time);
    if (again.line != line || again.hash != r.hash) __builtin_trap();
  }
  const std::string xml = iep::hub::to_dicom_audit_message(r, "fuzz-hub");
  if (xml.find("<AuditMessage>") == std::string::npos) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t nl = text.find('\n', start);
    one_line(
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  try {
    (void)iep::hub::Checkpoint::from_json(text);
  } catch (const iep::Error&) {
  }

  iep::BytesSource src(iep::ByteSpan(data, size));
  const auto v = iep::hub::verify_chain(src, {}, nullptr);
  if (v.ok != (v.result == iep::Exit::ok)) __builtin_trap();
  if (!v.ok && v.error.empty()) __builtin_trap();
  if (v.ok && v.records > 0) {
    const auto pub = hub_key().public_key();
    const auto head =
        iep::hub::sign_checkpoint(v.records, v.head, "2026-12-02T10:00:00Z", hub_key());
    iep::BytesSource again(iep::ByteSpan(data, size));
    const auto v2 = iep::hub::verify_chain(again, {head}, &pub);
    if (!v2.ok || v2.checkpoints_checked != 1) __builtin_trap();
    const auto past =
        iep::hub::sign_checkpoint(v.records + 1, v.head, "2026-12-02T10:00:00Z", hub_key());
    iep::BytesSource third(iep::ByteSpan(data, size));
    const auto v3 = iep::hub::verify_chain(third, {past}, &pub);
    if (v3.ok || v3.result != iep::Exit::corrupt) __builtin_trap();
  }
  return 0;
}
