#!/bin/bash
# scripts/engine-certs.sh DIR [SAN ...]: the certificates for a Docker
# engine reached over TCP with mutual TLS (dockerd --tlsverify, port 2376)
# and for the pycage responder that drives it (docs/SCALING.md).
#
# Makes in DIR (mode 0700), with openssl, EC P-256 keys (mode 0600):
#   ca.pem, ca-key.pem            the CA that signs both sides; keep
#                                 ca-key.pem offline once done
#   server-cert.pem, server-key.pem   for dockerd (--tlscert, --tlskey),
#                                 serverAuth, its subjectAltName the SANs
#                                 given (IP:a.b.c.d or DNS:name; default
#                                 IP:127.0.0.1)
#   client-cert.pem, client-key.pem   for pycage (docker_tls_cert,
#                                 docker_tls_key), clientAuth
# dockerd --tlsverify --tlscacert ca.pem accepts only clients whose
# certificate ca.pem signed; pycage checks the engine's against the same
# ca.pem (docker_tls_ca) and its name against docker_host's host.
# Existing files are never overwritten: the script stops instead.
# Valid DAYS days (environment, default 825).
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 DIR [IP:a.b.c.d|DNS:name ...]" >&2; exit 2; }
dir=$1
shift
sans=("$@")
[ ${#sans[@]} -gt 0 ] || sans=("IP:127.0.0.1")
days=${DAYS:-825}
san=$(IFS=,; echo "${sans[*]}")

mkdir -p "$dir"
chmod 0700 "$dir"
cd "$dir"
for f in ca.pem ca-key.pem server-cert.pem server-key.pem client-cert.pem client-key.pem; do
	[ ! -e "$f" ] || { echo "$dir/$f exists: not overwritten" >&2; exit 1; }
done
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key ca-key.pem
openssl req -x509 -new -key ca-key.pem -sha256 -days "$days" -subj "/CN=pycage engine CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.pem

# sign NAME SUBJECT EXTENSIONS
sign() {
	key "$1-key.pem"
	openssl req -new -key "$1-key.pem" -subj "$2" -out "$1.csr"
	printf '%s\n' "$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
	    -sha256 -days "$days" -extfile "$1.ext" -out "$1-cert.pem" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}
sign server "/CN=${sans[0]#*:}" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san"
sign client "/CN=pycage" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
rm -f ca.srl
chmod 0644 ca.pem server-cert.pem client-cert.pem
chmod 0600 ca-key.pem server-key.pem client-key.pem
openssl verify -CAfile ca.pem server-cert.pem client-cert.pem >/dev/null
echo "certificates in $dir: server for $san; client for pycage"
