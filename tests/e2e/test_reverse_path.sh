#!/usr/bin/env bash
# san: yes
# Spoofed sources on the wrong device: the relay listens on two devices, and
# a second host sends with the allowed source's address through the other
# one. rp_filter cannot stop it (the program takes the packet at TC ingress,
# before the stack's check), so the program checks the reverse path itself:
# every spoofed packet is refused and counted as reverse_path, the genuine
# source still gets through, and --reverse-path loose lets both in.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 1 || exit 1
SPOOF=$(rc_name sp)
SPOOF_DEV=$(rc_name spo)
RELAY_IN2=$(rc_name ri2)
G=10.77.100.1:5000
rc_ns_add "$SPOOF" || exit 1
rc_veth "$SPOOF_DEV" "$SPOOF" "$RELAY_IN2" "$TOPO_RELAY" || exit 1
rc_addr "$SPOOF" "$SPOOF_DEV" 10.79.0.1/24
rc_addr "$SPOOF" "$SPOOF_DEV" 10.77.0.1/32	# the allowed source's address, forged
rc_addr "$TOPO_RELAY" "$RELAY_IN2" 10.79.0.254/24
rc_in "$SPOOF" ip route add 10.77.100.0/24 via 10.79.0.254
# The forger asks ARP from its forged address, which the relay's rp_filter
# ignores: give it the relay's MAC, as an attacker on the link would have.
rc_in "$SPOOF" ip neigh add 10.79.0.254 dev "$SPOOF_DEV" \
	lladdr "$(rc_in "$TOPO_RELAY" ip -j link show "$RELAY_IN2" | jq -r '.[0].address')"
rc_in "$TOPO_RELAY" sysctl -qw net.ipv4.conf.all.rp_filter=1

rc_assert_ok "load on both devices" $RC load --dev "$TOPO_RELAY_IN" --dev "$RELAY_IN2"
rc_assert_ok "group add $G --allow-source 10.77.0.1" $RC group add $G --allow-source 10.77.0.1
rc_assert_ok "sub add" $RC sub add $G 10.77.1.2:6000
rc_assert_eq strict "$($RC list --json | jq -r '.groups[0].reverse_path')" "strict by default"

# send NS COUNT: COUNT packets from 10.77.0.1 to the group out of NS.
send() { rc_in "$1" "$RC_BIN/rc_blast" --to $G --count "$2" --size 100 --rate 5000 --bind 10.77.0.1:4000 >/dev/null; }

topo_sink 1 10.77.1.2:6000 200 --size 100
send "$SPOOF" 100
send "$TOPO_SRC" 200
topo_sink_wait 1 6000
rc_assert_eq 0 $? "the subscriber got the genuine source's 200, in order, and nothing else"
rc_assert_eq 100 "$(topo_stat '.drops.reverse_path')" "the 100 spoofed packets counted as reverse_path"
rc_assert_eq 100 "$(topo_stat '.groups[0].source_denied')" "... and as refused by the group"
rc_assert_eq 200 "$(topo_stat '.groups[0].received.packets')" "the group took the genuine 200"

rc_assert_ok "group set --reverse-path loose" $RC group set $G --reverse-path loose
rc_assert_match "--reverse-path loose" "$($RC save)" "save keeps it"
topo_sink 1 10.77.1.2:6000 100 --size 100
send "$SPOOF" 100
topo_sink_wait 1 6000
rc_assert_eq 0 $? "loose: packets from the source on the other device are taken too"
rc_assert_eq 100 "$(topo_stat '.drops.reverse_path')" "... with no more reverse_path drops"
rc_summary
