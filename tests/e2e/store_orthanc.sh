# iep-store into Orthanc, a real PACS: every SOP instance arrives once (its
# REST API says so), a re-run sends nothing, compressed instances stay
# compressed where Orthanc takes them and are decoded where it is set to
# take only uncompressed ones, and a wrong called AE title is refused in
# words.
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/e2e/pacs_lib.bash"
make_sites
A=$T/keys/a.id
export XDG_STATE_HOME=$T/state

make_study study 8
iep-pack -i "$A" -o ct.tar.zst study || exit 1
iep-verify --json ct.tar.zst | jq -r '.manifest.files[] | .sop_instance_uid' | sort >ct.uids
mkdir comp
iep-pack -i "$A" --split comp "$CORPUS/SC_rgb_jpeg_dcmtk.dcm" "$CORPUS/SC_rgb_rle.dcm" >/dev/null || exit 1

# The SOP Instance UIDs Orthanc NAME holds, sorted.
orthanc_uids() { orthanc "$1" GET "/instances?expand" | jq -r '.[].MainDicomTags.SOPInstanceUID' | sort; }

start_orthanc PACS ORTHANC
P=ORTHANC@127.0.0.1:$PACS_DICOM
expect 0 "store into Orthanc" -- iep-store --json --associations 2 --pacs "$P" ct.tar.zst
assert "--json: 8 sent" -- test "$(jq -c '[.instances,.sent,.already,.result]' "$T/.out")" = '[8,8,0,"ok"]'
orthanc_uids PACS >got.uids
assert "Orthanc holds every SOP instance of the package" -- cmp -s ct.uids got.uids
assert "one study" -- test "$(orthanc PACS GET /studies | jq length)" -eq 1
changes() { orthanc PACS GET "/changes?limit=1000" | jq '[.Changes[] | select(.ChangeType == "NewInstance")] | length'; }
assert "8 new instances in Orthanc's change log" -- test "$(changes)" -eq 8
expect 0 "store it again" -- iep-store --json --pacs "$P" ct.tar.zst
assert "the re-run sent nothing" -- test "$(jq -c '[.sent,.already]' "$T/.out")" = '[0,8]'
assert "still 8 instances" -- test "$(orthanc PACS GET /instances | jq length)" -eq 8

# Compressed: Orthanc takes JPEG and RLE as they are.
expect 0 "compressed into Orthanc" -- iep-store --pacs "$P" comp
for u in 1.2.276.0.7230010.3.1.4.8323329.15150.1506363677.126194 1.2.826.0.1.3680043.8.498.49043964482360854182530167603505525116; do
  id=$(orthanc PACS POST /tools/lookup -d "$u" | jq -r '.[0].ID')
  ts=$(orthanc PACS GET "/instances/$id/metadata/TransferSyntax")
  assert "$u kept its transfer syntax ($ts)" -- test "$ts" = 1.2.840.10008.1.2.4.50 -o "$ts" = 1.2.840.10008.1.2.5
done

# An Orthanc set to take only uncompressed syntaxes: decoded and stored.
start_orthanc PLAIN PLAIN
jq '.AcceptedTransferSyntaxes = ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"]' "$T/PLAIN/orthanc.json" >"$T/plain2.json"
mkdir -p "$T/PLAIN2/db"
PLAIN2_DICOM=$(free_port)
PLAIN2_HTTP=$(free_port)
jq --arg d "$T/PLAIN2/db" --argjson p "$PLAIN2_DICOM" --argjson h "$PLAIN2_HTTP" \
  '.StorageDirectory = $d | .IndexDirectory = $d | .DicomPort = $p | .HttpPort = $h | .Name = "PLAIN2"' \
  "$T/plain2.json" >"$T/PLAIN2/orthanc.json"
start_peer PLAIN2 Orthanc "$T/PLAIN2/orthanc.json"
wait_port "$PLAIN2_DICOM" 60 && wait_port "$PLAIN2_HTTP" 60 || exit 1
expect 0 "compressed into an Orthanc that takes only uncompressed" -- iep-store -v --pacs PLAIN@127.0.0.1:$PLAIN2_DICOM comp
assert "both decoded" -- test "$(grep -c 'as Little Endian Explicit' "$T/.err")" -eq 2
for id in $(orthanc PLAIN2 GET /instances | jq -r '.[]'); do
  ts=$(orthanc PLAIN2 GET "/instances/$id/metadata/TransferSyntax")
  assert "stored uncompressed ($ts)" -- test "$ts" = 1.2.840.10008.1.2.1
done
assert "two instances in it" -- test "$(orthanc PLAIN2 GET /instances | jq length)" -eq 2

# Orthanc checks the called AE title (DicomCheckCalledAet).
expect 20 "a wrong called AE title" -- iep-store --pacs "WRONG@127.0.0.1:$PACS_DICOM" ct.tar.zst
stderr_names "the reason in words" "called AE title not recognized"

# Storage Commitment: Orthanc reports on an association of its own, to the
# modality it knows by our calling AE title, at our --commit-port.
CPORT=$(free_port)
start_orthanc COMMIT ORTHANC "{\"iep\": [\"IEP\", \"127.0.0.1\", $CPORT]}"
expect 0 "store with storage commitment" -- iep-store --json --commit --commit-port "$CPORT" --commit-timeout 30 --pacs "ORTHANC@127.0.0.1:$COMMIT_DICOM" ct.tar.zst
assert "8 sent, 8 committed" -- test "$(jq -c '[.sent,.committed,.result]' "$T/.out")" = '[8,8,"ok"]'
# Asking again commits what is there; an instance the PACS does not hold is
# reported as not committed.
orthanc COMMIT DELETE "/instances/$(orthanc COMMIT POST /tools/lookup -d "$(head -1 ct.uids)" | jq -r '.[0].ID')" >/dev/null
expect 21 "commitment of a package one instance of which is gone" -- iep-store --json --commit --commit-port "$CPORT" --commit-timeout 30 --pacs "ORTHANC@127.0.0.1:$COMMIT_DICOM" ct.tar.zst
assert "7 committed, the missing one failed in words" -- test "$(jq -c '[.sent,.committed,.failed[0].sop_instance_uid,.failed[0].status]' "$T/.out")" = "[0,7,\"$(head -1 ct.uids)\",\"not committed: no such object instance (0112)\"]"
# Without the listener the report never comes on this association.
expect 21 "no report on the same association" -- iep-store --commit --commit-timeout 3 --pacs "ORTHANC@127.0.0.1:$COMMIT_DICOM" ct.tar.zst
stderr_names "says so and what to do" "give --commit-port"

finish
