# Faults between iep-send, iep-serve and iep-fetch end in "resumed", never in
# a lost or doubled study: iep-send killed (-9) at random points and re-run,
# iep-serve killed mid-PATCH and restarted on its data folder, connections
# cut mid-body by a proxy (each cut costs at most one chunk), a receiver
# killed between download and acknowledgement. Every study reaches trust-b
# exactly once, byte-identical. (tests/soak/soak.sh runs the same for longer.)
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/interop/hub-lib.sh"
install_peers
make_sites
A=$T/keys/a.id B=$T/keys/b.id
ITER=${IEP_FAULT_ITERATIONS:-20}
SEED=${IEP_FAULT_SEED:-$$}
RANDOM=$SEED
echo "faults: seed $SEED (IEP_FAULT_SEED=$SEED to repeat), $ITER iterations"
make_study study 12
hub_init "$T/hub"
hub_start

# The DICOM files' hashes, once per study sent: what trust-b must end with.
: >expected.txt
# received OUT: the hashes of every DICOM file under OUT (one line per file).
received() { find "$1" -type f -name '*.dcm' -exec b2sum {} + 2>/dev/null | cut -d' ' -f1 | sort; }

# --- 1. iep-send killed at random points, then re-run to the end.
# The killed runs are rate-limited, so that their length is set by the rate
# and not by how busy the machine is: a kill within 90% of the first run's
# time lands while the run is still going, in sealing or in uploading.
slow=(--limit-rate 1M --chunk-size 1)
t0=$(date +%s%N)
cp -r study s0
expect 0 "a first send, to time it" -- send_to_hub "$HUB" a s0 "${slow[@]}"
full_ms=$((($(date +%s%N) - t0) / 1000000))
hashes study >>expected.txt
killed=0
for ((i = 1; i <= ITER; i++)); do
  cp -r study "s$i"
  send_to_hub "$HUB" a "s$i" "${slow[@]}" >/dev/null 2>"kill$i.err" &
  pid=$!
  ms=$((RANDOM % (full_ms * 9 / 10 + 1)))
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill9 "$pid"
  # 137: it was still running when the signal came (not merely a zombie).
  [ $? -eq 137 ] && killed=$((killed + 1))
  expect 0 "re-run $i after kill -9 at ${ms} ms" -- send_to_hub "$HUB" a "s$i"
  hashes study >>expected.txt
done
# A rate-limited run cannot end before its bytes are through, so nearly
# every kill cuts one short (a run that was still starting up counts too).
assert "most runs were killed before they ended ($killed of $ITER)" -- test "$killed" -ge $((ITER / 2))
# A re-run of a sent study sends nothing again.
expect 0 "re-run of a delivered study" -- send_to_hub "$HUB" a s1
assert "one package per study in trust-b's mailbox" -- test "$(mailbox_ids b | wc -l)" -eq $((ITER + 1))
assert "trust-a's sent list has no duplicate" -- \
  test "$(hcurl a "$HUB/v1/sent?limit=1000" | json_get /dev/stdin 'len(set(p["package"] for p in j["packages"]))')" -eq $((ITER + 1))

# --- 2. iep-serve killed in the middle of a PATCH, restarted on its data.
cp -r study hubkill
expect 0 "seal one for a hand-driven upload" -- iep-send -i "$A" --to trust-b --output hk.iep hubkill
size=$(stat -c %s hk.iep)
hcurl a -D created.h -o /dev/null -X POST -H 'Tus-Resumable: 1.0.0' -H "Upload-Length: $size" \
  -H "Upload-Metadata: signature $(base64 -w0 hk.iep.minisig)" "$HUB/v1/uploads"
loc=$(tr -d '\r' <created.h | sed -n 's/^[Ll]ocation: //p')
assert "upload created" -- test -n "$loc"
/usr/bin/python3 "$INTEROP/slowpatch.py" "$HUB$loc" hk.iep --token-file "$T/tokens/a" \
  --send $((size / 2)) --marker hk.sent &
sp=$!
track "$sp"
assert "half of the PATCH body is on its way" -- wait_file hk.sent 20
sleep 0.3
hub_kill
wait "$sp" 2>/dev/null
hub_start
expect 0 "HEAD after the restart" -- hcurl a -f -I -H 'Tus-Resumable: 1.0.0' "$HUB$loc"
off=$(tr -d '\r' <"$T/.out" | sed -n 's/^[Uu]pload-[Oo]ffset: //p')
assert "the offset kept is at most what was sent ($off)" -- test "${off:-x}" -le $((size / 2))
expect 0 "tus-js-client resumes and commits" -- "${TUS_UPLOAD[@]}" "$HUB$loc" hk.iep \
  --token-file "$T/tokens/a" --resume-from-url "$HUB$loc"
hashes study >>expected.txt
id=$(package_id hk.iep)
expect 0 "trust-b downloads it" -- hcurl b -f "$HUB/v1/mailbox/$id" -o hk.got
assert "byte-identical after the restart" -- cmp -s hk.iep hk.got
# The packages committed before the kill are intact.
for id in $(mailbox_ids b | head -3); do
  hcurl b -f "$HUB/v1/mailbox/$id" -o intact.iep -D intact.h
  etag=$(tr -d '\r"' <intact.h | sed -n 's/^[Ee][Tt]ag: //p')
  assert "committed package $id intact (its ETag is its BLAKE2b)" -- \
    test "$(b2sum intact.iep | cut -d' ' -f1)" = "$etag"
done

# iep-send uploading while the hub is killed and restarted (same port).
make_study big 60
# --limit-rate: the upload lasts about 1.5 s; the hub is killed as soon as
# its log shows the first PATCH answered, however long sealing took.
commits0=$(grep -c '/commit 200' "$T/hub.log")
patches0=$(grep -c ' PATCH ' "$T/hub.log")
send_to_hub "$HUB" a big --limit-rate 4M --chunk-size 1 >bigsend.out 2>bigsend.err &
pid=$!
for ((n = 0; n < 600; n++)); do
  [ "$(grep -c ' PATCH ' "$T/hub.log")" -gt "$patches0" ] && break
  sleep 0.05
done
hub_kill
assert "the hub was killed inside the upload: PATCHes answered, no commit yet" -- \
  test "$(grep -c ' PATCH ' "$T/hub.log")" -gt "$patches0" -a "$(grep -c '/commit 200' "$T/hub.log")" -eq "$commits0"
sleep 0.5
hub_start
wait "$pid"
code=$?
assert "iep-send waits for the hub and finishes (exit $code: $(head -c 300 bigsend.err))" -- test "$code" -eq 0
hashes big >>expected.txt

# --- 3. A proxy cuts the connection mid-body; each cut costs at most one chunk.
make_study cutme 60
CHUNK=1048576  # iep-send --chunk-size 1 (MiB)
expect 0 "seal, to know the size" -- iep-send -i "$A" --to trust-b --output cut-size.iep cutme
csize=$(stat -c %s cut-size.iep)
cuts=(--cut $((csize / 5)) --cut $((csize / 2)) --cut $((csize * 4 / 5)))
proxy_start cut "$HUB_PORT" "${cuts[@]}"
expect 0 "iep-send through a proxy that cuts 3 times" -- send_to_hub "$PROXY" a cutme --chunk-size 1
proxy_stop
hashes cutme >>expected.txt
body=$(json_get "$T/cut.json" 'j["body_bytes"]')
ncut=$(json_get "$T/cut.json" 'j["cuts"]')
assert "the proxy cut 3 times ($ncut)" -- test "$ncut" -eq 3
# The sealed package differs from cut-size.iep only by its random keys: same size.
if [ "$body" -le $((csize + ncut * CHUNK)) ]; then ok; else
  bad "bytes forwarded $body > $csize + $ncut x $CHUNK; the hub's log of the resent PATCHes:"
  grep -E 'PATCH /v1/uploads/[0-9a-f]+ (4[0-9][0-9]|5[0-9][0-9])' "$T/hub.log" | sed 's/^/  /' | head -10 >&2
fi
assert "and at least the package ($body >= $csize)" -- test "$body" -ge "$csize"

# --- 4. The receiver: killed between download and acknowledgement, re-run.
proxy_start ack "$HUB_PORT" --reset-on '^POST /v1/mailbox/[0-9a-f]{32}/ack' --reset-max 1
fetch_from_hub "$PROXY" b out >fetch1.out 2>fetch1.err &
pid=$!
track "$pid"
for ((w = 0; w < 600; w++)); do
  [ "$(json_get "$T/ack.json" 'j["resets"]' 2>/dev/null)" = 1 ] && break
  sleep 0.05
done
assert "iep-fetch downloaded a package and tried to acknowledge it" -- test "$(json_get "$T/ack.json" 'j["resets"]')" = 1
kill9 "$pid"
# Random kills of the receiver, each followed by a re-run.
for ((i = 1; i <= 5; i++)); do
  fetch_from_hub "$PROXY" b out >/dev/null 2>&1 &
  pid=$!
  sleep 0.$((RANDOM % 9))$((RANDOM % 10))
  kill9 "$pid"
done
expect 0 "iep-fetch to the end" -- fetch_from_hub "$PROXY" b out
proxy_stop
sort expected.txt >expected.sorted
received out >received.sorted
assert "every study arrived exactly once, byte-identical ($(wc -l <received.sorted) files, $(wc -l <expected.sorted) expected)" -- \
  cmp -s expected.sorted received.sorted
assert "trust-b's mailbox is empty" -- test -z "$(mailbox_ids b)"
expect 0 "a second iep-fetch finds nothing" -- fetch_from_hub "$HUB" b out
received out >received2.sorted
assert "and writes nothing" -- cmp -s received.sorted received2.sorted
assert "the hub's log names no token" -- test -z "$(grep -F -f <(cat "$T"/tokens/*) "$T/hub.log")"

hub_stop
finish
