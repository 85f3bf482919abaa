#!/usr/bin/env bash
# Delivery latency: with `iep-fetch --watch` running at trust-b, the time from
# the hub's commit of a package (its timeline's "committed") to the study
# appearing in trust-b's output folder. Target: under 1 s plus the transfer
# (download, verify, open), which is measured beside it as `iep-open` of the
# same package from a local file (the transfer on loopback costs little more).
# SMALL (10) packages of a 20-slice study, then BIG (3) of the DATA_DIR study.
#
# usage: tests/bench/bench-delivery.sh [DATA_DIR] [BUILD_DIR]
# env: SMALL, BIG
# Exits non-zero when a command fails, a study does not arrive in 120 s or
# arrives incomplete or changed (the first of each size is hashed file by
# file against what was sent).
name=bench-delivery
. "$(dirname "${BASH_SOURCE[0]}")/lib-hub.sh"
small_n=${SMALL:-10}
big_n=${BIG:-3}

hub_start -q
/usr/bin/python3 "$here/make-study.py" small --slices 20 --size 512 >/dev/null
mkdir -p out
# The receiver, as a service.
iep-fetch -i keys/b.id --hub "$HUB" --token-file tokens/b --state state-b -o out --watch \
  >watch.log 2>&1 &
track $!
# A watcher notes when each new entry appears in out/ (polling every 2 ms).
/usr/bin/python3 - out appear.log <<'EOF' &
import os, sys, time
out, log = sys.argv[1], sys.argv[2]
seen = set(os.listdir(out))
with open(log, "a", buffering=1) as f:
    while True:
        now = time.time()
        for e in os.listdir(out):
            if e not in seen and not e.startswith("."):
                seen.add(e)
                f.write(f"{e} {now:.6f}\n")
        time.sleep(0.002)
EOF
track $!

rows=()
# deliver LABEL STUDY N FILES: N packages of STUDY, one after the other.
deliver() {
  local label=$1 study=$2 n=$3 files=$4 i id before lat open_s
  for ((i = 1; i <= n; i++)); do
    rm -f d.iep d.iep.minisig
    iep-send -i keys/a.id --to trust-b --output d.iep "$study" >/dev/null || die "sealing failed"
    id=$(package_id d.iep)
    open_s=$( { /usr/bin/time -f %e iep-open -i keys/b.id --from sites/trust-a.card d.iep -o open-ref >/dev/null; } 2>&1) ||
      die "iep-open of the local package failed"
    rm -rf open-ref
    before=$(wc -l <appear.log)
    node "$INTEROP/tus-upload.mjs" "$HUB/v1/uploads" d.iep --token-file tokens/a \
      --metadata-file signature=d.iep.minisig >/dev/null || die "upload of $id failed"
    for ((w = 0; w < 12000; w++)); do
      (($(wc -l <appear.log) > before)) && break
      sleep 0.01
    done
    (($(wc -l <appear.log) > before)) || die "package $id did not arrive within 120 s: $(tail -3 watch.log)"
    read -r entry at < <(tail -1 appear.log)
    got=$(find "out/$entry" -type f -name '*.dcm' | wc -l)
    [[ $got == "$files" ]] || die "out/$entry has $got DICOM files, expected $files"
    if ((i == 1)); then
      [[ $(content "out/$entry") == "$(content "$study")" ]] || die "out/$entry holds other bytes than $study"
    fi
    hcurl a -f "$HUB/v1/packages/$id" -o tl.json || die "no timeline for $id"
    lat=$(/usr/bin/python3 - tl.json "$at" <<'EOF'
import json, sys, datetime
j = json.load(open(sys.argv[1]))
c = datetime.datetime.strptime(j["committed"].replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
print("%.3f" % (float(sys.argv[2]) - c.timestamp()))
EOF
)
    echo "$label $lat $open_s" >>lat.txt
  done
}
deliver small small "$small_n" 20
deliver big "$data" "$big_n" "$in_files"

echo
machine
echo "receiver: iep-fetch --watch into a folder; latency = study visible in the folder - hub's commit time"
echo
/usr/bin/python3 - lat.txt "$(du -sm small | cut -f1)" "$(du -sm "$data" | cut -f1)" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
mib = {"small": sys.argv[2], "big": sys.argv[3]}
print("| package | n | latency median s | latency max s | iep-open local s (median) | latency - open (median) |")
print("|---|---:|---:|---:|---:|---:|")
for label in ("small", "big"):
    lat = [float(r[1]) for r in rows if r[0] == label]
    op = [float(r[2]) for r in rows if r[0] == label]
    if not lat:
        continue
    ml, mo = statistics.median(lat), statistics.median(op)
    print(f"| {label} ({mib[label]} MiB of DICOM) | {len(lat)} | {ml:.3f} | {max(lat):.3f} | {mo:.2f} | **{ml - mo:.3f}** |")
EOF
echo
echo "Target: latency - open under 1 s."
