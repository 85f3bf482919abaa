# Several iep-serve nodes over one PostgreSQL and one S3 bucket (a throwaway
# cluster made with initdb and moto_server, both on loopback, started here):
# PATCHes of one upload alternate between nodes; a node killed with kill -9
# mid-PATCH and the upload resumed through another; a second writer on
# another node refused with 423; a package fetched from a node that never saw
# its upload, byte-identical, and what S3 holds checked with boto3; a long
# poll on one node woken by a commit on another; the audit chain written by
# three nodes verifying as one line, with checkpoints signed by the shared
# hub key; expiry swept by two nodes at once, each package expired once;
# PostgreSQL restarted under running nodes, which reconnect.
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/interop/hub-lib.sh"
. "$IEP_SRC/tests/e2e/pg_lib.bash"
. "$IEP_SRC/tests/e2e/s3_lib.bash"
trap 'code=$?; pg_stop "$T/pg" 2>/dev/null; (exit $code); _iep_cleanup' EXIT
pg_start "$T/pg"
s3_start "$T/s3"
track "$S3_PID"
S3_BUCKET=multi S3_PREFIX=hub
s3_new_bucket "$S3_BUCKET"
IEP_HUB_INDEX=$(pg_new_db multinode)
export IEP_HUB_INDEX IEP_HUB_STORE="s3://$S3_BUCKET/$S3_PREFIX?endpoint=$S3_ENDPOINT"

# --- The schema: migrated once, again (nothing to do), and by three at once.
expect 2 "a node refuses an index whose schema is not made" -- \
  iep-serve --data "$T/n0" --listen 127.0.0.1:0
stderr_names "one line saying to migrate" "iep-serve migrate"
expect 0 "iep-serve migrate" -- iep-serve migrate
expect 0 "iep-serve migrate again" -- iep-serve migrate
for i in 1 2 3; do iep-serve migrate 2>"$T/migrate$i.log" & done
fails=0
for j in 1 2 3; do wait -n || fails=$((fails + 1)); done
assert "three migrations at once all succeed" -- test "$fails" = 0
# The schema as pg_dump prints it, without its comments and settings.
schema_of() { grep -vE '^(--|SET |SELECT pg_catalog.set_config|\\(un)?restrict )' | cat -s; }
pg_dump -s --no-owner --no-privileges "$IEP_HUB_INDEX" | schema_of >schema.sql
assert "examples/iep-hub-schema.sql is the schema migrate makes" -- \
  diff -u <(schema_of <"$IEP_SRC/examples/iep-hub-schema.sql") schema.sql

make_sites
hub_init "$T/n1"  # sites and tokens, into PostgreSQL

declare -A NODE PORT PID
# node_start N [FLAGS...]: iep-serve node N (data folder n$N with the hub
# key of node 1: every node signs checkpoints with the same key).
node_start() {
  local n=$1
  shift
  mkdir -p "$T/n$n"
  [ "$n" = 1 ] || [ -e "$T/n$n/hub.key" ] || cp -p "$T/n1/hub.key" "$T/n$n/hub.key"
  rm -f "$T/n$n.port"
  iep-serve --data "$T/n$n" --listen "127.0.0.1:${PORT[$n]:-0}" --port-file "$T/n$n.port" \
    --sweep-every 1 --checkpoint-every 1 "$@" >>"$T/n$n.log" 2>&1 &
  PID[$n]=$!
  track "${PID[$n]}"
  wait_file "$T/n$n.port" 20 || { echo "FAIL: node $n did not start: $(tail -5 "$T/n$n.log")" >&2; exit 1; }
  PORT[$n]=$(head -1 "$T/n$n.port")
  NODE[$n]=http://127.0.0.1:${PORT[$n]}
}
node_stop() { kill "${PID[$1]}" 2>/dev/null; wait "${PID[$1]}" 2>/dev/null; }
node_kill() { kill -9 "${PID[$1]}" 2>/dev/null; wait "${PID[$1]}" 2>/dev/null; }
node_start 1
node_start 2
node_start 3

# tus SITE NODE METHOD PATH [CURL ARGS]: status in $CODE, headers in $T/h.
tus() {
  local s=$1 n=$2 m=$3 p=$4
  shift 4
  CODE=$(hcurl "$s" -o "$T/b" -D "$T/h" -w '%{http_code}' -X "$m" -H "Tus-Resumable: 1.0.0" "$@" \
    "${NODE[$n]}$p")
}
hdr() { grep -i "^$1:" "$T/h" | head -1 | cut -d: -f2- | tr -d ' \r'; }
patch_range() { # SITE NODE UPLOAD FILE FROM TO(exclusive)
  tail -c +$(($5 + 1)) "$4" | head -c $(($6 - $5)) >"$T/piece"
  tus "$1" "$2" PATCH "$3" -H "Upload-Offset: $5" -H "Content-Type: application/offset+octet-stream" \
    --data-binary @"$T/piece"
}
meta_for() { # Upload-Metadata of a sealed file: its package id and signature
  printf 'package %s,signature %s' "$(package_id "$1" | base64 -w0)" "$(base64 -w0 <"$1.minisig")"
}

# --- A sealed package big enough for several 8 MiB parts.
/usr/bin/python3 "$IEP_SRC/tests/bench/make-study.py" big --slices 70 --size 512 >/dev/null
iep-send -i "$T/keys/a.id" --to trust-b --output big.iep big 2>"$T/send.err" ||
  { echo "FAIL: iep-send --output: $(cat "$T/send.err")" >&2; exit 1; }
SIZE=$(stat -c %s big.iep)
assert "the sealed package spans three parts" -- test "$SIZE" -gt $((17 * 1024 * 1024))

# --- One upload, its PATCHes on three nodes in turn.
tus a 1 POST /v1/uploads -H "Upload-Length: $SIZE" -H "Upload-Metadata: $(meta_for big.iep)"
assert "created on node 1" -- test "$CODE" = 201
U=$(hdr Location)
third=$((SIZE / 3))
patch_range a 2 "$U" big.iep 0 "$third"
assert "the first third through node 2" -- test "$CODE" = 204
tus a 1 HEAD "$U" -I
assert "node 1 sees node 2's offset" -- test "$(hdr Upload-Offset)" = "$third"
patch_range a 3 "$U" big.iep "$third" $((2 * third))
assert "the second third through node 3" -- test "$CODE" = 204
patch_range a 1 "$U" big.iep $((2 * third)) "$SIZE"
assert "the last third through node 1 commits" -- test "$CODE" = 204
P1=$(hdr Iep-Package)
assert "the package is the one signed" -- test "$P1" = "$(package_id big.iep)"
assert "S3 holds the sealed bytes as they were sent (boto3)" -- \
  test "$(s3_peek get "packages/$P1" | b2sum)" = "$(b2sum <big.iep)"

# --- A second writer on another node is refused while the first writes;
# the first node killed mid-PATCH; the upload resumed through another node.
tus a 1 POST /v1/uploads -H "Upload-Length: $SIZE" -H "Upload-Metadata: $(meta_for big.iep)"
U2=$(hdr Location)
patch_range a 1 "$U2" big.iep 0 $((9 * 1024 * 1024))
OFF0=$(hdr Upload-Offset)
/usr/bin/python3 "$IEP_SRC/tests/interop/slowpatch.py" "${NODE[1]}$U2" big.iep --token-file "$T/tokens/a" \
  --offset "$OFF0" --send $((10 * 1024 * 1024)) --marker "$T/slow.marker" 2>"$T/slow.log" &
SLOW=$!
wait_file "$T/slow.marker" 20
sleep 0.5
patch_range a 2 "$U2" big.iep "$OFF0" "$SIZE"
assert "another node refuses a second writer: 423" -- test "$CODE" = 423
node_kill 1
wait "$SLOW" 2>/dev/null
tus a 2 HEAD "$U2" -I
OFF=$(hdr Upload-Offset)
assert "after kill -9 mid-PATCH the offset is one the store made durable" -- \
  test "$OFF" -ge "$OFF0" -a "$OFF" -lt "$SIZE"
for try in 1 2 3 4 5 6; do # until PostgreSQL has seen node 1's connection close
  patch_range a 3 "$U2" big.iep "$OFF" "$SIZE"
  [ "$CODE" = 423 ] || break
  sleep 0.5
done
assert "resumed through node 3 from that offset: the same package again (idempotent)" -- \
  test "$CODE" = 204 -a "$(hdr Iep-Package)" = "$P1"
node_start 1

# --- iep-send through node 3, iep-fetch through node 2 (neither saw the other).
mkdir -p ct && cp "$CORPUS/CT_small.dcm" ct/
expect 0 "iep-send through node 3" -- send_to_hub "${NODE[3]}" a ct --json
P2=$(json_get "$T/.out" 'j["package"]')
expect 0 "iep-fetch through node 2" -- fetch_from_hub "${NODE[2]}" b out
assert "the big study arrived byte-identical" -- test "$(hashes big)" = "$(hashes "out/$P1")"
assert "the CT arrived byte-identical" -- test "$(hashes ct)" = "$(hashes "out/$P2")"
hcurl a "${NODE[1]}/v1/packages/$P2" >tl.json
assert "node 1's timeline: delivered and acknowledged" -- \
  test "$(json_get tl.json 'j["state"], j["recipients"][0]["acknowledged"] is not None')" = "('delivered', True)"

# --- A long poll on node 2 woken by a commit on node 1.
start=$(date +%s%N)
hcurl b "${NODE[2]}/v1/mailbox?wait=20" >poll.json &
POLL=$!
sleep 1
mkdir -p mr && cp "$CORPUS/MR_small.dcm" mr/
expect 0 "iep-send through node 1" -- send_to_hub "${NODE[1]}" a mr --json
P3=$(json_get "$T/.out" 'j["package"]')
wait "$POLL"
took=$((($(date +%s%N) - start) / 1000000))
assert "the poll on node 2 returned the package committed on node 1" -- grep -q "$P3" poll.json
assert "... woken by the commit, long before its 20 s wait ended ($took ms)" -- test "$took" -lt 10000

# --- PostgreSQL restarted under the running nodes.
pg_restart "$T/pg"
mkdir -p rt && cp "$CORPUS/rtplan.dcm" rt/
expect 0 "iep-send through node 2 after PostgreSQL restarted" -- send_to_hub "${NODE[2]}" a rt --json
P4=$(json_get "$T/.out" 'j["package"]')
hcurl b "${NODE[3]}/v1/mailbox?wait=20" >poll2.json &
POLL=$!
sleep 1
expect 0 "iep-fetch through node 3 after the restart" -- fetch_from_hub "${NODE[3]}" b out
assert "the package sent after the restart arrived" -- test -d "out/$P4"
wait "$POLL"

# --- Expiry swept by two nodes at once: each package expired once.
node_stop 1
node_stop 2
node_start 1 --expire-after 2 --upload-expiry 15
node_start 2 --expire-after 2 --upload-expiry 15
# An upload abandoned after its first 8 MiB part: its multipart upload is
# aborted when it expires.
tus a 2 POST /v1/uploads -H "Upload-Length: $SIZE" -H "Upload-Metadata: $(meta_for big.iep)"
U3=$(hdr Location)
patch_range a 2 "$U3" big.iep 0 $((9 * 1024 * 1024))
assert "its first 9 MiB through node 2" -- test "$CODE" = 204
multipart_of() { [[ $(s3_peek multipart uploads/) == *"$1"* ]]; }
assert "an abandoned upload has a multipart upload in S3 (boto3)" -- multipart_of "${U3##*/}"
for f in CT_small MR_small; do
  mkdir -p "exp-$f" && cp "$CORPUS/$f.dcm" "exp-$f/"
  send_to_hub "${NODE[1]}" a "exp-$f" --json >"exp-$f.json" 2>/dev/null
done
E1=$(json_get exp-CT_small.json 'j["package"]')
E2=$(json_get exp-MR_small.json 'j["package"]')
sleep 5
iep-serve audit export >audit.log
assert "each expired package has one expire record" -- \
  test "$(grep -c "\"action\":\"expire\".*\"package\":\"$E1\"" audit.log)" = 1
assert "... the other too" -- \
  test "$(grep -c "\"action\":\"expire\".*\"package\":\"$E2\"" audit.log)" = 1
assert "their bytes are gone from S3 (boto3)" -- eval '! s3_peek exists "packages/$E1" && ! s3_peek exists "packages/$E2"'
for try in $(seq 1 60); do # its expiry is 15 s after its PATCH; a sweep each second
  tus a 1 HEAD "$U3" -I
  [ "$CODE" = 200 ] || break
  sleep 1
done
assert "the abandoned upload expired" -- test "$CODE" = 410 -o "$CODE" = 404
assert "... its multipart upload aborted and its state object removed (boto3)" -- \
  eval '! multipart_of "${U3##*/}" && ! s3_peek exists "uploads/${U3##*/}.state"'

# --- The audit chain written by three nodes is one line; checkpoints verify.
hcurl a "${NODE[2]}/v1/hub/card" >hub.pub
sleep 1
hcurl a "${NODE[3]}/v1/audit/checkpoints" >cps.json
iep-serve audit export >audit.log  # after the checkpoints: the log reaches past the last one
/usr/bin/python3 -c 'import json,sys; cps=json.load(open("cps.json")); json.dump(cps[-1], open("cp.json","w"))'
expect 0 "the audit log of three nodes verifies as one chain" -- iep-verify --audit audit.log
expect 0 "... and against a checkpoint signed with the shared hub key" -- \
  iep-verify --audit audit.log --hub-card hub.pub --checkpoint cp.json
assert "the nodes' logs hold no sanitizer report" -- eval '! grep -qE "Sanitizer|runtime error:" "$T"/n?.log'
finish
