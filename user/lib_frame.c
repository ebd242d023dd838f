// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Frames for the AF_XDP sender: Ethernet + IPv4/IPv6 + UDP headers from a
 * per-group template, the payload copied once, IP and UDP checksums in full.
 * Pure functions over memory, so a unit test can check every byte. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include "internal.h"

#define IP_DF		0x4000	/* "don't fragment", in the flags and offset word */

/* The Internet checksum is byte-order independent (RFC 1071, 2.B): sum the
 * data as native 32-bit words into 64 bits, fold at the end, and the result
 * stored in native order is right on the wire. */
__u64 rc_csum_add(__u64 sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t w32;
	uint16_t w16 = 0;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w32, p, 4);
		sum += w32;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		sum += w16;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* A last odd byte is the high byte of a zero-padded word. */
		w16 = 0;
		memcpy(&w16, p, 1);
		sum += w16;
	}
	return sum;
}

__u16 rc_csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

void rc_frame_template_init(struct rc_frame_template *t, const __u8 dst_mac[6],
			    const __u8 src_mac[6], const struct replicast_endpoint *src,
			    const struct replicast_endpoint *dst)
{
	struct ethhdr *eth = (struct ethhdr *)t->hdr;
	struct udphdr *uh;
	uint16_t proto = htons(IPPROTO_UDP);

	memset(t, 0, sizeof(*t));
	memcpy(eth->h_dest, dst_mac, ETH_ALEN);
	memcpy(eth->h_source, src_mac, ETH_ALEN);
	t->family = dst->family;
	if (dst->family == AF_INET) {
		struct iphdr *ip = (struct iphdr *)(t->hdr + ETH_HLEN);

		eth->h_proto = htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5;
		/* As a UDP socket with path MTU discovery on: never fragmented
		 * on the way, which the replicator would refuse anyway. */
		ip->frag_off = htons(IP_DF);
		ip->ttl = RC_FRAME_TTL;
		ip->protocol = IPPROTO_UDP;
		ip->saddr = src->addr.v4.s_addr;
		ip->daddr = dst->addr.v4.s_addr;
		t->hdr_len = RC_FRAME_HDR_V4;
		t->pseudo_sum = rc_csum_add(0, &ip->saddr, 8);
	} else {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(t->hdr + ETH_HLEN);

		eth->h_proto = htons(ETH_P_IPV6);
		ip6->version = 6;
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = RC_FRAME_TTL;
		memcpy(&ip6->saddr, &src->addr.v6, 16);
		memcpy(&ip6->daddr, &dst->addr.v6, 16);
		t->hdr_len = RC_FRAME_HDR_V6;
		t->pseudo_sum = rc_csum_add(0, &ip6->saddr, 32);
	}
	/* The pseudo-header's protocol word; its length is added per frame. */
	t->pseudo_sum += proto;
	uh = (struct udphdr *)(t->hdr + t->hdr_len - sizeof(*uh));
	uh->source = htons(src->port);
	uh->dest = htons(dst->port);
}

int rc_frame_build(const struct rc_frame_template *t, void *buf, size_t cap, const void *payload,
		   size_t len, __u16 ip_id)
{
	uint8_t *f = buf;
	size_t udp_len = sizeof(struct udphdr) + len;
	struct udphdr *uh;
	uint16_t wire_len, csum;

	if (t->hdr_len + len > cap || udp_len > 0xffff - sizeof(struct iphdr))
		return -EMSGSIZE;
	memcpy(f, t->hdr, t->hdr_len);
	memcpy(f + t->hdr_len, payload, len);
	wire_len = htons((uint16_t)udp_len);
	if (t->family == AF_INET) {
		struct iphdr *ip = (struct iphdr *)(f + ETH_HLEN);

		ip->tot_len = htons((uint16_t)(sizeof(*ip) + udp_len));
		ip->id = htons(ip_id);
		ip->check = rc_csum_fold(rc_csum_add(0, ip, sizeof(*ip)));
	} else {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(f + ETH_HLEN);

		ip6->payload_len = wire_len;
	}
	uh = (struct udphdr *)(f + t->hdr_len - sizeof(*uh));
	uh->len = wire_len;
	csum = rc_csum_fold(rc_csum_add(t->pseudo_sum + wire_len, uh, udp_len));
	/* 0 means "no checksum" in IPv4 and is forbidden in IPv6 (RFC 768,
	 * RFC 8200 8.1): its one's complement twin says the same sum. */
	uh->check = csum ? csum : 0xffff;
	return (int)(t->hdr_len + len);
}
