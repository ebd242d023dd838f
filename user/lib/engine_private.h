/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The XDP engine's state, shared by its files: engine.c (threads, ring,
 * open and close), engine_devs.c (the device map), relay_engine.c (the
 * relay's parking and hooks). Not for the rest of the library, which sees
 * struct rc_engine only through internal.h. */
#ifndef REPLICAST_ENGINE_PRIVATE_H
#define REPLICAST_ENGINE_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include "internal.h"

#define MAX_DEVS		256		/* the device map's size */
/* A device that failed its check is checked again after this long (a
 * netlink request, and for a veth a thread entering its peer's namespace):
 * a device that comes back gets copies again within it. */
#define DEV_RETRY_NS		250000000ULL

/* A device the engine cannot send to, for now. */
struct bad_dev {
	__u32 ifindex;
	int err;			/* what its last check said */
	__u64 retry_ns;			/* its next check, CLOCK_MONOTONIC */
};

struct engine_thread {
	struct rc_engine *e;
	pthread_t th;
	bool started;
	atomic_int done;
	atomic_int parked;
	int err;			/* what ended it, when not a stop */
	unsigned int index;
};

struct rc_engine {
	struct xdp_engine_bpf *skel;
	struct bpf_link *links[2];
	int prog_fd, devs_fd, groups_fd, group_subs_fd, cursors_fd;
	struct rc_engine_slot *ring;
	size_t ring_len;
	struct rc_engine_ctl *ctl;
	size_t ctl_len;
	__u32 slots, nthreads, max_subs, batch;
	unsigned int idle_ms, timeout_ms;
	bool peer_gro;
	replicast_log_fn log;
	void *log_ctx;
	void *frame;

	/* The application's side; one thread at a time (see the header). */
	atomic_ullong produced;		/* ring position of the next packet */
	__u64 consumed;			/* lowest thread progress, as last read */
	__u64 ns_per_packet;		/* the engine's pace, as last seen while waiting */
	__u16 ip_id;

	/* Engine threads leave their call after idle_ms without packets and
	 * sleep on wake_seq until the next queue(). */
	atomic_int park_req;
	atomic_uint wake_seq;
	atomic_int stop;
	atomic_uint sup_word;
	pthread_t sup;
	bool sup_started;

	__u32 devs[MAX_DEVS];
	__u32 ndevs;
	unsigned int min_mtu;
	/* Devices that failed the check or did not fit in the device map:
	 * their copies are dropped (and counted) by the kernel, each is
	 * checked again DEV_RETRY_NS after its last check while copies go to
	 * it, and it goes into the map once it passes. */
	struct bad_dev bad[MAX_DEVS];
	__u32 nbad;

	/* The relay (opts.relay): the ring's producers are relay_ingress on
	 * the attached devices, whose line this is; thread 0 sleeps on the
	 * wake-up ring buffer when it parks, the others on wake_seq. */
	bool relay;
	struct rc_relay_ctl *rctl;
	size_t rctl_len;
	struct ring_buffer *wake_rb;

	atomic_ullong syscalls, entries, parks, wakes, naps;
	__u64 queued, waits, ring_full;
	struct engine_thread threads[RC_ENGINE_MAX_THREADS];
};

void rc_engine_log(const struct rc_engine *e, enum replicast_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* rc_engine_log() when `on`: a device checked again says why it fails only once. */
#define say(e, on, ...) do { if (on) rc_engine_log(e, __VA_ARGS__); } while (0)
bool rc_engine_ring_empty(const struct rc_engine *e);
void rc_engine_wake_threads(struct rc_engine *e);
void rc_engine_signal_threads(struct rc_engine *e, bool parking);
/* engine_devs.c */
int rc_engine_try_dev(struct rc_engine *e, __u32 ifindex, bool now);
void rc_engine_add_missing_devs(struct rc_engine *e);
/* mmap() of a map's memory, through the fault injection when a test set it. */
void *rc_engine_map_shared(size_t len, int fd);
/* relay_engine.c: parking, and the relay's part of open and close. */
void rc_engine_relay_park(struct engine_thread *th);
void rc_engine_relay_begin_park(struct rc_engine *e);
bool rc_engine_relay_may_idle(struct rc_engine *e, __u32 *gen_seen);
void rc_engine_relay_enter(struct engine_thread *th);
int rc_engine_relay_open(struct rc_engine *e);
void rc_engine_relay_close(struct rc_engine *e);

#endif /* REPLICAST_ENGINE_PRIVATE_H */
