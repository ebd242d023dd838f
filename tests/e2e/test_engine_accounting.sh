#!/usr/bin/env bash
# san: yes
# The XDP engine's accounting: for every packet it takes, each subscriber's
# copy is either sent or dropped with a reason, and nothing twice:
#   group sent.packets + per-copy drops (by reason) = packets x subscribers
# after a mixed run (two subscribers that get everything, one with no
# neighbour, one of the other family, one whose peer loses NAPI during the
# stream, so the kernel refuses its copies after the redirect); a refused
# copy leaves "sent" for "dropped" at its group and its subscriber, so the
# receivers' counts are the counters', exactly. Two engines in one process
# count each refusal once.
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
COUNT=20000
rc_assert_ok "group add $G" $RC group add $G
rc_assert_ok "sub add 10.77.1.2:6000" $RC sub add $G 10.77.1.2:6000
rc_assert_ok "sub add 10.77.2.2:6000" $RC sub add $G 10.77.2.2:6000
rc_assert_ok "sub add 10.77.3.2:6000" $RC sub add $G 10.77.3.2:6000
# No host answers at 10.77.3.99: its copies have no neighbour.
$RC sub add $G 10.77.3.99:6000 >"$RC_TMP/out" 2>&1
echo "# sub add 10.77.3.99:6000 (no such host): exit $?: $(cat "$RC_TMP/out")"
# The CLI refuses a subscriber of the other family; one written into the
# group's subscriber array by hand (README's bpftool recipe) gets none of
# the group's copies, each counted as family_mismatch.
rc_assert_fail "the CLI refuses [fd77:2::2]:6000 in an IPv4 group" $RC sub add $G "[fd77:2::2]:6000"
le() { local i; for ((i = 0; i < $1; i++)); do printf '%d ' $(($2 >> 8 * i & 255)); done; }
MAP=$TOPO_PIN/subscribers/10_77_100_1:5000
IFINDEX=$(rc_in "$TOPO_RELAY" ip -j link show "${TOPO_RELAY_DEV[2]}" | jq '.[0].ifindex')
SLOT=$(bpftool -j map dump pinned "$MAP" | jq '[.[] | select(.formatted.value.state != 0)] | length')
# struct rc_subscriber: state ifindex family(10) flags port macs, addr fd77:2::2, source, gateway
exec 9<"$TOPO_PIN"
flock 9
rc_assert_ok "an IPv6 subscriber written into slot $SLOT of the IPv4 group by bpftool" \
	bpftool map update pinned "$MAP" key $(le 4 "$SLOT") value 1 0 0 0 $(le 4 "$IFINDEX") 10 0 \
	$(le 2 6000) $(le 12 0) 253 119 0 2 $(le 11 0) 2 $(le 16 0) $(le 16 0)
flock -u 9
exec 9<&-
SUBS=$($RC stats --json | jq "[.groups[] | select(.group==\"$G\") | .subscribers[]] | length")
echo "# $SUBS subscribers"
rc_assert_ge 4 "$SUBS" "the group has at least the three receivers and the one without a neighbour"

# per_copy_drops: the sum of the drop reasons counted per copy.
per_copy_drops() {
	topo_stat '.drops | .no_route + .no_neighbour + .redirect_failed + .rewrite_failed +
		.family_mismatch + .forwarding_off'
}
group_stat() { topo_stat ".groups[] | select(.group==\"$G\") | $1"; }
sub_stat() { topo_stat ".groups[] | select(.group==\"$G\") | .subscribers[] | select(.dest==\"$1\") | $2"; }

# mixed_run SENDERS: COUNT packets queued to each of SENDERS engines in one
# process; receiver 3's peer loses NAPI for half a second during it.
mixed_run() {
	local k=$1 P=$(($1 * COUNT)) rx0 tx0 d0 s30 sd30 got1 got2 got3 rx tx d i SEND
	rx0=$(group_stat .received.packets) tx0=$(group_stat .sent.packets) d0=$(per_copy_drops)
	s30=$(sub_stat 10.77.3.2:6000 .packets) sd30=$(sub_stat 10.77.3.2:6000 .dropped)
	for ((i = 1; i <= N; i++)); do
		topo_sink $i 10.77.$i.2:6000 $P --size 200 --rcvbuf 33554432 --record "$RC_TMP/rec-$i" --idle-ms 3000 \
			--timeout-ms 60000
	done
	: >"$RC_TMP/stderr"
	rc_in "$TOPO_RELAY" timeout 60 "$TOOL" send --pin "$TOPO_PIN" --group $G --count $COUNT \
		--size 200 --rate 10000 --senders "$k" >"$RC_TMP/summary" 2>"$RC_TMP/stderr" &
	SEND=$!
	# Once it sends (its engines loaded, its devices checked), 10 s at most.
	for ((i = 0; i < 100; i++)); do
		grep -q '^sending' "$RC_TMP/stderr" && break
		sleep 0.1
	done
	sleep 0.5
	rc_in "${TOPO_RX[3]}" ethtool -K "${TOPO_RX_DEV[3]}" gro off >/dev/null
	sleep 0.5
	rc_in "${TOPO_RX[3]}" ethtool -K "${TOPO_RX_DEV[3]}" gro on >/dev/null
	wait $SEND
	rc_assert_eq 0 $? "$k engine(s): the stream went on ($(tr '\n' ' ' <"$RC_TMP/stderr"))"
	for ((i = 1; i <= N; i++)); do topo_sink_wait $i 6000 >/dev/null; done
	got1=$(wc -l <"$RC_TMP/rec-1") got2=$(wc -l <"$RC_TMP/rec-2") got3=$(wc -l <"$RC_TMP/rec-3")
	echo "# summary: $(cat "$RC_TMP/summary"); receivers got $got1 $got2 $got3"
	rc_assert_eq "$P $P" "$got1 $got2" "$k engine(s): the two fine subscribers got every copy"
	if [ "$got3" -gt 0 ] && [ "$got3" -lt $P ]; then
		rc_ok "$k engine(s): the third lost some while its peer had no NAPI ($got3 of $P arrived)"
	else
		rc_not_ok "$k engine(s): the third lost some while its peer had no NAPI" "$got3 of $P arrived"
	fi
	rx=$(($(group_stat .received.packets) - rx0)) tx=$(($(group_stat .sent.packets) - tx0))
	d=$(($(per_copy_drops) - d0))
	rc_assert_eq $P "$rx" "$k engine(s): the group took $P packets"
	rc_assert_eq $((P * SUBS)) $((tx + d)) \
		"$k engine(s): sent ($tx) + dropped per copy ($d) = $P packets x $SUBS subscribers"
	rc_assert_eq "$got3" $(($(sub_stat 10.77.3.2:6000 .packets) - s30)) \
		"$k engine(s): the third's sent counter is what its receiver got"
	rc_assert_eq $((P - got3)) $(($(sub_stat 10.77.3.2:6000 .dropped) - sd30)) \
		"$k engine(s): and its dropped counter is what its receiver missed"
	rc_assert_eq "$tx $d" "$(jq -r '"\(.copies) \(.copies_dropped)"' "$RC_TMP/summary")" \
		"$k engine(s): the sender's copies and copies_dropped say the same"
}
mixed_run 1
mixed_run 2
rc_assert_ok "unload" $RC unload
rc_summary
