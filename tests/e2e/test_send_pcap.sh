#!/usr/bin/env bash
# Replaying a capture: tcpdump records what rc_blast sends (UDP) together
# with whatever else crosses the link (ICMP errors, IPv6 chatter); `replicast
# send GROUP --pcap FILE` hands the UDP payloads, and only those, to 4
# subscribers, who get every one, in order, byte-exact.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=4
COUNT=3000
SIZE=500
topo_build $N || exit 1
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN" --inject-dev "$(rc_name inj)"
G=10.77.100.1:5000
rc_assert_ok "group add $G" $RC group add $G

# The capture: on the source's link, everything (10.77.100.9 is no group, so
# the relay answers with ICMP errors, which land in the file too).
CAP=$RC_TMP/capture.pcap
rc_bg "$TOPO_SRC" tcpdump -i "$(rc_name so)" --immediate-mode -B 65536 -n -w "$CAP" 2>"$RC_TMP/tcpdump.err"
DUMP=$RC_BG_PID
for ((t = 0; t < 100; t++)); do
	grep -q "listening on" "$RC_TMP/tcpdump.err" 2>/dev/null && break
	sleep 0.1
done
rc_assert_ok "rc_blast sends $COUNT datagrams past tcpdump" \
	rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to 10.77.100.9:5999 --count $COUNT --size $SIZE --rate 10000
sleep 0.5	# immediate mode: what crossed the link is in tcpdump by now
kill -INT $DUMP
rc_wait_pid $DUMP 10
udp=$(tcpdump -n -r "$CAP" udp 2>/dev/null | wc -l)
all=$(tcpdump -n -r "$CAP" 2>/dev/null | wc -l)
rc_assert_eq $COUNT "$udp" "the capture holds the $COUNT datagrams"
echo "# the capture holds $all records, $((all - udp)) of them not UDP"

for ((i = 1; i <= N; i++)); do
	$RC sub add $G 10.77.$i.2:6000 || rc_not_ok "sub add 10.77.$i.2:6000"
	topo_sink $i 10.77.$i.2:6000 $COUNT --size $SIZE --from 10.77.$i.1
done
S=$($RC send $G --pcap "$CAP" --rate 20000 --json 2>"$RC_TMP/stderr")
rc_assert_eq 0 $? "send --pcap exits 0"
echo "# summary: $S"
fails=0
for ((i = 1; i <= N; i++)); do
	topo_sink_wait $i 6000 || { fails=$((fails + 1)); cat "$RC_TMP/sink-$i-6000"; }
done
rc_assert_eq 0 $fails "all $N subscribers got all $COUNT payloads, in order, byte-exact"
rc_assert_eq "$COUNT $((all - udp)) 0" "$(jq -r '"\(.sent) \(.skipped) \(.too_big)"' <<<"$S")" \
	"every UDP payload sent, every other record skipped"
rc_assert_ge 1 "$(jq .reads <<<"$S")" "the file reads are counted"

out=$($RC send $G --pcap "$RC_TMP/nonexistent.pcap" 2>&1)
rc_assert_eq 1 $? "a missing capture fails"
rc_assert_match "nonexistent.pcap: No such file" "$out" "and names the file"
echo "not a capture" >"$RC_TMP/bad.pcap"
out=$($RC send $G --pcap "$RC_TMP/bad.pcap" 2>&1)
rc_assert_eq 1 $? "a file that is no capture fails"
rc_assert_match "bad.pcap: " "$out" "and says which"

# A capture cut inside its 10th record (the writer died, the disk filled):
# the 9 whole records still go out, then the cut one is reported, naming
# the file and the record, and the exit status says the replay failed.
CUT=$RC_TMP/cut.pcap
rc_assert_ok "a capture of 9 records and a cut 10th" "$RC_ROOT/$BUILD/tests/rc_pcapgen" \
	--out "$CUT" --count 10 --size 64 --cut 30
topo_sink 1 10.77.1.2:6000 9 --size 64 --from 10.77.1.1
S=$($RC send $G --pcap "$CUT" --json 2>"$RC_TMP/stderr")
rc_assert_eq 1 $? "a cut capture makes the exit status 1"
rc_assert_eq 9 "$(jq .sent <<<"$S")" "the summary says the 9 whole records were sent"
rc_assert_match "cut.pcap: record 10 is cut short .*the payloads of the 9 records before it were sent" \
	"$(cat "$RC_TMP/stderr")" "the message names the file and the cut record"
topo_sink_wait 1 6000
rc_assert_eq 0 $? "the subscriber got the 9 whole records, in order, byte-exact"
rc_summary
