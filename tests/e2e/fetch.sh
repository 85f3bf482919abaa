# iep-fetch against a real hub (iep-serve on loopback): studies arrive
# byte-identical and are acknowledged with a receipt only once durable; a
# receiver killed between delivery and acknowledgement delivers the study
# exactly once; a failing --exec leaves the package unacknowledged; a
# package offered again after its acknowledgement (a hub restored from a
# backup: a real replaying hub) is refused with exit 18; --stdout, --watch
# (stopped by SIGTERM), --max-unpack, a changed sender card, --no-wait.
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/interop/hub-lib.sh"
make_sites
A=$T/keys/a.id B=$T/keys/b.id
hub_init "$T/hub"
hub_start
mkdir -p ct mr rt
cp "$CORPUS/CT_small.dcm" ct/
cp "$CORPUS/MR_small.dcm" mr/
cp "$CORPUS/rtplan.dcm" rt/
mailbox_count() { mailbox_ids "$1" | wc -l; }
acked() { hcurl a "$HUB/v1/packages/$1" | json_get /dev/stdin 'j["recipients"][0]["acknowledged"] is not None'; }

expect 0 "send CT" -- send_to_hub "$HUB" a ct --json
ct=$(json_get "$T/.out" 'j["package"]')
expect 0 "send MR" -- send_to_hub "$HUB" a mr --json
mr=$(json_get "$T/.out" 'j["package"]')

# --- A receiver killed (-9) after the study is in OUT, before the ack.
expect 137 "iep-fetch killed by its --exec, before acknowledging" -- \
  fetch_from_hub "$HUB" b out --exec 'kill -9 $PPID'
assert "the first study is complete in OUT" -- test -f "out/$ct/MANIFEST.json"
assert "and not acknowledged" -- test "$(acked "$ct")" = False
expect 0 "the next run" -- fetch_from_hub "$HUB" b out --json
assert "reports the CT study as already delivered" -- \
  grep -q "\"outcome\":\"already-delivered\",\"package\":\"$ct\"" "$T/.out"
assert "and the MR study as delivered" -- grep -q "\"outcome\":\"delivered\",\"package\":\"$mr\"" "$T/.out"
assert "each study exactly once in OUT" -- test "$(ls out | wc -l)" -eq 2
assert "no partial folder left" -- test -z "$(ls -A out | grep '^\.')"
assert "CT byte-identical" -- test "$(hashes ct)" = "$(hashes "out/$ct")"
assert "MR byte-identical" -- test "$(hashes mr)" = "$(hashes "out/$mr")"
assert "both acknowledged" -- test "$(acked "$ct") $(acked "$mr")" = "True True"
assert "the mailbox is empty" -- test "$(mailbox_count b)" -eq 0
nothing_left "no download kept after the ack" "$T"/state-b/fetch/*.sealed
expect 0 "an empty mailbox is not an error" -- fetch_from_hub "$HUB" b out

# --- Killed (-9) in the middle of a download: the re-run resumes it (Range).
make_study big 24
expect 0 "send a bigger study" -- send_to_hub "$HUB" a big --json
big=$(json_get "$T/.out" 'j["package"]')
bsize=$(json_get "$T/.out" 'j["size"]')
iep-fetch -i "$B" --hub "$HUB" --token-file "$T/tokens/b" --state "$T/state-b" -o out \
  --limit-rate 500K >/dev/null 2>&1 &
pid=$!
for _ in $(seq 200); do
  [ "$(stat -c %s "$T/state-b/fetch/$big.sealed" 2>/dev/null || echo 0)" -gt 600000 ] && break
  sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2>/dev/null
part=$(stat -c %s "$T/state-b/fetch/$big.sealed" 2>/dev/null || echo 0)
assert "killed with part of the package downloaded ($part of $bsize)" -- \
  test "$part" -gt 0 -a "$part" -lt "$bsize"
assert "nothing of it in OUT yet" -- test ! -e "out/$big"
expect 0 "the re-run" -- fetch_from_hub "$HUB" b out -v
assert "the rest came with a range request" -- grep -q "GET .*/v1/mailbox/$big -> 206" "$T/.err"
assert "the study arrived byte-identical" -- test "$(hashes big)" = "$(hashes "out/$big")"

# --- The partial download is not fsynced: bytes damaged in it (a crash, a
# bad disk) are found by the hashes on the resume, nothing is delivered, and
# the run after that downloads it whole again.
make_study big2 24
expect 0 "send another bigger study" -- send_to_hub "$HUB" a big2 --json
big2=$(json_get "$T/.out" 'j["package"]')
iep-fetch -i "$B" --hub "$HUB" --token-file "$T/tokens/b" --state "$T/state-b" -o out \
  --limit-rate 500K >/dev/null 2>&1 &
pid=$!
for _ in $(seq 200); do
  [ "$(stat -c %s "$T/state-b/fetch/$big2.sealed" 2>/dev/null || echo 0)" -gt 600000 ] && break
  sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2>/dev/null
printf 'XXXXXXXX' | dd of="$T/state-b/fetch/$big2.sealed" bs=1 seek=300000 conv=notrunc 2>/dev/null
expect 7 "the resume over damaged partial bytes" -- fetch_from_hub "$HUB" b out
assert "nothing of it in OUT" -- test ! -e "out/$big2"
assert "no temporary folder left in OUT (the killed run's is cleared)" -- test -z "$(ls -A out | grep '^\.')"
nothing_left "the damaged partial file is dropped" "$T/state-b/fetch/$big2.sealed"
expect 0 "the next run downloads it whole" -- fetch_from_hub "$HUB" b out -v
assert "without a range request" -- sh -c "! grep -q 'GET .*/v1/mailbox/$big2 -> 206' '$T/.err'"
assert "the study arrived byte-identical" -- test "$(hashes big2)" = "$(hashes "out/$big2")"

# --- --exec: its environment; a failure leaves the package for next time.
expect 0 "send RT" -- send_to_hub "$HUB" a rt --json
rt=$(json_get "$T/.out" 'j["package"]')
expect 9 "a failing --exec" -- fetch_from_hub "$HUB" b out --exec 'exit 3'
assert "it says the package is not acknowledged" -- grep -q "not acknowledged" "$T/.err"
assert "still waiting in the mailbox" -- test "$(mailbox_count b)" -eq 1
expect 0 "--exec sees the study" -- fetch_from_hub "$HUB" b out \
  --exec 'echo "$IEP_PACKAGE $IEP_SENDER $IEP_STUDY_DIR" > "'"$T"'/exec.env"'
assert "IEP_PACKAGE, IEP_SENDER, IEP_STUDY_DIR" -- \
  test "$(cat exec.env)" = "$rt trust-a $T/out/$rt"
assert "RT delivered once" -- test "$(ls out | wc -l)" -eq 5

# --- A replaying hub: restored from a backup taken before the ack.
expect 0 "send CT again (a new copy of the folder, a new package)" -- \
  sh -c "cp -r ct ct2 && iep-send -i '$A' --to trust-b --hub '$HUB' --token-file '$T/tokens/a' --state '$T/state-a' --json ct2"
ct2=$(json_get "$T/.out" 'j["package"]')
hub_stop
hub_backup "$T/hub" hub.backup
hub_start
expect 0 "fetch and acknowledge it" -- fetch_from_hub "$HUB" b out
hub_stop
hub_restore "$T/hub" hub.backup
hub_start
assert "the restored hub offers it again" -- test "$(mailbox_ids b)" = "$ct2"
expect 18 "iep-fetch refuses the replayed package" -- fetch_from_hub "$HUB" b out --json
assert "it says replayed" -- grep -q '"outcome":"replayed"' "$T/.out"
assert "the message names the package" -- grep -q "$ct2.*acknowledged before" "$T/.err"
assert "no second copy" -- test "$(ls out | wc -l)" -eq 6

# --- --stdout: the plain package on a pipe, checked by iep-verify.
expect 0 "send MR for the pipe" -- sh -c "cp -r mr mr2 && iep-send -i '$A' --to trust-c --hub '$HUB' --token-file '$T/tokens/a' --state '$T/state-a' mr2"
expect 0 "trust-c fetches onto stdout" -- \
  sh -c "iep-fetch -i '$T/keys/c.id' --hub '$HUB' --token-file '$T/tokens/c' --state '$T/state-c' --stdout > plain.tar.zst"
expect 0 "the plain package verifies" -- iep-verify plain.tar.zst
expect 0 "and unpacks to the MR file" -- sh -c "mkdir -p plainout && zstd -dc plain.tar.zst | tar -x -C plainout"
assert "MR byte-identical through the pipe" -- test "$(hashes mr)" = "$(hashes plainout)"

# --- --max-unpack: a package that would unpack to more is refused, nothing left.
expect 0 "send MR to trust-c again" -- sh -c "cp -r mr mr3 && iep-send -i '$A' --to trust-c --hub '$HUB' --token-file '$T/tokens/a' --state '$T/state-a' mr3"
expect 7 "--max-unpack 1K" -- \
  iep-fetch -i "$T/keys/c.id" --hub "$HUB" --token-file "$T/tokens/c" --state "$T/state-c" -o cout --max-unpack 1K
assert "nothing in OUT" -- test -z "$(ls -A cout)"
assert "not acknowledged" -- test "$(mailbox_count c)" -eq 1
expect 0 "with the default bound it is delivered" -- \
  iep-fetch -i "$T/keys/c.id" --hub "$HUB" --token-file "$T/tokens/c" --state "$T/state-c" -o cout

# --- A sender card that changed on the hub is refused until accepted.
mkdir -p "$T/sites2" && cp "$T/sites/"*.card "$T/sites2/"
cp "$T/sites/trust-a.card" a.card.orig
iep-keygen --site trust-a -o "$T/keys/a2.id" -c a2.card >/dev/null
cp a2.card "$T/sites/trust-a.card"
cp -r ct ct4
expect 0 "send CT once more" -- sh -c "IEP_SITES='$T/sites2' iep-send -i '$A' --to trust-b --hub '$HUB' --token-file '$T/tokens/a' --state '$T/state-a' ct4"
expect 10 "the sender's card is not the pinned one" -- fetch_from_hub "$HUB" b out
assert "the message says how to accept it" -- grep -q -- "--accept-card trust-a" "$T/.err"
cp a.card.orig "$T/sites/trust-a.card"

# --- --watch: delivers what arrives, exits 0 on SIGTERM.
iep-fetch -i "$B" --hub "$HUB" --token-file "$T/tokens/b" --state "$T/state-b" -o out \
  --watch --wait 5 --json >watch.out 2>watch.err &
w=$!
cp -r mr mr5
expect 0 "send while watching" -- send_to_hub "$HUB" a mr5 --json
m5=$(json_get "$T/.out" 'j["package"]')
for _ in $(seq 200); do
  grep -q "$m5" watch.out 2>/dev/null && break
  sleep 0.05
done
assert "the watcher delivered it" -- test -f "out/$m5/MANIFEST.json"
assert "and acknowledged it" -- test "$(acked "$m5")" = True
expect 17 "--no-wait while the watcher holds the state" -- fetch_from_hub "$HUB" b out --no-wait
kill -TERM "$w"
wait "$w"
assert "the watcher exited 0 on SIGTERM" -- test $? -eq 0
# A package whose --exec fails is tried again a minute later, not in a loop.
cp -r ct ct6
expect 0 "send one more" -- send_to_hub "$HUB" a ct6
iep-fetch -i "$B" --hub "$HUB" --token-file "$T/tokens/b" --state "$T/state-b" -o out \
  --watch --wait 1 --exec "echo run >> '$T/runs'; exit 3" >/dev/null 2>watch2.err &
w=$!
for _ in $(seq 200); do
  [ -s "$T/runs" ] && break
  sleep 0.05
done
sleep 3
kill -TERM "$w"
wait "$w"
assert "the watcher exited 0" -- test $? -eq 0
assert "the failing command ran once in those seconds" -- test "$(wc -l <"$T/runs")" -eq 1
assert "the package is still waiting" -- test "$(mailbox_count b)" -eq 1
# A hub listing another BLAKE2b-512 than the one the sender signed: refused
# before a byte is downloaded (the listed hash is checked against the
# signature; the bytes are not hashed again), fetched once it is right.
expect 0 "delivered, not acknowledged: the one waiting" -- fetch_from_hub "$HUB" b out
cp -r ct ct7
expect 0 "send a package to be listed wrong" -- send_to_hub "$HUB" a ct7 --json
ct7=$(json_get "$T/.out" 'j["package"]')
right=$(hub_sql "$T/hub" "SELECT blake2b FROM packages WHERE id='$ct7'")
hub_stop
hub_sql "$T/hub" "UPDATE packages SET blake2b='$(printf 'ab%.0s' $(seq 64))' WHERE id='$ct7'"
hub_start
expect 5 "a listed BLAKE2b-512 the sender's signature does not cover" -- fetch_from_hub "$HUB" b out
assert "it says so" -- grep -q "listed BLAKE2b-512" "$T/.err"
assert "nothing downloaded" -- test ! -s "$T/state-b/fetch/$ct7.sealed"
assert "nothing opened" -- test ! -e "out/$ct7"
hub_stop
hub_sql "$T/hub" "UPDATE packages SET blake2b='$right' WHERE id='$ct7'"
hub_start
expect 0 "listed right, it is delivered" -- fetch_from_hub "$HUB" b out
assert "it is there" -- test -d "out/$ct7"
assert "the mailbox is empty now" -- test "$(mailbox_count b)" -eq 0
expect 2 "neither --out nor --stdout" -- iep-fetch -i "$B" --hub "$HUB" --token-file "$T/tokens/b"
finish
