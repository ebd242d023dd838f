#!/usr/bin/env bash
# san: yes
# A two-level relay tree configured only through etcd, by one agent per
# relay. A stream reaches every receiver exactly once, in order; a change
# in etcd takes effect within a second, atomically (nobody else loses or
# doubles a packet); packets keep flowing while etcd is down and a change
# made once it is back is applied; a killed agent's relay keeps forwarding
# and its status expires; a bad configuration changes nothing and its line
# is in the status.
#
#   ctl (etcd 10.80.25K.1) ──veth── relay K's 10.80.25K.2 (K = 1 l1, 2 l2a, 3 l2b)
#   src 10.80.0.1 ── l1 (group 10.80.100.1:5000)
#                    ├── l2a (group 10.80.101.1:5000) ── rx1 rx2 rx3 (rx7 spare)
#                    └── l2b (group 10.80.102.1:5000) ── rx4 rx5 rx6
set -u
. "$(dirname "$0")/../lib.sh"
rc_require_root
rc_setup_traps
. "$(dirname "$0")/agent_lib.sh"
RC="$RC_ROOT/$BUILD/replicast"

AGENT_CTL=$(rc_name ctl)
SRC=$(rc_name src)
declare -A NS PIN
for r in l1 l2a l2b; do
	NS[$r]=$(rc_name "$r")
	PIN[$r]=/sys/fs/bpf/rc-agent-$r-$RC_ID
done
unload_all() {
	local r
	for r in l1 l2a l2b; do
		[ -d "${PIN[$r]}" ] && rc_in "${NS[$r]}" "$RC" --pin-path "${PIN[$r]}" unload
		rm -rf "${PIN[$r]}"
	done
}
trap 'unload_all; rc_cleanup' EXIT

# ---- Usage ----------------------------------------------------------------
rc=0; out=$("$RC" agent --prefix /x/ 2>&1) || rc=$?
rc_assert_eq "2 replicast: agent: which etcd? give --etcd URL (or \$REPLICAST_ETCD)" "$rc $out" \
	"agent without --etcd: a usage error naming what to give"
rc=0; out=$("$RC" agent --etcd http://127.0.0.1:1 --prefix /x/ --ttl 3 --interval 3 2>&1) || rc=$?
rc_assert_eq 2 "$rc" "--interval not below --ttl: a usage error"
rc_assert_match "must be less than --ttl 3" "$out" "... saying why"
rc=0; out=$("$RC" agent --etcd 10.0.0.1:2379 --prefix /x/ 2>&1) || rc=$?
rc_assert_eq "2 replicast: agent: an etcd URL starts with http:// or https:// (e.g. http://10.0.0.1:2379)" \
	"$rc $out" "a URL without its scheme: a usage error with an example"
rc_assert_match "^Usage: replicast fleet status" "$("$RC" fleet status --help)" "fleet status --help"
rc=0; "$RC" fleet stat >/dev/null 2>&1 || rc=$?
rc_assert_eq 2 "$rc" "fleet with an unknown verb: a usage error"

# ---- Topology -----------------------------------------------------------
rc_ns_add "$AGENT_CTL" && rc_ns_add "$SRC" || exit 1
k=0
for r in l1 l2a l2b; do
	k=$((k + 1))
	rc_ns_add "${NS[$r]}" || exit 1
	rc_veth "$(rc_name c$k)" "$AGENT_CTL" "$(rc_name e$k)" "${NS[$r]}" || exit 1
	rc_addr "$AGENT_CTL" "$(rc_name c$k)" "10.80.25$k.1/24"
	rc_addr "${NS[$r]}" "$(rc_name e$k)" "10.80.25$k.2/24"
	ETCD_URL[$k]=http://10.80.25$k.1:2379
	# Relays do not route: replicast sends its own copies.
	rc_in "${NS[$r]}" sysctl -qw net.ipv4.conf.all.forwarding=0
done
rc_veth "$(rc_name so)" "$SRC" "$(rc_name l1i)" "${NS[l1]}" || exit 1
rc_addr "$SRC" "$(rc_name so)" 10.80.0.1/24
rc_addr "${NS[l1]}" "$(rc_name l1i)" 10.80.0.254/24
rc_in "$SRC" ip route add 10.80.100.0/24 via 10.80.0.254
rc_in "$SRC" ethtool -K "$(rc_name so)" tx off >/dev/null
j=0
for r in l2a l2b; do
	j=$((j + 1))
	rc_veth "$(rc_name l1o$j)" "${NS[l1]}" "$(rc_name ${r}i)" "${NS[$r]}" || exit 1
	rc_addr "${NS[l1]}" "$(rc_name l1o$j)" "10.80.$j.1/24"
	rc_addr "${NS[$r]}" "$(rc_name ${r}i)" "10.80.$j.2/24"
	rc_in "${NS[l1]}" ip route add "10.80.10$j.0/24" via "10.80.$j.2"
done
# Receivers 1-3 and 7 behind l2a, 4-6 behind l2b; receiver I is 10.80.1I.2.
declare -A RX RX_OF
for i in 1 2 3 7 4 5 6; do
	case $i in [1237]) r=l2a ;; *) r=l2b ;; esac
	RX[$i]=$(rc_name x$i)
	RX_OF[$i]=$r
	rc_ns_add "${RX[$i]}" || exit 1
	rc_veth "$(rc_name ${r}o$i)" "${NS[$r]}" "$(rc_name xa$i)" "${RX[$i]}" || exit 1
	rc_addr "${NS[$r]}" "$(rc_name ${r}o$i)" "10.80.1$i.1/24"
	rc_addr "${RX[$i]}" "$(rc_name xa$i)" "10.80.1$i.2/24"
done

# ---- Configurations, in the format replicast save writes --------------------
ROOT=/rc-$RC_ID/
l1_conf() {
	cat <<EOF
load --dev $(rc_name l1i) --no-inject
group add 10.80.100.1:5000 --allow-source 10.80.0.0/24
sub add 10.80.100.1:5000 10.80.101.1:5000
sub add 10.80.100.1:5000 10.80.102.1:5000
EOF
}
# l2_conf RELAY GROUP RECEIVER...
l2_conf() {
	local r=$1 g=$2 i
	shift 2
	echo "load --dev $(rc_name ${r}i) --no-inject"
	echo "group add $g --allow-source 10.80.0.0/16"
	for i in "$@"; do
		echo "sub add $g 10.80.1$i.2:7000"
	done
}
put() { ectl put "$ROOT$1/config" >/dev/null; }

mkdir -p "$RC_TMP/etcd"
rc_assert_ok "etcd starts in the control namespace" \
	agent_etcd_start "$AGENT_CTL" "$RC_TMP/etcd/data" http://127.0.0.1:2379 \
	"${ETCD_URL[1]}" "${ETCD_URL[2]}" "${ETCD_URL[3]}"
l1_conf | put l1
l2_conf l2a 10.80.101.1:5000 1 2 3 | put l2a
l2_conf l2b 10.80.102.1:5000 4 5 6 | put l2b
k=0
for r in l1 l2a l2b; do
	k=$((k + 1))
	agent_start "$r" "${NS[$r]}" "${PIN[$r]}" --etcd "${ETCD_URL[$k]}" --prefix "$ROOT$r/" \
		--ttl 3 --interval 1
done
for r in l1 l2a l2b; do
	rc_assert_ok "$r's agent applies its configuration from etcd" \
		wait_applied "$ROOT$r/" "$(config_rev "$ROOT$r/")" 10
done
# fleet status runs in the control namespace, where etcd's loopback is.
fleet=$(rc_in "$AGENT_CTL" "$RC" fleet status --etcd http://127.0.0.1:2379 --prefix "$ROOT" --json)
rc_assert_eq "${ROOT}l1/ ${ROOT}l2a/ ${ROOT}l2b/" "$(jq -r '[.[].relay] | join(" ")' <<<"$fleet")" \
	"fleet status lists the three relays"
rc_assert_eq "1 2 / 1 3 / 1 3" "$(jq -r '[.[] | "\(.groups) \(.subscribers)"] | join(" / ")' <<<"$fleet")" \
	"... with their groups and subscribers"
rc_assert_eq "null null null" "$(jq -r '[.[].error | tostring] | join(" ")' <<<"$fleet")" \
	"... and no error"

# ---- A stream through the tree ------------------------------------------------
# sink I COUNT: receiver I checks COUNT packets in order, recording them.
declare -A SINK
sink() {
	local i=$1 n=$2
	shift 2
	rm -f "$RC_TMP/ready-$i"
	rc_bg "${RX[$i]}" timeout 60 "$RC_BIN/rc_sink" --listen "10.80.1$i.2:7000" --expect "$n" \
		--report "$RC_TMP/sink-$i" --record "$RC_TMP/rec-$i" \
		--ready-file "$RC_TMP/ready-$i" "$@" >/dev/null
	SINK[$i]=$RC_BG_PID
	rc_wait_ready "$RC_TMP/ready-$i" 10
}
blast() {
	rc_in "$SRC" timeout 60 "$RC_BIN/rc_blast" --to 10.80.100.1:5000 --bind 10.80.0.1 "$@" \
		>/dev/null
}
# sinks_ok WHAT I...: each receiver got its whole stream, once, in order.
sinks_ok() {
	local what=$1 i rc
	shift
	for i in "$@"; do
		rc=0
		rc_wait_pid "${SINK[$i]}" 30 || rc=$?
		if [ "$rc" -eq 0 ]; then
			rc_ok "$what: receiver $i got every packet once, in order"
		else
			rc_not_ok "$what: receiver $i got every packet once, in order" \
				"$(cat "$RC_TMP/sink-$i" 2>/dev/null)"
		fi
	done
}

for i in 1 2 3 4 5 6; do sink $i 2000; done
rc_assert_ok "the source sends 2000 packets" blast --count 2000 --rate 2000
sinks_ok "through l1 and l2a/l2b" 1 2 3 4 5 6

# ---- A change while the stream flows ----------------------------------------------
# l2a: receiver 3 leaves, 7 joins; both record what they get, the others
# must see the whole stream.
N=6000
for i in 1 2 4 5 6; do sink $i $N; done
sink 3 $N --timeout-ms 20000
sink 7 $N --timeout-ms 20000
tb=${EPOCHREALTIME/[.,]/}
blast --count $N --rate 2000 &
BLAST=$!
rc_track_pid "$BLAST"
sleep 1
before=$(config_rev "${ROOT}l2a/")
t0=${EPOCHREALTIME/[.,]/}
l2_conf l2a 10.80.101.1:5000 1 2 7 | put l2a
rev=$(config_rev "${ROOT}l2a/")
rc_assert_ok "l2a's agent applies the new revision" wait_applied "${ROOT}l2a/" "$rev" 3
t1=${EPOCHREALTIME/[.,]/}
ms=$(((10#$t1 - 10#$t0) / 1000))
rc_assert_ge 0 $((1000 - ms)) "... within a second of the put (took ${ms} ms)"
rc_assert_ok "the source sends all $N" rc_wait_pid "$BLAST" 30
sinks_ok "during the change" 1 2 4 5 6
rc_wait_pid "${SINK[3]}" 30 >/dev/null
rc_wait_pid "${SINK[7]}" 30 >/dev/null
got3=$(wc -l <"$RC_TMP/rec-3")
got7=$(wc -l <"$RC_TMP/rec-7")
rc_assert_eq $N $((got3 + got7)) "receivers 3 and 7 got $N between them ($got3 + $got7)"
rc_assert_eq "0-$((got3 - 1))" "$(head -n1 "$RC_TMP/rec-3")-$(tail -n1 "$RC_TMP/rec-3")" \
	"receiver 3 got the packets up to the switch"
rc_assert_eq "$got3-$((N - 1))" "$(head -n1 "$RC_TMP/rec-7")-$(tail -n1 "$RC_TMP/rec-7")" \
	"receiver 7 got every packet after it: each went to the old set or the new one"
rc_assert_eq "$N" "$(sort -n -u "$RC_TMP/rec-3" "$RC_TMP/rec-7" | wc -l)" "none of them twice"
# At 2000 packets/s the source was near sequence number (t0 - tb) / 500 us at
# the put; receiver 7's first packet may come at most a second (2000) later.
at_put=$(((10#$t0 - 10#$tb) / 500))
rc_assert_ge 0 $((at_put + 2000 - got3)) \
	"the switch reached the packets within a second of the put (at sequence $got3, the put near $at_put)"

# ---- etcd goes away -----------------------------------------------------------
agent_etcd_stop
for i in 1 2 7 4 5 6; do sink $i 1000; done
rc_assert_ok "etcd is down: the source sends 1000 packets" blast --count 1000 --rate 2000
sinks_ok "etcd down" 1 2 7 4 5 6
for r in l1 l2a l2b; do
	rc_assert_ok "$r's agent is still running" kill -0 "${AGENT_PID[$r]}"
done
rc_assert_match "retrying" "$(cat "$RC_TMP/agent-l2b.log")" "l2b's agent says it keeps retrying"
rc_assert_ok "etcd starts again" \
	agent_etcd_start "$AGENT_CTL" "$RC_TMP/etcd/data" http://127.0.0.1:2379 \
	"${ETCD_URL[1]}" "${ETCD_URL[2]}" "${ETCD_URL[3]}"
l2_conf l2b 10.80.102.1:5000 4 5 | put l2b
rev=$(config_rev "${ROOT}l2b/")
rc_assert_ok "a change made once etcd is back is applied" wait_applied "${ROOT}l2b/" "$rev" 8
rc_assert_eq "10.80.14.2:7000 10.80.15.2:7000" \
	"$(rc_in "${NS[l2b]}" "$RC" --pin-path "${PIN[l2b]}" list --json |
		jq -r '[.groups[].subscribers[].dest] | sort | join(" ")')" \
	"... l2b now sends to receivers 4 and 5 only"

# ---- An agent dies ---------------------------------------------------------------
# No "Killed" from bash about the job; cleanup still finds it by its PID.
disown "${AGENT_TIMEOUT_PID[l2b]}" 2>/dev/null
kill -KILL "${AGENT_PID[l2b]}"
for i in 4 5; do sink $i 1000; done
rc_assert_ok "l2b's agent is dead: the source sends 1000 packets" blast --count 1000 --rate 2000
sinks_ok "l2b without its agent" 4 5
gone=no
for ((w = 0; w < 100; w++)); do
	[ -z "$(ectl get "${ROOT}l2b/status" --print-value-only)" ] && { gone=yes; break; }
	sleep 0.1
done
rc_assert_eq yes "$gone" "l2b's status key expires with its lease"
fleet=$(rc_in "$AGENT_CTL" "$RC" fleet status --etcd http://127.0.0.1:2379 --prefix "$ROOT" --json)
rc_assert_eq "${ROOT}l1/ ${ROOT}l2a/" "$(jq -r '[.[].relay] | join(" ")' <<<"$fleet")" \
	"fleet status lists the two relays left"

# ---- A bad configuration ------------------------------------------------------------
saved=$(rc_in "${NS[l2a]}" "$RC" --pin-path "${PIN[l2a]}" save)
before=$(status_field "${ROOT}l2a/" .applied_revision)
{ l2_conf l2a 10.80.101.1:5000 1; echo "sub add 10.80.101.1:5000 10.80.12.2:70000"; } | put l2a
rev=$(config_rev "${ROOT}l2a/")
err=
for ((w = 0; w < 60; w++)); do
	err=$(status_field "${ROOT}l2a/" '.error // empty')
	[ -n "$err" ] && break
	sleep 0.05
done
rc_assert_match "revision $rev not applied: ${ROOT}l2a/config:4: " "$err" \
	"l2a's status names the revision and the bad line"
rc_assert_eq "$before" "$(status_field "${ROOT}l2a/" .applied_revision)" \
	"... and still says the revision before it is applied"
rc_assert_eq "$saved" "$(rc_in "${NS[l2a]}" "$RC" --pin-path "${PIN[l2a]}" save)" \
	"... which is what runs: nothing changed"
fleet=$(rc_in "$AGENT_CTL" "$RC" fleet status --etcd http://127.0.0.1:2379 --prefix "$ROOT")
rc_assert_match "config:4: " "$fleet" "fleet status shows the error"
fleet=$(rc_in "$AGENT_CTL" "$RC" fleet status --etcd http://127.0.0.1:2379 --prefix "$ROOT" --json)
rc_assert_eq "$(rc_in "${NS[l1]}" "$RC" --pin-path "${PIN[l1]}" stats --json |
		jq -c '[([.groups[].received.packets] | add), ([.groups[].sent.packets] | add)]')" \
	"$(jq -c ".[] | select(.relay == \"${ROOT}l1/\") | [.packets_in, .copies_out]" <<<"$fleet")" \
	"fleet status shows l1's packets in and copies out as its replicast stats --json counts them"

# ---- Quick changes ------------------------------------------------------------
# Three puts in a row: whatever is applied on the way, the last one runs.
l2_conf l2a 10.80.101.1:5000 1 | put l2a
l2_conf l2a 10.80.101.1:5000 1 2 | put l2a
l2_conf l2a 10.80.101.1:5000 2 7 1 | put l2a
rev=$(config_rev "${ROOT}l2a/")
rc_assert_ok "three quick changes: l2a ends at the last revision" wait_applied "${ROOT}l2a/" "$rev" 3
rc_assert_eq "10.80.11.2:7000 10.80.12.2:7000 10.80.17.2:7000" \
	"$(rc_in "${NS[l2a]}" "$RC" --pin-path "${PIN[l2a]}" list --json |
		jq -r '[.groups[].subscribers[].dest] | sort | join(" ")')" \
	"... and runs what it says"
rc_assert_eq "null" "$(status_field "${ROOT}l2a/" .error)" "... and the earlier error is cleared"

# ---- The key deleted -------------------------------------------------------------
saved=$(rc_in "${NS[l2a]}" "$RC" --pin-path "${PIN[l2a]}" save)
ectl del "${ROOT}l2a/config" >/dev/null
err=
for ((w = 0; w < 60; w++)); do
	err=$(status_field "${ROOT}l2a/" '.error // empty')
	[ -n "$err" ] && break
	sleep 0.05
done
rc_assert_match "config was deleted; the running state stays" "$err" \
	"l2a's configuration deleted: its status says so"
rc_assert_eq "$saved" "$(rc_in "${NS[l2a]}" "$RC" --pin-path "${PIN[l2a]}" save)" \
	"... and nothing changed"

# ---- SIGTERM -------------------------------------------------------------------------
kill -TERM "${AGENT_PID[l1]}"
rc=0
rc_wait_pid "${AGENT_TIMEOUT_PID[l1]}" 5 || rc=$?
rc_assert_eq 0 "$rc" "SIGTERM ends l1's agent with exit 0"
rc_assert_ok "... and its replicator stays" test -d "${PIN[l1]}"
# Under BUILD=build-san the agents' logs carry any ASan/UBSan/leak report.
rc_assert_eq "" "$(grep -h -m1 -e 'Sanitizer' -e 'runtime error' "$RC_TMP"/agent-*.log)" \
	"no sanitizer report from any agent"
rc_summary
