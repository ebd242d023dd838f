#!/usr/bin/env bash
# san: yes
# Super-packets: a UDP_SEGMENT sender's skb stands for many datagrams, and so
# does what GRO makes of a stream on the relay's ingress (rx-udp-gro-forwarding,
# and fraglist GRO). Each is replicated as the datagrams it stands for: every
# receiver gets every datagram, of the right size, with valid checksums, and
# the counters count datagrams. The relay's program runs show that it really
# saw fewer skbs than datagrams (kernel.bpf_stats_enabled, restored after).
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=3
COUNT=2000
SIZE=1200
topo_build $N || exit 1
STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"; topo_unload; rc_cleanup' EXIT
sysctl -qw kernel.bpf_stats_enabled=1

# The source's device keeps UDP segmentation (it needs tx checksumming):
# its super-packets cross the veth whole, as they would leave a host for a
# NIC that segments. The relay's devices towards the receivers segment and
# sum in software, so each receiver's capture sees real datagrams.
rc_in "$TOPO_SRC" ethtool -K "$(rc_name so)" tx on >/dev/null
for ((i = 1; i <= N; i++)); do
	rc_in "$TOPO_RELAY" ethtool -K "${TOPO_RELAY_DEV[i]}" tx off >/dev/null
done
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"
PROG="$TOPO_PIN/replicate_prog"
runs() { bpftool -j prog show pinned "$PROG" | jq -r '.run_cnt // 0'; }

# super FAMILY GROUP WHAT SENDER_OPTIONS...: COUNT datagrams of SIZE bytes
# through the relay; the program must have run fewer than COUNT / 2 times.
super() {
	local fam=$1 group=$2 what=$3 i src allow before after
	shift 3
	if [ "$fam" = 4 ]; then allow=10.77.0.0/24 src=10.77.0.1:4000
	else allow=fd77::/64 src=[fd77::1]:4000; fi
	rc_assert_ok "group add $group" $RC group add "$group" --allow-source $allow
	topo_subscribe "$fam" "$group" 6000
	topo_sinks "$fam" 6000 $COUNT --size $SIZE --capture @RXDEV --require-full-csum
	before=$(runs)
	rc_assert_ok "$what: $COUNT datagrams of $SIZE bytes to $group" \
		rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to "$group" --count $COUNT --size $SIZE \
		--bind "$src" "$@"
	for ((i = 1; i <= N; i++)); do
		topo_sink_wait $i 6000
		rc_assert_eq 0 $? "$what, IPv$fam: receiver $i got all $COUNT datagrams of $SIZE bytes, valid checksums"
		rc_assert_eq $COUNT "$(rc_kv "$RC_TMP/sink-$i-6000" captured)" "... $COUNT frames on its wire"
	done
	after=$(runs)
	rc_assert_ge $((COUNT / 2)) $((COUNT - (after - before))) \
		"$what: the relay saw super-packets ($((after - before)) program runs for $COUNT datagrams)"
	rc_assert_eq $COUNT "$(topo_stat ".groups[] | select(.group==\"$group\") | .received.packets")" \
		"$what: the group counted $COUNT datagrams received"
	rc_assert_eq $((COUNT * N)) "$(topo_stat ".groups[] | select(.group==\"$group\") | .sent.packets")" \
		"$what: and $((COUNT * N)) copies"
	rc_assert_ok "group del $group" $RC group del "$group"
}

super 4 10.77.100.1:5000 "UDP_SEGMENT sender" --gso 10
super 6 '[fd77:100::1]:5000' "UDP_SEGMENT sender" --gso 10

# GRO on the relay's ingress. Datagrams must arrive in bursts for GRO to
# merge them, as from a NIC: the source's device no longer segments, so its
# stack cuts each super-packet into ten datagrams with full checksums and
# hands them to the veth back to back, and the relay's NAPI poll finds them
# together.
rc_in "$TOPO_SRC" ethtool -K "$(rc_name so)" tx off >/dev/null
rc_in "$TOPO_RELAY" ethtool -K "$TOPO_RELAY_IN" gro on rx-udp-gro-forwarding on >/dev/null
super 4 10.77.100.2:5000 "GRO forwarding" --gso 10
super 6 '[fd77:100::2]:5000' "GRO forwarding" --gso 10
rc_in "$TOPO_RELAY" ethtool -K "$TOPO_RELAY_IN" rx-udp-gro-forwarding off rx-gro-list on >/dev/null
super 4 10.77.100.3:5000 "fraglist GRO" --gso 10
super 6 '[fd77:100::3]:5000' "fraglist GRO" --gso 10
rc_summary
