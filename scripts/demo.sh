#!/usr/bin/env bash
# A small fan-out to watch: a source, a relay running replicast and four
# receivers, each in its own network namespace. The source sends 300 numbered
# packets once, to a multicast group, from a plain UDP socket with its default
# multicast TTL of 1; the relay does not route (forwarding off); each
# receiver's UDP socket gets its own unicast copy. `replicast serve` runs on
# the relay: the XDP engine fans the stream out, and it holds the relay's
# source-specific membership of the group (its allow list names one host).
# Run as root after `make` (or use `make demo`); everything is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RC_BIN=$BUILD/tests
N=4
COUNT=${COUNT:-300}
SIZE=200
GROUP=239.77.1.1:5000
PIN=/sys/fs/bpf/rcdemo
TMP=$(mktemp -d /tmp/rcdemo.XXXXXX)
NAMESPACES=(rcdemo-src rcdemo-relay)
for ((i = 1; i <= N; i++)); do NAMESPACES+=("rcdemo-rx$i"); done

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root" >&2; exit 1; }
[ -x "$BUILD/replicast" ] || { echo "demo: run 'make' first" >&2; exit 1; }

SERVE_PID=
cleanup() {
	[ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
	[ -d "$PIN" ] && inns rcdemo-relay "$BUILD/replicast" --pin-path "$PIN" unload 2>/dev/null
	rm -rf "$PIN" "$TMP"
	for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# nsenter keeps our mount namespace (ip netns exec would hide /sys/fs/bpf).
inns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" -- "$@"; }

echo "== topology: rcdemo-src -> rcdemo-relay -> rcdemo-rx1..$N"
for ns in "${NAMESPACES[@]}"; do
	ip netns del "$ns" 2>/dev/null || true
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip -n rcdemo-src link add rcdemo-s type veth peer name rcdemo-in netns rcdemo-relay
ip -n rcdemo-src addr add 10.77.0.1/24 dev rcdemo-s
ip -n rcdemo-relay addr add 10.77.0.254/24 dev rcdemo-in
ip -n rcdemo-src link set rcdemo-s up
ip -n rcdemo-relay link set rcdemo-in up
ip -n rcdemo-src route add 224.0.0.0/4 dev rcdemo-s	# multicast leaves by the relay's link
inns rcdemo-src ethtool -K rcdemo-s tx off >/dev/null	# full checksums, as from a NIC
for ((i = 1; i <= N; i++)); do
	ip -n rcdemo-relay link add "rcdemo$i" type veth peer name "rcdemo-r$i" netns "rcdemo-rx$i"
	ip -n rcdemo-relay addr add "10.77.$i.1/24" dev "rcdemo$i"
	ip -n "rcdemo-rx$i" addr add "10.77.$i.2/24" dev "rcdemo-r$i"
	ip -n rcdemo-relay link set "rcdemo$i" up
	ip -n "rcdemo-rx$i" link set "rcdemo-r$i" up
done

RC="inns rcdemo-relay $BUILD/replicast --pin-path $PIN"
echo "== replicast load --dev rcdemo-in; serve; group add $GROUP --allow-source 10.77.0.1; $N subscribers"
$RC load --dev rcdemo-in
echo "== replicast serve (the relay engine; Ctrl-C or SIGTERM stops it)"
# nsenter itself, not inns: a function in the background is a subshell,
# and $! would be its PID, not serve's.
nsenter --net=/run/netns/rcdemo-relay -- "$BUILD/replicast" --pin-path "$PIN" serve --peer-gro \
	2>"$TMP/serve.err" >"$TMP/serve.out" &
SERVE_PID=$!
t=0
while ! grep -q "^serve: relaying" "$TMP/serve.err" && [ $((t += 1)) -le 100 ]; do sleep 0.05; done
sed -n 's/^serve: //p' "$TMP/serve.err"
$RC group add $GROUP --allow-source 10.77.0.1	# sources are denied by default
for ((i = 1; i <= N; i++)); do
	$RC sub add $GROUP "10.77.$i.2:6000"
done
sleep 1.2	# serve takes up what changed once a second (the membership, new devices)
$RC list

echo "== receivers listen; the source sends $COUNT packets of $SIZE bytes to $GROUP, TTL 1, once each"
pids=()
for ((i = 1; i <= N; i++)); do
	inns "rcdemo-rx$i" "$RC_BIN/rc_sink" --listen "10.77.$i.2:6000" --expect "$COUNT" \
		--size $SIZE --capture "rcdemo-r$i" --report "$TMP/rx$i" --ready-file "$TMP/ready$i" \
		--timeout-ms 20000 >/dev/null &
	pids+=($!)
done
for ((i = 1; i <= N; i++)); do
	t=0
	while [ ! -e "$TMP/ready$i" ] && [ $((t += 1)) -le 100 ]; do sleep 0.05; done
done
inns rcdemo-src "$RC_BIN/rc_blast" --to $GROUP --count "$COUNT" --size $SIZE --rate 2000 --bind 10.77.0.1:4000

status=0
for ((i = 1; i <= N; i++)); do wait "${pids[i - 1]}" || status=1; done
echo "== what each receiver got"
for ((i = 1; i <= N; i++)); do
	r=$(cat "$TMP/rx$i")
	kv() { sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" <<<"$r"; }
	printf 'rcdemo-rx%d  10.77.%d.2:6000  %s of %s packets, in order: %s, payload bytes wrong: %s, frames with bad IP/UDP checksum: %s/%s  -> %s\n' \
		"$i" "$i" "$(kv received)" "$COUNT" "$( [ "$(kv in_order)" = 1 ] && echo yes || echo no)" \
		"$(kv bad_payload)" "$(kv bad_ip_csum)" "$(kv bad_udp_csum)" "$(kv result)"
done
echo "== replicast stats"
$RC stats
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || status=1
SERVE_PID=
echo "== replicast serve's counters (taken by the engine, copies it sent)"
cat "$TMP/serve.out"
exit $status
