# iep-send uploads to a real hub (iep-serve on loopback): real studies from
# pydicom's corpus reach trust-b byte-identical through iep-fetch; the
# timeline is complete and the receipt checks with the real minisign -V;
# a re-run sends nothing twice; two runs at once make one package; a changed
# card, a bad token, an unknown recipient and a hub that is down each end in
# their documented exit code.
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/interop/hub-lib.sh"
make_sites
A=$T/keys/a.id
hub_init "$T/hub"
hub_start
mkdir -p ct mr several
cp "$CORPUS/CT_small.dcm" ct/
cp "$CORPUS/MR_small.dcm" mr/
cp "$CORPUS/CT_small.dcm" "$CORPUS/MR_small.dcm" "$CORPUS/rtplan.dcm" several/

# mailbox_count SITE: packages waiting for SITE.
mailbox_count() { mailbox_ids "$1" | wc -l; }

# --- A first send, the result as JSON; the state keeps only the commit.
expect 0 "send a CT study" -- send_to_hub "$HUB" a ct --json
cp "$T/.out" ct.json
id=$(json_get ct.json 'j["package"]')
assert "the result names a package id" -- test "${#id}" -eq 32
assert "the result says sent, not already sent" -- test "$(json_get ct.json 'j["already_sent"]')" = False
assert "the result carries the hub's commit time" -- test -n "$(json_get ct.json 'j["committed"]')"
assert "the result has the three timings" -- \
  test "$(json_get ct.json 'sorted(j["seconds"])')" = "['commit', 'seal', 'upload']"
assert "one package in trust-b's mailbox" -- test "$(mailbox_count b)" -eq 1
sent=$(find "$T/state-a/send" -name sent.json)
assert "the state folder records the commit" -- test -f "$sent"
nothing_left "no sealed copy is kept once committed" "$(dirname "$sent")/sealed" \
  "$(dirname "$sent")/sealed.minisig" "$(dirname "$sent")/upload"
assert "the state folder is private" -- test "$(stat -c %a "$T/state-a")" = 700

# --- Re-running sends nothing again.
expect 0 "the same command again" -- send_to_hub "$HUB" a ct --json
assert "it says already sent" -- test "$(json_get "$T/.out" 'j["already_sent"]')" = True
assert "the same package id" -- test "$(json_get "$T/.out" 'j["package"]')" = "$id"
assert "stderr says so" -- grep -q "already sent as package $id" "$T/.err"
assert "still one package in the mailbox" -- test "$(mailbox_count b)" -eq 1

# --- The hub's timeline, before and after delivery.
hcurl a "$HUB/v1/packages/$id" >tl1.json
assert "timeline: committed, for trust-b, not yet fetched" -- \
  test "$(json_get tl1.json 'j["state"], [r["site"] for r in j["recipients"]], j["recipients"][0]["acknowledged"]')" = \
  "('committed', ['trust-b'], None)"
expect 0 "trust-b fetches" -- fetch_from_hub "$HUB" b out --json
assert "delivered into out/ID" -- test -d "out/$id"
assert "the CT file arrived byte-identical" -- test "$(hashes ct)" = "$(hashes "out/$id")"
hcurl a "$HUB/v1/packages/$id" >tl2.json
assert "timeline: delivered, fetched and acknowledged" -- \
  test "$(json_get tl2.json 'j["state"], j["recipients"][0]["first_fetched"] is not None, j["recipients"][0]["acknowledged"] is not None')" = \
  "('delivered', True, True)"
json_get tl2.json 'j["recipients"][0]["receipt"]["statement"]' | head -c -1 >receipt.txt
json_get tl2.json 'j["recipients"][0]["receipt"]["signature"]' >receipt.txt.minisig
expect 0 "the receipt checks with minisign -V and trust-b's card" -- \
  minisign -V -m receipt.txt -x receipt.txt.minisig -p "$T/sites/trust-b.card"
assert "the receipt names the package, its hash, both sites" -- \
  grep -q "^iep-receipt package=$id blake2b=$(json_get ct.json 'j["blake2b"]') receiver=trust-b sender=trust-a " receipt.txt
printf 'iep-receipt package=%s blake2b=0 receiver=trust-b sender=trust-a time=x\n' "$id" >forged.txt
cp receipt.txt.minisig forged.txt.minisig
expect 1 "minisign refuses an altered receipt" -- \
  minisign -V -m forged.txt -x forged.txt.minisig -p "$T/sites/trust-b.card"

# --- iep-send --status: the sender's timeline, each receipt checked against the pinned card.
status() { iep-send -i "$1" --hub "$HUB" --token-file "$T/tokens/$2" --state "$T/state-$2" --status "$3" "${@:4}"; }
expect 0 "--status of the delivered package" -- status "$A" a "$id"
assert "trust-b fetched and acknowledged after the commit, the receipt verified" -- \
  grep -Eq "^  trust-b: fetched [+-][0-9]+\.[0-9]{2} s, acknowledged [+-][0-9]+\.[0-9]{2} s, receipt verified$" "$T/.out"
assert "the timeline names the package and its state" -- grep -q "^package $id from trust-a .*: delivered$" "$T/.out"
assert "created, upload started and committed are shown" -- \
  test "$(grep -Ec '^  (created|upload started|committed) ' "$T/.out")" -eq 3
expect 0 "--status --json" -- status "$A" a "$id" --json
assert "the hub's timeline with receipt_verified true" -- \
  test "$(json_get "$T/.out" 'j["package"], j["state"], j["recipients"][0]["site"], j["recipients"][0]["receipt_verified"]')" = \
  "('$id', 'delivered', 'trust-b', True)"
expect 15 "--status of an id the hub does not know" -- status "$A" a 0123456789abcdef0123456789abcdef
stderr_names "one line naming the id" "no package 0123456789abcdef0123456789abcdef sent by trust-a"
expect 15 "--status by a recipient, not the sender" -- status "$T/keys/b.id" b "$id"
stderr_names "one line naming the real sender" "was sent by 'trust-a'"
expect 15 "--status by a site that neither sent nor received it" -- status "$T/keys/c.id" c "$id"
expect 2 "--status of a malformed id" -- status "$A" a not-an-id
expect 2 "--status with an input" -- status "$A" a "$id" ct
# The hub's index altered behind its back: the stored receipt names another sender.
hub_stop
hub_sql "$HUB_DATA" \
  "UPDATE recipients SET receipt_statement=replace(receipt_statement,'sender=trust-a','sender=trust-c') WHERE package='$id'"
hub_start
expect 5 "--status with a receipt altered at the hub" -- status "$A" a "$id"
assert "it says the receipt does not verify" -- grep -q "^  trust-b: fetched .*RECEIPT DOES NOT VERIFY" "$T/.out"
expect 5 "--status --json with the altered receipt" -- status "$A" a "$id" --json
assert "receipt_verified false" -- test "$(json_get "$T/.out" 'j["recipients"][0]["receipt_verified"]')" = False

# --- The state's sealed copy is not fsynced: a resume checks it against its
# signature first; damaged (a crash before the page cache reached the disk),
# it is sealed anew and sent whole, the old upload dropped.
make_study big 24
iep-send -i "$A" --to trust-b --hub "$HUB" --token-file "$T/tokens/a" --state "$T/state-k" \
  --limit-rate 300K --chunk-size 1 big >/dev/null 2>&1 &
pid=$!
for _ in $(seq 300); do
  [ -n "$(find "$T/state-k/send" -name sealed.minisig 2>/dev/null)" ] && break
  sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2>/dev/null
ksig=$(find "$T/state-k/send" -name sealed.minisig)
assert "killed after sealing, before the commit" -- test -n "$ksig" -a ! -e "$(dirname "$ksig")/sent.json"
oldid=$(grep -o 'package=[0-9a-f]*' "$ksig" | head -1 | cut -d= -f2)
ksize=$(stat -c %s "$(dirname "$ksig")/sealed")
printf 'XXXXXXXX' | dd of="$(dirname "$ksig")/sealed" bs=1 seek=$((ksize / 2)) conv=notrunc 2>/dev/null
expect 0 "the re-run over a damaged sealed copy" -- \
  iep-send -i "$A" --to trust-b --hub "$HUB" --token-file "$T/tokens/a" --state "$T/state-k" --json big
assert "it says the copy does not verify and seals again" -- grep -q "does not verify.*sealing again" "$T/.err"
newid=$(json_get "$T/.out" 'j["package"]')
assert "a new package, not the damaged one" -- test -n "$newid" -a "$newid" != "$oldid"
expect 0 "trust-b fetches" -- fetch_from_hub "$HUB" b outk
assert "the new package arrived byte-identical" -- test "$(hashes big)" = "$(hashes "outk/$newid")"
assert "the damaged one was never committed" -- test ! -e "outk/$oldid"

# --- A plain package on stdin: keyed by its bytes.
expect 0 "pack the MR study" -- sh -c "iep-pack -i '$A' mr > mr.tar.zst"
expect 0 "send it from stdin" -- sh -c "iep-send -i '$A' --to trust-b --hub '$HUB' \
  --token-file '$T/tokens/a' --state '$T/state-a' --json - < mr.tar.zst"
mrid=$(json_get "$T/.out" 'j["package"]')
expect 0 "the same bytes again" -- sh -c "iep-send -i '$A' --to trust-b --hub '$HUB' \
  --token-file '$T/tokens/a' --state '$T/state-a' --json - < mr.tar.zst"
assert "already sent, same package" -- \
  test "$(json_get "$T/.out" 'j["already_sent"], j["package"]')" = "(True, '$mrid')"
assert "one package waiting (the CT one was fetched)" -- test "$(mailbox_count b)" -eq 1
# Sealed and uploaded while stdin is read: nothing of it is spooled, and
# the same bytes again commit nothing (their upload is deleted on the hub).
nothing_left "no streaming folder is left" "$T"/state-a/send/.stream.*
log0=$(wc -l <"$T/hub.log")
expect 0 "the same bytes through a pipe" -- sh -c "cat mr.tar.zst | iep-send -i '$A' --to trust-b \
  --hub '$HUB' --token-file '$T/tokens/a' --state '$T/state-a' --json -"
assert "  already sent, same package" -- \
  test "$(json_get "$T/.out" 'j["already_sent"], j["package"]')" = "(True, '$mrid')"
tail -n +$((log0 + 1)) "$T/hub.log" >dup.log
assert "  its upload was created, then deleted, never committed" -- \
  sh -c "grep -Eq ' POST /v1/uploads 201' dup.log && grep -Eq ' DELETE /v1/uploads/[0-9a-f]{32} 204' dup.log &&
    ! grep -q '/commit' dup.log"
nothing_left "  and no streaming folder is left" "$T"/state-a/send/.stream.*

# Killed while reading stdin: the re-run gives up the stopped upload and
# sends the package whole, once.
make_study streamed 24
expect 0 "pack a study for a slow stdin" -- sh -c "iep-pack -i '$A' streamed > streamed.tar.zst"
log0=$(wc -l <"$T/hub.log")
( { head -c 200000 streamed.tar.zst; sleep 30; } |
  iep-send -i "$A" --to trust-b --hub "$HUB" --token-file "$T/tokens/a" --state "$T/state-a" \
    --chunk-size 1 - ) >/dev/null 2>&1 &
feeder=$!
for _ in $(seq 200); do
  ls "$T"/state-a/send/.stream.*/upload >/dev/null 2>&1 && break
  sleep 0.05
done
stopped=$(ls -d "$T"/state-a/send/.stream.* 2>/dev/null | head -1)
assert "a streaming folder with an upload while stdin is read" -- test -f "$stopped/upload"
stopped_up=$(basename "$(cat "$stopped/upload")")
pkill -9 -f "iep-send -i $A --to trust-b --hub $HUB --token-file $T/tokens/a --state $T/state-a --chunk-size 1 -"
kill "$feeder" 2>/dev/null
wait "$feeder" 2>/dev/null
expect 0 "the re-run from the whole stdin" -- sh -c "iep-send -i '$A' --to trust-b --hub '$HUB' \
  --token-file '$T/tokens/a' --state '$T/state-a' --json - < streamed.tar.zst"
assert "  it sent a package" -- test "$(json_get "$T/.out" 'j["already_sent"]')" = False
assert "  the stopped upload was deleted on the hub" -- grep -Eq " DELETE /v1/uploads/$stopped_up 204" "$T/hub.log"
nothing_left "  the stopped folder is gone" "$stopped"
assert "two packages waiting (MR, streamed)" -- test "$(mailbox_count b)" -eq 2

# Killed after sealing, before the commit: the re-run reads stdin whole,
# finds that job and resumes its upload.
make_study streamed2 24
expect 0 "pack another study" -- sh -c "iep-pack -i '$A' streamed2 > streamed2.tar.zst"
iep-send -i "$A" --to trust-b --hub "$HUB" --token-file "$T/tokens/a" --state "$T/state-a" \
  --limit-rate 300K --chunk-size 1 - <streamed2.tar.zst >/dev/null 2>&1 &
pid=$!
for _ in $(seq 400); do
  ls "$T"/state-a/send/[0-9a-f]*/sealed.minisig >/dev/null 2>&1 && break
  sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2>/dev/null
sig=$(ls "$T"/state-a/send/[0-9a-f]*/sealed.minisig 2>/dev/null | head -1)
assert "killed after sealing, in the job's own folder" -- test -f "$sig" -a ! -f "$(dirname "$sig")/sent.json"
expect 0 "the re-run" -- sh -c "iep-send -i '$A' --to trust-b --hub '$HUB' --token-file '$T/tokens/a' \
  --state '$T/state-a' -v --json - < streamed2.tar.zst"
assert "  it resumed the sealed package" -- grep -q "resuming package" "$T/.err"
assert "three packages waiting (MR, streamed, streamed2)" -- test "$(mailbox_count b)" -eq 3

# --- Several studies: refused without --split; with it, one package each, in parallel.
expect 11 "several studies without --split" -- send_to_hub "$HUB" a several
expect 0 "several studies with --split --jobs 2" -- send_to_hub "$HUB" a several --split --jobs 2 --json
assert "three results" -- test "$(wc -l <"$T/.out")" -eq 3
expect 0 "again: nothing sent" -- send_to_hub "$HUB" a several --split --jobs 2 --json
assert "all three already sent" -- test "$(grep -c '"already_sent":true' "$T/.out")" -eq 3
assert "six packages waiting for trust-b" -- test "$(mailbox_count b)" -eq 6

# --- Two runs of one input at once: one sends, the other waits or says busy.
make_study big 24
send_to_hub "$HUB" a big --limit-rate 400K >first.out 2>first.err &
first=$!
for _ in $(seq 200); do
  ls "$T"/state-a/send/*/upload >/dev/null 2>&1 && break
  sleep 0.05
done
expect 17 "a second run with --no-wait while the first sends" -- send_to_hub "$HUB" a big --no-wait
assert "it says another run holds the input" -- grep -q "another run" "$T/.err"
expect 0 "a second run that waits for the first" -- send_to_hub "$HUB" a big --json
wait "$first"
assert "the first run succeeded" -- test $? -eq 0
assert "the waiting run found it sent" -- test "$(json_get "$T/.out" 'j["already_sent"]')" = True
assert "one package for the two runs" -- test "$(mailbox_count b)" -eq 7

# --- kill -9 once the package is sealed and partly uploaded: the re-run
# resumes from the hub's offset and sends again at most one chunk.
make_study resume 24
iep-send -i "$A" --to trust-b --hub "$HUB" --token-file "$T/tokens/a" --state "$T/state-a" \
  --limit-rate 300K --chunk-size 1 resume >/dev/null 2>&1 &
pid=$!
for _ in $(seq 400); do
  ls "$T"/state-a/send/*/sealed.minisig >/dev/null 2>&1 && break
  sleep 0.05
done
sleep 1.5
kill -9 "$pid"
wait "$pid" 2>/dev/null
sig=$(ls "$T"/state-a/send/*/sealed.minisig 2>/dev/null | head -1)
assert "killed after sealing, before the commit" -- test -f "$sig" -a ! -f "$(dirname "$sig")/sent.json"
up=$(basename "$(cat "$(dirname "$sig")/upload")")
rsize=$(stat -c %s "$(dirname "$sig")/sealed")
expect 0 "the re-run" -- send_to_hub "$HUB" a resume -v --retry-time 20
assert "it resumed the sealed package" -- grep -q "resuming package" "$T/.err"
# Every PATCH of that upload, as the hub logged the bytes it read.
sum=$(grep -E "PATCH /v1/uploads/$up " "$T/hub.log" | sed -n 's/.* in=\([0-9]*\).*/\1/p' | paste -sd+ | bc)
assert "the hub read the package once, plus at most one chunk ($sum of $rsize)" -- \
  test "$sum" -ge "$rsize" -a "$sum" -le $((rsize + 1048576))
assert "eight packages for trust-b" -- test "$(mailbox_count b)" -eq 8

# --- Errors, each with its exit code.
iep-keygen --site trust-z -o "$T/keys/z.id" -c z.card >/dev/null
cp -r ct ct2
expect 15 "a recipient the hub does not know (card file)" -- send_to_hub "$HUB" a ct2 --to z.card
assert "the hub's reason is shown" -- grep -q "unknown_recipient" "$T/.err"
expect 15 "a recipient the hub does not know (name)" -- \
  iep-send -i "$A" --to trust-nobody --hub "$HUB" --token-file "$T/tokens/a" --state "$T/state-a" ct2
(umask 077 && echo "iep1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" >bad.token)
expect 16 "a token the hub does not know" -- \
  iep-send -i "$A" --to trust-b --hub "$HUB" --token-file bad.token --state "$T/state-a" ct2
assert "the token is not printed" -- sh -c "! grep -q AAAAAAAA '$T/.err'"
chmod 644 bad.token
expect 10 "a token file others can read" -- \
  iep-send -i "$A" --to trust-b --hub "$HUB" --token-file bad.token --state "$T/state-a" ct2
expect 14 "a hub that is down" -- send_to_hub "http://127.0.0.1:1" a ct2 --retry-time 1
# The hub now serves a card for trust-b that is not the pinned one.
cp "$T/sites/trust-b.card" b.card.orig
iep-keygen --site trust-b -o "$T/keys/b2.id" -c b2.card >/dev/null
cp b2.card "$T/sites/trust-b.card"
expect 10 "a card that differs from the pinned one" -- send_to_hub "$HUB" a ct2
assert "the message names the site" -- grep -q "site 'trust-b'" "$T/.err"
assert "the message names both key ids" -- \
  test "$(grep -o 'key [0-9A-F]\{16\}' "$T/.err" | sort -u | wc -l)" -eq 2
assert "and how to accept it" -- grep -q -- "--accept-card trust-b" "$T/.err"
expect 0 "--accept-card takes the hub's card" -- \
  iep-send --accept-card trust-b --hub "$HUB" --token-file "$T/tokens/a"
assert "the pin is the hub's card again" -- cmp -s "$T/sites/trust-b.card" b.card.orig
expect 0 "and sending works again" -- send_to_hub "$HUB" a ct2
# --- A package sealed earlier (--output), uploaded as it is: no --to needed
# (it goes where it was sealed for), the bytes the hub commits are the
# file's, and everything else about a send holds (resume, already sent).
iep-send -i "$A" --to trust-b --to trust-c --output mr.iep mr >/dev/null
sealed_id=$(package_id mr.iep)
expect 0 "upload a sealed file" -- iep-send -i "$A" --hub "$HUB" --token-file "$T/tokens/a" \
  --state "$T/state-a" --json mr.iep
assert "the package is the file's" -- test "$(json_get "$T/.out" 'j["package"]')" = "$sealed_id"
assert "for the sites it was sealed for" -- \
  test "$(json_get "$T/.out" 'sorted(j["recipients"])')" = "['trust-b', 'trust-c']"
assert "the hub holds the file's bytes (b2sum)" -- \
  test "$(json_get "$T/.out" 'j["blake2b"]')" = "$(b2sum mr.iep | cut -d' ' -f1)"
hcurl c -f "$HUB/v1/mailbox/$sealed_id" -o got-mr.iep
assert "trust-c downloads exactly the sealed file" -- cmp -s mr.iep got-mr.iep
expect 0 "again" -- iep-send -i "$A" --hub "$HUB" --token-file "$T/tokens/a" --state "$T/state-a" \
  --json mr.iep
assert "already sent" -- test "$(json_get "$T/.out" 'j["already_sent"]')" = True
cp mr.iep mr-copy.iep && cp mr.iep.minisig mr-copy.iep.minisig
expect 0 "a copy, from another state folder" -- iep-send -i "$A" --hub "$HUB" \
  --token-file "$T/tokens/a" --state "$T/state-other" --json -v mr-copy.iep
assert "it finds the package committed, with the same bytes" -- \
  test "$(json_get "$T/.out" 'j["package"], j["blake2b"] == "'"$(b2sum mr.iep | cut -d' ' -f1)"'"')" = \
  "('$sealed_id', True)"
assert "and uploads nothing" -- sh -c "! grep -q '/v1/uploads -> 201' '$T/.err'"
expect 2 "--to naming other sites than the package's" -- iep-send -i "$A" --to trust-b \
  --hub "$HUB" --token-file "$T/tokens/a" --state "$T/state-a" mr-copy.iep
assert "the message names both" -- grep -q "sealed for trust-b,trust-c, not for trust-b" "$T/.err"
expect 2 "a sealed file with --output" -- iep-send -i "$A" --to trust-b --output x.iep mr.iep
assert "nothing written" -- test ! -e x.iep
iep-send -i "$T/keys/b.id" --to trust-a --output by-b.iep mr >/dev/null
expect 5 "a package sealed by another site" -- iep-send -i "$A" --hub "$HUB" \
  --token-file "$T/tokens/a" --state "$T/state-a" by-b.iep
assert "the message says whose it must be" -- grep -q "not signed by this site (trust-a)" "$T/.err"
iep-send -i "$A" --to trust-b --output ct-sealed.iep ct >/dev/null
expect 3 "a sealed file without its signature" -- iep-send -i "$A" --hub "$HUB" \
  --token-file "$T/tokens/a" --state "$T/state-a" --signature nowhere.minisig ct-sealed.iep
# Damaged after it was signed: the hub checks the signature over what it
# received and commits nothing.
cp ct-sealed.iep damaged.iep && cp ct-sealed.iep.minisig damaged.iep.minisig
printf '\x00' | dd of=damaged.iep bs=1 seek=1000 conv=notrunc status=none
before=$(mailbox_count b)
expect 15 "a damaged sealed file" -- iep-send -i "$A" --hub "$HUB" --token-file "$T/tokens/a" \
  --state "$T/state-a" damaged.iep
assert "the hub's reason is shown" -- grep -q "bad_signature" "$T/.err"
assert "nothing new for trust-b" -- test "$(mailbox_count b)" -eq "$before"
# kill -9 mid-upload: the re-run resumes from the hub's offset.
make_study sealed-resume 24
iep-send -i "$A" --to trust-b --output resume.iep sealed-resume >/dev/null
rsize=$(stat -c %s resume.iep)
iep-send -i "$A" --hub "$HUB" --token-file "$T/tokens/a" --state "$T/state-a" \
  --limit-rate 300K --chunk-size 1 resume.iep >/dev/null 2>&1 &
pid=$!
sleep 2
kill9 "$pid"
job=$(dirname "$(grep -l "^sealed $(package_id resume.iep)" "$T"/state-a/send/*/input)")
assert "killed mid-upload" -- test -f "$job/upload" -a ! -f "$job/sent.json"
up=$(basename "$(cat "$job/upload")")
expect 0 "the re-run" -- iep-send -i "$A" --hub "$HUB" --token-file "$T/tokens/a" \
  --state "$T/state-a" -v --retry-time 20 resume.iep
sum=$(grep -E "PATCH /v1/uploads/$up " "$T/hub.log" | sed -n 's/.* in=\([0-9]*\).*/\1/p' | paste -sd+ | bc)
assert "the hub read the file once, plus at most one chunk ($sum of $rsize)" -- \
  test "$sum" -ge "$rsize" -a "$sum" -le $((rsize + 1048576))
expect 0 "trust-b fetches it" -- fetch_from_hub "$HUB" b out-sealed
assert "the study arrived byte-identical" -- \
  test "$(hashes sealed-resume)" = "$(hashes "out-sealed/$(package_id resume.iep)")"
# --- TLS: always verified; a CA given with --cacert.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout tls.key -out tls.crt >/dev/null 2>&1
hub_stop
HUB_PORT=
hub_start --tls-cert tls.crt --tls-key tls.key
HTTPS=https://127.0.0.1:$HUB_PORT
cp -r ct ct3
expect 14 "a certificate no CA vouches for is refused" -- send_to_hub "$HTTPS" a ct3 --retry-time 1
assert "the message says why" -- grep -qi "certificate" "$T/.err"
expect 0 "with its CA given by --cacert" -- send_to_hub "$HTTPS" a ct3 --cacert tls.crt
expect 2 "no hub configured" -- \
  env -u IEP_HUB iep-send -i "$A" --to trust-b --token-file "$T/tokens/a" --state "$T/state-a" ct2
finish
