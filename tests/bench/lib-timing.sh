# Timing helpers shared by the benchmarks (bench-seal.sh, lib-hub.sh). The
# caller sets runs, warmup, have_hyperfine, scratch (a folder for outputs)
# and die().

# median_sd: the numbers on stdin, one per line; print "median stddev".
median_sd() {
  sort -g | awk '{a[NR]=$1; s+=$1; q+=$1*$1}
    END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; v=(NR>1)?(q-s*s/NR)/(NR-1):0; printf "%.4f %.4f\n", m, sqrt(v>0?v:0)}'
}

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
    printf '%s\n' "${times[@]}" | median_sd
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

# interleaved_times NAME PREP_A CMD_A PREP_B CMD_B [PROC_PID]: time A and B
# alternately (warmup + runs pairs), so that the load of a shared machine
# hits both alike; print "wallA sdA wallB sdB cpuA cpuB procA": median wall
# seconds with their standard deviations, the median CPU seconds (user +
# sys of the command and its children) of each, and the median CPU seconds
# PROC_PID (a server the command talks to, e.g. the hub) spent during A.
interleaved_times() {
  local name=$1 prep_a=$2 cmd_a=$3 prep_b=$4 cmd_b=$5 pid=${6:-} i side prep cmd p0 p1
  local -a wa=() wb=() ca=() cb=() pa=()
  _proc_cpu() { [[ -n $pid ]] && awk '{print ($14 + $15) / 100}' "/proc/$pid/stat" || echo 0; }
  _stats() { printf '%s\n' "$@" | median_sd | tr -d '\n'; }
  for ((i = 0; i < warmup + runs; i++)); do
    for side in a b; do
      if [[ $side == a ]]; then prep=$prep_a cmd=$cmd_a; else prep=$prep_b cmd=$cmd_b; fi
      bash -c "$prep" || die "$name: prepare failed: $prep"
      p0=$(_proc_cpu)
      /usr/bin/time -f '%e %U %S' -o "$scratch/$name.time" bash -c "$cmd" >/dev/null 2>"$scratch/$name.err" ||
        { cat "$scratch/$name.err" >&2; die "$name failed: $cmd"; }
      p1=$(_proc_cpu)
      ((i < warmup)) && continue
      read -r e u s <"$scratch/$name.time"
      if [[ $side == a ]]; then
        wa+=("$e") ca+=("$(echo "$u + $s" | bc -l)") pa+=("$(echo "$p1 - $p0" | bc -l)")
      else
        wb+=("$e") cb+=("$(echo "$u + $s" | bc -l)")
      fi
    done
  done
  echo "$(_stats "${wa[@]}") $(_stats "${wb[@]}") $(_stats "${ca[@]}" | cut -d' ' -f1) $(_stats "${cb[@]}" | cut -d' ' -f1) $(_stats "${pa[@]}" | cut -d' ' -f1)"
}

# time_run NAME CMD...: run CMD once (output discarded) and append "wall cpu"
# in seconds (cpu = user + sys of CMD and its children) to $scratch/NAME.times.
# For benchmarks that interleave the commands they compare, round after round,
# so that the noise of a shared machine hits each of them alike. A failing CMD
# ends the benchmark.
time_run() {
  local name=$1 t0 t1
  shift
  t0=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$scratch/$name.cpu" "$@" >/dev/null 2>"$scratch/$name.err" ||
    { cat "$scratch/$name.err" >&2; die "$name failed: $*"; }
  t1=$(date +%s.%N)
  awk -v w="$(echo "$t1 - $t0" | bc -l)" 'END {printf "%.4f %.2f\n", w, $1 + $2}' \
    "$scratch/$name.cpu" >>"$scratch/$name.times"
}

# cpu_of CMD: the CPU seconds (user + sys, children included) of one run of CMD.
cpu_of() {
  /usr/bin/time -f "%U %S" -o "$scratch/cpu.txt" bash -c "$1" >/dev/null || die "failed: $1"
  awk '{print $1 + $2}' "$scratch/cpu.txt"
}
# median_cpu CMD: the median of three cpu_of CMD.
median_cpu() { for _ in 1 2 3; do cpu_of "$1"; done | median_sd | cut -d' ' -f1; }

# fastest NAME: "wall cpu" of the run of NAME with the least wall time.
fastest() { sort -g "$scratch/$1.times" | head -n 1; }
