/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The kernel's neighbour entries as the tracepoint program reads them: only
 * the fields it needs, found by name at load time (CO-RE), so the program
 * follows the running kernel's layout without its headers. */
#ifndef REPLICAST_NEIGH_H
#define REPLICAST_NEIGH_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "maps.h"

/* NUD_VALID in the kernel: every state in which the entry's MAC is usable. */
#define RC_NUD_VALID	(0x80 | 0x40 | 0x02 | 0x10 | 0x04 | 0x08)

struct net___rc {
	__u64 net_cookie;
} __attribute__((preserve_access_index));

struct net_device___rc {
	int ifindex;
	struct {
		struct net___rc *net;
	} nd_net;
} __attribute__((preserve_access_index));

struct neigh_table___rc {
	int family;
} __attribute__((preserve_access_index));

struct neighbour___rc {
	struct neigh_table___rc *tbl;
	__u8 nud_state;
	unsigned char ha[32];
	struct net_device___rc *dev;
	__u8 primary_key[0];
} __attribute__((preserve_access_index));

/* After the kernel changed neighbour entry `n`: if a subscriber's copies
 * depend on it (the map has its key), copy its MAC and whether it is valid. */
static __always_inline void track_neighbour_update(struct neighbour___rc *n)
{
	struct rc_neigh_key key = {};
	struct rc_neigh next = {};
	struct rc_neigh *have;
	int family = BPF_CORE_READ(n, tbl, family);

	if (family == RC_AF_INET)
		bpf_core_read(&key.addr, 4, &n->primary_key);
	else if (family == RC_AF_INET6)
		bpf_core_read(&key.addr, 16, &n->primary_key);
	else
		return;
	key.family = (__u8)family;
	key.ifindex = BPF_CORE_READ(n, dev, ifindex);
	key.netns_cookie = BPF_CORE_READ(n, dev, nd_net.net, net_cookie);
	have = bpf_map_lookup_elem(&neighbours, &key);
	if (!have)
		return;
	next.valid = (BPF_CORE_READ(n, nud_state) & RC_NUD_VALID) ? 1 : 0;
	if (next.valid)
		bpf_core_read(next.mac, 6, &n->ha);
	else
		__builtin_memcpy(next.mac, have->mac, 6);
	/* A whole new element (no preallocation): readers see old or new. */
	bpf_map_update_elem(&neighbours, &key, &next, BPF_EXIST);
}

#endif /* REPLICAST_NEIGH_H */
