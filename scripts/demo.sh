#!/bin/sh
# Installs what iep needs, builds it, and runs the exchange on the embedded
# default, on real data: a local hub (iep-serve: SQLite and files in one
# folder), two hospitals with their own identities, configuration and state;
# trust-a sends a real CT study, trust-b fetches, checks and opens it and
# signs a delivery receipt; trust-a reads the delivery timeline; the hub
# stops and its audit log is checked.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build
export PATH="$PWD/build:$PATH"

demo=$(mktemp -d "${TMPDIR:-/tmp}/iep-demo-XXXXXX")
study=/usr/lib/python3/dist-packages/pydicom/data/test_files/dicomdirtests
cd "$demo"
hub_pid=
trap '[ -z "$hub_pid" ] || kill "$hub_pid" 2>/dev/null' EXIT

# site NAME: run a command as site NAME, with its own ~/.config/iep (identity,
# pinned cards, hub URL, token) and ~/.local/state/iep.
site() {
  name=$1
  shift
  env -u XDG_CONFIG_HOME -u XDG_STATE_HOME -u IEP_SITES -u IEP_IDENTITY -u IEP_HUB -u IEP_TOKEN \
    HOME="$demo/$name" "$@"
}

set -x
# Each hospital makes its identity once; the secret stays in its ~/.config/iep.
site trust-a iep-keygen --site trust-a >trust-a.card
site trust-b iep-keygen --site trust-b >trust-b.card

# The hub: one command, one data folder. Its operator registers both sites
# from their public cards and issues each a token.
iep-serve --data hub --listen 127.0.0.1:0 --port-file hub.port 2>hub.log &
hub_pid=$!
while [ ! -s hub.port ]; do sleep 0.1; done
url="http://127.0.0.1:$(cat hub.port)"
iep-serve site add --data hub trust-a.card
iep-serve site add --data hub trust-b.card
for s in trust-a trust-b; do
  mkdir -p "$s/.config/iep"
  echo "$url" >"$s/.config/iep/hub"
  (umask 077 && iep-serve token issue --data hub "$s" >"$s/.config/iep/token")
done

# trust-a sends one study from a CD folder: packed, sealed to trust-b's card
# (fetched from the hub and pinned), signed, uploaded; "sent" means the hub
# has committed it durably.
site trust-a iep-send --to trust-b --split -v "$study" --json >sent.json
# trust-b fetches what waits for it: checks the origin, decrypts, checks
# every hash, opens each study into inbox/ atomically, then acknowledges
# with a receipt signed by its own key.
site trust-b iep-fetch --out "$demo/inbox" -v
# trust-a reads the delivery timeline and checks each receipt with
# trust-b's pinned card.
for id in $(sed -n 's/.*"package":"\([0-9a-f]*\)".*/\1/p' sent.json); do
  site trust-a iep-send --status "$id"
done

# The hub stops (SIGTERM: it signs a last checkpoint of its audit chain).
# A site keeps the hub's signed checkpoints and public key; with them the
# hash-chained audit log proves that no record was changed or removed.
kill "$hub_pid"
wait "$hub_pid" || true
hub_pid=
iep-serve audit export --data hub >audit.log
iep-serve --data hub --listen 127.0.0.1:0 --port-file hub.port2 2>>hub.log &
hub_pid=$!
while [ ! -s hub.port2 ]; do sleep 0.1; done
url="http://127.0.0.1:$(cat hub.port2)"
curl -sf -H @- "$url/v1/audit/checkpoints" >checkpoints.json <<EOF_AUTH
Authorization: Bearer $(cat trust-a/.config/iep/token)
EOF_AUTH
curl -sf -H @- "$url/v1/hub/card" >hub.card <<EOF_AUTH
Authorization: Bearer $(cat trust-a/.config/iep/token)
EOF_AUTH
kill "$hub_pid"
wait "$hub_pid" || true
hub_pid=
iep-verify --audit audit.log --checkpoint checkpoints.json --hub-card hub.card -v
set +x
echo "delivered at trust-b: $(find inbox -name '*.dcm' | wc -l) DICOM files in $(ls inbox | wc -l) studies"
echo "demo folder: $demo (hub log: hub.log, audit log: audit.log)"
