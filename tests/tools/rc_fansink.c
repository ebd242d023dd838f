// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * rc_fansink - many checking UDP receivers in one process, for fan-outs of
 * thousands of subscribers, where one rc_sink process per socket would cost
 * more than the sender under test.
 *
 *   rc_fansink --listen-file FILE --expect N [--size BYTES] [--seed S]
 *              [--timeout-ms MS] [--idle-ms MS] [--rcvbuf BYTES]
 *              [--report FILE] [--ready-file FILE]
 *
 * FILE holds one IPv4 ADDR:PORT per line; each gets a socket of its own.
 * Every datagram is checked as rc_sink checks it (rc_blast's payload, see
 * tool_common.h): its length and every payload byte against its sequence
 * number, which must lie in 0 .. N-1 and come once per socket. One that
 * arrives after a higher one is counted as reordered, and does not fail the
 * run (copies of one stream may be delivered from two CPUs' backlogs). Stops when every socket has N, after
 * --idle-ms (default 3000) without a datagram once one came, or after
 * --timeout-ms (default 60000). Report: one line of key=value pairs; exit 0
 * only when every socket got exactly N datagrams, all of them right.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
/* tool_common.h carries helpers this tool does not need (the checksum). */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "tool_common.h"

#define MAX_SOCKETS 65536
#define BATCH 64
#define MAX_DGRAM 2048

struct rx {
	int fd;
	uint64_t got, bad, reordered, next;	/* next: one past the highest seen */
	uint8_t *seen;				/* a bit per sequence number */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 0 for a right datagram not seen before on this socket. */
static int check(struct rx *r, const uint8_t *p, size_t len, uint64_t expect, uint64_t size,
		 uint32_t seed)
{
	uint64_t seq = 0;
	size_t i;

	if (len != size || len < 8)
		return -1;
	for (i = 0; i < 8; i++)
		seq = seq << 8 | p[i];
	if (seq >= expect || (r->seen[seq / 8] & (1u << (seq % 8))))
		return -1;
	r->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	if (seq < r->next)
		r->reordered++;
	else
		r->next = seq + 1;
	for (i = 8; i < len; i++)
		if (p[i] != payload_byte(seq, seed, (uint32_t)i))
			return -1;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: rc_fansink --listen-file FILE --expect N [--size B] [--seed S]\n"
			"       [--timeout-ms MS] [--idle-ms MS] [--rcvbuf B] [--report F] [--ready-file F]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "listen-file", 1, 0, 'l' }, { "expect", 1, 0, 'n' }, { "size", 1, 0, 's' },
		{ "seed", 1, 0, 'S' },	      { "timeout-ms", 1, 0, 't' }, { "idle-ms", 1, 0, 'i' },
		{ "rcvbuf", 1, 0, 'b' },      { "report", 1, 0, 'r' },	{ "ready-file", 1, 0, 'R' },
		{ 0, 0, 0, 0 }
	};
	uint64_t expect = 0, size = 64, seed = 0, timeout = 60000, idle = 3000, rcvbuf = 4 << 20;
	const char *listen_file = NULL, *report = NULL, *ready = NULL;
	static uint8_t bufs[BATCH][MAX_DGRAM];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct rx *rx;
	char line[256], out[512];
	size_t n = 0, i, done = 0, full = 0;
	uint64_t start, last = 0, total = 0, bad = 0, extra = 0, reordered = 0;
	int c, ep, ok;
	FILE *f;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'l': listen_file = optarg; break;
		case 'n': if (parse_u64(optarg, 10000000, &expect)) usage(); break;
		case 's': if (parse_u64(optarg, MAX_DGRAM, &size)) usage(); break;
		case 'S': if (parse_u64(optarg, UINT32_MAX, &seed)) usage(); break;
		case 't': if (parse_u64(optarg, 600000, &timeout)) usage(); break;
		case 'i': if (parse_u64(optarg, 600000, &idle)) usage(); break;
		case 'b': if (parse_u64(optarg, 1 << 30, &rcvbuf)) usage(); break;
		case 'r': report = optarg; break;
		case 'R': ready = optarg; break;
		default: usage();
		}
	}
	if (!listen_file || !expect)
		usage();
	f = fopen(listen_file, "r");
	rx = calloc(MAX_SOCKETS, sizeof(*rx));
	ep = epoll_create1(0);
	if (!f || !rx || ep < 0) {
		perror("rc_fansink");
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct sockaddr_storage ss;
		struct epoll_event ev = { .events = EPOLLIN };
		socklen_t sl;
		int port, v = (int)rcvbuf;

		line[strcspn(line, "\r\n")] = 0;
		if (!line[0])
			continue;
		if (n == MAX_SOCKETS || parse_endpoint(line, &ss, &sl, &port) || port < 0) {
			fprintf(stderr, "rc_fansink: bad or too many endpoints: %s\n", line);
			return 2;
		}
		rx[n].seen = calloc(expect / 8 + 1, 1);
		if (!rx[n].seen) {
			perror("rc_fansink");
			return 1;
		}
		rx[n].fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		/* FORCE: past rmem_max, so a burst of the whole fan-out waits in
		 * the socket instead of being dropped there. */
		if (rx[n].fd < 0 ||
		    (setsockopt(rx[n].fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) &&
		     setsockopt(rx[n].fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v))) ||
		    bind(rx[n].fd, (struct sockaddr *)&ss, sl)) {
			fprintf(stderr, "rc_fansink: %s: %s\n", line, strerror(errno));
			return 1;
		}
		ev.data.u64 = n;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, rx[n].fd, &ev)) {
			perror("rc_fansink: epoll_ctl");
			return 1;
		}
		n++;
	}
	fclose(f);
	if (ready) {
		f = fopen(ready, "w");
		if (f)
			fclose(f);
	}
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = MAX_DGRAM;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	start = now_ms();
	while (done < n) {
		struct epoll_event evs[256];
		uint64_t t = now_ms();
		int k, e;

		if (t - start >= timeout || (last && t - last >= idle))
			break;
		e = epoll_wait(ep, evs, 256, 100);
		for (k = 0; k < e; k++) {
			struct rx *r = &rx[evs[k].data.u64];
			int got, j;

			while ((got = recvmmsg(r->fd, msgs, BATCH, MSG_DONTWAIT, NULL)) > 0) {
				last = now_ms();
				for (j = 0; j < got; j++) {
					if (r->got >= expect)
						extra++;
					else if (check(r, bufs[j], msgs[j].msg_len, expect, size,
						       (uint32_t)seed))
						r->bad++;
					r->got++;
				}
				if (got < BATCH)
					break;
			}
		}
		done = 0;
		for (i = 0; i < n; i++)
			done += rx[i].got >= expect;
	}
	for (i = 0; i < n; i++) {
		total += rx[i].got;
		bad += rx[i].bad;
		reordered += rx[i].reordered;
		full += rx[i].got == expect && !rx[i].bad;
	}
	ok = full == n && !bad && !extra;
	snprintf(out, sizeof(out),
		 "sockets=%zu expect=%" PRIu64 " complete=%zu received=%" PRIu64 " bad=%" PRIu64
		 " extra=%" PRIu64 " reordered=%" PRIu64 " seconds=%.3f result=%s\n",
		 n, expect, full, total, bad, extra, reordered, (double)(now_ms() - start) / 1000.0,
		 ok ? "pass" : "fail");
	fputs(out, stdout);
	if (report) {
		f = fopen(report, "w");
		if (f) {
			fputs(out, f);
			fclose(f);
		}
	}
	return ok ? 0 : 1;
}
