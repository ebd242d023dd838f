#!/usr/bin/env bash
# `make deb` builds Debian packages with dpkg's tools, split as Debian ships
# a library: replicast (the CLI on the shared library, units, completion,
# man 8), libreplicast1 (libreplicast.so.1, mode 0644, with shlibs, symbols
# and the ldconfig trigger) and libreplicast-dev (header, .so link, static
# library, pkg-config file, man 3), each with its copyright and changelog,
# dependencies from dpkg-shlibdeps and between them exact; lintian finds no
# error and no warning in any. Unpacked with dpkg -x into a scratch
# directory, the example programs build against the header and library
# through pkg-config alone, and one runs against a replicast loaded by the
# unpacked CLI. Never installs the packages.
set -u
. "$(dirname "$0")/../lib.sh"
rc_require_root
rc_setup_traps
cd "$RC_ROOT" || exit 1
T=$RC_TMP
MA=$(gcc -print-multiarch)
ARCH=$(dpkg --print-architecture)
VERSION=$(sed -n 's/^VERSION *:= *//p' Makefile)
CLI_DEB=build/replicast_${VERSION}_${ARCH}.deb
LIB_DEB=build/libreplicast1_${VERSION}_${ARCH}.deb
DEV_DEB=build/libreplicast-dev_${VERSION}_${ARCH}.deb
DEBS=("$CLI_DEB" "$LIB_DEB" "$DEV_DEB")
quiet() { "$@" >/dev/null; }
ctrl() { dpkg-deb --ctrl-tarfile "$1" | tar -xO "./$2"; }

rm -f "${DEBS[@]}"
rc_assert_ok "make deb" quiet make -s deb
for deb in "${DEBS[@]}"; do
	p=$(basename "$deb" | cut -d_ -f1)
	rc_assert_eq "$p $VERSION $ARCH replicast" \
		"$(dpkg-deb -f "$deb" Package Version Architecture Source | awk '{printf "%s%s", s, $2; s=" "}')" \
		"$p: name, version, architecture and source"
	rc_assert_match "^[^<>]+ <[^@<>]+@[^@<>]+\.[a-z]+>$" "$(dpkg-deb -f "$deb" Maintainer)" "$p: a maintainer with an address"
done
rc_assert_eq "net libs libdevel" \
	"$(for deb in "${DEBS[@]}"; do dpkg-deb -f "$deb" Section; done | xargs)" "sections: net, libs, libdevel"
depends=$(dpkg-deb -f "$CLI_DEB" Depends)
for lib in libc6 libcurl4 libjson-c5; do
	rc_assert_match "(^|, )$lib( |,|$)" "$depends" "replicast Depends names $lib (from dpkg-shlibdeps)"
done
rc_assert_match "(^|, )libreplicast1 \(= $VERSION\)(,|$)" "$depends" "replicast Depends on libreplicast1 (= $VERSION)"
depends=$(dpkg-deb -f "$LIB_DEB" Depends)
for lib in libbpf1 libc6 libxdp1; do
	rc_assert_match "(^|, )$lib( |,|$)" "$depends" "libreplicast1 Depends names $lib (from dpkg-shlibdeps)"
done
rc_assert_match "^libreplicast1 \(= $VERSION\), libbpf-dev" "$(dpkg-deb -f "$DEV_DEB" Depends)" \
	"libreplicast-dev Depends on libreplicast1 (= $VERSION) and what a static link needs"
rc_assert_eq "same same" "$(dpkg-deb -f "$LIB_DEB" Multi-Arch) $(dpkg-deb -f "$DEV_DEB" Multi-Arch)" \
	"the library packages are Multi-Arch: same"
rc_assert_eq "activate-noawait ldconfig" "$(ctrl "$LIB_DEB" triggers)" "ldconfig runs after install (trigger)"
rc_assert_eq "libreplicast 1 libreplicast1 (>= $VERSION)" "$(ctrl "$LIB_DEB" shlibs)" \
	"libreplicast1's shlibs file names it for the soname"
for s in postinst postrm; do
	ctrl "$CLI_DEB" "$s" >"$T/$s"
	rc_assert_ok "replicast's $s is valid sh" sh -n "$T/$s"
done
for deb in "${DEBS[@]}"; do
	p=$(basename "$deb" | cut -d_ -f1)
	rc_assert_eq "$(dpkg-deb -c "$deb" | awk '$1 ~ /^-/ {sub(/^\.\//, "", $6); print $6}' | LC_ALL=C sort)" \
		"$(ctrl "$deb" md5sums | awk '{print $2}' | LC_ALL=C sort)" "$p: md5sums lists every file"
done

# lintian, the archive's own checker: no error and no warning in any package
# (informational and pedantic notes are fine).
if command -v lintian >/dev/null; then
	out=$(lintian --pedantic -I "${DEBS[@]}" 2>&1 | grep -v 'running with root privileges')
	while read -r line; do [ -z "$line" ] || echo "# lintian: $line"; done <<<"$out"
	rc_assert_eq "" "$(echo "$out" | grep -E '^[EW]: ')" "lintian: no error, no warning in any package"
else
	rc_not_ok "lintian is installed" "scripts/install-deps.sh installs it; make test runs it"
fi

# Each package holds exactly its files.
listing() {
	(cd "$1" && find . \( -type f -o -type l -o -type d -empty \) -printf '%P%y %l\n' |
		sed -e 's/f $//' -e 's/d $/\//' -e 's/l \(.*\)/ -> \1/' | LC_ALL=C sort)
}
expect_files() {
	local deb=$1 p
	p=$(basename "$deb" | cut -d_ -f1)
	mkdir -p "$T/one/$p"
	dpkg -x "$deb" "$T/one/$p"
	rc_assert_eq "$(LC_ALL=C sort)" "$(listing "$T/one/$p")" "$p holds exactly its files"
}
expect_files "$CLI_DEB" <<EOF
etc/replicast/
lib/systemd/system/replicast-agent.service
lib/systemd/system/replicast-serve.service
lib/systemd/system/replicast.service
usr/sbin/replicast
usr/share/bash-completion/completions/replicast
usr/share/doc/replicast/README.md
usr/share/doc/replicast/changelog.gz
usr/share/doc/replicast/copyright
usr/share/man/man8/replicast.8.gz
EOF
expect_files "$LIB_DEB" <<EOF
usr/lib/$MA/libreplicast.so.$VERSION
usr/lib/$MA/libreplicast.so.1 -> libreplicast.so.$VERSION
usr/share/doc/libreplicast1/changelog.gz
usr/share/doc/libreplicast1/copyright
EOF
expect_files "$DEV_DEB" <<EOF
usr/include/replicast.h
usr/lib/$MA/libreplicast.a
usr/lib/$MA/libreplicast.so -> libreplicast.so.1
usr/lib/$MA/pkgconfig/libreplicast.pc
usr/share/doc/libreplicast-dev/changelog.gz
usr/share/doc/libreplicast-dev/copyright
usr/share/man/man3/libreplicast.3.gz
EOF
rc_assert_match "Copyright: [0-9]{4}" "$(cat "$T/one/libreplicast1/usr/share/doc/libreplicast1/copyright")" \
	"the copyright file has a notice with a year"
rc_assert_match "^replicast \($VERSION\) " "$(zcat "$T/one/replicast/usr/share/doc/replicast/changelog.gz")" \
	"the changelog's entry is this version"

X=$T/unpacked
for deb in "${DEBS[@]}"; do
	rc_assert_ok "dpkg -x $(basename "$deb") into one scratch directory" dpkg -x "$deb" "$X"
done
rc_assert_eq "root:root" "$(dpkg-deb -c "$CLI_DEB" | awk '$6 == "./usr/sbin/replicast" {print $2}' | tr / :)" \
	"files belong to root"
rc_assert_eq 644 "$(stat -c %a "$X/usr/lib/$MA/libreplicast.so.$VERSION")" "the shared library is not executable (0644)"
nm -D --defined-only "$X/usr/lib/$MA/libreplicast.so.$VERSION" |
	awk '$2 != "A" { sub(/@@/, "@", $3); print $3 }' | LC_ALL=C sort >"$T/exported"
rc_assert_eq "$(cat "$T/exported")" "$(ctrl "$LIB_DEB" symbols | awk '/^ / && $1 !~ /^LIBREPLICAST/ {print $1}' | LC_ALL=C sort)" \
	"the symbols file lists exactly what the library exports"
rc_assert_eq "libreplicast.so.1" "$(readelf -d "$X/usr/lib/$MA/libreplicast.so.$VERSION" |
	sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')" "the shared library's soname is libreplicast.so.1"
rc_assert_eq "ExecStart=/usr/sbin/replicast apply /etc/replicast/replicast.conf" \
	"$(grep ^ExecStart= "$X/lib/systemd/system/replicast.service")" "the unit runs /usr/sbin/replicast"
rc_assert_eq "ExecStart=/usr/sbin/replicast agent" \
	"$(grep ^ExecStart= "$X/lib/systemd/system/replicast-agent.service")" \
	"the agent's unit runs /usr/sbin/replicast"
rc_assert_eq "etcd-client" "$(dpkg-deb -f "$CLI_DEB" Suggests)" "the package suggests etcdctl, to put configurations"
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

# The unpacked CLI, on the unpacked shared library, loads; the example, on
# the same library, reads.
rc_assert_match "libreplicast.so.1 => $X/usr/lib/$MA/libreplicast.so.1" \
	"$(LD_LIBRARY_PATH="$X/usr/lib/$MA" ldd "$X/usr/sbin/replicast")" "the packaged CLI runs on libreplicast.so.1"
rc_assert_eq "replicast $VERSION (libreplicast $VERSION)" \
	"$(LD_LIBRARY_PATH="$X/usr/lib/$MA" "$X/usr/sbin/replicast" --version)" "the packaged CLI's --version"
ns=$(rc_name d)
rc_ns_add "$ns"
pin=/sys/fs/bpf/rc-deb$RC_ID
CLI="rc_in $ns env LD_LIBRARY_PATH=$X/usr/lib/$MA $X/usr/sbin/replicast --pin-path $pin"
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
