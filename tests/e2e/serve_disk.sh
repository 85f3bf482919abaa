#!/usr/bin/env bash
# iep-serve on a full disk (a small tmpfs): 507 with the offset unchanged,
# nothing half-kept, and the same upload resumes and commits once space
# returns. Needs mount(8) permission (root in CI); skipped otherwise.
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/e2e/serve_lib.bash"

mkdir -p "$T/data"
if ! mount -t tmpfs -o size=8m tmpfs "$T/data" 2>/dev/null; then
  echo "SKIP: cannot mount a tmpfs here (not root?)"
  exit 0
fi
trap 'stop_hub; umount "$T/data" 2>/dev/null; rm -rf "$T"' EXIT

make_sites
for s in a b; do iep-serve site add --data "$T/data" "$T/sites/trust-$s.card" 2>/dev/null; done
TA=$(iep-serve token issue --data "$T/data" trust-a 2>/dev/null)
TB=$(iep-serve token issue --data "$T/data" trust-b 2>/dev/null)
mkdir -p "$T/study"
make_study "$T/study" 6
expect 0 "seal" -- iep-send -i "$T/keys/a.id" --to trust-b --output "$T/p.iep" "$T/study"
SIZE=$(stat -c %s "$T/p.iep")
start_hub

# Fill the disk until less than half the package fits.
free=$(( $(stat -f -c '%a*%S' "$T/data") ))
filler=$(( free - SIZE / 2 ))
assert "the package is larger than half the tmpfs allows" -- [ "$filler" -gt 0 ]
head -c "$filler" /dev/zero >"$T/data/filler" 2>/dev/null

create "$TA" "$T/p.iep" -H "Upload-Metadata: $(meta_for "$T/p.iep")"
code_is "creation on a nearly full disk" 201
U=$LOC
patch "$TA" "$U" 0 "$T/p.iep"
code_is "a PATCH larger than the free space" 507
err_is "disk full" disk_full
assert "offset unchanged after 507" -- [ "$(offset_of "$TA" "$U")" = 0 ]
# Without a length up front the body is streamed until the disk is full,
# then cut back.
tus "$TA" PATCH "$U" -H "Upload-Offset: 0" -H "Content-Type: application/offset+octet-stream" \
  -H "Transfer-Encoding: chunked" --data-binary "@$T/p.iep"
code_is "a streamed PATCH that fills the disk" 507
assert "offset unchanged after a streamed 507" -- [ "$(offset_of "$TA" "$U")" = 0 ]
assert "nothing of it kept on disk" -- [ "$(stat -c %s "$T/data/uploads/${U##*/}")" = 0 ]
req "$TB" GET /v1/mailbox
assert "nothing committed" -- grep -q '^{"packages":\[\]}' "$T/b"

rm -f "$T/data/filler"
patch "$TA" "$U" 0 "$T/p.iep"
code_is "resumed once space returned, and committed" 204
req "$TB" GET "/v1/mailbox/$(sealed_id "$T/p.iep")"
assert "byte-identical after the full disk" -- cmp -s "$T/b" "$T/p.iep"
stop_hub
no_sanitizer_reports
finish
