// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The user-space sending methods. Each keeps the work it does per datagram to
 * what an application doing the same thing would do: the payload bytes are
 * written once, only the sequence number changes per packet. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#ifdef RCB_HAVE_URING
#include <liburing.h>
#endif
#include "rcb_common.h"
#include "rcb_send.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

/* Largest UDP payload of one IPv4 datagram, the bound on a GSO super-packet. */
#define RCB_MAX_UDP_PAYLOAD 65507
/* How many sends between two looks at the clock. */
#define RCB_CHECK_EVERY 64

struct rcb_sender {
	struct rcb_send_cfg cfg;
	uint64_t deadline_ns;
	int fd;
	uint8_t *buf;		/* payload slots: 1 (sendto), gso_segs (gso) or RCB_BATCH */
	unsigned int gso_segs;
	struct mmsghdr msgs[RCB_BATCH];
	struct iovec iov[RCB_BATCH];
#ifdef RCB_HAVE_URING
	struct io_uring ring;
	int ring_ready;
#endif
};

static const char *const method_names[RCB_M_MAX] = {
	[RCB_M_SENDTO] = "sendto",
	[RCB_M_SENDMMSG] = "sendmmsg",
	[RCB_M_GSO] = "gso",
	[RCB_M_IOURING] = "io_uring",
};

int rcb_method_parse(const char *name)
{
	for (int i = 0; i < RCB_M_MAX; i++)
		if (!strcmp(name, method_names[i]))
			return i;
	return -1;
}

const char *rcb_method_name(int method)
{
	return method >= 0 && method < RCB_M_MAX ? method_names[method] : "?";
}

int rcb_method_available(int method)
{
#ifndef RCB_HAVE_URING
	if (method == RCB_M_IOURING)
		return 0;
#endif
	return method >= 0 && method < RCB_M_MAX;
}

uint64_t rcb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void rcb_set_seq(uint8_t *p, uint64_t seq)
{
	for (int i = 7; i >= 0; i--, seq >>= 8)
		p[i] = (uint8_t)seq;
}

void rcb_set_stamp(uint8_t *p, uint64_t ns)
{
	rcb_set_seq(p + offsetof(struct rcb_stamped_hdr, sent_ns), ns);
}

void rcb_fill_payload(uint8_t *p, size_t size, uint64_t seq)
{
	rcb_set_seq(p, seq);
	for (size_t i = sizeof(struct rcb_payload_hdr); i < size; i++)
		p[i] = (uint8_t)i;
}

uint64_t rcb_due(uint64_t t0_ns, uint64_t now_ns, double rate)
{
	if (rate <= 0 || now_ns < t0_ns)
		return rate <= 0 ? UINT64_MAX : 0;
	return (uint64_t)((double)(now_ns - t0_ns) * rate / 1e9) + 1;
}

void rcb_pace(uint64_t t0_ns, uint64_t seq, double rate)
{
	uint64_t due, now;

	if (rate <= 0)
		return;
	due = t0_ns + (uint64_t)((double)seq * 1e9 / rate);
	now = rcb_now_ns();
	/* Sleep most of the gap (the timer slack is set to 1 ns by the
	 * caller's process), then spin the last 20 us: a wake-up comes
	 * tens of us late, which would show as the sender's own jitter. */
	if (due > now + 30000) {
		uint64_t until = due - 20000;
		struct timespec ts = { .tv_sec = (time_t)(until / 1000000000ull),
				       .tv_nsec = (long)(until % 1000000000ull) };

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	while (rcb_now_ns() < due)
		;
}

int rcb_sender_prepare(const struct rcb_send_cfg *cfg, struct rcb_sender **out,
		       char *err, size_t errlen)
{
	struct rcb_sender *s;
	unsigned int slots = 1;
	int ret;

	if (cfg->size < sizeof(struct rcb_payload_hdr) || cfg->size > 1472 || !cfg->ndests) {
		snprintf(err, errlen, "payload must be %zu..1472 bytes and there must be a destination",
			 sizeof(struct rcb_payload_hdr));
		return -EINVAL;
	}
	if (cfg->ngroups > 1 && cfg->ndests % cfg->ngroups) {
		snprintf(err, errlen, "%zu destinations do not split into %zu equal groups",
			 cfg->ndests, cfg->ngroups);
		return -EINVAL;
	}
	if (cfg->stamp && cfg->size < sizeof(struct rcb_stamped_hdr)) {
		snprintf(err, errlen, "stamped payloads need %zu bytes at least",
			 sizeof(struct rcb_stamped_hdr));
		return -EINVAL;
	}
	if (cfg->rate > 0 && cfg->method != RCB_M_SENDTO && cfg->method != RCB_M_GSO) {
		snprintf(err, errlen, "--rate is for sendto and gso only");
		return -EINVAL;
	}
	if (!rcb_method_available(cfg->method)) {
		snprintf(err, errlen, "method %s not built in", rcb_method_name(cfg->method));
		return -ENOTSUP;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	if (!s->cfg.ngroups)
		s->cfg.ngroups = 1;
	/* Paced runs wake up on time: the default 50 us timer slack would
	 * show as latency of the sender's own making. */
	if (cfg->rate > 0)
		prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	s->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (s->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		free(s);
		return ret;
	}
	switch (cfg->method) {
	case RCB_M_GSO: {
		int seg = (int)cfg->size;

		s->gso_segs = RCB_MAX_UDP_PAYLOAD / cfg->size;
		if (s->gso_segs > RCB_BATCH)
			s->gso_segs = RCB_BATCH;
		slots = s->gso_segs;
		if (setsockopt(s->fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg))) {
			ret = -errno;
			snprintf(err, errlen, "setsockopt(UDP_SEGMENT): %s", strerror(errno));
			goto fail;
		}
		break;
	}
	case RCB_M_SENDMMSG:
	case RCB_M_IOURING:
		slots = RCB_BATCH;
		break;
	default:
		break;
	}
	s->buf = malloc((size_t)slots * cfg->size);
	if (!s->buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (unsigned int i = 0; i < slots; i++)
		rcb_fill_payload(s->buf + (size_t)i * cfg->size, cfg->size, 0);
	for (unsigned int i = 0; i < RCB_BATCH && slots == RCB_BATCH; i++) {
		s->iov[i].iov_base = s->buf + (size_t)i * cfg->size;
		s->iov[i].iov_len = cfg->size;
		s->msgs[i].msg_hdr.msg_iov = &s->iov[i];
		s->msgs[i].msg_hdr.msg_iovlen = 1;
		s->msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
	}
#ifdef RCB_HAVE_URING
	if (cfg->method == RCB_M_IOURING) {
		unsigned int flags = 0;

#ifdef IORING_SETUP_SINGLE_ISSUER
		flags |= IORING_SETUP_SINGLE_ISSUER;
#endif
#ifdef IORING_SETUP_COOP_TASKRUN
		flags |= IORING_SETUP_COOP_TASKRUN;
#endif
		ret = io_uring_queue_init(2 * RCB_BATCH, &s->ring, flags);
		if (ret == -EINVAL && flags)
			ret = io_uring_queue_init(2 * RCB_BATCH, &s->ring, 0);
		if (ret) {
			snprintf(err, errlen, "io_uring_queue_init: %s", strerror(-ret));
			goto fail;
		}
		s->ring_ready = 1;
		ret = io_uring_register_files(&s->ring, &s->fd, 1);
		if (ret) {
			snprintf(err, errlen, "io_uring_register_files: %s", strerror(-ret));
			goto fail;
		}
	}
#endif
	/* Bind now so the first send does not pay for picking a port. */
	{
		struct sockaddr_in any = { .sin_family = AF_INET };

		if (bind(s->fd, (struct sockaddr *)&any, sizeof(any))) {
			ret = -errno;
			snprintf(err, errlen, "bind: %s", strerror(errno));
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	rcb_sender_free(s);
	return ret;
}

void rcb_sender_free(struct rcb_sender *s)
{
	if (!s)
		return;
#ifdef RCB_HAVE_URING
	if (s->ring_ready)
		io_uring_queue_exit(&s->ring);
#endif
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	free(s);
}

static void note_error(struct rcb_send_result *res, int err, uint64_t datagrams)
{
	if (!res->first_errno)
		res->first_errno = err;
	res->errors += datagrams;
}

static int past_deadline(const struct rcb_sender *s, struct rcb_send_result *res)
{
	if (rcb_now_ns() < s->deadline_ns)
		return 0;
	res->truncated = 1;
	return 1;
}

/* Group g's destinations: [*first, *first + per). */
static const struct sockaddr_in *group_dests(const struct rcb_send_cfg *c, uint64_t seq, size_t *per)
{
	*per = c->ndests / c->ngroups;
	return c->dests + (size_t)(seq % c->ngroups) * *per;
}

static void run_sendto(struct rcb_sender *s, struct rcb_send_result *res)
{
	const struct rcb_send_cfg *c = &s->cfg;
	unsigned int since_check = 0;
	uint64_t t0 = rcb_now_ns();

	for (uint64_t seq = 0; seq < c->packets; seq++) {
		size_t per;
		const struct sockaddr_in *d = group_dests(c, seq, &per);

		if (c->rate > 0) {
			rcb_pace(t0, seq, c->rate);
			since_check = RCB_CHECK_EVERY - 1;
		}
		rcb_set_seq(s->buf, seq);
		if (c->stamp)
			rcb_set_stamp(s->buf, rcb_now_ns());
		for (size_t i = 0; i < per; i++) {
			ssize_t r = sendto(s->fd, s->buf, c->size, 0,
					   (const struct sockaddr *)&d[i], sizeof(d[i]));

			res->calls++;
			if (r < 0)
				note_error(res, errno, 1);
			else
				res->handed++;
			if (++since_check >= RCB_CHECK_EVERY) {
				since_check = 0;
				if (past_deadline(s, res))
					return;
			}
		}
	}
}

/* Hands msgs[0..n) to the kernel with sendmmsg(), skipping a datagram the
 * kernel refuses (sendmmsg reports that error on the call after). */
static void flush_mmsg(struct rcb_sender *s, unsigned int n, struct rcb_send_result *res)
{
	unsigned int off = 0;

	while (off < n) {
		int r = sendmmsg(s->fd, s->msgs + off, n - off, 0);

		res->calls++;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			note_error(res, errno, 1);
			off++;
		} else {
			res->handed += (unsigned int)r;
			off += (unsigned int)r;
		}
	}
}

#ifdef RCB_HAVE_URING
static void flush_uring(struct rcb_sender *s, unsigned int n, struct rcb_send_result *res)
{
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0, done = 0;
	int r;

	for (unsigned int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

		/* The ring holds 2 * RCB_BATCH entries and is empty here. */
		io_uring_prep_sendmsg(sqe, 0, &s->msgs[i].msg_hdr, 0);
		sqe->flags |= IOSQE_FIXED_FILE;
	}
	do {
		r = io_uring_submit_and_wait(&s->ring, n);
	} while (r == -EINTR);
	res->calls++;
	if (r < 0) {
		note_error(res, -r, n);
		return;
	}
	while (done < n) {
		seen = 0;
		io_uring_for_each_cqe(&s->ring, head, cqe) {
			if (cqe->res < 0)
				note_error(res, -cqe->res, 1);
			else
				res->handed++;
			seen++;
		}
		io_uring_cq_advance(&s->ring, seen);
		done += seen;
		if (done < n) {
			r = io_uring_wait_cqe(&s->ring, &cqe);
			if (r < 0 && r != -EINTR) {
				note_error(res, -r, n - done);
				return;
			}
		}
	}
}
#endif

static void run_batched(struct rcb_sender *s, struct rcb_send_result *res)
{
	const struct rcb_send_cfg *c = &s->cfg;
	unsigned int n = 0;

	for (uint64_t seq = 0; seq < c->packets; seq++) {
		size_t per;
		const struct sockaddr_in *d = group_dests(c, seq, &per);

		for (size_t i = 0; i < per; i++) {
			rcb_set_seq(s->buf + (size_t)n * c->size, seq);
			if (c->stamp)
				rcb_set_stamp(s->buf + (size_t)n * c->size, rcb_now_ns());
			s->msgs[n].msg_hdr.msg_name = (void *)&d[i];
			if (++n < RCB_BATCH)
				continue;
#ifdef RCB_HAVE_URING
			if (c->method == RCB_M_IOURING)
				flush_uring(s, n, res);
			else
#endif
				flush_mmsg(s, n, res);
			n = 0;
			if (past_deadline(s, res))
				return;
		}
	}
	if (n) {
#ifdef RCB_HAVE_URING
		if (c->method == RCB_M_IOURING)
			flush_uring(s, n, res);
		else
#endif
			flush_mmsg(s, n, res);
	}
}

/* One GSO super-packet of k packets to each of a group's receivers.
 * Returns 0, or 1 when the deadline stopped it. */
static int gso_to_group(struct rcb_sender *s, const struct sockaddr_in *d, size_t per, uint64_t k,
			unsigned int *since_check, struct rcb_send_result *res)
{
	const struct rcb_send_cfg *c = &s->cfg;

	for (size_t i = 0; i < per; i++) {
		ssize_t r = sendto(s->fd, s->buf, k * c->size, 0, (const struct sockaddr *)&d[i],
				   sizeof(d[i]));

		res->calls++;
		if (r < 0)
			note_error(res, errno, k);
		else
			res->handed += k;
		if (++*since_check >= 8) {
			*since_check = 0;
			if (past_deadline(s, res))
				return 1;
		}
	}
	return 0;
}

/* Unpaced: blocks of gso_segs packets per group. With G groups a block is
 * gso_segs * G packets in a row (round-robin), and each receiver gets its
 * group's gso_segs of them in one call: the same datagrams in the same
 * order per receiver as the other methods send. Paced: whatever is due
 * (one group only), at most gso_segs. */
static void run_gso(struct rcb_sender *s, struct rcb_send_result *res)
{
	const struct rcb_send_cfg *c = &s->cfg;
	unsigned int since_check = 0;
	uint64_t t0 = rcb_now_ns();
	uint64_t block = (uint64_t)s->gso_segs * c->ngroups;

	if (c->rate > 0) {
		size_t per;
		const struct sockaddr_in *d = group_dests(c, 0, &per);

		for (uint64_t base = 0; base < c->packets;) {
			uint64_t due, k, now;

			rcb_pace(t0, base, c->rate);
			now = rcb_now_ns();
			due = rcb_due(t0, now, c->rate);
			k = (due > c->packets ? c->packets : due) - base;
			if (k > s->gso_segs)
				k = s->gso_segs;
			if (!k)
				k = 1;
			for (uint64_t j = 0; j < k; j++) {
				rcb_set_seq(s->buf + j * c->size, base + j);
				if (c->stamp)
					rcb_set_stamp(s->buf + j * c->size, now);
			}
			since_check = 7;
			if (gso_to_group(s, d, per, k, &since_check, res))
				return;
			base += k;
		}
		return;
	}
	for (uint64_t base = 0; base < c->packets; base += block) {
		for (size_t g = 0; g < c->ngroups; g++) {
			size_t per;
			const struct sockaddr_in *d = group_dests(c, base + g, &per);
			uint64_t k = 0;
			uint64_t now = c->stamp ? rcb_now_ns() : 0;

			for (uint64_t seq = base + g; seq < base + block && seq < c->packets;
			     seq += c->ngroups, k++) {
				rcb_set_seq(s->buf + k * c->size, seq);
				if (c->stamp)
					rcb_set_stamp(s->buf + k * c->size, now);
			}
			if (k && gso_to_group(s, d, per, k, &since_check, res))
				return;
		}
	}
}

void rcb_sender_run(struct rcb_sender *s, uint64_t deadline_ns, struct rcb_send_result *res)
{
	uint64_t t0;

	s->deadline_ns = deadline_ns;
	memset(res, 0, sizeof(*res));
	t0 = rcb_now_ns();
	switch (s->cfg.method) {
	case RCB_M_SENDTO:
		run_sendto(s, res);
		break;
	case RCB_M_GSO:
		run_gso(s, res);
		break;
	case RCB_M_SENDMMSG:
	case RCB_M_IOURING:
		run_batched(s, res);
		break;
	default:
		break;
	}
	res->send_ns = rcb_now_ns() - t0;
}
