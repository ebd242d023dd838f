// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reading captures for `replicast send --pcap`: the UDP payload of one
 * captured frame, by the capture's link type. Outside input, so kept apart
 * where a fuzz target can reach it (tests/fuzz/fuzz_capture.c). */
#include <netinet/in.h>
#include <pcap/dlt.h>
#include "cli.h"

/* The UDP payload of one captured frame: 0 with payload and len set, or -1
 * for anything else (not IP, not UDP, a fragment, cut short by snaplen). */
int cli_udp_payload(int dlt, const uint8_t *p, size_t caplen, const uint8_t **payload,
		    size_t *len)
{
	size_t off = 0, l4;
	unsigned int proto = 0, udp_len;

	switch (dlt) {
	case DLT_EN10MB:
		if (caplen < 14)
			return -1;
		proto = (unsigned int)p[12] << 8 | p[13];
		off = 14;
		if ((proto == 0x8100 || proto == 0x88a8) && caplen >= 18) {
			proto = (unsigned int)p[16] << 8 | p[17];
			off = 18;
		}
		break;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return -1;
		proto = (unsigned int)p[14] << 8 | p[15];
		off = 16;
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (caplen < 1)
			return -1;
		proto = (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
		break;
	default:
		return -1;
	}
	if (proto == 0x0800) {
		size_t ihl;

		if (caplen < off + 20 || (p[off] >> 4) != 4 || p[off + 9] != IPPROTO_UDP)
			return -1;
		ihl = (size_t)(p[off] & 0xf) * 4;
		/* MF set or an offset: one piece of a datagram, not a payload. */
		if (ihl < 20 || (((unsigned int)p[off + 6] << 8 | p[off + 7]) & 0x3fff))
			return -1;
		l4 = off + ihl;
	} else if (proto == 0x86dd) {
		if (caplen < off + 40 || p[off + 6] != IPPROTO_UDP)
			return -1;
		l4 = off + 40;
	} else {
		return -1;
	}
	if (caplen < l4 + 8)
		return -1;
	udp_len = (unsigned int)p[l4 + 4] << 8 | p[l4 + 5];
	if (udp_len < 8 || caplen < l4 + udp_len)
		return -1;
	*payload = p + l4 + 8;
	*len = udp_len - 8;
	return 0;
}
