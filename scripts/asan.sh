#!/usr/bin/env bash
# scripts/asan.sh [build | start [--privsep] | stop]: pycage-fcgi under
# AddressSanitizer, LeakSanitizer and UBSan, in place of the installed
# responder, so the integration tests (or a few curl requests) run
# against it.
#
#   build  (the default) builds build-asan/src/front/pycage-fcgi and
#          pycage-executor out of tree, configured --disable-hardening
#          with the sanitizer flags.
#   start  stops the installed responder (pidfile, SIGTERM, wait) and
#          starts the ASan one on the same socket and pidfile.
#   stop   SIGTERMs it and waits (60 s) for both processes to return from
#          main, so the leak checks run; reads the sanitizer reports of
#          this run; restarts the installed responder as scripts/up.sh
#          does.  Prints "asan: clean" and exits 0, or prints the reports
#          and exits 1.
#
# The privilege split (main.c) puts the front, as front_user, in an empty
# front_chroot with no /proc.  There LeakSanitizer cannot run ("Can't
# open /proc/PID/task": it lists threads to stop them) and no log_path
# under /var/log can be opened (the runtime dies at its first report).
# So by default the ASan responder runs the same config with front_user
# empty (main.c: "runs unseparated"): both processes as root, outside any
# chroot, every check on.  start --privsep keeps the config as it is:
# the reports of both processes then go to stderr (the -asan.log), and
# the front's leak check is reported as not run.  Both modes point
# executor_path at the ASan build's pycage-executor.
#
# Where reports land: gcc's runtimes share one log_path and read
# UBSAN_OPTIONS last, so ASan's reports go to ubsan.PID rather than
# asan.PID (measured with gcc 12); both sets and the log are read.
. "$(dirname "$0")/common.sh"

ASAN_LOG="$LOG_DIR/pycage-fcgi-asan.log"
PIDFILE="$RUN_DIR/pycage-fcgi.pid"
# Between start and stop: where this run's part of ASAN_LOG starts, the
# mode, and the config the ASan responder was started with.
STATE_DIR="$RUN_DIR/asan"
# -fsanitize-recover=address: halt_on_error=0 keeps serving after a
# report only if the code was built to recover.
SAN_CFLAGS="-fsanitize=address,undefined -fsanitize-recover=address -fno-omit-frame-pointer -g -O1"
SAN_LDFLAGS="-fsanitize=address,undefined"
STOP_WAIT_S=60
REPORT_PATTERN='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|Sanitizer CHECK failed|LeakSanitizer has encountered a fatal error|ERROR: Can.t open file'

asan_build() {
	say "building the ASan responder in $ASAN_BUILD"
	[ -x "$TOP/configure" ] || (cd "$TOP" && autoreconf -fi >/dev/null 2>&1) ||
		die "autoreconf failed"
	mkdir -p "$ASAN_BUILD"
	(cd "$ASAN_BUILD" &&
	 { [ -f Makefile ] || "$TOP/configure" -q --disable-hardening \
	     --prefix=/usr/local --sysconfdir=/etc \
	     CFLAGS="$SAN_CFLAGS" LDFLAGS="$SAN_LDFLAGS"; } &&
	 make -s -j"$(nproc)" src/front/pycage-fcgi src/executor/pycage-executor >/dev/null) ||
		die "ASan build failed"
}

# Alive and not a zombie: the responder is nobody's child once start
# returns, and a zombie still answers kill -0.
pid_running() {
	local state
	kill -0 "$1" 2>/dev/null || return 1
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$state" != Z ]
}

is_asan_pid() {
	[ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$ASAN_BIN" ]
}

asan_start() {
	local mode=unseparated conf i
	local asan_options ubsan_options
	need_root
	case ${1:-} in
	"")		;;
	--privsep)	mode=privsep ;;
	*)		die "usage: $0 start [--privsep]" ;;
	esac
	[ -x "$ASAN_BIN" ] && [ -x "$ASAN_EXECUTOR" ] || asan_build
	if pid_alive "$PIDFILE" pycage-fcgi && is_asan_pid "$(cat "$PIDFILE")"; then
		die "the ASan responder already runs (pid $(cat "$PIDFILE")); scripts/asan.sh stop first"
	fi
	mkdir -p "$STATE_DIR" "$LOG_DIR"
	# Both modes: the service's config, with the ASan build's executor.
	conf="$STATE_DIR/pycage.conf"
	sed -E '/^[[:space:]]*executor_path[[:space:]]*=/d' "$CONF_DIR/pycage.conf" >"$conf"
	echo "executor_path = $ASAN_EXECUTOR" >>"$conf"
	if [ "$mode" = unseparated ]; then
		sed -i -E 's/^[[:space:]]*front_user[[:space:]]*=.*$/front_user =/' "$conf"
		grep -q '^front_user =$' "$conf" || echo 'front_user =' >>"$conf"
		asan_options="detect_leaks=1:halt_on_error=0:log_path=$LOG_DIR/asan"
		ubsan_options="print_stacktrace=1:log_path=$LOG_DIR/ubsan"
	else
		asan_options="detect_leaks=1:halt_on_error=0:log_path=stderr"
		ubsan_options="print_stacktrace=1:log_path=stderr"
	fi
	"$ASAN_BIN" -t -c "$conf" >/dev/null || die "$conf refused by the ASan build"

	say "stopping the installed pycage-fcgi"
	# Its supervisor first, or it would start it again over this one.
	stop_responder
	rm -f "$LOG_DIR"/asan.* "$LOG_DIR"/ubsan.*
	touch "$ASAN_LOG"
	stat -c %s "$ASAN_LOG" >"$STATE_DIR/log-offset"
	echo "$mode" >"$STATE_DIR/mode"
	say "starting the ASan pycage-fcgi ($mode)"
	ASAN_OPTIONS=$asan_options UBSAN_OPTIONS=$ubsan_options \
	    setsid "$ASAN_BIN" -c "$conf" >>"$ASAN_LOG" 2>&1 </dev/null &
	for i in $(seq 1 100); do
		if [ -S "$RUN_DIR/pycage.sock" ] && pid_alive "$PIDFILE" pycage-fcgi &&
		    is_asan_pid "$(cat "$PIDFILE")"; then
			say "ASan pycage-fcgi running, pid $(cat "$PIDFILE"), log $ASAN_LOG"
			return 0
		fi
		sleep 0.2
	done
	tail -20 "$ASAN_LOG" >&2 || true
	say "the ASan responder did not start; restarting the installed one"
	start_responder
	die "ASan pycage-fcgi did not start"
}

# Prints this run's reports; returns 1 if there are any.
asan_reports() {
	local mode=$1 front_pid=$2 f offset=0 found=0 run_log
	for f in "$LOG_DIR"/asan.* "$LOG_DIR"/ubsan.*; do
		[ -s "$f" ] || continue
		found=1
		echo "--- $f"
		cat "$f"
	done
	[ -f "$STATE_DIR/log-offset" ] && offset=$(cat "$STATE_DIR/log-offset")
	run_log=$(mktemp)
	[ -f "$ASAN_LOG" ] && tail -c +"$((offset + 1))" "$ASAN_LOG" >"$run_log"
	if [ "$mode" = privsep ] && [ -n "$front_pid" ]; then
		# The chrooted front's leak check cannot run: say so, once.
		if grep -q "^==$front_pid==LeakSanitizer has encountered a fatal error" "$run_log"; then
			echo "asan: note: no leak check in the front (pid $front_pid): its chroot has no /proc"
			sed -i -E "/^==[0-9]+==Can't open \/proc\/$front_pid\/task/d; /^==$front_pid==(LeakSanitizer has encountered|HINT:)/d" "$run_log"
		fi
	fi
	if grep -q -E "$REPORT_PATTERN" "$run_log"; then
		found=1
		echo "--- $ASAN_LOG (this run)"
		grep -E -A40 "$REPORT_PATTERN" "$run_log" || true
	fi
	rm -f "$run_log"
	return $found
}

asan_stop() {
	local pid="" mode=unseparated i exited=0 status=0
	need_root
	[ -f "$STATE_DIR/mode" ] && mode=$(cat "$STATE_DIR/mode")
	if pid_alive "$PIDFILE" pycage-fcgi; then
		pid=$(cat "$PIDFILE")
		is_asan_pid "$pid" ||
			die "pid $pid in $PIDFILE is not the ASan build; nothing stopped"
	fi
	if [ -n "$pid" ]; then
		say "stopping the ASan pycage-fcgi (pid $pid), waiting up to $STOP_WAIT_S s"
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 $((STOP_WAIT_S * 5))); do
			pid_running "$pid" || { exited=1; break; }
			sleep 0.2
		done
		if [ "$exited" -eq 0 ]; then
			echo "asan: pid $pid did not exit within $STOP_WAIT_S s of SIGTERM; killed, its leak check did not run"
			kill -KILL "$pid" 2>/dev/null || true
			status=1
		fi
	else
		echo "asan: no ASan responder was running (it may have died: see $ASAN_LOG)"
		status=1
	fi
	asan_reports "$mode" "$pid" || status=1
	rm -rf "$STATE_DIR"
	start_responder
	if [ "$status" -eq 0 ]; then
		echo "asan: clean"
	else
		echo "asan: FOUND problems (above)"
	fi
	return $status
}

case ${1:-build} in
build)	asan_build ;;
start)	asan_start "${2:-}" ;;
stop)	asan_stop ;;
*)	die "usage: $0 [build | start [--privsep] | stop]" ;;
esac
