/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What rc_blast and rc_sink must agree on: the payload pattern, the address
 * grammar, number parsing and the Internet checksum. One copy, so the
 * sender and the checker cannot drift apart. */
#ifndef RC_TOOL_COMMON_H
#define RC_TOOL_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Must match rc_blast.c. */
static uint8_t payload_byte(uint64_t seq, uint32_t seed, uint32_t i)
{
	uint32_t v = (uint32_t)seq * 0x9E3779B1u + seed * 0x85EBCA77u + i * 0xC2B2AE3Du;

	return (uint8_t)(v ^ (v >> 15) ^ (v >> 24));
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Same grammar as rc_blast: A.B.C.D[:PORT], [V6][:PORT] or bare V6. */
static int parse_endpoint(const char *arg, struct sockaddr_storage *ss, socklen_t *sl, int *port)
{
	char host[256];
	const char *ps = NULL;
	struct addrinfo hints, *res = NULL;
	size_t n;

	*port = -1;
	if (arg[0] == '[') {
		const char *rb = strchr(arg, ']');

		if (!rb)
			return -1;
		n = (size_t)(rb - arg - 1);
		if (n == 0 || n >= sizeof(host))
			return -1;
		memcpy(host, arg + 1, n);
		host[n] = 0;
		if (rb[1] == ':')
			ps = rb + 2;
		else if (rb[1] != 0)
			return -1;
	} else {
		const char *c1 = strchr(arg, ':');

		if (c1 && !strchr(c1 + 1, ':')) {
			n = (size_t)(c1 - arg);
			ps = c1 + 1;
		} else {
			n = strlen(arg);
		}
		if (n == 0 || n >= sizeof(host))
			return -1;
		memcpy(host, arg, n);
		host[n] = 0;
	}
	if (ps) {
		uint64_t p;

		if (parse_u64(ps, 65535, &p))
			return -1;
		*port = (int)p;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(host, NULL, &hints, &res) || !res)
		return -1;
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	if (*port >= 0) {
		if (ss->ss_family == AF_INET)
			((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)*port);
		else
			((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)*port);
	}
	return 0;
}

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 1) {
		sum += (uint32_t)((p[0] << 8) | p[1]);
		p += 2;
		len -= 2;
		if (sum & 0x80000000u)
			sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len)
		sum += (uint32_t)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

#endif /* RC_TOOL_COMMON_H */
