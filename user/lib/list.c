// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reading state back: groups with their subscribers, counters and
 * multicast memberships, and the per-reason drop counters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <stdint.h>
#include <sys/socket.h>
#include "internal.h"

_Static_assert(REPLICAST_MAX_PORT_RANGE == RC_MAX_PORT_RANGE, "one port range limit");
/* port_last went into padding: skipped stays where releases before it had it. */
_Static_assert(offsetof(struct replicast_group_info, skipped) ==
	       ((offsetof(struct replicast_group_info, reverse_path_loose) + 1 + 7) & ~(size_t)7),
	       "struct replicast_group_info keeps its layout");

static void fill_sub_info(struct replicast *rc, __u32 gid, const struct rc_subscriber *s,
			  __u32 slot, int stats_fd, struct replicast_sub_info *info)
{
	struct rc_subscriber_counters c = {};

	memset(info, 0, sizeof(*info));
	rc_addr_to_endpoint(s->family, &s->addr, s->port, &info->dest);
	rc_addr_to_endpoint(s->family, &s->source, 0, &info->source);
	info->ifindex = s->ifindex;
	info->has_mac = !!(s->flags & SUB_F_STATIC_MAC);
	if (info->has_mac)
		memcpy(info->mac, s->dst_mac, 6);
	info->keep_source = !!(s->flags & SUB_F_KEEP_SOURCE);
	info->enabled = s->state == SUB_ON;
	info->slot = slot;
	if (stats_fd >= 0)
		rc_sub_counters_read(rc, stats_fd, slot, &c);
	info->sent.packets = c.packets;
	info->sent.bytes = c.bytes;
	info->dropped = c.dropped;
	rc_select_to_info(rc, gid, s, info);
	rc_health_to_info(rc, s, info);
}

/* Subscribers that are switched on; OFF slots are removed subscribers. */
static int read_group_subs(struct replicast *rc, struct replicast_group_info *g)
{
	struct rc_subscriber *slots = NULL;
	int subs_fd, stats_fd, used, err = 0, i;

	subs_fd = rc_inner_map_fd(rc->group_subs_fd, g->id);
	if (subs_fd < 0)
		return subs_fd == -ENOENT ? 0 : subs_fd;
	stats_fd = rc_inner_map_fd(rc->sub_stats_fd, g->id);
	used = rc_read_slots(rc, subs_fd, &slots);
	if (used < 0) {
		err = used;
		goto out;
	}
	g->subs = calloc(used ? used : 1, sizeof(*g->subs));
	if (!g->subs) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < used; i++) {
		if (slots[i].state != SUB_ON)
			continue;
		fill_sub_info(rc, g->id, &slots[i], i, stats_fd, &g->subs[g->nsubs++]);
	}
out:
	free(slots);
	close(subs_fd);
	if (stats_fd >= 0)
		close(stats_fd);
	return err;
}

/* Hands each group its allow-list entries (one walk of the trie for all). */
static int attach_sources(struct replicast *rc, struct replicast_group_info *list, size_t count)
{
	struct rc_source_key *keys;
	size_t n, i, g;
	int err = rc_read_sources(rc, &keys, &n);

	if (err)
		return err;
	for (g = 0; g < count; g++) {
		for (i = 0; i < n; i++) {
			struct replicast_prefix *grown;

			if (keys[i].group_id != list[g].id)
				continue;
			grown = realloc(list[g].sources, (list[g].nsources + 1) * sizeof(*grown));
			if (!grown) {
				free(keys);
				return -ENOMEM;
			}
			list[g].sources = grown;
			rc_key_to_prefix(&keys[i], &list[g].sources[list[g].nsources++]);
		}
	}
	free(keys);
	return 0;
}

static int compare_groups(const void *a, const void *b)
{
	const struct replicast_group_info *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int replicast_groups_read(struct replicast *rc, struct replicast_group_info **groups, size_t *n)
{
	struct replicast_group_info *list = NULL, *grown;
	struct rc_group_key key, *prev = NULL;
	struct rc_group_counters c;
	size_t count = 0, cap = 0;
	struct rc_group grp;
	int err = 0;

	*groups = NULL;
	*n = 0;
	while (!bpf_map_get_next_key(rc->groups_fd, prev, &key)) {
		prev = &key;
		if (bpf_map_lookup_elem(rc->groups_fd, &key, &grp))
			continue;	/* deleted while we walked */
		/* A range is one group: listed once, by its first port. */
		if (!rc_group_key_is_first(&key, &grp))
			continue;
		if (count == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				err = -ENOMEM;
				goto fail;
			}
			list = grown;
		}
		memset(&list[count], 0, sizeof(list[count]));
		rc_key_to_endpoint(&key, &list[count].group);
		list[count].port_last = rc_group_is_range(&grp) ? grp.port_last : key.port;
		list[count].id = grp.id;
		list[count].max_pps = grp.max_pps;
		list[count].max_bps = grp.max_bps;
		if (replicast_endpoint_is_multicast(&list[count].group))
			list[count].ttl = grp.ttl ? grp.ttl : RC_COPY_TTL;
		list[count].reverse_path_loose = grp.flags & GROUP_F_LOOSE_REVERSE_PATH;
		list[count].mode = grp.flags & GROUP_F_BALANCE ? REPLICAST_MODE_BALANCE
							       : REPLICAST_MODE_REPLICATE;
		list[count].hash = grp.flags & GROUP_F_HASH_FLOW ? REPLICAST_HASH_FLOW
								 : REPLICAST_HASH_SOURCE;
		if (!rc_percpu_sum(rc, rc->group_stats_fd, grp.id, (__u64 *)&c, sizeof(c))) {
			list[count].received.packets = c.rx_packets;
			list[count].received.bytes = c.rx_bytes;
			list[count].sent.packets = c.tx_packets;
			list[count].sent.bytes = c.tx_bytes;
			list[count].source_denied = c.source_denied;
			list[count].rate_limited = c.rate_limited;
			list[count].skipped = c.skipped;
		}
		err = read_group_subs(rc, &list[count]);
		count++;
		if (err)
			goto fail;
	}
	err = attach_sources(rc, list, count);
	if (!err)
		err = rc_read_memberships(rc, list, count);
	if (err)
		goto fail;
	if (count)
		qsort(list, count, sizeof(*list), compare_groups);
	*groups = list;
	*n = count;
	return 0;
fail:
	replicast_groups_free(list, count);
	return err;
}

void replicast_groups_free(struct replicast_group_info *groups, size_t n)
{
	size_t i;

	if (!groups)
		return;
	for (i = 0; i < n; i++) {
		free(groups[i].subs);
		free(groups[i].sources);
		free(groups[i].joined_ifindex);
	}
	free(groups);
}

int replicast_drops_read(struct replicast *rc, uint64_t *counts, size_t n)
{
	__u32 reason;
	__u64 v;
	int err;

	for (reason = 0; reason < DROP_REASON_MAX && reason < n; reason++) {
		err = rc_percpu_sum(rc, rc->drop_stats_fd, reason, &v, sizeof(v));
		if (err)
			return err;
		counts[reason] = v;
	}
	return 0;
}

/* The device's MTU, or 0 when it cannot be read. */
static unsigned int device_mtu(unsigned int ifindex)
{
	struct ifreq ifr = {};
	unsigned int mtu = 0;
	int fd;

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return 0;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (!ioctl(fd, SIOCGIFMTU, &ifr) && ifr.ifr_mtu > 0)
		mtu = (unsigned int)ifr.ifr_mtu;
	close(fd);
	return mtu;
}

int replicast_group_max_payload(struct replicast *rc, const struct replicast_endpoint *group,
				size_t *out)
{
	size_t hdrs = (group && group->family == AF_INET6 ? 40 : 20) + 8, best = SIZE_MAX;
	struct rc_subscriber *slots = NULL;
	struct rc_group grp;
	int subs_fd, used, i;
	unsigned int mtu;

	if (!group || !out)
		return -EINVAL;
	used = rc_group_find(rc, group, &grp);
	if (used)
		return used;
	subs_fd = rc_inner_map_fd(rc->group_subs_fd, grp.id);
	if (subs_fd < 0)
		return subs_fd;
	used = rc_read_slots(rc, subs_fd, &slots);
	close(subs_fd);
	if (used < 0)
		return used;
	for (i = 0; i < used; i++) {
		if (slots[i].state != SUB_ON || !(mtu = device_mtu(slots[i].ifindex)))
			continue;
		if (mtu > hdrs && mtu - hdrs < best)
			best = mtu - hdrs;
	}
	free(slots);
	*out = best;
	return 0;
}
