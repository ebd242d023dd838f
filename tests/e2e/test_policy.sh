#!/usr/bin/env bash
# san: yes
# No open amplifier: a group fans out nothing from the network until a source
# prefix is allowed, refuses sources outside its list (counted per group),
# and a rate limit caps what is taken for fan-out, counted exactly.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
# The FIB answers for devices that forward: this test keeps that path in use.
TOPO_FORWARDING=1
topo_build 1 || exit 1
G=10.77.100.1:5000
SRC_DEV=$(rc_name so)
rc_addr "$TOPO_SRC" "$SRC_DEV" 10.77.0.2/24		# a second sender, not allowed
rc_addr "$TOPO_SRC" "$SRC_DEV" fd77::2/64
gstat() { topo_stat ".groups[] | select(.group==\"$1\") | .$2"; }
blast() { rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" "$@" >/dev/null; }

rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"
rc_assert_ok "group add without sources" $RC group add $G
rc_assert_ok "sub add" $RC sub add $G 10.77.1.2:6000
rc_assert_match "allowed sources: none" "$($RC list)" "list says nothing is allowed"

topo_sink 1 10.77.1.2:6000 0 --size 64 --timeout-ms 1500
blast --to $G --count 200 --size 64 --rate 20000
topo_sink_wait 1 6000
rc_assert_eq 0 $? "default deny: the receiver got nothing"
rc_assert_eq 200 "$(gstat $G source_denied)" "200 counted as source_denied on the group"
rc_assert_eq 200 "$(topo_stat .drops.source_denied)" "... and as a drop reason"
rc_assert_eq 0 "$(gstat $G sent.packets)" "no copy made"

rc_assert_ok "group allow 10.77.0.1/32" $RC group allow $G 10.77.0.1/32
rc_assert_eq '["10.77.0.1/32"]' "$($RC list --json | jq -c '.groups[0].allowed_sources')" "list --json shows it"
topo_sink 1 10.77.1.2:6000 300 --size 64
blast --to $G --count 300 --size 64 --rate 20000 --bind 10.77.0.1
topo_sink_wait 1 6000
rc_assert_eq 0 $? "the allowed source gets all 300 through"
topo_sink 1 10.77.1.2:6000 0 --size 64 --timeout-ms 1500
blast --to $G --count 100 --size 64 --rate 20000 --bind 10.77.0.2
topo_sink_wait 1 6000
rc_assert_eq 0 $? "a source outside the list gets nothing through"
rc_assert_eq 300 "$(gstat $G source_denied)" "its 100 counted"

rc_assert_ok "group disallow" $RC group disallow $G 10.77.0.1/32
topo_sink 1 10.77.1.2:6000 0 --size 64 --timeout-ms 1500
blast --to $G --count 50 --size 64 --rate 20000 --bind 10.77.0.1
topo_sink_wait 1 6000
rc_assert_eq 0 $? "after disallow, nothing again"
rc_assert_eq 350 "$(gstat $G source_denied)" "and counted"

# Rate limit: 3000 packets in 0.1 s against 2000/s; what passes plus what is
# refused is exactly what was sent, and the receiver got exactly what passed.
rc_assert_ok "group set --max-pps 2000" $RC group set $G --max-pps 2000
rc_assert_ok "group allow 10.77.0.0/24" $RC group allow $G 10.77.0.0/24
before=$(gstat $G received.packets)
topo_sink 1 10.77.1.2:6000 3000 --size 64 --idle-ms 700
blast --to $G --count 3000 --size 64 --rate 30000
topo_sink_wait 1 6000
got=$(rc_kv "$RC_TMP/sink-1-6000" received)
passed=$(( $(gstat $G received.packets) - before ))
limited=$(gstat $G rate_limited)
rc_assert_eq 3000 $((passed + limited)) "taken + rate_limited = 3000 sent"
rc_assert_eq "$passed" "$got" "the receiver got exactly what was taken"
if [ "$passed" -ge 100 ] && [ "$passed" -le 600 ]; then rc_ok "about 2000/s x 0.1 s + burst passed ($passed)"
else rc_not_ok "about 2000/s x 0.1 s + burst passed" "got $passed"; fi
rc_assert_eq 2000 "$($RC list --json | jq '.groups[0].max_pps')" "list shows the limit"
rc_assert_ok "group set --max-bps 1000000 keeps max-pps" $RC group set $G --max-bps 1000000
rc_assert_eq "2000 1000000" "$($RC list --json | jq -r '.groups[0] | "\(.max_pps) \(.max_bps)"')" "both limits shown"

# IPv6 group with its own list; a prefix of the other family is a usage error.
G6=[fd77:100::1]:5000
out=$($RC group add $G6 --allow-source 10.77.0.0/24 2>&1)
rc_assert_eq 2 $? "an IPv4 prefix for an IPv6 group is refused"
rc_assert_match "not the same address family" "$out" "... saying why"
rc_assert_ok "group add v6 with a source" $RC group add $G6 --allow-source fd77::1
rc_assert_ok "sub add v6" $RC sub add $G6 [fd77:1::2]:6000
topo_sink 1 [fd77:1::2]:6000 100 --size 64
blast --to $G6 --count 100 --size 64 --rate 20000 --bind fd77::1
topo_sink_wait 1 6000
rc_assert_eq 0 $? "IPv6: the allowed source gets through"
topo_sink 1 [fd77:1::2]:6000 0 --size 64 --timeout-ms 1500
blast --to $G6 --count 100 --size 64 --rate 20000 --bind fd77::2
topo_sink_wait 1 6000
rc_assert_eq 0 $? "IPv6: another source does not"
rc_assert_eq 100 "$(gstat $G6 source_denied)" "IPv6 refusals counted"

out=$($RC group allow $G 10.77.0.1/8 2>&1)
rc_assert_eq 2 $? "host bits beyond the prefix length are refused"
rc_assert_ok "group del removes the list" $RC group del $G
rc_assert_ok "group add again" $RC group add $G
rc_assert_eq '[]' "$($RC list --json | jq -c ".groups[] | select(.group==\"$G\") | .allowed_sources")" \
	"a re-added group starts with no sources"
rc_summary
