#!/usr/bin/env bash
# san: yes
# Nothing goes missing from the accounts: after a mixed run (two healthy
# subscribers, one whose next hop never answers, one behind a link too small
# for the datagrams, one whose device went down; single datagrams and UDP
# GSO super-packets), copies sent + copies dropped by reason = packets taken
# x subscribers, exactly, for the group and for every subscriber. And
# `replicast send` refuses a --size that a subscriber's link cannot carry.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=5
topo_build $N || exit 1
G=10.77.100.1:5000
rc_in "$TOPO_SRC" ethtool -K "$(rc_name so)" tx on >/dev/null	# keep the super-packets whole
rc_in "$TOPO_RELAY" ip link set dev "${TOPO_RELAY_DEV[4]}" mtu 600
# No DF: the relay's "fragmentation needed" would make the source fragment
# what follows (test_too_big.sh shows that), and fragments are not taken.
rc_in "$TOPO_SRC" sysctl -qw net.ipv4.ip_no_pmtu_disc=1
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"
rc_assert_ok "group add" $RC group add $G --allow-source 10.77.0.1
for d in 10.77.1.2 10.77.2.2 10.77.3.9 10.77.4.2 10.77.5.2; do
	$RC sub add $G $d:6000 2>/dev/null	# 10.77.3.9 never answers: a warning
done
rc_assert_eq $N "$($RC list --json | jq '.groups[0].subscribers | length')" "$N subscribers"
rc_in "$TOPO_RELAY" ip link set dev "${TOPO_RELAY_DEV[5]}" down

rc_assert_ok "500 datagrams of 1,000 bytes" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G \
	--count 500 --size 1000 --rate 5000 --bind 10.77.0.1:4000
rc_assert_ok "and 500 more as UDP GSO super-packets of 10" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" \
	--to $G --count 500 --size 1000 --gso 10 --rate 5000 --bind 10.77.0.1:4000
sleep 0.5
S=$($RC stats --json)
taken=$(jq '.groups[0].received.packets' <<<"$S")
sent=$(jq '.groups[0].sent.packets' <<<"$S")
per_copy=$(jq '.drops | .no_route + .no_neighbour + .redirect_failed + .rewrite_failed +
	.family_mismatch + .forwarding_off + .too_big' <<<"$S")
rc_assert_eq 1000 "$taken" "the group took 1,000 datagrams"
rc_assert_eq $((taken * N)) $((sent + per_copy)) \
	"copies sent ($sent) + dropped by reason ($per_copy) = taken x $N"
rc_assert_eq "$sent" "$(jq '[.groups[0].subscribers[].packets] | add' <<<"$S")" \
	"the group's copies are its subscribers' copies"
for ((i = 0; i < N; i++)); do
	rc_assert_eq "$taken" "$(jq ".groups[0].subscribers[$i] | .packets + .dropped" <<<"$S")" \
		"subscriber $((i + 1)): sent + dropped = taken"
done
rc_assert_eq $((2 * taken)) "$sent" "the two healthy subscribers got every copy"
rc_assert_eq "$taken" "$(jq '.drops.no_neighbour' <<<"$S")" "the silent next hop's copies: no_neighbour"
rc_assert_eq "$taken" "$(jq '.drops.too_big' <<<"$S")" "the small link's copies: too_big"

rc_assert_fail "send --size 1000 to a group with a 600-byte link is refused" \
	$RC send $G --gen 10 --size 1000
rc_assert_match "too_big" "$($RC send $G --gen 10 --size 1000 2>&1)" "... naming why"
rc_summary
