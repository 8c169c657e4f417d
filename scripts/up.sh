#!/usr/bin/env bash
# scripts/up.sh [--front nginx|apache]: from a fresh Debian 12 machine to
# pycage serving on http://127.0.0.1:8080 (https on 8443): packages,
# dockerd, build, sandbox image, responder, and nginx (default) or Apache in
# front, the other stopped.  Idempotent: run it again after a change and it
# rebuilds what changed and restarts the responder.
. "$(dirname "$0")/common.sh"
while [ $# -gt 0 ]; do
	case $1 in
	--front)	FRONT=${2:-}; shift 2 || die "--front needs nginx or apache" ;;
	--front=*)	FRONT=${1#--front=}; shift ;;
	*)		die "usage: $0 [--front nginx|apache]" ;;
	esac
done
case $FRONT in nginx|apache) ;; *) die "--front: nginx or apache, not '$FRONT'" ;; esac
bring_up
