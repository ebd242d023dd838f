#!/usr/bin/env bash
# A group on one of the relay's own addresses takes UDP to the group's port
# and nothing else: ping, other UDP ports and fragmented datagrams to that
# address still reach the relay's own stack.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 1 || exit 1
OWN=10.77.0.254
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"
rc_assert_ok "group add $OWN:5000, the relay's own address" $RC group add $OWN:5000 --allow-source 10.77.0.1
rc_assert_ok "sub add" $RC sub add $OWN:5000 10.77.1.2:6000

topo_sink 1 10.77.1.2:6000 100 --size 200
rc_assert_ok "100 packets to the group" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $OWN:5000 \
	--count 100 --size 200 --bind 10.77.0.1:4000
topo_sink_wait 1 6000
rc_assert_eq 0 $? "the subscriber got all 100"

rc_assert_ok "ping to the relay's address still answers" \
	rc_in "$TOPO_SRC" ping -c 3 -i 0.2 -W 1 $OWN
# A socket of the relay's own on another port, once with small datagrams,
# once with ones that leave the source in fragments.
for size in 100 3000; do
	rm -f "$RC_TMP/ready-own"
	rc_bg "$TOPO_RELAY" "$RC_BIN/rc_sink" --listen $OWN:5001 --expect 20 --size $size \
		--report "$RC_TMP/own-$size" --ready-file "$RC_TMP/ready-own" >/dev/null
	pid=$RC_BG_PID
	rc_wait_ready "$RC_TMP/ready-own" 10
	rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $OWN:5001 --count 20 --size $size --rate 1000 >/dev/null
	rc_wait_pid "$pid" 30
	rc_assert_eq 0 $? "UDP of $size bytes to $OWN:5001 reaches the relay's own socket ($(rc_kv "$RC_TMP/own-$size" received) of 20)"
done
rc_assert_eq 0 "$(topo_stat '.drops.fragment')" "... fragments are the host's: none counted as dropped"
rc_summary
