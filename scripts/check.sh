#!/usr/bin/env bash
# scripts/check.sh: every test.  Brings pycage up exactly as scripts/up.sh
# does, then, each phase counted in the closing line "N passed, N failed":
#   1. make check: the C unit tests, and the integration and hostile suites
#      over HTTP against the real nginx, responder, engine and image (runc),
#      among them the supervisor's (test_supervise.py) and `make install`'s
#      unit and logrotate files (test_service_files.py: systemd-analyze
#      verify);
#      then the HTTP suites (examples, errors, hostile HTTP, TLS, rate
#      limits) again through Apache on the same ports, nginx stopped
#      meanwhile; then the scale-out test (test_scale.py: a second dockerd
#      over mutual TLS, two nodes behind one nginx upstream);
#   2. the integration and hostile suites again with the sandbox under
#      gVisor (runtime = runsc);
#   3. the integration suite against the responder built with ASan + UBSan
#      (zero reports, zero leaks when it stops), then the fault and listen
#      tests with their own responders from that build, and the C unit
#      tests built with the same sanitizers;
#   4. a short libFuzzer pass over the fuzz targets;
#   5. Redocly's CLI lints docs/openapi.yaml (tests/openapi/, npm ci from
#      its lockfile; node and npm from Debian if the machine has none);
#   6. make distcheck.
# The service is left running with the shipped configuration.  A phase
# that cannot start (a service that does not come up) counts as a failure,
# and the run still ends with its closing line.
#
# scripts/check.sh --quick: the edit loop's tier.  Builds in build/ and runs
# the C unit tests and the link-map check only: no engine, no image, no
# service, no root needed once the build packages are installed (well under
# a minute).  The full run stays the gate.
. "$(dirname "$0")/common.sh"

passed=0 failed=0 skipped=0
closing_line() { echo "$passed passed, $failed failed, $skipped skipped"; }

if [ "${1:-}" = --quick ]; then
	[ "$(id -u)" = 0 ] && install_packages
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	if ! build_only >"$log" 2>&1; then
		tail -20 "$log"
		failed=1; closing_line; exit 1
	fi
	tests=$(cd "$BUILD" && make -s echo-quick-tests)
	(cd "$BUILD" && make -j"$(nproc)" check TESTS="$tests") >"$log" 2>&1 || true
	grep -E '^(FAIL|ERROR|XPASS)' "$log" || true
	for f in $(grep -lE '^not ok' "$BUILD"/tests/unit/*.log 2>/dev/null || true); do
		echo "--- $f"; { grep -A6 '^not ok' "$f" | head -30; } || true
	done
	count() { awk -v k="# $1:" '$1" "$2 == k { n += $3 } END { print n + 0 }' "$log"; }
	passed=$(count PASS) failed=$(( $(count FAIL) + $(count ERROR) + $(count XPASS) ))
	skipped=$(count SKIP)
	[ "$passed" -gt 0 ] || failed=$((failed + 1))
	closing_line
	[ "$failed" -eq 0 ]
	exit
fi

# The tests are of the shipped configuration: a pycage.conf left in
# $CONF_DIR by an older version (up.sh keeps an operator's file) would
# change what they see, so check.sh replaces it and keeps it as
# pycage.conf.old.  Done here, not through the environment: the scripts
# the supervisor's test runs on moved paths must keep their own file.
if [ "$(id -u)" = 0 ] && [ -f "$CONF_DIR/pycage.conf" ] && ! cmp -s "$TOP/etc/pycage.conf" "$CONF_DIR/pycage.conf"; then
	say "installing the shipped pycage.conf (the old one: $CONF_DIR/pycage.conf.old)"
	cp -p "$CONF_DIR/pycage.conf" "$CONF_DIR/pycage.conf.old"
	install -m 0644 "$TOP/etc/pycage.conf" "$CONF_DIR/pycage.conf"
fi
if ! (bring_up); then
	failed=1
	echo "the service did not come up: no phase ran"
	closing_line
	exit 1
fi

FUZZ_SECONDS=${FUZZ_SECONDS:-20}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
check_env=()		# more environment for run_make_check's tests

count() { awk -v k="# $1:" '$1" "$2 == k { n += $3 } END { print n + 0 }' "$log"; }

# Runs `make check` with the given TESTS (all when empty) and adds its counts.
run_make_check() {
	local label=$1; shift
	say "$label"
	(cd "$BUILD" && env PYCAGE_REQUIRE_SERVICE=1 ${check_env[@]+"${check_env[@]}"} \
	    make -j1 check ${1:+TESTS="$*"}) >"$log" 2>&1 || true
	grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP)' "$log" | grep -v '^PASS' || true
	# (head closes the pipe early: not a failure under pipefail)
	for f in $(grep -lE '^not ok' "$BUILD"/tests/*/*.log 2>/dev/null || true); do
		echo "--- $f"; { grep -B1 -A8 '^not ok' "$f" | head -40; } || true
	done
	local p=$(count PASS) f=$(( $(count FAIL) + $(count ERROR) + $(count XPASS) )) s=$(count SKIP)
	echo "$label: $p passed, $f failed, $s skipped"
	[ "$p" -gt 0 ] || f=$((f + 1))		# a phase that ran nothing failed
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

# One pass/fail step: a command whose exit status is the verdict.
run_step() {
	local label=$1; shift
	say "$label"
	if "$@" >"$log" 2>&1; then
		passed=$((passed + 1)); echo "$label: ok"
	else
		failed=$((failed + 1)); echo "$label: FAILED"; tail -40 "$log"
	fi
}

service_tests() {
	(cd "$BUILD" && make -s echo-integration-tests)
}

# Back to the shipped configuration between phases; without it nothing
# after can run.
restore_service() {
	(start_responder && wait_healthy) || {
		failed=$((failed + 1)); echo "the shipped responder did not come back"
		closing_line; exit 1; }
}

# 1. everything, under runc
run_make_check "make check (runc)"

# 1b. the HTTP suites through Apache instead of nginx, on the same ports
# and in front of the same responder; cases that talk to the responder's
# socket directly skip (PYCAGE_FRONT_PHASE), they just ran.
if (start_front apache && wait_healthy); then
	check_env=(PYCAGE_FRONT=apache PYCAGE_FRONT_PHASE=1)
	run_make_check "HTTP suites through Apache" $(cd "$BUILD" && make -s echo-front-tests)
	check_env=()
else
	failed=$((failed + 1)); echo "Apache did not start"
fi
# Back to the front the run began with (nginx unless PYCAGE_FRONT says).
(start_front "$FRONT" && wait_healthy) || {
	failed=$((failed + 1)); echo "$FRONT did not come back"
	closing_line; exit 1; }

# 1c. scale-out: a second dockerd with TLS on 127.0.0.1:2376, two
# responders (one per engine) behind one nginx upstream on 127.0.0.1:8480,
# a node killed and an engine stopped under load, and the same two nodes
# behind Apache's balancer on 127.0.0.1:8483 (test_scale.py brings all of
# it up and down itself, from the image and build phase 1 used; the
# clean-up script removes what a killed run would leave).  About 95 s.
run_make_check "scale-out: two engines, one over TLS, behind one nginx" \
    $(cd "$BUILD" && make -s echo-scale-tests)
"$TOP/scripts/scale-cleanup.sh"

# 2. the service suites under gVisor
runsc_conf="$CONF_DIR/pycage-runsc.conf"
sed -E 's/^runtime[[:space:]]*=.*$/runtime = runsc/' "$CONF_DIR/pycage.conf" >"$runsc_conf"
if runsc_registered && (start_responder "$runsc_conf" && wait_healthy); then
	# The hostile corpus with the runner's hook removed probes runc's
	# boundary (CAP_MKNOD, syslog, oom_score_adj, noexec mmap); gVisor
	# answers those from its own kernel, so that pass runs under runc only
	# (docs/SECURITY.md, "gVisor").  The corpus as sent runs here too.  The
	# supervisor's, the keys' and the service files' tests start responders
	# of their own under the default runtime: phase 1 ran them.  The fair
	# share's queue is the executor's, whatever the runtime; under gVisor a
	# cold start alone came near its 2 s bound (test_fairshare.py).
	PYCAGE_RUNTIME=runsc run_make_check "integration and hostile suites (runsc)" \
	    $(service_tests | tr ' ' '\n' |
	      grep -vE 'test_hostile_unhooked|test_(supervise|keys|fairshare|service_files)\.py' | tr '\n' ' ')
else
	failed=$((failed + 1)); echo "gVisor phase: runsc not registered, or its responder did not start"
fi
restore_service

# 3. the integration suite against the ASan + UBSan responder.  The
# privilege-split test needs the real front, so it is left to phases 1
# and 2, and so are the supervisor's, the keys' and the service files'
# (they start the build's responder; keys.c and sha256.c run under the
# sanitizers in the C unit tests below).  The fault and listen tests start
# responders of their own: here the ASan build's, unseparated as in
# scripts/asan.sh, each log read for reports by their last case.
asan_tests=$(service_tests | tr ' ' '\n' | grep -vE 'test_(privsep|faults|listen|supervise|keys|service_files)\.py' | tr '\n' ' ')
if ("$TOP/scripts/asan.sh" build >/dev/null && "$TOP/scripts/asan.sh" start &&
    wait_healthy); then
	check_env=(PYCAGE_RESPONDER_ASAN=1)
	run_make_check "integration suite (ASan + UBSan responder)" $asan_tests
	run_step "ASan + UBSan: no reports, no leaks" "$TOP/scripts/asan.sh" stop
	restore_service
	check_env=(PYCAGE_RESPONDER_ASAN=1 PYCAGE_FCGI_BIN="$ASAN_BIN"
	    PYCAGE_EXECUTOR_BIN="$ASAN_EXECUTOR"
	    ASAN_OPTIONS=detect_leaks=1:halt_on_error=0:log_path=stderr
	    UBSAN_OPTIONS=print_stacktrace=1:log_path=stderr)
	run_make_check "fault and listen tests (ASan + UBSan responders)" \
	    tests/integration/test_faults.py tests/integration/test_listen.py
	check_env=()
	# The C unit tests (the canned engine's whole runs among them) built
	# with the same sanitizers: any report or leak fails the step.
	run_step "C unit tests under ASan + UBSan" env -C "$ASAN_BUILD" \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
	    make -s check TESTS="$(cd "$BUILD" && make -s echo-quick-tests)"
else
	failed=$((failed + 1)); echo "the ASan responder did not start"
fi
restore_service

# 4. fuzzing, briefly (make fuzz runs longer)
run_step "libFuzzer, $FUZZ_SECONDS s per target" "$TOP/scripts/fuzz.sh" "$FUZZ_SECONDS"

# 5. the OpenAPI document lints clean (recommended-strict: a warning fails)
# with the Redocly CLI its lockfile pins.  Every answer of the suites above
# was already checked against it (pycagetest.py).
openapi_lint() {
	if ! command -v npm >/dev/null; then
		say "installing node and npm (Debian's)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null || return 1
	fi
	# No telemetry and no update check: the CLI would wait on hosts this
	# machine cannot reach (5 s here).
	(cd "$TOP/tests/openapi" &&
	 npm ci --no-audit --no-fund --loglevel=error &&
	 REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	     npx --no-install redocly lint --config redocly.yaml ../../docs/openapi.yaml)
}
run_step "OpenAPI document: redocly lint" openapi_lint

# 6. the tarball builds and its unit tests pass; the service suites were run
# above, so they skip inside distcheck.
run_step "make distcheck" env -C "$BUILD" PYCAGE_SKIP_INTEGRATION=1 make -s distcheck

closing_line
[ "$failed" -eq 0 ]
