// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The zero-syscall fan-out engine: an XDP program that engine threads run
 * inside one long BPF_PROG_RUN (BPF_F_TEST_XDP_LIVE_FRAMES). Each run turns
 * one (packet, subscriber) pair into a frame: packets come from a ring that
 * the application writes in shared memory, subscribers from the same pinned
 * maps the TC replicator reads, and the frame leaves through a device map,
 * which sends frames to one device in bulk. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "parse.h"
#include "rewrite.h"
#include "counters.h"
#include "policy.h"
#include "select.h"
#include "health.h"
#include "balance.h"

/* bpf_loop refuses more iterations than this (BPF_MAX_LOOPS in the kernel). */
#define MAX_LOOP_ITERATIONS (1U << 23)
/* Packets between two writes of a thread's progress to the line the
 * application polls: often enough that the application sees room in the
 * ring long before it is full, rarely enough that the line is not bounced
 * between the two cores on every packet. */
#define PUBLISH_EVERY 32

/* Ordering between the application, which writes a ring slot and then its
 * seq, and the program, which reads seq and then the slot (and likewise
 * between engine threads). clang 14 has no BPF load-acquire or
 * store-release: on x86, which keeps loads in order and stores in order,
 * plain accesses that the compiler may not move are exactly that; other
 * architectures get BPF atomics, which are fully ordered. */
#define compiler_barrier() asm volatile("" ::: "memory")
#if defined(__TARGET_ARCH_x86)
#define load_acquire(p) ({ typeof(*(p)) v_ = *(volatile typeof(*(p)) *)(p); compiler_barrier(); v_; })
#define store_release(p, v) do { compiler_barrier(); *(volatile typeof(*(p)) *)(p) = (v); } while (0)
#else
#define load_acquire(p) __sync_fetch_and_add((p), 0)
#define store_release(p, v) __sync_lock_test_and_set((p), (v))
#endif

/* Set by the library before the load. */
const volatile __u32 nthreads = 1;
const volatile __u32 ring_mask = 0;	/* ring slots - 1, a power of two - 1 */
const volatile __u32 window_mask = 0;	/* window headers - 1, likewise */
const volatile __u32 version_mask = 0;	/* snapshot versions - 1, likewise */
const volatile __u32 max_subs = DEFAULT_MAX_SUBS;	/* slots per group (config) */
const volatile __u32 next_hop_sets = 1;	/* next-hop cache sets per thread */
const volatile __u32 engine_tgid = 0;	/* the process whose threads run us */
const volatile __u32 batch_size = 64;	/* program runs per live-frames batch */
/* 1: the ring is the relay's, written by relay_ingress from packets that
 * arrived (TTL as received, allow list already checked); 0: an
 * application's. */
const volatile __u32 relay = 0;
/* The engine's signal, which a follower sends itself to leave its run
 * for a nap (see "naps"); 0: followers never nap. */
const volatile __u32 nap_signal = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);		/* ring slots, set at open */
	__type(key, __u32);
	__type(value, struct rc_engine_slot);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, RC_ENGINE_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct rc_engine_ctl);
} ctl SEC(".maps");

/* An engine thread's hot cursor: in its own array, not on the line the
 * application polls (ctl), so the two cores do not bounce one cache line
 * on every run. The library writes the first 8 bytes (engine_thread_id). */
struct engine_cursor {
	struct rc_engine_thread_id id;
	__u64 pos;		/* ring position of the window's first packet, or the next */
	__u64 windows;		/* windows finished: the number of the next */
	__u64 published;	/* pos as last written to ctl */
	__u64 followers_min;	/* leader: fewest windows a follower finished, as last read */
	__u32 version;		/* snapshot of the current window's subscribers */
	__u32 ttl;		/* of the current window's copies */
	__u32 w;		/* packets in the window */
	__u32 admitted;		/* bit j: packet pos + j goes out (within the group's cap) */
	__u32 sel;		/* bit j: the current subscriber takes it (select.h); ~0 until known */
	__u32 balance;		/* the window balances: winner[] says who gets which packet */
	__u32 winner[RC_ENGINE_WINDOW];	/* as in struct rc_engine_window */
	__u32 sub;		/* entry of this thread's share being sent to */
	__u32 pkt;		/* the window's packet it gets next */
	__u32 count;		/* entries in this thread's share */
	__u32 gid;
	__u32 active;		/* a window is being sent */
	__u32 ifindex;		/* egress of the current subscriber; 0: it has none */
	__u32 resolved;		/* ifindex and hdrs are the current subscriber's */
	__u32 ledger;		/* of ifindex (entry in ledgers), or NO_LEDGER */
	__u32 last_ledger;	/* the ledger of the last copy redirected */
	__u32 ledgers_used;	/* of this thread's LEDGER_DEVS */
	__u32 idle_streak;	/* runs in a row that found the ring empty */
	__u64 settled;		/* pos as last written to ctl->settled */
	__u32 resume_seen;	/* relay: the last rc_relay_ctl.resume_gen this thread counted */
	__u32 nap_streak;	/* follower: runs since the leader went alone */
	__u32 solo;		/* leader: it sends alone (its copy of nap.solo) */
	__u32 want_solo;	/* leader: its load says it could */
	__u32 split_runs;	/* leader: runs since it shared again, until a batch ended */
	__u32 pad;
	__u64 busy_since;	/* leader: when it last found work after none; 0: idle */
	__u64 busy_ns;		/* leader: busy in the span so far */
	__u64 span_start;	/* leader: the span its load is judged over */
	struct copy_headers hdrs;	/* the current subscriber's copy headers */
	__u64 now;		/* clock at the window's start, in ns */
	__u64 tx_packets;	/* of the window, added to group_stats at its end */
	__u64 tx_bytes;
	struct rc_subscriber_counters sub_delta;	/* of the current subscriber */
	struct rc_engine_ctl totals;	/* copied to ctl when published */
	struct balance_run bal;		/* leader: the window's winners as they are found */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RC_ENGINE_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct engine_cursor);
} cursors SEC(".maps");

/* Which cursor the thread on this CPU owns: checked against the current
 * thread on every run, so a thread that moved or a second engine thread on
 * the CPU finds its own cursor instead of another's. */
struct engine_cpu {
	__u32 tid;
	__u32 thread;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct engine_cpu);
} on_cpu SEC(".maps");

/* Windows the leader made, by window number (one with one thread). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* set at open */
	__type(key, __u32);
	__type(value, struct rc_engine_window);
} windows SEC(".maps");

/* Snapshots of subscriber sets (one with one thread); version v, thread
 * t, entry i in snaps at (v * nthreads + t) * max_subs + i. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* set at open */
	__type(key, __u32);
	__type(value, struct rc_engine_version);
} versions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* set at open */
	__type(key, __u32);
	__type(value, struct rc_engine_sub);
} snaps SEC(".maps");

/* The next hops each thread resolved lately, by group and subscriber slot.
 * A FIB and neighbour lookup costs about as much as the rest of a copy, and
 * a subscriber's next hop changes rarely: a result is reused for
 * NEXT_HOP_TTL_NS, and only for the same subscriber (same address, source,
 * device and flags in the slot), so a route or neighbour change reaches
 * the copies within that time. The cache is set-associative so that many
 * interleaved groups (64 of 16, 1,024 of one) keep their next hops instead
 * of evicting each other: a hash of (group, slot) picks one of
 * next_hop_sets sets per thread (2 x max_subs entries in all), whose tags
 * share one cache line, and a miss takes an empty way or a random one.
 * Random, not least recently used: a set that holds more subscribers than
 * ways and is read round-robin (packet-major fan-out) would miss on every
 * read under LRU; at random most of them stay. */
#define NEXT_HOP_TTL_NS 10000000ULL
#define NEXT_HOP_WAYS RC_ENGINE_NEXT_HOP_WAYS
#define NEXT_HOP_TAG_VALID (1ULL << 63)

struct next_hop {
	__u64 stamp;			/* when resolved (bpf_ktime_get_ns) */
	__u32 ifindex;			/* egress device, 0: not resolved */
	__u32 sub_ifindex;
	__u8 eth[12];
	__u8 flags;
	__u8 pad[3];
	union rc_addr daddr;
	union rc_addr saddr;
};

struct next_hop_set {
	__u64 tag[NEXT_HOP_WAYS];	/* VALID | gid << 32 | slot, 0: empty */
	struct next_hop way[NEXT_HOP_WAYS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* threads * next_hop_sets, set at open */
	__type(key, __u32);
	__type(value, struct next_hop_set);
} next_hops SEC(".maps");

/* Egress devices by ifindex. The library adds each device a group's
 * subscribers use, after checking it can take XDP frames. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} devs SEC(".maps");

/* ---- ledgers: which copies a device's bulk queue holds ----
 * A redirected frame waits in the device's per-CPU bulk queue until the
 * queue is full (16 frames, DEV_MAP_BULK_SIZE) or the batch ends
 * (xdp_do_flush); bq_xmit_all() then hands the queue to the driver, and
 * the frames it refuses are the last ones of the queue, reported only by
 * the xdp_devmap_xmit tracepoint (sent, drops). Each thread keeps, per
 * device, the copies in that queue in the same order, so that a refused
 * copy can be moved from "sent" to "dropped" for its own group and
 * subscriber. No other frame enters the queue meanwhile: the batch runs
 * with bottom halves off, on one CPU (xdp_test_run_batch). */
#define LEDGER_LEN	32	/* a power of two above the queue's 16, plus the copy
				 * whose arrival flushes a full queue */
#define LEDGER_DEVS	RC_ENGINE_LEDGER_DEVS
#define NO_LEDGER	(~0U)

struct ledger_entry {
	__u32 gid;
	__u32 slot;		/* the subscriber's slot, for sub_stats */
	__u32 window;		/* low bits of the cursor's window number */
	__u32 sub;		/* the entry in the thread's share */
	__u32 bytes;		/* the frame's length */
};

struct ledger {
	__u32 ifindex;
	__u32 head;		/* the oldest copy not yet flushed */
	__u32 tail;		/* one past the newest */
	__u32 pad;
	struct ledger_entry e[LEDGER_LEN];
};

struct ledger_key {
	__u32 thread;
	__u32 ifindex;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* threads * LEDGER_DEVS, set at open */
	__type(key, __u32);
	__type(value, struct ledger);
} ledgers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);		/* threads * LEDGER_DEVS, set at open */
	__type(key, struct ledger_key);
	__type(value, __u32);
} ledger_ids SEC(".maps");

/* In front of ledger_ids, read once per subscriber and window and once per
 * bulk queue sent: a direct-mapped array by the ifindex's low bits, which
 * an array lookup answers without hashing (ifindexes are small and mostly
 * consecutive). Filled when a ledger is made, if its entry is free; a
 * device whose entry another holds is found in the hash. Ledgers are never
 * taken back, so an entry stays right. */
#define LEDGER_INDEX RC_ENGINE_LEDGER_INDEX

struct ledger_ref {
	__u32 ifindex;			/* 0: free */
	__u32 id;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* threads * LEDGER_INDEX, set at open */
	__type(key, __u32);
	__type(value, struct ledger_ref);
} ledger_index SEC(".maps");

/* The one field of the kernel's struct net_device the tracepoint reads,
 * found by name at load time (CO-RE). */
struct net_device___eng {
	int ifindex;
} __attribute__((preserve_access_index));

/* Loops over the threads are unrolled, with the map key a copy of the
 * counter: a counter that is itself the key lives on the stack, where this
 * verifier tracks a 32-bit value only as "some bytes" and then takes the
 * loop for an infinite one. */
#define for_each_thread(i, first)						\
	_Pragma("clang loop unroll(full)")					\
	for (i = (first); i < RC_ENGINE_MAX_THREADS; i++)

static __always_inline __u32 threads_n(void)
{
	__u32 n = nthreads;

	return n < RC_ENGINE_MAX_THREADS ? n : RC_ENGINE_MAX_THREADS;
}

static __always_inline struct engine_cursor *my_cursor(void)
{
	__u32 zero = 0, tid = (__u32)bpf_get_current_pid_tgid(), i, n;
	struct engine_cursor *cur;
	struct engine_cpu *c;

	c = bpf_map_lookup_elem(&on_cpu, &zero);
	if (!c)
		return NULL;
	if (c->tid == tid) {
		__u32 key = c->thread;

		cur = bpf_map_lookup_elem(&cursors, &key);
		if (cur && cur->id.tid == tid)
			return cur;
	}
	/* First run on this CPU, or the thread moved: find its cursor. */
	n = threads_n();
	for_each_thread(i, 0) {
		__u32 key = i;

		if (i >= n)
			break;
		cur = bpf_map_lookup_elem(&cursors, &key);
		if (cur && cur->id.tid == tid) {
			c->tid = tid;
			c->thread = i;
			return cur;
		}
	}
	return NULL;
}

static __always_inline void publish(struct engine_cursor *cur)
{
	__u32 t = cur->id.thread;
	struct rc_engine_ctl *out = bpf_map_lookup_elem(&ctl, &t);

	if (!out)
		return;
	out->copies = cur->totals.copies;
	out->idle_runs = cur->totals.idle_runs;
	out->dropped = cur->totals.dropped;
	out->xmit_dropped = cur->totals.xmit_dropped;
	out->snap_waits = cur->totals.snap_waits;
	/* Reported once per publish that saw copies go to it: the library
	 * takes the report (sets it back to 0), so a device that gets no
	 * more copies (its subscriber left) is not asked about again. */
	if (cur->totals.missing_ifindex) {
		out->missing_ifindex = cur->totals.missing_ifindex;
		cur->totals.missing_ifindex = 0;
	}
	/* Last: the application frees ring slots up to here. */
	store_release(&out->consumed, cur->pos);
	cur->published = cur->pos;
}

static __always_inline struct rc_engine_slot *slot_at(__u64 pos)
{
	__u32 i = (__u32)pos & ring_mask;

	return bpf_map_lookup_elem(&ring, &i);
}

/* ---- windows and their snapshots (the leader) ---- */

static __always_inline int same_addr(const union rc_addr *a, const union rc_addr *b)
{
	/* 32-bit words: the verifier refuses misaligned stack reads, and some
	 * of these addresses are only 4-byte aligned. */
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]));
}

static __always_inline int same_key(const struct rc_group_key *a, const struct rc_group_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return x[0] == y[0] && same_addr(&a->addr, &b->addr);
}

static __always_inline __u32 frame_len(const struct rc_engine_slot *slot)
{
	return (slot->group.family == RC_AF_INET ? COPY_HDR_V4 : COPY_HDR_V6) + slot->len;
}

/* The window's loops run as bpf_loop callbacks: unrolled or inlined, their
 * sixteen steps multiply the states the verifier walks. */
struct window_ctx {
	__u64 pos;
	const struct rc_engine_slot *first;
	struct rc_group *grp;
	__u32 gid;
	__u32 w;
	__u32 admitted;
	__u32 rx_packets;
	__u32 rx_bytes;
};

/* Step j of window_size(): is packet pos + j part of the window? */
static int window_step(__u32 j, void *data)
{
	struct window_ctx *wc = data;
	struct rc_engine_slot *s = slot_at(wc->pos + j + 1);

	if (!s || load_acquire(&s->seq) != (__u32)(wc->pos + j + 2) ||
	    !same_key(&s->group, &wc->first->group) || !same_addr(&s->source, &wc->first->source))
		return 1;
	/* One TTL per window: on a unicast group it follows what each packet
	 * came with. */
	if (relay && s->ttl != wc->first->ttl)
		return 1;
	wc->w++;
	return 0;
}

/* Step j of the cap check: does packet pos + j fit in the group's cap? */
static int admit_step(__u32 j, void *data)
{
	struct window_ctx *wc = data;
	struct rc_engine_slot *s = slot_at(wc->pos + j);

	if (!s)
		return 1;
	if (wc->grp && (wc->grp->max_pps || wc->grp->max_bps) &&
	    !rate_allows(wc->gid, wc->grp, 1, frame_len(s))) {
		count_drop(DROP_RATE_LIMITED);
		count_group_drop(wc->gid, DROP_RATE_LIMITED);
		return 0;
	}
	if (j < RC_ENGINE_WINDOW)
		wc->admitted |= 1U << j;
	wc->rx_packets++;
	wc->rx_bytes += frame_len(s);
	return 0;
}

/* snap_ctx.turn when the leader sends alone. */
#define ALONE 0xff

struct snap_ctx {
	void *subs;			/* the group's inner map of group_subs */
	__u32 base;			/* first entry of the version in snaps */
	__u32 count[RC_ENGINE_MAX_THREADS];
	const __u32 *had;		/* compare: the version's counts */
	__u32 mismatched;		/* subscribers of the other family */
	__u8 family;
	__u8 write;			/* copy the set; else compare it with the version */
	__u8 differ;			/* compare: the set is not the version's */
	__u8 turn;			/* the group's first thread (gid % nthreads), or
					 * ALONE: every entry is the leader's */
	/* A balance group's: winners found on the way. Last, so the fields
	 * above keep their stack slots: moved by 8 bytes, the walk's counters
	 * share slots differently and the verifier no longer sees the
	 * callback converge (a million instructions instead of 13,000). */
	struct balance_run *bal;
};

static __always_inline int same_sub(const struct rc_subscriber *a, const struct rc_subscriber *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
	__u64 d = 0;
	int i;

	/* struct rc_subscriber is 56 bytes, 8-aligned in both maps. */
	for (i = 0; i < (int)(sizeof(*a) / 8); i++)
		d |= x[i] ^ y[i];
	return !d;
}

/* bpf_loop callback, one slot of the live set: copies a subscriber that is
 * on into, or compares it with, the version's share of the thread that
 * serves it. Returns 1 at the first empty slot. */
static int snap_one(__u32 slot, void *data)
{
	struct snap_ctx *sc = data;
	struct rc_subscriber *sub;
	struct rc_engine_sub *e;
	__u32 t = 0, idx, n;

	sub = bpf_map_lookup_elem(sc->subs, &slot);
	if (!sub || sub->state == SUB_EMPTY)
		return 1;
	if (sub->state != SUB_ON)
		return 0;
	if (sub->family != sc->family) {
		sc->mismatched++;
		return 0;
	}
	/* By slot, which a subscriber keeps while it stays: so one thread
	 * always sends to it, and its packets stay in order. Turned by the
	 * group, so that groups of one subscriber each (all in slot 0) are
	 * shared among the threads instead of all going to thread 0. */
	if (nthreads > 1 && sc->turn != ALONE)
		t = (slot + sc->turn) % nthreads;
	if (t >= RC_ENGINE_MAX_THREADS)
		return 1;
	n = sc->count[t]++;
	idx = sc->base + t * max_subs + n;
	e = bpf_map_lookup_elem(&snaps, &idx);
	if (!e)
		return 1;
	if (sc->bal)
		balance_run_offer(sc->bal, sub, slot, n << BALANCE_THREAD_BITS | t);
	if (sc->write) {
		e->slot = slot;
		e->sub = *sub;
		return 0;
	}
	if (!sc->had || n >= sc->had[t] || e->slot != slot || !same_sub(&e->sub, sub)) {
		sc->differ = 1;
		return 1;
	}
	return 0;
}

/* Reads the group's live set into, or compares it with, version v. */
static __always_inline void walk_set(struct snap_ctx *sc, void *subs, __u8 family, __u32 gid,
				     __u32 v, struct rc_engine_version *ver, int write,
				     struct balance_run *bal, int alone)
{
	__u32 i, n = max_subs < MAX_LOOP_ITERATIONS ? max_subs : MAX_LOOP_ITERATIONS;

	__builtin_memset(sc, 0, sizeof(*sc));
	/* Winners of a walk that stopped early would be of part of a set. */
	if (bal)
		balance_run_reset(bal);
	sc->bal = bal;
	sc->subs = subs;
	sc->family = family;
	sc->write = write;
	sc->turn = alone ? ALONE : nthreads > 1 ? gid % nthreads : 0;
	sc->had = ver->count;
	sc->base = v * nthreads * max_subs;
	bpf_loop(n, snap_one, sc, 0);
	if (write)
		return;
	for (i = 0; i < RC_ENGINE_MAX_THREADS; i++)
		if (sc->count[i] != ver->count[i])
			sc->differ = 1;
}

/* Leader: the lowest number of windows any follower has finished. */
static __always_inline __u64 followers_done(struct engine_cursor *cur)
{
	__u64 lowest = ~0ULL;
	__u32 i, n = threads_n();

	for_each_thread(i, 1) {
		struct engine_cursor *f;
		__u32 key = i;
		__u64 done;

		if (i >= n)
			break;
		f = bpf_map_lookup_elem(&cursors, &key);
		if (!f)
			return 0;
		done = load_acquire(&f->windows);
		if (done < lowest)
			lowest = done;
	}
	cur->followers_min = lowest;
	return lowest;
}

/* ---- naps: followers sleep while the leader could send alone ----
 * A follower spinning on an empty ring takes a core from the sender and
 * the receivers' softirqs, and two spinning threads on one core wait
 * through each other's scheduler slices (4 ms here): at a few thousand
 * packets a second that, not the copies, is what a packet waits for. So
 * the leader judges its own load over spans of NAP_SPAN_NS, and while it
 * could carry every share it goes alone (solo): its snapshots give every
 * entry to itself, and a follower, once it has finished the shared
 * windows, says it is out, sends itself the engine's signal to leave its
 * run and sleeps in the library. When the leader's load rises it asks the
 * followers back (want_split); each comes back into its run and says it
 * is joining; once all are, the leader takes them in and shares again
 * from the next window, whose ring position each follower jumps to.
 * One subscriber's packets never go out of order across a change. A copy
 * waits in its device's per-CPU bulk queue until the batch that sent it
 * ends, so the thread that takes a subscriber over must not send to it
 * before the other's batch has ended: the leader goes alone only once
 * every follower has settled every shared window (its batch ended since:
 * see settle()), and a follower joining again sends only once the leader
 * has run a batch past the last window it made alone (split_flushed). */
#define NAP_SPAN_NS	2000000ULL
/* Alone when its busy share times the threads is below this (percent)... */
#define NAP_SOLO_PCT	50
/* ... and shared again when, alone, it is busy above this. */
#define NAP_SPLIT_PCT	75
/* Idle runs between two looks at the clock (a power of two, minus 1), and
 * between two signals of a follower that should be gone. */
#define NAP_EVERY	1023

static __always_inline struct rc_engine_nap *nap_of(__u32 t)
{
	struct rc_engine_ctl *c = bpf_map_lookup_elem(&ctl, &t);

	return c ? &c->nap : NULL;
}

/* Publishes the thread's progress as settled: every batch that carried
 * its copies has ended (its refusals are counted). */
static __always_inline void settle(struct engine_cursor *cur)
{
	__u32 t = cur->id.thread;
	struct rc_engine_ctl *out = bpf_map_lookup_elem(&ctl, &t);

	publish(cur);
	if (out)
		store_release(&out->settled, cur->pos);
	cur->settled = cur->pos;
}

/* Leader: its load, at `now`, busy (a packet to send) or not; at the end
 * of a span, what the span says. */
static __always_inline void nap_judge(struct engine_cursor *cur, __u64 now, int busy)
{
	struct rc_engine_nap *nap;
	__u64 span, pct;

	if (busy && !cur->busy_since) {
		cur->busy_since = now;
	} else if (!busy && cur->busy_since) {
		cur->busy_ns += now - cur->busy_since;
		cur->busy_since = 0;
	}
	span = now - cur->span_start;
	if (span < NAP_SPAN_NS)
		return;
	if (cur->busy_since) {
		cur->busy_ns += now - cur->busy_since;
		cur->busy_since = now;
	}
	pct = cur->busy_ns * 100 / span;
	cur->busy_ns = 0;
	cur->span_start = now;
	nap = nap_of(0);
	if (!nap)
		return;
	if (!cur->solo)
		cur->want_solo = pct * threads_n() < NAP_SOLO_PCT;
	else if (pct > NAP_SPLIT_PCT && !nap->want_split)
		store_release(&nap->want_split, 1);
}

/* Leader, before it makes window cur->windows: alone from it, when its
 * load says so and every follower has finished every window before; or
 * shared again from it, once every follower asked back is joining. */
static __always_inline void nap_turn(struct engine_cursor *cur)
{
	struct rc_engine_nap *nap = nap_of(0);
	__u32 i, n = threads_n();

	if (!nap)
		return;
	if (!cur->solo) {
		if (!cur->want_solo)
			return;
		for_each_thread(i, 1) {
			struct rc_engine_ctl *c;
			__u32 key = i;

			if (i >= n)
				break;
			c = bpf_map_lookup_elem(&ctl, &key);
			if (!c || load_acquire(&c->settled) < cur->pos)
				return;
		}
		nap->solo_from = cur->windows;
		nap->want_split = 0;
		nap->solos++;
		store_release(&nap->solo, 1);
		cur->solo = 1;
		cur->want_solo = 0;
		return;
	}
	if (!load_acquire(&nap->want_split))
		return;
	for_each_thread(i, 1) {
		struct rc_engine_ctl *c;
		__u32 key = i;

		if (i >= n)
			break;
		c = bpf_map_lookup_elem(&ctl, &key);
		if (!c || !load_acquire(&c->nap.joining))
			return;
	}
	/* Each follower holds the ring from here on, from now: its progress
	 * is written for it (a joining follower writes none of its line),
	 * then it is in. Were it left to the follower, the application
	 * would go on freeing slots by the leader's progress until then. */
	for_each_thread(i, 1) {
		struct rc_engine_ctl *c;
		__u32 key = i;

		if (i >= n)
			break;
		c = bpf_map_lookup_elem(&ctl, &key);
		if (!c)
			return;	/* cannot happen: looked up above */
		c->consumed = cur->pos;
		c->settled = cur->pos;
		store_release(&c->nap.out, 0);
	}
	nap->split_from = cur->windows;
	nap->split_pos = cur->pos;
	nap->want_split = 0;
	nap->splits++;
	nap->split_flushed = 0;
	store_release(&nap->solo, 0);
	cur->solo = 0;
	cur->split_runs = 1;
	/* The followers' progress as last read is from before: read again. */
	cur->followers_min = 0;
}

/* Follower, at the start of a run: 1 when the leader sends alone and the
 * run has nothing to do. */
static __always_inline int follower_nap(struct engine_cursor *cur)
{
	struct rc_engine_nap *lead = nap_of(0), *me = nap_of(cur->id.thread);

	if (!lead || !me)
		return 0;
	if (me->joining) {
		/* Shared again once the leader says so: it sent everything
		 * before split_from, and its copies have left once a batch of
		 * it ended. */
		cur->totals.idle_runs++;
		if (load_acquire(&lead->solo) || !load_acquire(&lead->split_flushed))
			return 1;
		cur->windows = lead->split_from;
		cur->pos = lead->split_pos;
		cur->published = cur->settled = cur->pos;
		cur->nap_streak = 0;
		store_release(&me->joining, 0);
		return 0;
	}
	if (!me->out) {
		if (!load_acquire(&lead->solo) || cur->windows < lead->solo_from)
			return 0;
		/* Out once a batch has ended since its last copy, so that
		 * what it has sent is settled when the library stops
		 * looking at its progress. */
		cur->totals.idle_runs++;
		if (++cur->nap_streak <= batch_size)
			return 1;
		settle(cur);
		store_release(&me->out, 1);
		cur->nap_streak = 0;
	}
	/* Out (only while the leader is alone: it takes us back in). */
	cur->totals.idle_runs++;
	if (load_acquire(&lead->want_split))
		store_release(&me->joining, 1);
	else if (!(cur->nap_streak++ & NAP_EVERY))
		/* The run ends at the next batch: the library naps. */
		bpf_send_signal_thread(nap_signal);
	return 1;
}

/* Set bits of v, without a loop or a table. */
static __always_inline __u32 popcount(__u32 v)
{
	v = v - ((v >> 1) & 0x55555555);
	v = (v & 0x33333333) + ((v >> 2) & 0x33333333);
	return (((v + (v >> 4)) & 0x0f0f0f0f) * 0x01010101) >> 24;
}

struct hash_ctx {
	struct balance_run *bal;
	__u64 pos;
	int flow;
};

/* Step j of balance_hashes(): packet pos + j's hash. */
static int hash_step(__u32 j, void *data)
{
	struct hash_ctx *hc = data;
	struct rc_engine_slot *s = slot_at(hc->pos + j);

	if (!s || j >= RC_ENGINE_WINDOW)
		return 1;
	hc->bal->hash[j] = balance_packet_hash(s->group.family, &s->source, s->sport,
					       &s->group.addr, s->group.port, hc->flow);
	return 0;
}

/* Leader: a balance group's window, before its snapshot walk: the hashes
 * its winners are found by (one for the whole window with --hash source,
 * whose packets all have one source: window_step). NULL: not balanced. */
static __always_inline struct balance_run *balance_hashes(struct engine_cursor *cur,
							  const struct rc_group *grp, __u32 w)
{
	struct hash_ctx hc = { .bal = &cur->bal, .pos = cur->pos };

	if (!grp || !(grp->flags & GROUP_F_BALANCE))
		return NULL;
	hc.flow = grp->flags & GROUP_F_HASH_FLOW ? 1 : 0;
	cur->bal.n = hc.flow ? (w < RC_ENGINE_WINDOW ? w : RC_ENGINE_WINDOW) : 1;
	bpf_loop(cur->bal.n, hash_step, &hc, 0);
	return &cur->bal;
}

/* Leader: the balance window's winners into its header; the packets that
 * go out with nobody to win them (no candidate) are dropped and counted. */
static __always_inline void balance_publish(struct engine_cursor *cur, struct balance_run *bal,
					    struct rc_engine_window *win, __u32 admitted)
{
	__u32 j, nobody;

	win->balance = 1;
	/* --hash source: one hash, one winner for the whole window. */
	if (bal->n == 1) {
		for (j = 0; j < RC_ENGINE_WINDOW; j++)
			win->winner[j] = bal->winner[0];
	} else {
		__builtin_memcpy(win->winner, bal->winner, sizeof(win->winner));
	}
	nobody = popcount(admitted & balance_mask(win->winner, win->w, BALANCE_NONE));
	if (nobody) {
		count_drops(DROP_NO_SUBSCRIBERS, nobody);
		cur->totals.dropped += nobody;
	}
}

/* Leader: makes the next window and the subscriber set it goes to, taken
 * once before its first copy: every copy of its packets then goes to that
 * set, whatever changes meanwhile (a whole-set swap replaces the inner map
 * between two runs, so walking the live map copy by copy could mix two
 * sets). Returns 0 when the window is made, -1 when it must wait for a
 * follower (nothing is counted then; the next run starts over). */
static __always_inline int make_window(struct engine_cursor *cur, const struct rc_engine_slot *first,
				       struct rc_engine_window *win)
{
	struct window_ctx wc = { .pos = cur->pos, .first = first, .w = 1 };
	__u32 v = cur->version & version_mask, v2, one = nthreads == 1, alone;
	struct rc_engine_version *ver, *ver2;
	struct balance_run *bal;
	struct snap_ctx sc = {};
	struct rc_group *grp;
	void *subs;

	if (!one && nap_signal)
		nap_turn(cur);
	/* Alone, no follower reads a header or a snapshot any more. */
	alone = one || cur->solo;
	/* The window header it replaces must be done with (K windows ago). */
	if (!alone && cur->followers_min + window_mask + 1 <= cur->windows &&
	    followers_done(cur) + window_mask + 1 <= cur->windows)
		return -1;
	/* Never waits for more packets: a window is what is there. */
	bpf_loop(RC_ENGINE_WINDOW - 1, window_step, &wc, 0);
	grp = bpf_map_lookup_elem(&groups, &first->group);
	subs = grp ? bpf_map_lookup_elem(&group_subs, &grp->id) : NULL;
	ver = bpf_map_lookup_elem(&versions, &v);
	if (!ver)
		return -1;
	bal = subs ? balance_hashes(cur, grp, wc.w) : NULL;
	if (subs) {
		if (ver->valid && ver->gid == grp->id && ver->spread == (alone ? 1 : nthreads)) {
			walk_set(&sc, subs, first->group.family, grp->id, v, ver, 0, bal, alone);
		} else {
			sc.differ = 1;
		}
		if (sc.differ) {
			/* A new version, in a buffer no follower still reads. */
			v2 = one ? v : (v + 1) & version_mask;
			ver2 = bpf_map_lookup_elem(&versions, &v2);
			if (!ver2)
				return -1;
			if (!alone && ver2->valid && cur->followers_min <= ver2->last_window &&
			    followers_done(cur) <= ver2->last_window)
				return -1;
			walk_set(&sc, subs, first->group.family, grp->id, v2, ver2, 1, bal, alone);
			__builtin_memcpy(ver2->count, sc.count, sizeof(ver2->count));
			ver2->spread = alone ? 1 : nthreads;
			ver2->gid = grp->id;
			ver2->valid = 1;
			v = v2;
			ver = ver2;
			cur->version = v;
		}
		ver->last_window = cur->windows;
	}

	/* Committed: count, and publish the window to the followers. */
	win->w = wc.w;
	win->version = v;
	win->admitted = 0;
	win->balance = 0;
	if (!grp || !subs) {
		/* Deleted while the packets waited: no subscriber set. */
		count_drops(DROP_NO_SUBSCRIBERS, wc.w);
		goto out;
	}
	win->gid = grp->id;
	/* A local sender's packet starts as if it had just been sent with
	 * Linux's default TTL; the rule is the replicator's. */
	win->ttl = copy_ttl(&first->group, grp, relay && first->ttl ? first->ttl : RC_SENDER_TTL);
	if (!win->ttl) {
		/* relay_ingress took only packets with TTL to spare; the
		 * group cannot have changed that, but a copy with TTL 0 never
		 * leaves. */
		count_drops(DROP_TTL_EXCEEDED, wc.w);
		goto out;
	}
	/* Local senders' packets need no allow list (they are the operator's
	 * own, as on the injection device), and the relay's were checked by
	 * relay_ingress; the group's cap holds for both, here, once. */
	wc.grp = grp;
	wc.gid = grp->id;
	bpf_loop(wc.w, admit_step, &wc, 0);
	win->admitted = wc.admitted;
	if (wc.rx_packets)
		count_group_rx_n(grp->id, wc.rx_packets, wc.rx_bytes);
	if (bal)
		balance_publish(cur, bal, win, wc.admitted);
	else if (sc.mismatched) {
		/* Not in the snapshot, so no thread sees these copies: the
		 * sender's dropped count has them from here. */
		count_drops(DROP_FAMILY_MISMATCH, (__u64)sc.mismatched * wc.rx_packets);
		cur->totals.dropped += (__u64)sc.mismatched * wc.rx_packets;
	}
out:
	store_release(&win->ready, cur->pos + 1);
	return 0;
}

static __always_inline void finish_window(struct engine_cursor *cur)
{
	if (cur->tx_packets)
		count_group_tx(cur->gid, cur->tx_packets, cur->tx_bytes);
	cur->tx_packets = cur->tx_bytes = 0;
	cur->active = 0;
	cur->pos += cur->w;
	/* Release: the leader reads this to recycle window headers and
	 * snapshot versions. */
	store_release(&cur->windows, cur->windows + 1);
	if (cur->pos - cur->published >= PUBLISH_EVERY)
		publish(cur);
}

/* The first packet of the window at or after `from` that goes out, or w:
 * the index of the lowest set bit of admitted >> from, which is the number
 * of bits below it, counted without a loop or a table (popcount). */
static __always_inline __u32 next_admitted(const struct engine_cursor *cur, __u32 from)
{
	__u32 rest, v, j;

	if (from >= cur->w || from >= 32)
		return cur->w;
	rest = (cur->admitted & cur->sel) >> from;
	if (!rest)
		return cur->w;
	v = popcount((rest & -rest) - 1);
	j = from + v;
	return j < cur->w ? j : cur->w;
}

/* Looks for the next window. Returns 0 with cur->active set when there is
 * something for this thread to send. Global (not static), like emit_copy():
 * the verifier then checks each once on its own, instead of every path
 * through one against every path through the other. */
__noinline int start_window(struct engine_cursor *cur)
{
	struct rc_engine_window *win;
	struct rc_engine_version *ver;
	struct rc_engine_slot *first;
	__u32 wi, t, v;
	__u64 pos;

	if (!cur)
		return -1;
	pos = cur->pos;
	first = slot_at(pos);
	wi = (__u32)cur->windows & window_mask;
	t = cur->id.thread;
	if (!first || t >= RC_ENGINE_MAX_THREADS)
		return -1;
	if (t && nap_signal && follower_nap(cur))
		return -1;
	if (t && nap_signal) {
		/* follower_nap() may have moved the cursor. */
		pos = cur->pos;
		first = slot_at(pos);
		wi = (__u32)cur->windows & window_mask;
		if (!first)
			return -1;
	}
	/* Acquire: the payload and header were written before seq. */
	if (load_acquire(&first->seq) != (__u32)(pos + 1)) {
		cur->totals.idle_runs++;
		if (!t && nap_signal && (cur->busy_since || !(cur->totals.idle_runs & NAP_EVERY))) {
			nap_judge(cur, bpf_ktime_get_ns(), 0);
			nap_turn(cur);
		}
		if (cur->published != pos) {
			publish(cur);
		} else if (cur->settled != pos && ++cur->idle_streak > batch_size) {
			/* More runs than a batch since the last copy: a batch
			 * ended since, whose flush reported every refusal. */
			settle(cur);
		}
		return -1;
	}
	cur->idle_streak = 0;
	if (!t && nap_signal)
		nap_judge(cur, bpf_ktime_get_ns(), 1);
	win = bpf_map_lookup_elem(&windows, &wi);
	if (!win)
		return -1;
	if (t == 0) {
		if (make_window(cur, first, win)) {
			cur->totals.snap_waits++;
			return -1;
		}
	} else if (load_acquire(&win->ready) != pos + 1) {
		cur->totals.snap_waits++;
		return -1;
	}
	v = win->version & version_mask;
	ver = bpf_map_lookup_elem(&versions, &v);
	if (!ver)
		return -1;
	cur->version = v;
	cur->gid = win->gid;
	cur->ttl = win->ttl;
	cur->w = win->w;
	cur->admitted = win->admitted;
	cur->count = ver->count[t];
	cur->sub = 0;
	cur->resolved = 0;
	cur->sel = ~0U;
	if (cur->w < 1 || cur->w > RC_ENGINE_WINDOW)
		cur->w = 1;
	cur->balance = win->balance;
	if (cur->balance) {
		/* Only the entries of this share that won a packet. */
		__builtin_memcpy(cur->winner, win->winner, sizeof(cur->winner));
		cur->sub = balance_next_entry(cur->winner, cur->w, t, 0);
	}
	cur->pkt = next_admitted(cur, 0);
	if (!cur->count || cur->sub >= cur->count || cur->pkt >= cur->w) {
		finish_window(cur);
		return -1;
	}
	cur->active = 1;
	cur->now = bpf_ktime_get_ns();	/* the next-hop cache's clock */
	return 0;
}

/* ---- one copy ---- */

/* The set of (gid, slot): murmur3's 32-bit finalizer over both, so that
 * small consecutive group ids and slots spread over every set. */
static __always_inline __u32 next_hop_set_of(__u32 gid, __u32 slot)
{
	__u32 h = gid * 0x9E3779B1U + slot;

	h ^= h >> 16;
	h *= 0x85EBCA6BU;
	h ^= h >> 13;
	h *= 0xC2B2AE35U;
	h ^= h >> 16;
	return h % next_hop_sets;
}

/* resolve_next_hop() (the replicator's, in rewrite.h) through the cache.
 * `copies`: how many copies of the window the answer is for, which is
 * how many a failure counts as dropped (by its reason). */
static __always_inline __u32 cached_next_hop(struct xdp_md *ctx, struct engine_cursor *cur,
					     const struct rc_engine_sub *e, struct copy_headers *next,
					     __u32 tot_len, __u32 copies)
{
	__u64 tag = NEXT_HOP_TAG_VALID | (__u64)cur->gid << 32 | e->slot;
	__u32 key, i, way = NEXT_HOP_WAYS, ifindex;
	struct next_hop_set *set;
	struct next_hop *nh;
	int hit = 0;

	if (e->sub.flags & SUB_F_STATIC_MAC)
		return resolve_next_hop(ctx, &e->sub, next, tot_len, copies);
	key = cur->id.thread * next_hop_sets + next_hop_set_of(cur->gid, e->slot);
	set = bpf_map_lookup_elem(&next_hops, &key);
	if (!set)
		return resolve_next_hop(ctx, &e->sub, next, tot_len, copies);
	/* The way with this tag, else the first empty one. */
#pragma clang loop unroll(full)
	for (i = 0; i < NEXT_HOP_WAYS; i++) {
		if (set->tag[i] == tag) {
			way = i;
			hit = 1;
			break;
		}
		if (!set->tag[i] && way == NEXT_HOP_WAYS)
			way = i;
	}
	if (way == NEXT_HOP_WAYS)
		way = bpf_get_prandom_u32();	/* a full set, no tag: a random victim */
	way &= NEXT_HOP_WAYS - 1;
	nh = &set->way[way];
	/* A hit that is stale, or of another subscriber in the slot, is looked
	 * up again into the same way. */
	if (hit && nh->ifindex && cur->now - nh->stamp < NEXT_HOP_TTL_NS &&
	    nh->sub_ifindex == e->sub.ifindex && nh->flags == e->sub.flags &&
	    same_addr(&nh->daddr, &next->daddr) && same_addr(&nh->saddr, &next->saddr)) {
		__builtin_memcpy(next->eth, nh->eth, 12);
		return nh->ifindex;
	}
	ifindex = resolve_next_hop(ctx, &e->sub, next, tot_len, copies);
	set->tag[way] = tag;
	nh->ifindex = ifindex;
	nh->stamp = cur->now;
	nh->sub_ifindex = e->sub.ifindex;
	nh->flags = e->sub.flags;
	nh->daddr = next->daddr;
	nh->saddr = next->saddr;
	__builtin_memcpy(nh->eth, next->eth, 12);
	return ifindex;
}

/* Thread `thread`'s ledger for device ifindex, NO_LEDGER if it has none;
 * its entry in ledger_index in *ref (NULL: out of range). */
static __always_inline __u32 ledger_find(__u32 thread, __u32 ifindex, struct ledger_ref **ref)
{
	__u32 k = thread * LEDGER_INDEX + (ifindex & (LEDGER_INDEX - 1)), *id;
	struct ledger_key hk = { .thread = thread, .ifindex = ifindex };
	struct ledger_ref *r = bpf_map_lookup_elem(&ledger_index, &k);

	*ref = r;
	if (r && r->ifindex == ifindex)
		return r->id;
	id = bpf_map_lookup_elem(&ledger_ids, &hk);
	return id ? *id : NO_LEDGER;
}

/* The ledger of this thread for device ifindex, made on first use. */
static __always_inline __u32 ledger_for(struct engine_cursor *cur, __u32 ifindex)
{
	struct ledger_key k = { .thread = cur->id.thread, .ifindex = ifindex };
	struct ledger_ref *ref;
	struct ledger *l;
	__u32 n;

	n = ledger_find(cur->id.thread, ifindex, &ref);
	if (n != NO_LEDGER)
		return n;
	if (cur->ledgers_used >= LEDGER_DEVS)
		return NO_LEDGER;
	n = cur->id.thread * LEDGER_DEVS + cur->ledgers_used;
	l = bpf_map_lookup_elem(&ledgers, &n);
	if (!l)
		return NO_LEDGER;
	l->ifindex = ifindex;
	l->head = l->tail = 0;
	if (bpf_map_update_elem(&ledger_ids, &k, &n, BPF_NOEXIST))
		return NO_LEDGER;
	if (ref && !ref->ifindex) {
		ref->id = n;
		ref->ifindex = ifindex;
	}
	cur->ledgers_used++;
	return n;
}

/* A copy just handed to the device's bulk queue. */
static __always_inline void ledger_add(struct engine_cursor *cur, __u32 gid, __u32 slot, __u32 bytes)
{
	__u32 id = cur->ledger;
	struct ledger *l = bpf_map_lookup_elem(&ledgers, &id);
	struct ledger_entry *le;

	cur->last_ledger = id;
	if (!l)
		return;
	le = &l->e[l->tail & (LEDGER_LEN - 1)];
	le->gid = gid;
	le->slot = slot;
	le->window = (__u32)cur->windows;
	le->sub = cur->sub;
	le->bytes = bytes;
	l->tail++;
	/* Never more than a queue and one copy: an older entry was flushed. */
	if (l->tail - l->head > LEDGER_LEN)
		l->head = l->tail - LEDGER_LEN;
}

/* Moves to the next copy: the current subscriber's next packet, else the
 * next subscriber (its counters written once for the whole burst), else
 * the end of the window. */
static __always_inline void advance(struct engine_cursor *cur, const struct rc_engine_sub *e)
{
	void *slot_stats;

	cur->pkt = next_admitted(cur, cur->pkt + 1);
	if (cur->pkt < cur->w)
		return;
	slot_stats = bpf_map_lookup_elem(&sub_stats, &cur->gid);
	if (e)
		count_subscriber_delta(slot_stats, max_subs, e->slot, &cur->sub_delta);
	__builtin_memset(&cur->sub_delta, 0, sizeof(cur->sub_delta));
	cur->resolved = 0;
	cur->sel = ~0U;
	cur->pkt = next_admitted(cur, 0);
	cur->sub = cur->balance ? balance_next_entry(cur->winner, cur->w, cur->id.thread, cur->sub + 1)
				: cur->sub + 1;
	if (cur->sub >= cur->count)
		finish_window(cur);
}

/* The current subscriber's share of the window, decided once, before its
 * first copy (bpf/select.h and bpf/health.h, as the replicator decides each
 * copy): the packets it does not take are counted skipped, those its
 * receiver's health holds off held_off drops, at once, and never visited.
 * In a balance window it is offered only the packets it won, and those it
 * won are all that its selection can skip or its health hold off. The
 * whole window has one source (window_step). Returns 0 when it takes none,
 * having moved on to the next subscriber. */
static __always_inline int take_share(struct engine_cursor *cur, const struct rc_engine_sub *e,
				      const struct rc_engine_slot *slot)
{
	__u32 offered, skipped, wanted, held;

	if (cur->balance)
		cur->sel = balance_mask(cur->winner, cur->w,
					cur->sub << BALANCE_THREAD_BITS | cur->id.thread);
	offered = cur->admitted & cur->sel;

	cur->sel = sub_selects(cur->gid, e->slot, &e->sub, slot->group.family, &slot->source,
			       offered, 1);
	wanted = cur->sel & offered;
	skipped = popcount(offered) - popcount(wanted);
	if (skipped)
		count_group_skipped(cur->gid, skipped);
	/* Then its health (bpf/health.h): held off, or one probe. */
	cur->sel = sub_health_share(&e->sub, wanted);
	held = popcount(wanted) - popcount(cur->sel);
	if (held) {
		count_drops(DROP_HELD_OFF, held);
		cur->totals.dropped += held;
		cur->sub_delta.dropped += held;
	}
	cur->pkt = next_admitted(cur, cur->pkt);
	if (cur->pkt < cur->w)
		return 1;
	advance(cur, e);
	return 0;
}

/* One copy: packet pos + pkt of the window to entry `sub` of this
 * thread's share. Returns the XDP verdict. */
__noinline int emit_copy(struct xdp_md *ctx, struct engine_cursor *cur)
{
	struct rc_engine_slot *slot;
	void *data, *data_end;
	struct copy_payload p;
	struct rc_engine_sub *e;
	__u32 idx, len, hdr_len;
	int act, delta;
	__u8 family;

	if (!cur)
		return XDP_DROP;
	idx = (cur->version * nthreads + cur->id.thread) * max_subs + cur->sub;
	slot = slot_at(cur->pos + cur->pkt);
	e = bpf_map_lookup_elem(&snaps, &idx);
	/* Neither can happen (the leader wrote both); counted all the same. */
	if (!e || !slot)
		goto rewrite_failed;
	family = slot->group.family;
	len = slot->len;
	if (len > RC_ENGINE_PAYLOAD_MAX)
		goto rewrite_failed;
	hdr_len = family == RC_AF_INET ? COPY_HDR_V4 : COPY_HDR_V6;

	/* Once per subscriber and window: its headers and next hop. A failure
	 * is counted by its reason for every copy it stops: this one and the
	 * rest of the window's to this subscriber (the bits of admitted from
	 * pkt on), which then leave by the goto below uncounted. */
	if (!cur->resolved) {
		if (cur->balance || (e->sub.flags & (SUB_F_SELECT | SUB_F_HEALTH))) {
			if (!take_share(cur, e, slot))
				return XDP_DROP;
			/* Its first packet may be a later one of the window. */
			slot = slot_at(cur->pos + cur->pkt);
			if (!slot)
				goto rewrite_failed;
			len = slot->len;
			if (len > RC_ENGINE_PAYLOAD_MAX)
				goto rewrite_failed;
		}
		__builtin_memset(&cur->hdrs, 0, sizeof(cur->hdrs));
		/* The window's packets share one key (same_key compares the
		 * port too), so its first slot's port is every copy's. */
		copy_headers_for(&cur->hdrs, &e->sub, &slot->source, slot->group.port);
		cur->ifindex = cached_next_hop(ctx, cur, e, &cur->hdrs, hdr_len - ETH_HLEN + len,
					       popcount(cur->pkt < 32 ? (cur->admitted & cur->sel) >> cur->pkt : 0));
		cur->ledger = cur->ifindex ? ledger_for(cur, cur->ifindex) : NO_LEDGER;
		cur->resolved = 1;
	}
	if (!cur->ifindex)
		goto drop;

	/* The frame starts as long as the longest copy (the library sets the
	 * live-frames input so); cut it to this one. */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	delta = (int)(hdr_len + len) - (int)(data_end - data);
	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		goto rewrite_failed;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	p.len = len;
	p.sport = bpf_htons(slot->sport);
	p.ip_id = bpf_htons(slot->ip_id);
	p.ttl = cur->ttl;
	p.sum = slot->csum;
	if (write_copy_headers(data, data_end, family, &cur->hdrs, &p) < 0)
		goto rewrite_failed;
	if (len && bpf_xdp_store_bytes(ctx, hdr_len, slot->payload, len))
		goto rewrite_failed;
	act = bpf_redirect_map(&devs, cur->ifindex, XDP_ABORTED);
	if (act != XDP_REDIRECT) {
		/* Not in the device map yet: a subscriber added on another
		 * device during the stream. It goes out all the same, through
		 * the same per-device bulk queue (one device lookup more), and
		 * the library adds the device, checking it first. A refusal
		 * there shows on the tracepoints below, like any other. */
		cur->totals.missing_ifindex = cur->ifindex;
		act = bpf_redirect(cur->ifindex, 0);
		if (act != XDP_REDIRECT) {
			count_drop(DROP_REDIRECT_FAILED);
			goto drop;
		}
	}
	cur->totals.copies++;
	cur->tx_packets++;
	cur->tx_bytes += hdr_len + len;
	cur->sub_delta.packets++;
	cur->sub_delta.bytes += hdr_len + len;
	ledger_add(cur, cur->gid, e->slot, hdr_len + len);
	advance(cur, e);
	return XDP_REDIRECT;
rewrite_failed:
	count_drop(DROP_REWRITE_FAILED);
drop:
	cur->totals.dropped++;
	cur->sub_delta.dropped++;
	advance(cur, e);
	return XDP_DROP;
}

/* A copy the kernel refused after the program had counted it as sent:
 * moved to dropped (redirect_failed), for the thread, its group and its
 * subscriber. The group's and the subscriber's share of the current
 * window are still in the cursor; earlier ones were added to the per-CPU
 * counters during this batch on this CPU (a batch never moves), so they
 * are taken back there, and never go below zero. */
static __always_inline void refuse_copy(struct engine_cursor *cur, const struct ledger_entry *le)
{
	struct rc_subscriber_counters back = {
		.packets = -1ULL, .bytes = -(__u64)le->bytes, .dropped = 1,
	};
	int current = cur->active && le->window == (__u32)cur->windows;
	__u32 gid = le->gid;

	cur->totals.copies--;
	cur->totals.dropped++;
	cur->totals.xmit_dropped++;
	count_drop(DROP_REDIRECT_FAILED);
	if (current) {
		cur->tx_packets--;
		cur->tx_bytes -= le->bytes;
	} else {
		count_group_tx(gid, -1ULL, -(__u64)le->bytes);
	}
	if (current && le->sub == cur->sub) {
		cur->sub_delta.packets--;
		cur->sub_delta.bytes -= le->bytes;
		cur->sub_delta.dropped++;
	} else {
		count_subscriber_delta(bpf_map_lookup_elem(&sub_stats, &gid), max_subs, le->slot,
				       &back);
	}
}

/* Both tracepoints fire in the context of the thread that ran the
 * program, so a thread that is not one of this engine's (another engine's,
 * the application's, anyone else's) finds no cursor here and counts
 * nothing: each refusal is counted once, by the engine whose copy it was. */
static __always_inline struct engine_cursor *engine_thread_cursor(void)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != engine_tgid)
		return NULL;
	return my_cursor();
}

/* xdp_devmap_xmit(from_dev, to_dev, sent, drops, err): a bulk queue went
 * to the driver, which took the first `sent` and refused the `drops`
 * after them (bq_xmit_all). */
SEC("raw_tp/xdp_devmap_xmit")
int engine_xmit(struct bpf_raw_tracepoint_args *ctx)
{
	struct net_device___eng *to = (void *)ctx->args[1];
	__u32 sent = (__u32)ctx->args[2], drops = (__u32)ctx->args[3], i, id;
	struct engine_cursor *cur;
	struct ledger_ref *ref;
	struct ledger *l;

	cur = engine_thread_cursor();
	if (!cur)
		return 0;
	id = ledger_find(cur->id.thread, (__u32)BPF_CORE_READ(to, ifindex), &ref);
	l = bpf_map_lookup_elem(&ledgers, &id);
	if (!l) {
		/* A device past this thread's LEDGER_DEVS: the refusal is
		 * counted, but stays in the group's and subscriber's sent. */
		cur->totals.copies -= drops;
		cur->totals.dropped += drops;
		cur->totals.xmit_dropped += drops;
		count_drops(DROP_REDIRECT_FAILED, drops);
		return 0;
	}
	if (!drops) {
		/* All taken (the usual case): the queue's copies leave the
		 * ledger at once. */
		__u32 held = l->tail - l->head;

		l->head += sent < held ? sent : held;
		return 0;
	}
	for (i = 0; i < LEDGER_LEN; i++) {
		struct ledger_entry *le;

		if (i >= sent + drops || l->head == l->tail)
			break;
		le = &l->e[l->head & (LEDGER_LEN - 1)];
		if (i >= sent)
			refuse_copy(cur, le);
		l->head++;
	}
	return 0;
}

/* xdp_redirect_err(dev, xdp, tgt, err, map_type, map_id, index): the copy
 * the program just returned was refused before any queue (the device is
 * down or gone, the frame too long for it: xdp_ok_fwd_dev()). It is the
 * newest entry of the ledger it was added to. */
SEC("raw_tp/xdp_redirect_err")
int engine_redirect_err(struct bpf_raw_tracepoint_args *ctx)
{
	struct engine_cursor *cur = engine_thread_cursor();
	struct ledger *l;
	__u32 id;

	(void)ctx;
	if (!cur)
		return 0;
	id = cur->last_ledger;
	l = bpf_map_lookup_elem(&ledgers, &id);
	if (!l || l->head == l->tail) {
		cur->totals.copies--;
		cur->totals.dropped++;
		cur->totals.xmit_dropped++;
		count_drop(DROP_REDIRECT_FAILED);
		return 0;
	}
	l->tail--;
	refuse_copy(cur, &l->e[l->tail & (LEDGER_LEN - 1)]);
	return 0;
}

/* ---- the relay's way in: XDP on the attached devices ----
 * relay_ingress runs on every frame that arrives on a device `replicast
 * serve` attached it to. It takes a group packet only when it is sure the
 * TC replicator would fan it out (parsed, a group's, for this host, from an
 * allowed source on the right device, TTL to spare) and puts it into the
 * ring; everything else, and everything it cannot take now (the engine
 * parked, the ring full), goes on as XDP_PASS to the TC replicator, which
 * fans it out or drops and counts it exactly as without the engine. So no
 * drop reason is counted here, and nothing is counted twice: the rate cap
 * and the group's rx counters are applied once, by whichever path sends.
 *
 * Several CPUs' softirqs may receive at once (multi-queue NICs, several
 * devices): they reserve ring positions with a compare-and-swap on one
 * counter, so the engine still reads one ring in order and its windows and
 * snapshots stay as they are. A per-CPU ring would spare that shared line,
 * but the engine would have to merge the rings and would lose the
 * in-order windows; at the rates one ring serves here (a few million
 * packets a second into the engine at most) the line is not the limit. */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rc_relay_ctl);
} relay_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);	/* as many as `attachments` */
	__type(key, __u32);
	__type(value, struct rc_relay_dev);
} relay_devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RC_RELAY_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} relay_stats SEC(".maps");

/* Wakes parked engine threads: a record here with BPF_RB_FORCE_WAKEUP
 * wakes whoever waits in epoll on the map (the kernel's irq_work), which a
 * program cannot do with a futex. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} relay_wake SEC(".maps");

/* CAS attempts for a ring position: producers race only when several CPUs
 * receive group packets at the same instant. */
#define RESERVE_TRIES 8
/* bpf_csum_diff() sums at most this many bytes per call (its scratch). */
#define CSUM_CHUNK 512

static __always_inline void relay_count(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&relay_stats, &what);

	if (n)
		*n += 1;
}

/* A group packet left to the TC replicator, and why. */
static __always_inline int relay_pass(__u32 why)
{
	relay_count(why);
	return XDP_PASS;
}

/* Tells the parked engine that packets wait (once per sleep). */
static __always_inline void relay_wake_engine(struct rc_relay_ctl *rc)
{
	__u32 one = 1;

	if (__sync_val_compare_and_swap(&rc->state, RC_RELAY_PARKED, RC_RELAY_WOKEN) ==
	    RC_RELAY_PARKED)
		bpf_ringbuf_output(&relay_wake, &one, sizeof(one), BPF_RB_FORCE_WAKEUP);
}

/* The frame is for this host: its own MAC, or a multicast MAC for a
 * multicast group (the TC replicator's frame_not_for_us(), which reads the
 * skb's pkt_type; XDP runs before the stack sets it). */
static __always_inline int frame_for_us(const struct ethhdr *eth, const struct rc_relay_dev *dev,
					const struct packet *pkt)
{
	const __u16 *a = (const __u16 *)eth->h_dest, *b = (const __u16 *)dev->mac;

	if (eth->h_dest[0] & 1)
		return key_is_multicast(&pkt->key) &&
		       !(a[0] == 0xffff && a[1] == 0xffff && a[2] == 0xffff);
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

/* The lowest ring position every engine thread has passed. */
static __always_inline __u64 ring_consumed(void)
{
	__u64 low = ~0ULL;
	__u32 i, n = threads_n();

	for_each_thread(i, 0) {
		struct rc_engine_ctl *c;
		__u32 key = i;
		__u64 v;

		if (i >= n)
			break;
		c = bpf_map_lookup_elem(&ctl, &key);
		if (!c)
			return 0;
		/* A follower out (napping) holds no slot: the leader sends
		 * everything after its position. Its flag before its position,
		 * which it writes first on its way back. */
		if (i && load_acquire(&c->nap.out))
			continue;
		v = load_acquire(&c->consumed);
		if (v < low)
			low = v;
	}
	return low;
}

/* The pseudo-header and UDP header words a copy's checksum covers besides
 * the payload, as udp_csum_for() adds them. */
static __always_inline __u64 udp_header_sum(const struct packet *pkt, __be16 sport)
{
	__be16 udp_len = bpf_htons(pkt->udp_len);
	__u64 sum = 0;

	sum = csum_add_addr(sum, &pkt->saddr, pkt->key.family);
	sum = csum_add_addr(sum, &pkt->key.addr, pkt->key.family);
	return sum + bpf_htons(IPPROTO_UDP) + udp_len + sport + bpf_htons(pkt->key.port) + udp_len;
}

static __always_inline __u16 fold16(__u64 sum)
{
	return (__u16)~csum_fold(sum);
}

/* One's complement sum of the slot's payload, padded with zeros to 4 bytes. */
static __always_inline __u64 payload_sum(struct rc_engine_slot *slot, __u32 len)
{
	__u32 padded = (len + 3) & ~3U, i;
	__u64 sum = 0;

	for (i = 0; i < RC_ENGINE_PAYLOAD_MAX / CSUM_CHUNK + 1; i++) {
		__u32 off = i * CSUM_CHUNK, n;
		__s64 r;

		if (off >= padded)
			break;
		n = padded - off;
		if (n > CSUM_CHUNK)
			n = CSUM_CHUNK;
		if (off + n > RC_ENGINE_PAYLOAD_MAX)
			break;
		r = bpf_csum_diff(NULL, 0, (__be32 *)(slot->payload + off), n, 0);
		if (r < 0)
			break;
		sum += (__u32)r;
	}
	return sum;
}

SEC("xdp")
int relay_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u32 ifindex = ctx->ingress_ifindex, zero = 0, len, i;
	struct rc_engine_slot *slot;
	struct rc_relay_dev *dev;
	struct rc_relay_ctl *rc;
	struct packet pkt = {};
	struct rc_group *grp;
	struct udphdr *udph;
	__be16 check, sport;
	__u64 pos = 0, used;
	int reserved = 0;

	if (parse_packet(data, data_end, (__u32)(data_end - data), &pkt) != PARSE_OK)
		return XDP_PASS;	/* the TC replicator counts what it must */
	grp = bpf_map_lookup_elem(&groups, &pkt.key);
	if (!grp)
		return XDP_PASS;	/* not ours: untouched */
	dev = bpf_map_lookup_elem(&relay_devs, &ifindex);
	rc = bpf_map_lookup_elem(&relay_ctl, &zero);
	if (!dev || !rc)
		return relay_pass(RC_RELAY_UNSUPPORTED);
	/* The checks the TC replicator makes before any copy, in its order;
	 * a refusal is its to count. */
	if (!dev->local && (!frame_for_us(data, dev, &pkt) ||
			    source_refused(grp->id, grp, &pkt, ifindex)))
		return relay_pass(RC_RELAY_POLICY);
	if (!copy_ttl(&pkt.key, grp, pkt.ttl))
		return relay_pass(RC_RELAY_POLICY);
	len = pkt.udp_len - sizeof(struct udphdr);
	if (len > RC_ENGINE_PAYLOAD_MAX)
		return relay_pass(RC_RELAY_UNSUPPORTED);
	udph = data + pkt.l4_off;
	if ((void *)(udph + 1) > data_end)
		return relay_pass(RC_RELAY_UNSUPPORTED);
	check = udph->check;
	sport = udph->source;

	if (load_acquire(&rc->state) != RC_RELAY_SERVING) {
		relay_wake_engine(rc);
		return relay_pass(RC_RELAY_PARKED_PASS);
	}
	for (i = 0; i < RESERVE_TRIES; i++) {
		pos = *(volatile __u64 *)&rc->produced;
		used = pos - ring_consumed();
		if (used > ring_mask)
			break;		/* full: every slot holds a packet not yet sent */
		if (__sync_val_compare_and_swap(&rc->produced, pos, pos + 1) == pos) {
			reserved = 1;
			break;
		}
	}
	if (!reserved)
		return relay_pass(RC_RELAY_RING_FULL);

	/* The position is ours and must be published, whatever comes: the
	 * engine reads the ring in order and would wait for it forever. */
	slot = slot_at(pos);
	if (!slot)
		return XDP_DROP;	/* cannot happen: pos is masked into the ring */
	slot->len = (__u16)len;
	slot->sport = bpf_ntohs(sport);
	slot->ttl = pkt.ttl;
	slot->group = pkt.key;
	slot->source = pkt.saddr;
	slot->ip_id = 0;
	if (pkt.key.family == RC_AF_INET) {
		struct iphdr *iph = data + ETH_HLEN;

		if ((void *)(iph + 1) <= data_end)
			slot->ip_id = bpf_ntohs(iph->id);
	}
	/* Zeros after the payload up to 4 bytes, for the sum below: the word
	 * first, then the payload over its first bytes. */
	if ((len & ~3U) + 4 <= RC_ENGINE_PAYLOAD_MAX)
		*(__u32 *)(slot->payload + (len & ~3U)) = 0;
	if (len && (len > RC_ENGINE_PAYLOAD_MAX ||
		    bpf_xdp_load_bytes(ctx, pkt.l4_off + sizeof(struct udphdr), slot->payload, len)))
		len = 0;	/* cannot happen: parse_packet checked the lengths */
	/* The payload's sum, which each copy's checksum starts from. A full
	 * checksum (from a NIC) gives it in O(1), and a wrong one stays wrong
	 * in every copy, as on the TC path, where checksums are updated, never
	 * made anew. A packet from a local socket through a veth carries only
	 * the pseudo-header's sum (CHECKSUM_PARTIAL: the field is what the
	 * device would have started from), and an IPv4 one may carry none:
	 * then the payload is summed. */
	{
		__u64 hdrs = udp_header_sum(&pkt, sport), base;
		__u16 partial;

		base = csum_add_addr(0, &pkt.saddr, pkt.key.family);
		base = csum_add_addr(base, &pkt.key.addr, pkt.key.family);
		partial = fold16(base + bpf_htons(IPPROTO_UDP) + bpf_htons(pkt.udp_len));
		if (check == 0 || check == partial)
			slot->csum = fold16(payload_sum(slot, len));
		else
			slot->csum = fold16((__u64)(__u16)~check + (__u16)~fold16(hdrs));
	}
	store_release(&slot->seq, (__u32)(pos + 1));
	/* The engine may have parked after this CPU read SERVING: it looks at
	 * the ring once more after it says PARKED, and this looks at the state
	 * once more after the reservation (a full barrier), so one of the two
	 * sees the other. */
	if (load_acquire(&rc->state) != RC_RELAY_SERVING)
		relay_wake_engine(rc);
	relay_count(RC_RELAY_TAKEN);
	return XDP_DROP;	/* taken: the engine sends its copies */
}

/* The threads that send: the leader, and the followers not napping (a
 * napping one sends nothing until the leader has it join again). */
static __always_inline __u32 threads_in(void)
{
	__u32 i, n = threads_n(), in = 1;

	for_each_thread(i, 1) {
		struct rc_engine_ctl *c;
		__u32 key = i;

		if (i >= n)
			break;
		c = bpf_map_lookup_elem(&ctl, &key);
		if (c && !load_acquire(&c->nap.out))
			in++;
	}
	return in;
}

/* The relay's engine is back from a sleep (RESUMING): relay_ingress passes
 * packets to TC until every thread is inside its live-frames run, since
 * entering one takes milliseconds and packets put into the ring meanwhile
 * would wait that long. Each thread counts itself once per resumption on
 * its first run; the last one makes the relay SERVING. */
static __always_inline void relay_note_run(struct engine_cursor *cur)
{
	struct rc_relay_ctl *rc;
	__u32 zero = 0, gen;

	rc = bpf_map_lookup_elem(&relay_ctl, &zero);
	if (!rc)
		return;
	gen = load_acquire(&rc->resume_gen);
	if (gen == cur->resume_seen)
		return;
	cur->resume_seen = gen;
	if (__sync_fetch_and_add(&rc->resumed, 1) + 1 >= threads_in())
		__sync_val_compare_and_swap(&rc->state, RC_RELAY_RESUMING, RC_RELAY_SERVING);
}

SEC("xdp")
int engine_run(struct xdp_md *ctx)
{
	struct engine_cursor *cur = my_cursor();

	if (!cur)
		return XDP_DROP;
	if (relay)
		relay_note_run(cur);
	/* The leader shared again: tell the followers once a batch ended
	 * (one more run than a batch holds). */
	if (cur->split_runs && ++cur->split_runs > batch_size + 1) {
		struct rc_engine_nap *nap = nap_of(0);

		if (nap)
			store_release(&nap->split_flushed, 1);
		cur->split_runs = 0;
	}
	if (!cur->active && start_window(cur))
		return XDP_DROP;	/* nothing to send: the frame goes back to the pool */
	return emit_copy(ctx, cur);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
