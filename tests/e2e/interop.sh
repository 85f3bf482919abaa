# Standard formats at every layer: our packages open with age, zstd, tar and
# minisign; a package assembled by hand with those tools passes iep-verify.
. "$(dirname "$0")/lib.sh"
make_sites
make_study study 6
A=$T/keys/a.id B=$T/keys/b.id

expect 0 "seal" -- iep-send -i "$A" --to trust-b --output s.iep study
assert "signature beside the package" -- test -s s.iep.minisig

# Sealed by us, opened by the standard tools.
mkdir by-hand
assert "age -d | zstd -d | tar -x opens it" -- sh -c "age -d -i '$B' s.iep | zstd -dq | tar -xf - -C by-hand"
assert "same DICOM bytes as the input" -- test "$(hashes by-hand)" = "$(hashes study)"
expect 0 "minisign -V checks the sealed bytes with the sender's card" -- minisign -Vm s.iep -p sites/trust-a.card
assert "trusted comment names the package" -- grep -q "iep-sealed package=" .out
expect 0 "minisign -V checks the manifest signature" -- minisign -Vm by-hand/MANIFEST.json -p sites/trust-a.card -x by-hand/MANIFEST.json.minisig
expect 1 "minisign -V refuses another site's card" -- minisign -Vm s.iep -p sites/trust-c.card
expect 0 "plain package lists with zstd -d | tar -t" -- sh -c "iep-pack -i '$A' study | zstd -dq | tar -t"
assert "manifest is the last-but-one entry" -- test "$(tail -2 .out | head -1)" = MANIFEST.json

# A package assembled by hand from our manifest with tar, zstd, age, minisign.
secret=$(sed -n 's/^# iep-minisign-secret-key: //p' "$A")
printf 'untrusted comment: trust-a signing key\n%s\n' "$secret" >a.minisign.key
chmod 600 a.minisign.key
id=$(sed -n 's/.*"package_id": "\([0-9a-f]*\)".*/\1/p' by-hand/MANIFEST.json)
created=$(sed -n 's/.*"created": "\([^"]*\)".*/\1/p' by-hand/MANIFEST.json)
rm by-hand/MANIFEST.json.minisig
minisign -S -s a.minisign.key -m by-hand/MANIFEST.json -x by-hand/MANIFEST.json.minisig \
  -t "iep-manifest package=$id sender=trust-a" </dev/null >/dev/null
files=$(manifest_paths by-hand/MANIFEST.json)
(cd by-hand && tar --format=pax -cf - $files MANIFEST.json MANIFEST.json.minisig) | zstd -q -3 |
  age -r "$(age-keygen -y "$B")" >hand.iep
minisign -S -s a.minisign.key -m hand.iep -t "iep-sealed package=$id sender=trust-a created=$created" </dev/null >/dev/null
expect 0 "iep-verify accepts the hand-made package" -- iep-verify -v -i "$B" hand.iep
assert "it checked the origin signature" -- grep -q "ok   origin-signature" .err
expect 0 "iep-open opens the hand-made package" -- iep-open -i "$B" hand.iep -o hand-out
assert "hand-made package content" -- test "$(hashes hand-out)" = "$(hashes study)"

# A package signed properly whose "DICOM" file is not DICOM: iep-verify
# says so (exit 8), naming the entry; the hashes and signatures are fine.
mkdir bad-dicom && cp -r by-hand/. bad-dicom/
victim=$(echo "$files" | head -1)
head -c 1000 "bad-dicom/$victim" >cut.dcm && mv cut.dcm "bad-dicom/$victim"
/usr/bin/python3 - bad-dicom/MANIFEST.json "$victim" <<'PY'
import hashlib, json, os, sys
path, victim = sys.argv[1], sys.argv[2]
m = json.load(open(path))
for f in m["files"]:
    if f["path"] == victim:
        data = open(os.path.join(os.path.dirname(path), victim), "rb").read()
        f["size"], f["blake2b"] = len(data), hashlib.blake2b(data, digest_size=32).hexdigest()
open(path, "w").write(json.dumps(m, indent=1) + "\n")
PY
rm bad-dicom/MANIFEST.json.minisig
minisign -S -s a.minisign.key -m bad-dicom/MANIFEST.json -x bad-dicom/MANIFEST.json.minisig \
  -t "iep-manifest package=$id sender=trust-a" </dev/null >/dev/null
(cd bad-dicom && tar --format=pax -cf - $files MANIFEST.json MANIFEST.json.minisig) | zstd -q >bad-dicom.tar.zst
expect 8 "iep-verify finds a file that is not valid DICOM" -- iep-verify -i "$A" bad-dicom.tar.zst
stderr_names "names the entry" "$victim"
expect 0 "--no-dicom skips that check" -- iep-verify --no-dicom -i "$A" bad-dicom.tar.zst

# Plain (uncompressed) tar made by hand is a valid plain package too.
(cd by-hand && tar --format=pax -cf - $files MANIFEST.json MANIFEST.json.minisig) >hand.tar
expect 0 "iep-verify accepts a hand-made plain tar" -- iep-verify -i "$A" hand.tar

# What `age -r` seals for our recipient, iep opens (signature optional).
age -r "$(age-keygen -y "$B")" -o hand2.iep hand.tar
expect 0 "age-sealed plain tar opens without an outer signature" -- iep-open -i "$B" hand2.iep -o hand2-out

# JSON report.
expect 0 "verify --json" -- iep-verify --json -i "$B" s.iep
assert "json result ok" -- /usr/bin/python3 -c "import json,sys; r=json.load(open('$T/.out')); sys.exit(0 if r['result']=='ok' and r['manifest']['study']['instances']==6 else 1)"

finish
