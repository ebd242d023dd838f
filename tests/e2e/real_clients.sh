# shellcheck shell=bash
# Helpers for the tests that drive replicast with real programs from Debian
# (test_real_*.sh), sourced after tests/lib.sh and topology.sh.
#
#   real_need PROG...            every PROG is installed, or the test stops
#                                here as failed, naming what is missing
#   real_relay                   after topo_build: the relay as it runs in
#                                production, IP forwarding off (both
#                                families); a route for 239.0.0.0/8 from the
#                                source out of its veth to the relay
#   real_wait_bound NS PORT [S]  wait until a UDP socket is bound to PORT in NS
#   real_wait_drained NS PORT [S]  wait until that socket's receive queue is
#                                empty (its program has read every datagram)
#   real_udp_out NS              UDP datagrams sent so far in NS (kernel count)
#   real_summary                 rc_summary; after a failure it first shows
#                                the relay's non-zero drop counters
#
real_need() {
	local p missing=()
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	rc_not_ok "programs installed" "missing ${missing[*]} (scripts/install-deps.sh installs them; make test runs it)"
	rc_summary
	exit 1
}

real_relay() {
	# A relay host need not route, and replicast must serve its groups
	# without it (topology.sh's default; said again here, as it is the point).
	rc_in "$TOPO_RELAY" sysctl -qw net.ipv4.conf.all.forwarding=0 || return 1
	rc_in "$TOPO_RELAY" sysctl -qw net.ipv6.conf.all.forwarding=0 || return 1
	# Multicast leaves by the route's device: the source's veth to the relay.
	rc_in "$TOPO_SRC" ip route add 239.0.0.0/8 dev "$(rc_name so)"
}

# ss prints one line per matching socket: "Recv-Q Send-Q Local Peer".
_real_ss() {
	rc_in "$1" ss -Huan "sport = :$2" 2>/dev/null
}

real_wait_bound() {
	local ns=$1 port=$2 timeout=${3:-10}
	local end=$(($(_rc_now_us) + timeout * 1000000))
	while [ -z "$(_real_ss "$ns" "$port")" ]; do
		if [ "$(_rc_now_us)" -ge "$end" ]; then
			echo "# nothing bound to UDP port $port in $ns after ${timeout}s" >&2
			return 1
		fi
		sleep 0.05
	done
}

real_wait_drained() {
	local ns=$1 port=$2 timeout=${3:-10} q
	local end=$(($(_rc_now_us) + timeout * 1000000))
	while :; do
		q=$(_real_ss "$ns" "$port" | awk '{ s += $2 } END { print s + 0 }')
		[ "$q" -eq 0 ] && return 0
		if [ "$(_rc_now_us)" -ge "$end" ]; then
			echo "# UDP port $port in $ns still has $q bytes queued after ${timeout}s" >&2
			return 1
		fi
		sleep 0.05
	done
}

real_udp_out() {
	rc_in "$1" awk '$1 == "Udp:" { if (n++) { for (i = 1; i <= NF; i++) if (h[i] == "OutDatagrams") print $i } else for (i = 1; i <= NF; i++) h[i] = $i }' /proc/net/snmp
}

real_summary() {
	if [ "$RC_FAIL" -gt 0 ] && [ -d "$TOPO_PIN" ]; then
		echo "# relay drop counters: $($RC stats --json 2>/dev/null |
			jq -r '[.drops | to_entries[] | select(.value > 0) | "\(.key)=\(.value)"] | join(" ") | if . == "" then "none" else . end')"
	fi
	rc_summary
}
