#!/usr/bin/env bash
# One subscriber's device in trouble costs the XDP engine that device's
# copies only, counted as dropped, and the device recovers:
# - a device set down during a stream and up again: the other subscriber
#   gets every packet, the down one's dropped counter is exactly the
#   copies its receiver missed, and after `ip link set up` it gets packets
#   again; sent + dropped per copy = packets x subscribers;
# - a subscriber added during a stream on a device that fails the check (a
#   veth whose peer has no NAPI): the stream goes on for everyone else, the
#   device is named once in the log, and once its peer has GRO its
#   subscriber gets packets.
# Receivers share two cores with a spinning engine thread and a pacing
# sender; a datagram built from an XDP frame is charged a whole page in
# the socket buffer, hence --rcvbuf (as in test_engine.sh).
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
TOOL=$RC_ROOT/$BUILD/tests/test_engine
N=3
topo_build $N || exit 1
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN" --no-inject
topo_rx_gro
G=10.77.100.1:5000
rc_assert_ok "group add $G" $RC group add $G
rc_assert_ok "sub add 10.77.1.2:6000" $RC sub add $G 10.77.1.2:6000
rc_assert_ok "sub add 10.77.2.2:6000" $RC sub add $G 10.77.2.2:6000

per_copy_drops() {
	topo_stat '.drops | .no_route + .no_neighbour + .redirect_failed + .rewrite_failed +
		.family_mismatch + .forwarding_off'
}
group_stat() { topo_stat ".groups[] | select(.group==\"$G\") | $1"; }
sub_stat() { topo_stat ".groups[] | select(.group==\"$G\") | .subscribers[] | select(.dest==\"$1\") | $2"; }
# start_send COUNT: the stream in the background, PID in $SEND; returns
# once it is sending (its devices checked), at most 10 s later.
start_send() {
	local i
	: >"$RC_TMP/stderr"
	rc_in "$TOPO_RELAY" timeout 60 "$TOOL" send --pin "$TOPO_PIN" --group $G --count "$1" \
		--size 200 --rate 10000 >"$RC_TMP/summary" 2>"$RC_TMP/stderr" &
	SEND=$!
	for ((i = 0; i < 100; i++)); do
		grep -q '^sending' "$RC_TMP/stderr" && return 0
		sleep 0.1
	done
	return 1
}

# -- a device down during the stream, then up again -----------------------------
C=30000
tx0=$(group_stat .sent.packets) d0=$(per_copy_drops)
s0=$(sub_stat 10.77.2.2:6000 .packets) sd0=$(sub_stat 10.77.2.2:6000 .dropped)
for i in 1 2; do
	topo_sink $i 10.77.$i.2:6000 $C --size 200 --rcvbuf 33554432 --record "$RC_TMP/down-$i" --idle-ms 4000 \
		--timeout-ms 60000
done
start_send $C
sleep 0.5
rc_assert_ok "ip link set ${TOPO_RELAY_DEV[2]} down during the stream" \
	rc_in "$TOPO_RELAY" ip link set "${TOPO_RELAY_DEV[2]}" down
sleep 0.8
rc_assert_ok "and up again" rc_in "$TOPO_RELAY" ip link set "${TOPO_RELAY_DEV[2]}" up
wait $SEND
rc_assert_eq 0 $? "the stream went on to its end ($(tr '\n' ' ' <"$RC_TMP/stderr"))"
for i in 1 2; do topo_sink_wait $i 6000 >/dev/null; done
got1=$(wc -l <"$RC_TMP/down-1") got2=$(wc -l <"$RC_TMP/down-2")
echo "# summary: $(cat "$RC_TMP/summary"); receivers got $got1 and $got2"
rc_assert_eq $C "$got1" "the subscriber on the other device got every packet"
if [ "$got2" -gt 0 ] && [ "$got2" -lt $C ]; then
	rc_ok "the one on the device that went down missed some ($got2 of $C arrived)"
else
	rc_not_ok "the one on the device that went down missed some" "$got2 of $C arrived"
fi
rc_assert_eq $((C - 1)) "$(tail -n 1 "$RC_TMP/down-2")" \
	"and after ip link set up it got packets again, to the last one"
rc_assert_eq $((C - got2)) $(($(sub_stat 10.77.2.2:6000 .dropped) - sd0)) \
	"its dropped counter is exactly the copies it missed"
rc_assert_eq "$got2" $(($(sub_stat 10.77.2.2:6000 .packets) - s0)) \
	"its sent counter exactly the copies it got"
tx=$(($(group_stat .sent.packets) - tx0)) d=$(($(per_copy_drops) - d0))
rc_assert_eq $((C * 2)) $((tx + d)) "sent ($tx) + dropped per copy ($d) = $C packets x 2 subscribers"

# -- a subscriber added during the stream on a device that fails the check ------
tx0=$(group_stat .sent.packets) d0=$(per_copy_drops)
rc_in "${TOPO_RX[3]}" ethtool -K "${TOPO_RX_DEV[3]}" gro off >/dev/null
for i in 1 2; do
	topo_sink $i 10.77.$i.2:6000 $C --size 200 --rcvbuf 33554432 --record "$RC_TMP/bad-$i" --idle-ms 4000 \
		--timeout-ms 60000
done
topo_sink 3 10.77.3.2:6000 $C --size 200 --rcvbuf 33554432 --record "$RC_TMP/bad-3" --idle-ms 4000 --timeout-ms 60000
start_send $C
sleep 0.4
rc_assert_ok "sub add 10.77.3.2:6000 during the stream, on a veth whose peer has no NAPI" \
	$RC sub add $G 10.77.3.2:6000
sleep 0.8
rc_in "${TOPO_RX[3]}" ethtool -K "${TOPO_RX_DEV[3]}" gro on >/dev/null
wait $SEND
rc_assert_eq 0 $? "the stream went on to its end ($(tr '\n' ' ' <"$RC_TMP/stderr"))"
for i in 1 2 3; do topo_sink_wait $i 6000 >/dev/null; done
got1=$(wc -l <"$RC_TMP/bad-1") got2=$(wc -l <"$RC_TMP/bad-2") got3=$(wc -l <"$RC_TMP/bad-3")
echo "# summary: $(cat "$RC_TMP/summary"); receivers got $got1, $got2 and $got3"
rc_assert_eq "$C $C" "$got1 $got2" "the two others got every packet"
rc_assert_eq 1 "$(grep -c "its peer ${TOPO_RX_DEV[3]} has no NAPI" "$RC_TMP/stderr")" \
	"the device that failed the check is named once in the log"
if [ "$got3" -gt 0 ] && [ "$(tail -n 1 "$RC_TMP/bad-3")" = $((C - 1)) ]; then
	rc_ok "once its peer had GRO, the new subscriber got packets, to the last ($got3)"
else
	rc_not_ok "the new subscriber got packets once its peer had GRO" \
		"got $got3, last $(tail -n 1 "$RC_TMP/bad-3")"
fi
s3=$(sub_stat 10.77.3.2:6000 .packets) sd3=$(sub_stat 10.77.3.2:6000 .dropped)
rc_assert_eq "$got3" "$s3" "its sent counter is exactly what it got"
if [ "$sd3" -gt 0 ] && [ $((s3 + sd3)) -le $C ]; then
	rc_ok "the copies it lost before are counted as dropped ($sd3; $((s3 + sd3)) of $C taken after it came)"
else
	rc_not_ok "the copies it lost before are counted as dropped" "dropped $sd3, sent $s3"
fi
tx=$(($(group_stat .sent.packets) - tx0)) d=$(($(per_copy_drops) - d0))
rc_assert_eq $((C * 2 + s3 + sd3)) $((tx + d)) \
	"sent ($tx) + dropped per copy ($d) = $C x 2 + the newcomer's $((s3 + sd3))"

# -- a device deleted during the stream ---------------------------------------------
tx0=$(group_stat .sent.packets) d0=$(per_copy_drops)
for i in 1 2; do
	topo_sink $i 10.77.$i.2:6000 $C --size 200 --rcvbuf 33554432 --record "$RC_TMP/del-$i" --idle-ms 4000 \
		--timeout-ms 60000
done
start_send $C
sleep 0.5
rc_assert_ok "ip link del ${TOPO_RELAY_DEV[3]} during the stream" \
	rc_in "$TOPO_RELAY" ip link del "${TOPO_RELAY_DEV[3]}"
wait $SEND
rc_assert_eq 0 $? "the stream went on to its end ($(tr '\n' ' ' <"$RC_TMP/stderr"))"
for i in 1 2; do topo_sink_wait $i 6000 >/dev/null; done
got1=$(wc -l <"$RC_TMP/del-1") got2=$(wc -l <"$RC_TMP/del-2")
echo "# summary: $(cat "$RC_TMP/summary"); receivers got $got1 and $got2"
rc_assert_eq "$C $C" "$got1 $got2" "the two others got every packet"
tx=$(($(group_stat .sent.packets) - tx0)) d=$(($(per_copy_drops) - d0))
rc_assert_eq $((C * 3)) $((tx + d)) "sent ($tx) + dropped per copy ($d) = $C packets x 3 subscribers"
rc_assert_ok "unload" $RC unload
rc_summary
