# PACS to PACS, end to end (issue 9): studies in Orthanc A (the sending
# hospital's PACS) are pulled by iep-pack --pacs (C-GET), sealed and sent by
# iep-send through iep-serve, fetched by iep-fetch --stdout and stored by
# iep-store into Orthanc B (the receiving hospital's PACS) with the patient ID
# reconciled from a mapping table; a study nobody can reconcile waits in
# quarantine, stored later once the table knows it. Orthanc B's REST API is
# the oracle: every SOP instance there once, under the local patient ID, with
# the sender's ID in Original Attributes Sequence. The delivery timeline of
# each package is printed.
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/interop/hub-lib.sh"
. "$IEP_SRC/tests/e2e/pacs_lib.bash"
make_sites
hub_init "$T/hub"
hub_start
start_orthanc B ORTHANC_B
start_orthanc A ORTHANC_A
A_PEER=ORTHANC_A@127.0.0.1:$A_DICOM
B_PEER=ORTHANC_B@127.0.0.1:$B_DICOM

# Three real studies in A: a 12-slice CT (made from pydicom's CT_small, patient
# 1CT1), pydicom's MR_small (patient 4MR1), and a copy of MR_small as another
# study of a patient the receiving site does not know (NOBODY1).
make_study ct 12
cp "$CORPUS/MR_small.dcm" mr.dcm
cp "$CORPUS/MR_small.dcm" stranger.dcm
dcmodify -nb -gst -gse -gin -m "PatientID=NOBODY1" -m "PatientName=STRANGER^ONE" stranger.dcm >/dev/null ||
  { echo "dcmodify failed" >&2; exit 1; }
TCP_NODELAY=1 dcmsend -aec ORTHANC_A 127.0.0.1 "$A_DICOM" --scan-directories ct mr.dcm stranger.dcm >/dev/null 2>&1 ||
  { echo "could not load the studies into Orthanc A" >&2; exit 1; }
expect 0 "Orthanc A holds three studies" -- test "$(orthanc A GET /studies | jq length)" = 3

# Sending side: every study of A, one package each, then sent to trust-b.
expect 0 "iep-pack --pacs pulls every study of A by C-GET" -- \
  iep-pack -i "$T/keys/a.id" --pacs "$A_PEER" --query "ModalitiesInStudy=CT\\MR" --retrieve get --split out --json
assert "three packages" -- test "$(ls out/*.tar.zst | wc -l)" = 3
: >sent.json
for p in out/*.tar.zst; do
  iep-send -i "$T/keys/a.id" --to trust-b --hub "$HUB" --token-file "$T/tokens/a" --state "$T/state-a" \
    --json - <"$p" >>sent.json || bad "iep-send of $p failed"
done
assert "three packages committed at the hub" -- test "$(grep -c '"package"' sent.json)" = 3

# Receiving side: the sender's patient IDs map to local ones; NOBODY1 does not.
cat >map.csv <<'CSV'
sender_issuer,sender_patient_id,local_patient_id,local_issuer
,1CT1,B-000101,
,4MR1,B-000202,
CSV
echo '{"local_issuer": "TRUST-B", "table": "map.csv"}' >rules.json
iep-fetch -i "$T/keys/b.id" --hub "$HUB" --token-file "$T/tokens/b" --state "$T/state-b" --stdout --no-wait |
  iep-store --pacs "$B_PEER" --reconcile rules.json --quarantine quarantine --json >stored.json 2>store.err
codes=("${PIPESTATUS[@]}")
assert "iep-fetch delivered every package (exit ${codes[0]})" -- test "${codes[0]}" = 0
assert "iep-store: done, one study quarantined (exit ${codes[1]}, want 12)" -- test "${codes[1]}" = 12
grep -q "NOBODY1" store.err && ok || bad "iep-store does not name the quarantined patient: $(cat store.err)"

# Orthanc B: the two reconciled studies, every instance once, local IDs.
want=$((12 + 1))
assert "Orthanc B holds $want instances" -- test "$(orthanc B GET /instances | jq length)" = "$want"
ids=$(for p in $(orthanc B GET /patients | jq -r '.[]'); do orthanc B GET "/patients/$p" | jq -r '.MainDicomTags.PatientID'; done | sort | tr '\n' ' ')
assert "Orthanc B knows the patients by their local IDs only ($ids)" -- test "$ids" = "B-000101 B-000202 "
bad_items=0
for i in $(orthanc B GET /instances | jq -r '.[]'); do
  orthanc B GET "/instances/$i/tags?simplify" >tags.json
  [ "$(jq -r '.IssuerOfPatientID' tags.json)" = TRUST-B ] || bad_items=$((bad_items + 1))
  # The sender's Patient ID kept in Original Attributes Sequence.
  jq -e '.OriginalAttributesSequence[0].ModifiedAttributesSequence[0].PatientID | test("^(1CT1|4MR1)$")' tags.json >/dev/null ||
    bad_items=$((bad_items + 1))
done
assert "every stored instance has the local issuer and the sender's ID in Original Attributes Sequence ($bad_items bad)" -- test "$bad_items" = 0
# The CT slices read back from Orthanc B by pydicom: every element but the
# reconciled ones as in the source file, pixel data included.
mkdir -p fromb
for i in $(orthanc B GET /instances | jq -r '.[]'); do orthanc B GET "/instances/$i/file" >"fromb/$i.dcm"; done
assert "pydicom: the CT slices in Orthanc B are their source files but for the reconciled attributes" -- \
  /usr/bin/python3 - ct fromb <<'PY'
import glob, sys, pydicom
src = {d.SOPInstanceUID: d for d in (pydicom.dcmread(f) for f in glob.glob(sys.argv[1] + "/*"))}
changed = {0x00100020, 0x00100021, 0x04000561}
seen = 0
for f in glob.glob(sys.argv[2] + "/*.dcm"):
    got = pydicom.dcmread(f)
    want = src.get(got.SOPInstanceUID)
    if want is None:
        continue
    seen += 1
    assert got.PixelData == want.PixelData, f"{f}: pixel data differs"
    for el in want:
        if el.tag in changed or el.tag.group == 0x0002:
            continue
        assert el.tag in got and got[el.tag].value == el.value, f"{f}: {el.tag} differs"
    assert got.PatientID == "B-000101", f"{f}: Patient ID {got.PatientID}"
assert seen == 12, f"{seen} CT slices found in Orthanc B"
PY
assert "NOBODY1 is not in Orthanc B" -- test -z "$(orthanc B POST /tools/find -d '{"Level":"Patient","Query":{"PatientID":"NOBODY1"}}' | jq -r '.[]')"
assert "the quarantined study waits with its package and a report" -- \
  test "$(find quarantine -name 'package.tar*' | wc -l)" = 1 -a "$(grep -rl NOBODY1 quarantine | wc -l)" -ge 1

# Delivery timelines: each package created, committed, fetched, acknowledged.
for id in $(sed -n 's/.*"package":"\([0-9a-f]*\)".*/\1/p' sent.json); do
  iep-send -i "$T/keys/a.id" --hub "$HUB" --token-file "$T/tokens/a" --state "$T/state-a" --status "$id" >timeline.txt 2>&1 ||
    bad "iep-send --status $id failed: $(cat timeline.txt)"
  sed "s/^/  $id: /" timeline.txt
  grep -qi "acknowledged" timeline.txt && ok || bad "package $id has no acknowledgement in its timeline"
done

# A re-run stores nothing twice: the quarantined package, once the table
# knows its patient, goes in; the other studies' instances stay single.
echo ',NOBODY1,B-000303,' >>map.csv
q=$(find quarantine -name 'package.tar*')
expect 0 "the quarantined package stores once the table knows the patient" -- \
  iep-store --pacs "$B_PEER" --reconcile rules.json --quarantine quarantine "$q"
assert "Orthanc B now holds $((want + 1)) instances" -- test "$(orthanc B GET /instances | jq length)" = $((want + 1))
expect 0 "storing the delivered packages again is a no-op" -- \
  iep-store --pacs "$B_PEER" --reconcile rules.json --quarantine quarantine "$q"
assert "still $((want + 1)) instances" -- test "$(orthanc B GET /instances | jq length)" = $((want + 1))
finish
