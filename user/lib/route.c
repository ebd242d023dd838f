/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Asks the kernel, over rtnetlink (netlink.c), for the route to a
 * subscriber, the MAC of its next hop and our own device MAC, so replicast
 * can write L2 headers itself. No libnl, no child processes, no cached
 * sockets. */
#define _GNU_SOURCE
#include "route.h"
#include "internal.h"

#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif

/* rtnetlink answers requests synchronously, so a reply that has not come after
 * this long never will; the bound only protects us from a wedged kernel. */
#define NL_REPLY_TIMEOUT_MS 1000
#define NEIGH_POLL_MS 5
/* Re-triggering resolution of a FAILED entry is cheap for the kernel, but if
 * probes are disabled by sysctl it fails instantly; this keeps us from spinning
 * on RTM_NEWNEIGH in that case. */
#define NEIGH_KICK_MIN_MS 250

/* The kernel's NUD_VALID is not exported to userspace. */
#define RC_NUD_VALID (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY)

/* Big enough for a request with a few attributes; the union gives the
 * alignment struct nlmsghdr needs. */
union nl_req {
	struct nlmsghdr nh;
	char raw[256];
};

/* An answer: a link's, with its stats left out, is the largest asked for. */
union nl_reply {
	struct nlmsghdr nh;
	char raw[16384];
};

static int addr_len(int family)
{
	switch (family) {
	case AF_INET:
		return sizeof(struct in_addr);
	case AF_INET6:
		return sizeof(struct in6_addr);
	default:
		return 0;
	}
}

static int64_t now_ms(void)
{
	return (int64_t)(rc_now_ns() / 1000000ULL);
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	/* An EINTR only makes this poll early; callers re-check their deadline. */
	nanosleep(&ts, NULL);
}

static void req_init(union nl_req *req, uint16_t type, uint16_t flags, const void *hdr,
		     size_t hdr_len)
{
	memset(req, 0, sizeof(*req));
	req->nh.nlmsg_len = NLMSG_LENGTH(hdr_len);
	req->nh.nlmsg_type = type;
	req->nh.nlmsg_flags = NLM_F_REQUEST | flags;
	req->nh.nlmsg_seq = 1;
	memcpy(NLMSG_DATA(&req->nh), hdr, hdr_len);
}

static int req_attr(union nl_req *req, uint16_t type, const void *data, size_t len)
{
	return rc_nl_attr(&req->nh, sizeof(*req), type, data, len) ? 0 : -EMSGSIZE;
}

/* One request, its answer whole: rc_nl_request() cuts an answer to the
 * buffer (callers that want only a header rely on it), and a cut one's
 * lengths would lie to parse_attrs(). */
static int ask(union nl_req *req, uint16_t want_type, union nl_reply *reply)
{
	int err = rc_nl_request(&req->nh, want_type, reply, reply ? sizeof(*reply) : 0);

	if (!err && reply && reply->nh.nlmsg_len > sizeof(*reply))
		return -EMSGSIZE;
	return err;
}

/* Indexes the attributes following a family header of hdr_len bytes; rejects a
 * message too short to hold that header. Later duplicates win, as in the kernel. */
static int parse_attrs(struct nlmsghdr *nh, size_t hdr_len, struct rtattr **tb, int max)
{
	struct rtattr *rta;
	int len;

	if (nh->nlmsg_len < NLMSG_LENGTH(hdr_len))
		return -EPROTO;
	memset(tb, 0, sizeof(*tb) * (max + 1));
	rta = (struct rtattr *)((char *)NLMSG_DATA(nh) + NLMSG_ALIGN(hdr_len));
	len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(NLMSG_ALIGN(hdr_len));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		/* Mask: NLA_F_NESTED etc. would hide the real type. */
		unsigned short type = rta->rta_type & NLA_TYPE_MASK;

		if (type <= max)
			tb[type] = rta;
	}
	return 0;
}

static bool attr_is(const struct rtattr *rta, size_t len)
{
	return rta && RTA_PAYLOAD(rta) == len;
}

static int bind_to_ifindex(int fd, unsigned int ifindex)
{
	char name[IF_NAMESIZE];
	int idx = (int)ifindex;

	if (setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &idx, sizeof(idx)) == 0)
		return 0;
	if (errno != ENOPROTOOPT)
		return -errno;
	/* Pre-5.0 kernels only know the by-name option. */
	if (!if_indextoname(ifindex, name))
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, strlen(name) + 1) < 0)
		return -errno;
	return 0;
}

/* Source selection as the kernel does it for a real socket, for replies that
 * carry no RTA_PREFSRC. Connecting a UDP socket sends nothing. */
int rc_route_source(int family, const union rc_addr *dst, unsigned int oif,
		    unsigned int route_if, union rc_addr *src)
{
	struct replicast_endpoint ep = { .family = family, .port = 9 };
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, err = 0;

	memcpy(&ep.addr, dst, family == AF_INET6 ? 16 : 4);
	sl = replicast_endpoint_sockaddr(&ep, &ss);
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		/* Link-local destinations are meaningless without a scope. */
		if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr) || IN6_IS_ADDR_MC_LINKLOCAL(&sin6->sin6_addr))
			sin6->sin6_scope_id = oif ? oif : route_if;
	}

	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (oif)
		err = bind_to_ifindex(fd, oif);
	if (!err && connect(fd, (struct sockaddr *)&ss, sl) < 0)
		err = -errno;
	if (!err) {
		sl = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
			err = -errno;
	}
	if (!err) {
		if (family == AF_INET)
			src->v4 = ((struct sockaddr_in *)&ss)->sin_addr.s_addr;
		else
			memcpy(src->v6, &((struct sockaddr_in6 *)&ss)->sin6_addr, sizeof(src->v6));
	}
	close(fd);
	return err;
}

int rc_route_get(int family, const union rc_addr *dst, unsigned int oif, struct rc_route *out)
{
	struct rtmsg rtm = { .rtm_family = family };
	struct rtattr *tb[RTA_MAX + 1];
	int alen = addr_len(family);
	bool have_src = false;
	union nl_reply reply;
	union nl_req req;
	int err;

	if (!alen)
		return -EAFNOSUPPORT;
	if (!dst || !out || oif > INT32_MAX)
		return -EINVAL;

	rtm.rtm_dst_len = alen * 8;
	req_init(&req, RTM_GETROUTE, 0, &rtm, sizeof(rtm));
	err = req_attr(&req, RTA_DST, dst, alen);
	if (!err && oif) {
		uint32_t o = oif;

		err = req_attr(&req, RTA_OIF, &o, sizeof(o));
	}
	if (err)
		return err;

	err = ask(&req, RTM_NEWROUTE, &reply);
	if (!err)
		err = parse_attrs(&reply.nh, sizeof(struct rtmsg), tb, RTA_MAX);
	if (err)
		return err;

	memset(out, 0, sizeof(*out));
	out->type = ((struct rtmsg *)NLMSG_DATA(&reply.nh))->rtm_type;
	if (!attr_is(tb[RTA_OIF], sizeof(uint32_t)))
		/* Not seen for unicast lookups; a route without a device cannot
		 * be used to build frames either way. */
		return -ENETUNREACH;
	memcpy(&out->ifindex, RTA_DATA(tb[RTA_OIF]), sizeof(uint32_t));

	if (attr_is(tb[RTA_GATEWAY], alen)) {
		out->has_gateway = 1;
		memcpy(&out->gateway, RTA_DATA(tb[RTA_GATEWAY]), alen);
	} else if (tb[RTA_VIA]) {
		struct rtvia *via = RTA_DATA(tb[RTA_VIA]);

		if (RTA_PAYLOAD(tb[RTA_VIA]) != sizeof(*via) + (size_t)alen ||
		    via->rtvia_family != family)
			return -EAFNOSUPPORT;
		out->has_gateway = 1;
		memcpy(&out->gateway, via->rtvia_addr, alen);
	}

	if (attr_is(tb[RTA_PREFSRC], alen)) {
		memcpy(&out->prefsrc, RTA_DATA(tb[RTA_PREFSRC]), alen);
		have_src = true;
	}
	return have_src ? 0 : rc_route_source(family, dst, oif, out->ifindex, &out->prefsrc);
}

struct neigh {
	uint8_t state;
	uint8_t flags;
	uint32_t ext_flags;
	size_t lladdr_len;
	uint8_t lladdr[32];
};

static int neigh_get(int family, const union rc_addr *addr, unsigned int ifindex,
		     struct neigh *n)
{
	struct ndmsg ndm = { .ndm_family = family, .ndm_ifindex = (int)ifindex };
	struct rtattr *tb[NDA_MAX + 1];
	union nl_reply reply;
	struct nlmsghdr *nh = &reply.nh;
	union nl_req req;
	int err;

	/* Only NDA_DST: the kernel's strict get parser rejects anything else. */
	req_init(&req, RTM_GETNEIGH, 0, &ndm, sizeof(ndm));
	err = req_attr(&req, NDA_DST, addr, addr_len(family));
	if (!err)
		err = ask(&req, RTM_NEWNEIGH, &reply);
	if (!err)
		err = parse_attrs(nh, sizeof(struct ndmsg), tb, NDA_MAX);
	if (err)
		return err;

	memset(n, 0, sizeof(*n));
	n->state = ((struct ndmsg *)NLMSG_DATA(nh))->ndm_state;
	n->flags = ((struct ndmsg *)NLMSG_DATA(nh))->ndm_flags;
	if (attr_is(tb[NDA_FLAGS_EXT], sizeof(uint32_t)))
		memcpy(&n->ext_flags, RTA_DATA(tb[NDA_FLAGS_EXT]), sizeof(uint32_t));
	if (tb[NDA_LLADDR] && RTA_PAYLOAD(tb[NDA_LLADDR]) <= sizeof(n->lladdr)) {
		n->lladdr_len = RTA_PAYLOAD(tb[NDA_LLADDR]);
		memcpy(n->lladdr, RTA_DATA(tb[NDA_LLADDR]), n->lladdr_len);
	}
	return 0;
}

/* Creates the entry if needed and starts resolution now. NTF_USE goes along
 * with the managed flag on purpose: with it the kernel keeps the entry's current
 * state (a reachable entry stays reachable) both on kernels that honour
 * NDA_FLAGS_EXT and on older ones that silently ignore it, where a plain
 * replace with state NONE would throw a valid entry away. */
static int neigh_kick(int family, const union rc_addr *addr, unsigned int ifindex,
		      bool managed)
{
	struct ndmsg ndm = {
		.ndm_family = family,
		.ndm_ifindex = (int)ifindex,
		.ndm_state = NUD_NONE,
		.ndm_flags = NTF_USE,
	};
	uint32_t ext = NTF_EXT_MANAGED;
	union nl_req req;
	int err;

	req_init(&req, RTM_NEWNEIGH, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, &ndm, sizeof(ndm));
	err = req_attr(&req, NDA_DST, addr, addr_len(family));
	if (!err && managed)
		err = req_attr(&req, NDA_FLAGS_EXT, &ext, sizeof(ext));
	if (!err)
		err = ask(&req, 0, NULL);
	return err;
}

static int neigh_copy_mac(const struct neigh *n, uint8_t mac[6])
{
	if (!mac)
		return 0;
	if (n->lladdr_len != 6)
		return -ENODATA;
	memcpy(mac, n->lladdr, 6);
	return 0;
}

int rc_neigh_resolve(int family, const union rc_addr *addr, unsigned int ifindex,
		     unsigned int timeout_ms, uint8_t mac[6])
{
	enum { KICK_NONE, KICK_MANAGED, KICK_USE } mode = KICK_MANAGED;
	int64_t deadline = now_ms() + timeout_ms;
	int64_t last_kick;
	struct neigh n;
	int err;

	if (!addr_len(family))
		return -EAFNOSUPPORT;
	if (!addr)
		return -EINVAL;
	if (!ifindex || ifindex > INT32_MAX)
		return -ENODEV;

	err = neigh_get(family, addr, ifindex, &n);
	if (err && err != -ENOENT)
		return err;
	if (!err && ((n.state & (NUD_PERMANENT | NUD_NOARP)) || (n.flags & NTF_EXT_LEARNED))) {
		/* Configured by an admin or owned by a driver/controller: making it
		 * managed would drop PERMANENT or the extern_learn ownership. */
		mode = KICK_NONE;
	} else {
		err = neigh_kick(family, addr, ifindex, true);
		if (err == -EINVAL || err == -EOPNOTSUPP) {
			mode = KICK_USE;
			err = neigh_kick(family, addr, ifindex, false);
		}
		if (err)
			return err;
	}
	last_kick = now_ms();

	for (;;) {
		int64_t left;

		err = neigh_get(family, addr, ifindex, &n);
		if (err && err != -ENOENT)
			return err;
		if (!err && (n.state & RC_NUD_VALID))
			return neigh_copy_mac(&n, mac);
		/* Kernels before 5.16 accept NDA_FLAGS_EXT and ignore it; only the
		 * entry itself tells whether it really became managed. */
		if (!err && mode == KICK_MANAGED && !(n.ext_flags & NTF_EXT_MANAGED))
			mode = KICK_USE;

		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		/* Gone (flushed, GC'd) or given up (FAILED/NONE): the managed work
		 * would retry only after several seconds, so retry now. While
		 * INCOMPLETE the kernel is probing already. */
		if (mode != KICK_NONE && (err == -ENOENT || !(n.state & NUD_INCOMPLETE)) &&
		    now_ms() - last_kick >= NEIGH_KICK_MIN_MS) {
			err = neigh_kick(family, addr, ifindex, mode == KICK_MANAGED);
			if (err)
				return err;
			last_kick = now_ms();
		}
		sleep_ms(left < NEIGH_POLL_MS ? left : NEIGH_POLL_MS);
	}
}

int rc_link_mac(unsigned int ifindex, uint8_t mac[6])
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = (int)ifindex };
	uint32_t ext_mask = RTEXT_FILTER_SKIP_STATS;
	struct rtattr *tb[IFLA_MAX + 1];
	union nl_reply reply;
	union nl_req req;
	int err;

	if (!mac)
		return -EINVAL;
	/* Index 0 would make the kernel look for a name we do not send. */
	if (!ifindex || ifindex > INT32_MAX)
		return -ENODEV;

	req_init(&req, RTM_GETLINK, 0, &ifi, sizeof(ifi));
	/* The stats blocks are most of a link reply and we need none of them. */
	err = req_attr(&req, IFLA_EXT_MASK, &ext_mask, sizeof(ext_mask));
	if (err)
		return err;

	err = ask(&req, RTM_NEWLINK, &reply);
	if (!err)
		err = parse_attrs(&reply.nh, sizeof(struct ifinfomsg), tb, IFLA_MAX);
	if (err)
		return err;
	if (!attr_is(tb[IFLA_ADDRESS], 6))
		return -ENODATA;
	memcpy(mac, RTA_DATA(tb[IFLA_ADDRESS]), 6);
	return 0;
}
