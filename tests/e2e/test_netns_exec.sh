#!/usr/bin/env bash
# san: yes
# Relays entered the way people enter a namespace, `ip netns exec`, with no
# --pin-path: each command gets a mount namespace and a /sys of its own that
# die with it, yet a load stays loaded, later commands find it, packets from
# a source reach the receivers, and `nsenter --net` sees the same state. Two
# relays in two namespaces keep two states. unload leaves no pin, filter,
# link or injection pair; a load that fails halfway takes back what it made;
# an explicit --pin-path that would vanish with the command is refused; a
# new namespace never takes over the state of a gone one of the same name;
# and where the namespace a command came from has no bpffs, load refuses in
# one line and leaves nothing behind.
set -u
. "$(dirname "$0")/../lib.sh"
rc_require_root
rc_setup_traps
BUILD=${BUILD:-build}
CLI=$RC_ROOT/$BUILD/replicast
NETNS_PINS=/sys/fs/bpf/replicast-netns
EPIN=/sys/fs/bpf/$(rc_name pin)	# an explicit --pin-path that must stay unmade

SRC=$(rc_name s)
R[1]=$(rc_name ra)
R[2]=$(rc_name rb)
X[1]=$(rc_name xa)
X[2]=$(rc_name xb)
for i in 1 2; do
	IN[i]=$(rc_name "i$i")		# relay i's device towards the source
	OUT[i]=$(rc_name "o$i")		# relay i's device towards its receiver
	PIN[i]=$NETNS_PINS/${R[i]}	# where the rule puts relay i's pins
	GROUP[i]=10.78.10$i.1:5000
done

# Relays are unloaded (by nsenter, which keeps our mount namespace) and
# their pin directories removed, whatever happened, before lib.sh deletes
# the namespaces.
cleanup() {
	local i
	for i in 1 2; do
		[ -d "${PIN[i]}" ] && [ -e "/run/netns/${R[i]}" ] &&
			nsenter --net="/run/netns/${R[i]}" "$CLI" unload >/dev/null 2>&1
		rm -rf "${PIN[i]}"
	done
	rm -rf "$EPIN"
	rmdir "$NETNS_PINS" 2>/dev/null
	rc_cleanup
}
trap cleanup EXIT

# source 10.78.I.1 ── 10.78.I.254 relay I 10.78.1I.1 ── 10.78.1I.2 receiver I
rc_ns_add "$SRC" || exit 1
for i in 1 2; do
	rc_ns_add "${R[i]}" || exit 1
	rc_ns_add "${X[i]}" || exit 1
	rc_veth "$(rc_name "s$i")" "$SRC" "${IN[i]}" "${R[i]}" || exit 1
	rc_veth "${OUT[i]}" "${R[i]}" "$(rc_name "x$i")" "${X[i]}" || exit 1
	rc_addr "$SRC" "$(rc_name "s$i")" "10.78.$i.1/24"
	rc_addr "${R[i]}" "${IN[i]}" "10.78.$i.254/24"
	rc_addr "${R[i]}" "${OUT[i]}" "10.78.1$i.1/24"
	rc_addr "${X[i]}" "$(rc_name "x$i")" "10.78.1$i.2/24"
	rc_in "$SRC" ip route add "10.78.10$i.0/24" via "10.78.$i.254"
	rc_in "${R[i]}" sysctl -qw net.ipv4.conf.all.forwarding=1
done

# x I ARGS...: the CLI in relay I's namespace, as `ip netns exec` runs it.
x() {
	local i=$1
	shift
	ip netns exec "${R[i]}" "$CLI" "$@"
}

# quiet CMD...: CMD with no output, for checks that need only its status.
quiet() {
	"$@" >/dev/null 2>&1
}

# --- load through ip netns exec stays loaded --------------------------------
for i in 1 2; do
	out=$(x "$i" load --dev "${IN[i]}" 2>&1)
	rc_assert_eq "0:" "$?:$(grep -v '^load: each group takes ' <<<"$out")" \
		"relay $i: ip netns exec load succeeds, saying only what its sizes cost"
	rc_assert_ok "relay $i: its pins outlive the command, under ${PIN[i]}" \
		test -e "${PIN[i]}/replicate_prog"
	prog=$(bpftool -j prog show pinned "${PIN[i]}/replicate_prog" | jq -r .id)
	LINK[i]=$(bpftool -j link show pinned "${PIN[i]}/links/${IN[i]}" | jq -r .id)
	rc_assert_eq "$prog" "$(bpftool -j link show id "${LINK[i]}" | jq -r .prog_id)" \
		"relay $i: its tcx link on ${IN[i]} outlives the command"
	out=$(x "$i" load --dev "${IN[i]}" 2>&1)
	rc_assert_eq "0:" "$?:$out" "relay $i: a second load finds the first"
done

# --- one command per step, each through its own ip netns exec ---------------
rc_assert_ok "relay 1: group add" x 1 group add "${GROUP[1]}" --allow-source 10.78.1.1
rc_assert_ok "relay 1: sub add :6000" x 1 sub add "${GROUP[1]}" 10.78.11.2:6000
rc_assert_ok "relay 1: sub add :6001" x 1 sub add "${GROUP[1]}" 10.78.11.2:6001
rc_assert_ok "relay 2: group add" x 2 group add "${GROUP[2]}" --allow-source 10.78.2.1
rc_assert_ok "relay 2: sub add :6000" x 2 sub add "${GROUP[2]}" 10.78.12.2:6000

# --- two namespaces, two states ----------------------------------------------
rc_assert_eq "${GROUP[1]}" "$(x 1 list --json | jq -r '[.groups[].group] | join(" ")')" \
	"relay 1 lists its own group only"
rc_assert_eq "${GROUP[2]}" "$(x 2 list --json | jq -r '[.groups[].group] | join(" ")')" \
	"relay 2 lists its own group only"
for i in 1 2; do
	path=$(x "$i" list --json | jq -r .pin_path)
	rc_assert_match "^(/proc/[0-9]+/root)?${PIN[i]}\$" "$path" \
		"relay $i: list names the pin directory it uses"
	rc_assert_match "pinned under: (/proc/[0-9]+/root)?${PIN[i]}" "$(x "$i" list)" \
		"relay $i: the text listing names it too"
	via_exec=$(x "$i" list --json | jq -c 'del(.pin_path)')
	via_nsenter=$(nsenter --net="/run/netns/${R[i]}" "$CLI" list --json)
	rc_assert_eq "${PIN[i]}" "$(jq -r .pin_path <<<"$via_nsenter")" \
		"relay $i: nsenter --net uses the same directory, on its own /sys/fs/bpf"
	rc_assert_eq "$via_exec" "$(jq -c 'del(.pin_path)' <<<"$via_nsenter")" \
		"relay $i: nsenter --net lists what ip netns exec lists"
done

# The host's namespace keeps the path of old; one without an ip netns name
# is named by its nsfs inode.
out=$("$CLI" list --json 2>&1)
rc_assert_match '"pin_path":"/sys/fs/bpf/replicast"|nothing is pinned at /sys/fs/bpf/replicast;' \
	"$out" "the host's namespace uses /sys/fs/bpf/replicast"
out=$(unshare -n sh -c 'stat -L -c "ino=%i" /proc/self/ns/net; "$1" list; exit 0' sh "$CLI" 2>&1)
ino=${out%%$'\n'*}
rc_assert_match "nothing is pinned at $NETNS_PINS/ino-${ino#ino=};" "$out" \
	"a namespace without a name uses $NETNS_PINS/ino-INODE"

# --- packets: source -> relay -> receivers ------------------------------------
# send I COUNT PORT...: COUNT packets to relay I's group, checked at each
# receiver port; then the group's counters, read through ip netns exec.
send() {
	local i=$1 count=$2 p pids=() k=0 before st
	shift 2
	before=$(x "$i" stats --json | jq -r ".groups[] | select(.group==\"${GROUP[i]}\") | .received.packets")
	for p in "$@"; do
		rm -f "$RC_TMP/ready-$i-$p"
		rc_bg "${X[i]}" "$RC_BIN/rc_sink" --listen "10.78.1$i.2:$p" --expect "$count" \
			--size 200 --from "10.78.1$i.1" --timeout-ms 30000 --idle-ms 8000 \
			--report "$RC_TMP/sink-$i-$p" --ready-file "$RC_TMP/ready-$i-$p" >/dev/null
		pids+=("$RC_BG_PID")
		rc_wait_ready "$RC_TMP/ready-$i-$p" 10
	done
	rc_assert_ok "relay $i: $count packets sent to ${GROUP[i]}" \
		rc_in "$SRC" "$RC_BIN/rc_blast" --to "${GROUP[i]}" --count "$count" --size 200 \
		--rate 5000 --bind "10.78.$i.1"
	for p in "$@"; do
		rc_wait_pid "${pids[k]}" 40
		st=$?
		rc_assert_eq 0 $st "relay $i: receiver port $p got all $count, in order, exact bytes"
		[ $st -eq 0 ] || echo "# receiver: $(cat "$RC_TMP/sink-$i-$p" 2>/dev/null)"
		k=$((k + 1))
	done
	rc_assert_eq $((before + count)) \
		"$(x "$i" stats --json | jq -r ".groups[] | select(.group==\"${GROUP[i]}\") | .received.packets")" \
		"relay $i: stats through ip netns exec count $count more received"
}
send 1 500 6000 6001
send 2 500 6000
rc_assert_eq 1000 "$(x 1 stats --json | jq -r '.groups[0].sent.packets')" \
	"relay 1 counted 2 copies of each"

# --- unload through ip netns exec removes everything of that relay -----------
rc_assert_ok "relay 1: unload" x 1 unload
rc_assert_fail "relay 1: no pins left" test -e "${PIN[1]}"
rc_assert_eq "" "$(rc_in "${R[1]}" tc filter show dev "${IN[1]}" ingress)" \
	"relay 1: no tc filter left on ${IN[1]}"
rc_assert_fail "relay 1: its tcx link is gone" quiet bpftool link show id "${LINK[1]}"
rc_assert_fail "relay 1: its injection pair is gone" quiet rc_in "${R[1]}" ip link show rcinj
rc_assert_match "not loaded: nothing is pinned at (/proc/[0-9]+/root)?${PIN[1]};" \
	"$(x 1 list 2>&1)" "relay 1: list says not loaded, naming where it looked"
rc_assert_ok "relay 2 is still loaded" test -e "${PIN[2]}/replicate_prog"
send 2 300 6000

rc_assert_ok "relay 2: unload" x 2 unload
rc_assert_fail "relay 2: no pins left" test -e "${PIN[2]}"
rc_assert_fail "relay 2: its tcx link is gone" quiet bpftool link show id "${LINK[2]}"

# --- a relay pinned at the host's path, as older versions did from any ------
# namespace, is pointed at. On a bpffs of our own in a private mount
# namespace, so the host's /sys/fs/bpf/replicast is not touched.
out=$(unshare -m sh -c 'mount -t bpf bpf /sys/fs/bpf || exit 99
	nsenter --net="/run/netns/$1" "$2" --pin-path /sys/fs/bpf/replicast load --dev "$3" \
		--no-inject >/dev/null || exit 98
	nsenter --net="/run/netns/$1" "$2" list
	nsenter --net="/run/netns/$1" "$2" --pin-path /sys/fs/bpf/replicast unload' \
	sh "${R[1]}" "$CLI" "${IN[1]}" 2>&1)
rc_assert_match "^replicast: not loaded: nothing is pinned at ${PIN[1]}, .*the relay at /sys/fs/bpf/replicast, the host's, may be this one's.*--pin-path /sys/fs/bpf/replicast\$" \
	"$out" "a relay at the host's path is pointed at from a namespace that has none"

# --- a namespace deleted under a loaded relay, and a new one of its name -----
# Names (and nsfs inodes) are reused; the state of the one that is gone must
# not pass for the new one's, whose devices it never knew.
rc_assert_ok "relay 2: load again" x 2 load --dev "${IN[2]}"
rc_assert_ok "relay 2: group add again" x 2 group add "${GROUP[2]}"
ip netns del "${R[2]}"
ip netns add "${R[2]}"
rc_veth "$(rc_name n2)" "${R[2]}" "$(rc_name m2)" "${R[2]}" || exit 1
out=$(x 2 load --dev "$(rc_name n2)" 2>&1)
rc=$?
rc_assert_eq 1 "$rc" "new namespace of a gone one's name: load exits 1"
rc_assert_match "^replicast: load: the state at (/proc/[0-9]+/root)?${PIN[2]} was made in another network namespace.*rm -r" \
	"$out" "new namespace of a gone one's name: load says whose state it is and what to do"
rc_assert_fail "new namespace of a gone one's name: list refuses too" quiet x 2 list
rc_assert_eq "" "$(rc_in "${R[2]}" tc filter show dev "$(rc_name n2)" ingress)" \
	"new namespace of a gone one's name: nothing attached"
rm -r "${PIN[2]}"
rc_assert_ok "new namespace of a gone one's name: after rm -r, load" x 2 load --dev "$(rc_name n2)"
rc_assert_eq 0 "$(x 2 list --json | jq '.groups | length')" \
	"the new relay starts empty, without the gone one's group"
rc_assert_ok "new namespace of a gone one's name: unload" x 2 unload
rc_assert_fail "new namespace of a gone one's name: no pins left" test -e "${PIN[2]}"

# --- a load that fails halfway takes back what it made ----------------------
# A device of someone else's holds the injection pair's name: the load has
# pinned and attached by then, and must undo both.
rc_in "${R[1]}" ip link add rcinj type veth peer name rcinjp && rc_track_dev "${R[1]}" rcinj
out=$(x 1 load --dev "${IN[1]}" 2>&1)
rc=$?
rc_assert_eq 1 "$rc" "load with rcinj taken: exits 1"
rc_assert_match "^replicast: load: a device named rcinj or rcinj-in exists" "$out" \
	"load with rcinj taken: says why"
rc_assert_fail "load with rcinj taken: no pins left" test -e "${PIN[1]}"
rc_assert_eq "" "$(rc_in "${R[1]}" tc filter show dev "${IN[1]}" ingress)" \
	"load with rcinj taken: no tc filter left on ${IN[1]}"
rc_assert_ok "load with rcinj taken: the other rcinj is left alone" \
	quiet rc_in "${R[1]}" ip link show rcinjp
rc_in "${R[1]}" ip link del rcinj

# --- an explicit --pin-path is used as given, so it must outlive the command --
# Under ip netns exec, /sys/fs/bpf/... is the command's own /sys: a bpffs
# mounted there would vanish with it. Refused; nothing made.
out=$(x 1 --pin-path "$EPIN" load --dev "${IN[1]}" 2>&1)
rc=$?
rc_assert_eq 1 "$rc" "--pin-path under ip netns exec: exits 1"
rc_assert_match "^replicast: load: $EPIN is on no bpffs that outlives this command.*nsenter --net" \
	"$out" "--pin-path under ip netns exec: says why and what to do"
rc_assert_eq 1 "$(printf '%s\n' "$out" | grep -c .)" "--pin-path under ip netns exec: in one line"
rc_assert_eq "" "$(rc_in "${R[1]}" tc filter show dev "${IN[1]}" ingress)" \
	"--pin-path under ip netns exec: no tc filter on ${IN[1]}"
rc_assert_fail "--pin-path under ip netns exec: no injection pair" \
	quiet rc_in "${R[1]}" ip link show rcinj
rc_assert_fail "--pin-path under ip netns exec: nothing at $EPIN on the host" test -e "$EPIN"

# --- no bpffs where the command came from: refused, nothing left -------------
# The outer unshare -m is a private copy of our mounts (propagation
# private), so unmounting /sys/fs/bpf there stands for a host without bpffs
# and touches no real mount; the inner one is the command's own namespace,
# as ip netns exec makes. sh stays the CLI's parent (it runs more after it).
out=$(nsenter --net="/run/netns/${R[1]}" unshare -m sh -c \
	'umount -l /sys/fs/bpf || exit 99; unshare -m "$1" load --dev "$2"; rc=$?; exit $rc' \
	sh "$CLI" "${IN[1]}" 2>&1)
rc=$?
rc_assert_eq 1 "$rc" "no host bpffs: load exits 1"
rc_assert_match "^replicast: load: no bpffs outlives this command.*mount -t bpf bpf /sys/fs/bpf" \
	"$out" "no host bpffs: says what is wrong and what to do"
rc_assert_eq 1 "$(printf '%s\n' "$out" | grep -c .)" "no host bpffs: in one line"
rc_assert_eq "" "$(rc_in "${R[1]}" tc filter show dev "${IN[1]}" ingress)" \
	"no host bpffs: no tc filter on ${IN[1]}"
rc_assert_fail "no host bpffs: no injection pair" quiet rc_in "${R[1]}" ip link show rcinj
# (A tcx link lives only while pinned or while its maker holds it: no pins
# and an exited CLI mean no link.)
rc_assert_fail "no host bpffs: no pins" test -e "${PIN[1]}"
rc_assert_eq bpf_fs "$(stat -f -c %T /sys/fs/bpf)" "the real /sys/fs/bpf is untouched"

rc_summary
