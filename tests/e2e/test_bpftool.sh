#!/usr/bin/env bash
# The README's bpftool recipe, run verbatim: list groups, add a subscriber,
# remove it, with bpftool, ip and jq alone, while the CLI's view and the
# traffic agree at every step.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 2 || exit 1
G=10.77.100.1:5000

recipe=$(sed -n '/bpftool-recipe:begin/,/bpftool-recipe:end/p' "$RC_ROOT/README.md" | sed '/^<!--/d;/^```/d')
head_part=$(printf '%s\n' "$recipe" | sed '/^# 1\./,$d')
lock_part=$(printf '%s\n' "$recipe" | sed -n '/^# Writers/,/^flock 9/p')
list_add=$(printf '%s\n' "$recipe" | sed '/^# 3\./,$d')
remove=$(printf '%s\n%s\n%s\n' "$head_part" "$lock_part" "$(printf '%s\n' "$recipe" | sed -n '/^# 3\./,$p')")
rc_assert_ne "" "$remove" "the README has the recipe"

run_recipe() {
	rc_in "$TOPO_RELAY" env PIN="$TOPO_PIN" MAP="$TOPO_PIN/subscribers/10_77_100_1:5000" \
		DEV="${TOPO_RELAY_DEV[2]}" DEST=10.77.2.2 PORT=6000 SOURCE=10.77.2.1 bash -e -c "$1"
}

rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"
rc_assert_ok "group add" $RC group add $G --allow-source 10.77.0.1
rc_assert_ok "sub add (CLI)" $RC sub add $G 10.77.1.2:6000
out=$(run_recipe "$list_add")
rc_assert_eq 0 $? "recipe steps 1 and 2 run"
rc_assert_match '"port": 5000' "$out" "step 1 lists the group with its port"
rc_assert_eq '["10.77.1.2:6000","10.77.2.2:6000"]' "$($RC list --json | jq -c '[.groups[0].subscribers[].dest]')" \
	"the CLI sees the bpftool-added subscriber"
rc_assert_eq '"10.77.2.1"' "$($RC list --json | jq '.groups[0].subscribers[1].source')" "with its source"

topo_sink 1 10.77.1.2:6000 500 --size 300 --from 10.77.1.1 --capture "${TOPO_RX_DEV[1]}" --require-full-csum
topo_sink 2 10.77.2.2:6000 500 --size 300 --from 10.77.2.1 --capture "${TOPO_RX_DEV[2]}" --require-full-csum
rc_assert_ok "send 500" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G --count 500 --size 300 --rate 10000
topo_sink_wait 1 6000
rc_assert_eq 0 $? "the CLI-added subscriber got all 500"
topo_sink_wait 2 6000
rc_assert_eq 0 $? "the bpftool-added subscriber got all 500 from its first, checksums valid"

rc_assert_ok "recipe step 3 runs" run_recipe "$remove"
rc_assert_eq '["10.77.1.2:6000"]' "$($RC list --json | jq -c '[.groups[0].subscribers[].dest]')" \
	"the CLI no longer lists it"
topo_sink 1 10.77.1.2:6000 300 --size 300 --first 500 --seed 0
topo_sink 2 10.77.2.2:6000 0 --size 300 --timeout-ms 1500
rc_assert_ok "send 300 more" rc_in "$TOPO_SRC" "$RC_BIN/rc_blast" --to $G --count 300 --size 300 \
	--rate 10000 --first 500
topo_sink_wait 1 6000
rc_assert_eq 0 $? "the remaining subscriber got the next 300"
topo_sink_wait 2 6000
rc_assert_eq 0 $? "the removed subscriber got nothing"
# The recipe takes the writers' lock: while another writer holds it, the
# recipe's add waits, so the two never pick the same slot.
add_only=$(printf '%s\n' "$list_add" | sed '/^# 1\./,/^$/d')
G2=10.77.100.10:5000
$RC group add $G2 --allow-source 10.77.0.1 >/dev/null
flock "$TOPO_PIN" sleep 2 &
holder=$!
sleep 0.3
start=$(date +%s%N)
rc_in "$TOPO_RELAY" env PIN="$TOPO_PIN" MAP="$TOPO_PIN/subscribers/10_77_100_10:5000" \
	DEV="${TOPO_RELAY_DEV[2]}" DEST=10.77.2.2 PORT=6000 SOURCE=10.77.2.1 \
	bash -e -c "$add_only" >/dev/null 2>&1
waited_ms=$((($(date +%s%N) - start) / 1000000))
wait $holder
rc_assert_ge 1200 $waited_ms "the recipe's add waited for the lock another writer held (${waited_ms} ms)"
rc_assert_eq 1 "$($RC list --json | jq "[.groups[] | select(.group==\"$G2\") | .subscribers[]] | length")" \
	"... and then added its subscriber"
rc_summary
