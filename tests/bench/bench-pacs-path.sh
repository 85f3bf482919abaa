#!/usr/bin/env bash
# PACS to PACS, the whole way, against Orthanc's own peer transfer of the
# same study between the same two Orthanc servers (issue 9):
#   orthanc: POST /peers/B/store on Orthanc A (plain HTTP between the two
#            Orthancs, no end-to-end encryption)
#   iep:     iep-pack --pacs A (C-GET) | iep-send --hub (seal, upload,
#            commit) ; iep-fetch --stdout (download, verify, decrypt,
#            acknowledge) | iep-store --pacs B (reconcile the patient ID by
#            a mapping table, C-STORE)             target: <= 1.0x orthanc
# Between runs the study is deleted from B. Each run is checked: B holds
# every instance of the study (and, for iep, under the reconciled ID).
# Then one run stage by stage, and the floors: B takes nothing before the
# package is whole and verified (principle 3), so the pull from A and B's
# ingest add up, by iep's own stages and by DCMTK's tools alone (getscu;
# eight dcmsends in parallel); and the last adds the two whole-study checks
# that must come between them (by b2sum and zstd alone).
#
# usage: tests/bench/bench-pacs-path.sh [DATA_DIR] [BUILD_DIR]
#   DATA_DIR   ONE study (default tests/bench/data/ct500, made if absent)
#   BUILD_DIR  the iep-* tools (default build-bench, a Release build)
# env: RUNS (5), WARMUP (1), NO_HYPERFINE=1, STORE_ARGS (more iep-store flags)
name=bench-pacs-path
. "$(dirname "${BASH_SOURCE[0]}")/lib-hub.sh"
. "$repo/tests/e2e/pacs_lib.bash"
for t in Orthanc dcmsend getscu jq; do
  command -v "$t" >/dev/null || die "$t is not installed (scripts/install-deps.sh)"
done

hub_start -q
start_orthanc B ORTHANC_B
start_orthanc A ORTHANC_A '{}' "{\"B\": [\"http://127.0.0.1:$B_HTTP/\"]}"
TCP_NODELAY=1 dcmsend -aec ORTHANC_A 127.0.0.1 "$A_DICOM" --scan-directories "$data" >/dev/null ||
  die "could not load $data into Orthanc A"
study=$(orthanc A GET /studies | jq -r '.[0]')
uid=$(orthanc A GET "/studies/$study" | jq -r '.MainDicomTags.StudyInstanceUID')
pid=$(orthanc A GET "/studies/$study" | jq -r '.PatientMainDicomTags.PatientID')
instances=$(orthanc A GET "/studies/$study/instances" | jq length)
((instances == in_files)) || die "Orthanc A holds $instances instances, $data has $in_files files"

# Both sides leave Orthanc B empty before each run; a run is good when B
# then holds all instances of the study.
clear_b='for s in $(curl -sf http://127.0.0.1:'$B_HTTP'/studies | jq -r ".[]"); do curl -sf -X DELETE http://127.0.0.1:'$B_HTTP'/studies/$s >/dev/null; done'
b_count() { orthanc B GET /instances | jq length; }

orthanc_cmd="curl -sf -X POST http://127.0.0.1:$A_HTTP/peers/B/store -d $study >/dev/null"
read -r t_orthanc sd_orthanc < <(median_time orthanc "$clear_b" "$orthanc_cmd")
(($(b_count) == instances)) || die "Orthanc's peer transfer left $(b_count) of $instances instances in B"

# The receiving site maps the sender's patient ID to its own.
printf 'sender_issuer,sender_patient_id,local_patient_id,local_issuer\n,%s,LOCAL-%s,TRUST-B\n' "$pid" "$pid" >map.csv
echo '{"local_issuer": "TRUST-B", "table": "map.csv"}' >rules.json
iep_cmd="set -o pipefail; iep-pack -i keys/a.id --pacs ORTHANC_A@127.0.0.1:$A_DICOM --query StudyInstanceUID=$uid |
  iep-send -i keys/a.id --to trust-b --hub '$HUB' --token-file tokens/a --state state-a - &&
  iep-fetch -i keys/b.id --hub '$HUB' --token-file tokens/b --state state-b --stdout --no-wait |
  iep-store --pacs ORTHANC_B@127.0.0.1:$B_DICOM --reconcile rules.json --quarantine quarantine ${STORE_ARGS:-}"
read -r t_iep sd_iep < <(median_time iep "$clear_b; rm -rf state-a state-b" "$iep_cmd")
(($(b_count) == instances)) || die "the iep path left $(b_count) of $instances instances in B"
got_pid=$(orthanc B GET /patients | jq -r '.[0]' | xargs -I{} curl -sf "http://127.0.0.1:$B_HTTP/patients/{}" | jq -r '.MainDicomTags.PatientID')
[[ $got_pid == "LOCAL-$pid" ]] || die "B holds the study under patient ID '$got_pid', not LOCAL-$pid"

# Where the time goes: the same path once more, stage by stage through files.
stage() {
  local t0 t1
  t0=$(date +%s.%N)
  bash -c "set -o pipefail; $2" >/dev/null 2>"$T/stage.err" || { cat "$T/stage.err" >&2; die "stage $1 failed: $2"; }
  t1=$(date +%s.%N)
  stage_s[$1]=$(echo "$t1 - $t0" | bc -l)
  printf '    %-28s %7.3f s\n' "$1" "${stage_s[$1]}" >>stages.txt
}
declare -A stage_s
bash -c "$clear_b"
rm -rf state-a state-b
: >stages.txt
stage "pack from A (C-GET)" "iep-pack -i keys/a.id --pacs ORTHANC_A@127.0.0.1:$A_DICOM --query StudyInstanceUID=$uid -o pulled.tar.zst"
stage "send (seal, upload, commit)" "iep-send -i keys/a.id --to trust-b --hub '$HUB' --token-file tokens/a --state state-a - <pulled.tar.zst"
stage "fetch (download, verify)" "iep-fetch -i keys/b.id --hub '$HUB' --token-file tokens/b --state state-b --stdout --no-wait >fetched.tar.zst"
stage "store into B (reconciled)" "iep-store --pacs ORTHANC_B@127.0.0.1:$B_DICOM --reconcile rules.json --quarantine quarantine ${STORE_ARGS:-} fetched.tar.zst"
bash -c "$clear_b"
stage "dcmsend of the files into B" "TCP_NODELAY=1 dcmsend -aec ORTHANC_B 127.0.0.1 $B_DICOM --scan-directories '$data'"
# The same two ends by DCMTK's tools alone, none of iep: the pull from A by
# getscu (C-GET into a folder), and B's ingest of the study by eight
# dcmsends in parallel (Orthanc takes associations in parallel).
rm -rf got split
mkdir got
stage "getscu: C-GET from A" "TCP_NODELAY=1 getscu -aec ORTHANC_A -od got -k QueryRetrieveLevel=STUDY -k StudyInstanceUID=$uid 127.0.0.1 $A_DICOM"
(($(find got -type f | wc -l) == instances)) || die "getscu retrieved $(find got -type f | wc -l) of $instances instances"
i=0
for f in "$data"/*; do
  mkdir -p "split/$((i % 8))"
  ln -s "$f" "split/$((i % 8))/"
  i=$((i + 1))
done
bash -c "$clear_b"
stage "8 dcmsends in parallel into B" "for d in split/*; do TCP_NODELAY=1 dcmsend -aec ORTHANC_B 127.0.0.1 $B_DICOM --scan-directories \$d & done; wait"
(($(b_count) == instances)) || die "the parallel dcmsends left $(b_count) of $instances instances in B"

# The checks the brief puts between the two ends, each a whole pass over the
# study that nothing after it can overlap: iep-fetch authenticates the
# sealed bytes (the BLAKE2b-512 prehash that the sender's signature covers)
# before it gives out a byte (principle 8), and iep-store verifies every
# file's hash before the first C-STORE (principle 3). Here by b2sum and zstd
# alone, in CPU seconds (median of 3): the sealed package's hash, one
# sequential pass; the plain package's decompression and hashing, on two
# cores. Decryption, the download and the hub's commit count as free.
iep-send -i keys/a.id --to trust-b --output sealed.iep - <pulled.tar.zst
zstd -qdc fetched.tar.zst >plain.tar
c_auth=$(median_cpu "b2sum sealed.iep")
c_unzstd=$(median_cpu "zstd -qdc fetched.tar.zst")
c_hash=$(median_cpu "b2sum plain.tar")
checks=$(echo "$c_auth + ($c_unzstd + $c_hash) / 2" | bc -l)

printf '%s: %d instances, %.1f MiB, %s runs\n' "$name" "$instances" "$(echo "$in_bytes / 1048576" | bc -l)" "$runs"
printf '  orthanc /peers/B/store   %8.3f s  (sd %.3f)\n' "$t_orthanc" "$sd_orthanc"
printf '  iep pack|send;fetch|store %7.3f s  (sd %.3f)\n' "$t_iep" "$sd_iep"
printf '  ratio iep/orthanc        %8.2fx  (target <= 1.0x)\n' "$(echo "$t_iep / $t_orthanc" | bc -l)"
echo "  one run, stage by stage (files between the stages):"
cat stages.txt
# B receives nothing before the whole package is committed, fetched and
# verified (principle 3), so the pull from A and B's ingest cannot overlap.
floor=$(echo "${stage_s[pack from A (C-GET)]} + ${stage_s[store into B (reconciled)]}" | bc -l)
printf '  floor: pack from A + store into B = %.3f s = %.2fx orthanc, with the hub, the\n' \
  "$floor" "$(echo "$floor / $t_orthanc" | bc -l)"
echo "         network and sealing free (B takes nothing before the package is whole and verified)"
tools=$(echo "${stage_s[getscu: C-GET from A]} + ${stage_s[8 dcmsends in parallel into B]}" | bc -l)
printf '  the same by DCMTK alone: getscu + 8 dcmsends into B = %.3f s = %.2fx orthanc\n' \
  "$tools" "$(echo "$tools / $t_orthanc" | bc -l)"
printf '  checks between them: fetch authenticates (b2sum of the sealed bytes %.3f CPU-s),\n' "$c_auth"
printf '    store verifies ((zstd -d %.3f + b2sum %.3f CPU-s) / 2 cores) = %.3f s\n' \
  "$c_unzstd" "$c_hash" "$checks"
printf '  floor with the checks: DCMTK alone + checks = %.3f s = %.2fx orthanc (target <= 1.0x)\n' \
  "$(echo "$tools + $checks" | bc -l)" "$(echo "($tools + $checks) / $t_orthanc" | bc -l)"
