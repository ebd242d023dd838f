// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The XDP fan-out engine behind the sender API (REPLICAST_ENGINE_XDP): the
 * application writes packets into a ring in memory it shares with the
 * kernel; engine threads sit inside one long BPF_PROG_RUN in live-frames
 * mode each, where xdp_engine.bpf.c turns every (packet, subscriber) pair
 * into a frame. While a stream flows nobody makes a system call. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "engine_private.h"
#include "xdp_engine.skel.h"

#define DEFAULT_RING_SLOTS	4096
#define MIN_RING_SLOTS		REPLICAST_ENGINE_MIN_RING
#define MAX_RING_SLOTS		REPLICAST_ENGINE_MAX_RING	/* 512 MiB at 2 KiB a slot */
_Static_assert(REPLICAST_ENGINE_MAX_THREADS == RC_ENGINE_MAX_THREADS, "one thread limit");
/* The line the application polls, then the one naps write, rarely. */
_Static_assert(sizeof(struct rc_engine_ctl) == 128 && sizeof(struct rc_engine_nap) == 64,
	       "a thread's control lines are two cache lines");
#define DEFAULT_IDLE_MS		200
#define DEFAULT_TIMEOUT_MS	1000
/* Frames per live-frames batch: the kernel's default (NAPI_POLL_WEIGHT).
 * The device map flushes once per batch, and a veth ring holds 256. */
#define DEFAULT_BATCH		64
#define MAX_BATCH		256		/* TEST_XDP_MAX_BATCH */
/* Runs per BPF_PROG_RUN call; the thread comes back in when they run out. */
#define CALL_REPEAT		INT_MAX
/* The longest frame the program writes: IPv6 headers and a full slot. */
#define FRAME_LEN		(14 + 40 + 8 + RC_ENGINE_PAYLOAD_MAX)
/* Waiting for room in the ring or for the engine to finish: poll without
 * a system call this long, then sleep, doubling from short to long. */
#define SPIN_NS			20000ULL
#define SLEEP_MIN_NS		20000ULL
#define SLEEP_MAX_NS		1000000ULL	/* doubling, before the engine's pace is known */
#define SLEEP_LONGEST_NS	50000000ULL
/* A napping follower looks whether the leader wants it back this often
 * (the leader cannot wake it: it asks, and goes on alone meanwhile). */
#define NAP_POLL_NS		1000000ULL
/* How often a stopping or parking thread is signalled again: a signal that
 * lands just before the thread enters the kernel does not end the call. */
#define RESIGNAL_NS		5000000ULL
/* How long close() waits for a thread before it says so in the log; it
 * then goes on waiting (see stop_threads()). */
#define STOP_WARN_NS		5000000000ULL
/* queue() looks for devices the program found missing from the device map
 * every this many packets (a read of the lines the program publishes). */
#define MISSING_CHECK_EVERY	64


/* Fault injection for tests/unit/test_engine.c; what is not set is the
 * real thing. */
struct rc_engine_faults rc_engine_faults;

void *rc_engine_map_shared(size_t len, int fd)
{
	if (rc_engine_faults.mmap)
		return rc_engine_faults.mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
}

void rc_engine_log(const struct rc_engine *e, enum replicast_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void rc_engine_log(const struct rc_engine *e, enum replicast_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!e->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->log(level, msg, e->log_ctx);
}

/* rc_engine_log() when `on`: a device checked again says why it fails only once. */
#define say(e, on, ...) do { if (on) rc_engine_log(e, __VA_ARGS__); } while (0)

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void counted_sleep(struct rc_engine *e, __u64 ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ULL, .tv_nsec = ns % 1000000000ULL };

	atomic_fetch_add(&e->syscalls, 1);
	nanosleep(&ts, NULL);
}

static long futex(atomic_uint *word, int op, unsigned int val, const struct timespec *timeout)
{
	return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

/* ---- the engine's signal ---- */

/* A signal makes BPF_PROG_RUN return -EINTR between two batches: that is
 * how an engine thread is told to leave its call. The handler does
 * nothing; it exists so the signal is delivered (an ignored one is not). */
#define ENGINE_SIGNAL (SIGRTMIN + 6)

static void engine_signal_handler(int sig)
{
	(void)sig;
}

static int install_signal(void)
{
	struct sigaction sa = { .sa_handler = engine_signal_handler }, old;

	if (sigaction(ENGINE_SIGNAL, NULL, &old))
		return -errno;
	if (old.sa_handler == engine_signal_handler)
		return 0;
	if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)
		return -EBUSY;	/* the application uses it */
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the call must come back. */
	return sigaction(ENGINE_SIGNAL, &sa, NULL) ? -errno : 0;
}

/* ---- progress ---- */

static __u64 thread_consumed(const struct rc_engine *e, __u32 t)
{
	return __atomic_load_n(&e->ctl[t].consumed, __ATOMIC_ACQUIRE);
}

/* Whether follower t naps (xdp_engine.bpf.c, "naps"): it holds no ring
 * slot then, as the leader sends everything after its position. Read
 * before its position, which it writes first on its way back. */
static bool thread_out(const struct rc_engine *e, __u32 t)
{
	return t && __atomic_load_n(&e->ctl[t].nap.out, __ATOMIC_ACQUIRE);
}

/* What thread t is done with and has counted: a copy the kernel refuses
 * is known only when the batch that sent it ends, after the packet was
 * consumed; the program then writes `settled`. A thread out of its call
 * (parked, or ended) has ended every batch. */
static __u64 thread_settled(const struct rc_engine *e, __u32 t)
{
	const struct engine_thread *th = &e->threads[t];

	if (atomic_load(&th->parked) || atomic_load(&th->done))
		return thread_consumed(e, t);
	return __atomic_load_n(&e->ctl[t].settled, __ATOMIC_ACQUIRE);
}

/* The lowest position every thread has passed: slots below it are free. */
static __u64 read_consumed(struct rc_engine *e)
{
	__u64 low = ~0ULL, c;
	__u32 t;

	for (t = 0; t < e->nthreads; t++) {
		if (thread_out(e, t))
			continue;
		c = thread_consumed(e, t);
		if (c < low)
			low = c;
	}
	e->consumed = low;
	return low;
}

/* The lowest position every thread has passed and counted. */
static __u64 read_settled(const struct rc_engine *e)
{
	__u64 low = ~0ULL, c;
	__u32 t;

	for (t = 0; t < e->nthreads; t++) {
		if (thread_out(e, t))
			continue;
		c = thread_settled(e, t);
		if (c < low)
			low = c;
	}
	return low;
}

/* ---- engine threads ---- */

static int thread_error(const struct rc_engine *e)
{
	__u32 t;

	for (t = 0; t < e->nthreads; t++)
		if (atomic_load(&e->threads[t].done) && e->threads[t].err)
			return e->threads[t].err;
	return 0;
}

/* The ring position of the next packet: the application's count, or for
 * the relay the producers' (relay_ingress reserves positions there). */
__u64 rc_engine_produced(const struct rc_engine *e)
{
	if (e->relay)
		return __atomic_load_n(&e->rctl->produced, __ATOMIC_ACQUIRE);
	return atomic_load(&e->produced);
}

/* Whether thread t has nothing left to do. */
static bool thread_idle(const struct rc_engine *e, __u32 t)
{
	return thread_out(e, t) || thread_consumed(e, t) == rc_engine_produced(e);
}

bool rc_engine_ring_empty(const struct rc_engine *e)
{
	__u32 t;

	for (t = 0; t < e->nthreads; t++)
		if (!thread_idle(e, t))
			return false;
	return true;
}

static void park(struct engine_thread *th)
{
	struct rc_engine *e = th->e;
	unsigned int seq = atomic_load(&e->wake_seq);

	/* Pairs with queue(): it publishes, then reads park_req; we set
	 * parked, then read the ring. One of the two sees the other. */
	atomic_store(&th->parked, 1);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&e->park_req) && !atomic_load(&e->stop) && thread_idle(e, th->index)) {
		atomic_fetch_add(&e->parks, 1);
		atomic_fetch_add(&e->syscalls, 1);
		futex(&e->wake_seq, FUTEX_WAIT_PRIVATE, seq, NULL);
	}
	atomic_store(&th->parked, 0);
}

/* A follower out of the leader's windows sleeps until the leader asks it
 * back, a park, or a stop (both wake wake_seq and signal). */
static void nap(struct engine_thread *th)
{
	struct rc_engine *e = th->e;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = NAP_POLL_NS };
	unsigned int seq = atomic_load(&e->wake_seq);

	if (atomic_load(&e->stop) || atomic_load(&e->park_req) ||
	    __atomic_load_n(&e->ctl[0].nap.want_split, __ATOMIC_ACQUIRE))
		return;
	atomic_fetch_add(&e->naps, 1);
	atomic_fetch_add(&e->syscalls, 1);
	futex(&e->wake_seq, FUTEX_WAIT_PRIVATE, seq, &ts);
}

static void *engine_thread(void *arg)
{
	struct engine_thread *th = arg;
	struct rc_engine *e = th->e;
	__u32 value_size = bpf_map__value_size(e->skel->maps.cursors);
	struct rc_engine_thread_id *cur;
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = e->frame, .data_size_in = FRAME_LEN,
		    .repeat = CALL_REPEAT, .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		    .batch_size = e->batch);
	char name[16];
	sigset_t set;

	snprintf(name, sizeof(name), "rc-engine-%u", th->index);
	pthread_setname_np(pthread_self(), name);
	/* Only the engine's signal may end the call; the application's
	 * signals go to its own threads. */
	sigfillset(&set);
	sigdelset(&set, ENGINE_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &set, NULL);

	/* The cursor starts at ring position 0, like the application. */
	cur = calloc(1, value_size);
	if (!cur) {
		th->err = -ENOMEM;
		goto out;
	}
	cur->tid = (__u32)gettid();
	cur->thread = th->index;
	if (bpf_map_update_elem(e->cursors_fd, &th->index, cur, BPF_ANY))
		th->err = -errno;
	free(cur);
	if (th->err)
		goto out;
	while (!atomic_load(&e->stop)) {
		if (atomic_load(&e->park_req) && thread_idle(e, th->index)) {
			if (e->relay && th->index == 0)
				rc_engine_relay_park(th);
			else
				park(th);
			continue;
		}
		if (thread_out(e, th->index) &&
		    !__atomic_load_n(&e->ctl[0].nap.want_split, __ATOMIC_ACQUIRE)) {
			nap(th);
			continue;
		}
		if (e->relay)
			rc_engine_relay_enter(th);
		atomic_fetch_add(&e->entries, 1);
		atomic_fetch_add(&e->syscalls, 1);
		if (bpf_prog_test_run_opts(e->prog_fd, &run) && errno != EINTR) {
			th->err = -errno;
			break;
		}
	}
out:
	if (rc_engine_faults.stop_stall_ms) {
		/* A thread that does not stop for that long (a test); the
		 * stop's signals cut single sleeps short. */
		__u64 until = rc_now_ns() + rc_engine_faults.stop_stall_ms * 1000000ULL;

		while (rc_now_ns() < until)
			usleep(1000);
	}
	atomic_store(&th->done, 1);
	return NULL;
}

void rc_engine_signal_threads(struct rc_engine *e, bool parking)
{
	__u32 t;

	for (t = 0; t < e->nthreads; t++) {
		struct engine_thread *th = &e->threads[t];

		if (!th->started || atomic_load(&th->done) || (parking && atomic_load(&th->parked)))
			continue;
		atomic_fetch_add(&e->syscalls, 1);
		pthread_kill(th->th, ENGINE_SIGNAL);
	}
}

void rc_engine_wake_threads(struct rc_engine *e)
{
	atomic_fetch_add(&e->wake_seq, 1);
	atomic_fetch_add(&e->wakes, 1);
	atomic_fetch_add(&e->syscalls, 1);
	futex(&e->wake_seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
}

/* Ends idle calls: after idle_ms with an empty ring, the threads are asked
 * to leave their calls and sleep until the next packet. It wakes every
 * idle_ms / 2 while the engine runs, whatever the packet rate. */
static void *supervisor(void *arg)
{
	struct rc_engine *e = arg;
	__u64 tick = (__u64)e->idle_ms * 1000000ULL / 2, last_signal = 0, idle_since = 0;
	struct timespec ts = { .tv_sec = tick / 1000000000ULL, .tv_nsec = tick % 1000000000ULL };
	unsigned long long seen = ~0ULL;
	__u32 t, gen_seen = 0;
	sigset_t set;

	sigfillset(&set);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	while (!atomic_load(&e->stop)) {
		unsigned long long produced = rc_engine_produced(e);
		bool empty = true;
		__u64 now;

		atomic_fetch_add(&e->syscalls, 1);
		futex(&e->sup_word, FUTEX_WAIT_PRIVATE, 0, &ts);
		now = rc_now_ns();
		for (t = 0; t < e->nthreads; t++)
			empty = empty && thread_idle(e, t);
		if (!empty || produced != seen || (e->relay && !rc_engine_relay_may_idle(e, &gen_seen))) {
			seen = produced;
			idle_since = now;
			continue;
		}
		if (now - idle_since < (__u64)e->idle_ms * 1000000ULL)
			continue;
		if (e->relay)
			rc_engine_relay_begin_park(e);
		if (!atomic_load(&e->park_req))
			atomic_store(&e->park_req, 1);
		if (now - last_signal >= RESIGNAL_NS) {
			rc_engine_signal_threads(e, true);
			last_signal = now;
		}
	}
	return NULL;
}

/* ---- the application's side ---- */

/* Waits until every engine thread has taken the packets below `target`:
 * polls without a system call for SPIN_NS, then sleeps about as long as
 * the engine needs for what is left, at the rate it was last seen to go
 * (so a wait costs one or two sleeps, not one per progress report).
 * `timeout` after timeout_ms without progress. With `settled`, also until
 * every refusal of their copies is counted (a batch later: microseconds).
 */
static int wait_consumed(struct rc_engine *e, __u64 target, int timeout, bool settled)
{
	__u64 start = rc_now_ns(), deadline = start + (__u64)e->timeout_ms * 1000000ULL;
	__u64 sleep_ns = SLEEP_MIN_NS, c0 = read_consumed(e), t0 = start, before = c0, now, left;
	int err;

	for (;;) {
		if (read_consumed(e) >= target && (!settled || read_settled(e) >= target))
			return 0;
		err = thread_error(e);
		if (err)
			return err;
		rc_engine_add_missing_devs(e);
		now = rc_now_ns();
		if (e->consumed != before) {
			before = e->consumed;
			deadline = now + (__u64)e->timeout_ms * 1000000ULL;
			/* The engine's pace while we wait: it is busy then.
			 * The lowest never goes down (a napping follower is
			 * taken back in at the leader's position); checked all
			 * the same, as a zero here would be a division by it. */
			if (e->consumed > c0)
				e->ns_per_packet = (now - t0) / (e->consumed - c0);
		}
		if (now >= deadline)
			return timeout;
		if (now - start < SPIN_NS) {
			cpu_relax();
			continue;
		}
		left = target > e->consumed ? target - e->consumed : 0;
		if (e->ns_per_packet)
			sleep_ns = left * e->ns_per_packet;
		sleep_ns = sleep_ns < SLEEP_MIN_NS ? SLEEP_MIN_NS :
			   sleep_ns > SLEEP_LONGEST_NS ? SLEEP_LONGEST_NS : sleep_ns;
		e->waits++;
		counted_sleep(e, sleep_ns);
		if (!e->ns_per_packet)
			sleep_ns = sleep_ns * 2 < SLEEP_MAX_NS ? sleep_ns * 2 : SLEEP_MAX_NS;
	}
}

/* The ring is full: wait for room, and not for one slot but a quarter of
 * the ring, so that an application faster than the engine waits once per
 * thousand packets rather than once per progress report. */
static int wait_room(struct rc_engine *e, __u64 pos)
{
	e->ring_full++;
	return wait_consumed(e, pos - e->slots + e->slots / 4 + 1, -ENOBUFS, false);
}

int rc_engine_queue(struct rc_engine *e, const struct replicast_endpoint *group,
		    const struct replicast_endpoint *source, const void *payload, size_t len)
{
	__u64 pos = atomic_load_explicit(&e->produced, memory_order_relaxed);
	struct rc_engine_slot *slot;
	int err;

	if (len > rc_engine_max_payload(e, group->family))
		return -EMSGSIZE;
	/* Now and then: devices the program sent to without the map. */
	if (!(e->queued % MISSING_CHECK_EVERY))
		rc_engine_add_missing_devs(e);
	if (pos - e->consumed >= e->slots) {
		err = wait_room(e, pos);
		if (err)
			return err;
	}
	slot = &e->ring[pos & (e->slots - 1)];
	slot->len = (__u16)len;
	slot->sport = source->port ? source->port : group->port;
	slot->ip_id = e->ip_id++;
	rc_endpoint_to_key(group, &slot->group);
	memset(&slot->source, 0, sizeof(slot->source));
	if (source->family == AF_INET6)
		memcpy(&slot->source.v6, &source->addr.v6, 16);
	else
		slot->source.v4 = source->addr.v4.s_addr;
	memcpy(slot->payload, payload, len);
	/* Summed where it now lies, hot in the cache; the program adds each
	 * copy's pseudo-header and UDP header to it. */
	slot->csum = (__u16)~rc_csum_fold(rc_csum_add(0, slot->payload, len));
	__atomic_store_n(&slot->seq, (__u32)(pos + 1), __ATOMIC_RELEASE);
	atomic_store(&e->produced, pos + 1);
	e->queued++;
	/* Pairs with park(): only a parked engine costs a system call. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&e->park_req, memory_order_relaxed)) {
		atomic_store(&e->park_req, 0);
		rc_engine_wake_threads(e);
	}
	return 0;
}

int rc_engine_flush(struct rc_engine *e)
{
	int err = wait_consumed(e, rc_engine_produced(e), -ETIMEDOUT, true);

	return err ? err : thread_error(e);
}

size_t rc_engine_max_payload(const struct rc_engine *e, int family)
{
	size_t hdr = family == AF_INET6 ? 40 + 8 : 20 + 8, mtu = e->min_mtu ? e->min_mtu : 1500;
	size_t max = mtu > hdr ? mtu - hdr : 0;

	if (family != AF_INET && family != AF_INET6)
		return 0;
	return max < RC_ENGINE_PAYLOAD_MAX ? max : RC_ENGINE_PAYLOAD_MAX;
}

/* Puts every device the group's subscribers leave by into the device map,
 * checking each can take XDP frames, now. Returns an error about the group;
 * *dev_err is the first device's that failed (each is then a bad device,
 * see rc_engine_add_missing_devs()). */
int rc_engine_prepare(struct rc_engine *e, const struct replicast_endpoint *group, int *dev_err)
{
	struct rc_subscriber sub;
	struct rc_group_key key;
	struct rc_group grp;
	__u32 inner_id, slot;
	int fd, err = 0;

	rc_endpoint_to_key(group, &key);
	if (bpf_map_lookup_elem(e->groups_fd, &key, &grp))
		return errno == ENOENT ? -ENOENT : -errno;
	if (bpf_map_lookup_elem(e->group_subs_fd, &grp.id, &inner_id))
		return -errno;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return -errno;
	*dev_err = 0;
	for (slot = 0; slot < e->max_subs; slot++) {
		if (bpf_map_lookup_elem(fd, &slot, &sub)) {
			err = -errno;
			break;
		}
		if (sub.state == SUB_EMPTY)
			break;
		if (sub.state == SUB_ON && sub.ifindex) {
			int derr = rc_engine_try_dev(e, sub.ifindex, true);

			if (derr && !*dev_err)
				*dev_err = derr;
		}
	}
	close(fd);
	return err;
}

void rc_engine_stats(const struct rc_engine *e, struct replicast_sender_stats *st)
{
	__u32 t;

	st->queued = e->queued;
	st->sent = st->completed = e->nthreads ? ~0ULL : 0;
	for (t = 0; t < e->nthreads; t++) {
		const struct rc_engine_ctl *c = &e->ctl[t];
		__u64 consumed = thread_consumed(e, t);

		if (consumed < st->sent && !thread_out(e, t))
			st->sent = st->completed = consumed;
		st->copies += __atomic_load_n(&c->copies, __ATOMIC_RELAXED);
		st->idle_runs += __atomic_load_n(&c->idle_runs, __ATOMIC_RELAXED);
		/* Refused copies are in dropped (and in xmit_dropped too). */
		st->copies_dropped += __atomic_load_n(&c->dropped, __ATOMIC_RELAXED);
	}
	st->waits = e->waits;
	st->ring_full = e->ring_full;
	st->syscalls = atomic_load(&e->syscalls);
	st->engine_calls = atomic_load(&e->entries);
	st->engine_parks = atomic_load(&e->parks);
	st->engine_solos = __atomic_load_n(&e->ctl[0].nap.solos, __ATOMIC_RELAXED);
	st->engine_splits = __atomic_load_n(&e->ctl[0].nap.splits, __ATOMIC_RELAXED);
	st->engine_naps = atomic_load(&e->naps);
	st->engine_threads = e->nthreads;
	st->errors = thread_error(e) ? 1 : 0;
}

/* ---- open and close ---- */

/* Every map the object shares with the replicator is pinned under the pin
 * directory by name: use those, and let libbpf pin nothing. */
static int reuse_pinned_maps(struct replicast *rc, struct bpf_object *obj)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int fd, err;

	bpf_object__for_each_map(map, obj) {
		if (!bpf_map__pin_path(map))
			continue;
		err = bpf_map__set_pin_path(map, NULL);
		if (err)
			return err;
		err = rc_pin_file(rc, bpf_map__name(map), path, sizeof(path));
		if (err)
			return err;
		fd = bpf_obj_get(path);
		if (fd < 0) {
			/* A map the loaded replicator does not have: ours is
			 * then unused by it, so a private one does no harm. */
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		err = bpf_map__reuse_fd(map, fd);
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

static int load(struct rc_engine *e, struct replicast *rc)
{
	struct xdp_engine_bpf *skel;
	__u32 nwindows = e->nthreads > 1 ? RC_ENGINE_WINDOWS : 1;
	__u32 nversions = e->nthreads > 1 ? RC_ENGINE_VERSIONS : 1;
	/* Twice as many next-hop entries as a group has slots: room for the
	 * subscribers of many interleaved groups (bpf/xdp_engine.bpf.c). */
	__u32 nh_sets = e->max_subs * 2 / RC_ENGINE_NEXT_HOP_WAYS ?: 1;
	const size_t log_size = 1 << 20;
	char *log;
	int err;

	skel = xdp_engine_bpf__open();
	if (!skel)
		return -errno;
	e->skel = skel;
	skel->rodata->nthreads = e->nthreads;
	skel->rodata->ring_mask = e->slots - 1;
	skel->rodata->window_mask = nwindows - 1;
	skel->rodata->version_mask = nversions - 1;
	skel->rodata->max_subs = e->max_subs;
	skel->rodata->engine_tgid = (__u32)getpid();
	skel->rodata->batch_size = e->batch;
	skel->rodata->relay = e->relay;
	/* Followers nap while the leader could send alone; a kernel whose
	 * XDP programs cannot signal their thread keeps them spinning. */
	if (e->nthreads > 1 &&
	    libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_send_signal_thread, NULL) == 1)
		skel->rodata->nap_signal = ENGINE_SIGNAL;
	/* The way in from the network is the relay's alone. */
	bpf_program__set_autoload(skel->progs.relay_ingress, e->relay);
	bpf_map__set_max_entries(skel->maps.ring, e->slots);
	bpf_map__set_max_entries(skel->maps.windows, nwindows);
	bpf_map__set_max_entries(skel->maps.versions, nversions);
	bpf_map__set_max_entries(skel->maps.snaps, nversions * e->nthreads * e->max_subs);
	skel->rodata->next_hop_sets = nh_sets;
	bpf_map__set_max_entries(skel->maps.next_hops, e->nthreads * nh_sets);
	bpf_map__set_max_entries(skel->maps.ledgers, e->nthreads * RC_ENGINE_LEDGER_DEVS);
	bpf_map__set_max_entries(skel->maps.ledger_ids, e->nthreads * RC_ENGINE_LEDGER_DEVS);
	bpf_map__set_max_entries(skel->maps.ledger_index, e->nthreads * RC_ENGINE_LEDGER_INDEX);
	err = reuse_pinned_maps(rc, skel->obj);
	if (err)
		return err;
	log = calloc(1, log_size);
	if (!log)
		return -ENOMEM;
	bpf_program__set_log_buf(skel->progs.engine_run, log, log_size);
	err = xdp_engine_bpf__load(skel);
	if (err) {
		/* The verifier's last lines say why. */
		const char *tail = strlen(log) > 400 ? log + strlen(log) - 400 : log;

		rc_engine_log(e, REPLICAST_LOG_WARN, "loading the XDP engine failed: %s; verifier: ...%s",
		     replicast_strerror(err), tail);
	}
	free(log);
	return err;
}

int rc_engine_open(struct replicast *rc, const struct rc_engine_opts *o, struct rc_engine **out)
{
	struct rc_engine *e;
	void *p;
	__u32 t;
	int err;

	*out = NULL;
	if (!rc)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->log = rc->log;
	e->log_ctx = rc->log_ctx;
	e->nthreads = o->threads ? o->threads : 1;
	e->slots = o->ring_slots ? o->ring_slots : DEFAULT_RING_SLOTS;
	e->batch = o->batch ? o->batch : DEFAULT_BATCH;
	e->idle_ms = o->idle_ms < 0 ? 0 : o->idle_ms ? (unsigned int)o->idle_ms : DEFAULT_IDLE_MS;
	e->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	e->peer_gro = o->peer_gro;
	e->relay = o->relay;
	e->max_subs = rc->cfg.max_subs;
	e->prog_fd = e->devs_fd = e->groups_fd = e->group_subs_fd = e->cursors_fd = -1;
	err = -EINVAL;
	if (e->nthreads > RC_ENGINE_MAX_THREADS || e->slots < MIN_RING_SLOTS ||
	    e->slots > MAX_RING_SLOTS || (e->slots & (e->slots - 1)) || e->batch > MAX_BATCH)
		goto fail;
	err = install_signal();
	if (err)
		goto fail;
	e->frame = calloc(1, FRAME_LEN);
	if (!e->frame) {
		err = -ENOMEM;
		goto fail;
	}

	err = load(e, rc);
	if (!err) {
		e->links[0] = bpf_program__attach(e->skel->progs.engine_xmit);
		e->links[1] = bpf_program__attach(e->skel->progs.engine_redirect_err);
		if (!e->links[0] || !e->links[1])
			err = -errno;
	}
	if (err)
		goto fail;
	e->prog_fd = bpf_program__fd(e->skel->progs.engine_run);
	e->devs_fd = bpf_map__fd(e->skel->maps.devs);
	e->groups_fd = bpf_map__fd(e->skel->maps.groups);
	e->group_subs_fd = bpf_map__fd(e->skel->maps.group_subs);
	e->cursors_fd = bpf_map__fd(e->skel->maps.cursors);

	/* Either stays NULL unless mapped: close() and everything it calls
	 * test for NULL, never for MAP_FAILED. */
	e->ring_len = (size_t)e->slots * sizeof(struct rc_engine_slot);
	e->ctl_len = RC_ENGINE_MAX_THREADS * sizeof(struct rc_engine_ctl);
	p = rc_engine_map_shared(e->ring_len, bpf_map__fd(e->skel->maps.ring));
	if (p == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	e->ring = p;
	p = rc_engine_map_shared(e->ctl_len, bpf_map__fd(e->skel->maps.ctl));
	if (p == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	e->ctl = p;
	if (e->relay) {
		err = rc_engine_relay_open(e);
		if (err)
			goto fail;
	}

	for (t = 0; t < e->nthreads; t++) {
		struct engine_thread *th = &e->threads[t];

		th->e = e;
		th->index = t;
		err = -pthread_create(&th->th, NULL, engine_thread, th);
		if (err)
			goto fail;
		th->started = true;
	}
	if (e->idle_ms) {
		err = -pthread_create(&e->sup, NULL, supervisor, e);
		if (err)
			goto fail;
		e->sup_started = true;
	}
	*out = e;
	return 0;
fail:
	rc_engine_close(e);
	return err;
}

/* Stops every thread and joins it. A thread is joined however long it
 * takes: it uses the program, the frame, the maps and *e until it returns,
 * so freeing any of it first would let it write into freed memory. It
 * leaves its call at the next signal between two batches (microseconds),
 * so a wait past STOP_WARN_NS means the kernel is not delivering signals
 * to it; that is logged once, and the wait goes on. */
static void stop_threads(struct rc_engine *e)
{
	__u64 start = rc_now_ns(), last = 0, now;
	bool running, warned = false;
	__u32 t;

	atomic_store(&e->stop, 1);
	atomic_fetch_add(&e->sup_word, 1);
	futex(&e->sup_word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
	rc_engine_wake_threads(e);
	for (;;) {
		running = false;
		for (t = 0; t < e->nthreads; t++)
			running = running || (e->threads[t].started && !atomic_load(&e->threads[t].done));
		if (!running)
			break;
		now = rc_now_ns();
		if (!warned && now - start > STOP_WARN_NS) {
			for (t = 0; t < e->nthreads; t++)
				if (e->threads[t].started && !atomic_load(&e->threads[t].done))
					rc_engine_log(e, REPLICAST_LOG_WARN, "engine thread %u has not stopped after "
					     "%llu s; close waits for it, as freeing what it uses would "
					     "let it write to freed memory", t, STOP_WARN_NS / 1000000000ULL);
			warned = true;
		}
		if (now - last >= RESIGNAL_NS) {
			rc_engine_signal_threads(e, false);
			last = now;
		}
		usleep(1000);
	}
	if (warned)
		rc_engine_log(e, REPLICAST_LOG_INFO, "the engine threads stopped after %llu ms",
		     (unsigned long long)((rc_now_ns() - start) / 1000000ULL));
	for (t = 0; t < e->nthreads; t++)
		if (e->threads[t].started)
			pthread_join(e->threads[t].th, NULL);
	if (e->sup_started)
		pthread_join(e->sup, NULL);
}

void rc_engine_close(struct rc_engine *e)
{
	size_t i;

	if (!e)
		return;
	/* What was queued goes out first, as far as the timeout allows. */
	if (e->ctl && e->ring && !thread_error(e))
		rc_engine_flush(e);
	stop_threads(e);
	for (i = 0; i < 2; i++)
		bpf_link__destroy(e->links[i]);
	if (e->ring)
		munmap(e->ring, e->ring_len);
	if (e->ctl)
		munmap(e->ctl, e->ctl_len);
	rc_engine_relay_close(e);
	xdp_engine_bpf__destroy(e->skel);
	free(e->frame);
	free(e);
}
