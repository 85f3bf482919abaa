#!/bin/sh
# Installs what iep needs, builds it twice (Release with g++; clang with
# AddressSanitizer + UndefinedBehaviorSanitizer, whose library also carries
# libFuzzer's coverage so that the same tree builds the fuzzers), warnings
# as errors in both, and runs every test of both with one CTest run: the
# plain tests on the Release tree, asan.* on the sanitizer tree, fuzz.* for
# a bounded time each. The hub's tests also run on PostgreSQL and S3
# (shared.*: a throwaway cluster and moto_server, started by CTest).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
bash tests/data/fetch-corpora.sh >/dev/null

jobs=$(nproc)
CXX=clang++ cmake -S . -B build-san -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIEP_SANITIZE=ON \
  -DIEP_FUZZ=ON -DIEP_WERROR=ON >/dev/null
cmake --build build-san -j "$jobs"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DIEP_WERROR=ON \
  -DIEP_ASAN_BUILD="$PWD/build-san" -DIEP_FUZZ_BUILD="$PWD/build-san" >/dev/null
cmake --build build -j "$jobs"
cd build
ctest -j "$jobs" --output-on-failure
