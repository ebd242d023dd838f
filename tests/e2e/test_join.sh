#!/usr/bin/env bash
# san: yes
# End to end: the relay host joins its multicast groups (issue 11, "Join").
# A group add on a multicast address makes the relay a member (IGMPv3, MLDv2)
# on every attached device and on no other, held by the kernel after the CLI
# has exited; groups sharing the address share the membership; del, detach
# and unload leave; a device attached later joins; unload, load and apply
# rejoin. Behind a Linux bridge with IGMP snooping that does not flood
# unknown groups to the relay, a multicast source reaches the relay, and so
# every subscriber, only once the relay has joined; IPv6 through MLD snooping
# the same. The groups allow the source's subnet, not the source alone: an
# allow list of hosts only is joined source-specific, by a holder process
# (test_ssm.sh), and this suite is about the any-source memberships the
# kernel holds by itself.
#
#   source ns ──veth── bridge ns: rcbr (snooping, querier; the relay's port
#                       has mcast_flood off) ──veth── relay ns ──veth── rx 1, 2
#                                              relay ns ──veth── bridge ns (a
#                                              second relay device, unbridged)
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=2
COUNT=2000
G4=239.1.2.3
G6=ff0e::1:2:3

TOPO_SRC=$(rc_name s)
BRNS=$(rc_name b)
TOPO_RELAY=$(rc_name r)
BR=$(rc_name br)
SRC_DEV=$(rc_name so)		# source's end, and its bridge port
SRC_PORT=$(rc_name bs)
RELAY_DEV=$(rc_name ri)		# the relay's bridge-facing device
RELAY_PORT=$(rc_name bp)
RELAY_DEV2=$(rc_name rj)	# attached later by a second load
RELAY_DEV2_PEER=$(rc_name bj)
for ns in "$TOPO_SRC" "$BRNS" "$TOPO_RELAY"; do rc_ns_add "$ns" || exit 1; done
topo_snooping_bridge "$BRNS" "$BR" || exit 1
rc_veth "$SRC_DEV" "$TOPO_SRC" "$SRC_PORT" "$BRNS" || exit 1
rc_veth "$RELAY_DEV" "$TOPO_RELAY" "$RELAY_PORT" "$BRNS" || exit 1
rc_veth "$RELAY_DEV2" "$TOPO_RELAY" "$RELAY_DEV2_PEER" "$BRNS" || exit 1
rc_in "$BRNS" ip link set "$SRC_PORT" master "$BR"
rc_in "$BRNS" ip link set "$RELAY_PORT" master "$BR"
rc_in "$BRNS" bridge link set dev "$RELAY_PORT" mcast_flood off
rc_addr "$TOPO_SRC" "$SRC_DEV" 10.78.0.1/24
rc_addr "$TOPO_RELAY" "$RELAY_DEV" 10.78.0.254/24
rc_addr "$TOPO_RELAY" "$RELAY_DEV2" 10.78.9.1/24
rc_addr "$TOPO_SRC" "$SRC_DEV" fd78::1/64
rc_addr "$TOPO_RELAY" "$RELAY_DEV" fd78::fe/64
rc_in "$TOPO_SRC" ip route add 239.0.0.0/8 dev "$SRC_DEV"	# its multicast routes
rc_in "$TOPO_SRC" ip -6 route add ff0e::/16 dev "$SRC_DEV" table main
rc_in "$TOPO_SRC" ethtool -K "$SRC_DEV" tx off >/dev/null	# full checksums, as from a NIC
rc_in "$TOPO_RELAY" sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1
topo_receivers $N 10.78 fd78 || exit 1
topo_cli

# joined4 GROUP: the relay's devices that /proc/net/igmp lists GROUP on, sorted,
# space-separated. The file prints a group as the hex of its 32 bits in host
# (little-endian) order: 239.1.2.3 is 030201EF.
joined4() {
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	rc_in "$TOPO_RELAY" cat /proc/net/igmp | awk -v g="$(printf '%02X%02X%02X%02X' "$d" "$c" "$b" "$a")" \
		'/^[0-9]/ { dev = $2 } $1 == g { print dev }' | sort | xargs
}

# joined6 GROUP: the same from /proc/net/igmp6 (MLD), which prints the 128
# bits in hex, in network order.
joined6() {
	local hex
	hex=$(python3 -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.argv[1]).packed.hex())' "$1")
	rc_in "$TOPO_RELAY" cat /proc/net/igmp6 | awk -v g="$hex" '$3 == g { print $2 }' | sort | xargs
}

# mcast_send COUNT PORT [GROUP]: COUNT datagrams of rc_blast's payload (64
# bytes, sequence numbers from 0, seed 0) from the source to GROUP:PORT
# (default G4; IPv6 from fd78::1), at most 10,000 a second, with the
# socket's default multicast TTL / hop limit of 1, as most senders have it.
mcast_send() {
	local group=${3:-$G4} bind=10.78.0.1:4000
	case "$group" in *:*) group="[$group]" bind="[fd78::1]:4000" ;; esac
	rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to "$group:$2" --count "$1" --rate 10000 \
		--bind "$bind" >/dev/null
}

# echo_replies: sends 3 ICMP echo requests from the source to G4 (TTL 8) and
# prints how many echo replies came back within 2 s (ping is not installed
# everywhere; a raw socket is).
echo_replies() {
	rc_in "$TOPO_SRC" timeout 10 python3 - "$G4" <<'PY'
import socket, struct, sys, time
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 8)
s.bind(("10.78.0.1", 0))
for seq in range(3):
    hdr = struct.pack("!BBHHH", 8, 0, 0, 0x5243, seq) + b"replicast"
    s.sendto(hdr[:2] + struct.pack("!H", csum(hdr + b"\0")) + hdr[4:], (sys.argv[1], 0))
replies, end = 0, time.monotonic() + 2
while time.monotonic() < end:
    s.settimeout(max(end - time.monotonic(), 0.01))
    try:
        pkt = s.recv(2048)
    except socket.timeout:
        break
    if pkt[(pkt[0] & 15) * 4] == 0:
        replies += 1
print(replies)
PY
}

# relay_capture_start / relay_capture_count: UDP frames to G4 that reach the
# relay's bridge-facing device, as tcpdump sees them.
relay_capture_start() {
	rm -f "$RC_TMP/relay.pcap" "$RC_TMP/tcpdump.err"
	rc_bg "$TOPO_RELAY" timeout 60 tcpdump -i "$RELAY_DEV" --immediate-mode -n -U \
		-w "$RC_TMP/relay.pcap" "udp and dst host $G4" 2>"$RC_TMP/tcpdump.err"
	CAPTURE_PID=$RC_BG_PID
	for _ in $(seq 50); do
		grep -q "listening on" "$RC_TMP/tcpdump.err" 2>/dev/null && break
		sleep 0.1
	done
}
relay_capture_count() {
	sleep 0.5	# what is in flight arrives
	kill -INT "$CAPTURE_PID" 2>/dev/null
	rc_wait_pid "$CAPTURE_PID" 10 >/dev/null
	tcpdump -r "$RC_TMP/relay.pcap" -n 2>/dev/null | wc -l
}

# mdb_ports [GROUP]: the bridge ports that the bridge's group table lists for
# GROUP (default G4).
mdb_ports() {
	rc_in "$BRNS" bridge -j mdb show dev "$BR" |
		jq -r --arg g "${1:-$G4}" '[.[].mdb[]? | select(.grp == $g) | .port] | sort | join(" ")'
}

# wait_mdb EXPECTED [GROUP]: polls the group table until it lists EXPECTED
# (10 s at most).
wait_mdb() {
	for _ in $(seq 100); do
		[ "$(mdb_ports "${2:-$G4}")" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

rc_assert_ok "load --dev $RELAY_DEV" $RC load --dev "$RELAY_DEV"
INJ=$($RC list --json | jq -r .inject_dev)

# Before the relay joins, the bridge keeps the stream from it.
relay_capture_start
rc_in "$BRNS" ip -s -j link show "$SRC_PORT" >"$RC_TMP/before.json"
rc_assert_ok "the source sends 200 packets to $G4:5000" mcast_send 200 5000
rc_assert_ge 200 $(($(rc_in "$BRNS" ip -s -j link show "$SRC_PORT" | jq '.[0].stats64.rx.packets') -
	$(jq '.[0].stats64.rx.packets' "$RC_TMP/before.json"))) "the bridge got the source's packets"
rc_assert_eq 0 "$(relay_capture_count)" "before joining, no packet to $G4 reaches the relay"
rc_assert_eq "" "$(mdb_ports)" "before joining, the bridge's group table has no entry for $G4"

# group add joins on the attached device only, and the kernel holds it.
rc_assert_ok "group add $G4:5000" $RC group add $G4:5000 --allow-source 10.78.0.0/24
rc_assert_eq "$RELAY_DEV" "$(joined4 $G4)" "/proc/net/igmp lists $G4 on $RELAY_DEV only (not on $RELAY_DEV2, $INJ or ${INJ}-in), after the CLI exited"
rc_assert_match "autojoin" "$(rc_in "$TOPO_RELAY" ip addr show dev "$RELAY_DEV" to $G4/32)" \
	"the membership is an autojoin address of $RELAY_DEV"
rc_assert_match "$G4" "$(rc_in "$TOPO_RELAY" ip maddr show dev "$RELAY_DEV")" "ip maddr shows $G4 on $RELAY_DEV"
rc_assert_match "V3" "$(rc_in "$TOPO_RELAY" grep "$RELAY_DEV" /proc/net/igmp)" "the device speaks IGMPv3"
rc_assert_match "joined on: $RELAY_DEV\$" "$($RC list | grep -A3 "group $G4:5000" | grep "joined on")" "list: joined on $RELAY_DEV"
rc_assert_eq "$RELAY_DEV" "$($RC list --json | jq -r --arg g $G4:5000 '.groups[] | select(.group == $g) | [.joined_on[].ifname] | join(" ")')" \
	"list --json: joined_on [$RELAY_DEV]"
# Side effects: the group address is never a source, routes and pings stay.
rc_assert_match "src 10\\.78\\.1\\.1 " "$(rc_in "$TOPO_RELAY" ip route get 10.78.1.2)" "towards a receiver the relay's source stays 10.78.1.1"
rc_assert_match "src 10\\.78\\.0\\.254 " "$(rc_in "$TOPO_RELAY" ip route get 10.78.0.1)" "towards the source the relay's source stays 10.78.0.254"
out=$(rc_in "$TOPO_RELAY" ip route get $G4 oif "$RELAY_DEV")
rc_assert_match "dev $RELAY_DEV " "$out" "the relay's own packets to $G4 leave by $RELAY_DEV, not lo (local route removed)"
before=$(topo_stat .drops.not_udp)
rc_assert_eq 0 "$(echo_replies)" "3 pings to $G4 get no echo reply"
rc_assert_ge $((before + 3)) "$(topo_stat .drops.not_udp)" "the pings reached the relay (dropped there as not_udp)"

# The bridge now forwards the stream to the relay, and the relay fans it out.
rc_assert_ok "the bridge's group table lists $RELAY_PORT for $G4" wait_mdb "$RELAY_PORT"
for ((i = 1; i <= N; i++)); do
	rc_assert_ok "sub add 10.78.$i.2:6000" $RC sub add $G4:5000 10.78.$i.2:6000
	topo_sink $i 10.78.$i.2:6000 $COUNT --from 10.78.$i.1 --capture "${TOPO_RX_DEV[i]}"
done
topo_querier_wait
rc_assert_ok "the source sends $COUNT packets to $G4:5000 (TTL 1)" mcast_send $COUNT 5000
for ((i = 1; i <= N; i++)); do
	topo_sink_wait $i 6000
	rc_assert_eq 0 $? "receiver $i got all $COUNT through the snooping bridge, in order, exact bytes"
done
rc_assert_eq $COUNT "$(topo_stat ".groups[] | select(.group==\"$G4:5000\") | .received.packets")" "the group counted $COUNT received"

# Two groups on one address share the membership.
rc_assert_ok "group add $G4:5001" $RC group add $G4:5001 --allow-source 10.78.0.0/24
rc_assert_ok "group del $G4:5000" $RC group del $G4:5000
rc_assert_eq "$RELAY_DEV" "$(joined4 $G4)" "still joined while $G4:5001 remains"
rc_assert_ok "group del $G4:5001" $RC group del $G4:5001
rc_assert_eq "" "$(joined4 $G4)" "the last group on $G4 gone: left"
rc_assert_eq "" "$(rc_in "$TOPO_RELAY" ip addr show to $G4/32)" "no address left for $G4"
rc_assert_ok "the bridge drops the relay's port for $G4 after the leave" wait_mdb ""

# An address the operator made a member of stays one.
rc_in "$TOPO_RELAY" ip addr add 239.1.2.4/32 dev "$RELAY_DEV" autojoin
rc_assert_ok "group add 239.1.2.4:5000" $RC group add 239.1.2.4:5000
rc_assert_ok "group del 239.1.2.4:5000" $RC group del 239.1.2.4:5000
rc_assert_eq "$RELAY_DEV" "$(joined4 239.1.2.4)" "a membership the operator added is not replicast's to leave"
rc_in "$TOPO_RELAY" ip addr del 239.1.2.4/32 dev "$RELAY_DEV"
# The same address without autojoin is no membership: the add says so.
rc_in "$TOPO_RELAY" ip addr add 239.1.2.5/32 dev "$RELAY_DEV"
out=$($RC group add 239.1.2.5:5000 --allow-source 10.78.0.0/24 2>&1)
rc_assert_eq 0 $? "group add 239.1.2.5:5000 succeeds"
rc_assert_match "warning: not joining 239\.1\.2\.5 on $RELAY_DEV: the device has that address without autojoin" \
	"$out" "and warns that an address without autojoin is in the way"
rc_assert_eq "" "$(joined4 239.1.2.5)" "not joined there"
rc_assert_ok "group del 239.1.2.5:5000" $RC group del 239.1.2.5:5000
rc_assert_match "239\.1\.2\.5" "$(rc_in "$TOPO_RELAY" ip addr show dev "$RELAY_DEV")" "the operator's address stays"
rc_in "$TOPO_RELAY" ip addr del 239.1.2.5/32 dev "$RELAY_DEV"

# A device attached later joins the groups there are.
rc_assert_ok "group add $G4:5000" $RC group add $G4:5000 --allow-source 10.78.0.0/24
# Sources are denied by default: a group that allows none yet takes no
# packet, so the host joins it nowhere until its allow list has an entry.
rc_assert_ok "group add [$G6]:5000" $RC group add "[$G6]:5000"
rc_assert_eq "" "$(joined6 $G6)" "a group that allows no source yet is joined nowhere"
rc_assert_ok "group allow [$G6]:5000 fd78::/64" $RC group allow "[$G6]:5000" fd78::/64
rc_assert_eq "$RELAY_DEV" "$(joined6 $G6)" "/proc/net/igmp6 lists $G6 on $RELAY_DEV only, once a prefix is allowed"
# MLD: the bridge learns the relay's port and the stream comes through.
rc_assert_ok "the bridge's group table lists $RELAY_PORT for $G6" wait_mdb "$RELAY_PORT" "$G6"
for ((i = 1; i <= N; i++)); do
	rc_assert_ok "sub add [fd78:$i::2]:6001" $RC sub add "[$G6]:5000" "[fd78:$i::2]:6001"
	topo_sink $i "[fd78:$i::2]:6001" $COUNT --from fd78:$i::1 --capture "${TOPO_RX_DEV[i]}"
done
rc_assert_ok "the source sends $COUNT packets to [$G6]:5000 (hop limit 1)" mcast_send $COUNT 5000 "$G6"
for ((i = 1; i <= N; i++)); do
	topo_sink_wait $i 6001
	rc_assert_eq 0 $? "IPv6 receiver $i got all $COUNT through the MLD-snooping bridge"
done
rc_assert_ok "load --dev $RELAY_DEV2" $RC load --dev "$RELAY_DEV2"
rc_assert_eq "$(printf '%s\n' "$RELAY_DEV" "$RELAY_DEV2" | sort | xargs)" "$(joined4 $G4)" "$G4 joined on $RELAY_DEV2 too"
rc_assert_eq "$(printf '%s\n' "$RELAY_DEV" "$RELAY_DEV2" | sort | xargs)" "$(joined6 $G6)" "$G6 joined on $RELAY_DEV2 too (MLD)"
rc_assert_eq "$(printf '%s\n' "$RELAY_DEV" "$RELAY_DEV2" | sort | xargs)" \
	"$($RC list --json | jq -r --arg g "[$G6]:5000" '.groups[] | select(.group == $g) | [.joined_on[].ifname] | sort | join(" ")')" \
	"list --json: [$G6]:5000 joined on both"
rc_assert_match "multicast $G6 .*dev $RELAY_DEV " "$(rc_in "$TOPO_RELAY" ip -6 route get $G6 oif "$RELAY_DEV")" \
	"the relay's own packets to $G6 leave by $RELAY_DEV, not lo"
rc_assert_eq "null" "$($RC group add 10.78.100.1:5000 && $RC list --json | jq -c '.groups[] | select(.group == "10.78.100.1:5000") | .joined_on')" \
	"a unicast group joins nothing (joined_on null)"

# A device that goes down and up keeps its memberships (IPv6 only with
# keep_addr_on_down, see README), and loading again drops the local route
# that the kernel put back.
rc_in "$TOPO_RELAY" sysctl -qw "net.ipv6.conf.$RELAY_DEV2.keep_addr_on_down=1"
rc_in "$TOPO_RELAY" ip link set "$RELAY_DEV2" down
rc_in "$TOPO_RELAY" ip link set "$RELAY_DEV2" up
rc_assert_match "dev lo " "$(rc_in "$TOPO_RELAY" ip route get $G4 oif "$RELAY_DEV2")" \
	"after a link bounce the kernel's local route for $G4 is back"
rc_assert_ok "load --dev $RELAY_DEV2 again" $RC load --dev "$RELAY_DEV2"
rc_assert_match "dev $RELAY_DEV2 " "$(rc_in "$TOPO_RELAY" ip route get $G4 oif "$RELAY_DEV2")" \
	"load again: packets to $G4 leave by $RELAY_DEV2 again"
rc_assert_eq "$(printf '%s\n' "$RELAY_DEV" "$RELAY_DEV2" | sort | xargs)" "$(joined4 $G4)" "$G4 still joined on both after the bounce"
rc_assert_eq "$(printf '%s\n' "$RELAY_DEV" "$RELAY_DEV2" | sort | xargs)" "$(joined6 $G6)" "$G6 still joined on both after the bounce"

# Detach (apply of a file without the device) leaves there.
rc_assert_ok "save" $RC save -o "$RC_TMP/saved.conf"
sed "s/ --dev $RELAY_DEV2//" "$RC_TMP/saved.conf" >"$RC_TMP/one-dev.conf"
rc_assert_ok "apply without --dev $RELAY_DEV2 (detaches it)" $RC apply "$RC_TMP/one-dev.conf"
rc_assert_eq "$RELAY_DEV" "$(joined4 $G4)" "detached $RELAY_DEV2 left $G4"
rc_assert_eq "$RELAY_DEV" "$(joined6 $G6)" "detached $RELAY_DEV2 left $G6"

# Unload leaves; load + apply (a reboot's recipe) joins again.
rc_assert_ok "unload" $RC unload
rc_assert_eq "" "$(joined4 $G4)" "unload left $G4"
rc_assert_eq "" "$(joined6 $G6)" "unload left $G6"
rc_assert_eq "" "$(rc_in "$TOPO_RELAY" ip addr show | grep -E "$G4|$G6")" "unload left no group address on any device"
rc_assert_ok "apply the saved file" $RC apply "$RC_TMP/saved.conf"
rc_assert_eq "$(printf '%s\n' "$RELAY_DEV" "$RELAY_DEV2" | sort | xargs)" "$(joined4 $G4)" "apply rejoined $G4 on both devices"
rc_assert_eq "$(printf '%s\n' "$RELAY_DEV" "$RELAY_DEV2" | sort | xargs)" "$(joined6 $G6)" "apply rejoined $G6 on both devices"
rc_assert_ok "unload" $RC unload
rc_assert_eq "" "$(joined4 $G4)$(joined6 $G6)" "unload left both again"
rc_summary
