#!/usr/bin/env bash
# iep-serve under attack, with curl and python against a real hub: hostile
# sites with valid tokens and anonymous clients trying to exhaust it (long
# polls, connections, open uploads, oversized bodies and headers, many
# ranges and metadata keys) or to read its logs for tokens.
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/e2e/serve_lib.bash"

make_sites
for s in a b c; do iep-serve site add --data "$T/data" "$T/sites/trust-$s.card" 2>/dev/null; done
TA=$(iep-serve token issue --data "$T/data" trust-a 2>/dev/null)
TB=$(iep-serve token issue --data "$T/data" trust-b 2>/dev/null)
TC=$(iep-serve token issue --data "$T/data" trust-c 2>/dev/null)
ADMIN=$(iep-serve admin-token --data "$T/data" 2>/dev/null)
mkdir -p "$T/study"
make_study "$T/study" 2
expect 0 "seal a package for trust-b" -- iep-send -i "$T/keys/a.id" --to trust-b --output "$T/p1.iep" "$T/study"
P1=$(sealed_id "$T/p1.iep")

start_hub --max-open-uploads 5 --per-ip-connections 12 --timeout 5

req "$ADMIN" POST /v1/admin/sites/trust-c/tokens
code_is "a token issued over HTTP" 201
TR=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$T/b")
TRID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/b")
req "$TR" GET /v1/mailbox
code_is "it works" 200
req "$ADMIN" DELETE "/v1/admin/tokens/$TRID"
code_is "revoked" 204
req "$TR" GET /v1/mailbox
code_is "a revoked token, at once" 401
req "$TR" GET /v1/admin/audit
code_is "a revoked token on an admin route" 401

# ---- a client without a valid token is answered 401 without its body
# being read (the connection closes after the answer)
head -c 30000000 /dev/zero >"$T/big"
for tok in "" iep1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; do
  AUTH=()
  [ -n "$tok" ] && AUTH=(-H "Authorization: Bearer $tok")
  OUT=$(curl -s -o "$T/b" -w '%{http_code} %{size_upload}' -H "Expect:" "${AUTH[@]}" -X PATCH \
    -H "Tus-Resumable: 1.0.0" -H "Upload-Offset: 0" -H "Content-Type: application/offset+octet-stream" \
    --data-binary "@$T/big" "$URL/v1/uploads/00000000000000000000000000000000")
  CODE=${OUT% *}
  code_is "30 MB to a PATCH without a valid token" 401
  assert "not read whole (${OUT#* } bytes sent)" -- [ "${OUT#* }" -lt 30000000 ]
done
rm -f "$T/big"
req "" GET /healthz
code_is "alive" 200

# ---- /v1 itself, with a token (once read past the path's segments)
req "$TA" GET /v1
code_is "/v1 alone" 404
req "$TA" GET /v1/
code_is "/v1/ alone" 404

# ---- many tiny uploads: a site holds at most --max-open-uploads
OPEN=()
for i in 1 2 3 4 5; do
  tus "$TA" POST /v1/uploads -H "Upload-Length: 1"
  OPEN+=("$(hdr Location)")
done
code_is "the fifth unfinished upload" 201
tus "$TA" POST /v1/uploads -H "Upload-Defer-Length: 1"
code_is "the sixth unfinished upload" 429
err_is "the sixth unfinished upload" busy
assert "the message says what to do" -- grep -q "unfinished uploads" "$T/b"
tus "$TB" POST /v1/uploads -H "Upload-Length: 1"
code_is "another site is not affected" 201

# ---- bodies past their bounds
create "$TB" "$T/p1.iep"
UB=$LOC
head -c 1000 /dev/urandom >"$T/k1"
cat "$T/p1.iep" "$T/k1" >"$T/p1.long"
patch "$TB" "$UB" 0 "$T/p1.long"
code_is "a body past Upload-Length" 400
assert "nothing of it kept" -- [ "$(offset_of "$TB" "$UB")" = 0 ]
assert "nothing on disk" -- [ "$(hub_upload_bytes "$T/data" "${UB##*/}")" = 0 ]
patch "$TB" "$UB" 0 "$T/p1.iep"
code_is "the right body" 204
head -c 9000 /dev/zero | tr '\0' a >"$T/big-sig"
req "$TB" POST "$UB/commit" -H "Content-Type: text/plain" --data-binary "@$T/big-sig"
code_is "a commit body over 8 KiB" 413

# ---- headers: thousands of metadata keys, many ranges
META=$(python3 -c 'print(",".join("k%d YQ==" % i for i in range(3000)))')
tus "$TA" POST /v1/uploads -H "Upload-Length: 10" -H "Upload-Metadata: $META"
assert "3000 metadata keys refused" -- bash -c "[ $CODE = 400 ] || [ $CODE = 431 ] || [ $CODE = 413 ]"
req "$TC" GET /healthz
code_is "alive" 200
# A commit for trust-b, then a Range header of 2000 ranges.
create "$TA" "$T/p1.iep" -H "Upload-Metadata: $(meta_for "$T/p1.iep")"
assert "a sixth upload after one of the five is terminated" -- [ "$CODE" = 429 ]
tus "$TA" DELETE "${OPEN[0]}"
code_is "termination" 204
create "$TA" "$T/p1.iep" -H "Upload-Metadata: $(meta_for "$T/p1.iep")"
code_is "room for one more" 201
patch "$TA" "$LOC" 0 "$T/p1.iep"
code_is "committed" 204
RANGES=$(python3 -c 'print("bytes=" + ",".join("%d-%d" % (i, i) for i in range(0, 4000, 2)))')
req "$TB" GET "/v1/mailbox/$P1" -H "Range: $RANGES"
code_is "2000 ranges: the whole body" 200
assert "and it is the package" -- cmp -s "$T/b" "$T/p1.iep"
head -c 70000 /dev/zero | tr '\0' ' ' >"$T/big-ack"
req "$TB" POST "/v1/mailbox/$P1/ack" -H "Content-Type: application/json" --data-binary "@$T/big-ack"
code_is "an ack body over 64 KiB" 413
python3 -c 'print("[" * 60000)' >"$T/deep-ack"
req "$TB" POST "/v1/mailbox/$P1/ack" -H "Content-Type: application/json" --data-binary "@$T/deep-ack"
code_is "an ack body nested 60000 deep" 400
req "$TB" GET /v1/mailbox
assert "the package is still in the mailbox" -- grep -q "$P1" "$T/b"

# ---- long polls: one site holds at most 4 at once; more answer at once
# (else a site could hold every connection, and every thread, waiting).
WAITERS=()
for i in 1 2 3 4; do
  curl -s -o /dev/null -H "Authorization: Bearer $TC" "$URL/v1/mailbox?wait=30" &
  WAITERS+=($!)
done
for i in $(seq 1 100); do
  req "" GET /metrics
  grep -q '^iep_long_polls 4$' "$T/b" && break
  sleep 0.1
done
assert "the four are held" -- grep -q '^iep_long_polls 4$' "$T/b"
CODE=$(curl -s -o "$T/b" -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $TC" "$URL/v1/mailbox?wait=30")
code_is "a fifth long poll of one site is answered at once" 200
assert "with an empty mailbox" -- grep -q '^{"packages":\[\]}' "$T/b"
CODE=$(curl -s -o "$T/b" -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $TA" "$URL/v1/mailbox?wait=1")
code_is "another site still waits its second" 200
kill "${WAITERS[@]}" 2>/dev/null
wait "${WAITERS[@]}" 2>/dev/null

# ---- connections from one address are bounded (--per-ip-connections 12)
python3 - "$(cat "$T/port")" <<'EOF' && ok || bad "an address holds at most --per-ip-connections connections"
import socket, sys, time
port = int(sys.argv[1])
held = []
for i in range(12):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /v1/mailbox HTTP/1.1\r\nHost: x\r\n")  # half a request
    held.append(s)
time.sleep(0.5)
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(10)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
try:
    got = s.recv(100)
except (ConnectionResetError, socket.timeout):
    got = b""
for h in held:
    h.close()
sys.exit(0 if not got.startswith(b"HTTP/1.1 200") else 1)
EOF
sleep 0.5
req "" GET /healthz
code_is "served again once they close" 200

# ---- tokens never in the log
stop_hub
for t in "$TA" "$TB" "$TC" "$TR"; do
  assert "no token in the hub's log" -- bash -c "! grep -qF '${t:5}' '$T/serve.log'"
done
assert "no Bearer in the hub's log" -- bash -c "! grep -qi 'bearer' '$T/serve.log'"
expect 0 "audit export" -- iep-serve audit export --data "$T/data"
assert "no token in the audit" -- bash -c "! grep -qF '${TA:5}' '$T/.out' && ! grep -qi bearer '$T/.out'"
no_sanitizer_reports
finish
