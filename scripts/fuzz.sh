#!/usr/bin/env bash
# Runs every libFuzzer target (build/fuzz/fuzz_*) for SECONDS each, starting
# from its committed corpus (tests/fuzz/corpus/<target>/). New inputs go to a
# scratch copy, so the repository stays as it is; a crash leaves its input in
# build/fuzz/crashes/ and fails the run.  Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
# libFuzzer reads 0 as "forever": every run here is bounded.
case "$seconds" in
''|*[!0-9]*|0) echo "fuzz: SECONDS must be a whole number above 0" >&2; exit 2 ;;
esac
mkdir -p build/fuzz/crashes
status=0
for bin in build/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	work=$(mktemp -d /tmp/rcfuzz.XXXXXX)
	cp tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null || true
	echo "fuzz: $name for ${seconds}s"
	if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-close_fd_mask=3 -artifact_prefix=build/fuzz/crashes/"$name"- "$work" >"build/fuzz/$name.log" 2>&1; then
		echo "fuzz: $name FAILED; see build/fuzz/$name.log and build/fuzz/crashes/" >&2
		tail -n 30 "build/fuzz/$name.log" >&2
		status=1
	else
		grep -E "^stat::number_of_executed_units" "build/fuzz/$name.log" | sed "s/^/fuzz: $name: /"
	fi
	rm -rf "$work"
done
exit $status
