#!/usr/bin/env bash
# Installs the pinned tus peers (tus-js-client, @tus/server, @tus/file-store;
# exact versions in package-lock.json) into tests/interop/node_modules with
# `npm ci`, only when they are missing or do not match the lock file.
# Idempotent: a second run is offline and instant. Prints the folder.
#   tests/interop/install.sh [--quiet]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
quiet=${1:-}
stamp=$here/node_modules/.iep-lock.b2

command -v node >/dev/null || { echo "interop/install.sh: node is not installed" >&2; exit 1; }
command -v npm >/dev/null || { echo "interop/install.sh: npm is not installed" >&2; exit 1; }

want=$(b2sum "$here/package-lock.json" | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ||
      ! -f $here/node_modules/tus-js-client/package.json ||
      ! -f $here/node_modules/@tus/server/package.json ||
      ! -f $here/node_modules/@tus/file-store/package.json ]]; then
  # Two tests starting at once must not run npm ci into the same folder.
  exec 9>"$here/.install.lock"
  flock 9
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2) || {
      echo "interop/install.sh: npm ci failed in $here" >&2
      exit 1
    }
    echo "$want" >"$stamp"
  fi
fi
[[ $quiet == --quiet ]] || printf '%s\n' "$here/node_modules"
