#!/usr/bin/env bash
# san: yes
# What `load` refuses before it makes anything, and what it says: sizes over
# the limits (named, exit 2, nothing pinned), a pin directory that is not
# root's alone.
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

rc_summary
