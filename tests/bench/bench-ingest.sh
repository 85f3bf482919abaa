#!/usr/bin/env bash
# Ingest on loopback: a 500-slice CT study (~186 MB sealed) into a hub.
#   ours: iep-send --hub -> iep-serve: seal, upload (tus, deferred length,
#         8 MiB chunks with sha256 checksums) and commit, in one command
#   peer: tus-js-client -> @tus/server with its file store, uploading the
#         sealed bytes iep-send --output made of the same study (upload only:
#         no sealing, no signature check, no commit)
# and, to be fair to ours, which seals too: iep-send --output then
# tus-js-client -> @tus/server; and, to tell the server from the client,
# tus-js-client -> iep-serve with the same sealed bytes (commit by the
# signature metadata) against tus-js-client -> @tus/server.
#
# usage: tests/bench/bench-ingest.sh [DATA_DIR] [BUILD_DIR]
#   DATA_DIR   ONE study (default tests/bench/data/ct500, made if absent)
#   BUILD_DIR  the iep-* tools (default build-bench, a Release build)
# env: RUNS (5), WARMUP (1)
# Exits non-zero when a command fails or a result does not verify (the
# package the hub committed is opened and its files hashed against the input).
name=bench-ingest
. "$(dirname "${BASH_SOURCE[0]}")/lib-hub.sh"

hub_start -q
tus_server "$T/tus-store"
iep-send -i keys/a.id --to trust-b --output sealed.iep "$data" || die "iep-send --output failed"
sealed_bytes=$(stat -c %s sealed.iep)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

ours="iep-send -i keys/a.id --to trust-b --hub '$HUB' --token-file tokens/a --state state '$data'"
peer="node '$INTEROP/tus-upload.mjs' '$TUS_URL' sealed.iep --metadata-file signature=sealed.iep.minisig"
js_hub="node '$INTEROP/tus-upload.mjs' '$HUB/v1/uploads' sealed.iep --token-file tokens/a --metadata-file signature=sealed.iep.minisig"

compare "ingest: iep-send --hub vs tus-js-client -> @tus/server" 'rm -rf state' "$ours" \
  "rm -rf '$T/tus-store'/*" "$peer" "$sealed_bytes"
ingest_peer=$last_peer
# The last runs verify: the hub committed what iep-send sealed, @tus/server stored the bytes.
sent=$(find state -name sent.json | head -1)
[[ -n $sent ]] || die "iep-send left no sent.json: nothing committed?"
id=$(json_get "$sent" 'j["package"]')
hcurl b -f "$HUB/v1/mailbox/$id" -o got.iep || die "the committed package $id cannot be downloaded"
iep-verify -i keys/b.id --no-dicom got.iep >/dev/null || die "the package the hub holds does not verify"
iep-open -i keys/b.id --from sites/trust-a.card got.iep -o got-open >/dev/null || die "the package the hub holds does not open"
same_content "the committed package" got-open
rm -rf got-open
stored=$(find "$T/tus-store" -type f ! -name '*.json' | head -1)
cmp -s sealed.iep "$stored" || die "@tus/server stored other bytes"
rm -f got.iep

# A user of the peer tools seals first, then uploads: the same work as ours.
peer_seal="rm -f p.iep p.iep.minisig && iep-send -i keys/a.id --to trust-b --output p.iep '$data' &&
  node '$INTEROP/tus-upload.mjs' '$TUS_URL' p.iep --metadata-file signature=p.iep.minisig"
compare "sub: ours vs seal to a file, then tus-js-client -> @tus/server" 'rm -rf state' "$ours" \
  "rm -rf '$T/tus-store'/*" "$peer_seal" "$sealed_bytes"
compare "sub: server, tus-js-client -> iep-serve vs -> @tus/server" true "$js_hub" \
  "rm -rf '$T/tus-store'/*" "$peer" "$sealed_bytes"
id=$(package_id sealed.iep)
hcurl b -f "$HUB/v1/mailbox/$id" -o got.iep && cmp -s sealed.iep got.iep ||
  die "tus-js-client's upload into iep-serve did not commit the same bytes"
rm -f got.iep
# What ours cannot go below: iep-send seals (the peer uploads bytes sealed
# beforehand), and the hub hashes the sealed bytes once (BLAKE2b-512, the
# prehash of the sender's signature it checks), which b2sum does at
# libsodium's speed here.
read -r seal_only _ < <(median_time seal_only 'rm -f s.iep s.iep.minisig' \
  "iep-send -i keys/a.id --to trust-b --output s.iep '$data'")
b2=$( { /usr/bin/time -f '%U' b2sum sealed.iep >/dev/null; } 2>&1)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo
machine
echo "input: $data: $in_files files, $in_bytes bytes; sealed: $sealed_bytes bytes; load $load_before before, $load_after after"
echo
print_rows
echo
printf 'floor of the ingest row: sealing alone (iep-send --output, no network) takes %.3f s, the\n' "$seal_only"
printf 'hub'"'"'s one BLAKE2b-512 pass over the sealed bytes %.2f CPU-s; %.1fx the peer would be %.3f s:\n' \
  "$b2" 3 "$(echo "$ingest_peer / 3" | bc -l)"
printf 'at best peer/ours = %.2f with the upload and the hub free.\n' "$(echo "$ingest_peer / $seal_only" | bc -l)"
