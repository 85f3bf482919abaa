# Helpers for the iep-serve end-to-end scripts (serve*.sh; not itself a test: not *.sh): start and stop
# a hub on a free loopback port, speak tus and the hub API with curl.
# Sourced after lib.sh.
HUB_PID=
stop_hub() {
  if [ -n "$HUB_PID" ]; then
    kill "$HUB_PID" 2>/dev/null
    wait "$HUB_PID" 2>/dev/null
    HUB_STATUS=$?
    HUB_PID=
  fi
}
trap 'stop_hub; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

# start_hub [FLAGS...]: iep-serve on a free port of loopback; sets $URL.
start_hub() {
  rm -f "$T/port"
  iep-serve --data "$T/data" --listen 127.0.0.1:0 --port-file "$T/port" --sweep-every 1 "$@" \
    2>>"$T/serve.log" &
  HUB_PID=$!
  local i
  for i in $(seq 1 100); do
    [ -s "$T/port" ] && break
    sleep 0.1
  done
  [ -s "$T/port" ] || { echo "iep-serve did not start" >&2; cat "$T/serve.log" >&2; exit 1; }
  URL="http://127.0.0.1:$(cat "$T/port")"
}

# req TOKEN METHOD PATH [CURL ARGS...]: status in $CODE, headers in $T/h, body in $T/b.
req() {
  local tok=$1 method=$2 path=$3
  shift 3
  local auth=()
  [ -n "$tok" ] && auth=(-H "Authorization: Bearer $tok")
  if [ "$method" = HEAD ]; then
    CODE=$(curl -s -I -o /dev/null -D "$T/h" -w '%{http_code}' "${auth[@]}" "$@" "$URL$path")
    : >"$T/b"
  else
    CODE=$(curl -s -X "$method" -o "$T/b" -D "$T/h" -w '%{http_code}' "${auth[@]}" "$@" "$URL$path")
  fi
}
tus() { req "$@" -H "Tus-Resumable: 1.0.0"; }
hdr() { grep -i "^$1:" "$T/h" | head -1 | cut -d: -f2- | tr -d ' \r'; }
code_is() {
  if [ "$CODE" = "$2" ]; then ok; else
    bad "$1: expected HTTP $2, got $CODE"
    head -c 300 "$T/b" | sed 's/^/  body: /' >&2
  fi
}
err_is() { # the JSON error code
  if grep -q "\"error\":\"$2\"" "$T/b"; then ok; else bad "$1: expected error $2, got $(head -c 200 "$T/b")"; fi
}
b64() { base64 -w0 <"$1"; }
meta_for() { # Upload-Metadata for a sealed file: its signature and package id
  local pkg
  pkg=$(sed -n 's/^trusted comment: .*package=\([0-9a-f]*\).*/\1/p' "$1.minisig")
  printf 'filename %s,package %s,signature %s' "$(printf x | base64)" "$(printf %s "$pkg" | base64 -w0)" "$(b64 "$1.minisig")"
}
# create TOKEN FILE [EXTRA CURL ARGS]: a new upload for FILE; path in $LOC.
create() {
  local tok=$1 f=$2
  shift 2
  tus "$tok" POST /v1/uploads -H "Upload-Length: $(stat -c %s "$f")" "$@"
  LOC=$(hdr Location)
}
# patch TOKEN PATH OFFSET FILE-PIECE [EXTRA]
patch() {
  local tok=$1 path=$2 off=$3 piece=$4
  shift 4
  tus "$tok" PATCH "$path" -H "Upload-Offset: $off" -H "Content-Type: application/offset+octet-stream" \
    --data-binary "@$piece" "$@"
}
offset_of() { tus "$1" HEAD "$2"; hdr Upload-Offset; }
sealed_id() { sed -n 's/^trusted comment: .*package=\([0-9a-f]*\).*/\1/p' "$1.minisig"; }

# The hub's log holds no sanitizer report (the asan.e2e.serve* runs).
no_sanitizer_reports() {
  if grep -qE 'Sanitizer|runtime error:' "$T/serve.log" 2>/dev/null; then
    bad "iep-serve reported a sanitizer error:"
    grep -E -A8 'Sanitizer|runtime error:' "$T/serve.log" | head -30 >&2
  else
    ok
  fi
}
