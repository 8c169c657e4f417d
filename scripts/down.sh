#!/usr/bin/env bash
# scripts/down.sh: stops what scripts/up.sh started (nginx, pycage-fcgi).
# dockerd is left running: other things on the machine may use it.
. "$(dirname "$0")/common.sh"
need_root
if pid_alive "$RUN_DIR/nginx.pid"; then
	nginx -c "$CONF_DIR/nginx.conf" -s quit || true
fi
stop_pidfile "$RUN_DIR/pycage-fcgi.pid"
say "stopped"
