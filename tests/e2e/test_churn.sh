#!/usr/bin/env bash
# Change under load. A steady stream to a group of 64 subscribers, 16 steady
# and 48 joining and leaving, 1,000 joins and leaves during the stream:
# every steady subscriber gets every packet exactly once and in order; a
# churning one gets nothing while out, every packet while in, only whole
# packets. Then two writers adding 500 subscribers each at once end with
# all 1,000 and none twice, and a full group refuses one more, changing nothing.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=8			# receiver namespaces, 8 subscribers each
COUNT=14000		# packets in the stream
RATE=2000		# packets per second: 7 s, 128k copies per second
OPS=1000
topo_build $N || exit 1
G=10.77.100.1:5000

rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN" --max-subs 1000
rc_assert_ok "group add" $RC group add $G --allow-source 10.77.0.1
: >"$RC_TMP/churners"
for ((i = 1; i <= N; i++)); do
	for p in 6000 6001; do
		$RC sub add $G 10.77.$i.2:$p || rc_not_ok "steady sub add 10.77.$i.2:$p"
		topo_sink $i 10.77.$i.2:$p $COUNT --size 100 --timeout-ms 60000
	done
	for ((p = 6002; p < 6008; p++)); do
		echo "10.77.$i.2:$p" >>"$RC_TMP/churners"
		topo_sink $i 10.77.$i.2:$p $COUNT --size 100 --idle-ms 3000 --timeout-ms 60000 \
			--record "$RC_TMP/rec-10.77.$i.2:$p"
	done
done
rc_bg "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G --count $COUNT --size 100 --rate $RATE --bind 10.77.0.1
BLAST=$RC_BG_PID
sleep 0.5
rc_assert_ok "$OPS joins and leaves during the stream" rc_in "$TOPO_RELAY" "$RC_BIN/rc_churn" \
	--pin-path "$TOPO_PIN" --group $G --subs "$RC_TMP/churners" --ops $OPS --seed 7 --log "$RC_TMP/churn.log"
rc_wait_pid $BLAST 60
rc_assert_eq 0 $? "the stream was sent"
last_change=$(awk 'END { print $4 }' "$RC_TMP/churn.log")
if [ "${last_change:-$COUNT}" -lt $COUNT ]; then rc_ok "the churn ended before the stream did (packet $last_change)"
else rc_not_ok "the churn ended before the stream did" "last change at packet $last_change"; fi
for ((i = 1; i <= N; i++)); do
	for p in 6000 6001; do
		topo_sink_wait $i $p
		rc_assert_eq 0 $? "steady 10.77.$i.2:$p got all $COUNT once, in order"
	done
	for ((p = 6002; p < 6008; p++)); do topo_sink_wait $i $p; done
done
bad_payload=$(cat "$RC_TMP"/sink-*-600[2-7] | sed -n 's/.*bad_payload=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
rc_assert_eq 0 "$bad_payload" "churning subscribers got only whole, exact packets"

# The group's "received" counter brackets each change: packets numbered from
# the count after a join up to (not including) the one in flight before the
# leave must arrive; none outside [before join - 1, after leave) may.
out=$(python3 - "$RC_TMP/churn.log" "$RC_TMP" <<'PY'
import collections, sys, os
log, tmp = sys.argv[1], sys.argv[2]
events = collections.defaultdict(list)
for line in open(log):
    dest, op, before, after = line.split()
    events[dest].append((op, int(before), int(after)))
problems, checked, joins = [], 0, 0
for dest, evs in events.items():
    got = [int(x) for x in open(os.path.join(tmp, "rec-" + dest))]
    if len(got) != len(set(got)):
        problems.append("%s: a packet twice" % dest)
    got = set(got)
    may, must = set(), set()
    for (op1, b1, a1), (op2, b2, a2) in zip(evs[0::2], evs[1::2]):
        assert op1 == "join" and op2 == "leave", dest
        joins += 1
        may.update(range(max(b1 - 1, 0), a2))
        must.update(range(a1, max(b2 - 1, a1)))
    if got - may:
        problems.append("%s: %d packets while out (first %d)" % (dest, len(got - may), min(got - may)))
    if must - got:
        problems.append("%s: %d packets lost while in (first %d)" % (dest, len(must - got), min(must - got)))
    checked += len(must)
print("joins=%d must=%d problems=%d %s" % (joins, checked, len(problems), "; ".join(problems[:5])))
PY
)
rc_assert_match "problems=0 " "$out" "churning subscribers: nothing while out, everything while in ($out)"

# Two writers at once, 500 adds each, into an emptied group.
G2=10.77.100.2:5000
rc_assert_ok "group add $G2" $RC group add $G2
writer() {
	local base=$1 k fails=0
	for ((k = 0; k < 500; k++)); do
		$RC sub add $G2 10.77.$((1 + k % N)).2:$((base + k)) || fails=$((fails + 1))
	done
	return $fails
}
writer 10000 & W1=$!
writer 20000 & W2=$!
wait $W1; r1=$?
wait $W2; r2=$?
rc_assert_eq "0 0" "$r1 $r2" "both writers' 500 adds succeeded"
subs=$($RC list --json | jq -r ".groups[] | select(.group==\"$G2\") | .subscribers[].dest")
rc_assert_eq 1000 "$(printf '%s\n' "$subs" | grep -c .)" "1000 subscribers present"
rc_assert_eq 1000 "$(printf '%s\n' "$subs" | sort -u | grep -c .)" "none twice"
before=$($RC list --json)
out=$($RC sub add $G2 10.77.1.2:30000 2>&1)
rc_assert_eq 1 $? "the 1001st is refused"
rc_assert_match "is full: 1000 subscribers" "$out" "with the limit named"
rc_assert_eq "$before" "$($RC list --json)" "and nothing changed"
rc_summary
