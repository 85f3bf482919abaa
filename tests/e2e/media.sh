# iep-fetch --media: a study with its report, packed (iep-pack --report),
# sent through a real hub and fetched as a folder to burn onto a disc (IHE
# PDI: DICOMDIR, DICOM/ST000001/SE00000n/IM00000n, README.TXT). Checked with
# independent tools: dcmdump (every reference exists, with the SOP instance
# it names), dcmmkdir (DCMTK rebuilds a General Purpose CD-R DICOMDIR of the
# same files, transfer syntax checked), dciodvfy (the DICOMDIR and the report
# instances), pydicom's FileSet (lists every instance; the PDF's bytes),
# and iep-pack, which reads the disc back through its DICOMDIR. Refusals:
# flags, a destination that cannot be written (nothing written, nothing
# acknowledged).
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/interop/hub-lib.sh"
make_sites
A=$T/keys/a.id B=$T/keys/b.id
hub_init "$T/hub"
hub_start

# A study of two series (the second made by re-labelling three slices).
make_study ct 6
(cd ct && dcmodify -nb -m SeriesInstanceUID=1.2.826.0.1.3680043.2.1143.4242 -m SeriesNumber=2 \
  $(ls | tail -n 3)) || exit 1
pdf=/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf
[ -f "$pdf" ] && cp "$pdf" report.pdf || printf '%%PDF-1.4\n%% tiny\n%%%%EOF\n' >report.pdf
printf 'Findings: no acute bleed.\nImpression: normal for age (Befund unauff\xc3\xa4llig).\n' >notes.txt

fetch_media() { # fetch_media DIR [ARGS...]
  local dir=$1
  shift
  iep-fetch -i "$B" --hub "$HUB" --token-file "$T/tokens/b" --state "$T/state-b" --media "$dir" "$@"
}
in_mailbox() { mailbox_ids b | grep -q "$1"; }
pack_send() { # pack_send REPORT: the study with REPORT, through the hub; prints the package id
  iep-pack -i "$A" --report "$1" ct | send_to_hub "$HUB" a - --json >"$T/sent.json" || return 1
  json_get "$T/sent.json" 'j["package"]'
}

# The references of a DICOMDIR, "FILE-ID SOP-INSTANCE-UID" a line.
refs() {
  dcmdump -q -Un +L "$1" | /usr/bin/python3 -c '
import re, sys
f = None
for line in sys.stdin:
    m = re.search(r"\((0004,15(?:00|11))\) \S+ \[([^\]]*)\]", line)
    if not m: continue
    if m.group(1) == "0004,1500": f = m.group(2).replace("\\", "/")
    elif f: print(f, m.group(2)); f = None'
}

# --- Usage.
expect 2 "--media with --out" -- fetch_media disc -o out
stderr_names "names the choice" "one of --out DIR, --media DIR or --stdout"
expect 2 "--media with --stdout" -- fetch_media disc --stdout

# --- A study with a PDF report.
pkg=$(pack_send report.pdf) || bad "pack and send with --report"
assert "the manifest marks the report" -- test -n "$pkg"
expect 0 "iep-fetch --media" -- fetch_media disc --json
assert "delivered" -- grep -q "\"outcome\":\"delivered\",\"package\":\"$pkg\"" "$T/.out"
d=disc/$pkg
assert "a DICOMDIR at the root" -- test -f "$d/DICOMDIR"
assert "a README.TXT (PDI)" -- grep -q "DICOMDIR" "$d/README.TXT"
assert "the report carried as it was" -- cmp -s report.pdf "$d/ATTACH/REPORT.PDF"
assert "no partial folder left" -- test -z "$(ls -A disc | grep '^\.')"
refs "$d/DICOMDIR" >refs.txt
assert "7 instances indexed: 6 slices and the report" -- test "$(wc -l <refs.txt)" -eq 7
assert "three series folders (two of the study, one of the report)" -- \
  test "$(cut -d/ -f3 refs.txt | sort -u | wc -l)" -eq 3
ok_refs=1
while read -r id uid; do
  case $id in DICOM/ST000001/SE00000[1-9]/IM00000[1-9]) ;; *) ok_refs=0 ;; esac
  [ -f "$d/$id" ] || ok_refs=0
  got=$(dcmdump -q -Un +P 0008,0018 "$d/$id" | sed 's/.*\[\(.*\)\].*/\1/')
  [ "$got" = "$uid" ] || ok_refs=0
  ts=$(dcmdump -q -Un +P 0002,0010 "$d/$id" | sed 's/.*\[\(.*\)\].*/\1/')
  [ "$ts" = 1.2.840.10008.1.2.1 ] || ok_refs=0
done <refs.txt
assert "every file ID conformant, existing, with the SOP instance the DICOMDIR names, Explicit VR LE" -- \
  test "$ok_refs" = 1
assert "the slices' SOP instances are the study's" -- test "$(
  for f in ct/*; do dcmdump -q -Un +P 0008,0018 "$f"; done | sed 's/.*\[\(.*\)\].*/\1/' | sort
)" = "$(grep -v SE000003 refs.txt | cut -d' ' -f2 | sort)"

cp -r "$d" check && rm check/DICOMDIR
expect 0 "dcmmkdir (General Purpose CD-R, transfer syntax checked) indexes the same files" -- \
  sh -c "cd check && dcmmkdir -Pgp +I $(cut -d' ' -f1 refs.txt | tr '\n' ' ')"
dciodvfy "$d/DICOMDIR" >iod.txt 2>&1
assert "dciodvfy: the DICOMDIR has no errors" -- sh -c "! grep -q '^Error' iod.txt"
report_id=$(grep SE000003 refs.txt | cut -d' ' -f1)
dciodvfy "$d/$report_id" >iod.txt 2>&1
assert "dciodvfy: the Encapsulated PDF has no errors" -- sh -c "grep -q EncapsulatedPDF iod.txt && ! grep -q '^Error' iod.txt"
expect 0 "pydicom's FileSet lists every instance; the PDF's bytes are the report's" -- \
  /usr/bin/python3 -c '
import sys, pydicom
from pydicom.fileset import FileSet
fs = FileSet(pydicom.dcmread(sys.argv[1]))
uids = sorted(i.SOPInstanceUID for i in fs)
want = sorted(l.split()[1] for l in open(sys.argv[2]))
assert uids == want, (uids, want)
docs = [i.load() for i in fs if i.SOPClassUID == "1.2.840.10008.5.1.4.1.1.104.1"]
assert len(docs) == 1
d = docs[0]
ct = pydicom.dcmread(sys.argv[4])
for k in ("PatientName", "PatientID", "StudyInstanceUID", "StudyDate", "AccessionNumber"):
    assert str(d.get(k, "")) == str(ct.get(k, "")), k
assert d.EncapsulatedDocument[:d.EncapsulatedDocumentLength] == open(sys.argv[3], "rb").read()
' "$d/DICOMDIR" refs.txt report.pdf "$(ls ct/* | head -1)"
expect 0 "iep-pack reads the disc back through its DICOMDIR" -- iep-pack -i "$A" --no-compress -o back.tar "$d"
tar -xOf back.tar MANIFEST.json >back.json
assert "all 7 instances, the report among them" -- \
  test "$(json_get back.json 'j["study"]["instances"]')" = 7
assert "the modalities: CT and DOC" -- test "$(json_get back.json '",".join(j["study"]["modalities"])')" = CT,DOC

# --- A text report becomes a Basic Text SR.
pkg2=$(pack_send notes.txt) || bad "pack and send a text report"
expect 0 "iep-fetch --media, text report" -- fetch_media disc
refs "disc/$pkg2/DICOMDIR" >refs2.txt
sr=$(grep SE000003 refs2.txt | cut -d' ' -f1)
dciodvfy "disc/$pkg2/$sr" >iod.txt 2>&1
assert "dciodvfy: a Basic Text SR without errors" -- sh -c "grep -q BasicTextSR iod.txt && ! grep -q '^Error' iod.txt"
expect 0 "its text is the report's" -- /usr/bin/python3 -c '
import sys, pydicom
d = pydicom.dcmread(sys.argv[1])
assert d.VerificationFlag == "UNVERIFIED" and d.CompletionFlag == "COMPLETE"
assert d.ContentSequence[0].TextValue == open(sys.argv[2], encoding="utf-8").read()
' "disc/$pkg2/$sr" notes.txt

# --- A destination that cannot be written: nothing written, not acknowledged.
pkg3=$(pack_send report.pdf) || bad "pack and send again"
echo x >afile
expect 9 "--media under a file, not a folder" -- fetch_media afile/disc
assert "nothing acknowledged: still in the mailbox" -- in_mailbox "$pkg3"
mkdir ro && chmod 555 ro
if [ "$(id -u)" != 0 ]; then
  expect 9 "--media into a folder that cannot be written" -- fetch_media ro
  assert "nothing in it" -- test -z "$(ls -A ro)"
  assert "still in the mailbox" -- in_mailbox "$pkg3"
fi
chmod 755 ro
expect 0 "the next run delivers it" -- fetch_media ro
assert "complete" -- test -f "ro/$pkg3/DICOMDIR"
assert "the mailbox is empty" -- test -z "$(mailbox_ids b)"
finish
