# One rule for what DICOM every command accepts (dicom::check_instance),
# bounded reading of hostile files, and the iep-anon defects of issue 8:
# cut files, non-conformant UIDs, --check exit 8, duplicate instances in
# the pipe stage, memory per file.
. "$(dirname "$0")/lib.sh"
make_sites
iep-anon --new-key p.key >/dev/null
PY=/usr/bin/python3
mkdir in

# Inputs made from real corpus files.
$PY - "$CORPUS" <<'PY' || exit 1
import sys, struct, warnings, pydicom
warnings.simplefilter("ignore")
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
d = sys.argv[1] + "/"
raw = open(d + "CT_small.dcm", "rb").read()
at = raw.rfind(b"\xe0\x7f\x10\x00OW")
assert at > 0
open("in/cut-before-pixels.dcm", "wb").write(raw[:at])            # exactly before (7FE0,0010)
open("in/cut-in-pixels.dcm", "wb").write(raw[:at + 12 + 1000])    # inside its value
ds = pydicom.dcmread(d + "CT_small.dcm")
del ds.SOPInstanceUID
ds.save_as("in/no-instance-uid.dcm", write_like_original=True)

# Non-conformant vendor UIDs (leading zeros in components), in a CT and in
# an RT Structure Set that references that CT.
ct = pydicom.dcmread(d + "CT_small.dcm")
root = "1.2.246.352.91.0000217.2005"
ct.StudyInstanceUID = root + ".01"
ct.SeriesInstanceUID = root + ".02"
ct.SOPInstanceUID = root + ".03"
ct.file_meta.MediaStorageSOPInstanceUID = ct.SOPInstanceUID
ct.save_as("uids-ct.dcm", write_like_original=True)
rs = pydicom.dcmread(d + "rtstruct.dcm", force=True)
rs.StudyInstanceUID = root + ".01"
rs.SeriesInstanceUID = root + ".04"
rs.SOPInstanceUID = root + ".05"
for e in rs.iterall():
    if e.keyword == "ReferencedSOPInstanceUID":
        e.value = ct.SOPInstanceUID
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = rs.SOPClassUID
meta.MediaStorageSOPInstanceUID = rs.SOPInstanceUID
meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
rs.file_meta = meta
rs.preamble = b"\0" * 128
rs.is_little_endian, rs.is_implicit_VR = True, False
rs.save_as("uids-rtstruct.dcm", write_like_original=False)

# Sequences nested 300,000 deep (undefined lengths), and 4 million empty
# items in one sequence (31 MB): each once crashed or bloated DCMTK.
ct = pydicom.dcmread(d + "CT_small.dcm", stop_before_pixels=True)
ct.save_as("head.dcm", write_like_original=True)
head = open("head.dcm", "rb").read()
seq_open = struct.pack("<HH2sHI", 0x0008, 0x1140, b"SQ", 0, 0xFFFFFFFF)  # Referenced Image Sequence
item_open = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
n = 300000
with open("nested.dcm", "wb") as f:
    f.write(head)  # the nest goes after, out of order (readers sort)
    f.write((seq_open + item_open) * n)
with open("items.dcm", "wb") as f:
    f.write(head)
    f.write(struct.pack("<HH2sHI", 0x0008, 0x1140, b"SQ", 0, 0xFFFFFFFF))
    f.write(struct.pack("<HHI", 0xFFFE, 0xE000, 0) * (31_000_000 // 8))
    f.write(struct.pack("<HHI", 0xFFFE, 0xE0DD, 0))

# A CT of 200 MiB of zero pixels in the deflated syntax: 200 KB, held
# inflated in memory (and again to deflate it anew) it took 630 MB.
ct = pydicom.dcmread(d + "CT_small.dcm")
ct.PixelData = bytes(200 << 20)
ct.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1.99"
ct.is_little_endian, ct.is_implicit_VR = True, False
ct.save_as("deflated.dcm", write_like_original=False)

# A CT with 4096 private values of 64 KiB after its pixels (256 MiB of
# zeros, a sparse file): held in memory whole, they took as much.
ct = pydicom.dcmread(d + "CT_small.dcm")
del ct[0xFFFCFFFC]
ct.save_as("big.dcm", write_like_original=True)
with open("big.dcm", "r+b") as f:
    f.seek(0, 2)
    for g in range(0x7FE1, 0x8000, 2):
        f.write(struct.pack("<HH2sH", g, 0x0010, b"LO", 8) + b"IEP TEST")
        for e in range(0x1000, 0x1100):
            f.write(struct.pack("<HH2sHI", g, e, b"OB", 0, 65536))
            f.seek(65536, 1)
    f.truncate()
PY

# 1. dicom::scan (iep-pack, iep-verify) is bounded: no stack overflow, no
# memory that grows with the claims.
expect 8 "nested 300,000 deep: refused, no crash" -- iep-pack -i "$T/keys/a.id" nested.dcm
assert "says why" -- grep -q "nested over 32 deep" "$T/.err"
expect 8 "31 MB of items: refused" -- /usr/bin/time -f %M -o rss iep-pack -i "$T/keys/a.id" -o x.pkg items.dcm
assert "says why" -- grep -q "more than 1048576 elements" "$T/.err"
assert "in bounded memory ($(tail -1 rss) KiB < 200 MiB)" -- test "$(tail -1 rss)" -lt 204800
# The same through iep-verify: a package whose entry is the nest (iep-pack
# refuses it, so its entry is swapped in a plain package by hand).
mkdir swap && cp "$CORPUS/CT_small.dcm" swap/ct.dcm
expect 0 "pack a CT, plain" -- iep-pack -i "$T/keys/a.id" --no-compress -o plain.tar swap/ct.dcm
entry=$(tar -tf plain.tar | grep '\.dcm$' | head -1)
mkdir unpacked && tar -xf plain.tar -C unpacked && cp nested.dcm "unpacked/$entry"
(cd unpacked && tar --format=pax -cf ../swapped.tar $(tar -tf ../plain.tar))
expect_in "7 8" "iep-verify on the nest: refused (hash or DICOM), no crash" -- iep-verify swapped.tar

# 2. One rule: an image cut before its pixels, cut inside them, or without
# a SOP Instance UID is refused by iep-pack and quarantined by iep-anon,
# with the same message naming the cause.
check_refused() {  # FILE MESSAGE
  expect 8 "iep-pack refuses $1" -- iep-pack -i "$T/keys/a.id" -o x.pkg "in/$1"
  assert "iep-pack says: $2" -- grep -qF "$2" "$T/.err"
  rm -rf out-one
  mkdir one && cp "in/$1" one/
  expect 12 "iep-anon quarantines $1" -- iep-anon -k p.key --json one out-one
  assert "iep-anon says: $2" -- grep -qF "$2" "$T/.err"
  assert "nothing written for $1" -- test -z "$(find out-one -type f 2>/dev/null)"
  rm -rf one
}
check_refused cut-before-pixels.dcm "image object without Pixel Data, cut short?"
check_refused cut-in-pixels.dcm "cut inside element (7FE0,0010)"
check_refused no-instance-uid.dcm "no SOP Instance UID in the data set"
expect 12 "folder of all three: quarantined, exit 12" -- iep-anon -k p.key in out-all
assert "three quarantined" -- test "$(grep -c 'quarantined' "$T/.err")" -ge 3

# 4. --check exits 8 for a file in the output that is not a valid instance.
expect 0 "de-identify a CT" -- iep-anon -k p.key swap out-check
expect 0 "--check of a whole output" -- iep-anon --check out-check
cp in/cut-before-pixels.dcm out-check/
expect 8 "--check: a cut file in the output is exit 8" -- iep-anon --check out-check
assert "named" -- grep -q "cut-before-pixels.dcm: image object without Pixel Data" "$T/.err"
rm out-check/cut-before-pixels.dcm && printf 'not DICOM\n' > out-check/note.dcm
expect 8 "--check: a .dcm file that is not DICOM is exit 8" -- iep-anon --check out-check
assert "named" -- grep -q "note.dcm: not a DICOM file" "$T/.err"
mv out-check/note.dcm out-check/note.txt
expect 0 "--check: other files (a manifest, notes) are searched as bytes only" -- iep-anon --check out-check
rm out-check/note.txt

# 3. Non-conformant UIDs: accepted everywhere, replaced like any UID (the
# reference from the structure set follows the CT), reported.
mkdir uids && cp uids-ct.dcm uids-rtstruct.dcm uids/
expect 0 "iep-pack accepts non-conformant UIDs" -- iep-pack -i "$T/keys/a.id" -o uids.pkg uids
expect 0 "iep-anon de-identifies them" -- iep-anon -k p.key -v --json uids out-uids
assert "-v says so" -- grep -q "uids-rtstruct.dcm: non-conformant UIDs (replaced) in .*(0008,0018)" "$T/.err"
assert "--json says so" -- $PY -c '
import json, sys
r = json.load(open(sys.argv[1]))
nc = {e["file"].split("/")[-1]: e["attributes"] for e in r["nonconformant_uids"]}
assert "(0008,0018)" in nc["uids-ct.dcm"] and "(0020,000D)" in nc["uids-ct.dcm"], nc
assert "(0008,1155)" in nc["uids-rtstruct.dcm"], nc
assert r["written"] == 2 and not r["quarantined"], r
' "$T/.out"
assert "no original UID left, the reference follows the CT" -- $PY -c '
import glob, sys, pydicom
files = [pydicom.dcmread(f) for f in glob.glob("out-uids/**/*.dcm", recursive=True)]
ct = [f for f in files if f.Modality == "CT"][0]
rs = [f for f in files if f.Modality == "RTSTRUCT"][0]
refs = [e.value for e in rs.iterall() if e.keyword == "ReferencedSOPInstanceUID"]
assert refs and all(r == ct.SOPInstanceUID for r in refs), (refs, ct.SOPInstanceUID)
assert ct.SOPInstanceUID.startswith("2.25.") and rs.StudyInstanceUID == ct.StudyInstanceUID
for f in ("out-uids",):
    for p in glob.glob(f + "/**/*.dcm", recursive=True):
        assert b"0000217" not in open(p, "rb").read(), p
'
expect 0 "--check of that output" -- iep-anon --check --original uids out-uids
iep-pack -i "$T/keys/a.id" uids | iep-anon -k p.key -i "$T/keys/a.id" - > uids-anon.pkg 2> "$T/.err"
rc=${PIPESTATUS[1]}
assert "the pipe stage de-identifies them too (exit $rc)" -- test "$rc" -eq 0
expect 0 "and its package verifies" -- iep-verify -i "$T/keys/a.id" uids-anon.pkg

# 5. Two files of one SOP Instance UID in a package: the pipe stage
# quarantines the later one (exit 12) as folder mode does.
mkdir dup && cp "$CORPUS/CT_small.dcm" dup/a.dcm
$PY -c '
import pydicom, sys
ds = pydicom.dcmread(sys.argv[1]); ds.InstanceNumber = 99; ds.save_as("dup/b.dcm")' "$CORPUS/CT_small.dcm"
iep-pack -i "$T/keys/a.id" dup > dup.pkg 2>/dev/null
assert "iep-pack packs both" -- test "$(tar --zstd -tf dup.pkg 2>/dev/null | grep -c '\.dcm$')" -eq 2
iep-anon -k p.key -i "$T/keys/a.id" - < dup.pkg > dup-anon.pkg 2> "$T/.err"
rc=$?
assert "pipe stage: exit 12 (got $rc)" -- test "$rc" -eq 12
assert "names the duplicate" -- grep -q "quarantined .*: same SOP Instance UID as" "$T/.err"
expect 0 "its package verifies" -- iep-verify -i "$T/keys/a.id" dup-anon.pkg
expect 12 "folder mode: the same" -- iep-anon -k p.key dup out-dup
assert "folder mode names it" -- grep -q "same SOP Instance UID as" "$T/.err"

# 6. Memory per file: 4096 values of 64 KiB (256 MiB) are not all held.
expect 0 "folder mode: big private values" -- /usr/bin/time -f %M -o rss iep-anon -k p.key big.dcm out-big
assert "in bounded memory ($(tail -1 rss) KiB < 200 MiB)" -- test "$(tail -1 rss)" -lt 204800
expect 0 "the output parses" -- dcmdump -q "$(find out-big -name '*.dcm' | head -1)"
iep-pack -i "$T/keys/a.id" big.dcm > big.pkg 2>/dev/null
/usr/bin/time -f %M -o rss iep-anon -k p.key -i "$T/keys/a.id" - < big.pkg > big-anon.pkg 2> "$T/.err"
rc=$?
assert "pipe stage: big private values de-identified (exit $rc)" -- test "$rc" -eq 0
assert "in bounded memory ($(tail -1 rss) KiB < 200 MiB)" -- test "$(tail -1 rss)" -lt 204800
expect 0 "deflated, 200 MiB inflated: de-identified" -- /usr/bin/time -f %M -o rss iep-anon -k p.key deflated.dcm out-dfl
assert "in bounded memory ($(tail -1 rss) KiB < 200 MiB)" -- test "$(tail -1 rss)" -lt 204800
assert "the output is whole: deflated, every pixel, de-identified" -- $PY -c '
import glob, pydicom
ds = pydicom.dcmread(glob.glob("out-dfl/**/*.dcm", recursive=True)[0])
assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1.99"
assert len(ds.PixelData) == 200 << 20 and not any(ds.PixelData[::4096])
assert ds.PatientIdentityRemoved == "YES"
'
finish
