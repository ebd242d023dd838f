#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# One grammar: every option in the CLI's option tables (replicast --options
# lists them, "PATH --NAME") is explained by `replicast CMD --help`, named in
# `replicast --help`, offered by the bash completion (completion/replicast,
# which asks the program) and documented in man/replicast.8; the limits
# --help prints are the library's constants. Needs neither root nor the
# network (make check runs it).
#   Usage: tests/unit/test_grammar.sh [BUILD]     (BUILD: build, build-san)
set -u
. "$(dirname "$0")/../lib.sh"
rc_setup_traps
cd "$RC_ROOT" || exit 1
b=${1:-${BUILD:-build}}
CLI=$RC_ROOT/$b/replicast
[ -x "$CLI" ] || { echo "test_grammar: no $CLI (make first)" >&2; exit 1; }

# complete LINE: what the completion offers for the end of LINE, one line.
complete_line() {
	bash -c '. completion/replicast; COMP_LINE=$1; COMP_POINT=${#COMP_LINE}; _replicast
		printf "%s\n" "${COMPREPLY[@]}"' complete "$1" | xargs
}

mapfile -t rows < <("$CLI" --options)
rc_assert_ge 25 "${#rows[@]}" "the tables hold the options of every command (${#rows[@]})"
top=$("$CLI" --help)
for row in "${rows[@]}"; do
	path=${row% --*} opt=--${row##* --} cmd=${row%% *}
	# An option line of its own: "  --dev IFNAME   ..." or "  -o, --output FILE".
	rc_assert_match "(^|[[:space:]])$opt([[:space:]]|$)" "$("$CLI" $cmd --help | grep -E '^  -')" \
		"replicast $cmd --help explains $opt ($path)"
	rc_assert_match "(\[|\| )$opt[] ]" "$top" "replicast --help names $opt in '$path'"
	rc_assert_match "(^| )$opt( |$)" "$(complete_line "$CLI $path -")" "completion offers $opt after '$path'"
	rc_assert_match "$(printf '%s' "$opt" | sed 's/-/\\\\-/g')" "$(cat man/replicast.8)" "man/replicast.8 documents $opt ($path)"
done

# Values come from the tables too.
rc_assert_eq "strict loose" "$(complete_line "$CLI group add 10.0.0.1:5 --reverse-path ")" \
	"completion offers --reverse-path's values"
rc_assert_eq "text json prometheus" "$(complete_line "$CLI stats --format ")" \
	"completion offers --format's values"
rc_assert_eq "add del allow disallow set pick" "$(complete_line "$CLI group ")" "completion offers group's verbs"
rc_assert_eq "replicate balance" "$(complete_line "$CLI group add 10.0.0.1:5 --mode ")" \
	"completion offers --mode's values"
rc_assert_eq "source flow" "$(complete_line "$CLI group set 10.0.0.1:5 --hash ")" \
	"completion offers --hash's values"
rc_assert_match "(^| )lo( |$)" "$(complete_line "$CLI load --dev ")" "completion offers interfaces for --dev"
rc_assert_eq "afxdp xdp" "$(complete_line "$CLI send 10.0.0.1:5 --engine ")" \
	"completion offers --engine's values"

# Limits: the library's constants (include/replicast.h), not typed again.
limit() { sed -n "s/^#define $1 (1U << \([0-9]*\))/\1/p; s/^#define $1 \([0-9]*\)$/x\1/p" include/replicast.h |
	awk '/^x/ { print substr($0, 2); next } { print 2 ^ $0 }'; }
help=$("$CLI" load --help)
rc_assert_match "default $(limit REPLICAST_DEFAULT_MAX_GROUPS), at[[:space:]]+most $(limit REPLICAST_MAX_GROUPS_LIMIT)" \
	"$(printf '%s' "$help" | tr '\n' ' ')" "load --help: --max-groups' default and limit are the header's"
rc_assert_match "default $(limit REPLICAST_DEFAULT_TTL)" "$("$CLI" group --help | tr '\n' ' ' | tr -s ' ')" \
	"group --help: --ttl's default is the header's"
rc_assert_match "at most $(limit REPLICAST_MAX_PORT_RANGE) ports" "$("$CLI" group --help | tr '\n' ' ' | tr -s ' ')" \
	"group --help: a port range's limit is the header's"
out=$("$CLI" load --dev lo --max-subs $(($(limit REPLICAST_MAX_SUBS_LIMIT) + 1)) 2>&1)
rc_assert_eq 2 $? "--max-subs one over the limit is a usage error"
rc_assert_match "over the limit of $(limit REPLICAST_MAX_SUBS_LIMIT) subscribers per group" "$out" \
	"... naming the header's limit"
rc_summary
