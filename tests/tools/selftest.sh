#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# tests/tools/selftest.sh - prove rc_blast/rc_sink/lib.sh without replicast.
#
# Topology (all namespaces named rc*<RC_ID>, removed on exit):
#
#   rcs (source) s0 ---- r0 rcr (router, ip_forward) r1 ---- a0 rca (receiver A)
#                                                    r2 ---- b0 rcb (receiver B)
#
#   s<->r: 198.18.0.0/24  fd72:63:0::/64    (.2/::2 = leaf, .1/::1 = router)
#   r<->a: 198.18.1.0/24  fd72:63:1::/64
#   r<->b: 198.18.2.0/24  fd72:63:2::/64
#
# Usage: tests/tools/selftest.sh        (builds build/tests/rc_* if needed)
#        RC_BIN=/dir/with/other/builds tests/tools/selftest.sh
set -u

rc_bin_given=${RC_BIN+x}
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

rc_require_root
for c in ip nsenter ethtool gcc; do
	command -v "$c" >/dev/null || { echo "selftest: missing $c" >&2; exit 1; }
done

if [ -z "$rc_bin_given" ]; then
	mkdir -p "$RC_BIN" || exit 1
	for t in rc_blast rc_sink; do
		if [ ! -x "$RC_BIN/$t" ] || [ "$RC_ROOT/tests/tools/$t.c" -nt "$RC_BIN/$t" ]; then
			gcc -std=gnu11 -Wall -Wextra -Werror -O2 "$RC_ROOT/tests/tools/$t.c" \
				-o "$RC_BIN/$t" || exit 1
		fi
	done
fi
BLAST=$RC_BIN/rc_blast
SINK=$RC_BIN/rc_sink
if [ ! -x "$BLAST" ] || [ ! -x "$SINK" ]; then
	echo "selftest: no tools in $RC_BIN" >&2
	exit 1
fi

rc_setup_traps
T=$(rc_tmpdir) || exit 1

NS_S=$(rc_name s)
NS_R=$(rc_name r)
NS_A=$(rc_name a)
NS_B=$(rc_name b)
S0=$(rc_name s0) R0=$(rc_name r0) R1=$(rc_name r1) A0=$(rc_name a0) R2=$(rc_name r2) B0=$(rc_name b0)

S4=198.18.0.2 A4=198.18.1.2 B4=198.18.2.2
S6=fd72:63:0::2 A6=fd72:63:1::2 B6=fd72:63:2::2

setup() {
	local ns
	for ns in "$NS_S" "$NS_R" "$NS_A" "$NS_B"; do
		rc_ns_add "$ns" || return 1
	done
	rc_veth "$S0" "$NS_S" "$R0" "$NS_R" || return 1
	rc_veth "$R1" "$NS_R" "$A0" "$NS_A" || return 1
	rc_veth "$R2" "$NS_R" "$B0" "$NS_B" || return 1
	rc_addr "$NS_S" "$S0" $S4/24 && rc_addr "$NS_S" "$S0" $S6/64 &&
	rc_addr "$NS_R" "$R0" 198.18.0.1/24 && rc_addr "$NS_R" "$R0" fd72:63:0::1/64 &&
	rc_addr "$NS_R" "$R1" 198.18.1.1/24 && rc_addr "$NS_R" "$R1" fd72:63:1::1/64 &&
	rc_addr "$NS_R" "$R2" 198.18.2.1/24 && rc_addr "$NS_R" "$R2" fd72:63:2::1/64 &&
	rc_addr "$NS_A" "$A0" $A4/24 && rc_addr "$NS_A" "$A0" $A6/64 &&
	rc_addr "$NS_B" "$B0" $B4/24 && rc_addr "$NS_B" "$B0" $B6/64 || return 1
	rc_in "$NS_S" ip route add default via 198.18.0.1 &&
	rc_in "$NS_S" ip -6 route add default via fd72:63:0::1 &&
	rc_in "$NS_A" ip route add default via 198.18.1.1 &&
	rc_in "$NS_A" ip -6 route add default via fd72:63:1::1 &&
	rc_in "$NS_B" ip route add default via 198.18.2.1 &&
	rc_in "$NS_B" ip -6 route add default via fd72:63:2::1 || return 1
	rc_in "$NS_R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# ---- sink helpers --------------------------------------------------------
declare -A SINK_PID
PORT=5000

next_port() { PORT=$((PORT + 1)); }

# start_sink KEY NS rc_sink-args...   (report in $T/KEY.rep)
start_sink() {
	local key=$1 ns=$2
	shift 2
	rm -f "$T/$key.ready" "$T/$key.rep"
	rc_bg "$ns" "$SINK" --ready-file "$T/$key.ready" --report "$T/$key.rep" "$@" \
		>"$T/$key.out" 2>"$T/$key.err"
	SINK_PID[$key]=$RC_BG_PID
	if ! rc_wait_ready "$T/$key.ready" 10; then
		echo "# sink $key did not get ready: $(cat "$T/$key.err")"
		return 1
	fi
}

# wait_sink KEY -> sets SINK_RC and SINK_REP (report line)
wait_sink() {
	local key=$1
	SINK_RC=0
	rc_wait_pid "${SINK_PID[$key]}" 60 || SINK_RC=$?
	SINK_REP=$(cat "$T/$key.rep" 2>/dev/null)
	[ -s "$T/$key.err" ] && echo "# $key stderr: $(cat "$T/$key.err")"
	echo "# $key: $SINK_REP"
}

kv() { rc_kv "$SINK_REP" "$1"; }

blast() {
	local out rc=0
	out=$(rc_in "$NS_S" "$BLAST" "$@" 2>"$T/blast.err") || rc=$?
	BLAST_OUT=$out
	if [ $rc -ne 0 ]; then
		echo "# rc_blast $* failed ($rc): $(cat "$T/blast.err")"
	fi
	return $rc
}

# ---- tests ---------------------------------------------------------------
echo "# RC_ID=$RC_ID tools from $RC_BIN"
setup || { rc_not_ok "topology setup"; rc_summary; exit 1; }
rc_ok "topology setup"

# Warm up neighbour/route state so the first real packets are not queued.
for d in "A4 $NS_A $A4" "A6 $NS_A [$A6]" "B4 $NS_B $B4" "B6 $NS_B [$B6]"; do
	# shellcheck disable=SC2086 # split the record into fields
	set -- $d
	next_port
	start_sink "warm$1" "$2" --listen "$3:$PORT" --expect 1 --timeout-ms 5000 || continue
	blast --to "$3:$PORT" --count 1
	wait_sink "warm$1"
	rc_assert_eq 0 "$SINK_RC" "warm-up path to $1"
done

# Runs the same 4 flows (A/B x IPv4/IPv6) with capture; $1 = label,
# remaining args are extra rc_sink flags.
N=2000
run_four() {
	local label=$1
	shift
	local -a flows=("A4 $NS_A $A4 $A0 $S4 64" "A6 $NS_A [$A6] $A0 [$S6] 1400"
			"B4 $NS_B $B4 $B0 $S4 1400" "B6 $NS_B [$B6] $B0 [$S6] 64")
	local -a extra=("$@")
	local f seed=0
	declare -A port
	for f in "${flows[@]}"; do
		# shellcheck disable=SC2086 # split the record into fields
		set -- $f
		next_port
		port[$1]=$PORT
		seed=$((seed + 11))
		start_sink "$label$1" "$2" --listen "$3:$PORT" --expect $N --size "$6" \
			--seed $seed --from "$5" --capture "$4" --idle-ms 1500 --linger-ms 200 \
			"${extra[@]}" || rc_not_ok "$label $1 sink start"
	done
	seed=0
	for f in "${flows[@]}"; do
		# shellcheck disable=SC2086 # split the record into fields
		set -- $f
		seed=$((seed + 11))
		blast --to "$3:${port[$1]}" --count $N --size "$6" --seed $seed --rate 50000 ||
			rc_not_ok "$label $1 rc_blast"
	done
}

# 1. tx checksum offload ON on the sender veth (default): frames arrive
#    CHECKSUM_PARTIAL, so they are counted as csum_not_ready, not judged.
run_four on
for k in A4 A6 B4 B6; do
	wait_sink "on$k"
	rc_assert_eq 0 "$SINK_RC" "offload on: $k sink passes"
	rc_assert_eq $N "$(kv received)" "offload on: $k received=$N"
	rc_assert_eq $N "$(kv captured)" "offload on: $k captured=$N"
	rc_assert_ge 1 "$(kv csum_not_ready)" "offload on: $k csum_not_ready > 0"
done

# 2. tx checksum offload OFF: full checksums on the wire, all judged valid.
tx_off() { rc_in "$NS_S" ethtool -K "$S0" tx off >/dev/null; }
rc_assert_ok "ethtool -K $S0 tx off" tx_off
rc_assert_match '^tx-checksumming: off' "$(rc_in "$NS_S" ethtool -k "$S0" | grep '^tx-checksumming:')" \
	"sender veth reports tx-checksumming off"
run_four off --require-full-csum
for k in A4 A6 B4 B6; do
	wait_sink "off$k"
	rc_assert_eq 0 "$SINK_RC" "offload off: $k sink passes"
	rc_assert_eq $N "$(kv received)" "offload off: $k received=$N"
	rc_assert_eq 1 "$(kv in_order)" "offload off: $k in_order=1"
	rc_assert_eq $N "$(kv captured)" "offload off: $k captured=$N"
	rc_assert_eq 0 "$(kv csum_not_ready)" "offload off: $k csum_not_ready=0"
	rc_assert_eq "0 0 0 0" "$(kv bad_ip_csum) $(kv bad_udp_csum) $(kv zero_udp_csum) $(kv bad_udp_len)" \
		"offload off: $k bad_ip_csum bad_udp_csum zero_udp_csum bad_udp_len all 0"
done

# 3. one packet short: 10 sent, 11 expected.
next_port
start_sink short "$NS_A" --listen "$A4:$PORT" --expect 11 --idle-ms 500
blast --to "$A4:$PORT" --count 10
wait_sink short
rc_assert_ne 0 "$SINK_RC" "10 of 11: sink exits non-zero"
rc_assert_eq 10 "$(kv received)" "10 of 11: received=10"
rc_assert_eq idle "$(kv stop)" "10 of 11: stopped on idle"

# 4. one packet too many, caught by --linger-ms.
next_port
start_sink extra "$NS_A" --listen "$A4:$PORT" --expect 5 --linger-ms 500
blast --to "$A4:$PORT" --count 6
wait_sink extra
rc_assert_ne 0 "$SINK_RC" "6 for 5 with linger: sink exits non-zero"
rc_assert_eq 6 "$(kv received)" "6 for 5 with linger: received=6"

# 5. zero and wrong UDP checksums (raw socket sender) are caught by capture.
for fam in 4 6; do
	if [ $fam = 4 ]; then dst=$A4; else dst="[$A6]"; fi
	for mode in zero bad; do
		next_port
		start_sink "cs$mode$fam" "$NS_A" --listen "$dst:$PORT" --expect 20 --capture "$A0" \
			--idle-ms 500 --timeout-ms 1500
		blast --to "$dst:$PORT" --count 20 --udp-csum $mode
		wait_sink "cs$mode$fam"
		rc_assert_ne 0 "$SINK_RC" "IPv$fam $mode UDP checksum: sink exits non-zero"
		rc_assert_eq 20 "$(kv captured)" "IPv$fam $mode UDP checksum: captured=20"
		if [ $mode = zero ]; then
			rc_assert_eq 20 "$(kv zero_udp_csum)" "IPv$fam zero UDP checksum: zero_udp_csum=20"
		else
			rc_assert_eq 20 "$(kv bad_udp_csum)" "IPv$fam bad UDP checksum: bad_udp_csum=20"
		fi
		# the stack accepts a zero checksum only over IPv4
		if [ $fam = 4 ] && [ $mode = zero ]; then exp=20; else exp=0; fi
		rc_assert_eq $exp "$(kv received)" "IPv$fam $mode UDP checksum: kernel delivered $exp"
	done
done

# 6. payload, source, size, order errors.
next_port
start_sink seed "$NS_B" --listen "$B4:$PORT" --expect 10 --seed 1 --idle-ms 500
blast --to "$B4:$PORT" --count 10 --seed 2
wait_sink seed
rc_assert_ne 0 "$SINK_RC" "wrong seed: sink exits non-zero"
rc_assert_eq 10 "$(kv bad_payload)" "wrong seed: bad_payload=10"

next_port
start_sink src "$NS_B" --listen "[$B6]:$PORT" --expect 10 --from "[$S6]:4444" --idle-ms 500
blast --to "[$B6]:$PORT" --count 10 --bind "[$S6]:4445"
wait_sink src
rc_assert_ne 0 "$SINK_RC" "wrong source port: sink exits non-zero"
rc_assert_eq 10 "$(kv bad_source)" "wrong source port: bad_source=10"

next_port
start_sink srcok "$NS_B" --listen "[$B6]:$PORT" --expect 10 --from "[$S6]:4444" --idle-ms 500
blast --to "[$B6]:$PORT" --count 10 --bind "[$S6]:4444"
wait_sink srcok
rc_assert_eq 0 "$SINK_RC" "right source address and port: sink passes"

next_port
start_sink size "$NS_B" --listen "$B4:$PORT" --expect 10 --size 200 --idle-ms 500
blast --to "$B4:$PORT" --count 10 --size 100
wait_sink size
rc_assert_ne 0 "$SINK_RC" "wrong size: sink exits non-zero"
rc_assert_eq 10 "$(kv bad_size)" "wrong size: bad_size=10"

next_port
start_sink gap "$NS_B" --listen "$B4:$PORT" --expect 10 --idle-ms 500
blast --to "$B4:$PORT" --count 5 && blast --to "$B4:$PORT" --count 5 --first 6
wait_sink gap
rc_assert_ne 0 "$SINK_RC" "gap: sink exits non-zero"
rc_assert_eq 0 "$(kv in_order)" "gap: in_order=0"
rc_assert_match '^gap: expected seq 5, got 6' "$(kv first_error)" "gap: first_error names seq 5"

next_port
start_sink dup "$NS_B" --listen "$B4:$PORT" --expect 10 --idle-ms 500
blast --to "$B4:$PORT" --count 5 && blast --to "$B4:$PORT" --count 5
wait_sink dup
rc_assert_ne 0 "$SINK_RC" "duplicates: sink exits non-zero"
rc_assert_eq 0 "$(kv in_order)" "duplicates: in_order=0"
rc_assert_match '^duplicate or reordered: expected seq 5, got 0' "$(kv first_error)" \
	"duplicates: first_error names seq 0"

# 7. --expect 0 passes when nothing arrives (other receiver gets the traffic).
next_port
start_sink none "$NS_B" --listen "$B4:$PORT" --expect 0 --timeout-ms 800
blast --to "$A4:$PORT" --count 10
wait_sink none
rc_assert_eq 0 "$SINK_RC" "expect 0: silent receiver passes"
rc_assert_eq timeout "$(kv stop)" "expect 0: stopped on timeout"

# 8. rate limiting and bounds.
blast --to "$A4:9" --count 300 --rate 1000
t=$(echo "$BLAST_OUT" | sed -n 's/^sent 300 packets in \([0-9.]*\) s$/\1/p')
rc_assert_match '^0\.(2[5-9]|[3-5])' "${t:-none}" "rate 1000 pps: 300 packets take 0.25-0.6 s ($t s)"
rc=0; "$BLAST" --to 127.0.0.1:9 --count 10000001 2>/dev/null || rc=$?
rc_assert_eq 2 $rc "rc_blast refuses --count > 10,000,000 (exit 2)"
rc=0; "$BLAST" --to 127.0.0.1:9 --count 100000 --rate 100 2>/dev/null || rc=$?
rc_assert_eq 2 $rc "rc_blast refuses a run longer than 120 s (exit 2)"
rc=0; "$SINK" --expect 1 2>/dev/null || rc=$?
rc_assert_eq 2 $rc "rc_sink without --listen is a usage error (exit 2)"
rc=0; "$BLAST" --help >/dev/null || rc=$?
rc_assert_eq 0 $rc "rc_blast --help exits 0"

rc_summary
