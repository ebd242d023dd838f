// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Group policy: the allow list of source prefixes (group_sources, an LPM
 * trie keyed by group id, family and prefix) and the rate limits kept in
 * each group's entry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include "internal.h"
#include "route.h"

static void prefix_to_key(__u32 gid, const struct replicast_prefix *p, struct rc_source_key *key)
{
	memset(key, 0, sizeof(*key));
	key->prefixlen = SOURCE_KEY_FIXED_BITS + p->len;
	key->group_id = gid;
	key->family = p->family == AF_INET6 ? RC_AF_INET6 : RC_AF_INET;
	memcpy(&key->addr, &p->addr, p->family == AF_INET6 ? 16 : 4);
}

void rc_key_to_prefix(const struct rc_source_key *key, struct replicast_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = key->family == RC_AF_INET6 ? AF_INET6 : AF_INET;
	p->len = (uint8_t)(key->prefixlen - SOURCE_KEY_FIXED_BITS);
	memcpy(&p->addr, &key->addr, p->family == AF_INET6 ? 16 : 4);
}

/* The device the route back to the prefix leaves by, which its packets
 * must arrive on (strict reverse path, struct rc_source_rule); 0, with a
 * warning, when there is no route back: then any device is taken. */
static __u32 reverse_path_device(struct replicast *rc, const struct replicast_prefix *prefix)
{
	char text[REPLICAST_PREFIX_STRLEN];
	size_t alen = prefix->family == AF_INET6 ? 16 : 4;
	unsigned int host, hosts;
	struct rc_route route;
	union rc_addr dst;
	int err = -ENETUNREACH;

	/* An address of the prefix whose route is a unicast one: the network
	 * address may be ours (IPv6's subnet-router anycast PREFIX:: on a
	 * host that forwards, routed to lo), and so may the first host (the
	 * relay's own address in that subnet); the route of a third tells. */
	hosts = prefix->len >= alen * 8 ? 1 : prefix->len == alen * 8 - 1 ? 2 : 3;
	for (host = 0; host < hosts; host++) {
		memset(&dst, 0, sizeof(dst));
		memcpy(&dst, &prefix->addr, alen);
		((__u8 *)&dst)[alen - 1] |= (__u8)host;
		err = rc_route_get(prefix->family, &dst, 0, &route);
		if (!err && (route.type == RTN_UNICAST || host == hosts - 1))
			return route.ifindex;
	}
	rc_log(rc, REPLICAST_LOG_WARN, "no route back to %s (%s): its packets are taken on any "
	       "attached device", replicast_prefix_format(prefix, text, sizeof(text)),
	       replicast_strerror(err));
	return 0;
}

/* Allow and disallow: one trie entry each, under the writers' lock. */
static int change_source(struct replicast *rc, const struct replicast_endpoint *group,
			 const struct replicast_prefix *prefix, int allow)
{
	struct rc_source_rule rule = {};
	struct rc_source_key key;
	struct rc_group grp;
	int err;

	if (!group || !prefix)
		return -EINVAL;
	if (prefix->family != group->family)
		return -EAFNOSUPPORT;
	if (allow)
		rule.ifindex = reverse_path_device(rc, prefix);
	err = rc_lock(rc);
	if (err)
		return err;
	err = rc_group_find(rc, group, &grp);
	if (err)
		goto out;
	prefix_to_key(grp.id, prefix, &key);
	/* A lookup in an LPM trie would match a covering prefix too; NOEXIST
	 * and delete act on the exact entry only, which is what is meant. */
	if (allow) {
		if (bpf_map_update_elem(rc->group_sources_fd, &key, &rule, BPF_NOEXIST))
			err = errno == E2BIG || errno == ENOMEM ? -ENOSPC : -errno;
	} else if (bpf_map_delete_elem(rc->group_sources_fd, &key)) {
		err = errno == ENOENT ? -ESRCH : -errno;
	}
	/* The allow list decides whether the address is joined any-source or
	 * source-specific (join.c): the autojoin address follows it. */
	if (!err)
		rc_join_attached(rc, group);
out:
	rc_unlock(rc);
	return err;
}

int replicast_group_allow(struct replicast *rc, const struct replicast_endpoint *group,
			  const struct replicast_prefix *prefix)
{
	return change_source(rc, group, prefix, 1);
}

int replicast_group_disallow(struct replicast *rc, const struct replicast_endpoint *group,
			     const struct replicast_prefix *prefix)
{
	return change_source(rc, group, prefix, 0);
}

/* Reads every allow-list entry; the caller frees *keys. */
int rc_read_sources(struct replicast *rc, struct rc_source_key **keys, size_t *n)
{
	struct rc_source_key key, *prev = NULL, *list = NULL, *grown;
	size_t count = 0, cap = 0;

	while (!bpf_map_get_next_key(rc->group_sources_fd, prev, &key)) {
		if (count == cap) {
			cap = cap ? 2 * cap : 32;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				free(list);
				return -ENOMEM;
			}
			list = grown;
		}
		list[count++] = key;
		prev = &list[count - 1];
	}
	*keys = list;
	*n = count;
	return 0;
}

/* Removes a group id's entries: when the group goes, and before an id is
 * reused, so no group inherits another's allow list. */
int rc_purge_sources(struct replicast *rc, __u32 gid)
{
	struct rc_source_key *keys;
	size_t n, i;
	int err = rc_read_sources(rc, &keys, &n);

	if (err)
		return err;
	for (i = 0; i < n; i++)
		if (keys[i].group_id == gid)
			bpf_map_delete_elem(rc->group_sources_fd, &keys[i]);
	free(keys);
	return 0;
}

/* The settings a group's entry carries, changed in one update under the
 * writers' lock. The hash has no preallocation: the update publishes a
 * whole new element, so a packet reads all settings from one version. */
struct group_settings {
	bool limits;
	uint64_t max_pps, max_bps;
	bool ttl;
	uint8_t ttl_value;
	bool reverse_path;
	bool loose;
	bool mode;
	__u32 mode_flags;		/* GROUP_F_BALANCE, GROUP_F_HASH_FLOW */
};

static int change_group(struct replicast *rc, const struct replicast_endpoint *group,
			const struct group_settings *set)
{
	struct rc_group_rate fresh = {};
	struct rc_group_key key;
	struct rc_group grp;
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
	if (set->limits) {
		/* A new limit starts from a full burst allowance, not from the
		 * debt the old one may have run up. */
		bpf_map_update_elem(rc->group_rate_fd, &grp.id, &fresh, BPF_ANY);
		grp.max_pps = set->max_pps;
		grp.max_bps = set->max_bps;
	}
	if (set->ttl)
		grp.ttl = set->ttl_value;
	if (set->reverse_path)
		grp.flags = set->loose ? grp.flags | GROUP_F_LOOSE_REVERSE_PATH
				       : grp.flags & ~GROUP_F_LOOSE_REVERSE_PATH;
	if (set->mode)
		grp.flags = (grp.flags & ~(GROUP_F_BALANCE | GROUP_F_HASH_FLOW)) | set->mode_flags;
	/* Every key of a range: they are one group. */
	err = rc_group_write(rc, &key, &grp);
out:
	rc_unlock(rc);
	return err;
}

int replicast_group_set_limits(struct replicast *rc, const struct replicast_endpoint *group,
			       uint64_t max_pps, uint64_t max_bps)
{
	struct group_settings set = { .limits = true, .max_pps = max_pps, .max_bps = max_bps };

	return change_group(rc, group, &set);
}

_Static_assert(REPLICAST_DEFAULT_TTL == RC_COPY_TTL, "one default TTL for library and program");

int replicast_group_set_ttl(struct replicast *rc, const struct replicast_endpoint *group,
			    uint8_t ttl)
{
	struct group_settings set = { .ttl = true, .ttl_value = ttl };

	if (group && !replicast_endpoint_is_multicast(group)) {
		rc_log(rc, REPLICAST_LOG_WARN, "only copies of multicast groups get a TTL of their "
		       "own; unicast groups take one off what arrives, as a router would");
		return -EINVAL;
	}
	return change_group(rc, group, &set);
}

int replicast_group_set_reverse_path(struct replicast *rc, const struct replicast_endpoint *group,
				     bool loose)
{
	struct group_settings set = { .reverse_path = true, .loose = loose };

	return change_group(rc, group, &set);
}

int replicast_group_set_mode(struct replicast *rc, const struct replicast_endpoint *group,
			     enum replicast_group_mode mode, enum replicast_balance_hash hash)
{
	struct group_settings set = { .mode = true };

	if ((mode != REPLICAST_MODE_REPLICATE && mode != REPLICAST_MODE_BALANCE) ||
	    (hash != REPLICAST_HASH_SOURCE && hash != REPLICAST_HASH_FLOW))
		return -EINVAL;
	set.mode_flags = (mode == REPLICAST_MODE_BALANCE ? GROUP_F_BALANCE : 0) |
			 (hash == REPLICAST_HASH_FLOW ? GROUP_F_HASH_FLOW : 0);
	return change_group(rc, group, &set);
}

void rc_refresh_reverse_paths(struct replicast *rc)
{
	struct replicast_prefix prefix;
	struct rc_source_key *keys;
	struct rc_source_rule rule;
	size_t n, i;

	if (rc_read_sources(rc, &keys, &n))
		return;
	for (i = 0; i < n; i++) {
		__u32 now;

		if (bpf_map_lookup_elem(rc->group_sources_fd, &keys[i], &rule))
			continue;
		rc_key_to_prefix(&keys[i], &prefix);
		now = reverse_path_device(rc, &prefix);
		if (now != rule.ifindex) {
			rule.ifindex = now;
			bpf_map_update_elem(rc->group_sources_fd, &keys[i], &rule, BPF_EXIST);
		}
	}
	free(keys);
}
