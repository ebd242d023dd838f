// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Subscribers: slots of a group's subscriber array. A slot is written in two
 * steps, data with state OFF, then state ON, so a packet walking the array
 * meanwhile sees the old subscriber, no subscriber, or the new one whole. */
#include <errno.h>
#include <stdbool.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "internal.h"
#include "lib_route.h"

#define DEFAULT_RESOLVE_TIMEOUT_MS 1000

/* Slots read per batch: a group's slots in use end at its first EMPTY one,
 * so reading in chunks keeps an add to a small group cheap. */
#define SLOT_CHUNK 256

/* Reads the group's slots in use (up to the first EMPTY one) into *out,
 * an array of max_subs entries. Returns how many are in use. */
int rc_read_slots(struct replicast *rc, int subs_fd, struct subscriber **out)
{
	__u32 max = rc->cfg.max_subs, next = 0, count, token = 0, i;
	struct subscriber *slots = calloc(max, sizeof(*slots));
	__u32 *keys = calloc(SLOT_CHUNK, sizeof(*keys));
	bool batch = true;
	int err = 0;

	*out = NULL;
	if (!slots || !keys) {
		err = -ENOMEM;
		goto fail;
	}
	while (next < max) {
		count = max - next < SLOT_CHUNK ? max - next : SLOT_CHUNK;
		/* The batch starts after in_batch, the last key of the one before. */
		if (batch && bpf_map_lookup_batch(subs_fd, next ? &token : NULL, &token, keys,
						  &slots[next], &count, NULL) &&
		    errno != ENOENT) {
			/* 524 is the kernel's ENOTSUPP, which leaks to user space here. */
			if (errno != EINVAL && errno != 524 && errno != EOPNOTSUPP) {
				err = -errno;
				goto fail;
			}
			batch = false;	/* kernel without batch ops: one by one */
		}
		if (!batch) {
			count = 1;
			if (bpf_map_lookup_elem(subs_fd, &next, &slots[next])) {
				err = -errno;
				goto fail;
			}
		}
		for (i = next; i < next + count; i++) {
			if (slots[i].state == SUB_EMPTY) {
				free(keys);
				*out = slots;
				return (int)i;
			}
		}
		next += count;
		if (!count)
			break;
	}
	free(keys);
	*out = slots;
	return (int)next;
fail:
	free(keys);
	free(slots);
	return err;
}

static int same_dest(const struct subscriber *s, const struct replicast_endpoint *dest)
{
	struct group_key key;

	rc_endpoint_to_key(dest, &key);
	return s->family == key.family && s->port == key.port &&
	       !memcmp(&s->addr, &key.addr, sizeof(key.addr));
}

/* The program's FIB lookup refuses to answer for a device that does not
 * forward (bpf_ipv4_fib_lookup checks IN_DEV_FORWARD): say so now, not by
 * a silent stream of forwarding_off drops later. */
static void warn_if_not_forwarding(struct replicast *rc, int family, unsigned int ifindex)
{
	char ifname[IF_NAMESIZE], path[128];
	int on = 1;
	FILE *f;

	if (!if_indextoname(ifindex, ifname))
		return;
	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/forwarding",
		 family == AF_INET6 ? "ipv6" : "ipv4", ifname);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fscanf(f, "%d", &on) != 1)
		on = 1;
	fclose(f);
	if (!on)
		rc_log(rc, REPLICAST_LOG_WARN,
		       "forwarding is off on %s, so copies through it are dropped (forwarding_off) "
		       "until it is on: sysctl -w net.%s.conf.all.forwarding=1, or give --mac",
		       ifname, family == AF_INET6 ? "ipv6" : "ipv4");
}

/* Fills the routing part of a slot: egress device, source address, MACs.
 * Resolves the next hop now so the first packet finds its MAC. */
static int resolve_subscriber(struct replicast *rc, const struct replicast_endpoint *dest,
			      const struct replicast_sub_opts *opts, struct subscriber *s)
{
	unsigned int oif = 0, timeout = DEFAULT_RESOLVE_TIMEOUT_MS;
	char name[REPLICAST_ENDPOINT_STRLEN];
	struct rc_route route;
	union rc_ip dst;
	int err;

	if (opts && opts->ifname) {
		oif = if_nametoindex(opts->ifname);
		if (!oif)
			return -ENODEV;
	}
	if (opts && opts->resolve_timeout_ms)
		timeout = opts->resolve_timeout_ms;
	memset(&dst, 0, sizeof(dst));
	memcpy(&dst, &dest->addr, dest->family == AF_INET6 ? 16 : 4);
	err = rc_route_get(dest->family, &dst, oif, &route);
	if (err)
		return err;
	s->ifindex = route.ifindex;
	memcpy(&s->source, &route.prefsrc, dest->family == AF_INET6 ? 16 : 4);
	if (opts && opts->keep_source)
		s->flags |= SUB_F_KEEP_SOURCE;
	if (opts && opts->mac) {
		s->flags |= SUB_F_STATIC_MAC;
		memcpy(s->dst_mac, opts->mac, 6);
		return rc_link_mac(s->ifindex, s->src_mac);
	}
	warn_if_not_forwarding(rc, dest->family, route.ifindex);
	err = rc_neigh_resolve(dest->family, route.has_gateway ? &route.gateway : &dst,
			       route.ifindex, timeout, NULL);
	if (err == -ETIMEDOUT) {
		/* Not fatal: the kernel keeps trying, and until it succeeds the
		 * program counts no_neighbour drops rather than guessing. */
		rc_log(rc, REPLICAST_LOG_WARN,
		       "next hop of %s did not answer within %u ms; copies are counted as "
		       "no_neighbour drops until it does",
		       replicast_endpoint_format(dest, name, sizeof(name)), timeout);
		return 0;
	}
	return err;
}

int replicast_sub_add(struct replicast *rc, const struct replicast_endpoint *group,
		      const struct replicast_endpoint *dest, const struct replicast_sub_opts *opts)
{
	struct subscriber *slots = NULL, s = {};
	struct group_key key;
	struct group grp;
	int subs_fd = -1, stats_fd = -1, used, err;
	__u32 i, slot;

	if (!group || !dest || (dest->family != AF_INET && dest->family != AF_INET6) ||
	    !dest->port)
		return -EINVAL;
	if (dest->family != group->family)
		return -EAFNOSUPPORT;
	rc_endpoint_to_key(dest, &key);
	s.family = key.family;
	s.port = key.port;
	s.addr = key.addr;
	/* Resolving can wait on the network: do it before taking the lock. */
	err = resolve_subscriber(rc, dest, opts, &s);
	if (err)
		return err;

	err = rc_lock(rc);
	if (err)
		return err;
	err = rc_group_find(rc, group, &grp);
	if (err)
		goto out;
	subs_fd = rc_inner_map_fd(rc->group_subs_fd, grp.id);
	if (subs_fd < 0) {
		err = subs_fd;
		goto out;
	}
	used = rc_read_slots(rc, subs_fd, &slots);
	if (used < 0) {
		err = used;
		goto out;
	}
	slot = (__u32)used;	/* append, unless a switched-off slot is free */
	for (i = 0; i < (__u32)used; i++) {
		if (slots[i].state == SUB_ON && same_dest(&slots[i], dest)) {
			err = -EEXIST;
			goto out;
		}
		if (slots[i].state == SUB_OFF && slot == (__u32)used)
			slot = i;
	}
	if (slot >= rc->cfg.max_subs) {
		err = -ENOSPC;
		goto out;
	}
	s.state = SUB_OFF;
	if (bpf_map_update_elem(subs_fd, &slot, &s, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	/* A reused slot starts its counters from zero. */
	stats_fd = rc_inner_map_fd(rc->sub_stats_fd, grp.id);
	if (stats_fd >= 0)
		rc_sub_counters_zero(rc, stats_fd, slot);
	s.state = SUB_ON;
	if (bpf_map_update_elem(subs_fd, &slot, &s, BPF_ANY))
		err = -errno;
out:
	free(slots);
	if (subs_fd >= 0)
		close(subs_fd);
	if (stats_fd >= 0)
		close(stats_fd);
	rc_unlock(rc);
	return err;
}

int replicast_sub_del(struct replicast *rc, const struct replicast_endpoint *group,
		      const struct replicast_endpoint *dest)
{
	struct subscriber *slots = NULL;
	struct group grp;
	int subs_fd = -1, used, err;
	__u32 i;

	if (!group || !dest)
		return -EINVAL;
	err = rc_lock(rc);
	if (err)
		return err;
	err = rc_group_find(rc, group, &grp);
	if (err)
		goto out;
	subs_fd = rc_inner_map_fd(rc->group_subs_fd, grp.id);
	if (subs_fd < 0) {
		err = subs_fd;
		goto out;
	}
	used = rc_read_slots(rc, subs_fd, &slots);
	if (used < 0) {
		err = used;
		goto out;
	}
	err = -ESRCH;
	for (i = 0; i < (__u32)used; i++) {
		if (slots[i].state != SUB_ON || !same_dest(&slots[i], dest))
			continue;
		/* Only the state changes: the slot stays in the walk, switched
		 * off, and is reused by the next add. */
		slots[i].state = SUB_OFF;
		err = bpf_map_update_elem(subs_fd, &i, &slots[i], BPF_ANY) ? -errno : 0;
		break;
	}
out:
	free(slots);
	if (subs_fd >= 0)
		close(subs_fd);
	rc_unlock(rc);
	return err;
}
