# shellcheck shell=bash
# Helpers for the tests of `replicast agent` and `replicast fleet`, sourced
# after tests/lib.sh: an etcd started by the test in a control namespace,
# etcdctl against it, agents started in relay namespaces, and waits on what
# the agents write. Every wait is bounded.
#
#   agent_etcd_start NS DIR URL...   etcd in NS (data in DIR), client URLs;
#                                    $AGENT_ETCD_PID, waits until it answers
#   ectl ARGS...                     etcdctl in $AGENT_CTL ($AGENT_ECTL_OPTS)
#   agent_start NAME NS PIN ARGS...  replicast agent in NS, pins at PIN;
#                                    $AGENT_PID[NAME] (the agent itself)
#   config_rev PREFIX                mod_revision of PREFIXconfig
#   status_field PREFIX JQ           jq JQ over PREFIXstatus ("" if absent)
#   wait_applied PREFIX REV SECONDS  until PREFIXstatus says applied_revision REV

BUILD=${BUILD:-build}
AGENT_ETCD_PID=
declare -A AGENT_PID

agent_etcd_start() {
	local ns=$1 dir=$2 i
	shift 2
	local urls
	urls=$(IFS=,; echo "$*")
	# Peer URL on loopback: a one-member cluster talks to nobody.
	rc_bg "$ns" timeout 120 etcd --name rc --data-dir "$dir" \
		--listen-client-urls "$urls" --advertise-client-urls "$1" \
		--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster rc=http://127.0.0.1:2380 ${AGENT_ETCD_OPTS:-} \
		>>"$dir.log" 2>&1
	AGENT_ETCD_PID=$RC_BG_PID
	for ((i = 0; i < 100; i++)); do
		ectl endpoint health >/dev/null 2>&1 && return 0
		kill -0 "$AGENT_ETCD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "agent_lib: etcd did not come up; its log:" >&2
	tail -n 20 "$dir.log" >&2
	return 1
}

agent_etcd_stop() {
	kill -TERM "$AGENT_ETCD_PID" 2>/dev/null
	rc_wait_pid "$AGENT_ETCD_PID" 10 >/dev/null 2>&1
	AGENT_ETCD_PID=
}

ectl() {
	# shellcheck disable=SC2086
	rc_in "$AGENT_CTL" timeout 10 etcdctl --dial-timeout=2s --command-timeout=5s \
		${AGENT_ECTL_OPTS:---endpoints=http://127.0.0.1:2379} "$@"
}

agent_start() {
	local name=$1 ns=$2 pin=$3 log
	shift 3
	log=$RC_TMP/agent-$name.log
	rc_bg "$ns" timeout 120 "$RC_ROOT/$BUILD/replicast" --pin-path "$pin" agent "$@" \
		>>"$log" 2>&1
	AGENT_TIMEOUT_PID[$name]=$RC_BG_PID
	# timeout(1) runs the agent as its child: that is the one to kill -9.
	local i
	for ((i = 0; i < 50; i++)); do
		AGENT_PID[$name]=$(pgrep -P "$RC_BG_PID" | head -n 1)
		[ -n "${AGENT_PID[$name]}" ] && return 0
		sleep 0.05
	done
	return 1
}
declare -A AGENT_TIMEOUT_PID

config_rev() {
	ectl get "${1}config" -w json | jq -r '.kvs[0].mod_revision // 0'
}

status_field() {
	local v
	v=$(ectl get "${1}status" --print-value-only 2>/dev/null)
	[ -n "$v" ] || return 0
	jq -r "$2" <<<"$v" 2>/dev/null
}

wait_applied() {
	local prefix=$1 rev=$2 secs=$3 i got=
	for ((i = 0; i < secs * 20; i++)); do
		got=$(status_field "$prefix" .applied_revision)
		[ "$got" = "$rev" ] && return 0
		sleep 0.05
	done
	echo "agent_lib: ${prefix}status: applied_revision ${got:-absent}, waited for $rev" >&2
	return 1
}
