#!/usr/bin/env bash
# san: yes
# The batched hand-off: `replicast send --gen 100000` through the injection
# pair that load made reaches every one of 16 subscribers (real UDP sockets
# in 16 receiver namespaces), every packet, byte-exact, in order. strace,
# independently of the library's counters, counts the sending process's
# system calls while it sends: at most one per 32 packets, and exactly the
# kicks and sleeps the summary reports. IPv6 too, a --source that a
# --keep-source subscriber sees, and unload deletes the pair.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=16
COUNT=100000
SIZE=64
# The receivers' share of two cores absorbs about this many copies a second
# (16 per packet); the sender slows down to it and waits for nothing else.
RATE=12000

# The frames themselves first: every header byte and checksum (unit test).
rc_assert_ok "frame builder unit test" "$RC_ROOT/$BUILD/tests/test_frame" >/dev/null

topo_build $N || exit 1
INJ=$(rc_name inj)
rc_assert_ok "load with --inject-dev $INJ" $RC load --dev "$TOPO_RELAY_IN" --inject-dev "$INJ"
rc_assert_match "UP" "$(rc_in "$TOPO_RELAY" ip -br link show "$INJ")" "the injection device is up"
rc_assert_match "direct-action" "$(rc_in "$TOPO_RELAY" tc filter show dev "$INJ-in" ingress)" \
	"the replicator is on the peer's ingress"
rc_assert_eq 1 "$($RC list --json | jq '.attached | length')" \
	"the pair is not among the attachments (unload deletes it whole)"

G=10.77.100.1:5000
rc_assert_ok "group add $G" $RC group add $G
for ((i = 1; i <= N; i++)); do
	$RC sub add $G 10.77.$i.2:6000 || rc_not_ok "sub add 10.77.$i.2:6000"
	topo_sink $i 10.77.$i.2:6000 $COUNT --size $SIZE --from 10.77.$i.1 --timeout-ms 45000
done

# strace follows the one process; LeakSanitizer cannot run under ptrace,
# so the sanitized build checks leaks in the IPv6 run below instead.
rc_in "$TOPO_RELAY" env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
	strace -f -qq -o "$RC_TMP/trace" "$RC_ROOT/$BUILD/replicast" --pin-path "$TOPO_PIN" \
	send $G --gen $COUNT --size $SIZE --rate $RATE --json >"$RC_TMP/summary" 2>"$RC_TMP/stderr"
rc_assert_eq 0 $? "send --gen $COUNT exits 0"
fails=0
for ((i = 1; i <= N; i++)); do
	topo_sink_wait $i 6000 || { fails=$((fails + 1)); cat "$RC_TMP/sink-$i-6000"; }
done
rc_assert_eq 0 $fails "all $N subscribers got all $COUNT packets, in order, byte-exact"
rc_assert_eq $COUNT "$(topo_stat ".groups[] | select(.group==\"$G\") | .received.packets")" \
	"the replicator took $COUNT packets for the group"
rc_assert_eq $((COUNT * N)) "$(topo_stat ".groups[] | select(.group==\"$G\") | .sent.packets")" \
	"and sent $((COUNT * N)) copies"

S=$(cat "$RC_TMP/summary")
rc_assert_eq $COUNT "$(jq .sent <<<"$S")" "the summary says $COUNT sent"
rc_assert_eq "0 0" "$(jq -r '"\(.errors) \(.ring_full)"' <<<"$S")" "no errors, the ring never full"

# The send phase: after the start line on stderr, before the summary on
# stdout. Every line of the trace in between is one system call.
awk '/write\(2, "replicast: sending to/ { on = 1; next }
     /write\(1, / { on = 0 }
     on && !/ (---|\+\+\+) / && !/resumed>/' "$RC_TMP/trace" >"$RC_TMP/phase"
traced=$(wc -l <"$RC_TMP/phase")
traced_kicks=$(grep -c ' sendto(' "$RC_TMP/phase")
echo "# traced during the send phase: $(sed -E 's/^[0-9]+ +//; s/\(.*//' "$RC_TMP/phase" | sort | uniq -c | xargs)"
echo "# whole process: $(grep -Ecv ' (---|\+\+\+) ' "$RC_TMP/trace") system calls, setup and teardown included"
echo "# summary: $S"
if [ "$traced" -gt 0 ] && [ $((traced * 32)) -le $COUNT ]; then
	rc_ok "at most 1/32 system call per packet: $traced for $COUNT ($(jq .syscalls_per_packet_per_subscriber <<<"$S") per packet per subscriber)"
else
	rc_not_ok "at most 1/32 system call per packet" "$traced for $COUNT"
fi
rc_assert_eq "$traced_kicks" "$(jq .kicks <<<"$S")" "the library's kick count is the traced sendto() count"
rc_assert_eq "$traced" "$(jq .syscalls <<<"$S")" "the summary's system calls are the traced ones"
rc_assert_eq "$(grep -vc ' sendto(' "$RC_TMP/phase")" "$(jq '.sleeps + .waits' <<<"$S")" \
	"every other traced call is a pacing sleep or a wait"
rc_assert_ge 32 "$(jq .max_per_kick <<<"$S")" "one kick moves a batch of 32 or more"

# IPv6, 4 subscribers, one of which keeps the --source the frames carry.
G6=[fd77:100::1]:5000
rc_assert_ok "group add $G6" $RC group add $G6
for ((i = 1; i <= 4; i++)); do
	if [ $i = 4 ]; then
		$RC sub add $G6 [fd77:$i::2]:6001 --keep-source
		topo_sink $i [fd77:$i::2]:6001 3000 --size 700 --from [fd77::abcd]:4321
	else
		$RC sub add $G6 [fd77:$i::2]:6001
		topo_sink $i [fd77:$i::2]:6001 3000 --size 700 --from [fd77:$i::1] \
			--capture "${TOPO_RX_DEV[i]}" --require-full-csum
	fi
done
out=$($RC send $G6 --gen 3000 --size 700 --rate 20000 --batch 64 --source [fd77::abcd]:4321 --json 2>&1)
rc_assert_eq 0 $? "IPv6 send exits 0"
fails=0
for ((i = 1; i <= 4; i++)); do
	topo_sink_wait $i 6001 || { fails=$((fails + 1)); cat "$RC_TMP/sink-$i-6001"; }
done
rc_assert_eq 0 $fails "IPv6: 4 subscribers got all 3000, valid checksums, the keep-source one from --source"

out=$($RC send 10.77.100.9:5000 --gen 1 2>&1)
rc_assert_eq 1 $? "send to a group that does not exist fails"
rc_assert_match "group 10.77.100.9:5000 does not exist" "$out" "and says so"
out=$($RC send $G --gen 1 --size 1500 2>&1)
rc_assert_eq 2 $? "a payload larger than a frame carries is a usage error"
rc_assert_match "exceeds what one frame on $INJ carries \(1472 bytes\)" "$out" "naming the limit"

rc_assert_ok "unload" $RC unload
rc_assert_fail "unload deleted the injection pair" rc_in "$TOPO_RELAY" ip link show "$INJ" 2>/dev/null
rc_assert_fail "both ends" rc_in "$TOPO_RELAY" ip link show "$INJ-in" 2>/dev/null
rc_summary
