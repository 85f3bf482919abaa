# iep-verify --audit against a log written by an independent implementation:
# python3 makes the chain from the format in iep-verify(1) (json.dumps and
# hashlib.blake2b), minisign signs the checkpoints. Every kind of tampering
# is refused at its line with the documented exit code; a consistent rewrite
# of the tail only with a checkpoint.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
HUB_PID=
stop_hub() {
  if [ -n "$HUB_PID" ]; then
    kill "$HUB_PID" 2>/dev/null
    wait "$HUB_PID" 2>/dev/null
    HUB_PID=
  fi
}
trap 'stop_hub; rm -rf "$T"' EXIT

# gen.py OUT N [FROM_SEQ SRC]: a chain of N records; with FROM_SEQ and SRC,
# the records of SRC before FROM_SEQ, then new records from FROM_SEQ on,
# consistently linked (a rewrite of the tail by the hub's operator).
cat >gen.py <<'PY'
import hashlib, json, sys

def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

def record(seq, prev, action, actor, package, request, detail, time):
    rec = {"action": action, "actor": actor, "detail": detail, "package": package,
           "prev": prev, "request": request, "seq": seq, "time": time}
    rec["hash"] = hashlib.blake2b(canonical(rec).encode("utf-8"), digest_size=32).hexdigest()
    return rec

EVENTS = [
    ("upload.create", "trust-a", "0123456789abcdef0123456789abcdef", {"length": 123456}),
    ("upload.patch", "trust-a", "0123456789abcdef0123456789abcdef", {"offset": 0, "bytes": 65536}),
    ("commit", "trust-a", "fedcba9876543210fedcba9876543210",
     {"recipients": ["trust-b", "st-\u00e9lise"], "size": 123456, "note": "a \"quoted\" \\ path/\t\u0001"}),
    ("list", "trust-b", "", {"wait": 30}),
    ("download", "trust-b", "fedcba9876543210fedcba9876543210", {"range": "bytes=0-"}),
    ("ack", "trust-b", "fedcba9876543210fedcba9876543210", {"sender": "trust-a", "ok": True, "x": None}),
    ("auth.fail", "anonymous", "", {"remote": "127.0.0.1"}),
    ("admin.site.add", "local-admin", "", {"site": "trust-c", "emoji": "\U0001f600 \u20ac"}),
]

out, n = sys.argv[1], int(sys.argv[2])
lines, prev, start = [], "0" * 64, 1
if len(sys.argv) > 3:
    start = int(sys.argv[3])
    for line in open(sys.argv[4], encoding="utf-8").read().split("\n")[: start - 1]:
        lines.append(line)
        prev = json.loads(line)["hash"]
for seq in range(start, n + 1):
    action, actor, package, detail = EVENTS[(seq + (7 if start > 1 else 0)) % len(EVENTS)]
    t = "2026-12-02T%02d:%02d:%02d.%03dZ" % (10 + seq // 3600, seq // 60 % 60, seq % 60, seq % 1000)
    rec = record(seq, prev, action, actor, package, "%016x" % seq, detail, t)
    prev = rec["hash"]
    lines.append(canonical(rec))
open(out, "w", encoding="utf-8").write("".join(l + "\n" for l in lines))
print(prev)
PY

# checkpoint SEQ LOG OUT KEY: a checkpoint of record SEQ of LOG, signed by
# minisign -S (the statement as the message and as the trusted comment),
# as the JSON object the hub serves.
checkpoint() {
  local seq=$1 log=$2 out=$3 key=$4 head
  head=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().split("\n")[int(sys.argv[2])-1])["hash"])' "$log" "$seq")
  printf 'iep-audit-checkpoint seq=%s head=%s time=2026-12-02T12:00:00Z\n' "$seq" "$head" >"$out.txt"
  minisign -S -s "$key" -m "$out.txt" -t "$(head -c -1 "$out.txt")" >/dev/null </dev/null || exit 1
  $PY - "$seq" "$head" "$out.txt" "$out" <<'PY'
import json, sys
seq, head, stmt, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
json.dump({"seq": seq, "head": head, "time": "2026-12-02T12:00:00Z",
           "statement": open(stmt).read(), "signature": open(stmt + ".minisig").read()},
          open(out, "w"))
PY
}

minisign -G -W -p hub.pub -s hub.key >/dev/null </dev/null || exit 1
minisign -G -W -p other.pub -s other.key >/dev/null </dev/null || exit 1
head=$($PY gen.py audit.log 60) || exit 1
checkpoint 20 audit.log cp20.json hub.key
checkpoint 45 audit.log cp45.json hub.key
checkpoint 60 audit.log cp60.json hub.key
$PY -c 'import json,sys; json.dump([json.load(open(f)) for f in sys.argv[1:]], open("cps.json","w"))' cp20.json cp45.json
checkpoint 45 audit.log forged45.json other.key

# The untouched log verifies, alone and with every checkpoint.
expect 0 "a good log" -- iep-verify --audit audit.log
assert "quiet on success" -- test ! -s "$T/.err"
expect 0 "a good log with checkpoints" -- iep-verify --audit audit.log --hub-card hub.pub \
  --checkpoint cps.json --checkpoint cp60.json
expect 0 "a good log from stdin" -- sh -c 'iep-verify --audit - < audit.log'
expect 0 "-v says what was checked" -- iep-verify -v --audit audit.log --hub-card hub.pub --checkpoint cps.json
stderr_names "-v" "audit.log: 60 records, head $head, 2 checkpoint(s) matched"
expect 0 "json report" -- iep-verify --json --audit audit.log --hub-card hub.pub --checkpoint cps.json
assert "json report: ok, 60 records, the head python computed, 2 checkpoints" -- \
  $PY -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["ok"] and r["result"]=="ok" and r["exit_code"]==0 and r["records"]==60 and r["head"]==sys.argv[2] and r["checkpoints_checked"]==2, r' "$T/.out" "$head"
# The checkpoints are plain minisign: minisign itself checks them.
expect 0 "minisign -V checks a checkpoint" -- minisign -Vm cp45.json.txt -p hub.pub

# bad CODE LINE DESC LOG [ARGS]: refused with CODE, naming the line.
bad_log() {
  local code=$1 line=$2 desc=$3 log=$4
  shift 4
  expect "$code" "$desc" -- iep-verify --audit "$log" "$@"
  stderr_names "$desc" "line $line:"
  expect "$code" "$desc (json)" -- iep-verify --json --audit "$log" "$@"
  assert "$desc: json names line $line" -- \
    $PY -c 'import json,sys; r=json.load(open(sys.argv[1])); assert not r["ok"] and r["line"]==int(sys.argv[2]) and r["error"].startswith("line "+sys.argv[2]+":"), r' "$T/.out" "$line"
}

# One byte of record 25 changed (a digit of its time): its hash fails.
$PY - <<'PY'
lines = open("audit.log", encoding="utf-8").read().split("\n")
i = lines[24].index('"time":"') + 12
lines[24] = lines[24][:i] + ("1" if lines[24][i] != "1" else "2") + lines[24][i + 1:]
open("byte.log", "w", encoding="utf-8").write("\n".join(lines))
PY
assert "one byte differs" -- test "$(cmp -l audit.log byte.log | wc -l)" -eq 1
bad_log 7 25 "one byte of record 25 changed" byte.log
sed '25d' audit.log >deleted.log
bad_log 7 25 "record 25 deleted" deleted.log
{ sed -n '1,29p' audit.log; sed -n '31p' audit.log; sed -n '30p' audit.log; sed -n '32,$p' audit.log; } >swapped.log
bad_log 7 30 "records 30 and 31 swapped" swapped.log
sed '1d' audit.log >nofirst.log
bad_log 7 1 "record 1 deleted" nofirst.log
{ sed -n '1,9p' audit.log; echo; sed -n '10,$p' audit.log; } >blank.log
bad_log 7 10 "a blank line" blank.log
sed '33s/$/\r/' audit.log >crlf.log
bad_log 7 33 "a CR at the end of record 33" crlf.log
sed '12s/,"actor":/, "actor":/' audit.log >space.log
bad_log 7 12 "a space in record 12 (not canonical)" space.log
{ sed -n '1,39p' audit.log; head -c 100000 /dev/zero | tr '\0' x; echo; } >long.log
bad_log 7 40 "an endless line 40" long.log

# The operator rewrites everything from record 40 on, consistently: the
# chain alone cannot tell, the checkpoints of records before 40 neither;
# the checkpoint of record 45 proves it.
$PY gen.py rewritten.log 60 40 audit.log >/dev/null || exit 1
assert "the rewrite differs from record 40 on" -- test "$(cmp audit.log rewritten.log | grep -o 'line [0-9]*')" = "line 40"
expect 0 "a consistent rewrite passes the chain alone" -- iep-verify --audit rewritten.log
expect 0 "... and a checkpoint before it" -- iep-verify --audit rewritten.log --hub-card hub.pub --checkpoint cp20.json
bad_log 7 45 "a consistent rewrite, caught by the checkpoint of record 45" rewritten.log \
  --hub-card hub.pub --checkpoint cps.json
# Records cut off after a checkpoint.
head -n 44 audit.log >cut.log
expect 0 "the cut log alone passes" -- iep-verify --audit cut.log
bad_log 7 45 "records cut after 44, with the checkpoint of 45" cut.log --hub-card hub.pub --checkpoint cp45.json

# Checkpoints that do not verify with the hub's key: 5.
expect 5 "a checkpoint signed by another key" -- iep-verify --audit audit.log --hub-card hub.pub --checkpoint forged45.json
$PY - <<'PY'
import json
cp = json.load(open("cp45.json"))
cp["seq"] = 46
cp["statement"] = cp["statement"].replace("seq=45", "seq=46")
json.dump(cp, open("moved.json", "w"))
PY
expect 5 "a checkpoint moved to another record" -- iep-verify --audit audit.log --hub-card hub.pub --checkpoint moved.json
# minisign's default trusted comment does not state the checkpoint.
minisign -S -s hub.key -m cp45.json.txt -x plain.minisig >/dev/null </dev/null || exit 1
$PY -c 'import json; cp=json.load(open("cp45.json")); cp["signature"]=open("plain.minisig").read(); json.dump(cp, open("plaintc.json","w"))'
expect 5 "a checkpoint whose trusted comment is not its statement" -- \
  iep-verify --audit audit.log --hub-card hub.pub --checkpoint plaintc.json

# Usage and input errors.
expect 2 "--checkpoint without --hub-card" -- iep-verify --audit audit.log --checkpoint cp45.json
expect 2 "--checkpoint without --audit" -- iep-verify --checkpoint cp45.json --hub-card hub.pub
expect 2 "--audit and a package" -- iep-verify --audit audit.log some.iep
expect 3 "a missing log" -- iep-verify --audit nothing.log
expect 3 "a missing checkpoint file" -- iep-verify --audit audit.log --hub-card hub.pub --checkpoint nothing.json
echo '{"seq": 45}' >broken.json
expect 7 "a malformed checkpoint file" -- iep-verify --audit audit.log --hub-card hub.pub --checkpoint broken.json
echo 'not a key' >bad.pub
expect 10 "a malformed hub key" -- iep-verify --audit audit.log --hub-card bad.pub --checkpoint cp45.json


# ---- A real hub: the log iep-serve exports and the checkpoints it serves
# verify; python3, reading the format as the man page gives it, agrees with
# every hash; its DICOM export validates against the standard's schema.
make_sites
for s in a b; do
  expect 0 "site add trust-$s" -- iep-serve site add --data "$T/data" "$T/sites/trust-$s.card"
done
TA=$(iep-serve token issue --data "$T/data" trust-a) || exit 1
iep-serve --data "$T/data" --listen 127.0.0.1:0 --port-file "$T/port" --checkpoint-every 1 -q \
  2>>"$T/serve.log" &
HUB_PID=$!
for i in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.1; done
[ -s "$T/port" ] || { echo "iep-serve did not start" >&2; cat "$T/serve.log" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$T/port")"
for i in 1 2 3; do  # well-formed tokens the hub does not know
  curl -s -o /dev/null -H "Authorization: Bearer iep1_$(printf 'A%.0s' {1..42})$i" "$URL/v1/mailbox"
done
curl -sf -o /dev/null -H "Authorization: Bearer $TA" "$URL/v1/mailbox" || bad "mailbox list"
# Wait (bounded) for a checkpoint that covers the requests above.
for i in $(seq 1 100); do
  curl -sf -H "Authorization: Bearer $TA" "$URL/v1/audit/checkpoints" >hubcps.json
  $PY -c 'import json,sys; sys.exit(0 if any(c["seq"] >= 7 for c in json.load(open("hubcps.json"))) else 1)' && break
  sleep 0.2
done
curl -sf -H "Authorization: Bearer $TA" "$URL/v1/hub/card" >hub.card || bad "hub card"
stop_hub
expect 0 "audit export" -- iep-serve audit export --data "$T/data"
cp "$T/.out" hub.log
assert "the hub's log holds the admin actions, the failed logins and the listing" -- \
  bash -c "grep -q '\"action\":\"admin.site.add\"' hub.log && grep -q '\"action\":\"auth.fail\"' hub.log && grep -q '\"action\":\"list\"' hub.log"
expect 0 "the hub's log verifies with its checkpoints" -- \
  iep-verify --json --audit hub.log --hub-card hub.card --checkpoint hubcps.json
assert "at least one checkpoint matched" -- \
  $PY -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["ok"] and r["checkpoints_checked"] >= 1 and r["records"] >= 7, r' "$T/.out"
assert "python3 recomputes every hash and link of the hub's log" -- $PY - hub.log <<'PY'
import hashlib, json, sys
prev = "0" * 64
for n, line in enumerate(open(sys.argv[1], encoding="utf-8").read().split("\n")[:-1], 1):
    rec = json.loads(line)
    assert json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False) == line, n
    h = rec.pop("hash")
    body = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.blake2b(body.encode("utf-8"), digest_size=32).hexdigest() == h, n
    assert rec["prev"] == prev and rec["seq"] == n, n
    prev = h
PY
# The hub's checkpoints are plain minisign too.
$PY -c 'import json; c=json.load(open("hubcps.json"))[-1]; open("hubcp.txt","w").write(c["statement"]); open("hubcp.txt.minisig","w").write(c["signature"])'
expect 0 "minisign -V checks the hub's checkpoint with its card" -- minisign -Vm hubcp.txt -p hub.card
# A changed record of the hub's log.
sed '3s/"actor":"local-admin"/"actor":"local-admix"/' hub.log >hub-bad.log
assert "one record changed" -- test "$(cmp hub.log hub-bad.log | grep -o 'line [0-9]*')" = "line 3"
bad_log 7 3 "a record of the hub's log changed" hub-bad.log --hub-card hub.card --checkpoint hubcps.json
# The DICOM export: every message valid under the standard's own schema.
SHARED="$IEP_SRC/../shared/dicom-standard/part15-2023b.xml"
if [ ! -f "$SHARED" ]; then
  bad "the DICOM standard is missing: $SHARED"
elif ! command -v jing >/dev/null; then
  bad "jing is not installed (scripts/install-deps.sh)"
else
  expect 0 "audit export --dicom" -- iep-serve audit export --dicom --data "$T/data"
  $PY - "$SHARED" "$T/.out" <<'PY' || bad "extract the schema and split the messages"
import sys, xml.etree.ElementTree as ET
X = "{http://www.w3.org/XML/1998/namespace}id"
for s in ET.parse(sys.argv[1]).getroot().iter():
    if s.get(X) == "sect_A.5.1.1":
        rnc = [e for e in s.iter() if e.tag.endswith("programlisting")][0].text
        # "##" comments after a group's last choice are not valid RNC; as
        # "#" comments they change no pattern.
        open("audit.rnc", "w").write(rnc.replace("##", "# "))
msgs = open(sys.argv[2], encoding="utf-8").read().split('<?xml version="1.0" encoding="UTF-8"?>\n')[1:]
assert len(msgs) >= 7, len(msgs)
for i, m in enumerate(msgs):
    open("msg-%03d.xml" % i, "w", encoding="utf-8").write('<?xml version="1.0" encoding="UTF-8"?>\n' + m)
PY
  jing -c audit.rnc msg-*.xml >jing.out 2>&1
  code=$?
  if [ "$code" -eq 0 ]; then ok; else bad "jing refused the hub's DICOM audit messages"; grep -v '^\[warning\]' jing.out | head -5 >&2; fi
fi

finish
