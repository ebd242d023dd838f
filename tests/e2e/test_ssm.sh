#!/usr/bin/env bash
# san: yes
# End to end: source-specific memberships (issue 11, "Join", IGMPv3 / MLDv2
# source-specific when the allow list names host sources). A group whose
# allow list names one host, S1, makes no autojoin address; while a holder
# runs (tests/tools/rc_ssm_hold, standing in for `replicast serve`) the relay
# reports INCLUDE {S1} on its attached device, an IGMPv3-snooping bridge
# forwards S1's stream to it and not S2's, and every subscriber gets S1's
# stream exactly; when the holder dies the membership goes with it, and
# `list` says so. A wider prefix in the allow list turns the address
# any-source (autojoin) and back. IPv6 through MLDv2 snooping the same.
#
#   S1 ns ──veth──┐
#                 bridge ns: rcSbr (snooping, IGMPv3 / MLDv2, querier; the
#   S2 ns ──veth──┤ relay's port has mcast_flood off)
#                 └──veth── relay ns ──veth── rx 1, 2
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=2
COUNT=2000
G4=239.2.3.4
G6=ff0e::2:3:4
S1=10.79.0.1
S2=10.79.0.2
S1_6=fd79::1
S2_6=fd79::2
HOLD=$RC_ROOT/$BUILD/tests/rc_ssm_hold	# the sanitized one under build-san

NS_S1=$(rc_name Ss1)
NS_S2=$(rc_name Ss2)
BRNS=$(rc_name Sb)
TOPO_RELAY=$(rc_name Sr)
BR=$(rc_name Sbr)
S1_DEV=$(rc_name Sa1)
S1_PORT=$(rc_name Sp1)
S2_DEV=$(rc_name Sa2)
S2_PORT=$(rc_name Sp2)
RELAY_DEV=$(rc_name Sri)	# the relay's bridge-facing device
RELAY_PORT=$(rc_name Spr)
RELAY_DEV2=$(rc_name Srj)	# a second relay device, attached later, unbridged
RELAY_DEV2_PEER=$(rc_name Spj)
for ns in "$NS_S1" "$NS_S2" "$BRNS" "$TOPO_RELAY"; do rc_ns_add "$ns" || exit 1; done
topo_snooping_bridge "$BRNS" "$BR" mcast_last_member_interval 50 mcast_last_member_count 2 || exit 1
rc_veth "$S1_DEV" "$NS_S1" "$S1_PORT" "$BRNS" || exit 1
rc_veth "$S2_DEV" "$NS_S2" "$S2_PORT" "$BRNS" || exit 1
rc_veth "$RELAY_DEV" "$TOPO_RELAY" "$RELAY_PORT" "$BRNS" || exit 1
rc_veth "$RELAY_DEV2" "$TOPO_RELAY" "$RELAY_DEV2_PEER" "$BRNS" || exit 1
for p in "$S1_PORT" "$S2_PORT" "$RELAY_PORT"; do rc_in "$BRNS" ip link set "$p" master "$BR"; done
rc_in "$BRNS" bridge link set dev "$RELAY_PORT" mcast_flood off
rc_addr "$NS_S1" "$S1_DEV" $S1/24
rc_addr "$NS_S2" "$S2_DEV" $S2/24
rc_addr "$TOPO_RELAY" "$RELAY_DEV" 10.79.0.254/24
rc_addr "$TOPO_RELAY" "$RELAY_DEV2" 10.79.9.1/24
rc_addr "$NS_S1" "$S1_DEV" $S1_6/64
rc_addr "$NS_S2" "$S2_DEV" $S2_6/64
rc_addr "$TOPO_RELAY" "$RELAY_DEV" fd79::fe/64
for ns in "$NS_S1" "$NS_S2"; do
	dev=$S1_DEV
	[ "$ns" = "$NS_S2" ] && dev=$S2_DEV
	rc_in "$ns" ip route add 239.0.0.0/8 dev "$dev"
	rc_in "$ns" ip -6 route add ff0e::/16 dev "$dev" table main
	rc_in "$ns" ethtool -K "$dev" tx off >/dev/null	# full checksums, as from a NIC
done
topo_receivers $N 10.79 fd79 S || exit 1
topo_cli

# sources_in GROUP [DEV]: the INCLUDE sources that the relay's device (default
# RELAY_DEV) holds for GROUP (/proc/net/mcfilter, hex of the host-order
# value; mcfilter6, 32 hex digits), as addresses, sorted.
sources_in() {
	local idx
	idx=$(rc_in "$TOPO_RELAY" ip -j link show dev "${2:-$RELAY_DEV}" | jq '.[0].ifindex')
	case "$1" in
	*:*) rc_in "$TOPO_RELAY" cat /proc/net/mcfilter6 | python3 -c '
import ipaddress, sys
idx, g = sys.argv[1], ipaddress.ip_address(sys.argv[2]).packed.hex()
for l in sys.stdin:
    f = l.split()
    if len(f) == 6 and f[0] == idx and f[2] == g and f[4] != "0":
        print(ipaddress.ip_address(bytes.fromhex(f[3])))' "$idx" "$1" | sort | xargs ;;
	*) rc_in "$TOPO_RELAY" cat /proc/net/mcfilter | python3 -c '
import ipaddress, sys
idx, g = sys.argv[1], "0x%08x" % int(ipaddress.ip_address(sys.argv[2]))
for l in sys.stdin:
    f = l.split()
    if len(f) == 6 and f[0] == idx and f[2] == g and f[4] != "0":
        print(ipaddress.ip_address(int(f[3], 16)))' "$idx" "$1" | sort | xargs ;;
	esac
}

# mdb_sources [GROUP]: "PORT SOURCE" of every source entry in the bridge's
# group table for GROUP (default G4), sorted, comma-separated.
mdb_sources() {
	rc_in "$BRNS" bridge -j -d mdb show dev "$BR" |
		jq -r --arg g "${1:-$G4}" '[.[].mdb[]? | select(.grp == $g and .src != null) | "\(.port) \(.src)"] | sort | join(",")'
}

# wait_for EXPECTED CMD...: polls CMD's output until it is EXPECTED (10 s at most).
wait_for() {
	local want=$1
	shift
	for _ in $(seq 100); do
		[ "$("$@")" = "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

# hold_start / hold_kill SIGNAL: the holder in the relay namespace; start
# waits for its first sync that held everything ("synced 0").
hold_start() {
	: >"$RC_TMP/hold.out"
	rc_bg "$TOPO_RELAY" "$HOLD" --pin-path "$TOPO_PIN" --seconds 120 \
		>"$RC_TMP/hold.out" 2>>"$RC_TMP/hold.err"
	HOLD_PID=$RC_BG_PID
	for _ in $(seq 50); do
		grep -q "^synced 0" "$RC_TMP/hold.out" && return 0
		sleep 0.1
	done
	return 1
}
hold_kill() {
	kill "-$1" "$HOLD_PID" 2>/dev/null
	rc_wait_pid "$HOLD_PID" 10 >/dev/null 2>&1	# bash's "Killed" notice
}

# capture_start FILTER / capture_text: what the relay sends to its bridge
# port, as tcpdump decodes it.
capture_start() {
	rm -f "$RC_TMP/igmp.pcap" "$RC_TMP/tcpdump.err"
	rc_bg "$BRNS" timeout 60 tcpdump -i "$RELAY_PORT" --immediate-mode -n -U \
		-w "$RC_TMP/igmp.pcap" "$1" 2>"$RC_TMP/tcpdump.err"
	CAPTURE_PID=$RC_BG_PID
	for _ in $(seq 50); do
		grep -q "listening on" "$RC_TMP/tcpdump.err" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
capture_text() {
	sleep 0.5	# what is in flight arrives
	kill -INT "$CAPTURE_PID" 2>/dev/null
	rc_wait_pid "$CAPTURE_PID" 10 >/dev/null 2>&1	# run in $(...): not our child there
	tcpdump -r "$RC_TMP/igmp.pcap" -n -vv 2>/dev/null	# -vv: a record's sources
}

# send FROM_NS BIND GROUP COUNT: COUNT datagrams of rc_blast's payload to
# GROUP:5000, TTL / hop limit 1, at most 10,000 a second.
send() {
	local to=$3:5000
	case "$3" in *:*) to="[$3]:5000" ;; esac
	rc_in "$1" "$RC_BIN/rc_blast" --to "$to" --count "$4" --rate 10000 --bind "$2" >/dev/null
}

group_json() {
	$RC list --json | jq -c --arg g "$1" '.groups[] | select(.group == $g) |
		{joined: [.joined_on[].ifname] | join(" "), source_specific, ssm_holder}'
}

rc_assert_ok "load --dev $RELAY_DEV" $RC load --dev "$RELAY_DEV"

# Without a holder: no membership at all, and the add and list say why.
out=$($RC group add $G4:5000 --allow-source $S1 2>&1)
rc_assert_eq 0 $? "group add $G4:5000 --allow-source $S1"
rc_assert_match "warning: $G4 is joined source-specific \(1 host source\), only while a process holds the memberships \(replicast serve\); none runs" \
	"$out" "the add warns that no holder runs"
rc_assert_eq "" "$(rc_in "$TOPO_RELAY" ip addr show to $G4/32)" \
	"a group that allows one host makes no autojoin address (it would report EXCLUDE {})"
# /proc/net/igmp prints 239.2.3.4 as the hex of its host-order value.
rc_assert_eq 0 "$(rc_in "$TOPO_RELAY" grep -c 040302EF /proc/net/igmp)" "/proc/net/igmp lists no membership of $G4"
rc_assert_match "joined on: no device \(source-specific: not held, run replicast serve\)" \
	"$($RC list | grep -A4 "group $G4:5000" | grep "joined on")" "list: not held, run replicast serve"
rc_assert_eq '{"joined":"","source_specific":true,"ssm_holder":false}' "$(group_json $G4:5000)" \
	"list --json: source_specific, no holder, joined on nothing"

# With the holder: INCLUDE {S1} on the attached device, on the wire and in
# the bridge's table.
rc_assert_ok "tcpdump listens on the relay's bridge port" capture_start "igmp"
rc_assert_ok "the holder starts and holds everything" hold_start
rc_assert_eq "$S1" "$(sources_in $G4)" "/proc/net/mcfilter: $RELAY_DEV includes $S1 for $G4, and nothing else"
rc_assert_ok "the bridge's group table lists ($S1, $G4) on $RELAY_PORT" wait_for "$RELAY_PORT $S1" mdb_sources
reports=$(capture_text)
rc_assert_match "gaddr $G4 (allow|is_in|to_in) \{ $S1 \}" "$reports" \
	"the relay's IGMPv3 report carries a source-specific record ($S1, $G4)"
rc_assert_eq "" "$(grep -E "gaddr $G4 (is_ex|to_ex)" <<<"$reports")" "and no EXCLUDE-mode record for $G4"
rc_assert_match "^  joined on: $RELAY_DEV \(source-specific\)\$" \
	"$($RC list | grep -A4 "group $G4:5000" | grep "joined on")" "list: joined on $RELAY_DEV (source-specific)"
rc_assert_eq "{\"joined\":\"$RELAY_DEV\",\"source_specific\":true,\"ssm_holder\":true}" "$(group_json $G4:5000)" \
	"list --json: joined on $RELAY_DEV, holder running"
rc_assert_eq true "$(rc_in "$TOPO_RELAY" "$RC_ROOT/$BUILD/replicast" --pin-path "$TOPO_PIN/" list --json |
	jq --arg g $G4:5000 '.groups[] | select(.group == $g) | .ssm_holder')" "the same pin path spelt $TOPO_PIN/ sees the holder"
rc_assert_fail "a second holder of the same relay is refused" rc_in "$TOPO_RELAY" "$HOLD" --pin-path "$TOPO_PIN" --seconds 1

# S1's stream reaches every subscriber; S2's, sent at the same time, never
# reaches the relay at all (the bridge forwards by source).
for ((i = 1; i <= N; i++)); do
	rc_assert_ok "sub add 10.79.$i.2:6000" $RC sub add $G4:5000 10.79.$i.2:6000
	topo_sink $i 10.79.$i.2:6000 $COUNT --from 10.79.$i.1 --capture "${TOPO_RX_DEV[i]}"
done
topo_querier_wait
rc_assert_ok "tcpdump listens on the relay's device" capture_start "udp and dst host $G4 and src host $S2"
s2_rx() { rc_in "$BRNS" ip -s -j link show "$S2_PORT" | jq '.[0].stats64.rx.packets'; }
before=$(s2_rx)
send "$NS_S2" $S2:4000 $G4 $COUNT &
s2=$!
rc_assert_ok "S1 sends $COUNT packets to $G4:5000 (TTL 1)" send "$NS_S1" $S1:4000 $G4 $COUNT
wait $s2
rc_assert_eq 0 $? "S2 sent $COUNT packets to $G4:5000 meanwhile"
rc_assert_ge $((before + COUNT)) "$(s2_rx)" "the bridge got S2's packets"
for ((i = 1; i <= N; i++)); do
	topo_sink_wait $i 6000
	rc_assert_eq 0 $? "receiver $i got exactly S1's $COUNT, in order, exact bytes"
done
rc_assert_eq 0 "$(capture_text | grep -c "$S2\.4000 >")" "none of S2's packets reached the relay's bridge port"
rc_assert_eq "$COUNT 0" "$(topo_stat ".groups[] | select(.group==\"$G4:5000\") | \"\(.received.packets) \(.source_denied)\"")" \
	"the group took S1's $COUNT and had none of S2's to refuse"

# The holder killed (SIGKILL, no goodbye): the kernel leaves as its sockets close.
hold_kill KILL
rc_assert_eq "" "$(sources_in $G4)" "the holder killed: /proc/net/mcfilter holds nothing for $G4"
rc_assert_ok "the bridge drops ($S1, $G4) for $RELAY_PORT" wait_for "" mdb_sources
rc_assert_match "not held, run replicast serve" "$($RC list | grep -A4 "group $G4:5000" | grep "joined on")" \
	"list: not held again"

# The holder a relay runs: replicast serve (the relay engine's service).
: >"$RC_TMP/serve.err"
rc_bg "$TOPO_RELAY" "$RC_ROOT/$BUILD/replicast" --pin-path "$TOPO_PIN" serve 2>>"$RC_TMP/serve.err" >/dev/null
SERVE_PID=$RC_BG_PID
rc_assert_ok "replicast serve holds ($S1, $G4) on $RELAY_DEV" wait_for "$S1" sources_in $G4
rc_assert_match "source-specific\)" "$($RC list | grep -A4 "group $G4:5000" | grep "joined on")" \
	"list: held, while serve runs"
kill -TERM "$SERVE_PID" 2>/dev/null
rc_wait_pid "$SERVE_PID" 10
rc_assert_eq 0 $? "serve exits 0 on SIGTERM ($(tr '\n' ' ' <"$RC_TMP/serve.err"))"
rc_assert_eq "" "$(sources_in $G4)" "serve stopped: the membership is left"

# A wider prefix makes the address any-source (autojoin), and back.
rc_assert_ok "hold again" hold_start
rc_assert_ok "group allow $G4:5000 10.79.0.0/24" $RC group allow $G4:5000 10.79.0.0/24
rc_assert_match "autojoin" "$(rc_in "$TOPO_RELAY" ip addr show dev "$RELAY_DEV" to $G4/32)" \
	"with a /24 allowed, $G4 is an autojoin address of $RELAY_DEV"
rc_assert_ok "the holder leaves ($S1, $G4) at its next sync" wait_for "" sources_in $G4
rc_assert_eq "{\"joined\":\"$RELAY_DEV\",\"source_specific\":false,\"ssm_holder\":null}" "$(group_json $G4:5000)" \
	"list --json: any-source, joined on $RELAY_DEV"
rc_assert_ok "group disallow $G4:5000 10.79.0.0/24" $RC group disallow $G4:5000 10.79.0.0/24
rc_assert_eq "" "$(rc_in "$TOPO_RELAY" ip addr show to $G4/32)" "the /24 gone: the autojoin address is removed"
rc_assert_ok "the holder joins ($S1, $G4) again" wait_for "$S1" sources_in $G4
# A second host source, then the group gone: the holder follows.
rc_assert_ok "group allow $G4:5000 $S2" $RC group allow $G4:5000 $S2
rc_assert_ok "the holder includes $S2 too" wait_for "$S1 $S2" sources_in $G4
rc_assert_ok "group del $G4:5000" $RC group del $G4:5000
rc_assert_ok "the group deleted: the holder leaves $G4" wait_for "" sources_in $G4
# A group in the SSM range is never joined any-source, even with no source.
rc_assert_ok "group add 232.1.2.3:5000" $RC group add 232.1.2.3:5000
rc_assert_eq "" "$(rc_in "$TOPO_RELAY" ip addr show to 232.1.2.3/32)" "232.1.2.3 (SSM range) gets no autojoin address"
rc_assert_match "source-specific: no single-host source allowed" \
	"$($RC list | grep -A4 "group 232.1.2.3:5000" | grep "joined on")" "list says no host source is allowed"
rc_assert_ok "group allow 232.1.2.3:5000 $S1" $RC group allow 232.1.2.3:5000 $S1
rc_assert_ok "the holder joins ($S1, 232.1.2.3)" wait_for "$S1" sources_in 232.1.2.3

# More than one socket's worth: an IPv4 socket takes 20 groups
# (net.ipv4.igmp_max_memberships) and 10 sources a group (igmp_max_msf).
MANY=25
for ((i = 1; i <= MANY; i++)); do
	$RC group add 239.3.0.$i:5000 --allow-source $S1 2>/dev/null || rc_not_ok "group add 239.3.0.$i:5000"
done
for ((i = 11; i <= 22; i++)); do
	$RC group allow 239.3.0.1:5000 10.79.0.$i || rc_not_ok "group allow 239.3.0.1:5000 10.79.0.$i"
done
# held_many: the INCLUDE sources RELAY_DEV holds in 239.3.0.0/24 (its hex,
# host order, starts 0xef0300).
held_many() {
	local idx
	idx=$(rc_in "$TOPO_RELAY" ip -j link show dev "$RELAY_DEV" | jq '.[0].ifindex')
	rc_in "$TOPO_RELAY" cat /proc/net/mcfilter |
		awk -v idx="$idx" '$1 == idx && $3 ~ /^0xef0300/ && $5 != 0' | wc -l
}
rc_assert_ok "the holder holds all $((MANY + 12)) memberships of $MANY groups, 13 sources in one" \
	wait_for $((MANY + 12)) held_many
rc_assert_eq "$(echo $S1 10.79.0.{11..22} | xargs -n1 | sort | xargs)" "$(sources_in 239.3.0.1)" \
	"239.3.0.1 includes its 13 sources"
for ((i = 1; i <= MANY; i++)); do $RC group del 239.3.0.$i:5000 || rc_not_ok "group del 239.3.0.$i:5000"; done
rc_assert_ok "the groups deleted: the holder leaves them all" wait_for 0 held_many

hold_kill TERM
rc_assert_eq "" "$(sources_in 232.1.2.3)" "the holder stopped (SIGTERM): it left 232.1.2.3"

# IPv6 through MLDv2 snooping. The capture starts after the group add: the
# add joins the address any-source for the moment before the CLI adds its
# allow list (see README), and what is checked here is the holder's report.
rc_assert_ok "group add [$G6]:5000 --allow-source $S1_6" $RC group add "[$G6]:5000" --allow-source $S1_6
rc_assert_eq "" "$(rc_in "$TOPO_RELAY" ip -6 addr show to $G6/128)" "no autojoin address for $G6"
rc_assert_ok "tcpdump listens on the relay's bridge port (MLD)" capture_start "ip6 dst host ff02::16"	# MLDv2 reports (behind a hop-by-hop header)
rc_assert_ok "the holder starts again" hold_start
rc_assert_ok "the holder joins ($S1_6, $G6) and ($S1, 232.1.2.3)" wait_for "$S1_6 $S1" \
	eval 'echo $(sources_in $G6) $(sources_in 232.1.2.3)'
reports=$(capture_text)
rc_assert_match "gaddr $G6 (allow|is_in|to_in) \{ $S1_6 \}" "$reports" \
	"the relay's MLDv2 report carries a source-specific record ($S1_6, $G6)"
rc_assert_eq "" "$(grep -E "gaddr $G6 (is_ex|to_ex)" <<<"$reports")" "and no EXCLUDE-mode record for $G6"
if ! wait_for "$RELAY_PORT $S1_6" mdb_sources "$G6"; then
	rc_skip "the bridge here keeps no MLDv2 source entries ($(mdb_sources "$G6"))"
else
	rc_ok "the bridge's group table lists ($S1_6, $G6) on $RELAY_PORT"
	for ((i = 1; i <= N; i++)); do
		rc_assert_ok "sub add [fd79:$i::2]:6001" $RC sub add "[$G6]:5000" "[fd79:$i::2]:6001"
		topo_sink $i "[fd79:$i::2]:6001" $COUNT --from fd79:$i::1 --capture "${TOPO_RX_DEV[i]}"
	done
	send "$NS_S2" "[$S2_6]:4000" $G6 $COUNT &
	s2=$!
	rc_assert_ok "S1 sends $COUNT packets to [$G6]:5000 (hop limit 1)" send "$NS_S1" "[$S1_6]:4000" $G6 $COUNT
	wait $s2
	rc_assert_eq 0 $? "S2 sent $COUNT packets to [$G6]:5000 meanwhile"
	for ((i = 1; i <= N; i++)); do
		topo_sink_wait $i 6001
		rc_assert_eq 0 $? "IPv6 receiver $i got exactly S1's $COUNT through the MLDv2-snooping bridge"
	done
	rc_assert_eq "$COUNT 0" "$(topo_stat ".groups[] | select(.group==\"[$G6]:5000\") | \"\(.received.packets) \(.source_denied)\"")" \
		"[$G6]:5000 took S1's $COUNT and had none of S2's to refuse"
fi

# A device attached later is joined by the holder; detached, left; unload
# leaves everything while the holder runs on.
rc_assert_ok "load --dev $RELAY_DEV2" $RC load --dev "$RELAY_DEV2"
rc_assert_ok "the holder joins ($S1_6, $G6) on $RELAY_DEV2" wait_for "$S1_6" sources_in $G6 "$RELAY_DEV2"
rc_assert_eq "" "$(rc_in "$TOPO_RELAY" ip addr show dev "$RELAY_DEV2" | grep -E "$G6|232\.1\.2\.3")" \
	"and the attach made no autojoin address there"
rc_assert_ok "save" $RC save -o "$RC_TMP/saved.conf"
sed "s/ --dev $RELAY_DEV2//" "$RC_TMP/saved.conf" >"$RC_TMP/one-dev.conf"
rc_assert_ok "apply without --dev $RELAY_DEV2 (detaches it)" $RC apply "$RC_TMP/one-dev.conf"
rc_assert_ok "the holder leaves $G6 on the detached $RELAY_DEV2" wait_for "" sources_in $G6 "$RELAY_DEV2"
rc_assert_eq "$S1_6" "$(sources_in $G6)" "and keeps it on $RELAY_DEV"
rc_assert_ok "unload" $RC unload
rc_assert_ok "unloaded: the holder leaves everything" wait_for "" \
	eval 'echo $(sources_in $G6) $(sources_in 232.1.2.3)'
hold_kill TERM
rc_assert_eq "" "$(grep -v "^rc_ssm_hold: \(joined\|left\)" "$RC_TMP/hold.err")" "the holder logged only joins and leaves"
rc_summary
