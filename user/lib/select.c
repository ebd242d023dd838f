// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Per-subscriber selection (--sample, --from): the rules in the pinned
 * `sub_select` hash, keyed by group id and slot, that bpf/select.h applies
 * on both fan-out paths. A rule is written while its slot is off, so the
 * subscriber's first packet already finds it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "internal.h"

_Static_assert(REPLICAST_SUB_MAX_FROM == RC_SUB_MAX_FROM, "the header's limit is the map's");

/* Whether p has no bit set past its length (10.0.0.1/8 is refused, as
 * replicast_prefix_parse() refuses it). */
static bool host_bits_clear(const struct replicast_prefix *p, unsigned int max)
{
	const uint8_t *b = (const uint8_t *)&p->addr;
	unsigned int i;

	for (i = p->len; i < max; i++)
		if (b[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

int rc_select_from_opts(int family, const struct replicast_sub_opts *opts,
			struct rc_sub_select *sel)
{
	size_t nfrom = RC_OPT(opts, nfrom, 0), i;
	const struct replicast_prefix *from = RC_OPT(opts, from, NULL);
	unsigned int max = family == AF_INET6 ? 128 : 32;

	memset(sel, 0, sizeof(*sel));
	sel->sample = RC_OPT(opts, sample, 0);
	if (sel->sample <= 1)
		sel->sample = 1;
	if (RC_OPT(opts, sample_random, false) && sel->sample > 1)
		sel->flags |= SELECT_F_RANDOM;
	if (nfrom > RC_SUB_MAX_FROM)
		return -E2BIG;
	if (nfrom && !from)
		return -EINVAL;
	for (i = 0; i < nfrom; i++) {
		if (from[i].family != family)
			return -EAFNOSUPPORT;
		if (from[i].len > max || !host_bits_clear(&from[i], max))
			return -EINVAL;
		sel->from[i].family = family == AF_INET6 ? RC_AF_INET6 : RC_AF_INET;
		sel->from[i].len = from[i].len;
		memcpy(&sel->from[i].addr, &from[i].addr, family == AF_INET6 ? 16 : 4);
	}
	sel->nfrom = (__u8)nfrom;
	return sel->sample > 1 || sel->nfrom;
}

/* The same rule, whatever its counts. */
static bool same_rule(const struct rc_sub_select *a, const struct rc_sub_select *b)
{
	return a->sample == b->sample && a->flags == b->flags && a->nfrom == b->nfrom &&
	       !memcmp(a->from, b->from, sizeof(a->from));
}

int rc_select_write(struct replicast *rc, __u32 gid, __u32 slot, const struct rc_sub_select *sel,
		    bool fresh)
{
	struct rc_sub_select_key key = { .group_id = gid, .slot = slot };
	struct rc_sub_select have;

	if (!sel) {
		if (bpf_map_delete_elem(rc->sub_select_fd, &key) && errno != ENOENT)
			return -errno;
		return 0;
	}
	/* A subscriber that stays with the same rule keeps its sampling
	 * sequence and its skipped count (apply of an unchanged file). */
	if (!fresh && !bpf_map_lookup_elem(rc->sub_select_fd, &key, &have) && same_rule(&have, sel))
		return 0;
	if (bpf_map_update_elem(rc->sub_select_fd, &key, sel, BPF_ANY))
		return errno == E2BIG ? -ENOSPC : -errno;
	return 0;
}

int rc_purge_selects(struct replicast *rc, __u32 gid)
{
	struct rc_sub_select_key key, next, *prev = NULL;
	struct rc_sub_select_key *doomed = NULL, *grown;
	size_t n = 0, i;

	while (!bpf_map_get_next_key(rc->sub_select_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (key.group_id != gid)
			continue;
		grown = realloc(doomed, (n + 1) * sizeof(*doomed));
		if (!grown) {
			free(doomed);
			return -ENOMEM;
		}
		doomed = grown;
		doomed[n++] = key;
	}
	/* Deleted after the walk: deleting under it could restart it. */
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(rc->sub_select_fd, &doomed[i]);
	free(doomed);
	return 0;
}

void rc_select_to_info(struct replicast *rc, __u32 gid, const struct rc_subscriber *s,
		       struct replicast_sub_info *info)
{
	struct rc_sub_select_key key = { .group_id = gid, .slot = info->slot };
	struct rc_sub_select sel;
	size_t i;

	info->sample = 1;
	if (!(s->flags & SUB_F_SELECT) || bpf_map_lookup_elem(rc->sub_select_fd, &key, &sel))
		return;
	info->sample = sel.sample > 1 ? sel.sample : 1;
	info->sample_random = !!(sel.flags & SELECT_F_RANDOM);
	info->skipped = sel.skipped;
	for (i = 0; i < sel.nfrom && i < RC_SUB_MAX_FROM; i++) {
		struct replicast_prefix *p = &info->from[info->nfrom++];

		p->family = sel.from[i].family == RC_AF_INET6 ? AF_INET6 : AF_INET;
		p->len = sel.from[i].len;
		memcpy(&p->addr, &sel.from[i].addr, p->family == AF_INET6 ? 16 : 4);
	}
}
