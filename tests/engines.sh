#!/usr/bin/env bash
# The engines the tests use beside the embedded ones, for a CTest fixture:
#
#   tests/engines.sh start DIR       starts PostgreSQL and moto_server under
#                                    DIR; writes DIR/pg (PostgreSQL's admin
#                                    URL), DIR/s3 (the S3 endpoint URL) and
#                                    DIR/s3.pid
#   tests/engines.sh stop DIR        stops what `start` started there
#   tests/engines.sh restart-pg DIR  restarts PostgreSQL
#
# Tests find DIR in IEP_TEST_ENGINES. Each engine has its own pair of
# functions below.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# ---- PostgreSQL
pg_engine_start() {
  source "$here/e2e/pg_lib.bash"
  pg_start "$1/postgres" || return 1
  echo "$PG_URL" >"$1/pg"
}
pg_engine_stop() {
  source "$here/e2e/pg_lib.bash"
  pg_stop "$1/postgres"
  rm -f "$1/pg"
}
pg_engine_restart() {
  source "$here/e2e/pg_lib.bash"
  pg_restart "$1/postgres"
}

# ---- S3 (moto_server)
s3_engine_start() {
  # shellcheck source=e2e/s3_lib.bash
  source "$here/e2e/s3_lib.bash"
  s3_start "$1/s3-data" || return 1
  echo "$S3_ENDPOINT" >"$1/s3"
  echo "$S3_PID" >"$1/s3.pid"
}
s3_engine_stop() {
  local dir=$1 pid
  [ -f "$dir/s3.pid" ] || return 0
  pid=$(cat "$dir/s3.pid")
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$dir/s3" "$dir/s3.pid"
}

usage() { echo "usage: engines.sh start|stop|restart-pg DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
mkdir -p "$2"
dir=$(cd "$2" && pwd)
case $1 in
  start)
    if ! pg_engine_start "$dir" || ! s3_engine_start "$dir"; then
      pg_engine_stop "$dir"
      s3_engine_stop "$dir"
      exit 1
    fi
    ;;
  stop) pg_engine_stop "$dir"; s3_engine_stop "$dir" ;;
  restart-pg) pg_engine_restart "$dir" ;;
  *) usage ;;
esac
