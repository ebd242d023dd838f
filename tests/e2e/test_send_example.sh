#!/usr/bin/env bash
# san: yes
# examples/sender.c, the library embedded in a program of its own: 20000
# numbered packets handed over in batches of 64 reach 4 subscribers, every
# one, in order, byte-exact; the sender's own counters show a batch per kick.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=4
COUNT=20000
SIZE=200
topo_build $N || exit 1
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN" --inject-dev "$(rc_name inj)"
G=10.77.100.1:5000
rc_assert_ok "group add $G" $RC group add $G
for ((i = 1; i <= N; i++)); do
	$RC sub add $G 10.77.$i.2:6000 || rc_not_ok "sub add 10.77.$i.2:6000"
	topo_sink $i 10.77.$i.2:6000 $COUNT --size $SIZE --from 10.77.$i.1
done
out=$(rc_in "$TOPO_RELAY" "$RC_ROOT/$BUILD/examples/sender" --pin-path "$TOPO_PIN" $G $COUNT $SIZE)
rc_assert_eq 0 $? "the example exits 0"
echo "# $out"
fails=0
for ((i = 1; i <= N; i++)); do
	topo_sink_wait $i 6000 || { fails=$((fails + 1)); cat "$RC_TMP/sink-$i-6000"; }
done
rc_assert_eq 0 $fails "all $N subscribers got all $COUNT, in order, byte-exact"
rc_assert_eq "$COUNT $COUNT $COUNT" "$(rc_kv "$out" queued) $(rc_kv "$out" sent) $(rc_kv "$out" completed)" \
	"queued, sent and completed: $COUNT each"
# 64 per batch: one kick each, unless the kernel moves fewer per sendto().
rc_assert_eq $(((COUNT + 63) / 64)) "$(rc_kv "$out" kicks)" "one kick per batch of 64"
rc_assert_eq 0 "$(rc_kv "$out" errors)" "no errors"
rc_summary
