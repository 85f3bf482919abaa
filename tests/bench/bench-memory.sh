#!/usr/bin/env bash
# Peak memory of the iep tools on a big study: streaming means constant memory,
# so each command must stay under LIMIT_MIB (default 64) whatever the study size.
#
# usage: tests/bench/bench-memory.sh [SLICES] [BUILD_DIR]
#   SLICES     slices of 512x512 in the generated CT study (default 10000, about 5 GiB)
#   BUILD_DIR  where the iep-* tools are (default: build-bench)
# env: SIZE (rows = columns, default 512), LIMIT_MIB (default 64)
#
# The study is generated into tests/bench/data/big (kept for the next run);
# the packages and the unpacked copy are removed at the end.
# Exits non-zero if a command fails or any peak RSS exceeds LIMIT_MIB.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
slices=${1:-10000}
build=$(cd "${2:-$repo/build-bench}" && pwd)
size=${SIZE:-512}
limit=${LIMIT_MIB:-64}
data=$here/data/big
stamp=$here/data/big.stamp

die() { echo "bench-memory: $*" >&2; exit 1; }

[[ $slices =~ ^[0-9]+$ && $slices -gt 0 ]] || die "SLICES must be a positive number, not '$slices'"
for t in iep-keygen iep-pack iep-send iep-open iep-verify iep-anon; do
  [[ -x $build/$t ]] || die "$build/$t not found: build it first (see tests/bench/README.md)"
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time is not installed (Debian package: time)"
mkdir -p "$here/data"

# A study generated earlier with other parameters is replaced.
want="slices=$slices size=$size"
if [[ -d $data && $(cat "$stamp" 2>/dev/null) != "$want" ]]; then
  echo "replacing $data (was: $(cat "$stamp" 2>/dev/null || echo unknown), want: $want)" >&2
  rm -rf "$data" "$stamp"
fi

# Space: the study, its package, its sealed package and an unpacked copy; ask for 3x.
est=$((slices * (size * size * 2 + 4096)))
have=0
[[ -d $data ]] && have=$(du -sb "$data" | cut -f1)
need=$((3 * est - have))
avail=$(df --output=avail -B1 "$here/data" | tail -1 | tr -d ' ')
if ((avail < need)); then
  die "needs about $((need / 1048576)) MiB free in $here/data (3x the study, $((est / 1048576)) MiB), only $((avail / 1048576)) MiB free; try fewer slices"
fi

if [[ ! -d $data ]]; then
  [[ -f $here/make-study.py ]] || die "$here/make-study.py is missing"
  echo "generating $slices slices of ${size}x$size into $data (this takes a while) ..." >&2
  rm -rf "$data.partial"
  "${PYTHON:-/usr/bin/python3}" "$here/make-study.py" "$data.partial" --slices "$slices" --size "$size" >&2
  mv "$data.partial" "$data"
  echo "$want" >"$stamp"
fi
in_bytes=$(find "$data" -type f -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}')
in_files=$(find "$data" -type f | wc -l)

work=$(mktemp -d "$here/data/.work-memory.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
"$build/iep-keygen" --site a -o a.id -c a.card >/dev/null
"$build/iep-keygen" --site b -o b.id -c b.card >/dev/null

rows=()
over=0
# measure LABEL CMD...: run once under /usr/bin/time -v, record peak RSS and wall time.
measure() {
  local label=$1
  shift
  /usr/bin/time -v -o time.txt "$@" >/dev/null 2>err.txt ||
    { cat err.txt >&2; die "$label failed: $*"; }
  local kib secs mib verdict
  kib=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' time.txt)
  # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:12.34"
  secs=$(awk '/Elapsed \(wall clock\)/ {n=split($NF, p, ":"); s=0; for (i=1;i<=n;i++) s=s*60+p[i]; print s}' time.txt)
  mib=$(echo "$kib / 1024" | bc -l)
  verdict=ok
  if ((kib > limit * 1024)); then
    verdict="OVER ${limit} MiB"
    over=1
  fi
  rows+=("$(printf '| %-34s | %8.1f | %8.2f | %7.0f | %s |' "$label" "$mib" "$secs" \
    "$(awk -v b="$in_bytes" -v s="$secs" 'BEGIN {print (s > 0) ? b / 1048576 / s : 0}')" "$verdict")")
  echo "  $label: $(printf %.1f "$mib") MiB, ${secs}s" >&2
}

echo "measuring on $in_files files, $((in_bytes / 1048576)) MiB ..." >&2
measure "iep-pack -o FILE" "$build/iep-pack" -i a.id -o big.tar.zst "$data"
pack_bytes=$(stat -c %s big.tar.zst)
"$build/iep-anon" --new-key p.key
measure "iep-anon - (pipe stage)" bash -c "exec '$build/iep-anon' -k p.key -i a.id - <big.tar.zst >anon.tar.zst"
rm -f big.tar.zst anon.tar.zst
measure "iep-anon -j 2 DIR OUT (folder)" "$build/iep-anon" -k p.key -j 2 "$data" anon
anon_files=$(find anon -type f | wc -l)
[[ $anon_files == "$in_files" ]] || die "iep-anon wrote $anon_files files, expected $in_files"
rm -rf anon
measure "iep-send --output FILE" "$build/iep-send" -i a.id --to b.card --output big.iep "$data"
sealed_bytes=$(stat -c %s big.iep)
measure "iep-verify -i (full, DICOM parse)" "$build/iep-verify" -i b.id --from a.card big.iep
measure "iep-open -o DIR" "$build/iep-open" -i b.id --from a.card big.iep -o out
out_files=$(find out -type f -name '*.dcm' | wc -l)
[[ $out_files == "$in_files" ]] || die "iep-open unpacked $out_files DICOM files, expected $in_files"
content() { find "$1" -type f ! -name 'MANIFEST.json*' -exec b2sum {} + | cut -d' ' -f1 | sort; }
[[ $(content out) == "$(content "$data")" ]] || die "iep-open unpacked other bytes than $data"

echo
echo "input: $data: $in_files files, $in_bytes bytes ($((in_bytes / 1048576)) MiB); package $pack_bytes bytes, sealed $sealed_bytes bytes"
echo "limit: $limit MiB peak RSS per command (/usr/bin/time -v, Maximum resident set size)"
echo
echo "| command                            | peak RSS MiB | wall s | MiB/s | verdict |"
echo "|------------------------------------|---------:|---------:|--------:|---------|"
printf '%s\n' "${rows[@]}"
((over == 0)) || die "a command exceeded $limit MiB of peak RSS"
