// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The benchmark's in-process replicast senders (see rcb_lib_send.h): what
 * an application embedding libreplicast does, through the public sender API
 * only. Everything that is not sending (open, sender, each group's headers)
 * happens in prepare, before the timed window; run hands packets over and
 * flushes, so the window ends when the last copy has left. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <replicast.h>
#include "rcb_common.h"
#include "rcb_lib_send.h"

struct rcb_lib_sender {
	struct rcb_lib_cfg cfg;
	struct replicast *rc;
	struct replicast_sender *snd;
	struct replicast_endpoint *groups;
	uint8_t *buf;
};

int rcb_lib_prepare(const struct rcb_lib_cfg *cfg, struct rcb_lib_sender **out, char *err,
		    size_t errlen)
{
	struct replicast_opts ro = { .sz = sizeof(ro), .pin_path = cfg->pin_path };
	struct replicast_sender_opts so = { .sz = sizeof(so) };
	struct rcb_lib_sender *s;
	int ret;

	if (!cfg->ngroups || cfg->size < sizeof(struct rcb_payload_hdr) ||
	    (cfg->stamp && cfg->size < sizeof(struct rcb_stamped_hdr))) {
		snprintf(err, errlen, "need a group and a payload of %zu bytes at least",
			 cfg->stamp ? sizeof(struct rcb_stamped_hdr) : sizeof(struct rcb_payload_hdr));
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->groups = calloc(cfg->ngroups, sizeof(*s->groups));
	s->buf = malloc(cfg->size);
	if (!s->groups || !s->buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	rcb_fill_payload(s->buf, cfg->size, 0);
	for (size_t i = 0; i < cfg->ngroups; i++) {
		if (replicast_endpoint_parse(cfg->groups[i], &s->groups[i])) {
			ret = -EINVAL;
			snprintf(err, errlen, "bad group '%s'", cfg->groups[i]);
			goto fail;
		}
	}
	ret = replicast_open(&ro, &s->rc);
	if (ret) {
		snprintf(err, errlen, "replicast_open(%s): %s", cfg->pin_path ? cfg->pin_path : "default",
			 replicast_strerror(ret));
		goto fail;
	}
	so.engine = cfg->engine;
	so.threads = cfg->threads;
	/* A paced run measures a stream's latency: the XDP engine's threads
	 * stay in their calls (as with --engine-idle-ms never), so that the
	 * first packets do not wait out the wake-up from a park that the idle
	 * set-up before the window caused (9-20 ms: the README says it apart). */
	if (cfg->rate > 0)
		so.idle_ms = -1;
	ret = replicast_sender_open(s->rc, &so, &s->snd);
	if (ret) {
		snprintf(err, errlen, "replicast_sender_open: %s", replicast_strerror(ret));
		goto fail;
	}
	for (size_t i = 0; i < cfg->ngroups; i++) {
		ret = replicast_sender_prepare(s->snd, &s->groups[i]);
		if (ret) {
			snprintf(err, errlen, "replicast_sender_prepare(%s): %s", cfg->groups[i],
				 replicast_strerror(ret));
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	rcb_lib_free(s);
	return ret;
}

static void note(struct rcb_send_result *res, int err)
{
	if (!res->first_errno)
		res->first_errno = err;
	res->errors++;
}

/* Queues one packet; when no frame is free, flushes and tries once more. */
static int queue_one(struct rcb_lib_sender *s, uint64_t seq, struct rcb_send_result *res)
{
	const struct replicast_endpoint *g = &s->groups[seq % s->cfg.ngroups];
	int ret;

	rcb_set_seq(s->buf, seq);
	if (s->cfg.stamp)
		rcb_set_stamp(s->buf, rcb_now_ns());
	ret = replicast_sender_queue(s->snd, g, s->buf, s->cfg.size);
	if (ret == -ENOBUFS) {
		res->calls++;
		replicast_sender_flush(s->snd);
		ret = replicast_sender_queue(s->snd, g, s->buf, s->cfg.size);
	}
	if (ret) {
		note(res, -ret);
		return ret;
	}
	res->handed++;
	return 0;
}

void rcb_lib_run(struct rcb_lib_sender *s, uint64_t deadline_ns, struct rcb_send_result *res)
{
	const struct rcb_lib_cfg *c = &s->cfg;
	uint64_t t0, seq = 0;
	int ret;

	memset(res, 0, sizeof(*res));
	t0 = rcb_now_ns();
	while (seq < c->packets) {
		uint64_t upto = c->packets;

		if (c->rate > 0) {
			/* Paced: wait for the next packet, queue what is due. The
			 * AF_XDP sender hands frames over only once batch_size
			 * wait, so it is flushed here, as an application with a
			 * paced stream would; the XDP engine takes packets as
			 * they come, and flush would wait for their copies. */
			uint64_t due;

			rcb_pace(t0, seq, c->rate);
			due = rcb_due(t0, rcb_now_ns(), c->rate);
			if (due < upto)
				upto = due;
		} else if (upto - seq > 4096) {
			upto = seq + 4096;	/* look at the clock this often */
		}
		for (; seq < upto; seq++)
			if (queue_one(s, seq, res) && res->errors > 1000)
				goto out;
		if (c->rate > 0 && c->engine == REPLICAST_ENGINE_AFXDP) {
			res->calls++;
			ret = replicast_sender_flush(s->snd);
			if (ret)
				note(res, -ret);
		}
		if (rcb_now_ns() >= deadline_ns && seq < c->packets) {
			res->truncated = 1;
			break;
		}
	}
out:
	/* The window ends when every copy has left. */
	ret = replicast_sender_flush(s->snd);
	if (ret)
		note(res, -ret);
	res->send_ns = rcb_now_ns() - t0;
	/* What the sender saw, for bench.log: parks and idle runs explain
	 * an engine's latency, ring_full and copies_dropped its loss. */
	{
		struct replicast_sender_stats st = { .sz = sizeof(st) };

		if (!replicast_sender_stats(s->snd, &st))
			fprintf(stderr,
				"rcb_lib_send: %s groups=%zu queued=%llu sent=%llu syscalls=%llu kicks=%llu "
				"waits=%llu ring_full=%llu errors=%llu copies=%llu copies_dropped=%llu "
				"idle_runs=%llu engine_calls=%llu engine_parks=%llu engine_solos=%llu "
				"engine_naps=%llu\n",
				c->engine == REPLICAST_ENGINE_XDP ? "xdp" : "afxdp", c->ngroups,
				(unsigned long long)st.queued, (unsigned long long)st.sent,
				(unsigned long long)st.syscalls, (unsigned long long)st.kicks,
				(unsigned long long)st.waits, (unsigned long long)st.ring_full,
				(unsigned long long)st.errors, (unsigned long long)st.copies,
				(unsigned long long)st.copies_dropped, (unsigned long long)st.idle_runs,
				(unsigned long long)st.engine_calls, (unsigned long long)st.engine_parks,
				(unsigned long long)st.engine_solos, (unsigned long long)st.engine_naps);
	}
}

void rcb_lib_free(struct rcb_lib_sender *s)
{
	if (!s)
		return;
	replicast_sender_close(s->snd);
	replicast_close(s->rc);
	free(s->groups);
	free(s->buf);
	free(s);
}
