// Peer addresses and DIMSE statuses in words (lib/include/iep/pacs/dimse.h).
#include "iep/pacs/dimse.h"

#include <doctest/doctest.h>

#include "iep/core/error.h"

using iep::pacs::parse_peer;

TEST_CASE("a peer is AET@HOST:PORT") {
  const auto p = parse_peer("ORTHANC@127.0.0.1:4242");
  CHECK(p.aet == "ORTHANC");
  CHECK(p.host == "127.0.0.1");
  CHECK(p.port == 4242);
  CHECK(p.to_string() == "ORTHANC@127.0.0.1:4242");
  const auto v6 = parse_peer("PACS@[::1]:104");
  CHECK(v6.host == "::1");
  CHECK(v6.to_string() == "PACS@[::1]:104");
  // An AE title may hold '@' only before the last one.
  CHECK(parse_peer("A B@pacs.local:11112").aet == "A B");
}

TEST_CASE("a malformed peer is a usage error naming the flag and the cause") {
  const auto usage = [](const std::string& text) {
    try {
      parse_peer(text, "--pacs");
    } catch (const iep::Error& e) {
      CHECK(e.code() == iep::Exit::usage);
      CHECK(std::string(e.what()).find("--pacs") != std::string::npos);
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(usage("127.0.0.1:104").find("no AE title") != std::string::npos);
  CHECK(usage("PACS@host").find("no port") != std::string::npos);
  CHECK(usage("PACS@:104").find("no host") != std::string::npos);
  CHECK(usage("PACS@host:0").find("port") != std::string::npos);
  CHECK(usage("PACS@host:65536").find("port") != std::string::npos);
  CHECK(usage("PACS@host:10x").find("port") != std::string::npos);
  CHECK(usage("SEVENTEEN_CHARS_X@host:104").find("1 to 16") != std::string::npos);
  CHECK(usage("A\\B@host:104").find("character") != std::string::npos);
  CHECK(usage("   @host:104").find("spaces") != std::string::npos);
}

TEST_CASE("DIMSE statuses in words, with the code") {
  using iep::pacs::status_text;
  CHECK(status_text(0x0000) == "success");
  CHECK(status_text(0xA700) == "refused: out of resources (A700)");
  CHECK(status_text(0xA7FF) == "refused: out of resources (A7FF)");
  CHECK(status_text(0xC123) == "error: cannot understand (C123)");
  CHECK(status_text(0xB000) == "warning: coercion of data elements (B000)");
  CHECK(status_text(0x0122) == "refused: SOP class not supported (0122)");
  CHECK(iep::pacs::status_warning(0xB007));
  CHECK_FALSE(iep::pacs::status_warning(0xA700));
  CHECK(iep::pacs::status_pending(0xFF01));
  CHECK(iep::pacs::status_success(0));
}
