// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Groups: a destination (address, port, or a range of ports: one key per
 * port, one value) with an id that indexes its subscriber array, its
 * subscriber counters and its own counters. */
#include <errno.h>
#include <ifaddrs.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "internal.h"

int rc_group_find(struct replicast *rc, const struct replicast_endpoint *group, struct rc_group *grp)
{
	struct rc_group_key key;

	rc_endpoint_to_key(group, &key);
	if (bpf_map_lookup_elem(rc->groups_fd, &key, grp))
		return -errno;
	return 0;
}

bool rc_group_is_range(const struct rc_group *grp)
{
	return grp->port_last > grp->port_first;
}

void rc_group_canonical(const struct replicast_endpoint *any, const struct rc_group *grp,
			struct replicast_endpoint *out, uint16_t *port_last)
{
	*out = *any;
	if (rc_group_is_range(grp))
		out->port = grp->port_first;
	if (port_last)
		*port_last = rc_group_is_range(grp) ? grp->port_last : out->port;
}

int rc_group_write(struct replicast *rc, const struct rc_group_key *any, const struct rc_group *grp)
{
	struct rc_group_key key = *any;
	__u32 port;
	int err = 0;

	if (!rc_group_is_range(grp))
		return bpf_map_update_elem(rc->groups_fd, &key, grp, BPF_EXIST) ? -errno : 0;
	/* One key at a time: a packet meanwhile may see the old settings on
	 * one port and the new on another, never a key of another group. */
	for (port = grp->port_first; port <= grp->port_last; port++) {
		key.port = (__u16)port;
		if (bpf_map_update_elem(rc->groups_fd, &key, grp, BPF_EXIST) && !err)
			err = -errno;
	}
	return err;
}

bool rc_group_key_is_first(const struct rc_group_key *key, const struct rc_group *grp)
{
	return !rc_group_is_range(grp) || key->port == grp->port_first;
}

int replicast_group_ports(struct replicast *rc, const struct replicast_endpoint *group,
			  uint16_t *port_first, uint16_t *port_last)
{
	struct replicast_endpoint first;
	struct rc_group grp;
	uint16_t last;
	int err;

	if (!rc || !group || !port_first || !port_last)
		return -EINVAL;
	err = rc_group_find(rc, group, &grp);
	if (err)
		return err;
	rc_group_canonical(group, &grp, &first, &last);
	*port_first = first.port;
	*port_last = last;
	return 0;
}

/* Keys in the groups map now: a range's ports each count. */
static __u32 count_keys(struct replicast *rc)
{
	struct rc_group_key key, *prev = NULL;
	__u32 n = 0;

	while (!bpf_map_get_next_key(rc->groups_fd, prev, &key)) {
		prev = &key;
		n++;
	}
	return n;
}

/* The smallest id no group uses; -ENOSPC when all max_groups are taken. */
static int find_free_id(struct replicast *rc, __u32 *id)
{
	__u8 *used = calloc(rc->cfg.max_groups, 1);
	struct rc_group_key key, *prev = NULL;
	struct rc_group grp;
	__u32 i;
	int err = -ENOSPC;

	if (!used)
		return -ENOMEM;
	while (!bpf_map_get_next_key(rc->groups_fd, prev, &key)) {
		prev = &key;
		if (!bpf_map_lookup_elem(rc->groups_fd, &key, &grp) && grp.id < rc->cfg.max_groups)
			used[grp.id] = 1;
	}
	for (i = 0; i < rc->cfg.max_groups; i++) {
		if (!used[i]) {
			*id = i;
			err = 0;
			break;
		}
	}
	free(used);
	return err;
}

/* Whether the address is one of this host's own (in this namespace). */
static bool address_is_local(const struct replicast_endpoint *ep)
{
	struct ifaddrs *list, *a;
	bool local = false;

	if (getifaddrs(&list))
		return false;
	for (a = list; a && !local; a = a->ifa_next) {
		if (!a->ifa_addr || a->ifa_addr->sa_family != ep->family)
			continue;
		if (ep->family == AF_INET)
			local = ((struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr ==
				ep->addr.v4.s_addr;
		else
			local = !memcmp(&((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr,
					&ep->addr.v6, 16);
	}
	freeifaddrs(list);
	return local;
}

/* group_addrs counts the groups on each address (port 0 in the key) and
 * marks the host's own addresses (RC_ADDR_LOCAL), whose other traffic the
 * program passes. Returns how many groups are left on it, or -errno. */
static int group_addr_ref(struct replicast *rc, const struct replicast_endpoint *group, int delta)
{
	struct rc_group_key key;
	__u32 value = 0, refs;

	rc_endpoint_to_key(group, &key);
	key.port = 0;
	bpf_map_lookup_elem(rc->group_addrs_fd, &key, &value);
	refs = (value & ~RC_ADDR_LOCAL) + delta;
	if ((int)refs <= 0)
		return bpf_map_delete_elem(rc->group_addrs_fd, &key) && errno != ENOENT ? -errno : 0;
	if (!(value & ~RC_ADDR_LOCAL) && address_is_local(group))
		value = RC_ADDR_LOCAL;
	value = (value & RC_ADDR_LOCAL) | refs;
	return bpf_map_update_elem(rc->group_addrs_fd, &key, &value, BPF_ANY) ? -errno : (int)refs;
}

/* Deletes the range's keys from port_first up to (not with) `end`. */
static void delete_keys(struct replicast *rc, struct rc_group_key key, __u32 first, __u32 end)
{
	for (; first < end; first++) {
		key.port = (__u16)first;
		bpf_map_delete_elem(rc->groups_fd, &key);
	}
}

int replicast_group_add(struct replicast *rc, const struct replicast_endpoint *group)
{
	return replicast_group_add_range(rc, group, 0);
}

int replicast_group_add_range(struct replicast *rc, const struct replicast_endpoint *group,
			      uint16_t port_last)
{
	struct rc_group grp = {}, other;
	struct rc_group_key key;
	char pin[PATH_MAX];
	int subs_fd = -1, stats_fd = -1, err;
	__u32 port, last, nports;

	if (!group || (group->family != AF_INET && group->family != AF_INET6) || !group->port)
		return -EINVAL;
	last = port_last > group->port ? port_last : group->port;
	nports = last - group->port + 1;
	if (port_last && port_last < group->port)
		return -EINVAL;
	if (nports > RC_MAX_PORT_RANGE)
		return -E2BIG;
	if (nports > 1) {
		grp.port_first = group->port;
		grp.port_last = (__u16)last;
	}
	err = rc_lock(rc);
	if (err)
		return err;
	rc_endpoint_to_key(group, &key);
	/* Any port of the range taken, by a group or by another range: the
	 * two would fight over the key. */
	for (port = group->port; port <= last; port++) {
		key.port = (__u16)port;
		if (!bpf_map_lookup_elem(rc->groups_fd, &key, &other)) {
			err = -EEXIST;
			goto out;
		}
	}
	key.port = group->port;
	/* Every port is a key of its own: the range must fit the map whole. */
	if (count_keys(rc) + nports > rc->cfg.max_groups) {
		err = -ENOSPC;
		goto out;
	}
	err = find_free_id(rc, &grp.id);
	if (err)
		goto out;
	subs_fd = rc_create_subs_map(rc);
	if (subs_fd < 0) {
		err = subs_fd;
		goto out;
	}
	stats_fd = rc_create_sub_counters_map(rc);
	if (stats_fd < 0) {
		err = stats_fd;
		goto out;
	}
	err = rc_subs_pin_path(rc, group, &grp, pin, sizeof(pin));
	if (err)
		goto out;
	unlink(pin);	/* a leftover of a group removed by hand */
	if (bpf_obj_pin(subs_fd, pin)) {
		err = -errno;
		goto out;
	}
	/* Everything the program reads for this id is in place before the
	 * group becomes visible: a packet never finds a half-made group. */
	if (bpf_map_update_elem(rc->group_subs_fd, &grp.id, &subs_fd, BPF_ANY) ||
	    bpf_map_update_elem(rc->sub_stats_fd, &grp.id, &stats_fd, BPF_ANY)) {
		err = -errno;
		goto out_unpin;
	}
	/* Nothing of an earlier holder of this id carries over. */
	err = rc_purge_sources(rc, grp.id);
	if (!err)
		err = rc_purge_selects(rc, grp.id);
	if (!err)
		err = bpf_map_update_elem(rc->group_rate_fd, &grp.id, &(struct rc_group_rate){ 0 },
					  BPF_ANY) ? -errno : 0;
	if (!err)
		err = rc_percpu_zero(rc, rc->group_stats_fd, grp.id, sizeof(struct rc_group_counters));
	if (!err) {
		err = group_addr_ref(rc, group, +1);
		err = err < 0 ? err : 0;
	}
	if (err)
		goto out_unpin;
	/* A range's ports become the group one by one: a packet to a later
	 * port passes untouched until its key is in, as it did before the
	 * group existed. Everything the keys point to is in place already. */
	for (port = group->port; port <= last; port++) {
		key.port = (__u16)port;
		if (bpf_map_update_elem(rc->groups_fd, &key, &grp, BPF_NOEXIST)) {
			err = errno == E2BIG ? -ENOSPC : -errno;
			key.port = group->port;
			delete_keys(rc, key, group->port, port);
			group_addr_ref(rc, group, -1);
			goto out_unpin;
		}
	}
	/* Every add joins, not only the address's first group: a membership
	 * someone deleted by hand comes back. A failed join is logged and
	 * leaves the group in place (a switch that floods still delivers). */
	rc_join_attached(rc, group);
	goto out;
out_unpin:
	unlink(pin);
	bpf_map_delete_elem(rc->group_subs_fd, &grp.id);
	bpf_map_delete_elem(rc->sub_stats_fd, &grp.id);
out:
	if (subs_fd >= 0)
		close(subs_fd);
	if (stats_fd >= 0)
		close(stats_fd);
	rc_unlock(rc);
	return err;
}

/* Its subscribers' receivers have one subscription fewer each. */
static void health_unref_group(struct replicast *rc, __u32 gid)
{
	struct rc_subscriber *slots = NULL;
	int subs_fd = rc_inner_map_fd(rc->group_subs_fd, gid), used;

	if (subs_fd < 0)
		return;
	used = rc_read_slots(rc, subs_fd, &slots);
	if (used > 0)
		rc_health_unref_all(rc, slots, used);
	free(slots);
	close(subs_fd);
}

int replicast_group_del(struct replicast *rc, const struct replicast_endpoint *group)
{
	struct replicast_endpoint first;
	struct rc_group_key key;
	struct rc_group grp;
	char pin[PATH_MAX];
	int err;

	if (!group)
		return -EINVAL;
	err = rc_lock(rc);
	if (err)
		return err;
	rc_endpoint_to_key(group, &key);
	if (bpf_map_lookup_elem(rc->groups_fd, &key, &grp)) {
		err = -errno;
		goto out;
	}
	rc_group_canonical(group, &grp, &first, NULL);
	if (rc_group_is_range(&grp)) {
		/* A range's keys go one by one, so the whole range first stops
		 * at once: with its subscriber set gone, a packet to any of its
		 * ports is dropped as no_subscribers until its key is deleted,
		 * and no port is still fanned out while another is not. */
		bpf_map_delete_elem(rc->group_subs_fd, &grp.id);
		delete_keys(rc, key, grp.port_first, (__u32)grp.port_last + 1);
	} else if (bpf_map_delete_elem(rc->groups_fd, &key)) {
		/* Hide the group first, then free what it used. */
		err = -errno;
		goto out;
	}
	health_unref_group(rc, grp.id);
	bpf_map_delete_elem(rc->group_subs_fd, &grp.id);
	bpf_map_delete_elem(rc->sub_stats_fd, &grp.id);
	rc_purge_sources(rc, grp.id);
	rc_purge_selects(rc, grp.id);
	/* Groups on the same address with other ports share its membership;
	 * the ones left may have it joined another way (join.c). */
	if (group_addr_ref(rc, group, -1) == 0)
		rc_leave_attached(rc, group);
	else
		rc_join_attached(rc, group);
	if (!rc_subs_pin_path(rc, &first, &grp, pin, sizeof(pin)))
		unlink(pin);
out:
	rc_unlock(rc);
	return err;
}
