/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Parsing of Ethernet / IPv4 / IPv6 / UDP for the replicator: bounds-checked
 * against data_end right before each access, no pointer kept past the parse. */
#ifndef REPLICAST_PARSE_H
#define REPLICAST_PARSE_H

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include "replicast_types.h"

#define IP_MF		0x2000
#define IP_OFFSET	0x1fff

/* Longest header run the replicator reads: Ethernet + IPv6 + UDP. */
#define MAX_HEADER_LEN	(ETH_HLEN + sizeof(struct ipv6hdr) + sizeof(struct udphdr))

/* What the parse learnt about a packet, by value: packet pointers do not
 * survive the helpers the fan-out calls (see rewrite.h). */
struct packet {
	struct rc_group_key key;		/* destination: family, address, port */
	union rc_addr saddr;
	__u32 l3_off;			/* offset of the IP header */
	__u32 l4_off;			/* offset of the UDP header */
	__u32 ip_len;			/* IP total length (v4) or 40 + payload length (v6) */
	__u16 udp_len;
	__u8 ttl;			/* TTL or hop limit as received */
	__u8 dst_known;			/* key.family/key.addr were parsed */
};

/* 224.0.0.0/4 or ff00::/8. */
static __always_inline int key_is_multicast(const struct rc_group_key *key)
{
	if (key->family == RC_AF_INET)
		return (bpf_ntohl(key->addr.v4) >> 28) == 0xe;
	return key->addr.v6[0] == 0xff;
}

enum parse_result {
	PARSE_OK = -1,			/* a well-formed UDP packet */
	PARSE_NOT_IP = -2,		/* ARP and friends: none of our business */
	/* values >= 0 are an enum drop_reason */
};

/* The folded one's complement sum of a 20-byte IPv4 header: 0 when its
 * checksum is right. A router drops a header that fails it (RFC 1812). */
static __always_inline __u16 ipv4_header_sum(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;
	int i;

	for (i = 0; i < (int)(sizeof(*iph) / 2); i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __always_inline int parse_ipv4(void *data, void *data_end, struct packet *pkt)
{
	struct iphdr *iph = data + ETH_HLEN;

	if ((void *)(iph + 1) > data_end)
		return DROP_TRUNCATED_IP;
	pkt->key.family = RC_AF_INET;
	pkt->key.addr.v4 = iph->daddr;
	pkt->saddr.v4 = iph->saddr;
	pkt->dst_known = 1;
	pkt->ttl = iph->ttl;
	pkt->l3_off = ETH_HLEN;
	pkt->ip_len = bpf_ntohs(iph->tot_len);

	if (iph->version != 4 || iph->ihl < 5)
		return DROP_BAD_IP_HEADER;
	if (iph->ihl > 5)
		return DROP_IP_OPTIONS;
	/* The header must fit in the total length; parse_packet checks that the
	 * total length fits in the frame (bytes after it are padding, kept). */
	if (pkt->ip_len < sizeof(*iph))
		return DROP_BAD_IP_HEADER;
	if (ipv4_header_sum(iph))
		return DROP_BAD_IP_CSUM;
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return DROP_FRAGMENT;
	if (iph->protocol != IPPROTO_UDP)
		return DROP_NOT_UDP;
	pkt->l4_off = ETH_HLEN + sizeof(*iph);
	return PARSE_OK;
}

/* IPv6 next-header values that are extension headers (RFC 8200, 4.1). */
static __always_inline int is_ipv6_ext_header(__u8 nexthdr)
{
	switch (nexthdr) {
	case 0:		/* hop-by-hop */
	case 43:	/* routing */
	case 50:	/* ESP */
	case 51:	/* AH */
	case 60:	/* destination options */
	case 135:	/* mobility */
	case 139:	/* HIP */
	case 140:	/* shim6 */
		return 1;
	}
	return 0;
}

static __always_inline int parse_ipv6(void *data, void *data_end, struct packet *pkt)
{
	struct ipv6hdr *ip6h = data + ETH_HLEN;

	if ((void *)(ip6h + 1) > data_end)
		return DROP_TRUNCATED_IP;
	pkt->key.family = RC_AF_INET6;
	__builtin_memcpy(pkt->key.addr.v6, &ip6h->daddr, 16);
	__builtin_memcpy(pkt->saddr.v6, &ip6h->saddr, 16);
	pkt->dst_known = 1;
	pkt->ttl = ip6h->hop_limit;
	pkt->l3_off = ETH_HLEN;
	pkt->ip_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);

	if (ip6h->version != 6)
		return DROP_BAD_IP_HEADER;
	if (ip6h->nexthdr == 44)	/* fragment header */
		return DROP_FRAGMENT;
	if (is_ipv6_ext_header(ip6h->nexthdr))
		return DROP_IP_OPTIONS;
	if (ip6h->nexthdr != IPPROTO_UDP)
		return DROP_NOT_UDP;
	pkt->l4_off = ETH_HLEN + sizeof(*ip6h);
	return PARSE_OK;
}

/* Parses the frame [data, data_end) of total length pkt_len (which may exceed
 * data_end - data when the tail is not linear). Returns PARSE_OK, PARSE_NOT_IP
 * or the enum drop_reason that stops replication. */
static __always_inline int parse_packet(void *data, void *data_end, __u32 pkt_len,
					struct packet *pkt)
{
	struct ethhdr *eth = data;
	struct udphdr *udph;
	__u16 udp_len;
	int ret;

	if ((void *)(eth + 1) > data_end)
		return DROP_TRUNCATED_ETH;
	switch (eth->h_proto) {
	case bpf_htons(ETH_P_IP):
		ret = parse_ipv4(data, data_end, pkt);
		break;
	case bpf_htons(ETH_P_IPV6):
		ret = parse_ipv6(data, data_end, pkt);
		break;
	case bpf_htons(ETH_P_8021Q):
	case bpf_htons(ETH_P_8021AD):
		return DROP_VLAN;
	default:
		return PARSE_NOT_IP;
	}
	if (ret != PARSE_OK)
		return ret;
	if (pkt->l3_off + pkt->ip_len > pkt_len)
		return DROP_BAD_IP_HEADER;

	udph = data + pkt->l4_off;
	if ((void *)(udph + 1) > data_end)
		return DROP_TRUNCATED_UDP;
	pkt->key.port = bpf_ntohs(udph->dest);
	udp_len = bpf_ntohs(udph->len);
	/* The UDP length must be the IP payload's, exactly: a shorter one would
	 * make copies carry bytes after the datagram that no checksum covers. */
	if (udp_len < sizeof(*udph) || pkt->l4_off + udp_len != pkt->l3_off + pkt->ip_len)
		return DROP_BAD_UDP_LENGTH;
	if (pkt->key.family == RC_AF_INET6 && udph->check == 0)
		return DROP_UDP6_ZERO_CSUM;
	pkt->udp_len = udp_len;
	return PARSE_OK;
}

#endif /* REPLICAST_PARSE_H */
