// StudyQuery: the KEY=VALUE forms iep-pack --pacs accepts, in DICOM form.
#include <doctest/doctest.h>

#include "iep/core/error.h"
#include "iep/pacs/query.h"

using iep::pacs::StudyQuery;

namespace {
std::string one(const std::string& text, const std::string& today = "20261202") {
  StudyQuery q;
  q.add(text, "--query", today);
  REQUIRE(q.keys().size() == 1);
  return q.keys()[0].value;
}
iep::Exit code_of(const std::string& text) {
  try {
    one(text);
  } catch (const iep::Error& e) {
    return e.code();
  }
  return iep::Exit::ok;
}
}  // namespace

TEST_CASE("study dates: single days, ranges, open ranges, today and yesterday") {
  CHECK(one("StudyDate=20261101") == "20261101");
  CHECK(one("StudyDate=20261101-20261127") == "20261101-20261127");
  CHECK(one("StudyDate=-20261127") == "-20261127");
  CHECK(one("StudyDate=20261101-") == "20261101-");
  CHECK(one("StudyDate=today") == "20261202");
  CHECK(one("StudyDate=yesterday") == "20261201");
  CHECK(one("StudyDate=yesterday-today") == "20261201-20261202");
  // across a month, a year and a leap day
  CHECK(one("StudyDate=yesterday", "20261201") == "20261130");
  CHECK(one("StudyDate=yesterday", "20270101") == "20261231");
  CHECK(one("StudyDate=yesterday", "20280301") == "20280229");
  CHECK(one("StudyDate=20280229") == "20280229");
  for (const char* bad :
       {"StudyDate=20270229", "StudyDate=2026110", "StudyDate=20261301", "StudyDate=20261100",
        "StudyDate=-", "StudyDate=1-2-3", "StudyDate=20261127-20261101", "StudyDate=tomorrow",
        "StudyDate=2026-11-01"})
    CHECK_MESSAGE(code_of(bad) == iep::Exit::usage, bad);
}

TEST_CASE("keys: the allowed ones, each once, values bounded") {
  CHECK(one("PatientID=ABC*") == "ABC*");
  CHECK(one("PatientName=SMITH^J*") == "SMITH^J*");
  CHECK(one("AccessionNumber=A123") == "A123");
  CHECK(one("StudyInstanceUID=1.2.3\\1.2.4") == "1.2.3\\1.2.4");
  CHECK(one("ModalitiesInStudy=CT\\MR") == "CT\\MR");
  CHECK(code_of("Modality=CT") == iep::Exit::usage);
  CHECK(code_of("PatientID") == iep::Exit::usage);
  CHECK(code_of("=x") == iep::Exit::usage);
  CHECK(code_of("PatientID=") == iep::Exit::usage);
  CHECK(code_of("PatientID=" + std::string(65, 'x')) == iep::Exit::usage);
  CHECK(code_of("AccessionNumber=" + std::string(17, 'x')) == iep::Exit::usage);
  CHECK(code_of("PatientID=a\\b") == iep::Exit::usage);
  CHECK(code_of("PatientID=a\nb") == iep::Exit::usage);
  CHECK(code_of("PatientID=\xc3\xa9") == iep::Exit::usage);
  CHECK(code_of("StudyInstanceUID=1.2.a") == iep::Exit::usage);
  CHECK(code_of("StudyInstanceUID=1.2\\\\1.3") == iep::Exit::usage);
  CHECK(code_of("ModalitiesInStudy=ct") == iep::Exit::usage);
  StudyQuery q;
  q.add("PatientID=1", "--query", "20261202");
  CHECK_THROWS_AS(q.add("PatientID=2", "--query", "20261202"), iep::Error);
  q.add("StudyDate=today", "--query", "20261202");
  CHECK(q.to_string() == "PatientID=1 StudyDate=20261202");
}
