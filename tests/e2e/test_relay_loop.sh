#!/usr/bin/env bash
# A loop between two relays dies out. Relay A's group is subscribed to relay
# B's group and B's to A's (a misconfigured relay tree). Groups on unicast
# addresses keep router semantics, so one packet sent with TTL 64 crosses
# 63 times and is then dropped as ttl_exceeded, once; a multicast group's
# fresh TTL is given once only, because copies are never multicast again.
#
#   relay A (10.78.0.1, groups 10.78.9.1:5000 and 239.78.0.1:5000)
#     ──veth── relay B (10.78.0.2, group 10.78.9.2:5000)
set -u
. "$(dirname "$0")/../lib.sh"
rc_require_root
rc_setup_traps
BUILD=${BUILD:-build}
A=$(rc_name la)
B=$(rc_name lb)
DEV_A=$(rc_name lab)
DEV_B=$(rc_name lba)
PIN_A=/sys/fs/bpf/rc-loop-a-$RC_ID
PIN_B=/sys/fs/bpf/rc-loop-b-$RC_ID
RA="rc_in $A $RC_ROOT/$BUILD/replicast --pin-path $PIN_A"
RB="rc_in $B $RC_ROOT/$BUILD/replicast --pin-path $PIN_B"
unload_both() {
	[ -d "$PIN_A" ] && $RA unload
	[ -d "$PIN_B" ] && $RB unload
	rm -rf "$PIN_A" "$PIN_B"
}
trap 'unload_both; rc_cleanup' EXIT

rc_ns_add "$A" && rc_ns_add "$B" || exit 1
rc_veth "$DEV_A" "$A" "$DEV_B" "$B" || exit 1
rc_addr "$A" "$DEV_A" 10.78.0.1/24
rc_addr "$B" "$DEV_B" 10.78.0.2/24
rc_in "$A" ip route add 10.78.9.2/32 via 10.78.0.2
rc_in "$B" ip route add 10.78.9.1/32 via 10.78.0.1
rc_in "$B" ip route add 224.0.0.0/4 dev "$DEV_B"

rc_assert_ok "relay A loads" $RA load --dev "$DEV_A"
rc_assert_ok "relay B loads" $RB load --dev "$DEV_B"
rc_assert_ok "A: group 10.78.9.1:5000" $RA group add 10.78.9.1:5000 --allow-source 10.78.0.0/24
rc_assert_ok "A: group 239.78.0.1:5000" $RA group add 239.78.0.1:5000 --allow-source 10.78.0.0/24
rc_assert_ok "B: group 10.78.9.2:5000" $RB group add 10.78.9.2:5000 --allow-source 10.78.0.0/24
rc_assert_ok "A's groups go to B's group" $RA sub add 10.78.9.1:5000 10.78.9.2:5000
rc_assert_ok "... both of them" $RA sub add 239.78.0.1:5000 10.78.9.2:5000
rc_assert_ok "B's group goes back to A's" $RB sub add 10.78.9.2:5000 10.78.9.1:5000

# taken RELAY: packets its groups took, all groups; ttl RELAY: TTL drops.
taken() { $1 stats --json | jq '[.groups[].received.packets] | add'; }
expired() { $1 stats --json | jq '.drops.ttl_exceeded'; }
# settled: the four counters, once they stop moving (bounded wait).
settled() {
	local now last= i
	for ((i = 0; i < 50; i++)); do
		now="$(taken "$RA") $(taken "$RB") $(expired "$RA") $(expired "$RB")"
		[ "$now" = "$last" ] && { echo "$now"; return; }
		last=$now
		sleep 0.2
	done
	echo "$now"
}

# One packet from B's own stack, TTL 64, to A's unicast group.
rc_assert_ok "one packet, TTL 64, to 10.78.9.1:5000" \
	rc_in "$B" "$RC_BIN/rc_blast" --to 10.78.9.1:5000 --count 1 --ttl 64 --bind 10.78.0.2
read -r ta tb ea eb <<<"$(settled)"
rc_assert_eq 63 $((ta + tb)) "taken 63 times in all, at TTL 64 down to 2 (A $ta, B $tb)"
rc_assert_eq 1 $((ea + eb)) "then dropped once as ttl_exceeded"
sleep 1
rc_assert_eq "$ta $tb $ea $eb" "$(settled)" "and nothing more: the loop died out"

# A multicast source with TTL 1: A's copy gets a fresh TTL once, then the
# unicast loop takes it down again.
rc_assert_ok "one packet, TTL 1, to 239.78.0.1:5000" \
	rc_in "$B" "$RC_BIN/rc_blast" --to 239.78.0.1:5000 --count 1 --bind 10.78.0.2
read -r ta2 tb2 ea2 eb2 <<<"$(settled)"
rc_assert_eq 64 $((ta2 + tb2 - ta - tb)) "taken 64 times more: once as multicast, 63 as unicast"
rc_assert_eq 1 $((ea2 + eb2 - ea - eb)) "then dropped once as ttl_exceeded"
sleep 1
rc_assert_eq "$ta2 $tb2 $ea2 $eb2" "$(settled)" "and nothing more"
rc_summary
