#!/usr/bin/env bash
# Delivery into a PACS: iep-store of a plain package (made by iep-pack) of a
# 500-slice CT study into DCMTK's storescp, against dcmsend of the same
# files into the same storescp, in one run; iep-store with one association
# and with four. storescp forks a process per association (so that four
# associations can run at once) and, like dcmsend, gets TCP_NODELAY=1
# (Debian's DCMTK leaves Nagle on otherwise: ~22 files/s). iep-store's time
# includes reading and verifying the whole package (signature, every hash)
# before the first instance is sent; dcmsend reads files from disk as they
# are.
#
# usage: tests/bench/bench-store.sh [DATA_DIR] [BUILD_DIR]
#   DATA_DIR   a folder holding ONE study (default: tests/bench/data/ct500,
#              generated with make-study.py --slices 500 if absent)
#   BUILD_DIR  where the iep-* tools are (default: build-bench, a Release build)
# env: RUNS (timed runs per command, default 5; the median is reported),
#      WARMUP (untimed runs first, default 1), NO_HYPERFINE=1 (time with bash)
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
for t in storescp dcmsend python3; do
  command -v "$t" >/dev/null || die "$t is not installed"
done
have_hyperfine=0
command -v hyperfine >/dev/null && [[ -z ${NO_HYPERFINE:-} ]] && have_hyperfine=1

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

# Every run starts with an empty storescp folder and no journal, and checks
# afterwards that storescp holds all n instances.
prep="rm -rf '$scratch/in' '$scratch/state' && mkdir '$scratch/in'"
check="&& test \$(ls '$scratch/in' | wc -l) -eq $n"
export TCP_NODELAY=1
load0=$(cut -d' ' -f1-3 /proc/loadavg)
read -r t_dcmsend s_dcmsend < <(median_time dcmsend "$prep" \
  "dcmsend -aec STORE +sd 127.0.0.1 $port '$data' $check")
read -r t_one s_one < <(median_time store1 "$prep" \
  "'$build/iep-store' --state '$scratch/state' --pacs STORE@127.0.0.1:$port '$scratch/study.tar.zst' $check")
read -r t_four s_four < <(median_time store4 "$prep" \
  "'$build/iep-store' --associations 4 --state '$scratch/state' --pacs STORE@127.0.0.1:$port '$scratch/study.tar.zst' $check")
# The same from an uncompressed package (iep-pack --no-compress, as for a
# local pipe): what zstd costs.
read -r t_plain s_plain < <(median_time store1tar "$prep" \
  "'$build/iep-store' --state '$scratch/state' --pacs STORE@127.0.0.1:$port '$scratch/study.tar' $check")
read -r t_plain4 s_plain4 < <(median_time store4tar "$prep" \
  "'$build/iep-store' --associations 4 --state '$scratch/state' --pacs STORE@127.0.0.1:$port '$scratch/study.tar' $check")

bytes=$(du -sb "$data" | cut -f1)
mib=$(echo "$bytes / 1048576" | bc -l)
printf '%s instances, %.0f MiB, into storescp on loopback (median of %s runs)\n' "$n" "$mib" "$runs"
echo "load average before: $load0 on $(nproc) cores (other work on the machine slows every row)"
printf '%-28s %8s %8s %10s %8s\n' command seconds stddev files/s ratio
row() {
  printf '%-28s %8.3f %8.3f %10.0f %8.2f\n' "$1" "$2" "$3" "$(echo "$n / $2" | bc -l)" \
    "$(echo "$t_dcmsend / $2" | bc -l)"
}
row "dcmsend" "$t_dcmsend" "$s_dcmsend"
row "iep-store" "$t_one" "$s_one"
row "iep-store --associations 4" "$t_four" "$s_four"
row "iep-store (tar)" "$t_plain" "$s_plain"
row "iep-store (tar) --assoc. 4" "$t_plain4" "$s_plain4"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "ratio = dcmsend's time / iep-store's (targets: >= 1.0 with one association, >= 1.5 with four)"
