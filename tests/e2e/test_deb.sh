#!/usr/bin/env bash
# `make deb` builds a Debian package with dpkg's tools; unpacked with dpkg -x
# into a scratch directory it holds the CLI, both libraries (soname
# libreplicast.so.1), header, pkg-config file, compressed man pages, bash
# completion and the units, with dependencies worked out by dpkg-shlibdeps;
# the example programs build against the unpacked header and library through
# pkg-config alone, and one runs against a replicast loaded by the unpacked
# CLI. Never installs the package.
set -u
. "$(dirname "$0")/../lib.sh"
rc_require_root
rc_setup_traps
cd "$RC_ROOT" || exit 1
T=$RC_TMP
MA=$(gcc -print-multiarch)
ARCH=$(dpkg --print-architecture)
VERSION=$(sed -n 's/^VERSION *:= *//p' Makefile)
DEB=build/replicast_${VERSION}_${ARCH}.deb
quiet() { "$@" >/dev/null; }

rm -f "$DEB"
rc_assert_ok "make deb" quiet make -s deb
rc_assert_eq "replicast $VERSION $ARCH" "$(dpkg-deb -f "$DEB" Package Version Architecture | awk '{printf "%s%s", s, $2; s=" "}')" \
	"the package's name, version and architecture"
depends=$(dpkg-deb -f "$DEB" Depends)
for lib in libbpf1 libc6 libcurl4 libjson-c5; do
	rc_assert_match "(^|, )$lib( |,|$)" "$depends" "Depends names $lib (from dpkg-shlibdeps)"
done
rc_assert_eq "activate-noawait ldconfig" "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./triggers)" \
	"ldconfig runs after install (trigger)"
for s in postinst postrm; do
	dpkg-deb --ctrl-tarfile "$DEB" | tar -xO "./$s" >"$T/$s"
	rc_assert_ok "$s is valid sh" sh -n "$T/$s"
done

X=$T/unpacked
rc_assert_ok "dpkg -x into a scratch directory" dpkg -x "$DEB" "$X"
cat >"$T/expected" <<EOF
etc/replicast/
lib/systemd/system/replicast-agent.service
lib/systemd/system/replicast.service
usr/include/replicast.h
usr/lib/$MA/libreplicast.a
usr/lib/$MA/libreplicast.so -> libreplicast.so.1
usr/lib/$MA/libreplicast.so.$VERSION
usr/lib/$MA/libreplicast.so.1 -> libreplicast.so.$VERSION
usr/lib/$MA/pkgconfig/libreplicast.pc
usr/sbin/replicast
usr/share/bash-completion/completions/replicast
usr/share/doc/replicast/README.md
usr/share/doc/replicast/changelog.Debian.gz
usr/share/doc/replicast/copyright
usr/share/man/man3/libreplicast.3.gz
usr/share/man/man8/replicast.8.gz
EOF
listing() {
	(cd "$1" && find . \( -type f -o -type l -o -type d -empty \) -printf '%P%y %l\n' |
		sed -e 's/f $//' -e 's/d $/\//' -e 's/l \(.*\)/ -> \1/' | LC_ALL=C sort)
}
rc_assert_eq "$(LC_ALL=C sort "$T/expected")" "$(listing "$X")" "the package holds exactly these files"
rc_assert_eq "root:root" "$(dpkg-deb -c "$DEB" | awk '$6 == "./usr/sbin/replicast" {print $2}' | tr / :)" \
	"files belong to root"
rc_assert_eq "libreplicast.so.1" "$(readelf -d "$X/usr/lib/$MA/libreplicast.so.$VERSION" |
	sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')" "the shared library's soname is libreplicast.so.1"
rc_assert_eq "ExecStart=/usr/sbin/replicast apply /etc/replicast/replicast.conf" \
	"$(grep ^ExecStart= "$X/lib/systemd/system/replicast.service")" "the unit runs /usr/sbin/replicast"
rc_assert_eq "ExecStart=/usr/sbin/replicast agent" \
	"$(grep ^ExecStart= "$X/lib/systemd/system/replicast-agent.service")" \
	"the agent's unit runs /usr/sbin/replicast"
rc_assert_eq "etcd-client" "$(dpkg-deb -f "$DEB" Suggests)" "the package suggests etcdctl, to put configurations"
rc_assert_match "replicast save -o /etc/replicast/replicast.conf" \
	"$(MANWIDTH=100 man -l "$X/usr/share/man/man8/replicast.8.gz" 2>/dev/null)" \
	"replicast(8) reads from the package"

# Only pkg-config, pointed at the unpacked tree, says where things are.
pc() { PKG_CONFIG_SYSROOT_DIR="$X" PKG_CONFIG_LIBDIR="$X/usr/lib/$MA/pkgconfig" pkg-config "$@" libreplicast; }
rc_assert_eq "-I$X/usr/include" "$(pc --cflags | xargs)" "pkg-config --cflags: the unpacked header"
rc_assert_eq "-L$X/usr/lib/$MA -lreplicast" "$(pc --libs | xargs)" "pkg-config --libs: the unpacked library"
n=0
for src in examples/*.c; do
	[ -e "$src" ] || continue
	n=$((n + 1))
	# shellcheck disable=SC2046
	rc_assert_ok "$src builds against the package through pkg-config" \
		gcc -Wall -Werror "$src" -o "$T/$(basename "$src" .c)" $(pc --cflags --libs)
done
rc_assert_ge 1 "$n" "there is an example program to build"
rc_assert_ok "list_groups also links statically (pkg-config --static)" \
	gcc examples/list_groups.c -o "$T/list_groups_static" $(pc --cflags) \
	"$X/usr/lib/$MA/libreplicast.a" $(pc --static --libs-only-l | sed 's/-lreplicast//')

# The unpacked CLI loads; the example, on the unpacked shared library, reads.
ns=$(rc_name d)
rc_ns_add "$ns"
pin=/sys/fs/bpf/rc-deb$RC_ID
CLI="rc_in $ns $X/usr/sbin/replicast --pin-path $pin"
trap '$CLI unload >/dev/null 2>&1; rm -rf "$pin"; rc_cleanup' EXIT
rc_assert_ok "the packaged CLI loads" $CLI load --dev lo --no-inject
rc_assert_ok "group add" $CLI group add 10.77.100.1:5000
rc_assert_ok "sub add" $CLI sub add 10.77.100.1:5000 127.0.0.1:6000 --mac 02:00:00:00:00:01
rc_assert_match "libreplicast.so.1 => $X/usr/lib/$MA/libreplicast.so.1" \
	"$(LD_LIBRARY_PATH="$X/usr/lib/$MA" ldd "$T/list_groups")" "the example uses the packaged libreplicast.so.1"
rc_assert_eq "$(printf '10.77.100.1:5000 1\n  127.0.0.1:6000')" \
	"$(LD_LIBRARY_PATH="$X/usr/lib/$MA" rc_in "$ns" "$T/list_groups" "$pin")" "and lists the group and its subscriber"
rc_assert_eq "$(printf '10.77.100.1:5000 1\n  127.0.0.1:6000')" "$(rc_in "$ns" "$T/list_groups_static" "$pin")" \
	"so does the static build"
rc_assert_ok "unload" $CLI unload
rc_summary
