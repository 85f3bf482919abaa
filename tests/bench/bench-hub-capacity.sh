#!/usr/bin/env bash
# Capacity of one hub node (iep-serve, SQLite index, file store):
#  a) UPLOADS (200) concurrent uploads of small sealed studies, each committed
#     by its signature metadata: packages/s, commit latency p50/p99, peak RSS
#     of iep-serve (/usr/bin/time -v); beside the same swarm (tus-js-client,
#     same files and metadata) into @tus/server with its file store, which
#     stores the bytes and commits nothing.
#  b) the IEP's national peak hour: PEAK_STUDIES (900) studies in a mix of
#     CR (60 %, 10-30 MB), CT (25 %, 100-500 MB) and MR (15 %, 30-200 MB),
#     sizes divided by PEAK_SCALE (20: the full hour is ~94 GB, too much disk
#     and time for a shared 2-core machine), replayed as fast as it goes with
#     PEAK_CONCURRENCY (16) uploads at a time; reported as times faster than
#     real time (one hour), at that scale and extrapolated to full size by
#     the measured byte rate.
#
# usage: tests/bench/bench-hub-capacity.sh [BUILD_DIR]
#   BUILD_DIR  where the iep-* tools are (default: build-bench, a Release build)
# env: UPLOADS, PEAK_STUDIES, PEAK_SCALE, PEAK_CONCURRENCY, SKIP_PEAK=1
#
# Exits non-zero when a command fails or an upload is not committed (every
# package must be in the recipient's mailbox), never because of slowness.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$repo/build-bench}" && pwd)
uploads=${UPLOADS:-200}
peak_n=${PEAK_STUDIES:-900}
scale=${PEAK_SCALE:-20}
peak_c=${PEAK_CONCURRENCY:-16}

die() { echo "bench-hub-capacity: $*" >&2; exit 1; }
for t in iep-keygen iep-send iep-pack iep-serve; do
  [[ -x $build/$t ]] || die "$build/$t not found: build it first (see tests/bench/README.md)"
done
for t in node curl /usr/bin/time /usr/bin/python3; do
  command -v "$t" >/dev/null || die "$t is not installed"
done
bash "$repo/tests/interop/install.sh" --quiet || die "npm peers could not be installed"

mkdir -p "$here/data"
T=$(mktemp -d "$here/data/.work-hub.XXXXXX")
IEP_SRC=$repo
export PATH="$build:$PATH" LC_ALL=C
# shellcheck source=../interop/hub-lib.sh
. "$repo/tests/interop/hub-lib.sh"
cd "$T"
export HOME=$T/home IEP_SITES=$T/sites
mkdir -p "$HOME" sites keys
for s in a b c; do
  iep-keygen --site "trust-$s" -o "keys/$s.id" -c "sites/trust-$s.card" >/dev/null
done

# run_hub: iep-serve under /usr/bin/time -v (peak RSS in $T/hub.time).
run_hub() {
  rm -f "$T/hub.port"
  /usr/bin/time -v -o "$T/hub.time" iep-serve --data "$HUB_DATA" --listen 127.0.0.1:0 \
    --port-file "$T/hub.port" -q --max-connections 1024 --per-ip-connections 1024 \
    --max-open-uploads 1024 >>"$T/hub.log" 2>&1 &
  TIME_PID=$!
  track "$TIME_PID"
  wait_file "$T/hub.port" 20 || { tail "$T/hub.log" >&2; die "iep-serve did not start"; }
  HUB_PID=$(pgrep -P "$TIME_PID")
  HUB=http://127.0.0.1:$(head -1 "$T/hub.port")
}
stop_timed() {  # stop_timed TIME_PID CHILD_PID: SIGTERM the child, wait for time(1)
  kill "$2" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
rss_mib() { awk -F: '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$1"; }
mailbox_count() {
  hcurl b "$HUB/v1/mailbox" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["packages"]))'
}

# ---------------------------------------------------------------- a) 200 at once
echo "a) sealing $uploads small studies ..." >&2
/usr/bin/python3 "$here/make-study.py" small --slices 2 --size 256 >/dev/null
mkdir -p sm
for ((i = 1; i <= uploads; i++)); do
  iep-send -i keys/a.id --to trust-b --output "sm/s$i.iep" small >/dev/null 2>&1 || die "iep-send --output failed"
  echo "$T/sm/s$i.iep"
done >small.list
small_bytes=$(du -cb sm/*.iep | tail -1 | cut -f1)

hub_init "$T/hub-a"
run_hub
node "$repo/tests/interop/swarm.mjs" "$HUB/v1/uploads" small.list --concurrency "$uploads" \
  --token-file "$T/tokens/a" --json ours-a.json >/dev/null || die "uploads into iep-serve failed"
got=$(mailbox_count)
[[ $got == "$uploads" ]] || die "trust-b's mailbox has $got packages, expected $uploads"
stop_timed "$TIME_PID" "$HUB_PID"
rss_ours=$(rss_mib hub.time)

node "$repo/tests/interop/tus-server.mjs" --dir "$T/tus-a" --port-file tus.port >tus.url 2>tus.log &
tpid=$!
track "$tpid"
wait_file tus.port 20 && wait_file tus.url 5 || die "@tus/server did not start"
# /usr/bin/time around node would also time npm's wrapper; read the RSS from /proc instead.
peak_node=0
( while kill -0 "$tpid" 2>/dev/null; do
    r=$(awk '/VmHWM/ {print $2}' "/proc/$tpid/status" 2>/dev/null || echo 0)
    echo "${r:-0}" >tus.hwm
    sleep 0.2
  done ) &
hwm_pid=$!
track "$hwm_pid"
node "$repo/tests/interop/swarm.mjs" "$(head -1 tus.url)" small.list --concurrency "$uploads" \
  --json peer-a.json >/dev/null || die "uploads into @tus/server failed"
sleep 0.3
peak_node=$(awk '{printf "%.1f", $1/1024}' tus.hwm)
kill "$tpid"
wait "$tpid" 2>/dev/null || true
stored=$(find tus-a -type f ! -name '*.json' | wc -l)
[[ $stored == "$uploads" ]] || die "@tus/server stored $stored uploads, expected $uploads"
# Both stored what was sent, byte for byte (once: the first round).
sums() { find "$@" -type f ! -name '*.json' ! -name '*.minisig' -exec b2sum {} + | cut -d' ' -f1 | sort; }
[[ $(sums tus-a) == "$(sums sm)" ]] || die "@tus/server stored other bytes than were sent"

row_a() {  # LABEL JSON RSS
  /usr/bin/python3 - "$@" <<'EOF'
import json, sys
label, path, rss = sys.argv[1:4]
j = json.load(open(path))
l = j["latency_ms"]
print(f"| {label} | {j['count']} | {j['wall_s']:.2f} | {j['per_s']:.1f} | {l['p50']:.0f} | {l['p99']:.0f} | {rss} |")
EOF
}
ratio=$(/usr/bin/python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["per_s"] / json.load(open(sys.argv[2]))["per_s"]))' ours-a.json peer-a.json)

# ---------------------------------------------------------------- b) peak hour
peak_rows=()
if [[ -z ${SKIP_PEAK:-} ]]; then
  echo "b) building the peak-hour mix: $peak_n studies, sizes / $scale ..." >&2
  # Sealed bytes per 512x512 slice (measured on make-study's data: ~0.37 MB).
  /usr/bin/python3 - "$peak_n" "$scale" >mix.txt <<'EOF'
import random, sys
n, scale = int(sys.argv[1]), float(sys.argv[2])
rng = random.Random(900)
per_slice = 0.373e6
for i in range(n):
    r = rng.random()
    kind, (lo, hi) = ("CR", (10, 30)) if r < 0.60 else ("CT", (100, 500)) if r < 0.85 else ("MR", (30, 200))
    full = rng.uniform(lo, hi) * 1e6
    slices = max(1, round(full / scale / per_slice))
    print(kind, int(full), slices)
EOF
  maxk=$(awk '{if ($3 > m) m = $3} END {print m}' mix.txt)
  full_bytes=$(awk '{s += $2} END {printf "%.0f", s}' mix.txt)
  /usr/bin/python3 "$here/make-study.py" base --slices "$maxk" --size 512 >/dev/null
  mkdir -p plain peak
  for k in $(awk '{print $3}' mix.txt | sort -un); do
    mkdir -p "sub$k"
    ls base | head -n "$k" | while read -r f; do ln -s "$T/base/$f" "sub$k/$f"; done
    iep-pack -i keys/a.id -o "plain/$k.tar.zst" "sub$k" || die "iep-pack of $k slices failed"
  done
  i=0
  while read -r kind full k; do
    i=$((i + 1))
    iep-send -i keys/a.id --from sites/trust-a.card --to trust-b --output "peak/$kind-$i.iep" - \
      <"plain/$k.tar.zst" >/dev/null 2>&1 || die "sealing peak study $i failed"
    echo "$T/peak/$kind-$i.iep"
  done <mix.txt >peak.list
  peak_bytes=$(du -cb peak/*.iep | tail -1 | cut -f1)
  sync
  echo "b) replaying $peak_n studies ($((peak_bytes / 1048576)) MiB) with $peak_c at a time ..." >&2
  hub_init "$T/hub-b"
  run_hub
  node "$repo/tests/interop/swarm.mjs" "$HUB/v1/uploads" peak.list --concurrency "$peak_c" \
    --token-file "$T/tokens/a" --json ours-b.json >/dev/null || die "peak-hour uploads failed"
  got=$(mailbox_count)
  [[ $got == "$peak_n" ]] || die "trust-b's mailbox has $got packages, expected $peak_n"
  stop_timed "$TIME_PID" "$HUB_PID"
  rss_peak=$(rss_mib hub.time)
  peak_rows+=("$(/usr/bin/python3 - ours-b.json "$full_bytes" "$peak_bytes" "$scale" "$rss_peak" "$peak_n" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
full, scaled, scale, rss, n = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
rate = scaled / j["wall_s"]
full_s = full / rate
l = j["latency_ms"]
print(f"| {n} studies, sizes / {scale} | {scaled / 2**20:.0f} MiB | {j['wall_s']:.1f} s | {j['mib_s']:.0f} MiB/s | "
      f"{j['per_s']:.1f} | {l['p50']:.0f} / {l['p99']:.0f} ms | **{3600 / j['wall_s']:.0f}x** | "
      f"{full / 2**30:.1f} GiB in {full_s:.0f} s: **{3600 / full_s:.1f}x** | {rss} |")
EOF
)")
fi

echo
echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/Mem:/ {print $2}') GiB RAM; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "a) $uploads concurrent uploads of small sealed studies ($((small_bytes / uploads)) bytes each on average), one process of tus-js-client"
echo
echo "| server | uploads | wall s | uploads/s | p50 ms | p99 ms | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
row_a "iep-serve (commit each)" ours-a.json "$rss_ours"
row_a "@tus/server + file store (no commit)" peer-a.json "$peak_node"
echo
echo "iep-serve / @tus/server uploads/s: **$ratio**; iep-serve peak RSS $rss_ours MiB (target < 256)"
if ((${#peak_rows[@]})); then
  echo
  echo "b) peak hour, $peak_c uploads at a time (latency = creation to commit)"
  echo
  echo "| replay | sealed bytes | wall | rate | studies/s | p50 / p99 | vs 1 h | full size, extrapolated | hub RSS MiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${peak_rows[@]}"
fi
