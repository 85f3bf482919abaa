#!/bin/bash
# DICOM over TLS (iep-pack --pacs --tls-cert/--tls-key/--tls-ca): a C-FIND
# and a C-GET from Orthanc with DICOM TLS on, client certificates required,
# all made by a throwaway CA. The peer's certificate is always verified:
# against --tls-ca, else against the system's CAs (never skipped). A wrong
# CA, a missing client certificate, plain TCP to the TLS port and a peer
# offering only TLS 1.1 all fail with exit 19 and one line naming the peer.
. "$(dirname "$0")/lib.sh"
. "$IEP_SRC/tests/e2e/pacs_lib.bash"

make_sites
export IEP_IDENTITY="$T/keys/a.id"

# ---- a throwaway CA, Orthanc's certificate and ours ----------------------
# RSA keys: the non-downgrading BCP 195 profile's TLS 1.2 suites are
# ECDHE_RSA/DHE_RSA.
ca() { # ca NAME: a self-signed CA in $T/NAME.crt, $T/NAME.key
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=iep test $1" \
    -keyout "$T/$1.key" -out "$T/$1.crt" 2>/dev/null
}
leaf() { # leaf NAME CN CA: a certificate for CN signed by CA
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$T/$1.key" -out "$T/$1.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' >"$T/$1.ext"
  openssl x509 -req -in "$T/$1.csr" -CA "$T/$3.crt" -CAkey "$T/$3.key" -CAcreateserial -days 2 \
    -extfile "$T/$1.ext" -out "$T/$1.crt" 2>/dev/null
}
ca ca
ca wrongca
leaf pacs ORTHANC ca
leaf iep IEP ca
openssl verify -CAfile "$T/ca.crt" "$T/pacs.crt" "$T/iep.crt" >/dev/null 2>&1 && ok \
  || bad "a throwaway CA, a PACS and a client certificate"

# ---- Orthanc speaking DICOM over TLS only --------------------------------
start_orthanc tls ORTHANC "{}" "{}" "\"DicomTlsEnabled\": true,
  \"DicomTlsCertificate\": \"$T/pacs.crt\",
  \"DicomTlsPrivateKey\": \"$T/pacs.key\",
  \"DicomTlsTrustedCertificates\": \"$T/ca.crt\",
  \"DicomTlsRemoteCertificateRequired\": true"
orthanc tls POST /instances --data-binary "@$CORPUS/CT_small.dcm" >/dev/null \
  || { echo "upload into Orthanc failed" >&2; exit 1; }
PACS="ORTHANC@127.0.0.1:$tls_DICOM"
CT_UID=$(dcmdump -s +P StudyInstanceUID "$CORPUS/CT_small.dcm" | head -1 | sed 's/.*\[\(.*\)\].*/\1/')
CT_SOP=$(dcmdump -s +P SOPInstanceUID "$CORPUS/CT_small.dcm" | head -1 | sed 's/.*\[\(.*\)\].*/\1/')
TLS=(--tls-cert "$T/iep.crt" --tls-key "$T/iep.key")

# ---- C-FIND and C-GET over TLS -------------------------------------------
expect 0 "C-FIND and C-GET over TLS" -- \
  iep-pack --pacs "$PACS" "${TLS[@]}" --tls-ca "$T/ca.crt" -q "StudyInstanceUID=$CT_UID" \
  --retrieve get -o "$T/ct.tar.zst"
SOPS=$(tar --zstd -xOf "$T/ct.tar.zst" MANIFEST.json 2>/dev/null | jq -r '.files[].sop_instance_uid // empty')
assert "the package holds CT_small's instance" -- [ "$SOPS" = "$CT_SOP" ]
assert "Orthanc saw a TLS association" -- grep -qi "tls" "$T/tls.log"

# iep-store over TLS: the package goes back in (Orthanc keeps one copy);
# a wrong CA stores nothing.
expect 0 "iep-store: C-STORE over TLS" -- \
  iep-store --pacs "$PACS" "${TLS[@]}" --tls-ca "$T/ca.crt" --state "$T/st-tls" "$T/ct.tar.zst"
expect 19 "iep-store: a PACS certificate from another CA" -- \
  iep-store --pacs "$PACS" "${TLS[@]}" --tls-ca "$T/wrongca.crt" --state "$T/st-wrong" "$T/ct.tar.zst"
stderr_names "one line naming the peer" "$PACS"

# No --tls-ca: the system's CAs. With SSL_CERT_FILE naming the throwaway CA
# it is trusted (so the system store is what is read); with the real store
# it is not.
expect 0 "no --tls-ca: verified against the system store, here the throwaway CA" -- \
  env SSL_CERT_FILE="$T/ca.crt" SSL_CERT_DIR="$T/none" iep-pack --pacs "$PACS" "${TLS[@]}" \
  -q "StudyInstanceUID=$CT_UID" --retrieve get -o "$T/sys.tar.zst"
expect 19 "no --tls-ca and a CA the system does not trust: refused, not skipped" -- \
  env SSL_CERT_FILE="$T/wrongca.crt" SSL_CERT_DIR="$T/none" iep-pack --pacs "$PACS" "${TLS[@]}" \
  -q "StudyInstanceUID=$CT_UID" --retrieve get -o "$T/nosys.tar.zst"
stderr_names "it names the peer" "$PACS"
grep -qF "none of the system's trusted CAs" "$T/.err" && ok || bad "it says why: $(cat "$T/.err")"
nothing_left "no package" "$T/nosys.tar.zst"

# ---- refused ---------------------------------------------------------------
expect 19 "a PACS certificate from another CA" -- \
  iep-pack --pacs "$PACS" "${TLS[@]}" --tls-ca "$T/wrongca.crt" -q "StudyInstanceUID=$CT_UID" \
  -o "$T/wrong.tar.zst"
stderr_names "one line naming the peer" "$PACS"
grep -qF "certificate does not chain to $T/wrongca.crt" "$T/.err" && ok \
  || bad "it says the certificate is the cause: $(cat "$T/.err")"
nothing_left "no package" "$T/wrong.tar.zst"

expect 19 "no client certificate where the PACS requires one" -- \
  iep-pack --pacs "$PACS" --tls-ca "$T/ca.crt" -q "StudyInstanceUID=$CT_UID" -o "$T/anon.tar.zst"
stderr_names "one line naming the peer" "$PACS"

expect 19 "plain TCP to the TLS port" -- \
  iep-pack --pacs "$PACS" -q "StudyInstanceUID=$CT_UID" -o "$T/plain.tar.zst"
stderr_names "one line naming the peer" "$PACS"
nothing_left "no package" "$T/plain.tar.zst"

# A peer that offers nothing newer than TLS 1.1 (openssl s_server with
# every protocol and cipher allowed): iep does not go down to it.
OLD_PORT=$(free_port)
printf 'openssl_conf = c\n[c]\nssl_conf = s\n[s]\nsystem_default = d\n[d]\nMinProtocol = TLSv1\nCipherString = DEFAULT@SECLEVEL=0\n' \
  >"$T/old.cnf"
start_peer old env OPENSSL_CONF="$T/old.cnf" openssl s_server -accept "127.0.0.1:$OLD_PORT" \
  -cert "$T/pacs.crt" -key "$T/pacs.key" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' -quiet
wait_port "$OLD_PORT" 10 || exit 1
# The peer does speak TLS 1.1 to a client that allows it (else the case
# below proves nothing).
if echo | OPENSSL_CONF="$T/old.cnf" timeout 10 openssl s_client -connect "127.0.0.1:$OLD_PORT" -tls1_1 \
  -cipher 'DEFAULT@SECLEVEL=0' -CAfile "$T/ca.crt" 2>/dev/null | grep -q "Protocol *: TLSv1.1"; then
  ok
else
  bad "the TLS 1.1 peer did not answer a TLS 1.1 client"
fi

expect 19 "a peer with TLS 1.1 at most" -- \
  iep-pack --pacs "OLD@127.0.0.1:$OLD_PORT" "${TLS[@]}" --tls-ca "$T/ca.crt" \
  -q "StudyInstanceUID=$CT_UID" -o "$T/old.tar.zst"
stderr_names "one line naming the peer" "OLD@127.0.0.1:$OLD_PORT"
grep -qF "TLS 1.2 and later only" "$T/.err" && ok || bad "it says why: $(cat "$T/.err")"

# ---- bad flags -------------------------------------------------------------
expect 2 "--tls-cert without --tls-key" -- \
  iep-pack --pacs "$PACS" --tls-cert "$T/iep.crt" -q "StudyInstanceUID=$CT_UID" -o "$T/x.tar.zst"
stderr_names "it says why" "--tls-cert and --tls-key go together"
expect 2 "a --tls-ca that does not exist" -- \
  iep-pack --pacs "$PACS" "${TLS[@]}" --tls-ca "$T/nope.crt" -q "StudyInstanceUID=$CT_UID" \
  -o "$T/x.tar.zst"
stderr_names "it names the file" "$T/nope.crt"
expect 2 "--tls-ca without --pacs" -- iep-pack --tls-ca "$T/ca.crt" "$CORPUS/CT_small.dcm"
stderr_names "it says why" "--tls-ca needs --pacs"
expect 10 "a key that does not match the certificate" -- \
  iep-pack --pacs "$PACS" --tls-cert "$T/iep.crt" --tls-key "$T/pacs.key" --tls-ca "$T/ca.crt" \
  -q "StudyInstanceUID=$CT_UID" -o "$T/x.tar.zst"
stderr_names "it names the key" "$T/pacs.key"
openssl genrsa -aes256 -passout pass:secret -out "$T/enc.key" 2048 2>/dev/null
openssl req -new -x509 -key "$T/enc.key" -passin pass:secret -subj /CN=enc -days 2 \
  -out "$T/enc.crt" 2>/dev/null
expect 10 "an encrypted key fails to load, asking nothing" -- \
  iep-pack --pacs "$PACS" --tls-cert "$T/enc.crt" --tls-key "$T/enc.key" --tls-ca "$T/ca.crt" \
  -q "StudyInstanceUID=$CT_UID" -o "$T/x.tar.zst"
stderr_names "it names the key" "$T/enc.key: not an unencrypted PEM private key"
nothing_left "no package" "$T/x.tar.zst"

finish
