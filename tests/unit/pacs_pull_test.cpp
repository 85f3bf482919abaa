// check_complete: when a retrieval is the whole study (iep-pack(1), "Nothing
// incomplete is packed").
#include <doctest/doctest.h>

#include "iep/pacs/pull.h"

using iep::pacs::check_complete;
using iep::pacs::StudyResult;

namespace {
StudyResult result(std::optional<std::uint32_t> find, bool counts, std::uint32_t completed,
                   std::uint32_t failed, std::uint32_t warning, std::uint32_t received,
                   std::uint16_t status = 0) {
  StudyResult s;
  s.study.study_uid = "1.2.3";
  s.study.instances = find;
  s.retrieval.method = "C-GET";
  s.retrieval.status = status;
  s.retrieval.counts_known = counts;
  s.retrieval.completed = completed;
  s.retrieval.failed = failed;
  s.retrieval.warning = warning;
  s.retrieval.received = received;
  return s;
}
}  // namespace

TEST_CASE("a complete study") {
  auto s = result(50, true, 50, 0, 0, 50);
  CHECK(check_complete(s).empty());
  CHECK(*s.expected == 50);
  s = result(std::nullopt, true, 48, 0, 2, 50, 0xb000);  // warnings are stored instances
  CHECK(check_complete(s).empty());
  s = result(std::nullopt, false, 0, 0, 0, 3);  // a PACS that gives no counts at all
  CHECK(check_complete(s).empty());
  CHECK(!s.expected);
}

TEST_CASE("fewer than C-FIND announced, though the retrieval reports no failure") {
  // An instance deleted between the C-FIND and the C-GET.
  auto s = result(50, true, 49, 0, 0, 49);
  const auto why = check_complete(s);
  CHECK(why.find("49 of 50 instances received") != std::string::npos);
  CHECK(why.find("C-FIND announced 50") != std::string::npos);
  CHECK(why.find("1 missing") != std::string::npos);
}

TEST_CASE("failed sub-operations, a failure status, nothing, too many, refused") {
  auto s = result(50, true, 49, 1, 0, 49, 0xb000);
  CHECK(check_complete(s).find("1 sub-operations failed") != std::string::npos);
  s = result(std::nullopt, true, 0, 0, 0, 0, 0xa701);
  CHECK(check_complete(s).find("nothing arrived") != std::string::npos);
  s = result(std::nullopt, true, 10, 0, 0, 10, 0xc000);
  CHECK(!check_complete(s).empty());
  s = result(10, true, 10, 0, 0, 11);  // an instance nobody announced
  CHECK(check_complete(s).find("1 more than the PACS reported sending") != std::string::npos);
  s = result(10, true, 10, 0, 0, 9);  // the PACS counted one we do not have
  CHECK(check_complete(s).find("1 missing") != std::string::npos);
  s = result(1, true, 1, 0, 0, 1);
  s.retrieval.refused.push_back("x: cannot write");
  CHECK(check_complete(s).find("refused x: cannot write") != std::string::npos);
  s = result(2, true, 1, 1, 0, 1);
  s.retrieval.failed_uids = {"1.2.3.4"};
  CHECK(check_complete(s).find("failed: 1.2.3.4") != std::string::npos);
}
