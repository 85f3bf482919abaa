#!/usr/bin/env bash
# iep-serve over HTTPS with a throwaway CA: curl --cacert reaches it, TLS
# below 1.2 is refused, and plain HTTP on a non-loopback address is refused
# unless --insecure.
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/e2e/serve_lib.bash"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=iep test CA" \
  -keyout "$T/ca.key" -out "$T/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$T/hub.key" -out "$T/hub.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/ext"
openssl x509 -req -in "$T/hub.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
  -extfile "$T/ext" -out "$T/hub.crt" 2>/dev/null
assert "a throwaway CA and a hub certificate" -- test -s "$T/hub.crt"

make_sites
iep-serve site add --data "$T/data" "$T/sites/trust-a.card" 2>/dev/null
TA=$(iep-serve token issue --data "$T/data" trust-a 2>/dev/null)

start_hub --tls-cert "$T/hub.crt" --tls-key "$T/hub.key"
URL="https://127.0.0.1:$(cat "$T/port")"
assert "it says https" -- grep -q "listening on https://127.0.0.1:" "$T/serve.log"
req "" GET /healthz --cacert "$T/ca.crt"
code_is "healthz over TLS" 200
tus "$TA" POST /v1/uploads -H "Upload-Length: 5" --cacert "$T/ca.crt"
code_is "an upload over TLS" 201
CODE=$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz" 2>/dev/null)
assert "an unknown CA is refused by curl" -- [ "$CODE" = 000 ]
CODE=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/ca.crt" --tlsv1.0 --tls-max 1.1 "$URL/healthz" 2>/dev/null)
assert "TLS 1.1 is refused" -- [ "$CODE" = 000 ]
CODE=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/ca.crt" --tlsv1.2 --tls-max 1.2 "$URL/healthz")
assert "TLS 1.2 works" -- [ "$CODE" = 200 ]
CODE=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(cat "$T/port")/healthz")
assert "plain HTTP to the TLS port fails" -- [ "$CODE" != 200 ]
stop_hub

expect 2 "plain HTTP on a non-loopback address is refused" -- \
  iep-serve --data "$T/data" --listen 0.0.0.0:0
stderr_names "it says why" "--insecure"
expect 2 "a certificate without its key" -- iep-serve --data "$T/data" --tls-cert "$T/hub.crt"
expect 14 "a key that does not match" -- \
  iep-serve --data "$T/data" --tls-cert "$T/hub.crt" --tls-key "$T/ca.key"
expect 2 "a malformed --listen" -- iep-serve --data "$T/data" --listen localhost
stop_hub
no_sanitizer_reports
finish
