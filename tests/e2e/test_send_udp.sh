#!/usr/bin/env bash
# The UDP gateway, for applications that cannot link the library:
# `replicast send GROUP --udp-listen ADDR:PORT` reads what a plain UDP sender
# (rc_blast, in another namespace) sends it, in batches (recvmmsg), and hands
# it over in batches; 4 subscribers get every datagram, in order, byte-exact,
# and the gateway's system calls stay well under one per datagram.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=4
COUNT=20000
SIZE=300
topo_build $N || exit 1
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN" --inject-dev "$(rc_name inj)"
G=10.77.100.1:5000
rc_assert_ok "group add $G" $RC group add $G
for ((i = 1; i <= N; i++)); do
	$RC sub add $G 10.77.$i.2:6000 || rc_not_ok "sub add 10.77.$i.2:6000"
	topo_sink $i 10.77.$i.2:6000 $COUNT --size $SIZE --from 10.77.$i.1
done

# The gateway on the relay's source-side address; it says when it listens.
rc_bg "$TOPO_RELAY" "$RC_ROOT/$BUILD/replicast" --pin-path "$TOPO_PIN" send $G \
	--udp-listen 10.77.0.254:7000 --count $COUNT --idle-ms 5000 --json \
	>"$RC_TMP/summary" 2>"$RC_TMP/stderr"
GW=$RC_BG_PID
for ((t = 0; t < 100; t++)); do
	grep -q "listening on" "$RC_TMP/stderr" 2>/dev/null && break
	sleep 0.1
done
rc_assert_match "listening on 10.77.0.254:7000, sending to $G \($N subscribers\)" \
	"$(cat "$RC_TMP/stderr")" "the gateway says where it listens"
rc_assert_ok "rc_blast sends $COUNT datagrams to the gateway" \
	rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to 10.77.0.254:7000 --count $COUNT --size $SIZE --rate 20000
rc_wait_pid $GW 30
rc_assert_eq 0 $? "the gateway stops after $COUNT datagrams, exit 0"
fails=0
for ((i = 1; i <= N; i++)); do
	topo_sink_wait $i 6000 || { fails=$((fails + 1)); cat "$RC_TMP/sink-$i-6000"; }
done
rc_assert_eq 0 $fails "all $N subscribers got all $COUNT, in order, byte-exact"
S=$(cat "$RC_TMP/summary")
echo "# summary: $S"
rc_assert_eq "$COUNT $COUNT 0 0" "$(jq -r '"\(.packets) \(.sent) \(.too_big) \(.errors)"' <<<"$S")" \
	"the summary: $COUNT datagrams in, $COUNT sent, none too big, no errors"
# At 20,000 datagrams a second, batches are whatever arrived since the last
# read; a datagram at a time would cost 2 system calls each.
calls=$(jq .syscalls <<<"$S")
if [ "$calls" -lt "$COUNT" ]; then rc_ok "fewer system calls ($calls) than datagrams ($COUNT)"
else rc_not_ok "fewer system calls than datagrams" "$calls for $COUNT"; fi

# A datagram larger than a frame carries is counted and reported, never cut.
topo_sink 1 10.77.1.2:6001 2 --size 100 --from 10.77.1.1
rc_assert_ok "sub add 10.77.1.2:6001" $RC sub add $G 10.77.1.2:6001
rc_bg "$TOPO_RELAY" "$RC_ROOT/$BUILD/replicast" --pin-path "$TOPO_PIN" send $G \
	--udp-listen 10.77.0.254:7001 --count 3 --json >"$RC_TMP/summary2" 2>"$RC_TMP/stderr2"
GW=$RC_BG_PID
for ((t = 0; t < 100; t++)); do
	grep -q "listening on" "$RC_TMP/stderr2" 2>/dev/null && break
	sleep 0.1
done
rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to 10.77.0.254:7001 --count 1 --size 100 >/dev/null
rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to 10.77.0.254:7001 --count 1 --size 3000 >/dev/null
rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to 10.77.0.254:7001 --count 1 --size 100 --first 1 >/dev/null
rc_wait_pid $GW 10
rc_assert_eq 1 $? "a datagram too big makes the exit status 1"
rc_assert_eq "1 2" "$(jq -r '"\(.too_big) \(.sent)"' "$RC_TMP/summary2")" "one too big, two sent"
rc_assert_match "1 datagram\(s\) larger than the 1472 bytes a frame carries" "$(cat "$RC_TMP/stderr2")" \
	"and it says so"
topo_sink_wait 1 6001
rc_assert_eq 0 $? "the subscriber got the two that fit, in order"

# A flood faster than the gateway forwards, into a receive buffer of a few
# datagrams: the kernel drops at the socket, the gateway counts every drop
# (SO_RXQ_OVFL), reports them and exits 1. Nothing is lost elsewhere, so
# the drops are exactly what was sent less what the gateway read.
FLOOD=20000
rc_bg "$TOPO_RELAY" "$RC_ROOT/$BUILD/replicast" --pin-path "$TOPO_PIN" send $G \
	--udp-listen 10.77.0.254:7002 --rcvbuf 4096 --idle-ms 1000 --json \
	>"$RC_TMP/summary3" 2>"$RC_TMP/stderr3"
GW=$RC_BG_PID
for ((t = 0; t < 100; t++)); do
	grep -q "listening on" "$RC_TMP/stderr3" 2>/dev/null && break
	sleep 0.1
done
rc_assert_ok "rc_blast floods the gateway with $FLOOD datagrams" \
	rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to 10.77.0.254:7002 --count $FLOOD --size 300 --rate 200000
rc_wait_pid $GW 30
rc_assert_eq 1 $? "datagrams dropped at the gateway's socket make the exit status 1"
S=$(cat "$RC_TMP/summary3")
echo "# summary: $S"
drops=$(jq .socket_drops <<<"$S")
read_=$(jq '.packets + .too_big' <<<"$S")
rc_assert_ge 1 "$drops" "the summary counts datagrams dropped at the socket"
rc_assert_eq $((FLOOD - read_)) "$drops" "drops = sent ($FLOOD) - read ($read_)"
rc_assert_match "$drops datagrams were dropped at the socket of 10.77.0.254:7002" \
	"$(cat "$RC_TMP/stderr3")" "and the error line says how many, and where"

# On a terminal (script(1) gives it one) the progress line counts them too,
# and its last count is the summary's.
rc_bg "$TOPO_RELAY" script -qec "$RC_ROOT/$BUILD/replicast --pin-path $TOPO_PIN send $G \
	--udp-listen 10.77.0.254:7003 --rcvbuf 4096 --idle-ms 1000" "$RC_TMP/tty"
GW=$RC_BG_PID
for ((t = 0; t < 100; t++)); do
	grep -q "listening on" "$RC_TMP/tty" 2>/dev/null && break
	sleep 0.1
done
rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to 10.77.0.254:7003 --count 5000 --size 300 --rate 200000 >/dev/null
rc_wait_pid $GW 30
rc_assert_eq 1 $? "on a terminal too, exit 1"
progress=$(tr '\r' '\n' <"$RC_TMP/tty" | grep -a "packets, .* pps" | tail -n 1)
summary=$(grep -a "dropped at the socket before they were read" "$RC_TMP/tty" | tr -d "\r")
echo "# last progress line: $progress"
rc_assert_match "kicks per packet, [1-9][0-9]* dropped at the socket" "$progress" \
	"the progress line shows the drops"
rc_assert_eq "${summary##*: }" "$(sed -E 's/.*, ([0-9]+) dropped at the socket.*/\1/' <<<"$progress" | tr -d '\r\n')" \
	"its last count is the summary's"
rc_summary
