# The hub speaks tus 1.0.0 to real tus clients: tus-js-client (plain,
# chunked, parallelUploads with concatenation, uploadDataDuringCreation,
# uploadLengthDeferred from a stream) and tuspy (chunked, sha1 checksums,
# resumed) upload real sealed packages into iep-serve, each committed by its
# `signature` metadata, and the recipient downloads each back byte-identical
# with curl. And iep-send's uploader speaks to @tus/server.
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/interop/hub-lib.sh"
install_peers
make_sites
A=$T/keys/a.id B=$T/keys/b.id
make_study study 20
hub_init "$T/hub"
hub_start

AUTH_A=(--token-file "$T/tokens/a")
CHUNK=300000

# The peers themselves, against the reference server first: a failure below
# is then the hub's, not the scripts'.
tus_server "$T/ref-store"
head -c 1000001 /dev/urandom >ref.bin
for opts in "" "--chunk-size $CHUNK" "--during-creation" "--deferred --chunk-size $CHUNK"; do
  # shellcheck disable=SC2086
  expect 0 "tus-js-client $opts -> @tus/server" -- "${TUS_UPLOAD[@]}" "$TUS_URL" ref.bin $opts
  assert "  stored byte-identical" -- cmp -s ref.bin "$T/ref-store/$(basename "$(head -1 "$T/.out")")"
done
expect 0 "tuspy -> @tus/server" -- "${TUSPY_UPLOAD[@]}" "$TUS_URL" ref.bin --chunk-size "$CHUNK"
assert "  stored byte-identical" -- cmp -s ref.bin "$T/ref-store/$(basename "$(head -1 "$T/.out")")"
expect 1 "tus-js-client reports a server without concatenation" -- "${TUS_UPLOAD[@]}" "$TUS_URL" ref.bin --parallel 2 --retry-delays ""
kill "$TUS_PID" && wait "$TUS_PID" 2>/dev/null

# The hub's tus discovery and refusals, as a tus client sees them.
expect 0 "OPTIONS /v1/uploads without a token" -- curl -sS -f -X OPTIONS -D options.h -o /dev/null "$HUB/v1/uploads"
tr -d '\r' <options.h | tr 'A-Z' 'a-z' >options.lc
assert "  204" -- grep -q '^http/1.1 204' options.lc
assert "  Tus-Version 1.0.0" -- grep -qx 'tus-version: 1.0.0' options.lc
for ext in creation creation-with-upload creation-defer-length expiration termination checksum concatenation; do
  assert "  Tus-Extension has $ext" -- grep -q "^tus-extension: .*\b$ext\b" options.lc
done
assert "  Tus-Checksum-Algorithm crc32c,sha1,sha256" -- grep -qx 'tus-checksum-algorithm: crc32c,sha1,sha256' options.lc
assert "  Tus-Max-Size" -- grep -qE '^tus-max-size: [0-9]+$' options.lc
assert "  X-Request-Id of 16 hex digits" -- grep -qE '^x-request-id: [0-9a-f]{16}$' options.lc
code=$(hcurl a -o /dev/null -w '%{http_code}' -X POST -H 'Upload-Length: 10' "$HUB/v1/uploads")
assert "creation without Tus-Resumable: 412 (got $code)" -- test "$code" = 412
code=$(curl -sS -o /dev/null -D noauth.h -w '%{http_code}' -X POST -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: 10' "$HUB/v1/uploads")
assert "creation without a token: 401 (got $code)" -- test "$code" = 401
assert "  WWW-Authenticate: Bearer realm=\"iep\"" -- grep -qi '^www-authenticate: Bearer realm="iep"' <(tr -d '\r' <noauth.h)

# seal N: a new sealed package pN.iep from trust-a to trust-b.
seal() {
  iep-send -i "$A" --to trust-b --output "p$1.iep" study >/dev/null 2>&1 ||
    { bad "seal p$1"; return 1; }
}

# delivered N HOW: package pN is committed, in trust-b's mailbox, and comes
# back byte-identical over curl; the signature checks with minisign.
delivered() {
  local n=$1 how=$2 id size b2
  id=$(package_id "p$n.iep")
  size=$(stat -c %s "p$n.iep")
  b2=$(b2sum "p$n.iep" | cut -d' ' -f1)
  if ! hcurl a -f "$HUB/v1/packages/$id" -o "p$n.timeline"; then
    bad "$how: no timeline for $id"
    return
  fi
  assert "$how: timeline says committed, size and blake2b of the sealed bytes" -- \
    test "$(json_get "p$n.timeline" 'j["state"], j["size"], j["blake2b"], j["sender"], [r["site"] for r in j["recipients"]]')" \
    = "('committed', $size, '$b2', 'trust-a', ['trust-b'])"
  assert "$how: in trust-b's mailbox" -- grep -qx "$id" <(mailbox_ids b)
  expect 0 "$how: trust-b downloads it" -- hcurl b -f "$HUB/v1/mailbox/$id" -o "got$n.iep"
  assert "$how: byte-identical" -- cmp -s "p$n.iep" "got$n.iep"
  expect 0 "$how: the signature from the mailbox" -- hcurl b -f "$HUB/v1/mailbox/$id/signature" -o "got$n.iep.minisig"
  expect 0 "$how: minisign -V checks it with trust-a's card" -- minisign -Vm "got$n.iep" -x "got$n.iep.minisig" -p sites/trust-a.card
  expect 0 "$how: iep-verify at trust-b" -- iep-verify -i "$B" --no-dicom "got$n.iep"
  expect 0 "$how: a ranged download continues the file" -- hcurl b -f -r 1000- "$HUB/v1/mailbox/$id" -o "tail$n"
  assert "$how: the range is the tail" -- cmp -s <(tail -c +1001 "p$n.iep") "tail$n"
  # The upload became a package: its tus id is gone.
  local url
  url=$(head -1 "up$n.out")
  assert "$how: upload URL on the hub ($url)" -- test "${url#"$HUB"/v1/uploads/}" != "$url"
  assert "$how: the committed upload id answers 404" -- test "$(hcurl a -o /dev/null -w '%{http_code}' -I -H 'Tus-Resumable: 1.0.0' "$url")" = 404
  assert "$how: Iep-Package header names the package" -- grep -qx "iep-package: $id" "up$n.out"
  rm -f "got$n.iep" "tail$n"
}

# tus-js-client, five ways. Each package is committed by its metadata.
n=0
for mode in "plain" "chunked:--chunk-size $CHUNK" "parallel:--parallel 3 --chunk-size $CHUNK" \
  "during-creation:--during-creation" "during-creation-chunked:--during-creation --chunk-size $CHUNK" \
  "deferred:--deferred --chunk-size $CHUNK"; do
  n=$((n + 1))
  name=${mode%%:*}
  opts=${mode#*:}
  [ "$opts" = "$mode" ] && opts=
  seal "$n" || continue
  if [ "$name" = deferred ]; then
    # tus-js-client 4.3.1 hangs on a stream ending on a chunk boundary.
    assert "deferred: the package does not end on a chunk boundary" -- test $(($(stat -c %s "p$n.iep") % CHUNK)) -ne 0
    # shellcheck disable=SC2086
    expect 0 "tus-js-client $name" -- sh -c "cat p$n.iep | node '$INTEROP/tus-upload.mjs' '$HUB/v1/uploads' - --token-file '$T/tokens/a' \
      --metadata-file signature=p$n.iep.minisig --metadata package=$(package_id "p$n.iep") --print-header Iep-Package $opts"
  else
    # shellcheck disable=SC2086
    expect 0 "tus-js-client $name" -- "${TUS_UPLOAD[@]}" "$HUB/v1/uploads" "p$n.iep" "${AUTH_A[@]}" \
      --metadata-file "signature=p$n.iep.minisig" --metadata "package=$(package_id "p$n.iep")" \
      --metadata filename=p$n.iep --print-header Iep-Package $opts
  fi
  cp "$T/.out" "up$n.out"
  delivered "$n" "tus-js-client $name"
done

# tuspy: chunked with sha1 checksums on every PATCH.
n=$((n + 1))
seal "$n"
expect 0 "tuspy chunked, checksums" -- "${TUSPY_UPLOAD[@]}" "$HUB/v1/uploads" "p$n.iep" "${AUTH_A[@]}" \
  --metadata-file "signature=p$n.iep.minisig" --chunk-size "$CHUNK" --checksum --print-header Iep-Package
cp "$T/.out" "up$n.out"
delivered "$n" "tuspy chunked"

# tuspy stops halfway; a second tuspy resumes from the URL (HEAD, PATCH).
n=$((n + 1))
seal "$n"
expect 0 "tuspy first half" -- "${TUSPY_UPLOAD[@]}" "$HUB/v1/uploads" "p$n.iep" "${AUTH_A[@]}" \
  --metadata-file "signature=p$n.iep.minisig" --chunk-size "$CHUNK" --stop-at $((2 * CHUNK))
url=$(head -1 "$T/.out")
expect 0 "HEAD of the half upload" -- hcurl a -f -I -H 'Tus-Resumable: 1.0.0' "$url" -o head.txt
assert "offset is two chunks" -- grep -qix "upload-offset: $((2 * CHUNK))" <(tr -d '\r' <head.txt)
assert "not committed yet" -- test -z "$(mailbox_ids b | grep -x "$(package_id "p$n.iep")")"
expect 0 "tuspy resumes" -- "${TUSPY_UPLOAD[@]}" "$HUB/v1/uploads" "p$n.iep" "${AUTH_A[@]}" \
  --chunk-size "$CHUNK" --checksum --resume-from-url "$url" --print-header Iep-Package
cp "$T/.out" "up$n.out"
delivered "$n" "tuspy resumed"

# tus-js-client stops mid-PATCH; another run resumes from the URL.
n=$((n + 1))
seal "$n"
expect 3 "tus-js-client stops in its third chunk" -- "${TUS_UPLOAD[@]}" "$HUB/v1/uploads" "p$n.iep" "${AUTH_A[@]}" \
  --metadata-file "signature=p$n.iep.minisig" --chunk-size "$CHUNK" --stop-after $((2 * CHUNK + 1000))
url=$(head -1 "$T/.out")
assert "not committed yet" -- test -z "$(mailbox_ids b | grep -x "$(package_id "p$n.iep")")"
expect 0 "tus-js-client resumes" -- "${TUS_UPLOAD[@]}" "$HUB/v1/uploads" "p$n.iep" "${AUTH_A[@]}" \
  --resume-from-url "$url" --print-header Iep-Package
cp "$T/.out" "up$n.out"
delivered "$n" "tus-js-client resumed"

# Without a signature the upload only completes; POST .../commit commits it.
n=$((n + 1))
seal "$n"
expect 0 "tus-js-client without signature" -- "${TUS_UPLOAD[@]}" "$HUB/v1/uploads" "p$n.iep" "${AUTH_A[@]}" --chunk-size "$CHUNK"
url=$(head -1 "$T/.out")
id=$(package_id "p$n.iep")
assert "uncommitted: not in the mailbox" -- test -z "$(mailbox_ids b | grep -x "$id")"
expect 0 "POST commit with the .minisig" -- hcurl a -f -X POST -H 'Content-Type: text/plain' --data-binary "@p$n.iep.minisig" "$url/commit" -o commit.json
assert "commit answers the package, its recipients, size and blake2b" -- \
  test "$(json_get commit.json 'j["package"], j["sender"], j["recipients"], j["size"], j["blake2b"]')" \
  = "('$id', 'trust-a', ['trust-b'], $(stat -c %s "p$n.iep"), '$(b2sum "p$n.iep" | cut -d' ' -f1)')"
printf '%s\niep-package: %s\n' "$url" "$id" >"up$n.out"
delivered "$n" "commit by POST"

# --- bad cases: nothing is committed, the clients report the refusal.
n=$((n + 1))
seal "$n"
other=$((n - 1))
expect 1 "a signature of another package is refused" -- "${TUS_UPLOAD[@]}" "$HUB/v1/uploads" "p$n.iep" "${AUTH_A[@]}" \
  --metadata-file "signature=p$other.iep.minisig" --retry-delays ""
assert "  as 422 bad_signature" -- grep -q "422" "$T/.err"
assert "  not delivered" -- test -z "$(mailbox_ids b | grep -x "$(package_id "p$n.iep")")"
expect 1 "trust-c uploading trust-a's package is refused" -- "${TUS_UPLOAD[@]}" "$HUB/v1/uploads" "p$n.iep" \
  --token-file "$T/tokens/c" --metadata-file "signature=p$n.iep.minisig" --retry-delays ""
assert "  as 422" -- grep -q "422" "$T/.err"
expect 1 "no token: 401" -- "${TUS_UPLOAD[@]}" "$HUB/v1/uploads" "p$n.iep" --retry-delays ""
assert "  401" -- grep -q "401" "$T/.err"
expect 1 "a revoked or made-up token: 401" -- "${TUSPY_UPLOAD[@]}" "$HUB/v1/uploads" "p$n.iep" \
  --header "Authorization: Bearer iep1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
assert "  401" -- grep -q "401" "$T/.err"
id1=$(package_id p1.iep)
assert "trust-c cannot download trust-b's package: 404" -- \
  test "$(hcurl c -o /dev/null -w '%{http_code}' "$HUB/v1/mailbox/$id1")" = 404
assert "nor read its timeline: 404" -- \
  test "$(hcurl c -o /dev/null -w '%{http_code}' "$HUB/v1/packages/$id1")" = 404

# A PATCH whose Upload-Checksum does not match: 460, offset unchanged.
hcurl a -D created.h -o /dev/null -X POST -H 'Tus-Resumable: 1.0.0' -H 'Upload-Length: 10' "$HUB/v1/uploads"
loc=$(tr -d '\r' <created.h | sed -n 's/^[Ll]ocation: //p')
assert "creation gives a Location under /v1/uploads/" -- test "${loc#/v1/uploads/}" != "$loc"
code=$(printf 'hello' | hcurl a -o /dev/null -w '%{http_code}' -X PATCH -H 'Tus-Resumable: 1.0.0' \
  -H 'Content-Type: application/offset+octet-stream' -H 'Upload-Offset: 0' \
  -H "Upload-Checksum: sha1 $(printf 'HELLO' | openssl dgst -sha1 -binary | base64)" --data-binary @- "$HUB$loc")
assert "checksum mismatch: 460 (got $code)" -- test "$code" = 460
assert "  offset still 0" -- grep -qix 'upload-offset: 0' <(hcurl a -I -H 'Tus-Resumable: 1.0.0' "$HUB$loc" | tr -d '\r')
code=$(printf 'hello' | hcurl a -o /dev/null -w '%{http_code}' -X PATCH -H 'Tus-Resumable: 1.0.0' \
  -H 'Content-Type: application/offset+octet-stream' -H 'Upload-Offset: 0' \
  -H "Upload-Checksum: sha1 $(printf 'hello' | openssl dgst -sha1 -binary | base64)" --data-binary @- "$HUB$loc")
assert "matching checksum: 204 (got $code)" -- test "$code" = 204
assert "  offset 5" -- grep -qix 'upload-offset: 5' <(hcurl a -I -H 'Tus-Resumable: 1.0.0' "$HUB$loc" | tr -d '\r')

# --- iep-send's uploader against the reference server: @tus/server serving
# /v1/uploads. It stores the upload (deferred length, chunks with
# Upload-Checksum it does not check); the commit that follows is not a tus
# request and @tus/server has no such route, so iep-send reports the refusal
# and keeps the sealed package in its state folder: those are the bytes
# @tus/server holds.
tus_server "$T/tus-store" --token "$(token a)" --path /v1/uploads
expect_in "15 14" "iep-send uploads to @tus/server, then cannot commit there" -- \
  iep-send -i "$A" --to "$T/sites/trust-b.card" --hub "${TUS_URL%/v1/uploads}" --token-file "$T/tokens/a" \
  --state "$T/state-tus" --chunk-size 1 --retry-time 5 study
stored=$(find "$T/tus-store" -type f ! -name '*.json')
sealed=$(find "$T/state-tus" -type f -name sealed)
assert "one upload stored by @tus/server" -- test "$(echo "$stored" | wc -l)" -eq 1 -a -n "$stored"
assert "the sealed bytes of iep-send's state folder" -- cmp -s "$stored" "$sealed"
assert "  larger than one chunk (so several PATCHes)" -- test "$(stat -c %s "$sealed")" -gt 1048576
expect 0 "  signed by trust-a" -- minisign -Vm "$sealed" -x "$sealed.minisig" -p sites/trust-a.card

hub_stop
finish
