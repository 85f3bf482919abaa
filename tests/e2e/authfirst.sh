# Nothing from outside is parsed before it is authenticated (iep-package(5),
# READING): hostile packages crafted with python3, tar, zstd, minisign and
# age; a card sharing a key id does not shadow the genuine one; a site
# verifies the origin of its own package.
. "$(dirname "$0")/lib.sh"
make_sites
A=$T/keys/a.id B=$T/keys/b.id
PY=/usr/bin/python3
CT=$CORPUS/CT_small.dcm
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR"

# minisign secret key files from the identities (the line iep keeps there).
for s in a b; do
  printf 'untrusted comment: %s\n%s\n' "$s" "$(sed -n 's/^# iep-minisign-secret-key: //p' "$T/keys/$s.id")" >"$s.key"
done
minisign -G -W -p mallory.pub -s mallory.key </dev/null >/dev/null || exit 1

# A DICOM file of 300,000 nested sequences (11 MB, a few KB compressed): a
# recursive parser overflows its stack on it.
$PY - deep.dcm <<'PY'
import struct, sys
d = bytearray(128) + b"DICM"
ts = b"1.2.840.10008.1.2.1\0"
d += struct.pack("<HH2sH", 2, 0x10, b"UI", len(ts)) + ts
n = 300000
d += (struct.pack("<HH2sHI", 8, 0x1115, b"SQ", 0, 0xFFFFFFFF) + struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)) * n
d += (struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)) * n
open(sys.argv[1], "wb").write(d)
PY

# craft DIR OUT KEY: a plain package (tar.zst) of DIR's files listed in
# DIR/MANIFEST.json, whose hashes and sizes are made to match, signed with
# minisign KEY ("none": no signature).
craft() {
  local dir=$1 out=$2 key=$3
  $PY - "$dir" <<'PY' || exit 1
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(d + "/MANIFEST.json"))
for f in m["files"]:
    p = os.path.join(d, f["path"])
    if os.path.isfile(p):
        b = open(p, "rb").read()
        f["size"] = len(b)
        f["blake2b"] = hashlib.blake2b(b, digest_size=32).hexdigest()
open(d + "/MANIFEST.json", "w").write(json.dumps(m, indent=1) + "\n")
PY
  local files
  files=$(manifest_paths "$dir/MANIFEST.json")
  rm -f "$dir/MANIFEST.json.minisig"
  if [ "$key" != none ]; then
    minisign -S -s "$key" -m "$dir/MANIFEST.json" -t "iep-manifest crafted" </dev/null >/dev/null || exit 1
  fi
  (cd "$dir" && tar --format=pax -cf - $files MANIFEST.json $([ "$key" != none ] && echo MANIFEST.json.minisig)) |
    zstd -q -c >"$out"
}

# A genuine package by trust-a holding CT_small and an attachment; its parts.
printf 'a report\n' >report.txt
iep-pack -i "$A" -a report.txt "$CT" >good.tar.zst || exit 1
mkdir good && zstd -dc good.tar.zst | tar -xf - -C good
dcm=$(manifest_paths good/MANIFEST.json | grep '\.dcm$')
att=$(manifest_paths good/MANIFEST.json | grep '^attachments/')
expect 0 "the genuine package verifies" -- iep-verify good.tar.zst

# 1. An unsigned package whose DICOM entry nests 300,000 sequences: refused
# by its signature, never given to DCMTK (it crashed iep-verify, exit 139).
cp -r good deep && cp deep.dcm "deep/$dcm"
craft deep deep-unsigned.tar.zst none
assert "the deep package is small ($(stat -c %s deep-unsigned.tar.zst) bytes)" -- test "$(stat -c %s deep-unsigned.tar.zst)" -lt 20000
expect 5 "unsigned deep nesting" -- iep-verify deep-unsigned.tar.zst
stderr_names "unsigned deep nesting" "not signed"
craft deep deep-mallory.tar.zst mallory.key
expect 5 "deep nesting signed by an unknown key" -- iep-verify deep-mallory.tar.zst
stderr_names "unknown key" "unknown key"
expect 5 "... from a pipe" -- sh -c 'iep-verify - < deep-mallory.tar.zst'
# The same bytes as a signed attachment: attachments are not parsed.
cp -r good deepatt && cp deep.dcm "deepatt/$att"
craft deepatt deep-attachment.tar.zst a.key
expect 0 "deep nesting in a signed attachment is not parsed" -- iep-verify deep-attachment.tar.zst

# 2. A manifest that is a JSON bomb, signed by an unknown key: refused by
# the signature without parsing (it was parsed first: corrupt, 7).
mkdir bomb && $PY -c 'import sys; sys.stdout.write("[" * 4000000)' >bomb/MANIFEST.json
minisign -S -s mallory.key -m bomb/MANIFEST.json -t x </dev/null >/dev/null || exit 1
(cd bomb && tar --format=pax -cf - MANIFEST.json MANIFEST.json.minisig) | zstd -q -c >bomb.tar.zst
expect 5 "a JSON bomb by an unknown key" -- iep-verify bomb.tar.zst
stderr_names "JSON bomb" "unknown key"
# Signed by a trusted site: parsed, but bounded (corrupt, quickly).
minisign -S -s a.key -m bomb/MANIFEST.json -t x </dev/null >/dev/null || exit 1
(cd bomb && tar --format=pax -cf - MANIFEST.json MANIFEST.json.minisig) | zstd -q -c >bomb-a.tar.zst
expect 7 "a JSON bomb by a trusted site" -- iep-verify bomb-a.tar.zst
stderr_names "JSON bomb signed" "nested deeper"

# A signed package whose DICOM entry is not DICOM: invalid_dicom naming it.
cp -r good notdicom && printf 'not dicom' >"notdicom/$dcm"
craft notdicom notdicom.tar.zst a.key
expect 8 "a signed entry that is not DICOM" -- iep-verify notdicom.tar.zst
stderr_names "not DICOM" "$dcm"
expect 8 "... from a pipe" -- sh -c 'iep-verify - < notdicom.tar.zst'
expect 0 "... not checked with --no-dicom" -- iep-verify --no-dicom notdicom.tar.zst

# Entries 'a' and 'a/b': iep-verify and iep-open agree (corrupt, 7).
# (tar cannot take a file and a folder of one name from disk: python writes it.)
mkdir prefix && cp "good/$att" prefix/a
$PY - good/MANIFEST.json prefix <<'PY'
import hashlib, json, sys
m = json.load(open(sys.argv[1]))
body = open(sys.argv[2] + "/a", "rb").read()
a = dict([f for f in m["files"] if f["kind"] == "attachment"][0], size=len(body),
         blake2b=hashlib.blake2b(body, digest_size=32).hexdigest())
m["files"] = [dict(a, path="a"), dict(a, path="a/b")]
json.dump(m, open(sys.argv[2] + "/MANIFEST.json", "w"))
PY
minisign -S -s a.key -m prefix/MANIFEST.json -t x </dev/null >/dev/null || exit 1
$PY - prefix prefix.tar <<'PY'
import io, sys, tarfile
d = sys.argv[1]
with tarfile.open(sys.argv[2], "w", format=tarfile.PAX_FORMAT) as t:
    for name, src in (("a", "a"), ("a/b", "a"), ("MANIFEST.json", "MANIFEST.json"),
                      ("MANIFEST.json.minisig", "MANIFEST.json.minisig")):
        b = open(d + "/" + src, "rb").read()
        i = tarfile.TarInfo(name); i.size = len(b); t.addfile(i, io.BytesIO(b))
PY
expect 7 "verify: 'a' and 'a/b'" -- iep-verify prefix.tar
stderr_names "a and a/b" "both a file and the folder"
age -r "$(age-keygen -y "$B")" -o prefix.iep prefix.tar || exit 1
expect 7 "open: 'a' and 'a/b'" -- iep-open -i "$B" prefix.iep -o prefix-out
nothing_left "open: a and a/b" prefix-out

# 1. A card with trust-a's key id but another key, installed so that a
# lookup by id alone finds it first: trust-a's packages still verify.
$PY - "$T/sites/trust-a.card" "$T/sites/trust-c.card" "$T/sites/0shadow.card" <<'PY'
import base64, sys
a = open(sys.argv[1]).read().split("\n"); c = open(sys.argv[2]).read().split("\n")
ka, kc = base64.b64decode(a[1]), base64.b64decode(c[1])
key = base64.b64encode(ka[:10] + kc[10:]).decode()   # "Ed" + a's id + c's key
out = [a[0].replace("trust-a", "0shadow"), key, "site: 0shadow", c[3], ""]
open(sys.argv[3], "w").write("\n".join(out))
PY
iep-send -i "$A" --to trust-b --output s.iep "$CT" || exit 1
expect 0 "origin of a package whose key id a shadow card shares" -- iep-verify s.iep
expect 0 "plain package with a shadow card" -- iep-verify good.tar.zst
expect 0 "opened with a shadow card" -- iep-verify -i "$B" s.iep

# 4. The site that sealed it verifies its origin: its own card is not in
# its site folder, it counts anyway.
rm "$T/sites/trust-a.card" "$T/sites/0shadow.card"
expect 0 "own package by origin (identity from IEP_IDENTITY)" -- env IEP_IDENTITY="$A" iep-verify s.iep
expect 5 "... but not someone else's whose card is unknown" -- env IEP_IDENTITY="$B" iep-verify s.iep

nothing_left "nothing left in TMPDIR" "$TMPDIR"/*
finish
