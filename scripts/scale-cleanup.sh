#!/bin/bash
# scripts/scale-cleanup.sh: removes what tests/integration/test_scale.py
# may have left if it was killed before its own clean-up ran (its watchdog
# exits without atexit): under /var/tmp/pycage-scale-*, nginx and Apache, the
# responders (their pidfiles are in the responders' own temporary dirs;
# their processes are found by the config path), the second dockerd and
# its containerd and shims, its mounts, then the directory; and the
# bridge (PYCAGE_SCALE_BRIDGE, default pycage-eng1).  Touches nothing
# outside those names.  scripts/check.sh runs it after the scale-out phase.
set -u
shopt -s nullglob
for dir in /var/tmp/pycage-scale-*/; do
	dir=${dir%/}
	for pidfile in "$dir/nginx/nginx.pid" "$dir/apache/apache2.pid" "$dir/engine/dockerd.pid"; do
		[ -f "$pidfile" ] || continue
		pid=$(tr -dc 0-9 <"$pidfile")
		[ -n "$pid" ] || continue
		# Only a process whose command line names this directory.
		if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir"; then
			kill -TERM "$pid" 2>/dev/null
		fi
	done
	# The responders: pycage-fcgi whose configuration listens in this dir.
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = pycage-fcgi ] || continue
		conf=$(tr '\0' '\n' <"$p/cmdline" 2>/dev/null | sed -n '/^-c$/{n;p;}')
		if [ -n "$conf" ] && grep -qF "$dir/" "$conf" 2>/dev/null; then
			kill -TERM "${p#/proc/}" 2>/dev/null
		fi
	done
	sleep 2
	# Whatever still runs with this directory in its arguments: dockerd,
	# containerd, shims, nginx.
	for p in /proc/[0-9]*; do
		if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF "$dir/"; then
			kill -KILL "${p#/proc/}" 2>/dev/null
		fi
	done
	grep -o " $dir/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l
	# The responders' own temporary dirs (test_faults.Responder's).
	for conf in /tmp/pycage-faults-*/pycage.conf; do
		grep -qF "$dir/" "$conf" 2>/dev/null && rm -rf "${conf%/pycage.conf}"
	done
	rm -rf "$dir"
done
ip link del "${PYCAGE_SCALE_BRIDGE:-pycage-eng1}" 2>/dev/null
exit 0
