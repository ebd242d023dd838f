#!/usr/bin/env bash
# Runs every replicast test suite and prints "N passed, N failed, N skipped"
# (suites). A suite that exits 77 found a kernel feature missing (it says
# which, through lib.sh's rc_skip_suite): skipped, not failed. Checks skipped
# inside a suite that passed (rc_skip) are listed after the failures.
# Needs root: the program tests load BPF, the end-to-end tests build network
# namespaces (all named rc*, all removed when a suite ends, also on failure).
#   tests/run.sh            everything: build/ suites, then build-san/ suites
#   tests/run.sh PATTERN    only the suites whose name contains PATTERN
set -u
cd "$(dirname "$0")/.."
RUNNER_FILTER=${1:-}
. tests/runner.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "tests/run.sh: run as root (BPF, network namespaces)" >&2
	exit 1
fi

# Runs a command in a scratch network namespace with only loopback, removed
# afterwards whatever happens.
in_scratch_netns() {
	local ns=rcut$$ rc
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	nsenter --net=/run/netns/"$ns" -- "$@"
	rc=$?
	ip netns del "$ns" 2>/dev/null
	return $rc
}

run_build() {
	local b=$1
	[ -x "$b/replicast" ] || { runner_fail "$b" "not built"; return; }
	unit_suites "$b"
	[ "$b" = build ] && suite "$b tools: sender and receiver self-test" env RC_BIN="$b/tests" tests/tools/selftest.sh
	suite "$b unit: routes and neighbours" tests/unit/test_route.sh "$b/tests/test_route"
	# The capacity part (4,096 subscribers, 1,024 groups) only once.
	suite "$b program: crafted packets" in_scratch_netns "$b/tests/test_prog" "/sys/fs/bpf/rcut$$" \
		$([ "$b" = build ] && echo capacity)
	rm -rf "/sys/fs/bpf/rcut$$"	# what a failed run may have left pinned
	for t in tests/e2e/test_*.sh; do
		[ -e "$t" ] || continue
		# Under the sanitizers, the end-to-end tests that say so (marked
		# "san: yes") run again with the sanitized CLI.
		if [ "$b" != build ] && ! grep -q '^# san: yes' "$t"; then
			continue
		fi
		suite "$b e2e: $(basename "$t" .sh)" env BUILD="$b" "$t"
	done
}

# The BPF programs compile for the other architecture too (arm64 on x86): a
# compile check, as nothing here runs them there.
suite "bpf: compiles for the other architecture" make --no-print-directory bpf-cross-check
run_build build
run_build build-san
# Every libFuzzer target briefly (ASan + UBSan built in), from its corpus.
suite "fuzz: each target 5 s" make --no-print-directory -j"$(nproc)" fuzz FUZZ_SECONDS=5
if [ -f bench/bench.mk ]; then
	# One payload size and no many-groups cells: the suite checks that every
	# method runs and reports, which the 1200-byte one-group cells show
	# (make bench has the rest).
	suite "bench: quick run" make --no-print-directory bench QUICK=1 BENCH_ARGS="--sizes 1200 --groups none"
fi

summary
