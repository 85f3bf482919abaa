# Shared by the hub benchmarks (bench-ingest, bench-network, bench-delivery,
# bench-hub-capacity): arguments, a scratch folder next to the data, sites,
# a hub, and timing. Source it with `name` set (used in messages).
#   usage of a script: SCRIPT [DATA_DIR] [BUILD_DIR]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
data=${1:-$here/data/ct500}
build=$(cd "${2:-$repo/build-bench}" && pwd)
runs=${RUNS:-5}
warmup=${WARMUP:-1}

die() { echo "$name: $*" >&2; exit 1; }
for t in iep-keygen iep-send iep-open iep-fetch iep-serve; do
  [[ -x $build/$t ]] || die "$build/$t not found: build it first (see tests/bench/README.md)"
done
for t in node curl bc /usr/bin/time /usr/bin/python3; do
  command -v "$t" >/dev/null || die "$t is not installed"
done
bash "$repo/tests/interop/install.sh" --quiet || die "the npm peers could not be installed"
if ! command -v hyperfine >/dev/null && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  apt-get install -y -qq hyperfine >/dev/null 2>&1 || true
fi
have_hyperfine=0
command -v hyperfine >/dev/null && [[ -z ${NO_HYPERFINE:-} ]] && have_hyperfine=1

if [[ ! -d $data ]]; then
  echo "generating a 500-slice study into $data ..." >&2
  /usr/bin/python3 "$here/make-study.py" "$data" --slices 500 >&2
fi
data=$(cd "$data" && pwd)

mkdir -p "$here/data"
T=$(mktemp -d "$here/data/.work-$name.XXXXXX")
IEP_SRC=$repo
export PATH="$build:$PATH" LC_ALL=C
# shellcheck source=../interop/hub-lib.sh
. "$repo/tests/interop/hub-lib.sh"   # servers stopped and $T removed on exit
cd "$T"
export HOME=$T/home IEP_SITES=$T/sites
mkdir -p "$HOME" sites keys
for s in a b c; do
  iep-keygen --site "trust-$s" -o "keys/$s.id" -c "sites/trust-$s.card" >/dev/null
done
hub_init "$T/hub"

find "$data" -type f -exec cat {} + >/dev/null
in_bytes=$(find "$data" -type f -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}')
in_files=$(find "$data" -type f | wc -l)

scratch=$T
. "$here/lib-timing.sh"

# The sorted content hashes of every file of a folder but the manifest: two
# folders holding the same files, whatever their names, give the same list.
content() { find "$1" -type f ! -name 'MANIFEST.json*' -exec b2sum {} + | cut -d' ' -f1 | sort; }
# same_content WHAT DIR: DIR holds exactly the files of the input study.
same_content() { [[ $(content "$2") == "$(content "$data")" ]] || die "$1: $2 holds other bytes than $data"; }

rows=()
# compare LABEL OURS_PREP OURS PEER_PREP PEER [BYTES]: both timed alternately
# (lib-timing.sh's interleaved_times): median times, the ratio peer/ours
# (>= 1: ours is at least as fast), MiB/s of BYTES, and CPU seconds: the
# command's own, and for ours also the hub's (iep-serve) during it.
compare() {
  local label=$1 prep_o=$2 ours=$3 prep_p=$4 peer=$5 bytes=${6:-$in_bytes} out
  out=$(interleaved_times "${label//[^a-z]/_}" "$prep_o" "$ours" "$prep_p" "$peer" "${HUB_PID:-}") || exit 1
  read -r last_ours _ last_peer _ <<<"$out"
  rows+=("$(awk -v l="$label" -v b="$bytes" -v t="$out" 'BEGIN {split(t, v, " ");
    printf "| %-34s | %6.3f ±%.3f | %6.3f ±%.3f | **%4.2f** | %5.0f | %5.0f | %.2f + %.2f | %.2f |",
            l, v[1], v[2], v[3], v[4], v[3]/v[1], b/1048576/v[1], b/1048576/v[3], v[5], v[7], v[6]}')")
}
print_rows() {
  echo "| step | ours s | peer s | peer/ours | ours MiB/s | peer MiB/s | ours CPU s (cmd + hub) | peer CPU s |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "peer/ours >= 1 means ours is at least as fast; MiB/s of the bytes moved; median ± stddev of $runs runs after $warmup warm-up, ours and peer alternating; CPU: median user + sys seconds of the command (and of iep-serve during ours)."
}
machine() {
  echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/Mem:/ {print $2}') GiB RAM; load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
