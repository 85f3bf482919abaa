# Timing helpers shared by the benchmarks (bench-seal.sh, lib-hub.sh). The
# caller sets runs, warmup, have_hyperfine, scratch (a folder for outputs)
# and die().

# median_time NAME PREPARE CMD: time CMD (after PREPARE each run), print
# "median stddev" in seconds. A failing CMD ends the benchmark.
median_time() {
  local name=$1 prep=$2 cmd=$3
  if ((have_hyperfine)); then
    hyperfine --shell=bash --style=none --warmup "$warmup" --runs "$runs" \
      --prepare "$prep" --export-json "$scratch/$name.json" "$cmd" >/dev/null 2>"$scratch/$name.err" ||
      { cat "$scratch/$name.err" >&2; die "$name failed: $cmd"; }
    /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.4f %.4f" % (r["median"], r["stddev"] or 0))' "$scratch/$name.json"
  else
    local i t0 t1 times=()
    for ((i = 0; i < warmup + runs; i++)); do
      bash -c "$prep" || die "$name: prepare failed: $prep"
      t0=$(date +%s.%N)
      bash -c "$cmd" >/dev/null 2>"$scratch/$name.err" || { cat "$scratch/$name.err" >&2; die "$name failed: $cmd"; }
      t1=$(date +%s.%N)
      ((i >= warmup)) && times+=("$(echo "$t1 - $t0" | bc -l)")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1; s+=$1; q+=$1*$1}
      END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; v=(NR>1)?(q-s*s/NR)/(NR-1):0; printf "%.4f %.4f\n", m, sqrt(v>0?v:0)}'
  fi
}

# peak_rss PREPARE CMD: run once under /usr/bin/time -v, print "max-RSS-MiB cpu-seconds".
# For a pipeline the RSS is the largest single process, not the sum; the CPU
# time (user + sys) is the sum over all its processes.
peak_rss() {
  bash -c "$1" || die "prepare failed: $1"
  /usr/bin/time -v -o "$scratch/rss.txt" bash -c "$2" >/dev/null 2>"$scratch/rss.err" ||
    { cat "$scratch/rss.err" >&2; die "failed: $2"; }
  awk -F: '/Maximum resident set size/ {r=$2/1024} /User time/ {c+=$2} /System time/ {c+=$2}
    END {printf "%.1f %.2f\n", r, c}' "$scratch/rss.txt"
}

# timed_run NAME CMD: run CMD once (bash), append its wall seconds to
# $scratch/NAME.wall; a failing CMD ends the benchmark. For interleaving
# two commands run by run, so that noise from the machine hits both.
timed_run() {
  local t0 t1
  t0=$(date +%s.%N)
  bash -c "$2" >/dev/null 2>"$scratch/$1.err" || { cat "$scratch/$1.err" >&2; die "$1 failed: $2"; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l >>"$scratch/$1.wall"
}

# median_of FILE: the median of the numbers in FILE, one a line.
median_of() {
  sort -g "$1" | awk '{a[NR]=$1} END {printf "%.4f\n", (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'
}
