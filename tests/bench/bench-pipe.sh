#!/usr/bin/env bash
# The pipe stage: `iep-pack S | iep-anon -k K -i ID - > OUT` against
# `iep-pack S > OUT` (same flags, default compression), run by run
# interleaved so that the machine's noise hits both; median wall time of
# each, their ratio (target <= 1.3), and the peak RSS and CPU time of each
# process of the pipe (target < 64 MiB each) from one more run.
#
# usage: tests/bench/bench-pipe.sh [DATA_DIR...] [BUILD_DIR]
#   DATA_DIR   studies (default: tests/bench/data/ct500, and data/big when
#              generated: see tests/bench/README.md)
#   BUILD_DIR  where the iep-* tools are (the last argument if it holds
#              iep-anon; default build-bench, a Release build)
# env: RUNS (timed runs per command, default 5; the median is reported),
#      WARMUP (untimed runs of each first, default 1)
#
# Exits non-zero if a command fails, or an output does not verify
# (iep-verify) or holds another number of files than the study, never
# because something is slow.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
runs=${RUNS:-5}
warmup=${WARMUP:-1}
die() { echo "bench-pipe: $*" >&2; exit 1; }

args=("$@")
build=$repo/build-bench
if ((${#args[@]} > 0)) && [[ -x ${args[-1]}/iep-anon ]]; then
  build=${args[-1]}
  unset 'args[-1]'
fi
build=$(cd "$build" && pwd)
if ((${#args[@]} == 0)); then
  args=("$here/data/ct500")
  [[ -d $here/data/big ]] && args+=("$here/data/big")
fi
for t in iep-keygen iep-pack iep-anon iep-verify; do
  [[ -x $build/$t ]] || die "$build/$t not found: build it first (see tests/bench/README.md)"
done

scratch=$(mktemp -d "${TMPDIR:-/tmp}/iep-bench-pipe-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
. "$here/lib-timing.sh"
"$build/iep-keygen" --site bench -o "$scratch/bench.id" >/dev/null
"$build/iep-anon" --new-key "$scratch/p.key" >/dev/null
pack="'$build/iep-pack' -i '$scratch/bench.id'"
anon="'$build/iep-anon' -k '$scratch/p.key' -i '$scratch/bench.id' -"

# The output is a whole package of as many instances as the study.
check() { # WHAT PACKAGE EXPECTED-FILES
  "$build/iep-verify" -i "$scratch/bench.id" "$2" >"$scratch/verify.out" 2>&1 ||
    { cat "$scratch/verify.out" >&2; die "$1: the output does not verify"; }
  local got
  got=$(zstd -dc "$2" | tar -t | grep -vc '^MANIFEST\.json')
  [[ $got == "$3" ]] || die "$1: the output holds $got files, not $3"
}

echo "bench-pipe: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), median of $runs"
printf '| study | pack (s) | pack \\| anon (s) | ratio | pack RSS / CPU | pipe: pack RSS, anon RSS (MiB) / CPU (s) |\n'
printf '|---|---:|---:|---:|---:|---:|\n'
for data in "${args[@]}"; do
  [[ -d $data ]] || die "$data: no such study"
  data=$(cd "$data" && pwd)
  n=$(find "$data" -type f | wc -l)
  name=$(basename "$data")
  find "$data" -type f -exec cat {} + >/dev/null  # the page cache, warm for both
  one="$pack '$data' >'$scratch/pack.out'"
  two="$pack '$data' | $anon >'$scratch/pipe.out'"
  read -r t1 _ t2 _ _ _ _ <<<"$(interleaved_times "$name" true "$one" true "set -o pipefail; $two")"
  check "iep-pack" "$scratch/pack.out" "$n"
  check "iep-pack | iep-anon" "$scratch/pipe.out" "$n"
  # Peak RSS and CPU time of each process, from one more run.
  read -r r1 c1 < <(peak_rss true "$one")
  set +e
  bash -c "set -o pipefail; /usr/bin/time -f '%M %U %S' -o '$scratch/pp.time' $pack '$data' |
    /usr/bin/time -f '%M %U %S' -o '$scratch/pa.time' $anon >'$scratch/pipe.out'" 2>"$scratch/rss.err"
  rc=$?
  set -e
  ((rc == 0)) || { cat "$scratch/rss.err" >&2; die "the pipe failed (exit $rc)"; }
  check "iep-pack | iep-anon (RSS run)" "$scratch/pipe.out" "$n"
  read -r pr pu ps <"$scratch/pp.time"
  read -r ar au as <"$scratch/pa.time"
  printf '| %s (%s files) | %.2f | %.2f | %.2f | %.0f MiB / %.2f s | %.0f, %.0f / %.2f + %.2f |\n' \
    "$name" "$n" "$t1" "$t2" "$(echo "$t2 / $t1" | bc -l)" "$r1" "$c1" \
    "$(echo "$pr / 1024" | bc -l)" "$(echo "$ar / 1024" | bc -l)" \
    "$(echo "$pu + $ps" | bc -l)" "$(echo "$au + $as" | bc -l)"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
