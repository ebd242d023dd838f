// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The relay's side of the XDP engine (opts.relay): the ring's producers are
 * relay_ingress on the attached devices, so parked threads are woken by the
 * kernel through a ring buffer, not by queue(); and the hooks relay.c uses.
 * The threads, the ring and the device map are engine.c's. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/libbpf.h>
#include "engine_private.h"
#include "xdp_engine.skel.h"

/* How long the supervisor waits for the ring to drain before a park, and
 * how often it looks meanwhile. */
#define DRAIN_WAIT_NS	2000000ULL
#define DRAIN_POLL_US	20

/* A record in relay_wake: its arrival is the news, it carries nothing. */
static int relay_woken(void *ctx, void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

/* From state `from` to RESUMING: relay_ingress goes on passing packets to
 * TC until every thread's program has counted itself in (relay_note_run()
 * in xdp_engine.bpf.c), as entering a live-frames run takes milliseconds
 * and packets in the ring would wait for it. Returns false when the state
 * was not `from` (a stop came). */
static bool resume(struct rc_engine *e, __u32 from)
{
	__atomic_store_n(&e->rctl->resumed, 0, __ATOMIC_SEQ_CST);
	if (!__atomic_compare_exchange_n(&e->rctl->state, &from, RC_RELAY_RESUMING, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return false;
	__atomic_fetch_add(&e->rctl->resume_gen, 1, __ATOMIC_SEQ_CST);
	return true;
}

/* The relay's thread 0 parks: it says PARKED, after which relay_ingress
 * passes packets to the TC path and wakes it through the ring buffer;
 * then it looks at the ring once more (a producer may have reserved a
 * position before it saw PARKED: that producer then wakes it too), and
 * sleeps in epoll until woken. Back, it says RESUMING and wakes the other
 * threads, and the last of them into its run says SERVING. The packets
 * that come meanwhile are fanned out by TC, so a parked relay adds no
 * latency, only TC's CPU for the first packets. */
void rc_engine_relay_park(struct engine_thread *th)
{
	struct rc_engine *e = th->e;
	__u32 state = __atomic_load_n(&e->rctl->state, __ATOMIC_SEQ_CST);

	atomic_store(&th->parked, 1);
	/* From serving, or from the supervisor's parking step (which may come
	 * between the read and the exchange: a failed exchange reads the
	 * state again). Any other state: stopping, or another thread resumed. */
	do {
		if (state != RC_RELAY_SERVING && state != RC_RELAY_PARKING)
			goto out;
	} while (!__atomic_compare_exchange_n(&e->rctl->state, &state, RC_RELAY_PARKED, false,
					      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&e->park_req) && !atomic_load(&e->stop) && rc_engine_ring_empty(e)) {
		atomic_fetch_add(&e->parks, 1);
		while (!atomic_load(&e->stop) &&
		       __atomic_load_n(&e->rctl->state, __ATOMIC_ACQUIRE) == RC_RELAY_PARKED) {
			atomic_fetch_add(&e->syscalls, 1);
			/* A second at most: the state is read again (a
			 * stop that came meanwhile shows there). */
			if (ring_buffer__poll(e->wake_rb, 1000) < 0 && errno != EINTR)
				usleep(1000);
		}
		ring_buffer__consume(e->wake_rb);
	}
	if (!resume(e, RC_RELAY_PARKED))
		resume(e, RC_RELAY_WOKEN);
out:
	atomic_store(&e->park_req, 0);
	rc_engine_wake_threads(e);
	atomic_store(&th->parked, 0);
}

/* The supervisor's first step of a park: relay_ingress stops putting
 * packets into the ring (PARKING), and the threads are asked to leave only
 * once they have sent what is there, so no packet waits in the ring while
 * a thread leaves its run (milliseconds: see enum rc_relay_state).
 * The wait is bounded: a thread that does not drain in time (preempted)
 * is asked all the same, and then goes back in for what is left. */
void rc_engine_relay_begin_park(struct rc_engine *e)
{
	__u32 state = RC_RELAY_SERVING;
	__u64 until;

	if (!__atomic_compare_exchange_n(&e->rctl->state, &state, RC_RELAY_PARKING, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;	/* already PARKING, or not serving */
	until = rc_now_ns() + DRAIN_WAIT_NS;
	while (!rc_engine_ring_empty(e) && rc_now_ns() < until)
		usleep(DRAIN_POLL_US);
}

/* Whether the supervisor may count this moment as idle: only while serving
 * or on the way to a park, and not in the tick that follows a resumption
 * (its wake-up and entry took longer than idle_ms may be: a park right
 * after would make every packet of a slow stream a wake-up). */
bool rc_engine_relay_may_idle(struct rc_engine *e, __u32 *gen_seen)
{
	__u32 state = __atomic_load_n(&e->rctl->state, __ATOMIC_ACQUIRE);
	__u32 gen = __atomic_load_n(&e->rctl->resume_gen, __ATOMIC_ACQUIRE);

	if (gen != *gen_seen) {
		*gen_seen = gen;
		return false;
	}
	return state == RC_RELAY_SERVING || state == RC_RELAY_PARKING;
}

/* Thread 0 goes back into its run without parking (its share of the ring
 * was not sent yet): a PARKING relay would pass every packet to TC from
 * now on and never wake anyone, and the threads that did park (theirs was
 * sent) would sleep while the ring fills. So the park is called off, as
 * thread 0 does after a sleep: resumed, and the others woken. */
void rc_engine_relay_enter(struct engine_thread *th)
{
	struct rc_engine *e = th->e;

	if (th->index != 0 ||
	    __atomic_load_n(&e->rctl->state, __ATOMIC_ACQUIRE) != RC_RELAY_PARKING)
		return;
	atomic_store(&e->park_req, 0);
	if (resume(e, RC_RELAY_PARKING))
		rc_engine_wake_threads(e);
}

struct bpf_object *rc_engine_object(struct rc_engine *e)
{
	return e->skel->obj;
}

/* relay_ingress passes everything from now on; a thread asleep is woken to
 * drain what was queued before. */
void rc_engine_relay_stop_input(struct rc_engine *e)
{
	__atomic_store_n(&e->rctl->state, RC_RELAY_STOPPED, __ATOMIC_SEQ_CST);
	atomic_store(&e->park_req, 0);
	rc_engine_wake_threads(e);
	rc_engine_signal_threads(e, false);
}

bool rc_engine_relay_parked(const struct rc_engine *e)
{
	__u32 state = __atomic_load_n(&e->rctl->state, __ATOMIC_ACQUIRE);

	return state == RC_RELAY_PARKED || state == RC_RELAY_WOKEN || state == RC_RELAY_RESUMING ||
	       state == RC_RELAY_PARKING;
}

bool rc_engine_relay_serving(const struct rc_engine *e)
{
	return __atomic_load_n(&e->rctl->state, __ATOMIC_ACQUIRE) == RC_RELAY_SERVING;
}

void rc_engine_poll_devs(struct rc_engine *e)
{
	rc_engine_add_missing_devs(e);
}

/* The producers' line and the wake-up ring buffer, at open. */
int rc_engine_relay_open(struct rc_engine *e)
{
	void *p;

	e->rctl_len = sizeof(struct rc_relay_ctl);
	p = rc_engine_map_shared(e->rctl_len, bpf_map__fd(e->skel->maps.relay_ctl));
	if (p == MAP_FAILED)
		return -errno;
	e->rctl = p;
	e->wake_rb = ring_buffer__new(bpf_map__fd(e->skel->maps.relay_wake), relay_woken, NULL, NULL);
	if (!e->wake_rb)
		return -errno;
	/* Nothing reaches the ring before relay.c attaches relay_ingress,
	 * and then only once the threads are in their runs. */
	__atomic_store_n(&e->rctl->resumed, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&e->rctl->state, RC_RELAY_RESUMING, __ATOMIC_SEQ_CST);
	__atomic_store_n(&e->rctl->resume_gen, 1, __ATOMIC_SEQ_CST);
	return 0;
}

void rc_engine_relay_close(struct rc_engine *e)
{
	if (e->rctl)
		munmap(e->rctl, e->rctl_len);
	ring_buffer__free(e->wake_rb);
}
