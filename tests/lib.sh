# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# shellcheck shell=bash
#
# tests/lib.sh - helpers for replicast end-to-end tests.  Source it from bash:
#
#   . "$(dirname "$0")/lib.sh"        (or the path relative to your test)
#   rc_setup_traps
#   ns=$(rc_name src); rc_ns_add "$ns"
#   ...
#   rc_summary
#
# Every namespace/device a test creates must be named "rc..."; rc_name
# appends the per-run id $RC_ID so tests that run one after another (or
# side by side) never collide.  Device names must stay <= 15 characters.
#
# Commands run inside a namespace with rc_in, which uses
# `nsenter --net=/run/netns/NS` and so keeps the caller's mount namespace:
# `ip netns exec` would remount /sys and hide the bpffs at /sys/fs/bpf.
#
# Functions:
#   rc_name BASE                      print "rc${BASE}${RC_ID}"
#   rc_ns_add NAME                    create netns, lo up, no IPv6 DAD, record
#   rc_veth NAME_A NS_A NAME_B NS_B   veth pair, ends in NS_A/NS_B ("" = root), up
#   rc_addr NS DEV ADDR/PLEN          add address (IPv6 gets nodad)
#   rc_in NS CMD...                   run CMD in NS ("" = here)
#   rc_bg NS CMD...                   start CMD in NS in the background, record
#                                     its PID for cleanup; PID in $RC_BG_PID
#   rc_track_pid PID                  kill PID at cleanup
#   rc_track_dev NS DEV               delete DEV (in NS) at cleanup
#   rc_tmpdir                         print $RC_TMP, a scratch directory
#                                     (created by rc_setup_traps), removed
#                                     at cleanup
#   rc_cleanup                        kill recorded PIDs, delete recorded
#                                     devices and namespaces, remove $RC_TMP
#   rc_setup_traps                    rc_cleanup on EXIT; INT/TERM exit;
#                                     creates $RC_TMP
#   rc_wait_ready FILE TIMEOUT_S      wait until FILE exists (0) or time out (1)
#   rc_wait_pid PID TIMEOUT_S         wait for a background PID; returns its
#                                     exit status, 124 on timeout (PID killed)
#   rc_kv FILE_OR_LINE KEY            print the value of KEY from a key=value
#                                     report (file path or the line itself)
#   rc_ok MESSAGE / rc_not_ok MESSAGE [DETAIL]   record a result
#   rc_assert_eq EXPECTED ACTUAL MESSAGE
#   rc_assert_ne UNEXPECTED ACTUAL MESSAGE
#   rc_assert_ge MIN ACTUAL MESSAGE   integer ACTUAL >= MIN
#   rc_assert_match REGEX ACTUAL MESSAGE
#   rc_assert_ok MESSAGE CMD...       CMD must exit 0
#   rc_assert_fail MESSAGE CMD...     CMD must exit non-zero
#   rc_skip REASON                    a check this machine cannot make (a
#                                     kernel feature it lacks): "skip - REASON",
#                                     counted, never a pass; the suite's other
#                                     checks run on
#   rc_skip_suite REASON              the whole suite cannot run here: says
#                                     why and exits 77, which tests/run.sh
#                                     counts as skipped (1 if a check failed)
#   rc_summary                        print "N passed, N failed" (", N skipped"
#                                     after rc_skip); non-zero on failure, 77
#                                     when every check was skipped
#   rc_require_root                   exit 1 unless root
#
# Variables: RC_ROOT (repo root), RC_BIN (tool binaries, default
# $RC_ROOT/build/tests), RC_ID (per-run id), RC_PASS, RC_FAIL.

RC_ROOT=${RC_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
RC_BIN=${RC_BIN:-$RC_ROOT/build/tests}
RC_ID=${RC_ID:-$(printf '%04x' $$)}
RC_PASS=0
RC_FAIL=0
RC_SKIP=0
RC_TMP=
RC_NS_LIST=()
RC_DEV_LIST=()      # entries "NS|DEV" (NS may be empty)
RC_PID_LIST=()
RC_BG_PID=

rc_name() {
	local n="rc${1}${RC_ID}"
	echo "$n"
}

_rc_check_name() {
	case "$1" in
	rc*) ;;
	*) echo "lib.sh: name '$1' must start with 'rc'" >&2; return 1 ;;
	esac
}

_rc_check_dev() {
	_rc_check_name "$1" || return 1
	if [ "${#1}" -gt 15 ]; then
		echo "lib.sh: device name '$1' longer than 15 characters" >&2
		return 1
	fi
}

rc_in() {
	local ns=$1
	shift
	if [ -z "$ns" ]; then
		"$@"
	else
		nsenter --net="/run/netns/$ns" -- "$@"
	fi
}

rc_ns_add() {
	local ns=$1
	_rc_check_name "$ns" || return 1
	ip netns add "$ns" || return 1
	RC_NS_LIST+=("$ns")
	rc_in "$ns" ip link set lo up || return 1
	# addresses must be usable at once: no duplicate address detection for
	# devices created later in this namespace (link-local ones included)
	rc_in "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 \
		>/dev/null 2>&1 || true
}

rc_track_dev() {
	RC_DEV_LIST+=("$1|$2")
}

rc_veth() {
	local a=$1 nsa=$2 b=$3 nsb=$4
	local -a wa=() wb=()
	_rc_check_dev "$a" || return 1
	_rc_check_dev "$b" || return 1
	[ -n "$nsa" ] && wa=(netns "$nsa")
	[ -n "$nsb" ] && wb=(netns "$nsb")
	# created directly inside the target namespaces: no name clash in root
	ip link add name "$a" "${wa[@]}" type veth peer name "$b" "${wb[@]}" || return 1
	rc_track_dev "$nsa" "$a"
	rc_track_dev "$nsb" "$b"
	rc_in "$nsa" ip link set "$a" up || return 1
	rc_in "$nsb" ip link set "$b" up || return 1
}

rc_addr() {
	local ns=$1 dev=$2 addr=$3
	case "$addr" in
	*:*) rc_in "$ns" ip -6 addr add "$addr" dev "$dev" nodad ;;
	*) rc_in "$ns" ip addr add "$addr" dev "$dev" ;;
	esac
}

rc_track_pid() {
	RC_PID_LIST+=("$1")
}

rc_bg() {
	local ns=$1
	shift
	# no function layer in between: $! is the command itself (nsenter execs
	# it), so the recorded PID is the one to signal
	if [ -z "$ns" ]; then
		"$@" &
	else
		nsenter --net="/run/netns/$ns" -- "$@" &
	fi
	RC_BG_PID=$!
	rc_track_pid "$RC_BG_PID"
}

_rc_mktmp() {
	if [ -z "$RC_TMP" ]; then
		RC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rc-test.$RC_ID.XXXXXX") || return 1
	fi
}

# rc_setup_traps already creates $RC_TMP; a first call from inside $(...)
# could not record the directory for cleanup, so create it there.
rc_tmpdir() {
	_rc_mktmp || return 1
	echo "$RC_TMP"
}

rc_cleanup() {
	local p e ns dev _
	for p in "${RC_PID_LIST[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${RC_PID_LIST[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	RC_PID_LIST=()
	for e in "${RC_DEV_LIST[@]}"; do
		ns=${e%%|*}
		dev=${e#*|}
		if [ -z "$ns" ]; then
			ip link del "$dev" >/dev/null 2>&1 || true
		elif [ -e "/run/netns/$ns" ]; then
			rc_in "$ns" ip link del "$dev" >/dev/null 2>&1 || true
		fi
	done
	RC_DEV_LIST=()
	for ns in "${RC_NS_LIST[@]}"; do
		ip netns del "$ns" >/dev/null 2>&1 || true
	done
	RC_NS_LIST=()
	if [ -n "$RC_TMP" ] && [ -d "$RC_TMP" ]; then
		rm -rf -- "$RC_TMP"
	fi
	RC_TMP=
}

rc_setup_traps() {
	trap rc_cleanup EXIT
	_rc_mktmp || exit 1
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

_rc_now_us() {
	local t=${EPOCHREALTIME/[.,]/}
	echo "$((10#$t))"
}

rc_wait_ready() {
	local file=$1 timeout=${2:-10}
	local end=$(($(_rc_now_us) + timeout * 1000000))
	while [ ! -e "$file" ]; do
		if [ "$(_rc_now_us)" -ge "$end" ]; then
			echo "lib.sh: timed out after ${timeout}s waiting for $file" >&2
			return 1
		fi
		sleep 0.05
	done
	return 0
}

rc_wait_pid() {
	local pid=$1 timeout=${2:-60}
	local end=$(($(_rc_now_us) + timeout * 1000000))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$(_rc_now_us)" -ge "$end" ]; then
			echo "lib.sh: PID $pid still running after ${timeout}s, killing it" >&2
			kill -TERM "$pid" 2>/dev/null || true
			sleep 0.5
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null
			return 124
		fi
		sleep 0.05
	done
	wait "$pid"
}

rc_kv() {
	local src=$1 key=$2 line
	if [ -f "$src" ]; then
		line=$(tail -n 1 -- "$src")
	else
		line=$src
	fi
	# values are bare words or "double quoted" (no embedded quotes)
	local re="(^| )${key}=(\"[^\"]*\"|[^ ]*)"
	if [[ $line =~ $re ]]; then
		local v=${BASH_REMATCH[2]}
		v=${v#\"}
		v=${v%\"}
		echo "$v"
		return 0
	fi
	return 1
}

rc_ok() {
	RC_PASS=$((RC_PASS + 1))
	echo "ok - $1"
}

# Both return the check's outcome, so that a caller can count failures too.
rc_not_ok() {
	RC_FAIL=$((RC_FAIL + 1))
	if [ $# -ge 2 ]; then
		echo "not ok - $1: $2"
	else
		echo "not ok - $1"
	fi
	return 1
}

rc_assert_eq() {
	if [ "$1" == "$2" ]; then
		rc_ok "$3"
	else
		rc_not_ok "$3" "expected $1, got $2"
	fi
}

rc_assert_ne() {
	if [ "$1" != "$2" ]; then
		rc_ok "$3"
	else
		rc_not_ok "$3" "expected anything but $1, got $2"
	fi
}

rc_assert_ge() {
	if [[ $2 =~ ^-?[0-9]+$ ]] && [ "$2" -ge "$1" ]; then
		rc_ok "$3"
	else
		rc_not_ok "$3" "expected >= $1, got $2"
	fi
}

rc_assert_match() {
	if [[ $2 =~ $1 ]]; then
		rc_ok "$3"
	else
		rc_not_ok "$3" "expected match of /$1/, got $2"
	fi
}

rc_assert_ok() {
	local msg=$1 rc=0
	shift
	"$@" || rc=$?
	if [ "$rc" -eq 0 ]; then
		rc_ok "$msg"
	else
		rc_not_ok "$msg" "expected exit 0, got $rc"
	fi
}

rc_assert_fail() {
	local msg=$1 rc=0
	shift
	"$@" || rc=$?
	if [ "$rc" -ne 0 ]; then
		rc_ok "$msg"
	else
		rc_not_ok "$msg" "expected non-zero exit, got 0"
	fi
}

# tests/run.sh names a file in RC_SKIP_LOG: each reason goes there too, for
# its summary to list the checks skipped inside suites that passed.
rc_skip() {
	RC_SKIP=$((RC_SKIP + 1))
	echo "skip - $1"
	[ -z "${RC_SKIP_LOG:-}" ] || echo "$1" >>"$RC_SKIP_LOG"
}

rc_skip_suite() {
	echo "skip: $1"
	if [ "$RC_FAIL" -ne 0 ]; then
		rc_summary
		exit 1
	fi
	[ -z "${RC_SKIP_LOG:-}" ] || echo "$1" >>"$RC_SKIP_LOG"
	exit 77
}

rc_summary() {
	echo "$RC_PASS passed, $RC_FAIL failed$([ "$RC_SKIP" -eq 0 ] || echo ", $RC_SKIP skipped")"
	[ "$RC_FAIL" -eq 0 ] || return 1
	if [ "$RC_PASS" -eq 0 ] && [ "$RC_SKIP" -gt 0 ]; then
		return 77
	fi
	return 0
}

rc_require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "lib.sh: must run as root" >&2
		exit 1
	fi
}
