/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What a router says when a packet does not fit the next link: ICMP
 * "fragmentation needed" (IPv4, when the sender set DF) or ICMPv6 "packet
 * too big", sent back to the source out of the device the packet came in
 * on, so that its path MTU discovery can shrink what it sends. The packet
 * itself becomes the error: it is cut to the headers the error quotes and
 * written anew from a copy of its first bytes taken before the fan-out. */
#ifndef REPLICAST_ICMP_H
#define REPLICAST_ICMP_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "parse.h"
#include "rewrite.h"

/* What an error quotes: the IP header and the UDP header (RFC 792 asks for
 * 8 bytes past the header; RFC 4443 for as much as fits, of which the UDP
 * header is what a sender needs to find its socket). */
#define QUOTE_V4	(sizeof(struct iphdr) + sizeof(struct udphdr))
#define QUOTE_V6	(sizeof(struct ipv6hdr) + sizeof(struct udphdr))
#define ICMP_HDR	8
#define ICMP_FRAME_V4	(ETH_HLEN + sizeof(struct iphdr) + ICMP_HDR + QUOTE_V4)
#define ICMP_FRAME_V6	(ETH_HLEN + sizeof(struct ipv6hdr) + ICMP_HDR + QUOTE_V6)
#define ICMP_TTL	64

/* The frame's first bytes as they arrived: Ethernet and what an error
 * quotes. Taken before the first copy rewrites them. Two bytes in front
 * put the IP header on a 4-byte boundary: the verifier refuses misaligned
 * stack access, and the headers are read a word at a time. */
struct arrived_headers {
	__u8 pad[2];
	__u8 bytes[ETH_HLEN + QUOTE_V6];
} __attribute__((aligned(4)));

/* Per CPU, not on the stack: the fan-out's callbacks leave no room there.
 * A packet's fan-out runs to its end on one CPU before the next one's. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct arrived_headers);
} arrived_headers SEC(".maps");

/* This CPU's copy of the packet's first bytes, or NULL. */
static __always_inline struct arrived_headers *save_arrived_headers(struct __sk_buff *skb,
								    const struct packet *pkt)
{
	__u32 len = ETH_HLEN + (pkt->key.family == RC_AF_INET ? QUOTE_V4 : QUOTE_V6), zero = 0;
	struct arrived_headers *a = bpf_map_lookup_elem(&arrived_headers, &zero);

	if (!a || bpf_skb_load_bytes(skb, 0, a->bytes, len))
		return NULL;
	return a;
}

/* A local sender's socket leaves the UDP checksum to the device
 * (CHECKSUM_PARTIAL): the field holds only the pseudo-header's sum, and the
 * stack would sum over the rebuilt frame at the old offsets. A program
 * cannot read or clear that state, so such packets get no error. They come
 * from this host's own namespaces, never from a NIC. */
static __always_inline int checksum_left_to_device(const struct packet *pkt,
						   const struct arrived_headers *a)
{
	const struct udphdr *uh = (const void *)(a->bytes + ETH_HLEN +
						 (pkt->key.family == RC_AF_INET ?
						  sizeof(struct iphdr) : sizeof(struct ipv6hdr)));
	__u64 sum = bpf_htons(IPPROTO_UDP) + bpf_htons(pkt->udp_len);

	sum = csum_add_addr(sum, &pkt->saddr, pkt->key.family);
	sum = csum_add_addr(sum, &pkt->key.addr, pkt->key.family);
	return uh->check && uh->check == (__u16)~csum_fold(sum);
}

/* Whether a router would answer this packet: from the network, one
 * datagram, to a unicast group (the error's source is the group address,
 * which must be unicast), IPv4 with DF set. */
static __always_inline int wants_too_big(const struct __sk_buff *skb, const struct packet *pkt,
					 const struct arrived_headers *a)
{
	if (skb->gso_size || key_is_multicast(&pkt->key) || checksum_left_to_device(pkt, a))
		return 0;
	if (pkt->key.family == RC_AF_INET) {
		const struct iphdr *iph = (const void *)(a->bytes + ETH_HLEN);

		return (iph->frag_off & bpf_htons(IP_DF)) != 0;
	}
	return 1;
}

/* Turns the skb into the error and sends it back out of its ingress
 * device. Returns the verdict: TC_ACT_REDIRECT, or TC_ACT_SHOT when a
 * helper failed. Not inlined, so that its frame is not added to the
 * fan-out's on the stack. */
static __noinline int send_too_big(struct __sk_buff *skb, const struct packet *pkt,
				   const struct arrived_headers *a, __u16 mtu)
{
	/* The frame is built at buf + 2, for alignment as in arrived_headers. */
	__u8 buf[2 + ICMP_FRAME_V6] __attribute__((aligned(4))) = {};
	__u8 *f = buf + 2;
	struct ethhdr *eth = (void *)f;
	const struct ethhdr *arrived = (const void *)a->bytes;
	__u32 len, ifindex = skb->ingress_ifindex;
	__u64 sum;

	__builtin_memcpy(eth->h_dest, arrived->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, arrived->h_dest, ETH_ALEN);
	if (pkt->key.family == RC_AF_INET) {
		struct iphdr *iph = (void *)(f + ETH_HLEN);
		__u8 *icmp = (__u8 *)(iph + 1);
		__u32 *w = (__u32 *)iph;

		len = ICMP_FRAME_V4;
		eth->h_proto = bpf_htons(ETH_P_IP);
		*(__u8 *)iph = 0x45;
		iph->tos = 0xc0;		/* internetwork control, as routers send */
		iph->tot_len = bpf_htons(len - ETH_HLEN);
		iph->ttl = ICMP_TTL;
		iph->protocol = IPPROTO_ICMP;
		iph->saddr = pkt->key.addr.v4;
		iph->daddr = pkt->saddr.v4;
		iph->check = csum_fold((__u64)w[0] + w[1] + w[2] + w[3] + w[4]);
		icmp[0] = 3;			/* destination unreachable */
		icmp[1] = 4;			/* fragmentation needed and DF set */
		*(__be16 *)(icmp + 6) = bpf_htons(mtu);
		__builtin_memcpy(icmp + ICMP_HDR, a->bytes + ETH_HLEN, QUOTE_V4);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)icmp, ICMP_HDR + QUOTE_V4, 0);
		*(__u16 *)(icmp + 2) = csum_fold(sum);
	} else {
		struct ipv6hdr *ip6h = (void *)(f + ETH_HLEN);
		__u8 *icmp = (__u8 *)(ip6h + 1);
		__be16 plen = bpf_htons(ICMP_HDR + QUOTE_V6);

		len = ICMP_FRAME_V6;
		eth->h_proto = bpf_htons(ETH_P_IPV6);
		*(__be32 *)ip6h = bpf_htonl(0x6c000000);	/* version 6, class 0xc0 */
		ip6h->payload_len = plen;
		ip6h->nexthdr = IPPROTO_ICMPV6;
		ip6h->hop_limit = ICMP_TTL;
		__builtin_memcpy(&ip6h->saddr, &pkt->key.addr, 16);
		__builtin_memcpy(&ip6h->daddr, &pkt->saddr, 16);
		icmp[0] = 2;			/* packet too big */
		*(__be32 *)(icmp + 4) = bpf_htonl(mtu);
		__builtin_memcpy(icmp + ICMP_HDR, a->bytes + ETH_HLEN, QUOTE_V6);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)icmp, ICMP_HDR + QUOTE_V6, 0);
		/* the pseudo-header: both addresses, the length, next header */
		sum = csum_add_addr(sum, &pkt->key.addr, RC_AF_INET6);
		sum = csum_add_addr(sum, &pkt->saddr, RC_AF_INET6);
		sum += plen + bpf_htons(IPPROTO_ICMPV6);
		*(__u16 *)(icmp + 2) = csum_fold(sum);
	}
	/* A NIC's full checksum (CHECKSUM_COMPLETE) covers what follows the
	 * Ethernet header: RECOMPUTE_CSUM keeps it right for the new bytes. */
	if (bpf_skb_change_tail(skb, len, 0) || bpf_skb_store_bytes(skb, 0, f, ETH_HLEN, 0) ||
	    bpf_skb_store_bytes(skb, ETH_HLEN, f + ETH_HLEN, len - ETH_HLEN, BPF_F_RECOMPUTE_CSUM))
		return TC_ACT_SHOT;
	return bpf_redirect(ifindex, 0);
}

#endif /* REPLICAST_ICMP_H */
