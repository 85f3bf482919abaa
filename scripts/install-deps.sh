#!/bin/sh
# Installs everything iep needs to build, test and benchmark, from Debian
# packages by name. Idempotent: a second run installs nothing new.
set -eu
PKGS="build-essential cmake pkg-config ninja-build
  libdcmtk-dev libsodium-dev libcurl4-openssl-dev libcli11-dev libfmt-dev
  doctest-dev libzstd-dev nlohmann-json3-dev libssl-dev libmicrohttpd-dev libsqlite3-dev libpq-dev postgresql
  clang libclang-rt-14-dev clang-tidy clang-format
  age minisign zstd tar time mandoc dcmtk dicom3tools libgdcm-tools bc openssl python3 python3-pydicom python3-numpy python3-tuspy python3-boto3 curl sqlite3
  jing jq orthanc"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# npm may come with a non-Debian nodejs already on the machine; only ask
# Debian for it when there is no npm at all.
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
# moto_server, the S3 emulator the hub's shared-engine tests run against:
# Debian has no package of it; these machines' images carry it, and where it
# is missing pip is asked for it (it needs a reachable Python package index).
if ! command -v moto_server >/dev/null 2>&1; then
  python3 -m pip install --quiet 'moto[server]' ||
    echo "install-deps: moto_server is missing and pip could not install it; the shared.* and S3 tests will fail" >&2
fi
