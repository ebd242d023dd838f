#!/usr/bin/env bash
# san: yes
# An attached device deleted and made again: its tcx link is severed (still
# pinned, attached to nothing). `list` does not show it as attached, `load
# --dev` attaches the new device afresh, and so does `load --upgrade`; the
# stream reaches the subscriber again each time, without an unload.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 1 || exit 1
G=10.77.100.1:5000
SO=$(rc_name so)

# The source-side pair deleted and made again under the same names, with its
# addresses and the source's route: what a reboot of a peer, a container
# restart or a script that rebuilds a link does.
remake_link() {
	rc_in "$TOPO_RELAY" ip link del "$TOPO_RELAY_IN"
	ip link add name "$SO" netns "$TOPO_SRC" type veth peer name "$TOPO_RELAY_IN" netns "$TOPO_RELAY"
	rc_in "$TOPO_SRC" ip link set "$SO" up
	rc_in "$TOPO_RELAY" ip link set "$TOPO_RELAY_IN" up
	rc_addr "$TOPO_SRC" "$SO" 10.77.0.1/24
	rc_addr "$TOPO_RELAY" "$TOPO_RELAY_IN" 10.77.0.254/24
	rc_in "$TOPO_SRC" ip route add 10.77.100.0/24 via 10.77.0.254
	rc_in "$TOPO_SRC" ethtool -K "$SO" tx off >/dev/null
}

ifindex_of() { rc_in "$TOPO_RELAY" ip -j link show dev "$1" | jq '.[0].ifindex'; }

# stream WHAT: 200 packets from the source reach the subscriber.
stream() {
	topo_sink 1 10.77.1.2:6000 200 --size 200
	rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G --count 200 --size 200 --rate 5000 --bind 10.77.0.1 \
		>/dev/null
	topo_sink_wait 1 6000
	rc_assert_eq 0 $? "$1: the stream reaches the subscriber"
}

rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN" --no-inject
rc_assert_ok "group add" $RC group add $G --allow-source 10.77.0.1
rc_assert_ok "sub add" $RC sub add $G 10.77.1.2:6000
stream "attached"

remake_link
now=$(ifindex_of "$TOPO_RELAY_IN")
listed=$($RC list --json 2>/dev/null | jq -c "[.attached[] | select(.ifname == \"$TOPO_RELAY_IN\")]")
rc_assert_match "^\[\]$|\"ifindex\":$now" "$listed" \
	"list does not show the deleted device as attached ($listed, now ifindex $now)"
out=$($RC list 2>&1 >/dev/null)
rc_assert_match "$TOPO_RELAY_IN .*was deleted since it was attached" "$out" "list says the attachment is dead"
out=$($RC load --dev "$TOPO_RELAY_IN" --no-inject 2>&1)
rc_assert_eq 0 $? "load --dev attaches the made-again device ($out)"
rc_assert_eq "[{\"ifname\":\"$TOPO_RELAY_IN\",\"ifindex\":$now}]" "$($RC list --json | jq -c .attached)" \
	"list shows it attached, with its new ifindex"
stream "attached again by load"

remake_link
now=$(ifindex_of "$TOPO_RELAY_IN")
out=$($RC load --dev "$TOPO_RELAY_IN" --no-inject --upgrade 2>&1)
rc_assert_eq 0 $? "load --upgrade with the device made again ($out)"
rc_assert_eq "[{\"ifname\":\"$TOPO_RELAY_IN\",\"ifindex\":$now}]" "$($RC list --json | jq -c .attached)" \
	"after the upgrade it is attached with its new ifindex"
stream "attached again by load --upgrade"

# Deleted and not made again: save leaves it out, and unload still works.
rc_in "$TOPO_RELAY" ip link del "$TOPO_RELAY_IN"
rc_assert_eq "[]" "$($RC list --json 2>/dev/null | jq -c .attached)" "a deleted device is not listed"
rc_assert_ok "unload with the device gone" $RC unload
[ -e "$TOPO_PIN" ] && rc_not_ok "unload removes every pin" || rc_ok "unload removes every pin"

rc_summary
