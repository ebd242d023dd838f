// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Text forms of endpoints, prefixes and MACs, conversions to the map
 * layouts, error and drop-reason names. Pure functions: no kernel state. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static int parse_port(const char *text, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (!*text || *text == '-' || *text == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* "P" or, with last, "FIRST-LAST": FIRST <= LAST, at most
 * RC_MAX_PORT_RANGE ports (-E2BIG beyond). */
static int parse_ports(const char *text, uint16_t *port, uint16_t *last)
{
	const char *dash = last ? strchr(text, '-') : NULL;
	char first[8];
	size_t n;
	int err;

	if (!dash) {
		if (last)
			*last = 0;
		return parse_port(text, port);
	}
	n = (size_t)(dash - text);
	if (n == 0 || n >= sizeof(first))
		return -EINVAL;
	memcpy(first, text, n);
	first[n] = '\0';
	err = parse_port(first, port);
	if (!err)
		err = parse_port(dash + 1, last);
	if (err)
		return err;
	if (*last < *port)
		return -EINVAL;
	if ((unsigned int)*last - *port + 1 > RC_MAX_PORT_RANGE)
		return -E2BIG;
	return 0;
}

/* The endpoint forms, with a port range when last is not NULL. */
static int parse_endpoint(const char *text, struct replicast_endpoint *ep, uint16_t *last)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon;
	size_t len;

	if (!text || !ep)
		return -EINVAL;
	memset(ep, 0, sizeof(*ep));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		len = close - text - 1;
		if (len == 0 || len >= sizeof(host))
			return -EINVAL;
		memcpy(host, text + 1, len);
		host[len] = '\0';
		if (inet_pton(AF_INET6, host, &ep->addr.v6) != 1)
			return -EINVAL;
		ep->family = AF_INET6;
		return parse_ports(close + 2, &ep->port, last);
	}
	colon = strrchr(text, ':');
	if (!colon || strchr(text, ':') != colon)
		return -EINVAL;	/* no port, or an IPv6 address without brackets */
	len = colon - text;
	if (len == 0 || len >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, &ep->addr.v4) != 1)
		return -EINVAL;
	ep->family = AF_INET;
	return parse_ports(colon + 1, &ep->port, last);
}

int replicast_endpoint_parse(const char *text, struct replicast_endpoint *ep)
{
	return parse_endpoint(text, ep, NULL);
}

int replicast_range_parse(const char *text, struct replicast_endpoint *ep, uint16_t *port_last)
{
	uint16_t last = 0;
	int err;

	if (!port_last)
		return -EINVAL;
	err = parse_endpoint(text, ep, &last);
	if (err) {
		*port_last = 0;
		return err;
	}
	/* "P-P" is one port: the same group as "P". */
	*port_last = last > ep->port ? last : ep->port;
	return 0;
}

const char *replicast_range_format(const struct replicast_endpoint *ep, uint16_t port_last,
				   char *buf, size_t len)
{
	size_t n;

	replicast_endpoint_format(ep, buf, len);
	n = strlen(buf);
	if (port_last > ep->port && n < len)
		snprintf(buf + n, len - n, "-%u", port_last);
	return buf;
}

const char *replicast_endpoint_format(const struct replicast_endpoint *ep, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (!inet_ntop(ep->family, &ep->addr, host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	if (ep->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, ep->port);
	else
		snprintf(buf, len, "%s:%u", host, ep->port);
	return buf;
}

int replicast_mac_parse(const char *text, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (!text || sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c",
			    &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	if (strlen(text) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

int replicast_prefix_parse(const char *text, struct replicast_prefix *p)
{
	char addr[INET6_ADDRSTRLEN + 1], *end;
	const char *slash;
	unsigned long len;
	size_t n, i, bits;
	uint8_t *bytes;

	if (!text || !p)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	slash = strchr(text, '/');
	n = slash ? (size_t)(slash - text) : strlen(text);
	if (n == 0 || n >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, text, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, &p->addr.v4) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &p->addr.v6) == 1)
		p->family = AF_INET6;
	else
		return -EINVAL;
	bits = p->family == AF_INET ? 32 : 128;
	len = bits;
	if (slash) {
		if (!slash[1] || slash[1] == '-' || slash[1] == '+')
			return -EINVAL;
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || *end || len > bits)
			return -EINVAL;
	}
	p->len = (uint8_t)len;
	/* Host bits set (10.0.0.1/8) are almost always a typo: refuse, as ip
	 * route does, rather than guess which was meant. */
	bytes = (uint8_t *)&p->addr;
	for (i = len; i < bits; i++)
		if (bytes[i / 8] & (0x80 >> (i % 8)))
			return -EINVAL;
	return 0;
}

const char *replicast_prefix_format(const struct replicast_prefix *p, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family, &p->addr, host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	snprintf(buf, len, "%s/%u", host, p->len);
	return buf;
}

bool rc_opts_valid(const void *opts, size_t user_sz, size_t known_sz)
{
	const unsigned char *b = opts;
	size_t i;

	if (user_sz < sizeof(size_t))
		return false;
	for (i = known_sz; i < user_sz; i++)
		if (b[i])
			return false;
	return true;
}

bool replicast_endpoint_is_multicast(const struct replicast_endpoint *ep)
{
	if (ep->family == AF_INET6)
		return IN6_IS_ADDR_MULTICAST(&ep->addr.v6);
	return IN_MULTICAST(ntohl(ep->addr.v4.s_addr));
}

bool replicast_endpoint_equal(const struct replicast_endpoint *a, const struct replicast_endpoint *b)
{
	if (a->family != b->family || a->port != b->port)
		return false;
	if (a->family == AF_INET6)
		return !memcmp(&a->addr.v6, &b->addr.v6, sizeof(a->addr.v6));
	return a->family != AF_INET || a->addr.v4.s_addr == b->addr.v4.s_addr;
}

socklen_t replicast_endpoint_sockaddr(const struct replicast_endpoint *ep,
				      struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(ep->port);
		sin->sin_addr = ep->addr.v4;
		return sizeof(*sin);
	}
	if (ep->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(ep->port);
		sin6->sin6_addr = ep->addr.v6;
		return sizeof(*sin6);
	}
	return 0;
}

void rc_endpoint_to_key(const struct replicast_endpoint *ep, struct rc_group_key *key)
{
	memset(key, 0, sizeof(*key));
	key->family = ep->family == AF_INET6 ? RC_AF_INET6 : RC_AF_INET;
	key->port = ep->port;
	if (ep->family == AF_INET6)
		memcpy(key->addr.v6, &ep->addr.v6, 16);
	else
		key->addr.v4 = ep->addr.v4.s_addr;
}

void rc_addr_to_endpoint(int family, const union rc_addr *addr, __u16 port,
			 struct replicast_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = family == RC_AF_INET6 ? AF_INET6 : AF_INET;
	ep->port = port;
	if (ep->family == AF_INET6)
		memcpy(&ep->addr.v6, addr->v6, 16);
	else
		ep->addr.v4.s_addr = addr->v4;
}

void rc_key_to_endpoint(const struct rc_group_key *key, struct replicast_endpoint *ep)
{
	rc_addr_to_endpoint(key->family, &key->addr, key->port, ep);
}

static const char *const drop_reason_names[DROP_REASON_MAX] = {
	[DROP_TRUNCATED_ETH] = "truncated_eth",
	[DROP_VLAN] = "vlan",
	[DROP_TRUNCATED_IP] = "truncated_ip",
	[DROP_BAD_IP_HEADER] = "bad_ip_header",
	[DROP_IP_OPTIONS] = "ip_options",
	[DROP_FRAGMENT] = "fragment",
	[DROP_NOT_UDP] = "not_udp",
	[DROP_TRUNCATED_UDP] = "truncated_udp",
	[DROP_BAD_UDP_LENGTH] = "bad_udp_length",
	[DROP_UDP6_ZERO_CSUM] = "udp6_zero_checksum",
	[DROP_TTL_EXCEEDED] = "ttl_exceeded",
	[DROP_NO_SUBSCRIBERS] = "no_subscribers",
	[DROP_NO_ROUTE] = "no_route",
	[DROP_NO_NEIGH] = "no_neighbour",
	[DROP_REDIRECT_FAILED] = "redirect_failed",
	[DROP_REWRITE_FAILED] = "rewrite_failed",
	[DROP_FAMILY_MISMATCH] = "family_mismatch",
	[DROP_FORWARDING_OFF] = "forwarding_off",
	[DROP_SOURCE_DENIED] = "source_denied",
	[DROP_RATE_LIMITED] = "rate_limited",
	[DROP_OTHER_HOST] = "other_host",
	[DROP_L2_MISMATCH] = "l2_mismatch",
	[DROP_BAD_IP_CSUM] = "bad_ip_checksum",
	[DROP_REVERSE_PATH] = "reverse_path",
	[DROP_TOO_BIG] = "too_big",
	[DROP_HELD_OFF] = "held_off",
};

int replicast_drop_reason_count(void)
{
	return DROP_REASON_MAX;
}

const char *replicast_drop_reason_name(int reason)
{
	if (reason < 0 || reason >= DROP_REASON_MAX || !drop_reason_names[reason])
		return "unknown";
	return drop_reason_names[reason];
}

const char *replicast_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case ENOENT:
		return "not found";
	case EEXIST:
		return "already exists";
	case ENOSPC:
		return "table full";
	case EPERM:
	case EACCES:
		return "permission denied (replicast needs root: CAP_BPF and CAP_NET_ADMIN)";
	case ENODEV:
		return "no such network device";
	case ENETUNREACH:
	case EHOSTUNREACH:
		return "no route to the subscriber";
	case ESRCH:
		return "no such subscriber";
	case ETIMEDOUT:
		return "timed out";
	case EAFNOSUPPORT:
		return "address family differs from the group's";
	case EPROTO:
		return "pinned state has another layout (unload, then load again)";
	case EDESTADDRREQ:
		return "a subscriber without a port is for port-range groups only";
	case ESTALE:
		return "the pinned state was made in another network namespace of this name";
	case ENOMEDIUM:
		return "no bpffs outlives this command (its mount namespace is its own, as under "
		       "'ip netns exec', and the host has none at /sys/fs/bpf)";
	default:
		return strerror(err);
	}
}
