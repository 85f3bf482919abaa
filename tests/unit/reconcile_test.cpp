// Patient ID reconciliation (lib/include/iep/pacs/reconcile.h): the rules
// file and mapping table, every ambiguity a quarantine with its reason, the
// coercion checked by reading it back and by pydicom, the quarantine folder.
// The C-FIND path against a real PACS is tests/e2e/reconcile.sh.
#include "iep/pacs/reconcile.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "../../lib/src/pacs/reconcile_dataset.h"
#include "iep/core/error.h"
#include "test_util.h"

namespace fs = std::filesystem;
using iep::Exit;
using iep::pacs::Decision;
using iep::pacs::PatientKey;
using iep::pacs::Reconciler;
using iep::test::code_of;
using iep::test::error_of;
using iep::test::kPydicom;
using iep::test::quote;
using iep::test::read_file;
using iep::test::Run;
using iep::test::run;
using iep::test::scratch;
using iep::test::write_file;

namespace {

PatientKey sender(std::string id = "P100", std::string issuer = "HOSP_A") {
  PatientKey k;
  k.patient_id = std::move(id);
  k.issuer = std::move(issuer);
  k.name = "SMITH^JOHN";
  k.birth_date = "19700101";
  k.sex = "M";
  k.accession = "A-77";
  k.study_uid = "1.2.826.0.1.3680043.2.1125.1";
  k.other_ids = {{"9434765919", "NHS"}};
  return k;
}

// A rules file (and table) in `dir`; returns the rules path.
fs::path rules(const fs::path& dir, const std::string& json, const std::string& csv = {}) {
  if (!csv.empty()) write_file(dir / "map.csv", csv);
  write_file(dir / "rules.json", json);
  return dir / "rules.json";
}

const std::string kTable =
    "sender_issuer,sender_patient_id,local_patient_id,local_issuer,sender_accession,"
    "local_accession\n"
    "HOSP_A,P100,L9,,,\n"
    "# a comment line\n"
    "HOSP_A,P100,L9,,A-77,RAD-1\n"
    "HOSP_A,P200,L2,RXX,,\n"
    "HOSP_B,P100,L5,RXX,,\n"
    "\"HOSP_A\",\"P,300\",L3,RXX,,\n";

// A copy of a pydicom corpus file edited with DCMTK.
fs::path edited(const fs::path& in, const fs::path& out,
                const std::function<void(DcmDataset&)>& f) {
  DcmFileFormat ff;
  REQUIRE(ff.loadFile(in.c_str()).good());
  f(*ff.getDataset());
  REQUIRE(ff.saveFile(out.c_str(), ff.getDataset()->getOriginalXfer()).good());
  return out;
}

void set_patient(DcmDataset& d, const char* id, const char* issuer, const char* study) {
  d.putAndInsertString(DCM_PatientID, id);
  if (issuer) d.putAndInsertString(DCM_IssuerOfPatientID, issuer);
  d.putAndInsertString(DCM_PatientName, "SMITH^JOHN");
  d.putAndInsertString(DCM_PatientBirthDate, "19700101");
  d.putAndInsertString(DCM_PatientSex, "M");
  d.putAndInsertString(DCM_AccessionNumber, "A-77");
  d.putAndInsertString(DCM_StudyInstanceUID, study);
  d.findAndDeleteElement(DCM_OtherPatientIDsSequence);  // CT_small has two items
  DcmItem* item = nullptr;
  d.findOrCreateSequenceItem(DCM_OtherPatientIDsSequence, item, 0);
  item->putAndInsertString(DCM_PatientID, "9434765919");
  item->putAndInsertString(DCM_IssuerOfPatientID, "NHS");
}

std::string str(DcmItem& d, const DcmTagKey& tag) {
  OFString v;
  d.findAndGetOFStringArray(tag, v);
  return v.c_str();
}

}  // namespace

TEST_CASE("a table row maps the sender's patient ID and issuer to the local ones") {
  const fs::path dir = scratch("reconcile-table");
  Reconciler r =
      Reconciler::load(rules(dir, R"({"local_issuer": "RXX", "table": "map.csv"})", kTable));
  CHECK(r.describe() == "table map.csv (5 rows); local issuer RXX");

  Decision d = r.decide(sender("P200"));
  CHECK(d.action == Decision::Action::coerce);
  CHECK(d.patient_id == "L2");
  CHECK(d.issuer == "RXX");
  CHECK(!d.accession);  // coerce_accession is off
  CHECK(d.rule == "table map.csv line 5");
  CHECK(d.summary() ==
        "study 1.2.826.0.1.3680043.2.1125.1: sender's patient P200 (issuer HOSP_A) SMITH^JOHN -> "
        "local L2 (issuer RXX) by table map.csv line 5");

  // An empty local_issuer is the rules' local_issuer; both rows for P100
  // (one for any study, one for accession A-77) agree.
  d = r.decide(sender("P100"));
  CHECK(d.action == Decision::Action::coerce);
  CHECK(d.patient_id == "L9");
  CHECK(d.issuer == "RXX");
  CHECK(d.rule == "table map.csv lines 2, 4");

  // The issuer is part of the key: P100 of HOSP_B is another patient.
  d = r.decide(sender("P100", "HOSP_B"));
  CHECK(d.patient_id == "L5");
  // Quoted fields (RFC 4180).
  CHECK(r.decide(sender("P,300")).patient_id == "L3");
  // A spreadsheet's byte order mark and CRLF line ends.
  std::string crlf = "\xEF\xBB\xBF";
  for (char c : kTable) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  Reconciler bom =
      Reconciler::load(rules(dir, R"({"local_issuer": "RXX", "table": "map.csv"})", crlf));
  CHECK(bom.decide(sender("P200")).patient_id == "L2");
  CHECK(bom.decide(sender("P200")).rule == "table map.csv line 5");
}

TEST_CASE("the table maps the accession number when the rules say so, the study's row first") {
  const fs::path dir = scratch("reconcile-accession");
  Reconciler r = Reconciler::load(rules(
      dir, R"({"local_issuer": "RXX", "table": "map.csv", "coerce_accession": true})", kTable));
  Decision d = r.decide(sender("P100"));
  REQUIRE(d.accession);
  CHECK(*d.accession == "RAD-1");
  CHECK(d.summary().find("accession A-77 -> RAD-1") != std::string::npos);
  // Another study of the same patient: no row maps its accession number.
  PatientKey other = sender("P100");
  other.accession = "A-78";
  d = r.decide(other);
  CHECK(d.action == Decision::Action::coerce);
  CHECK(d.rule == "table map.csv line 2");
  CHECK(!d.accession);
}

TEST_CASE("no match, disagreeing rows and missing identifiers are quarantined with the reason") {
  const fs::path dir = scratch("reconcile-ambiguous");
  std::string table = kTable + "HOSP_A,P200,L7,RXX,,\nHOSP_A,P400,L4,,,\nHOSP_A,P400,L4,,,\n";
  Reconciler r = Reconciler::load(rules(dir, R"({"local_issuer": "RXX", "table": "map.csv",
      "national_issuer": "NHS", "coerce_accession": true})",
                                        table));

  Decision d = r.decide(sender("P200"));
  CHECK(d.quarantined());
  CHECK(d.reason ==
        "table map.csv is ambiguous for P200 (issuer HOSP_A): line 5 maps it to L2 (issuer RXX), "
        "line 8 to L7 (issuer RXX)");
  CHECK(d.patient_id.empty());
  CHECK(d.summary() ==
        "study 1.2.826.0.1.3680043.2.1125.1: sender's patient P200 (issuer HOSP_A) SMITH^JOHN "
        "quarantined: " +
            d.reason);
  // The same mapping twice is no ambiguity.
  CHECK(r.decide(sender("P400")).patient_id == "L4");

  d = r.decide(sender("P999"));
  CHECK(d.quarantined());
  CHECK(d.reason == "no rule matched: no row of table map.csv for P999 (issuer HOSP_A)");
  // The issuer must match too, and an ID without issuer is not one with.
  CHECK(r.decide(sender("P100", "")).quarantined());

  PatientKey none = sender();
  none.patient_id.clear();
  CHECK(r.decide(none).reason == "the study has no Patient ID");

  PatientKey two = sender("P100");
  two.other_ids.push_back({"4857773456", "NHS"});
  CHECK(r.decide(two).reason ==
        "the study carries 2 different NHS identifiers: 9434765919, 4857773456");

  // Two rows for this very accession that disagree.
  write_file(dir / "map.csv", kTable + "HOSP_A,P100,L9,,A-77,RAD-2\n");
  d = r.decide(sender("P100"));  // the table changed on disk: read again
  CHECK(d.quarantined());
  CHECK(d.reason.find("ambiguous for the accession number A-77 of P100 (issuer HOSP_A): line 4 "
                      "maps it to RAD-1, line 8 to RAD-2") != std::string::npos);
}

TEST_CASE("a national identifier the rules require must be there") {
  const fs::path dir = scratch("reconcile-national");
  Reconciler r = Reconciler::load(rules(dir, R"({"local_issuer": "RXX", "table": "map.csv",
      "national_issuer": "NHS", "require_national_id": true})",
                                        kTable));
  CHECK(r.decide(sender("P100")).action == Decision::Action::coerce);
  PatientKey k = sender("P100");
  k.other_ids = {{"123", "OTHER"}};
  const Decision d = r.decide(k);
  CHECK(d.quarantined());
  CHECK(d.reason ==
        "the study has no NHS identifier (an Other Patient IDs Sequence item with issuer NHS), "
        "which the rules require");
}

TEST_CASE("keep_issuers keeps a local ID, and a table that says otherwise is a quarantine") {
  const fs::path dir = scratch("reconcile-keep");
  Reconciler r = Reconciler::load(
      rules(dir, R"({"local_issuer": "RXX", "table": "map.csv", "keep_issuers": ["RXX"]})",
            kTable + "RXX,L2,L2,RXX,,\nRXX,L8,L1,RXX,,\n"));
  Decision d = r.decide(sender("L7", "RXX"));
  CHECK(d.action == Decision::Action::keep);
  CHECK(d.patient_id == "L7");
  CHECK(d.rule == "keep_issuers: issuer RXX is local");
  CHECK(d.summary().find("kept as local by keep_issuers") != std::string::npos);
  // Table and keep agree.
  CHECK(r.decide(sender("L2", "RXX")).action == Decision::Action::keep);
  d = r.decide(sender("L8", "RXX"));
  CHECK(d.quarantined());
  CHECK(d.reason ==
        "the rules disagree: table map.csv line 9 says L1 (issuer RXX), keep_issuers: issuer RXX "
        "is local says L8 (issuer RXX)");
  // Other issuers still need a row.
  CHECK(r.decide(sender("L7", "HOSP_A")).quarantined());
}

TEST_CASE("the instances of a study must agree on the patient") {
  const fs::path dir = scratch("reconcile-study");
  Reconciler r =
      Reconciler::load(rules(dir, R"({"local_issuer": "RXX", "table": "map.csv"})", kTable));
  PatientKey a = sender("P200"), b = sender("P200");
  b.other_ids = {{"9434765919", "NHS"}, {"X1", "HOSP_A"}};
  std::string why;
  const auto k = iep::pacs::study_key({a, b}, &why);
  REQUIRE(k);
  CHECK(k->other_ids.size() == 2);
  CHECK(r.decide(std::vector<PatientKey>{a, b}).patient_id == "L2");
  b.name = "SMITH^JANE";
  const Decision d = r.decide(std::vector<PatientKey>{a, b});
  CHECK(d.quarantined());
  CHECK(d.reason ==
        "the instances of study 1.2.826.0.1.3680043.2.1125.1 disagree on Patient's Name: "
        "'SMITH^JOHN' and 'SMITH^JANE'");
  CHECK(r.decide(std::vector<PatientKey>{}).reason == "the study has no instances");
}

TEST_CASE("a malformed rules file or table is a usage error naming the file, line and cause") {
  const fs::path dir = scratch("reconcile-bad");
  const auto msg = [&](const std::string& json, const std::string& csv = {}) {
    return error_of([&] { Reconciler::load(rules(dir, json, csv)); }, Exit::usage);
  };
  const std::string f = (dir / "rules.json").string(), t = (dir / "map.csv").string();
  CHECK(msg("{").rfind(f + ": not JSON", 0) == 0);
  CHECK(msg(R"({"table": "map.csv"})", kTable) ==
        f + ": local_issuer (the Issuer of Patient ID of local patient IDs) must be given, 1-64 "
            "printable ASCII characters");
  CHECK(msg(R"({"local_issuer": "RXX", "tabel": "map.csv"})") == f + ": unknown key 'tabel'");
  CHECK(msg(R"({"local_issuer": "RXX"})") == f + ": no rule: give a table, find, or keep_issuers");
  CHECK(msg(R"({"local_issuer": "RXX", "find": {"pacs": "PACS@h:104"}})")
            .find("find needs national_issuer") != std::string::npos);
  CHECK(msg(R"({"local_issuer": "RXX", "national_issuer": "NHS", "find": {"pacs": "h:104"}})")
            .find("find.pacs") != std::string::npos);
  CHECK(msg(R"({"local_issuer": "RXX", "national_issuer": "NHS",
                "find": {"pacs": "P@h:104", "model": "image"}})")
            .find("find.model must be") != std::string::npos);
  const std::string j = R"({"local_issuer": "RXX", "table": "map.csv"})";
  CHECK(msg(j, "sender_issuer,sender_patient_id,local_id\n") ==
        t + " line 1: unknown column 'local_id' (known: sender_issuer, sender_patient_id, "
            "local_patient_id, local_issuer, sender_accession, local_accession)");
  CHECK(msg(j, "sender_issuer,sender_patient_id\n").find("no column 'local_patient_id'") !=
        std::string::npos);
  CHECK(msg(j, "sender_issuer,sender_patient_id,local_patient_id\nA,B\n") ==
        t + " line 2: 2 fields, the header has 3");
  CHECK(msg(j, "sender_issuer,sender_patient_id,local_patient_id\nA,\"B,C\n") ==
        t + " line 2: unterminated quote");
  CHECK(msg(j, "sender_issuer,sender_patient_id,local_patient_id\nA,B,\xc3\xa9\n") ==
        t + " line 2: local_patient_id '\xc3\xa9' is not 1-64 printable ASCII characters without a "
            "backslash");
  CHECK(msg(j, "sender_issuer,sender_patient_id,local_patient_id\nA,,L\n").find("line 2") !=
        std::string::npos);
  CHECK(msg(j, "# nothing\n") == t + ": empty mapping table (no header line)");
  // Files that cannot be read are input errors.
  fs::remove(dir / "map.csv");
  CHECK(code_of([&] { Reconciler::load(dir / "rules.json"); }) == Exit::input);
  CHECK(code_of([&] { Reconciler::load(dir / "missing.json"); }) == Exit::input);
}

TEST_CASE("a PACS that cannot be reached is an error, not a quarantine") {
  const fs::path dir = scratch("reconcile-unreachable");
  // A port nobody listens on: bound and closed again.
  const Run port =
      run("/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); "
          "print(s.getsockname()[1])'");
  REQUIRE(port.status == 0);
  const std::string p = port.out.substr(0, port.out.find('\n'));
  Reconciler r = Reconciler::load(rules(dir, R"({"local_issuer": "RXX", "national_issuer": "NHS",
      "find": {"pacs": "PACS@127.0.0.1:)" + p + R"(", "timeout": 5}})"));
  std::string message;
  CHECK(code_of([&] { r.decide(sender()); }, &message) == Exit::pacs_unreachable);
  CHECK(message.find("PACS@127.0.0.1:" + p) != std::string::npos);
  // Without an NHS number there is nothing to ask: no match, quarantined.
  PatientKey k = sender();
  k.other_ids.clear();
  const Decision d = r.decide(k);
  CHECK(d.quarantined());
  CHECK(d.reason == "no rule matched: no NHS identifier in Other Patient IDs Sequence to look up");
}

TEST_CASE("apply() coerces the IDs and keeps the old values in Original Attributes Sequence") {
  const fs::path dir = scratch("reconcile-apply");
  const std::string study = "1.2.826.0.1.3680043.2.1125.9";
  const fs::path ct = edited(kPydicom / "CT_small.dcm", dir / "ct.dcm", [&](DcmDataset& d) {
    set_patient(d, "P100", "HOSP_A", study.c_str());
  });
  // An instance without Issuer of Patient ID: recorded as absent (empty).
  const fs::path mr = edited(kPydicom / "MR_small.dcm", dir / "mr.dcm", [&](DcmDataset& d) {
    set_patient(d, "P100", nullptr, study.c_str());
  });
  const PatientKey kc = iep::pacs::read_patient_key(ct);
  CHECK(kc.patient_id == "P100");
  CHECK(kc.issuer == "HOSP_A");
  CHECK(kc.name == "SMITH^JOHN");
  CHECK(kc.study_uid == study);
  REQUIRE(kc.other_ids.size() == 1);
  CHECK(kc.other_ids[0] == iep::pacs::OtherPatientId{"9434765919", "NHS"});
  const PatientKey km = iep::pacs::read_patient_key(mr);
  CHECK(km.issuer.empty());

  Decision d;
  d.action = Decision::Action::coerce;
  d.patient_id = "L9";
  d.issuer = "RXX";
  d.accession = "RAD-1";
  d.sender = kc;
  d.modified_at = "20261202151500.123456+0000";
  d.modifying_system = "iep RXX";
  d.source = "trust-a";

  SUBCASE("read back with DCMTK") {
    DcmFileFormat ff;
    REQUIRE(ff.loadFile(ct.c_str()).good());
    DcmDataset& ds = *ff.getDataset();
    CHECK(iep::pacs::apply(ds, d));
    CHECK(str(ds, DCM_PatientID) == "L9");
    CHECK(str(ds, DCM_IssuerOfPatientID) == "RXX");
    CHECK(str(ds, DCM_AccessionNumber) == "RAD-1");
    DcmItem* oa = nullptr;
    REQUIRE(ds.findAndGetSequenceItem(DCM_OriginalAttributesSequence, oa, 0).good());
    CHECK(str(*oa, DCM_ReasonForTheAttributeModification) == "COERCE");
    CHECK(str(*oa, DCM_ModifyingSystem) == "iep RXX");
    CHECK(str(*oa, DCM_SourceOfPreviousValues) == "trust-a");
    CHECK(str(*oa, DCM_AttributeModificationDateTime) == "20261202151500.123456+0000");
    DcmItem* mod = nullptr;
    REQUIRE(oa->findAndGetSequenceItem(DCM_ModifiedAttributesSequence, mod, 0).good());
    CHECK(str(*mod, DCM_PatientID) == "P100");
    CHECK(str(*mod, DCM_IssuerOfPatientID) == "HOSP_A");
    CHECK(str(*mod, DCM_AccessionNumber) == "A-77");
    CHECK(mod->card() == 3);
    // The key of the coerced instance is the local one; a second decision
    // adds a second item and keeps the first.
    CHECK(iep::pacs::patient_key(ds).patient_id == "L9");
    Decision again = d;
    again.patient_id = "L10";
    again.accession.reset();
    CHECK(iep::pacs::apply(ds, again));
    DcmSequenceOfItems* seq = nullptr;
    REQUIRE(ds.findAndGetSequence(DCM_OriginalAttributesSequence, seq).good());
    CHECK(seq->card() == 2);
    // Nothing to change: no item, false.
    CHECK(!iep::pacs::apply(ds, again));
    CHECK(seq->card() == 2);
    // keep changes nothing; quarantine must never reach a data set.
    Decision keep = d;
    keep.action = Decision::Action::keep;
    CHECK(!iep::pacs::apply(ds, keep));
    Decision q = d;
    q.action = Decision::Action::quarantine;
    CHECK(code_of([&] { iep::pacs::apply(ds, q); }) == Exit::internal);
  }

  SUBCASE("read by pydicom, the same item in every instance of the study") {
    iep::pacs::apply_to_file(ct, dir / "ct-coerced.dcm", d);
    iep::pacs::apply_to_file(mr, dir / "mr-coerced.dcm", d);
    // Never over an existing file.
    CHECK(code_of([&] { iep::pacs::apply_to_file(ct, dir / "ct-coerced.dcm", d); }) ==
          Exit::output);
    write_file(dir / "oracle.py", R"(import json, sys, pydicom
out = []
for f in sys.argv[1:]:
    d = pydicom.dcmread(f)
    items = []
    for it in d.OriginalAttributesSequence:
        mod = it.ModifiedAttributesSequence[0]
        items.append({
            "reason": it.ReasonForTheAttributeModification,
            "system": it.ModifyingSystem,
            "source": it.SourceOfPreviousValues,
            "when": str(it.AttributeModificationDateTime),
            "old": {e.keyword: (str(e.value) if e.value is not None else None) for e in mod},
        })
    out.append({"id": d.PatientID, "issuer": d.IssuerOfPatientID,
                "accession": d.AccessionNumber, "name": str(d.PatientName),
                "pixels": len(d.PixelData), "items": items})
print(json.dumps(out))
)");
    const Run r = run("/usr/bin/python3 oracle.py ct-coerced.dcm mr-coerced.dcm", dir);
    INFO(r.err);
    REQUIRE(r.status == 0);
    const auto j = nlohmann::json::parse(r.out);
    REQUIRE(j.size() == 2);
    for (const auto& f : j) {
      CHECK(f["id"] == "L9");
      CHECK(f["issuer"] == "RXX");
      CHECK(f["accession"] == "RAD-1");
      CHECK(f["name"] == "SMITH^JOHN");
      CHECK(f["pixels"].get<int>() > 0);
      REQUIRE(f["items"].size() == 1);
      const auto& it = f["items"][0];
      CHECK(it["reason"] == "COERCE");
      CHECK(it["system"] == "iep RXX");
      CHECK(it["source"] == "trust-a");
      CHECK(it["when"] == "20261202151500.123456+0000");
      CHECK(it["old"]["PatientID"] == "P100");
      CHECK(it["old"]["AccessionNumber"] == "A-77");
    }
    CHECK(j[0]["items"][0]["old"]["IssuerOfPatientID"] == "HOSP_A");
    // Absent before: recorded with no value.
    CHECK(j[1]["items"][0]["old"].contains("IssuerOfPatientID"));
    CHECK(j[1]["items"][0]["old"]["IssuerOfPatientID"] == "");
    // The pixels are untouched.
    const Run cmp =
        run("/usr/bin/python3 -c \"import pydicom,sys; a=pydicom.dcmread(sys.argv[1]); "
            "b=pydicom.dcmread(sys.argv[2]); sys.exit(a.PixelData != b.PixelData)\" "
            "ct.dcm ct-coerced.dcm",
            dir);
    CHECK(cmp.status == 0);
  }
}

TEST_CASE("a quarantined study goes whole into a new folder with its report, never over another") {
  const fs::path dir = scratch("reconcile-quarantine");
  Decision d;
  d.action = Decision::Action::quarantine;
  d.sender = sender();
  d.reason = "no rule matched: no row of table map.csv for P100 (issuer HOSP_A)";
  d.modified_at = "20261202151500.000000+0000";
  std::string bytes(100000, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  // zstd's magic: named .tar.zst
  bytes[0] = '\x28';
  bytes[1] = '\xb5';
  bytes[2] = '\x2f';
  bytes[3] = '\xfd';
  const auto put = [&](const std::string& name) {
    iep::BytesSource src(
        iep::ByteSpan(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
    return iep::pacs::quarantine(dir / "q", src, name, d);
  };
  const fs::path a = put("/incoming/study.tar.zst");
  const fs::path b = put("-");
  CHECK(a != b);
  CHECK(a.parent_path() == dir / "q");
  CHECK(a.filename().string().find("-1.2.826.0.1.3680043.2.1125.1") == 16);
  CHECK(read_file(a / "study.tar.zst") == bytes);
  CHECK(read_file(b / "package.tar.zst") == bytes);
  const auto j = nlohmann::json::parse(read_file(a / "report.json"));
  CHECK(j["action"] == "quarantine");
  CHECK(j["reason"] == d.reason);
  CHECK(j["sender"]["patient_id"] == "P100");
  CHECK(j["sender"]["issuer"] == "HOSP_A");
  CHECK(j["sender"]["name"] == "SMITH^JOHN");
  CHECK(j["sender"]["study_uid"] == "1.2.826.0.1.3680043.2.1125.1");
  CHECK(j["sender"]["other_ids"][0]["id"] == "9434765919");
  const std::string line = read_file(a / "report.txt");
  CHECK(line == d.summary() + "\n");
  CHECK(line.find("P100 (issuer HOSP_A) SMITH^JOHN quarantined: no rule matched") !=
        std::string::npos);
  // Nothing else: no partial folders, no temporaries.
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir / "q")) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 2);
  // A study UID from outside never names a path.
  d.sender.study_uid = "../../etc";
  bytes[0] = 'x';  // not zstd: a tar
  const fs::path c = put("-");
  CHECK(c.parent_path() == dir / "q");
  CHECK(c.filename().string().find("no-study-uid") != std::string::npos);
  CHECK(read_file(c / "package.tar") == bytes);
  // A quarantine folder that cannot be made is an output error.
  write_file(dir / "file", "x");
  iep::BytesSource src(iep::ByteSpan{});
  CHECK(code_of([&] { iep::pacs::quarantine(dir / "file" / "q", src, "p", d); }) == Exit::output);
}

TEST_CASE("an SQLite mapping table is queried for each study") {
  const fs::path dir = scratch("reconcile-sqlite");
  // Made by python3's sqlite3 module, not by us.
  write_file(dir / "make.py", R"PY(import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE reconcile_map (sender_issuer TEXT, sender_patient_id TEXT NOT NULL,"
           " local_patient_id TEXT NOT NULL, local_issuer TEXT, sender_accession TEXT,"
           " local_accession TEXT)")
rows = [("HOSP_A", "P100", "L9", None, None, None),
        ("HOSP_A", "P100", "L9", None, "A-77", "RAD-1"),
        ("HOSP_A", "P200", "L2", "RXX", None, None),
        ("HOSP_A", "P200", "L7", "RXX", None, None),
        (None, "P300", "L3", None, None, None),
        ("HOSP_A", "P400", "L\\4", None, None, None)]
db.executemany("INSERT INTO reconcile_map VALUES (?, ?, ?, ?, ?, ?)", rows)
db.execute("CREATE TABLE other (x)")
db.commit()
)PY");
  REQUIRE(run("/usr/bin/python3 make.py map.db", dir).status == 0);
  Reconciler r = Reconciler::load(
      rules(dir, R"({"local_issuer": "RXX", "table": "map.db", "coerce_accession": true})"));
  CHECK(r.describe() == "table map.db (6 rows); local issuer RXX");
  Decision d = r.decide(sender("P100"));
  CHECK(d.action == Decision::Action::coerce);
  CHECK(d.patient_id == "L9");
  CHECK(d.issuer == "RXX");
  CHECK(d.accession == "RAD-1");
  CHECK(d.rule == "table map.db rows 1, 2");
  // NULL issuer: a sender without one.
  CHECK(r.decide(sender("P300", "")).patient_id == "L3");
  CHECK(r.decide(sender("P300")).quarantined());
  d = r.decide(sender("P200"));
  CHECK(d.quarantined());
  CHECK(d.reason ==
        "table map.db is ambiguous for P200 (issuer HOSP_A): row 3 maps it to L2 (issuer RXX), "
        "row 4 to L7 (issuer RXX)");
  // Rows added later count at once.
  REQUIRE(run("/usr/bin/python3 -c \"import sqlite3; db = sqlite3.connect('map.db'); "
              "db.execute(\\\"INSERT INTO reconcile_map VALUES ('HOSP_A', 'P500', 'L5', '', '', "
              "'')\\\"); db.commit()\"",
              dir)
              .status == 0);
  CHECK(r.decide(sender("P500")).patient_id == "L5");
  // A value we would not write into a PACS is an error naming the row.
  CHECK(error_of([&] { r.decide(sender("P400")); }, Exit::usage) ==
        (dir / "map.db").string() +
            " row 6: local_patient_id 'L\\4' is not 1-64 printable ASCII characters without a "
            "backslash");
  // An SQLite file without the table, or without a column.
  REQUIRE(run("/usr/bin/python3 -c \"import sqlite3; db = sqlite3.connect('none.db'); "
              "db.execute('CREATE TABLE reconcile_map (sender_issuer, sender_patient_id)'); "
              "db.commit()\"",
              dir)
              .status == 0);
  const std::string m = error_of(
      [&] { Reconciler::load(rules(dir, R"({"local_issuer": "RXX", "table": "none.db"})")); },
      Exit::usage);
  CHECK(m.find((dir / "none.db").string() + ": not a mapping table (a table reconcile_map") == 0);
  CHECK(m.find("no such column: local_patient_id") != std::string::npos);
}

TEST_CASE("accession numbers the rules do not coerce cannot make a study ambiguous") {
  const fs::path dir = scratch("reconcile-no-accession");
  Reconciler r = Reconciler::load(rules(dir, R"({"local_issuer": "RXX", "table": "map.csv"})",
                                        kTable + "HOSP_A,P100,L9,,A-77,RAD-2\n"));
  const Decision d = r.decide(sender("P100"));
  CHECK(d.action == Decision::Action::coerce);
  CHECK(!d.accession);
}

// iep-store learns a study's patient from each instance read by iep's own
// reader (only the values the key needs go to DCMTK); the oracle is DCMTK
// parsing the whole file: the same key, names in other character sets
// included.
TEST_CASE("the patient key from iep's reader is the key from the whole DCMTK data set") {
  const fs::path dir = scratch("reconcile-key");
  const fs::path with_nhs = edited(kPydicom / "CT_small.dcm", dir / "ct.dcm", [&](DcmDataset& d) {
    set_patient(d, "P100", "HOSP_A", "1.2.826.0.1.3680043.2.1125.9");
  });
  const fs::path charsets = "/usr/lib/python3/dist-packages/pydicom/data/charset_files";
  for (const fs::path& p :
       {with_nhs, kPydicom / "MR_small.dcm", kPydicom / "SC_rgb_jpeg_dcmd.dcm",
        charsets / "chrFren.dcm", charsets / "chrGerm.dcm", charsets / "chrRuss.dcm",
        charsets / "chrGreek.dcm", charsets / "chrJapMulti.dcm", charsets / "chrKoreanMulti.dcm"}) {
    CAPTURE(p);
    DcmFileFormat ff;
    REQUIRE(ff.loadFile(p.c_str()).good());
    const PatientKey want = iep::pacs::patient_key(*ff.getDataset());
    const PatientKey got = iep::pacs::patient_key(iep::dicom::File::read(p));
    CHECK(got.patient_id == want.patient_id);
    CHECK(got.issuer == want.issuer);
    CHECK(got.name == want.name);
    CHECK(got.birth_date == want.birth_date);
    CHECK(got.sex == want.sex);
    CHECK(got.accession == want.accession);
    CHECK(got.study_uid == want.study_uid);
    CHECK(got.other_ids == want.other_ids);
  }
}
