// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The XDP fan-out engine through the public sender API.
 *
 *   test_engine send --pin DIR --group G[,G...] --count N [options]
 *       queues N packets with rc_blast's payloads (rc_sink checks them) and
 *       prints the sender's counters as one JSON line. With several groups
 *       (at most MAX_GROUPS), N packets to each, interleaved: packet k of
 *       every group, then packet k + 1 of every group, ... Between the lines
 *       "sending" and "sent" on stderr it makes no system call of its own:
 *       it paces (--rate) by polling the clock, which the vDSO answers, so
 *       a tracer sees only what the library does. --senders 2: two
 *       senders (two engines) in the process, each packet queued to both;
 *       the counters printed are their sums.
 *   test_engine faults --pin DIR --group G
 *       the engine's failure paths, through fault injection: its shared
 *       memory cannot be mapped (the ring, then the control lines), and
 *       its threads take longer to stop than close() waits before it says
 *       so. Run it under the sanitizers: a use of freed or unmapped memory
 *       shows there, not as a wrong count.
 *   test_engine latency --pin DIR --group G [--idle-ms MS]
 *       what the engine costs while a stream is open but quiet, and how
 *       long a packet takes to be sent: with the threads inside their calls
 *       (warm) and after they left them for lack of packets (cold). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include "internal.h"
#include "unit.h"

#define MAX_GROUPS 8

struct args {
	const char *pin, *group;
	uint64_t count, rate;
	unsigned int size, threads, ring, seed, senders;
	int idle_ms;
	bool peer_gro, wait_first;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* rc_blast's payload (tests/tools/rc_blast.c --help). */
static void payload(uint8_t *p, unsigned int size, uint64_t seq, uint32_t seed)
{
	unsigned int i;

	for (i = 0; i < 8 && i < size; i++)
		p[i] = (uint8_t)(seq >> (56 - 8 * i));
	for (i = 8; i < size; i++) {
		uint32_t v = (uint32_t)seq * 0x9E3779B1u + seed * 0x85EBCA77u + i * 0xC2B2AE3Du;

		p[i] = (uint8_t)(v ^ (v >> 15) ^ (v >> 24));
	}
}

static void log_stderr(enum replicast_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == REPLICAST_LOG_WARN)
		fprintf(stderr, "replicast: %s\n", msg);
}

static int open_sender(const struct args *a, struct replicast **rc, struct replicast_sender **s,
		       unsigned int n)
{
	struct replicast_opts ropts = { .sz = sizeof(ropts), .pin_path = a->pin, .log = log_stderr };
	struct replicast_sender_opts so = {
		.sz = sizeof(so), .engine = REPLICAST_ENGINE_XDP, .threads = a->threads,
		.ring_slots = a->ring, .idle_ms = a->idle_ms, .peer_gro = a->peer_gro,
		.timeout_ms = 5000,
	};
	int err = replicast_open(&ropts, rc);
	unsigned int i;

	if (err) {
		fprintf(stderr, "test_engine: open %s: %s\n", a->pin, replicast_strerror(err));
		return err;
	}
	for (i = 0; i < n && !err; i++) {
		err = replicast_sender_open(*rc, &so, &s[i]);
		if (err)
			fprintf(stderr, "test_engine: sender open: %s\n", replicast_strerror(err));
	}
	return err;
}

static int cmd_send(const struct args *a)
{
	struct replicast_sender_stats st = { .sz = sizeof(st) }, one = { .sz = sizeof(one) };
	struct replicast_sender *s[2] = { NULL, NULL };
	unsigned int i, j, ns = a->senders == 2 ? 2 : 1, ng = 0;
	struct replicast_endpoint g[MAX_GROUPS];
	char list[512], *tok, *save = NULL;
	struct replicast *rc = NULL;
	uint8_t *buf = NULL;
	uint64_t n, start, elapsed;
	int err;

	snprintf(list, sizeof(list), "%s", a->group);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (ng == MAX_GROUPS || replicast_endpoint_parse(tok, &g[ng])) {
			fprintf(stderr, "test_engine: bad group %s (or more than %d)\n", tok, MAX_GROUPS);
			return 2;
		}
		ng++;
	}
	if (!ng) {
		fprintf(stderr, "test_engine: no group in %s\n", a->group);
		return 2;
	}
	err = open_sender(a, &rc, s, ns);
	for (i = 0; i < ns && !err; i++)
		for (j = 0; j < ng && !err; j++)
			err = replicast_sender_prepare(s[i], &g[j]);
	if (err) {
		fprintf(stderr, "test_engine: prepare: %s\n", replicast_strerror(err));
		goto out;
	}
	buf = malloc(a->size ? a->size : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	if (a->wait_first) {
		/* Let the engine threads park first, to measure a cold start. */
		usleep((unsigned int)(a->idle_ms > 0 ? a->idle_ms : 200) * 3000);
	}
	fprintf(stderr, "sending\n");
	start = now_ns();
	for (n = 0; n < a->count * ng && !err; n++) {
		if (a->rate)
			while (now_ns() - start < n * 1000000000ULL / a->rate)
				;
		payload(buf, a->size, n / ng, a->seed);
		for (i = 0; i < ns && !err; i++)
			err = replicast_sender_queue(s[i], &g[n % ng], buf, a->size);
	}
	for (i = 0; i < ns && !err; i++)
		err = replicast_sender_flush(s[i]);
	elapsed = now_ns() - start;
	for (i = 0; i < ns; i++) {
		replicast_sender_stats(s[i], &one);
		st.queued += one.queued;
		st.sent += one.sent;
		st.copies += one.copies;
		st.copies_dropped += one.copies_dropped;
		st.idle_runs += one.idle_runs;
		st.ring_full += one.ring_full;
		st.waits += one.waits;
		st.syscalls += one.syscalls;
		st.engine_calls += one.engine_calls;
		st.engine_parks += one.engine_parks;
		st.engine_solos += one.engine_solos;
		st.engine_splits += one.engine_splits;
		st.engine_naps += one.engine_naps;
		st.engine_threads += one.engine_threads;
	}
	fprintf(stderr, "sent\n");
	printf("{\"queued\":%" PRIu64 ",\"sent\":%" PRIu64 ",\"copies\":%" PRIu64
	       ",\"copies_dropped\":%" PRIu64 ",\"idle_runs\":%" PRIu64 ",\"ring_full\":%" PRIu64
	       ",\"waits\":%" PRIu64 ",\"syscalls\":%" PRIu64 ",\"engine_calls\":%" PRIu64
	       ",\"engine_parks\":%" PRIu64 ",\"engine_solos\":%" PRIu64 ",\"engine_splits\":%" PRIu64
	       ",\"engine_naps\":%" PRIu64 ",\"threads\":%u,\"seconds\":%.6f,\"error\":\"%s\"}\n",
	       st.queued, st.sent, st.copies, st.copies_dropped, st.idle_runs, st.ring_full,
	       st.waits, st.syscalls, st.engine_calls, st.engine_parks, st.engine_solos,
	       st.engine_splits, st.engine_naps, st.engine_threads,
	       (double)elapsed / 1e9, err ? replicast_strerror(err) : "");
	fflush(stdout);
out:
	free(buf);
	for (i = 0; i < ns; i++)
		replicast_sender_close(s[i]);
	replicast_close(rc);
	return err ? 1 : 0;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One packet queued and flushed: the time until every subscriber's copy
 * has been handed to its device. */
static int one_packet(struct replicast_sender *s, const struct replicast_endpoint *g,
		      uint8_t *buf, unsigned int size, uint64_t seq, uint64_t *ns)
{
	uint64_t t0;
	int err;

	payload(buf, size, seq, 0);
	t0 = now_ns();
	err = replicast_sender_queue(s, g, buf, size);
	if (!err)
		err = replicast_sender_flush(s);
	*ns = now_ns() - t0;
	return err;
}

/* ---- faults ---- */

/* mmap() that fails the call numbered fail_at (from 1) of those the engine
 * makes, and counts them. */
static int maps_seen, fail_at;

static void *failing_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (++maps_seen == fail_at) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return mmap(addr, len, prot, flags, fd, off);
}

static char last_warn[512];
static int warns;

static void log_keep(enum replicast_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level != REPLICAST_LOG_WARN)
		return;
	warns++;
	snprintf(last_warn, sizeof(last_warn), "%s", msg);
}

static int cmd_faults(const struct args *a)
{
	struct replicast_opts ropts = { .sz = sizeof(ropts), .pin_path = a->pin, .log = log_keep };
	struct replicast_sender_opts so = {
		.sz = sizeof(so), .engine = REPLICAST_ENGINE_XDP, .idle_ms = -1, .timeout_ms = 2000,
		.peer_gro = true,
	};
	struct replicast_sender_stats st = { .sz = sizeof(st) };
	struct replicast_sender *s = NULL;
	struct replicast_endpoint g;
	struct replicast *rc = NULL;
	uint8_t buf[100];
	uint64_t t0, ms;
	int err, n;

	if (replicast_endpoint_parse(a->group, &g))
		return 2;
	err = replicast_open(&ropts, &rc);
	if (err) {
		fprintf(stderr, "test_engine: open %s: %s\n", a->pin, replicast_strerror(err));
		return 1;
	}
	/* The engine maps two areas, the ring and then the control lines. */
	rc_engine_faults.mmap = failing_mmap;
	for (fail_at = 1; fail_at <= 2; fail_at++) {
		maps_seen = 0;
		err = replicast_sender_open(rc, &so, &s);
		CHECK_EQ(-ENOMEM, err, fail_at == 1 ? "the ring cannot be mapped: open fails with -ENOMEM"
						    : "the control lines cannot be mapped: open fails "
						      "with -ENOMEM");
		CHECK(!s, "and gives no sender (it closed what it had made, without a crash)");
		replicast_sender_close(s);
		s = NULL;
	}
	CHECK_EQ(2, maps_seen, "the engine asked for exactly two mappings");
	rc_engine_faults.mmap = NULL;

	/* Threads that take 6 s to stop, past the 5 s after which close()
	 * says so: close waits for them and frees nothing before. */
	rc_engine_faults.stop_stall_ms = 6000;
	err = replicast_sender_open(rc, &so, &s);
	CHECK_EQ(0, err, "a sender opens");
	if (!err)
		err = replicast_sender_prepare(s, &g);
	for (n = 0; n < 100 && !err; n++) {
		payload(buf, sizeof(buf), (uint64_t)n, 0);
		err = replicast_sender_queue(s, &g, buf, sizeof(buf));
	}
	if (!err)
		err = replicast_sender_flush(s);
	CHECK_EQ(0, err, "100 packets queued and flushed");
	replicast_sender_stats(s, &st);
	CHECK_EQ(100, st.sent, "100 sent");
	warns = 0;
	t0 = now_ns();
	replicast_sender_close(s);
	ms = (now_ns() - t0) / 1000000ULL;
	/* Had close freed the thread's state, the thread would touch it now;
	 * under the sanitizers that ends the process with a report. */
	usleep(1500000);
	rc_engine_faults.stop_stall_ms = 0;
	CHECK(ms >= 6000, "close waited for the thread that took 6 s to stop (%" PRIu64 " ms)", ms);
	CHECK(warns == 1 && strstr(last_warn, "engine thread 0 has not stopped after 5 s"),
	      "and said so once: %d warnings, the last \"%s\"", warns, last_warn);
	replicast_close(rc);
	return unit_summary();
}

#define LAT_SAMPLES 7

static int cmd_latency(struct args *a)
{
	uint64_t warm[LAT_SAMPLES], cold[LAT_SAMPLES], t0, c0, spin_cpu = 0, park_cpu = 0, seq = 0;
	struct replicast_sender *s = NULL;
	struct replicast_endpoint g;
	struct replicast *rc = NULL;
	uint8_t buf[64];
	int i, err, idle = a->idle_ms > 0 ? a->idle_ms : 200;

	if (replicast_endpoint_parse(a->group, &g))
		return 2;
	a->idle_ms = idle;
	a->size = sizeof(buf);
	err = open_sender(a, &rc, &s, 1);
	if (!err)
		err = replicast_sender_prepare(s, &g);
	/* Warm: packets a few ms apart, the threads stay in their calls. */
	for (i = 0; i < LAT_SAMPLES && !err; i++) {
		usleep(5000);
		err = one_packet(s, &g, buf, sizeof(buf), seq++, &warm[i]);
	}
	/* The CPU a quiet but open stream costs, before the threads leave. */
	c0 = cpu_ns();
	t0 = now_ns();
	usleep((unsigned int)idle * 1000 / 2);
	spin_cpu = (cpu_ns() - c0) * 1000 / (now_ns() - t0);
	/* Cold: after the threads left their calls. */
	for (i = 0; i < LAT_SAMPLES && !err; i++) {
		usleep((unsigned int)idle * 3000);
		if (!i) {
			c0 = cpu_ns();
			t0 = now_ns();
			usleep(500000);
			park_cpu = (cpu_ns() - c0) * 1000 / (now_ns() - t0);
		}
		err = one_packet(s, &g, buf, sizeof(buf), seq++, &cold[i]);
	}
	if (err) {
		fprintf(stderr, "test_engine: latency: %s\n", replicast_strerror(err));
	} else {
		qsort(warm, LAT_SAMPLES, sizeof(warm[0]), cmp_u64);
		qsort(cold, LAT_SAMPLES, sizeof(cold[0]), cmp_u64);
		printf("{\"idle_ms\":%d,\"warm_us\":{\"median\":%.1f,\"max\":%.1f},"
		       "\"cold_us\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f},"
		       "\"idle_cpu_permille_in_call\":%" PRIu64 ",\"idle_cpu_permille_parked\":%" PRIu64
		       "}\n", idle, warm[LAT_SAMPLES / 2] / 1e3, warm[LAT_SAMPLES - 1] / 1e3,
		       cold[LAT_SAMPLES / 2] / 1e3, cold[0] / 1e3, cold[LAT_SAMPLES - 1] / 1e3,
		       spin_cpu, park_cpu);
	}
	replicast_sender_close(s);
	replicast_close(rc);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pin", required_argument, NULL, 'p' },
		{ "group", required_argument, NULL, 'g' },
		{ "count", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "threads", required_argument, NULL, 't' },
		{ "ring", required_argument, NULL, 'R' },
		{ "seed", required_argument, NULL, 'S' },
		{ "idle-ms", required_argument, NULL, 'i' },
		{ "peer-gro", no_argument, NULL, 'G' },
		{ "wait-first", no_argument, NULL, 'W' },
		{ "senders", required_argument, NULL, 'N' },
		{ 0 }
	};
	struct args a = { .count = 1, .size = 64 };
	int c;

	if (argc < 2) {
		fprintf(stderr, "usage: test_engine send|faults|latency --pin DIR --group G [...]\n");
		return 2;
	}
	while ((c = getopt_long(argc - 1, argv + 1, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': a.pin = optarg; break;
		case 'g': a.group = optarg; break;
		case 'n': a.count = strtoull(optarg, NULL, 10); break;
		case 's': a.size = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'r': a.rate = strtoull(optarg, NULL, 10); break;
		case 't': a.threads = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'R': a.ring = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'S': a.seed = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'i': a.idle_ms = atoi(optarg); break;
		case 'G': a.peer_gro = true; break;
		case 'W': a.wait_first = true; break;
		case 'N': a.senders = (unsigned int)strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (!a.pin || !a.group) {
		fprintf(stderr, "test_engine: --pin and --group are needed\n");
		return 2;
	}
	if (!strcmp(argv[1], "send"))
		return cmd_send(&a);
	if (!strcmp(argv[1], "faults"))
		return cmd_faults(&a);
	if (!strcmp(argv[1], "latency"))
		return cmd_latency(&a);
	fprintf(stderr, "test_engine: unknown command %s\n", argv[1]);
	return 2;
}
