#!/bin/bash
# iep-pack --pacs (iep-pack(1), OUT OF A PACS): a study-level C-FIND, then
# each study retrieved by C-GET or by C-MOVE to iep's own storage SCP, counted
# and packed. Real peers on loopback: Orthanc as the source PACS, DCMTK's
# dcmqrscp as a second one; real studies from pydicom's corpus.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pacs_lib.bash"

make_sites
export IEP_IDENTITY="$T/keys/a.id"

# ---- the studies ---------------------------------------------------------
# A CT study of 50 slices (one series), pydicom's CT_small and MR_small (two
# more studies), and an instance dated yesterday.
make_study "$T/ct50" 50
dcmodify -nb -m PatientID=CT50-1 "$T"/ct50/*.dcm >/dev/null 2>&1 || { echo "dcmodify failed" >&2; exit 1; }
mkdir -p "$T/single"
cp "$CORPUS/CT_small.dcm" "$CORPUS/MR_small.dcm" "$T/single/"
YESTERDAY=$(date -d yesterday +%Y%m%d)
TODAY=$(date +%Y%m%d)
cp "$CORPUS/CT_small.dcm" "$T/yday.dcm"
dcmodify -nb -gst -gse -gin -m "StudyDate=$YESTERDAY" -m "PatientID=YDAY-1" "$T/yday.dcm" >/dev/null 2>&1 \
  || { echo "dcmodify failed" >&2; exit 1; }
# tag FILE KEYWORD: the value of a top-level attribute.
tag() { dcmdump -s +P "$2" "$1" | head -1 | sed 's/.*\[\(.*\)\].*/\1/'; }
CT50_UID=$(tag "$T/ct50/IM00001.dcm" StudyInstanceUID)
CT_UID=$(tag "$CORPUS/CT_small.dcm" StudyInstanceUID)
MR_UID=$(tag "$CORPUS/MR_small.dcm" StudyInstanceUID)
YDAY_UID=$(tag "$T/yday.dcm" StudyInstanceUID)
CT50_PID=$(tag "$T/ct50/IM00001.dcm" PatientID)

# ---- Orthanc as the source PACS ------------------------------------------
MOVE_PORT=$(free_port)
start_orthanc src ORTHANC "{\"iep\": [\"IEPMOVE\", \"127.0.0.1\", $MOVE_PORT]}"
storescu -aec ORTHANC 127.0.0.1 "$src_DICOM" "$T/ct50" "$T/single" "$T/yday.dcm" +sd >/dev/null 2>&1 \
  || { echo "storescu into Orthanc failed" >&2; exit 1; }
PACS="ORTHANC@127.0.0.1:$src_DICOM"

# orthanc_sops STUDY_UID: the SOP Instance UIDs Orthanc holds for a study.
orthanc_sops() {
  local id
  id=$(orthanc src POST /tools/lookup -d "$1" | jq -r '.[] | select(.Type == "Study") | .ID')
  orthanc src GET "/studies/$id/instances?expand" \
    | jq -r '.[].MainDicomTags.SOPInstanceUID' | sort
}
# package_sops PACKAGE: the SOP Instance UIDs a package's manifest lists.
package_sops() {
  tar --zstd -xOf "$1" MANIFEST.json | jq -r '.files[].sop_instance_uid // empty' | sort
}
# dataset_hashes DIR: BLAKE2b of each DICOM file's data set (what follows
# the file meta group), sorted.
dataset_hashes() {
  find "$1" -name '*.dcm' -print0 | xargs -0 /usr/bin/python3 -c '
import hashlib, struct, sys
for p in sys.argv[1:]:
    b = open(p, "rb").read()
    assert b[128:132] == b"DICM" and b[132:136] == b"\x02\x00\x00\x00"
    end = 144 + struct.unpack("<I", b[140:144])[0]
    print(hashlib.blake2b(b[end:]).hexdigest())' | sort
}
# dataset_dumps DIR: a hash of each DICOM file's data set as DCMTK reads it
# (every element and value; the file meta group, lengths and delimitation
# items left out), sorted: the same data set, however it was encoded on the
# way (a sequence of defined length may arrive with an undefined one).
dataset_dumps() {
  local f
  find "$1" -name '*.dcm' | while read -r f; do
    dcmdump -q +L "$f" | grep -v '^(0002,' | grep -v '^#' \
      | sed -E 's/ *#[^#]*$//; s/with (explicit|undefined) length //' | grep -v '^ *(fffe,e0[0d]d)' | b2sum | cut -d' ' -f1
  done | sort
}
# checks PACKAGE STUDY_UID DESC: the package verifies and holds exactly the
# instances Orthanc has for the study.
check_package() {
  local pkg=$1 uid=$2 desc=$3
  expect 0 "$desc: iep-verify" -- iep-verify "$pkg"
  if [ "$(package_sops "$pkg")" = "$(orthanc_sops "$uid")" ] && [ -n "$(package_sops "$pkg")" ]; then
    ok
  else
    bad "$desc: the package's SOP Instance UIDs differ from Orthanc's for $uid"
  fi
}

# ---- Orthanc: C-GET, C-MOVE, the query forms ------------------------------
# C-GET (the default) of the 50-slice study, found by Patient ID.
expect 0 "C-GET by PatientID" -- iep-pack --pacs "$PACS" --query "PatientID=$CT50_PID" \
  --query StudyDate=20040119 -o "$T/get.tar.zst" -v
grep -q "50 of 50 instances received.*C-GET" "$T/.err" && ok || bad "-v reports 50 of 50 by C-GET: $(cat "$T/.err")"
check_package "$T/get.tar.zst" "$CT50_UID" "C-GET"
# The same study by C-MOVE to iep's own storage SCP, found by its UID.
expect 0 "C-MOVE by StudyInstanceUID" -- iep-pack --pacs "$PACS" --query "StudyInstanceUID=$CT50_UID" \
  --retrieve move --move-aet IEPMOVE --move-port "$MOVE_PORT" -o "$T/move.tar.zst" -v
grep -q "50 of 50 instances received.*C-MOVE" "$T/.err" && ok || bad "-v reports 50 of 50 by C-MOVE: $(cat "$T/.err")"
check_package "$T/move.tar.zst" "$CT50_UID" "C-MOVE"
# Unpacked, it holds the 50 files byte for byte as they went into Orthanc.
mkdir -p "$T/opened" && tar --zstd -xf "$T/move.tar.zst" -C "$T/opened"
# (the data sets: the file meta header is written by whoever receives)
[ "$(dataset_hashes "$T/opened")" = "$(dataset_hashes "$T/ct50")" ] && ok || bad "C-MOVE: the files are not the ones stored"

# A date range: three studies of 2004 (not yesterday's), one package each,
# a JSON line each.
expect 0 "date range, --split, --json" -- iep-pack --pacs "$PACS" --query StudyDate=20040101-20041231 \
  --split "$T/y2004" --json
[ "$(ls "$T/y2004" | wc -l)" -eq 3 ] && ok || bad "three packages for 2004: $(ls "$T/y2004")"
[ "$(jq -s 'length' "$T/.out")" = 3 ] && [ "$(jq -s 'map(select(.result == "ok" and .received == .expected)) | length' "$T/.out")" = 3 ] \
  && ok || bad "--json: three ok lines: $(cat "$T/.out")"
[ "$(jq -r "select(.study == \"$CT50_UID\") | .received" "$T/.out")" = 50 ] && ok || bad "--json: 50 received for the CT"
check_package "$T/y2004/$MR_UID.tar.zst" "$MR_UID" "split MR"
check_package "$T/y2004/$CT_UID.tar.zst" "$CT_UID" "split CT"
# A re-run retrieves nothing: every package is there.
expect 0 "re-run of --split" -- iep-pack --pacs "$PACS" --query StudyDate=20040101-20041231 \
  --split "$T/y2004" --json
[ "$(jq -s 'map(select(.already_there)) | length' "$T/.out")" = 3 ] && ok || bad "re-run: three already there"
# yesterday (and an open range ending today) by C-MOVE: the one study dated yesterday.
expect 0 "StudyDate=yesterday" -- iep-pack --pacs "$PACS" --query StudyDate=yesterday \
  --retrieve move --move-aet IEPMOVE --move-port "$MOVE_PORT" -o "$T/yday.tar.zst"
check_package "$T/yday.tar.zst" "$YDAY_UID" "yesterday"
expect 0 "StudyDate=yesterday-today" -- iep-pack --pacs "$PACS" --query StudyDate=yesterday-today --split "$T/recent" --json
[ "$(jq -r .study "$T/.out")" = "$YDAY_UID" ] && ok || bad "yesterday-today: only yesterday's study"
# Packages one after another on stdout: three manifests in one stream.
expect 0 "stream of three packages" -- bash -c "iep-pack --pacs '$PACS' --query StudyDate=-20041231 >'$T/all.stream'"
[ "$(zstd -dc "$T/all.stream" | tar -ti 2>/dev/null | grep -c '^MANIFEST.json$')" = 3 ] && ok || bad "three manifests in the stream"
# ModalitiesInStudy: the MR alone, into a pipe that verifies it.
expect 0 "ModalitiesInStudy=MR to a pipe" -- bash -c "iep-pack --pacs '$PACS' --query ModalitiesInStudy=MR | iep-verify -"

# PatientName with a wildcard, matched without regard to case (as Orthanc
# and iep's own check of each match do for names).
expect 0 "PatientName with a wildcard" -- iep-pack --pacs "$PACS" --query 'PatientName=compressedsamples^mr*' \
  --split "$T/byname" --json
[ "$(jq -r .study "$T/.out")" = "$MR_UID" ] && ok || bad "PatientName: the MR alone: $(cat "$T/.out")"

# ---- Orthanc: bad cases -----------------------------------------------------
nothing=$(free_port)
expect 19 "unreachable PACS" -- iep-pack --pacs "ORTHANC@127.0.0.1:$nothing" --query PatientID=X -o "$T/x.tar.zst"
stderr_names "unreachable: one line naming the peer" "ORTHANC@127.0.0.1:$nothing"
expect 20 "wrong AE title" -- iep-pack --pacs "NOTORTHANC@127.0.0.1:$src_DICOM" --query PatientID=X -o "$T/x.tar.zst"
grep -q "called AE title not recognized" "$T/.err" && ok || bad "wrong AE: the reason in words: $(cat "$T/.err")"
expect 3 "no study matches" -- iep-pack --pacs "$PACS" --query PatientID=NOBODY -o "$T/x.tar.zst"
stderr_names "nothing found: one line with the query" "no study matches PatientID=NOBODY"
expect 11 "-o with several matches" -- iep-pack --pacs "$PACS" --query StudyDate=-20041231 -o "$T/x.tar.zst"
# A destination Orthanc does not know: it answers "cannot understand"
# (C000) instead of A801 (see dcmqrscp below); iep names the likely cause.
expect 21 "move destination unknown to Orthanc" -- iep-pack --pacs "$PACS" --query "PatientID=$CT50_PID" \
  --retrieve move --move-aet NOSUCHAE --move-port "$MOVE_PORT" -o "$T/x.tar.zst"
grep -q "C000.*does the PACS know NOSUCHAE as a C-MOVE destination" "$T/.err" && ok || bad "unknown destination in words: $(cat "$T/.err")"
nothing_left "bad cases leave no package" "$T/x.tar.zst"

# An instance of a SOP class C-GET cannot carry (retired NM Image Storage is
# not among the 128 contexts a C-GET association can propose): Orthanc fails
# that sub-operation, so the study is an error (21), named with its counts,
# and no package is written; C-MOVE, which negotiates per instance, gets it.
cp "$CORPUS/CT_small.dcm" "$T/oldnm.dcm"
dcmodify -nb -gst -gse -gin -m "SOPClassUID=1.2.840.10008.5.1.4.1.1.5" -m "PatientID=OLDNM" "$T/oldnm.dcm" >/dev/null 2>&1
# (Orthanc's DICOM server does not accept the retired class; its REST API does)
orthanc src POST /instances --data-binary @"$T/oldnm.dcm" >/dev/null || bad "upload of the old NM instance"
NM_UID=$(tag "$T/oldnm.dcm" StudyInstanceUID)
expect 21 "C-GET of an instance it cannot carry" -- iep-pack --pacs "$PACS" --query PatientID=OLDNM --retrieve get \
  --split "$T/nm" --json
grep -q "$NM_UID.*0 of 1 instances received" "$T/.err" && ok || bad "21 names the study and counts: $(cat "$T/.err")"
[ "$(jq -r .result "$T/.out")" = instances_failed ] && ok || bad "--json: result instances_failed"
nothing_left "no partial package" "$T/nm/$NM_UID.tar.zst"
expect 0 "C-MOVE of the same study" -- iep-pack --pacs "$PACS" --query PatientID=OLDNM --retrieve move \
  --move-aet IEPMOVE --move-port "$MOVE_PORT" --split "$T/nm"
check_package "$T/nm/$NM_UID.tar.zst" "$NM_UID" "old NM by C-MOVE"

# Compressed instances (JPEG baseline, RLE, JPEG 2000) by C-GET arrive as
# stored: the common image classes are proposed with each compressed syntax
# in a context of its own, so Orthanc need not decompress them (it cannot
# transcode JPEG 2000 at all: offered one context with both JPEG 2000
# syntaxes, it failed the lossy instance).
for f in SC_rgb_jpeg_dcmtk.dcm SC_rgb_rle.dcm JPEG2000.dcm; do
  orthanc src POST /instances --data-binary @"$CORPUS/$f" >/dev/null || bad "upload of $f"
done
SC_UID=$(tag "$CORPUS/SC_rgb_rle.dcm" StudyInstanceUID)
J2K_UID=$(tag "$CORPUS/JPEG2000.dcm" StudyInstanceUID)
expect 0 "C-GET of compressed instances, two UIDs in one key" -- iep-pack --pacs "$PACS" \
  --query "StudyInstanceUID=$SC_UID\\$J2K_UID" --retrieve get --split "$T/comp" --json
[ "$(jq -s 'map(.received) | add' "$T/.out")" = 3 ] && ok || bad "compressed: 3 instances: $(cat "$T/.out")"
mkdir -p "$T/comp/x"
for p in "$T"/comp/*.tar.zst; do tar --zstd -xf "$p" -C "$T/comp/x"; done
[ "$(for p in "$T"/comp/*.tar.zst; do tar --zstd -xOf "$p" MANIFEST.json | jq -r '.files[].transfer_syntax_uid // empty'; done | sort | tr '\n' ' ')" \
  = "1.2.840.10008.1.2.4.50 1.2.840.10008.1.2.4.91 1.2.840.10008.1.2.5 " ] && ok || bad "compressed: transfer syntaxes kept"
mkdir -p "$T/comp/orig" && cp "$CORPUS/SC_rgb_jpeg_dcmtk.dcm" "$CORPUS/SC_rgb_rle.dcm" "$CORPUS/JPEG2000.dcm" "$T/comp/orig/"
[ "$(dataset_dumps "$T/comp/x")" = "$(dataset_dumps "$T/comp/orig")" ] && ok || bad "compressed: data sets as stored"

# ---- DCMTK's dcmqrscp as a second source ------------------------------------
# Its storage area is filled by storescu; its host table knows iep's C-MOVE
# destination. A second dcmqrscp on the same storage without C-GET makes
# iep fall back to C-MOVE on its own.
QR_PORT=$(free_port)
QR_NOGET_PORT=$(free_port)
mkdir -p "$T/qr/db"
cat >"$T/qr/dcmqrscp.cfg" <<CFG
NetworkTCPPort  = $QR_PORT
MaxPDUSize      = 16384
MaxAssociations = 16

HostTable BEGIN
iepmove = (IEPMOVE, 127.0.0.1, $MOVE_PORT)
HostTable END

VendorTable BEGIN
VendorTable END

AETable BEGIN
DCMQR  $T/qr/db  RW (200, 1024mb)  ANY
AETable END
CFG
start_peer dcmqrscp dcmqrscp -c "$T/qr/dcmqrscp.cfg" "$QR_PORT"
# (--require-find: retrieval contexts only beside a C-FIND one, as iep proposes)
start_peer dcmqrscp-noget dcmqrscp -c "$T/qr/dcmqrscp.cfg" --disable-get --require-find "$QR_NOGET_PORT"
wait_port "$QR_PORT" 30 && wait_port "$QR_NOGET_PORT" 30 || exit 1
storescu -aec DCMQR 127.0.0.1 "$QR_PORT" "$T/ct50" "$T/single" +sd >/dev/null 2>&1 \
  || { echo "storescu into dcmqrscp failed" >&2; exit 1; }
QR="DCMQR@127.0.0.1:$QR_PORT"

expect 0 "dcmqrscp: C-GET" -- iep-pack --pacs "$QR" --query PatientID=CT50-1 --retrieve get -o "$T/qr-get.tar.zst" -v
grep -q "50 of 50 instances received.*C-GET" "$T/.err" && ok || bad "dcmqrscp C-GET: 50 of 50: $(cat "$T/.err")"
[ "$(package_sops "$T/qr-get.tar.zst")" = "$(package_sops "$T/get.tar.zst")" ] && ok || bad "dcmqrscp C-GET: the same instances as from Orthanc"
expect 0 "dcmqrscp: C-MOVE" -- iep-pack --pacs "$QR" --query "StudyInstanceUID=$CT50_UID" --retrieve move \
  --move-aet IEPMOVE --move-port "$MOVE_PORT" -o "$T/qr-move.tar.zst"
[ "$(package_sops "$T/qr-move.tar.zst")" = "$(package_sops "$T/get.tar.zst")" ] && ok || bad "dcmqrscp C-MOVE: the same instances"
expect 0 "dcmqrscp without C-GET: falls back to C-MOVE" -- iep-pack --pacs "DCMQR@127.0.0.1:$QR_NOGET_PORT" \
  --query "StudyInstanceUID=$MR_UID" --move-aet IEPMOVE --move-port "$MOVE_PORT" --split "$T/qr-mr" --json
[ "$(jq -r .method "$T/.out")" = C-MOVE ] && [ "$(jq -r .study "$T/.out")" = "$MR_UID" ] && ok || bad "fallback: C-MOVE of the MR: $(cat "$T/.out")"
expect 20 "dcmqrscp without C-GET, no move destination" -- iep-pack --pacs "DCMQR@127.0.0.1:$QR_NOGET_PORT" \
  --query "StudyInstanceUID=$MR_UID" -o "$T/x.tar.zst"
grep -q "give --move-aet and --move-port" "$T/.err" && ok || bad "no destination: says what to give: $(cat "$T/.err")"
expect 20 "dcmqrscp without C-GET, --retrieve get" -- iep-pack --pacs "DCMQR@127.0.0.1:$QR_NOGET_PORT" \
  --query "StudyInstanceUID=$MR_UID" --retrieve get -o "$T/x.tar.zst"
grep -q "accepts neither study root C-GET" "$T/.err" && ok || bad "--retrieve get refused: in words: $(cat "$T/.err")"
expect 20 "dcmqrscp: move destination unknown (A801)" -- iep-pack --pacs "$QR" --query "StudyInstanceUID=$MR_UID" \
  --retrieve move --move-aet NOSUCHAE --move-port "$MOVE_PORT" -o "$T/x.tar.zst"
grep -q "move destination unknown (A801).*NOSUCHAE" "$T/.err" && ok || bad "A801 in words: $(cat "$T/.err")"

# dcmqrscp does not match on ModalitiesInStudy: it returns every study, with
# no modalities. iep does not pull what nobody asked for.
expect 20 "dcmqrscp: a key it ignores" -- iep-pack --pacs "$QR" --query ModalitiesInStudy=MR --split "$T/qr-any"
grep -q "returns no ModalitiesInStudy" "$T/.err" && ok || bad "ignored key: in words: $(cat "$T/.err")"
nothing_left "ignored key: nothing retrieved" "$T/qr-any"

# A file its index lists but the disk lost: dcmqrscp announces 50, sends 49
# and counts one failed sub-operation. The study is an error (21) naming the
# counts, no package is written, no temporary file is left.
victim=$(grep -l "$(tag "$T/ct50/IM00017.dcm" SOPInstanceUID)" "$T"/qr/db/* 2>/dev/null | head -1)
[ -n "$victim" ] && rm -f "$victim" || bad "dcmqrscp: the file of slice 17 not found in its storage area"
mkdir -p "$T/tmp"
for method in get move; do
  expect 21 "dcmqrscp: a lost file ($method)" -- env TMPDIR="$T/tmp" iep-pack --pacs "$QR" --query PatientID=CT50-1 \
    --retrieve $method --move-aet IEPMOVE --move-port "$MOVE_PORT" --split "$T/qr-lost" --json
  grep -q "$CT50_UID: 49 of 50 instances received.*1 failed" "$T/.err" && ok || bad "lost file ($method): names the study and counts: $(cat "$T/.err")"
  [ "$(jq -r '"\(.result) \(.expected) \(.received) \(.failed)"' "$T/.out")" = "instances_failed 50 49 1" ] && ok || bad "lost file ($method): --json: $(cat "$T/.out")"
  nothing_left "lost file ($method): no package" "$T/qr-lost/$CT50_UID.tar.zst"
  [ -z "$(ls -A "$T/tmp")" ] && ok || bad "lost file ($method): temporary files left: $(ls -A "$T/tmp")"
done

# Packages on stdout with one study failing: the complete ones are written,
# one after another; the failed one is not, and the exit status says so.
expect 21 "stream with a lost file" -- bash -c "iep-pack --pacs '$QR' --query StudyDate=-20041231 >'$T/qr.stream'"
[ "$(zstd -dc "$T/qr.stream" | tar -ti 2>/dev/null | grep -c '^MANIFEST.json$')" = 2 ] && ok || bad "stream: the two complete studies"
grep -q "1 of 3 studies not packed.*$CT50_UID: 49 of 50" "$T/.err" && ok || bad "stream: names the failed study: $(cat "$T/.err")"

finish
