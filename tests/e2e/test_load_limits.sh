#!/usr/bin/env bash
# san: yes
# What `load` refuses before it makes anything, and what it says: sizes over
# the limits (named, exit 2, nothing pinned), a pin directory that is not
# root's alone, devices whose frames have no Ethernet header (tun, ipip);
# and what it says a configuration costs in counter memory.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 1 || exit 1
CLI="$RC_ROOT/$BUILD/replicast"

# expect CODE REGEX MESSAGE CMD...: exit code CODE, stderr matching REGEX in
# exactly one line.
expect() {
	local code=$1 re=$2 msg=$3 out rc lines
	shift 3
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	lines=$(printf '%s\n' "$out" | grep -c .)
	rc_assert_eq "$code" "$rc" "$msg: exit code"
	rc_assert_match "$re" "$out" "$msg: says why"
	rc_assert_eq 1 "$lines" "$msg: one line"
}

# ---- sizes over the limits ------------------------------------------------
expect 2 "--max-subs 2000000 is over the limit of 1048576 subscribers per group" \
	"max-subs over the limit" $RC load --dev "$TOPO_RELAY_IN" --max-subs 2000000
[ -e "$TOPO_PIN" ] && rc_not_ok "a refused size pins nothing" "$(ls -la "$TOPO_PIN")" ||
	rc_ok "a refused size pins nothing"
expect 2 "--max-groups 1048577 is over the limit of 1048576 groups" \
	"max-groups over the limit" $RC load --dev "$TOPO_RELAY_IN" --max-groups 1048577
# The default pin path of a namespace, made in two steps, is not begun either.
ns_dir=/sys/fs/bpf/replicast-netns/$TOPO_RELAY
expect 2 "over the limit" "default path: max-subs over the limit" \
	rc_in "$TOPO_RELAY" "$CLI" load --dev "$TOPO_RELAY_IN" --max-subs 2000000
[ -e "$ns_dir" ] && rc_not_ok "default path: nothing made" || rc_ok "default path: nothing made"
# The same through apply: the file's line is named, nothing is loaded.
conf=$(rc_tmpdir)/big.conf
echo "load --dev $TOPO_RELAY_IN --max-subs 2000000" >"$conf"
out=$($RC apply "$conf" 2>&1)
rc_assert_ne 0 "$?" "apply of a size over the limit fails"
rc_assert_match "big.conf:1: .*--max-subs 2000000 is over the limit of 1048576" "$out" \
	"apply names the line and the limit"
[ -e "$TOPO_PIN" ] && rc_not_ok "apply: nothing pinned" || rc_ok "apply: nothing pinned"

# ---- what the sizes cost ---------------------------------------------------
# Said once, on the load that fixes the sizes: per group, and for all groups.
possible=$(cat /sys/devices/system/cpu/possible)
ncpus=$(( ${possible##*-} + 1 ))
out=$($RC load --dev "$TOPO_RELAY_IN" --max-groups 8 --max-subs 100 --no-inject 2>&1)
rc_assert_eq 0 $? "load of small sizes"
rc_assert_match "^load: each group takes .* of counters \\(100 subscribers x $ncpus CPUs x 24 bytes\\) and 7.0 KiB of subscriber slots; all 8 groups \\(the limit\\) take " \
	"$out" "load says what a group and all groups cost"
rc_assert_eq 1 "$(printf '%s\n' "$out" | grep -c .)" "in one line"
out=$($RC load --dev "$TOPO_RELAY_IN" --no-inject 2>&1)
rc_assert_eq "0:" "$?:$out" "a second load, reusing the sizes, is silent"
$RC unload
out=$($RC load --dev "$TOPO_RELAY_IN" --no-inject 2>&1)
rc_assert_match "each group takes 480.0 KiB: .*\\(4096 subscribers x 2 CPUs|each group takes" "$out" \
	"the defaults are costed too"
[ "$ncpus" = 2 ] && rc_assert_match "all 1024 groups \\(the limit\\) take 480.0 MiB, 192.0 MiB of it counters" \
	"$out" "on 2 CPUs: 480 MiB for all 1024 groups, 192 MiB of it counters"
$RC unload

# ---- a pin directory that is not root's alone -----------------------------
mkdir "$TOPO_PIN"
chown 65534:65534 "$TOPO_PIN"
expect 1 "$TOPO_PIN is not root's alone.*chown root: $TOPO_PIN" "pin directory of another owner" \
	$RC load --dev "$TOPO_RELAY_IN"
rc_assert_eq "" "$(ls -A "$TOPO_PIN")" "nothing pinned in another's directory"
chown 0:0 "$TOPO_PIN"
chmod 0777 "$TOPO_PIN"
expect 1 "is not root's alone" "pin directory writable by others" $RC load --dev "$TOPO_RELAY_IN"
chmod 0770 "$TOPO_PIN"
expect 1 "is not root's alone" "pin directory writable by its group" $RC load --dev "$TOPO_RELAY_IN"
rc_assert_eq "" "$(ls -A "$TOPO_PIN")" "nothing pinned in a writable directory"
chmod 0700 "$TOPO_PIN"
rc_assert_ok "load into root's own directory" $RC load --dev "$TOPO_RELAY_IN"
# A relay whose directory was opened up later is not used either.
chmod 0755 "$TOPO_PIN"
rc_assert_ok "mode 0755 is root's alone" $RC list
chmod 0757 "$TOPO_PIN"
expect 1 "is not root's alone" "list in a directory writable by others" $RC list
chmod 0700 "$TOPO_PIN"

# ---- devices without Ethernet frames -------------------------------------
# tun and ipip hand the program bare IP packets: attached, it would pass them
# all untouched. Both are refused before anything is attached.
tun=$(rc_name tun)
ipip=$(rc_name ipip)
tap=$(rc_name tap)
rc_in "$TOPO_RELAY" ip tuntap add dev "$tun" mode tun
rc_in "$TOPO_RELAY" ip tuntap add dev "$tap" mode tap
rc_track_dev "$TOPO_RELAY" "$tun"
rc_track_dev "$TOPO_RELAY" "$tap"
rc_in "$TOPO_RELAY" ip link set "$tun" up
$RC unload >/dev/null
expect 1 "load: $tun is not an Ethernet device \\(link type 65534, no link layer: tun or wireguard\\)" \
	"tun refused" $RC load --dev "$TOPO_RELAY_IN" --dev "$tun"
[ -e "$TOPO_PIN" ] && rc_not_ok "a refused device loads nothing" || rc_ok "a refused device loads nothing"
# ipip needs CONFIG_NET_IPIP, which not every kernel has.
if rc_in "$TOPO_RELAY" ip link add "$ipip" type ipip local 10.77.0.254 remote 10.77.0.1 2>/dev/null; then
	rc_track_dev "$TOPO_RELAY" "$ipip"
	expect 1 "load: $ipip is not an Ethernet device \\(link type 768, ipip\\)" "ipip refused" \
		$RC load --dev "$ipip"
else
	rc_skip "ipip refused: this kernel makes no ipip devices (CONFIG_NET_IPIP)"
fi
# A tap device carries Ethernet frames: it is attached like any other.
rc_assert_ok "a tap device is Ethernet" $RC load --dev "$tap"
$RC unload >/dev/null
rc_assert_ok "load on the Ethernet side" $RC load --dev "$TOPO_RELAY_IN"
expect 1 "is not an Ethernet device" "tun refused by a loaded relay" $RC load --dev "$tun"
rc_assert_eq "[\"$TOPO_RELAY_IN\"]" "$($RC list --json | jq -c '[.attached[].ifname // .attached[]]')" \
	"only the Ethernet device is attached"
echo "load --dev $TOPO_RELAY_IN --dev $tun" >"$conf"
out=$($RC apply "$conf" 2>&1)
rc_assert_ne 0 "$?" "apply naming tun fails"
rc_assert_match "big.conf:1: load: $tun is not an Ethernet device" "$out" "apply names the line"
rc_assert_eq 1 "$($RC list --json | jq '.attached | length')" "and attaches nothing more"

rc_summary
