#!/usr/bin/env bash
# scripts/bench.sh: pycage's load benchmark (`make bench`; docs/BENCHMARKS.md).
# Run as root after scripts/up.sh.  Prints markdown tables on stdout,
# progress on stderr.
#
# It leaves the main service (:8080, /run/pycage/pycage.sock) alone and runs
# its own pair beside it:
#   pycage-fcgi  on /run/pycage/bench.sock, instance "bench", a copy of
#                etc/pycage.conf with pool_size 0, then again with 2
#   nginx        on 127.0.0.1:8081 only, nginx/pycage.conf with the
#                upstream on bench.sock, no TLS, and no limit_req/limit_conn
#                (10 r/s per address would throttle the benchmark)
# and removes both, and every container labelled org.pycage.instance=bench,
# when it exits.  The bench responder's config also moves its per-run uids
# (uid_base) off the main service's range: two instances on one engine
# must not share uids, or nproc would count their runs together.
# The responder binary is copied first, so one binary serves the whole run
# even if /usr/local/sbin/pycage-fcgi is reinstalled meanwhile.
#
# Options (passed on to tests/bench/bench.py):
#   --quick            a fast sanity run (15 s concurrent, fewer requests)
#   --soak N           N executions of print(1+1) with the pool on, sampling
#                      the responder's RSS every 1000
#   --paired-rounds N  after each 8-client block, N rounds of the engine's own
#                      rate and pycage in alternating slices (--paired-secs S)
#   --snippets KEYS    only some snippets: print, pandas, sympy (comma list)
#   --seq-on N, --seq-off N, --paced-n N, --paced-gap-ms MS, --duration S,
#   --naive-n N, --engine-secs S, --seq-gap-ms MS
#                      see tests/bench/bench.py --help
# BENCH_KEEP=1 keeps the work directory (configs, logs, raw JSON results).
# The benchmark's clients all come from 127.0.0.1, which without API keys is
# one client to the fair share (README, "Fair shares"): that one client may
# hold max_executions - 1 slots.  The 8 clients stand for 8 agents, so the
# benchmark's responder gives a client every slot (client_share =
# max_executions); BENCH_CLIENT_SHARE=0 measures the shipped default instead.
. "$(dirname "$0")/common.sh"

BENCH_SOCK=$RUN_DIR/bench.sock
BENCH_PIDFILE=$RUN_DIR/bench-fcgi.pid
BENCH_NGINX_PIDFILE=$RUN_DIR/bench-nginx.pid
BENCH_PORT=8081
BENCH_URL=http://127.0.0.1:$BENCH_PORT
BENCH_POOL_SIZE=2
RESPONDER_SRC=${PYCAGE_FCGI:-/usr/local/sbin/pycage-fcgi}
EXECUTOR_SRC=${PYCAGE_EXECUTOR:-/usr/local/libexec/pycage/pycage-executor}
BENCH_UID_BASE=300000
BENCH_PY=$TOP/tests/bench/bench.py
COMMAND_LINE="scripts/bench.sh${*:+ $*}"

need_root
for f in "$RESPONDER_SRC" "$EXECUTOR_SRC"; do
	[ -x "$f" ] || die "$f not found: run scripts/up.sh first"
done
"$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1 || die "no $IMAGE: run scripts/up.sh first"
command -v nginx >/dev/null || die "nginx not installed: run scripts/up.sh first"
pid_alive "$BENCH_PIDFILE" pycage-fcgi &&
	die "$BENCH_PIDFILE: another benchmark is running (pid $(cat "$BENCH_PIDFILE"))"
pid_alive "$BENCH_NGINX_PIDFILE" nginx &&
	die "$BENCH_NGINX_PIDFILE: another benchmark is running (pid $(cat "$BENCH_NGINX_PIDFILE"))"

WORK=$(mktemp -d /tmp/pycage-bench.XXXXXX)
chmod 0755 "$WORK"
mkdir -p "$RUN_DIR"
RESPONDER=$WORK/pycage-fcgi
EXECUTOR=$WORK/pycage-executor
install -m 0755 "$RESPONDER_SRC" "$RESPONDER"
install -m 0755 "$EXECUTOR_SRC" "$EXECUTOR"
RESPONDER_ID="$RESPONDER_SRC sha256 $(sha256sum "$RESPONDER" | cut -c1-12) + executor $(sha256sum "$EXECUTOR" | cut -c1-12), built $(date -u -r "$RESPONDER_SRC" +%Y-%m-%dT%H:%MZ); checkout $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$TOP" diff --quiet HEAD -- src 2>/dev/null || echo ' with src/ changes')"

remove_bench_containers() {
	local ids
	ids=$("$DOCKER" ps -aq --filter "label=org.pycage.instance=bench" 2>/dev/null || true)
	[ -n "$ids" ] && "$DOCKER" rm -f $ids >/dev/null 2>&1
	return 0
}

count_bench_containers() {
	"$DOCKER" ps -aq --filter "label=org.pycage.instance=bench" | wc -l
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if pid_alive "$BENCH_NGINX_PIDFILE" nginx; then
		nginx -c "$WORK/nginx.conf" -s quit 2>/dev/null ||
			kill -TERM "$(cat "$BENCH_NGINX_PIDFILE")" 2>/dev/null || true
		for _ in $(seq 1 20); do pid_alive "$BENCH_NGINX_PIDFILE" nginx || break; sleep 0.25; done
	fi
	stop_pidfile "$BENCH_PIDFILE" pycage-fcgi
	remove_bench_containers
	rm -f "$BENCH_SOCK" "$BENCH_PIDFILE" "$BENCH_NGINX_PIDFILE"
	if [ "$rc" != 0 ]; then
		say "benchmark failed ($rc); last lines of the bench responder's log:"
		tail -15 "$WORK"/pycage-fcgi-*.log >&2 2>/dev/null || true
		tail -5 "$WORK/nginx-error.log" >&2 2>/dev/null || true
	fi
	if [ -n "${BENCH_KEEP:-}" ]; then
		say "kept $WORK"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ nginx
# The shipped site, with: the upstream on bench.sock; one plain listener on
# 8081 (no 8443, no TLS); the limit_req/limit_conn lines removed.
sed -e "s|server unix:/run/pycage/pycage.sock;|server unix:$BENCH_SOCK;|" \
    -e "/^[[:space:]]*listen 127.0.0.1:8443/d" \
    -e "s|listen 127.0.0.1:8080;|listen 127.0.0.1:$BENCH_PORT;|" \
    -e "/^[[:space:]]*ssl_/d" \
    -e "/^[[:space:]]*limit_req/d" \
    -e "/^[[:space:]]*limit_conn/d" \
    "$TOP/nginx/pycage.conf" >"$WORK/pycage-site.conf"
grep -q "unix:$BENCH_SOCK;" "$WORK/pycage-site.conf" || die "nginx/pycage.conf: upstream not found"
grep -q "listen 127.0.0.1:$BENCH_PORT;" "$WORK/pycage-site.conf" || die "nginx/pycage.conf: listen not found"
if grep -Eq 'limit_(req|conn)|ssl|:8080|:8443|pycage\.sock' "$WORK/pycage-site.conf"; then
	die "nginx/pycage.conf: could not derive the benchmark's site"
fi
cat >"$WORK/nginx.conf" <<EOF
# pycage benchmark nginx (scripts/bench.sh); removed on exit.
user www-data;
worker_processes auto;
pid $BENCH_NGINX_PIDFILE;
error_log $WORK/nginx-error.log warn;
events {
    worker_connections 1024;
}
http {
    access_log off;
    include $WORK/pycage-site.conf;
}
EOF
nginx -t -q -c "$WORK/nginx.conf" || die "the benchmark's nginx configuration is invalid"
say "starting the benchmark's nginx on $BENCH_URL"
nginx -c "$WORK/nginx.conf"

# ------------------------------------------------------------------ responder
# key value: replaces the key's line, or adds one.
set_key() {
	if grep -q "^$2 = " "$1"; then
		sed -i "s|^$2 = .*|$2 = $3|" "$1"
	else
		printf '%s = %s\n' "$2" "$3" >>"$1"
	fi
}

conf_value() { sed -n "s/^$1 = //p" "$TOP/etc/pycage.conf"; }

responder_conf() {	# pool_size -> path of a config
	local conf=$WORK/pycage-$1.conf
	cp "$TOP/etc/pycage.conf" "$conf"
	set_key "$conf" listen "$BENCH_SOCK"
	set_key "$conf" socket_mode 0666
	set_key "$conf" pidfile "$BENCH_PIDFILE"
	set_key "$conf" instance bench
	set_key "$conf" pool_size "$1"
	set_key "$conf" executor_path "$EXECUTOR"
	set_key "$conf" client_share "${BENCH_CLIENT_SHARE:-$(conf_value max_executions)}"
	if grep -q '^uid_base = [1-9]' "$conf"; then
		set_key "$conf" uid_base "$BENCH_UID_BASE"
	fi
	"$RESPONDER" -t -c "$conf" >/dev/null || die "$conf: invalid for $RESPONDER_SRC"
	echo "$conf"
}

start_bench_responder() {	# pool_size
	local conf i
	conf=$(responder_conf "$1")
	say "starting the benchmark's pycage-fcgi, pool_size $1"
	rm -f "$BENCH_SOCK"
	setsid "$RESPONDER" -c "$conf" >>"$WORK/pycage-fcgi-$1.log" 2>&1 </dev/null &
	for i in $(seq 1 100); do
		if [ -S "$BENCH_SOCK" ] && pid_alive "$BENCH_PIDFILE" pycage-fcgi &&
		    curl -fsS -m 5 "$BENCH_URL/v1/health" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	die "the benchmark's pycage-fcgi did not start"
}

# Stops the responder and says how many of its containers it left behind.
stop_bench_responder() {
	local left
	stop_pidfile "$BENCH_PIDFILE" pycage-fcgi
	sleep 1
	left=$(count_bench_containers)
	remove_bench_containers
	echo "$left"
}

# ------------------------------------------------------------------ run
remove_bench_containers
say "references: naive docker run, the engine's own rate (this takes a while)"
SECCOMP=$(conf_value seccomp_profile)
python3 "$BENCH_PY" refs --out "$WORK/refs.json" --pidfile "$BENCH_PIDFILE" \
    --nginx-pidfile "$BENCH_NGINX_PIDFILE" ${SECCOMP:+--seccomp-profile "$SECCOMP"} "$@"
left_refs=$(count_bench_containers)
remove_bench_containers

start_bench_responder 0
python3 "$BENCH_PY" run --pool off --out "$WORK/off.json" --refs "$WORK/refs.json" \
    --url "$BENCH_URL" --pidfile "$BENCH_PIDFILE" --nginx-pidfile "$BENCH_NGINX_PIDFILE" \
    --log "$WORK/pycage-fcgi-0.log" "$@"
left_off=$(stop_bench_responder)

start_bench_responder "$BENCH_POOL_SIZE"
python3 "$BENCH_PY" run --pool on --pool-size "$BENCH_POOL_SIZE" --out "$WORK/on.json" \
    --refs "$WORK/refs.json" \
    --url "$BENCH_URL" --pidfile "$BENCH_PIDFILE" --nginx-pidfile "$BENCH_NGINX_PIDFILE" \
    --log "$WORK/pycage-fcgi-$BENCH_POOL_SIZE.log" "$@"
left_on=$(stop_bench_responder)

python3 "$BENCH_PY" report --refs "$WORK/refs.json" --off "$WORK/off.json" \
    --on "$WORK/on.json" --command-line "$COMMAND_LINE" \
    --date "$(date -u +%Y-%m-%dT%H:%MZ)" --responder "$RESPONDER_ID" \
    --max-executions "$(conf_value max_executions)" --preload "$(conf_value pool_preload)" \
    --leftovers "references $left_refs, pool off $left_off, pool on $left_on" "$@"

# ------------------------------------------------------------------ scale
# Two engines against one (docs/SCALING.md): tests/integration/test_scale.py
# --bench brings up a second dockerd with mutual TLS on 127.0.0.1:2376, two
# responders (this run's binaries; node A on the main engine, node B on the
# second over TLS) and nginx on 127.0.0.1:8480-8482 (one node each, then
# both behind nginx/pycage-upstream.conf), prints its table and removes it
# all.  BENCH_SCALE=0 skips it; BENCH_SCALE_SECS (20) and BENCH_SCALE_SEQ
# (40) size it (a minute or two with the bring-up).
if [ "${BENCH_SCALE:-1}" != 0 ]; then
	say "scale: two engines (one over mutual TLS) against one"
	env PYCAGE_FCGI_BIN="$RESPONDER" PYCAGE_EXECUTOR_BIN="$EXECUTOR" \
	    python3 "$TOP/tests/integration/test_scale.py" --bench \
	    "${BENCH_SCALE_SECS:-20}" "${BENCH_SCALE_SEQ:-40}" | grep -v '^# bench:'
	"$TOP/scripts/scale-cleanup.sh"
fi
