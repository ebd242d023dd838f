/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Per-subscriber selection, the one decision both fan-out paths (the TC
 * replicator and the XDP engine) make for each subscriber's copy: does this
 * subscriber want these packets (its --from prefixes, then 1 in --sample)?
 * A copy it does not want is skipped: counted apart from drops. */
#ifndef REPLICAST_SELECT_H
#define REPLICAST_SELECT_H

#include <bpf/bpf_endian.h>
#include "maps.h"

/* Packets one call decides at most: the XDP engine's window. */
#define SELECT_MAX_RUN	RC_ENGINE_WINDOW

/* Whether address a (of family) is inside prefix p. Whole 32-bit words:
 * both addresses are 4-byte aligned (a map value's, a packet copy's). */
static __always_inline int prefix_holds(const struct rc_sub_prefix *p, __u8 family,
					const union rc_addr *a)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)&p->addr;
	__u32 len = p->len, w, bits, mask;

	if (p->family != family)
		return 0;
	for (w = 0; w < 4; w++) {
		if (len <= w * 32)
			break;
		bits = len - w * 32;
		mask = bits >= 32 ? ~0U : bpf_htonl(~0U << (32 - bits));
		if ((x[w] ^ y[w]) & mask)
			return 0;
	}
	return 1;
}

static __always_inline int source_selected(const struct rc_sub_select *sel, __u8 family,
					   const union rc_addr *saddr)
{
	__u32 i;

	if (!sel->nfrom)
		return 1;
	for (i = 0; i < RC_SUB_MAX_FROM; i++) {
		if (i >= sel->nfrom)
			break;
		if (prefix_holds(&sel->from[i], family, saddr))
			return 1;
	}
	return 0;
}

/* Which of the packets offered to subscriber `slot` of group `gid` it takes.
 * `offered`: bit j is the j-th packet of a run from one source (saddr), in
 * the order they go out, each standing for `per` datagrams: the TC
 * replicator offers one skb (bit 0) of gso_segs datagrams, the XDP engine a
 * window's admitted packets, one datagram each. Returns the bits to send;
 * the others are skipped. Deterministic sampling counts datagrams in the
 * subscriber's shared `seen` (one atomic add per call, so both engines and
 * every CPU count one sequence): datagram k goes when k % sample == 0, and
 * a packet of several goes whole when it holds such a k. The subscriber's
 * skipped datagrams are counted here, in its entry, the same for both. */
/* Global (not static): the verifier checks it once on its own, and its
 * callers see only a number come back, instead of every path through it
 * multiplying the paths through the rest of a copy. */
__noinline __u32 sub_select_rule(const struct rc_sub_select_key *key, __u32 family,
				 const union rc_addr *saddr, __u32 offered, __u32 per)
{
	struct rc_sub_select_key k0;
	struct rc_sub_select *sel;
	__u64 first, start, n = 0, N;
	__u32 j, bit, out = 0, k = 0, taken = 0;

	if (!key || !saddr)
		return offered;
	k0 = *key;
	sel = bpf_map_lookup_elem(&sub_select, &k0);
	/* Flagged without a rule (removed by hand): as if it had none. */
	if (!sel)
		return offered;
	for (j = 0; j < SELECT_MAX_RUN; j++)
		if (offered & (1U << j))
			n++;
	if (!n)
		return 0;
	if (!source_selected(sel, family, saddr)) {
		__sync_fetch_and_add(&sel->skipped, n * per);
		return 0;
	}
	N = sel->sample;
	if (N <= 1)
		return offered;
	if (sel->flags & SELECT_F_RANDOM) {
		for (j = 0; j < SELECT_MAX_RUN; j++) {
			bit = 1U << j;
			if ((offered & bit) && bpf_get_prandom_u32() % N == 0) {
				out |= bit;
				taken++;
			}
		}
	} else {
		first = __sync_fetch_and_add(&sel->seen, n * per);
		for (j = 0; j < SELECT_MAX_RUN; j++) {
			bit = 1U << j;
			if (!(offered & bit))
				continue;
			start = (first + (__u64)k * per) % N;
			/* [start, start + per) of the count holds a multiple of N */
			if (!start || start + per > N) {
				out |= bit;
				taken++;
			}
			k++;
		}
	}
	if (taken < n)
		__sync_fetch_and_add(&sel->skipped, (n - taken) * per);
	return out;
}

static __always_inline __u32 sub_selects(__u32 gid, __u32 slot, const struct rc_subscriber *sub,
					 __u8 family, const union rc_addr *saddr, __u32 offered,
					 __u32 per)
{
	struct rc_sub_select_key key = { .group_id = gid, .slot = slot };

	if (!(sub->flags & SUB_F_SELECT))
		return offered;
	return sub_select_rule(&key, family, saddr, offered, per);
}

#endif /* REPLICAST_SELECT_H */
