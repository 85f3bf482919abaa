# Nothing lost from a pipe: a package iep-store reads from stdin (as from
# iep-fetch --stdout, which has acknowledged it at the hub) and cannot store
# completely is kept in STATE/store/pending/PACKAGE-ID.tar.zst, byte for
# byte; the rest of stdin is read and kept too once the PACS is found gone;
# a later run for the same PACS (--pending, or any run) stores them first
# and empties the folder; nothing is stored twice; a run for another PACS
# leaves them alone.
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/e2e/pacs_lib.bash"
make_sites
A=$T/keys/a.id
export XDG_STATE_HOME=$T/state
PEND=$T/state/iep/store/pending

make_study s1 4
make_study s2 3
iep-pack -i "$A" -o s1.tar.zst s1 || exit 1
iep-pack -i "$A" -o s2.tar.zst s2 || exit 1
id_of() { iep-verify --json "$1" | jq -r .manifest.package_id; }
ID1=$(id_of s1.tar.zst)
ID2=$(id_of s2.tar.zst)

# The PACS's port, dead for now.
PORT=$(free_port)
P=STORE@127.0.0.1:$PORT

expect 19 "from stdin into a dead port" -- sh -c "iep-store --pacs '$P' <s1.tar.zst"
assert "says the package is kept, where" -- grep -q "kept in $PEND/$ID1.tar," "$T/.err"
# The verified package as read (its tar, out of the zstd stream).
assert "the package is kept pending, byte for byte" -- cmp <(zstd -qdc s1.tar.zst) "$PEND/$ID1.tar"
assert "with the PACS it is for" -- test "$(cat "$PEND/$ID1.pacs")" = "$P"
assert "no temporary left" -- test "$(find "$PEND" -name '.*' | wc -l)" -eq 0

# Two packages on stdin: the first finds the PACS gone; the second is still
# read (not lost in the pipe), tried, and kept.
rm -rf "$PEND"
expect 19 "two packages from stdin into a dead port" -- sh -c "cat s1.tar.zst s2.tar.zst | iep-store --pacs '$P'"
assert "both are kept" -- test -f "$PEND/$ID1.tar" -a -f "$PEND/$ID2.tar"
assert "the second byte for byte" -- cmp <(zstd -qdc s2.tar.zst) "$PEND/$ID2.tar"
assert "each says it is kept" -- test "$(grep -c "; the package is kept in $PEND/" "$T/.err")" -eq 2

# A package that does not verify is not kept (nothing to keep).
head -c 3000 s1.tar.zst >cut.tar.zst
sh -c "iep-store --pacs STORE@127.0.0.1:$(free_port) <cut.tar.zst" >/dev/null 2>&1
assert "a cut package is refused and not kept" -- test "$(ls "$PEND" | wc -l)" -eq 4

# A run for another PACS does not touch them.
start_storescp OTHER "$T/other"
expect 0 "--pending for another PACS" -- iep-store --pending --pacs "OTHER@127.0.0.1:$STORESCP_PORT"
assert "nothing sent there" -- test "$(find "$T/other" -type f | wc -l)" -eq 0
assert "both still pending" -- test -f "$PEND/$ID1.tar" -a -f "$PEND/$ID2.tar"

# The PACS refuses the association: still pending, exit 20.
start_peer refusing storescp --aetitle STORE --refuse "$PORT"
wait_port "$PORT" 30 || exit 1
expect 20 "--pending into a PACS that refuses" -- iep-store --pending --pacs "$P"
assert "says they are still pending" -- grep -q "still pending" "$T/.err"
assert "both still pending" -- test -f "$PEND/$ID1.tar" -a -f "$PEND/$ID2.tar"
kill "${PEER_PIDS[-1]}" && wait "${PEER_PIDS[-1]}" 2>/dev/null
for i in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break; sleep 0.1; done

# The PACS is back on its port: --pending stores both, and empties pending.
mkdir -p "$T/in"
start_peer live storescp --aetitle STORE --output-directory "$T/in" --accept-all "$PORT"
wait_port "$PORT" 30 || exit 1
expect 0 "--pending once the PACS is back" -- iep-store --json --pending --pacs "$P"
assert "both packages stored: 4 + 3 sent" -- test "$(jq -s -c 'map(.sent) | sort' "$T/.out")" = '[3,4]'
assert "pending is empty" -- test "$(ls -A "$PEND" | wc -l)" -eq 0
assert "storescp received 7 instances" -- test "$(find "$T/in" -type f | wc -l)" -eq 7
expect 0 "the same packages from stdin again" -- sh -c "cat s1.tar.zst s2.tar.zst | iep-store --json --pacs '$P'"
assert "nothing sent: the journal knows them" -- test "$(jq -s -c 'map([.sent,.already])' "$T/.out")" = '[[0,4],[0,3]]'
assert "still 7 instances: nothing stored twice" -- test "$(find "$T/in" -type f | wc -l)" -eq 7

# Any run sends the pending packages first, then its inputs.
kill "${PEER_PIDS[-1]}" && wait "${PEER_PIDS[-1]}" 2>/dev/null
for i in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break; sleep 0.1; done
make_study s3 2
iep-pack -i "$A" -o s3.tar.zst s3 || exit 1
ID3=$(id_of s3.tar.zst)
expect 19 "s3 from stdin into the dead port" -- sh -c "iep-store --pacs '$P' <s3.tar.zst"
assert "s3 kept" -- test -f "$PEND/$ID3.tar"
mkdir -p "$T/in2"
start_peer live2 storescp --aetitle STORE --output-directory "$T/in2" --accept-all "$PORT"
wait_port "$PORT" 30 || exit 1
make_study s4 1
iep-pack -i "$A" -o s4.tar.zst s4 || exit 1
expect 0 "a run with a file input sends the pending one first" -- iep-store --json --pacs "$P" s4.tar.zst
assert "s3 first, then s4" -- test "$(jq -s -c 'map([.package,.sent])' "$T/.out")" = "[[\"$ID3\",2],[\"$(id_of s4.tar.zst)\",1]]"
assert "pending is empty" -- test "$(ls -A "$PEND" | wc -l)" -eq 0

# One long pipe (as iep-fetch --watch --stdout): the PACS is down for the
# first package, back for the second; the first goes too, once the second
# is stored.
kill "${PEER_PIDS[-1]}" && wait "${PEER_PIDS[-1]}" 2>/dev/null
for i in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break; sleep 0.1; done
make_study s5 2
make_study s6 2
iep-pack -i "$A" -o s5.tar.zst s5 || exit 1
iep-pack -i "$A" -o s6.tar.zst s6 || exit 1
ID5=$(id_of s5.tar.zst)
ID6=$(id_of s6.tar.zst)
mkfifo pipe
iep-store --json --pacs "$P" <pipe >pipe.out 2>pipe.err &
store_pid=$!
exec 3>pipe
cat s5.tar.zst >&3
for i in $(seq 300); do [ -f "$PEND/$ID5.tar" ] && break; sleep 0.1; done
assert "s5 kept while the PACS is down" -- test -f "$PEND/$ID5.tar"
mkdir -p "$T/in3"
start_peer live3 storescp --aetitle STORE --output-directory "$T/in3" --accept-all "$PORT" 3>&-
wait_port "$PORT" 30 || exit 1
cat s6.tar.zst >&3
exec 3>&-
wait "$store_pid"
assert "the run ends with the first failure's status (19)" -- test $? -eq 19
assert "s5 failed, s6 stored, then s5 from pending" -- test "$(jq -s -c 'map([.package,.sent,.result])' pipe.out)" = "[[\"$ID5\",0,\"pacs_unreachable\"],[\"$ID6\",2,\"ok\"],[\"$ID5\",2,\"ok\"]]"
assert "pending is empty" -- test "$(ls -A "$PEND" | wc -l)" -eq 0
assert "storescp received the 4 instances" -- test "$(find "$T/in3" -type f | wc -l)" -eq 4

# A damaged pending file is reported and left there; it does not stop the
# run, whose stdin is still stored.
BAD=ffffffffffffffffffffffffffffffff
head -c 5000 /dev/urandom >"$PEND/$BAD.tar"
printf '%s\n' "$P" >"$PEND/$BAD.pacs"
make_study s7 1
iep-pack -i "$A" -o s7.tar.zst s7 || exit 1
sh -c "iep-store --json --pacs '$P' <s7.tar.zst" >s7.out 2>s7.err
assert "the run fails for the damaged file ($?)" -- test $? -ne 0
assert "it is named, still pending" -- grep -q "$BAD.tar.*still pending" s7.err
assert "stdin's package is stored all the same" -- test "$(jq -s -c "map(select(.package == \"$(id_of s7.tar.zst)\")) | map([.sent,.result])" s7.out)" = '[[1,"ok"]]'
assert "the damaged file is left" -- test -f "$PEND/$BAD.tar"

finish
