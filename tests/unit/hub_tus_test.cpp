// tus header and Range parsing: what tus clients send, and what they must not.
#include <doctest/doctest.h>

#include "iep/hub/tus.h"

using namespace iep::hub::tus;

TEST_CASE("offsets and lengths are plain decimal numbers") {
  CHECK(parse_uint("0") == 0u);
  CHECK(parse_uint("123456789") == 123456789u);
  CHECK_FALSE(parse_uint(""));
  CHECK_FALSE(parse_uint("-1"));
  CHECK_FALSE(parse_uint("+1"));
  CHECK_FALSE(parse_uint(" 1"));
  CHECK_FALSE(parse_uint("1e3"));
  CHECK_FALSE(parse_uint("99999999999999999999"));  // would overflow
}

TEST_CASE("Upload-Metadata as tus-js-client and tuspy write it") {
  // filename "a.iep", package "0123", a key without value
  auto md = parse_metadata("filename YS5pZXA=,package MDEyMw==,flag");
  REQUIRE(md);
  REQUIRE(md->size() == 3);
  CHECK((*md)[0].first == "filename");
  CHECK((*md)[0].second == "a.iep");
  CHECK((*md)[1].second == "0123");
  CHECK((*md)[2].first == "flag");
  CHECK((*md)[2].second.empty());
  CHECK(parse_metadata("")->empty());
  CHECK(parse_metadata(" filename YS5pZXA= , package MDEyMw== "));
}

TEST_CASE("malformed Upload-Metadata is refused") {
  CHECK_FALSE(parse_metadata("filename !!!"));   // not base64
  CHECK_FALSE(parse_metadata("a YQ==,a YQ=="));  // duplicate key
  CHECK_FALSE(parse_metadata("a YQ== YQ=="));    // two values
  CHECK_FALSE(parse_metadata(",a YQ=="));        // empty key
  CHECK_FALSE(parse_metadata("k\x01 YQ=="));     // control character in a key
  std::string many;
  for (int i = 0; i < 40; ++i) many += (i ? ",k" : "k") + std::to_string(i) + " YQ==";
  CHECK_FALSE(parse_metadata(many));                            // over the pair count
  CHECK_FALSE(parse_metadata("k " + std::string(20000, 'A')));  // over the size
}

TEST_CASE("Upload-Checksum") {
  auto c = parse_checksum("SHA1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
  REQUIRE(c);
  CHECK(c->algorithm == "sha1");
  CHECK(c->digest.size() == 20);
  CHECK(parse_checksum("md5 AAAAAAAAAAAAAAAAAAAAAA==")->algorithm ==
        "md5");  // parsed; refused later
  CHECK_FALSE(parse_checksum("sha1"));
  CHECK_FALSE(parse_checksum("sha1 "));
  CHECK_FALSE(parse_checksum(" qZk+NkcGgWq6PiVxeFDCbJzQ2J0="));
  CHECK_FALSE(parse_checksum("sha1 not*base64"));
}

TEST_CASE("Upload-Concat") {
  CHECK(parse_concat("partial")->partial);
  const std::string a = "0123456789abcdef0123456789abcdef", b = "fedcba9876543210fedcba9876543210";
  auto c = parse_concat("final;/v1/uploads/" + a + " https://hub.example:8443/v1/uploads/" + b);
  REQUIRE(c);
  CHECK_FALSE(c->partial);
  REQUIRE(c->parts.size() == 2);
  CHECK(c->parts[0] == a);
  CHECK(c->parts[1] == b);
  CHECK_FALSE(parse_concat("final;"));
  CHECK_FALSE(parse_concat("final;/v1/uploads/../../etc"));
  CHECK_FALSE(parse_concat("final;/v1/uploads/" + a + "/x"));
  CHECK_FALSE(parse_concat("final;/other/v1/uploads/" + a));
  CHECK_FALSE(parse_concat("final;http://h/x/v1/uploads/" + a));
  CHECK_FALSE(parse_concat("partial;x"));
  std::string many = "final;";
  for (int i = 0; i < 70; ++i) many += "/v1/uploads/" + a + " ";
  CHECK_FALSE(parse_concat(many));
}

TEST_CASE("Range against a body of 1000 bytes") {
  auto r = parse_range("bytes=100-", 1000);
  REQUIRE(r);
  CHECK(r->satisfiable);
  CHECK(r->first == 100);
  CHECK(r->last == 999);
  r = parse_range("bytes=10-19", 1000);
  CHECK((r->first == 10 && r->last == 19));
  r = parse_range("bytes=990-5000", 1000);
  CHECK(r->last == 999);
  r = parse_range("bytes=-100", 1000);
  CHECK((r->first == 900 && r->last == 999));
  r = parse_range("bytes=-5000", 1000);
  CHECK(r->first == 0);
  CHECK_FALSE(parse_range("bytes=1000-", 1000)->satisfiable);
  CHECK_FALSE(parse_range("bytes=-0", 1000)->satisfiable);
  CHECK_FALSE(parse_range("bytes=20-10", 1000));    // malformed: ignored, whole body
  CHECK_FALSE(parse_range("bytes=0-1,5-6", 1000));  // several ranges: whole body
  CHECK_FALSE(parse_range("items=0-1", 1000));
  CHECK_FALSE(parse_range("bytes=a-", 1000));
}

TEST_CASE("ids are 32 lower-case hex digits") {
  CHECK(valid_id("0123456789abcdef0123456789abcdef"));
  CHECK_FALSE(valid_id("0123456789ABCDEF0123456789abcdef"));
  CHECK_FALSE(valid_id("0123456789abcdef0123456789abcde"));
  CHECK_FALSE(valid_id("..%2F..%2Fetc%2Fpasswd0123456789"));
  CHECK_FALSE(valid_id(""));
}
