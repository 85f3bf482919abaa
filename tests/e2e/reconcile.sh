# Patient ID reconciliation on import (iep-store --reconcile, iep-reconcile(5))
# into a real Orthanc used as the local PACS: the local patient found by
# C-FIND on the NHS number (Orthanc ignores matching on Other Patient IDs
# Sequence and answers with every patient: only the record that carries the
# number counts), name and birth date checked; the Patient ID coerced and the
# sender's values in Original Attributes Sequence, as Orthanc's REST API
# shows them; a mapping table with an accession number; every doubt
# quarantined (exit 12), the package kept as received with a report, and
# nothing stored.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pacs_lib.bash"
make_sites
A=$T/keys/a.id
export XDG_STATE_HOME=$T/state

start_orthanc LOCAL LOCALPACS
PACS=LOCALPACS@127.0.0.1:$LOCAL_DICOM

# patient FILE ID ISSUER NAME BIRTH SEX NHS: sets the patient of a file.
patient() {
  dcmodify -nb -q -ma "(0010,0020)=$2" -i "(0010,0021)=$3" -ma "(0010,0010)=$4" \
    -ma "(0010,0030)=$5" -ma "(0010,0040)=$6" -e "(0010,1002)" "$1" || exit 1
  if [ -n "$7" ]; then
    dcmodify -nb -q -i "(0010,1002)[0].PatientID=$7" -i "(0010,1002)[0].IssuerOfPatientID=NHS" \
      "$1" || exit 1
  fi
}
# record ID NAME BIRTH SEX NHS: a local patient in the PACS (one instance).
record() {
  make_study "rec-$1" 1
  patient "rec-$1"/* "$1" RXX "$2" "$3" "$4" "$5"
  storescu -aec LOCALPACS 127.0.0.1 "$LOCAL_DICOM" "rec-$1"/* || exit 1
}
record L9 "SMITH^JOHN" 19700101 M 9434765919
record L5 "JONES^MARY" 19800202 F 4857773456
record L7 "BROWN^ANN" 19600303 F 1111111111
record L8 "BROWN^ANNE" 19600303 F 1111111111
[ "$(orthanc LOCAL GET /patients | jq length)" -eq 4 ] || bad "Orthanc holds the 4 local patients"

# study NAME ID ISSUER PATIENT BIRTH SEX NHS [ACCESSION]: a 3-instance study
# as a sending trust has it, packed.
study() {
  local n=$1
  make_study "$n" 3
  local f
  for f in "$n"/*; do
    patient "$f" "$2" "$3" "$4" "$5" "$6" "$7"
    [ -z "${8:-}" ] || dcmodify -nb -q -i "(0008,0050)=$8" "$f" || exit 1
  done
  iep-pack -i "$A" -o "$n.tar.zst" "$n" || exit 1
}
uid_of() { dcmdump -q +P 0020,000d "$(find "$1" -type f | head -1)" | sed 's/.*\[\(.*\)\].*/\1/'; }
# The instances Orthanc holds of a study.
instances_of() {
  orthanc LOCAL POST /tools/find -d "{\"Level\":\"Instance\",\"Query\":{\"StudyInstanceUID\":\"$1\"}}" | jq -r '.[]'
}
# TAG of every instance of a study (Orthanc's simplified tags), one a line.
tags_of() {
  local i
  for i in $(instances_of "$1"); do orthanc LOCAL GET "/instances/$i/tags?simplify" | jq -c "$2"; done
}

cat >rules.json <<JSON
{
  "local_issuer": "RXX",
  "national_issuer": "NHS",
  "modifying_system": "iep at RXX",
  "find": {"pacs": "$PACS", "model": "patient", "timeout": 20}
}
JSON

# ---- the NHS number finds the local patient: coerced -----------------------
study s1 P100 TRUST_A "SMITH^JOHN" 19700101 M 9434765919
S1=$(uid_of s1)
expect 0 "a study reconciled by C-FIND" -- iep-store -v --pacs "$PACS" --reconcile rules.json --quarantine q s1.tar.zst
assert "-v says who became whom, and by which rule" -- grep -q "sender's patient P100 (issuer TRUST_A) SMITH^JOHN -> local L9 (issuer RXX) by C-FIND $PACS (patient) on NHS 9434765919" "$T/.err"
assert "Orthanc holds the 3 instances" -- test "$(instances_of "$S1" | wc -l)" -eq 3
assert "every instance has the local Patient ID and issuer" -- \
  test "$(tags_of "$S1" '[.PatientID, .IssuerOfPatientID]' | sort -u)" = '["L9","RXX"]'
assert "every instance keeps the sender's values in Original Attributes Sequence" -- \
  test "$(tags_of "$S1" '.OriginalAttributesSequence[0] | [.ReasonForTheAttributeModification, .ModifyingSystem, .SourceOfPreviousValues, .ModifiedAttributesSequence[0].PatientID, .ModifiedAttributesSequence[0].IssuerOfPatientID]' | sort -u)" = '["COERCE","iep at RXX","trust-a","P100","TRUST_A"]'
assert "the same modification time in every instance" -- \
  test "$(tags_of "$S1" '.OriginalAttributesSequence[0].AttributeModificationDateTime' | sort -u | wc -l)" -eq 1
assert "the study is filed under the local patient" -- \
  test "$(orthanc LOCAL GET /patients | jq length)" -eq 4
assert "nothing quarantined" -- test ! -e q -o -z "$(ls -A q 2>/dev/null)"

# Names compare as people would: case, padding, prefix and suffix aside.
study s9 P900 TRUST_A "smith ^John^^Dr" 19700101 M 9434765919
expect 0 "a name in another case, with a prefix" -- iep-store --pacs "$PACS" --reconcile rules.json --quarantine q s9.tar.zst
assert "coerced to the same local patient" -- test "$(tags_of "$(uid_of s9)" .PatientID | sort -u)" = '"L9"'

# A Study Root query at STUDY level finds the patient through its studies.
sed 's/"model": "patient"/"model": "study"/' rules.json >study-level.json
study s10 P1000 TRUST_A "SMITH^JOHN" 19700101 M 9434765919
expect 0 "reconciled by a study-level C-FIND" -- iep-store -v --pacs "$PACS" --reconcile study-level.json --quarantine q s10.tar.zst
assert "study level: the rule named" -- grep -q "local L9 (issuer RXX) by C-FIND $PACS (study) on NHS 9434765919" "$T/.err"
assert "study level: coerced" -- test "$(tags_of "$(uid_of s10)" .PatientID | sort -u)" = '"L9"'

# ---- doubts: quarantined, nothing stored -----------------------------------
# quarantined DESC PACKAGE STUDYUID SENDER-ID REASON-PATTERN
quarantined() {
  local desc=$1 pkg=$2 uid=$3 id=$4 why=$5 before dir
  before=$(ls q 2>/dev/null | wc -l)
  expect 12 "$desc: quarantined" -- iep-store --pacs "$PACS" --reconcile rules.json --quarantine q "$pkg"
  assert "$desc: the message says why" -- grep -q "study $uid quarantined, nothing stored: .*$why" "$T/.err"
  assert "$desc: nothing of it stored" -- test -z "$(instances_of "$uid")"
  assert "$desc: one more quarantine folder" -- test "$(ls q | wc -l)" -eq $((before + 1))
  dir=$(ls -d q/*-"$uid"* | tail -1)
  assert "$desc: the package as received (decompressed)" -- cmp -s <(zstd -dc "$pkg") "$dir/$(basename "$pkg" .zst)"
  assert "$desc: the quarantined package verifies" -- iep-verify "$dir/$(basename "$pkg" .zst)"
  assert "$desc: report.json names the sender's patient" -- \
    test "$(jq -r '[.action, .sender.study_uid, .sender.patient_id, .sender.issuer] | @tsv' "$dir/report.json")" = "quarantine	$uid	$id	TRUST_A"
  assert "$desc: report.json says why" -- sh -c 'jq -r .reason "$1" | grep -q "$2"' - "$dir/report.json" "$why"
  assert "$desc: report.txt is one line" -- test "$(wc -l <"$dir/report.txt")" -eq 1
}

study s2 P200 TRUST_A "SMITH^JOHN" 19700101 M 4857773456
quarantined "NHS number of another person" s2.tar.zst "$(uid_of s2)" P200 \
  "NHS 4857773456 is local patient L5 (issuer RXX) (JONES^MARY, born 19800202), but the study's patient is SMITH^JOHN, born 19700101: family name differs"
study s3 P300 TRUST_A "SMITH^JOHN" 19700102 M 9434765919
quarantined "birth date differs" s3.tar.zst "$(uid_of s3)" P300 "birth date differs"
study s4 P400 TRUST_A "BROWN^ANN" 19600303 F 1111111111
quarantined "two local patients share the NHS number" s4.tar.zst "$(uid_of s4)" P400 \
  "NHS 1111111111 belongs to more than one local patient: L[78] (issuer RXX) and L[78] (issuer RXX)"
study s5 P500 TRUST_A "SMITH^JOHN" 19700101 M 2222222222
quarantined "unknown NHS number" s5.tar.zst "$(uid_of s5)" P500 \
  "no rule matched: C-FIND $PACS (patient) found no local patient with NHS 2222222222"
study s6 P600 TRUST_A "SMITH^JOHN" 19700101 M ""
quarantined "no NHS number" s6.tar.zst "$(uid_of s6)" P600 "no NHS identifier in Other Patient IDs Sequence"

# From stdin (as iep-fetch --stdout gives packages): kept byte for byte.
before=$(ls q | wc -l)
cat s2.tar.zst | expect 12 "a doubtful study on stdin" -- iep-store --pacs "$PACS" --reconcile rules.json --quarantine q
dir=$(ls -d q/*-"$(uid_of s2)"* | tail -1)
assert "stdin: a new folder, the earlier one kept" -- test "$(ls q | wc -l)" -eq $((before + 1))
assert "stdin: the package as received (decompressed)" -- cmp -s <(zstd -dc s2.tar.zst) "$dir/package.tar"
nothing_left "no partial quarantine folder" q/.*partial*

# ---- a mapping table, with the accession number ----------------------------
cat >map.csv <<CSV
sender_issuer,sender_patient_id,local_patient_id,local_issuer,sender_accession,local_accession
TRUST_A,P700,L9,,ACC-1,RXX-55
TRUST_A,P800,L5,,,
TRUST_A,P800,L6,,,
CSV
cat >table.json <<JSON
{"local_issuer": "RXX", "table": "map.csv", "coerce_accession": true}
JSON
study s7 P700 TRUST_A "SMITH^JOHN" 19700101 M "" ACC-1
S7=$(uid_of s7)
expect 0 "a study reconciled by the table" -- iep-store --pacs "$PACS" --reconcile table.json --quarantine q s7.tar.zst
assert "table: local ID and accession number" -- \
  test "$(tags_of "$S7" '[.PatientID, .IssuerOfPatientID, .AccessionNumber, .OriginalAttributesSequence[0].ModifiedAttributesSequence[0].AccessionNumber]' | sort -u)" = '["L9","RXX","RXX-55","ACC-1"]'
# A re-run that finishes the package (its journal gone, as if cut off)
# keeps the decision; if the rules now say another patient, it is a
# quarantine, never half a study under each.
ID7=$(iep-verify --json s7.tar.zst | jq -r .manifest.package_id)
assert "the decision is remembered" -- test "$(jq -r .patient_id "$XDG_STATE_HOME"/iep/reconcile/"$ID7"-*.json)" = L9
rm -f "$XDG_STATE_HOME"/iep/store/"$ID7"-*
expect 0 "re-run with the same rules" -- iep-store --pacs "$PACS" --reconcile table.json --quarantine q s7.tar.zst
sed -i 's/^TRUST_A,P700,L9,/TRUST_A,P700,L5,/' map.csv
rm -f "$XDG_STATE_HOME"/iep/store/"$ID7"-*
expect 12 "re-run after the mapping changed" -- iep-store --pacs "$PACS" --reconcile table.json --quarantine q s7.tar.zst
assert "the message says what was decided before and now" -- grep -q "an earlier run stored this package into $PACS as local patient L9 (issuer RXX), accession RXX-55 (decided .* by table map.csv line 2); the rules now say L5 (issuer RXX), accession RXX-55" "$T/.err"
assert "every instance still under L9" -- test "$(tags_of "$S7" .PatientID | sort -u)" = '"L9"'

study s8 P800 TRUST_A "JONES^MARY" 19800202 F ""
S8=$(uid_of s8)
expect 12 "two table rows disagree" -- iep-store --pacs "$PACS" --reconcile table.json --quarantine q s8.tar.zst
assert "the message names both rows" -- grep -q "table map.csv is ambiguous for P800 (issuer TRUST_A): line 3 maps it to L5 (issuer RXX), line 4 to L6 (issuer RXX)" "$T/.err"
assert "table: nothing stored" -- test -z "$(instances_of "$S8")"

# ---- a modality worklist (Orthanc's worklist plugin) with accession numbers -
# wl NAME ID NAME BIRTH SEX NHS ACCESSION: a scheduled order.
wl() {
  cat >"$T/wl.dump" <<DUMP
(0008,0005) CS [ISO_IR 100]
(0008,0050) SH [$7]
(0010,0010) PN [$3]
(0010,0020) LO [$2]
(0010,0021) LO [RXX]
(0010,0030) DA [$4]
(0010,0040) CS [$5]
(0010,1002) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0010,0020) LO [$6]
(0010,0021) LO [NHS]
(fffe,e00d) na
(fffe,e0dd) na
(0040,0100) SQ (Sequence with undefined length)
(fffe,e000) na (Item with undefined length)
(0008,0060) CS [CT]
(0040,0001) AE [CT1]
(0040,0002) DA [20261202]
(0040,0009) SH [SPS-$7]
(fffe,e00d) na
(fffe,e0dd) na
DUMP
  dump2dcm -q "$T/wl.dump" "$T/worklists/$1.wl" || exit 1
}
mkdir -p "$T/worklists" "$T/WL/db"
wl o1 L9 "SMITH^JOHN" 19700101 M 9434765919 ACC-WL-1
wl o2 L5 "JONES^MARY" 19800202 F 4857773456 ACC-WL-2
wl o3 L5 "JONES^MARY" 19800202 F 4857773456 ACC-WL-3
WL_PORT=$(free_port)
cat >"$T/WL/orthanc.json" <<JSON
{"Name": "WL", "StorageDirectory": "$T/WL/db", "IndexDirectory": "$T/WL/db",
 "HttpServerEnabled": false, "DicomAet": "WORKLIST", "DicomPort": $WL_PORT,
 "DicomCheckCalledAet": true, "DicomAlwaysAllowFindWorklist": true,
 "Plugins": ["/usr/share/orthanc/plugins/libModalityWorklists.so"],
 "Worklists": {"Enable": true, "Database": "$T/worklists"}}
JSON
start_peer WL Orthanc "$T/WL/orthanc.json"
wait_port "$WL_PORT" 60 || exit 1
cat >wl.json <<JSON
{"local_issuer": "RXX", "national_issuer": "NHS", "coerce_accession": true,
 "find": {"pacs": "WORKLIST@127.0.0.1:$WL_PORT", "model": "worklist"}}
JSON
study s11 P1100 TRUST_A "SMITH^JOHN" 19700101 M 9434765919 ACC-9
S11=$(uid_of s11)
expect 0 "reconciled by the worklist" -- iep-store --pacs "$PACS" --reconcile wl.json --quarantine q s11.tar.zst
assert "worklist: local ID and the order's accession number" -- \
  test "$(tags_of "$S11" '[.PatientID, .IssuerOfPatientID, .AccessionNumber, .OriginalAttributesSequence[0].ModifiedAttributesSequence[0].AccessionNumber]' | sort -u)" = '["L9","RXX","ACC-WL-1","ACC-9"]'
study s12 P1200 TRUST_A "JONES^MARY" 19800202 F 4857773456 ACC-10
S12=$(uid_of s12)
expect 12 "two orders for the patient: which one is this study?" -- iep-store --pacs "$PACS" --reconcile wl.json --quarantine q s12.tar.zst
assert "worklist: the message names both orders" -- grep -q "NHS 4857773456 has 2 scheduled orders (ACC-WL-2, ACC-WL-3)" "$T/.err"
assert "worklist: nothing stored" -- test -z "$(instances_of "$S12")"

# ---- the PACS to ask is down: neither stored nor quarantined ---------------
DEAD=$(free_port)
sed "s/127.0.0.1:$LOCAL_DICOM/127.0.0.1:$DEAD/" rules.json >dead.json
before=$(ls q | wc -l)
expect 19 "the worklist/PACS to ask cannot be reached" -- iep-store --pacs "$PACS" --reconcile dead.json --quarantine q s2.tar.zst
assert "dead peer: not quarantined (try again later)" -- test "$(ls q | wc -l)" -eq "$before"

# ---- usage ------------------------------------------------------------------
expect 2 "--quarantine without --reconcile" -- iep-store --pacs "$PACS" --quarantine q s1.tar.zst
expect 2 "--reconcile without --quarantine" -- iep-store --pacs "$PACS" --reconcile rules.json s1.tar.zst
echo '{"local_issuer": "RXX", "tabel": "x.csv"}' >typo.json
expect 2 "a rules file with an unknown key" -- iep-store --pacs "$PACS" --reconcile typo.json --quarantine q s1.tar.zst
assert "the message names the file and the key" -- grep -q "typo.json: unknown key 'tabel'" "$T/.err"
expect 3 "a missing rules file" -- iep-store --pacs "$PACS" --reconcile nope.json --quarantine q s1.tar.zst

finish
