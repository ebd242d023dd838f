/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Balancing (group --mode balance): which one ON subscriber of a group gets
 * a packet. Rendezvous (highest random weight) hashing: every candidate's
 * weight is a mix of the packet's hash and the subscriber's identity (its
 * destination address and port), and the heaviest wins. Adding or removing
 * one of N candidates moves only the packets it wins or stops winning,
 * about 1/N, and nobody else's; the identity is not the slot, so a
 * subscriber keeps its sources across slot reuse and save/apply.
 *
 * The pure part (hashes, weights, the comparison) is plain C over the
 * shared layouts: the TC replicator, the XDP engine and the library
 * (replicast_balance_pick(), user/lib/balance.c) all compile this one
 * text, so the kernel's choice and the one `group pick` prints cannot
 * differ. The walks are below: over a group's slots for the TC replicator,
 * over a window's snapshot for the XDP engine. */
#ifndef REPLICAST_BALANCE_H
#define REPLICAST_BALANCE_H

#include "replicast_types.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* The engine's loops of one window are unrolled (user space: as the
 * compiler likes). */
#if defined(__clang__)
#define BALANCE_UNROLL _Pragma("clang loop unroll(full)")
#else
#define BALANCE_UNROLL
#endif

/* No winner: the group has no ON subscriber of the packet's family. */
#define BALANCE_NONE (~0U)

/* A 64-bit finalizer (the murmur3 fmix64 shape): every input bit flips
 * about half the output bits, so weights of nearby inputs (addresses one
 * apart, ports one apart) look independent. */
static __always_inline __u64 balance_mix(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* One more 64-bit word into a running hash. */
static __always_inline __u64 balance_absorb(__u64 h, __u64 v)
{
	return balance_mix(h ^ balance_mix(v + 0x9e3779b97f4a7c15ULL));
}

/* An address as two words: the bytes as they sit in union rc_addr
 * (network order, IPv4 in the first four), read as 32-bit words, which is
 * the same on both sides of one host. 4-byte reads: map values and packet
 * copies hold addresses 4-byte aligned only. */
static __always_inline __u64 balance_absorb_addr(__u64 h, const union rc_addr *a)
{
	const __u32 *w = (const __u32 *)a;

	h = balance_absorb(h, ((__u64)w[0] << 32) | w[1]);
	return balance_absorb(h, ((__u64)w[2] << 32) | w[3]);
}

/* The packet's hash: of its source address (group --hash source), or of
 * source address and port, destination address and port (--hash flow).
 * Ports in host byte order. */
static __always_inline __u64 balance_packet_hash(__u8 family, const union rc_addr *saddr,
						 __u16 sport, const union rc_addr *daddr,
						 __u16 dport, int flow)
{
	__u64 h = balance_absorb(0x6a09e667f3bcc908ULL, family);

	h = balance_absorb_addr(h, saddr);
	if (flow) {
		h = balance_absorb(h, ((__u64)sport << 16) | dport);
		h = balance_absorb_addr(h, daddr);
	}
	return h;
}

/* A subscriber's identity: where its copies go. */
static __always_inline __u64 balance_sub_id(__u8 family, const union rc_addr *addr, __u16 port)
{
	__u64 h = balance_absorb(0xbb67ae8584caa73bULL, ((__u64)family << 16) | port);

	return balance_absorb_addr(h, addr);
}

static __always_inline __u64 balance_weight(__u64 packet_hash, __u64 sub_id)
{
	return balance_mix(packet_hash ^ sub_id);
}

/* The best candidate so far. Equal weights (a 2^-64 chance, or one
 * destination subscribed twice) go to the lower slot, so the answer does
 * not depend on the order candidates are offered in: the TC replicator
 * walks slots in order, the XDP engine its threads' shares. */
struct balance_best {
	__u64 weight;
	__u32 slot;		/* BALANCE_NONE: no candidate yet */
	__u32 pad;
};

static __always_inline void balance_start(struct balance_best *b)
{
	b->weight = 0;
	b->slot = BALANCE_NONE;
	b->pad = 0;
}

/* Offers one candidate; returns 1 when it is the best so far. */
static __always_inline int balance_offer(struct balance_best *b, __u64 weight, __u32 slot)
{
	if (b->slot != BALANCE_NONE &&
	    (weight < b->weight || (weight == b->weight && slot > b->slot)))
		return 0;
	b->weight = weight;
	b->slot = slot;
	return 1;
}

/* A candidate: an ON subscriber of the packet's family. Off, retired and
 * other-family subscribers take no part, so switching one off hands its
 * packets to the others and moves nobody else's. */
static __always_inline int balance_candidate(const struct rc_subscriber *sub, __u8 family)
{
	return sub->state == SUB_ON && sub->family == family;
}

static __always_inline __u64 balance_sub_weight(__u64 packet_hash, const struct rc_subscriber *sub)
{
	return balance_weight(packet_hash, balance_sub_id(sub->family, &sub->addr, sub->port));
}

/* ---- the XDP engine's windows (xdp_engine.bpf.c) ----
 * Each thread sends to its share of a snapshot. The leader finds every
 * packet's winner while it walks the snapshot (which holds exactly the
 * candidates) and names it by its place there: entry e of thread t's share
 * is e << 4 | t (RC_ENGINE_MAX_THREADS is 16). Each thread then visits
 * only the entries of its share that won something. */
#define BALANCE_THREAD_BITS 4
_Static_assert(RC_ENGINE_MAX_THREADS <= 1 << BALANCE_THREAD_BITS, "a thread fits its bits");

struct balance_run {
	__u64 hash[RC_ENGINE_WINDOW];	/* of each packet; --hash source: [0] for all */
	struct balance_best best[RC_ENGINE_WINDOW];
	__u32 winner[RC_ENGINE_WINDOW];	/* entry << 4 | thread, or BALANCE_NONE */
	__u32 n;			/* hashes: 1, or the window's packets */
	__u32 pad;
};

static __always_inline void balance_run_reset(struct balance_run *r)
{
	__u32 j;

	for (j = 0; j < RC_ENGINE_WINDOW; j++) {
		balance_start(&r->best[j]);
		r->winner[j] = BALANCE_NONE;
	}
}

/* Comparisons without a jump. BPF has no set-on-condition instruction, so
 * `a == b` in C is a branch, and sixteen of them over values the verifier
 * cannot know fork its walk sixteen times over; these are arithmetic, and
 * the empty asm keeps the compiler from turning them back into compares. */
static __always_inline __u32 balance_eq(__u32 a, __u32 b)
{
	__u64 d = a ^ b;

	asm volatile("" : "+r"(d));
	return (__u32)((d - 1) >> 63);		/* d - 1 wraps below 0 only for d == 0 */
}

static __always_inline __u32 balance_lt(__u32 a, __u32 b)
{
	__u64 d = (__u64)a;

	asm volatile("" : "+r"(d));
	return (__u32)((d - b) >> 63);
}

/* Bit j: packet j of a window of w (1..16) goes to `where`. */
static __always_inline __u32 balance_mask(const __u32 *winner, __u32 w, __u32 where)
{
	__u32 j, mask = 0;

	BALANCE_UNROLL
	for (j = 0; j < RC_ENGINE_WINDOW; j++)
		mask |= balance_eq(winner[j], where) << j;
	return mask & ((1U << (w & 31)) - 1);
}

/* The lowest entry of thread t's share, `from` or later, that won one of
 * the w packets of the window; BALANCE_NONE when none did. */
static __always_inline __u32 balance_next_entry(const __u32 *winner, __u32 w, __u32 t, __u32 from)
{
	__u32 j, code, e, ok, cand, next = BALANCE_NONE;

	BALANCE_UNROLL
	for (j = 0; j < RC_ENGINE_WINDOW; j++) {
		code = winner[j];
		e = code >> BALANCE_THREAD_BITS;
		ok = balance_eq(code & ((1U << BALANCE_THREAD_BITS) - 1), t) &
		     (1 - balance_eq(code, BALANCE_NONE)) & (1 - balance_lt(e, from)) &
		     balance_lt(j, w);
		cand = e | (ok - 1);		/* ok: e, else BALANCE_NONE */
		next ^= (cand ^ next) & (0U - balance_lt(cand, next));
	}
	return next;
}

#if defined(__bpf__)
/* A candidate of the engine's snapshot: slot `slot`, at `where` (entry << 4
 * | thread). Global (not static): the verifier checks its loop once on its
 * own, rather than once per step of the snapshot walk that calls it. */
__noinline int balance_run_offer(struct balance_run *r, const struct rc_subscriber *sub,
				 __u32 slot, __u32 where)
{
	__u64 id;
	__u32 j;

	if (!r || !sub)
		return 0;
	id = balance_sub_id(sub->family, &sub->addr, sub->port);
	for (j = 0; j < RC_ENGINE_WINDOW; j++) {
		if (j >= r->n)
			break;
		if (balance_offer(&r->best[j], balance_weight(r->hash[j], id), slot))
			r->winner[j] = where;
	}
	return 0;
}

/* ---- the TC replicator's walk: one pass over the group's slots ---- */

struct balance_walk {
	void *subs;		/* the group's inner map of group_subs */
	__u64 hash;		/* balance_packet_hash() of the packet */
	struct balance_best best;
	__u8 family;
};

/* bpf_loop callback: one slot. Stops at the first EMPTY slot, as the
 * fan-out walk does. */
static int balance_walk_one(__u32 slot, void *data)
{
	struct balance_walk *bw = data;
	struct rc_subscriber *sub = bpf_map_lookup_elem(bw->subs, &slot);

	if (!sub || sub->state == SUB_EMPTY)
		return 1;
	if (balance_candidate(sub, bw->family))
		balance_offer(&bw->best, balance_sub_weight(bw->hash, sub), slot);
	return 0;
}

/* The slot that gets the packet, or BALANCE_NONE. */
static __always_inline __u32 balance_pick_slot(void *subs, __u32 nslots, __u8 family, __u64 hash)
{
	struct balance_walk bw = { .subs = subs, .hash = hash, .family = family };

	balance_start(&bw.best);
	bpf_loop(nslots, balance_walk_one, &bw, 0);
	return bw.best.slot;
}
#endif /* __bpf__ */

#endif /* REPLICAST_BALANCE_H */
