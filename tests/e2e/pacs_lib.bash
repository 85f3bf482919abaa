# Helpers for the PACS end-to-end scripts (pacs*.sh, store*.sh, gateway*.sh;
# not itself a test: not *.sh): real DICOM peers on free loopback ports,
# started here and stopped when the script exits. Sourced after lib.sh.
#
#   start_orthanc NAME AET [MODALITIES_JSON [PEERS_JSON [EXTRA]]]
#                                              Orthanc with its own config and storage
#       sets NAME_DICOM (DICOM port) and NAME_HTTP (REST port); log in $T/NAME.log
#   orthanc NAME METHOD PATH [CURL ARGS]       REST call; body on stdout
#   start_storescp AET DIR [STORESCP ARGS]     DCMTK storescp writing into DIR; sets STORESCP_PORT
#   start_peer NAME CMD...                     any other server, stopped at exit
#   free_port                                  a free TCP port on 127.0.0.1
#   wait_port PORT [SECONDS]                   until something listens on PORT
#
# Peers get TCP_NODELAY=1: Debian's DCMTK and Orthanc leave Nagle's
# algorithm on otherwise (about 22 files/s on loopback).
#
# With tests/interop/hub-lib.sh sourced first (a hub too), its `track`
# stops the peers and its EXIT trap stays; otherwise this file sets one.
PEER_PIDS=()
stop_peers() {
  local p
  for p in "${PEER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PEER_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  PEER_PIDS=()
}
if ! declare -F track >/dev/null; then
  trap 'stop_peers; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
fi

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
  local port=$1 secs=${2:-30} i
  for i in $(seq 1 $((secs * 10))); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$port after ${secs}s" >&2
  return 1
}

start_peer() {
  local name=$1
  shift
  TCP_NODELAY=1 "$@" >>"$T/$name.log" 2>&1 &
  if declare -F track >/dev/null; then track $!; else PEER_PIDS+=($!); fi
}

# start_orthanc NAME AET [MODALITIES_JSON [PEERS_JSON [EXTRA]]]: MODALITIES_JSON is
# the DicomModalities object, e.g. '{"iep": ["IEP", "127.0.0.1", 11112]}';
# PEERS_JSON the OrthancPeers object, e.g. '{"B": ["http://127.0.0.1:8043/"]}';
# EXTRA more configuration members, e.g. '"DicomTlsEnabled": true'.
start_orthanc() {
  local name=$1 aet=$2 modalities=${3:-"{}"} peers=${4:-"{}"} extra=${5:-}
  local dicom http
  dicom=$(free_port)
  http=$(free_port)
  mkdir -p "$T/$name/db"
  cat >"$T/$name/orthanc.json" <<JSON
{
  "Name": "$name",
  "StorageDirectory": "$T/$name/db",
  "IndexDirectory": "$T/$name/db",
  "StorageCompression": false,
  "Plugins": [],
  "HttpServerEnabled": true,
  "HttpPort": $http,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "DicomServerEnabled": true,
  "DicomAet": "$aet",
  "DicomPort": $dicom,
  "DicomCheckCalledAet": true,
  "DicomAlwaysAllowEcho": true,
  "DicomAlwaysAllowStore": true,
  "DicomAlwaysAllowFind": true,
  "DicomAlwaysAllowGet": true,
  "DicomAlwaysAllowMove": true,
  "DicomCheckModalityHost": false,
  "DicomModalities": $modalities,
  "OrthancPeers": $peers,${extra:+
  $extra,}
  "StableAge": 1,
  "HttpTimeout": 60,
  "DicomScuTimeout": 30,
  "DicomScpTimeout": 30
}
JSON
  start_peer "$name" Orthanc "$T/$name/orthanc.json"
  wait_port "$dicom" 60 && wait_port "$http" 60 || {
    cat "$T/$name.log" >&2
    exit 1
  }
  printf -v "${name}_DICOM" '%s' "$dicom"
  printf -v "${name}_HTTP" '%s' "$http"
}

# orthanc NAME METHOD PATH [CURL ARGS]: the REST API of Orthanc NAME.
orthanc() {
  local name=$1 method=$2 path=$3 port
  shift 3
  port=${name}_HTTP
  curl -sf -X "$method" "http://127.0.0.1:${!port}$path" "$@"
}

# start_storescp AET DIR [ARGS]: storescp accepting every storage SOP class
# and transfer syntax, one file per instance in DIR.
start_storescp() {
  local aet=$1 dir=$2
  shift 2
  mkdir -p "$dir"
  STORESCP_PORT=$(free_port)
  start_peer storescp storescp --aetitle "$aet" --output-directory "$dir" --accept-all "$@" "$STORESCP_PORT"
  wait_port "$STORESCP_PORT" 30 || exit 1
}
