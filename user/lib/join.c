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
 * address as replicast's: one that an operator made stays when we leave.
 *
 * An autojoin membership is any-source (EXCLUDE {}). Addresses joined
 * source-specific (rc_join_plans_read) get no autojoin address: on the same
 * device it would turn the host's report into EXCLUDE {} and defeat the
 * source filter; a holder process joins them instead (ssm.c). */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
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
 * forward on INCLUDE joins only, and hosts send no any-source join there
 * (RFC 4604, section 2.2.1). */
bool rc_ssm_range(const struct replicast_endpoint *addr)
{
	if (addr->family == AF_INET)
		return (ntohl(addr->addr.v4.s_addr) >> 24) == 232;
	return addr->addr.v6.s6_addr[0] == 0xff && (addr->addr.v6.s6_addr[1] >> 4) == 3;
}

bool rc_prefix_is_host(const struct replicast_prefix *p)
{
	return p->len == (p->family == AF_INET ? 32 : 128);
}

static bool same_addr(const struct replicast_endpoint *a, const struct replicast_endpoint *b)
{
	return a->family == b->family && !memcmp(&a->addr, &b->addr, addr_len(a->family));
}

void rc_join_plans_free(struct rc_join_plan *plans, size_t n)
{
	size_t i;

	if (!plans)
		return;
	for (i = 0; i < n; i++)
		free(plans[i].sources);
	free(plans);
}

static int plan_add_source(struct rc_join_plan *plan, const struct replicast_prefix *p)
{
	struct replicast_prefix *grown;
	size_t i;

	for (i = 0; i < plan->nsources; i++)
		if (!memcmp(&plan->sources[i].addr, &p->addr, addr_len(p->family)))
			return 0;	/* two groups on the address allow the same host */
	grown = realloc(plan->sources, (plan->nsources + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	plan->sources = grown;
	plan->sources[plan->nsources++] = *p;
	return 0;
}

static int compare_source_group(const void *a, const void *b)
{
	const struct rc_source_key *x = a, *y = b;

	return x->group_id < y->group_id ? -1 : x->group_id > y->group_id;
}

/* The first of keys[] (sorted by group id) of group id, or n. */
static size_t first_source_of(const struct rc_source_key *keys, size_t n, __u32 id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (keys[mid].group_id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* One plan per multicast address in `groups`, from the allow lists. A group
 * that allows no source contributes nothing (it takes nothing from the
 * network); one that allows a prefix wider than a host needs every source
 * of it, which only an any-source membership asks for. only: that address's
 * plan alone (NULL: all). */
static int read_plans(struct replicast *rc, const struct replicast_endpoint *only,
		      struct rc_join_plan **out, size_t *nout)
{
	struct rc_join_plan *plans = NULL, *plan, *grown;
	struct rc_group_key key, *prev = NULL;
	struct rc_source_key *keys = NULL;
	size_t n = 0, nkeys = 0, i, k;
	bool *wide = NULL, *grown_wide;
	struct rc_group grp;
	int err;

	*out = NULL;
	*nout = 0;
	err = rc_read_sources(rc, &keys, &nkeys);
	if (err)
		return err;
	/* Sorted by group, so that each group finds its entries at once: a
	 * holder reads all of this every second. */
	if (nkeys)
		qsort(keys, nkeys, sizeof(*keys), compare_source_group);
	while (!bpf_map_get_next_key(rc->groups_fd, prev, &key)) {
		struct replicast_endpoint g;

		prev = &key;
		rc_key_to_endpoint(&key, &g);
		g.port = 0;
		if (!replicast_endpoint_is_multicast(&g) || (only && !same_addr(&g, only)) ||
		    bpf_map_lookup_elem(rc->groups_fd, &key, &grp) ||
		    !rc_group_key_is_first(&key, &grp))
			continue;	/* (a range's other ports: the same group) */
		for (i = 0; i < n && !same_addr(&plans[i].addr, &g); i++)
			;
		if (i == n) {
			grown = realloc(plans, (n + 1) * sizeof(*plans));
			if (!grown)
				goto nomem;
			plans = grown;
			grown_wide = realloc(wide, (n + 1) * sizeof(*wide));
			if (!grown_wide)
				goto nomem;
			wide = grown_wide;
			memset(&plans[n], 0, sizeof(plans[n]));
			plans[n].addr = g;
			wide[n] = false;
			n++;
		}
		plan = &plans[i];
		for (k = first_source_of(keys, nkeys, grp.id); k < nkeys && keys[k].group_id == grp.id;
		     k++) {
			struct replicast_prefix p;

			rc_key_to_prefix(&keys[k], &p);
			if (!rc_prefix_is_host(&p))
				wide[i] = true;
			else if (plan_add_source(plan, &p))
				goto nomem;
		}
	}
	for (i = 0; i < n; i++) {
		plans[i].source_specific = rc_ssm_range(&plans[i].addr) ||
					   (plans[i].nsources && !wide[i]);
		plans[i].any_source = !plans[i].source_specific && wide[i];
	}
	free(keys);
	free(wide);
	*out = plans;
	*nout = n;
	return 0;
nomem:
	free(keys);
	free(wide);
	rc_join_plans_free(plans, n);
	return -ENOMEM;
}

int rc_join_plans_read(struct replicast *rc, struct rc_join_plan **out, size_t *nout)
{
	return read_plans(rc, NULL, out, nout);
}

static const struct rc_join_plan *plan_find(const struct rc_join_plan *plans, size_t n,
					    const struct replicast_endpoint *addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (same_addr(&plans[i].addr, addr))
			return &plans[i];
	return NULL;
}

int rc_attached_devices(struct replicast *rc, unsigned int **out, size_t *n)
{
	unsigned int *list = NULL, *grown;
	__u32 key, *prev = NULL;
	size_t count = 0;

	while (!bpf_map_get_next_key(rc->attachments_fd, prev, &key)) {
		prev = &key;
		if (!device_exists(key))
			continue;	/* deleted since attach; unload forgets it */
		grown = realloc(list, (count + 1) * sizeof(*grown));
		if (!grown) {
			free(list);
			return -ENOMEM;
		}
		list = grown;
		list[count++] = key;
	}
	*out = list;
	*n = count;
	return 0;
}

/* Makes the any-source membership of group's address on every attached
 * device what its plan says: an autojoin address, or none of ours when the
 * address is joined source-specific. */
int rc_join_attached(struct replicast *rc, const struct replicast_endpoint *group)
{
	char name[INET6_ADDRSTRLEN];
	const struct rc_join_plan *plan;
	struct membership_list have;
	struct rc_join_plan *plans;
	__u32 key, *prev = NULL;
	size_t nplans;
	bool ssm, any, held;
	int err, ret;

	if (!replicast_endpoint_is_multicast(group))
		return 0;
	/* Only this address's groups: an apply calls this for each group. */
	err = read_plans(rc, group, &plans, &nplans);
	if (err) {
		rc_log(rc, REPLICAST_LOG_WARN, "reading the groups' allow lists: %s",
		       replicast_strerror(err));
		return err;
	}
	plan = plan_find(plans, nplans, group);
	ssm = plan && plan->source_specific;
	any = plan && plan->any_source;
	/* Said as a warning while no holder runs: the host is then a member
	 * of the address nowhere, which a snooping switch makes a lost stream. */
	held = ssm && replicast_ssm_holder(rc) == 1;
	if (ssm)
		rc_log(rc, held ? REPLICAST_LOG_INFO : REPLICAST_LOG_WARN,
		       "%s is joined source-specific (%zu host source%s), only while a process "
		       "holds the memberships (replicast serve)%s",
		       inet_ntop(plan->addr.family, &plan->addr.addr, name, sizeof(name)), plan->nsources,
		       plan->nsources == 1 ? "" : "s",
		       held ? "" : "; none runs, so the host is a member of it on no device");
	rc_join_plans_free(plans, nplans);
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
		ret = any ? join_one(rc, &have, group, key) : leave_one(rc, &have, group, key);
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

struct join_ctx {
	struct membership_list have;
	struct rc_join_plan *plans;
	size_t nplans;
};

static int join_cb(struct replicast *rc, const struct replicast_endpoint *g,
		   unsigned int ifindex, void *ctx)
{
	struct join_ctx *j = ctx;
	const struct rc_join_plan *plan = plan_find(j->plans, j->nplans, g);

	/* Source-specific ones are the holder's to join; with nothing allowed
	 * yet there is nothing to join for. */
	if (!plan || !plan->any_source)
		return leave_one(rc, &j->have, g, ifindex);
	return join_one(rc, &j->have, g, ifindex);
}

static int leave_cb(struct replicast *rc, const struct replicast_endpoint *g,
		    unsigned int ifindex, void *ctx)
{
	return leave_one(rc, ctx, g, ifindex);
}

int rc_join_groups_on(struct replicast *rc, unsigned int ifindex)
{
	struct join_ctx j;
	int err = read_memberships(AF_UNSPEC, &j.have);

	if (err) {
		rc_log(rc, REPLICAST_LOG_WARN, "reading the host's addresses: %s",
		       replicast_strerror(err));
		return err;
	}
	err = rc_join_plans_read(rc, &j.plans, &j.nplans);
	if (err) {
		free(j.have.m);
		return err;
	}
	err = foreach_group_addr(rc, join_cb, ifindex, &j);
	rc_join_plans_free(j.plans, j.nplans);
	free(j.have.m);
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

/* One INCLUDE source of a device's group, as /proc/net/mcfilter(6) lists
 * it: some socket on this host asks for (source, group) there. */
struct source_filter {
	int family;
	unsigned int ifindex;
	__u8 group[16];
	__u8 source[16];
};

struct filter_list {
	struct source_filter *f;
	size_t n;
};

static int hex_bytes(const char *hex, __u8 *out, size_t len)
{
	size_t i;

	if (strlen(hex) != 2 * len)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (__u8)b;
	}
	return 0;
}

static int filter_push(struct filter_list *list, const struct source_filter *f)
{
	struct source_filter *grown = realloc(list->f, (list->n + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	list->f = grown;
	list->f[list->n++] = *f;
	return 0;
}

/* The INCLUDE sources of every device, both families, of the calling
 * thread's namespace (thread-self: the library works in the thread's). The
 * files print (igmp_mcf_seq_show, igmp6_mcf_seq_show) the ifindex first, the
 * device's name cut to 6 characters, IPv4 addresses as the hex of their
 * host-order value and IPv6 ones as 32 hex digits in network order, then
 * how many sockets include and exclude the source. */
static int read_source_filters(struct filter_list *list)
{
	static const char *const files[2] = { "/proc/thread-self/net/mcfilter",
					      "/proc/thread-self/net/mcfilter6" };
	char line[256], g[64], src[64];
	unsigned long inc, exc;
	int f, err = 0;

	list->f = NULL;
	list->n = 0;
	for (f = 0; f < 2 && !err; f++) {
		FILE *fp = fopen(files[f], "re");

		if (!fp)
			continue;	/* no IPv6 (or no IPv4 multicast): nothing held */
		while (!err && fgets(line, sizeof(line), fp)) {
			struct source_filter sf = { .family = f ? AF_INET6 : AF_INET };
			unsigned int a, b;

			if (sscanf(line, "%u %*s %63s %63s %lu %lu", &sf.ifindex, g, src, &inc,
				   &exc) != 5 || !inc)
				continue;	/* the header, or excluded only */
			if (!f) {
				if (sscanf(g, "0x%x", &a) != 1 || sscanf(src, "0x%x", &b) != 1)
					continue;
				a = htonl(a);
				b = htonl(b);
				memcpy(sf.group, &a, 4);
				memcpy(sf.source, &b, 4);
			} else if (hex_bytes(g, sf.group, 16) || hex_bytes(src, sf.source, 16)) {
				continue;
			}
			err = filter_push(list, &sf);
		}
		fclose(fp);
	}
	if (err) {
		free(list->f);
		list->f = NULL;
		list->n = 0;
	}
	return err;
}

static bool filter_has(const struct filter_list *list, unsigned int ifindex,
		       const struct replicast_endpoint *g, const struct replicast_prefix *src)
{
	size_t i, len = addr_len(g->family);

	for (i = 0; i < list->n; i++) {
		const struct source_filter *f = &list->f[i];

		if (f->family == g->family && f->ifindex == ifindex &&
		    !memcmp(f->group, &g->addr, len) && !memcmp(f->source, &src->addr, len))
			return true;
	}
	return false;
}

static int add_joined(struct replicast_group_info *g, unsigned int ifindex)
{
	unsigned int *grown;
	size_t i;

	for (i = 0; i < g->njoined; i++)
		if (g->joined_ifindex[i] == ifindex)
			return 0;
	grown = realloc(g->joined_ifindex, (g->njoined + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	g->joined_ifindex = grown;
	g->joined_ifindex[g->njoined++] = ifindex;
	return 0;
}

/* A source-specific group is joined on the devices where the kernel holds
 * every host source of its address (its plan) as an INCLUDE source. */
static int read_ssm_joined(const struct rc_join_plan *plan, const struct filter_list *filters,
			   struct replicast_group_info *g)
{
	size_t i, s;
	int err;

	if (!plan->nsources)
		return 0;
	for (i = 0; i < filters->n; i++) {
		const struct source_filter *f = &filters->f[i];

		if (f->family != plan->addr.family ||
		    memcmp(f->group, &plan->addr.addr, addr_len(f->family)))
			continue;
		for (s = 0; s < plan->nsources; s++)
			if (!filter_has(filters, f->ifindex, &plan->addr, &plan->sources[s]))
				break;
		if (s < plan->nsources)
			continue;
		err = add_joined(g, f->ifindex);
		if (err)
			return err;
	}
	return 0;
}

int rc_read_memberships(struct replicast *rc, struct replicast_group_info *groups, size_t n)
{
	struct filter_list filters = {};
	struct membership_list list;
	struct rc_join_plan *plans;
	size_t g, i, nplans;
	int err, holder;

	err = rc_join_plans_read(rc, &plans, &nplans);
	if (err)
		return err;
	holder = replicast_ssm_holder(rc);
	err = read_memberships(AF_UNSPEC, &list);
	if (!err)
		err = read_source_filters(&filters);
	for (g = 0; !err && g < n; g++) {
		const struct replicast_endpoint *ep = &groups[g].group;
		const struct rc_join_plan *plan;

		if (!replicast_endpoint_is_multicast(ep))
			continue;
		plan = plan_find(plans, nplans, ep);
		if (plan && plan->source_specific) {
			groups[g].source_specific = true;
			groups[g].ssm_holder = holder > 0;
			err = read_ssm_joined(plan, &filters, &groups[g]);
			continue;
		}
		for (i = 0; !err && i < list.n; i++) {
			if (list.m[i].family != ep->family ||
			    memcmp(list.m[i].addr, &ep->addr, addr_len(ep->family)))
				continue;
			err = add_joined(&groups[g], list.m[i].ifindex);
		}
	}
	free(filters.f);
	free(list.m);
	rc_join_plans_free(plans, nplans);
	return err;
}
