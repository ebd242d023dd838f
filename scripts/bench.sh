#!/usr/bin/env bash
# replicast benchmark driver: builds a topology of network namespaces, runs
# every sending method against the same receivers, prints the tables and writes
# build/bench/{runs.csv,results.csv,results.json,plot.png}.
#
# Run as root, normally through `make bench` (full) or `make bench QUICK=1`.
# See bench/README-bench.md for what is measured and how.
set -Eeuo pipefail

usage() {
	cat <<'EOF'
usage: scripts/bench.sh [options]
  --quick              C in {1, 64}, one run each, short runs (under a minute)
  --size BYTES         main UDP payload size (default 1200); a 64-byte pass runs too
  --sizes "A B"        exactly these payload sizes instead
  --receivers "1 8"    the values of C (default 1 8 64 256 1024)
  --runs N             runs per cell, the median is reported (default 3)
  --deliveries N       deliveries a run aims at (packets per receiver = N / C)
  --max-seconds S      time cap of one run's sending (default 6; quick 2)
  --methods "a b"      subset of: sendto sendmmsg gso io_uring replicast-relay replicast-afxdp
  --no-syscall-count   do not attach the syscall counter (its cost is then not in the figures)
  --out DIR            where results go (default build/bench)
  --update-readme      also copy the table and plot into bench/README-bench.md and bench/results/
  -h, --help           this text
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RCBENCH=$ROOT/build/bench/rcbench
REPLICAST=${REPLICAST:-$ROOT/build/replicast}
OUT=$ROOT/build/bench
QUICK=0
MAIN_SIZE=1200
SIZES=""
RECEIVERS="1 8 64 256 1024"
RUNS=3
DELIVERIES=""
MAX_SECONDS=""
ALL_METHODS="sendto sendmmsg gso io_uring replicast-relay replicast-afxdp"
METHODS=$ALL_METHODS
COUNT_SYSCALLS=1
UPDATE_README=0
RECEIVERS_SET=0
RUNS_SET=0

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--size) MAIN_SIZE=$2; shift ;;
	--sizes) SIZES=$2; shift ;;
	--receivers) RECEIVERS=$2; RECEIVERS_SET=1; shift ;;
	--runs) RUNS=$2; RUNS_SET=1; shift ;;
	--deliveries) DELIVERIES=$2; shift ;;
	--max-seconds) MAX_SECONDS=$2; shift ;;
	--methods) METHODS=$2; shift ;;
	--no-syscall-count) COUNT_SYSCALLS=0 ;;
	--out) OUT=$2; shift ;;
	--update-readme) UPDATE_README=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

if [ "$QUICK" = 1 ]; then
	[ "$RECEIVERS_SET" = 1 ] || RECEIVERS="1 64"
	[ "$RUNS_SET" = 1 ] || RUNS=1
	: "${DELIVERIES:=200000}"
	: "${MAX_SECONDS:=2}"
	BG_SECONDS=0.05
else
	: "${DELIVERIES:=2000000}"
	: "${MAX_SECONDS:=6}"
	BG_SECONDS=0.2
fi
if [ -z "$SIZES" ]; then
	SIZES=$MAIN_SIZE
	[ "$MAIN_SIZE" = 64 ] || SIZES="$MAIN_SIZE 64"
fi

die() { echo "bench: $*" >&2; exit 1; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
t_start=$(date +%s.%N)
log() { echo "bench: $*" >&2; }

[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, XDP, BPF)"
[ -x "$RCBENCH" ] || die "$RCBENCH missing: run 'make bench' (or make -f bench/bench.mk bench-build)"
for tool in ip nsenter; do
	command -v "$tool" >/dev/null || die "$tool not found (see bench/deps.txt)"
done
for c in $RECEIVERS; do
	[[ "$c" =~ ^[0-9]+$ ]] && [ "$c" -ge 1 ] && [ "$c" -le 4032 ] || die "bad receiver count $c (1..4032)"
done
for s in $SIZES; do
	[[ "$s" =~ ^[0-9]+$ ]] && [ "$s" -ge 8 ] && [ "$s" -le 1472 ] || die "bad payload size $s (8..1472)"
done
for m in $METHODS; do
	[[ " $ALL_METHODS " == *" $m "* ]] || die "unknown method $m"
done

# One benchmark at a time: two at once would skew each other's CPU figures.
mkdir -p "$OUT"
exec 9>/run/rcbench.lock
if [ "$QUICK" = 1 ]; then
	flock -w 5 9 || log "warning: another benchmark is running; this one's figures will be skewed"
else
	log "waiting for any other benchmark run to finish..."
	flock -w 3600 9 || die "another benchmark run holds /run/rcbench.lock"
fi

# ---- names: everything this run creates starts with rc and carries our PID ----
TAG=rcb$$
HUB=${TAG}hub          # the sending host: user-space senders run here, replicast is loaded here
SRC=${TAG}src          # the replicast-relay sender: one veth into the hub
RXPIN=/sys/fs/bpf/rcbench-$$        # pinned receiver counters
RCPIN=/sys/fs/bpf/rcbench-$$-rc     # replicast's private pin path
CREATED_NS=()
RC_LOADED=0
CLEANED=0

cleanup() {
	[ "$CLEANED" = 1 ] && return
	CLEANED=1
	set +e
	if [ "$RC_LOADED" = 1 ]; then
		nsenter --net="/run/netns/$HUB" -- "$REPLICAST" --pin-path "$RCPIN" unload >/dev/null 2>&1 ||
			log "warning: replicast unload failed"
	fi
	for ns in "${CREATED_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$RXPIN" "$RCPIN" 2>/dev/null
	rm -f "$OUT"/dests-*.txt 2>/dev/null
}
trap cleanup EXIT
trap 'log "interrupted"; cleanup; exit 130' INT
trap 'log "terminated"; cleanup; exit 143' TERM HUP

nsx() { local ns=$1; shift; nsenter --net="/run/netns/$ns" -- "$@"; }

# ---- topology ----
MAXC=0
for c in $RECEIVERS; do [ "$c" -gt "$MAXC" ] && MAXC=$c; done
NRX=$((MAXC < 64 ? MAXC : 64))             # receiver namespaces, one veth each
PER=$(((MAXC + NRX - 1) / NRX))              # addresses per receiver veth
# Receiver i lives in namespace i % NRX with address 198.18.(i % NRX).(2 + i / NRX)
# (198.18.0.0/15 is the benchmarking range, RFC 2544); port 9000.
rx_addr() { echo "198.18.$(($1 % NRX)).$((2 + $1 / NRX))"; }
mac() { printf '02:00:c6:%02x:%02x:%02x' "$1" "$2" "$3"; }
GROUP_ADDR=198.19.255.1
RX_PORT=9000

t_setup=$(date +%s.%N)
log "building topology: $NRX receiver namespaces x $PER address(es), hub $HUB, relay sender $SRC"
for ns in "$HUB" "$SRC"; do
	ip netns add "$ns"
	CREATED_NS+=("$ns")
done
for ((k = 0; k < NRX; k++)); do
	ip netns add "${TAG}r$k"
	CREATED_NS+=("${TAG}r$k")
done
for ns in "${CREATED_NS[@]}"; do
	nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
done
nsx "$HUB" sysctl -qw net.ipv4.conf.all.forwarding=1

{
	# relay sender <-> hub
	echo "link add rcbhs address $(mac 255 0 1) type veth peer name rcbs0 address $(mac 255 0 2) netns $SRC"
	echo "addr add 198.19.0.2/30 dev rcbhs"
	echo "link set rcbhs up"
	for ((k = 0; k < NRX; k++)); do
		echo "link add rcbh$k address $(mac 0 "$k" 1) type veth peer name rcbr$k address $(mac 0 "$k" 2) netns ${TAG}r$k"
		echo "addr add 198.18.$k.1/24 dev rcbh$k"
		echo "link set rcbh$k up"
	done
	# Static neighbours: the receivers' XDP counter drops everything counted,
	# so nothing may depend on ARP once measuring starts.
	for ((i = 0; i < MAXC; i++)); do
		k=$((i % NRX))
		echo "neigh replace $(rx_addr "$i") lladdr $(mac 0 "$k" 2) dev rcbh$k nud permanent"
	done
} | ip -n "$HUB" -batch -
{
	echo "addr add 198.19.0.1/30 dev rcbs0"
	echo "link set rcbs0 up"
	echo "route add $GROUP_ADDR/32 via 198.19.0.2"
	echo "neigh replace 198.19.0.2 lladdr $(mac 255 0 1) dev rcbs0 nud permanent"
} | ip -n "$SRC" -batch -
for ((k = 0; k < NRX; k++)); do
	{
		echo "link set rcbr$k up"
		for ((j = 0; j < PER; j++)); do
			[ $((j * NRX + k)) -lt "$MAXC" ] && echo "addr add 198.18.$k.$((2 + j))/24 dev rcbr$k"
		done
	} | ip -n "${TAG}r$k" -batch -
done
attach_args=()
for ((k = 0; k < NRX; k++)); do
	attach_args+=("/run/netns/${TAG}r$k:rcbr$k")
done
"$RCBENCH" rx-attach --pin "$RXPIN" "${attach_args[@]}"
for c in $RECEIVERS; do
	for ((i = 0; i < c; i++)); do echo "$(rx_addr "$i"):$RX_PORT"; done >"$OUT/dests-$c.txt"
done

# ---- replicast ----
RC_STATE="not built"   # replicast-relay row status when it cannot run
AFXDP_STATE="not built"
if [ -x "$REPLICAST" ]; then
	if nsx "$HUB" "$REPLICAST" --pin-path "$RCPIN" load --dev rcbhs --max-subs "$((MAXC > 64 ? MAXC : 64))" >"$OUT/replicast-load.log" 2>&1; then
		RC_LOADED=1
		RC_STATE=""
		log "replicast loaded on rcbhs in $HUB ($($REPLICAST --version 2>/dev/null || echo "$REPLICAST"))"
	else
		RC_STATE="load failed"
		log "warning: replicast load failed (see $OUT/replicast-load.log)"
		cat "$OUT/replicast-load.log" >&2
	fi
	if "$REPLICAST" send --help >/dev/null 2>&1; then
		AFXDP_STATE=""
		[ "$RC_LOADED" = 1 ] || AFXDP_STATE="load failed"
	fi
fi
GROUP=""
SUBS=0
# Grows the replicast group's subscribers to the first C receivers (the
# receivers of C are a prefix of those of any larger C).
replicast_subscribe() {
	local c=$1 i
	[ "$RC_LOADED" = 1 ] || return 0
	if [ -z "$GROUP" ]; then
		GROUP=$GROUP_ADDR:$RX_PORT
		nsx "$HUB" "$REPLICAST" --pin-path "$RCPIN" group add "$GROUP" >/dev/null ||
			{ RC_STATE="group add failed"; AFXDP_STATE=$RC_STATE; return 0; }
	fi
	for ((i = SUBS; i < c; i++)); do
		if ! nsx "$HUB" "$REPLICAST" --pin-path "$RCPIN" sub add "$GROUP" "$(rx_addr "$i"):$RX_PORT" \
			--dev "rcbh$((i % NRX))" >/dev/null; then
			RC_STATE="sub add failed"
			AFXDP_STATE=$RC_STATE
			return 0
		fi
	done
	SUBS=$c
}

t_topo=$(date +%s.%N)
log "topology ready in $(secs "$t_setup" "$t_topo") s"

# ---- runs ----
RUNS_CSV=$OUT/runs.csv
echo "size,method,receivers,run,status,packets_per_receiver,handed,delivered,elapsed_ns,busy_ns,syscalls,top_syscall,send_errors,rx_min,rx_max,bg_busy_pct" >"$RUNS_CSV"
sc_flag=()
[ "$COUNT_SYSCALLS" = 1 ] && sc_flag=(--count-syscalls)

method_state() {
	case "$1" in
	io_uring) "$RCBENCH" methods | grep -q '^io_uring built' || echo "not built" ;;
	replicast-relay) echo "$RC_STATE" ;;
	replicast-afxdp) echo "$AFXDP_STATE" ;;
	esac
}

one_run() { # METHOD C SIZE RUN
	local m=$1 c=$2 size=$3 r=$4 packets args=()
	packets=$(((DELIVERIES + c - 1) / c))
	case "$m" in
	replicast-relay)
		args=(--method group --group "$GROUP" --netns "/run/netns/$SRC") ;;
	replicast-afxdp)
		args=(--method exec --netns "/run/netns/$HUB" -- "$REPLICAST" --pin-path "$RCPIN" send "$GROUP"
			--gen "$packets" --size "$size") ;;
	*)
		args=(--method "$m" --netns "/run/netns/$HUB") ;;
	esac
	local opts=(--dests "$OUT/dests-$c.txt" --packets "$packets" --size "$size" --rx-pin "$RXPIN"
		--max-seconds "$MAX_SECONDS" --bg-seconds "$BG_SECONDS" --label "$size,$m,$c,$r" "${sc_flag[@]}")
	"$RCBENCH" run "${opts[@]}" "${args[@]}" >>"$RUNS_CSV" || log "run failed: $m C=$c size=$size run $r"
}

for c in $RECEIVERS; do
	replicast_subscribe "$c"
	for size in $SIZES; do
		for m in $METHODS; do
			st=$(method_state "$m")
			[ -n "$st" ] && echo "$size,$m,$c,0,$st,,,,,,,,,,," >>"$RUNS_CSV"
		done
		# Runs interleave the methods (run 1 of every method, then run 2, ...)
		# so a change in background load does not land on one method only.
		for ((r = 1; r <= RUNS; r++)); do
			for m in $METHODS; do
				[ -z "$(method_state "$m")" ] || continue
				log "C=$c size=$size run $r/$RUNS: $m"
				one_run "$m" "$c" "$size" "$r"
			done
		done
	done
done
t_runs=$(date +%s.%N)

# ---- report ----
mode=full
[ "$QUICK" = 1 ] && mode=quick
title="$mode run, $(date -u +%Y-%m-%d)"
"$RCBENCH" report --in "$RUNS_CSV" --out-dir "$OUT" --title "$title" --markdown "$OUT/results.md" |
	tee "$OUT/report.txt"
if command -v gnuplot >/dev/null; then
	(cd "$OUT" && rm -f plot.png && gnuplot plot.gp) || log "warning: gnuplot failed"
	[ -f "$OUT/plot.png" ] && log "plot: $OUT/plot.png"
else
	log "warning: gnuplot not installed (apt-get install gnuplot-nox): no plot"
fi
log "results: $OUT/results.csv $OUT/results.json (raw runs: $RUNS_CSV)"
t_end=$(date +%s.%N)
log "wall time: setup $(secs "$t_setup" "$t_topo") s, runs $(secs "$t_topo" "$t_runs") s, total $(secs "$t_start" "$t_end") s"

if [ "$UPDATE_README" = 1 ]; then
	readme=$ROOT/bench/README-bench.md
	mkdir -p "$ROOT/bench/results"
	cp "$OUT/results.csv" "$OUT/results.json" "$ROOT/bench/results/"
	[ -f "$OUT/plot.png" ] && cp "$OUT/plot.png" "$ROOT/bench/results/plot.png"
	if grep -q '<!-- bench-results:start -->' "$readme"; then
		awk -v md="$OUT/results.md" '
			/<!-- bench-results:start -->/ { print; while ((getline l < md) > 0) print l; skip = 1; next }
			/<!-- bench-results:end -->/ { skip = 0 }
			!skip { print }' "$readme" >"$readme.tmp" && mv "$readme.tmp" "$readme"
		log "updated $readme and bench/results/"
	else
		log "warning: $readme has no results markers; not updated"
	fi
fi
