#!/usr/bin/env bash
# san: yes
# Metrics as monitoring reads them: `stats --format prometheus` parses with
# the Prometheus client library's own parser and every number equals `stats
# --json` (per group, per subscriber, per drop reason), with counter names
# ending in _total; `stats --watch` shows live rates, refreshes in place on a
# terminal, stops at once on Ctrl-C, and says so when replicast is unloaded.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 2 || exit 1
G4=10.77.100.1:5000
G6=[fd77:100::1]:5000
CLI="$RC_ROOT/$BUILD/replicast"
T=$RC_TMP
# Debian's python3-prometheus-client, whatever python3 comes first on PATH.
PY=/usr/bin/python3

rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN" --no-inject
GL=10.77.100.2:5000	# capped at 100 packets/s
GD=10.77.100.3:5000	# no allowed source
rc_assert_ok "group add $G4" $RC group add $G4 --allow-source 10.77.0.1
rc_assert_ok "sub add" $RC sub add $G4 10.77.1.2:6000
rc_assert_ok "sub add" $RC sub add $G4 10.77.2.2:6000
# Nobody answers for 10.77.1.99: each copy to it is a counted drop.
rc_assert_ok "sub add, next hop that never answers" $RC sub add $G4 10.77.1.99:6000 2>/dev/null
rc_assert_ok "group add $G6" $RC group add $G6 --allow-source fd77::/64
rc_assert_ok "sub add IPv6" $RC sub add $G6 [fd77:1::2]:6000
rc_assert_ok "group add $GL --max-pps 100" $RC group add $GL --allow-source 10.77.0.1 --max-pps 100
rc_assert_ok "sub add" $RC sub add $GL 10.77.2.2:6100
rc_assert_ok "group add $GD, nobody allowed" $RC group add $GD
rc_assert_ok "sub add" $RC sub add $GD 10.77.2.2:6200
rc_assert_ok "send 1000 to $G4" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G4 --count 1000 --size 300
rc_assert_ok "send 300 to $G6" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G6 --count 300 --size 100
rc_assert_ok "send 7 IPv6 packets without UDP checksum" \
	rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G6 --count 7 --size 100 --udp-csum zero
rc_assert_ok "send 500 to $GL at once" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $GL --count 500 --size 100
rc_assert_ok "send 50 to $GD" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $GD --count 50 --size 100

# -- Prometheus text format ------------------------------------------------
$RC stats --format prometheus >"$T/metrics.prom"
rc_assert_eq 0 $? "stats --format prometheus"
$RC stats --json >"$T/stats.json"
out=$("$PY" - "$T/metrics.prom" "$T/stats.json" <<'EOF'
# Parses the exposition with prometheus_client's parser and compares every
# sample with stats --json; prints one line per mismatch, then "checked N".
import json, sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1]).read()
js = json.load(open(sys.argv[2]))
samples, problems = {}, []
for fam in text_string_to_metric_families(text):
    if not fam.documentation:
        problems.append(f"{fam.name}: no HELP")
    for s in fam.samples:
        if fam.type == "counter" and not s.name.endswith("_total"):
            problems.append(f"{s.name}: a counter without _total")
        if fam.type not in ("counter", "gauge"):
            problems.append(f"{s.name}: type {fam.type}")
        samples[(s.name, tuple(sorted(s.labels.items())))] = s.value

def want(name, value, **labels):
    key = (name, tuple(sorted(labels.items())))
    got = samples.pop(key, None)
    if got != value:
        problems.append(f"{name}{labels}: expected {value}, got {got}")

want("replicast_groups", len(js["groups"]))
want("replicast_relay_engine_running", 1 if js["relay_engine"] else 0)
for g in js["groups"]:
    grp = g["group"]
    want("replicast_group_subscribers", len(g["subscribers"]), group=grp)
    want("replicast_group_received_packets_total", g["received"]["packets"], group=grp)
    want("replicast_group_received_bytes_total", g["received"]["bytes"], group=grp)
    want("replicast_group_sent_packets_total", g["sent"]["packets"], group=grp)
    want("replicast_group_sent_bytes_total", g["sent"]["bytes"], group=grp)
    want("replicast_group_source_denied_packets_total", g["source_denied"], group=grp)
    want("replicast_group_rate_limited_packets_total", g["rate_limited"], group=grp)
    want("replicast_group_skipped_packets_total", g["skipped"], group=grp)
    for s in g["subscribers"]:
        lab = dict(group=grp, subscriber=s["dest"])
        want("replicast_subscriber_sent_packets_total", s["packets"], **lab)
        want("replicast_subscriber_sent_bytes_total", s["bytes"], **lab)
        want("replicast_subscriber_dropped_packets_total", s["dropped"], **lab)
        want("replicast_subscriber_skipped_packets_total", s["skipped"], **lab)
        want("replicast_subscriber_unreachable_total", s["unreachable"], **lab)
        want("replicast_subscriber_held_off", 1 if s["held_off"] else 0, **lab)
for reason, n in js["drops"].items():
    want("replicast_dropped_packets_total", n, reason=reason)
for key in samples:
    if not key[0].endswith("_limit"):
        problems.append(f"{key}: not in stats --json")
for p in problems:
    print(p)
print("samples left:", sorted(k[0] for k in samples))
EOF
)
rc_assert_eq 0 $? "the Prometheus client library parses the output"
rc_assert_eq "samples left: ['replicast_group_subscribers_limit', 'replicast_groups_limit']" "$out" \
	"every sample equals stats --json, counters end in _total, every family has HELP"
# What an operator would check by eye, from the text itself.
metric() { grep -F "$1" "$T/metrics.prom" | awk '{print $NF}'; }
rc_assert_eq 1000 "$(metric "replicast_group_received_packets_total{group=\"$G4\"}")" "1000 packets received by $G4"
rc_assert_eq 2000 "$(metric "replicast_group_sent_packets_total{group=\"$G4\"}")" "2000 copies from $G4"
rc_assert_eq 1000 "$(metric "replicast_subscriber_sent_packets_total{group=\"$G4\",subscriber=\"10.77.2.2:6000\"}")" \
	"1000 copies to 10.77.2.2:6000"
rc_assert_eq 1000 "$(metric "replicast_subscriber_dropped_packets_total{group=\"$G4\",subscriber=\"10.77.1.99:6000\"}")" \
	"1000 copies to the silent next hop dropped"
rc_assert_eq $((300 * (100 + 62))) "$(metric "replicast_group_received_bytes_total{group=\"$G6\"}")" \
	"bytes in base units: 300 IPv6 frames of 162 bytes"
rc_assert_eq 7 "$(metric 'replicast_dropped_packets_total{reason="udp6_zero_checksum"}')" \
	"7 dropped for a zero UDP checksum"
rc_assert_eq 1000 "$(metric 'replicast_dropped_packets_total{reason="no_neighbour"}')" "1000 for no neighbour"
rc_assert_eq 50 "$(metric "replicast_group_source_denied_packets_total{group=\"$GD\"}")" \
	"50 refused for a source not allowed"
received=$(metric "replicast_group_received_packets_total{group=\"$GL\"}")
limited=$(metric "replicast_group_rate_limited_packets_total{group=\"$GL\"}")
rc_assert_eq 500 $((received + limited)) "the capped group took $received and refused $limited of 500"
rc_assert_ge 1 "$limited" "the cap refused some"
rc_assert_eq 1 "$(grep -c '^# TYPE replicast_group_received_packets_total counter$' "$T/metrics.prom")" \
	"one TYPE line per family"

# -- --watch -----------------------------------------------------------------
# 3000 packets at 2000/s take 1.5 s; two refreshes of 0.5 s fall inside.
topo_sink 1 10.77.1.2:6000 3000 --size 200 --first 1000
rc_bg "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G4 --count 3000 --size 200 --rate 2000 --first 1000
blast=$RC_BG_PID
sleep 0.2
$RC stats --watch 0.5 --count 2 >"$T/watch.txt"
rc_assert_eq 0 $? "stats --watch 0.5 --count 2 stops by itself"
rc_wait_pid $blast 30 >/dev/null
topo_sink_wait 1 6000
rc_assert_eq 2 "$(grep -c '^replicast stats at' "$T/watch.txt")" "two refreshes, one block each off a terminal"
rc_assert_eq 0 "$(grep -c $'\033' "$T/watch.txt")" "no terminal control codes off a terminal"
rate=$(awk -v g="$G4" '$1 == g && $2 == "received" {print $3; exit}' "$T/watch.txt")
rc_assert_match '^(1\.[5-9]|2\.[0-4])k$' "$rate" "the group's rate is about 2.0k packets/s"
rate=$(awk '$1 == "10.77.1.99:6000" {print $4; exit}' "$T/watch.txt")
rc_assert_match '^(1\.[5-9]|2\.[0-4])k$' "$rate" "the silent next hop's drops, about 2.0k/s"
rc_assert_match 'not replicated, per second: no_neighbour (1\.[5-9]|2\.[0-4])k' "$(cat "$T/watch.txt")" \
	"drop reasons with their rates"

# On a terminal: in place, and Ctrl-C ends it at once with exit 0.
out=$("$PY" - nsenter --net=/run/netns/"$TOPO_RELAY" -- "$CLI" --pin-path "$TOPO_PIN" stats --watch 0.3 <<'EOF'
# Runs the command on a pseudo-terminal, lets it refresh, sends SIGINT as
# Ctrl-C would, and reports how it ended.
import os, pty, select, signal, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out, start = b"", time.monotonic()
def read_for(seconds):
    global out
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                out += os.read(fd, 65536)
            except OSError:
                return
read_for(1.2)
os.kill(pid, signal.SIGINT)
sent = time.monotonic()
status = None
while time.monotonic() - sent < 3:
    read_for(0.05)
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
else:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    print("still running 3 s after SIGINT")
    sys.exit(0)
print("exit", os.waitstatus_to_exitcode(status), "after %.1f s" % min(time.monotonic() - sent, 1.0))
print("frames", out.count(b"\x1b[H"), "clear", out.count(b"\x1b[2J"), "erase", out.count(b"\x1b[J"))
EOF
)
# At once: within a second on a busy machine (0.5 s seen), where the next
# refresh is seconds away.
rc_assert_match '^exit 0 after 0\.[0-9] s' "$out" "Ctrl-C ends --watch at once, exit 0"
rc_assert_match 'frames ([3-9]|[1-9][0-9]) clear 1 erase' "$out" "on a terminal each refresh redraws in place from the top"

# An unload under --watch ends it with an error rather than zeros forever.
rc_bg "$TOPO_RELAY" sh -c "exec '$CLI' --pin-path '$TOPO_PIN' stats --watch 0.2 >/dev/null 2>'$T/watch.err'"
watcher=$RC_BG_PID
sleep 0.5
rc_assert_ok "unload" $RC unload
rc_wait_pid $watcher 5
rc_assert_eq 1 $? "--watch exits 1 after an unload"
rc_assert_eq "replicast: stats: replicast was unloaded" "$(cat "$T/watch.err")" "... and says why"

# -- usage -------------------------------------------------------------------
rc_assert_match '^Usage: replicast stats' "$($CLI stats --help)" "stats --help"
for args in "--format xml" "--watch 0" "--watch --json" "--count 3" "--watch=abc"; do
	$CLI stats $args >/dev/null 2>&1
	rc_assert_eq 2 $? "stats $args is a usage error"
done
rc_summary
