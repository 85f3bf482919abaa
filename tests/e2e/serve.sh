#!/usr/bin/env bash
# iep-serve against curl and minisign: registration with real cards, a real
# sealed package uploaded in several PATCHes (tus 1.0.0), committed,
# listed, downloaded (whole and by range) and acknowledged with a receipt
# made by minisign; and the protocol's refusals, each leaving no trace.
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/e2e/serve_lib.bash"

make_sites
iep-keygen --site trust-d -o "$T/keys/d.id" -c "$T/trust-d.card" >/dev/null
mkdir -p "$T/study"
make_study "$T/study" 4
expect 0 "seal a package for trust-b" -- iep-send -i "$T/keys/a.id" --to trust-b --output "$T/p1.iep" "$T/study"
expect 0 "seal another" -- iep-send -i "$T/keys/a.id" --to trust-b --output "$T/p2.iep" "$T/study"
expect 0 "seal one for an unregistered site" -- iep-send -i "$T/keys/a.id" --to "$T/trust-d.card" --output "$T/pd.iep" "$T/study"
SIZE=$(stat -c %s "$T/p1.iep")
P1=$(sealed_id "$T/p1.iep")

# ---- administration
for s in a b c; do
  expect 0 "site add trust-$s" -- iep-serve site add --data "$T/data" "$T/sites/trust-$s.card"
done
expect 15 "the same name twice is refused" -- iep-serve site add --data "$T/data" "$T/sites/trust-a.card"
expect_in "2 3 10 15" "a file that is not a card" -- iep-serve site add --data "$T/data" "$T/p1.iep.minisig"
TA=$(iep-serve token issue --data "$T/data" trust-a)
TB=$(iep-serve token issue --data "$T/data" trust-b)
TC=$(iep-serve token issue --data "$T/data" trust-c)
ADMIN=$(iep-serve admin-token --data "$T/data")
assert "tokens look like iep1_ + 43 base64url" -- bash -c "[[ '$TA' =~ ^iep1_[A-Za-z0-9_-]{43}$ ]]"
assert "tokens are stored hashed only" -- eval '! hub_index_has "$T/data" "$TA"'
expect 0 "site list" -- iep-serve site list --data "$T/data" --json
assert "site list names the three sites" -- grep -q '"trust-c"' "$T/.out"

start_hub --max-package-size 50000000 --timeout 3

# ---- discovery and refusals before any upload
req "" GET /healthz
code_is "healthz" 200
req "" OPTIONS /v1/uploads
code_is "OPTIONS" 204
assert "Tus-Version" -- [ "$(hdr Tus-Version)" = 1.0.0 ]
assert "Tus-Extension lists checksum and concatenation" -- bash -c "grep -i '^Tus-Extension:' '$T/h' | grep -q 'checksum,concatenation'"
assert "Tus-Max-Size" -- [ "$(hdr Tus-Max-Size)" = 50000000 ]
assert "X-Request-Id is 16 hex digits" -- bash -c "[[ \$(grep -i '^X-Request-Id:' '$T/h' | tr -d '\r' | cut -d' ' -f2) =~ ^[0-9a-f]{16}$ ]]"
tus "" POST /v1/uploads -H "Upload-Length: 10"
code_is "no token" 401
err_is "no token" unauthorized
assert "WWW-Authenticate" -- bash -c "grep -qi '^WWW-Authenticate: Bearer realm=\"iep\"' '$T/h'"
tus "iep1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" POST /v1/uploads -H "Upload-Length: 10"
code_is "unknown token" 401
req "$TA" POST /v1/uploads -H "Upload-Length: 10"
code_is "no Tus-Resumable" 412
assert "412 names the version" -- [ "$(hdr Tus-Version)" = 1.0.0 ]
tus "$TA" POST /v1/uploads -H "Upload-Length: 999999999999"
code_is "over the maximum size" 413
err_is "over the maximum size" too_large
req "$TA" GET /v1/admin/audit
code_is "a site token on an admin endpoint" 403

# ---- an upload in three PATCHes, the protocol's refusals in between
head -c 20000 "$T/p1.iep" >"$T/piece1"
tail -c +20001 "$T/p1.iep" | head -c 30000 >"$T/piece2"
tail -c +50001 "$T/p1.iep" >"$T/piece3"
create "$TA" "$T/p1.iep" -H "Upload-Metadata: $(meta_for "$T/p1.iep")"
code_is "creation" 201
assert "Location is /v1/uploads/ID" -- bash -c "[[ '$LOC' =~ ^/v1/uploads/[0-9a-f]{32}$ ]]"
assert "Upload-Expires" -- bash -c "grep -qi '^Upload-Expires: .* GMT' '$T/h'"
U1=$LOC
patch "$TA" "$U1" 0 "$T/piece1"
code_is "PATCH 1" 204
assert "offset after PATCH 1" -- [ "$(hdr Upload-Offset)" = 20000 ]
patch "$TA" "$U1" 0 "$T/piece2"
code_is "wrong offset" 409
err_is "wrong offset" offset_mismatch
assert "nothing written on 409" -- [ "$(offset_of "$TA" "$U1")" = 20000 ]
tus "$TA" PATCH "$U1" -H "Upload-Offset: 20000" -H "Content-Type: application/octet-stream" --data-binary "@$T/piece2"
code_is "wrong content type" 415
patch "$TA" "$U1" 20000 "$T/piece2" -H "Upload-Checksum: sha1 $(printf wrong | openssl dgst -sha1 -binary | base64)"
code_is "checksum mismatch" 460
err_is "checksum mismatch" checksum_mismatch
assert "offset unchanged after 460" -- [ "$(offset_of "$TA" "$U1")" = 20000 ]
cp "$T/piece2" "$T/piece2.bad" && "$IEP_SRC/tests/flip-byte.py" "$T/piece2.bad" 777
patch "$TA" "$U1" 20000 "$T/piece2.bad" -H "Upload-Checksum: $("$IEP_SRC/tests/crc32c.py" "$T/piece2")"
code_is "crc32c mismatch (a flipped byte)" 460
assert "offset unchanged after a crc32c 460" -- [ "$(offset_of "$TA" "$U1")" = 20000 ]
patch "$TA" "$U1" 20000 "$T/piece2" -H "Upload-Checksum: md5 $(openssl dgst -md5 -binary <"$T/piece2" | base64)"
code_is "unknown checksum algorithm" 400
tus "$TB" HEAD "$U1"
code_is "another site's upload" 404
patch "$TB" "$U1" 20000 "$T/piece2"
code_is "another site cannot patch" 404
patch "$TA" "$U1" 20000 "$T/piece2" -H "Upload-Checksum: $("$IEP_SRC/tests/crc32c.py" "$T/piece2")"
code_is "PATCH 2 with a good crc32c (tests/crc32c.py)" 204
tus "$TA" HEAD "$U1"
code_is "HEAD" 200
assert "HEAD offset" -- [ "$(hdr Upload-Offset)" = 50000 ]
assert "HEAD length" -- [ "$(hdr Upload-Length)" = "$SIZE" ]
assert "HEAD Cache-Control" -- [ "$(hdr Cache-Control)" = no-store ]
assert "HEAD metadata as given" -- [ "$(hdr Upload-Metadata)" = "$(meta_for "$T/p1.iep" | tr -d ' ')" ]
# Long poll: trust-b waits; the commit below wakes it.
curl -s -H "Authorization: Bearer $TB" "$URL/v1/mailbox?wait=30" >"$T/waited" &
WAITER=$!
sleep 0.5
patch "$TA" "$U1" 50000 "$T/piece3" -H "Upload-Checksum: sha256 $(openssl dgst -sha256 -binary <"$T/piece3" | base64)"
code_is "last PATCH commits" 204
assert "Iep-Package names the package" -- [ "$(hdr Iep-Package)" = "$P1" ]
wait $WAITER
assert "the long poll woke with the package" -- grep -q "\"$P1\"" "$T/waited"
tus "$TA" HEAD "$U1"
code_is "after commit the upload is gone" 404

# ---- mailbox, timeline, download
req "$TB" GET /v1/mailbox
code_is "mailbox" 200
assert "mailbox lists the package" -- grep -q "\"package\":\"$P1\"" "$T/b"
assert "mailbox carries the signature" -- grep -q 'iep-sealed package=' "$T/b"
req "$TC" GET /v1/mailbox
assert "a bystander's mailbox is empty" -- grep -q '^{"packages":\[\]}' "$T/b"
req "$TC" GET "/v1/mailbox/$P1"
code_is "a bystander cannot download" 404
req "$TC" GET "/v1/packages/$P1"
code_is "a bystander sees no timeline" 404
req "$TC" GET "/v1/packages/0123456789abcdef0123456789abcdef"
code_is "an unknown package" 404
req "$TB" GET "/v1/mailbox/$P1"
code_is "download" 200
assert "download is byte-identical" -- cmp -s "$T/b" "$T/p1.iep"
B2=$(b2sum "$T/p1.iep" | cut -d' ' -f1)
assert "ETag is the BLAKE2b-512 (b2sum)" -- [ "$(hdr ETag)" = "\"$B2\"" ]
head -c 12345 "$T/p1.iep" >"$T/partial"
req "$TB" GET "/v1/mailbox/$P1" -H "Range: bytes=12345-"
code_is "ranged download" 206
cat "$T/partial" "$T/b" >"$T/resumed"
assert "resumed download is byte-identical" -- cmp -s "$T/resumed" "$T/p1.iep"
assert "Content-Range" -- [ "$(hdr Content-Range)" = "bytes12345-$((SIZE - 1))/$SIZE" ]
req "$TB" GET "/v1/mailbox/$P1" -H "Range: bytes=10-19"
assert "a closed range" -- bash -c "[ $CODE = 206 ] && [ \$(stat -c %s '$T/b') = 10 ]"
req "$TB" GET "/v1/mailbox/$P1" -H "Range: bytes=100-" -H 'If-Range: "other"'
code_is "If-Range with another ETag sends all" 200
assert "If-Range whole body" -- cmp -s "$T/b" "$T/p1.iep"
req "$TB" GET "/v1/mailbox/$P1" -H "Range: bytes=$SIZE-"
code_is "unsatisfiable range" 416
req "$TB" GET "/v1/mailbox/$P1/signature"
assert "the signature as sent" -- cmp -s "$T/b" "$T/p1.iep.minisig"
req "$TA" GET "/v1/packages/$P1"
code_is "timeline for the sender" 200
assert "timeline: first fetched recorded" -- grep -q '"first_fetched":"20' "$T/b"
assert "timeline: state committed" -- grep -q '"state":"committed"' "$T/b"
req "$TB" GET /v1/sites/trust-a/card
assert "cards are served" -- cmp -s "$T/b" "$T/sites/trust-a.card"
req "$TB" GET /v1/sites/nobody/card
code_is "an unknown site's card" 404

# ---- acknowledgement with a receipt signed by minisign
printf 'untrusted comment: x\n%s\n' "$(sed -n 's/^# iep-minisign-secret-key: //p' "$T/keys/b.id")" >"$T/b.key"
receipt() { # receipt PACKAGE BLAKE RECEIVER OUT
  printf 'iep-receipt package=%s blake2b=%s receiver=%s sender=trust-a time=%s\n' "$1" "$2" "$3" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$4"
  minisign -S -s "$T/b.key" -m "$4" -x "$4.minisig" -t "iep-receipt package=$1 receiver=$3" </dev/null >/dev/null
}
ack_body() { python3 -c 'import json,sys; print(json.dumps({"statement": open(sys.argv[1]).read(), "signature": open(sys.argv[2]).read()}))' "$1" "$1.minisig"; }
receipt "$P1" "0000000000000000000000000000000000000000000000000000000000000000" trust-b "$T/bad-receipt"
ack_body "$T/bad-receipt" >"$T/bad-ack.json"
req "$TB" POST "/v1/mailbox/$P1/ack" -H "Content-Type: application/json" --data-binary "@$T/bad-ack.json"
code_is "a receipt naming other bytes" 422
err_is "bad receipt" bad_receipt
python3 -c 'print("[" * 30000 + "]" * 30000)' >"$T/deep.json"
req "$TB" POST "/v1/mailbox/$P1/ack" -H "Content-Type: application/json" --data-binary "@$T/deep.json"
code_is "a deeply nested ack body" 400
head -c 100000 /dev/zero | tr '\0' x >"$T/big.json"
req "$TB" POST "/v1/mailbox/$P1/ack" -H "Content-Type: application/json" --data-binary "@$T/big.json"
code_is "an ack body over 64 KiB" 413
receipt "$P1" "$B2" trust-b "$T/receipt"
assert "minisign checks the receipt with the card" -- minisign -Vqm "$T/receipt" -x "$T/receipt.minisig" -p "$T/sites/trust-b.card"
ack_body "$T/receipt" >"$T/ack.json"
req "$TC" POST "/v1/mailbox/$P1/ack" -H "Content-Type: application/json" --data-binary "@$T/ack.json"
code_is "a bystander cannot ack" 404
req "$TB" POST "/v1/mailbox/$P1/ack" -H "Content-Type: application/json" --data-binary "@$T/ack.json"
code_is "ack" 200
cp "$T/b" "$T/ack1"
req "$TB" POST "/v1/mailbox/$P1/ack" -H "Content-Type: application/json" --data-binary "@$T/ack.json"
code_is "a second ack" 200
assert "a second ack answers the same" -- cmp -s "$T/b" "$T/ack1"
req "$TB" GET /v1/mailbox
assert "an acknowledged package leaves the mailbox" -- grep -q '^{"packages":\[\]}' "$T/b"
req "$TA" GET "/v1/packages/$P1"
assert "timeline: delivered with the receipt" -- bash -c "grep -q '\"state\":\"delivered\"' '$T/b' && grep -q 'iep-receipt package=$P1' '$T/b'"
req "$TA" GET "/v1/sent?limit=5"
assert "sent lists the package" -- grep -q "\"$P1\"" "$T/b"

# ---- commit by POST .../commit; idempotent; conflicts
create "$TA" "$T/p2.iep"
U2=$LOC
patch "$TA" "$U2" 0 "$T/p2.iep"
code_is "upload without signature" 204
assert "no commit without a signature" -- [ -z "$(hdr Iep-Package)" ]
req "$TA" POST "$U2/commit" -H "Content-Type: text/plain" --data-binary "@$T/p1.iep.minisig"
code_is "the signature of other bytes" 422
err_is "the signature of other bytes" bad_signature
req "$TA" POST "$U2/commit" -H "Content-Type: text/plain" --data-binary "@$T/p2.iep.minisig"
code_is "commit" 200
assert "commit answer" -- grep -q "\"package\":\"$(sealed_id "$T/p2.iep")\".*\"recipients\":\\[\"trust-b\"\\]" "$T/b"
create "$TA" "$T/p2.iep"
patch "$TA" "$LOC" 0 "$T/p2.iep"
req "$TA" POST "$LOC/commit" -H "Content-Type: text/plain" --data-binary "@$T/p2.iep.minisig"
code_is "the same package again is idempotent" 200

# ---- refused packages
tamper() { cp "$1" "$2" && "$IEP_SRC/tests/flip-byte.py" "$2" "$3"; }
tamper "$T/p1.iep" "$T/tampered" 30000
create "$TA" "$T/tampered" -H "Upload-Metadata: $(meta_for "$T/p1.iep")"
patch "$TA" "$LOC" 0 "$T/tampered"
code_is "a tampered package" 422
err_is "a tampered package" bad_signature
head -c $((SIZE - 100)) "$T/p1.iep" >"$T/truncated"
create "$TA" "$T/truncated" -H "Upload-Metadata: $(meta_for "$T/p1.iep")"
patch "$TA" "$LOC" 0 "$T/truncated"
code_is "a truncated package" 422
create "$TC" "$T/p1.iep" -H "Upload-Metadata: $(meta_for "$T/p1.iep")"
patch "$TC" "$LOC" 0 "$T/p1.iep"
code_is "signed by another site than the token's" 422
err_is "signed by another site" bad_signature
create "$TA" "$T/pd.iep" -H "Upload-Metadata: $(meta_for "$T/pd.iep")"
patch "$TA" "$LOC" 0 "$T/pd.iep"
code_is "an unknown recipient" 422
err_is "an unknown recipient" unknown_recipient
assert "the message names the recipient" -- grep -q trust-d "$T/b"

# ---- creation-with-upload, deferred length, termination, concatenation
expect 0 "seal p3" -- iep-send -i "$T/keys/a.id" --to trust-b --output "$T/p3.iep" "$T/study"
create "$TA" "$T/p3.iep" -H "Upload-Metadata: $(meta_for "$T/p3.iep")" \
  -H "Content-Type: application/offset+octet-stream" --data-binary "@$T/p3.iep"
code_is "creation-with-upload commits" 201
assert "creation-with-upload Iep-Package" -- [ "$(hdr Iep-Package)" = "$(sealed_id "$T/p3.iep")" ]
tus "$TA" POST /v1/uploads -H "Upload-Defer-Length: 1"
code_is "deferred length" 201
UD=$(hdr Location)
patch "$TA" "$UD" 0 "$T/piece1"
code_is "PATCH with the length unknown" 204
tus "$TA" HEAD "$UD"
assert "deferred HEAD" -- [ "$(hdr Upload-Defer-Length)" = 1 ]
tus "$TA" DELETE "$UD"
code_is "termination" 204
tus "$TA" HEAD "$UD"
code_is "terminated upload" 404
expect 0 "seal p4" -- iep-send -i "$T/keys/a.id" --to trust-b --output "$T/p4.iep" "$T/study"
head -c 25000 "$T/p4.iep" >"$T/part1"
tail -c +25001 "$T/p4.iep" >"$T/part2"
create "$TA" "$T/part1" -H "Upload-Concat: partial"
PA=$LOC
patch "$TA" "$PA" 0 "$T/part1"
create "$TA" "$T/part2" -H "Upload-Concat: partial"
PB=$LOC
patch "$TA" "$PB" 0 "$T/part2"
tus "$TA" POST /v1/uploads -H "Upload-Concat: final;$PA $URL$PB" -H "Upload-Metadata: $(meta_for "$T/p4.iep")"
code_is "final concatenation commits" 201
assert "concatenation Iep-Package" -- [ "$(hdr Iep-Package)" = "$(sealed_id "$T/p4.iep")" ]
req "$TB" GET "/v1/mailbox/$(sealed_id "$T/p4.iep")"
assert "the concatenation is byte-identical" -- cmp -s "$T/b" "$T/p4.iep"

# ---- hostile requests
req "$TA" GET "/v1/uploads/..%2F..%2Fetc%2Fpasswd" -H "Tus-Resumable: 1.0.0"
code_is "a path-like id" 404
tus "$TA" HEAD "/v1/uploads/../../index.sqlite" --path-as-is
assert "dot segments" -- bash -c "[ $CODE = 404 ] || [ $CODE = 400 ]"
req "$TA" GET /v1/mailbox -H "X-Huge: $(head -c 100000 /dev/zero | tr '\0' a)"
assert "huge headers are refused" -- bash -c "[ $CODE -ge 400 ] && [ $CODE -lt 500 ] || [ $CODE = 000 ]"
req "" GET /healthz
code_is "still healthy after huge headers" 200
# A client that sends half a request and stalls is cut off (--timeout 3).
exec 3<>"/dev/tcp/127.0.0.1/$(cat "$T/port")"
printf 'PATCH /v1/uploads/x HTTP/1.1\r\nHost: x\r\n' >&3
if timeout 20 cat <&3 >/dev/null; then ok; else bad "a slow client is timed out"; fi
exec 3>&-

# ---- expiry of an abandoned upload
stop_hub
start_hub --upload-expiry 1 --timeout 3
create "$TA" "$T/p2.iep"
UE=$LOC
patch "$TA" "$UE" 0 "$T/piece1"
sleep 3.5
tus "$TA" HEAD "$UE"
assert "an expired upload answers 410 or 404" -- bash -c "[ $CODE = 410 ] || [ $CODE = 404 ]"

# ---- kill -9 mid-upload: resumable after restart at the durable offset
stop_hub
start_hub
create "$TA" "$T/p2.iep" -H "Upload-Metadata: $(meta_for "$T/p2.iep")"
UK=$LOC
head -c 20000 "$T/p2.iep" >"$T/p2.head"
patch "$TA" "$UK" 0 "$T/p2.head"
kill -9 "$HUB_PID"
wait "$HUB_PID" 2>/dev/null
HUB_PID=
start_hub
assert "the durable offset survives kill -9" -- [ "$(offset_of "$TA" "$UK")" = 20000 ]
tail -c +20001 "$T/p2.iep" >"$T/rest"
patch "$TA" "$UK" 20000 "$T/rest"
code_is "resumed after kill -9" 204
req "$TB" GET "/v1/mailbox/$P1"
assert "a committed package survives kill -9" -- cmp -s "$T/b" "$T/p1.iep"
req "$TB" GET "/v1/mailbox/$(sealed_id "$T/p2.iep")"
assert "the package resumed after kill -9 is whole" -- cmp -s "$T/b" "$T/p2.iep"

# ---- kill -9 in the middle of a PATCH body: the upload resumes from
# whatever offset the restarted hub reports, and commits whole.
expect 0 "seal p7" -- iep-send -i "$T/keys/a.id" --to trust-b --output "$T/p7.iep" "$T/study"
create "$TA" "$T/p7.iep" -H "Upload-Metadata: $(meta_for "$T/p7.iep")"
UM=$LOC
curl -s -o /dev/null --limit-rate 40k -X PATCH -H "Authorization: Bearer $TA" -H "Tus-Resumable: 1.0.0" \
  -H "Upload-Offset: 0" -H "Content-Type: application/offset+octet-stream" \
  --data-binary "@$T/p7.iep" "$URL$UM" &
SLOW=$!
sleep 1.5
kill -9 "$HUB_PID"
wait "$HUB_PID" 2>/dev/null
HUB_PID=
wait $SLOW
start_hub
OFF=$(offset_of "$TA" "$UM")
assert "an offset within the package after kill -9 mid-PATCH" -- bash -c "[ -n '$OFF' ] && [ '$OFF' -lt $(stat -c %s "$T/p7.iep") ]"
assert "the bytes kept are exactly the offset" -- [ "$(hub_upload_bytes "$T/data" "${UM##*/}")" = "$OFF" ]
tail -c +$((OFF + 1)) "$T/p7.iep" >"$T/p7.rest"
patch "$TA" "$UM" "$OFF" "$T/p7.rest"
code_is "resumed from the reported offset, committed" 204
req "$TB" GET "/v1/mailbox/$(sealed_id "$T/p7.iep")"
assert "the package cut by kill -9 is whole" -- cmp -s "$T/b" "$T/p7.iep"

# ---- administration over HTTP with an admin token
iep-keygen --site trust-e -o "$T/keys/e.id" -c "$T/trust-e.card" >/dev/null
req "$TA" POST /v1/admin/sites --data-binary "@$T/trust-e.card"
code_is "a site token cannot add sites" 403
req "$ADMIN" GET /v1/mailbox
code_is "an admin token has no mailbox" 403
req "$ADMIN" POST /v1/admin/sites --data-binary "@$T/trust-e.card"
code_is "admin adds a site" 201
req "$ADMIN" POST /v1/admin/sites --data-binary "@$T/trust-e.card"
code_is "the same site twice" 409
req "$ADMIN" POST /v1/admin/sites/trust-e/tokens
code_is "admin issues a token" 201
TE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$T/b")
TEID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/b")
req "$TE" GET /v1/mailbox
code_is "the new token works" 200
req "$ADMIN" DELETE "/v1/admin/tokens/$TEID"
code_is "admin revokes it" 204
req "$TE" GET /v1/mailbox
code_is "a revoked token" 401
req "$ADMIN" DELETE /v1/admin/sites/trust-e
code_is "admin removes the site" 204
req "$TB" GET /v1/sites/trust-e/card
code_is "a removed site's card" 404
req "$ADMIN" DELETE /v1/admin/sites/trust-e
code_is "removing it again" 404

# ---- retention: quota, expiry of unfetched packages, deletion after acks
stop_hub
expect 0 "register trust-d" -- iep-serve site add --data "$T/data" "$T/trust-d.card"
TD=$(iep-serve token issue --data "$T/data" trust-d 2>/dev/null)
start_hub --site-quota $((SIZE + 1000))
expect 0 "seal p5" -- iep-send -i "$T/keys/a.id" --to trust-b --output "$T/p5.iep" "$T/study"
create "$TD" "$T/p5.iep"
code_is "within the quota" 201
create "$TD" "$T/p5.iep"
code_is "over the site's quota" 413
err_is "over the site's quota" quota
assert "the quota message is clear" -- grep -q "quota of $((SIZE + 1000)) bytes" "$T/b"
stop_hub
start_hub --expire-after 2 --ack-grace 0
create "$TA" "$T/p5.iep" -H "Upload-Metadata: $(meta_for "$T/p5.iep")" \
  -H "Content-Type: application/offset+octet-stream" --data-binary "@$T/p5.iep"
code_is "p5 committed" 201
P5=$(sealed_id "$T/p5.iep")
sleep 4
req "$TA" GET "/v1/packages/$P5"
assert "an unfetched package expires; the sender's timeline says so" -- grep -q '"state":"expired"' "$T/b"
req "$TB" GET "/v1/mailbox/$P5"
code_is "an expired package" 410
req "$TB" GET /v1/mailbox
assert "an expired package leaves the mailbox" -- bash -c "! grep -q '$P5' '$T/b'"
req "$TA" GET "/v1/packages/$P1"
assert "an acknowledged package is deleted after the grace" -- grep -q '"state":"deleted"' "$T/b"
assert "its bytes are gone" -- eval '! hub_has_package "$T/data" "$P1"'

# ---- audit and logs
req "$ADMIN" GET /v1/admin/audit
code_is "admin audit" 200
assert "the audit log has commits and acks" -- bash -c "grep -q '\"action\":\"commit\"' '$T/b' && grep -q '\"action\":\"ack\"' '$T/b'"
expect 0 "audit export" -- iep-serve audit export --data "$T/data"
assert "no token in the log or the audit" -- bash -c "! grep -qF '$TA' '$T/serve.log' '$T/.out'"
req "" GET /metrics
assert "metrics count requests" -- grep -q '^iep_http_requests_total{method="GET",status="200"} [1-9]' "$T/b"
assert "metrics count packages by state" -- grep -q '^iep_packages{state="expired"} 1' "$T/b"
expect 0 "audit export as DICOM audit messages" -- iep-serve audit export --data "$T/data" --dicom
assert "DICOM audit messages" -- grep -q "AuditMessage" "$T/.out"
stop_hub
assert "SIGTERM stops the hub cleanly" -- grep -q 'SIGTERM: stopping' "$T/serve.log"
assert "and it exits 0" -- [ "$HUB_STATUS" = 0 ]
# The checkpoint written at shutdown checks with minisign and the hub's card.
start_hub
req "$TA" GET /v1/hub/card
cp "$T/b" "$T/hub.pub"
req "$TA" GET /v1/audit/checkpoints
python3 -c '
import json, sys
cps = json.load(open(sys.argv[1]))
open(sys.argv[2], "w").write(cps[-1]["statement"])
open(sys.argv[2] + ".minisig", "w").write(cps[-1]["signature"])
' "$T/b" "$T/cp.txt"
assert "the last checkpoint verifies with minisign and the hub's card" -- \
  minisign -Vqm "$T/cp.txt" -x "$T/cp.txt.minisig" -p "$T/hub.pub"
assert "hub.key is private" -- [ "$(stat -c %a "$T/data/hub.key")" = 600 ]
stop_hub

stop_hub
no_sanitizer_reports
finish
