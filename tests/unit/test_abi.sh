#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The shared library's ABI is closed: libreplicast.so exports exactly the
# functions include/replicast.h declares, each in a version node of
# user/lib/libreplicast.map, and nothing else; a program with a function of an
# internal's name (rc_cost) keeps its own and the library keeps its. One
# version: the Makefile's, the header's, replicast_version()'s and the CLI's
# --version. Needs neither root nor the network (make check runs it).
#   Usage: tests/unit/test_abi.sh [BUILD]     (BUILD: build, build-san)
set -u
. "$(dirname "$0")/../lib.sh"
rc_setup_traps
cd "$RC_ROOT" || exit 1
b=${1:-${BUILD:-build}}
T=$RC_TMP
VERSION=$(sed -n 's/^VERSION *:= *//p' Makefile)
SO=$b/libreplicast.so.$VERSION
[ -f "$SO" ] || { echo "test_abi: no $SO (make first)" >&2; exit 1; }

# Declared: every replicast_NAME( outside comments (the preprocessor, told
# the file is already preprocessed, drops the comments and nothing else).
${CC:-cc} -fpreprocessed -dD -E -P include/replicast.h |
	grep -oE '\breplicast_[A-Za-z0-9_]+ *\(' | tr -d '( ' | LC_ALL=C sort -u >"$T/declared"
# Exported: the dynamic symbols the object defines, without their version.
nm -D --defined-only "$SO" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' |
	LC_ALL=C sort -u >"$T/exported"
# Listed: the global names of the version script.
sed -e 's,/\*.*\*/,,' -e '/\/\*/,/\*\//d' user/lib/libreplicast.map |
	awk '/global:/ { g = 1; next } /local:/ || /^}/ { g = 0 } g' | tr -d ' \t;' | grep -v '^$' |
	LC_ALL=C sort -u >"$T/listed"

rc_assert_ge 40 "$(wc -l <"$T/declared")" "the header declares the API (parsed: $(wc -l <"$T/declared") functions)"
rc_assert_eq "" "$(LC_ALL=C comm -23 "$T/declared" "$T/exported" | xargs)" \
	"every function of the header is exported by $SO"
rc_assert_eq "" "$(LC_ALL=C comm -13 "$T/declared" "$T/exported" | xargs)" \
	"nothing else is exported (no rc_* internals)"
rc_assert_eq "" "$(LC_ALL=C comm -3 "$T/declared" "$T/listed" | xargs)" \
	"user/lib/libreplicast.map lists exactly the header's functions"
rc_assert_eq "" "$(nm -D --defined-only "$SO" | awk '$2 != "A" && $3 !~ /@@LIBREPLICAST_[0-9.]+$/' | xargs)" \
	"every export carries a LIBREPLICAST_ version"
rc_assert_eq "" "$(nm -D --defined-only "$SO" | awk '$2 != "A" && $2 != "T"' | xargs)" \
	"only functions are exported (no data)"
# The static library still holds the internals the CLI and tests link.
rc_assert_eq "T rc_log" "$(nm "$b/libreplicast.a" 2>/dev/null | awk '$3 == "rc_log" && $2 == "T" { print $2, $3 }')" \
	"libreplicast.a keeps rc_log for static links"

# A program that defines a function named as one of the library's internals:
# replicast_cost() must still reach the library's rc_cost, and the program's
# rc_cost stays the program's.
cat >"$T/own.c" <<'EOF'
#include <stdio.h>
#include <replicast.h>
int rc_cost(void);
int rc_cost(void) { return 4242; }
int main(void)
{
	struct replicast_cost c = { .sz = sizeof(c) };
	int err = replicast_cost(0, 0, &c);
	printf("%d %u %u %d\n", err, c.max_groups, c.max_subs, rc_cost());
	return 0;
}
EOF
san=
readelf -d "$SO" | grep -q 'NEEDED.*libasan' && san="-fsanitize=address,undefined"
# shellcheck disable=SC2086
rc_assert_ok "a program with its own rc_cost links against the shared library" \
	${CC:-cc} $san -Wall -Werror -Iinclude "$T/own.c" -o "$T/own" -L"$b" -lreplicast -Wl,-rpath,"$(cd "$b" && pwd)"
rc_assert_eq "0 1024 4096 4242" "$("$T/own" 2>&1)" "the library uses its rc_cost, the program its own"

# One version everywhere: the Makefile's VERSION, the header's macros, the
# library's replicast_version() and the CLI's --version.
hdr() { sed -n "s/^#define $1 //p" include/replicast.h; }
rc_assert_eq "\"$VERSION\"" "$(hdr REPLICAST_VERSION)" "REPLICAST_VERSION is the Makefile's VERSION ($VERSION)"
rc_assert_eq "$VERSION" "$(hdr REPLICAST_VERSION_MAJOR).$(hdr REPLICAST_VERSION_MINOR).$(hdr REPLICAST_VERSION_PATCH)" \
	"REPLICAST_VERSION_MAJOR.MINOR.PATCH make it up"
rc_assert_eq "LIBREPLICAST_$(sed -n 's/^SOVERSION *:= *//p' Makefile)" \
	"$(sed -n 's/^\(LIBREPLICAST_[0-9]*\) {.*/\1/p' user/lib/libreplicast.map | head -n 1)" \
	"the map's first node is named after the soname's version"
cat >"$T/ver.c" <<'EOF'
#include <stdio.h>
#include <replicast.h>
int main(void)
{
	printf("%s %d.%d.%d\n", replicast_version(), REPLICAST_VERSION_MAJOR, REPLICAST_VERSION_MINOR,
	       REPLICAST_VERSION_PATCH);
	return 0;
}
EOF
# shellcheck disable=SC2086
rc_assert_ok "a program calling replicast_version() builds" \
	${CC:-cc} $san -Wall -Werror -Iinclude "$T/ver.c" -o "$T/ver" -L"$b" -lreplicast -Wl,-rpath,"$(cd "$b" && pwd)"
rc_assert_eq "$VERSION $VERSION" "$("$T/ver" 2>&1)" "replicast_version() of the shared library says $VERSION"
rc_assert_eq "replicast $VERSION (libreplicast $VERSION)" "$("$b/replicast" --version 2>&1)" "replicast --version"
rc_assert_eq "replicast $VERSION (libreplicast $VERSION)" "$("$b/replicast" -V 2>&1)" "replicast -V"
rc_assert_match "--version" "$("$b/replicast" --help)" "--help mentions --version"
rc_summary
