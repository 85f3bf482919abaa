#!/usr/bin/env bash
# What the network path costs over the local one, on loopback, same study:
#   send:  iep-send --hub (seal + upload + commit) vs iep-send --output FILE
#          (seal to a local file)                                target <= 1.2x
#          and the same from a pipe: iep-pack | iep-send --hub - vs
#          iep-pack | iep-send --output FILE -
#   fetch: iep-fetch (download + verify + open into a folder + acknowledge)
#          vs iep-open of the same kind of package from a local file
#                                                               target <= 1.2x
#
# usage: tests/bench/bench-network.sh [DATA_DIR] [BUILD_DIR]
#   DATA_DIR   ONE study (default tests/bench/data/ct500, made if absent)
#   BUILD_DIR  the iep-* tools (default build-bench, a Release build)
# env: RUNS (5), WARMUP (1), SEND_ARGS (more iep-send --hub
#      flags, e.g. "--chunk-size 32"), ONLY=send|fetch (one comparison)
# Exits non-zero when a command fails or a result does not verify: the last
# outputs of both sides are hashed and compared with the input.
name=bench-network
. "$(dirname "${BASH_SOURCE[0]}")/lib-hub.sh"

hub_start -q
iep-send -i keys/a.id --to trust-b --output sealed.iep "$data" || die "iep-send --output failed"
sealed_bytes=$(stat -c %s sealed.iep)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

send_hub="iep-send -i keys/a.id --to trust-b --hub '$HUB' --token-file tokens/a --state state-a ${SEND_ARGS:-} '$data'"
send_file="iep-send -i keys/a.id --to trust-b --output local.iep '$data'"
if [[ ${ONLY:-send} == send ]]; then
  compare "send: --hub vs --output FILE" 'rm -rf state-a' "$send_hub" 'rm -f local.iep local.iep.minisig' "$send_file" "$in_bytes"
  sent=$(find state-a -name sent.json | head -1)
  [[ -n $sent ]] || die "iep-send --hub left no sent.json: nothing committed?"
  pack="iep-pack -i keys/a.id '$data'"
  compare "send from a pipe: --hub - vs --output FILE -" 'rm -rf state-p' \
    "set -o pipefail; $pack | iep-send -i keys/a.id --to trust-b --hub '$HUB' --token-file tokens/a --state state-p ${SEND_ARGS:-} -" \
    'rm -f local.iep local.iep.minisig' "set -o pipefail; $pack | iep-send -i keys/a.id --to trust-b --output local.iep -" "$in_bytes"
  [[ -n $(find state-p -name sent.json) ]] || die "iep-pack | iep-send --hub - committed nothing"
fi

# Each timed iep-fetch gets one new package in trust-b's mailbox (prepared by
# an untimed upload with tus-js-client of a fresh seal).
fetch_prep="rm -rf out-fetch next.iep next.iep.minisig && iep-send -i keys/a.id --to trust-b --output next.iep '$data' >/dev/null &&
  node '$INTEROP/tus-upload.mjs' '$HUB/v1/uploads' next.iep --token-file tokens/a \
  --metadata-file signature=next.iep.minisig >/dev/null"
fetch="iep-fetch -i keys/b.id --hub '$HUB' --token-file tokens/b --state state-b -o out-fetch"
open="iep-open -i keys/b.id --from sites/trust-a.card sealed.iep -o out-open"
# Everything sent by the first comparison is in the mailbox too: empty it first.
iep-fetch -i keys/b.id --hub "$HUB" --token-file tokens/b --state state-b -o drain >/dev/null || die "iep-fetch failed"
rm -rf drain
if [[ ${ONLY:-fetch} == fetch ]]; then
  compare "fetch + open vs iep-open FILE" "$fetch_prep" "$fetch" 'rm -rf out-open' "$open" "$in_bytes"
  # What one more run of each writes to the disk holding the scratch folder: the
  # study (and iep-fetch's small state files); the download itself is
  # dropped before the open's sync, never written out.
  dev=$(stat -c '%Hd %Ld' .)
  written() { awk -v d="$dev" '($1 " " $2) == d {print $10}' /proc/diskstats; }
  disk_mb() {
    bash -c "$1" >/dev/null || die "prepare failed: $1"
    sync
    local w0 w1
    w0=$(written)
    bash -c "$2" >/dev/null 2>&1 || die "failed: $2"
    sync
    w1=$(written)
    [[ -n $w0 ]] && echo $(((w1 - w0) * 512 / 1000000)) || echo "?"
  }
  disk_fetch=$(disk_mb "$fetch_prep" "$fetch")
  disk_open=$(disk_mb 'rm -rf out-open' "$open")
  # The outputs of those last runs hold exactly the study.
  got=$(find out-fetch -type f -name '*.dcm' | wc -l)
  [[ $got == "$in_files" ]] || die "iep-fetch wrote $got DICOM files, expected $in_files"
  same_content "iep-fetch" out-fetch
  same_content "iep-open" out-open
  [[ -z $(mailbox_ids b) ]] || die "trust-b's mailbox is not empty after iep-fetch"
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo
machine
echo "input: $data: $in_files files, $in_bytes bytes; sealed: $sealed_bytes bytes; load $load_before before, $load_after after"
echo
print_rows
[[ -n ${disk_fetch:-} ]] &&
  echo "Written to disk by one run (MB, /proc/diskstats): iep-fetch $disk_fetch, iep-open $disk_open (the study: $((in_bytes / 1000000)))."
echo "Targets: ours (network) at most 1.2x the local command's time, i.e. peer/ours >= 0.83."
