# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The suite runner that tests/run.sh (make test) and tests/check.sh (make
# check) share: source it, call suite for each suite, then summary. A suite
# passes with exit 0 and is skipped with 77 (a kernel feature is missing; it
# says which through lib.sh's rc_skip_suite); checks skipped inside a suite
# that passed (rc_skip, into $RC_SKIP_LOG) are listed at the end.
#   RUNNER_FILTER   only suites whose name contains it (run.sh's PATTERN)

runner_passed=0
runner_failed=0
runner_skipped=0
runner_failures=()
runner_skips=()
runner_skip_log=$(mktemp /tmp/rcskip.XXXXXX) || exit 1
trap 'rm -f "$runner_skip_log"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# suite NAME COMMAND...: runs one suite; its own output is shown as it goes.
suite() {
	local name=$1 start rc reason
	shift
	case "$name" in *"${RUNNER_FILTER:-}"*) ;; *) return 0 ;; esac
	echo "=== $name"
	start=$(date +%s)
	: >"$runner_skip_log"
	RC_SKIP_LOG=$runner_skip_log "$@"
	rc=$?
	while read -r reason; do
		runner_skips+=("$name: $reason")
	done <"$runner_skip_log"
	if [ $rc -eq 0 ]; then
		runner_passed=$((runner_passed + 1))
		echo "=== $name: passed ($(($(date +%s) - start)) s)"
	elif [ $rc -eq 77 ]; then
		runner_skipped=$((runner_skipped + 1))
		echo "=== $name: skipped"
	else
		runner_fail "$name" "exit $rc"
	fi
}

# runner_fail NAME WHY: counts a failure that is not a suite's exit (a
# build missing, a corpus missing).
runner_fail() {
	runner_failed=$((runner_failed + 1))
	runner_failures+=("$1")
	echo "=== $1: FAILED ($2)"
}

# The unit tests of pure code and the library's ABI: no root, no network.
unit_suites() {
	local b=$1
	suite "$b unit: addresses" "$b/tests/test_addr"
	suite "$b unit: library ABI and version" tests/unit/test_abi.sh "$b"
	suite "$b unit: AF_XDP frames" "$b/tests/test_frame"
	suite "$b unit: counter memory and size limits" "$b/tests/test_cost"
	suite "$b unit: receiver health arithmetic" "$b/tests/test_health"
	suite "$b unit: one command grammar (help, completion, man)" tests/unit/test_grammar.sh "$b"
}

# The closing lines; returns non-zero when a suite failed.
summary() {
	echo
	[ ${#runner_failures[@]} -eq 0 ] || printf 'failed: %s\n' "${runner_failures[@]}"
	[ ${#runner_skips[@]} -eq 0 ] || printf 'skipped: %s\n' "${runner_skips[@]}"
	echo "$runner_passed passed, $runner_failed failed, $runner_skipped skipped"
	[ "$runner_failed" -eq 0 ]
}
