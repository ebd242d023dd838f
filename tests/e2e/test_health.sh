#!/usr/bin/env bash
# Receiver health end to end (README "Receiver health"): three receivers
# subscribed with --health 1, a 9 s stream of 4,500 numbered packets. Receiver
# 2 takes its first 500 and closes its socket, so its namespace answers every
# copy with ICMP port unreachable (its ICMP rate limits set to 0, so that
# every copy is answered); within 1 s and some slack it is held off, and
# `list` says so and since when; while held off it gets about one copy a
# second; a new socket on its port is served again within a few seconds and
# gets the rest of the stream. Receivers 1 and 3 get every packet of the run,
# exactly; the counters account for every copy (sent + held_off = packets).
# Through the TC replicator and the relay engine (IPv4, packets from the
# network, replicast serve for the second) and the XDP engine (IPv6,
# replicast send --engine xdp).
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 3 || exit 1
topo_rx_gro
T=$RC_TMP
RATE=500

# Every copy answered: Linux limits its ICMP errors to about one a second per
# peer by default, which would stretch a streak's errors a second apart.
rc_in "${TOPO_RX[2]}" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0

rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# sub_json GROUP DEST FILTER: from `list --json` or, with STATS=1, `stats --json`.
sub_json() {
	local cmd=list
	[ "${STATS:-0}" = 1 ] && cmd=stats
	$RC $cmd --json | jq -r ".groups[] | select(.group==\"$1\") | .subscribers[] |
		select(.dest==\"$2\") | $3"
}

# wait_held GROUP DEST WANT SECONDS: polls list --json until held_off is WANT;
# prints how many ms it took (or "timeout").
wait_held() {
	local start end
	start=$(now_ms)
	end=$((start + $4 * 1000))
	while [ "$(now_ms)" -lt "$end" ]; do
		if [ "$(sub_json "$1" "$2" .held_off)" = "$3" ]; then
			echo $(($(now_ms) - start))
			return 0
		fi
		sleep 0.05
	done
	echo timeout
}

# phase FAMILY GROUP PORT SENDER COUNT WHAT
phase() {
	local fam=$1 g=$2 port=$3 sender=$4 COUNT=$5 what=$6 d1 d2 d3 ms s0 u0 s1 u1 held0 sp
	d1=$(topo_rx_addr "$fam" 1 "$port")
	d2=$(topo_rx_addr "$fam" 2 "$port")
	d3=$(topo_rx_addr "$fam" 3 "$port")
	held0=$(topo_stat '.drops.held_off')
	topo_subscribe "$fam" "$g" "$port" --health 1
	topo_sink 1 "$d1" $COUNT --idle-ms 3000
	topo_sink 3 "$d3" $COUNT --idle-ms 3000
	topo_sink 2 "$d2" 500	# takes 500, then closes its socket
	local first=$RC_BG_PID
	if [ "$sender" != xdp ]; then
		rc_bg "$TOPO_SRC" "$RC_BIN/rc_blast" --to "$g" --count $COUNT --rate $RATE
	else
		rc_bg "$TOPO_RELAY" "$RC_ROOT/$BUILD/replicast" --pin-path "$TOPO_PIN" send "$g" \
			--engine xdp --gen $COUNT --rate $RATE
	fi
	sp=$RC_BG_PID
	rc_wait_pid "$first" 10
	rc_assert_eq 0 $? "$what: receiver 2 took its first 500 and closed its socket"
	ms=$(wait_held "$g" "$d2" true 4)
	rc_assert_match '^[0-9]+$' "$ms" "$what: receiver 2 is held off ($ms ms after its socket closed)"
	# The slack is for the CLI's polls on a busy machine (the engine
	# spins one of its cores).
	[[ $ms =~ ^[0-9]+$ ]] && rc_assert_ge "$ms" 2500 "$what: ... within 1 s + 1.5 s slack"
	[[ $ms =~ ^[0-9]+$ ]] && rc_assert_ge 800 "$ms" "$what: ... and not before its 1 s of errors"
	rc_assert_match "HELD OFF since [0-9T:.-]+Z" "$($RC list | grep -F "$d2")" "$what: list shows it held off, since when"
	$RC list --json >"$T/list.json"
	local s2=".groups[] | select(.group==\"$g\") | .subscribers[] | select(.dest==\"$d2\")"
	rc_assert_match '^20[0-9-]+T[0-9:.]+Z$' "$(jq -r "$s2 | .held_since" "$T/list.json")" "$what: list --json: held_since"
	u0=$(jq -r "$s2 | .unreachable" "$T/list.json")
	rc_assert_ge 100 "$u0" "$what: its unreachable errors counted"
	rc_assert_eq "0 0" "$(jq -r "[.groups[] | select(.group==\"$g\") | .subscribers[] |
		select(.dest==\"$d1\" or .dest==\"$d3\") | .unreachable] | join(\" \")" "$T/list.json")" \
		"$what: none for receivers 1 and 3"
	# Held off, it costs a probe a second.
	s0=$(jq -r "$s2 | .packets" <<<"$($RC stats --json)")
	sleep 2
	$RC stats --json >"$T/s1.json"
	s1=$(jq -r "$s2 | .packets" "$T/s1.json")
	u1=$(jq -r "$s2 | .unreachable" "$T/s1.json")
	rc_assert_ge $((s1 - s0)) 3 "$what: 2 s held off: at most 3 copies sent, probes ($((s1 - s0)))"
	rc_assert_ge 1 $((s1 - s0)) "$what: ... at least one probe"
	rc_assert_ge $((u1 - u0)) 3 "$what: ... answered by as many errors ($((u1 - u0)))"
	# Back: a socket on its port again.
	rm -f "$T/rec2"
	topo_sink 2 "$d2" $COUNT --idle-ms 1500 --record "$T/rec2"
	local second=$RC_BG_PID
	ms=$(wait_held "$g" "$d2" false 8)
	rc_assert_match '^[0-9]+$' "$ms" "$what: receiver 2 is served again ($ms ms after its socket opened)"
	[[ $ms =~ ^[0-9]+$ ]] && rc_assert_ge "$ms" 3500 "$what: ... within two probes and 1.5 s slack"
	rc_wait_pid "$sp" 30
	if [ "$sender" != xdp ]; then
		rc_assert_eq 0 $? "$what: the source sent $COUNT"
	else
		# send counts the held-off copies as lost in the kernel and says so.
		rc_assert_eq 1 $? "$what: send sent $COUNT and reports the held-off copies"
	fi
	topo_sink_wait 1 "$port"
	rc_assert_eq 0 $? "$what: receiver 1 got every one of the $COUNT packets, exactly"
	topo_sink_wait 3 "$port"
	rc_assert_eq 0 $? "$what: receiver 3 got every one of the $COUNT packets, exactly"
	rc_wait_pid "$second" 20 >/dev/null
	echo "# receiver 2, back: $(cat "$T/sink-2-$port"); first $(head -n 1 "$T/rec2"), $(wc -l <"$T/rec2") received"
	# Two probes (their copies went, no error came back), then every packet
	# to the end of the stream.
	rc_assert_eq "ok" "$(awk -v last=$((COUNT - 1)) 'NR == 3 { p = $1; n = 1; next }
		NR > 3 { if ($1 != p + 1) bad = 1; p = $1; n++ }
		END { print (!bad && p == last && n >= 200) ? "ok" : "probes then seq " NR " lines, last " p ", gap " bad }' "$T/rec2")" \
		"$what: receiver 2, back, got two probes, then every packet to the end, in order"
	# Accounting: every copy sent or held off, nothing else.
	$RC stats --json >"$T/stats.json"
	local sel=".groups[] | select(.group==\"$g\")"
	rc_assert_eq "$COUNT/0 $COUNT/0" "$(jq -r "[$sel | .subscribers[] | select(.dest==\"$d1\" or .dest==\"$d3\") |
		\"\(.packets)/\(.dropped)\"] | join(\" \")" "$T/stats.json")" "$what: receivers 1 and 3: all sent, none dropped"
	rc_assert_eq $COUNT "$(jq "$sel | .subscribers[] | select(.dest==\"$d2\") | .packets + .dropped + .skipped" "$T/stats.json")" \
		"$what: receiver 2: sent + dropped + skipped = $COUNT"
	rc_assert_eq "$(jq "$sel | .subscribers[] | select(.dest==\"$d2\") | .dropped" "$T/stats.json")" \
		"$(($(jq '.drops.held_off' "$T/stats.json") - held0))" "$what: its drops are all held_off"
	rc_assert_eq $((3 * COUNT)) "$(jq "$sel | .sent.packets + ([.subscribers[].dropped] | add)" "$T/stats.json")" \
		"$what: sent + held off = $COUNT packets x 3 subscribers"
}

G4=10.77.100.1:5000
rc_assert_ok "group add $G4" $RC group add $G4 --allow-source 10.77.0.0/24
phase 4 $G4 6000 tc 4500 "TC"

# What else shows it: Prometheus, save and apply, bpftool.
$RC stats --format prometheus >"$T/metrics.prom"
rc_assert_match "replicast_subscriber_unreachable_total\\{group=\"$G4\",subscriber=\"10.77.2.2:6000\"\\} [1-9]" \
	"$(cat "$T/metrics.prom")" "Prometheus: receiver 2's unreachable errors"
rc_assert_match "replicast_subscriber_held_off\\{group=\"$G4\",subscriber=\"10.77.2.2:6000\"\\} 0" \
	"$(cat "$T/metrics.prom")" "Prometheus: held_off 0 once served again"
rc_assert_eq 3 "$(bpftool -j map dump pinned "$TOPO_PIN/sub_health" | jq '[.[].formatted.value | select(.hold_ms == 1000)] | length')" \
	"bpftool reads the pinned sub_health entries, typed"
rc_assert_ok "save" $RC save --output "$T/saved.conf"
rc_assert_match "sub add $G4 10.77.2.2:6000 --dev [^ ]* --health 1" "$(cat "$T/saved.conf")" "save writes --health"
rc_assert_eq "" "$($RC apply --dry-run "$T/saved.conf")" "apply --dry-run of the saved file: no changes"
sed -i 's/--health 1$/--health 5/' "$T/saved.conf"
rc_assert_ok "apply with --health 5" $RC apply "$T/saved.conf"
rc_assert_eq "5 5 5" "$($RC list --json | jq -r '[.groups[0].subscribers[].health_s] | join(" ")')" \
	"apply changed the hold time"
rc_assert_ok "group del $G4" $RC group del $G4
rc_assert_eq 0 "$(bpftool -j map dump pinned "$TOPO_PIN/sub_health" | jq length)" \
	"the receivers' entries went with their group"

# The relay engine (replicast serve) holds off and probes as TC does.
G4R=10.77.100.3:5000
rc_assert_ok "group add $G4R" $RC group add $G4R --allow-source 10.77.0.0/24
serve_start --idle-ms never
rc_assert_eq 0 $? "serve starts"
phase 4 $G4R 6002 relay 4500 "relay engine"
serve_stop
rc_assert_eq 0 $? "serve exits 0"
rc_assert_eq 4500 "$(serve_stat taken)" "relay engine: serve took all 4500 packets"
rc_assert_ok "group del $G4R" $RC group del $G4R

G6=[fd77:100::2]:5000
rc_assert_ok "group add $G6" $RC group add "$G6"
phase 6 "$G6" 6001 xdp 4500 "XDP engine"
rc_summary
