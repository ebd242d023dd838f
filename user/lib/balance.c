// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Which subscriber of a balance group a source's packets go to, worked out
 * in user space with the kernel's own code (bpf/balance.h), so that `group
 * pick`, `list` and the tests can say what the programs will do. */
#include <errno.h>
#include <string.h>
#include "replicast.h"
#include "internal.h"
#include "balance.h"

/* An endpoint's address as union rc_addr holds it (IPv4 in the first four
 * bytes, the rest zero): the bytes the kernel hashes. */
static void endpoint_addr(const struct replicast_endpoint *ep, union rc_addr *a)
{
	struct rc_group_key key;

	rc_endpoint_to_key(ep, &key);
	*a = key.addr;
}

int replicast_balance_pick(const struct replicast_group_info *group,
			   const struct replicast_endpoint *source, size_t *index)
{
	union rc_addr saddr, daddr, subaddr;
	struct balance_best best;
	__u8 family;
	__u64 hash;
	size_t i, at = 0;

	if (!group || !source || !index || group->mode != REPLICAST_MODE_BALANCE ||
	    source->family != group->group.family)
		return -EINVAL;
	family = group->group.family == AF_INET ? RC_AF_INET : RC_AF_INET6;
	endpoint_addr(source, &saddr);
	endpoint_addr(&group->group, &daddr);
	hash = balance_packet_hash(family, &saddr, source->port, &daddr, group->group.port,
				   group->hash == REPLICAST_HASH_FLOW);
	balance_start(&best);
	for (i = 0; i < group->nsubs; i++) {
		const struct replicast_sub_info *s = &group->subs[i];
		struct rc_subscriber sub = { .state = s->enabled ? SUB_ON : SUB_OFF,
					     .port = s->dest.port };

		sub.family = s->dest.family == AF_INET ? RC_AF_INET : RC_AF_INET6;
		endpoint_addr(&s->dest, &subaddr);
		sub.addr = subaddr;
		if (!balance_candidate(&sub, family))
			continue;
		if (balance_offer(&best, balance_sub_weight(hash, &sub), s->slot))
			at = i;
	}
	if (best.slot == BALANCE_NONE)
		return -ENOENT;
	*index = at;
	return 0;
}
