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
  --max-seconds S      time cap of one run's sending (default 8; quick 2)
  --methods "a b"      subset of: sendto sendmmsg gso io_uring replicast-relay replicast-afxdp
                       replicast-xdp replicast-xdp2
  --relay-static-mac   give replicast each subscriber's MAC (sub add --mac), skipping its FIB lookup
  --no-syscall-count   skip the syscall-counting runs (the syscalls column then says "not counted")
  --out DIR            where results go (default build/bench)
  --update-readme      also copy the table and plot into bench/README-bench.md and bench/results/
  --report-only        no measuring: the report again from the last runs.csv
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
ALL_METHODS="sendto sendmmsg gso io_uring replicast-relay replicast-afxdp replicast-xdp replicast-xdp2"
METHODS=$ALL_METHODS
COUNT_SYSCALLS=1
UPDATE_README=0
REPORT_ONLY=0
RELAY_MAC=0
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
	--relay-static-mac) RELAY_MAC=1 ;;
	--out) OUT=$2; shift ;;
	--update-readme) UPDATE_README=1 ;;
	--report-only) REPORT_ONLY=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

if [ "$QUICK" = 1 ]; then
	[ "$RECEIVERS_SET" = 1 ] || RECEIVERS="1 64"
	[ "$RUNS_SET" = 1 ] || RUNS=1
	: "${DELIVERIES:=100000}"
	: "${MAX_SECONDS:=2}"
	BG_SECONDS=0.05
	QUIET_WAIT=0.3
	REDO_DISTURBED=0
else
	: "${DELIVERIES:=800000}"
	: "${MAX_SECONDS:=8}"
	BG_SECONDS=0.2
	QUIET_WAIT=30
	REDO_DISTURBED=3
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

: >"$OUT/bench.log"

# ---- names: everything this run creates starts with rc and carries our PID ----
TAG=rcb$$
HUB=${TAG}hub          # the sending host: user-space senders run here, replicast is loaded here
SRC=${TAG}src          # the replicast-relay sender: one veth into the hub
RXPIN=/sys/fs/bpf/rcbench-$$        # pinned receiver counters
RCPIN=/sys/fs/bpf/rcbench-$$-rc     # replicast's private pin path
CREATED_NS=()
TMP_FILES=()
RC_LOADED=0
CLEANED=0

cleanup() {
	[ "$CLEANED" = 1 ] && return
	CLEANED=1
	set +e
	[ -n "${SERVE_PID:-}" ] && kill -TERM "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null	# replicast-relay's serve
	if [ "$RC_LOADED" = 1 ]; then
		nsenter --net="/run/netns/$HUB" -- "$REPLICAST" --pin-path "$RCPIN" unload >/dev/null 2>&1 ||
			log "warning: replicast unload failed"
	fi
	for ns in "${CREATED_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$RXPIN" "$RCPIN" 2>/dev/null
	rm -f "$OUT"/dests-*.txt "${TMP_FILES[@]}" 2>/dev/null
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

RUNS_CSV=$OUT/runs.csv
t_setup=$(date +%s.%N)
t_topo=$t_setup
t_runs=$t_setup
if [ "$REPORT_ONLY" = 1 ]; then
	[ -f "$RUNS_CSV" ] || die "--report-only: no $RUNS_CSV"
	log "report only, from $RUNS_CSV"
else # the whole measurement, down to "---- report ----"

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
"$RCBENCH" rx-attach --pin "$RXPIN" --port "$RX_PORT" "${attach_args[@]}"
for c in $RECEIVERS; do
	for ((i = 0; i < c; i++)); do echo "$(rx_addr "$i"):$RX_PORT"; done >"$OUT/dests-$c.txt"
done

# ---- replicast ----
RC_STATE="not built"   # replicast-relay row status when it cannot run
AFXDP_STATE="not built"
XDP_STATE="not built"
if [ -x "$REPLICAST" ]; then
	# Run a private copy: build/replicast may be rebuilt while we measure.
	# (A copy taken in the middle of a link does not run: try again then.)
	for try in 1 2 3 4 5; do
		cp "$REPLICAST" "$OUT/replicast.$$" && "$OUT/replicast.$$" --help >/dev/null 2>&1 && break
		sleep 2
	done
	REPLICAST=$OUT/replicast.$$
	TMP_FILES+=("$REPLICAST")
	if nsx "$HUB" "$REPLICAST" --pin-path "$RCPIN" load --dev rcbhs --max-subs "$((MAXC > 64 ? MAXC : 64))" >"$OUT/replicast-load.log" 2>&1; then
		RC_LOADED=1
		RC_STATE=""
		log "replicast loaded on rcbhs in $HUB"
	else
		RC_STATE="load failed"
		log "warning: replicast load failed (see $OUT/replicast-load.log)"
		cat "$OUT/replicast-load.log" >&2
	fi
	if "$REPLICAST" send --help >/dev/null 2>&1; then
		AFXDP_STATE=""
		[ "$RC_LOADED" = 1 ] || AFXDP_STATE="load failed"
	fi
	if "$REPLICAST" send --help 2>&1 | grep -q -- "--engine"; then
		XDP_STATE=""
		[ "$RC_LOADED" = 1 ] || XDP_STATE="load failed"
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
		# Newer replicast denies network sources by default: allow the relay
		# sender's address (older builds have no --allow-source).
		if "$REPLICAST" group add --help 2>&1 | grep -q -- --allow-source; then
			nsx "$HUB" "$REPLICAST" --pin-path "$RCPIN" group add "$GROUP" --allow-source 198.19.0.1 \
				>>"$OUT/bench.log" 2>&1 || { RC_STATE="group add failed"; AFXDP_STATE=$RC_STATE; XDP_STATE=$RC_STATE; return 0; }
		else
			nsx "$HUB" "$REPLICAST" --pin-path "$RCPIN" group add "$GROUP" >>"$OUT/bench.log" 2>&1 ||
				{ RC_STATE="group add failed"; AFXDP_STATE=$RC_STATE; XDP_STATE=$RC_STATE; return 0; }
		fi
	fi
	for ((i = SUBS; i < c; i++)); do
		local mac_arg=()
		[ "$RELAY_MAC" = 1 ] && mac_arg=(--mac "$(mac 0 $((i % NRX)) 2)")
		if ! nsx "$HUB" "$REPLICAST" --pin-path "$RCPIN" sub add "$GROUP" "$(rx_addr "$i"):$RX_PORT" \
			--dev "rcbh$((i % NRX))" "${mac_arg[@]}" >>"$OUT/bench.log" 2>&1; then
			log "replicast sub add failed:"
			tail -n 3 "$OUT/bench.log" >&2
			RC_STATE="sub add failed"
			AFXDP_STATE=$RC_STATE
			XDP_STATE=$RC_STATE
			return 0
		fi
	done
	SUBS=$c
}

t_topo=$(date +%s.%N)
log "topology ready in $(secs "$t_setup" "$t_topo") s"

# ---- runs ----
echo "size,method,receivers,run,status,packets_per_receiver,handed,delivered,elapsed_ns,busy_ns,syscalls,top_syscall,send_errors,rx_min,rx_max,bg_busy_pct,disturbed" >"$RUNS_CSV"

method_state() {
	case "$1" in
	io_uring) "$RCBENCH" methods | grep -q '^io_uring built' || echo "not built" ;;
	replicast-relay) echo "$RC_STATE" ;;
	replicast-afxdp) echo "$AFXDP_STATE" ;;
	replicast-xdp | replicast-xdp2) echo "$XDP_STATE" ;;
	esac
}

# One run of METHOD to the first C receivers with SIZE-byte payloads. RUN is
# the run number, or "c" for the syscall-counting run (see below).
one_run() { # METHOD C SIZE RUN
	local m=$1 c=$2 size=$3 r=$4 packets deliveries=$DELIVERIES args=() extra=()
	packets=$(((deliveries + c - 1) / c))
	case "$r" in
	c) # syscall-counting run
		packets=$(((DELIVERIES / 4 + c - 1) / c))
		extra=(--count-syscalls) ;;
	b*) # start-up baseline of an exec'd sender: one packet
		packets=1
		extra=(--count-syscalls) ;;
	esac
	case "$m" in
	replicast-relay)
		# The relay's engine: 'replicast serve' in the hub fans the stream
		# out (relay_ingress on rcbhs, one engine thread: a second busy
		# CPU while packets flow, so --cpus 2). Started before the first
		# relay run and left running: 10 ms after a run it sleeps and uses
		# no CPU, and nothing of the other methods passes rcbhs. Stopped at
		# the bench's exit (cleanup). A build without serve, or
		# RC_BENCH_SERVE=0: TC alone.
		# (nsenter itself, not nsx: a function in the background is a
		# subshell, and its PID would not be serve's.)
		if [ -z "${SERVE_PID:-}" ] && [ "${RC_BENCH_SERVE:-1}" = 1 ] &&
		   "$REPLICAST" serve --help >/dev/null 2>&1; then
			nsenter --net="/run/netns/$HUB" -- "$REPLICAST" --pin-path "$RCPIN" serve --idle-ms 10 \
				--stats-every 1 >"$OUT/serve.log" 2>&1 &
			SERVE_PID=$!
			sleep 1
			grep -q relaying "$OUT/serve.log" || { log "warning: replicast serve did not start:"; cat "$OUT/serve.log" >&2; }
		fi
		args=(--method group --group "$GROUP" --netns "/run/netns/$SRC")
		[ -n "${SERVE_PID:-}" ] && args=(--cpus 2 "${args[@]}") ;;
	replicast-afxdp)
		args=(--method exec --exec-log "$OUT/afxdp.log" --netns "/run/netns/$HUB" --
			"$REPLICAST" --pin-path "$RCPIN" send "$GROUP" --gen "$packets" --size "$size" --json) ;;
	replicast-xdp | replicast-xdp2)
		# The engine keeps a core busy per thread while the CLI, on
		# another, generates the packets: --cpus says so to rcbench.
		local threads=1
		[ "$m" = replicast-xdp2 ] && threads=2
		args=(--cpus 2 --method exec --exec-log "$OUT/xdp.log" --netns "/run/netns/$HUB" --
			"$REPLICAST" --pin-path "$RCPIN" send "$GROUP" --engine xdp --threads "$threads"
			--gen "$packets" --size "$size" --json) ;;
	*)
		args=(--method "$m" --netns "/run/netns/$HUB") ;;
	esac
	local try=1 redo=0 row rc
	# A failed run is recorded and tried once more. A timed run disturbed by
	# other work on the machine (rcbench's last field) is recorded as
	# "redone" and run again, at most $REDO_DISTURBED times; the last one is
	# kept whatever it saw, and the table says so.
	while :; do
		rc=0
		row=$("$RCBENCH" run --dests "$OUT/dests-$c.txt" --packets "$packets" --size "$size" \
			--rx-pin "$RXPIN" --max-seconds "$MAX_SECONDS" --bg-seconds "$BG_SECONDS" \
			--quiet-wait "$QUIET_WAIT" --label "$size,$m,$c,$r" "${extra[@]}" "${args[@]}" \
			2>>"$OUT/bench.log") || rc=$?
		[ -n "$row" ] || row="$size,$m,$c,$r,failed,,,,,,,,,,,,"
		if [ "$rc" != 0 ]; then
			echo "$row" >>"$RUNS_CSV"
			log "run failed (exit $rc): $m C=$c size=$size run $r, try $try; see $OUT/bench.log:"
			tail -n 3 "$OUT/bench.log" >&2
			[ "$try" -lt 2 ] || return 0
			try=$((try + 1))
			continue
		fi
		if [[ "$r" =~ ^[0-9]+$ ]] && [ "${row##*,}" = 1 ] && [ "$redo" -lt "$REDO_DISTURBED" ]; then
			redo=$((redo + 1))
			log "  disturbed by other work on the machine (background $(echo "$row" | cut -d, -f16)% busy, busy/elapsed $(echo "$row" | awk -F, '{ printf "%.2f", $10 / $9 }')); again"
			echo "$row" | awk -F, -v OFS=, '{ $5 = "redone"; print }' >>"$RUNS_CSV"
			continue
		fi
		echo "$row" >>"$RUNS_CSV"
		return 0
	done
}

for c in $RECEIVERS; do
	replicast_subscribe "$c"
	for size in $SIZES; do
		for m in $METHODS; do
			st=$(method_state "$m")
			[ -n "$st" ] && echo "$size,$m,$c,0,$st,,,,,,,,,,,," >>"$RUNS_CSV"
		done
		# The syscall counter (a tracepoint on every syscall entry) makes
		# each syscall of the sender slower, so it is attached only in a
		# separate, shorter counting run per cell, whose speed and CPU
		# figures are not used; the timed runs run without it.
		if [ "$COUNT_SYSCALLS" = 1 ]; then
			for m in $METHODS; do
				[ -z "$(method_state "$m")" ] || continue
				log "C=$c size=$size syscall-counting run: $m"
				one_run "$m" "$c" "$size" c
			done
		fi
		# The replicast send rows start a process (exec, AF_XDP socket and
		# UMEM, or the XDP engine's program and threads) inside the timed
		# window, where the built-in senders set up before "go": 1-packet
		# runs measure that start-up, and the report takes it out.
		for bm in replicast-afxdp replicast-xdp replicast-xdp2; do
			[[ " $METHODS " == *" $bm "* ]] && [ -z "$(method_state $bm)" ] || continue
			for ((r = 1; r <= RUNS; r++)); do
				log "C=$c size=$size start-up baseline $r/$RUNS: $bm"
				one_run $bm "$c" "$size" "b$r"
			done
		done
		# Timed runs interleave the methods (run 1 of every method, then
		# run 2, ...) so a change in background load does not land on one
		# method only.
		for ((r = 1; r <= RUNS; r++)); do
			for m in $METHODS; do
				[ -z "$(method_state "$m")" ] || continue
				log "C=$c size=$size run $r/$RUNS: $m"
				one_run "$m" "$c" "$size" "$r"
			done
		done
	done
	if [ "$RC_LOADED" = 1 ]; then
		{ echo "== replicast stats after C=$c"; nsx "$HUB" "$REPLICAST" --pin-path "$RCPIN" stats --json; } \
			>>"$OUT/bench.log" 2>&1
	fi
done
t_runs=$(date +%s.%N)
fi # REPORT_ONLY

# ---- report ----
mode=full
[ "$QUICK" = 1 ] && mode=quick
HZ_NOTE="$(getconf CLK_TCK)-Hz ticks"
if [ "$REDO_DISTURBED" -gt 0 ]; then
	REDO_NOTE="A disturbed run is run again (up to $REDO_DISTURBED times); the table counts the disturbed runs it had to keep."
else
	REDO_NOTE="Quick mode does not run disturbed runs again; the table counts them."
fi
title="$mode run, $(date -u +%Y-%m-%d)"
notes=(
	"Topology: user-space methods send from the hub namespace straight into the receivers' veths (1 veth hop per delivery). replicast-relay's sender sits in its own namespace: each packet crosses one more veth (sender -> hub, once per packet, not per receiver) and replicast's TC ingress program on that veth fans it out over the same receiver veths. That extra hop is charged to replicast."
	"Receivers: C <= 64 each have their own namespace and veth; for larger C the receivers share the $NRX veths, $PER addresses per veth at most, and are counted per address by the XDP counter, which counts and drops."
	"CPU-ns/delivery = whole-machine busy time (user+nice+system+irq+softirq from /proc/stat, ${HZ_NOTE}) over the timed window / deliveries counted at the receivers. Other work on the machine would land in it: each run first waits (up to ${QUIET_WAIT} s) for the machine to be under 10% busy, and a run is 'disturbed' when the machine was over 10% busy just before or after it, or busy for more than one CPU's worth during it (every sender here is one thread whose kernel work runs on its own CPU). ${REDO_NOTE}"
	"syscalls/pkt/receiver = syscalls entered by the sending process (raw_syscalls:sys_enter BPF counter, filtered by its thread group, armed between 'go' and its exit) / datagrams handed (packets x receivers). Counted in a separate, shorter run per cell, because the tracepoint slows every syscall; the timed runs carry no counter."
	"loss = datagrams handed to the kernel (x C for the replicast rows) - deliveries counted at the receivers."
	"replicast-afxdp runs 'replicast send GROUP --gen N --size B' in the hub (AF_XDP into the injection veth that 'replicast load' makes, fanned out by replicast on its peer: like the relay, one extra veth hop per packet). Being a separate program, it starts inside the timed window: its start-up, measured by 1-packet runs of the same cell, is subtracted from its time, CPU and syscalls (results.json: startup_subtracted)."
	"replicast-xdp and replicast-xdp2 run 'replicast send GROUP --engine xdp --threads 1|2 --gen N --size B' in the hub: the CLI writes packets into the engine's shared ring and engine threads inside one BPF_PROG_RUN each send every subscriber's copy straight to its receiver veth (no extra hop). Each engine thread keeps a core busy and the CLI generating packets uses another, so these runs count as disturbed only when the machine was busy before or after them, or beyond two CPUs; start-up is subtracted as for replicast-afxdp."
)
if [ "$RELAY_MAC" = 1 ]; then
	notes+=("replicast-relay ran with static subscriber MACs (sub add --mac): no FIB lookup per copy.")
else
	notes+=("replicast-relay subscribers are added with --dev only: the replicator resolves each copy's next hop with a FIB lookup (the default setup).")
fi
[ -n "${SERVE_PID:-}" ] && notes+=("replicast-relay was served by the engine: 'replicast serve --idle-ms 10' ran in the hub, so relay_ingress (XDP on rcbhs) put the stream into the XDP engine's ring and one engine thread sent the copies (TC's clone path only for what the engine did not take: see serve.log's counters). The engine thread keeps a core busy while packets flow: these runs count as disturbed only beyond two CPUs.")
note_args=()
for n in "${notes[@]}"; do note_args+=(--note "$n"); done
report_rc=0
"$RCBENCH" report --in "$RUNS_CSV" --out-dir "$OUT" --title "$title" --markdown "$OUT/results.md" \
	--check "${note_args[@]}" >"$OUT/report.txt" || report_rc=$?
cat "$OUT/report.txt"
if command -v gnuplot >/dev/null; then
	(cd "$OUT" && rm -f plot.png && gnuplot plot.gp) || log "warning: gnuplot failed"
	[ -f "$OUT/plot.png" ] && log "plot: $OUT/plot.png"
else
	log "warning: gnuplot not installed (apt-get install gnuplot-nox): no plot"
fi
log "results: $OUT/results.csv $OUT/results.json (raw runs: $RUNS_CSV)"
t_end=$(date +%s.%N)
[ "$report_rc" = 0 ] || { log "the report or its sanity check failed (exit $report_rc)"; exit 1; }
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
