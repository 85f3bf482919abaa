# iep-store into DCMTK's storescp: every instance arrives, a re-run sends
# nothing again, compressed instances are decoded for a peer that takes
# only uncompressed ones, refused and cut-off C-STOREs are retried and
# reported, and bad input sends nothing.
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/e2e/pacs_lib.bash"
make_sites
A=$T/keys/a.id
export XDG_STATE_HOME=$T/state

make_study study 6
iep-pack -i "$A" -o ct.tar.zst study || exit 1
iep-pack -i "$A" --no-compress -o ct.tar study || exit 1
uids() { iep-verify --json "$1" | jq -r '.manifest.files[] | select(.attachment|not) | .sop_instance_uid' | sort; }
uids ct.tar.zst >ct.uids
[ "$(wc -l <ct.uids)" -eq 6 ] || bad "the CT package lists 6 instances"
# The SOP Instance UIDs of the files a storescp folder holds.
received() { for f in "$1"/*; do [ -f "$f" ] && dcmdump -q +P 0008,0018 "$f" | sed 's/.*\[\(.*\)\].*/\1/'; done | sort; }
count() { find "$1" -maxdepth 1 -type f | wc -l; }

# ---- into storescp, then a re-run that sends nothing ----------------------
start_storescp STORE "$T/in1"
P1=STORE@127.0.0.1:$STORESCP_PORT
expect 0 "store a package" -- iep-store --pacs "$P1" ct.tar.zst
assert "quiet on success" -- test ! -s "$T/.err" -a ! -s "$T/.out"
received "$T/in1" >got.uids
assert "storescp received every instance" -- cmp -s ct.uids got.uids
rm -f "$T"/in1/*
expect 0 "store it again" -- iep-store --json --pacs "$P1" ct.tar.zst
assert "the re-run sent nothing" -- test "$(count "$T/in1")" -eq 0
assert "--json: 6 already there, 0 sent" -- test "$(jq -c '[.instances,.sent,.already,.result]' "$T/.out")" = '[6,0,6,"ok"]'
# The uncompressed package has the same package id only if it is the same
# package: it is another one, so it is sent.
expect 0 "store the uncompressed package (another package)" -- iep-store --json --pacs "$P1" ct.tar
assert "its 6 instances sent" -- test "$(jq .sent "$T/.out")" = 6

# ---- stdin: packages one after another (as iep-fetch --stdout) -----------
make_study study2 3
iep-pack -i "$A" -o two.tar.zst study2 || exit 1
make_study study3 2
iep-pack -i "$A" --no-compress -o three.tar study3 || exit 1
start_storescp STORE "$T/in2"
P2=STORE@127.0.0.1:$STORESCP_PORT
cat two.tar.zst three.tar ct.tar.zst | expect 0 "three packages on stdin" -- iep-store --json --pacs "$P2" --state "$T/state2"
assert "one JSON line per package" -- test "$(wc -l <"$T/.out")" -eq 3
assert "11 instances received" -- test "$(count "$T/in2")" -eq 11
cat three.tar two.tar.zst | expect 0 "again: nothing sent" -- iep-store --json --pacs "$P2" --state "$T/state2"
assert "sent nothing, all there" -- test "$(jq -s -c 'map(.sent, .already)' "$T/.out")" = '[0,2,0,3]'

# ---- several associations (storescp forks one process per association) ----
start_storescp STORE "$T/in3" --fork
expect 0 "three associations" -- iep-store --associations 3 --state "$T/state3" --pacs STORE@127.0.0.1:$STORESCP_PORT ct.tar.zst two.tar.zst
assert "9 instances received" -- test "$(count "$T/in3")" -eq 9

# ---- an instance larger than 64 MiB goes through a temporary file of its own
/usr/bin/python3 "$IEP_SRC/tests/bench/make-study.py" big --slices 1 --size 4096 >/dev/null || exit 1
/usr/bin/python3 -c 'import pydicom, sys, glob
f = glob.glob(sys.argv[1] + "/*")[0]; d = pydicom.dcmread(f)
d.NumberOfFrames = 3; d.PixelData = d.PixelData * 3; d.save_as(f)' big || exit 1
iep-pack -i "$A" --no-compress -o big.tar big || exit 1
start_storescp STORE "$T/inbig"
expect 0 "a 64 MiB instance" -- iep-store --state "$T/statebig" --pacs STORE@127.0.0.1:$STORESCP_PORT big.tar
assert "it arrived whole" -- test "$(dcmdump -q +P 7fe0,0010 "$T"/inbig/* | grep -o '# [0-9]*' | tr -dc 0-9)" -eq $((4096 * 4096 * 2 * 3))

# ---- reconciliation learns each instance's patient with iep's own reader:
# from its first bytes when its pixel data ends it, else whole (an element
# after the pixel data), or from a temporary file of its own (over 64 MiB).
printf 'sender_issuer,sender_patient_id,local_patient_id,local_issuer\n,1CT1,LOCAL-1CT1,TRUST-B\n' >map.csv
echo '{"local_issuer": "TRUST-B", "table": "map.csv"}' >rules.json
rm -rf "$T/inbig"
start_storescp STORE "$T/inbig"
expect 0 "a 64 MiB instance, reconciled" -- iep-store --state "$T/staterec" --reconcile rules.json \
  --quarantine "$T/q" --pacs STORE@127.0.0.1:$STORESCP_PORT big.tar
assert "it arrived under the local ID" -- test "$(dcmdump -q +P PatientID "$T"/inbig/* | head -1 | grep -o 'LOCAL-1CT1')" = LOCAL-1CT1
rm -rf big big.tar "$T/inbig"
make_study padded 3
/usr/bin/python3 -c 'import pydicom, sys, glob
for i, f in enumerate(sorted(glob.glob(sys.argv[1] + "/*"))):
    d = pydicom.dcmread(f); d.add_new(0xFFFCFFFC, "OB", bytes(64))
    if i == 2: d.PatientID = "OTHER"
    d.save_as(f)' padded || exit 1
iep-pack -i "$A" -o padded.tar.zst padded || exit 1
start_storescp STORE "$T/inpad"
expect 12 "instances read whole that disagree on the patient: quarantined" -- iep-store --state "$T/statepad" \
  --reconcile rules.json --quarantine "$T/q" --pacs STORE@127.0.0.1:$STORESCP_PORT padded.tar.zst
stderr_names "names both IDs" "disagree on Patient ID: '1CT1' and 'OTHER'"
assert "nothing stored" -- test "$(count "$T/inpad")" -eq 0

# ---- compressed instances: kept as they are, or decoded ------------------
mkdir comp
iep-pack -i "$A" --split comp "$CORPUS/SC_rgb_jpeg_dcmtk.dcm" "$CORPUS/MR_small_jpeg_ls_lossless.dcm" \
  "$CORPUS/SC_rgb_rle.dcm" >/dev/null || exit 1
# A peer that takes every syntax gets them as stored.
start_storescp STORE "$T/in4"
expect 0 "compressed into a peer that takes them" -- iep-store -v --state "$T/state4" --pacs STORE@127.0.0.1:$STORESCP_PORT comp
assert "stored as JPEG Baseline" -- grep -q "as JPEG Baseline" "$T/.err"
assert "JPEG stays JPEG" -- sh -c "dcmdump -q +P 0002,0010 '$T'/in4/SC.* | grep -q JPEGBaseline"
# Debian's storescp without --accept-all takes uncompressed syntaxes only.
mkdir -p "$T/in5"
PORT5=$(free_port)
start_peer storescp5 storescp --aetitle PLAIN --output-directory "$T/in5" "$PORT5"
wait_port "$PORT5" || exit 1
expect 0 "compressed into a peer that takes only uncompressed" -- iep-store -v --state "$T/state5" --pacs PLAIN@127.0.0.1:$PORT5 comp
assert "three instances received" -- test "$(count "$T/in5")" -eq 3
assert "all decoded: each uncompressed" -- test "$(dcmdump -q +P 0002,0010 "$T"/in5/* | grep -c LittleEndianExplicit)" -eq 3
assert "sent as Little Endian Explicit" -- test "$(grep -c 'as Little Endian Explicit' "$T/.err")" -eq 3
# JPEG 2000 cannot be decoded by DCMTK's free codecs: reported, not sent.
mkdir j2k
iep-pack -i "$A" -o j2k/j2k.tar.zst "$CORPUS/JPEG2000.dcm" >/dev/null 2>&1 || exit 1
expect 21 "JPEG 2000 into a peer that takes only uncompressed" -- iep-store --state "$T/state5" --pacs PLAIN@127.0.0.1:$PORT5 j2k/j2k.tar.zst
assert "the failure names the instance and why" -- grep -q "cannot be decoded" "$T/.err"

# ---- a peer that fails some C-STOREs ---------------------------------------
# storescp names a file MODALITY.SOPUID: a folder in its place makes it
# refuse that instance (out of resources), every time, until it is gone.
mkdir -p "$T/in6"
for u in $(sed -n '2p;5p' ct.uids); do mkdir "$T/in6/CT.$u"; done
start_storescp STORE "$T/in6"
P6=STORE@127.0.0.1:$STORESCP_PORT
expect 21 "two instances refused" -- iep-store --json --retries 2 --state "$T/state6" --pacs "$P6" ct.tar.zst
assert "4 stored" -- test "$(count "$T/in6")" -eq 4
assert "--json lists the two failed, in words" -- test "$(jq -c '[.sent, (.failed|length), .failed[0].status, .result]' "$T/.out")" = '[4,2,"refused: out of resources (A700)","instances_failed"]'
for u in $(sed -n '2p;5p' ct.uids); do
  assert "stderr names $u" -- grep -q "$u.*out of resources" "$T/.err"
done
for u in $(sed -n "2p;5p" ct.uids); do rmdir "$T/in6/CT.$u"; done
expect 0 "the re-run sends only the two" -- iep-store --json --state "$T/state6" --pacs "$P6" ct.tar.zst
assert "2 sent, 4 already there" -- test "$(jq -c '[.sent,.already]' "$T/.out")" = '[2,4]'
assert "6 stored in all" -- test "$(count "$T/in6")" -eq 6

# ---- a peer that drops the association mid-study -------------------------
# storescp --fork runs each association in its own process; after the third
# instance received, that process is killed once (its response never sent).
mkdir -p "$T/in7"
cat >kill-once.sh <<EOF
#!/bin/sh
[ -e "$T/killed" ] && exit 0
[ "\$(ls "$T/in7" | wc -l)" -ge 3 ] || exit 0
touch "$T/killed"
# storescp runs this through sh -c: the association's process is the
# grandparent.
kill -9 \$(ps -o ppid= -p \$PPID)
EOF
chmod +x kill-once.sh
start_storescp STORE "$T/in7" --fork --exec-sync --exec-on-reception "$T/kill-once.sh"
expect 0 "association dropped mid-study: retried" -- iep-store -v --json --state "$T/state7" --pacs STORE@127.0.0.1:$STORESCP_PORT ct.tar.zst
assert "the peer did drop it" -- test -e "$T/killed"
assert "a retry was made" -- grep -q "retry 1 of 3.*association broke" "$T/.err"
assert "all 6 stored, nothing failed" -- test "$(jq -c '[.sent,(.failed|length)]' "$T/.out")" = '[6,0]'
received "$T/in7" >got7.uids
assert "every instance once" -- cmp -s ct.uids got7.uids

# ---- bad input -------------------------------------------------------------
PORT0=$(free_port)
expect 19 "unreachable PACS" -- iep-store --pacs NOBODY@127.0.0.1:$PORT0 ct.tar.zst
stderr_names "names the peer" "NOBODY@127.0.0.1:$PORT0"
start_storescp STORE "$T/in8"
P8=STORE@127.0.0.1:$STORESCP_PORT
cp ct.tar bad.tar
python3 "$IEP_SRC/tests/flip-byte.py" bad.tar 5000 || exit 1
expect 7 "a package whose files do not match its manifest" -- iep-store --pacs "$P8" bad.tar
stderr_names "names the package" "bad.tar"
assert "nothing sent" -- test "$(count "$T/in8")" -eq 0
expect 3 "empty stdin" -- iep-store --pacs "$P8" - </dev/null
stderr_names "says stdin is empty" "stdin: empty"
expect 4 "not a package" -- iep-store --pacs "$P8" "$CORPUS/CT_small.dcm"
stderr_names "names the file" "CT_small.dcm"
expect 3 "a missing file" -- iep-store --pacs "$P8" nosuch.tar
stderr_names "names the file" "nosuch.tar"
expect 2 "a bad peer" -- iep-store --pacs "127.0.0.1:104" ct.tar
expect 2 "no --pacs" -- iep-store ct.tar
# Signed by a site nobody trusts: refused before anything is sent.
expect 5 "an unknown signer" -- env IEP_SITES="$T/nosites" iep-store --pacs "$P8" ct.tar
assert "nothing sent" -- test "$(count "$T/in8")" -eq 0
# storescp offers no Storage Commitment: the instances are stored, the
# commitment is refused in words.
expect 20 "storage commitment from a peer without it" -- iep-store --commit --state "$T/state8" --pacs "$P8" ct.tar.zst
stderr_names "says which" "for storage commitment"
assert "the instances were stored" -- test "$(count "$T/in8")" -eq 6
expect 2 "--commit-port without --commit" -- iep-store --commit-port 11112 --pacs "$P8" ct.tar.zst

finish
