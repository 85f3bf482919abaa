#include "iep/pacs/dimse.h"

#include <fmt/format.h>

#include <charconv>

#include "iep/core/error.h"

namespace iep::pacs {

std::string Peer::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("{}@{}{}{}:{}", aet, v6 ? "[" : "", host, v6 ? "]" : "", port);
}

void check_aet(const std::string& aet, const char* flag) {
  if (aet.empty() || aet.size() > 16)
    throw Error(Exit::usage,
                fmt::format("{}: AE title '{}' must be 1 to 16 characters", flag, aet));
  bool blank = true;
  for (unsigned char c : aet) {
    if (c < 0x20 || c > 0x7e || c == '\\')
      throw Error(
          Exit::usage,
          fmt::format("{}: AE title '{}' holds a character DICOM does not allow", flag, aet));
    if (c != ' ') blank = false;
  }
  if (blank) throw Error(Exit::usage, fmt::format("{}: AE title is only spaces", flag));
}

Peer parse_peer(const std::string& text, const char* flag) {
  const auto usage = [&](const char* why) {
    return Error(Exit::usage, fmt::format("{} '{}': {} (expected AET@HOST:PORT)", flag, text, why));
  };
  const auto at = text.rfind('@');
  if (at == std::string::npos || at == 0) throw usage("no AE title");
  Peer peer;
  peer.aet = text.substr(0, at);
  check_aet(peer.aet, flag);
  std::string rest = text.substr(at + 1);
  std::string port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find("]:");
    if (close == std::string::npos) throw usage("no port after the IPv6 address");
    peer.host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos) throw usage("no port");
    peer.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (peer.host.empty()) throw usage("no host");
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
    throw usage("the port is not a number from 1 to 65535");
  peer.port = static_cast<std::uint16_t>(value);
  return peer;
}

bool status_success(std::uint16_t s) {
  return s == 0x0000;
}
bool status_warning(std::uint16_t s) {
  return s == 0x0001 || s == 0x0107 || s == 0x0116 || (s & 0xf000) == 0xb000;
}
bool status_pending(std::uint16_t s) {
  return s == 0xff00 || s == 0xff01;
}

std::string status_text(std::uint16_t s) {
  const char* words = nullptr;
  switch (s) {
    case 0x0000: return "success";
    case 0xb000: words = "warning: coercion of data elements"; break;
    case 0xb006: words = "warning: elements discarded"; break;
    case 0xb007: words = "warning: data set does not match SOP class"; break;
    case 0x0107: words = "warning: attribute list error"; break;
    case 0x0116: words = "warning: attribute value out of range"; break;
    case 0x0001: words = "warning: requested optional attributes are not supported"; break;
    case 0xff00: words = "pending"; break;
    case 0xff01: words = "pending: optional keys not supported"; break;
    case 0xfe00: words = "cancelled"; break;
    case 0x0110: words = "failed: processing failure"; break;
    case 0x0111: words = "failed: duplicate SOP instance"; break;
    case 0x0112: words = "failed: no such SOP instance"; break;
    case 0x0117: words = "failed: invalid object instance"; break;
    case 0x0118: words = "failed: no such SOP class"; break;
    case 0x0119: words = "failed: class-instance conflict"; break;
    case 0x0122: words = "refused: SOP class not supported"; break;
    case 0x0124: words = "refused: not authorized"; break;
    case 0x0210: words = "failed: duplicate invocation"; break;
    case 0x0211: words = "failed: unrecognized operation"; break;
    case 0x0212: words = "failed: mistyped argument"; break;
    case 0x0213: words = "failed: resource limitation"; break;
    case 0xa801: words = "refused: move destination unknown"; break;
    case 0xa900: words = "failed: identifier does not match SOP class"; break;
    default: break;
  }
  if (!words) {
    if ((s & 0xff00) == 0xa700)
      words = "refused: out of resources";
    else if ((s & 0xff00) == 0xa900)
      words = "error: data set does not match SOP class";
    else if ((s & 0xf000) == 0xc000)
      words = "error: cannot understand";
    else if ((s & 0xf000) == 0xb000)
      words = "warning";
    else
      words = "failed";
  }
  return fmt::format("{} ({:04X})", words, s);
}

}  // namespace iep::pacs
