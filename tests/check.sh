#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# `make check`: the tests that need neither root nor the network, in seconds:
# the unit tests of pure code (addresses, AF_XDP frames, counter memory and
# size limits), the library's ABI and version, the CLI's option tables
# against its --help, completion and man page, and one pass of every libFuzzer
# target over its committed corpus (each input run once, ASan and UBSan
# built in). Prints "N passed, N failed, N skipped" (suites; a suite exiting
# 77 is skipped) like tests/run.sh, which runs all of these and the
# root-only rest (make test).
#   tests/check.sh [BUILD]      BUILD: build (default) or build-san
set -u
cd "$(dirname "$0")/.." || exit 1
b=${1:-build}
passed=0
failed=0
skipped=0
failures=()
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

suite() {
	local name=$1 rc
	shift
	echo "=== $name"
	"$@"
	rc=$?
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "=== $name: passed"
	elif [ $rc -eq 77 ]; then
		skipped=$((skipped + 1))
		echo "=== $name: skipped"
	else
		failed=$((failed + 1))
		failures+=("$name")
		echo "=== $name: FAILED (exit $rc)"
	fi
}

# Each input of the corpus once, named on the command line: libFuzzer runs
# the files given and stops, failing on the first crash, leak or report.
replay() {
	local bin=$1 dir files=()
	dir=tests/fuzz/corpus/$(basename "$bin")
	[ -d "$dir" ] && mapfile -t files < <(find "$dir" -type f | LC_ALL=C sort)
	if [ ${#files[@]} -eq 0 ]; then
		echo "check: no corpus in $dir" >&2
		return 1
	fi
	"$bin" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=3 "${files[@]}" 2>&1 |
		grep -v -e '^Running: ' -e '^Executed ' -e '^\*\*\*' -e '^INFO: ' -e '^$'
	local rc=${PIPESTATUS[0]}
	echo "${#files[@]} inputs replayed, exit $rc"
	return "$rc"
}

[ -x "$b/replicast" ] || { echo "tests/check.sh: $b is not built (make)" >&2; exit 1; }
suite "$b unit: addresses" "$b/tests/test_addr"
suite "$b unit: AF_XDP frames" "$b/tests/test_frame"
suite "$b unit: counter memory and size limits" "$b/tests/test_cost"
suite "$b unit: library ABI and version" tests/unit/test_abi.sh "$b"
suite "$b unit: one command grammar (help, completion, man)" tests/unit/test_grammar.sh "$b"
n=0
for bin in build/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	n=$((n + 1))
	suite "fuzz: $(basename "$bin") replays its corpus" replay "$bin"
done
[ "$n" -gt 0 ] || { echo "tests/check.sh: no fuzz targets in build/fuzz (make fuzz-build)" >&2; failed=$((failed + 1)); }

echo
[ ${#failures[@]} -eq 0 ] || printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
