/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Per-subscriber header rewrite of an skb: Ethernet addresses, IP addresses,
 * UDP destination port, TTL, with the IP and UDP checksums kept correct.
 *
 * Every change goes through bpf_l3/l4_csum_replace rather than arithmetic of
 * our own, because only those helpers know skb->ip_summed: an skb sent by a
 * local socket is CHECKSUM_PARTIAL (the UDP field holds the pseudo-header sum
 * only and must not see port changes), one from a NIC carries the full sum. */
#ifndef REPLICAST_REWRITE_H
#define REPLICAST_REWRITE_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "parse.h"

#define IPV4_TTL_OFF	8
#define IPV4_CSUM_OFF	10
#define IPV4_SADDR_OFF	12
#define IPV6_HOPS_OFF	7
#define IPV6_SADDR_OFF	8
#define UDP_DPORT_OFF	2
#define UDP_CSUM_OFF	6

/* The fields a copy changes, as they stand in the skb right now. saddr and
 * daddr are adjacent so that IPv6 can diff both in one bpf_csum_diff. */
struct copy_headers {
	__u8 eth[12];			/* destination MAC, then source MAC */
	union rc_addr saddr;
	union rc_addr daddr;
	__be16 dport;			/* network byte order, as in the header */
};

static __always_inline void copy_headers_init(struct copy_headers *h, const struct packet *pkt)
{
	__builtin_memset(h, 0, sizeof(*h));
	h->saddr = pkt->saddr;
	h->daddr = pkt->key.addr;
	h->dport = bpf_htons(pkt->key.port);
}

/* Decrement TTL / hop limit once for all copies, as a router would.
 * Returns 0, or -1 when the packet must not be forwarded. */
static __always_inline int rewrite_ttl(struct __sk_buff *skb, const struct packet *pkt)
{
	__u8 ttl = pkt->ttl - 1;

	if (pkt->ttl <= 1)
		return -1;
	if (pkt->key.family == RC_AF_INET) {
		/* TTL shares its 16-bit checksum word with the protocol byte,
		 * which does not change: the word differs by (1 << 8). */
		__be16 old_word = bpf_htons((__u16)pkt->ttl << 8);
		__be16 new_word = bpf_htons((__u16)ttl << 8);

		if (bpf_l3_csum_replace(skb, pkt->l3_off + IPV4_CSUM_OFF, old_word, new_word, 2))
			return -1;
		return bpf_skb_store_bytes(skb, pkt->l3_off + IPV4_TTL_OFF, &ttl, 1, 0) ? -1 : 0;
	}
	return bpf_skb_store_bytes(skb, pkt->l3_off + IPV6_HOPS_OFF, &ttl, 1, 0) ? -1 : 0;
}

static __always_inline int rewrite_addrs_v4(struct __sk_buff *skb, const struct packet *pkt,
					    const struct copy_headers *cur,
					    const struct copy_headers *next)
{
	__u32 l4_csum = pkt->l4_off + UDP_CSUM_OFF;
	__u32 l3_csum = pkt->l3_off + IPV4_CSUM_OFF;
	__u64 pseudo = BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | sizeof(__be32);
	__be32 addrs[2] = { next->saddr.v4, next->daddr.v4 };

	if (bpf_l4_csum_replace(skb, l4_csum, cur->saddr.v4, next->saddr.v4, pseudo) ||
	    bpf_l4_csum_replace(skb, l4_csum, cur->daddr.v4, next->daddr.v4, pseudo) ||
	    bpf_l3_csum_replace(skb, l3_csum, cur->saddr.v4, next->saddr.v4, sizeof(__be32)) ||
	    bpf_l3_csum_replace(skb, l3_csum, cur->daddr.v4, next->daddr.v4, sizeof(__be32)))
		return -1;
	return bpf_skb_store_bytes(skb, pkt->l3_off + IPV4_SADDR_OFF, addrs, sizeof(addrs), 0);
}

static __always_inline int rewrite_addrs_v6(struct __sk_buff *skb, const struct packet *pkt,
					    const struct copy_headers *cur,
					    const struct copy_headers *next)
{
	__u32 l4_csum = pkt->l4_off + UDP_CSUM_OFF;
	__s64 diff;

	diff = bpf_csum_diff((__be32 *)&cur->saddr, 2 * sizeof(union rc_addr),
			     (__be32 *)&next->saddr, 2 * sizeof(union rc_addr), 0);
	if (diff < 0)
		return -1;
	/* Size 0 in the flags means "apply this precomputed diff". BPF_F_IPV6
	 * keeps skb->csum right for CHECKSUM_COMPLETE skbs on kernels that know
	 * it; older kernels reject the flag, so try once without. */
	if (bpf_l4_csum_replace(skb, l4_csum, 0, diff,
				BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | BPF_F_IPV6) &&
	    bpf_l4_csum_replace(skb, l4_csum, 0, diff, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0))
		return -1;
	return bpf_skb_store_bytes(skb, pkt->l3_off + IPV6_SADDR_OFF, &next->saddr,
				   2 * sizeof(union rc_addr), 0);
}

/* Turn the skb's headers from `cur` into `next`. On success the skb carries
 * `next`; on failure it may carry a mix, so the caller must stop sending. */
static __always_inline int rewrite_copy(struct __sk_buff *skb, const struct packet *pkt,
					const struct copy_headers *cur,
					const struct copy_headers *next)
{
	int err;

	if (pkt->key.family == RC_AF_INET)
		err = rewrite_addrs_v4(skb, pkt, cur, next);
	else
		err = rewrite_addrs_v6(skb, pkt, cur, next);
	if (err)
		return -1;
	/* The port is not part of the pseudo-header: under CHECKSUM_PARTIAL the
	 * helper leaves the field alone and the device sums the port later. */
	if (bpf_l4_csum_replace(skb, pkt->l4_off + UDP_CSUM_OFF, cur->dport, next->dport,
				BPF_F_MARK_MANGLED_0 | sizeof(__be16)))
		return -1;
	if (bpf_skb_store_bytes(skb, pkt->l4_off + UDP_DPORT_OFF, &next->dport,
				sizeof(next->dport), 0))
		return -1;
	return bpf_skb_store_bytes(skb, 0, next->eth, sizeof(next->eth), 0);
}

#endif /* REPLICAST_REWRITE_H */
