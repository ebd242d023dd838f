#!/usr/bin/env bash
# san: yes
# The CLI as an operator meets it: every error is one clear line on stderr
# with the right exit code (1 failure, 2 usage), --help works everywhere,
# load twice is safe and attaches new devices, table limits are named.
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
	[ "$code" = 2 ] || rc_assert_eq 1 "$lines" "$msg: one line"
}

for sub in load unload group sub list stats; do
	rc_assert_match "^Usage: replicast $sub" "$($CLI $sub --help)" "$sub --help"
done
rc_assert_match "^Usage: replicast" "$($CLI --help)" "replicast --help"
expect 2 "unknown command 'frob'" "unknown command" $CLI frob
expect 2 "GROUP '10.0.0.1' is not ADDR:PORT" "endpoint without port" $RC group add 10.0.0.1
expect 2 "GROUP 'fd00::1:80' is not ADDR:PORT" "IPv6 without brackets" $RC group add fd00::1:80
expect 2 "port 1-65535" "port 0" $RC group add 10.0.0.1:0
expect 2 "--max-subs 'many' is not a positive number" "bad number" $RC load --dev lo --max-subs many
expect 2 "name at least one --dev" "load without --dev" $RC load
expect 2 "both be IPv4 or both IPv6" "mixed families" $RC sub add 10.77.100.1:5000 [fd77:1::2]:6000
expect 2 "unknown verb 'push'" "unknown verb" $RC group push 10.77.100.1:5000
expect 2 "--mac 'zz' is not" "bad MAC" $RC sub add 10.77.100.1:5000 10.77.1.2:6000 --mac zz
expect 2 "sub del takes no --keep-source \\(sub add does\\)" "an option of the other verb" \
	$RC sub del 10.77.100.1:5000 10.77.1.2:6000 --keep-source

expect 1 "not loaded: nothing is pinned at $TOPO_PIN" "before load" $RC list
expect 1 "no such interface 'rcnope0'" "unknown interface" $RC load --dev rcnope0
[ -e "$TOPO_PIN" ] && rc_not_ok "a failed load pins nothing" || rc_ok "a failed load pins nothing"
expect 1 "must run as root" "not root" setpriv --reuid=65534 --regid=65534 --clear-groups $CLI list

rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN" --max-groups 2 --max-subs 2
rc_assert_ok "load again, with one more device" $RC load --dev "$TOPO_RELAY_IN" --dev "${TOPO_RELAY_DEV[1]}"
rc_assert_eq 2 "$($RC list --json | jq '.attached | length')" "attached to both devices"
rc_assert_eq 2 "$($RC list --json | jq '.max_groups')" "the first load's sizes stay"
expect 1 "group 10.77.100.9:5000 does not exist; add it with" "sub add to a missing group" \
	$RC sub add 10.77.100.9:5000 10.77.1.2:6000
rc_assert_ok "group add" $RC group add 10.77.100.1:5000
expect 1 "group 10.77.100.1:5000 already exists" "duplicate group" $RC group add 10.77.100.1:5000
rc_assert_ok "group add a second" $RC group add [fd77:100::1]:5000
expect 1 "group table is full: 2 groups" "group table full" $RC group add 10.77.100.3:5000
rc_assert_ok "sub add" $RC sub add 10.77.100.1:5000 10.77.1.2:6000
expect 1 "10.77.1.2:6000 is already a subscriber of group 10.77.100.1:5000" "duplicate subscriber" \
	$RC sub add 10.77.100.1:5000 10.77.1.2:6000
rc_assert_ok "sub add a second" $RC sub add 10.77.100.1:5000 10.77.1.2:6001
expect 1 "group 10.77.100.1:5000 is full: 2 subscribers" "subscriber table full" \
	$RC sub add 10.77.100.1:5000 10.77.1.2:6002
expect 1 "10.77.1.2:6009 is not a subscriber of group 10.77.100.1:5000" "sub del unknown" \
	$RC sub del 10.77.100.1:5000 10.77.1.2:6009
expect 1 "no such interface 'rcnope0'" "sub add --dev unknown" \
	$RC sub add 10.77.100.1:5000 10.77.1.2:6003 --dev rcnope0
rc_assert_ok "sub del frees a slot" $RC sub del 10.77.100.1:5000 10.77.1.2:6001
rc_assert_ok "... which the next add reuses" $RC sub add 10.77.100.1:5000 10.77.1.2:6002
rc_assert_eq '["10.77.1.2:6000","10.77.1.2:6002"]' \
	"$($RC list --json | jq -c '[.groups[0].subscribers[].dest]')" "list shows the two"
expect 1 "group 10.77.100.7:5000 does not exist" "group del missing" $RC group del 10.77.100.7:5000
rc_assert_ok "unload" $RC unload
expect 1 "not loaded" "after unload" $RC stats
rc_summary
