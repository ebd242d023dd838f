#!/usr/bin/env bash
# san: yes
# The XDP engine's failure paths, by fault injection (test_engine faults):
# open when the ring or the control lines cannot be mapped fails cleanly
# (no use of MAP_FAILED on the way out), and close waits for a thread that
# takes longer to stop than it warns after, instead of freeing what the
# thread still uses (the sanitizers see any use of freed memory).
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
TOOL=$RC_ROOT/$BUILD/tests/test_engine

topo_build 1 || exit 1
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN" --no-inject
G=10.77.100.1:5000
rc_assert_ok "group add $G" $RC group add $G
rc_assert_ok "sub add 10.77.1.2:6000" $RC sub add $G 10.77.1.2:6000
topo_sink 1 10.77.1.2:6000 100 --size 100
out=$(rc_in "$TOPO_RELAY" timeout 60 "$TOOL" faults --pin "$TOPO_PIN" --group $G 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
rc_assert_eq 0 $rc "test_engine faults: every check passed, no sanitizer report"
rc_assert_match "0 failed" "$out" "and it ran to its summary"
topo_sink_wait 1 6000
rc_assert_eq 0 $? "the receiver got the 100 packets sent between the faults"
rc_assert_ok "unload" $RC unload
rc_summary
