#!/bin/bash
# Runs one libFuzzer target for a bounded time on a fresh seed corpus.
# usage: run-fuzzer.sh <fuzzer binary> <name> <work dir> [seconds]
# Seeds are made here with GNU tar, zstd and the built tools (IEP_BIN), so
# no binaries are committed (fixture/fuzz.identity is a test key):
# small tars for "tar", compressed and plain streams for "zstd", both for any
# other target; small pydicom files for "dicom_stream", sample rules for
# "pixel_rules", a real audit chain for "audit", a receipt and sealed statements for "statements". Files in tests/fuzz/corpus/<name>/ (if any) are added too.
# Crashes land in <work dir>/artifacts/.
set -euo pipefail
fuzzer=$(realpath "$1") name=$2 work=$(realpath -m "$3") seconds=${4:-20}
here=$(cd "$(dirname "$0")" && pwd)

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts" "$work/src/dir"
cd "$work/src"
printf '' > empty
printf 'x' > one
head -c 513 /dev/urandom > dir/b513
mkdir -p "dir/$(printf 'd%.0s' {1..60})"
long=dir/$(printf 'd%.0s' {1..60})/$(printf 'n%.0s' {1..60})  # 125 bytes: pax, or ustar prefix
printf 'long name' > "$long"
ln -s one link

seeds=()
tar --format=pax -cf "$work/pax.tar" empty one dir/b513 "$long"
tar --format=ustar -cf "$work/ustar.tar" one dir/b513 "$long"
tar --format=gnu -cf "$work/gnu.tar" one "$long" link dir
seeds+=("$work/pax.tar" "$work/ustar.tar" "$work/gnu.tar")

tar_seeds() {
  # Short archives fuzz faster: also the head of each, without GNU's padding.
  for f in "${seeds[@]}"; do
    base=$(basename "$f" .tar)
    head -c 4096 "$f" > "$work/corpus/$base-head"
    cp "$f" "$work/corpus/$base"
  done
}
zstd_seeds() {
  printf 'plain text, not compressed' > "$work/corpus/plain"
  for f in "${seeds[@]}"; do
    zstd -q -c "$f" > "$work/corpus/$(basename "$f" .tar).zst"
  done
  zstd -q -19 --no-check -c "$work/pax.tar" > "$work/corpus/pax-19.zst"
  printf 'abc' | zstd -q -c > "$work/corpus/tiny.zst"
}
# Real packages and manifests, when the tools are at hand (IEP_BIN), made by
# the fixture site the package fuzzer trusts and opens with
# (fixture/fuzz.identity, a test key): plain and compressed, with an
# attachment, sealed to the fixture, and small ones whose mutations run fast.
package_seeds() {
  [ -x "${IEP_BIN:-}/iep-pack" ] || return 0
  local d=/usr/lib/python3/dist-packages/pydicom/data/test_files
  install -m 600 "$here/fixture/fuzz.identity" "$work/fuzz.id"
  "$IEP_BIN/iep-keygen" --card-of "$work/fuzz.id" > "$work/fuzz.card"
  printf 'a report\n' > "$work/report.txt"
  "$IEP_BIN/iep-pack" -i "$work/fuzz.id" --no-compress "$d/CT_small.dcm" > "$work/corpus/package.tar"
  "$IEP_BIN/iep-pack" -i "$work/fuzz.id" "$d/CT_small.dcm" > "$work/corpus/package.tar.zst"
  "$IEP_BIN/iep-pack" -i "$work/fuzz.id" --no-compress "$d/rtplan.dcm" > "$work/corpus/small.tar"
  "$IEP_BIN/iep-pack" -i "$work/fuzz.id" --no-compress -a "$work/report.txt" \
    "$d/rtplan.dcm" > "$work/corpus/two.tar"
  IEP_IDENTITY="$work/fuzz.id" IEP_SITES="$work/none" "$IEP_BIN/iep-send" --to "$work/fuzz.card" \
    --output "$work/corpus/sealed.iep" "$d/rtplan.dcm" >/dev/null
  rm -f "$work/corpus/sealed.iep.minisig"
  tar -xOf "$work/corpus/two.tar" MANIFEST.json > "$work/corpus/manifest.json"
  # Packages one step from each check after the signatures (the fuzzer's
  # second reading skips the signature, so a changed manifest still counts):
  # a file listed but missing, a file too many, 'a' and 'a/b', bytes after
  # the archive, and a package sealed to the fixture that does not name it.
  /usr/bin/python3 - "$work/corpus" <<'PY'
import io, json, sys, tarfile
out = sys.argv[1]
src = tarfile.open(out + "/small.tar")
members = [(m.name, src.extractfile(m).read()) for m in src.getmembers()]
man = json.loads(dict(members)["MANIFEST.json"])
def write(name, entries, manifest=None, tail=b""):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for n, b in entries:
            if n == "MANIFEST.json" and manifest is not None:
                b = json.dumps(manifest, indent=1).encode()
            i = tarfile.TarInfo(n); i.size = len(b); t.addfile(i, io.BytesIO(b))
    open(out + "/" + name, "wb").write(buf.getvalue() + tail)
files = [e for e in members if not e[0].startswith("MANIFEST")]
rest = [e for e in members if e[0].startswith("MANIFEST")]
extra = dict(man["files"][0], path="extra.dcm")
write("missing.tar", members, dict(man, files=man["files"] + [extra]))
write("unlisted.tar", files + [("extra.dcm", b"x")] + rest)
write("prefix.tar", [("a", b"x"), ("a/b", b"y")] + rest)
write("trailing.tar", members, None, b"\1" * 512)
PY
  age -r "$(sed -n 's/^age-recipient: //p' "$work/fuzz.card")" -o "$work/corpus/unnamed.iep" \
    "$work/corpus/small.tar"
}
# Manifests at the parser's bounds (iep-package(5)): deep, wide, duplicate
# keys, a path that is the folder of another, times with offsets.
manifest_seeds() {
  package_seeds
  [ -f "$work/corpus/manifest.json" ] || return 0
  /usr/bin/python3 - "$work/corpus" <<'PY'
import json, sys
out = sys.argv[1]
m = json.load(open(out + "/manifest.json"))
def put(name, obj=None, text=None):
    open("%s/%s" % (out, name), "w").write(text if text is not None else json.dumps(obj, indent=1))
put("deep", text='{"x":' + "[" * 9 + "]" * 9 + "}")
put("wide", text='{"x":[' + ",".join(["{}"] * 1100) + "]}")
put("dupkey", text=json.dumps(m)[:-1] + ', "format": "iep-package/1"}')
f = dict(m["files"][0]); f["path"] = f["path"].rsplit("/", 1)[0]
put("prefix", dict(m, files=m["files"] + [f]))
put("offset", dict(m, created="2026-12-02T05:28:29.123+01:00"))
put("badtime", dict(m, created="yesterday"))
put("longmod", dict(m, study=dict(m["study"], modalities=["X" * 65])))
put("unknown", dict(m, extra={"a": [1, 2.5, None, True, "s"]}))
PY
}
# Small real DICOM files of several transfer syntaxes (pydicom's).
dicom_seeds() {
  local d=/usr/lib/python3/dist-packages/pydicom/data/test_files f
  for f in CT_small.dcm MR_small_implicit.dcm MR_small_bigendian.dcm image_dfl.dcm \
    SC_rgb_rle.dcm JPEG2000.dcm rtplan.dcm test-SR.dcm dicomdirtests/DICOMDIR; do
    [ -f "$d/$f" ] && [ "$(stat -c %s "$d/$f")" -lt 200000 ] && cp "$d/$f" "$work/corpus/$(basename "$f")"
  done
  # For File::parse_head: files whose pixel data ends them, the preamble's
  # first two bytes (which fuzz_dicom_stream reads as how many bytes to
  # leave out of the head) set to end the head inside the pixel data.
  /usr/bin/python3 - "$work/corpus" <<'PY' || true
import sys, pydicom
d = "/usr/lib/python3/dist-packages/pydicom/data/test_files/"
for name in ("CT_small.dcm", "MR_small.dcm"):
    ds = pydicom.dcmread(d + name)
    if 0xFFFCFFFC in ds:
        del ds[0xFFFCFFFC]
    path = sys.argv[1] + "/head-" + name
    ds.save_as(path, write_like_original=False)
    raw = bytearray(open(path, "rb").read())
    tail = min(len(ds.PixelData) - 16, 65535)
    raw[0:2] = tail.to_bytes(2, "little")
    open(path, "wb").write(raw)
PY
  return 0
}
# For dicom::scan: the same files, and what its rule must refuse or accept
# (cut before and inside Pixel Data, sequences nested past the bound,
# non-conformant UIDs), so that mutations start next to each check.
dicom_scan_seeds() {
  dicom_seeds
  /usr/bin/python3 - "$work/corpus" <<'PY' || true
import sys, warnings, pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
out = sys.argv[1]
warnings.simplefilter("ignore")  # the UID with leading zeros
d = "/usr/lib/python3/dist-packages/pydicom/data/test_files/"
raw = open(d + "CT_small.dcm", "rb").read()
at = raw.rfind(b"\xe0\x7f\x10\x00")
open(out + "/ct-cut-before-pixels", "wb").write(raw[:at])
open(out + "/ct-cut-in-pixels", "wb").write(raw[:at + 200])
ds = pydicom.dcmread(d + "rtstruct.dcm", force=True)  # a bare data set
ds.SOPInstanceUID = "1.2.246.352.91.0000217.20050411"
ds.save_as(out + "/rtstruct-leading-zeros", write_like_original=True)
ds = pydicom.dcmread(d + "CT_small.dcm", stop_before_pixels=True)
inner = Dataset(); inner.CodeValue = "1"
for _ in range(40):
    outer = Dataset(); outer.ReferencedImageSequence = Sequence([inner]); inner = outer
ds.ReferencedImageSequence = inner.ReferencedImageSequence
del ds.Rows
ds.save_as(out + "/nested-40", write_like_original=True)
PY
  return 0
}
rules_seeds() {
  printf 'match manufacturer="GE \\"x\\"" model=LOGIQ rows=600 columns=800\nblank 0,0,800,60\noutput same\n' \
    > "$work/corpus/rules"
  printf '# c\r\nmatch\r\nblank 1,2,3,4 # tail\r\n' > "$work/corpus/crlf"
}
# A real audit chain (the format of iep-verify(1)), a record of each
# action, lines alone, and a checkpoint object.
audit_seeds() {
  /usr/bin/python3 - "$work/corpus" <<'PY'
import hashlib, json, sys
out = sys.argv[1]
canon = lambda o: json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
acts = [("upload.create", "trust-a", "0123456789abcdef0123456789abcdef", {"length": 12}),
        ("commit", "trust-a", "fedcba9876543210fedcba9876543210", {"recipients": ["b", "c"], "size": 12}),
        ("list", "b", "", {"wait": 3}), ("download", "b", "fedcba9876543210fedcba9876543210", {}),
        ("ack", "b", "fedcba9876543210fedcba9876543210", {"sender": "trust-a"}),
        ("auth.fail", "anonymous", "", {"remote": "127.0.0.1"}),
        ("admin.token.issue", "local-admin", "", {"site": "b", "id": "t1", "u": "\u00e9\t\"x\""}),
        ("reject", "c", "", {"error": "bad_signature", "n": [1, -2, True, None, {"a": []}]}),
        ("delete", "hub", "fedcba9876543210fedcba9876543210", {})]
lines, prev = [], "0" * 64
for seq, (a, who, pkg, det) in enumerate(acts, 1):
    rec = {"action": a, "actor": who, "detail": det, "package": pkg, "prev": prev,
           "request": "%016x" % seq, "seq": seq, "time": "2026-12-02T10:00:%02d.%03dZ" % (seq, seq)}
    rec["hash"] = prev = hashlib.blake2b(canon(rec).encode(), digest_size=32).hexdigest()
    lines.append(canon(rec))
    open("%s/record-%d" % (out, seq), "w").write(lines[-1])
open(out + "/chain", "w").write("".join(l + "\n" for l in lines))
open(out + "/chain-3", "w").write("".join(l + "\n" for l in lines[:3]))
PY
  if command -v minisign >/dev/null; then
    local head
    head=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().split("\n")[2])["hash"])' "$work/corpus/chain")
    minisign -G -W -p "$work/hub.pub" -s "$work/hub.key" >/dev/null </dev/null
    printf 'iep-audit-checkpoint seq=3 head=%s time=2026-12-02T12:00:00Z\n' "$head" >"$work/cp.txt"
    minisign -S -s "$work/hub.key" -m "$work/cp.txt" -t "$(head -c -1 "$work/cp.txt")" >/dev/null </dev/null
    /usr/bin/python3 -c 'import json,sys; w=sys.argv[1]; json.dump({"seq":3,"head":sys.argv[2],"time":"2026-12-02T12:00:00Z","statement":open(w+"/cp.txt").read(),"signature":open(w+"/cp.txt.minisig").read()}, open(w+"/corpus/checkpoint","w"))' "$work" "$head"
  fi
  return 0
}
# A receipt and a sealed statement as iep writes them (iep-protocol(7),
# iep-package(5)), prefixed with the byte that picks the parser.
statement_seeds() {
  local pkg=0123456789abcdef0123456789abcdef
  printf 'riep-receipt package=%s blake2b=%s receiver=trust-b sender=trust-a time=2026-12-02T10:00:00Z\n' \
    "$pkg" "$pkg$pkg$pkg$pkg" >"$work/corpus/receipt"
  printf 'siep-sealed package=%s sender=trust-a created=2026-12-02T10:00:00Z to=trust-b,trust-c' \
    "$pkg" >"$work/corpus/sealed"
  printf 'siep-sealed package=%s sender=trust-a created=2026-12-02T10:00:00Z' "$pkg" >"$work/corpus/sealed-old"
}

# Reconciliation rules ('r') and mapping tables ('t', iep-reconcile(5)).
reconcile_seeds() {
  printf 'r{"local_issuer": "RXX", "table": "map.csv"}' >"$work/corpus/rules"
  printf 'r{"local_issuer": "RXX", "table": "map.csv", "keep_issuers": ["RXX"], "national_issuer": "NHS", "require_national_id": true, "coerce_accession": true, "modifying_system": "iep"}' >"$work/corpus/rules-all"
  printf 'tsender_issuer,sender_patient_id,local_patient_id,local_issuer\n,P1,L1,\nSENDER,P1,L9,RYY\n' >"$work/corpus/table"
  printf 'tsender_patient_id,sender_issuer,local_patient_id,sender_accession,local_accession\nP1,SENDER,L1,ACC1,LA1\nP1,SENDER,L1,,\n"P2",,"L,2"\n' >"$work/corpus/table-accession"
  printf 'tsender_issuer,sender_patient_id,local_patient_id\n,P1,L1\n,P1,L2\n' >"$work/corpus/table-ambiguous"
  printf 'tsender_issuer,sender_patient_id,local_patient_id\r\n,"P""1",L1\r\n' >"$work/corpus/table-quotes"
}

case "$name" in
  reconcile) reconcile_seeds ;;
  audit) audit_seeds ;;
  statements) statement_seeds ;;
  dicom_stream) dicom_seeds ;;
  dicom_scan) dicom_scan_seeds ;;
  pixel_rules) rules_seeds ;;
  tar) tar_seeds ;;
  zstd) zstd_seeds ;;
  manifest) manifest_seeds ;;
  *) tar_seeds; zstd_seeds; package_seeds ;;
esac
if [ -d "$here/corpus/$name" ]; then cp "$here/corpus/$name"/* "$work/corpus/" 2>/dev/null || true; fi

cd "$work"
exec "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus"
