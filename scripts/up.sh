#!/usr/bin/env bash
# scripts/up.sh: from a fresh Debian 12 machine to pycage serving on
# http://127.0.0.1:8080: packages, dockerd, build, sandbox image, responder,
# nginx.  Idempotent: run it again after a change and it rebuilds what
# changed and restarts the responder.
. "$(dirname "$0")/common.sh"
bring_up
