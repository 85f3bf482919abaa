# Bad input gets a one-line error naming the file and cause, a documented
# exit code, and no partial output.
. "$(dirname "$0")/lib.sh"
make_sites
make_study study 3
A=$T/keys/a.id B=$T/keys/b.id

# Missing and unreadable inputs.
expect 3 "pack a missing file" -- iep-pack -i "$A" -o p.tar.zst nosuch.dcm
stderr_names "missing file named" "nosuch.dcm"
nothing_left "no package from a missing file" p.tar.zst
ln -s "$T/nowhere" dangling.dcm
expect 3 "pack a dangling link" -- iep-pack -i "$A" -o p.tar.zst dangling.dcm
expect 3 "open a missing package" -- iep-open -i "$B" nosuch.iep -o out
stderr_names "missing package named" "nosuch.iep"
expect 3 "open a folder as a package" -- iep-open -i "$B" study -o out
nothing_left "no output folder" out
expect 3 "verify a missing package" -- iep-verify -i "$B" nosuch.iep

# Files we may not read (as an unprivileged user: root reads anything). The
# checkout may sit in a folder only root can enter, so the command and its
# library are copied to a folder of their own for that user.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  nb=$(mktemp -d /tmp/iep-nobody-XXXXXX) && chmod 755 "$nb"
  cp "$IEP_BIN/iep-pack" "$nb/" && cp -P "$IEP_BIN"/libiep.so* "$nb/"
  mkdir "$nb/np" && cp -r study "$nb/np/study" && cp "$A" "$nb/np/a.id"
  chown -R nobody "$nb/np" && chmod 000 "$nb/np/study/$(ls "$nb/np/study" | head -1)"
  as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups env LD_LIBRARY_PATH="$nb" "$@"; }
  expect 3 "unreadable DICOM file" -- as_nobody "$nb/iep-pack" -i "$nb/np/a.id" -o "$nb/np/p.tar.zst" "$nb/np/study"
  stderr_names "names the unreadable file" "$(ls "$nb/np/study" | head -1)"
  stderr_names "and the cause" "Permission denied"
  nothing_left "no package from an unreadable file" "$nb/np/p.tar.zst"
  chmod 000 "$nb/np/a.id"
  expect 10 "unreadable identity" -- as_nobody "$nb/iep-pack" -i "$nb/np/a.id" -o "$nb/np/p.tar.zst" "$nb/np/study"
  rm -rf "$nb"
else
  bad "the unreadable-file cases need root and setpriv"
fi

# Non-DICOM files are refused with their names.
mkdir mixed && cp study/* mixed/ && echo "not dicom" >mixed/notes.txt && cp "$CORPUS/README.txt" mixed/
expect 8 "non-DICOM files in a folder" -- iep-pack -i "$A" -o p.tar.zst mixed
stderr_names "names the non-DICOM files" "notes.txt"
assert "names both" -- grep -q README.txt .err
nothing_left "no package" p.tar.zst
echo "a report" >report.txt
expect 0 "--attach carries a non-DICOM file" -- iep-pack -i "$A" -o p.tar.zst --attach report.txt study
assert "attachment listed" -- sh -c "zstd -dc p.tar.zst | tar -t | grep -qx attachments/report.txt"
expect 8 "a truncated DICOM file" -- iep-pack -i "$A" -o q.tar.zst "$CORPUS/rtplan_truncated.dcm"
expect 3 "empty folder" -- iep-pack -i "$A" -o q.tar.zst "$(mkdir -p empty && echo empty)"
stderr_names "empty folder named" "empty"
nothing_left "no package from an empty folder" q.tar.zst

# Several studies need --split.
expect 11 "two studies" -- iep-pack -i "$A" -o q.tar.zst study "$CORPUS/CT_small.dcm"
stderr_names "split hint" "--split"
expect 11 "two studies, send" -- iep-send -i "$A" --to trust-b --output q.iep study "$CORPUS/CT_small.dcm"
nothing_left "nothing sealed" q.iep q.iep.minisig
expect 0 "--split" -- iep-pack -i "$A" --split split study "$CORPUS/CT_small.dcm"
assert "two packages" -- test "$(ls split | wc -l)" -eq 2

# Not a package, not for us, unknown sender.
expect 4 "open a DICOM file as a package" -- iep-open -i "$B" "$CORPUS/CT_small.dcm" -o out
expect 4 "verify a DICOM file" -- iep-verify -i "$B" "$CORPUS/CT_small.dcm"
expect 4 "send from an empty stdin" -- iep-send -i "$A" --to trust-b --output e.iep - </dev/null
nothing_left "nothing sealed from empty stdin" e.iep e.iep.minisig
iep-send -i "$A" --to trust-b --output s.iep study || exit 1
mv sites/trust-a.card a.card
expect 5 "unknown sender" -- iep-open -i "$B" s.iep -o out
stderr_names "unknown sender named" "trust-a"
expect 0 "--from trusts a card" -- iep-open -i "$B" --from a.card s.iep -o out
mv a.card sites/trust-a.card
expect 10 "unknown recipient site" -- iep-send -i "$A" --to trust-z --output z.iep study
stderr_names "unknown site named" "trust-z"
expect 2 "send without --output" -- iep-send -i "$A" --to trust-b study
expect 2 "send to stdout without --signature" -- iep-send -i "$A" --to trust-b --output - study

# Output problems: existing output, closed stdout, disk full.
expect 9 "existing output file" -- iep-send -i "$A" --to trust-b --output s.iep study
expect 9 "existing output folder" -- iep-open -i "$B" s.iep -o out
expect 9 "stdout is /dev/full" -- sh -c "iep-pack -i '$A' study >/dev/full"
stderr_names "names stdout" "stdout"
expect 9 "stdout closed early (bash)" -- bash -c "iep-pack -i '$A' study | head -c 100 >/dev/null; exit \${PIPESTATUS[0]}"
mkdir small
if mount -t tmpfs -o size=256k tmpfs small 2>/dev/null; then
  expect 9 "disk full while sealing" -- iep-send -i "$A" --to trust-b --output small/s.iep study
  stderr_names "names the file" "small/s.iep"
  nothing_left "no partial sealed file" small/s.iep small/s.iep.minisig small/.s.iep.*
  assert "tmpfs left empty" -- test -z "$(ls -A small)"
  expect 9 "disk full while opening" -- iep-open -i "$B" s.iep -o small/out
  nothing_left "no partial folder" small/out small/.out.partial-*
  assert "tmpfs left empty" -- test -z "$(ls -A small)"
  umount small
else
  bad "cannot mount a small tmpfs for the disk-full test (needs root)"
fi

# Stdin closed early: a cut sealed stream is corrupt, nothing emitted.
expect 7 "sealed stream cut short on stdin" -- sh -c "head -c 200000 s.iep | iep-open -i '$B' - -o cut"
nothing_left "nothing opened from a cut stream" cut
expect 7 "cut stream to stdout" -- sh -c "head -c 200000 s.iep | iep-open -i '$B' - -o - >cut.tar.zst"
assert "nothing written to stdout" -- test ! -s cut.tar.zst
iep-pack -i "$A" study >plain.tar.zst
expect 7 "plain package cut short into send" -- sh -c "head -c 100000 plain.tar.zst | iep-send -i '$A' --to trust-b --output cut.iep -"
nothing_left "nothing sealed from a cut stream" cut.iep cut.iep.minisig
expect 0 "plain package from stdin seals" -- sh -c "iep-send -i '$A' --to trust-b --output whole.iep - <plain.tar.zst"
expect 0 "and opens" -- iep-open -i "$B" whole.iep -o whole
assert "same files" -- test "$(hashes whole)" = "$(hashes study)"

# Bad flags.
expect 2 "unknown flag" -- iep-verify --frobnicate s.iep
expect 2 "missing operand" -- iep-open -i "$B"

finish
