#!/usr/bin/env bash
# san: yes
# A send whose copies were lost says how many and exits 1: the replicator's
# group and drop counters, read before and after the run, must show
# packets x subscribers copies. One of 3 subscribers' devices is down after
# `sub add`, so its copies are dropped in the kernel; the other two get
# everything and the send reports the third's copies as lost, with why.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=3
COUNT=1000
topo_build $N || exit 1
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN" --inject-dev "$(rc_name inj)"
G=10.77.100.1:5000
rc_assert_ok "group add $G" $RC group add $G
for ((i = 1; i <= N; i++)); do
	rc_assert_ok "sub add 10.77.$i.2:6000" $RC sub add $G 10.77.$i.2:6000
done

# Every copy out: exit 0, nothing said about copies.
for ((i = 1; i <= N; i++)); do topo_sink $i 10.77.$i.2:6000 $COUNT --size 64 --from 10.77.$i.1; done
out=$($RC send $G --gen $COUNT --rate 20000 2>&1)
rc_assert_eq 0 $? "a send whose copies all went out exits 0"
for ((i = 1; i <= N; i++)); do topo_sink_wait $i 6000 || rc_not_ok "receiver $i got all $COUNT"; done

# The third subscriber's device goes down: its copies cannot be sent.
rc_in "$TOPO_RELAY" ip link set "${TOPO_RELAY_DEV[3]}" down
for ((i = 1; i <= 2; i++)); do topo_sink $i 10.77.$i.2:6000 $COUNT --size 64 --from 10.77.$i.1; done
out=$($RC send $G --gen $COUNT --rate 20000 2>&1)
rc_assert_eq 1 $? "a send that lost copies exits 1"
echo "# $(tail -n 1 <<<"$out")"
rc_assert_match "sent $COUNT packets" "$out" "the summary still says what was sent"
rc_assert_match "send: $COUNT of $((COUNT * N)) copies \($COUNT packets x $N subscribers\) were lost in the kernel \(.*[a-z_]+ $COUNT" \
	"$out" "it says how many copies of how many were lost, and the drop reason"
fails=0
for ((i = 1; i <= 2; i++)); do topo_sink_wait $i 6000 || fails=$((fails + 1)); done
rc_assert_eq 0 $fails "the other two subscribers got all $COUNT"
dropped=$(topo_stat ".groups[] | select(.group==\"$G\") | .subscribers[] | select(.dest==\"10.77.3.2:6000\") | .dropped")
rc_assert_eq $COUNT "$dropped" "stats shows the $COUNT copies dropped at the third subscriber"
rc_summary
