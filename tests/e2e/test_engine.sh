#!/usr/bin/env bash
# san: yes
# The XDP fan-out engine (replicast_sender_open with REPLICAST_ENGINE_XDP),
# driven by tests/unit/test_engine.c through the public API:
# - 16 subscribers, real UDP sockets in 16 namespaces, get 50,000 packets
#   each, in order, byte-exact, every frame's IP and UDP checksum valid (a
#   capture at each receiver), IPv4 and IPv6;
# - the sender's system calls while it sends, traced by strace, do not grow
#   with the packet count: none per packet or per batch;
# - a subscriber removed during a stream gets nothing after its removal and
#   the others lose nothing; a whole-set swap during a stream sends every
#   packet to the old set or the new one, never to a mix;
# - two threads; a veth whose peer has no NAPI is refused by name, or its
#   GRO switched on when asked; a device that loses NAPI during a stream
#   shows as dropped copies, not as silence; idle threads leave the kernel.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=16
COUNT=50000
# Under the sanitizers the same checks on a shorter stream: what they
# watch is the library's code, which 10,000 packets run through as well.
[ "$BUILD" = build-san ] && COUNT=10000
TOOL=$RC_ROOT/$BUILD/tests/test_engine
# The receivers' share of two cores (16 sockets, 16 captures) takes about
# this many packets a second to each subscriber; the sender paces itself
# to it by polling the clock (no system call). A datagram built from an
# XDP frame is charged a whole page in the socket buffer, hence --rcvbuf.
RATE=8000
SINK_BUF=33554432

topo_build $N || exit 1
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN" --no-inject
topo_rx_gro

# send ARGS...: test_engine send in the relay namespace; its JSON summary
# in $RC_TMP/summary, its stderr in $RC_TMP/stderr.
send() {
	rc_in "$TOPO_RELAY" timeout 120 "$TOOL" send --pin "$TOPO_PIN" "$@" \
		>"$RC_TMP/summary" 2>"$RC_TMP/stderr"
}
# sinks_wait PORT FIRST LAST: how many of those receivers failed, in
# $FAILS. Not in $(...): a subshell cannot reap the receivers, and one that
# exits meanwhile would look alive (a zombie) until the wait times out.
sinks_wait() {
	local i
	FAILS=0
	for ((i = $2; i <= $3; i++)); do
		topo_sink_wait "$i" "$1" || FAILS=$((FAILS + 1))
	done
}

# -- 16 subscribers x 50,000 packets, IPv4 and IPv6 ---------------------------
G4=10.77.100.1:5000
G6=[fd77:100::1]:5000
rc_assert_ok "group add $G4" $RC group add $G4
rc_assert_ok "group add $G6" $RC group add $G6
topo_subscribe 4 $G4 6000
topo_subscribe 6 $G6 6001
for fam in 4 6; do
	if [ $fam = 4 ]; then G=$G4 PORT=6000; else G=$G6 PORT=6001; fi
	topo_sinks $fam $PORT $COUNT --size 1200 --from @RELAY --rcvbuf $SINK_BUF \
		--capture @RXDEV --require-full-csum --timeout-ms 90000
	send --group "$G" --count $COUNT --size 1200 --rate $RATE
	rc_assert_eq 0 $? "IPv$fam: $COUNT packets queued and flushed"
	sinks_wait $PORT 1 $N
	rc_assert_eq 0 "$FAILS" \
		"IPv$fam: all $N subscribers got all $COUNT, in order, byte-exact, every checksum valid"
	rc_assert_eq "$COUNT $((COUNT * N)) 0" "$(jq -r '"\(.sent) \(.copies) \(.copies_dropped)"' "$RC_TMP/summary")" \
		"IPv$fam: the sender says $COUNT sent as $((COUNT * N)) copies, none dropped"
	rc_assert_eq $((COUNT * N)) "$(topo_stat ".groups[] | select(.group==\"$G\") | .sent.packets")" \
		"IPv$fam: the group's counter says $((COUNT * N)) copies"
done

# -- interleaved groups ------------------------------------------------------------
# Three groups of 5, 5 and 6 receivers, packets round-robin over them, so
# that every window is one packet and a new group's: each receiver gets its
# own group's stream, all of it, in order, byte-exact (slot 0 of every
# group is a different receiver on a different device, so a copy sent by
# another group's snapshot, thread share or next hop would show). One
# thread, then two.
GA=10.77.101.1:5000 GB=10.77.102.1:5000 GC=10.77.103.1:5000
for g in $GA $GB $GC; do rc_assert_ok "group add $g" $RC group add $g; done
for ((i = 1; i <= N; i++)); do
	if ((i <= 5)); then g=$GA; elif ((i <= 10)); then g=$GB; else g=$GC; fi
	$RC sub add $g 10.77.$i.2:6002 >/dev/null || rc_not_ok "sub add $g 10.77.$i.2:6002"
done
for threads in 1 2; do
	topo_sinks 4 6002 3000 --size 600 --from @RELAY --rcvbuf $SINK_BUF --capture @RXDEV \
		--require-full-csum
	send --group $GA,$GB,$GC --count 3000 --size 600 --rate 20000 --threads $threads
	rc_assert_eq 0 $? "$threads thread(s): 3 x 3,000 packets round-robin over 3 groups, queued and flushed"
	sinks_wait 6002 1 $N
	rc_assert_eq 0 "$FAILS" "$threads thread(s): each of the $N receivers got its own group's 3,000, in order, byte-exact"
	rc_assert_eq "9000 48000 0" "$(jq -r '"\(.sent) \(.copies) \(.copies_dropped)"' "$RC_TMP/summary")" \
		"$threads thread(s): 9,000 packets sent as 48,000 copies (5, 5 and 6 a packet)"
done
for g in $GA $GB $GC; do $RC group del $g >/dev/null; done

# -- system calls: none per packet or per batch --------------------------------
# With idle_ms -1 there is no idle supervisor: what the process does between
# "sending" and "sent" on stderr is the library's waits, nothing else.
# The ring holds every packet and the pace is one the engine keeps on a
# core that 16 receivers and the pacing loop share, so no wait is needed.
traced_send() { # COUNT
	rc_in "$TOPO_RELAY" env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		strace -f -qq -o "$RC_TMP/trace" "$TOOL" send --pin "$TOPO_PIN" --group $G4 \
		--count "$1" --size 200 --rate 4000 --ring 32768 --idle-ms -1 \
		>"$RC_TMP/summary" 2>/dev/null || return 1
	awk '/write\(2, "sending/ { on = 1; next } /write\(2, "sent/ { on = 0 }
	     on && !/ (---|\+\+\+) / && !/resumed>/' "$RC_TMP/trace" >"$RC_TMP/phase"
	echo "$(wc -l <"$RC_TMP/phase") $(sed -E 's/^[0-9]+ +//; s/\(.*//' "$RC_TMP/phase" | sort | uniq -c | xargs)"
}
for ((i = 1; i <= N; i++)); do topo_sink $i 10.77.$i.2:6000 4000 --size 200 --rcvbuf $SINK_BUF; done
small=$(traced_send 4000)
sinks_wait 6000 1 $N
rc_assert_eq 0 "$FAILS" "4,000 packets under strace: all $N subscribers got them"
for ((i = 1; i <= N; i++)); do topo_sink $i 10.77.$i.2:6000 24000 --size 200 --rcvbuf $SINK_BUF; done
large=$(traced_send 24000)
sinks_wait 6000 1 $N
rc_assert_eq 0 "$FAILS" "24,000 packets under strace: all $N subscribers got them"
echo "# system calls while sending: 4,000 packets: $small; 24,000 packets: $large"
s=${small%% *} l=${large%% *}
# None per packet or per batch: what calls there are are the waits at the
# end for the engine to finish, which vary with the machine's load (1 to 44
# seen for either count, under strace and the sanitizers), not with the
# packets; one per 64-packet batch would be 375 for 24,000.
if [ -n "$s" ] && [ -n "$l" ] && [ "$s" -le 120 ] && [ "$l" -le 120 ]; then
	rc_ok "system calls do not grow with the packets: $s for 4,000, $l for 24,000 (x $N subscribers)"
else
	rc_not_ok "system calls do not grow with the packets" "$s for 4,000, $l for 24,000"
fi

# -- a subscriber removed mid-stream -------------------------------------------
R=40000
for ((i = 1; i <= 4; i++)); do
	topo_sink $i 10.77.$i.2:6000 $R --size 300 --rcvbuf $SINK_BUF --record "$RC_TMP/rec-$i" \
		--timeout-ms 30000 --idle-ms 3000
done
for ((i = 5; i <= N; i++)); do $RC sub del $G4 10.77.$i.2:6000 >/dev/null; done
rc_in "$TOPO_RELAY" timeout 60 "$TOOL" send --pin "$TOPO_PIN" --group $G4 --count $R --size 300 \
	--rate 10000 >"$RC_TMP/summary" 2>/dev/null &
SEND=$!
sleep 1.5
rc_assert_ok "sub del 10.77.4.2:6000 during the stream" $RC sub del $G4 10.77.4.2:6000
after=$(topo_stat ".groups[] | select(.group==\"$G4\") | .received.packets")
wait $SEND
rc_assert_eq 0 $? "the stream went on"
sinks_wait 6000 1 3
rc_assert_eq 0 "$FAILS" "the three that stayed got all $R packets, in order"
topo_sink_wait 4 6000 >/dev/null
got=$(wc -l <"$RC_TMP/rec-4") last=$(tail -n 1 "$RC_TMP/rec-4")
rc_assert_eq "$((got - 1))" "$last" "the removed one got packets 0..$last, none missing, up to its removal"
if [ "$got" -gt 0 ] && [ "$last" -lt "$after" ] && [ "$got" -lt $R ]; then
	rc_ok "and nothing after: its last packet ($last) was taken before the removal returned ($after taken then)"
else
	rc_not_ok "nothing after the removal" "got $got, last $last, $after taken when the removal returned"
fi

# -- a whole-set swap mid-stream: every packet to the old set or the new -------
# Set A = receivers 1, 2; set B = receivers 3, 4 (replicast apply switches
# the group's set whole, replicast_group_set_subs).
$RC sub add $G4 10.77.4.2:6000 >/dev/null
$RC sub del $G4 10.77.3.2:6000 >/dev/null
$RC sub del $G4 10.77.4.2:6000 >/dev/null
$RC save >"$RC_TMP/a.conf"
sed -e "/10\.77\.1\.2:6000/ { s/10\.77\.1\.2/10.77.3.2/; s/${TOPO_RELAY_DEV[1]}/${TOPO_RELAY_DEV[3]}/; }" \
    -e "/10\.77\.2\.2:6000/ { s/10\.77\.2\.2/10.77.4.2/; s/${TOPO_RELAY_DEV[2]}/${TOPO_RELAY_DEV[4]}/; }" \
    "$RC_TMP/a.conf" >"$RC_TMP/b.conf"
rc_assert_match "10.77.3.2:6000" "$(cat "$RC_TMP/b.conf")" "the new set's file names receiver 3"
S=40000
for ((i = 1; i <= 4; i++)); do
	topo_sink $i 10.77.$i.2:6000 $S --size 300 --rcvbuf $SINK_BUF --record "$RC_TMP/swap-$i" \
		--timeout-ms 30000 --idle-ms 3000
done
rc_in "$TOPO_RELAY" timeout 60 "$TOOL" send --pin "$TOPO_PIN" --group $G4 --count $S --size 300 \
	--rate 10000 >"$RC_TMP/summary" 2>/dev/null &
SEND=$!
sleep 1.5
rc_assert_ok "apply: the group's set switches from {1,2} to {3,4} during the stream" $RC apply "$RC_TMP/b.conf"
wait $SEND
for ((i = 1; i <= 4; i++)); do topo_sink_wait $i 6000 >/dev/null; done
# Each packet must be in both files of one set and in neither of the other.
mixed=$(awk '{ seen[$1] = seen[$1] FILENAME " " } END {
	n = 0
	for (s in seen) {
		a = (index(seen[s], "swap-1") > 0) + (index(seen[s], "swap-2") > 0)
		b = (index(seen[s], "swap-3") > 0) + (index(seen[s], "swap-4") > 0)
		if (!((a == 2 && b == 0) || (a == 0 && b == 2))) n++
	}
	print n " " length(seen) }' "$RC_TMP"/swap-[1-4])
rc_assert_eq "0 $S" "$mixed" "every one of the $S packets went to all of {1,2} or all of {3,4}, never a mix"
old=$(wc -l <"$RC_TMP/swap-1")
if [ "$old" -gt 0 ] && [ "$old" -lt $S ] && [ "$(tail -n 1 "$RC_TMP/swap-1")" = $((old - 1)) ] &&
	[ "$(head -n 1 "$RC_TMP/swap-3")" = "$old" ]; then
	rc_ok "the old set got packets 0..$((old - 1)), the new set $old..$((S - 1))"
else
	rc_not_ok "one switch point" "old set got $old, new set starts at $(head -n 1 "$RC_TMP/swap-3")"
fi

# -- two engine threads ---------------------------------------------------------
rc_assert_ok "back to four subscribers" $RC sub add $G4 10.77.1.2:6000
$RC sub add $G4 10.77.2.2:6000 >/dev/null
for ((i = 1; i <= 4; i++)); do topo_sink $i 10.77.$i.2:6000 20000 --size 500 --rcvbuf $SINK_BUF; done
send --group $G4 --count 20000 --size 500 --rate 20000 --threads 2
rc_assert_eq 0 $? "two threads: 20,000 packets queued and flushed"
sinks_wait 6000 1 4
rc_assert_eq 0 "$FAILS" "two threads: 4 subscribers got all 20,000, in order"
rc_assert_eq 2 "$(jq .threads "$RC_TMP/summary")" "and two threads sent them"
# 20,000 packets a second to 4 keep thread 0 mostly idle: it sends alone,
# and thread 1 sleeps.
rc_assert_ge 1 "$(jq .engine_solos "$RC_TMP/summary")" "two threads at 20,000/s: thread 0 went alone"
rc_assert_ge 1 "$(jq .engine_naps "$RC_TMP/summary")" "and thread 1 slept meanwhile"
# As fast as the sender goes, thread 0 alone is busy: it has thread 1 back.
# Every change between alone and shared keeps each subscriber's packets in
# order and loses none; the smallest ring (64 slots) wraps within a change,
# so a slot freed too early would show as a wrong payload.
for ((i = 1; i <= 4; i++)); do topo_sink $i 10.77.$i.2:6000 60000 --size 500 --rcvbuf $SINK_BUF; done
send --group $G4 --count 60000 --size 500 --threads 2 --ring 64
rc_assert_eq 0 $? "two threads, unpaced: 60,000 packets queued and flushed"
sinks_wait 6000 1 4
rc_assert_eq 0 "$FAILS" "two threads, unpaced: 4 subscribers got all 60,000, in order"
rc_assert_ge 1 "$(jq .engine_splits "$RC_TMP/summary")" "thread 0, busy alone, shared again"
rc_assert_eq 240000 "$(jq .copies "$RC_TMP/summary")" "240,000 copies sent"

# -- NAPI on veth peers -----------------------------------------------------------
rc_in "${TOPO_RX[1]}" ethtool -K "${TOPO_RX_DEV[1]}" gro off >/dev/null
send --group $G4 --count 10 --size 100
rc_assert_eq 1 $? "a veth whose peer has neither XDP nor GRO is refused"
rc_assert_match "veth ${TOPO_RELAY_DEV[1]}: its peer ${TOPO_RX_DEV[1]} has no NAPI" \
	"$(cat "$RC_TMP/stderr")" "naming the device, its peer and what is missing"
for ((i = 1; i <= 4; i++)); do topo_sink $i 10.77.$i.2:6000 2000 --size 100; done
send --group $G4 --count 2000 --size 100 --rate 20000 --peer-gro
rc_assert_eq 0 $? "with peer_gro the sender switches the peer's GRO on and sends"
sinks_wait 6000 1 4
rc_assert_eq 0 "$FAILS" "and all 4 get every packet"
rc_assert_match "generic-receive-offload: on" \
	"$(rc_in "${TOPO_RX[1]}" ethtool -k "${TOPO_RX_DEV[1]}")" "GRO is on at the peer"

# A peer that loses NAPI during the stream: the frames the veth refuses are
# counted (tracepoints), not lost in silence.
before=$(topo_stat '.drops.redirect_failed')
rc_in "$TOPO_RELAY" timeout 60 "$TOOL" send --pin "$TOPO_PIN" --group $G4 --count 20000 --size 100 \
	--rate 10000 >"$RC_TMP/summary" 2>/dev/null &
SEND=$!
sleep 0.7
rc_in "${TOPO_RX[1]}" ethtool -K "${TOPO_RX_DEV[1]}" gro off >/dev/null
wait $SEND
dropped=$(jq .copies_dropped "$RC_TMP/summary")
rc_assert_ge 1 "$dropped" "copies refused after GRO went off show in copies_dropped ($dropped)"
rc_assert_ge $((before + 1)) "$(topo_stat '.drops.redirect_failed')" "and as redirect_failed drops"
rc_in "${TOPO_RX[1]}" ethtool -K "${TOPO_RX_DEV[1]}" gro on >/dev/null

# -- idle: threads leave the kernel, and come back for the next packet -------------
for ((i = 1; i <= 4; i++)); do topo_sink $i 10.77.$i.2:6000 500 --size 100; done
send --group $G4 --count 500 --size 100 --idle-ms 50 --wait-first
rc_assert_eq 0 $? "a stream after the threads went idle"
sinks_wait 6000 1 4
rc_assert_eq 0 "$FAILS" "arrives whole"
rc_assert_ge 1 "$(jq .engine_parks "$RC_TMP/summary")" "the thread had left its call and slept"

rc_assert_ok "unload" $RC unload
rc_summary
