# shellcheck shell=bash
# The end-to-end topology, sourced by tests after tests/lib.sh:
#
#   source ns ──veth── relay ns (replicast on the ingress of its source-side
#                       veth, forwarding off) ──veth── receiver ns 1..N
#
# Addresses: source 10.77.0.1 / fd77::1; relay 10.77.0.254 / fd77::fe on the
# source side and 10.77.I.1 / fd77:I::1 towards receiver I, which is
# 10.77.I.2 / fd77:I::2. Groups live in 10.77.100.0/24 and fd77:100::/64,
# routed by the source through the relay.
# After topo_build N: TOPO_SRC, TOPO_RELAY, TOPO_RELAY_IN (the device
# replicast attaches to), TOPO_RX[I], TOPO_RX_DEV[I] (receiver-side device),
# TOPO_RELAY_DEV[I] (relay-side device), TOPO_N (N), and $RC (the CLI, run in the relay
# namespace, with a private pin path).
# The relay does not route (forwarding off, as on a host that is no router):
# replicast sends its own copies. TOPO_FORWARDING=1 before topo_build turns
# forwarding on, for the tests of the FIB's answers.

BUILD=${BUILD:-build}
TOPO_PIN=/sys/fs/bpf/rc-e2e-$RC_ID

topo_build() {
	local n=$1 i rx
	TOPO_N=$n
	TOPO_SRC=$(rc_name s)
	TOPO_RELAY=$(rc_name r)
	TOPO_RELAY_IN=$(rc_name ri)
	rc_ns_add "$TOPO_SRC" || return 1
	rc_ns_add "$TOPO_RELAY" || return 1
	rc_veth "$(rc_name so)" "$TOPO_SRC" "$TOPO_RELAY_IN" "$TOPO_RELAY" || return 1
	rc_addr "$TOPO_SRC" "$(rc_name so)" 10.77.0.1/24
	rc_addr "$TOPO_SRC" "$(rc_name so)" fd77::1/64
	rc_addr "$TOPO_RELAY" "$TOPO_RELAY_IN" 10.77.0.254/24
	rc_addr "$TOPO_RELAY" "$TOPO_RELAY_IN" fd77::fe/64
	rc_in "$TOPO_SRC" ip route add 10.77.100.0/24 via 10.77.0.254
	rc_in "$TOPO_SRC" ip -6 route add fd77:100::/64 via fd77::fe
	# The source stands for a host behind a NIC: full checksums in every
	# packet, not the CHECKSUM_PARTIAL a veth would otherwise carry.
	rc_in "$TOPO_SRC" ethtool -K "$(rc_name so)" tx off >/dev/null
	rc_in "$TOPO_RELAY" sysctl -qw net.ipv4.conf.all.forwarding="${TOPO_FORWARDING:-0}"
	rc_in "$TOPO_RELAY" sysctl -qw net.ipv6.conf.all.forwarding="${TOPO_FORWARDING:-0}"
	topo_receivers "$n" 10.77 fd77 || return 1
	topo_cli
}

# topo_receivers N NET4 NET6 [TAG]: receiver namespaces 1..N, each on a veth
# from the relay namespace ($TOPO_RELAY): the relay is NET4.I.1 / NET6:I::1
# towards receiver I, which is NET4.I.2 / NET6:I::2. Sets TOPO_N, TOPO_RX,
# TOPO_RX_DEV, TOPO_RELAY_DEV; TAG keeps the names apart for a test that
# builds the rest of its topology itself.
topo_receivers() {
	local n=$1 net4=$2 net6=$3 tag=${4:-} i rx
	TOPO_N=$n
	for ((i = 1; i <= n; i++)); do
		rx=$(rc_name "${tag}x$i")
		TOPO_RX[i]=$rx
		TOPO_RX_DEV[i]=$(rc_name "${tag}xa$i")
		TOPO_RELAY_DEV[i]=$(rc_name "${tag}rx$i")
		rc_ns_add "$rx" || return 1
		rc_veth "${TOPO_RELAY_DEV[i]}" "$TOPO_RELAY" "${TOPO_RX_DEV[i]}" "$rx" || return 1
		rc_addr "$TOPO_RELAY" "${TOPO_RELAY_DEV[i]}" "$net4.$i.1/24"
		rc_addr "$TOPO_RELAY" "${TOPO_RELAY_DEV[i]}" "$net6:$i::1/64"
		rc_addr "$rx" "${TOPO_RX_DEV[i]}" "$net4.$i.2/24"
		rc_addr "$rx" "${TOPO_RX_DEV[i]}" "$net6:$i::2/64"
	done
}

# topo_cli: $RC, the CLI run in the relay namespace with a private pin
# path, and a trap that unloads it when the test stops, even halfway (the
# namespaces go with lib.sh).
topo_cli() {
	RC="rc_in $TOPO_RELAY $RC_ROOT/$BUILD/replicast --pin-path $TOPO_PIN"
	trap 'topo_unload; rc_cleanup' EXIT
}

# topo_snooping_bridge NS BR [ip-link bridge options...]: a bridge with IGMP
# and MLD snooping and its own querier (IGMPv3, MLDv2), fast timers. The
# timers are set before the querier is switched on: it counts as present
# (br_multicast_querier_exists) only one response interval after that, and
# until then the bridge floods every group (mcast_flood off keeps a port out
# of it). topo_querier_wait waits for that moment. Intervals in centiseconds.
topo_snooping_bridge() {
	local ns=$1 br=$2
	shift 2
	rc_in "$ns" ip link add "$br" type bridge mcast_snooping 1 mcast_query_interval 300 \
		mcast_query_response_interval 100 mcast_startup_query_interval 50 \
		mcast_startup_query_count 2 mcast_igmp_version 3 mcast_mld_version 2 "$@" || return 1
	rc_track_dev "$ns" "$br"
	rc_in "$ns" ip link set "$br" up
	rc_in "$ns" ip link set "$br" type bridge mcast_querier 1
	TOPO_QUERIER_AT=$(date +%s%N)
}

# topo_querier_wait: until the bridge's querier counts as present (its 1 s
# response interval and a margin after topo_snooping_bridge).
topo_querier_wait() {
	local left=$((TOPO_QUERIER_AT + 1500 * 1000 * 1000 - $(date +%s%N)))
	[ $left -gt 0 ] && sleep "$(printf '%d.%09d' $((left / 1000000000)) $((left % 1000000000)))"
	return 0
}

topo_unload() {
	[ -d "$TOPO_PIN" ] && rc_in "$TOPO_RELAY" "$RC_ROOT/$BUILD/replicast" --pin-path "$TOPO_PIN" unload
	rm -rf "$TOPO_PIN"
}

# topo_sink I ADDR:PORT EXPECT [rc_sink options...]: a checking receiver in
# receiver namespace I, started in the background; waits until it listens.
# Its report goes to $RC_TMP/sink-I-PORT.
topo_sink() {
	local i=$1 listen=$2 expect=$3 port
	shift 3
	port=${listen##*:}
	rm -f "$RC_TMP/ready-$i-$port"
	rc_bg "${TOPO_RX[i]}" "$RC_BIN/rc_sink" --listen "$listen" --expect "$expect" \
		--report "$RC_TMP/sink-$i-$port" --ready-file "$RC_TMP/ready-$i-$port" "$@" >/dev/null
	TOPO_SINK_PID[i * 100000 + port]=$RC_BG_PID
	rc_wait_ready "$RC_TMP/ready-$i-$port" 10
}

# topo_sink_wait I PORT: exit status of that receiver (124 if it hung); a
# failing receiver's report is shown, to say what went wrong.
topo_sink_wait() {
	local rc
	rc_wait_pid "${TOPO_SINK_PID[$1 * 100000 + $2]}" 60
	rc=$?
	[ $rc -eq 0 ] || echo "# receiver $1 port $2: $(cat "$RC_TMP/sink-$1-$2" 2>/dev/null)"
	return $rc
}

# topo_stat FILTER: a value from `replicast stats --json`, by a jq filter.
topo_stat() {
	$RC stats --json | jq -r "$1"
}

# ---- The set-up most tests repeat: every receiver subscribed, every
# receiver listening, every receiver checked. I runs over 1..TOPO_N.

# topo_rx_addr FAMILY I PORT: receiver I's address and PORT as the CLI and
# rc_sink write it (10.77.I.2:PORT, [fd77:I::2]:PORT).
topo_rx_addr() {
	if [ "$1" = 4 ]; then echo "10.77.$2.2:$3"; else echo "[fd77:$2::2]:$3"; fi
}

# topo_relay_addr FAMILY I: the relay's address towards receiver I, where
# its copies come from (IPv6 in brackets, so that a port may follow).
topo_relay_addr() {
	if [ "$1" = 4 ]; then echo "10.77.$2.1"; else echo "[fd77:$2::1]"; fi
}

# topo_subscribe FAMILY GROUP PORT [sub add options...]: receiver I's
# topo_rx_addr subscribed to GROUP, for every I; each sub add is a check.
topo_subscribe() {
	local fam=$1 group=$2 port=$3 i dest
	shift 3
	for ((i = 1; i <= TOPO_N; i++)); do
		dest=$(topo_rx_addr "$fam" $i "$port")
		$RC sub add "$group" "$dest" "$@" >/dev/null || rc_not_ok "sub add $group $dest $*"
	done
}

# topo_sinks FAMILY PORT EXPECT [rc_sink options...]: a checking receiver on
# every receiver's topo_rx_addr. In the options, @RXDEV stands for receiver
# I's own device (--capture @RXDEV) and @RELAY for the relay's address
# towards it, where copies come from (--from @RELAY, --from @RELAY:4000).
topo_sinks() {
	local fam=$1 port=$2 expect=$3 i args
	shift 3
	for ((i = 1; i <= TOPO_N; i++)); do
		args=("${@/#@RXDEV/${TOPO_RX_DEV[i]}}")
		args=("${args[@]/#@RELAY/$(topo_relay_addr "$fam" $i)}")
		topo_sink $i "$(topo_rx_addr "$fam" $i "$port")" "$expect" "${args[@]}"
	done
}

# topo_sinks_wait PORT WHAT: waits for every receiver on PORT and checks
# each (WHAT says what a passing receiver got); TOPO_FAILS counts failures.
topo_sinks_wait() {
	local port=$1 what=$2 i
	TOPO_FAILS=0
	for ((i = 1; i <= TOPO_N; i++)); do
		topo_sink_wait $i "$port"
		rc_assert_eq 0 $? "receiver $i $what" || TOPO_FAILS=$((TOPO_FAILS + 1))
	done
}

# topo_rx_gro: GRO on every receiver's device. XDP frames redirected into a
# veth are taken only while its peer has NAPI (an XDP program or GRO), which
# the XDP engine's copies need.
topo_rx_gro() {
	local i
	for ((i = 1; i <= TOPO_N; i++)); do
		rc_in "${TOPO_RX[i]}" ethtool -K "${TOPO_RX_DEV[i]}" gro on >/dev/null
	done
}

# serve_start [ARGS]: replicast serve (the relay engine) in the relay
# namespace, in the background, its output in $SERVE_OUT; waits until it
# says it relays. serve_stop: SIGTERM, and its exit status. serve_stat KEY:
# from its last counters line (taken, copies, passed_asleep, parks...).
serve_start() {
	SERVE_OUT=$RC_TMP/serve.out
	: >"$SERVE_OUT"
	rc_bg "$TOPO_RELAY" "$RC_ROOT/$BUILD/replicast" --pin-path "$TOPO_PIN" serve --peer-gro "$@" \
		>"$SERVE_OUT" 2>&1
	SERVE=$RC_BG_PID
	local w
	for ((w = 0; w < 100; w++)); do
		grep -q "relaying" "$SERVE_OUT" && return 0
		kill -0 "$SERVE" 2>/dev/null || break
		sleep 0.05
	done
	echo "# serve: $(cat "$SERVE_OUT")"
	return 1
}
serve_stop() {
	local rc
	kill -TERM "$SERVE"
	rc_wait_pid "$SERVE" 10
	rc=$?
	echo "# serve's counters: $(grep '^taken' "$SERVE_OUT" | tail -1)"
	return $rc
}
serve_stat() {
	grep '^taken' "$SERVE_OUT" | tail -1 | tr ' ' '\n' | grep -A1 -x "$1" | tail -1
}
