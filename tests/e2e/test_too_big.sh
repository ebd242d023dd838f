#!/usr/bin/env bash
# san: yes
# A datagram too long for a subscriber's link: that copy is dropped as
# too_big, the others go out, and the source hears "fragmentation needed"
# (IPv4, DF set, as Linux sends by default) or "packet too big" (IPv6) with
# the link's MTU, as from a router, so its path MTU discovery learns it:
# the source's own route to the group then says mtu 600.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 2 || exit 1
rc_in "$TOPO_RELAY" ip link set dev "${TOPO_RELAY_DEV[2]}" mtu 1280
rc_in "${TOPO_RX[2]}" ip link set dev "${TOPO_RX_DEV[2]}" mtu 1280 2>/dev/null
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"

for fam in 4 6; do
	if [ "$fam" = 4 ]; then G=10.77.100.1:5000 A=10.77.0.0/24 D1=10.77.1.2:6000 D2=10.77.2.2:6000
		GA=10.77.100.1 SRC=10.77.0.1:4000
	else G='[fd77:100::1]:5000' A=fd77::/64 D1='[fd77:1::2]:6000' D2='[fd77:2::2]:6000'
		GA=fd77:100::1 SRC='[fd77::1]:4000'; fi
	rc_assert_ok "IPv$fam: group add" $RC group add "$G" --allow-source $A
	rc_assert_ok "IPv$fam: sub add $D1" $RC sub add "$G" "$D1"
	rc_assert_ok "IPv$fam: sub add $D2, behind a 1,280-byte link" $RC sub add "$G" "$D2"
	before=$(topo_stat '.drops.too_big')
	rc_bg "$TOPO_SRC" timeout 20 tcpdump -i "$(rc_name so)" -nn -c 1 -l \
		"$( [ $fam = 4 ] && echo 'icmp[0] == 3 and icmp[1] == 4' || echo 'icmp6 and ip6[40] == 2')" \
		>"$RC_TMP/icmp-$fam" 2>"$RC_TMP/icmp-$fam.err"
	CAP=$RC_BG_PID
	for ((t = 0; t < 100; t++)); do grep -q "listening on" "$RC_TMP/icmp-$fam.err" && break; sleep 0.1; done
	rc_assert_ok "IPv$fam: one datagram of 1,400 bytes" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" \
		--to "$G" --count 1 --size 1400 --bind "$SRC"
	rc_wait_pid "$CAP" 20 >/dev/null
	rc_assert_match "$( [ $fam = 4 ] && echo "need to frag \(mtu 1280\)" || echo "packet too big, mtu 1280")" \
		"$(cat "$RC_TMP/icmp-$fam")" "IPv$fam: the source heard the link's MTU from $GA"
	rc_assert_eq $((before + 1)) "$(topo_stat '.drops.too_big')" "IPv$fam: the copy counted as too_big"
	rc_assert_match "mtu 1280" "$(rc_in "$TOPO_SRC" ip -$fam route get "$GA")" \
		"IPv$fam: the source's route to the group learnt mtu 1280"
	rc_assert_ok "IPv$fam: group del" $RC group del "$G"
done
rc_summary
