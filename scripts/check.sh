#!/usr/bin/env bash
# scripts/check.sh: every test.  Brings pycage up exactly as scripts/up.sh
# does, then runs `make check` (C unit tests, and the integration tests
# over HTTP against the real nginx, responder, engine and image) and
# `make distcheck`.  Ends with the line "N passed, N failed".
. "$(dirname "$0")/common.sh"
bring_up

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
say "make check"
(cd "$BUILD" && PYCAGE_REQUIRE_SERVICE=1 make -j1 check) 2>&1 | tee "$log" || status=1
for f in "$BUILD"/tests/*/*.log; do
	grep -q '^not ok' "$f" 2>/dev/null && { echo "--- $f"; grep -B2 -A8 '^not ok' "$f" | head -60; }
done

count() { awk -v k="# $1:" '$1" "$2 == k { n += $3 } END { print n + 0 }' "$log"; }
passed=$(count PASS)
failed=$(( $(count FAIL) + $(count ERROR) + $(count XPASS) ))
skipped=$(count SKIP)

# distcheck builds the tarball and runs the unit tests from it; the
# integration tests were run above, so they skip inside distcheck.
say "make distcheck"
if (cd "$BUILD" && PYCAGE_SKIP_INTEGRATION=1 make -s distcheck >"$log" 2>&1); then
	passed=$((passed + 1))
else
	tail -40 "$log"
	failed=$((failed + 1))
	status=1
fi

[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
