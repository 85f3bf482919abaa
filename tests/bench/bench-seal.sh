#!/usr/bin/env bash
# Throughput of iep-send / iep-open / iep-verify against the peer pipeline a
# user would write by hand with GNU tar, zstd -1, age and minisign.
#
# usage: tests/bench/bench-seal.sh [DATA_DIR] [BUILD_DIR]
#   DATA_DIR   a folder holding ONE study (default: tests/bench/data/ct500,
#              generated with make-study.py --slices 500 if absent)
#   BUILD_DIR  where the iep-* tools are (default: build-bench, a Release build)
# env: RUNS (timed runs per command, default 5; the median is reported),
#      WARMUP (untimed runs first, default 1), NO_HYPERFINE=1 (time with bash)
#
# Exits non-zero if a command fails (ours or the peer's) or an output is
# wrong (once per run: what each side unpacked is hashed and compared with
# the input), never because something is slow.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
data=${1:-$here/data/ct500}
build=$(cd "${2:-$repo/build-bench}" && pwd)
runs=${RUNS:-5}
warmup=${WARMUP:-1}

die() { echo "bench-seal: $*" >&2; exit 1; }

for t in iep-keygen iep-send iep-open iep-verify iep-pack; do
  [[ -x $build/$t ]] || die "$build/$t not found: build it first (see tests/bench/README.md)"
done
for t in tar zstd age age-keygen minisign python3 bc /usr/bin/time; do
  command -v "$t" >/dev/null || die "$t is not installed"
done

# hyperfine gives medians and spreads; install it if we can (a Debian package),
# otherwise fall back to plain bash timing.
if ! command -v hyperfine >/dev/null && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  apt-get install -y -qq hyperfine >/dev/null 2>&1 || true
fi
have_hyperfine=0
command -v hyperfine >/dev/null && [[ -z ${NO_HYPERFINE:-} ]] && have_hyperfine=1

if [[ ! -d $data ]]; then
  [[ -f $here/make-study.py ]] || die "$data does not exist and $here/make-study.py is missing"
  echo "generating a 500-slice study into $data ..." >&2
  "${PYTHON:-/usr/bin/python3}" "$here/make-study.py" "$data" --slices 500 >&2
fi
data=$(cd "$data" && pwd)

# Scratch space next to the data (same disk), removed on exit.
mkdir -p "$here/data"
work=$(mktemp -d "$here/data/.work-seal.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# --- keys: iep site identities for both sides, plain age and minisign keys for the peer
"$build/iep-keygen" --site a -o a.id -c a.card >/dev/null
"$build/iep-keygen" --site b -o b.id -c b.card >/dev/null
age-keygen -o peer.agekey 2>/dev/null
recipient=$(age-keygen -y peer.agekey)
minisign -G -W -p peer.pub -s peer.key >/dev/null

# --- warm the page cache so both sides read the input from memory
find "$data" -type f -exec cat {} + >/dev/null
in_bytes=$(find "$data" -type f -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}')
in_files=$(find "$data" -type f | wc -l)
parent=$(dirname "$data")
base=$(basename "$data")

scratch=$work
. "$here/lib-timing.sh"

rows=()
# compare LABEL PREPARE OURS_CMD PEER_CMD [OURS_PREP PEER_PREP]: time both, then
# run each once more for peak RSS and CPU; the last outputs of both stay on disk.
# PEER_CMD "-" means ours only.
compare() {
  local label=$1 prep=$2 ours=$3 peer=$4 prep_o=${5:-$2} prep_p=${6:-$2}
  local out t_o t_p r_o r_p
  # a failure inside $(...) only ends the subshell: stop here explicitly
  out=$(median_time "${label//[^a-z]/_}-ours" "$prep" "$ours") || exit 1
  read -r -a t_o <<<"$out"
  if [[ $peer != - ]]; then
    out=$(median_time "${label//[^a-z]/_}-peer" "$prep" "$peer") || exit 1
    read -r -a t_p <<<"$out"
  fi
  out=$(peak_rss "$prep_o" "$ours") || exit 1
  read -r -a r_o <<<"$out"
  if [[ $peer == - ]]; then
    rows+=("$(awk -v l="$label" -v mo="${t_o[0]}" -v so="${t_o[1]}" -v b="$in_bytes" -v co="${r_o[1]}" -v ro="${r_o[0]}" \
      'BEGIN {printf "| %-28s | %6.3f ±%.3f | - | - | %5.0f | - | %5.2f | - | %5.1f | - |", l, mo, so, b/1048576/mo, co, ro}')")
    return
  fi
  out=$(peak_rss "$prep_p" "$peer") || exit 1
  read -r -a r_p <<<"$out"
  rows+=("$(awk -v l="$label" -v mo="${t_o[0]}" -v so="${t_o[1]}" -v mp="${t_p[0]}" -v sp="${t_p[1]}" -v b="$in_bytes" \
    -v co="${r_o[1]}" -v cp="${r_p[1]}" -v ro="${r_o[0]}" -v rp="${r_p[0]}" \
    'BEGIN {printf "| %-28s | %6.3f ±%.3f | %6.3f ±%.3f | **%4.2f** | %5.0f | %5.0f | %5.2f | %5.2f | %5.1f | %5.1f |",
            l, mo, so, mp, sp, mp/mo, b/1048576/mo, b/1048576/mp, co, cp, ro, rp}')")
}

peer_seal="set -o pipefail; tar -cf - -C '$parent' '$base' | zstd -1 -q | age -r $recipient > peer.age && minisign -S -s peer.key -m peer.age >/dev/null"
ours_seal="'$build/iep-send' -i a.id --to b.card --output ours.iep '$data'"
peer_open="set -o pipefail; minisign -V -q -p peer.pub -m peer.age && mkdir out-peer && age -d -i peer.agekey peer.age | zstd -d -q | tar -xf - -C out-peer"
ours_open="'$build/iep-open' -i b.id --from a.card ours.iep -o out-ours"
peer_verify="set -o pipefail; minisign -V -q -p peer.pub -m peer.age && age -d -i peer.agekey peer.age | zstd -d -q > /dev/null"
ours_verify="'$build/iep-verify' -i b.id --from a.card --no-dicom ours.iep"
ours_verify_full="'$build/iep-verify' -i b.id --from a.card ours.iep"
# sub-steps, to see where the time goes
peer_open_sync="$peer_open && sync -f out-peer"
peer_pack="set -o pipefail; tar -cf - -C '$parent' '$base' | zstd -1 -q > peer.tar.zst"
ours_pack="'$build/iep-pack' -i a.id -o ours.tar.zst '$data'"
peer_tar="tar -cf peer.tar -C '$parent' '$base'"
ours_tar="'$build/iep-pack' -i a.id --no-compress -o ours.tar '$data'"
ours_tar_stdout="'$build/iep-pack' -i a.id --no-compress '$data' > ours.tar"

echo "timing (median of $runs, $warmup warm-up; hyperfine=$have_hyperfine) on $in_files files, $((in_bytes / 1048576)) MiB ..." >&2
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# a) seal
compare "seal (send --output)" 'rm -f ours.iep ours.iep.minisig peer.age peer.age.minisig' "$ours_seal" "$peer_seal" \
  'rm -f ours.iep ours.iep.minisig' 'rm -f peer.age peer.age.minisig'
size_ours=$(stat -c %s ours.iep)
size_peer=$(stat -c %s peer.age)

# b) open: signature check, decrypt, unpack into a new folder
compare "open (-o DIR)" 'rm -rf out-ours out-peer' "$ours_open" "$peer_open" 'rm -rf out-ours' 'rm -rf out-peer'
# Both sides unpacked every file, byte for byte: the content hashes of each
# tree are those of the input (iep-open names files its own way, so the
# sorted hashes are compared, not the names).
content() { find "$1" -type f ! -name 'MANIFEST.json*' -exec b2sum {} + | cut -d' ' -f1 | sort; }
content "$data" >sums-in
content out-ours >sums-ours
content out-peer >sums-peer
cmp -s sums-in sums-ours || die "open: ours unpacked other bytes than the input ($(wc -l <sums-ours) files of $in_files)"
cmp -s sums-in sums-peer || die "open: the peer unpacked other bytes than the input ($(wc -l <sums-peer) files of $in_files)"
rm -rf out-ours out-peer

# c) verify without writing output
compare "verify --no-dicom" true "$ours_verify" "$peer_verify"
compare "verify, full (DICOM parse)" true "$ours_verify_full" -

# sub-steps
compare "sub: open, peer + sync -f" 'rm -rf out-ours out-peer' "$ours_open" "$peer_open_sync" 'rm -rf out-ours' 'rm -rf out-peer'
rm -rf out-ours out-peer
compare "sub: pack, zstd -1" 'rm -f ours.tar.zst peer.tar.zst' "$ours_pack" "$peer_pack" 'rm -f ours.tar.zst' 'rm -f peer.tar.zst'
size_pack_ours=$(stat -c %s ours.tar.zst)
size_pack_peer=$(stat -c %s peer.tar.zst)
# What was packed unpacks to the input on both sides.
mkdir x-ours x-peer
zstd -dc ours.tar.zst | tar -xf - -C x-ours || die "ours.tar.zst does not unpack"
zstd -dc peer.tar.zst | tar -xf - -C x-peer || die "peer.tar.zst does not unpack"
[[ $(content x-ours) == "$(cat sums-in)" ]] || die "pack: ours.tar.zst holds other bytes than the input"
[[ $(content x-peer) == "$(cat sums-in)" ]] || die "pack: peer.tar.zst holds other bytes than the input"
rm -rf x-ours x-peer
rm -f ours.tar.zst peer.tar.zst
compare "sub: pack, no zstd" 'rm -f ours.tar peer.tar' "$ours_tar" "$peer_tar" 'rm -f ours.tar' 'rm -f peer.tar'
compare "sub: pack, no zstd, stdout" 'rm -f ours.tar peer.tar' "$ours_tar_stdout" "$peer_tar" 'rm -f ours.tar' 'rm -f peer.tar'
rm -f ours.tar peer.tar
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "input: $data: $in_files files, $in_bytes bytes ($((in_bytes / 1048576)) MiB)"
echo "timing: median ± stddev of $runs runs after $warmup warm-up, page cache warm; $( ((have_hyperfine)) && echo hyperfine || echo 'bash date +%s.%N')"
echo "load average: $load_before before, $load_after after ($(nproc) CPUs)"
echo
echo "| step | ours s | peer s | peer/ours | ours MiB/s | peer MiB/s | ours CPU s | peer CPU s | ours RSS MiB | peer RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "peer/ours >= 1 means iep is at least as fast. MiB/s = input MiB / median wall time."
echo "CPU s = user + sys of one run, summed over all processes of a pipeline (robust to a busy machine)."
echo "RSS = peak resident set of one run; for a pipeline, its largest single process."
echo
echo "| output | bytes | input/output |"
echo "|---|---:|---:|"
for pair in "ours.iep (sealed):$size_ours" "peer.age (sealed):$size_peer" \
  "ours.tar.zst (iep-pack):$size_pack_ours" "peer.tar.zst (tar, zstd -1):$size_pack_peer"; do
  printf '| %s | %s | %.3f |\n' "${pair%%:*}" "${pair##*:}" "$(echo "$in_bytes / ${pair##*:}" | bc -l)"
done
