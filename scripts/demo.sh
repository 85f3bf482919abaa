#!/bin/sh
# Installs what iep needs, builds it, and runs the main job on real data:
# two hospitals make site identities and exchange cards; trust-a packs a
# real CT study and seals it for trust-b; trust-b verifies and opens it.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build
export PATH="$PWD/build:$PATH"

demo=$(mktemp -d "${TMPDIR:-/tmp}/iep-demo-XXXXXX")
study=/usr/lib/python3/dist-packages/pydicom/data/test_files/dicomdirtests
cd "$demo"
mkdir -p sites
set -x
iep-keygen --site trust-a -o trust-a.id -c sites/trust-a.card
iep-keygen --site trust-b -o trust-b.id -c sites/trust-b.card
export IEP_SITES="$demo/sites"
# trust-a: one study from a CD folder (read through its DICOMDIR).
iep-pack -i trust-a.id --split outbox "$study"
first=$(ls outbox | head -1)
iep-send -i trust-a.id --to trust-b --output study.iep - <"outbox/$first"
# Anyone holding trust-a's card can check where it came from...
iep-verify -v study.iep
# ...and trust-b can check everything inside and open it.
iep-verify -v -i trust-b.id study.iep
iep-open -v -i trust-b.id study.iep -o inbox
set +x
find inbox -type f | sort
echo "demo folder: $demo"
