# The hub's engines as the end-to-end scripts see them (sourced by lib.sh;
# not itself a test). By default iep-serve keeps its index and its bytes
# under --data. Under IEP_TEST_HUB=shared (CTest's shared.e2e.* runs) every
# iep-serve of the script uses PostgreSQL and S3 instead, through
# IEP_HUB_INDEX and IEP_HUB_STORE: a fresh database and a fresh bucket prefix
# on the servers the CTest fixture started (IEP_TEST_ENGINES/pg, /s3; see
# tests/engines.sh). The checks below then look at what the hub stored with
# psql and boto3, the engines' own clients.

if [ "${IEP_TEST_HUB:-}" = shared ]; then
  : "${IEP_TEST_ENGINES:?IEP_TEST_ENGINES must name the folder tests/engines.sh started}"
  _pg_admin=$(head -1 "$IEP_TEST_ENGINES/pg")
  _s3=$(head -1 "$IEP_TEST_ENGINES/s3")
  _db=t_$(basename "$T" | tr -c 'a-zA-Z0-9' _ | tr 'A-Z' 'a-z')
  psql -qX "$_pg_admin" -c "CREATE DATABASE $_db" >/dev/null ||
    { echo "FAIL: cannot create database $_db on $_pg_admin" >&2; exit 1; }
  export IEP_HUB_INDEX="${_pg_admin%/*}/$_db"
  export IEP_HUB_STORE="s3://iep-test/$_db?endpoint=$_s3"
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
  S3_ENDPOINT=$_s3 S3_BUCKET=iep-test S3_PREFIX=$_db
  . "$IEP_SRC/tests/e2e/s3_lib.bash"
  s3_new_bucket "$S3_BUCKET" 2>/dev/null  # once per run; taken already by the first script
  iep-serve migrate >/dev/null 2>"$T/migrate.log" ||
    { echo "FAIL: iep-serve migrate: $(cat "$T/migrate.log")" >&2; exit 1; }
fi

# An S3 request by boto3: s3_peek OP KEY (OP: get, size, exists, upload-size,
# multipart: the keys of the multipart uploads in progress under KEY).
s3_peek() {
  "$(s3_python)" - "$1" "$S3_ENDPOINT" "$S3_BUCKET" "$S3_PREFIX/$2" <<'PY'
import sys, boto3, botocore
op, endpoint, bucket, key = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint)
def head(k):
    try:
        return s3.head_object(Bucket=bucket, Key=k)
    except botocore.exceptions.ClientError:
        return None
if op == "get":
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    for chunk in iter(lambda: body.read(1 << 20), b""):
        sys.stdout.buffer.write(chunk)
    sys.exit(0)
if op == "multipart":
    for u in s3.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", []):
        print(u["Key"])
    sys.exit(0)
if op == "exists":
    sys.exit(0 if head(key) else 1)
if op == "size":
    h = head(key)
    sys.exit(1) if h is None else print(h["ContentLength"])
if op == "upload-size":  # durable parts + the tail kept in the state object
    h = head(key + ".state")
    if h is None:
        sys.exit(1)
    print(int(h["Metadata"].get("parts-bytes", "0")) + h["ContentLength"])
PY
}

# hub_upload_bytes DATA ID: the bytes the store holds for upload ID.
hub_upload_bytes() {
  if [ -n "${IEP_HUB_STORE:-}" ]; then s3_peek upload-size "uploads/$2"; else stat -c %s "$1/uploads/$2"; fi
}
# hub_has_package DATA ID: whether the store holds package ID's bytes.
hub_has_package() {
  if [ -n "${IEP_HUB_STORE:-}" ]; then s3_peek exists "packages/$2"; else test -e "$1/packages/$2"; fi
}
# hub_sql DATA SQL: runs SQL on the hub's index (stopped, or read-only).
hub_sql() {
  if [ -n "${IEP_HUB_INDEX:-}" ]; then psql -qAtX "$IEP_HUB_INDEX" -c "$2"; else sqlite3 "$1/index.sqlite" "$2"; fi
}
# hub_index_has DATA TEXT: whether TEXT is anywhere in the index's storage.
hub_index_has() {
  if [ -n "${IEP_HUB_INDEX:-}" ]; then
    pg_dump -a "$IEP_HUB_INDEX" | grep -qaF "$2"
  else
    cat "$1/index.sqlite" "$1/index.sqlite-wal" 2>/dev/null | grep -qaF "$2"
  fi
}
# hub_backup DATA DEST / hub_restore DATA DEST: the hub's whole state (stopped)
# copied away and put back: the data folder, and with shared engines the
# database (pg_dump, pg_restore) and the objects under the prefix (boto3).
hub_backup() {
  cp -a "$1" "$2"
  if [ -n "${IEP_HUB_INDEX:-}" ]; then
    pg_dump -Fc -f "$2.pgdump" "$IEP_HUB_INDEX" && s3_copy_prefix "$S3_PREFIX" "$S3_PREFIX.backup"
  fi
}
hub_restore() {
  rm -rf "$1" && cp -a "$2" "$1"
  if [ -n "${IEP_HUB_INDEX:-}" ]; then
    psql -qX "$_pg_admin" -c "DROP DATABASE $_db" -c "CREATE DATABASE $_db" >/dev/null &&
      pg_restore -d "$IEP_HUB_INDEX" "$2.pgdump" && s3_copy_prefix "$S3_PREFIX.backup" "$S3_PREFIX"
  fi
}
# s3_copy_prefix FROM TO: every object under FROM/ copied under TO/, which
# holds nothing else afterwards.
s3_copy_prefix() {
  "$(s3_python)" - "$S3_ENDPOINT" "$S3_BUCKET" "$1/" "$2/" <<'PY'
import sys, boto3
endpoint, bucket, src, dst = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint)
def keys(prefix):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            yield o["Key"]
for k in list(keys(dst)):
    s3.delete_object(Bucket=bucket, Key=k)
for k in keys(src):
    s3.copy_object(Bucket=bucket, Key=dst + k[len(src):], CopySource={"Bucket": bucket, "Key": k},
                   MetadataDirective="COPY")
PY
}
