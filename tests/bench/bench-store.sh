#!/usr/bin/env bash
# Delivery into a PACS: iep-store of a plain package (made by iep-pack) of a
# 500-slice CT study into DCMTK's storescp, against dcmsend of the same
# files into the same storescp, in one run; iep-store with one association
# and with four. storescp forks a process per association (so that four
# associations can run at once) and, like dcmsend, gets TCP_NODELAY=1
# (Debian's DCMTK leaves Nagle on otherwise: ~22 files/s). iep-store's time
# includes reading and verifying the whole package (signature, every hash)
# before the first instance is sent; dcmsend reads files from disk as they
# are. A row with --reconcile (a mapping table: every instance's Patient ID
# coerced) shows what reconciliation costs. Each row gives storescp's CPU
# per run, and the script ends with the floors that follow from them.
#
# usage: tests/bench/bench-store.sh [DATA_DIR] [BUILD_DIR]
#   DATA_DIR   a folder holding ONE study (default: tests/bench/data/ct500,
#              generated with make-study.py --slices 500 if absent)
#   BUILD_DIR  where the iep-* tools are (default: build-bench, a Release build)
# env: RUNS (timed rounds, each running every command once, default 5; the
#      median is reported), WARMUP (untimed rounds first, default 1)
#
# Exits non-zero if a command fails or storescp did not receive every
# instance (checked after every run), never because something is slow.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
data=${1:-$here/data/ct500}
build=$(cd "${2:-$repo/build-bench}" && pwd)
runs=${RUNS:-5}
warmup=${WARMUP:-1}

die() { echo "bench-store: $*" >&2; exit 1; }

for t in iep-keygen iep-pack iep-store; do
  [[ -x $build/$t ]] || die "$build/$t not found: build it first (see tests/bench/README.md)"
done
for t in storescp dcmsend dcmdump echoscu zstd b2sum python3; do
  command -v "$t" >/dev/null || die "$t is not installed"
done

if [[ ! -d $data ]]; then
  echo "generating a 500-slice CT study in $data" >&2
  /usr/bin/python3 "$here/make-study.py" "$data" --slices 500 >/dev/null
fi
n=$(find "$data" -type f | wc -l)

mkdir -p "$here/data"
scratch=$(mktemp -d "$here/data/bench-store-XXXXXX")
peer=
cleanup() {
  # storescp ends by SIGTERM (status 143): not a failure of the benchmark,
  # and under set -e it must not cut the cleanup short.
  if [[ -n $peer ]]; then kill "$peer" 2>/dev/null && wait "$peer" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
. "$here/lib-timing.sh"

export IEP_SITES=$scratch/sites HOME=$scratch/home
mkdir -p "$IEP_SITES" "$HOME"
"$build/iep-keygen" --site bench -o "$scratch/bench.id" -c "$IEP_SITES/bench.card" >/dev/null
"$build/iep-pack" -i "$scratch/bench.id" -o "$scratch/study.tar.zst" "$data"
"$build/iep-pack" -i "$scratch/bench.id" --no-compress -o "$scratch/study.tar" "$data"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$scratch/in"
TCP_NODELAY=1 storescp --aetitle STORE --output-directory "$scratch/in" --fork "$port" \
  >"$scratch/storescp.log" 2>&1 &
peer=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

# storescp's CPU seconds so far, its association processes included (an
# echo first, so that it has reaped the last one).
peer_cpu() {
  TCP_NODELAY=1 echoscu -aec STORE 127.0.0.1 "$port" >/dev/null 2>&1 || true
  sleep 0.2
  awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f\n", ($14 + $15 + $16 + $17) / hz}' "/proc/$peer/stat"
}
# Every run starts with an empty storescp folder and no journal, and checks
# afterwards that storescp holds all n instances; the last run's writes are
# flushed first (sync), so that no row pays for the writeback of another.
prep="rm -rf '$scratch/in' '$scratch/state' && mkdir '$scratch/in' && sync"
check="&& test \$(ls '$scratch/in' | wc -l) -eq $n"
export TCP_NODELAY=1
# With patient ID reconciliation by a mapping table (every instance's
# Patient ID coerced, the original values kept in Original Attributes Sequence).
pid=$(dcmdump +P PatientID "$(find "$data" -type f | head -1)" | sed -n '1s/.*\[\(.*\)\].*/\1/p')
printf 'sender_issuer,sender_patient_id,local_patient_id,local_issuer\n,%s,LOCAL-%s,TRUST-B\n' "$pid" "$pid" \
  >"$scratch/map.csv"
echo '{"local_issuer": "TRUST-B", "table": "map.csv"}' >"$scratch/rules.json"
store="'$build/iep-store' --state '$scratch/state' --pacs STORE@127.0.0.1:$port"
names=(dcmsend store1 store4 store1rec store1tar store4tar)
declare -A cmd=(
  [dcmsend]="dcmsend -aec STORE +sd 127.0.0.1 $port '$data'"
  [store1]="$store '$scratch/study.tar.zst'"
  [store4]="$store --associations 4 '$scratch/study.tar.zst'"
  [store1rec]="$store --reconcile '$scratch/rules.json' --quarantine '$scratch/q' '$scratch/study.tar.zst'"
  # The same from an uncompressed package (iep-pack --no-compress, as
  # for a local pipe): what zstd costs.
  [store1tar]="$store '$scratch/study.tar'"
  [store4tar]="$store --associations 4 '$scratch/study.tar'"
)
# What a row's output must show besides the n instances (checked untimed).
declare -A verify=(
  [store1rec]="dcmdump +P PatientID \$(ls -d '$scratch'/in/* | head -1) | grep -q 'LOCAL-$pid'"
)
# Rounds: each round runs every row once, so that a machine whose speed
# drifts (these VMs do, by up to two within the hour) slows all rows alike.
# Each run's wall time and storescp's CPU seconds during it go to NAME.times.
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for ((i = 0; i < warmup + runs; i++)); do
  for name in "${names[@]}"; do
    bash -c "$prep" || die "$name: prepare failed"
    c0=$(peer_cpu)
    t0=$(date +%s.%N)
    bash -c "${cmd[$name]} $check" >/dev/null 2>"$scratch/$name.err" ||
      { cat "$scratch/$name.err" >&2; die "$name failed: ${cmd[$name]}"; }
    t1=$(date +%s.%N)
    [[ -z ${verify[$name]:-} ]] || bash -c "${verify[$name]}" || die "$name: wrong output: ${verify[$name]} failed"
    c1=$(peer_cpu)
    ((i < warmup)) || echo "$(echo "$t1 - $t0" | bc -l) $(echo "$c1 - $c0" | bc -l)" >>"$scratch/$name.times"
  done
done
# stats NAME: "median-wall stddev median-storescp-CPU"
stats() {
  echo "$(cut -d' ' -f1 "$scratch/$1.times" | median_sd) $(cut -d' ' -f2 "$scratch/$1.times" | median_sd | cut -d' ' -f1)"
}
read -r t_dcmsend s_dcmsend c_dcmsend < <(stats dcmsend)
read -r t_one s_one c_one < <(stats store1)
read -r t_four s_four c_four < <(stats store4)
read -r t_rec s_rec c_rec < <(stats store1rec)
read -r t_plain s_plain c_plain < <(stats store1tar)
read -r t_plain4 s_plain4 c_plain4 < <(stats store4tar)

bytes=$(du -sb "$data" | cut -f1)
mib=$(echo "$bytes / 1048576" | bc -l)
printf '%s instances, %.0f MiB, into storescp on loopback (median of %s rounds)\n' "$n" "$mib" "$runs"
echo "load average before: $load0 on $(nproc) cores (other work on the machine slows every row)"
printf '%-28s %8s %8s %10s %8s %13s\n' command seconds stddev files/s ratio "storescp CPU"
row() {
  printf '%-28s %8.3f %8.3f %10.0f %8.2f %13.2f\n' "$1" "$2" "$3" "$(echo "$n / $2" | bc -l)" \
    "$(echo "$t_dcmsend / $2" | bc -l)" "$4"
}
row "dcmsend" "$t_dcmsend" "$s_dcmsend" "$c_dcmsend"
row "iep-store" "$t_one" "$s_one" "$c_one"
row "iep-store --associations 4" "$t_four" "$s_four" "$c_four"
row "iep-store --reconcile" "$t_rec" "$s_rec" "$c_rec"
row "iep-store (tar)" "$t_plain" "$s_plain" "$c_plain"
row "iep-store (tar) --assoc. 4" "$t_plain4" "$s_plain4" "$c_plain4"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "ratio = dcmsend's time / iep-store's (targets: >= 1.0 with one association, >= 1.5 with four)"

# The floors. Nothing is sent before the whole package verified (principle
# 3): at least decompressing and hashing it, here by zstd and b2sum alone
# (CPU seconds, median of 3), on two cores. Then one association is one
# storescp process, which spends its CPU seconds one after another; with
# four, everything shares the two cores.
z=$(median_cpu "zstd -dc '$scratch/study.tar.zst'")
b=$(median_cpu "b2sum '$scratch/study.tar'")
verify=$(echo "($z + $b) / 2" | bc -l)
floor1=$(echo "$verify + $c_one" | bc -l)
floor4=$(echo "($z + $b + $c_four) / 2" | bc -l)
printf 'floor of the verification: (zstd -d %.2f + b2sum %.2f CPU-s) / 2 cores = %.3f s\n' "$z" "$b" "$verify"
printf 'one association:  that + storescp %.2f CPU-s = %.3f s: at best %.2fx dcmsend (target 1.0)\n' \
  "$c_one" "$floor1" "$(echo "$t_dcmsend / $floor1" | bc -l)"
printf 'four:             (zstd + b2sum + storescp %.2f CPU-s) / 2 cores = %.3f s: at best %.2fx (target 1.5)\n' \
  "$c_four" "$floor4" "$(echo "$t_dcmsend / $floor4" | bc -l)"
