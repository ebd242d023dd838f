#!/usr/bin/env bash
# Restart and upgrade: the kernel side runs on with no replicast process;
# `load` adopts what is pinned and changes nothing; `load --upgrade` swaps
# in a new program under a running stream, which loses and doubles nothing;
# a pinned layout of another version is refused with what to do.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=4
topo_build $N || exit 1
G=10.77.100.1:5000
COUNT=60000

rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"
rc_assert_ok "group add" $RC group add $G --allow-source 10.77.0.1
for ((i = 1; i <= N; i++)); do $RC sub add $G 10.77.$i.2:6000; done
old_id=$(bpftool -j prog show pinned "$TOPO_PIN/replicate_prog" | jq .id)

for ((i = 1; i <= N; i++)); do topo_sink $i 10.77.$i.2:6000 $COUNT --size 200; done
rc_bg "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G --count $COUNT --size 200 --rate 10000 --bind 10.77.0.1
BLAST=$RC_BG_PID
sleep 0.3
# Upgrades while the stream runs (each loads and verifies the programs, a
# second or so); the stream (6 s) is long enough to outlast them here.
upgrades=0 during=0
for ((u = 0; u < 3; u++)); do
	$RC load --dev "$TOPO_RELAY_IN" --upgrade && upgrades=$((upgrades + 1))
	kill -0 "$BLAST" 2>/dev/null && during=$((during + 1))
	sleep 0.2
done
rc_assert_eq 3 $upgrades "three upgrades"
rc_assert_ge 2 "$during" "at least two of them done while the stream ran ($during)"
rc_wait_pid $BLAST 30
rc_assert_eq 0 $? "the stream was sent"
for ((i = 1; i <= N; i++)); do
	topo_sink_wait $i 6000
	rc_assert_eq 0 $? "receiver $i: all $COUNT, in order, none twice, across the upgrades"
done
new_id=$(bpftool -j prog show pinned "$TOPO_PIN/replicate_prog" | jq .id)
rc_assert_ne "$old_id" "$new_id" "the pinned program is a new one"
rc_assert_eq "$new_id" "$(bpftool -j link show pinned "$TOPO_PIN/links/$TOPO_RELAY_IN" | jq .prog_id)" \
	"the device's pinned tcx link runs the new program"
rc_assert_eq $COUNT "$(topo_stat '.groups[0].received.packets')" "counters carried over the upgrades"

# No replicast process runs now: the kernel side goes on by itself.
for ((i = 1; i <= N; i++)); do topo_sink $i 10.77.$i.2:6000 500 --size 200 --first $COUNT; done
rc_assert_ok "a stream with no replicast process" \
	rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G --count 500 --size 200 --rate 10000 --first $COUNT
fails=0
for ((i = 1; i <= N; i++)); do topo_sink_wait $i 6000 || fails=$((fails + 1)); done
rc_assert_eq 0 $fails "every receiver got the stream with no process running"

# Adopting: load again changes nothing that list or stats show.
before=$($RC list --json; $RC stats --json)
rc_assert_ok "load again" $RC load --dev "$TOPO_RELAY_IN"
rc_assert_eq "$before" "$($RC list --json; $RC stats --json)" "state and counters unchanged"

# Another version's layout: refused, with what to do, and nothing touched.
cfg=$(bpftool -j map lookup pinned "$TOPO_PIN/config" key 0 0 0 0 | jq -r '.value | join(" ")')
bad=$(jq -rn --arg v "$cfg" '$v | split(" ") | .[8] = "0x09" | join(" ")')
bpftool map update pinned "$TOPO_PIN/config" key 0 0 0 0 value $bad
out=$($RC load --dev "$TOPO_RELAY_IN" 2>&1)
rc_assert_eq 1 $? "load refuses another layout"
rc_assert_match "another layout.*replicast save" "$out" "and says what to do"
out=$($RC list 2>&1)
rc_assert_eq 1 $? "list refuses it too"
bpftool map update pinned "$TOPO_PIN/config" key 0 0 0 0 value $cfg
rc_assert_eq "$before" "$($RC list --json; $RC stats --json)" "nothing was changed"
rc_summary
