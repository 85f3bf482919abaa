# Helpers for the scripts that run a real hub (iep-serve) and real tus peers:
# tests/e2e/tus_interop.sh, faults.sh, tests/soak/soak.sh and the hub
# benchmarks. Source it after tests/e2e/lib.sh (for $T, $IEP_SRC, expect...),
# or from a benchmark with T, IEP_SRC and PATH set by the caller.
#
# Servers started here are stopped on every exit (the EXIT trap below
# replaces lib.sh's, and removes $T as lib.sh's did).

INTEROP=$IEP_SRC/tests/interop
TUS_UPLOAD=(node "$INTEROP/tus-upload.mjs")
TUSPY_UPLOAD=(/usr/bin/python3 "$INTEROP/tuspy-upload.py")
_iep_pids=()

# (Also run by the benchmarks under set -e: no command here may fail.)
_iep_cleanup() {
  local code=$? p
  # A failed run shows what the hub said of its errors (CI keeps no files).
  if [ "$code" -ne 0 ] && [ -f "$T/hub.log" ]; then
    grep -E '^iep-serve: ' "$T/hub.log" | tail -20 | sed 's/^/  hub.log: /' >&2 || true
  fi
  for p in "${_iep_pids[@]}"; do
    kill -9 "$p" 2>/dev/null || true
  done
  for p in "${_iep_pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  [[ ${IEP_KEEP_TMP:-} ]] || rm -rf "$T" || true
  exit "$code"
}
trap _iep_cleanup EXIT

# track PID: stop it on exit.
track() { _iep_pids+=("$1"); }

# The pinned npm peers, installed once into tests/interop/node_modules.
install_peers() {
  bash "$INTEROP/install.sh" --quiet || { echo "FAIL: npm peers could not be installed" >&2; exit 1; }
}

# wait_file FILE [SECONDS]: wait until FILE exists and is not empty.
wait_file() {
  local f=$1 n=$((${2:-20} * 20))
  while ((n-- > 0)); do
    [[ -s $f ]] && return 0
    sleep 0.05
  done
  return 1
}

# hub_init DATA: a hub data folder with the sites trust-a, trust-b, trust-c
# registered (their cards from make_sites) and one token file per site in
# $T/tokens/NAME (mode 0600), and an admin token in $T/tokens/admin.
hub_init() {
  HUB_DATA=$1
  mkdir -p "$HUB_DATA" "$T/tokens"
  local s tok
  for s in a b c; do
    iep-serve site add --data "$HUB_DATA" "$T/sites/trust-$s.card" >/dev/null 2>>"$T/admin.log" ||
      { echo "FAIL: iep-serve site add trust-$s" >&2; exit 1; }
    tok=$(iep-serve token issue --data "$HUB_DATA" "trust-$s" 2>>"$T/admin.log") ||
      { echo "FAIL: iep-serve token issue trust-$s" >&2; exit 1; }
    (umask 077 && printf '%s\n' "$tok" >"$T/tokens/$s")
  done
}

# token NAME: the token of site trust-NAME.
token() { head -1 "$T/tokens/$1"; }

# hub_start [ARGS...]: start iep-serve on $HUB_DATA on a free loopback port
# (or on $HUB_PORT when set: a restart keeps the URL); sets HUB (the base
# URL), HUB_PORT and HUB_PID. Its log goes to $T/hub.log.
hub_start() {
  rm -f "$T/hub.port"
  iep-serve --data "$HUB_DATA" --listen "127.0.0.1:${HUB_PORT:-0}" --port-file "$T/hub.port" "$@" \
    >>"$T/hub.log" 2>&1 &
  HUB_PID=$!
  track "$HUB_PID"
  if ! wait_file "$T/hub.port" 20; then
    echo "FAIL: iep-serve did not start; its log:" >&2
    tail -20 "$T/hub.log" >&2
    exit 1
  fi
  HUB_PORT=$(head -1 "$T/hub.port")
  HUB=http://127.0.0.1:$HUB_PORT
}

# hub_stop: SIGTERM and wait; hub_kill: SIGKILL and wait.
hub_stop() { kill "$HUB_PID" 2>/dev/null; wait "$HUB_PID" 2>/dev/null; }
hub_kill() { kill -9 "$HUB_PID" 2>/dev/null; wait "$HUB_PID" 2>/dev/null; }

# tus_server DIR: start @tus/server (file store) on a free port; sets TUS_URL
# (the creation endpoint) and TUS_PID.
tus_server() {
  local dir=$1
  shift
  rm -f "$T/tus.port"
  node "$INTEROP/tus-server.mjs" --dir "$dir" --port-file "$T/tus.port" "$@" >"$T/tus.url" 2>"$T/tus.log" &
  TUS_PID=$!
  track "$TUS_PID"
  wait_file "$T/tus.port" 20 && wait_file "$T/tus.url" 5 ||
    { echo "FAIL: @tus/server did not start: $(cat "$T/tus.log")" >&2; exit 1; }
  TUS_URL=$(head -1 "$T/tus.url")
}

# hcurl SITE CURL-ARGS...: curl with SITE's bearer token (from a file, never
# on the command line).
hcurl() {
  local s=$1
  shift
  curl -sS -H @<(printf 'Authorization: Bearer %s\n' "$(token "$s")") "$@"
}

# package_id FILE.iep: the package id from the signature's trusted comment.
package_id() { sed -n 's/^trusted comment: .*package=\([0-9a-f]\{32\}\).*/\1/p' "$1.minisig" | head -1; }

# json_get FILE EXPR: a value from a JSON file with a Python expression on j.
json_get() { /usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

# mailbox_ids SITE: the package ids in SITE's mailbox, one a line.
mailbox_ids() {
  hcurl "$1" "$HUB/v1/mailbox" |
    /usr/bin/python3 -c 'import json,sys; [print(p["package"]) for p in json.load(sys.stdin)["packages"]]' 2>/dev/null
}

# proxy_start NAME TARGET-PORT [cutproxy ARGS...]: a cutproxy.py in front of
# TARGET-PORT; sets PROXY (its base URL) and PROXY_PID; stats in $T/NAME.json.
proxy_start() {
  local name=$1 target=$2
  shift 2
  rm -f "$T/$name.port"
  /usr/bin/python3 "$INTEROP/cutproxy.py" --target "127.0.0.1:$target" --port-file "$T/$name.port" \
    --stats "$T/$name.json" "$@" 2>>"$T/$name.log" &
  PROXY_PID=$!
  track "$PROXY_PID"
  wait_file "$T/$name.port" 20 || { echo "FAIL: cutproxy did not start: $(cat "$T/$name.log")" >&2; exit 1; }
  PROXY=http://127.0.0.1:$(head -1 "$T/$name.port")
}
proxy_stop() { kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null; }

# send_to_hub URL SITE STUDY [ARGS...]: iep-send of trust-SITE to trust-b
# through the hub at URL, with that site's token and state folder.
send_to_hub() {
  local url=$1 s=$2 study=$3
  shift 3
  iep-send -i "$T/keys/$s.id" --to trust-b --hub "$url" --token-file "$T/tokens/$s" \
    --state "$T/state-$s" "$@" "$study"
}

# fetch_from_hub URL SITE OUT [ARGS...]: iep-fetch of trust-SITE into OUT.
fetch_from_hub() {
  local url=$1 s=$2 out=$3
  shift 3
  iep-fetch -i "$T/keys/$s.id" --hub "$url" --token-file "$T/tokens/$s" \
    --state "$T/state-$s" -o "$out" "$@"
}
