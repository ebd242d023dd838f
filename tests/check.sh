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
. tests/runner.sh

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
unit_suites "$b"
n=0
for bin in build/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	n=$((n + 1))
	suite "fuzz: $(basename "$bin") replays its corpus" replay "$bin"
done
[ "$n" -gt 0 ] || runner_fail "fuzz" "no targets in build/fuzz (make fuzz-build)"

summary
