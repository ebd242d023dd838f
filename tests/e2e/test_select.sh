#!/usr/bin/env bash
# san: yes
# Per-subscriber selection end to end (README "Sampling and source
# filters"): a source sends 300 numbered packets, 0..149 from one address
# and 150..299 from another; a --sample 10 subscriber gets exactly 0, 10,
# 20 ... 290 (its 1st, 11th, 21st ...), a --from subscriber exactly the
# first source's, one with both exactly every 3rd of the second source's,
# a plain one all 300; stats count the rest as skipped, so sent + dropped
# + skipped is packets x subscribers exactly. The same through the XDP
# engine and the AF_XDP sender; save, unload and apply give the same
# `list --json`.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=4
topo_build $N || exit 1
rc_addr "$TOPO_SRC" "$(rc_name so)" 10.77.0.2/24
topo_rx_gro
T=$RC_TMP

rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"

# subscribe GROUP PORT: the four subscribers, one per receiver.
subscribe() {
	local g=$1 p=$2
	rc_assert_ok "sub add --sample 10" $RC sub add "$g" 10.77.1.2:"$p" --sample 10
	rc_assert_ok "sub add --from 10.77.0.1" $RC sub add "$g" 10.77.2.2:"$p" --from 10.77.0.1
	rc_assert_ok "sub add plain" $RC sub add "$g" 10.77.3.2:"$p"
	rc_assert_ok "sub add --sample 3 --from 10.77.0.2/32 --from 10.77.9.0/24" \
		$RC sub add "$g" 10.77.4.2:"$p" --sample 3 --from 10.77.0.2/32 --from 10.77.9.0/24
}

# listen PORT: a recording receiver on each; the selective ones see gaps in
# the sequence (rc_sink's own verdict), so what they got is judged by the
# record, and every datagram's size and payload bytes by the report. Idle
# for 6 s they stop: two sends of one run start seconds apart on a busy
# machine (each loads the engine), and a receiver that stopped between them
# would miss the second half.
EXPECT=(0 30 150 300 50)
listen() {
	local p=$1 i
	for ((i = 1; i <= N; i++)); do
		topo_sink $i 10.77.$i.2:"$p" "${EXPECT[i]}" --size 200 --idle-ms 6000 \
			--record "$T/rec-$i-$p"
	done
}

# check PORT WHAT: each receiver got exactly the predicted sequence numbers.
check() {
	local p=$1 what=$2 i
	for ((i = 1; i <= N; i++)); do topo_sink_wait $i "$p" >/dev/null; done
	rc_assert_eq "$(seq 0 10 290)" "$(cat "$T/rec-1-$p")" "$what: --sample 10 got exactly 0, 10, ... 290"
	rc_assert_eq "$(seq 0 149)" "$(cat "$T/rec-2-$p")" "$what: --from 10.77.0.1 got exactly its 150"
	rc_assert_eq "$(seq 0 299)" "$(cat "$T/rec-3-$p")" "$what: the plain subscriber got all 300, in order"
	rc_assert_eq "$(seq 150 3 299)" "$(cat "$T/rec-4-$p")" \
		"$what: --sample 3 --from 10.77.0.2 got exactly 150, 153, ... 297"
	for ((i = 1; i <= N; i++)); do
		rc_assert_eq "0 0" "$(rc_kv "$T/sink-$i-$p" bad_size) $(rc_kv "$T/sink-$i-$p" bad_payload)" \
			"$what: receiver $i: every datagram byte-exact"
	done
}

# counted GROUP WHAT: the counters say the same, and the identity holds.
counted() {
	local g=$1 what=$2 sel
	$RC stats --json >"$T/stats.json"
	sel=".groups[] | select(.group==\"$g\")"
	rc_assert_eq "300 530 670" "$(jq -r "$sel | \"\(.received.packets) \(.sent.packets) \(.skipped)\"" "$T/stats.json")" \
		"$what: group received 300, sent 530 copies, skipped 670"
	rc_assert_eq "30/0/270 150/0/150 300/0/0 50/0/250" \
		"$(jq -r "[$sel | .subscribers[] | \"\(.packets)/\(.dropped)/\(.skipped)\"] | join(\" \")" "$T/stats.json")" \
		"$what: per subscriber sent/dropped/skipped"
	rc_assert_eq 1200 "$(jq "$sel | .sent.packets + .skipped + ([.subscribers[].dropped] | add)" "$T/stats.json")" \
		"$what: sent + dropped + skipped = 300 packets x 4 subscribers"
	rc_assert_eq 0 "$(jq '[.drops[]] | add' "$T/stats.json")" "$what: no drops"
}

# -- the TC replicator: packets from the network ----------------------------
G=10.77.100.1:5000
rc_assert_ok "group add $G" $RC group add $G --allow-source 10.77.0.0/24
subscribe $G 6000
listen 6000
rc_assert_ok "0..149 from 10.77.0.1" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G --count 150 \
	--size 200 --rate 3000 --bind 10.77.0.1
rc_assert_ok "150..299 from 10.77.0.2" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G --count 150 \
	--size 200 --rate 3000 --bind 10.77.0.2 --first 150
check 6000 "TC"
counted $G "TC"

# What list and the metrics show of it.
$RC list --json >"$T/list.json"
rc_assert_eq '10 false [] 1 false ["10.77.0.1/32"] 1 false [] 3 false ["10.77.0.2/32","10.77.9.0/24"]' \
	"$(jq -r '[.groups[0].subscribers[] | "\(.sample) \(.sample_random) \(.from | tojson)"] | join(" ")' "$T/list.json")" \
	"list --json: sample, sample_random, from of each subscriber"
rc_assert_eq "10/0 3/2" \
	"$(bpftool -j map dump pinned "$TOPO_PIN/sub_select" | jq -r '[.[].formatted.value | select(.sample > 1) | "\(.sample)/\(.nfrom)"] | sort | join(" ")')" \
	"bpftool reads the rules from the pinned sub_select map, typed"
$RC stats --format prometheus >"$T/metrics.prom"
rc_assert_match "replicast_subscriber_skipped_packets_total\\{group=\"$G\",subscriber=\"10.77.1.2:6000\"\\} 270" \
	"$(cat "$T/metrics.prom")" "Prometheus: the sampled subscriber's 270 skipped"
rc_assert_match "replicast_group_skipped_packets_total\\{group=\"$G\"\\} 670" \
	"$(cat "$T/metrics.prom")" "Prometheus: the group's 670 skipped"

# Usage errors, each refused clearly with nothing added.
out=$($RC sub add $G 10.77.1.2:6100 --from 10.0.0.1 --from 10.0.0.2 --from 10.0.0.3 --from 10.0.0.4 \
	--from 10.0.0.5 --from 10.0.0.6 --from 10.0.0.7 --from 10.0.0.8 --from 10.0.0.9 2>&1)
rc_assert_eq 2 $? "a ninth --from is a usage error"
rc_assert_match "at most 8 prefixes" "$out" "saying the limit"
out=$($RC sub add $G 10.77.1.2:6100 --from fd77::1 2>&1)
rc_assert_eq 2 $? "an IPv6 --from on an IPv4 group is a usage error"
out=$($RC sub add $G 10.77.1.2:6100 --sample 0 2>&1)
rc_assert_eq 2 $? "--sample 0 is a usage error"
out=$($RC sub add $G 10.77.1.2:6100 --sample-random 2>&1)
rc_assert_eq 2 $? "--sample-random without --sample N is a usage error"
rc_assert_eq 4 "$($RC list --json | jq '.groups[0].subscribers | length')" "and nothing was added"

# -- the XDP engine: packets from a local sender -----------------------------
G2=10.77.100.2:5000
rc_assert_ok "group add $G2" $RC group add $G2
subscribe $G2 6001
listen 6001
rc_assert_ok "engine: 0..149 from 10.77.0.1" $RC send $G2 --engine xdp --gen 150 --size 200 \
	--rate 3000 --source 10.77.0.1
rc_assert_ok "engine: 150..299 from 10.77.0.2" $RC send $G2 --engine xdp --gen 150 --size 200 \
	--rate 3000 --source 10.77.0.2 --first 150
check 6001 "XDP engine"
counted $G2 "XDP engine"

# Two engine threads: each subscriber is one thread's (by slot), and its
# rule's count is the same shared one.
G4=10.77.100.4:5000
rc_assert_ok "group add $G4" $RC group add $G4
subscribe $G4 6003
listen 6003
rc_assert_ok "engine, 2 threads: 0..149 from 10.77.0.1" $RC send $G4 --engine xdp --threads 2 \
	--gen 150 --size 200 --rate 3000 --source 10.77.0.1
rc_assert_ok "engine, 2 threads: 150..299 from 10.77.0.2" $RC send $G4 --engine xdp --threads 2 \
	--gen 150 --size 200 --rate 3000 --source 10.77.0.2 --first 150
check 6003 "XDP engine, 2 threads"
counted $G4 "XDP engine, 2 threads"

# -- the AF_XDP sender: local packets through the injection device ---------
G3=10.77.100.3:5000
rc_assert_ok "group add $G3" $RC group add $G3
subscribe $G3 6002
listen 6002
rc_assert_ok "AF_XDP: 0..149 from 10.77.0.1" $RC send $G3 --gen 150 --size 200 --rate 3000 \
	--source 10.77.0.1
rc_assert_ok "AF_XDP: 150..299 from 10.77.0.2" $RC send $G3 --gen 150 --size 200 --rate 3000 \
	--source 10.77.0.2 --first 150
check 6002 "AF_XDP"
counted $G3 "AF_XDP"

# -- save, unload, apply: the same subscribers with the same selection ------
$RC list --json | jq 'del(.groups[].joined_on)' >"$T/before.json"
rc_assert_ok "save" $RC save --output "$T/saved.conf"
rc_assert_match "sub add $G 10.77.4.2:6000 --dev [^ ]* --sample 3 --from 10.77.0.2/32 --from 10.77.9.0/24" \
	"$(cat "$T/saved.conf")" "save writes --sample and every --from"
rc_assert_eq "" "$($RC apply --dry-run "$T/saved.conf")" "apply --dry-run of the saved file: no changes"
rc_assert_ok "unload" $RC unload
rc_assert_ok "apply loads and restores" $RC apply "$T/saved.conf"
rc_assert_eq "$(cat "$T/before.json")" "$($RC list --json | jq 'del(.groups[].joined_on)')" \
	"list --json after save, unload and apply is identical"

# A subscriber restored by apply starts its sampling afresh: its 1st again.
listen 6000
rc_assert_ok "0..149 again" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G --count 150 \
	--size 200 --rate 3000 --bind 10.77.0.1
rc_assert_ok "150..299 again" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G --count 150 \
	--size 200 --rate 3000 --bind 10.77.0.2 --first 150
check 6000 "after apply"
rc_summary
