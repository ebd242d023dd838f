#!/usr/bin/env bash
# san: yes
# End to end: a stream that arrives on an attached device is fanned out by
# the XDP engine while `replicast serve` runs (relay_ingress takes it, the TC
# clone path does not see it), byte-exact to every receiver, counted in the
# same pinned counters; IPv4 and IPv6; the TTL rule on a multicast group
# from a TTL-1 source; an allow-list denial counted by the TC path; copies'
# checksums from packets with a full one, only the pseudo-header's or none,
# and a wrong one kept wrong; two engine threads; the engine asleep between
# bursts (TC carries the first packets while it wakes); a second serve
# refused; serve killed mid-stream: the stream goes on through TC, losing at
# most what the ring held; serve started again takes over; SIGTERM stops it
# cleanly. The engine's counters (serve's last line) and the group's (stats)
# both count every copy, so none came from the TC clone path.
set -u
. "$(dirname "$0")/../lib.sh"
rc_name() { echo "rcR${1}${RC_ID}"; }	# this suite's names: rcR...
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=3
topo_build $N || exit 1
SERVE=

rc_in "$TOPO_SRC" ip route add 224.0.0.0/4 dev "$(rc_name so)"
# XDP frames reach a veth's far end only when it runs NAPI: GRO on, as a
# NIC would take them (serve --peer-gro does the same for devices it checks).
for ((i = 1; i <= N; i++)); do
	rc_in "${TOPO_RX[i]}" ethtool -K "${TOPO_RX_DEV[i]}" gro on >/dev/null
done
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"

gstat() {
	topo_stat ".groups[] | select(.group==\"$1\") | $2"
}

# relay FAMILY GROUP COUNT [blast options]: one subscriber per receiver;
# every one gets every datagram, exact, in order, with full checksums.
relay() {
	local fam=$1 group=$2 count=$3 i dest src rx0 tx0 sub0
	shift 3
	rx0=$(gstat "$group" .received.packets)
	tx0=$(gstat "$group" .sent.packets)
	sub0=$(gstat "$group" '[.subscribers[].packets] | min // 0')
	for ((i = 1; i <= N; i++)); do
		if [ "$fam" = 4 ]; then dest=10.77.$i.2:6000 src=10.77.$i.1:4000
		else dest=[fd77:$i::2]:6000 src=[fd77:$i::1]:4000; fi
		$RC list --json | jq -e ".groups[] | select(.group==\"$group\") | .subscribers[] |
			select(.dest==\"$dest\")" >/dev/null 2>&1 ||
			rc_assert_ok "sub add $dest" $RC sub add "$group" "$dest"
		topo_sink $i "$dest" "$count" --size 700 --from "$src" \
			--capture "${TOPO_RX_DEV[i]}" --require-full-csum
	done
	if [ "$fam" = 4 ]; then src=10.77.0.1:4000; else src=[fd77::1]:4000; fi
	rc_assert_ok "send $count packets to $group" \
		rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to "$group" --count "$count" --size 700 \
		--rate 20000 --bind "$src" "$@"
	for ((i = 1; i <= N; i++)); do
		topo_sink_wait $i 6000
		rc_assert_eq 0 $? "IPv$fam receiver $i got all $count, in order, exact bytes, valid checksums"
	done
	rc_assert_eq $((rx0 + count)) "$(gstat "$group" .received.packets)" "$group: $count more received"
	rc_assert_eq $((tx0 + count * N)) "$(gstat "$group" .sent.packets)" "$group: $((count * N)) more copies counted"
	rc_assert_eq $((sub0 + count)) "$(gstat "$group" '[.subscribers[].packets] | min')" \
		"$group: every subscriber counted $count more"
}

G4=10.77.100.1:5000
G6=[fd77:100::1]:5000
rc_assert_ok "group add $G4" $RC group add $G4 --allow-source 10.77.0.0/24
rc_assert_ok "group add $G6" $RC group add $G6 --allow-source fd77::/64

# 1. The engine relays: it takes every packet (never asleep here), and the
# pinned counters (replicast stats) see its copies. list and stats say
# whether it runs.
rc_assert_eq false "$($RC list --json | jq .relay_engine)" "before serve: list --json says no relay engine"
rc_assert_match "relay engine: not running" "$($RC list)" "... and list says TC fans out"
serve_start --idle-ms never
rc_assert_eq 0 $? "serve starts"
rc_assert_eq relay_ingress "$(rc_in "$TOPO_RELAY" ip -j link show dev "$TOPO_RELAY_IN" |
	jq -r '.[0].xdp.prog.name // .[0].xdp.progs[0].name // empty' 2>/dev/null || echo ?)" 	"relay_ingress is on the attached device's XDP hook"
relay 4 $G4 3000
relay 6 $G6 3000
rc_assert_eq true "$($RC list --json | jq .relay_engine)" "while serve runs: list --json says so"
rc_assert_match "relay engine: running" "$($RC list)" "... and list"
rc_assert_eq true "$($RC stats --json | jq .relay_engine)" "... and stats --json"
rc_assert_eq 1 "$($RC stats --format prometheus | sed -n 's/^replicast_relay_engine_running //p')" \
	"... and the Prometheus gauge"
out=$($RC serve 2>&1)
rc_assert_eq 1 $? "a second serve on the same relay is refused"
rc_assert_match "a relay engine already runs for this relay" "$out" "... saying why"
serve_stop
rc_assert_eq 0 $? "serve exits 0 on SIGTERM"
rc_assert_eq 6000 "$(serve_stat taken)" "the engine took all 6000 packets (relay_ingress)"
rc_assert_eq 18000 "$(serve_stat copies)" "the engine sent all 18000 copies"
rc_assert_eq 0 "$(serve_stat passed_ring_full)" "none left to TC for a full ring"
rc_assert_eq "" "$(rc_in "$TOPO_RELAY" ip -j link show dev "$TOPO_RELAY_IN" | jq -r '.[0].xdp // empty')" \
	"after SIGTERM no XDP program is left on the device"
rc_assert_eq 0 "$($RC stats --format prometheus | sed -n 's/^replicast_relay_engine_running //p')" \
	"after SIGTERM the gauge says no relay engine"

# 2. With serve gone, TC relays as before.
relay 4 $G4 1000

# 3. TTL rule on the engine path: a multicast group from a TTL-1 source is
# served, the copies leave with TTL 64; a unicast group's packet that came
# with TTL 1 is not fanned out (TC counts it as ttl_exceeded).
GM=239.77.1.1:5000
rc_assert_ok "group add $GM" $RC group add $GM --allow-source 10.77.0.0/24
serve_start --idle-ms never
ttl_watch() {
	local t
	rc_bg "${TOPO_RX[1]}" timeout 20 tcpdump -i "${TOPO_RX_DEV[1]}" -nn -v -c 1 -l \
		"udp and dst port 6000" >"$RC_TMP/ttl" 2>"$RC_TMP/ttl.err"
	TTL_PID=$RC_BG_PID
	for ((t = 0; t < 100; t++)); do
		grep -q "listening on" "$RC_TMP/ttl.err" 2>/dev/null && return
		sleep 0.1
	done
}
for ((i = 1; i <= N; i++)); do
	$RC sub add $GM 10.77.$i.2:6000 >/dev/null
	topo_sink $i 10.77.$i.2:6000 500 --size 300 --from 10.77.$i.1:4000 --capture "${TOPO_RX_DEV[i]}"
done
ttl_watch
rc_assert_ok "a TTL-1 source sends 500 to $GM" \
	rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $GM --count 500 --size 300 --rate 20000 --ttl 1 \
	--bind 10.77.0.1:4000
for ((i = 1; i <= N; i++)); do
	topo_sink_wait $i 6000
	rc_assert_eq 0 $? "multicast receiver $i got all 500 from a TTL-1 source"
done
rc_wait_pid "$TTL_PID" 20 >/dev/null
rc_assert_eq 64 "$(sed -n 's/.*ttl \([0-9]*\).*/\1/p' "$RC_TMP/ttl" | head -n 1)" "the copies leave with TTL 64"
ttl0=$(topo_stat .drops.ttl_exceeded)
rc_assert_ok "10 packets with TTL 1 to the unicast group $G4" \
	rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G4 --count 10 --size 100 --ttl 1 --bind 10.77.0.1:4000
sleep 0.3
rc_assert_eq $((ttl0 + 10)) "$(topo_stat .drops.ttl_exceeded)" "TTL 1 on a unicast group: 10 counted ttl_exceeded"

# 4. An allow-list denial is counted (the TC path counts it; the engine never
# sees the packet).
GD=10.77.100.7:5000
rc_assert_ok "group add $GD allowing only 10.77.0.99" $RC group add $GD --allow-source 10.77.0.99
$RC sub add $GD 10.77.1.2:6007 >/dev/null
topo_sink 1 10.77.1.2:6007 0 --timeout-ms 1500
rc_assert_ok "a denied source sends 50" \
	rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $GD --count 50 --size 100 --bind 10.77.0.1:4000
topo_sink_wait 1 6007
rc_assert_eq 0 $? "the subscriber of $GD got nothing"
rc_assert_eq 50 "$(gstat $GD .source_denied)" "50 counted source_denied for $GD"
serve_stop
rc_assert_eq 0 $? "serve exits 0"
rc_assert_eq 500 "$(serve_stat taken)" "the engine took the 500 multicast packets, not the refused ones"
rc_assert_eq 60 "$(serve_stat passed_policy)" "the 60 refused packets were left to TC"

# 5. Checksums the engine makes from the payload: a source whose veth
# leaves them to the device (CHECKSUM_PARTIAL: the field holds only the
# pseudo-header's sum) and one that sends none (IPv4, 0); and a wrong one
# stays wrong in every copy, as on the TC path. Two engine threads.
serve_start --idle-ms never --threads 2
rc_in "$TOPO_SRC" ethtool -K "$(rc_name so)" tx on >/dev/null
relay 4 $G4 2000
relay 6 $G6 2000
rc_in "$TOPO_SRC" ethtool -K "$(rc_name so)" tx off >/dev/null
relay 4 $G4 500 --udp-csum zero
for ((i = 1; i <= N; i++)); do
	topo_sink $i 10.77.$i.2:6000 0 --timeout-ms 1500 --capture "${TOPO_RX_DEV[i]}"
done
rc_assert_ok "50 packets with a wrong UDP checksum" \
	rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G4 --count 50 --size 700 --udp-csum bad --bind 10.77.0.1:4000
for ((i = 1; i <= N; i++)); do
	topo_sink_wait $i 6000 >/dev/null
	rc_assert_eq 50 "$(rc_kv "$RC_TMP/sink-$i-6000" bad_udp_csum)" \
		"receiver $i: the 50 copies carry a wrong checksum too (the socket got none)"
done
serve_stop
rc_assert_eq 0 $? "serve with two threads exits 0"
rc_assert_eq 4550 "$(serve_stat taken)" "two engine threads took all 4550"
rc_assert_eq $((4550 * N)) "$(serve_stat copies)" "and sent all $((4550 * N)) copies"

# 6. Asleep: after --idle-ms without packets the engine sleeps; the first
# packets of the next burst go through TC while it wakes and until it is in
# its run again, the rest through the engine, every one delivered once, in
# order.
serve_start --idle-ms 50
sleep 0.5
relay 4 $G4 3000 --rate 100000
sleep 0.3
relay 4 $G4 3000 --rate 100000
serve_stop
asleep=$(serve_stat passed_asleep)
taken=$(serve_stat taken)
rc_assert_eq 6000 $((asleep + taken)) "every packet of both bursts: the engine's ($taken) or TC's while it woke ($asleep)"
rc_assert_ge 2 "$(serve_stat parks)" "the engine slept before each burst"
# TC carries from the first packet until the woken thread is inside its
# run again (RESUMING): milliseconds, so a few hundred of each burst at
# 100,000/s, more on a loaded machine; the engine the rest.
rc_assert_ge 3000 "$taken" "the engine took the bulk of them"

# 6b. A stream that pauses longer than --idle-ms, again and again: in each
# pause the engine stops taking packets (PARKING), leaves its run once the
# ring is empty and sleeps (PARKED); each burst wakes it. Every packet is
# delivered once, in order, through one path or the other, and after the
# last pause the engine serves again (it is not left PARKING or RESUMING,
# passing every packet to TC): it takes most of a last, longer burst. With
# one thread and with two (a thread that parks while another still sends
# must be woken when the park is called off).
BURSTS=8 BURST=600 LAST=3000
TOTAL=$((BURSTS * BURST + LAST))
for threads in 1 2; do
	for ((i = 1; i <= N; i++)); do
		topo_sink $i 10.77.$i.2:6000 $TOTAL --size 700 --idle-ms 3000
	done
	serve_start --idle-ms 10 --threads $threads
	for ((b = 0; b <= BURSTS; b++)); do
		count=$BURST
		[ $b -eq $BURSTS ] && count=$LAST
		rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G4 --count $count --first $((b * BURST)) \
			--size 700 --rate 20000 --bind 10.77.0.1:4000 >/dev/null
		sleep 0.08
	done
	for ((i = 1; i <= N; i++)); do
		topo_sink_wait $i 6000
		rc_assert_eq 0 $? "$threads thread(s): receiver $i got all $TOTAL of the bursts, in order, exact bytes"
	done
	serve_stop
	asleep=$(serve_stat passed_asleep)
	taken=$(serve_stat taken)
	rc_assert_eq $TOTAL $((asleep + taken)) \
		"$threads thread(s): every packet of the bursts: the engine's ($taken) or TC's ($asleep)"
	rc_assert_ge $((BURSTS / 2)) "$(serve_stat parks)" "$threads thread(s): the engine slept in the pauses"
	# The last burst lasts 150 ms, the wake-up milliseconds.
	rc_assert_ge $((LAST / 2)) "$taken" "$threads thread(s): the engine served again after the pauses"
done

# 7. kill -9 mid-stream: the stream goes on through TC; what is lost is at
# most what the ring held (4096 slots; here at 20k packets/s, far fewer).
# Then serve again takes over.
COUNT=60000	# 3 s: the second serve, slow to start under the sanitizers, finds the stream still running
for ((i = 1; i <= N; i++)); do
	topo_sink $i 10.77.$i.2:6000 $COUNT --size 700 --idle-ms 3000
done
serve_start
before=$(gstat $G4 .received.packets)
rc_bg "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G4 --count $COUNT --size 700 --rate 20000 --bind 10.77.0.1:4000
BLAST=$RC_BG_PID
sleep 0.3
kill -9 "$SERVE"
rc_wait_pid "$SERVE" 10 >/dev/null
sleep 0.2
rc_assert_eq "" "$(rc_in "$TOPO_RELAY" ip -j link show dev "$TOPO_RELAY_IN" | jq -r '.[0].xdp // empty')" \
	"serve killed: its XDP program went with it"
serve_start
rc_assert_eq 0 $? "serve starts again mid-stream"
rc_wait_pid $BLAST 30
rc_assert_eq 0 $? "the sender finished"
sleep 0.5
lost_max=0
for ((i = 1; i <= N; i++)); do
	topo_sink_wait $i 6000 >/dev/null
	got=$(rc_kv "$RC_TMP/sink-$i-6000" received)
	rc_assert_eq 0 "$(rc_kv "$RC_TMP/sink-$i-6000" bad_payload)" "receiver $i: exact bytes through the kill"
	lost=$((COUNT - got))
	[ $lost -gt $lost_max ] && lost_max=$lost
done
echo "# kill -9 mid-stream: at most $lost_max of $COUNT packets lost at a receiver"
if [ "$lost_max" -le 4096 ]; then rc_ok "lost at the kill: $lost_max, at most the ring (4096)"
else rc_not_ok "lost at the kill: at most the ring (4096)" "lost $lost_max"; fi
serve_stop
rc_assert_eq 0 $? "the second serve exits 0"
taken=$(serve_stat taken)
rc_assert_ge 1000 "$taken" "the second serve took over the rest of the stream ($taken packets)"

# A subscriber added while serve runs, on a device the engine has not sent
# by yet, whose peer has no NAPI (GRO off): serve takes up the device within
# a second (its check switches the peer's GRO on, --peer-gro), so the
# subscriber's copies are not lost to a device nobody checked.
NEWDEV=$(rc_name nd) NEWPEER=$(rc_name np)
rc_veth "$NEWDEV" "$TOPO_RELAY" "$NEWPEER" "${TOPO_RX[1]}"
rc_addr "$TOPO_RELAY" "$NEWDEV" 10.77.50.1/24
rc_addr "${TOPO_RX[1]}" "$NEWPEER" 10.77.50.2/24
rc_in "${TOPO_RX[1]}" ethtool -K "$NEWPEER" gro off >/dev/null
serve_start --idle-ms never
rc_assert_ok "sub add 10.77.50.2:6100 while serve runs" $RC sub add $G4 10.77.50.2:6100
sleep 1.5
topo_sink 1 10.77.50.2:6100 2000 --size 700 --from 10.77.50.1:4000
rc_assert_ok "send 2000 packets to $G4" \
	rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G4 --count 2000 --size 700 --rate 20000 --bind 10.77.0.1:4000
topo_sink_wait 1 6100
rc_assert_eq 0 $? "the subscriber added while serve ran got all 2000, exact"
rc_assert_eq on "$(rc_in "${TOPO_RX[1]}" ethtool -k "$NEWPEER" | sed -n 's/^generic-receive-offload: \([a-z]*\).*/\1/p')" \
	"serve's check switched GRO on at the new device's peer"
serve_stop

# The local senders' way in: while serve runs, `replicast send` (AF_XDP into
# the injection pair) is fanned out by the engine too: relay_ingress on the
# pair's peer takes its packets as the operator's own (no allow list).
serve_start --idle-ms never
rc_assert_eq relay_ingress "$(rc_in "$TOPO_RELAY" ip -j link show dev rcinj-in |
	jq -r '.[0].xdp.prog.name // .[0].xdp.progs[0].name // empty' 2>/dev/null || echo ?)" \
	"relay_ingress is on the injection peer's XDP hook"
for ((i = 1; i <= N; i++)); do
	topo_sink $i 10.77.$i.2:6000 3000 --size 700 --from 10.77.$i.1 --require-full-csum
done
rc_assert_ok "replicast send --gen 3000 (AF_XDP) while serve runs" \
	$RC send $G4 --gen 3000 --size 700 --rate 20000
for ((i = 1; i <= N; i++)); do
	topo_sink_wait $i 6000
	rc_assert_eq 0 $? "receiver $i got all 3000 sent packets, in order, exact bytes, valid checksums"
done
serve_stop
rc_assert_eq 3000 "$(serve_stat taken)" "the engine took all 3000 (relay_ingress on the injection peer)"
rc_assert_eq 0 "$(serve_stat passed_asleep)" "none left to TC"
rc_summary
