#!/bin/bash
# (bash by path, not through env: the process is then named supervise.sh,
# which scripts/common.sh's pidfile check looks for.)
# scripts/supervise.sh PIDFILE LOG -- PROGRAM [ARGS...]: keeps PROGRAM
# running, for machines without systemd as PID 1 (scripts/common.sh's
# start_responder runs pycage-fcgi under it; etc/pycage.service does the same
# job under systemd).
#
# - PROGRAM's stdout and stderr, and this script's own lines, are appended
#   to LOG (O_APPEND, so logrotate's copytruncate can rotate it).
# - A PROGRAM that ends with a non-zero status or a signal is started again
#   after 1 s, then 2, 4, ... up to 30 s while it keeps failing; a run that
#   lasted 60 s starts the count again.  pycage-fcgi exits 1 by design when
#   its executor dies, and its next start removes the containers the dead
#   one left.
# - A PROGRAM that exits 0 is not started again (it was stopped on purpose).
# - SIGTERM or SIGINT (scripts/down.sh) goes on to PROGRAM; once it has
#   exited, so does this script, removing PIDFILE.
set -u
[ $# -ge 4 ] && [ "$3" = -- ] || { echo "usage: $0 PIDFILE LOG -- PROGRAM [ARGS...]" >&2; exit 2; }
pidfile=$1 log=$2
shift 3
exec >>"$log" 2>&1 </dev/null
echo $$ >"$pidfile"

child="" stopping=""
note() {
	printf '%s supervise %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$1" "$2"
}
on_signal() {
	stopping=$1
	[ -z "$child" ] || kill -"$1" "$child" 2>/dev/null || true
}
trap 'on_signal TERM' TERM
trap 'on_signal INT' INT

delay=1
while :; do
	started=$SECONDS
	"$@" &
	child=$!
	# wait returns early, with 128 + the signal, when a trapped signal
	# arrives; the child has ended only when it can no longer be signalled.
	while :; do
		wait "$child"
		status=$?
		kill -0 "$child" 2>/dev/null || break
	done
	child=""
	if [ -n "$stopping" ]; then
		note info "$1 stopped on SIG$stopping (status $status)"
		break
	fi
	if [ "$status" -eq 0 ]; then
		note info "$1 exited 0; not restarting it"
		break
	fi
	[ $((SECONDS - started)) -lt 60 ] || delay=1
	note warn "$1 exited with status $status; restarting it in $delay s"
	sleep "$delay" &
	child=$!
	wait "$child" 2>/dev/null
	child=""
	[ -z "$stopping" ] || break
	delay=$((delay * 2 > 30 ? 30 : delay * 2))
done
rm -f "$pidfile"
