#!/usr/bin/env bash
# Balancing end to end (README "Balancing"): a group with --mode balance
# and four subscribers; 64 source addresses send 5 numbered packets each.
# Every receiver socket gets exactly the packets of the sources that
# `group pick` (the library, the kernel's code) assigns to it, each once,
# and stats count one copy per packet: sent + dropped = received, nothing
# skipped. The same with --hash flow (one source, 16 source ports), on the
# TC replicator and through the XDP engine (`replicast serve`, two
# threads); save and apply keep the mode and the hash.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
N=4
NSRC=64		# source addresses: 10.77.0.10 .. 10.77.0.73
PER=5		# packets from each
topo_build $N || exit 1
topo_rx_gro
T=$RC_TMP
SO=$(rc_name so)
for ((s = 0; s < NSRC; s++)); do echo "addr add 10.77.0.$((10 + s))/24 dev $SO"; done |
	rc_in "$TOPO_SRC" ip -batch - || rc_not_ok "the $NSRC source addresses"

rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"

# receiver_of DEST: 1..N for 10.77.I.2:PORT.
receiver_of() {
	local d=${1#10.77.}
	echo "${d%%.*}"
}

# predict GROUP SOURCE...: each SOURCE's receiver by `group pick` (all in
# one -batch), and the sequence numbers it should get (source k: k*PER ..
# k*PER+PER-1) into $T/want-I.
predict() {
	local g=$1 k=0 i dest
	shift
	for ((i = 1; i <= N; i++)); do : >"$T/want-$i"; done
	printf "group pick $g %s\n" "$@" | $RC -batch - >"$T/picks" || rc_not_ok "group pick $g"
	rc_assert_eq $# "$(wc -l <"$T/picks")" "group pick names a subscriber for each of $# sources"
	while read -r dest; do
		i=$(receiver_of "$dest")
		seq $((k * PER)) $((k * PER + PER - 1)) >>"$T/want-$i"
		k=$((k + 1))
	done <"$T/picks"
}

# listen PORT: a recording receiver on every subscriber, expecting its share
# (and nothing more for a while after: a copy too many would show). A share
# of 0 is listened for until --timeout-ms.
listen() {
	local p=$1 i
	for ((i = 1; i <= N; i++)); do
		topo_sink $i 10.77.$i.2:"$p" "$(wc -l <"$T/want-$i")" --size 100 --idle-ms 1500 \
			--linger-ms 300 --timeout-ms 4000 \
			--record "$T/rec-$i-$p"
	done
}

# blast GROUP SOURCE...: source k (ADDR or ADDR:PORT) sends its PER packets.
blast() {
	local g=$1 k=0 src
	shift
	for src in "$@"; do
		rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to "$g" --count $PER --size 100 --rate 5000 \
			--bind "$src" --first $((k * PER)) >/dev/null || rc_not_ok "rc_blast from $src"
		k=$((k + 1))
	done
}

# check GROUP PORT WHAT TOTAL: every receiver got exactly its predicted
# numbers, each once; the group's counters say one copy per packet.
check() {
	local g=$1 p=$2 what=$3 total=$4 i sel shares=""
	for ((i = 1; i <= N; i++)); do topo_sink_wait $i "$p" >/dev/null; done
	for ((i = 1; i <= N; i++)); do
		rc_assert_eq "$(sort -n "$T/want-$i")" "$(sort -n "$T/rec-$i-$p")" \
			"$what: receiver $i got exactly the packets of the sources picked for it"
		shares="$shares $(wc -l <"$T/want-$i")"
	done
	echo "# $what: the receivers' shares:$shares"
	$RC stats --json >"$T/stats.json"
	sel=".groups[] | select(.group==\"$g\")"
	rc_assert_eq "$total $total 0" \
		"$(jq -r "$sel | \"\(.received.packets) \(.sent.packets) \(.skipped)\"" "$T/stats.json")" \
		"$what: received $total, sent $total copies, none skipped"
	rc_assert_eq "$total" "$(jq "$sel | .sent.packets + ([.subscribers[].dropped] | add)" "$T/stats.json")" \
		"$what: sent + dropped = packets (one copy each)"
	rc_assert_eq 0 "$(jq '[.drops[]] | add' "$T/stats.json")" "$what: no drops"
}

SOURCES=()
for ((s = 0; s < NSRC; s++)); do SOURCES+=("10.77.0.$((10 + s))"); done
FLOWS=()
for ((s = 0; s < 16; s++)); do FLOWS+=("10.77.0.10:$((40000 + s))"); done

# -- the TC replicator, --hash source -----------------------------------------
G=10.77.100.1:5000
rc_assert_ok "group add $G --mode balance" $RC group add $G --allow-source 10.77.0.0/24 --mode balance
topo_subscribe 4 $G 6000
rc_assert_match '"mode":"balance","hash":"source"' "$($RC list --json)" "list --json: mode and hash"
rc_assert_match "balances: each packet to one subscriber, by its source address" "$($RC list)" \
	"list says the group balances"
predict $G "${SOURCES[@]}"
for ((i = 1; i <= N; i++)); do cp "$T/want-$i" "$T/first-$i"; done
listen 6000
blast $G "${SOURCES[@]}"
check $G 6000 "TC, --hash source" $((NSRC * PER))

# -- the TC replicator, --hash flow: one source, 16 ports ---------------------
G2=10.77.100.2:5000
rc_assert_ok "group add $G2 --mode balance --hash flow" $RC group add $G2 \
	--allow-source 10.77.0.0/24 --mode balance --hash flow
topo_subscribe 4 $G2 6001
predict $G2 "${FLOWS[@]}"
used=0
for ((i = 1; i <= N; i++)); do [ -s "$T/want-$i" ] && used=$((used + 1)); done
rc_assert_ge 2 "$used" "--hash flow: one source's 16 flows are picked for $used receivers"
listen 6001
blast $G2 "${FLOWS[@]}"
check $G2 6001 "TC, --hash flow" $((16 * PER))

# Usage: an unknown mode or hash is refused, naming the values.
out=$($RC group set $G --mode spread 2>&1)
rc_assert_eq 2 $? "--mode spread is a usage error"
out=$($RC group pick 10.77.100.9:5000 10.77.0.10 2>&1)
rc_assert_eq 1 $? "group pick of a group that does not exist fails"

# -- the XDP engine: replicast serve, two threads --------------------------------
# Each thread sends to half of the subscribers (by slot), so a packet's
# winner is named by its thread and its place in that thread's share.
G3=10.77.100.3:5000
G4=10.77.100.4:5000
rc_assert_ok "group add $G3" $RC group add $G3 --allow-source 10.77.0.0/24
rc_assert_ok "group set $G3 --mode balance" $RC group set $G3 --mode balance
rc_assert_ok "group add $G4" $RC group add $G4 --allow-source 10.77.0.0/24 --hash flow
rc_assert_ok "group set $G4 --mode balance (keeps --hash flow)" $RC group set $G4 --mode balance
rc_assert_eq "balance flow" "$($RC list --json | jq -r ".groups[] | select(.group==\"$G4\") | \"\(.mode) \(.hash)\"")" \
	"group set --mode alone kept --hash flow"
topo_subscribe 4 $G3 6002
topo_subscribe 4 $G4 6003
: >"$T/serve.out"
rc_bg "$TOPO_RELAY" "$RC_ROOT/$BUILD/replicast" --pin-path "$TOPO_PIN" serve --peer-gro \
	--threads 2 --idle-ms never >"$T/serve.out" 2>&1
SERVE=$RC_BG_PID
for ((w = 0; w < 100; w++)); do
	grep -q "relaying" "$T/serve.out" && break
	sleep 0.05
done
rc_assert_match "relaying" "$(cat "$T/serve.out")" "serve relays"
predict $G3 "${SOURCES[@]}"
listen 6002
blast $G3 "${SOURCES[@]}"
check $G3 6002 "XDP engine, --hash source" $((NSRC * PER))
predict $G4 "${FLOWS[@]}"
listen 6003
blast $G4 "${FLOWS[@]}"
check $G4 6003 "XDP engine, --hash flow" $((16 * PER))
kill -TERM "$SERVE"
rc_wait_pid "$SERVE" 10
rc_assert_eq 0 $? "serve exits 0"
taken=$(grep '^taken' "$T/serve.out" | tail -1 | tr ' ' '\n' | grep -A1 -x taken | tail -1)
rc_assert_eq $(((NSRC + 16) * PER)) "$taken" "the engine took every packet (relay_ingress)"

# -- local senders: the XDP engine and the AF_XDP sender ------------------------
# send checks its copies against one per packet, not one per subscriber.
predict $G3 10.77.0.10
listen 6002
rc_assert_ok "send --engine xdp to a balance group: no copy missing" $RC send $G3 --engine xdp \
	--gen $PER --size 100 --source 10.77.0.10
check $G3 6002 "XDP engine, a local sender" $(((NSRC + 1) * PER))
predict $G2 10.77.0.11:4000
listen 6001
rc_assert_ok "send (AF_XDP) to a balance group: no copy missing" $RC send $G2 --gen $PER \
	--size 100 --source 10.77.0.11:4000
check $G2 6001 "AF_XDP sender" $((17 * PER))

# -- save, unload, apply: the same modes ----------------------------------------
$RC list --json | jq 'del(.groups[].joined_on)' >"$T/before.json"
rc_assert_ok "save" $RC save --output "$T/saved.conf"
rc_assert_match "group add $G --allow-source 10.77.0.0/24 --mode balance" "$(cat "$T/saved.conf")" \
	"save writes --mode balance"
rc_assert_match "group add $G2 --allow-source 10.77.0.0/24 --mode balance --hash flow" \
	"$(cat "$T/saved.conf")" "save writes --hash flow"
rc_assert_eq "" "$($RC apply --dry-run "$T/saved.conf")" "apply --dry-run of the saved file: no changes"
rc_assert_ok "unload" $RC unload
rc_assert_ok "apply loads and restores" $RC apply "$T/saved.conf"
rc_assert_eq "$(cat "$T/before.json" | jq -c '[.groups[] | [.group, .mode, .hash]]')" \
	"$($RC list --json | jq -c '[.groups[] | [.group, .mode, .hash]]')" \
	"after save, unload and apply every group has its mode and hash"
# The subscribers keep their sources: identity is the destination, not the
# slot, so the new slots change nothing.
predict $G "${SOURCES[@]}"
for ((i = 1; i <= N; i++)); do
	rc_assert_eq "$(cat "$T/first-$i")" "$(cat "$T/want-$i")" \
		"after apply: group pick gives receiver $i the same sources"
done
listen 6000
blast $G "${SOURCES[@]}"
for ((i = 1; i <= N; i++)); do topo_sink_wait $i 6000 >/dev/null; done
for ((i = 1; i <= N; i++)); do
	rc_assert_eq "$(sort -n "$T/want-$i")" "$(sort -n "$T/rec-$i-6000")" \
		"after apply: receiver $i gets the same sources"
done
rc_summary
