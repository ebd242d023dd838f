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
  --receivers "1 8"    the values of C (default 1 8 64 256 1024 4096)
  --runs N             runs per cell, the median is reported (default 3)
  --deliveries N       deliveries a run aims at (packets per receiver = N / C)
  --max-seconds S      time cap of one run's sending (default 8; quick 2)
  --methods "a b"      subset of: sendto sendmmsg gso io_uring replicast-relay replicast-afxdp
                       replicast-xdp replicast-xdp2
  --groups "64x16 1024x1"  many-groups cells: GROUPSxSUBSCRIBERS layouts of one total
                       fan-out T, packets round-robin over the groups, each beside
                       the one-group cell 1xT run the same way (quick: "4x4 16x1";
                       "none": skip)
  --latency "8@10000 64@2000"  latency cells C@PPS for sendto, gso and every replicast
                       method (quick: "8@2000"; "none": skip)
  --latency-engines "64@100000"  latency cells for the replicast methods alone
                       (quick: "8@20000"; "none": skip)
  --lat-seconds S      sending time of one latency run (default 2; quick 0.3)
  --group-deliveries N deliveries a many-groups run aims at (default half of --deliveries;
                       quick 20000)
  --relay-static-mac   give replicast each subscriber's MAC (sub add --mac), skipping its FIB lookup
  --no-syscall-count   skip the syscall-counting runs (the syscalls column then says "not counted")
  --out DIR            where results go (default $BUILD/bench, BUILD=build)
  --update-readme      also copy the table and plot into bench/README-bench.md and bench/results/
  --report-only        no measuring: the report again from the last runs.csv
  -h, --help           this text
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The build folder the top Makefile built into (make passes its $(BUILD):
# build, or build-san with SAN=1).
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
RCBENCH=$BUILD/bench/rcbench
REPLICAST=${REPLICAST:-$BUILD/replicast}
OUT=$BUILD/bench
QUICK=0
MAIN_SIZE=1200
SIZES=""
RECEIVERS="1 8 64 256 1024 4096"
GROUP_LAYOUTS=""
GROUP_DELIVERIES=""
LAT_CELLS=""
LAT_ENGINE_CELLS=""
LAT_SECONDS=""
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
	--groups) GROUP_LAYOUTS=$2; shift ;;
	--latency) LAT_CELLS=$2; shift ;;
	--latency-engines) LAT_ENGINE_CELLS=$2; shift ;;
	--lat-seconds) LAT_SECONDS=$2; shift ;;
	--group-deliveries) GROUP_DELIVERIES=$2; shift ;;
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
	: "${GROUP_LAYOUTS:=4x4 16x1}"
	: "${LAT_CELLS:=8@2000}"
	: "${LAT_ENGINE_CELLS:=8@20000}"
	: "${LAT_SECONDS:=0.3}"
	: "${GROUP_DELIVERIES:=20000}"
else
	: "${DELIVERIES:=800000}"
	: "${MAX_SECONDS:=8}"
	BG_SECONDS=0.2
	QUIET_WAIT=30
	REDO_DISTURBED=3
	: "${GROUP_LAYOUTS:=64x16 1024x1}"
	: "${LAT_CELLS:=8@10000 64@2000}"
	: "${LAT_ENGINE_CELLS:=64@100000}"
	: "${LAT_SECONDS:=2}"
	# Half a main run's deliveries: 3 layouts x 8 methods x 3 runs must
	# fit the full run's 25-minute budget.
	: "${GROUP_DELIVERIES:=$((DELIVERIES / 2))}"
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
[ -x "$RCBENCH" ] || die "$RCBENCH missing: run 'make bench-build'"
for tool in ip nsenter; do
	command -v "$tool" >/dev/null || die "$tool not found (see bench/deps.txt)"
done
for c in $RECEIVERS; do
	[[ "$c" =~ ^[0-9]+$ ]] && [ "$c" -ge 1 ] && [ "$c" -le 4096 ] || die "bad receiver count $c (1..4096)"
done
for s in $SIZES; do
	[[ "$s" =~ ^[0-9]+$ ]] && [ "$s" -ge 8 ] && [ "$s" -le 1472 ] || die "bad payload size $s (8..1472)"
done
for m in $METHODS; do
	[[ " $ALL_METHODS " == *" $m "* ]] || die "unknown method $m"
done
[ "$GROUP_LAYOUTS" = none ] && GROUP_LAYOUTS=""
[ "$LAT_CELLS" = none ] && LAT_CELLS=""
[ "$LAT_ENGINE_CELLS" = none ] && LAT_ENGINE_CELLS=""
# Many-groups layouts share one total fan-out T = GROUPS x SUBSCRIBERS.
GROUP_TOTAL=0
for l in $GROUP_LAYOUTS; do
	[[ "$l" =~ ^([0-9]+)x([0-9]+)$ ]] || die "bad layout $l (GROUPSxSUBSCRIBERS)"
	t=$((BASH_REMATCH[1] * BASH_REMATCH[2]))
	[ "$GROUP_TOTAL" = 0 ] || [ "$t" = "$GROUP_TOTAL" ] || die "layouts must have one total fan-out ($l)"
	[ "$t" -ge 1 ] && [ "$t" -le 4096 ] && [ "${BASH_REMATCH[1]}" -le 2000 ] || die "bad layout $l"
	GROUP_TOTAL=$t
done
for l in $LAT_CELLS $LAT_ENGINE_CELLS; do
	[[ "$l" =~ ^([0-9]+)@([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] && [ "${BASH_REMATCH[1]}" -le 4096 ] ||
		die "bad latency cell $l (C@PPS)"
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

# serve_start, serve_stop: the relay row's 'replicast serve' in the hub
# (see the replicast-relay case of one_run). A reload of replicast (the
# many-groups phase) stops it first: serve holds the old load's maps.
serve_start() {
	[ -z "${SERVE_PID:-}" ] && [ "${RC_BENCH_SERVE:-1}" = 1 ] || return 0
	"$REPLICAST" serve --help >/dev/null 2>&1 || return 0
	nsenter --net="/run/netns/$HUB" -- "$REPLICAST" --pin-path "$RCPIN" serve --idle-ms 10 \
		--stats-every 1 >>"$OUT/serve.log" 2>&1 &
	SERVE_PID=$!
	sleep 1
	grep -q relaying "$OUT/serve.log" || { log "warning: replicast serve did not start:"; cat "$OUT/serve.log" >&2; }
}

serve_stop() {
	[ -n "${SERVE_PID:-}" ] || return 0
	kill -TERM "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
	SERVE_PID=
}

cleanup() {
	[ "$CLEANED" = 1 ] && return
	CLEANED=1
	set +e
	serve_stop
	if [ "$RC_LOADED" = 1 ]; then
		nsenter --net="/run/netns/$HUB" -- "$REPLICAST" --pin-path "$RCPIN" unload >/dev/null 2>&1 ||
			log "warning: replicast unload failed"
	fi
	for ns in "${CREATED_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$RXPIN" "$RCPIN" 2>/dev/null
	rm -f "$OUT"/dests-*.txt "$OUT"/groups-*.txt "$OUT"/latgroup-*.txt "$OUT"/latns.txt \
		"$OUT"/lat-row.tmp "${TMP_FILES[@]}" 2>/dev/null
}
trap cleanup EXIT
trap 'log "interrupted"; cleanup; exit 130' INT
trap 'log "terminated"; cleanup; exit 143' TERM HUP

nsx() { local ns=$1; shift; nsenter --net="/run/netns/$ns" -- "$@"; }

# ---- topology ----
MAXC=0
for c in $RECEIVERS $GROUP_TOTAL $(echo "$LAT_CELLS $LAT_ENGINE_CELLS" | sed 's/@[0-9]*//g'); do
	[ "$c" -gt "$MAXC" ] && MAXC=$c
done
NRX=$((MAXC < 64 ? MAXC : 64))             # receiver namespaces, one veth each
PER=$(((MAXC + NRX - 1) / NRX))              # addresses per receiver veth
# Receiver i lives in namespace i % NRX with address 198.18.(i % NRX).(2 + i / NRX)
# (198.18.0.0/15 is the benchmarking range, RFC 2544); port 9000.
rx_addr() { echo "198.18.$(($1 % NRX)).$((2 + $1 / NRX))"; }
mac() { printf '02:00:c6:%02x:%02x:%02x' "$1" "$2" "$3"; }
GROUP_ADDR=198.19.255.1
RX_PORT=9000

RUNS_CSV=$OUT/runs.csv
GROUPS_CSV=$OUT/groups.csv   # the many-groups cells' runs (same columns)
LAT_CSV=$OUT/latency.csv      # the latency cells
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
	# the latency cells' groups (198.19.8.0/21) and the many-groups cells' (198.19.16.0/20)
	echo "route add 198.19.0.0/16 via 198.19.0.2"
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
for c in $RECEIVERS $GROUP_TOTAL $(echo "$LAT_CELLS $LAT_ENGINE_CELLS" | sed 's/@[0-9]*//g'); do
	[ "$c" -gt 0 ] && [ ! -f "$OUT/dests-$c.txt" ] || continue
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
	# (The help text is read whole first: grep -q stopping early would make
	# the pipe fail under pipefail, and the engine rows "not built".)
	send_help=$("$REPLICAST" send --help 2>&1 || true)
	if [[ "$send_help" == *--engine* ]]; then
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
		ga_help=$("$REPLICAST" group add --help 2>&1 || true)
		if [[ "$ga_help" == *--allow-source* ]]; then
			nsx "$HUB" "$REPLICAST" --pin-path "$RCPIN" group add "$GROUP" --allow-source 198.19.0.1 \
				>>"$OUT/bench.log" 2>&1 || { RC_STATE="group add failed"; AFXDP_STATE=$RC_STATE; XDP_STATE=$RC_STATE; return 0; }
		else
			nsx "$HUB" "$REPLICAST" --pin-path "$RCPIN" group add "$GROUP" >>"$OUT/bench.log" 2>&1 ||
				{ RC_STATE="group add failed"; AFXDP_STATE=$RC_STATE; XDP_STATE=$RC_STATE; return 0; }
		fi
	fi
	# One replicast process for every sub add (-batch): C = 4096 would take
	# minutes as 4096 processes.
	if ! for ((i = SUBS; i < c; i++)); do
		echo "sub add $GROUP $(rx_addr "$i"):$RX_PORT --dev rcbh$((i % NRX))$(
			[ "$RELAY_MAC" = 1 ] && echo " --mac $(mac 0 $((i % NRX)) 2)")"
	done | nsx "$HUB" "$REPLICAST" --pin-path "$RCPIN" -batch - >>"$OUT/bench.log" 2>&1; then
			log "replicast sub add failed:"
			tail -n 3 "$OUT/bench.log" >&2
			RC_STATE="sub add failed"
			AFXDP_STATE=$RC_STATE
			XDP_STATE=$RC_STATE
			return 0
	fi
	SUBS=$c
}

t_topo=$(date +%s.%N)
log "topology ready in $(secs "$t_setup" "$t_topo") s"

# ---- runs ----
RUNS_HEADER="size,method,receivers,run,status,packets_per_receiver,handed,delivered,elapsed_ns,busy_ns,syscalls,top_syscall,send_errors,rx_min,rx_max,bg_busy_pct,disturbed,groups"
echo "$RUNS_HEADER" >"$RUNS_CSV"
echo "$RUNS_HEADER" >"$GROUPS_CSV"
echo "size,method,receivers,rate,samples,expected,p50_ns,p99_ns,p999_ns,max_ns,handed,delivered,elapsed_ns" >"$LAT_CSV"

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
		serve_start
		args=(--method group --group "$GROUP" --netns "/run/netns/$SRC")
		[ -n "${SERVE_PID:-}" ] && args=(--cpus 2 "${args[@]}") ;;
	replicast-afxdp)
		# With serve running (the relay row starts it), relay_ingress on
		# the injection peer puts the sender's frames into the engine's
		# ring: the engine thread is a second busy CPU, as for the relay.
		serve_start
		args=(--method exec --exec-ok-status 1 --exec-log "$OUT/afxdp.log" --netns "/run/netns/$HUB" --
			"$REPLICAST" --pin-path "$RCPIN" send "$GROUP" --gen "$packets" --size "$size" --json)
		[ -n "${SERVE_PID:-}" ] && args=(--cpus 2 "${args[@]}") ;;
	replicast-xdp | replicast-xdp2)
		# The engine keeps a core busy per thread while the CLI, on
		# another, generates the packets: --cpus says so to rcbench.
		local threads=1
		[ "$m" = replicast-xdp2 ] && threads=2
		args=(--cpus 2 --method exec --exec-ok-status 1 --exec-log "$OUT/xdp.log" --netns "/run/netns/$HUB" --
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
		# Beyond C = 1,024 only the main payload size: the full run's
		# time budget (25 min) has room for one C = 4,096 cell per method.
		[ "$c" -gt 1024 ] && [ "$size" != "$MAIN_SIZE" ] && [ "$RECEIVERS_SET" = 0 ] && continue
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
# ---- latency cells ----
# A paced sender stamps every payload (rcb_stamped_hdr: sequence number, then
# CLOCK_MONOTONIC ns of the hand-off); the XDP counter passes sampled
# datagrams to one socket per receiver namespace, whose kernel receive
# timestamps rcbench reads (SO_TIMESTAMPNS). Each cell has its own group of
# its C receivers; the replicast methods send through libreplicast's sender
# in rcbench (lib-afxdp, lib-xdp: set up before the timed window).
# Args per method, shared with the many-groups cells: METHOD GROUP_FILE GROUPS
engine_args() {
	case "$1" in
	replicast-relay) echo "--method group --group-file $2 --netns /run/netns/$SRC" ;;
	replicast-afxdp) echo "--method lib-afxdp --rc-pin $RCPIN --group-file $2 --netns /run/netns/$HUB" ;;
	replicast-xdp) echo "--cpus 2 --method lib-xdp --threads 1 --rc-pin $RCPIN --group-file $2 --netns /run/netns/$HUB" ;;
	replicast-xdp2) echo "--cpus 3 --method lib-xdp --threads 2 --rc-pin $RCPIN --group-file $2 --netns /run/netns/$HUB" ;;
	*) echo "--method $1 --groups $3 --netns /run/netns/$HUB" ;;
	esac
}

# Adds groups and their subscribers through one -batch: lines of
# "GROUP_ADDR FIRST_RECEIVER COUNT".
replicast_groups() {
	local g first n i
	while read -r g first n; do
		echo "group add $g:$RX_PORT --allow-source 198.19.0.1"
		for ((i = first; i < first + n; i++)); do
			echo "sub add $g:$RX_PORT $(rx_addr "$i"):$RX_PORT --dev rcbh$((i % NRX))"
		done
	done | nsx "$HUB" "$REPLICAST" --pin-path "$RCPIN" -batch - >>"$OUT/bench.log" 2>&1
}

lat_run() { # METHOD C RATE INDEX
	local m=$1 c=$2 rate=$3 li=$4 packets mask=0 k tmp row rc=0 per
	packets=$(awk -v r="$rate" -v s="$LAT_SECONDS" 'BEGIN { printf "%d", r * s }')
	# At most ~100k sampled datagrams/s reach the sockets: the reader
	# shares the 2 CPUs with the sender.
	per=$((rate * c / 100000))
	while [ "$mask" -lt "$per" ]; do mask=$((mask * 2 + 1)); done
	: >"$OUT/latns.txt"
	for ((k = 0; k < (c < NRX ? c : NRX); k++)); do echo "/run/netns/${TAG}r$k" >>"$OUT/latns.txt"; done
	tmp=$OUT/lat-row.tmp
	: >"$tmp"
	# shellcheck disable=SC2046
	row=$("$RCBENCH" run --dests "$OUT/dests-$c.txt" --packets "$packets" --size "$MAIN_SIZE" \
		--rx-pin "$RXPIN" --max-seconds "$(awk -v s="$LAT_SECONDS" 'BEGIN { print 3 * s + 2 }')" \
		--bg-seconds "$BG_SECONDS" --quiet-wait "$QUIET_WAIT" --label "$MAIN_SIZE,$m,$c,$rate" \
		--rate "$rate" --stamp --lat-netns "$OUT/latns.txt" --lat-out "$tmp" --lat-mask "$mask" \
		$(engine_args "$m" "$OUT/latgroup-$li.txt" 1) 2>>"$OUT/bench.log") || rc=$?
	if [ "$rc" != 0 ] || [ ! -s "$tmp" ]; then
		log "latency run failed: $m C=$c at $rate/s (see $OUT/bench.log)"
		tail -n 3 "$OUT/bench.log" >&2
		echo "$MAIN_SIZE,$m,$c,$rate,failed,,,,,,,," >>"$LAT_CSV"
		return 0
	fi
	echo "$(cat "$tmp"),$(echo "$row" | cut -d, -f7-9)" >>"$LAT_CSV"
}

lat_phase() {
	local li=0 cell c rate m set
	[ -n "$LAT_CELLS$LAT_ENGINE_CELLS" ] || return 0
	for set in shared engines; do
		local cells=$LAT_CELLS methods="sendto gso replicast-relay replicast-afxdp replicast-xdp replicast-xdp2"
		[ "$set" = engines ] && cells=$LAT_ENGINE_CELLS methods="replicast-afxdp replicast-xdp replicast-xdp2"
		for cell in $cells; do
			c=${cell%@*} rate=${cell#*@} li=$((li + 1))
			echo "198.19.8.$li:$RX_PORT" >"$OUT/latgroup-$li.txt"
			[ "$RC_LOADED" = 1 ] && ! replicast_groups <<<"198.19.8.$li 0 $c" &&
				log "warning: latency group 198.19.8.$li: group/sub add failed"
			for m in $methods; do
				[[ " $METHODS " == *" $m "* ]] || continue
				st=$(method_state "$m")
				if [ -n "$st" ]; then
					echo "$MAIN_SIZE,$m,$c,$rate,$st,,,,,,,," >>"$LAT_CSV"
					continue
				fi
				log "latency C=$c at $rate packets/s: $m"
				lat_run "$m" "$c" "$rate" "$li"
			done
		done
	done
}

# ---- many-groups cells ----
# Packets go round-robin over G groups of S subscribers (GxS), next to the
# one-group cell 1xT of the same total fan-out run the same way: user-space
# methods send to the same receivers in the same order (rcbench run
# --groups), the relay's source sends round-robin to G group addresses, and
# the other replicast methods hand packets to G groups through
# libreplicast's sender in rcbench (lib-afxdp, lib-xdp). replicast is loaded
# again for them with room for every group (max-subs T).
groups_phase() {
	local layouts li=0 l G S n j m r
	[ -n "$GROUP_LAYOUTS" ] || return 0
	layouts="1x$GROUP_TOTAL $GROUP_LAYOUTS"
	if [ "$RC_LOADED" = 1 ]; then
		n=16
		for l in $layouts; do n=$((n + ${l%x*})); done
		serve_stop
		nsx "$HUB" "$REPLICAST" --pin-path "$RCPIN" unload >>"$OUT/bench.log" 2>&1
		if ! nsx "$HUB" "$REPLICAST" --pin-path "$RCPIN" load --dev rcbhs --max-groups "$n" \
			--max-subs "$((GROUP_TOTAL > 64 ? GROUP_TOTAL : 64))" >>"$OUT/bench.log" 2>&1; then
			RC_LOADED=0 RC_STATE="load failed" AFXDP_STATE="load failed" XDP_STATE="load failed"
			log "warning: replicast load for the many-groups cells failed"
		fi
	fi
	for l in $layouts; do
		G=${l%x*} S=${l#*x}
		: >"$OUT/groups-$li.txt"
		for ((j = 0; j < G; j++)); do
			echo "198.19.$((16 + li * 5 + j / 250)).$((1 + j % 250))" >>"$OUT/groups-$li.txt"
		done
		if [ "$RC_LOADED" = 1 ]; then
			log "many-groups cells: adding $G group(s) of $S"
			j=0
			while read -r a; do echo "$a $((j * S)) $S"; j=$((j + 1)); done <"$OUT/groups-$li.txt" |
				replicast_groups || log "warning: group/sub add for $l failed (see $OUT/bench.log)"
		fi
		sed -i "s/\$/:$RX_PORT/" "$OUT/groups-$li.txt"
		li=$((li + 1))
	done
	for m in $METHODS; do
		st=$(method_state "$m")
		[ -z "$st" ] || for l in $layouts; do
			echo "$MAIN_SIZE,$m,$GROUP_TOTAL,g0,$st,,,,,,,,,,,,,${l%x*}" >>"$GROUPS_CSV"
		done
	done
	for ((r = 1; r <= RUNS; r++)); do
		li=0
		for l in $layouts; do
			G=${l%x*} S=${l#*x}
			for m in $METHODS; do
				[ -z "$(method_state "$m")" ] || continue
				log "groups $l run $r/$RUNS: $m"
				group_run "$m" "$G" "$S" "$li" "$r"
			done
			li=$((li + 1))
		done
	done
}

group_run() { # METHOD G S LAYOUT_INDEX RUN
	local m=$1 G=$2 S=$3 li=$4 r=$5 packets row rc redo=0
	packets=$(((GROUP_DELIVERIES + S - 1) / S))
	while :; do
		rc=0
		# shellcheck disable=SC2046
		row=$("$RCBENCH" run --dests "$OUT/dests-$GROUP_TOTAL.txt" --packets "$packets" --size "$MAIN_SIZE" \
			--rx-pin "$RXPIN" --max-seconds "$MAX_SECONDS" --bg-seconds "$BG_SECONDS" \
			--quiet-wait "$QUIET_WAIT" --label "$MAIN_SIZE,$m,$GROUP_TOTAL,g$r" \
			$(engine_args "$m" "$OUT/groups-$li.txt" "$G") 2>>"$OUT/bench.log") || rc=$?
		[ -n "$row" ] || row="$MAIN_SIZE,$m,$GROUP_TOTAL,g$r,failed,,,,,,,,,,,,,$G"
		if [ "$rc" = 0 ] && [ "$(echo "$row" | cut -d, -f17)" = 1 ] && [ "$redo" -lt "$REDO_DISTURBED" ]; then
			redo=$((redo + 1))
			echo "$row" | awk -F, -v OFS=, '{ $5 = "redone"; print }' >>"$GROUPS_CSV"
			log "  disturbed by other work on the machine; again"
			continue
		fi
		[ "$rc" = 0 ] || { log "run failed: $m groups ${G}x$S (see $OUT/bench.log)"; tail -n 3 "$OUT/bench.log" >&2; }
		echo "$row" >>"$GROUPS_CSV"
		return 0
	done
}

lat_phase
groups_phase

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
	"loss = datagrams handed to the kernel (x C for the replicast rows) - deliveries counted at the receivers. 'replicast send' exits 1 when the kernel lost copies (redirect_failed): such a run is kept, not failed, and what it lost is in this column."
	"replicast-afxdp runs 'replicast send GROUP --gen N --size B' in the hub (AF_XDP into the injection veth that 'replicast load' makes, fanned out on its peer: like the relay, one extra veth hop per packet; while 'replicast serve' runs, which the relay row starts and leaves running, relay_ingress on the peer hands the frames to the engine, else TC's clone path fans them out). It is the default send, which takes the XDP engine instead for groups of more than 500 subscribers (the copies of one AF_XDP packet queue on one CPU's backlog, 1,000 by default): its cells above C = 500 measure that engine. Being a separate program, it starts inside the timed window: its start-up, measured by 1-packet runs of the same cell, is subtracted from its time, CPU and syscalls (results.json: startup_subtracted)."
	"replicast-xdp and replicast-xdp2 run 'replicast send GROUP --engine xdp --threads 1|2 --gen N --size B' in the hub: the CLI writes packets into the engine's shared ring and engine threads inside one BPF_PROG_RUN each send every subscriber's copy straight to its receiver veth (no extra hop). Each engine thread keeps a core busy and the CLI generating packets uses another, so these runs count as disturbed only when the machine was busy before or after them, or beyond two CPUs; start-up is subtracted as for replicast-afxdp."
)
if [ "$RELAY_MAC" = 1 ]; then
	notes+=("replicast-relay ran with static subscriber MACs (sub add --mac): no FIB lookup per copy.")
else
	notes+=("replicast-relay subscribers are added with --dev only: the replicator resolves each copy's next hop with a FIB lookup (the default setup).")
fi
[ -n "$GROUP_LAYOUTS" ] && notes+=("Many groups (layouts 1x$GROUP_TOTAL $GROUP_LAYOUTS): packet k goes to group k mod G; user-space methods send to the same receivers in the same order (gso: one super-packet of a receiver's next packets), the relay's source round-robin to G group addresses, replicast-afxdp/xdp/xdp2 through libreplicast's sender inside rcbench (bench/rcb_lib_send.c, set up before the window, nothing subtracted); replicast loaded again with --max-subs $GROUP_TOTAL. Raw runs: groups.csv.")
[ -n "$LAT_CELLS$LAT_ENGINE_CELLS" ] && notes+=("Latency: payload bytes 8-15 carry the sender's CLOCK_MONOTONIC ns at hand-off (big-endian, after the 8-byte sequence number); the receivers' XDP counter passes a sample (seq & mask == 0, at most ~100k/s) to one UDP socket per receiver namespace, read with SO_TIMESTAMPNS (kernel receive time, CLOCK_REALTIME converted to CLOCK_MONOTONIC). Paced senders, ${LAT_SECONDS} s per run; the replicast engines through libreplicast's sender in rcbench (AF_XDP: queue then flush of what is due; XDP engine: queue only, its threads kept in their calls (idle_ms -1, as --engine-idle-ms never): the wake-up after a park, 9-20 ms, is the README's figure, not in these runs). Raw: latency.csv.")
[ -n "${SERVE_PID:-}" ] && notes+=("replicast-relay was served by the engine: 'replicast serve --idle-ms 10' ran in the hub, so relay_ingress (XDP on rcbhs) put the stream into the XDP engine's ring and one engine thread sent the copies (TC's clone path only for what the engine did not take: see serve.log's counters). The engine thread keeps a core busy while packets flow: these runs count as disturbed only beyond two CPUs.")
note_args=()
for n in "${notes[@]}"; do note_args+=(--note "$n"); done
report_rc=0
"$RCBENCH" report --in "$RUNS_CSV" --out-dir "$OUT" --title "$title" --markdown "$OUT/results.md" \
	--groups-in "$GROUPS_CSV" --latency-in "$LAT_CSV" \
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

# readme_summary: the top README's table (between its bench-summary
# markers) from this run's results.csv: for each method at C = 8, 64, 1024
# and 4096, deliveries/s, CPU-ns per delivery and the ratio to UDP GSO's
# deliveries/s in the same run, so the README never carries a typed number.
readme_summary() {
	local top=$ROOT/README.md
	grep -q '<!-- bench-summary:start -->' "$top" || { log "warning: README.md has no bench-summary markers"; return 0; }
	awk -F, -v size="$MAIN_SIZE" -v when="$(date -u +%Y-%m-%d)" '
		function si(v) { return v >= 1e6 ? sprintf("%.2fM", v / 1e6) : sprintf("%.0fk", v / 1e3) }
		NR > 1 && $1 == size && ($4 == "ok" || $4 == "truncated") {
			dps[$2, $3] = $6; cpu[$2, $3] = $9; loss[$2, $3] = $15
			if (!($2 in seen)) { seen[$2] = 1; order[n++] = $2 }
		}
		END {
			split("8 64 1024 4096", cs, " ")
			printf "Run of %s, %d-byte payloads, medians: deliveries/s / CPU-ns per delivery / x UDP GSO deliveries/s (loss when not 0).\n\n", when, size
			printf "| method | C = 8 | C = 64 | C = 1024 | C = 4096 |\n|---|---|---|---|---|\n"
			for (i = 0; i < n; i++) {
				m = order[i]; line = "| " m
				for (j = 1; j <= 4; j++) {
					c = cs[j]
					if (!((m, c) in dps)) { line = line " | -"; continue }
					r = ((("gso", c) in dps) && dps["gso", c] > 0) ? sprintf(" / %.2fx", dps[m, c] / dps["gso", c]) : ""
					l = (loss[m, c] + 0 > 0) ? sprintf(", loss %d", loss[m, c]) : ""
					line = line sprintf(" | %s / %d%s%s", si(dps[m, c]), cpu[m, c], r, l)
				}
				print line " |"
			}
		}' "$OUT/results.csv" >"$OUT/summary.md"
	awk -v md="$OUT/summary.md" '
		/<!-- bench-summary:start -->/ { print; while ((getline l < md) > 0) print l; skip = 1; next }
		/<!-- bench-summary:end -->/ { skip = 0 }
		!skip { print }' "$top" >"$top.tmp" && mv "$top.tmp" "$top"
	log "updated README.md's summary table"
}

if [ "$UPDATE_README" = 1 ]; then
	readme=$ROOT/bench/README-bench.md
	mkdir -p "$ROOT/bench/results"
	cp "$OUT/results.csv" "$OUT/results.json" "$ROOT/bench/results/"
	for f in "$GROUPS_CSV" "$LAT_CSV"; do [ -s "$f" ] && cp "$f" "$ROOT/bench/results/"; done
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
	readme_summary
fi
