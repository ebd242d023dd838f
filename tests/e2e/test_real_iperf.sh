#!/usr/bin/env bash
# Real clients: iperf (version 2) sends UDP to a multicast group with its
# sockets' default TTL (1), through a relay with IP forwarding off; an iperf
# server in each of three receiver namespaces, listening on its own unicast
# address and port, reports every datagram the source sent, none lost, none
# out of order, from the relay's address. The client gets no server report
# back (the copies go to the receivers, not to it) and must end by itself.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
. "$(dirname "$0")/real_clients.sh"
rc_require_root
rc_setup_traps
real_need iperf ss
N=3
G=239.77.1.1:5001
topo_build $N || exit 1
real_relay || exit 1

rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"
rc_assert_ok "group add $G" $RC group add $G --allow-source 10.77.0.0/24
for ((i = 1; i <= N; i++)); do
	port=$((5100 + i))
	rc_assert_ok "sub add $G 10.77.$i.2:$port" $RC sub add $G 10.77.$i.2:$port
	# -y C: one CSV line per report; the server's report comes when the
	# client's last datagram arrives. timeout only bounds a stuck server.
	rc_bg "${TOPO_RX[i]}" timeout 30 iperf -s -u -B 10.77.$i.2 -p $port -y C \
		>"$RC_TMP/iperf-$i.csv" 2>"$RC_TMP/iperf-$i.err"
	SRV[i]=$RC_BG_PID
	real_wait_bound "${TOPO_RX[i]}" $port || rc_not_ok "iperf server $i listens on $port"
done

sent_before=$(real_udp_out "$TOPO_SRC")
start=$(_rc_now_us)
rc_in "$TOPO_SRC" timeout 15 iperf -u -c 239.77.1.1 -p 5001 -b 1M -t 2 -l 1200 \
	>"$RC_TMP/client.out" 2>&1
rc=$?
took_ms=$((($(_rc_now_us) - start) / 1000))
# timeout's 124 would mean the client hung waiting for its report
rc_assert_eq 0 $rc "iperf client to $G exits 0 without a server report"
# 2 s of sending; a loaded machine stretches it, a hang would not end at all
if [ "$took_ms" -lt 10000 ]; then rc_ok "iperf client ended by itself (${took_ms} ms for -t 2)"
else rc_not_ok "iperf client ended by itself" "expected < 10000 ms, took $took_ms ms"; fi
# What the source's kernel sent, counted independently of iperf (its own
# "Sent N datagrams" counts one more than it puts on the wire). 1 Mbit/s for
# 2 s in 1200-byte datagrams is about 208; a loaded machine sends fewer.
sent=$(($(real_udp_out "$TOPO_SRC") - sent_before))
rc_assert_ge 20 "$sent" "source sent datagrams to $G ($sent; client: $(grep -o 'Sent [0-9]* datagrams' "$RC_TMP/client.out"))"

# Server CSV: time,peer,peer port,local,local port,id,interval,bytes,bits/s,
# jitter,lost,total,lost %,out of order
end=$(($(_rc_now_us) + 5000000))	# for all reports
for ((i = 1; i <= N; i++)); do
	while ! grep -q '^[0-9]\{14\},' "$RC_TMP/iperf-$i.csv" && [ "$(_rc_now_us)" -lt "$end" ]; do
		sleep 0.05
	done
	kill -TERM "${SRV[i]}" 2>/dev/null
	rc_wait_pid "${SRV[i]}" 5 >/dev/null
	line=$(grep '^[0-9]\{14\},' "$RC_TMP/iperf-$i.csv" | tail -n 1)
	if [ -z "$line" ]; then
		rc_not_ok "iperf server $i reported" "no report; it printed: $(tr '\n' ' ' <"$RC_TMP/iperf-$i.csv") $(tr '\n' ' ' <"$RC_TMP/iperf-$i.err")"
		continue
	fi
	IFS=, read -r _ peer _ laddr lport _ _ _ _ _ lost total _ ooo <<<"$line"
	rc_assert_eq "$sent" "$total" "receiver $i: iperf counted every datagram the source sent"
	rc_assert_eq 0 "$lost" "receiver $i: iperf reports 0 lost"
	rc_assert_eq 0 "$ooo" "receiver $i: iperf reports 0 out of order"
	rc_assert_eq "10.77.$i.2:$((5100 + i))" "$laddr:$lport" "receiver $i: on its subscriber address and port"
	rc_assert_eq "10.77.$i.1" "$peer" "receiver $i: from the relay's address"
done
real_summary
