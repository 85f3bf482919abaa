# iep-gateway between DCMTK's storescu (a modality pushing) and a real hub
# (iep-serve on loopback): a study pushed in two bursts within the quiet
# period goes out as one package; a late instance after it went out as a
# follow-up package of just that instance; a gateway killed (-9) between
# two bursts loses nothing and sends nothing twice; routing by called AE
# title to two sites; an unknown called AE title rejected; a hub that is
# down delays the send, retried until it is committed; SIGTERM stops it.
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/e2e/pacs_lib.bash" # free_port
. "$IEP_SRC/tests/interop/hub-lib.sh" # its EXIT trap stops every tracked process
make_sites
hub_init "$T/hub"
hub_start
QUIET=3
GW_PORT=$(free_port)
GW=$T/gw

# start_gw: the gateway on $GW_PORT (the same port across restarts).
start_gw() {
  rm -f "$T/gw.port"
  iep-gateway --data "$GW" --listen "127.0.0.1:$GW_PORT" --port-file "$T/gw.port" \
    -i "$T/keys/a.id" --hub "$HUB" --token-file "$T/tokens/a" --retry-time 5 \
    --route IEP_B=trust-b --route IEP_C=trust-c --quiet-period "$QUIET" -v 2>>"$T/gw.log" &
  GW_PID=$!
  track "$GW_PID"
  wait_file "$T/gw.port" 30 || { echo "FAIL: iep-gateway did not start:" >&2; tail "$T/gw.log" >&2; exit 1; }
}
# push AET FILE...: storescu to the gateway's called AE title AET.
push() {
  local aet=$1
  shift
  TCP_NODELAY=1 storescu -aet MODALITY -aec "$aet" 127.0.0.1 "$GW_PORT" "$@"
}
# until SECONDS CMD...: waits until CMD succeeds (a bound, not a timing claim).
until_ok() {
  local n=$(($1 * 10))
  shift
  while ((n-- > 0)); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}
count() { find "$GW/$1" -name '*.tar.zst' 2>/dev/null | wc -l; }
has() { test "$(count "$1")" -eq "$2"; }
# sops FILE...: the SOP Instance UIDs of DICOM files, sorted.
sops() { for f in "$@"; do dcmdump -s +P 0008,0018 "$f" | sed 's/.*\[\(.*\)\].*/\1/'; done | sort; }
study_of() { dcmdump -s +P 0020,000d "$1" | sed 's/.*\[\(.*\)\].*/\1/'; }
# pkg_sops PACKAGE: the SOP Instance UIDs its verified manifest lists, sorted.
pkg_sops() {
  iep-verify --json --from "$T/sites/trust-a.card" "$1" |
    json_get /dev/stdin '"\n".join(sorted(f["sop_instance_uid"] for f in j["manifest"]["files"]))'
}
pkg_study() {
  iep-verify --json --from "$T/sites/trust-a.card" "$1" | json_get /dev/stdin 'j["manifest"]["study"]["study_instance_uid"]'
}
newest() { ls -t "$GW/sent/$1"/*.tar.zst | head -1; }

/usr/bin/python3 "$IEP_SRC/tests/bench/make-study.py" s1 --slices 7 --size 64 --seed 11 >/dev/null || exit 1
/usr/bin/python3 "$IEP_SRC/tests/bench/make-study.py" s2 --slices 6 --size 64 --seed 12 >/dev/null || exit 1
/usr/bin/python3 "$IEP_SRC/tests/bench/make-study.py" s3 --slices 2 --size 64 --seed 13 >/dev/null || exit 1
/usr/bin/python3 "$IEP_SRC/tests/bench/make-study.py" s4 --slices 2 --size 64 --seed 14 >/dev/null || exit 1
/usr/bin/python3 "$IEP_SRC/tests/bench/make-study.py" s5 --slices 3 --size 64 --seed 15 >/dev/null || exit 1

# --- Usage errors.
expect 2 "no route is a usage error" -- iep-gateway --data "$GW" --listen 0 -i "$T/keys/a.id" --no-send
expect 2 "a route without a site is a usage error" -- \
  iep-gateway --data "$GW" --listen 0 -i "$T/keys/a.id" --no-send --route IEP_B
stderr_names "the message names the flag" "--route 'IEP_B'"
expect 2 "a bad port is a usage error" -- \
  iep-gateway --data "$GW" --listen 127.0.0.1:x -i "$T/keys/a.id" --no-send --route IEP_B=trust-b

start_gw

# --- Two bursts within the quiet period: one package of all six.
expect 0 "first burst (3 instances)" -- push IEP_B s1/IM0000[123].dcm
expect 0 "second burst (3 instances)" -- push IEP_B s1/IM0000[456].dcm
assert "the study goes out as one package" -- until_ok 60 has sent/trust-b 1
p1=$(newest trust-b)
assert "it holds the six instances of both bursts" -- \
  test "$(pkg_sops "$p1")" = "$(sops s1/IM0000[1-6].dcm)"
assert "the hub has it in trust-b's mailbox" -- test "$(mailbox_ids b | wc -l)" -eq 1
expect 0 "trust-b fetches it" -- fetch_from_hub "$HUB" b out1
assert "the six instances pushed arrive at trust-b" -- \
  test "$(sops $(find out1 -name '*.dcm'))" = "$(sops s1/IM0000[1-6].dcm)"
assert "nothing waits in incoming/" -- test -z "$(find "$GW/incoming" -name '*.dcm')"
assert "the log says the study was packed after the quiet period" -- \
  grep -q "study $(study_of s1/IM00001.dcm) for trust-b: 6 instance(s) packed (quiet for $QUIET s)" "$T/gw.log"

# --- A late instance: a follow-up package of just it, same study.
expect 0 "a late instance of the same study" -- push IEP_B s1/IM00007.dcm
assert "it goes out as a second package" -- until_ok 60 has sent/trust-b 2
p2=$(newest trust-b)
assert "the follow-up holds only the late instance" -- test "$(pkg_sops "$p2")" = "$(sops s1/IM00007.dcm)"
assert "of the same study" -- test "$(pkg_study "$p2")" = "$(study_of s1/IM00001.dcm)"
assert "the log calls it a follow-up" -- grep -q "1 instance(s) packed as a follow-up" "$T/gw.log"

# --- The same instance pushed again after it went out: not sent twice.
expect 0 "an instance already sent, pushed again" -- push IEP_B s1/IM00007.dcm
assert "the gateway drops it" -- until_ok 60 grep -q "instance $(sops s1/IM00007.dcm) was sent already: dropped" "$T/gw.log"
assert "no third package" -- has sent/trust-b 2

# --- kill -9 between two bursts: nothing lost, nothing twice.
expect 0 "first burst of study 2" -- push IEP_B s2/IM0000[123].dcm
kill -9 "$GW_PID"
wait "$GW_PID" 2>/dev/null
assert "the received instances are on disk" -- \
  test "$(find "$GW/incoming/trust-b/$(study_of s2/IM00001.dcm)" -name '*.dcm' | wc -l)" -eq 3
start_gw
assert "the restarted gateway resumes the study" -- grep -q "resuming 1 study(ies) of 3 instance(s)" "$T/gw.log"
expect 0 "second burst of study 2, after the restart" -- push IEP_B s2/IM0000[456].dcm
assert "study 2 goes out" -- until_ok 60 has sent/trust-b 3
p3=$(newest trust-b)
assert "as one package of all six instances" -- test "$(pkg_sops "$p3")" = "$(sops s2/*.dcm)"
all=$(for p in "$GW"/sent/trust-b/*.tar.zst; do pkg_sops "$p"; done)
assert "thirteen instances sent to trust-b, none twice" -- \
  test "$(echo "$all" | wc -l)" -eq 13 -a "$(echo "$all" | sort -u | wc -l)" -eq 13

# --- Routing by called AE title; an unknown one rejected.
expect 0 "study 3 to IEP_C" -- push IEP_C s3/*.dcm
assert "it goes to trust-c" -- until_ok 60 has sent/trust-c 1
assert "with its two instances" -- test "$(pkg_sops "$(newest trust-c)")" = "$(sops s3/*.dcm)"
assert "trust-c's mailbox has it" -- until_ok 30 test "$(mailbox_ids c | wc -l)" -eq 1
assert "trust-b's mailbox has its three" -- test "$(mailbox_ids b | wc -l)" -eq 2 # one fetched
expect_in "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22" "an unknown called AE title fails" -- \
  push IEP_X s4/*.dcm
assert "storescu was told: called AE title not recognized" -- grep -q "Called AE Title Not Recognized" "$T/.err"
assert "the gateway logs the rejection" -- \
  grep -q "association from MODALITY@.* to IEP_X rejected: called AE title not recognized" "$T/gw.log"
assert "nothing of it was stored" -- test -z "$(find "$GW/incoming" -name '*.dcm')"

# --- Silent connections (a port scanner, a hostile peer) do not hold up a sender.
(exec 3<>"/dev/tcp/127.0.0.1/$GW_PORT" && exec sleep 60) &
h1=$!
(exec 3<>"/dev/tcp/127.0.0.1/$GW_PORT" && exec sleep 60) &
h2=$!
track "$h1"
track "$h2"
expect 0 "a push while two connections stay silent" -- push IEP_C s3/IM00001.dcm
assert "it finished while they were still open" -- kill -0 "$h1" "$h2"
kill "$h1" "$h2" 2>/dev/null

# --- The hub down: the package waits in outbox/ and goes out once it is back.
hub_stop
expect 0 "study 4 while the hub is down" -- push IEP_B s4/*.dcm
assert "its package waits in outbox/" -- until_ok 60 has outbox/trust-b 1
assert "the failed send is logged with a retry" -- until_ok 60 grep -q "failed: .*; trying again in" "$T/gw.log"
hub_start
assert "it is sent once the hub is back" -- until_ok 120 has sent/trust-b 4
assert "outbox/ is empty" -- has outbox/trust-b 0

# --- SIGTERM: a clean stop.
kill -TERM "$GW_PID"
wait "$GW_PID"
assert "SIGTERM ends the gateway with status 0" -- test $? -eq 0
assert "it says it stops" -- grep -q "SIGTERM: stopping" "$T/gw.log"
assert "it logged the silent connections" -- grep -q "connection from localhost: no association request" "$T/gw.log"
assert "and no failed accept of a connection another acceptor took" -- test "$(grep -c "accept failed" "$T/gw.log")" -eq 0
assert "one log line per association" -- test "$(grep -c '^iep-gateway: association from .* released$' "$T/gw.log")" -ge 8

# --- A crash after a package was made but before it was recorded: the
# restarted gateway records it, and a later instance is a follow-up, not a
# second package of the same instances. The interrupted state is made by
# hand: the package (packed by a second gateway, --no-send), the pack's
# intent file, the instances still in incoming/.
iep-gateway --data "$T/gwx" --listen "127.0.0.1:$GW_PORT" --port-file "$T/gwx.port" -i "$T/keys/a.id" \
  --route IEP_B=trust-b --quiet-period 1 --no-send 2>>"$T/gwx.log" &
gx=$!
track "$gx"
wait_file "$T/gwx.port" 30
expect 0 "two instances of study 5 to a packing-only gateway" -- push IEP_B s5/IM0000[12].dcm
assert "it packs them" -- until_ok 60 has ../gwx/outbox/trust-b 1
kill -TERM "$gx"
wait "$gx"
s5=$(study_of s5/IM00001.dcm)
pkg=$(ls "$T/gwx/outbox/trust-b")
mkdir -p "$GW/incoming/trust-b/$s5" "$GW/outbox/trust-b" "$GW/packed/trust-b"
cp "$T/gwx/outbox/trust-b/$pkg" "$GW/outbox/trust-b/"
{
  echo "$pkg"
  sops s5/IM0000[12].dcm
} >"$GW/packed/trust-b/$s5.pending"
for f in s5/IM0000[12].dcm; do cp "$f" "$GW/incoming/trust-b/$s5/$(sops "$f").dcm"; done
start_gw
assert "the restarted gateway completes the interrupted pack" -- \
  grep -q "study $s5 for trust-b: completed a pack a restart interrupted ($pkg)" "$T/gw.log"
assert "its instances left incoming/" -- test -z "$(find "$GW/incoming/trust-b/$s5" -name '*.dcm' 2>/dev/null)"
assert "the package is sent" -- until_ok 120 test -f "$GW/sent/trust-b/$pkg"
expect 0 "the third instance of study 5" -- push IEP_B s5/IM00003.dcm
assert "goes out as a follow-up" -- until_ok 60 has sent/trust-b 6
assert "of just that instance" -- test "$(pkg_sops "$(newest trust-b)")" = "$(sops s5/IM00003.dcm)"
all=$(for p in "$GW"/sent/trust-b/*.tar.zst; do pkg_sops "$p"; done)
assert "no instance was sent twice to trust-b" -- test "$(echo "$all" | sort | uniq -d | wc -l)" -eq 0
kill -TERM "$GW_PID"
wait "$GW_PID"

finish
