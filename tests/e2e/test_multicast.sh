#!/usr/bin/env bash
# san: yes
# A multicast source as people have them: a plain UDP socket sending to a
# group with its default multicast TTL / hop limit of 1, through a relay that
# does not route (forwarding off). Every receiver gets every packet, exact,
# and the copies leave with TTL 64 (or the group's --ttl): a copy is a new
# unicast packet. IPv4 and IPv6; a multicast subscriber and --ttl on a
# unicast group are refused.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=3
COUNT=500
topo_build $N || exit 1
rc_in "$TOPO_SRC" ip route add 224.0.0.0/4 dev "$(rc_name so)"

rc_assert_eq 0 "$(rc_in "$TOPO_RELAY" sysctl -n net.ipv4.conf.all.forwarding)" "the relay does not forward IPv4"
rc_assert_eq 0 "$(rc_in "$TOPO_RELAY" sysctl -n net.ipv6.conf.all.forwarding)" "nor IPv6"
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"

# ttl_of I: TTL or hop limit of the first copy receiver I captures, started
# in the background before the stream; the value lands in $RC_TMP/ttl-I.
ttl_watch() {
	local t
	rm -f "$RC_TMP/ttl-$1.err"
	rc_bg "${TOPO_RX[$1]}" timeout 20 tcpdump -i "${TOPO_RX_DEV[$1]}" -nn -v -c 1 -l \
		"udp and dst port 6000" >"$RC_TMP/ttl-$1" 2>"$RC_TMP/ttl-$1.err"
	TTL_PID=$RC_BG_PID
	# tcpdump says "listening on" once its filter is in place.
	for ((t = 0; t < 100; t++)); do
		grep -q "listening on" "$RC_TMP/ttl-$1.err" 2>/dev/null && return
		sleep 0.1
	done
}
ttl_seen() {
	rc_wait_pid "$TTL_PID" 20 >/dev/null
	sed -n 's/.*\(ttl\|hlim\) \([0-9]*\).*/\2/p' "$RC_TMP/ttl-1" | head -n 1
}

# stream FAMILY GROUP SOURCE ALLOW EXPECT_TTL [--ttl N]
stream() {
	local fam=$1 group=$2 src=$3 allow=$4 want_ttl=$5
	shift 5
	rc_assert_ok "group add $group $*" $RC group add "$group" --allow-source "$allow" "$@"
	topo_subscribe "$fam" "$group" 6000
	topo_sinks "$fam" 6000 $COUNT --size 300 --from @RELAY:4000 --capture @RXDEV --require-full-csum
	ttl_watch 1
	# No --ttl: the socket's default for multicast, 1.
	rc_assert_ok "a default-TTL source sends $COUNT packets to $group" \
		rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to "$group" --count $COUNT --size 300 \
		--rate 20000 --bind "$src"
	topo_sinks_wait 6000 "(IPv$fam) got all $COUNT, exact, valid checksums, from the relay"
	rc_assert_eq "$want_ttl" "$(ttl_seen)" "IPv$fam copies leave with TTL $want_ttl"
	rc_assert_eq 0 "$(topo_stat '.drops.ttl_exceeded')" "nothing counted as ttl_exceeded"
	rc_assert_eq $((COUNT * N)) "$(topo_stat ".groups[] | select(.group==\"$group\") | .sent.packets")" \
		"$((COUNT * N)) copies counted"
	rc_assert_ok "group del $group" $RC group del "$group"
}

stream 4 239.77.1.1:5000 10.77.0.1:4000 10.77.0.0/24 64
stream 4 239.77.1.2:5000 10.77.0.1:4000 10.77.0.0/24 9 --ttl 9
stream 6 '[ff0e::77:1]:5000' '[fd77::1]:4000' fd77::/64 64

rc_assert_eq 9 "$($RC group add 239.77.1.3:5000 --ttl 9 >/dev/null && $RC list --json |
	jq '.groups[] | select(.group=="239.77.1.3:5000") | .ttl')" "list --json shows the group's TTL"
rc_assert_ok "group set --ttl 12" $RC group set 239.77.1.3:5000 --ttl 12
rc_assert_match "--ttl 12" "$($RC save)" "save keeps --ttl"
rc_assert_fail "--ttl on a unicast group is refused" $RC group add 10.77.100.9:5000 --ttl 9
rc_assert_match "multicast" "$($RC group add 10.77.100.9:5000 --ttl 9 2>&1)" "... saying it is for multicast groups"
rc_assert_eq null "$($RC group add 10.77.100.9:5000 >/dev/null && $RC list --json |
	jq '.groups[] | select(.group=="10.77.100.9:5000") | .ttl')" "a unicast group has no TTL of its own"
rc_assert_fail "a multicast subscriber is refused" $RC sub add 10.77.100.9:5000 239.77.9.9:6000
rc_assert_match "multicast" "$($RC sub add 10.77.100.9:5000 239.77.9.9:6000 2>&1)" "... saying why"
rc_summary
