// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Multicast memberships: the relay host joins each multicast group address
 * on every attached device, so that IGMP/MLD snooping switches and NIC
 * multicast filters let the stream reach the replicator.
 *
 * The kernel holds a membership without a process when it is an interface
 * address with IFA_F_MCAUTOJOIN (`ip address add ... autojoin`): the address
 * joins through the namespace's own autojoin socket (ip_mc_autojoin_config,
 * ipv6_mc_config) and deleting the address leaves. The address is made
 * inert otherwise: scope host (inet_select_addr never picks it as a source
 * for traffic leaving a device), no prefix route, no DAD, and the local route
 * the kernel adds for it is deleted, or every packet this host sends to the
 * group would loop back through lo instead of leaving. IFA_PROTO marks the
 * address as replicast's: one that an operator made stays when we leave. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include "internal.h"

/* How long an IPv6 join waits for the kernel's local route: 20 x 5 ms. */
#define LOCAL_ROUTE_TRIES	20
#define LOCAL_ROUTE_WAIT_NS	5000000

/* ifa_proto of the addresses replicast adds ('R'); the kernel's own are 1-3. */
#define RC_IFA_PROTO 0x52

struct nl_req {
	struct nlmsghdr nh;
	union {
		struct ifaddrmsg ifa;
		struct rtmsg rt;
	};
	char attrs[128];
} __attribute__((aligned(4)));

/* One kernel-held membership: a multicast interface address with autojoin. */
struct membership {
	int family;
	unsigned int ifindex;
	__u8 addr[16];
	__u8 proto;
};

struct membership_list {
	struct membership *m;
	size_t n;
};

static __u32 nl_seq;

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* Appends an attribute; a request has room for the few it carries. */
static void put_attr(struct nl_req *req, unsigned short type, const void *data, size_t len)
{
	size_t off = NLMSG_ALIGN(req->nh.nlmsg_len);
	struct rtattr *rta = (struct rtattr *)((char *)req + off);

	if (off + RTA_SPACE(len) > sizeof(*req))
		return;		/* cannot happen with the sizes used here */
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	req->nh.nlmsg_len = off + RTA_ALIGN(rta->rta_len);
}

static void addr_req_init(struct nl_req *req, int type, int flags,
			  const struct replicast_endpoint *g, unsigned int ifindex)
{
	memset(req, 0, sizeof(*req));
	req->nh.nlmsg_len = NLMSG_LENGTH(sizeof(req->ifa));
	req->nh.nlmsg_type = type;
	req->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	req->nh.nlmsg_seq = ++nl_seq;
	req->ifa.ifa_family = g->family;
	req->ifa.ifa_prefixlen = g->family == AF_INET ? 32 : 128;
	req->ifa.ifa_index = ifindex;
	put_attr(req, IFA_LOCAL, &g->addr, addr_len(g->family));
	put_attr(req, IFA_ADDRESS, &g->addr, addr_len(g->family));
}

static const char *dev_name(unsigned int ifindex, char *buf)
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "ifindex %u", ifindex);
	return buf;
}

/* The local route (table local, type local) that fib_add_ifaddr() and
 * addrconf add for every interface address: for a group address it makes
 * ip_route_output send this host's own packets to the group through lo. */
static int drop_local_route(const struct replicast_endpoint *g, unsigned int ifindex,
			    int max_tries)
{
	struct nl_req req = {};
	__u32 oif = ifindex, table = RT_TABLE_LOCAL;
	int err, tries;

	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.rt));
	req.nh.nlmsg_type = RTM_DELROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.nh.nlmsg_seq = ++nl_seq;
	req.rt.rtm_family = g->family;
	req.rt.rtm_dst_len = g->family == AF_INET ? 32 : 128;
	req.rt.rtm_table = RT_TABLE_LOCAL;
	req.rt.rtm_type = RTN_LOCAL;
	req.rt.rtm_scope = RT_SCOPE_NOWHERE;	/* deletes whatever scope it has */
	put_attr(&req, RTA_DST, &g->addr, addr_len(g->family));
	put_attr(&req, RTA_OIF, &oif, sizeof(oif));
	put_attr(&req, RTA_TABLE, &table, sizeof(table));
	/* IPv6 adds it from addrconf's DAD work once the address is ready,
	 * a moment after RTM_NEWADDR returns (nodad or not): try again for a
	 * while. A device that is down gets it when it comes up (see README). */
	for (tries = 0;; tries++) {
		err = rc_nl_request(&req.nh, 0, NULL, 0);
		if ((err != -ESRCH && err != -ENOENT) || g->family == AF_INET ||
		    tries >= max_tries)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = LOCAL_ROUTE_WAIT_NS }, NULL);
	}
	return err == -ESRCH || err == -ENOENT ? 0 : err;
}

static int collect_membership(const struct nlmsghdr *nh, void *ctx)
{
	struct membership_list *list = ctx;
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	struct membership m = { .family = ifa->ifa_family, .ifindex = ifa->ifa_index };
	const void *addr = NULL;
	__u32 flags = ifa->ifa_flags;
	struct membership *grown;
	struct rtattr *rta;
	int len;

	if (nh->nlmsg_type != RTM_NEWADDR || nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)) ||
	    (m.family != AF_INET && m.family != AF_INET6))
		return 0;
	len = (int)IFA_PAYLOAD(nh);
	for (rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFA_FLAGS && RTA_PAYLOAD(rta) >= sizeof(__u32))
			memcpy(&flags, RTA_DATA(rta), sizeof(flags));	/* ifa_flags is 8 bits */
		else if (rta->rta_type == IFA_PROTO && RTA_PAYLOAD(rta) >= 1)
			m.proto = *(__u8 *)RTA_DATA(rta);
		else if ((rta->rta_type == IFA_LOCAL || (rta->rta_type == IFA_ADDRESS && !addr)) &&
			 RTA_PAYLOAD(rta) >= addr_len(m.family))
			addr = RTA_DATA(rta);
	}
	if (!(flags & IFA_F_MCAUTOJOIN) || !addr)
		return 0;
	memcpy(m.addr, addr, addr_len(m.family));
	grown = realloc(list->m, (list->n + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	list->m = grown;
	list->m[list->n++] = m;
	return 0;
}

/* Every autojoin address of `family` (AF_UNSPEC: both) in this namespace. */
static int read_memberships(int family, struct membership_list *list)
{
	struct nl_req req = {};
	int err;

	list->m = NULL;
	list->n = 0;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
	req.nh.nlmsg_type = RTM_GETADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = ++nl_seq;
	req.ifa.ifa_family = family;
	err = rc_nl_dump(&req.nh, collect_membership, list);
	if (err) {
		free(list->m);
		list->m = NULL;
		list->n = 0;
	}
	return err;
}

static const struct membership *find_membership(const struct membership_list *list,
						const struct replicast_endpoint *g,
						unsigned int ifindex)
{
	size_t i;

	for (i = 0; i < list->n; i++) {
		const struct membership *m = &list->m[i];

		if (m->family == g->family && m->ifindex == ifindex &&
		    !memcmp(m->addr, &g->addr, addr_len(g->family)))
			return m;
	}
	return NULL;
}

/* Joins g on ifindex. `have`: the memberships there are, read once for a
 * batch of joins (a device attached again rejoins every group). */
static int join_one(struct replicast *rc, const struct membership_list *have,
		    const struct replicast_endpoint *g, unsigned int ifindex)
{
	const struct membership *m = find_membership(have, g, ifindex);
	__u32 flags = IFA_F_MCAUTOJOIN | IFA_F_NOPREFIXROUTE;
	char name[IF_NAMESIZE], addr[INET6_ADDRSTRLEN];
	__u8 proto = RC_IFA_PROTO;
	struct nl_req req;
	int err;

	if (m) {
		/* A member already: ours from before, or the operator's. A device
		 * that went down and up has the local route of ours back (the
		 * kernel adds it on NETDEV_UP): drop it again. */
		if (m->proto == RC_IFA_PROTO)
			drop_local_route(g, ifindex, 0);
		return 0;
	}
	inet_ntop(g->family, &g->addr, addr, sizeof(addr));
	addr_req_init(&req, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, g, ifindex);
	if (g->family == AF_INET6) {
		/* IPv6 takes the scope from the address and never picks a
		 * multicast address as a source; no neighbour owns a group
		 * address, so there is nothing to detect. */
		flags |= IFA_F_NODAD;
	} else {
		/* inet_select_addr() skips host-scope addresses for traffic
		 * that leaves a device: the group is never a source. */
		req.ifa.ifa_scope = RT_SCOPE_HOST;
	}
	put_attr(&req, IFA_FLAGS, &flags, sizeof(flags));
	put_attr(&req, IFA_PROTO, &proto, sizeof(proto));
	err = rc_nl_request(&req.nh, 0, NULL, 0);
	if (err == -EEXIST) {
		/* The address is there without autojoin (IPv4 allows that):
		 * not a member, and not ours to replace. */
		rc_log(rc, REPLICAST_LOG_WARN, "not joining %s on %s: the device has that address "
		       "without autojoin", addr, dev_name(ifindex, name));
		return err;
	}
	if (err == -EADDRINUSE) {
		/* The autojoin socket is a member while the address is gone:
		 * IPv6 flushes addresses on link down and keeps the membership. */
		rc_log(rc, REPLICAST_LOG_INFO, "%s: the kernel holds a membership of %s already",
		       dev_name(ifindex, name), addr);
		return 0;
	}
	if (err) {
		rc_log(rc, REPLICAST_LOG_WARN, "joining %s on %s: %s", addr,
		       dev_name(ifindex, name), replicast_strerror(err));
		return err;
	}
	err = drop_local_route(g, ifindex, LOCAL_ROUTE_TRIES);
	if (err)
		rc_log(rc, REPLICAST_LOG_WARN, "joined %s on %s, but its local route stays "
		       "(this host's own packets to it go to lo): %s", addr,
		       dev_name(ifindex, name), replicast_strerror(err));
	else
		rc_log(rc, REPLICAST_LOG_INFO, "joined %s on %s", addr, dev_name(ifindex, name));
	return 0;
}

/* Leaves g on ifindex when the membership there is replicast's. */
static int leave_one(struct replicast *rc, const struct membership_list *list,
		     const struct replicast_endpoint *g, unsigned int ifindex)
{
	const struct membership *m = find_membership(list, g, ifindex);
	char name[IF_NAMESIZE], addr[INET6_ADDRSTRLEN];
	struct nl_req req;
	int err;

	if (!m)
		return 0;
	inet_ntop(g->family, &g->addr, addr, sizeof(addr));
	if (m->proto != RC_IFA_PROTO) {
		rc_log(rc, REPLICAST_LOG_INFO, "%s stays joined on %s: its address was not "
		       "added by replicast", addr, dev_name(ifindex, name));
		return 0;
	}
	/* inet_rtm_deladdr() and inet6_addr_del() leave through the autojoin
	 * socket when they delete a multicast address. */
	addr_req_init(&req, RTM_DELADDR, 0, g, ifindex);
	err = rc_nl_request(&req.nh, 0, NULL, 0);
	if (err == -EADDRNOTAVAIL || err == -ENODEV)
		return 0;
	if (err)
		rc_log(rc, REPLICAST_LOG_WARN, "leaving %s on %s: %s", addr,
		       dev_name(ifindex, name), replicast_strerror(err));
	else
		rc_log(rc, REPLICAST_LOG_INFO, "left %s on %s", addr, dev_name(ifindex, name));
	return err;
}

static bool device_exists(unsigned int ifindex)
{
	char name[IF_NAMESIZE];

	return if_indextoname(ifindex, name) != NULL;
}

/* 232.0.0.0/8 and ff3x::/32 are source-specific (RFC 4607): routers there
 * forward on INCLUDE joins only, and an any-source join is all the kernel
 * holds without a process. */
static bool source_specific(const struct replicast_endpoint *group)
{
	if (group->family == AF_INET)
		return (ntohl(group->addr.v4.s_addr) >> 24) == 232;
	return group->addr.v6.s6_addr[0] == 0xff && (group->addr.v6.s6_addr[1] >> 4) == 3;
}

int rc_join_attached(struct replicast *rc, const struct replicast_endpoint *group)
{
	char name[REPLICAST_ENDPOINT_STRLEN];
	struct membership_list have;
	__u32 key, *prev = NULL;
	int err, ret;

	if (!replicast_endpoint_is_multicast(group))
		return 0;
	if (source_specific(group))
		rc_log(rc, REPLICAST_LOG_WARN, "%s is a source-specific group; the relay joins it "
		       "for any source, which routers in the SSM range may ignore (see README, "
		       "\"Joining multicast groups\")",
		       replicast_endpoint_format(group, name, sizeof(name)));
	err = read_memberships(group->family, &have);
	if (err) {
		rc_log(rc, REPLICAST_LOG_WARN, "reading the host's addresses: %s",
		       replicast_strerror(err));
		return err;
	}
	while (!bpf_map_get_next_key(rc->attachments_fd, prev, &key)) {
		prev = &key;
		if (!device_exists(key))
			continue;	/* deleted since attach; unload forgets it */
		ret = join_one(rc, &have, group, key);
		err = err ?: ret;
	}
	free(have.m);
	return err;
}

int rc_leave_attached(struct replicast *rc, const struct replicast_endpoint *group)
{
	struct membership_list list;
	__u32 key, *prev = NULL;
	int err, ret;

	if (!replicast_endpoint_is_multicast(group))
		return 0;
	err = read_memberships(group->family, &list);
	if (err)
		return err;
	while (!bpf_map_get_next_key(rc->attachments_fd, prev, &key)) {
		prev = &key;
		ret = leave_one(rc, &list, group, key);
		err = err ?: ret;
	}
	free(list.m);
	return err;
}

/* Calls fn for each multicast address that groups are on (group_addrs). */
static int foreach_group_addr(struct replicast *rc,
			      int (*fn)(struct replicast *rc, const struct replicast_endpoint *g,
					unsigned int ifindex, void *ctx),
			      unsigned int ifindex, void *ctx)
{
	struct rc_group_key key, *prev = NULL;
	struct replicast_endpoint g;
	int err = 0, ret;

	while (!bpf_map_get_next_key(rc->group_addrs_fd, prev, &key)) {
		prev = &key;
		rc_key_to_endpoint(&key, &g);
		if (!replicast_endpoint_is_multicast(&g))
			continue;
		ret = fn(rc, &g, ifindex, ctx);
		err = err ?: ret;
	}
	return err;
}

static int join_cb(struct replicast *rc, const struct replicast_endpoint *g,
		   unsigned int ifindex, void *ctx)
{
	return join_one(rc, ctx, g, ifindex);
}

static int leave_cb(struct replicast *rc, const struct replicast_endpoint *g,
		    unsigned int ifindex, void *ctx)
{
	return leave_one(rc, ctx, g, ifindex);
}

int rc_join_groups_on(struct replicast *rc, unsigned int ifindex)
{
	struct membership_list have;
	int err = read_memberships(AF_UNSPEC, &have);

	if (err) {
		rc_log(rc, REPLICAST_LOG_WARN, "reading the host's addresses: %s",
		       replicast_strerror(err));
		return err;
	}
	err = foreach_group_addr(rc, join_cb, ifindex, &have);
	free(have.m);
	return err;
}

int rc_leave_groups_on(struct replicast *rc, unsigned int ifindex)
{
	struct membership_list list;
	int err;

	if (!device_exists(ifindex))
		return 0;	/* its addresses, and so its memberships, went with it */
	err = read_memberships(AF_UNSPEC, &list);
	if (err)
		return err;
	err = foreach_group_addr(rc, leave_cb, ifindex, &list);
	free(list.m);
	return err;
}

int rc_read_memberships(struct replicast *rc, struct replicast_group_info *groups, size_t n)
{
	struct membership_list list;
	size_t g, i;
	int err;

	(void)rc;
	err = read_memberships(AF_UNSPEC, &list);
	if (err)
		return err;
	for (g = 0; g < n; g++) {
		const struct replicast_endpoint *ep = &groups[g].group;

		if (!replicast_endpoint_is_multicast(ep))
			continue;
		for (i = 0; i < list.n; i++) {
			unsigned int *grown;

			if (list.m[i].family != ep->family ||
			    memcmp(list.m[i].addr, &ep->addr, addr_len(ep->family)))
				continue;
			grown = realloc(groups[g].joined_ifindex,
					(groups[g].njoined + 1) * sizeof(*grown));
			if (!grown) {
				free(list.m);
				return -ENOMEM;
			}
			groups[g].joined_ifindex = grown;
			groups[g].joined_ifindex[groups[g].njoined++] = list.m[i].ifindex;
		}
	}
	free(list.m);
	return 0;
}
