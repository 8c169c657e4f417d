#!/bin/bash
# scripts/engine-load-image.sh DOCKER_HOST [IMAGE]: copies the sandbox
# image (default pycage-sandbox:latest) from this host's engine onto
# another one, with no registry: `docker save | docker -H ... load`.
# DOCKER_HOST is unix:///path or tcp://host:port; for tcp:// the docker
# client's TLS files are TLS_CA, TLS_CERT and TLS_KEY when set
# (scripts/engine-certs.sh's ca.pem, client-cert.pem, client-key.pem),
# else DOCKER_CERT_PATH's ca.pem, cert.pem, key.pem (the docker CLI's
# names).  Prints the image's id on both engines and fails unless they
# match.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 unix:///path|tcp://host:port [image]" >&2; exit 2; }
host=$1
image=${2:-pycage-sandbox:latest}
remote=(docker -H "$host")
case $host in
tcp://*)
	if [ -n "${TLS_CA:-}" ]; then
		remote+=(--tlsverify --tlscacert "$TLS_CA" --tlscert "$TLS_CERT" --tlskey "$TLS_KEY")
	else
		remote+=(--tlsverify)
	fi ;;
unix://*) ;;
*) echo "DOCKER_HOST must be unix:///path or tcp://host:port" >&2; exit 2 ;;
esac
docker image inspect "$image" >/dev/null || { echo "$image is not on this host's engine" >&2; exit 1; }
docker save "$image" | "${remote[@]}" load -q
here=$(docker image inspect -f '{{.Id}}' "$image")
there=$("${remote[@]}" image inspect -f '{{.Id}}' "$image")
echo "$image: here $here, on $host $there"
[ "$here" = "$there" ]
