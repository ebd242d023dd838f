#!/usr/bin/env bash
# san: yes
# Writers at once: two `apply` runs of different files started together each
# hold the writers' lock from their first read to their last write, so both
# succeed (one waits) and the state is exactly one of the two files, never a
# mix; commands of a -batch each hold it too.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 1 || exit 1
DEV1=${TOPO_RELAY_DEV[1]}
T=$RC_TMP
ROUNDS=5

# write_conf FILE FIRST LAST PORT: groups 10.77.100.FIRST..LAST, each with 50
# subscribers 10.77.1.2:PORT..PORT+49 (a set switch per group, as the issue's).
write_conf() {
	local f=$1 first=$2 last=$3 port=$4 g p
	echo "load --dev $TOPO_RELAY_IN --max-groups 32 --max-subs 64 --no-inject" >"$f"
	for ((g = first; g <= last; g++)); do
		echo "group add 10.77.100.$g:5000 --allow-source 10.77.0.1" >>"$f"
		for ((p = port; p < port + 50; p++)); do
			echo "sub add 10.77.100.$g:5000 10.77.1.2:$p --dev $DEV1" >>"$f"
		done
	done
}
write_conf "$T/a.conf" 1 12 6000
write_conf "$T/b.conf" 7 18 7000
write_conf "$T/c.conf" 4 24 8000

# The state as a sorted list of save's lines: ids and order apart, what is
# configured.
state() { $RC save | grep -v '^#' | sort; }

rc_assert_ok "apply a alone" $RC apply "$T/a.conf"
state >"$T/want-a"
rc_assert_ok "apply b alone" $RC apply "$T/b.conf"
state >"$T/want-b"
rc_assert_ne "$(cat "$T/want-a")" "$(cat "$T/want-b")" "the two files differ"

# Each round starts from a third state, so both applies have work to do;
# the last two from nothing loaded, so both load (the second finds the
# first's relay and then its groups).
for ((r = 1; r <= ROUNDS + 2; r++)); do
	if [ $r -le $ROUNDS ]; then
		$RC apply "$T/c.conf" >/dev/null || rc_not_ok "round $r: apply c first"
	else
		$RC unload || rc_not_ok "round $r: unload first"
	fi
	$RC apply "$T/a.conf" >"$T/out-a" 2>&1 &
	pa=$!
	rc_track_pid $pa
	$RC apply "$T/b.conf" >"$T/out-b" 2>&1 &
	pb=$!
	rc_track_pid $pb
	rc_wait_pid $pa 60
	ra=$?
	rc_wait_pid $pb 60
	rb=$?
	rc_assert_eq 0 "$ra" "round $r: apply a at once with b exits 0 ($(head -c 300 "$T/out-a"))"
	rc_assert_eq 0 "$rb" "round $r: apply b at once with a exits 0 ($(head -c 300 "$T/out-b"))"
	state >"$T/got"
	if cmp -s "$T/got" "$T/want-a" || cmp -s "$T/got" "$T/want-b"; then
		rc_ok "round $r: the state is exactly one of the two files"
	else
		rc_not_ok "round $r: the state is exactly one of the two files" \
			"$(diff "$T/want-a" "$T/got" | head -5)"
	fi
done

# -batch holds the lock for each command: run at once with an apply, its
# commands and the apply's whole change take turns, neither waits forever
# (one handle's lock never blocks the same process's next command), and a
# batch that only sets options on a group the file keeps fails nowhere.
# (Commands that undo each other across lines, allow then disallow, may
# meet an apply in between: the lock is per command, not per batch.)
for ((g = 1; g <= 40; g++)); do
	echo "group set 10.77.100.8:5000 --max-pps $((1000 + g)) --max-bps $((8000000 + g))"
done >"$T/batch"
for ((r = 1; r <= ROUNDS; r++)); do
	$RC -batch "$T/batch" >"$T/out-batch" 2>&1 &
	pb=$!
	rc_track_pid $pb
	$RC apply "$T/a.conf" >"$T/out-a" 2>&1 &
	pa=$!
	rc_track_pid $pa
	rc_wait_pid $pb 60
	rb=$?
	rc_wait_pid $pa 60
	ra=$?
	rc_assert_eq 0 "$rb" "batch round $r: -batch at once with apply exits 0 ($(head -c 300 "$T/out-batch"))"
	rc_assert_eq 0 "$ra" "batch round $r: apply at once with -batch exits 0 ($(head -c 300 "$T/out-a"))"
done

rc_summary
