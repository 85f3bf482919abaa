#!/bin/sh
# Installs what iep needs, builds it three ways (Release; AddressSanitizer +
# UndefinedBehaviorSanitizer at Debug; libFuzzer with clang), warnings as
# errors in each, and runs every test of all three with one CTest run.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
bash tests/data/fetch-corpora.sh >/dev/null

jobs=$(nproc)
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DIEP_SANITIZE=ON -DIEP_WERROR=ON >/dev/null
cmake --build build-asan -j "$jobs"
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIEP_FUZZ=ON \
  -DIEP_SANITIZE=ON -DIEP_TESTS=OFF -DIEP_WERROR=ON >/dev/null
cmake --build build-fuzz -j "$jobs"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DIEP_WERROR=ON \
  -DIEP_ASAN_BUILD="$PWD/build-asan" -DIEP_FUZZ_BUILD="$PWD/build-fuzz" >/dev/null
cmake --build build -j "$jobs"
cd build
ctest -j "$jobs" --output-on-failure
