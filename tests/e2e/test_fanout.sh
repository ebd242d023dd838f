#!/usr/bin/env bash
# san: yes
# End to end: a source sends numbered UDP packets to a group; replicast in the
# relay namespace fans them out; real UDP sockets in 8 receiver namespaces get
# every packet, byte-exact, in order, from the relay's address, with valid IP
# and UDP checksums in the captured frames. IPv4 and IPv6; a subscriber
# removed mid-stream gets nothing after while the others lose nothing; a group
# filled to its limit delivers to all; unload leaves nothing behind.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=8
PORTS=4		# subscriber sockets per receiver in the full-group case
MAX_SUBS=$((N * PORTS))
topo_build $N || exit 1

rc_assert_ok "load with --max-subs $MAX_SUBS" $RC load --dev "$TOPO_RELAY_IN" --max-subs $MAX_SUBS
PROG_ID=$(bpftool -j prog show pinned "$TOPO_PIN/replicate_prog" | jq -r .id)
rc_assert_eq "$PROG_ID" "$(bpftool -j link show pinned "$TOPO_PIN/links/$TOPO_RELAY_IN" | jq .prog_id)" \
	"attached as a tcx link, pinned under links/"

# fan_out FAMILY GROUP COUNT: one subscriber per receiver; checks every one.
fan_out() {
	local fam=$1 group=$2 count=$3 i src allow
	if [ "$fam" = 4 ]; then allow=10.77.0.0/24; else allow=fd77::/64; fi
	rc_assert_ok "group add $group" $RC group add "$group" --allow-source $allow
	topo_subscribe "$fam" "$group" 6000
	topo_sinks "$fam" 6000 "$count" --size 700 --from @RELAY:4000 --capture @RXDEV --require-full-csum
	if [ "$fam" = 4 ]; then src=10.77.0.1:4000; else src=[fd77::1]:4000; fi
	rc_assert_ok "send $count packets to $group" \
		rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to "$group" --count "$count" --size 700 \
		--rate 20000 --bind "$src"
	topo_sinks_wait 6000 "(IPv$fam) got all $count, in order, exact bytes, valid checksums"
	for ((i = 1; i <= N; i++)); do
		rc_assert_eq "$count" "$(rc_kv "$RC_TMP/sink-$i-6000" captured)" "IPv$fam receiver $i: $count frames captured"
	done
	rc_assert_eq "$count" "$(topo_stat ".groups[] | select(.group==\"$group\") | .received.packets")" "group counted $count received"
	rc_assert_eq $((count * N)) "$(topo_stat ".groups[] | select(.group==\"$group\") | .sent.packets")" "group counted $((count * N)) copies"
	rc_assert_eq "$count" "$(topo_stat "[.groups[] | select(.group==\"$group\") | .subscribers[].packets] | min")" "every subscriber counted $count"
	rc_assert_ok "group del $group" $RC group del "$group"
}

fan_out 4 10.77.100.1:5000 3000
fan_out 6 [fd77:100::1]:5000 3000

# A subscriber removed while packets flow: the others lose nothing, it gets a
# gap-free prefix and nothing after.
G=10.77.100.2:5000
rc_assert_ok "group add $G" $RC group add $G --allow-source 10.77.0.1
for ((i = 1; i <= N; i++)); do
	$RC sub add $G 10.77.$i.2:6001
	topo_sink $i 10.77.$i.2:6001 6000 --size 100 --idle-ms 3000
done
rc_bg "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G --count 6000 --size 100 --rate 6000
BLAST=$RC_BG_PID
sleep 0.4
rc_assert_ok "sub del mid-stream" $RC sub del $G 10.77.$N.2:6001
rc_wait_pid $BLAST 30
rc_assert_eq 0 $? "sender finished"
for ((i = 1; i < N; i++)); do
	topo_sink_wait $i 6001
	rc_assert_eq 0 $? "receiver $i lost nothing while receiver $N left"
done
topo_sink_wait $N 6001
got=$(rc_kv "$RC_TMP/sink-$N-6001" received)
rc_assert_eq 1 "$(rc_kv "$RC_TMP/sink-$N-6001" in_order)" "removed receiver got a gap-free prefix"
rc_assert_eq 0 "$(rc_kv "$RC_TMP/sink-$N-6001" bad_payload)" "removed receiver: exact bytes"
if [ "$got" -gt 0 ] && [ "$got" -lt 6000 ]; then rc_ok "removed receiver stopped mid-stream ($got of 6000)"
else rc_not_ok "removed receiver stopped mid-stream" "got $got of 6000"; fi
rc_assert_eq 7 "$(topo_stat ".groups[] | select(.group==\"$G\") | .subscribers | length")" "7 subscribers listed"
rc_assert_ok "group del $G" $RC group del $G

# A group filled to its limit delivers to every subscriber; one more is refused.
G=10.77.100.3:5000
rc_assert_ok "group add $G" $RC group add $G --allow-source 10.77.0.1
for ((i = 1; i <= N; i++)); do
	for ((p = 0; p < PORTS; p++)); do
		$RC sub add $G 10.77.$i.2:$((7000 + p)) || rc_not_ok "sub add 10.77.$i.2:$((7000 + p))"
		topo_sink $i 10.77.$i.2:$((7000 + p)) 500 --size 64
	done
done
out=$($RC sub add $G 10.77.1.2:7999 2>&1)
rc_assert_eq 1 $? "subscriber $((MAX_SUBS + 1)) is refused"
rc_assert_match "full: $MAX_SUBS subscribers" "$out" "the error names the limit"
rc_assert_ok "send 500" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G --count 500 --size 64 --rate 10000
fails=0
for ((i = 1; i <= N; i++)); do
	for ((p = 0; p < PORTS; p++)); do
		topo_sink_wait $i $((7000 + p)) || fails=$((fails + 1))
	done
done
rc_assert_eq 0 $fails "all $MAX_SUBS subscribers of a full group got all 500"

# Unload: no pins, no filter, the program gone from the kernel.
rc_assert_ok "unload" $RC unload
rc_assert_eq 0 "$(ls "$TOPO_PIN" 2>/dev/null | wc -l)" "no pin left under $TOPO_PIN"
[ -e "$TOPO_PIN" ] && rc_not_ok "pin directory removed" || rc_ok "pin directory removed"
rc_assert_eq "" "$(rc_in "$TOPO_RELAY" tc filter show dev "$TOPO_RELAY_IN" ingress)" "no tc filter left"
rc_assert_eq "" "$(bpftool -j link show | jq ".[] | select(.prog_id == $PROG_ID)")" "no link to the program left"
sleep 0.5	# the kernel frees a program after an RCU grace period
rc_assert_fail "program $PROG_ID is gone" bpftool prog show id "$PROG_ID"
rc_summary
