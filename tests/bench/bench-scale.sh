#!/usr/bin/env bash
# Ingest and commit latency of the hub on its three shapes, same workload,
# one run:
#   1 node,  SQLite + files (the embedded default)
#   1 node,  PostgreSQL + files, and SQLite + S3 (what each engine costs)
#   1 node,  PostgreSQL + S3 (moto_server)
#   2 nodes, PostgreSQL + S3, the uploads split between them
# Workloads (tus-js-client swarms, commit by signature metadata):
#   a) SMALL (200) small sealed studies, SMALL_C (32) at a time
#   b) MEDIUM (16) sealed studies of ~MEDIUM_SLICES (48) 512x512 slices
#      (~20 MB each, three S3 parts), MEDIUM_C (4) at a time
# Prints uploads/s, MiB/s and creation-to-commit latency p50/p99 per shape,
# and the ratio of each shape to the embedded default. PostgreSQL and moto
# run on the same 2 cores as the hub nodes and the clients: the 2-node row
# shows contention, not scaling (see RESULTS.md).
#
# usage: tests/bench/bench-scale.sh [BUILD_DIR]
# Exits non-zero when a command fails or a package is not committed, never
# because of slowness.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$repo/build-bench}" && pwd)
small_n=${SMALL:-200} small_c=${SMALL_C:-32}
med_n=${MEDIUM:-16} med_slices=${MEDIUM_SLICES:-48} med_c=${MEDIUM_C:-4}

die() { echo "bench-scale: $*" >&2; exit 1; }
for t in iep-keygen iep-send iep-serve; do
  [[ -x $build/$t ]] || die "$build/$t not found: build it first (see tests/bench/README.md)"
done
bash "$repo/tests/interop/install.sh" --quiet || die "npm peers could not be installed"

mkdir -p "$here/data"
T=$(mktemp -d "$here/data/.work-scale.XXXXXX")
IEP_SRC=$repo
export PATH="$build:$PATH" LC_ALL=C
. "$repo/tests/interop/hub-lib.sh"
. "$repo/tests/e2e/pg_lib.bash"
. "$repo/tests/e2e/s3_lib.bash"
cd "$T"
export HOME=$T/home IEP_SITES=$T/sites
mkdir -p "$HOME" sites keys
for s in a b c; do
  iep-keygen --site "trust-$s" -o "keys/$s.id" -c "sites/trust-$s.card" >/dev/null
done
echo "starting PostgreSQL and moto_server ..." >&2
trap 'code=$?; pg_stop "$T/pg" 2>/dev/null; (exit $code); _iep_cleanup' EXIT
pg_start "$T/pg" >/dev/null
s3_start "$T/s3" >/dev/null
track "$S3_PID"

echo "sealing the workloads ..." >&2
/usr/bin/python3 "$here/make-study.py" small --slices 2 --size 256 >/dev/null
/usr/bin/python3 "$here/make-study.py" medium --slices "$med_slices" --size 512 >/dev/null
mkdir -p sm md
for ((i = 1; i <= small_n; i++)); do
  iep-send -i keys/a.id --to trust-b --output "sm/s$i.iep" small >/dev/null 2>&1 || die "iep-send --output failed"
  echo "$T/sm/s$i.iep"
done >small.list
for ((i = 1; i <= med_n; i++)); do
  iep-send -i keys/a.id --to trust-b --output "md/m$i.iep" medium >/dev/null 2>&1 || die "iep-send --output failed"
  echo "$T/md/m$i.iep"
done >medium.list
mkdir -p wk
for ((i = 1; i <= 10; i++)); do  # for trust-c, whose mailbox is otherwise empty
  iep-send -i keys/a.id --to trust-c --output "wk/w$i.iep" small/IM00001.dcm >/dev/null 2>&1 || die "iep-send --output failed"
done

# shape NAME NODES ENGINE: a fresh hub of NODES nodes (ENGINE files or
# shared), both workloads through it; one JSON per workload and node.
NODES_PIDS=()
shape() {
  local name=$1 nodes=$2 engine=$3 n
  unset IEP_HUB_INDEX IEP_HUB_STORE
  if [[ $engine == shared || $engine == pg ]]; then
    IEP_HUB_INDEX=$(pg_new_db "$name")
    export IEP_HUB_INDEX
    iep-serve migrate 2>/dev/null || die "iep-serve migrate failed"
  fi
  if [[ $engine == shared || $engine == s3 ]]; then
    s3_new_bucket "$name" >/dev/null
    export IEP_HUB_STORE="s3://$name/hub?endpoint=$S3_ENDPOINT"
  fi
  hub_init "$T/$name-1"
  URLS=()
  for ((n = 1; n <= nodes; n++)); do
    mkdir -p "$T/$name-$n"
    ((n == 1)) || cp -p "$T/$name-1/hub.key" "$T/$name-$n/" 2>/dev/null || true
    rm -f "$T/$name-$n.port"
    iep-serve --data "$T/$name-$n" --listen 127.0.0.1:0 --port-file "$T/$name-$n.port" -q \
      --max-connections 1024 --per-ip-connections 1024 --max-open-uploads 1024 >>"$T/$name-$n.log" 2>&1 &
    NODES_PIDS+=($!)
    track $!
    wait_file "$T/$name-$n.port" 20 || { tail "$T/$name-$n.log" >&2; die "iep-serve did not start"; }
    URLS+=("http://127.0.0.1:$(head -1 "$T/$name-$n.port")")
  done
  local w list c
  for w in small medium; do
    list=$w.list
    c=$small_c
    [[ $w == medium ]] && c=$med_c
    local pids=()
    for ((n = 0; n < nodes; n++)); do
      awk -v n="$n" -v k="$nodes" 'NR % k == n' "$list" >"$name-$w-$n.list"
      node "$repo/tests/interop/swarm.mjs" "${URLS[$n]}/v1/uploads" "$name-$w-$n.list" \
        --concurrency $((c / nodes > 0 ? c / nodes : 1)) --token-file "$T/tokens/a" \
        --json "$name-$w-$n.json" >/dev/null &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || die "$name: $w uploads failed"; done
  done
  HUB=${URLS[0]}
  if ((nodes == 2)); then
    # c) a long poll on node 2 woken by a commit on node 1: from the commit
    # time the hub recorded to the moment the poll returned.
    for ((i = 1; i <= 10; i++)); do
      hcurl c "${URLS[1]}/v1/mailbox?wait=30" >"wake$i.json" &
      local poll=$!
      sleep 0.3
      echo "$T/wk/w$i.iep" >w.list
      node "$repo/tests/interop/swarm.mjs" "${URLS[0]}/v1/uploads" w.list --token-file "$T/tokens/a" \
        --json /dev/null >/dev/null || die "wake-up upload failed"
      wait "$poll"
      date +%s.%N >"wake$i.at"
      iep-fetch -i keys/c.id --hub "${URLS[1]}" --token-file "$T/tokens/c" --state "$T/state-c" \
        -o "$T/got-c" >/dev/null 2>&1 || die "iep-fetch of trust-c failed"
    done
  fi
  local got
  got=$(hcurl b "$HUB/v1/mailbox" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["packages"]))')
  [[ $got == $((small_n + med_n)) ]] || die "$name: trust-b's mailbox has $got packages, expected $((small_n + med_n))"
  for p in "${NODES_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  NODES_PIDS=()
}

shape files 1 files
shape pgfiles 1 pg
shape sqlites3 1 s3
shape pg1 1 shared
shape pg2 2 shared

/usr/bin/python3 - "$T" <<'EOF'
import glob, json, os, sys
t = sys.argv[1]
def load(name, w):
    js = [json.load(open(p)) for p in sorted(glob.glob(f"{t}/{name}-{w}-*.json"))]
    count = sum(j["count"] for j in js)
    wall = max(j["wall_s"] for j in js)
    mib = sum(j["mib_s"] * j["wall_s"] for j in js)
    return {"per_s": count / wall, "mib_s": mib / wall, "wall": wall, "count": count,
            "p50": max(j["latency_ms"]["p50"] for j in js), "p99": max(j["latency_ms"]["p99"] for j in js)}
shapes = [("files", "1 node, SQLite + files"), ("pgfiles", "1 node, PostgreSQL + files"),
          ("sqlites3", "1 node, SQLite + S3"), ("pg1", "1 node, PostgreSQL + S3"),
          ("pg2", "2 nodes, PostgreSQL + S3")]
for w, title in (("small", "a) small studies"), ("medium", "b) medium studies (~20 MB, 3 S3 parts)")):
    print(f"\n{title}\n")
    print("| shape | uploads | wall s | uploads/s | MiB/s | commit p50 ms | p99 ms | vs embedded |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    base = load("files", w)
    for key, label in shapes:
        r = load(key, w)
        print(f"| {label} | {r['count']} | {r['wall']:.2f} | {r['per_s']:.1f} | {r['mib_s']:.0f} | "
              f"{r['p50']:.0f} | {r['p99']:.0f} | {r['per_s'] / base['per_s']:.2f}x |")
from datetime import datetime
lat = []
for i in range(1, 11):
    pk = json.load(open(f"{t}/wake{i}.json"))["packages"]
    if not pk:
        sys.exit(f"bench-scale: the long poll {i} on node 2 returned no package")
    committed = datetime.fromisoformat(pk[0]["committed"].replace("Z", "+00:00")).timestamp()
    lat.append(float(open(f"{t}/wake{i}.at").read()) - committed)
lat.sort()
print(f"\nc) long poll on node 2 woken by a commit on node 1 (10 commits): "
      f"median {lat[4] * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms after the commit")
EOF
echo
echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/Mem:/ {print $2}') GiB RAM; load $(cut -d' ' -f1-3 /proc/loadavg)"
