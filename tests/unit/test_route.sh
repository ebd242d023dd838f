#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Runs the lib_route unit test (built elsewhere, path in $1) as root inside two
# throwaway network namespaces joined by a veth pair, so it never routes or
# resolves anything outside them. Usage: test_route.sh /path/to/test_route
set -euo pipefail

bin=${1:?usage: $0 /path/to/test_route}
[ -x "$bin" ] || { echo "$0: not executable: $bin" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "$0: needs root" >&2; exit 2; }

# Refuse rather than reuse or delete namespaces we did not make; after a
# killed run, remove them by hand with: ip netns del rcrt-a; ip netns del rcrt-b
for ns in rcrt-a rcrt-b; do
	if [ -e "/run/netns/$ns" ]; then
		echo "$0: namespace $ns already exists; not touching it" >&2
		exit 2
	fi
done

# shellcheck disable=SC2317  # reached through the trap
cleanup() {
	ip netns del rcrt-a 2>/dev/null || true
	ip netns del rcrt-b 2>/dev/null || true
}
trap cleanup EXIT
# Make INT/TERM an ordinary exit, so the EXIT trap is sure to clean up.
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add rcrt-a
ip netns add rcrt-b
ip -n rcrt-a link set lo up
ip -n rcrt-b link set lo up
# nodad covers only the addresses we add; the kernel's own link-local address
# would still run DAD, and until it is done the kernel sends no neighbour
# solicitation for NTF_USE/managed entries (they have no packet to borrow a
# source address from), which would stall the IPv6 resolve test by ~2 s.
for ns in rcrt-a rcrt-b; do
	nsenter --net=/run/netns/$ns sysctl -qw net.ipv6.conf.default.accept_dad=0
done
ip -n rcrt-a link add rcrt0 type veth peer name rcrt1 netns rcrt-b

ip -n rcrt-a addr add 10.201.0.1/24 dev rcrt0
ip -n rcrt-a addr add fd00:201::1/64 dev rcrt0 nodad
ip -n rcrt-b addr add 10.201.0.2/24 dev rcrt1
ip -n rcrt-b addr add fd00:201::2/64 dev rcrt1 nodad
ip -n rcrt-a link set rcrt0 up
ip -n rcrt-b link set rcrt1 up

# Gateway routes, "no host is here" routes, and admin-owned neighbours the
# library must leave alone. No default route: anything else is unroutable.
ip -n rcrt-a route add 10.202.0.0/24 via 10.201.0.2 dev rcrt0
ip -n rcrt-a -6 route add fd00:202::/64 via fd00:201::2 dev rcrt0
ip -n rcrt-a route add unreachable 10.203.0.0/24
ip -n rcrt-a -6 route add unreachable fd00:203::/64
ip -n rcrt-a neigh add 10.201.0.77 lladdr 02:00:00:00:02:77 dev rcrt0 nud permanent
ip -n rcrt-a neigh add fd00:201::77 lladdr 02:00:00:00:02:77 dev rcrt0 nud permanent

rc=0
nsenter --net=/run/netns/rcrt-a "$bin" || rc=$?
[ "$rc" = 0 ] || exit "$rc"

# What the test binary cannot see without re-implementing netlink: the state
# rc_neigh_resolve left behind. Silent unless something is wrong.
fail=0
for a in 10.201.0.77 fd00:201::77; do
	if ! ip -n rcrt-a neigh show "$a" dev rcrt0 | grep -qw PERMANENT; then
		echo "FAIL permanent entry $a was modified: $(ip -n rcrt-a neigh show "$a" dev rcrt0)" >&2
		fail=1
	fi
done
for a in 10.201.0.2 fd00:201::2 10.201.0.99 fd00:201::99; do
	if ! ip -n rcrt-a neigh show "$a" dev rcrt0 | grep -qw managed; then
		echo "FAIL entry $a is not managed: $(ip -n rcrt-a neigh show "$a" dev rcrt0)" >&2
		fail=1
	fi
done
exit "$fail"
