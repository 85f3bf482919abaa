# Where decrypted data can rest (iep(7)): a run stopped by SIGTERM, SIGINT or
# SIGHUP removes its partial output and temporary files and dies of the
# signal; a run killed with -9 leaves its partial folder until the next run
# for the same destination removes it, never one a live run holds; a partial
# folder swapped for a symbolic link receives nothing. No timing is
# asserted: each stop comes once the partial folder has appeared.
. "$(dirname "$0")/lib.sh"
make_sites
A=$T/keys/a.id B=$T/keys/b.id
make_study study 16
expect 0 "seal a study" -- iep-send -i "$A" --to trust-b --output s.iep study
size=$(stat -c %s s.iep)
half=$((size / 2))
assert "the package is large enough to stop halfway ($size bytes)" -- test "$size" -gt 1000000
head -c "$half" s.iep >s.head
tail -c +$((half + 1)) s.iep >s.tail
mkdir -p tmp
export TMPDIR=$T/tmp

pid=
cleanup() {
  if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null; fi
  exec 3>&- 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

# waitfor GLOB: until a file exists under something matching GLOB (at most
# a minute: a bound on a hang, not a timing assertion).
waitfor() {
  local i
  for i in $(seq 600); do
    if find $1 -type f 2>/dev/null | grep -q .; then return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# start_open DEST: iep-open reads the package from a FIFO that has had its
# first half; returns once DEST's partial folder holds a decrypted file.
start_open() {
  rm -f fifo && mkfifo fifo
  iep-open -i "$B" -o "$1" fifo 2>"$T/open.err" &
  pid=$!
  exec 3>fifo
  cat s.head >&3
  assert "$1: its partial folder appears with decrypted files" -- waitfor ".$1.partial-*"
}

# stopped DEST: the partial folder left of DEST (none, or one with files).
partials() { find . -maxdepth 1 -name ".$1.partial-*" | wc -l; }

# kill -9 leaves the decrypted files, until the next run for the destination.
start_open out
kill -9 "$pid"; wait "$pid"; pid=; exec 3>&-
assert "kill -9 leaves a partial folder" -- test "$(partials out)" -eq 1
start_open out
kill -9 "$pid"; wait "$pid"; pid=; exec 3>&-
assert "the second run removed the first's: one partial folder, not two" -- test "$(partials out)" -eq 1
expect 0 "a whole run" -- iep-open -i "$B" -o out s.iep
assert "no partial folder left" -- test "$(partials out)" -eq 0
assert "the study is there" -- test "$(find out -name '*.dcm' | wc -l)" -eq 16

# A live run's partial folder is not taken for a stale one.
start_open live
expect 0 "another run to the same destination meanwhile" -- iep-open -i "$B" -o live s.iep
assert "the live run's partial folder is kept" -- test "$(partials live)" -eq 1
cat s.tail >&3; exec 3>&-
wait "$pid"; code=$?; pid=
assert "the live run then finds its destination taken (exit 9, got $code)" -- test "$code" -eq 9
assert "and removes its partial folder" -- test "$(partials live)" -eq 0

# SIGTERM, SIGHUP (and SIGINT, with job control so that it is not ignored):
# nothing left, and the command dies of the signal.
for sig in TERM HUP INT; do
  [ "$sig" = INT ] && set -m
  start_open "sig$sig"
  kill -s "$sig" "$pid"; wait "$pid"; code=$?; pid=; exec 3>&-
  [ "$sig" = INT ] && set +m
  want=$((128 + $(kill -l "$sig")))
  assert "SIG$sig: dies of the signal (exit $want, got $code)" -- test "$code" -eq "$want"
  assert "SIG$sig: no partial folder left" -- test "$(partials "sig$sig")" -eq 0
  nothing_left "SIG$sig: no destination" "sig$sig"
done

# The $TMPDIR spool of the iep-anon pipe stage (forced for every entry:
# small ones are otherwise rewritten in memory), and iep-send's temporary
# output file.
expect 0 "pack the study" -- iep-pack -i "$A" -o plain.tar.zst study
expect 0 "an anonymisation key" -- iep-anon --new-key p.key
psize=$(stat -c %s plain.tar.zst)
head -c $((psize / 2)) plain.tar.zst >p.head
rm -f fifo && mkfifo fifo
IEP_ANON_SPOOL=1 iep-anon -k p.key -i "$A" - <fifo >anon.out 2>/dev/null &
pid=$!
exec 3>fifo
cat p.head >&3
assert "iep-anon spools in TMPDIR" -- waitfor "tmp/iep-rewrite-*"
kill -TERM "$pid"; wait "$pid"; code=$?; pid=; exec 3>&-
assert "iep-anon: SIGTERM exit 143, got $code" -- test "$code" -eq 143
assert "iep-anon: nothing left in TMPDIR: $(find tmp -mindepth 1 | head -3 | tr "\n" " ")" -- test -z "$(ls -A tmp)"

rm -f fifo && mkfifo fifo
iep-send -i "$A" --to trust-b --output sent.iep - <fifo 2>/dev/null &
pid=$!
exec 3>fifo
cat p.head >&3
assert "iep-send writes a temporary file beside its output" -- waitfor ".sent.iep.*.tmp"
kill -TERM "$pid"; wait "$pid"; code=$?; pid=; exec 3>&-
assert "iep-send: SIGTERM exit 143, got $code" -- test "$code" -eq 143
nothing_left "iep-send: no output, no temporary file" sent.iep .sent.iep.*.tmp

# The partial folder renamed away and replaced by a symbolic link to
# another folder: the rest of the study is not written through it.
start_open swap
p=$(find . -maxdepth 1 -name '.swap.partial-*')
mkdir evil
mv "$p" moved && ln -s evil "$p"
cat s.tail >&3; exec 3>&-
wait "$pid"; code=$?; pid=
assert "the swap is noticed (exit 9, got $code)" -- test "$code" -eq 9
assert "nothing was written through the link" -- test -z "$(ls -A evil)"
assert "the decrypted files were removed where they really were" -- test -z "$(find moved -type f)"
nothing_left "no destination" swap
rm -f "$p"

finish
