// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Latency receivers (see rcb_latency.h). The receive timestamp is the
 * kernel's (CLOCK_REALTIME, taken when the receiver namespace's stack takes
 * the packet in, before the socket queue), so the reader's own scheduling
 * on this busy 2-CPU machine is not in the figure: what is measured is the
 * path from the sender's hand-off to the receiver's socket. It is turned
 * into CLOCK_MONOTONIC, the sender's clock, with the offset between the two
 * read when the sockets open (the tightest of several paired reads). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/net_tstamp.h>
#include <sys/socket.h>
#include "rcb_common.h"
#include "rcb_latency.h"

#define LAT_MAX_SOCKS 256
#define LAT_MAX_SAMPLES (8u << 20)	/* 64 MiB of samples at most */
#define LAT_BATCH 64

struct rcb_lat {
	int fds[LAT_MAX_SOCKS];
	int n;
	int64_t rt_minus_mono;		/* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	int64_t *samples;
	size_t nsamples, cap;
};

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000ll + t->tv_nsec;
}

static int64_t clock_offset(void)
{
	int64_t best_win = INT64_MAX, off = 0;

	for (int i = 0; i < 9; i++) {
		struct timespec m1, r, m2;

		clock_gettime(CLOCK_MONOTONIC, &m1);
		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_MONOTONIC, &m2);
		if (ts_ns(&m2) - ts_ns(&m1) < best_win) {
			best_win = ts_ns(&m2) - ts_ns(&m1);
			off = ts_ns(&r) - (ts_ns(&m1) + ts_ns(&m2)) / 2;
		}
	}
	return off;
}

static int open_in(const char *netns, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int nsfd, self, fd = -1, one = 1, buf = 8 << 20;

	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	nsfd = open(netns, O_RDONLY | O_CLOEXEC);
	if (self < 0 || nsfd < 0 || setns(nsfd, CLONE_NEWNET)) {
		snprintf(err, errlen, "entering %s: %s", netns, strerror(errno));
		goto out;
	}
	/* A socket stays in the namespace it was made in. */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(err, errlen, "latency socket in %s: %s", netns, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	} else if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf))) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	}
	if (setns(self, CLONE_NEWNET)) {
		snprintf(err, errlen, "setns back: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
out:
	if (self >= 0)
		close(self);
	if (nsfd >= 0)
		close(nsfd);
	return fd;
}

int rcb_lat_open(const char *netns_file, uint16_t port, struct rcb_lat **out, char *err,
		 size_t errlen)
{
	struct rcb_lat *l = calloc(1, sizeof(*l));
	char line[512];
	FILE *f;

	if (!l)
		return -ENOMEM;
	f = fopen(netns_file, "re");
	if (!f) {
		snprintf(err, errlen, "open %s: %s", netns_file, strerror(errno));
		free(l);
		return -ENOENT;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \t\r\n")] = '\0';
		if (!line[0])
			continue;
		if (l->n == LAT_MAX_SOCKS) {
			snprintf(err, errlen, "more than %d latency namespaces", LAT_MAX_SOCKS);
			goto fail;
		}
		l->fds[l->n] = open_in(line, port, err, errlen);
		if (l->fds[l->n] < 0)
			goto fail;
		l->n++;
	}
	fclose(f);
	f = NULL;
	l->rt_minus_mono = clock_offset();
	*out = l;
	return 0;
fail:
	if (f)
		fclose(f);
	rcb_lat_free(l);
	return -EINVAL;
}

int rcb_lat_pollfds(const struct rcb_lat *l, struct pollfd *p, int max)
{
	int n = 0;

	for (int i = 0; l && i < l->n && n < max; i++, n++) {
		p[n].fd = l->fds[i];
		p[n].events = POLLIN;
		p[n].revents = 0;
	}
	return n;
}

static void add_sample(struct rcb_lat *l, int64_t v)
{
	if (l->nsamples == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 65536;
		int64_t *n;

		if (cap > LAT_MAX_SAMPLES)
			return;
		n = realloc(l->samples, cap * sizeof(*n));
		if (!n)
			return;
		l->samples = n;
		l->cap = cap;
	}
	l->samples[l->nsamples++] = v;
}

uint64_t rcb_lat_drain(struct rcb_lat *l)
{
	struct mmsghdr m[LAT_BATCH];
	struct iovec iov[LAT_BATCH];
	uint8_t data[LAT_BATCH][sizeof(struct rcb_stamped_hdr)];
	/* Room for one SCM_TIMESTAMPNS each. */
	char ctl[LAT_BATCH][CMSG_SPACE(sizeof(struct timespec)) + 64];
	uint64_t got = 0;

	if (!l)
		return 0;
	for (int s = 0; s < l->n; s++) {
		for (;;) {
			int r;

			memset(m, 0, sizeof(m));
			for (int i = 0; i < LAT_BATCH; i++) {
				iov[i].iov_base = data[i];
				iov[i].iov_len = sizeof(data[i]);
				m[i].msg_hdr.msg_iov = &iov[i];
				m[i].msg_hdr.msg_iovlen = 1;
				m[i].msg_hdr.msg_control = ctl[i];
				m[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
			}
			r = recvmmsg(l->fds[s], m, LAT_BATCH, MSG_DONTWAIT, NULL);
			if (r <= 0)
				break;
			got += (uint64_t)r;
			for (int i = 0; i < r; i++) {
				struct cmsghdr *c;
				uint64_t sent = 0;

				/* Payloads shorter than the stamp carry none. */
				if (m[i].msg_len < sizeof(struct rcb_stamped_hdr))
					continue;
				for (int b = 8; b < 16; b++)
					sent = sent << 8 | data[i][b];
				for (c = CMSG_FIRSTHDR(&m[i].msg_hdr); c; c = CMSG_NXTHDR(&m[i].msg_hdr, c)) {
					struct timespec ts;

					if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
						continue;
					memcpy(&ts, CMSG_DATA(c), sizeof(ts));
					add_sample(l, ts_ns(&ts) - l->rt_minus_mono - (int64_t)sent);
				}
			}
			if (r < LAT_BATCH)
				break;
		}
	}
	return got;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(const int64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return (double)v[i < n ? i : n - 1];
}

void rcb_lat_result(struct rcb_lat *l, struct rcb_lat_result *r)
{
	memset(r, 0, sizeof(*r));
	if (!l || !l->nsamples)
		return;
	qsort(l->samples, l->nsamples, sizeof(*l->samples), cmp_i64);
	r->samples = l->nsamples;
	r->p50_ns = pct(l->samples, l->nsamples, 0.50);
	r->p99_ns = pct(l->samples, l->nsamples, 0.99);
	r->p999_ns = pct(l->samples, l->nsamples, 0.999);
	r->max_ns = (double)l->samples[l->nsamples - 1];
}

void rcb_lat_free(struct rcb_lat *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->n; i++)
		close(l->fds[i]);
	free(l->samples);
	free(l);
}
