#!/usr/bin/env bash
# Two iep-serve nodes sharing one PostgreSQL index (and one data folder:
# the hub key and the file store): `iep-serve migrate`, administration
# through --index, an upload committed on node A waking a long poll on node
# B, the package downloaded from B, a PostgreSQL restart under both, and
# the audit chain both wrote verifying as one.
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/e2e/serve_lib.bash"
. "$IEP_SRC/tests/e2e/pg_lib.bash"

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  pg_stop "$T/pg"
  [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

pg_start "$T/pg" || { echo "PostgreSQL did not start" >&2; exit 1; }
IX=$(pg_new_db hub) || exit 1
# The same database with a password in the URL (trust ignores it): it
# must never be shown.
IXPW="postgresql://iep:pw-n0t-shown@${IX#*@}"

make_sites
mkdir -p "$T/study"
make_study "$T/study" 3
expect 0 "seal a package for trust-b" -- iep-send -i "$T/keys/a.id" --to trust-b --output "$T/p1.iep" "$T/study"
P1=$(sealed_id "$T/p1.iep")

# ---- schema
expect 2 "an unmigrated index is refused" -- iep-serve site list --index "$IXPW"
stderr_names "the refusal says what to run" "run iep-serve migrate"
assert "the password is not shown" -- bash -c "! grep -q pw-n0t-shown '$T/.err'"
expect 2 "migrate needs a postgres index" -- iep-serve migrate --data "$T/data"
expect 0 "migrate" -- iep-serve migrate --index "$IXPW"
stderr_names "migrate says the version" "iep-serve: index schema at version 1"
expect 0 "migrate again: nothing to do" -- iep-serve migrate --index "$IX"

# ---- administration through --index (IEP_HUB_INDEX the same)
for s in a b; do
  expect 0 "site add trust-$s" -- iep-serve site add --index "$IX" "$T/sites/trust-$s.card"
done
expect 15 "the same name twice is refused" -- env IEP_HUB_INDEX="$IX" iep-serve site add "$T/sites/trust-a.card"
TA=$(iep-serve token issue --index "$IX" trust-a)
TB=$(iep-serve token issue --index "$IX" trust-b)

# ---- two nodes
start_node() { # NAME: sets URL_<NAME>
  rm -f "$T/port.$1"
  iep-serve --data "$T/data" --index "$IX" --listen 127.0.0.1:0 --port-file "$T/port.$1" \
    --sweep-every 1 2>>"$T/serve.$1.log" &
  PIDS+=($!)
  local i
  for i in $(seq 1 100); do
    [ -s "$T/port.$1" ] && break
    sleep 0.1
  done
  [ -s "$T/port.$1" ] || { echo "node $1 did not start" >&2; cat "$T/serve.$1.log" >&2; exit 1; }
  eval "URL_$1=http://127.0.0.1:$(cat "$T/port.$1")"
}
start_node A  # A makes the hub key; B, started after, reads it
start_node B
assert "both nodes sign with one hub key" -- [ -f "$T/data/hub.key" ]

# trust-b waits on node B; trust-a uploads to node A.
curl -s -H "Authorization: Bearer $TB" "$URL_B/v1/mailbox?wait=30" >"$T/waited" &
WAITER=$!
sleep 0.5
URL=$URL_A
create "$TA" "$T/p1.iep" -H "Upload-Metadata: $(meta_for "$T/p1.iep")"
code_is "creation on A" 201
patch "$TA" "$LOC" 0 "$T/p1.iep"
code_is "the whole package in one PATCH commits on A" 204
wait $WAITER
assert "the long poll on B woke with the package committed on A" -- grep -q "\"$P1\"" "$T/waited"

URL=$URL_B
req "$TB" GET "/v1/mailbox/$P1"
code_is "download from B" 200
assert "B serves the bytes A received" -- cmp -s "$T/b" "$T/p1.iep"

# ---- PostgreSQL restarts under both nodes
assert "PostgreSQL restarts" -- pg_restart "$T/pg"
URL=$URL_B
req "$TB" GET /v1/mailbox
code_is "B answers after the restart" 200
assert "B still lists the package" -- grep -q "\"$P1\"" "$T/b"
URL=$URL_A
req "$TA" GET "/v1/packages/$P1"
code_is "A answers after the restart" 200

# ---- one audit chain, written by both nodes and the admin commands
expect 0 "audit export through --index" -- iep-serve audit export --index "$IX"
cp "$T/.out" "$T/audit.log"
assert "the log holds the commit" -- grep -q '"action":"commit"' "$T/audit.log"
expect 0 "the chain verifies" -- iep-verify --audit "$T/audit.log"

for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
PIDS=()
assert "no node logged an index failure" -- bash -c "! grep -h 'index: postgres' '$T'/serve.*.log"
finish
