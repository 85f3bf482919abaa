#!/usr/bin/env bash
# Starts or stops the shared-engine servers the unit tests use when
# IEP_TEST_ENGINES names DIR (tests/unit/hub_store_test.cpp, ...):
#
#   tests/engines.sh start DIR   starts them; writes DIR/s3 (the S3 endpoint
#                                URL) and DIR/s3.pid
#   tests/engines.sh stop DIR    stops what `start` started there
#
# Each engine has its own pair of functions below.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# ---- S3 (moto_server) ----
s3_engine_start() {
  local dir=$1
  # shellcheck source=e2e/s3_lib.bash
  source "$here/e2e/s3_lib.bash"
  s3_start "$dir/s3-data" || return 1
  echo "$S3_ENDPOINT" >"$dir/s3"
  echo "$S3_PID" >"$dir/s3.pid"
}
s3_engine_stop() {
  local dir=$1 pid
  [ -f "$dir/s3.pid" ] || return 0
  pid=$(cat "$dir/s3.pid")
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$dir/s3" "$dir/s3.pid"
}

case "${1:-}" in
  start)
    [ -n "${2:-}" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
    mkdir -p "$2"
    s3_engine_start "$2" || { s3_engine_stop "$2"; exit 1; }
    ;;
  stop)
    [ -n "${2:-}" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
    s3_engine_stop "$2"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
