#!/usr/bin/env bash
# san: yes
# save, apply and -batch as an operator uses them: save writes the running
# configuration as commands (group options included); after unload, apply of that file (which loads)
# gives an identical `list --json` and the stream reaches every subscriber
# again; apply of an edited file changes exactly the differences, switching a
# group's set whole while packets fly; a bad line is named and changes
# nothing; -batch runs commands and stops at the first failure.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 3 || exit 1
G4=10.77.100.1:5000
G6=[fd77:100::1]:5000
GE=10.77.100.2:5000
DEV1=${TOPO_RELAY_DEV[1]} DEV2=${TOPO_RELAY_DEV[2]} DEV3=${TOPO_RELAY_DEV[3]}
MAC3=$(rc_in "${TOPO_RX[3]}" ip -j link show dev "${TOPO_RX_DEV[3]}" | jq -r '.[0].address')
T=$RC_TMP

# expect_fail REGEX MESSAGE CMD...: exit 1, one line on stderr matching REGEX.
expect_fail() {
	local re=$1 msg=$2 out rc
	shift 2
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	rc_assert_eq 1 "$rc" "$msg: exit 1"
	rc_assert_match "$re" "$out" "$msg: says which line and why"
	rc_assert_eq 1 "$(printf '%s\n' "$out" | grep -c .)" "$msg: one line"
}

# stream COUNT GROUP SPECS...: a sink per "I:ADDR:PORT" spec expecting COUNT
# packets, COUNT packets sent to GROUP; asserts every sink got all of them.
stream() {
	local count=$1 group=$2 spec i dest
	shift 2
	for spec in "$@"; do
		topo_sink "${spec%%:*}" "${spec#*:}" "$count" --size 200
	done
	rc_assert_ok "send $count to $group" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to "$group" \
		--count "$count" --size 200 --rate 20000
	for spec in "$@"; do
		i=${spec%%:*} dest=${spec#*:}
		topo_sink_wait "$i" "${dest##*:}"
		rc_assert_eq 0 $? "$dest got all $count from $group"
	done
}

for cmd in save apply; do
	rc_assert_match "^Usage: replicast $cmd" "$("$RC_ROOT/$BUILD/replicast" $cmd --help)" "$cmd --help"
done
rc_assert_match "-batch FILE" "$("$RC_ROOT/$BUILD/replicast" --help)" "replicast --help names -batch"
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN" --max-groups 8 --max-subs 16 --no-inject
rc_assert_ok "group add $G4 with an allow list and a cap" \
	$RC group add $G4 --allow-source 10.77.0.0/24 --max-pps 100000
rc_assert_ok "sub add, route's device" $RC sub add $G4 10.77.1.2:6000
rc_assert_ok "sub add --keep-source" $RC sub add $G4 10.77.2.2:6000 --keep-source
rc_assert_ok "sub add --mac" $RC sub add $G4 10.77.3.2:6000 --mac "$MAC3"
rc_assert_ok "group add $G6, two prefixes, a bit cap" \
	$RC group add $G6 --allow-source fd77::1 --allow-source fd77::/64 --max-bps 50000000
rc_assert_ok "sub add IPv6" $RC sub add $G6 [fd77:1::2]:6000
rc_assert_ok "sub add IPv6 --dev" $RC sub add $G6 [fd77:2::2]:6000 --dev "$DEV2"
rc_assert_ok "group add $GE (no subscribers, no sources)" $RC group add $GE

# -- save writes every setting, --dev always ------------------------------
$RC save >"$T/saved.conf"
rc_assert_eq 0 $? "save"
cat >"$T/expected.conf" <<EOF
load --dev $TOPO_RELAY_IN --max-groups 8 --max-subs 16 --no-inject
group add $G4 --allow-source 10.77.0.0/24 --max-pps 100000
sub add $G4 10.77.1.2:6000 --dev $DEV1
sub add $G4 10.77.2.2:6000 --dev $DEV2 --keep-source
sub add $G4 10.77.3.2:6000 --dev $DEV3 --mac $MAC3
group add $G6 --allow-source fd77::/64 --allow-source fd77::1/128 --max-bps 50000000
sub add $G6 [fd77:1::2]:6000 --dev $DEV1
sub add $G6 [fd77:2::2]:6000 --dev $DEV2
group add $GE
EOF
# conf_lines FILE: the commands of a configuration, without comments and blanks.
conf_lines() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$1"; }
rc_assert_eq "$(cat "$T/expected.conf")" "$(conf_lines "$T/saved.conf")" \
	"save prints the load line, groups and subscribers with their options"
rc_assert_match '^# ' "$(head -n 1 "$T/saved.conf")" "save starts with a comment"
$RC list --json >"$T/before.json"

rc_assert_eq "" "$($RC apply --dry-run "$T/saved.conf")" "apply --dry-run of the saved file: no changes"
rc_assert_ok "apply of the running state itself" $RC apply "$T/saved.conf"
rc_assert_eq "$(cat "$T/before.json")" "$($RC list --json)" "... changes nothing"

# -- save, unload, apply: the same state, and the stream resumes -----------
rc_assert_ok "save --output" $RC save --output "$T/out.conf"
rc_assert_eq "$(cat "$T/saved.conf")" "$(cat "$T/out.conf")" "save --output writes what save prints"
rc_assert_ok "unload" $RC unload
rc_assert_ok "apply loads and restores" $RC apply "$T/saved.conf"
rc_assert_eq "$(cat "$T/before.json")" "$($RC list --json)" "list --json after unload and apply is identical"
rc_assert_eq "$(cat "$T/saved.conf")" "$($RC save)" "save after apply gives the same file"
stream 500 $G4 1:10.77.1.2:6000 2:10.77.2.2:6000 3:10.77.3.2:6000
stream 500 $G6 "1:[fd77:1::2]:6000" "2:[fd77:2::2]:6000"
rc_assert_eq 500 "$(topo_stat ".groups[] | select(.group==\"$G4\") | .subscribers[0].packets")" \
	"the counters count the resumed stream"

# -- apply of an edited file: exactly the differences ----------------------
cat >"$T/edited.conf" <<EOF
# the IPv4 group: 10.77.3.2:6000 moves to port 6001, 10.77.2.2 stops keeping
# the source and the group loses its cap; the empty group goes, a new one comes
load --dev $TOPO_RELAY_IN --max-groups 8 --max-subs 16 --no-inject
group add $G4 --allow-source=10.77.0.0/24
sub add $G4 10.77.1.2:6000            # no --dev: the route decides
sub add $G4 10.77.2.2:6000 --dev $DEV2
sub add $G4 10.77.3.2:6001 --dev $DEV3
group add $G6 --max-bps 50000000 --allow-source fd77::/64 --allow-source fd77::1
sub add $G6 [fd77:1::2]:6000 --dev $DEV1
sub add $G6 [fd77:2::2]:6000 --dev $DEV2
group add 10.77.100.3:5000 --allow-source 10.77.0.1
sub add 10.77.100.3:5000 10.77.1.2:7000
EOF
cat >"$T/changes.txt" <<EOF
- group del $GE
~ group add $G4 --allow-source 10.77.0.0/24
- sub del $G4 10.77.3.2:6000
~ sub add $G4 10.77.2.2:6000 --dev $DEV2   # was: --dev $DEV2 --keep-source
+ sub add $G4 10.77.3.2:6001 --dev $DEV3
+ group add 10.77.100.3:5000 --allow-source 10.77.0.1/32
+ sub add 10.77.100.3:5000 10.77.1.2:7000
EOF
rc_assert_eq "$(cat "$T/changes.txt")" "$($RC apply -n "$T/edited.conf")" "--dry-run prints exactly the changes"
rc_assert_eq "$(cat "$T/before.json")" "$($RC list --json)" "... and makes none"

# The switch of $G4's set happens while 3000 packets fly: the subscriber in
# both sets gets every one, and the one leaving plus the one joining got
# each packet exactly once between them.
topo_sink 1 10.77.1.2:6000 3000 --size 200
topo_sink 3 10.77.3.2:6000 3000 --size 200 --timeout-ms 8000
topo_sink 3 10.77.3.2:6001 3000 --size 200 --timeout-ms 8000
rc_bg "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G4 --count 3000 --size 200 --rate 5000
blast=$RC_BG_PID
sleep 0.15
rc_assert_ok "apply the edited file mid-stream" $RC apply "$T/edited.conf"
rc_wait_pid $blast 30
rc_assert_eq 0 $? "the stream was sent"
topo_sink_wait 1 6000
rc_assert_eq 0 $? "the subscriber kept across the switch got all 3000, in order"
topo_sink_wait 3 6000
topo_sink_wait 3 6001
old=$(rc_kv "$T/sink-3-6000" received) new=$(rc_kv "$T/sink-3-6001" received)
rc_assert_eq 3000 $((old + new)) "the leaving and the joining subscriber got each packet once between them ($old + $new)"
rc_assert_eq 1 "$(rc_kv "$T/sink-3-6000" in_order)" "the leaving one got a gapless prefix"
cat >"$T/edited.expected" <<EOF
load --dev $TOPO_RELAY_IN --max-groups 8 --max-subs 16 --no-inject
group add $G4 --allow-source 10.77.0.0/24
sub add $G4 10.77.1.2:6000 --dev $DEV1
sub add $G4 10.77.2.2:6000 --dev $DEV2
sub add $G4 10.77.3.2:6001 --dev $DEV3
group add $G6 --allow-source fd77::/64 --allow-source fd77::1/128 --max-bps 50000000
sub add $G6 [fd77:1::2]:6000 --dev $DEV1
sub add $G6 [fd77:2::2]:6000 --dev $DEV2
group add 10.77.100.3:5000 --allow-source 10.77.0.1/32
sub add 10.77.100.3:5000 10.77.1.2:7000 --dev $DEV1
EOF
rc_assert_eq "$(cat "$T/edited.expected")" "$($RC save | conf_lines /dev/stdin)" \
	"the running state is the edited file (saved with every device)"
rc_assert_eq 3500 "$(topo_stat ".groups[] | select(.group==\"$G4\") | .subscribers[0].packets")" \
	"the kept subscriber kept its counters across the switch (500 + 3000)"
rc_assert_eq "[500,500]" "$(topo_stat "[.groups[] | select(.group==\"$G6\") | .subscribers[].packets]" | jq -c .)" \
	"the group the file did not change was not touched (counters kept)"
rc_assert_eq "" "$($RC apply -n "$T/edited.conf")" "applying it again changes nothing"

# Devices: the load line's --dev list is the attached set. (Not mid-stream:
# adding or removing the clsact qdisc of a device resets its transmit for an
# instant, and copies leaving by it then are lost as redirect_failed.)
sed -e "s/^load --dev $TOPO_RELAY_IN/& --dev $DEV1/" "$T/edited.conf" >"$T/attach.conf"
rc_assert_eq "+ attach $DEV1" "$($RC apply -n "$T/attach.conf")" "--dry-run of one more --dev: one attach"
rc_assert_ok "apply attaches" $RC apply "$T/attach.conf"
rc_assert_eq "$(printf '%s\n' "$TOPO_RELAY_IN" "$DEV1" | sort | tr '\n' ' ')" \
	"$($RC list --json | jq -r '.attached[].ifname' | sort | tr '\n' ' ')" "attached to both"
rc_assert_eq "load $(printf -- '--dev %s\n' "$TOPO_RELAY_IN" "$DEV1" | sort | tr '\n' ' ')--max-groups 8 --max-subs 16 --no-inject" \
	"$($RC save | grep ^load)" "save lists the devices sorted by name"
rc_assert_eq "- detach $DEV1" "$($RC apply -v "$T/edited.conf")" "apply -v of the file without it: one detach, printed"
rc_assert_eq "[\"$TOPO_RELAY_IN\"]" "$($RC list --json | jq -c '[.attached[].ifname]')" "attached to one again"

# -- a bad line is named and changes nothing -------------------------------
$RC list --json >"$T/edited.json"
bad() {	# bad LINE_TEXT REGEX MESSAGE: the edited file with LINE_TEXT as line 5
	{ sed -n 1,4p "$T/edited.conf"; printf '%s\n' "$1"; sed -n '5,$p' "$T/edited.conf"; } >"$T/bad.conf"
	expect_fail "$2" "$3" $RC apply "$T/bad.conf"
	rc_assert_eq "$(cat "$T/edited.json")" "$($RC list --json)" "$3: nothing changed"
}
# A bare ADDR is a port range's keep-port subscriber only: $G4 is one port.
bad "sub add $G4 10.77.9.2" "bad.conf:5: sub add: DEST 10.77.9.2 has no port: only the subscribers of a port range" \
	"endpoint without port"
bad "sub add $G4 10.77.9.2:" "bad.conf:5: sub add: DEST '10.77.9.2:' is not ADDR:PORT" "endpoint with an empty port"
bad "sub add $G4 10.77.1.2:6100 --color" "bad.conf:5: sub add: unknown option '--color'" "unknown option"
bad "sub add 10.77.100.9:5000 10.77.1.2:6100" "bad.conf:5: sub add: group 10.77.100.9:5000 has no 'group add' line" "subscriber of an undeclared group"
bad "group del $G6" "bad.conf:5: 'group del' does not belong in a configuration file" "a removal line"
bad "sub add $G4 10.77.1.2:6100 --dev rcnope0" "bad.conf:5: sub add: no such interface 'rcnope0'" "unknown interface"
bad "sub add $G4 10.99.1.2:6100" "bad.conf:5: sub add: no route to 10.99.1.2:6100" "no route"
bad "sub add $G4 [fd77:1::2]:6100" "bad.conf:5: sub add: GROUP and DEST must both be IPv4 or both IPv6" "mixed families"
bad "group add $G4" "bad.conf:5: group 10.77.100.1:5000 is added already on line 4" "a group twice"
bad "frob" "bad.conf:5: unknown command 'frob'" "unknown command"
bad "group add 10.77.100.9:5000 --allow-source fd77::/64" \
	"bad.conf:5: group add: --allow-source 'fd77::/64' and group 10.77.100.9:5000 are not the same address family" "a prefix of the other family"
bad "group add 10.77.100.9:5000 --max-pps 5 --max-pps 6" "bad.conf:5: group add: --max-pps given twice" "an option twice"
bad "group add 10.77.100.9:5000 --max-pps fast" "bad.conf:5: group add: --max-pps 'fast' is not a number" "a cap that is no number"
bad "sub add $G4 '10.77.1.2:6100" "bad.conf:5: a quote is not closed" "open quote"
sed -e 's/--max-subs 16/--max-subs 32/' "$T/edited.conf" >"$T/bad.conf"
expect_fail "bad.conf:3: load: --max-subs 32, but 16 are loaded; sizes are fixed" "a size that differs" \
	$RC apply "$T/bad.conf"
printf 'group add %s\n' $G4 >"$T/noload.conf"
expect_fail "not loaded: nothing is pinned at /sys/fs/bpf/rc-nothing$RC_ID, and .*noload.conf has no load line" \
	"a file without load line, nothing loaded" \
	"$RC_ROOT/$BUILD/replicast" --pin-path /sys/fs/bpf/rc-nothing$RC_ID apply "$T/noload.conf"

# -- apply from standard input, and back to the first state ---------------
apply_stdin() { $RC apply - <"$1"; }
rc_assert_ok "apply - (standard input)" apply_stdin "$T/saved.conf"
rc_assert_eq "$(cat "$T/saved.conf")" "$($RC save)" "the first state again"

# -- -batch ----------------------------------------------------------------
CLI="rc_in $TOPO_RELAY $RC_ROOT/$BUILD/replicast --pin-path $TOPO_PIN"
cat >"$T/batch.txt" <<EOF
# add a subscriber, list, remove it
sub add $G4 10.77.1.2:6200 --dev "$DEV1"
list --json
sub del $G4 10.77.1.2:6200
sub del $G4 10.77.1.2:6200
sub add $G4 10.77.1.2:6300
EOF
out=$($CLI -batch "$T/batch.txt" 2>"$T/batch.err")
rc_assert_eq 1 $? "-batch stops at the failing line with exit 1"
rc_assert_eq "10.77.1.2:6200" "$(printf '%s' "$out" | jq -r ".groups[] | select(.group==\"$G4\") | .subscribers[-1].dest")" \
	"the list in the batch saw the subscriber added by the line before"
rc_assert_eq "replicast: $T/batch.txt:5: 10.77.1.2:6200 is not a subscriber of group $G4" \
	"$(cat "$T/batch.err")" "the error names the file and line"
rc_assert_eq 0 "$($RC list --json | jq "[.groups[].subscribers[] | select(.dest==\"10.77.1.2:6300\")] | length")" \
	"the line after the failure did not run"
$CLI -force -batch "$T/batch.txt" >/dev/null 2>&1
rc_assert_eq 1 $? "-force -batch still exits 1 after a failure"
rc_assert_eq 1 "$($RC list --json | jq "[.groups[].subscribers[] | select(.dest==\"10.77.1.2:6300\")] | length")" \
	"... but runs the lines after it"
# -- a NUL byte ends no line silently ----------------------------------------
# "--max-pps 5\0 0000 --allow-source ..." once read as --max-pps 5 and nothing
# after the NUL; now the file is refused, naming the line and the column.
$RC list --json >"$T/state.json"
{ sed -n 1,4p "$T/saved.conf"; printf 'group add 10.77.100.9:5000 --max-pps 5\0 0000 --allow-source 10.77.0.0/24\n'
  sed -n '5,$p' "$T/saved.conf"; } >"$T/nul.conf"
expect_fail "nul.conf:5: a NUL byte at column 39; a configuration file is text" "a NUL byte" \
	$RC apply "$T/nul.conf"
rc_assert_eq "$(cat "$T/state.json")" "$($RC list --json)" "a NUL byte: nothing changed"
printf 'group add 10.77.100.9:5000 --max-pps 5\0 0000\n' >"$T/nul.txt"
out=$($CLI -batch "$T/nul.txt" 2>&1)
rc_assert_eq 2 $? "-batch: a line with a NUL byte is a usage error"
rc_assert_match "nul.txt:1: a NUL byte at column 39" "$out" "-batch names the file and line"
rc_assert_eq "$(cat "$T/state.json")" "$($RC list --json)" "-batch: the line was not run"

# -- device names are printed escaped -----------------------------------------
# A name may hold an escape sequence (ESC [ 3 1 m: "red"); list, save, apply
# and the error lines print it as \x1b, never raw, and apply reads save's
# escaped form back as the same name.
ESC=$'\e'
EDEV="rc${ESC}[31m$RC_ID"
rc_veth "$EDEV" "$TOPO_RELAY" "$(rc_name esc)" "$TOPO_RELAY" || rc_not_ok "a veth named rc\\e[31m$RC_ID"
rc_assert_ok "load --dev rc\\e[31m$RC_ID attaches to it" $RC load --dev "$EDEV" --no-inject \
	--max-groups 8 --max-subs 16
out=$($RC list 2>&1)
rc_assert_match "attached to: .*rc\\\\x1b\[31m$RC_ID" "$out" "list prints the name escaped"
rc_assert_eq 0 "$(grep -c "$ESC" <<<"$out")" "list prints no raw escape byte"
rc_assert_eq "$EDEV" "$($RC list --json | jq -r ".attached[].ifname | select(startswith(\"rc$ESC\"))")" \
	"list --json carries the real name (JSON-escaped)"
$RC save >"$T/esc.conf"
rc_assert_match "--dev \"rc\\\\x1b\[31m$RC_ID\"" "$(cat "$T/esc.conf")" "save writes the name escaped"
rc_assert_eq 0 "$(grep -c "$ESC" "$T/esc.conf")" "save writes no raw escape byte"
out=$($RC apply --dry-run "$T/esc.conf" 2>&1)
rc_assert_eq 0 $? "apply reads the escaped name back"
rc_assert_eq "" "$out" "... as the same name: nothing to change"
sed 's/ --dev "rc\\x1b[^"]*"//' "$T/esc.conf" >"$T/noesc.conf"	# the same, without it
out=$($RC apply "$T/esc.conf" 2>&1; $RC apply --verbose "$T/noesc.conf" 2>&1)
rc_assert_match "detach rc\\\\x1b\[31m$RC_ID" "$out" "apply's change lines print the name escaped"
rc_assert_eq 0 "$(grep -c "$ESC" <<<"$out")" "apply prints no raw escape byte"
out=$($RC sub add $G4 10.77.1.2:6400 --dev "rcno${ESC}]0;x$RC_ID" 2>&1)
rc_assert_ne 0 $? "sub add through a device that does not exist fails"
rc_assert_match 'rcno\\x1b\]0;x' "$out" "and its error line prints the name escaped"
rc_assert_eq 0 "$(grep -c "$ESC" <<<"$out")" "... with no raw escape byte"

rc_assert_ok "unload" $RC unload
batch_stdin() { $CLI -batch - <"$1"; }
rc_assert_ok "-batch of a saved file into an empty replicast" batch_stdin "$T/saved.conf"
rc_assert_eq "$(cat "$T/before.json")" "$($RC list --json)" "... gives the saved state, identical"
rc_summary
