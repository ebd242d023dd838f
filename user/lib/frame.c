// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Frames for the AF_XDP sender: Ethernet + IPv4/IPv6 + UDP headers from a
 * per-group template, the payload copied once, IP and UDP checksums in full.
 * Pure functions over memory, so a unit test can check every byte. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include "internal.h"

#define IP_DF		0x4000	/* "don't fragment", in the flags and offset word */
#define IP4_HDR_LEN	20
#define UDP_HDR_LEN	8

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

/* Header fields by offset, written with memcpy: at 14 bytes into a frame
 * the IP header is not 4-byte aligned, so no struct pointer may touch it. */
#define IP4_TOT_LEN	2
#define IP4_ID		4
#define IP4_FRAG_OFF	6
#define IP4_TTL		8
#define IP4_PROTOCOL	9
#define IP4_CHECK	10
#define IP4_SADDR	12
#define IP6_PAYLOAD_LEN	4
#define IP6_NEXTHDR	6
#define IP6_HOP_LIMIT	7
#define IP6_SADDR	8
#define UDP_SOURCE	0
#define UDP_DEST	2
#define UDP_LEN		4
#define UDP_CHECK	6

static void put16(__u8 *p, __u16 host)
{
	__u16 be = htons(host);

	memcpy(p, &be, 2);
}

void rc_frame_template_init(struct rc_frame_template *t, const __u8 dst_mac[6],
			    const __u8 src_mac[6], const struct replicast_endpoint *src,
			    const struct replicast_endpoint *dst)
{
	__u8 *ip = t->hdr + ETH_HLEN, *udp;
	__u16 proto = htons(IPPROTO_UDP);

	memset(t, 0, sizeof(*t));
	memcpy(t->hdr, dst_mac, ETH_ALEN);
	memcpy(t->hdr + ETH_ALEN, src_mac, ETH_ALEN);
	t->family = dst->family;
	if (dst->family == AF_INET) {
		put16(t->hdr + 12, ETH_P_IP);
		ip[0] = 0x45;		/* version 4, 5 words of header */
		/* As a UDP socket with path MTU discovery on: never fragmented
		 * on the way, which the replicator would refuse anyway. */
		put16(ip + IP4_FRAG_OFF, IP_DF);
		ip[IP4_TTL] = RC_SENDER_TTL;
		ip[IP4_PROTOCOL] = IPPROTO_UDP;
		memcpy(ip + IP4_SADDR, &src->addr.v4, 4);
		memcpy(ip + IP4_SADDR + 4, &dst->addr.v4, 4);
		t->hdr_len = RC_FRAME_HDR_V4;
		t->pseudo_sum = rc_csum_add(0, ip + IP4_SADDR, 8);
	} else {
		put16(t->hdr + 12, ETH_P_IPV6);
		ip[0] = 0x60;		/* version 6, no traffic class, no flow label */
		ip[IP6_NEXTHDR] = IPPROTO_UDP;
		ip[IP6_HOP_LIMIT] = RC_SENDER_TTL;
		memcpy(ip + IP6_SADDR, &src->addr.v6, 16);
		memcpy(ip + IP6_SADDR + 16, &dst->addr.v6, 16);
		t->hdr_len = RC_FRAME_HDR_V6;
		t->pseudo_sum = rc_csum_add(0, ip + IP6_SADDR, 32);
	}
	/* The pseudo-header's protocol word; its length is added per frame. */
	t->pseudo_sum += proto;
	udp = t->hdr + t->hdr_len - UDP_HDR_LEN;
	put16(udp + UDP_SOURCE, src->port);
	put16(udp + UDP_DEST, dst->port);
}

int rc_frame_build(const struct rc_frame_template *t, void *buf, size_t cap, const void *payload,
		   size_t len, __u16 ip_id)
{
	__u8 *f = buf, *ip = f + ETH_HLEN, *udp = f + t->hdr_len - UDP_HDR_LEN;
	size_t udp_len = UDP_HDR_LEN + len;
	__u16 wire_len, csum;

	if (t->hdr_len + len > cap || udp_len > 0xffff - IP4_HDR_LEN)
		return -EMSGSIZE;
	memcpy(f, t->hdr, t->hdr_len);
	memcpy(f + t->hdr_len, payload, len);
	if (t->family == AF_INET) {
		put16(ip + IP4_TOT_LEN, (__u16)(IP4_HDR_LEN + udp_len));
		put16(ip + IP4_ID, ip_id);
		csum = rc_csum_fold(rc_csum_add(0, ip, IP4_HDR_LEN));
		memcpy(ip + IP4_CHECK, &csum, 2);
	} else {
		put16(ip + IP6_PAYLOAD_LEN, (__u16)udp_len);
	}
	put16(udp + UDP_LEN, (__u16)udp_len);
	memcpy(&wire_len, udp + UDP_LEN, 2);
	csum = rc_csum_fold(rc_csum_add(t->pseudo_sum + wire_len, udp, udp_len));
	/* 0 means "no checksum" in IPv4 and is forbidden in IPv6 (RFC 768,
	 * RFC 8200 8.1): its one's complement twin says the same sum. */
	if (!csum)
		csum = 0xffff;
	memcpy(udp + UDP_CHECK, &csum, 2);
	return (int)(t->hdr_len + len);
}
