// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Source-specific memberships: the holder a long-running process keeps, so
 * that the host reports INCLUDE {sources} (IGMPv3 / MLDv2) for the addresses
 * join.c plans as source-specific, on every attached device.
 *
 * The kernel keeps an INCLUDE membership only for the socket that asked for
 * it (MCAST_JOIN_SOURCE_GROUP; ip_mc_drop_socket and ipv6_sock_mc_close
 * leave when the socket closes), so a process must hold the sockets: no
 * autojoin-like address exists for it. A holder is marked (mark.c), for
 * `list` and for replicast_ssm_holder(). */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "internal.h"

/* Sockets a holder opens at most per family. One IPv4 socket takes
 * net.ipv4.igmp_max_memberships (20 by default) groups and
 * net.ipv4.igmp_max_msf (10) sources per group before the kernel says
 * ENOBUFS, so a relay with many groups on several devices needs several. */
#define SSM_MAX_SOCKETS 1024

/* One (source, group) membership on one device. */
struct ssm_membership {
	int family;
	unsigned int ifindex;
	__u8 group[16];
	__u8 source[16];
	int fd;			/* the socket holding it; -1: not held */
	int err;		/* the last join's error, so a failure is logged once */
};

struct ssm_sockets {
	int *fd;
	size_t n;
};

struct replicast_ssm {
	struct replicast *rc;
	int mark_fd;		/* the abstract unix socket that says a holder runs */
	struct ssm_sockets socks[2];	/* [0] IPv4, [1] IPv6 */
	struct ssm_membership *m;	/* sorted by compare_m() */
	size_t n;
};

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

int replicast_ssm_holder(struct replicast *rc)
{
	if (!rc)
		return -EINVAL;
	return rc_mark_held(rc, "ssm");
}

int replicast_ssm_open(struct replicast *rc, struct replicast_ssm **out)
{
	struct replicast_ssm *ssm;

	if (!rc || !out)
		return -EINVAL;
	*out = NULL;
	ssm = calloc(1, sizeof(*ssm));
	if (!ssm)
		return -ENOMEM;
	ssm->rc = rc;
	ssm->mark_fd = rc_mark_take(rc, "ssm");
	if (ssm->mark_fd < 0) {
		int err = ssm->mark_fd;

		free(ssm);
		return err;
	}
	*out = ssm;
	return 0;
}

static void format_pair(const struct ssm_membership *m, char *buf, size_t len)
{
	char g[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN], dev[IF_NAMESIZE];

	inet_ntop(m->family, m->group, g, sizeof(g));
	inet_ntop(m->family, m->source, s, sizeof(s));
	if (!if_indextoname(m->ifindex, dev))
		snprintf(dev, sizeof(dev), "ifindex %u", m->ifindex);
	snprintf(buf, len, "(%s, %s) on %s", s, g, dev);
}

static void fill_req(const struct ssm_membership *m, struct group_source_req *req)
{
	memset(req, 0, sizeof(*req));
	req->gsr_interface = m->ifindex;
	if (m->family == AF_INET) {
		struct sockaddr_in *g = (struct sockaddr_in *)&req->gsr_group;
		struct sockaddr_in *s = (struct sockaddr_in *)&req->gsr_source;

		g->sin_family = s->sin_family = AF_INET;
		memcpy(&g->sin_addr, m->group, 4);
		memcpy(&s->sin_addr, m->source, 4);
	} else {
		struct sockaddr_in6 *g = (struct sockaddr_in6 *)&req->gsr_group;
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&req->gsr_source;

		g->sin6_family = s->sin6_family = AF_INET6;
		memcpy(&g->sin6_addr, m->group, 16);
		memcpy(&s->sin6_addr, m->source, 16);
	}
}

static int sockopt(const struct ssm_membership *m, int fd, int opt)
{
	struct group_source_req req;

	fill_req(m, &req);
	return setsockopt(fd, m->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6, opt, &req,
			  sizeof(req)) ? -errno : 0;
}

/* Joins on the first socket of the family with room; opens another when
 * every one says ENOBUFS (its membership or source limit) or ENOMEM (its
 * option memory, net.core.optmem_max). */
static int ssm_join(struct replicast_ssm *ssm, struct ssm_membership *m)
{
	struct ssm_sockets *socks = &ssm->socks[m->family == AF_INET6];
	size_t i;
	int err = -ENOBUFS, *grown, fd;

	for (i = 0; i < socks->n; i++) {
		err = sockopt(m, socks->fd[i], MCAST_JOIN_SOURCE_GROUP);
		if (!err) {
			m->fd = socks->fd[i];
			return 0;
		}
		if (err != -ENOBUFS && err != -ENOMEM)
			return err;
	}
	if (socks->n >= SSM_MAX_SOCKETS)
		return err;
	/* An unbound UDP socket: it holds memberships and receives nothing. */
	fd = socket(m->family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	grown = realloc(socks->fd, (socks->n + 1) * sizeof(*grown));
	if (!grown) {
		close(fd);
		return -ENOMEM;
	}
	socks->fd = grown;
	socks->fd[socks->n++] = fd;
	err = sockopt(m, fd, MCAST_JOIN_SOURCE_GROUP);
	if (!err)
		m->fd = fd;
	return err;
}

/* Memberships are kept sorted by what they are (family, device, group,
 * source), so a sync merges the wanted list into the held one in one walk:
 * a relay with a thousand groups on a few devices, synced every second,
 * costs a sort, not a search per membership. */
static int compare_m(const void *a, const void *b)
{
	const struct ssm_membership *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->ifindex != y->ifindex)
		return x->ifindex < y->ifindex ? -1 : 1;
	c = memcmp(x->group, y->group, sizeof(x->group));
	return c ? c : memcmp(x->source, y->source, sizeof(x->source));
}

/* What the plans want on the devices, sorted, each once. */
static int wanted_list(const struct rc_join_plan *plans, size_t nplans, const unsigned int *devs,
		       size_t ndevs, struct ssm_membership **out, size_t *nout)
{
	struct ssm_membership *want = NULL, *grown;
	size_t n = 0, cap = 0, p, d, s, i, kept;

	for (p = 0; p < nplans; p++) {
		const struct rc_join_plan *plan = &plans[p];

		if (!plan->source_specific)
			continue;
		for (d = 0; d < ndevs; d++) {
			for (s = 0; s < plan->nsources; s++) {
				struct ssm_membership *m;

				if (n == cap) {
					cap = cap ? 2 * cap : 64;
					grown = realloc(want, cap * sizeof(*want));
					if (!grown) {
						free(want);
						return -ENOMEM;
					}
					want = grown;
				}
				m = &want[n++];
				memset(m, 0, sizeof(*m));	/* unused address bytes compare equal */
				m->family = plan->addr.family;
				m->ifindex = devs[d];
				memcpy(m->group, &plan->addr.addr, alen(m->family));
				memcpy(m->source, &plan->sources[s].addr, alen(m->family));
				m->fd = -1;
			}
		}
	}
	if (n)
		qsort(want, n, sizeof(*want), compare_m);
	for (i = kept = 0; i < n; i++)
		if (!kept || compare_m(&want[kept - 1], &want[i]))
			want[kept++] = want[i];
	*out = want;
	*nout = kept;
	return 0;
}

static void ssm_leave(struct replicast_ssm *ssm, const struct ssm_membership *m)
{
	char pair[2 * INET6_ADDRSTRLEN + IF_NAMESIZE + 32];
	int err;

	if (m->fd < 0)
		return;
	format_pair(m, pair, sizeof(pair));
	/* A device deleted since took the membership with it: ENODEV or
	 * EADDRNOTAVAIL, and it is gone either way. */
	err = sockopt(m, m->fd, MCAST_LEAVE_SOURCE_GROUP);
	if (err && err != -ENODEV && err != -EADDRNOTAVAIL)
		rc_log(ssm->rc, REPLICAST_LOG_WARN, "leaving %s: %s", pair, replicast_strerror(err));
	else
		rc_log(ssm->rc, REPLICAST_LOG_INFO, "left %s", pair);
}

int replicast_ssm_sync(struct replicast_ssm *ssm)
{
	char pair[2 * INET6_ADDRSTRLEN + IF_NAMESIZE + 32];
	struct rc_join_plan *plans = NULL;
	struct ssm_membership *want = NULL;
	unsigned int *devs = NULL;
	size_t nplans = 0, ndevs = 0, nwant = 0, h, w;
	int err, ret = 0;

	if (!ssm)
		return -EINVAL;
	/* No lock: a sync reads what the maps say now, and one that raced a
	 * writer is put right by the next. */
	err = rc_join_plans_read(ssm->rc, &plans, &nplans);
	if (!err)
		err = rc_attached_devices(ssm->rc, &devs, &ndevs);
	if (!err)
		err = wanted_list(plans, nplans, devs, ndevs, &want, &nwant);
	rc_join_plans_free(plans, nplans);
	free(devs);
	if (err) {
		/* Nothing is left on a failed read: what is held stays held. */
		rc_log(ssm->rc, REPLICAST_LOG_WARN, "source-specific memberships: reading the "
		       "groups: %s", replicast_strerror(err));
		return err;
	}
	/* Merge: a held one that is still wanted stays as it is (its socket,
	 * its last error); one no longer wanted is left first, since the
	 * kernel leaves the group on a socket with its last INCLUDE source
	 * (ip_mc_source) and a join may then reuse the room. */
	for (h = w = 0; h < ssm->n || w < nwant;) {
		int c = h == ssm->n ? 1 : w == nwant ? -1 : compare_m(&ssm->m[h], &want[w]);

		if (c < 0) {
			ssm_leave(ssm, &ssm->m[h++]);
		} else if (c == 0) {
			want[w++] = ssm->m[h++];
		} else {
			w++;
		}
	}
	free(ssm->m);
	ssm->m = want;
	ssm->n = nwant;
	for (w = 0; w < ssm->n; w++) {
		struct ssm_membership *m = &ssm->m[w];

		if (m->fd >= 0)
			continue;
		format_pair(m, pair, sizeof(pair));
		err = ssm_join(ssm, m);
		if (err) {
			if (err != m->err)
				rc_log(ssm->rc, REPLICAST_LOG_WARN, "joining %s: %s (tried again "
				       "at each sync)", pair, replicast_strerror(err));
			m->err = err;
			ret = ret ?: err;
			continue;
		}
		m->err = 0;
		rc_log(ssm->rc, REPLICAST_LOG_INFO, "joined %s", pair);
	}
	return ret;
}

void replicast_ssm_close(struct replicast_ssm *ssm)
{
	size_t f, i;

	if (!ssm)
		return;
	/* Closing a socket leaves every membership it holds. */
	for (f = 0; f < 2; f++) {
		for (i = 0; i < ssm->socks[f].n; i++)
			close(ssm->socks[f].fd[i]);
		free(ssm->socks[f].fd);
	}
	if (ssm->mark_fd >= 0)
		close(ssm->mark_fd);
	free(ssm->m);
	free(ssm);
}
