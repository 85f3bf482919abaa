#!/bin/bash
# The engines the tests may use beside the embedded ones, for a CTest
# fixture: `engines.sh start DIR` starts them under DIR and writes what a
# test needs to reach each into DIR (DIR/pg: PostgreSQL's admin URL, one
# line); `engines.sh stop DIR` stops them. Tests find DIR in
# IEP_TEST_ENGINES.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# ---- PostgreSQL
pg_engine_start() {
  source "$here/e2e/pg_lib.bash"
  pg_start "$1/postgres"
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

[ $# -eq 2 ] || { echo "usage: engines.sh start|stop|restart-pg DIR" >&2; exit 2; }
mkdir -p "$2"
dir=$(cd "$2" && pwd)
case $1 in
  start) pg_engine_start "$dir" ;;
  stop) pg_engine_stop "$dir" ;;
  restart-pg) pg_engine_restart "$dir" ;;
  *) echo "usage: engines.sh start|stop|restart-pg DIR" >&2; exit 2 ;;
esac
