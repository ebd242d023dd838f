#!/usr/bin/env bash
# san: yes
# `replicast send GROUP --engine xdp`: the XDP fan-out engine from the CLI,
# with the same sources as the AF_XDP default. --gen over IPv4 and IPv6 (a
# --keep-source subscriber sees --source), the --udp-listen gateway, the
# summary (text and JSON), --peer-gro, and the usage errors of its options.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=4
topo_build $N || exit 1
rc_assert_ok "load without an injection pair: the XDP engine needs none" \
	$RC load --dev "$TOPO_RELAY_IN" --no-inject
G=10.77.100.1:5000
G6=[fd77:100::1]:5000
rc_assert_ok "group add $G" $RC group add $G
rc_assert_ok "group add $G6" $RC group add $G6
for ((i = 1; i <= N; i++)); do
	$RC sub add $G 10.77.$i.2:6000 >/dev/null || rc_not_ok "sub add 10.77.$i.2:6000"
done
for ((i = 1; i <= 3; i++)); do
	rc_in "${TOPO_RX[i]}" ethtool -K "${TOPO_RX_DEV[i]}" gro on >/dev/null
done
rc_in "${TOPO_RX[4]}" ethtool -K "${TOPO_RX_DEV[4]}" gro off >/dev/null
# sinks_wait PORT: how many receivers failed, in $FAILS (not in $(...): a
# subshell cannot reap the receivers).
sinks_wait() {
	local i
	FAILS=0
	for ((i = 1; i <= N; i++)); do topo_sink_wait "$i" "$1" || FAILS=$((FAILS + 1)); done
}

# -- a peer without NAPI: refused, then --peer-gro ----------------------------
out=$($RC send $G --engine xdp --gen 10 2>&1)
rc_assert_eq 1 $? "send --engine xdp refuses a veth whose peer has no NAPI"
rc_assert_match "its peer ${TOPO_RX_DEV[4]} has no NAPI" "$out" "naming the peer"
rc_assert_match "copies to $G would leave by a device that cannot take XDP frames" "$out" \
	"and saying what to do"

for ((i = 1; i <= N; i++)); do
	topo_sink $i 10.77.$i.2:6000 20000 --size 1000 --from 10.77.$i.1 --rcvbuf 33554432
done
$RC send $G --engine xdp --peer-gro --gen 20000 --size 1000 --rate 20000 --json \
	>"$RC_TMP/summary" 2>"$RC_TMP/stderr"
rc_assert_eq 0 $? "send --engine xdp --peer-gro --gen 20000 exits 0"
sinks_wait 6000
rc_assert_eq 0 "$FAILS" "all $N subscribers got all 20000, in order, byte-exact"
S=$(cat "$RC_TMP/summary")
echo "# summary: $S"
rc_assert_eq "xdp 20000 80000 0 0" \
	"$(jq -r '"\(.engine) \(.sent) \(.copies) \(.copies_dropped) \(.errors)"' <<<"$S")" \
	"the JSON summary: engine xdp, 20000 sent as 80000 copies, none dropped"
rc_assert_match "through the XDP engine" "$(cat "$RC_TMP/stderr")" "the start line names the engine"
rc_assert_match "generic-receive-offload: on" \
	"$(rc_in "${TOPO_RX[4]}" ethtool -k "${TOPO_RX_DEV[4]}")" "--peer-gro switched GRO on"

# -- text summary, two threads, IPv6 with --source and --keep-source --------
for ((i = 1; i <= N; i++)); do
	if [ $i = 4 ]; then
		$RC sub add $G6 "[fd77:$i::2]:6001" --keep-source >/dev/null
		topo_sink $i "[fd77:$i::2]:6001" 5000 --size 700 --from "[fd77::abcd]:4321"
	else
		$RC sub add $G6 "[fd77:$i::2]:6001" >/dev/null
		topo_sink $i "[fd77:$i::2]:6001" 5000 --size 700 --from "[fd77:$i::1]" \
			--capture "${TOPO_RX_DEV[i]}" --require-full-csum
	fi
done
out=$($RC send $G6 --engine xdp --threads 2 --gen 5000 --size 700 --rate 20000 \
	--source "[fd77::abcd]:4321" 2>&1)
rc_assert_eq 0 $? "IPv6, two threads, exits 0"
sinks_wait 6001
rc_assert_eq 0 "$FAILS" \
	"IPv6: 4 subscribers got all 5000, valid checksums, the keep-source one from --source"
rc_assert_match "copies: 20000 sent" "$out" "the text summary counts the copies"
rc_assert_match "engine: 2 threads" "$out" "and the threads"

# -- the UDP gateway -------------------------------------------------------------
for ((i = 1; i <= N; i++)); do
	topo_sink $i 10.77.$i.2:6000 10000 --size 300 --from 10.77.$i.1
done
rc_bg "$TOPO_RELAY" "$RC_ROOT/$BUILD/replicast" --pin-path "$TOPO_PIN" send $G --engine xdp \
	--udp-listen 10.77.0.254:7000 --count 10000 --idle-ms 5000 --json \
	>"$RC_TMP/summary" 2>"$RC_TMP/stderr"
GW=$RC_BG_PID
for ((t = 0; t < 100; t++)); do
	grep -q "listening on" "$RC_TMP/stderr" 2>/dev/null && break
	sleep 0.1
done
rc_assert_ok "rc_blast sends 10000 datagrams to the gateway" \
	rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to 10.77.0.254:7000 --count 10000 --size 300 --rate 20000
rc_wait_pid $GW 30
rc_assert_eq 0 $? "the gateway stops after 10000 datagrams, exit 0"
sinks_wait 6000
rc_assert_eq 0 "$FAILS" "the gateway: all $N subscribers got every datagram, in order"
rc_assert_eq 40000 "$(jq .copies "$RC_TMP/summary")" "as 40000 copies"

# -- usage ----------------------------------------------------------------------
out=$($RC send $G --threads 2 --gen 1 2>&1)
rc_assert_eq 2 $? "--threads without --engine xdp is a usage error"
rc_assert_match "go with --engine xdp" "$out" "saying so"
out=$($RC send $G --engine xdp --ring 100 --gen 1 2>&1)
rc_assert_eq 2 $? "--ring 100 is a usage error"
rc_assert_match "power of two" "$out" "naming the rule"
out=$($RC send $G --engine dpdk --gen 1 2>&1)
rc_assert_eq 2 $? "an unknown engine is a usage error"
out=$($RC send $G --engine xdp --gen 1 --size 1500 2>&1)
rc_assert_eq 2 $? "a payload larger than the devices' MTU allows is a usage error"
rc_assert_match "carries \(1472 bytes\)" "$out" "naming the limit"
rc_assert_match "engine-idle-ms" "$($RC send --help 2>&1)" "send --help documents the engine"

rc_assert_ok "unload" $RC unload
rc_summary
