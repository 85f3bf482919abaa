# PostgreSQL for tests (sourced; not itself a test: not *.sh): a throwaway
# cluster on a free port of 127.0.0.1, trust authentication from loopback
# only, no Unix socket. PostgreSQL refuses to run as root: as root, the
# cluster runs as `nobody` and its files live in a private folder under
# /tmp (nobody may not be able to reach DIR), whose path DIR/pgdata names.
#
#   pg_start DIR    makes and starts a cluster; exports PG_URL (the admin URL)
#   pg_new_db NAME  creates a database, prints its URL
#   pg_restart DIR  restarts it (same port, same data)
#   pg_stop DIR     stops it and removes its files
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# Runs a command as the cluster's owner.
_pg_as() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u nobody -- "$@")  # nobody may not enter the current folder
  else
    "$@"
  fi
}

_pg_data() { cat "$1/pgdata"; }

pg_start() {
  local dir=$1 data port
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" -eq 0 ]; then
    data=$(mktemp -d /tmp/iep-pg.XXXXXX)
    chown nobody: "$data"
  else
    data=$dir/pgdata.d
    rm -rf "$data"
    mkdir -p "$data"
  fi
  chmod 700 "$data"
  echo "$data" >"$dir/pgdata"
  _pg_as "$PG_BIN/initdb" -D "$data/db" -U iep --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  echo "host all all 127.0.0.1/32 trust" | _pg_as tee "$data/db/pg_hba.conf" >/dev/null
  # A free port: bound by the kernel, released, then taken by the server.
  # Another process may take it in between: then try again.
  local _
  for _ in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    _pg_as tee -a "$data/db/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
fsync = off
max_connections = 200
CONF
    if _pg_as "$PG_BIN/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 start >/dev/null; then
      echo "$port" >"$dir/pgport"
      export PG_URL="postgresql://iep@127.0.0.1:$port/postgres"
      return 0
    fi
  done
  cat "$data/server.log" >&2
  return 1
}

# The SQL client, as whoever we are (the server trusts loopback).
pg_sql() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$PG_URL" "$@"; }

pg_new_db() {
  pg_sql -c "CREATE DATABASE \"$1\"" >&2 || return 1
  echo "${PG_URL%/*}/$1"
}

pg_restart() {
  local data
  data=$(_pg_data "$1")
  _pg_as "$PG_BIN/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 -m fast restart >/dev/null
}

pg_stop() {
  local data
  [ -f "$1/pgdata" ] || return 0
  data=$(_pg_data "$1")
  [ -d "$data/db" ] && _pg_as "$PG_BIN/pg_ctl" -D "$data/db" -w -t 60 -m fast stop >/dev/null 2>&1
  rm -rf "$data" "$1/pgdata" "$1/pgport"
}
