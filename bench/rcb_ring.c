// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* rcb_ring: which ring should carry packets from the application to the
 * XDP engine? For each of the two kinds (see rcb_ring.bpf.c), a producer
 * thread writes packets as the engine's application does (copy the
 * payload, sum it, publish) while a live-frames BPF_PROG_RUN takes them one
 * per run and stores each payload into its frame, for a few seconds: the
 * packets per second that hand-over sustains, everything else equal.
 * Run as root. One line per ring kind; --json for one object. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
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
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "rcb_ring.h"
#include "rcb_ring.skel.h"

#define FRAME_LEN	(62 + RC_ENGINE_PAYLOAD_MAX)

/* Array slots and ring buffer bytes: options, so the two can be compared
 * at equal memory and at equal packets held. */
static uint32_t slots = 4096;
static uint32_t uring_bytes = 8 << 20;
#define SLOTS slots

enum kind { ARRAY, URING };
static const char *const kind_name[] = { "mmap-array", "user-ringbuf" };

struct ctx {
	struct rcb_ring *skel;
	struct rc_engine_slot *ring;
	struct taken *progress;
	struct user_ring_buffer *urb;
	enum kind kind;
	unsigned int size;
	uint8_t payload[RC_ENGINE_PAYLOAD_MAX];
	uint64_t taken_seen;		/* array: the program's progress, as last read */
	pthread_t consumer;
	atomic_int stop;
	int err;
};

static void die(const char *what, int err)
{
	fprintf(stderr, "rcb_ring: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void on_signal(int sig)
{
	(void)sig;
}

/* The engine's queue() does the same: copy, then sum where it lies. */
static uint32_t csum16(const uint8_t *p, size_t len)
{
	uint64_t sum = 0;
	uint32_t w;
	size_t i;

	for (i = 0; i + 4 <= len; i += 4) {
		memcpy(&w, p + i, 4);
		sum += w;
	}
	for (; i < len; i++)
		sum += p[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

static void fill(struct rc_engine_slot *s, const struct ctx *c, uint64_t n)
{
	s->len = (uint16_t)c->size;
	memcpy(s->payload, c->payload, c->size);
	memcpy(s->payload, &n, sizeof(n));
	s->csum = csum16(s->payload, c->size);
}

/* Writes packet n; returns 0, or -1 when the ring has no room. */
static int produce(struct ctx *c, uint64_t n)
{
	if (c->kind == ARRAY) {
		struct rc_engine_slot *s = &c->ring[n & (SLOTS - 1)];

		/* As the engine's queue(): the program's progress is read again
		 * only when the ring looks full. */
		if (n - c->taken_seen >= SLOTS - 64) {
			c->taken_seen = __atomic_load_n(&c->progress->packets, __ATOMIC_ACQUIRE);
			if (n - c->taken_seen >= SLOTS - 64)
				return -1;
		}
		fill(s, c, n);
		__atomic_store_n(&s->seq, (uint32_t)(n + 1), __ATOMIC_RELEASE);
		return 0;
	}
	struct rc_engine_slot *s = user_ring_buffer__reserve(c->urb, RC_ENGINE_SLOT_HDR + c->size);

	if (!s)
		return -1;
	fill(s, c, n);
	user_ring_buffer__submit(c->urb, s);
	return 0;
}

static void *consume(void *arg)
{
	struct ctx *c = arg;
	static uint8_t frame[FRAME_LEN];
	struct bpf_program *prog = c->kind == ARRAY ? c->skel->progs.take_array :
						      c->skel->progs.take_uring;
	LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = INT_MAX, .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
	sigset_t set;

	sigfillset(&set);
	sigdelset(&set, SIGUSR1);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	while (!atomic_load(&c->stop))
		if (bpf_prog_test_run_opts(bpf_program__fd(prog), &run) && errno != EINTR) {
			c->err = -errno;
			break;
		}
	return NULL;
}

static void reset(struct ctx *c)
{
	struct take_state *zero = calloc(1, sizeof(*zero));
	uint32_t k = 0;

	if (!zero || bpf_map_update_elem(bpf_map__fd(c->skel->maps.state), &k, zero, BPF_ANY))
		die("reset", errno);
	free(zero);
	memset(c->progress, 0, sizeof(*c->progress));
	c->taken_seen = 0;
	memset(c->ring, 0, (size_t)SLOTS * sizeof(*c->ring));
}

static void start(struct ctx *c)
{
	atomic_store(&c->stop, 0);
	if (pthread_create(&c->consumer, NULL, consume, c))
		die("thread", errno);
}

static void stop(struct ctx *c)
{
	atomic_store(&c->stop, 1);
	for (int i = 0; i < 400 && pthread_kill(c->consumer, SIGUSR1) == 0; i++) {
		struct timespec ts = { .tv_nsec = 5000000 };

		if (pthread_tryjoin_np(c->consumer, NULL) == 0)
			return;
		nanosleep(&ts, NULL);
	}
	pthread_join(c->consumer, NULL);
}

static uint64_t taken(const struct ctx *c)
{
	return __atomic_load_n(&c->progress->packets, __ATOMIC_ACQUIRE);
}

/* Both ends for `secs`: packets per second the hand-over sustains. */
static double measure_both(struct ctx *c, double secs)
{
	uint64_t n = 0, t0, end, before;

	reset(c);
	start(c);
	/* Past the ~16 ms it takes to enter the call. */
	while (produce(c, n) == 0 && n < 64)
		n++;
	while (taken(c) < 32)
		;
	before = taken(c);
	t0 = now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	while (now_ns() < end)
		if (produce(c, n) == 0)
			n++;
	end = now_ns();
	n = taken(c) - before;
	stop(c);
	return (double)n / ((double)(end - t0) / 1e9);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ "slots", required_argument, NULL, 'n' },
		{ "ringbuf-mib", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 }
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct ctx c = { .size = 1200 };
	double secs = 2, both[2];
	int o, json = 0, err;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 's')
			c.size = (unsigned int)atoi(optarg);
		else if (o == 't')
			secs = atof(optarg);
		else if (o == 'j')
			json = 1;
		else if (o == 'n')
			slots = (uint32_t)atoi(optarg);
		else if (o == 'm')
			uring_bytes = (uint32_t)atoi(optarg) << 20;
		else
			return 2;
	}
	if (c.size < 8 || c.size > RC_ENGINE_PAYLOAD_MAX)
		die("--size", EINVAL);
	sigaction(SIGUSR1, &sa, NULL);
	for (unsigned int i = 0; i < c.size; i++)
		c.payload[i] = (uint8_t)(i * 7);

	c.skel = rcb_ring__open();
	if (!c.skel)
		die("open", errno);
	c.skel->rodata->ring_mask = SLOTS - 1;
	if (slots < 128 || (slots & (slots - 1)) || uring_bytes < (1 << 20) ||
	    (uring_bytes & (uring_bytes - 1)))
		die("--slots and --ringbuf-mib must be powers of two", EINVAL);
	bpf_map__set_max_entries(c.skel->maps.ring, SLOTS);
	bpf_map__set_max_entries(c.skel->maps.uring, uring_bytes);
	err = rcb_ring__load(c.skel);
	if (err)
		die("load", err);
	c.ring = mmap(NULL, (size_t)SLOTS * sizeof(*c.ring), PROT_READ | PROT_WRITE, MAP_SHARED,
		      bpf_map__fd(c.skel->maps.ring), 0);
	c.progress = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			  bpf_map__fd(c.skel->maps.progress), 0);
	c.urb = user_ring_buffer__new(bpf_map__fd(c.skel->maps.uring), NULL);
	if (c.ring == MAP_FAILED || c.progress == MAP_FAILED || !c.urb)
		die("maps", errno);

	for (int k = 0; k < 2; k++) {
		c.kind = (enum kind)k;
		both[k] = measure_both(&c, secs);
		if (c.err)
			die("BPF_PROG_RUN", c.err);
	}
	if (json) {
		printf("{\"size\":%u,\"slots\":%u,\"ringbuf_bytes\":%u", c.size, slots, uring_bytes);
		for (int k = 0; k < 2; k++)
			printf(",\"%s\":{\"packets_per_second\":%.0f}", kind_name[k], both[k]);
		printf("}\n");
	} else {
		for (int k = 0; k < 2; k++)
			printf("%-13s %4u-byte payloads, %3u MiB: %5.2f M packets/s from the "
			       "application into frames\n", kind_name[k], c.size,
			       k == ARRAY ? (unsigned int)((uint64_t)slots * sizeof(struct rc_engine_slot) >> 20) :
					    uring_bytes >> 20, both[k] / 1e6);
	}
	user_ring_buffer__free(c.urb);
	rcb_ring__destroy(c.skel);
	return 0;
}
