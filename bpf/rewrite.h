/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One subscriber's copy, for every data path: which addresses, port and MACs
 * it carries (copy_headers_for, resolve_next_hop), then either a rewrite of
 * an skb's headers into them (TC) or a whole header written from scratch
 * with checksums computed in O(1) (the XDP engine, write_copy_headers).
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
#include "counters.h"
#include "maps.h"

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
	__u16 too_big_mtu;		/* resolve_next_hop: the MTU a too_big copy met */
};

static __always_inline void copy_headers_init(struct copy_headers *h, const struct packet *pkt)
{
	__builtin_memset(h, 0, sizeof(*h));
	h->saddr = pkt->saddr;
	h->daddr = pkt->key.addr;
	h->dport = bpf_htons(pkt->key.port);
}

/* The addresses and port one subscriber's copy carries; the MACs come from
 * resolve_next_hop(). `source` is the original packet's source address,
 * which subscribers added with --keep-source see; `dport` its destination
 * port (host order), which a subscriber of port 0 keeps (a port range's
 * subscriber added without a port). */
static __always_inline void copy_headers_for(struct copy_headers *next, const struct rc_subscriber *sub,
					     const union rc_addr *source, __u16 dport)
{
	next->daddr = sub->addr;
	next->dport = bpf_htons(sub->port ? sub->port : dport);
	next->saddr = (sub->flags & SUB_F_KEEP_SOURCE) ? *source : sub->source;
}

/* The next hop `sub add` found, for a device the FIB will not answer for:
 * its MAC as the `neighbours` map has it now. The FIB would also have
 * checked the route's MTU; here tot_len (one datagram's IP length) is
 * checked against the egress device's, which bpf_check_mtu reads. */
static __always_inline __u32 next_hop_from_slot(void *ctx, const struct rc_subscriber *sub,
					     struct copy_headers *next, __u32 tot_len,
					     __u32 packets)
{
	struct rc_neigh_key key = {};
	__u32 mtu_len = tot_len, zero = 0;
	struct rc_config *cfg;
	struct rc_neigh *nh;

	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || !(sub->flags & SUB_F_CACHED_NEXT_HOP)) {
		count_drops(DROP_FORWARDING_OFF, packets);
		return 0;
	}
	key.netns_cookie = cfg->netns_cookie;
	key.ifindex = sub->ifindex;
	key.family = sub->family;
	key.addr = sub->gateway;
	nh = bpf_map_lookup_elem(&neighbours, &key);
	if (!nh || !nh->valid) {
		count_drops(DROP_NO_NEIGH, packets);
		return 0;
	}
	/* The helper answers "fits" for any GSO skb and would only check its
	 * segments without a length of ours; it always hands back the MTU. */
	if (bpf_check_mtu(ctx, sub->ifindex, &mtu_len, 0, 0) < 0 || tot_len > mtu_len) {
		next->too_big_mtu = mtu_len;
		count_drops(DROP_TOO_BIG, packets);
		return 0;
	}
	__builtin_memcpy(next->eth, nh->mac, 6);
	__builtin_memcpy(next->eth + 6, sub->src_mac, 6);
	return sub->ifindex;
}

/* Finds the MACs and egress device for one copy: from the subscriber entry
 * when it pins them, else from the kernel's FIB and neighbour table. `ctx`
 * is the program's context (skb or xdp_md), which bpf_fib_lookup wants;
 * tot_len the IP length of one datagram, for the route's MTU; `packets` the
 * datagrams the copy carries. Returns the egress ifindex, or 0 after
 * counting why there is none, once per datagram. Not inlined: its
 * parameter is what puts the full struct rc_subscriber into BTF, which libbpf
 * needs to size the inner map of group_subs. */
static __noinline __u32 resolve_next_hop(void *ctx, const struct rc_subscriber *sub,
					 struct copy_headers *next, __u32 tot_len, __u32 packets)
{
	struct bpf_fib_lookup fib = {};
	int rc;

	if (sub->flags & SUB_F_STATIC_MAC) {
		__builtin_memcpy(next->eth, sub->dst_mac, 6);
		__builtin_memcpy(next->eth + 6, sub->src_mac, 6);
		return sub->ifindex;
	}
	fib.family = sub->family;
	fib.l4_protocol = IPPROTO_UDP;
	fib.dport = next->dport;
	fib.ifindex = sub->ifindex;
	if (fib.family == RC_AF_INET) {
		fib.tot_len = tot_len;
		fib.ipv4_src = next->saddr.v4;
		fib.ipv4_dst = next->daddr.v4;
	} else {
		__builtin_memcpy(fib.ipv6_src, next->saddr.v6, 16);
		__builtin_memcpy(fib.ipv6_dst, next->daddr.v6, 16);
	}
	/* OUTPUT: route as if the host itself sent to the subscriber, limited
	 * to the device the subscriber was added on. */
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), BPF_FIB_LOOKUP_OUTPUT);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		__builtin_memcpy(next->eth, fib.dmac, 6);
		__builtin_memcpy(next->eth + 6, fib.smac, 6);
		return fib.ifindex;
	}
	/* The helper refuses any device that does not forward, even for the
	 * output direction (bpf_ipv4_fib_lookup and bpf_ipv6_fib_lookup check
	 * forwarding before they look at the flags). A relay sends its own
	 * copies and need not route other people's packets: use the next hop
	 * sub add resolved. */
	if (rc == BPF_FIB_LKUP_RET_FWD_DISABLED)
		return next_hop_from_slot(ctx, sub, next, tot_len, packets);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		count_drops(DROP_NO_NEIGH, packets);
	else if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED) {
		next->too_big_mtu = fib.mtu_result;
		count_drops(DROP_TOO_BIG, packets);
	}
	else
		count_drops(DROP_NO_ROUTE, packets);
	return 0;
}

/* The TTL / hop limit a group's copies leave with (see RC_COPY_TTL), or 0
 * when a packet that arrived with `rx_ttl` must not be fanned out. */
static __always_inline __u8 copy_ttl(const struct rc_group_key *key, const struct rc_group *grp,
				     __u8 rx_ttl)
{
	if (key_is_multicast(key))
		return grp->ttl ? grp->ttl : RC_COPY_TTL;
	return rx_ttl > 1 ? rx_ttl - 1 : 0;
}

/* Sets TTL / hop limit to `ttl` once for all copies. Returns 0 or -1. */
static __always_inline int rewrite_ttl(struct __sk_buff *skb, const struct packet *pkt, __u8 ttl)
{
	if (ttl == pkt->ttl)
		return 0;
	if (pkt->key.family == RC_AF_INET) {
		/* TTL shares its 16-bit checksum word with the protocol byte,
		 * which does not change. The header's sum stays the same, so
		 * a CHECKSUM_COMPLETE skb->csum stays right too. */
		__be16 old_word = bpf_htons((__u16)pkt->ttl << 8);
		__be16 new_word = bpf_htons((__u16)ttl << 8);

		if (bpf_l3_csum_replace(skb, pkt->l3_off + IPV4_CSUM_OFF, old_word, new_word, 2))
			return -1;
		return bpf_skb_store_bytes(skb, pkt->l3_off + IPV4_TTL_OFF, &ttl, 1, 0) ? -1 : 0;
	}
	/* The IPv6 header has no checksum to balance the change: RECOMPUTE_CSUM
	 * keeps a CHECKSUM_COMPLETE skb->csum in step with the new byte. */
	return bpf_skb_store_bytes(skb, pkt->l3_off + IPV6_HOPS_OFF, &ttl, 1,
				   BPF_F_RECOMPUTE_CSUM) ? -1 : 0;
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
	__u64 store_flags = 0;
	__s64 diff;

	diff = bpf_csum_diff((__be32 *)&cur->saddr, 2 * sizeof(union rc_addr),
			     (__be32 *)&next->saddr, 2 * sizeof(union rc_addr), 0);
	if (diff < 0)
		return -1;
	/* Size 0 in the flags means "apply this precomputed diff". Under
	 * CHECKSUM_COMPLETE the new addresses and the UDP checksum change by
	 * amounts that cancel in the packet's sum: BPF_F_IPV6 tells the helper
	 * so, and skb->csum stays as it is. Older kernels reject the flag and
	 * move skb->csum by the checksum field's change alone; the store then
	 * adds the addresses' (BPF_F_RECOMPUTE_CSUM), which balances it. */
	if (bpf_l4_csum_replace(skb, l4_csum, 0, diff,
				BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | BPF_F_IPV6)) {
		if (bpf_l4_csum_replace(skb, l4_csum, 0, diff,
					BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0))
			return -1;
		store_flags = BPF_F_RECOMPUTE_CSUM;
	}
	return bpf_skb_store_bytes(skb, pkt->l3_off + IPV6_SADDR_OFF, &next->saddr,
				   2 * sizeof(union rc_addr), store_flags);
}

/* Turn the skb's headers from `cur` into `next`. On success the skb carries
 * `next`; on failure it may carry a mix, so the caller must stop sending.
 * Global (not static): the verifier checks it once, on its own, instead of
 * once for every path that reaches it through the fan-out (which took the
 * replicator to 97 % of the verifier's budget of a million instructions). */
__noinline int rewrite_copy(struct __sk_buff *skb, const struct packet *pkt,
			    const struct copy_headers *cur, const struct copy_headers *next)
{
	int err;

	if (!skb || !pkt || !cur || !next)
		return -1;

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

/* ---- Whole headers, for frames built from scratch (the XDP engine) ----
 *
 * The Internet checksum is byte-order independent (RFC 1071, 2.B): words are
 * summed as they lie in memory, 32 bits at a time into 64, folded at the
 * end, and the result stored as it comes out is right on the wire. The
 * library sums payloads the same way (rc_csum_add, rc_csum_fold). */

/* Folds a 64-bit sum to 16 bits and complements it: the checksum field. */
static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __always_inline __u64 csum_add_addr(__u64 sum, const union rc_addr *a, __u8 family)
{
	const __u32 *w = (const __u32 *)a;

	if (family == RC_AF_INET)
		return sum + w[0];
	return sum + w[0] + w[1] + w[2] + w[3];
}

/* What a copy carries besides its subscriber's addresses: the same for
 * every copy of one packet. */
struct copy_payload {
	__u16 len;			/* payload bytes */
	__be16 sport;
	__be16 ip_id;			/* IPv4 only */
	__u8 ttl;			/* TTL / hop limit, from copy_ttl() */
	__u32 sum;			/* payload's one's complement sum, folded, not complemented */
};

#define IP_DF		0x4000		/* "don't fragment" in frag_off */
#define COPY_HDR_V4	(ETH_HLEN + sizeof(struct iphdr) + sizeof(struct udphdr))
#define COPY_HDR_V6	(ETH_HLEN + sizeof(struct ipv6hdr) + sizeof(struct udphdr))

/* The UDP checksum in O(1): the payload's sum (known before any copy),
 * the pseudo-header and the UDP header. 0 would say "no checksum" (and is
 * forbidden in IPv6): its one's complement twin says the same sum. */
static __always_inline __u16 udp_csum_for(const struct copy_headers *h, __u8 family,
					  const struct copy_payload *p, __be16 udp_len)
{
	__u64 sum = p->sum;
	__u16 csum;

	sum = csum_add_addr(sum, &h->saddr, family);
	sum = csum_add_addr(sum, &h->daddr, family);
	sum += bpf_htons(IPPROTO_UDP) + udp_len;	/* pseudo-header's protocol and length */
	sum += p->sport + h->dport + udp_len;		/* the UDP header, checksum 0 */
	csum = csum_fold(sum);
	return csum ? csum : 0xffff;
}

/* Writes a copy's whole Ethernet, IP and UDP headers at the start of the
 * frame [data, data_end): every byte, as the frame's memory may hold an
 * older packet. TTL / hop limit p->ttl, IPv4 "don't fragment".
 * Returns the header length, or -1 when the frame is shorter. */
static __always_inline int write_copy_headers(void *data, void *data_end, __u8 family,
					      const struct copy_headers *h,
					      const struct copy_payload *p)
{
	__be16 udp_len = bpf_htons(sizeof(struct udphdr) + p->len);
	struct ethhdr *eth = data;
	struct udphdr *udph;

	if (family == RC_AF_INET) {
		struct iphdr *iph = data + ETH_HLEN;
		__u32 *w = (__u32 *)iph;

		udph = (void *)(iph + 1);
		if ((void *)(udph + 1) > data_end)
			return -1;
		__builtin_memcpy(eth, h->eth, 12);
		eth->h_proto = bpf_htons(ETH_P_IP);
		*(__u8 *)iph = 0x45;		/* version 4, 5 words of header */
		iph->tos = 0;
		iph->tot_len = bpf_htons(sizeof(*iph) + sizeof(*udph) + p->len);
		iph->id = p->ip_id;
		iph->frag_off = bpf_htons(IP_DF);
		iph->ttl = p->ttl;
		iph->protocol = IPPROTO_UDP;
		iph->check = 0;
		iph->saddr = h->saddr.v4;
		iph->daddr = h->daddr.v4;
		iph->check = csum_fold((__u64)w[0] + w[1] + w[2] + w[3] + w[4]);
	} else {
		struct ipv6hdr *ip6h = data + ETH_HLEN;

		udph = (void *)(ip6h + 1);
		if ((void *)(udph + 1) > data_end)
			return -1;
		__builtin_memcpy(eth, h->eth, 12);
		eth->h_proto = bpf_htons(ETH_P_IPV6);
		*(__be32 *)ip6h = bpf_htonl(0x60000000);	/* version 6, no class, no flow label */
		ip6h->payload_len = udp_len;
		ip6h->nexthdr = IPPROTO_UDP;
		ip6h->hop_limit = p->ttl;
		__builtin_memcpy(&ip6h->saddr, &h->saddr, 16);
		__builtin_memcpy(&ip6h->daddr, &h->daddr, 16);
	}
	udph->source = p->sport;
	udph->dest = h->dport;
	udph->len = udp_len;
	udph->check = udp_csum_for(h, family, p, udp_len);
	return (void *)(udph + 1) - data;
}

#endif /* REPLICAST_REWRITE_H */
