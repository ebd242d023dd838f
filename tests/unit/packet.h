/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Crafting test frames: Ethernet + IPv4/IPv6 + UDP with correct checksums,
 * which a test then breaks in the one way it wants to prove. */
#ifndef REPLICAST_TEST_PACKET_H
#define REPLICAST_TEST_PACKET_H

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <stdint.h>
#include <string.h>

/* Declares a frame buffer that starts 2 bytes past an 8-byte boundary, as
 * drivers place frames (NET_IP_ALIGN), so the IP header is 4-byte aligned
 * and the header structs below may be used on it. */
#define FRAME(name, size)						\
	uint8_t name##_storage[(size) + 2] __attribute__((aligned(8)));	\
	uint8_t *name = name##_storage + 2

#define L3_OFF ETH_HLEN
#define L4_OFF_V4 (ETH_HLEN + sizeof(struct iphdr))
#define L4_OFF_V6 (ETH_HLEN + sizeof(struct ipv6hdr))

static inline uint32_t csum_add_bytes(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static inline uint16_t csum_fold32(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The UDP checksum of a datagram (header with check = 0, and payload), in
 * host order: store it with htons(). */
static inline uint16_t udp_checksum(int family, const void *saddr, const void *daddr,
				    const void *udp, size_t udp_len)
{
	size_t alen = family == AF_INET6 ? 16 : 4;
	uint32_t sum = 0;
	uint16_t c;

	sum = csum_add_bytes(sum, saddr, alen);
	sum = csum_add_bytes(sum, daddr, alen);
	sum += IPPROTO_UDP + (uint32_t)udp_len;
	sum = csum_add_bytes(sum, udp, udp_len);
	c = csum_fold32(sum);
	return c ? c : 0xffff;
}

/* Checks a received frame's checksums: 1 when IP (v4) and UDP are right. */
static inline int frame_checksums_ok(const uint8_t *f, size_t len)
{
	uint8_t udp[2048];
	const struct ethhdr *eth = (const void *)f;
	size_t udp_len;

	if (len < ETH_HLEN)
		return 0;
	if (eth->h_proto == htons(ETH_P_IP)) {
		const struct iphdr *ip = (const void *)(f + L3_OFF);
		const struct udphdr *uh = (const void *)(f + L4_OFF_V4);

		if (len < L4_OFF_V4 + sizeof(*uh) || csum_fold32(csum_add_bytes(0, ip, 20)) != 0)
			return 0;
		udp_len = ntohs(uh->len);
		if (L4_OFF_V4 + udp_len > len || udp_len > sizeof(udp) || !uh->check)
			return 0;
		memcpy(udp, uh, udp_len);
		((struct udphdr *)udp)->check = 0;
		return udp_checksum(AF_INET, &ip->saddr, &ip->daddr, udp, udp_len) == ntohs(uh->check);
	} else {
		const struct ipv6hdr *ip6 = (const void *)(f + L3_OFF);
		const struct udphdr *uh = (const void *)(f + L4_OFF_V6);

		if (len < L4_OFF_V6 + sizeof(*uh))
			return 0;
		udp_len = ntohs(uh->len);
		if (L4_OFF_V6 + udp_len > len || udp_len > sizeof(udp) || !uh->check)
			return 0;
		memcpy(udp, uh, udp_len);
		((struct udphdr *)udp)->check = 0;
		return udp_checksum(AF_INET6, &ip6->saddr, &ip6->daddr, udp, udp_len) ==
		       ntohs(uh->check);
	}
}

/* Builds a frame to dst:dport from src:sport with `payload_len` bytes of
 * pattern; returns its length. buf must hold 14 + 40 + 8 + payload_len. */
static inline size_t build_udp_frame(uint8_t *buf, int family, const char *src, uint16_t sport,
				     const char *dst, uint16_t dport, size_t payload_len)
{
	struct ethhdr *eth = (void *)buf;
	struct udphdr *uh;
	uint8_t *payload;
	size_t i, l4;

	/* Destination: loopback's MAC (zero), so the test run's eth_type_trans
	 * finds the frame addressed to this host, as a router requires. */
	memset(buf, 0, ETH_HLEN);
	memcpy(eth->h_source, "\x02\x00\x00\x00\x00\x02", 6);
	if (family == AF_INET) {
		struct iphdr *ip = (void *)(buf + L3_OFF);

		eth->h_proto = htons(ETH_P_IP);
		memset(ip, 0, sizeof(*ip));
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		ip->tot_len = htons(sizeof(*ip) + sizeof(*uh) + payload_len);
		inet_pton(AF_INET, src, &ip->saddr);
		inet_pton(AF_INET, dst, &ip->daddr);
		ip->check = htons(csum_fold32(csum_add_bytes(0, ip, sizeof(*ip))));
		l4 = L4_OFF_V4;
	} else {
		struct ipv6hdr *ip6 = (void *)(buf + L3_OFF);

		eth->h_proto = htons(ETH_P_IPV6);
		memset(ip6, 0, sizeof(*ip6));
		ip6->version = 6;
		ip6->hop_limit = 64;
		ip6->nexthdr = IPPROTO_UDP;
		ip6->payload_len = htons(sizeof(*uh) + payload_len);
		inet_pton(AF_INET6, src, &ip6->saddr);
		inet_pton(AF_INET6, dst, &ip6->daddr);
		l4 = L4_OFF_V6;
	}
	uh = (void *)(buf + l4);
	uh->source = htons(sport);
	uh->dest = htons(dport);
	uh->len = htons(sizeof(*uh) + payload_len);
	uh->check = 0;
	payload = buf + l4 + sizeof(*uh);
	for (i = 0; i < payload_len; i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	if (family == AF_INET) {
		struct iphdr *ip = (void *)(buf + L3_OFF);

		uh->check = htons(udp_checksum(AF_INET, &ip->saddr, &ip->daddr, uh,
					       sizeof(*uh) + payload_len));
	} else {
		struct ipv6hdr *ip6 = (void *)(buf + L3_OFF);

		uh->check = htons(udp_checksum(AF_INET6, &ip6->saddr, &ip6->daddr, uh,
					       sizeof(*uh) + payload_len));
	}
	return l4 + sizeof(*uh) + payload_len;
}

/* After a crafted change to an IPv4 header: its checksum made right again. */
static inline void frame_fix_ipv4_csum(uint8_t *buf)
{
	struct iphdr *ip = (void *)(buf + L3_OFF);

	ip->check = 0;
	ip->check = htons(csum_fold32(csum_add_bytes(0, ip, sizeof(*ip))));
}

#endif /* REPLICAST_TEST_PACKET_H */
