# Tampering with a sealed or plain package is rejected with the right exit
# code, and nothing is written to the output.
. "$(dirname "$0")/lib.sh"
make_sites
make_study study 8
A=$T/keys/a.id B=$T/keys/b.id C=$T/keys/c.id
PY=/usr/bin/python3

iep-send -i "$A" --to trust-b --output s.iep study || exit 1
iep-send -i "$A" --to trust-b --output other.iep study || exit 1
size=$(stat -c %s s.iep)
# Where the age payload starts: after the "--- MAC" line, then a 16-byte nonce.
hdr=$($PY -c "d=open('s.iep','rb').read(); print(d.index(b'\n---')+1+d[d.index(b'\n---')+1:].index(b'\n')+1)")
payload=$((hdr + 16))
chunk=65552
nchunks=$(( (size - payload + chunk - 1) / chunk ))
assert "study spans several age chunks ($nchunks)" -- test "$nchunks" -ge 3

# open_rejects CODE DESC FILE [SIG]: iep-open must fail with CODE and leave
# no folder behind; iep-verify must fail with the same code.
open_rejects() {
  local code=$1 desc=$2 file=$3
  shift 3
  expect "$code" "open: $desc" -- iep-open -i "$B" "$@" "$file" -o "$T/opened"
  nothing_left "open: $desc" "$T/opened" "$T"/.opened.partial-*
  expect "$code" "verify: $desc" -- iep-verify -i "$B" "$@" "$file"
}

flip() { # flip FILE OFFSET OUT
  $PY - "$1" "$2" "$3" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read()); o = int(sys.argv[2])
d[o] ^= 0x01
open(sys.argv[3], 'wb').write(d)
PY
}

expect 0 "the untouched package opens" -- iep-open -i "$B" s.iep -o good
rm -rf good

# Header: version line, recipient stanza, MAC.
flip s.iep 3 t.iep; cp s.iep.minisig t.iep.minisig
open_rejects 4 "flipped version line" t.iep
# Another valid base64 letter in the middle of the ephemeral share: a
# well-formed stanza that no longer opens (a malformed one is corrupt, 7).
$PY - <<'PY'
d = bytearray(open('s.iep', 'rb').read())
i = d.index(b'-> X25519 ') + 12
d[i] = ord('B') if d[i] == ord('A') else ord('A')
open('t.iep', 'wb').write(d)
PY
open_rejects 6 "changed recipient stanza" t.iep
mac=$((hdr - 5))
flip s.iep "$mac" t.iep
open_rejects 7 "flipped header MAC" t.iep
flip s.iep $((hdr + 3)) t.iep
open_rejects 7 "flipped payload nonce" t.iep
# Every chunk, at its start, middle and tag.
for ((i = 0; i < nchunks; i++)); do
  start=$((payload + i * chunk))
  for off in $start $((start + 30000)) $((start + chunk - 3)); do
    [ "$off" -lt "$size" ] || continue
    flip s.iep "$off" t.iep
    open_rejects 7 "flipped byte $off in chunk $i" t.iep
  done
done
rm -f t.iep.minisig

# Signature file: each line's bytes.
for line in 2 4; do
  $PY - s.iep.minisig "$line" <<'PY'
import sys
lines = open(sys.argv[1]).read().split('\n'); n = int(sys.argv[2]) - 1
c = lines[n][10]; lines[n] = lines[n][:10] + ('A' if c != 'A' else 'B') + lines[n][11:]
open('t.iep.minisig', 'w').write('\n'.join(lines))
PY
  cp s.iep t.iep
  open_rejects 5 "flipped signature line $line" t.iep
done
sed 's/sender=trust-a/sender=trust-c/' s.iep.minisig >t.iep.minisig
open_rejects 5 "edited trusted comment" t.iep
cp other.iep.minisig t.iep.minisig
open_rejects 5 "signature of another package" t.iep
expect 5 "verify without identity: signature of another package" -- iep-verify t.iep

# The sender itself re-signs the sealed bytes (minisign -S with the key in
# its identity) with a recipient list other than the manifest's: refused.
# A statement without to= at all (a package sealed before the field
# existed) still opens.
asecret=$(sed -n 's/^# iep-minisign-secret-key: //p' "$A")
printf 'untrusted comment: a\n%s\n' "$asecret" >a.key
tc=$(sed -n 's/^trusted comment: //p' s.iep.minisig)
base=${tc% to=*}
assert "the signed statement names the recipient: $tc" -- test "$tc" = "$base to=trust-b"
cp s.iep t.iep
for to in trust-c trust-b,trust-c trust-c,trust-b; do
  minisign -S -s a.key -m t.iep -x t.iep.minisig -t "$base to=$to" </dev/null >/dev/null || exit 1
  open_rejects 5 "signed to=$to, manifest names trust-b" t.iep
  stderr_names "signed to=$to" "recipient list"
done
minisign -S -s a.key -m t.iep -x t.iep.minisig -t "$base" </dev/null >/dev/null || exit 1
expect 0 "a statement without to= (an older package) still opens" -- iep-open -i "$B" t.iep -o "$T/old"
expect 0 "... and verifies" -- iep-verify -i "$B" t.iep
rm -rf "$T/old" t.iep.minisig

# Truncation at many offsets: header cuts are not a package or corrupt;
# payload cuts are corrupt.
for off in 0 10 40 $((hdr - 2)) $payload $((payload + 100)) $((payload + chunk)) \
  $((payload + chunk + 16)) $((payload + 2 * chunk)) $((size - 17)) $((size - 1)); do
  head -c "$off" s.iep >t.iep
  rm -f t.iep.minisig
  if [ "$off" -lt "$payload" ]; then codes="4 7"; else codes=7; fi
  expect_in "$codes" "truncated at $off" -- iep-open -i "$B" t.iep -o "$T/opened"
  nothing_left "truncated at $off" "$T/opened"
done
# Trailing bytes.
cp s.iep t.iep && printf 'x' >>t.iep
open_rejects 7 "trailing byte" t.iep

# Reordered chunks; a chunk swapped in from another package.
$PY - s.iep other.iep "$payload" "$chunk" <<'PY'
import sys
a = bytearray(open(sys.argv[1], 'rb').read()); b = open(sys.argv[2], 'rb').read()
p, c = int(sys.argv[3]), int(sys.argv[4])
r = a[:]; r[p:p + c], r[p + c:p + 2 * c] = a[p + c:p + 2 * c], a[p:p + c]
open('reordered.iep', 'wb').write(r)
s = a[:]; s[p + c:p + 2 * c] = b[p + c:p + 2 * c]
open('spliced.iep', 'wb').write(s)
PY
open_rejects 7 "two chunks swapped" reordered.iep
open_rejects 7 "chunk from another package" spliced.iep

# Sealed for B, opened as C.
expect 6 "not addressed to us" -- iep-open -i "$C" s.iep -o "$T/opened"
nothing_left "not addressed to us" "$T/opened"

# B re-seals A's package for C, signing it as B: C refuses it.
age -d -i "$B" s.iep >plain.tar.zst
age -r "$(age-keygen -y "$C")" -o resealed.iep plain.tar.zst
secret=$(sed -n 's/^# iep-minisign-secret-key: //p' "$B")
printf 'untrusted comment: b\n%s\n' "$secret" >b.key
id=$(zstd -dc plain.tar.zst | tar -xOf - MANIFEST.json | sed -n 's/.*"package_id": "\([0-9a-f]*\)".*/\1/p')
minisign -S -s b.key -m resealed.iep -t "iep-sealed package=$id sender=trust-a created=x" </dev/null >/dev/null
expect 5 "re-signed by another recipient" -- iep-open -i "$C" resealed.iep -o "$T/opened"
stderr_names "re-signed message" "re-sealed or forged"
rm resealed.iep.minisig
expect 6 "re-sealed without signature: manifest does not name C" -- iep-open -i "$C" resealed.iep -o "$T/opened"
nothing_left "re-sealed" "$T/opened"

# Inside: a changed DICOM byte or manifest byte, re-encrypted for B.
mkdir in && zstd -dc plain.tar.zst | tar -xf - -C in
files=$(manifest_paths in/MANIFEST.json)
first=$(echo "$files" | head -1)
reseal() { (cd in && tar --format=pax -cf - $files MANIFEST.json MANIFEST.json.minisig) | age -r "$(age-keygen -y "$B")" >"$1"; }
cp "in/$first" keep.dcm
flip keep.dcm 1000 "in/$first"
reseal dicom-changed.iep
open_rejects 7 "changed DICOM byte" dicom-changed.iep
cp keep.dcm "in/$first"
cp in/MANIFEST.json keep.json
sed -i 's/"series": 1/"series": 2/' in/MANIFEST.json
reseal manifest-changed.iep
open_rejects 5 "changed manifest byte" manifest-changed.iep
cp keep.json in/MANIFEST.json
reseal fine.iep
expect 0 "re-assembled unchanged content still opens" -- iep-open -i "$B" fine.iep -o fine-out

# Unsafe tar entries inside a validly encrypted package.
mkdir evil && cp keep.dcm evil/x.dcm && ln -s /etc/passwd evil/link
(cd evil && tar --format=pax -cf - x.dcm link) | age -r "$(age-keygen -y "$B")" >link.iep
open_rejects 7 "symlink entry" link.iep
(cd evil && tar --format=pax -P -cf - /etc/hostname) | age -r "$(age-keygen -y "$B")" >abs.iep
open_rejects 7 "absolute path entry" abs.iep
(cd evil && tar --format=pax -cf - --transform 's,^x,../x,' x.dcm) | age -r "$(age-keygen -y "$B")" >dotdot.iep
open_rejects 7 "dot-dot entry" dotdot.iep
nothing_left "no escape" "$T/x.dcm"

finish
