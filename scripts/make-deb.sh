#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Builds the Debian package of replicast with dpkg's own tools: `make install`
# into a staging root laid out as Debian lays out packages, dependencies from
# dpkg-shlibdeps, then dpkg-deb. Run by `make deb`; by hand from the top of
# the tree after `make`. Writes $BUILD/replicast_VERSION_ARCH.deb.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VERSION=${VERSION:-$(sed -n 's/^VERSION *:= *//p' Makefile)}
MULTIARCH=${MULTIARCH:-$(gcc -print-multiarch)}
MAKE=${MAKE:-make}
ARCH=$(dpkg --print-architecture)
STAGE=$BUILD/deb
ROOT=$STAGE/root
DEB=$BUILD/replicast_${VERSION}_${ARCH}.deb

rm -rf "$STAGE"
mkdir -p "$ROOT/DEBIAN"
# Debian bookworm still ships units under /lib (dpkg does not yet know the
# merged /usr); libraries go to the multiarch directory.
$MAKE --no-print-directory install DESTDIR="$PWD/$ROOT" PREFIX=/usr \
	LIBDIR="/usr/lib/$MULTIARCH" UNITDIR=/lib/systemd/system BUILD="$BUILD" >/dev/null
# Policy: man pages compressed, without a timestamp so builds repeat.
gzip -9n "$ROOT/usr/share/man/man8/replicast.8" "$ROOT/usr/share/man/man3/libreplicast.3"
strip --strip-unneeded "$ROOT/usr/sbin/replicast" "$ROOT/usr/lib/$MULTIARCH/libreplicast.so.$VERSION"
# Only replicast's configuration directory is ours in /etc, and it starts
# empty: the file in it is the operator's (replicast save -o).
doc=$ROOT/usr/share/doc/replicast
mkdir -p "$doc"
cat >"$doc/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: replicast

Files: *
Copyright: the replicast authors
License: LGPL-2.1 or BSD-2-Clause
 libreplicast, the replicast CLI and the kernel program are dual licensed:
 the GNU Lesser General Public License version 2.1 (see
 /usr/share/common-licenses/LGPL-2.1) or the BSD 2-Clause license.
EOF
printf 'replicast (%s) unstable; urgency=medium\n\n  * Built from the replicast source tree by make deb.\n\n -- replicast maintainers <replicast@localhost>  %s\n' \
	"$VERSION" "$(date -R -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")" |
	gzip -9n >"$doc/changelog.Debian.gz"
cp README.md "$doc/README.md"

# dpkg-shlibdeps reads debian/control beside it: a scratch one will do.
mkdir -p "$STAGE/src/debian"
printf 'Source: replicast\n\nPackage: replicast\nArchitecture: any\n' >"$STAGE/src/debian/control"
(cd "$STAGE/src" && dpkg-shlibdeps -O -l"$PWD/../root/usr/lib/$MULTIARCH" \
	"../root/usr/sbin/replicast" "../root/usr/lib/$MULTIARCH/libreplicast.so.$VERSION") \
	>"$STAGE/substvars" 2>"$STAGE/shlibdeps.log"
depends=$(sed -n 's/^shlibs:Depends=//p' "$STAGE/substvars")

cat >"$ROOT/DEBIAN/control" <<EOF
Package: replicast
Version: $VERSION
Architecture: $ARCH
Maintainer: replicast maintainers <replicast@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
Depends: $depends
Suggests: etcd-client
Section: net
Priority: optional
Description: kernel-side UDP fan-out (replicator) for Linux
 replicast copies each UDP packet sent to a group address to every
 subscriber of the group inside the kernel (a TC BPF program), rewriting
 addresses and checksums per copy, so senders send each packet once.
 .
 This package has the replicast command, libreplicast (shared and static,
 header and pkg-config file), man pages, bash completion,
 replicast.service, which applies /etc/replicast/replicast.conf at boot, and
 replicast-agent.service, which keeps the configuration equal to the one
 stored in etcd (settings in /etc/replicast/agent.conf).
EOF
# Other packages find the shared library through this (dpkg-shlibdeps).
echo "libreplicast 1 replicast (>= $VERSION)" >"$ROOT/DEBIAN/shlibs"
echo "activate-noawait ldconfig" >"$ROOT/DEBIAN/triggers"
# Enabled like any Debian service (it does nothing until a configuration is
# saved: ConditionPathExists), in the way debhelper's snippets do it.
cat >"$ROOT/DEBIAN/postinst" <<'EOF'
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
cat >"$ROOT/DEBIAN/postrm" <<'EOF'
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
chmod 0755 "$ROOT/DEBIAN/postinst" "$ROOT/DEBIAN/postrm"
(cd "$ROOT" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
	xargs -0 md5sum) >"$ROOT/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$DEB" >/dev/null
echo "  DEB     $DEB"
