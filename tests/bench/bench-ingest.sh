#!/usr/bin/env bash
# Ingest on loopback: a 500-slice CT study (~186 MB sealed) into a hub, the
# same sealed bytes each way (issue 7's target, >= 3x):
#   ours: iep-send --hub FILE -> iep-serve: a package sealed beforehand
#         (iep-send --output) uploaded as it is (tus, 8 MiB chunks with
#         crc32c checksums), its signature checked by the hub, committed
#   peer: tus-js-client -> @tus/server with its file store, uploading the
#         same file (upload only: no checksum, no signature check, no
#         commit, no fsync)
# Each round seals a fresh package first (untimed), so that ours uploads
# it rather than finding it sent. Then, for the whole path:
#   sub: iep-send --hub DIR (seal + upload + commit, overlapped) against
#        iep-send --output, then tus-js-client -> @tus/server
#   sub: tus-js-client -> iep-serve against tus-js-client -> @tus/server
#        (the same client: the servers alone)
#
# usage: tests/bench/bench-ingest.sh [DATA_DIR] [BUILD_DIR]
#   DATA_DIR   ONE study (default tests/bench/data/ct500, made if absent)
#   BUILD_DIR  the iep-* tools (default build-bench, a Release build)
# env: RUNS (5), WARMUP (1)
# Exits non-zero when a command fails or a result does not verify (the
# package the hub committed is the file uploaded, opens, and holds the
# input's files; @tus/server stored the same bytes).
name=bench-ingest
. "$(dirname "${BASH_SOURCE[0]}")/lib-hub.sh"

hub_start -q
tus_server "$T/tus-store"
iep-send -i keys/a.id --to trust-b --output sealed.iep "$data" || die "iep-send --output failed"
sealed_bytes=$(stat -c %s sealed.iep)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

fresh="rm -rf state-s f.iep f.iep.minisig && iep-send -i keys/a.id --to trust-b --output f.iep '$data' && sync"
ours="iep-send -i keys/a.id --hub '$HUB' --token-file tokens/a --state state-s f.iep"
peer="node '$INTEROP/tus-upload.mjs' '$TUS_URL' f.iep --metadata-file signature=f.iep.minisig"
compare "ingest: iep-send --hub FILE vs tus-js-client -> @tus/server" "$fresh" "$ours" \
  "rm -rf '$T/tus-store'/* && sync" "$peer" "$sealed_bytes"
ingest_ours=$last_ours ingest_peer=$last_peer
# The last round verifies: the hub committed the file's bytes, which open
# into the input study; @tus/server stored the same bytes.
sent=$(find state-s -name sent.json | head -1)
[[ -n $sent ]] || die "iep-send left no sent.json: nothing committed?"
id=$(json_get "$sent" 'j["package"]')
[[ $id == "$(package_id f.iep)" ]] || die "the hub committed another package than f.iep"
hcurl b -f "$HUB/v1/mailbox/$id" -o got.iep || die "the committed package $id cannot be downloaded"
cmp -s f.iep got.iep || die "the hub holds other bytes than the file uploaded"
iep-open -i keys/b.id --from sites/trust-a.card got.iep -o got-open >/dev/null || die "the package the hub holds does not open"
same_content "the committed package" got-open
rm -rf got-open got.iep
stored=$(find "$T/tus-store" -type f ! -name '*.json' | head -1)
cmp -s f.iep "$stored" || die "@tus/server stored other bytes"

# The whole path: a user of the peer tools seals first, then uploads.
whole="iep-send -i keys/a.id --to trust-b --hub '$HUB' --token-file tokens/a --state state '$data'"
peer_seal="rm -f p.iep p.iep.minisig && iep-send -i keys/a.id --to trust-b --output p.iep '$data' &&
  node '$INTEROP/tus-upload.mjs' '$TUS_URL' p.iep --metadata-file signature=p.iep.minisig"
compare "sub: seal + upload, iep-send --hub DIR vs --output then tus-js-client" 'rm -rf state && sync' \
  "$whole" "rm -rf '$T/tus-store'/* && sync" "$peer_seal" "$sealed_bytes"
sent=$(find state -name sent.json | head -1)
[[ -n $sent ]] || die "iep-send --hub DIR left no sent.json: nothing committed?"
hcurl b -f "$HUB/v1/mailbox/$(json_get "$sent" 'j["package"]')" -o got.iep || die "the sealed-and-sent package cannot be downloaded"
iep-open -i keys/b.id --from sites/trust-a.card got.iep -o got-open >/dev/null || die "the sealed-and-sent package does not open"
same_content "the sealed-and-sent package" got-open
rm -rf got-open got.iep
js_hub="node '$INTEROP/tus-upload.mjs' '$HUB/v1/uploads' sealed.iep --token-file tokens/a --metadata-file signature=sealed.iep.minisig"
# Each run starts with the page cache written back (sync): the rows before
# leave gigabytes for the disk, which otherwise slow whoever writes next.
compare "sub: server, tus-js-client -> iep-serve vs -> @tus/server" sync "$js_hub" \
  "rm -rf '$T/tus-store'/* && sync" "node '$INTEROP/tus-upload.mjs' '$TUS_URL' sealed.iep --metadata-file signature=sealed.iep.minisig" \
  "$sealed_bytes"
id=$(package_id sealed.iep)
hcurl b -f "$HUB/v1/mailbox/$id" -o got.iep && cmp -s sealed.iep got.iep ||
  die "tus-js-client's upload into iep-serve did not commit the same bytes"
rm -f got.iep
# What ours cannot go below: before it may commit, the hub hashes every
# sealed byte with BLAKE2b-512 (the prehash the sender's minisign signature
# covers), one sequential pass, which b2sum makes at the same speed; and a
# send of any size starts the command and makes its requests (a package of
# one real 39 KB CT file from pydicom).
b2=$( { /usr/bin/time -f '%e' b2sum f.iep >/dev/null; } 2>&1)
mkdir -p tiny && cp /usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm tiny/
read -r tiny_s _ < <(median_time tiny \
  "rm -rf state-t t.iep t.iep.minisig && iep-send -i keys/a.id --to trust-b --output t.iep tiny" \
  "iep-send -i keys/a.id --hub '$HUB' --token-file tokens/a --state state-t t.iep")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo
machine
echo "input: $data: $in_files files, $in_bytes bytes; sealed: $sealed_bytes bytes; load $load_before before, $load_after after"
echo
print_rows
echo
floor=$(echo "$b2 + $tiny_s" | bc -l)
printf 'floor of the ingest row: the hub'"'"'s BLAKE2b-512 pass over the sealed bytes (b2sum) %.3f s\n' "$b2"
printf '+ a send of a one-file package (start, requests, commit) %.3f s = %.3f s, against %.3f s\n' \
  "$tiny_s" "$floor" "$(echo "$ingest_peer / 3" | bc -l)"
printf 'for 3x the peer: at best peer/ours = %.2f, the bytes'"'"' transfer and storage free (ours took %.3f s).\n' \
  "$(echo "$ingest_peer / $floor" | bc -l)" "$ingest_ours"
