/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* route.c: the three kernel questions replicast asks before it can write an
 * Ethernet header for a unicast subscriber: which way to this address, which MAC
 * is behind the next hop, and what is our own MAC. Internal to libreplicast. */

/* Every call opens its own sockets, so it answers for the network namespace of
 * the calling thread at the time of the call. Returns are 0 or a negative errno
 * value; nothing prints and nothing exits. */
#ifndef REPLICAST_LIB_ROUTE_H
#define REPLICAST_LIB_ROUTE_H

#include <stdint.h>
#include <netinet/in.h>
#include "replicast_types.h"	/* union rc_addr, the address both sides use */

struct rc_route {
	unsigned int ifindex;      /* egress device */
	int has_gateway;           /* next hop is a gateway, not the destination itself */
	union rc_addr gateway;       /* valid when has_gateway */
	union rc_addr prefsrc;       /* preferred source address of the route (see below) */
	unsigned char type;        /* rtm_type: RTN_UNICAST, or RTN_LOCAL for our own address... */
};

/* Asks the kernel (RTM_GETROUTE) how it would route a packet to dst (family
 * AF_INET or AF_INET6), optionally restricted to output device oif (0 = any).
 * Fills *out. prefsrc: RTA_PREFSRC when the reply has it; otherwise the source
 * address the kernel would pick for a UDP socket connected to dst (bound to oif
 * when oif != 0).
 * Returns 0, or a negative errno: -ENETUNREACH / -EHOSTUNREACH when there is no
 * route (other route types pass the kernel's code through, e.g. -EACCES for
 * prohibit, -EINVAL for blackhole); -EAFNOSUPPORT for another family, or for an
 * IPv4 route whose gateway is an IPv6 address (RTA_VIA), which *out cannot hold;
 * -EADDRNOTAVAIL when the route exists but no source address can be chosen. */
int rc_route_get(int family, const union rc_addr *dst, unsigned int oif, struct rc_route *out);

/* The source address the kernel picks for a UDP socket connected to dst
 * (bound to oif when oif != 0; route_if scopes a link-local dst): what a
 * route without RTA_PREFSRC leaves open, and what a local sender's frames
 * carry. Connecting a UDP socket sends nothing. 0 or a negative errno. */
int rc_route_source(int family, const union rc_addr *dst, unsigned int oif,
		    unsigned int route_if, union rc_addr *src);

/* Makes sure the neighbour table has a resolved entry for addr on ifindex and
 * keeps it resolved, by turning it into a kernel-managed entry (NTF_EXT_MANAGED,
 * Linux 5.16+), then polls until the entry is NUD_VALID or timeout_ms passes.
 * PERMANENT, NOARP and externally learned entries are never modified, only read.
 * On success copies the link-layer address to mac (may be NULL) and returns 0.
 * -ETIMEDOUT when it did not resolve in time (the managed entry stays and may
 * resolve later); -ENODATA when the entry is valid but has no 6-byte link-layer
 * address and mac was asked for; other negative errno on failure. On kernels
 * without managed entries it falls back to NTF_USE, which resolves the entry
 * now but does not keep it resolved. */
int rc_neigh_resolve(int family, const union rc_addr *addr, unsigned int ifindex,
		     unsigned int timeout_ms, uint8_t mac[6]);

/* The device's hardware address (RTM_GETLINK). 0, -ENODATA when the device has
 * no 6-byte hardware address, or another negative errno (-ENODEV: no device). */
int rc_link_mac(unsigned int ifindex, uint8_t mac[6]);

#endif /* REPLICAST_LIB_ROUTE_H */
