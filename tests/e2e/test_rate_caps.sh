#!/usr/bin/env bash
# Low rate caps admit what they promise over a second: --max-pps 10 takes
# all of a 7 packets/s source and about 10 a second of a 20 packets/s one;
# --max-bps 100000 takes ten 10,000-bit frames a second. What is refused is
# counted as rate_limited, exactly: taken + refused = sent.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 1 || exit 1
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"
# A payload of 1,208 bytes is a 1,250-byte frame: 10,000 bits.
SIZE=1208

# capped GROUP COUNT RATE MIN MAX CAP_OPTION...: the source sends COUNT at
# RATE packets/s; the receiver must get between MIN and MAX of them.
capped() {
	local group=$1 count=$2 rate=$3 min=$4 max=$5 port got denied
	shift 5
	port=${group##*:}
	rc_assert_ok "group add $group $*" $RC group add "$group" --allow-source 10.77.0.1 "$@"
	rc_assert_ok "sub add" $RC sub add "$group" "10.77.1.2:$port"
	topo_sink 1 "10.77.1.2:$port" "$count" --size $SIZE --idle-ms 2500 --timeout-ms 20000
	rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to "$group" --count "$count" --size $SIZE \
		--rate "$rate" --bind 10.77.0.1:4000 >/dev/null
	topo_sink_wait 1 "$port" >/dev/null
	got=$(rc_kv "$RC_TMP/sink-1-$port" received)
	rc_assert_ge "$min" "$got" "$*: $count packets at $rate/s: at least $min through"
	rc_assert_ge "$got" "$max" "... and at most $max (got $got)"
	denied=$(topo_stat ".groups[] | select(.group==\"$group\") | .rate_limited")
	rc_assert_eq "$count" $((got + denied)) "... the rest counted as rate_limited ($denied)"
}

# An idle group's first packet always passes, whatever it costs: one
# packet at 10/s costs 100 ms, five times the 20 ms burst window.
capped 10.77.100.1:5001 14 7 14 14 --max-pps 10
capped 10.77.100.1:5002 40 20 19 22 --max-pps 10
capped 10.77.100.1:5003 40 20 19 22 --max-bps 100000
capped 10.77.100.1:5004 3 1 3 3 --max-pps 1
rc_summary
