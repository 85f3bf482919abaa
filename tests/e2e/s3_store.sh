#!/usr/bin/env bash
# The S3 store engine against moto_server, with boto3 as the independent
# oracle: a package the store commits (tests/unit's oracle case: odd-sized
# appends, each synced, then commit) reads back byte for byte, and nothing
# of the upload is left (objects or multipart uploads). Then again through a
# proxy that answers every 3rd request 503 SlowDown and cuts one part upload
# mid-body: the store's retries carry every operation through, and the
# package is still byte-identical. Last, botocore's SigV4 signer checks the
# signature of every request the store contract cases (tests/unit) send.
source "$(dirname "$0")/lib.sh"
source "$IEP_SRC/tests/e2e/s3_lib.bash"
PROXY_PID=
trap 's3_stop; [ -z "$PROXY_PID" ] || kill "$PROXY_PID" 2>/dev/null; rm -rf "$T"' EXIT

UNIT="$IEP_BIN/tests/unit_hub_store_test"
PKG=fedcba9876543210fedcba9876543210

s3_start "$T/s3" || exit 1
PY=$(s3_python) || exit 1

# 3 parts of 8 MiB and a tail; appended in pieces of 24 MiB + 77 bytes.
head -c $((27 * 1024 * 1024 + 4321)) /dev/urandom >"$T/in"

# oracle BUCKET: the package is the input, and nothing else is left.
oracle() {
  "$PY" - "$S3_ENDPOINT" "$1" "$T/in" "$PKG" <<'PYEOF'
import hashlib, sys, boto3
endpoint, bucket, path, pkg = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
got = s3.get_object(Bucket=bucket, Key="hub/packages/" + pkg)["Body"].read()
want = open(path, "rb").read()
if hashlib.sha256(got).digest() != hashlib.sha256(want).digest():
    sys.exit(f"package differs: {len(got)} bytes, {len(want)} expected")
keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
if keys != ["hub/packages/" + pkg]:
    sys.exit(f"objects left: {keys}")
ups = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
if ups:
    sys.exit(f"multipart uploads left: {[u['Key'] for u in ups]}")
PYEOF
}

commit_via() {
  IEP_S3_ORACLE_STORE="s3://$1/hub?endpoint=$2" IEP_S3_ORACLE_FILE="$T/in" \
    "$UNIT" --test-case='oracle:*'
}

s3_new_bucket clean || exit 1
expect 0 "the store commits a package straight to moto" -- commit_via clean "$S3_ENDPOINT"
expect 0 "boto3 reads back the same bytes, and nothing else is left" -- oracle clean

# Every check can fail: a package that is not the input is seen as such.
head -c 100 /dev/urandom >"$T/other"
"$PY" -c 'import boto3, sys; boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test").upload_file(sys.argv[2], "clean", "hub/packages/" + sys.argv[3])' \
  "$S3_ENDPOINT" "$T/other" "$PKG"
expect 1 "the oracle tells a different package apart" -- oracle clean

PROXY_PORT=$(s3_free_port)
"$PY" "$IEP_SRC/tests/e2e/s3_fault_proxy.py" --faults "$PROXY_PORT" "${S3_ENDPOINT##*:}" "$T/stats" \
  >"$T/proxy.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PROXY_PORT/" && break; sleep 0.1; done

s3_new_bucket faulty || exit 1
expect 0 "the store commits through 503s and a cut part upload" -- \
  commit_via faulty "http://127.0.0.1:$PROXY_PORT"
expect 0 "boto3 reads back the same bytes after the faults" -- oracle faulty
cat "$T/stats" >&2
assert "the proxy answered 503 at least once" -- grep -qE '^503 [1-9]' "$T/stats"
assert "the proxy cut a part upload mid-body" -- grep -qx 'cut 1' "$T/stats"
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null

# Signatures, with a session token signed too: moto does not check them.
PROXY_PORT=$(s3_free_port)
"$PY" "$IEP_SRC/tests/e2e/s3_fault_proxy.py" --record "$T/requests" "$PROXY_PORT" \
  "${S3_ENDPOINT##*:}" "$T/stats2" >"$T/proxy2.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PROXY_PORT/" && break; sleep 0.1; done
mkdir -p "$T/engines"
echo "http://127.0.0.1:$PROXY_PORT" >"$T/engines/s3"
expect 0 "the store contract holds on S3" -- \
  env IEP_TEST_ENGINES="$T/engines" AWS_SESSION_TOKEN=session-token-for-the-test "$UNIT"
expect 0 "botocore computes the same signature for every request" -- \
  "$PY" "$IEP_SRC/tests/e2e/s3_sigv4_check.py" "$T/requests" test test us-east-1
cat "$T/.out" >&2
# ... and tells a request whose signed headers were changed on the way.
sed 's/x-amz-meta-parts: 0/x-amz-meta-parts: 1/' "$T/requests" >"$T/requests.bad"
expect 1 "a changed signed header is seen" -- \
  "$PY" "$IEP_SRC/tests/e2e/s3_sigv4_check.py" "$T/requests.bad" test test us-east-1

finish
