#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS]: builds the libFuzzer targets of tests/fuzz/
# with ASan and UBSan and runs each for SECONDS (default 60).  Prints one
# line per target, "fuzz TARGET: ok, N runs" or "fuzz TARGET: N crashes"
# followed by each distinct report and its reproducer; exits 1 if any
# target crashed, leaked, ran out of memory or hung.
#
# Everything goes under build/fuzz/ (binaries, work corpora, artifacts,
# logs); the seeds in tests/fuzz/corpus/ are only read.  The work corpora
# persist across runs so coverage accumulates; rm -rf build/fuzz starts
# over.  Targets run with -fork=1 and -ignore_crashes, so one known crash
# does not hide the next: every crash of the run is kept and reported.
# Reproduce one with: build/fuzz/fuzz_TARGET build/fuzz/artifacts/TARGET/crash-...
. "$(dirname "$0")/common.sh"

SECONDS_PER_TARGET=${1:-60}
[[ $SECONDS_PER_TARGET =~ ^[1-9][0-9]*$ ]] || die "usage: $0 [SECONDS]"

FUZZ="$BUILD/fuzz"
# FUZZ_TARGETS picks some (e.g. FUZZ_TARGETS=mcp scripts/fuzz.sh 30).
TARGETS=${FUZZ_TARGETS:-"json_in stream json_out privsep header runner_data mcp"}
CC=${CC:-clang}
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -Wall -Wextra -D_GNU_SOURCE -I$TOP/src/common -I$TOP/src/front -I$BUILD/src/front
  -I$TOP/src/executor -I$TOP/runner
  -DPYCAGE_EXECUTOR_PATH=\"/usr/local/libexec/pycage/pycage-executor\""
# Every module of both sides but their main()s is linked: the real code,
# no stand-ins.
SRCS="$(ls "$TOP"/src/*/*.c | grep -v -E '/main\.c$') $TOP/runner/header.c"
LIBS="$(pkg-config --cflags --libs yajl fcgi libcurl) -lm -lpthread"

# Per target: the longest input.  json_in goes past body_max_bytes (1 MiB)
# so the 413 paths are reached; the others need only pass their caps.
max_len() {
	case $1 in
	json_in)	echo 1100000 ;;
	stream)		echo 20000 ;;
	json_out)	echo 20000 ;;
	privsep)	echo 20000 ;;
	header)		echo 400 ;;
	runner_data)	echo 140000 ;;
	mcp)		echo 20000 ;;
	esac
}

# Seeds too big for the repository, made in the work corpus: bodies at
# and one byte over the code and stdin caps, and the 300,000-level
# nesting that crashed yajl_tree_free (docs/FIELD-NOTES.md).
json_in_big_seeds() {
	python3 - "$1" <<'EOF'
import sys
d = sys.argv[1]
seeds = {
    "code_at_cap.json": '{"code":"' + "x" * 262144 + '"}',
    "code_over_cap.json": '{"code":"' + "x" * 262145 + '"}',
    "stdin_at_cap.json": '{"code":"x","stdin":"' + "y" * 1048576 + '"}',
    "stdin_over_cap.json": '{"code":"x","stdin":"' + "y" * 1048577 + '"}',
    "stdin_escaped.json": '{"code":"x","stdin":"' + "\\u00e9" * 174762 + '"}',
    "nesting_300k.json": '{"code":"x","a":' + "[" * 300000 + "]" * 300000 + "}",
}
for name, text in seeds.items():
    with open(d + "/" + name, "w") as f:
        f.write(text)
EOF
}

# request.c includes the OpenAPI document the build generates
# (src/front/openapi_json.h, from docs/openapi.yaml): made in build/ first.
openapi_header() {
	[ -f "$BUILD/Makefile" ] || build_only >/dev/null || die "build/ is not configured"
	make -s -C "$BUILD" src/front/openapi_json.h || die "could not generate openapi_json.h"
}

build_target() {
	local t=$1
	# shellcheck disable=SC2086
	$CC $CFLAGS -o "$FUZZ/fuzz_$t" "$TOP/tests/fuzz/fuzz_$t.c" $SRCS $LIBS ||
		die "building fuzz_$t failed"
}

# The distinct reports among a target's artifacts, each with one reproducer.
report_artifacts() {
	local t=$1 a key seen=""
	for a in "$FUZZ/artifacts/$t"/*; do
		[ -f "$a" ] || continue
		"$FUZZ/fuzz_$t" -runs=1 "$a" </dev/null >"$a.txt" 2>&1 || true
		key=$(grep -m1 -E 'SUMMARY:|check failed|ERROR: libFuzzer' "$a.txt" |
		    sed 's/0x[0-9a-f]*//g') || key="unknown: $(basename "$a")"
		case $seen in *"|$key|"*) continue ;; esac
		seen="$seen|$key|"
		echo "--- reproducer: $a"
		# The report and the frames of our code, not libFuzzer's or libc's.
		grep -E -A16 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|check failed' \
		    "$a.txt" | grep -v -E '^INFO|fuzzer::|__sanitizer_print|libc\.so|nptl/|stdlib/abort|signal/' |
		    head -30 || true
		python3 -c 'import sys
data = open(sys.argv[1], "rb").read()
text = repr(data)
print("input (%d bytes): %s%s" % (len(data), text[:600], "..." if len(text) > 600 else ""))' "$a"
	done
}

run_target() {
	local t=$1 corpus=$FUZZ/corpus/$1 artifacts=$FUZZ/artifacts/$1
	local log=$FUZZ/fuzz_$1.log runs crashes
	mkdir -p "$corpus"
	rm -rf "$artifacts"
	mkdir -p "$artifacts"
	cp "$TOP/tests/fuzz/corpus/$t"/* "$corpus"/
	[ "$t" = json_in ] && json_in_big_seeds "$corpus"
	# -fork=1: inputs run in a child, so a crash or leak is recorded and
	# fuzzing goes on; -timeout: a single input over 10 s is a hang.
	(cd "$FUZZ" && UBSAN_OPTIONS=print_stacktrace=1 "./fuzz_$t" \
	    -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
	    -max_total_time="$SECONDS_PER_TARGET" -max_len="$(max_len "$t")" \
	    -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$artifacts/" \
	    "$corpus" </dev/null >"$log" 2>&1) || true
	runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
	crashes=$(find "$artifacts" -maxdepth 1 -type f ! -name '*.txt' | wc -l)
	if [ "$crashes" -eq 0 ] && grep -q 'INFO: exiting: 0' "$log"; then
		echo "fuzz $t: ok, ${runs:-0} runs"
		return 0
	fi
	if [ "$crashes" -eq 0 ]; then
		echo "fuzz $t: failed to run (log $log)"
		tail -20 "$log"
		return 1
	fi
	echo "fuzz $t: $crashes crashes in ${runs:-0} runs (artifacts in $artifacts)"
	report_artifacts "$t"
	return 1
}

command -v "$CC" >/dev/null || die "$CC not found (apt-get install clang libclang-rt-14-dev)"
mkdir -p "$FUZZ"
openapi_header
say "building fuzz targets in $FUZZ"
for t in $TARGETS; do
	build_target "$t" &
done
wait_all=0
for job in $(jobs -p); do
	wait "$job" || wait_all=1
done
[ "$wait_all" -eq 0 ] || die "build failed"

status=0
for t in $TARGETS; do
	say "fuzzing $t for $SECONDS_PER_TARGET s"
	run_target "$t" || status=1
done
exit $status
