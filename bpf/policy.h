/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Who may make the replicator send, and how much: the per-group allow list
 * of source prefixes and the per-group rate limit. A replicator turns one
 * packet into thousands, so both are checked before any copy is made. */
#ifndef REPLICAST_POLICY_H
#define REPLICAST_POLICY_H

#include "maps.h"
#include "parse.h"

#define NSEC_PER_SEC 1000000000ULL
/* How far ahead of the configured rate a group may run: a burst of this
 * many nanoseconds' worth of packets passes at once. */
#define RATE_BURST_NS (20ULL * 1000 * 1000)
/* Compare-and-swap attempts before a packet counts as over the limit: CPUs
 * race on a group's state only when they carry the same group at once. */
#define RATE_CAS_TRIES 4

/* Whether a packet from the network may make the group send: its source
 * in the allow list, arriving on the device the route back to it leaves by
 * (unless the group is loose). Returns 0 or the drop reason. */
static __always_inline __u32 source_refused(__u32 gid, const struct rc_group *grp,
					    const struct packet *pkt, __u32 ingress_ifindex)
{
	struct rc_source_key key = {
		.prefixlen = SOURCE_KEY_FIXED_BITS + (pkt->key.family == RC_AF_INET ? 32 : 128),
		.group_id = gid,
		.family = pkt->key.family,
		.addr = pkt->saddr,
	};
	struct rc_source_rule *rule = bpf_map_lookup_elem(&group_sources, &key);

	if (!rule)
		return DROP_SOURCE_DENIED;
	if (rule->ifindex && rule->ifindex != ingress_ifindex &&
	    !(grp->flags & GROUP_F_LOOSE_REVERSE_PATH))
		return DROP_REVERSE_PATH;
	return 0;
}

/* GCRA (virtual scheduling): admit when the theoretical arrival time is
 * at most the burst window ahead of now, then push it on by the cost. The
 * check is made before the cost is added, so a packet on an idle group
 * always passes whatever its cost: at 10 packets a second each costs
 * 100 ms, five times the burst window. Lock-free with one CAS. */
static __always_inline int gcra_admit(__u64 *tat, __u64 now, __u64 cost_ns)
{
	__u64 old, next;
	int i;

	for (i = 0; i < RATE_CAS_TRIES; i++) {
		old = *(volatile __u64 *)tat;
		if (old > now + RATE_BURST_NS)
			return 0;
		next = (old > now ? old : now) + cost_ns;
		if (__sync_val_compare_and_swap(tat, old, next) == old)
			return 1;
	}
	return 0;
}

/* `packets` datagrams of `bytes` in all (a GSO super-packet is several). */
static __always_inline int rate_allows(__u32 gid, const struct rc_group *grp, __u32 packets,
				       __u64 bytes)
{
	struct rc_group_rate *rate;
	__u64 now;

	if (!grp->max_pps && !grp->max_bps)
		return 1;
	rate = bpf_map_lookup_elem(&group_rate, &gid);
	if (!rate)
		return 0;
	now = bpf_ktime_get_ns();
	if (grp->max_pps &&
	    !gcra_admit(&rate->pkt_tat_ns, now, packets * (NSEC_PER_SEC / grp->max_pps)))
		return 0;
	return !grp->max_bps ||
	       gcra_admit(&rate->bit_tat_ns, now, bytes * 8 * NSEC_PER_SEC / grp->max_bps);
}

#endif /* REPLICAST_POLICY_H */
