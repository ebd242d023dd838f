#!/usr/bin/env bash
# `make install` and `make uninstall` as a packager and an operator use them:
# every file lands under DESTDIR+PREFIX (the CLI, both libraries with the
# versioned soname, header, pkg-config file, man pages, bash completion, the
# units with the paths of that PREFIX); a program builds and runs against the
# installed library through pkg-config alone; uninstall removes exactly what
# install made and keeps a saved configuration. Never installs into /.
set -u
. "$(dirname "$0")/../lib.sh"
rc_require_root
rc_setup_traps
cd "$RC_ROOT" || exit 1
T=$RC_TMP
MA=$(gcc -print-multiarch)
VERSION=$(sed -n 's/^VERSION *:= *//p' Makefile)

D=$T/root
quiet() { "$@" >/dev/null; }
rc_assert_ok "make install DESTDIR=... (PREFIX /usr/local)" quiet make -s install DESTDIR="$D"
cat >"$T/expected" <<EOF
etc/replicast/
usr/local/include/replicast.h
usr/local/lib/libreplicast.a
usr/local/lib/libreplicast.so -> libreplicast.so.1
usr/local/lib/libreplicast.so.$VERSION
usr/local/lib/libreplicast.so.1 -> libreplicast.so.$VERSION
usr/local/lib/pkgconfig/libreplicast.pc
usr/local/lib/systemd/system/replicast-agent.service
usr/local/lib/systemd/system/replicast-serve.service
usr/local/lib/systemd/system/replicast.service
usr/local/sbin/replicast
usr/local/share/bash-completion/completions/replicast
usr/local/share/man/man3/libreplicast.3
usr/local/share/man/man8/replicast.8
EOF
# listing: files and symlinks (with their targets), and empty directories
listing() {
	(cd "$1" && find . \( -type f -o -type l -o -type d -empty \) -printf '%P%y %l\n' |
		sed -e 's/f $//' -e 's/d $/\//' -e 's/l \(.*\)/ -> \1/' | LC_ALL=C sort)
}
rc_assert_eq "$(LC_ALL=C sort "$T/expected")" "$(listing "$D")" "install puts exactly these files under DESTDIR"
rc_assert_eq "libreplicast.so.1" "$(readelf -d "$D/usr/local/lib/libreplicast.so.$VERSION" |
	sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')" "the shared library's soname is versioned"
rc_assert_eq 755 "$(stat -c %a "$D/usr/local/sbin/replicast")" "the CLI is executable"
rc_assert_eq 644 "$(stat -c %a "$D/usr/local/lib/libreplicast.so.$VERSION")" "the shared library is not (0644)"
rc_assert_match "^Usage: replicast" "$("$D/usr/local/sbin/replicast" --help)" "the installed CLI runs"
rc_assert_eq "replicast $VERSION (libreplicast $VERSION)" "$("$D/usr/local/sbin/replicast" --version)" \
	"and says its version"
rc_assert_eq "ExecStart=/usr/local/sbin/replicast apply /etc/replicast/replicast.conf" \
	"$(grep ^ExecStart= "$D/usr/local/lib/systemd/system/replicast.service")" \
	"the unit runs the installed CLI on /etc/replicast/replicast.conf"
# (Where systemd is installed: it is not a build dependency.)
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify --man=no "$D/usr/local/lib/systemd/system/replicast.service" 2>&1 |
		grep -v 'is not executable: No such file')
	rc_assert_eq "" "$out" "systemd-analyze verify finds nothing wrong with the unit"
	out=$(systemd-analyze verify --man=no "$D/usr/local/lib/systemd/system/replicast-agent.service" 2>&1 |
		grep -v -e 'is not executable: No such file' -e 'agent.conf')
	rc_assert_eq "" "$out" "... nor with the agent's"
fi
rc_assert_eq "ExecStart=/usr/local/sbin/replicast agent" \
	"$(grep ^ExecStart= "$D/usr/local/lib/systemd/system/replicast-agent.service")" \
	"the agent's unit runs the installed CLI"
rc_assert_eq "EnvironmentFile=/etc/replicast/agent.conf" \
	"$(grep ^EnvironmentFile= "$D/usr/local/lib/systemd/system/replicast-agent.service")" \
	"... with its settings from /etc/replicast/agent.conf"
for m in man8/replicast.8 man3/libreplicast.3; do
	rc_assert_eq "" "$(groff -man -Tutf8 -ww -z "$D/usr/local/share/man/$m" 2>&1)" "$m renders without warnings"
done
rc_assert_match "replicast save -o /etc/replicast/replicast.conf" \
	"$(MANWIDTH=100 man -l "$D/usr/local/share/man/man8/replicast.8" 2>/dev/null)" \
	"replicast(8) says how to save for the boot"

# pkg-config alone: sysroot for the staged tree, nothing else on the search path.
pc() { PKG_CONFIG_SYSROOT_DIR="$D" PKG_CONFIG_LIBDIR="$D/usr/local/lib/pkgconfig" pkg-config "$@" libreplicast; }
rc_assert_eq "$VERSION" "$(pc --modversion)" "pkg-config knows libreplicast $VERSION"
rc_assert_eq "-I$D/usr/local/include" "$(pc --cflags | xargs)" "--cflags points at the installed header"
rc_assert_eq "-L$D/usr/local/lib -lreplicast" "$(pc --libs | xargs)" "--libs points at the installed library"
rc_assert_match "-lbpf" "$(pc --static --libs)" "--static adds what libreplicast.a needs"
# shellcheck disable=SC2046
rc_assert_ok "examples/list_groups.c builds against the installed library" \
	gcc -Wall -Werror examples/list_groups.c -o "$T/list_groups" $(pc --cflags --libs)
rc_assert_match "libreplicast.so.1 => $D/usr/local/lib/libreplicast.so.1" \
	"$(LD_LIBRARY_PATH="$D/usr/local/lib" ldd "$T/list_groups")" "it links to the installed libreplicast.so.1"
out=$(LD_LIBRARY_PATH="$D/usr/local/lib" "$T/list_groups" /sys/fs/bpf/rc-none$RC_ID 2>&1)
rc_assert_eq "list_groups: not found" "$out" "it runs, and the library answers (nothing is loaded there)"

# Bash completion, from the installed file; it asks the installed program
# (replicast --complete), found on PATH as an operator's shell finds it.
comp() {
	PATH="$D/usr/local/sbin:$PATH" bash -c '. "$1"; COMP_LINE=$2; COMP_POINT=${#2}; _replicast
		echo "${COMPREPLY[*]}"' _ "$D/usr/local/share/bash-completion/completions/replicast" "$1"
}
rc_assert_eq "sub stats save send serve" "$(comp "replicast s")" "completion: commands"
rc_assert_eq "text json prometheus" "$(comp "replicast stats --format ")" "completion: --format values"
rc_assert_eq "--dry-run" "$(comp "replicast apply --d")" "completion: apply options"
rc_assert_eq "apply agent" "$(comp "replicast a")" "completion: agent among the commands"
rc_assert_eq "status" "$(comp "replicast fleet st")" "completion: fleet's verb"
rc_assert_eq "--etcd" "$(comp "replicast fleet status --etcd http://x --e")" "completion: fleet status options"

# Another PREFIX: every path written follows it.
D2=$T/root2
rc_assert_ok "make install PREFIX=/opt/rc" quiet make -s install DESTDIR="$D2" PREFIX=/opt/rc
rc_assert_eq "ExecStart=/opt/rc/sbin/replicast apply /etc/replicast/replicast.conf" \
	"$(grep ^ExecStart= "$D2/opt/rc/lib/systemd/system/replicast.service")" "the unit follows PREFIX"
rc_assert_eq "ExecStart=/opt/rc/sbin/replicast agent" \
	"$(grep ^ExecStart= "$D2/opt/rc/lib/systemd/system/replicast-agent.service")" \
	"the agent's unit follows PREFIX"
rc_assert_eq "prefix=/opt/rc" "$(grep ^prefix= "$D2/opt/rc/lib/pkgconfig/libreplicast.pc")" "the pc file follows PREFIX"
rc_assert_eq "libdir=\${prefix}/lib" "$(grep ^libdir= "$D2/opt/rc/lib/pkgconfig/libreplicast.pc")" \
	"libdir is relative to prefix"

# Uninstall: exactly what install made; a saved configuration stays.
echo "load --dev lo" >"$D/etc/replicast/replicast.conf"
rc_assert_ok "make uninstall DESTDIR=..." quiet make -s uninstall DESTDIR="$D"
rc_assert_eq "etc/replicast/replicast.conf" "$(cd "$D" && find . \( -type f -o -type l \) -printf '%P\n')" \
	"uninstall removes every installed file and keeps the saved configuration"
rc_assert_ok "make uninstall PREFIX=/opt/rc" quiet make -s uninstall DESTDIR="$D2" PREFIX=/opt/rc
rc_assert_eq "" "$(cd "$D2" && find . \( -type f -o -type l \) -printf '%P\n')" "... and for the other PREFIX"
rc_assert_eq "" "$(cd "$D2" && find ./etc -mindepth 1)" "an empty configuration directory goes too"
rc_summary
