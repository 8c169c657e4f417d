#!/usr/bin/env bash
# scripts/down.sh: stops what scripts/up.sh started (nginx or Apache,
# pycage-fcgi and its supervisor).  dockerd is left running: other things on the machine may
# use it.
. "$(dirname "$0")/common.sh"
need_root
stop_nginx
stop_apache
stop_responder
say "stopped"
