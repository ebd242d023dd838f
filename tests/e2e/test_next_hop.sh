#!/usr/bin/env bash
# san: yes
# A relay that does not route finds its copies' next hops in the kernel's
# neighbour table through the `neighbours` map, which a pinned tracepoint
# program keeps current with no process running: a receiver that changes
# its MAC is followed, and one that answers only after `sub add` is served
# once it does. IPv4 and IPv6.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 2 || exit 1
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"
rc_assert_ok "the tracker's link is pinned" test -e "$TOPO_PIN/neighbours_link"

# stream FAMILY GROUP DEST I COUNT: COUNT packets, all at receiver I.
stream() {
	local fam=$1 group=$2 dest=$3 i=$4 count=$5 what=$6 src
	if [ "$fam" = 4 ]; then src=10.77.0.1:4000; else src=[fd77::1]:4000; fi
	topo_sink "$i" "$dest" "$count" --size 100 --timeout-ms 10000
	rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to "$group" --count "$count" --size 100 \
		--rate 5000 --bind "$src" >/dev/null
	topo_sink_wait "$i" 6000
	rc_assert_eq 0 $? "$what: receiver $i got all $count"
}

for fam in 4 6; do
	if [ "$fam" = 4 ]; then G=10.77.100.1:5000 D1=10.77.1.2 D2=10.77.2.2 P=24 A=10.77.0.0/24
	else G='[fd77:100::1]:5000' D1=fd77:1::2 D2=fd77:2::2 P=64 A=fd77::/64; fi
	dest() { if [ "$fam" = 4 ]; then echo "$1:6000"; else echo "[$1]:6000"; fi; }
	rc_assert_ok "IPv$fam: group add" $RC group add "$G" --allow-source $A
	rc_assert_ok "IPv$fam: sub add $(dest $D1)" $RC sub add "$G" "$(dest $D1)"
	stream $fam "$G" "$(dest $D1)" 1 200 "IPv$fam, forwarding off"

	# The receiver gets a new MAC and the relay's neighbour entry learns it
	# (as from a gratuitous ARP or unsolicited neighbour advertisement).
	mac=02:00:00:77:0$fam:01
	rc_in "${TOPO_RX[1]}" ip link set dev "${TOPO_RX_DEV[1]}" address $mac
	rc_in "$TOPO_RELAY" ip neigh replace "$D1" lladdr $mac dev "${TOPO_RELAY_DEV[1]}" nud reachable
	stream $fam "$G" "$(dest $D1)" 1 200 "IPv$fam, after the receiver's MAC changed"

	# A receiver that is not there yet: sub add waits 1 s for its next hop,
	# then its copies are counted as no_neighbour ...
	rc_in "${TOPO_RX[2]}" ip addr flush dev "${TOPO_RX_DEV[2]}" scope global
	rc_assert_ok "IPv$fam: sub add $(dest $D2), not answering yet" $RC sub add "$G" "$(dest $D2)"
	before=$(topo_stat '.drops.no_neighbour')
	stream $fam "$G" "$(dest $D1)" 1 50 "IPv$fam, while receiver 2 is away"
	rc_assert_eq $((before + 50)) "$(topo_stat '.drops.no_neighbour')" \
		"IPv$fam: receiver 2's 50 copies counted as no_neighbour"
	# ... until it comes and answers the kernel's probes.
	rc_addr "${TOPO_RX[2]}" "${TOPO_RX_DEV[2]}" "$D2/$P"
	# No ping, no process: the managed entry sub add made keeps probing.
	for ((t = 0; t < 150; t++)); do
		rc_in "$TOPO_RELAY" ip neigh show "$D2" dev "${TOPO_RELAY_DEV[2]}" |
			grep -qE 'REACHABLE|STALE|DELAY|PROBE' && break
		sleep 0.1
	done
	stream $fam "$G" "$(dest $D2)" 2 200 "IPv$fam, once receiver 2 answered"
	rc_assert_ok "IPv$fam: group del" $RC group del "$G"
done
rc_summary
