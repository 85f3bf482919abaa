# Shared helpers for the end-to-end tests: real tools, real data, real peers.
# Each test script sources this, calls checks, and ends with `finish`.
set -uo pipefail

: "${IEP_BIN:?IEP_BIN must point at the build folder}"
: "${IEP_SRC:?IEP_SRC must point at the source folder}"
export PATH="$IEP_BIN:$PATH"
export LC_ALL=C
CORPUS=/usr/lib/python3/dist-packages/pydicom/data/test_files
mkdir -p "${IEP_TEST_TMP:-/tmp}"
T=$(mktemp -d "${IEP_TEST_TMP:-/tmp}/$(basename "$0" .sh)-XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
# tests/data/fetch-corpora.sh keeps using the real user's corpus cache: under
# the scratch HOME below it would be empty and npm would download every run.
if [ -z "${IEP_CORPUS_DIR:-}" ] && [ -n "${HOME:-}" ]; then
  export IEP_CORPUS_DIR="$HOME/.cache/iep/corpora"
fi
# No stray configuration from the machine running the tests.
export HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config"
mkdir -p "$HOME"
unset IEP_IDENTITY
export IEP_SITES="$T/sites"
# The hub's engines: files and SQLite, or PostgreSQL and S3 (IEP_TEST_HUB=shared).
. "$IEP_SRC/tests/e2e/hub_engines.bash"

passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL: $*" >&2
}

# expect CODE DESCRIPTION -- CMD...: runs CMD, checks its exit code; stdout
# in $T/out, stderr in $T/err.
expect() {
  local want=$1 desc=$2
  shift 3
  "$@" >"$T/.out" 2>"$T/.err"
  local got=$?
  if [ "$got" -eq "$want" ]; then
    ok
  else
    bad "$desc: expected exit $want, got $got: $*"
    sed 's/^/  stderr: /' "$T/.err" | head -5 >&2
  fi
}

# expect_in "CODES" DESCRIPTION -- CMD...: as expect, any of several codes.
expect_in() {
  local want=$1 desc=$2
  shift 3
  "$@" >"$T/.out" 2>"$T/.err"
  local got=$? w
  for w in $want; do
    if [ "$got" -eq "$w" ]; then
      ok
      return
    fi
  done
  bad "$desc: expected exit in {$want}, got $got: $*"
  sed 's/^/  stderr: /' "$T/.err" | head -5 >&2
}

# assert DESCRIPTION -- CMD...: CMD must succeed (a shell test).
assert() {
  local desc=$1
  shift 2
  if "$@"; then ok; else bad "$desc"; fi
}

# The last command's stderr is one line naming what it must name.
stderr_names() {
  local desc=$1 needle=$2
  if [ "$(wc -l <"$T/.err")" -eq 1 ] && grep -qF -- "$needle" "$T/.err"; then
    ok
  else
    bad "$desc: stderr should be one line naming '$needle', got:"
    sed 's/^/  /' "$T/.err" | head -5 >&2
  fi
}

# No file or folder matching the glob exists (nothing half-written).
# kill9 PID: kill -9 PID and its children, then reap PID (its status is
# returned: 137 when the signal found it running). A shell function run
# with & is a subshell whose command runs as its child: killing the
# subshell alone would leave that command running on.
kill9() {
  local kids
  kids=$(pgrep -P "$1" | tr '\n' ' ')
  # shellcheck disable=SC2086
  kill -9 $kids "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

nothing_left() {
  local desc=$1
  shift
  local f
  for f in "$@"; do
    if [ -e "$f" ]; then
      bad "$desc: left behind $f"
      return
    fi
  done
  ok
}

# Three sites: a (sender), b (recipient), c (bystander); cards in $IEP_SITES.
make_sites() {
  mkdir -p "$T/sites" "$T/keys"
  local s
  for s in a b c; do
    iep-keygen --site "trust-$s" -o "$T/keys/$s.id" -c "$T/sites/trust-$s.card" >/dev/null || exit 1
  done
}

# A small real CT study with several age chunks, made from pydicom's CT.
make_study() {
  local dir=$1 slices=${2:-6}
  /usr/bin/python3 "$IEP_SRC/tests/bench/make-study.py" "$dir" --slices "$slices" --size 256 >/dev/null || exit 1
}

# Content hashes of every regular file under a folder, sorted.
hashes() { find "$1" -type f ! -name 'MANIFEST.json*' -exec b2sum {} + | cut -d' ' -f1 | sort; }

# The entry paths a manifest lists, in order.
manifest_paths() {
  /usr/bin/python3 -c 'import json, sys; [print(f["path"]) for f in json.load(open(sys.argv[1]))["files"]]' "$1"
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
