#!/usr/bin/env bash
# One subscriber slot churned between two subscribers on two devices and
# ports while a stream flows: A (10.77.1.2:6000, device 1) leaves, B
# (10.77.2.2:7000, device 2) takes its slot, B leaves, A comes back, over
# and over. Every copy on either wire must be a configured pair, whole:
# A's address and port on device 1, B's on device 2, never one's address
# with the other's port or device.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 2 || exit 1
G=10.77.100.1:5000
ROUNDS=60
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"
rc_assert_ok "group add" $RC group add $G --allow-source 10.77.0.1
rc_assert_ok "sub add A" $RC sub add $G 10.77.1.2:6000
rc_assert_ok "sub add B" $RC sub add $G 10.77.2.2:7000
# Captures of everything UDP that reaches each receiver's device.
for i in 1 2; do
	rc_bg "${TOPO_RX[i]}" timeout 60 tcpdump -i "${TOPO_RX_DEV[i]}" -nn -w "$RC_TMP/wire-$i.pcap" \
		-U udp 2>/dev/null
	CAP[i]=$RC_BG_PID
done
sleep 1
rc_bg "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G --count 2000000 --size 64 --rate 40000 \
	--bind 10.77.0.1:4000 >/dev/null
SENDER=$RC_BG_PID
changes=0
for ((r = 0; r < ROUNDS; r++)); do
	$RC sub del $G 10.77.1.2:6000 && $RC sub del $G 10.77.2.2:7000 &&
		$RC sub add $G 10.77.2.2:7000 && $RC sub add $G 10.77.1.2:6000 && changes=$((changes + 4))
done
rc_assert_eq $((ROUNDS * 4)) $changes "$changes subscriber changes during the stream"
kill "$SENDER" 2>/dev/null
rc_wait_pid "$SENDER" 5 >/dev/null
sleep 0.5
for i in 1 2; do kill -INT "${CAP[i]}" 2>/dev/null; rc_wait_pid "${CAP[i]}" 10 >/dev/null; done

count() { tcpdump -nn -r "$1" "$2" 2>/dev/null | wc -l; }
a=$(count "$RC_TMP/wire-1.pcap" "udp")
b=$(count "$RC_TMP/wire-2.pcap" "udp")
rc_assert_ge 1000 "$a" "device 1 carried copies for A ($a)"
rc_assert_ge 1000 "$b" "device 2 carried copies for B ($b)"
rc_assert_eq "$a" "$(count "$RC_TMP/wire-1.pcap" "udp and dst host 10.77.1.2 and dst port 6000")" \
	"every copy on device 1 is A's: 10.77.1.2:6000"
rc_assert_eq "$b" "$(count "$RC_TMP/wire-2.pcap" "udp and dst host 10.77.2.2 and dst port 7000")" \
	"every copy on device 2 is B's: 10.77.2.2:7000"
rc_assert_eq 2 "$($RC list --json | jq '.groups[0].subscribers | length')" \
	"both subscribers are on at the end"
rc_summary
