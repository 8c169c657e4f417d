# scripts/common.sh: the steps scripts/up.sh, down.sh and check.sh share.
# Sourced, not run.  Every step is idempotent and needs no stdin (CI has
# none).  Paths:
#   build/                       out-of-tree build of this checkout
#   build-asan/                  the same under ASan + UBSan (scripts/asan.sh)
#   /usr/local/sbin/pycage-fcgi  the installed responder (its front; the
#                                executor is in /usr/local/libexec/pycage)
#   /etc/pycage/                 pycage.conf, nginx.conf, pycage-site.conf, tls/
#   /run/pycage/                 FastCGI socket and pid files
#   /var/log/pycage/             logs of dockerd (if we started it), responder, nginx

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$TOP/build"
# The sanitizer build of both programs (scripts/asan.sh builds it).
ASAN_BUILD="$TOP/build-asan"
ASAN_BIN="$ASAN_BUILD/src/front/pycage-fcgi"
ASAN_EXECUTOR="$ASAN_BUILD/src/executor/pycage-executor"
DOCKER=/usr/bin/docker		# Debian's client; /usr/local/bin may hold another
IMAGE=pycage-sandbox:latest
# The environment may move these, to run a second front or responder
# beside the service (development, tests); the defaults are the service's.
RUN_DIR=${PYCAGE_RUN_DIR:-/run/pycage}
LOG_DIR=${PYCAGE_LOG_DIR:-/var/log/pycage}
CONF_DIR=${PYCAGE_CONF_DIR:-/etc/pycage}
HTTP_LISTEN=${PYCAGE_HTTP:-127.0.0.1:8080}
HTTPS_LISTEN=${PYCAGE_HTTPS:-127.0.0.1:8443}
# The responder's socket the front connects to.
FCGI_SOCKET=${PYCAGE_SOCKET:-/run/pycage/pycage.sock}
HEALTH_URL=http://$HTTP_LISTEN/v1/health
# Seconds the front waits for the responder's answer (a test moves it to
# see the front's 504 without waiting 75 s).
READ_TIMEOUT=${PYCAGE_READ_TIMEOUT:-75}
# nginx (default) or apache: which web server scripts/up.sh puts in front.
FRONT=${PYCAGE_FRONT:-nginx}

PACKAGES="gcc make autoconf automake pkg-config libfcgi-dev libfcgi-bin
  libyajl-dev libcurl4-openssl-dev libpython3.11-dev python3 docker.io nginx
  debootstrap openssl curl ca-certificates runsc clang libclang-rt-14-dev
  binutils iproute2 util-linux apache2 libapache2-mod-qos libpcre3 systemd logrotate python3-openpyxl
  python3-yaml python3-jsonschema clang-format-14"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_root() {
	[ "$(id -u)" = 0 ] || die "run as root (sudo $0)"
}

install_packages() {
	local missing=() p
	for p in $PACKAGES; do
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
			missing+=("$p")
	done
	# node and npm for the MCP client tests (tests/mcp/): a machine's own
	# (NodeSource's here) is kept; without one, Debian's.
	{ command -v node && command -v npm; } >/dev/null 2>&1 || missing+=(nodejs npm)
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# The packages' own services stay stopped: pycage runs its own nginx or
	# Apache on its ports, and Debian's default nginx and apache2 sites
	# would both start on port 80, the second one's install failing.
	local policy=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 0755 "$policy"
	fi
	# A mirror that fails for a moment should not fail the run: three
	# tries, 10 and 30 s apart.
	local try
	for try in 1 2 3; do
		if apt-get update -qq &&
		   apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
			[ -z "$policy" ] || rm -f "$policy"
			return 0
		fi
		[ "$try" = 3 ] && break
		say "apt-get failed (try $try of 3); trying again"
		sleep $((try == 1 ? 10 : 30))
	done
	[ -z "$policy" ] || rm -f "$policy"
	die "could not install ${missing[*]}"
}

# gVisor as the engine's "runsc" runtime (docs/SECURITY.md): registered in
# daemon.json; a running dockerd rereads it on SIGHUP.  --network=none:
# runsc will not start in this VM without it.
# Not `docker info | grep -q`: grep -q exits at the first match, docker
# gets SIGPIPE, and under pipefail the pipeline then fails.
runsc_registered() {
	local info
	info=$("$DOCKER" info 2>/dev/null) || return 1
	grep -q 'Runtimes:.*runsc' <<<"$info"
}

register_runsc() {
	local want='{"runtimes":{"runsc":{"path":"/usr/bin/runsc","runtimeArgs":["--network=none","--platform=ptrace"]}}}'
	mkdir -p /etc/docker
	if [ ! -f /etc/docker/daemon.json ]; then
		echo "$want" >/etc/docker/daemon.json
	elif ! grep -q '"runsc"' /etc/docker/daemon.json; then
		say "/etc/docker/daemon.json exists without runsc; add it by hand for gVisor"
		return 0
	fi
	if pidof dockerd >/dev/null && ! runsc_registered; then
		kill -HUP "$(pidof dockerd)"
		sleep 1
	fi
}

start_dockerd() {
	register_runsc
	if "$DOCKER" info >/dev/null 2>&1; then
		return 0
	fi
	mkdir -p "$LOG_DIR"
	say "starting dockerd"
	setsid dockerd >>"$LOG_DIR/dockerd.log" 2>&1 </dev/null &
	local i
	for i in $(seq 1 60); do
		"$DOCKER" info >/dev/null 2>&1 && return 0
		sleep 1
	done
	tail -20 "$LOG_DIR/dockerd.log" >&2 || true
	die "dockerd did not come up in 60 s"
}

# Configures and builds build/ (no install): all --quick needs.
build_only() {
	say "building"
	(cd "$TOP" && autoreconf -fi >/dev/null 2>&1) || die "autoreconf failed"
	mkdir -p "$BUILD"
	(cd "$BUILD" &&
	 { [ -f Makefile ] || "$TOP/configure" -q --prefix=/usr/local --sysconfdir=/etc; } &&
	 make -s -j"$(nproc)" >/dev/null) || die "build failed"
}

build_project() {
	build_only
	(cd "$BUILD" && make -s install >/dev/null) || die "install failed"
}

build_image() {
	"$TOP/scripts/build-image.sh" "$BUILD/runner/pycage-runner" "$IMAGE"
}

# The front's own system user (etc/pycage.conf front_user): nothing else
# runs as it, so nothing else can signal the front or share its limits.
FRONT_USER=pycage-front
create_front_user() {
	id -u "$FRONT_USER" >/dev/null 2>&1 && return 0
	say "creating the system user $FRONT_USER"
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin "$FRONT_USER"
}

install_config() {
	create_front_user || die "could not create the user $FRONT_USER"
	mkdir -p "$CONF_DIR/tls" "$RUN_DIR" "$LOG_DIR"
	[ -f "$CONF_DIR/pycage.conf" ] || install -m 0644 "$TOP/etc/pycage.conf" "$CONF_DIR/pycage.conf"
	# nginx's files name the service's ports and paths; moved ones are
	# written in.
	# (The socket goes last: it may be under /run/pycage/ still.)
	local moved=(-e "s|127\.0\.0\.1:8080|$HTTP_LISTEN|" -e "s|127\.0\.0\.1:8443|$HTTPS_LISTEN|"
	    -e "s|unix:/run/pycage/pycage\.sock|unix:@SOCKET@|" -e "s|/run/pycage/|$RUN_DIR/|"
	    -e "s|/var/log/pycage/|$LOG_DIR/|" -e "s|/etc/pycage/|$CONF_DIR/|"
	    -e "s|unix:@SOCKET@|unix:$FCGI_SOCKET|"
	    -e "s|fastcgi_read_timeout\( *\)75s;|fastcgi_read_timeout\1${READ_TIMEOUT}s;|")
	sed "${moved[@]}" "$TOP/nginx/nginx.conf" >"$CONF_DIR/nginx.conf"
	sed "${moved[@]}" "$TOP/nginx/pycage.conf" >"$CONF_DIR/pycage-site.conf"
	# Apache's take the same as Defines (apache_ctl).
	install -m 0644 "$TOP/apache/apache2.conf" "$CONF_DIR/apache2.conf"
	install -m 0644 "$TOP/apache/pycage.conf" "$CONF_DIR/apache-site.conf"
	mkdir -p "$CONF_DIR/apache-errors"
	install -m 0644 "$TOP"/apache/errors/*.json "$CONF_DIR/apache-errors/"
	install -m 0644 "$TOP/docker/seccomp.json" "$CONF_DIR/seccomp.json"
	if [ ! -f "$CONF_DIR/tls/cert.pem" ]; then
		say "making a self-signed certificate for 127.0.0.1"
		openssl req -x509 -newkey rsa:2048 -nodes -days 825 \
		    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		    -keyout "$CONF_DIR/tls/key.pem" -out "$CONF_DIR/tls/cert.pem" 2>/dev/null
		chmod 0600 "$CONF_DIR/tls/key.pem"
	fi
}

# pidfile_pid FILE NAME: prints the pid in FILE if that process is still
# the one that wrote it: its name (/proc/PID/comm, at most 15 bytes) is
# NAME and it started no later than the file was written.  After a crash
# the pid in a stale file may belong to anything by now, which is not ours
# to signal.
pidfile_pid() {
	local file=$1 name=${2:0:15} pid comm stat start btime tck mtime fields
	[ -f "$file" ] || return 1
	pid=$(head -c 20 "$file" 2>/dev/null | tr -d ' \n')
	case $pid in ''|*[!0-9]*) return 1 ;; esac
	comm=$(cat "/proc/$pid/comm" 2>/dev/null) && [ "$comm" = "$name" ] || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	# Field 22, starttime in clock ticks since boot; comm may hold spaces,
	# so count from after its closing parenthesis.
	read -r -a fields <<<"${stat##*) }"
	start=${fields[19]}
	btime=$(awk '$1 == "btime" { print $2 }' /proc/stat)
	tck=$(getconf CLK_TCK)
	mtime=$(stat -c %Y "$file" 2>/dev/null) || return 1
	# btime is rounded to the second: one second of slack.
	[ $((btime + start / tck)) -le $((mtime + 1)) ] || return 1
	echo "$pid"
}

# pid_alive FILE NAME: the process FILE names is alive and is NAME.
pid_alive() {
	pidfile_pid "$1" "$2" >/dev/null
}

# stop_pidfile FILE NAME: SIGTERM, 40 s, then SIGKILL, to the pid in FILE
# if it is still NAME's (pidfile_pid).
stop_pidfile() {
	local pidfile=$1 name=$2 pid i
	pid=$(pidfile_pid "$pidfile" "$name") || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 80); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.5
	done
	kill -KILL "$pid" 2>/dev/null || true
}

# The responder: the installed one unless PYCAGE_FCGI_BIN names another.
FCGI_BIN=${PYCAGE_FCGI_BIN:-/usr/local/sbin/pycage-fcgi}

# stop_responder: the supervisor (which stops its responder and does not
# start it again), then a responder started without one.
stop_responder() {
	stop_pidfile "$RUN_DIR/supervise.pid" supervise.sh
	stop_pidfile "$RUN_DIR/pycage-fcgi.pid" pycage-fcgi
}

# start_responder [CONFIG]: (re)starts the responder under
# scripts/supervise.sh, which starts it again after a crash (pycage-fcgi
# exits by design when its executor dies).  The config's pidfile and
# listen socket must be $RUN_DIR/pycage-fcgi.pid and $RUN_DIR/pycage.sock.
start_responder() {
	local conf=${1:-$CONF_DIR/pycage.conf}
	stop_responder
	"$FCGI_BIN" -t -c "$conf" >/dev/null
	mkdir -p "$RUN_DIR" "$LOG_DIR"
	say "starting pycage-fcgi ($conf) under scripts/supervise.sh"
	setsid "$TOP/scripts/supervise.sh" "$RUN_DIR/supervise.pid" \
	    "$LOG_DIR/pycage-fcgi.log" -- "$FCGI_BIN" -c "$conf" \
	    </dev/null >/dev/null 2>&1 &
	local i
	for i in $(seq 1 50); do
		[ -S "$RUN_DIR/pycage.sock" ] && pid_alive "$RUN_DIR/pycage-fcgi.pid" pycage-fcgi && return 0
		sleep 0.2
	done
	tail -20 "$LOG_DIR/pycage-fcgi.log" >&2 || true
	stop_responder
	die "pycage-fcgi did not start"
}

start_nginx() {
	nginx -t -q -c "$CONF_DIR/nginx.conf" || die "nginx configuration invalid"
	if pid_alive "$RUN_DIR/nginx.pid" nginx; then
		nginx -c "$CONF_DIR/nginx.conf" -s reload
	else
		say "starting nginx"
		nginx -c "$CONF_DIR/nginx.conf"
	fi
}

# apache_ctl ARGS...: the standalone Apache (apache/apache2.conf) with this
# run's ports and paths.
apache_ctl() {
	/usr/sbin/apache2 -f "$CONF_DIR/apache2.conf" \
	    -C "Define PYCAGE_CONF_DIR $CONF_DIR" -C "Define PYCAGE_RUN_DIR $RUN_DIR" \
	    -C "Define PYCAGE_LOG_DIR $LOG_DIR" -C "Define PYCAGE_HTTP $HTTP_LISTEN" \
	    -C "Define PYCAGE_HTTPS $HTTPS_LISTEN" -C "Define PYCAGE_SOCKET $FCGI_SOCKET" \
	    -C "Define PYCAGE_READ_TIMEOUT $READ_TIMEOUT" "$@"
}

start_apache() {
	apache_ctl -t >/dev/null 2>&1 || { apache_ctl -t; die "Apache configuration invalid"; }
	if pid_alive "$RUN_DIR/apache2.pid" apache2; then
		apache_ctl -k graceful
	else
		say "starting Apache"
		apache_ctl -k start
	fi
	wait_listening
}

# Both fronts serve the same ports: the one stopped must have let go of
# them before the other starts (start_front waits for that).  Apache's
# parent takes up to 10 s to stop when a child waits on a run: it sends
# SIGTERM, then SIGKILL at 9 s, gives up at 10 s and exits (measured:
# three 20 s runs in flight, pidfile and ports gone at 10.4 s).  Processes
# of this configuration still there after that, whatever the pidfile
# says, are stopped by their command line.
stop_apache() {
	local i
	if pid_alive "$RUN_DIR/apache2.pid" apache2; then
		apache_ctl -k stop || true
		for i in $(seq 1 120); do
			pid_alive "$RUN_DIR/apache2.pid" apache2 || break
			sleep 0.25
		done
	fi
	stop_cmdline "^/usr/sbin/apache2 -f $CONF_DIR/apache2.conf " || die "Apache did not stop"
}

stop_nginx() {
	local i
	if pid_alive "$RUN_DIR/nginx.pid" nginx; then
		nginx -c "$CONF_DIR/nginx.conf" -s quit || true
		# (quit lets requests in flight finish)
		for i in $(seq 1 120); do
			pid_alive "$RUN_DIR/nginx.pid" nginx || break
			sleep 0.25
		done
	fi
	stop_cmdline "^nginx: master process nginx -c $CONF_DIR/nginx.conf\$" || die "nginx did not stop"
}

# stop_cmdline REGEX: the processes whose command line matches REGEX
# (pgrep -f) get SIGTERM, then SIGKILL 5 s later; fails if any is left
# 2 s after that.  (A master's SIGTERM stops its workers.)
stop_cmdline() {
	local i pids
	pids=$(pgrep -f -- "$1") || return 0
	say "stopping what is left of $1: $(echo $pids)"
	kill -TERM $pids 2>/dev/null || true
	for i in $(seq 1 28); do
		[ "$i" = 20 ] && { pids=$(pgrep -f -- "$1") && kill -KILL $pids 2>/dev/null; }
		pgrep -f -- "$1" >/dev/null || return 0
		sleep 0.25
	done
	return 1
}

# wait_ports_free: nothing listens on the HTTP and HTTPS ports any more;
# after 15 s, says what still does and fails.
wait_ports_free() {
	local i filter="( sport = :${HTTP_LISTEN##*:} or sport = :${HTTPS_LISTEN##*:} )"
	for i in $(seq 1 60); do
		[ -z "$(ss -Hltn "$filter")" ] && return 0
		sleep 0.25
	done
	ss -Hltnp "$filter" >&2
	die "${HTTP_LISTEN##*:} or ${HTTPS_LISTEN##*:} still taken"
}

# Waits until the HTTP port accepts (Apache's -k start returns before its
# children listen).
wait_listening() {
	local i
	for i in $(seq 1 40); do
		curl -sS -o /dev/null -m 2 "http://$HTTP_LISTEN/" 2>/dev/null && return 0
		sleep 0.25
	done
	die "nothing answers on $HTTP_LISTEN"
}

# start_front [nginx|apache]: the one web server in front, the other stopped.
start_front() {
	case ${1:-$FRONT} in
	nginx)	stop_apache
		pid_alive "$RUN_DIR/nginx.pid" nginx || wait_ports_free
		start_nginx ;;
	apache)	stop_nginx
		pid_alive "$RUN_DIR/apache2.pid" apache2 || wait_ports_free
		start_apache ;;
	*)	die "unknown front ${1:-$FRONT} (nginx or apache)" ;;
	esac
}

wait_healthy() {
	local i
	for i in $(seq 1 60); do
		curl -fsS -m 5 "$HEALTH_URL" >/dev/null 2>&1 && return 0
		sleep 1
	done
	curl -sS -m 5 "$HEALTH_URL" >&2 || true
	die "$HEALTH_URL did not answer 200"
}

# Each step dies on failure itself; the `|| die` keep that true when a
# caller tests bring_up's status (set -e does not apply there).
bring_up() {
	need_root
	install_packages || die "could not install packages"
	start_dockerd || die "dockerd did not start"
	build_project || die "build failed"
	build_image || die "the sandbox image did not build"
	install_config || die "could not install the configuration"
	start_responder || die "pycage-fcgi did not start"
	start_front || die "$FRONT did not start"
	wait_healthy || die "pycage is not healthy"
	say "pycage is serving through $FRONT on http://$HTTP_LISTEN (and https on $HTTPS_LISTEN)"
}
