# iep-store delivers a package's report (iep-pack --report) as a DICOM
# instance of the study: into Orthanc after patient ID reconciliation, an
# Encapsulated PDF with the local Patient ID of the study's other instances
# and the PDF's very bytes; a re-run stores nothing new (the report's UIDs
# derive from the package); into storescp, the report file passes dciodvfy;
# a text report becomes a Basic Text SR.
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/e2e/pacs_lib.bash"
make_sites
A=$T/keys/a.id
export XDG_STATE_HOME=$T/state

# patient FILE ID ISSUER NAME BIRTH SEX NHS: sets the patient of a file.
patient() {
  dcmodify -nb -q -ma "(0010,0020)=$2" -i "(0010,0021)=$3" -ma "(0010,0010)=$4" \
    -ma "(0010,0030)=$5" -ma "(0010,0040)=$6" -e "(0010,1002)" "$1" || exit 1
  dcmodify -nb -q -i "(0010,1002)[0].PatientID=$7" -i "(0010,1002)[0].IssuerOfPatientID=NHS" \
    "$1" || exit 1
}

# A small real PDF (made here: any PDF reader opens it).
cat >report.pdf <<'PDF'
%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >> endobj
trailer << /Root 1 0 R >>
%%EOF
PDF

start_orthanc LOCAL LOCALPACS
PACS=LOCALPACS@127.0.0.1:$LOCAL_DICOM
# The local patient L9, known to the PACS.
make_study rec 1
patient rec/* L9 RXX "SMITH^JOHN" 19700101 M 9434765919
storescu -aec LOCALPACS 127.0.0.1 "$LOCAL_DICOM" rec/* || exit 1
cat >rules.json <<JSON
{
  "local_issuer": "RXX",
  "national_issuer": "NHS",
  "modifying_system": "iep at RXX",
  "find": {"pacs": "$PACS", "model": "patient", "timeout": 20}
}
JSON

# The sender's study: patient P100 there.
make_study s1 3
for f in s1/*; do patient "$f" P100 TRUST_A "SMITH^JOHN" 19700101 M 9434765919; done
expect 0 "pack with a PDF report" -- iep-pack -i "$A" --report report.pdf -o s1.tar.zst s1
S1=$(dcmdump -q +P 0020,000d "$(find s1 -type f | head -1)" | sed 's/.*\[\(.*\)\].*/\1/')
instances_of() {
  orthanc LOCAL POST /tools/find -d "{\"Level\":\"Instance\",\"Query\":{\"StudyInstanceUID\":\"$1\"}}" | jq -r '.[]'
}

expect 0 "store the study and its report, reconciled" -- iep-store --json --pacs "$PACS" --reconcile rules.json --quarantine q s1.tar.zst
assert "--json: 4 instances sent (3 + the report)" -- test "$(jq -c '[.instances,.sent,.already,.result]' "$T/.out")" = '[4,4,0,"ok"]'
assert "Orthanc holds 4 instances of the study" -- test "$(instances_of "$S1" | wc -l)" -eq 4
pdf_id=
for i in $(instances_of "$S1"); do
  orthanc LOCAL GET "/instances/$i/tags?simplify" >tags.json
  assert "instance $i has the local Patient ID and issuer" -- test "$(jq -c '[.PatientID,.IssuerOfPatientID]' tags.json)" = '["L9","RXX"]'
  [ "$(jq -r .SOPClassUID tags.json)" = 1.2.840.10008.5.1.4.1.1.104.1 ] && pdf_id=$i && cp tags.json pdf.json
done
assert "one of them is an Encapsulated PDF" -- test -n "$pdf_id"
assert "in a series of its own (modality DOC)" -- test "$(jq -r .Modality pdf.json)" = DOC
orthanc LOCAL GET "/instances/$pdf_id/content/0042-0011" >got.pdf
head -c "$(stat -c %s report.pdf)" got.pdf >got-trim.pdf
assert "its Encapsulated Document is the PDF, byte for byte" -- cmp report.pdf got-trim.pdf
assert "its UIDs derive from the package (2.25.)" -- test "$(jq -r '[.SOPInstanceUID,.SeriesInstanceUID][] | .[0:5]' pdf.json | sort -u)" = 2.25.
changes() { orthanc LOCAL GET "/changes?limit=1000" | jq '[.Changes[] | select(.ChangeType == "NewInstance")] | length'; }
before=$(changes)
expect 0 "store it again" -- iep-store --json --pacs "$PACS" --reconcile rules.json --quarantine q s1.tar.zst
assert "the re-run sent nothing: the journal knows the report" -- test "$(jq -c '[.instances,.sent,.already]' "$T/.out")" = '[4,0,4]'
assert "no new instance in Orthanc" -- test "$(changes)" -eq "$before"
# Another run's state (a new journal): the same report instance, the same UIDs.
expect 0 "store it again with a fresh journal" -- env XDG_STATE_HOME="$T/state2" iep-store --json --pacs "$PACS" --reconcile rules.json --quarantine q s1.tar.zst
assert "still 4 instances of the study: the report has the same UIDs" -- test "$(instances_of "$S1" | wc -l)" -eq 4

# Storage Commitment covers the report too.
CPORT=$(free_port)
start_orthanc COMMIT ORTHANC "{\"iep\": [\"IEP\", \"127.0.0.1\", $CPORT]}"
expect 0 "store with storage commitment" -- iep-store --json --commit --commit-port "$CPORT" --commit-timeout 30 --pacs "ORTHANC@127.0.0.1:$COMMIT_DICOM" s1.tar.zst
assert "4 sent, 4 committed (the report among them)" -- test "$(jq -c '[.sent,.committed,.result]' "$T/.out")" = '[4,4,"ok"]'

# ---- into storescp: dciodvfy passes the report file --------------------------
start_storescp STORE "$T/in"
expect 0 "store into storescp" -- iep-store --pacs "STORE@127.0.0.1:$STORESCP_PORT" s1.tar.zst
assert "storescp received 4 files" -- test "$(find "$T/in" -type f | wc -l)" -eq 4
rep=$(grep -l "1.2.840.10008.5.1.4.1.1.104.1" "$T"/in/* | head -1)
assert "one is the Encapsulated PDF" -- test -n "$rep"
dciodvfy "$rep" >dciodvfy.out 2>&1
assert "dciodvfy: no errors in the report instance" -- bash -c '! grep -q "^Error" dciodvfy.out'
pid() { dcmdump -q +P 0010,0020 "$1" | head -1 | sed 's/.*\[\(.*\)\].*/\1/'; }
pid_img=$(pid "$(grep -L "1.2.840.10008.5.1.4.1.1.104.1" "$T"/in/* | head -1)")
pid_rep=$(pid "$rep")
assert "the same Patient ID as the images (unreconciled: P100)" -- test "$pid_img" = "$pid_rep" -a -n "$pid_rep"

# ---- a text report: a Basic Text SR ------------------------------------------
printf 'Findings: no acute abnormality.\nImpression: normal study. Ünïcödé.\n' >report.txt
make_study s2 2
expect 0 "pack with a text report" -- iep-pack -i "$A" --report report.txt -o s2.tar.zst s2
start_storescp STORE "$T/in2"
expect 0 "store it" -- iep-store --json --pacs "STORE@127.0.0.1:$STORESCP_PORT" s2.tar.zst
assert "3 sent" -- test "$(jq -c '[.instances,.sent]' "$T/.out")" = '[3,3]'
sr=$(grep -l "1.2.840.10008.5.1.4.1.1.88.11" "$T"/in2/* | head -1)
assert "one is a Basic Text SR" -- test -n "$sr"
dciodvfy "$sr" >dciodvfy2.out 2>&1
assert "dciodvfy: no errors in the SR" -- bash -c '! grep -q "^Error" dciodvfy2.out'
assert "it holds the text" -- bash -c "dcmdump -q +U8 '$sr' | grep -q 'no acute abnormality'"

finish
