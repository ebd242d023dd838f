#!/usr/bin/env bash
# Not rerun under the sanitizers: its CLI paths (send, AF_XDP and engine)
# are the ones test_send and test_engine_cli run sanitized;
# this one is about the kernel side at 4,096 subscribers, a minute of it.
# `replicast send` at large fan-outs loses no copy: 128 and 500 subscribers
# through AF_XDP (the default up to there: kicks small enough for the
# backlog the copies wait on), 1,024 and 4,096 through the XDP engine (the
# default past it). Receivers as scripts/bench.sh has them: a few
# namespaces, many addresses each, one socket per subscriber (rc_fansink).
# Every socket gets each of the N packets once, byte-exact; the replicator
# counts N packets taken and N x C copies sent, none dropped; and the
# accounting identity (sent + dropped = packets x subscribers) holds where
# copies are lost on purpose (--engine afxdp at 1,024, past what the
# backlog holds), with a warning first.
set -u
. "$(dirname "$0")/../lib.sh"
rc_require_root
rc_setup_traps
BUILD=${BUILD:-build}
NRX=8			# receiver namespaces
PER=512			# addresses in each: 4,096 subscribers at most
PIN=/sys/fs/bpf/rcA-fanout-$RC_ID
HUB=$(rc_name Ahub)
RC="rc_in $HUB $RC_ROOT/$BUILD/replicast --pin-path $PIN"
trap '$RC unload >/dev/null 2>&1; rm -rf "$PIN"; rc_cleanup' EXIT

# Receiver i (0-based) lives in namespace i % NRX, as in scripts/bench.sh.
rx_addr() { echo "10.$((80 + $1 % NRX)).$((1 + $1 / NRX / 250)).$((1 + $1 / NRX % 250))"; }

rc_ns_add "$HUB" || exit 1
for ((k = 0; k < NRX; k++)); do
	ns=$(rc_name "Ar$k")
	rc_ns_add "$ns" || exit 1
	rc_veth "$(rc_name "Ah$k")" "$HUB" "$(rc_name "Av$k")" "$ns" || exit 1
	rc_addr "$HUB" "$(rc_name "Ah$k")" "10.$((80 + k)).0.1/16"
	# The XDP engine sends only to veths whose peer has NAPI (GRO on).
	rc_in "$ns" ethtool -K "$(rc_name "Av$k")" gro on >/dev/null
	mac=$(ip -n "$ns" -j link show dev "$(rc_name "Av$k")" | jq -r '.[0].address')
	# Static neighbours: 4,096 resolved entries would pass the neighbour
	# table's gc_thresh3 (1,024, shared by every namespace); permanent ones
	# do not count against it.
	for ((i = k; i < NRX * PER; i += NRX)); do
		echo "addr add $(rx_addr $i)/16 dev $(rc_name "Av$k")" >&3
		echo "neigh replace $(rx_addr $i) lladdr $mac dev $(rc_name "Ah$k") nud permanent"
	done 3> >(ip -n "$ns" -batch -) | ip -n "$HUB" -batch -
done
sleep 0.2	# the process substitutions finish their batches
rc_assert_ok "load" $RC load --inject-dev "$(rc_name Ainj)" --max-subs 4096
# One group per part, on the first C receivers, each on a port of its own.
{
	for c in 128 500 1024 4096; do
		echo "group add 10.99.0.1:$((5000 + c))"
		for ((i = 0; i < c; i++)); do echo "sub add 10.99.0.1:$((5000 + c)) $(rx_addr $i):$((7000 + c))"; done
	done
	echo "group add 10.99.0.2:6024"
	for ((i = 0; i < 1024; i++)); do echo "sub add 10.99.0.2:6024 $(rx_addr $i):8024"; done
} >"$RC_TMP/config"
rc_assert_ok "5 groups of 128 to 4,096 subscribers" $RC apply "$RC_TMP/config"

# sinks C PORT N: one rc_fansink per namespace for the first C receivers.
sinks() {
	local c=$1 port=$2 n=$3 k i
	SINKS=()
	for ((k = 0; k < NRX; k++)); do
		for ((i = k; i < c; i += NRX)); do echo "$(rx_addr $i):$port"; done >"$RC_TMP/l-$port-$k"
		rm -f "$RC_TMP/ready-$port-$k"
		rc_bg "$(rc_name "Ar$k")" "$RC_BIN/rc_fansink" --listen-file "$RC_TMP/l-$port-$k" \
			--expect "$n" --size 64 --report "$RC_TMP/r-$port-$k" \
			--ready-file "$RC_TMP/ready-$port-$k" >/dev/null
		SINKS+=("$RC_BG_PID")
	done
	for ((k = 0; k < NRX; k++)); do rc_wait_ready "$RC_TMP/ready-$port-$k" 20; done
}

# sinks_ok PORT: 0 when every receiver socket got exactly N, all of them right.
sinks_ok() {
	local port=$1 k bad=0
	for ((k = 0; k < NRX; k++)); do
		rc_wait_pid "${SINKS[k]}" 60 || { bad=1; echo "# namespace $k: $(cat "$RC_TMP/r-$port-$k")"; }
	done
	# Not asserted: copies of one stream can be delivered from both CPUs'
	# backlogs when the sender moves between CPUs (see the README).
	echo "# port $port: $(cat "$RC_TMP"/r-"$port"-* | grep -o 'reordered=[0-9]*' |
		awk -F= '{ n += $2 } END { print n + 0 }') copies arrived after a later packet's"
	return $bad
}

group_json() { $RC stats --json | jq -c ".groups[] | select(.group==\"$1\")"; }
drops_total() { $RC stats --json | jq '[.drops[]] | add'; }

# part C N ENGINE_WORD [send options]: N packets to the C-subscriber group.
part() {
	local c=$1 n=$2 word=$3 g=10.99.0.1:$((5000 + $1)) port=$((7000 + $1)) out j d0
	shift 3
	sinks "$c" "$port" "$n"
	d0=$(drops_total)
	out=$($RC send "$g" --gen "$n" --size 64 --json "$@" 2>"$RC_TMP/stderr")
	rc_assert_eq 0 $? "C=$c: send --gen $n exits 0 ($(tail -1 "$RC_TMP/stderr"))"
	rc_assert_match "$word" "$(cat "$RC_TMP/stderr")" "C=$c: it went $word"
	if sinks_ok "$port"; then
		rc_ok "C=$c: all $c sockets got each of the $n packets once, byte-exact"
	else
		rc_not_ok "C=$c: all $c sockets got each of the $n packets once, byte-exact"
	fi
	j=$(group_json "$g")
	rc_assert_eq "$n $((n * c))" "$(jq -r '"\(.received.packets) \(.sent.packets)"' <<<"$j")" \
		"C=$c: the replicator took $n packets and sent $((n * c)) copies"
	rc_assert_eq 0 "$(($(drops_total) - d0))" "C=$c: no copy counted as dropped"
	rc_assert_eq "$n 0" "$(jq -r '"\(.sent) \(.errors)"' <<<"$out")" \
		"C=$c: the summary: $n sent, no errors"
	echo "# C=$c: $(jq -c '{seconds, kicks, waits, max_per_kick}' <<<"$out" 2>/dev/null)"
	PART_OUT=$out
}

part 128 3000 "through $(rc_name Ainj)"
rc_assert_eq 5 "$(jq .max_per_kick <<<"$PART_OUT")" \
	"C=128: five frames per kick (640 copies: a kick's budget is 750)"
part 500 2000 "through $(rc_name Ainj)"
rc_assert_eq 1 "$(jq .max_per_kick <<<"$PART_OUT")" \
	"C=500: one frame per kick (a kick carries at most 750 copies)"
part 1024 1000 "through the XDP engine"
part 4096 300 "through the XDP engine"

# Forced through AF_XDP past what the backlog holds: copies are lost, and
# every one of them is counted (sent + dropped = packets x subscribers).
G=10.99.0.2:6024
n=200
out=$($RC send $G --gen $n --size 64 --engine afxdp 2>&1)
rc_assert_eq 1 $? "C=1024 --engine afxdp: exit 1, copies were lost"
rc_assert_match "copies \($n packets x 1024 subscribers\) were lost in the kernel \(redirect_failed" \
	"$out" "and the summary says how many and why"
rc_assert_match "warning: group $G: 1024 subscribers are more copies of one packet than the CPU backlog" \
	"$out" "the library warned before sending"
j=$(group_json $G)
sent=$(jq .sent.packets <<<"$j")
dropped=$(jq '[.subscribers[].dropped] | add' <<<"$j")
rc_assert_eq $((n * 1024)) $((sent + dropped)) \
	"C=1024 --engine afxdp: sent $sent + dropped $dropped = $n x 1024"

# A device the engine cannot send to: the default does not fall back to
# losing copies in silence, it says what to do.
rc_in "$(rc_name Ar3)" ethtool -K "$(rc_name Av3)" gro off >/dev/null
out=$($RC send $G --gen 10 --size 64 2>&1)
rc_assert_eq 1 $? "C=1024, a receiver veth without NAPI: send fails"
rc_assert_match "cannot take XDP frames.*--engine afxdp sends anyway" "$out" \
	"naming --peer-gro and --engine afxdp"
rc_assert_eq "$sent" "$(group_json $G | jq .sent.packets)" "and sent nothing"

rc_summary
