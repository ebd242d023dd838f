#!/usr/bin/env bash
# san: yes
# One grammar: the same load, group add and sub add lines give the same
# running state whether they are run as commands, as a -batch file or
# applied as a configuration file, and a bad line gets the same message in
# all three. Includes the cases where the two parsers had drifted: more than
# 64 --dev on one line (the command line capped them), --upgrade (only the
# command line took it), a multicast DEST (only the command line refused it).
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 1 || exit 1
T=$RC_TMP
CLI="rc_in $TOPO_RELAY $RC_ROOT/$BUILD/replicast --pin-path $TOPO_PIN"
DEV1=${TOPO_RELAY_DEV[1]}
MAC1=$(rc_in "${TOPO_RX[1]}" ip -j link show dev "${TOPO_RX_DEV[1]}" | jq -r '.[0].address')
G=239.77.1.1:5000 G6=[ff0e::77:1]:5000

# 70 more Ethernet devices (ifb: no traffic needed) to attach to: more than
# the 64 one parser allowed.
NEXTRA=70
devs=()
for ((i = 1; i <= NEXTRA; i++)); do
	d=rcd$i$RC_ID
	rc_in "$TOPO_RELAY" ip link add name "$d" type ifb || rc_not_ok "ifb device $d"
	rc_in "$TOPO_RELAY" ip link set "$d" up
	devs+=(--dev "$d")
done

# Multicast groups join on every attached device, and a host holds only so
# many memberships (igmp_max_memberships): the many devices get a file of
# their own, without groups.
echo "load --dev $TOPO_RELAY_IN ${devs[*]} --max-groups 8 --max-subs 16 --no-inject" >"$T/devs.conf"
cat >"$T/lines.conf" <<EOF
load --dev $TOPO_RELAY_IN --max-groups 8 --max-subs 16 --no-inject
group add $G --allow-source 10.77.0.0/24 --allow-source 10.77.0.9 --max-pps 5000 --max-bps 9000000 --ttl 12 --reverse-path loose
sub add $G 10.77.1.2:6000 --dev $DEV1 --mac $MAC1 --keep-source
sub add $G 10.77.1.2:6001
group add $G6 --allow-source fd77::/64 --ttl 64
sub add $G6 [fd77:1::2]:6000 --dev=$DEV1
EOF

# run FILE MODE: from nothing loaded, the lines of FILE run as MODE; the
# saved result in FILE.MODE.
run() {
	local line words
	topo_unload >/dev/null 2>&1
	case $2 in
	argv)
		while read -r line; do
			read -r -a words <<<"$line"
			$CLI "${words[@]}" >/dev/null || return 1
		done <"$1" ;;
	batch)
		$CLI -batch "$1" >/dev/null || return 1 ;;
	apply)
		$CLI apply "$1" >/dev/null || return 1 ;;
	esac
	$CLI save | sed -e 's/#.*//' -e '/^[[:space:]]*$/d' >"$1.$2"
}

for mode in argv batch apply; do
	rc_assert_ok "one load line of $((NEXTRA + 1)) devices runs as $mode" run "$T/devs.conf" $mode
	rc_assert_eq "$((NEXTRA + 1))" "$(grep -o -- '--dev ' "$T/devs.conf.$mode" | wc -l)" \
		"as $mode: load attached all $((NEXTRA + 1)) devices"
done
rc_assert_eq "$(cat "$T/devs.conf.argv")" "$(cat "$T/devs.conf.batch")" "-batch attaches what the command does"
rc_assert_eq "$(cat "$T/devs.conf.argv")" "$(cat "$T/devs.conf.apply")" "apply attaches what the command does"
for mode in argv batch apply; do
	rc_assert_ok "the group and subscriber lines run as $mode" run "$T/lines.conf" $mode
done
rc_assert_eq "$(cat "$T/lines.conf.argv")" "$(cat "$T/lines.conf.batch")" "-batch gives the same state as the commands"
rc_assert_eq "$(cat "$T/lines.conf.argv")" "$(cat "$T/lines.conf.apply")" "apply gives the same state as the commands"
rc_assert_match "group add $G --allow-source 10.77.0.0/24 --allow-source 10.77.0.9/32 --max-pps 5000 --max-bps 9000000 --ttl 12 --reverse-path loose" \
	"$(cat "$T/lines.conf.apply")" "every group option was taken"
rc_assert_match "sub add $G 10.77.1.2:6000 --dev $DEV1 --mac $MAC1 --keep-source" \
	"$(cat "$T/lines.conf.apply")" "every subscriber option was taken"

# --upgrade: the same line replaces the pinned program in all three ways.
prog_id() { bpftool -j prog show pinned "$TOPO_PIN/replicate_prog" | jq .id; }
before=$($CLI list --json)
# (apply makes the state the file's: its file is the whole configuration.)
printf 'load --dev %s --no-inject --upgrade\n' "$TOPO_RELAY_IN" >"$T/upgrade.conf"
sed '1s/$/ --upgrade/' "$T/lines.conf" >"$T/upgrade-all.conf"
for mode in argv batch apply; do
	old=$(prog_id)
	case $mode in
	argv) out=$($CLI load --dev "$TOPO_RELAY_IN" --no-inject --upgrade 2>&1) ;;
	batch) out=$($CLI -batch "$T/upgrade.conf" 2>&1) ;;
	apply) out=$($CLI apply "$T/upgrade-all.conf" 2>&1) ;;
	esac
	rc_assert_eq 0 $? "load --upgrade as $mode exits 0 ($out)"
	rc_assert_ne "$old" "$(prog_id)" "load --upgrade as $mode pins a new program"
done
rc_assert_eq "$before" "$($CLI list --json)" "the upgrades kept every device, group and subscriber"
rc_assert_eq "~ upgrade the program (load --upgrade)" "$($CLI apply -n "$T/upgrade-all.conf")" \
	"apply --dry-run names the upgrade, and only it"

# A bad line: the same message, however it came (after FILE:LINE: for the
# files), exit 2 as a command or under -batch, 1 from apply.
bad() {	# bad LINE MESSAGE
	local words out_argv out_batch out_apply rc_argv rc_batch rc_apply
	printf '%s\n' "$1" >"$T/bad.conf"
	read -r -a words <<<"$1"
	out_argv=$($CLI "${words[@]}" 2>&1 >/dev/null)
	rc_argv=$?
	out_batch=$($CLI -batch "$T/bad.conf" 2>&1 >/dev/null)
	rc_batch=$?
	out_apply=$($CLI apply "$T/bad.conf" 2>&1 >/dev/null)
	rc_apply=$?
	rc_assert_eq "2 2 1" "$rc_argv $rc_batch $rc_apply" "$2: exit codes (command, -batch, apply)"
	rc_assert_eq "$out_argv" "$(sed "s|: $T/bad.conf:1: |: |" <<<"$out_batch")" "$2: -batch says what the command says"
	rc_assert_eq "$out_argv" "$(sed "s|: $T/bad.conf:1: |: |" <<<"$out_apply")" "$2: apply says what the command says"
	rc_assert_eq 1 "$(grep -c . <<<"$out_apply")" "$2: one line"
}
bad "group add $G --max-pps fast" "a cap that is no number"
bad "group add $G --max-pps 5 --max-pps 6" "an option given twice"
bad "group add 10.77.100.9:5000 --ttl 9" "--ttl of a unicast group"
bad "group add 10.77.100.9:5000 --allow-source fd77::/64" "a prefix of the other family"
bad "group add $G --reverse-path sideways" "an unknown --reverse-path"
bad "sub add $G 239.1.1.1:6000" "a multicast DEST"
bad "sub add $G 10.77.1.2:6000 --color red" "an unknown option"
bad "sub add $G [fd77:1::2]:6000" "mixed families"
bad "load --dev rc/x" "a device name the kernel refuses"
bad "load --dev $TOPO_RELAY_IN --max-subs 2000000" "a size over the limit"
bad "load --dev $TOPO_RELAY_IN --no-inject --inject-dev rcj$RC_ID" "contradicting options"
rc_summary
