#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Builds replicast's Debian packages with dpkg's own tools, split as Debian
# ships a library (Policy 8):
#   replicast          the CLI (on the shared library), units, completion, man 8
#   libreplicast1      the shared library libreplicast.so.1, named after its soname
#   libreplicast-dev   header, libreplicast.so link, static library, .pc, man 3
# `make install` into a staging root laid out as Debian lays out packages,
# each file moved into its package's tree, dependencies from dpkg-shlibdeps
# (and the shlibs and symbols files libreplicast1 ships), then dpkg-deb. Run
# by `make deb`; by hand from the top of the tree after `make
# build/shared/replicast`. Writes $BUILD/PACKAGE_VERSION_ARCH.deb for each.
# The maintainer is $DEBFULLNAME <$DEBEMAIL> when DEBEMAIL is set (dpkg's
# convention). Else an address under .invalid (RFC 2606: a name sure never to
# resolve): a package built from a tree has no one to mail, and lintian,
# which takes any well-formed domain, rejects localhost and .localdomain.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VERSION=${VERSION:-$(sed -n 's/^VERSION *:= *//p' Makefile)}
SOVERSION=${SOVERSION:-$(sed -n 's/^SOVERSION *:= *//p' Makefile)}
MULTIARCH=${MULTIARCH:-$(gcc -print-multiarch)}
MAKE=${MAKE:-make}
ARCH=$(dpkg --print-architecture)
LIBPKG=libreplicast$SOVERSION
DEVPKG=libreplicast-dev
MAINTAINER="${DEBFULLNAME:-replicast developers} <${DEBEMAIL:-replicast@replicast.invalid}>"
STAGE=$BUILD/deb
ROOT=$STAGE/root
LIBDIR=usr/lib/$MULTIARCH
EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
YEARS=$(git log --reverse --format=%cd --date=format:%Y 2>/dev/null | sed -n '1p;$p' | uniq | paste -sd-)
YEARS=${YEARS:-$(date -u -d @"$EPOCH" +%Y)}

rm -rf "$STAGE"
mkdir -p "$ROOT"
# Debian bookworm still ships units under /lib (dpkg does not yet know the
# merged /usr); libraries go to the multiarch directory.
$MAKE --no-print-directory install DESTDIR="$PWD/$ROOT" PREFIX=/usr LIBDIR="/$LIBDIR" \
	UNITDIR=/lib/systemd/system BUILD="$BUILD" INSTALL_CLI="$BUILD/shared/replicast" >/dev/null
# Policy: man pages compressed, without a timestamp so builds repeat.
gzip -9n "$ROOT/usr/share/man/man8/replicast.8" "$ROOT/usr/share/man/man3/libreplicast.3"
# As dh_strip: no debugging symbols, no .comment or .note sections; the
# static library keeps its symbols and loses only the debugging ones.
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
	"$ROOT/usr/sbin/replicast" "$ROOT/$LIBDIR/libreplicast.so.$VERSION"
strip --strip-debug --remove-section=.comment --enable-deterministic-archives "$ROOT/$LIBDIR/libreplicast.a"

# Each file of the staging root into its package's tree.
take() {
	local pkg=$1 f
	shift
	for f in "$@"; do
		mkdir -p "$STAGE/$pkg/$(dirname "$f")"
		mv "$ROOT/$f" "$STAGE/$pkg/$f"
	done
}
take replicast usr/sbin/replicast lib/systemd/system/replicast.service \
	lib/systemd/system/replicast-agent.service lib/systemd/system/replicast-serve.service \
	usr/share/bash-completion/completions/replicast \
	usr/share/man/man8/replicast.8.gz
# Only replicast's configuration directory is ours in /etc, and it starts
# empty: the file in it is the operator's (replicast save -o).
mkdir -p "$STAGE/replicast/etc/replicast"
take "$LIBPKG" "$LIBDIR/libreplicast.so.$VERSION" "$LIBDIR/libreplicast.so.$SOVERSION"
take "$DEVPKG" usr/include/replicast.h "$LIBDIR/libreplicast.so" "$LIBDIR/libreplicast.a" \
	"$LIBDIR/pkgconfig/libreplicast.pc" usr/share/man/man3/libreplicast.3.gz
left=$(cd "$ROOT" && find . ! -type d | sed 's,^\./,,')
if [ -n "$left" ]; then
	echo "make-deb: installed but in no package: $left" >&2
	exit 1
fi

# Every package has its copyright and (native package: changelog.gz)
# changelog in /usr/share/doc/PACKAGE.
docs() {
	local doc=$STAGE/$1/usr/share/doc/$1
	mkdir -p "$doc"
	cat >"$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: replicast
Comment: libreplicast, the replicast CLI and the kernel program are dual
 licensed: LGPL-2.1 or BSD-2-Clause, at the user's choice (the SPDX line
 at the top of every source file).

Files: *
Copyright: $YEARS the replicast authors
License: LGPL-2.1 or BSD-2-Clause

License: LGPL-2.1
 This library is free software; you can redistribute it and/or modify it
 under the terms of the GNU Lesser General Public License version 2.1 as
 published by the Free Software Foundation.
 .
 On Debian systems, the complete text of the GNU Lesser General Public
 License version 2.1 can be found in "/usr/share/common-licenses/LGPL-2.1".

License: BSD-2-Clause
 Redistribution and use in source and binary forms, with or without
 modification, are permitted provided that the following conditions are met:
 .
 1. Redistributions of source code must retain the above copyright notice,
    this list of conditions and the following disclaimer.
 .
 2. Redistributions in binary form must reproduce the above copyright notice,
    this list of conditions and the following disclaimer in the documentation
    and/or other materials provided with the distribution.
 .
 THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
 AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
 IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE
 ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE
 LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR
 CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF
 SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS
 INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN
 CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE)
 ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE
 POSSIBILITY OF SUCH DAMAGE.
EOF
	printf 'replicast (%s) unstable; urgency=medium\n\n  * Built from the replicast source tree by make deb.\n\n -- %s  %s\n' \
		"$VERSION" "$MAINTAINER" "$(LC_ALL=C date -u -R -d @"$EPOCH")" | gzip -9n >"$doc/changelog.gz"
}
for p in replicast "$LIBPKG" "$DEVPKG"; do
	docs "$p"
done
cp README.md "$STAGE/replicast/usr/share/doc/replicast/README.md"

# What libreplicast1 tells the packages built on it (dpkg-shlibdeps reads
# both): shlibs for the soname, symbols for each versioned symbol, all from
# this first release of LIBREPLICAST_1.
mkdir -p "$STAGE/$LIBPKG/DEBIAN"
echo "libreplicast $SOVERSION $LIBPKG (>= $VERSION)" >"$STAGE/$LIBPKG/DEBIAN/shlibs"
{
	echo "libreplicast.so.$SOVERSION $LIBPKG #MINVER#"
	echo "* Build-Depends-Package: $DEVPKG"
	nm -D --defined-only "$STAGE/$LIBPKG/$LIBDIR/libreplicast.so.$VERSION" |
		awk -v v="$VERSION" '$2 == "A" { print " " $3 "@" $3, v; next } { sub(/@@/, "@", $3); print " " $3, v }' |
		LC_ALL=C sort
} >"$STAGE/$LIBPKG/DEBIAN/symbols"
echo "activate-noawait ldconfig" >"$STAGE/$LIBPKG/DEBIAN/triggers"

# dpkg-shlibdeps reads debian/control beside it: a scratch one will do. The
# CLI's libreplicast1 dependency is exact (shlibs.local): both come from
# this one build.
src=$STAGE/src
mkdir -p "$src/debian"
printf 'Source: replicast\n\nPackage: replicast\nArchitecture: any\n\nPackage: %s\nArchitecture: any\n' \
	"$LIBPKG" >"$src/debian/control"
echo "libreplicast $SOVERSION $LIBPKG (= $VERSION)" >"$src/debian/shlibs.local"
shlibdeps() {
	local out=$1
	shift
	(cd "$src" && dpkg-shlibdeps -O -l"$PWD/../$LIBPKG/$LIBDIR" "$@") >"$STAGE/$out.substvars" \
		2>"$STAGE/$out.shlibdeps.log" || { cat "$STAGE/$out.shlibdeps.log" >&2; return 1; }
	sed -n 's/^shlibs:Depends=//p' "$STAGE/$out.substvars"
}
cli_depends=$(shlibdeps replicast "../replicast/usr/sbin/replicast")
lib_depends=$(shlibdeps "$LIBPKG" "../$LIBPKG/$LIBDIR/libreplicast.so.$VERSION")

# control PACKAGE SECTION MULTI-ARCH DEPENDS [FIELD: VALUE...], description on stdin.
control() {
	local pkg=$1 section=$2 ma=$3 depends=$4 f
	shift 4
	mkdir -p "$STAGE/$pkg/DEBIAN"
	{
		echo "Package: $pkg"
		echo "Source: replicast"
		echo "Version: $VERSION"
		echo "Architecture: $ARCH"
		echo "Maintainer: $MAINTAINER"
		echo "Installed-Size: $(du -sk --exclude=DEBIAN "$STAGE/$pkg" | cut -f1)"
		echo "Depends: $depends"
		for f in "$@"; do echo "$f"; done
		echo "Section: $section"
		echo "Priority: optional"
		[ -z "$ma" ] || echo "Multi-Arch: $ma"
		cat
	} >"$STAGE/$pkg/DEBIAN/control"
}
control replicast net "" "$cli_depends" "Suggests: etcd-client" <<'EOF'
Description: kernel-side UDP fan-out (replicator) for Linux
 replicast copies each UDP packet sent to a group address to every
 subscriber of the group inside the kernel (a TC BPF program), rewriting
 addresses and checksums per copy, so senders send each packet once.
 .
 This package has the replicast command, its man page and bash completion,
 replicast.service, which applies /etc/replicast/replicast.conf at boot, and
 replicast-agent.service, which keeps the configuration equal to the one
 stored in etcd (settings in /etc/replicast/agent.conf).
EOF
control "$LIBPKG" libs same "$lib_depends" <<'EOF'
Description: kernel-side UDP fan-out (replicator) for Linux - shared library
 replicast copies each UDP packet sent to a group address to every
 subscriber of the group inside the kernel (a TC BPF program), rewriting
 addresses and checksums per copy, so senders send each packet once.
 .
 This package has libreplicast, the library that loads the replicator,
 manages its groups and subscribers and reads its counters.
EOF
# Whoever links the static library (pkg-config --static) needs the
# development files of what it uses.
control "$DEVPKG" libdevel same \
	"$LIBPKG (= $VERSION), libbpf-dev, libxdp-dev, libelf-dev, zlib1g-dev, libpcap-dev" <<'EOF'
Description: kernel-side UDP fan-out (replicator) for Linux - development files
 replicast copies each UDP packet sent to a group address to every
 subscriber of the group inside the kernel (a TC BPF program), rewriting
 addresses and checksums per copy, so senders send each packet once.
 .
 This package has what programs on libreplicast are built with: the
 header replicast.h, the static library, the pkg-config file and the
 libreplicast(3) man page.
EOF

# Enabled like any Debian service (it does nothing until a configuration is
# saved: ConditionPathExists), in the way debhelper's snippets do it.
cat >"$STAGE/replicast/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ] || [ "$1" = abort-upgrade ] || [ "$1" = abort-deconfigure ] ||
   [ "$1" = abort-remove ]; then
	if command -v deb-systemd-helper >/dev/null; then
		deb-systemd-helper unmask replicast.service >/dev/null || true
		if deb-systemd-helper --quiet was-enabled replicast.service; then
			deb-systemd-helper enable replicast.service >/dev/null || true
		else
			deb-systemd-helper update-state replicast.service >/dev/null || true
		fi
	fi
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
	fi
fi
EOF
cat >"$STAGE/replicast/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
if command -v deb-systemd-helper >/dev/null; then
	if [ "$1" = remove ]; then
		deb-systemd-helper mask replicast.service >/dev/null || true
	fi
	if [ "$1" = purge ]; then
		deb-systemd-helper purge replicast.service >/dev/null || true
		deb-systemd-helper unmask replicast.service >/dev/null || true
	fi
fi
EOF
chmod 0755 "$STAGE/replicast/DEBIAN/postinst" "$STAGE/replicast/DEBIAN/postrm"

for p in replicast "$LIBPKG" "$DEVPKG"; do
	(cd "$STAGE/$p" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
		xargs -0 md5sum) >"$STAGE/$p/DEBIAN/md5sums"
	deb=$BUILD/${p}_${VERSION}_${ARCH}.deb
	dpkg-deb --root-owner-group -Zxz --build "$STAGE/$p" "$deb" >/dev/null
	echo "  DEB     $deb"
done
