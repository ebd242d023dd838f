#!/usr/bin/env bash
# san: yes
# Port ranges end to end (README "Port ranges"): one group on
# 10.77.100.1:2055-2060 with a subscriber that keeps each packet's port
# (10.77.1.2, no port) and one on a fixed port (10.77.2.2:9000). Packets to
# 2055, 2058 and 2060 arrive at receiver 1 on their own port and at
# receiver 2 on 9000, byte-exact, exactly counted by the one group; the
# ports beside the range are not the group's. The same through the relay
# engine (replicast serve), the XDP engine (send --engine xdp to a port of
# the range) and over IPv6; list
# shows the range as one group; overlaps, oversized ranges and a portless
# subscriber of a one-port group are refused clearly; save, unload and
# apply give the same groups; del by any port removes the whole range.
set -u
. "$(dirname "$0")/../lib.sh"
rc_name() { echo "rcP${1}${RC_ID}"; }	# this suite's names: rcP...
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 2 || exit 1
topo_rx_gro
T=$RC_TMP
G=10.77.100.1:2055-2060
COUNT=100

rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"
rc_assert_ok "group add $G" $RC group add $G --allow-source 10.77.0.0/24
rc_assert_ok "sub add $G 10.77.1.2 (keeps the port)" $RC sub add $G 10.77.1.2
rc_assert_ok "sub add $G 10.77.2.2:9000 (fixed port)" $RC sub add $G 10.77.2.2:9000

# listen FIRST: receiver 1 on 2055, 2058 and 2060, COUNT each, numbered
# from FIRST, FIRST + COUNT and FIRST + 2 COUNT (the sender numbers them
# so); receiver 2 on 9000, all 3 x COUNT in the order sent, one port's
# after the other's. Each checks the sequence, size, payload bytes, the
# source and, from its capture, the copies' checksums.
listen() {
	local first=$1 k=0 port
	for port in 2055 2058 2060; do
		topo_sink 1 10.77.1.2:$port $COUNT --size 300 --first $((first + k * COUNT)) \
			--capture "${TOPO_RX_DEV[1]}" --from 10.77.1.1
		k=$((k + 1))
	done
	topo_sink 2 10.77.2.2:9000 $((3 * COUNT)) --size 300 --first "$first" \
		--capture "${TOPO_RX_DEV[2]}" --from 10.77.2.1
}

# received WHAT: every receiver passed.
received() {
	local what=$1 port
	for port in 2055 2058 2060; do
		topo_sink_wait 1 $port
		rc_assert_eq 0 $? "$what: receiver 1 got port $port's $COUNT on port $port, in order, byte-exact"
	done
	topo_sink_wait 2 9000
	rc_assert_eq 0 $? "$what: receiver 2 got all $((3 * COUNT)) on port 9000, in order, byte-exact"
}

# counted WHAT RX TX: the one group's counters, exact, and no drops.
counted() {
	local sel=".groups[] | select(.group==\"$G\")"
	$RC stats --json >"$T/stats.json"
	rc_assert_eq "$2 $3" "$(jq -r "$sel | \"\(.received.packets) \(.sent.packets)\"" "$T/stats.json")" \
		"$1: the group received $2 and sent $3 copies"
	rc_assert_eq 1 "$(jq "[$sel] | length" "$T/stats.json")" "$1: stats count the range as one group"
	rc_assert_eq 0 "$(jq '[.drops[]] | add' "$T/stats.json")" "$1: no drops"
}

# -- the TC replicator: packets from the network ----------------------------
listen 0
k=0
for port in 2055 2058 2060; do
	rc_assert_ok "$COUNT packets to port $port" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" \
		--to 10.77.100.1:$port --count $COUNT --size 300 --rate 5000 --first $((k * COUNT))
	k=$((k + 1))
done
received "TC"
counted "TC" $((3 * COUNT)) $((6 * COUNT))

# Ports beside the range are no group: they go to the stack (the relay has
# no socket there and forwards nothing), not to the subscribers.
rc_assert_ok "2 packets each to 2054 and 2061" rc_in "$TOPO_SRC" sh -c \
	"$RC_BIN/rc_blast --to 10.77.100.1:2054 --count 2 >/dev/null &&
	 $RC_BIN/rc_blast --to 10.77.100.1:2061 --count 2 >/dev/null"
counted "ports 2054 and 2061" $((3 * COUNT)) $((6 * COUNT))

# What list shows: one group, by its range, with both subscribers.
$RC list --json >"$T/list.json"
rc_assert_eq "$G" "$(jq -r '[.groups[].group] | join(" ")' "$T/list.json")" \
	"list --json: one group, named by its range"
rc_assert_eq "10.77.1.2 10.77.2.2:9000" "$(jq -r '[.groups[0].subscribers[].dest] | join(" ")' "$T/list.json")" \
	"list --json: the keep-port subscriber without a port, the other with 9000"
rc_assert_match "$G" "$($RC list)" "list names the range"

# Usage errors and refusals, each with a clear line and nothing changed.
out=$($RC group add 10.77.100.1:2058 2>&1)
rc_assert_eq 1 $? "group add of a port inside the range fails"
rc_assert_match "already exists" "$out" "... saying so"
out=$($RC group add 10.77.100.1:2060-2070 2>&1)
rc_assert_eq 1 $? "an overlapping range fails"
rc_assert_match "overlaps" "$out" "... saying it overlaps"
out=$($RC group add 10.77.100.9:1-2000 2>&1)
rc_assert_eq 2 $? "a range of 2,000 ports is a usage error"
rc_assert_match "at most 1024" "$out" "... saying the limit"
out=$($RC group add 10.77.100.9:2060-2055 2>&1)
rc_assert_eq 2 $? "a range backwards is a usage error"
rc_assert_ok "group add 10.77.100.5:5000" $RC group add 10.77.100.5:5000
out=$($RC sub add 10.77.100.5:5000 10.77.1.2 2>&1)
rc_assert_eq 2 $? "a subscriber without a port on a one-port group is a usage error"
rc_assert_match "only the subscribers of a port range" "$out" "... saying why"
out=$($RC group del 10.77.100.1:2055-2059 2>&1)
rc_assert_eq 1 $? "group del of another range on the same first port fails"
rc_assert_match "is in group $G" "$out" "... naming the group that is"
rc_assert_ok "group del 10.77.100.5:5000" $RC group del 10.77.100.5:5000
rc_assert_ok "sub add by one port of the range" $RC sub add 10.77.100.1:2059 10.77.2.2:9001
rc_assert_ok "sub del by the range" $RC sub del $G 10.77.2.2:9001
rc_assert_eq 1 "$($RC list --json | jq '.groups | length')" "and the range is as it was"

# -- the relay engine: the same stream through replicast serve -------------
serve_start --idle-ms never
rc_assert_eq 0 $? "serve starts"
listen 3000
k=0
for port in 2055 2058 2060; do
	rc_assert_ok "relay engine: $COUNT packets to port $port" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" \
		--to 10.77.100.1:$port --count $COUNT --size 300 --rate 5000 --first $((3000 + k * COUNT))
	k=$((k + 1))
done
received "relay engine"
serve_stop
rc_assert_eq 0 $? "serve exits 0"
rc_assert_eq $((3 * COUNT)) "$(serve_stat taken)" "relay engine: serve took all $((3 * COUNT))"
counted "relay engine" $((6 * COUNT)) $((12 * COUNT))

# -- the XDP engine: a local sender to ports of the range -------------------
listen 5000
k=0
for port in 2055 2058 2060; do
	rc_assert_ok "engine: $COUNT packets to port $port" $RC send 10.77.100.1:$port --engine xdp \
		--gen $COUNT --size 300 --rate 5000 --first $((5000 + k * COUNT))
	k=$((k + 1))
done
received "XDP engine"
counted "XDP engine" $((9 * COUNT)) $((18 * COUNT))

# -- IPv6: a kept port through the TC replicator ----------------------------
G6="[fd77:100::1]:3000-3002"
rc_assert_ok "group add $G6" $RC group add "$G6" --allow-source fd77::/64
rc_assert_ok "sub add $G6 fd77:1::2" $RC sub add "$G6" fd77:1::2
topo_sink 1 "[fd77:1::2]:3001" $COUNT --size 300 --capture "${TOPO_RX_DEV[1]}"
rc_assert_ok "IPv6: $COUNT packets to port 3001" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" \
	--to "[fd77:100::1]:3001" --count $COUNT --size 300 --rate 5000
topo_sink_wait 1 3001
rc_assert_eq 0 $? "IPv6: receiver 1 got all $COUNT on port 3001, byte-exact"

# -- save, unload, apply: the same range, the same subscribers --------------
$RC list --json | jq 'del(.groups[].joined_on) | del(.groups[].subscribers[].ifindex)' >"$T/before.json"
rc_assert_ok "save" $RC save --output "$T/saved.conf"
rc_assert_match "group add $G --allow-source 10.77.0.0/24" "$(cat "$T/saved.conf")" "save writes the range"
rc_assert_match "sub add $G 10.77.1.2 --dev" "$(cat "$T/saved.conf")" \
	"save writes the keep-port subscriber without a port"
rc_assert_eq "" "$($RC apply --dry-run "$T/saved.conf")" "apply --dry-run of the saved file: no changes"
rc_assert_ok "unload" $RC unload
rc_assert_ok "apply loads and restores" $RC apply "$T/saved.conf"
rc_assert_eq "$(cat "$T/before.json")" \
	"$($RC list --json | jq 'del(.groups[].joined_on) | del(.groups[].subscribers[].ifindex)')" \
	"list --json after save, unload and apply is identical"
rc_assert_eq 6 "$(bpftool -j map dump pinned "$TOPO_PIN/groups" |
	jq '[.[].formatted | select(.key.port >= 2055 and .key.port <= 2060 and .value.port_last == 2060)] | length')" \
	"the groups map holds one key per port of the range, each saying 2055-2060"

# Restored, it replicates again; then del by any port removes all of it.
topo_sink 1 10.77.1.2:2057 $COUNT --size 300
rc_assert_ok "after apply: $COUNT packets to port 2057" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" \
	--to 10.77.100.1:2057 --count $COUNT --size 300 --rate 5000
topo_sink_wait 1 2057
rc_assert_eq 0 $? "after apply: receiver 1 got all $COUNT on port 2057"
rc_assert_ok "group del 10.77.100.1:2057" $RC group del 10.77.100.1:2057
rc_assert_eq 0 "$(bpftool -j map dump pinned "$TOPO_PIN/groups" |
	jq '[.[].formatted | select(.key.port >= 2055 and .key.port <= 2060 and .key.family == 2)] | length')" \
	"group del by one port removed every key of the range"
rc_summary
