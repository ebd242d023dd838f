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
#include "route.h"

#define DEFAULT_RESOLVE_TIMEOUT_MS 1000

/* Slots read per batch: a group's slots in use end at its first EMPTY one,
 * so reading in chunks keeps an add to a small group cheap. */
#define SLOT_CHUNK 256

/* Reads the group's slots in use (up to the first EMPTY one) into *out,
 * an array of max_subs entries. Returns how many are in use. */
int rc_read_slots(struct replicast *rc, int subs_fd, struct rc_subscriber **out)
{
	__u32 max = rc->cfg.max_subs, next = 0, count, token = 0, i;
	struct rc_subscriber *slots = calloc(max, sizeof(*slots));
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

/* The group's entry, its subscriber array (an fd the caller closes) and the
 * slots in use; returns how many, or a negative errno (caller holds the lock). */
static int read_group_slots(struct replicast *rc, const struct replicast_endpoint *group,
			    struct rc_group *grp, int *subs_fd, struct rc_subscriber **slots)
{
	int err = rc_group_find(rc, group, grp);

	if (err)
		return err;
	*subs_fd = rc_inner_map_fd(rc->group_subs_fd, grp->id);
	if (*subs_fd < 0)
		return *subs_fd;
	return rc_read_slots(rc, *subs_fd, slots);
}

static int same_dest(const struct rc_subscriber *s, const struct replicast_endpoint *dest)
{
	struct rc_group_key key;

	rc_endpoint_to_key(dest, &key);
	return s->family == key.family && s->port == key.port &&
	       !memcmp(&s->addr, &key.addr, sizeof(key.addr));
}

/* Enters the subscriber's next hop in the `neighbours` map, where copies
 * through a device that does not forward find its MAC (the FIB answers
 * only for devices that forward). The kernel program on neighbour updates
 * keeps the entry current from then on; an entry another subscriber made
 * is only overwritten with a MAC that was just resolved. */
static int track_next_hop(struct replicast *rc, const struct rc_subscriber *s, const uint8_t mac[6],
			  bool resolved)
{
	struct rc_neigh_key key = {
		.netns_cookie = rc->cfg.netns_cookie,
		.ifindex = s->ifindex,
		.family = s->family,
		.addr = s->gateway,
	};
	struct rc_neigh nh = { .valid = resolved };

	memcpy(nh.mac, mac, 6);
	if (!bpf_map_update_elem(rc->neighbours_fd, &key, &nh, resolved ? BPF_ANY : BPF_NOEXIST))
		return 0;
	if (errno == EEXIST)
		return 0;
	if (errno == E2BIG) {
		rc_log(rc, REPLICAST_LOG_WARN, "the next-hop table is full (%u entries, from "
		       "--max-subs at the first load)", rc->cfg.max_subs > RC_MIN_NEIGHBOURS ?
		       rc->cfg.max_subs : RC_MIN_NEIGHBOURS);
		return -ENOSPC;
	}
	return -errno;
}

/* Fills the routing part of a slot: egress device, source address, MACs.
 * Resolves the next hop now so the first packet finds its MAC. */
static int resolve_subscriber(struct replicast *rc, const struct replicast_endpoint *dest,
			      const struct replicast_sub_opts *opts, struct rc_subscriber *s)
{
	unsigned int oif = 0, timeout = DEFAULT_RESOLVE_TIMEOUT_MS;
	size_t alen = dest->family == AF_INET6 ? 16 : 4;
	char name[REPLICAST_ENDPOINT_STRLEN];
	const union rc_addr *gateway;
	struct rc_route route;
	uint8_t mac[6] = { 0 };
	union rc_addr dst;
	bool resolved;
	int err;

	if (RC_OPT(opts, ifname, NULL)) {
		oif = if_nametoindex(opts->ifname);
		if (!oif)
			return -ENODEV;
	}
	if (RC_OPT(opts, resolve_timeout_ms, 0))
		timeout = opts->resolve_timeout_ms;
	memset(&dst, 0, sizeof(dst));
	memcpy(&dst, &dest->addr, dest->family == AF_INET6 ? 16 : 4);
	err = rc_route_get(dest->family, &dst, oif, &route);
	if (err)
		return err;
	s->ifindex = route.ifindex;
	memcpy(&s->source, &route.prefsrc, dest->family == AF_INET6 ? 16 : 4);
	if (RC_OPT(opts, keep_source, false))
		s->flags |= SUB_F_KEEP_SOURCE;
	if (RC_OPT(opts, mac, NULL)) {
		s->flags |= SUB_F_STATIC_MAC;
		memcpy(s->dst_mac, opts->mac, 6);
		return rc_link_mac(s->ifindex, s->src_mac);
	}
	gateway = route.has_gateway ? &route.gateway : &dst;
	memcpy(&s->gateway, gateway, alen);
	err = rc_neigh_resolve(dest->family, gateway, route.ifindex, timeout, mac);
	if (err == -ENODATA)	/* a device without MACs (NOARP): nothing to track */
		return 0;
	if (err && err != -ETIMEDOUT)
		return err;
	resolved = !err;
	if (!resolved)
		/* Not fatal: the kernel keeps trying, and until it succeeds the
		 * program counts no_neighbour drops rather than guessing. */
		rc_log(rc, REPLICAST_LOG_WARN,
		       "next hop of %s did not answer within %u ms; copies are counted as "
		       "no_neighbour drops until it does",
		       replicast_endpoint_format(dest, name, sizeof(name)), timeout);
	err = rc_link_mac(s->ifindex, s->src_mac);
	if (err)
		return err == -ENODATA ? 0 : err;
	err = track_next_hop(rc, s, mac, resolved);
	if (!err)
		s->flags |= SUB_F_CACHED_NEXT_HOP;
	return err;
}

/* A subscriber must be one unicast receiver: a copy is never multicast
 * again, which is what makes every relay loop lose TTL at each hop and die
 * out (the TTL rule, RC_COPY_TTL). 0 or -EINVAL, said in the log. */
static int check_dest(struct replicast *rc, const struct replicast_endpoint *dest)
{
	char name[REPLICAST_ENDPOINT_STRLEN];

	if (dest->family != AF_INET && dest->family != AF_INET6)
		return -EINVAL;
	if (!replicast_endpoint_is_multicast(dest))
		return 0;
	rc_log(rc, REPLICAST_LOG_WARN,
	       "subscriber %s is a multicast address: copies go to unicast receivers only",
	       replicast_endpoint_format(dest, name, sizeof(name)));
	return -EINVAL;
}

/* Port 0 is "the packet's own destination port", which only a port range's
 * subscriber may want: for a group of one port it would be the group's own
 * port, which a sender addresses and a receiver hardly listens on by
 * accident. 0 or -EDESTADDRREQ, said in the log. */
static int check_dest_port(struct replicast *rc, const struct rc_group *grp,
			   const struct replicast_endpoint *dest)
{
	char name[REPLICAST_ENDPOINT_STRLEN];

	if (dest->port || rc_group_is_range(grp))
		return 0;
	rc_log(rc, REPLICAST_LOG_WARN, "subscriber %s has no port: only a port range's "
	       "subscribers may keep each packet's own", replicast_endpoint_format(dest, name,
										  sizeof(name)));
	return -EDESTADDRREQ;
}

/* Waits until no program run that started before now is still going: an
 * update of an outer map returns only after an RCU grace period
 * (maybe_wait_bpf_programs in the kernel), and putting the group's own
 * subscriber array back in its place changes nothing else (BPF_ANY: arrays
 * of maps take no other flag). */
static int wait_for_readers(struct replicast *rc, __u32 gid, int subs_fd)
{
	return bpf_map_update_elem(rc->group_subs_fd, &gid, &subs_fd, BPF_ANY) ? -errno : 0;
}

/* The slot for a new subscriber. A packet may have read a slot's state as
 * ON just before `sub del` switched it off and still be reading the rest:
 * rewriting it at once with another subscriber could make that packet go to
 * a mix of the two (one's address, the other's port or device). So a slot
 * that was switched off is written again only after a grace period: the
 * first add that needs one waits once and retires every slot switched off
 * so far (SUB_RETIRED, which readers skip like OFF); later adds take retired
 * slots without waiting. With none to reuse, the subscriber is appended. */
static int pick_slot(struct replicast *rc, __u32 gid, int subs_fd, struct rc_subscriber *slots,
		     __u32 used, __u32 *slot)
{
	__u32 i, off = used;
	int err;

	for (i = 0; i < used; i++) {
		if (slots[i].state == SUB_RETIRED) {
			*slot = i;
			return 0;
		}
		if (slots[i].state == SUB_OFF && off == used)
			off = i;
	}
	if (off == used) {
		*slot = used;
		return used < rc->cfg.max_subs ? 0 : -ENOSPC;
	}
	err = wait_for_readers(rc, gid, subs_fd);
	for (i = off; !err && i < used; i++) {
		if (slots[i].state != SUB_OFF)
			continue;
		/* Only the state changes: a reader sees OFF or RETIRED, both "skip". */
		slots[i].state = SUB_RETIRED;
		if (bpf_map_update_elem(subs_fd, &i, &slots[i], BPF_ANY))
			err = -errno;
	}
	*slot = off;
	return err;
}

int replicast_sub_add(struct replicast *rc, const struct replicast_endpoint *group,
		      const struct replicast_endpoint *dest, const struct replicast_sub_opts *opts)
{
	struct rc_subscriber *slots = NULL, s = {};
	struct rc_sub_select sel;
	struct rc_group_key key;
	struct rc_group grp;
	int subs_fd = -1, stats_fd = -1, used, err, selects, health;
	__u32 i, slot, hold_ms;

	if (!group || !dest || !RC_OPTS_VALID(opts))
		return -EINVAL;
	err = check_dest(rc, dest);
	if (err)
		return err;
	if (dest->family != group->family)
		return -EAFNOSUPPORT;
	selects = rc_select_from_opts(dest->family, opts, &sel);
	if (selects < 0)
		return selects;
	if (selects)
		s.flags |= SUB_F_SELECT;
	health = rc_health_from_opts(opts, &hold_ms);
	if (health < 0)
		return health;
	if (health)
		s.flags |= SUB_F_HEALTH;
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
	used = read_group_slots(rc, group, &grp, &subs_fd, &slots);
	if (used < 0) {
		err = used;
		goto out;
	}
	err = check_dest_port(rc, &grp, dest);
	if (err)
		goto out;
	for (i = 0; i < (__u32)used; i++) {
		if (slots[i].state == SUB_ON && same_dest(&slots[i], dest)) {
			err = -EEXIST;
			goto out;
		}
	}
	err = pick_slot(rc, grp.id, subs_fd, slots, (__u32)used, &slot);
	if (err)
		goto out;
	s.state = SUB_OFF;
	if (bpf_map_update_elem(subs_fd, &slot, &s, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	/* Its rule (or none: the slot's last one goes) before it is on. */
	err = rc_select_write(rc, grp.id, slot, selects ? &sel : NULL, true);
	if (err)
		goto out;
	/* A reused slot starts its counters from zero. */
	stats_fd = rc_inner_map_fd(rc->sub_stats_fd, grp.id);
	if (stats_fd >= 0)
		rc_sub_counters_zero(rc, stats_fd, slot);
	/* Its receiver's health entry, which the watcher counts errors in,
	 * before it is on: the first copy finds it. */
	err = rc_health_ref(rc, &s, hold_ms, true);
	if (err)
		goto out;
	s.state = SUB_ON;
	if (bpf_map_update_elem(subs_fd, &slot, &s, BPF_ANY)) {
		err = -errno;
		rc_health_unref(rc, &s);
		goto out;
	}
	rc_health_watch(rc, s.ifindex);
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
	struct rc_subscriber *slots = NULL;
	struct rc_group grp;
	int subs_fd = -1, used, err;
	__u32 i;

	if (!group || !dest)
		return -EINVAL;
	err = rc_lock(rc);
	if (err)
		return err;
	used = read_group_slots(rc, group, &grp, &subs_fd, &slots);
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
		if (!err)
			rc_health_unref(rc, &slots[i]);
		break;
	}
out:
	free(slots);
	if (subs_fd >= 0)
		close(subs_fd);
	rc_unlock(rc);
	return err;
}

/* Whole-set replacement: the new set is written into a fresh inner map and
 * swapped in with one update of group_subs, so each packet sees the old set
 * or the new one. Subscribers in both sets keep their slots (and counters). */
static int place_subscribers(struct replicast *rc, const struct rc_subscriber *old, int used,
			     struct rc_subscriber *next, __u32 *hwm, int *fresh, __u32 *origin)
{
	__u32 max = rc->cfg.max_subs, i, j, free_slot = 0;
	struct rc_subscriber *placed = calloc(max, sizeof(*placed));
	int err = 0;

	if (!placed)
		return -ENOMEM;
	*hwm = 0;
	/* Pass 1: members of both sets stay where they were. */
	for (i = 0; i < max && next[i].state; i++) {
		fresh[i] = 1;
		for (j = 0; j < (__u32)used; j++) {
			if (old[j].state == SUB_ON && old[j].family == next[i].family &&
			    old[j].port == next[i].port && !memcmp(&old[j].addr, &next[i].addr,
								   sizeof(old[j].addr))) {
				placed[j] = next[i];
				origin[j] = i;
				fresh[i] = 0;
				if (j + 1 > *hwm)
					*hwm = j + 1;
				break;
			}
		}
	}
	/* Pass 2: newcomers take the lowest free slots. */
	for (i = 0; i < max && next[i].state; i++) {
		if (!fresh[i])
			continue;
		while (free_slot < max && placed[free_slot].state)
			free_slot++;
		if (free_slot >= max) {
			err = -ENOSPC;
			goto out;
		}
		placed[free_slot] = next[i];
		origin[free_slot] = i;
		fresh[i] = (int)free_slot + 1;	/* remember where, for the counters */
		if (free_slot + 1 > *hwm)
			*hwm = free_slot + 1;
	}
	/* Holes below the high-water mark must not end the walk: OFF, not EMPTY. */
	for (i = 0; i < *hwm; i++)
		if (!placed[i].state)
			placed[i].state = SUB_OFF;
	memcpy(next, placed, max * sizeof(*placed));
out:
	free(placed);
	return err;
}

/* The watcher on every egress device of the set, once each. */
static void watch_devices(struct replicast *rc, const struct rc_subscriber *set, __u32 n)
{
	__u32 i, j;

	for (i = 0; i < n; i++) {
		if (set[i].state != SUB_ON)
			continue;
		for (j = 0; j < i; j++)
			if (set[j].state == SUB_ON && set[j].ifindex == set[i].ifindex)
				break;
		if (j == i)
			rc_health_watch(rc, set[i].ifindex);
	}
}

int replicast_group_set_subs(struct replicast *rc, const struct replicast_endpoint *group,
			     const struct replicast_sub_entry *entries, size_t n)
{
	struct rc_subscriber *next = NULL, *old = NULL;
	int subs_fd = -1, new_fd = -1, stats_fd = -1, used, err = 0, *fresh = NULL;
	struct rc_sub_select *sels = NULL;
	__u32 *origin = NULL, *holds = NULL;
	char pin[PATH_MAX], tmp[PATH_MAX + 8];
	struct rc_group_key key;
	struct rc_group grp;
	__u32 hwm, i, j;

	if (!group || (n && !entries))
		return -EINVAL;
	if (n > rc->cfg.max_subs)
		return -ENOSPC;
	next = calloc(rc->cfg.max_subs, sizeof(*next));
	fresh = calloc(rc->cfg.max_subs, sizeof(*fresh));
	origin = calloc(rc->cfg.max_subs, sizeof(*origin));
	sels = calloc(n ? n : 1, sizeof(*sels));
	holds = calloc(n ? n : 1, sizeof(*holds));
	if (!next || !fresh || !origin || !sels || !holds) {
		err = -ENOMEM;
		goto out_free;
	}
	/* Resolve every newcomer before taking the lock, as sub_add does. */
	for (i = 0; i < n; i++) {
		const struct replicast_endpoint *dest = &entries[i].dest;

		err = check_dest(rc, dest);
		if (!err && entries[i].opts.sz && !RC_OPTS_VALID(&entries[i].opts))
			err = -EINVAL;
		if (err)
			goto out_free;
		if (dest->family != group->family) {
			err = -EAFNOSUPPORT;
			goto out_free;
		}
		rc_endpoint_to_key(dest, &key);
		for (j = 0; j < i; j++) {
			if (next[j].family == key.family && next[j].port == key.port &&
			    !memcmp(&next[j].addr, &key.addr, sizeof(key.addr))) {
				err = -EEXIST;
				goto out_free;
			}
		}
		next[i].family = key.family;
		next[i].port = key.port;
		next[i].addr = key.addr;
		err = rc_select_from_opts(dest->family, entries[i].opts.sz ? &entries[i].opts : NULL,
					  &sels[i]);
		if (err < 0)
			goto out_free;
		if (err)
			next[i].flags |= SUB_F_SELECT;
		err = rc_health_from_opts(entries[i].opts.sz ? &entries[i].opts : NULL, &holds[i]);
		if (err < 0)
			goto out_free;
		if (err)
			next[i].flags |= SUB_F_HEALTH;
		err = resolve_subscriber(rc, dest, entries[i].opts.sz ? &entries[i].opts : NULL,
					 &next[i]);
		if (err)
			goto out_free;
		next[i].state = SUB_ON;
	}

	err = rc_lock(rc);
	if (err)
		goto out_free;
	used = read_group_slots(rc, group, &grp, &subs_fd, &old);
	if (used < 0) {
		err = used;
		goto out;
	}
	for (i = 0; i < n && !err; i++)
		err = check_dest_port(rc, &grp, &entries[i].dest);
	if (err)
		goto out;
	err = place_subscribers(rc, old, used, next, &hwm, fresh, origin);
	if (err)
		goto out;
	/* The new set's rules are in place before it is swapped in. */
	for (i = 0; i < hwm; i++) {
		if (next[i].state != SUB_ON || !(next[i].flags & SUB_F_SELECT))
			continue;
		err = rc_select_write(rc, grp.id, i, &sels[origin[i]], fresh[origin[i]] != 0);
		if (err)
			goto out;
	}
	/* And their receivers' health entries: newcomers' made, the hold
	 * time of those that stay brought up to date. */
	for (i = 0; i < hwm; i++) {
		if (next[i].state != SUB_ON)
			continue;
		err = rc_health_ref(rc, &next[i], holds[origin[i]], fresh[origin[i]] != 0);
		if (err)
			goto out;
	}
	new_fd = rc_create_subs_map(rc);
	if (new_fd < 0) {
		err = new_fd;
		goto out;
	}
	for (i = 0; i < hwm; i++) {
		if (bpf_map_update_elem(new_fd, &i, &next[i], BPF_ANY)) {
			err = -errno;
			goto out;
		}
	}
	/* Newcomers' slots start their counters at zero before anyone sees them. */
	stats_fd = rc_inner_map_fd(rc->sub_stats_fd, grp.id);
	for (i = 0; i < n && stats_fd >= 0; i++)
		if (fresh[i])
			rc_sub_counters_zero(rc, stats_fd, (__u32)fresh[i] - 1);
	if (bpf_map_update_elem(rc->group_subs_fd, &grp.id, &new_fd, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	/* The old set's rules that the new one has no use for go after the
	 * swap, which returned after a grace period: no packet reads them. */
	for (i = 0; i < (__u32)used; i++)
		if ((old[i].flags & SUB_F_SELECT) &&
		    (i >= hwm || next[i].state != SUB_ON || !(next[i].flags & SUB_F_SELECT)))
			rc_select_write(rc, grp.id, i, NULL, false);
	/* Members of both sets kept their slots: an old one whose slot holds
	 * another receiver now (or none) has left. */
	for (i = 0; i < (__u32)used; i++)
		if (old[i].state == SUB_ON &&
		    (i >= hwm || next[i].state != SUB_ON || old[i].family != next[i].family ||
		     old[i].port != next[i].port ||
		     memcmp(&old[i].addr, &next[i].addr, sizeof(old[i].addr))))
			rc_health_unref(rc, &old[i]);
	watch_devices(rc, next, hwm);
	/* Re-pin under the group's name: pin beside, then rename over (atomic). */
	if (!rc_subs_pin_path(rc, group, &grp, pin, sizeof(pin))) {
		snprintf(tmp, sizeof(tmp), "%s-new", pin);
		unlink(tmp);
		if (bpf_obj_pin(new_fd, tmp) || rename(tmp, pin)) {
			rc_log(rc, REPLICAST_LOG_WARN, "re-pinning %s failed: %s", pin, strerror(errno));
			unlink(tmp);
		}
	}
out:
	rc_unlock(rc);
out_free:
	free(old);
	free(next);
	free(fresh);
	free(origin);
	free(sels);
	free(holds);
	if (subs_fd >= 0)
		close(subs_fd);
	if (new_fd >= 0)
		close(new_fd);
	if (stats_fd >= 0)
		close(stats_fd);
	return err;
}
