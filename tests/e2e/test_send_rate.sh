#!/usr/bin/env bash
# san: yes
# --rate paces packets, not hand-overs: a batch at a low rate is cut so that
# `send --gen COUNT --rate PPS` takes about COUNT / PPS seconds (the first
# packet at once, the last at (COUNT - 1) / PPS), and every packet still
# reaches the subscriber. The same for a capture.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 1 || exit 1
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN" --inject-dev "$(rc_name inj)"
G=10.77.100.1:5000
rc_assert_ok "group add $G" $RC group add $G
rc_assert_ok "sub add" $RC sub add $G 10.77.1.2:6000

# elapsed_ms CMD...: runs CMD, prints its wall time in ms; its exit status
# goes to $RC_TMP/rc.
elapsed_ms() {
	local t0 t1
	t0=${EPOCHREALTIME/[.,]/}
	"$@" >"$RC_TMP/out" 2>&1
	echo $? >"$RC_TMP/rc"
	t1=${EPOCHREALTIME/[.,]/}
	echo $(((10#$t1 - 10#$t0) / 1000))
}

topo_sink 1 10.77.1.2:6000 20 --size 64 --from 10.77.1.1
ms=$(elapsed_ms $RC send $G --gen 20 --rate 50)
rc_assert_eq 0 "$(cat "$RC_TMP/rc")" "send --gen 20 --rate 50 exits 0"
if [ "$ms" -ge 350 ] && [ "$ms" -le 1000 ]; then
	rc_ok "--gen 20 --rate 50 took $ms ms (19 intervals of 20 ms: 380)"
else
	rc_not_ok "--gen 20 --rate 50 takes 350..1000 ms" "$ms ms: $(cat "$RC_TMP/out")"
fi
topo_sink_wait 1 6000
rc_assert_eq 0 $? "the subscriber got all 20, in order"

# Above the cut (256 packets in 25 ms) a batch stays a batch: one kick each.
topo_sink 1 10.77.1.2:6000 2048 --size 64 --from 10.77.1.1
S=$($RC send $G --gen 2048 --rate 20000 --json 2>/dev/null)
rc_assert_eq 0 $? "send --gen 2048 --rate 20000 exits 0"
rc_assert_eq 8 "$(jq .kicks <<<"$S")" "2048 packets at 20000 pps: 8 kicks of 256"
topo_sink_wait 1 6000
rc_assert_eq 0 $? "the subscriber got all 2048"

# A capture is paced the same way: 10 records at 40 pps take 9/40 s.
CAP=$RC_TMP/ten.pcap
rc_assert_ok "a capture of 10 datagrams" "$RC_ROOT/$BUILD/tests/rc_pcapgen" --out "$CAP" \
	--count 10 --size 64
topo_sink 1 10.77.1.2:6000 10 --size 64 --from 10.77.1.1
ms=$(elapsed_ms $RC send $G --pcap "$CAP" --rate 40)
rc_assert_eq 0 "$(cat "$RC_TMP/rc")" "send --pcap --rate 40 exits 0"
if [ "$ms" -ge 200 ] && [ "$ms" -le 800 ]; then
	rc_ok "10 records at 40 pps took $ms ms (9 intervals of 25 ms: 225)"
else
	rc_not_ok "10 records at 40 pps take 200..800 ms" "$ms ms: $(cat "$RC_TMP/out")"
fi
topo_sink_wait 1 6000
rc_assert_eq 0 $? "the subscriber got all 10"
rc_summary
