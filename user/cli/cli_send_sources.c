// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast send`'s packet sources: generated numbered packets, a UDP
 * gateway (recvmmsg, drops read from SO_RXQ_OVFL) and a capture replayed
 * through libpcap, each paced by --rate and shown as progress on a terminal.
 * The send phase's system calls are counted, so nothing here allocates. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <pcap/pcap.h>
#include "cli_send.h"

volatile sig_atomic_t send_stop_signal;

void send_on_signal(int sig)
{
	send_stop_signal = sig;
}

uint64_t send_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* With --rate, a batch holds at most what the rate allows in this long
 * (ns): 256 packets at 12,000 pps and more, one at 40 pps and less. A whole
 * batch goes out at once, so a batch of 256 at 50 pps would be sent in one
 * burst and the run would end long before count / rate. */
#define PACE_SLICE_NS		25000000ULL

/* Packets per paced hand-over: the batch, cut to what --rate allows in
 * PACE_SLICE_NS, at least one. */
static uint64_t pace_batch(const struct send_opts *o)
{
	uint64_t n = (uint64_t)o->rate * PACE_SLICE_NS / 1000000000ULL;

	if (!o->rate || n >= o->sopts.batch_size)
		return o->sopts.batch_size;
	return n ? n : 1;
}

/* Sleeps until packet `n` is due at --rate: one system call, only when ahead. */
static void pace(struct run *r, uint64_t n)
{
	uint64_t due;
	struct timespec ts;

	if (!r->o->rate)
		return;
	due = r->start_ns + n * 1000000000ULL / r->o->rate;
	if (send_now_ns() >= due)
		return;
	ts.tv_sec = (time_t)(due / 1000000000ULL);
	ts.tv_nsec = (long)(due % 1000000000ULL);
	r->sleeps++;
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

uint64_t send_cli_syscalls(const struct run *r)
{
	return r->sleeps + r->reads + r->writes + r->queries;
}

void send_progress(struct run *r, bool final)
{
	struct replicast_sender_stats st = { .sz = sizeof(st) };
	uint64_t now = send_now_ns();
	double secs;
	char line[200], dropped[48] = "";
	int n;

	if (!r->progress || (!final && now - r->last_progress_ns < PROGRESS_NS))
		return;
	r->last_progress_ns = now;
	replicast_sender_stats(r->s, &st);
	secs = (double)(now - r->start_ns) / 1e9;
	if (r->o->kind == SRC_UDP)
		snprintf(dropped, sizeof(dropped), ", %" PRIu64 " dropped at the socket",
			 r->sock_drops);
	if (r->o->xdp)
		n = snprintf(line, sizeof(line), "\r%" PRIu64 " packets, %.0f pps, %" PRIu64
			     " copies, %.0f copies/s%s%s", st.sent,
			     secs > 0 ? (double)st.sent / secs : 0.0, st.copies,
			     secs > 0 ? (double)st.copies / secs : 0.0, dropped,
			     final ? "\n" : "   ");
	else
		n = snprintf(line, sizeof(line), "\r%" PRIu64 " packets, %.0f pps, %" PRIu64
			     " kicks, %.5f kicks per packet%s%s", st.sent,
			     secs > 0 ? (double)st.sent / secs : 0.0, st.kicks,
			     st.sent ? (double)st.kicks / (double)st.sent : 0.0, dropped,
			     final ? "\n" : "   ");
	r->writes++;
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		r->progress = false;
}

/* Queues one payload; when the kernel still holds every frame, hands the
 * batch over and tries once more. Never drops: an error stops the run. */
static int send_one(struct run *r, const void *payload, size_t len)
{
	int err = replicast_sender_queue(r->s, &r->o->group, payload, len);

	if (err == -ENOBUFS) {
		err = replicast_sender_flush(r->s);
		if (!err)
			err = replicast_sender_queue(r->s, &r->o->group, payload, len);
	}
	if (err)
		r->err = err;
	else
		r->packets++;
	return err;
}

/* ---- --gen ---- */

/* rc_blast's payload (tests/tools/rc_blast.c), so rc_sink can check it. */
static void gen_payload(uint8_t *p, unsigned int size, uint64_t seq, uint32_t seed)
{
	unsigned int i;

	for (i = 0; i < 8 && i < size; i++)
		p[i] = (uint8_t)(seq >> (56 - 8 * i));
	for (i = 8; i < size; i++) {
		uint32_t v = (uint32_t)seq * 0x9E3779B1u + seed * 0x85EBCA77u + i * 0xC2B2AE3Du;

		p[i] = (uint8_t)(v ^ (v >> 15) ^ (v >> 24));
	}
}

int send_run_gen(struct run *r)
{
	const struct send_opts *o = r->o;
	uint64_t batch = pace_batch(o);
	uint8_t *payload = r->buf;
	uint64_t n;
	int err = 0;

	for (n = 0; n < o->count && !err && !send_stop_signal; n++) {
		/* Whole batches are paced, so a batch still costs one kick;
		 * the queued ones go out before a sleep, not after it. The
		 * XDP engine takes packets as they come: a flush would only
		 * drain it. */
		if (n % batch == 0) {
			if (n && !o->xdp)
				err = replicast_sender_flush(r->s);
			if (err)
				break;
			send_progress(r, false);
			pace(r, n);
		}
		gen_payload(payload, o->size, o->first + n, o->seed);
		err = send_one(r, payload, o->size);
	}
	return err;
}

/* ---- --udp-listen ---- */

int send_listen_socket(const struct replicast_endpoint *ep, unsigned int rcvbuf)
{
	struct sockaddr_storage ss;
	struct timeval tv = { .tv_usec = LISTEN_TICK_MS * 1000 };
	int fd, buf = rcvbuf ? (int)rcvbuf : GATEWAY_RCVBUF, one = 1;
	socklen_t sl = replicast_endpoint_sockaddr(ep, &ss);

	fd = socket(ep->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Senders may burst faster than one batch is handed over; FORCE
	 * passes rmem_max, which root may. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Every datagram then carries the socket's drop count so far
	 * (sock_recv_drops()): losses at a full buffer are seen, not guessed. */
	if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one))) {
		int err = -errno;

		close(fd);
		return err;
	}
	/* A tick, so a blocked recvmmsg() returns to look at signals and --idle-ms. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    bind(fd, (struct sockaddr *)&ss, sl)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* The socket's drop count as of this datagram, from its SO_RXQ_OVFL
 * message (absent while nothing was dropped). A 32-bit counter. */
static void note_drops(struct run *r, struct msghdr *mh)
{
	struct cmsghdr *cm;
	uint32_t v;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SO_RXQ_OVFL ||
		    cm->cmsg_len < CMSG_LEN(sizeof(v)))
			continue;
		memcpy(&v, CMSG_DATA(cm), sizeof(v));
		if (v > r->sock_drops)
			r->sock_drops = v;
	}
}

/* Drops after the last datagram read carry no message: the socket's own
 * count (SO_MEMINFO, SK_MEMINFO_DROPS) tells them. One system call. */
static void final_drops(struct run *r, int fd)
{
	uint32_t mem[SK_MEMINFO_VARS] = {};
	socklen_t len = sizeof(mem);

	r->queries++;
	if (!getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) &&
	    len > SK_MEMINFO_DROPS * sizeof(mem[0]) && mem[SK_MEMINFO_DROPS] > r->sock_drops)
		r->sock_drops = mem[SK_MEMINFO_DROPS];
}

int send_run_udp(struct run *r, int fd)
{
	const struct send_opts *o = r->o;
	unsigned int batch = o->sopts.batch_size, i;
	size_t max = replicast_sender_max_payload(r->s, o->group.family);
	struct mmsghdr *msgs = r->msgs;
	struct iovec *iov = r->iov;
	uint8_t *bufs = r->buf;
	uint64_t got = 0, last_ns = 0;
	int err = 0, n;

	while (!err && !send_stop_signal && (!o->count || got < o->count)) {
		for (i = 0; i < batch; i++) {
			/* One byte more than fits: a longer datagram shows as
			 * longer, not as a silently cut one. */
			iov[i].iov_base = bufs + (size_t)i * (max + 1);
			iov[i].iov_len = max + 1;
			memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_control = r->ctrl + (size_t)i * OVFL_CMSG_SPACE;
			msgs[i].msg_hdr.msg_controllen = OVFL_CMSG_SPACE;
		}
		n = batch;
		if (o->count && o->count - got < (uint64_t)n)
			n = (int)(o->count - got);
		r->reads++;
		/* Blocks for the first datagram (up to a tick), then takes what
		 * else is queued without waiting. */
		n = recvmmsg(fd, msgs, (unsigned int)n, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				err = -errno;
				break;
			}
			send_progress(r, false);
			if (o->idle_ms && last_ns &&
			    send_now_ns() - last_ns >= (uint64_t)o->idle_ms * 1000000ULL)
				break;
			continue;
		}
		last_ns = send_now_ns();
		for (i = 0; i < (unsigned int)n && !err; i++) {
			got++;
			note_drops(r, &msgs[i].msg_hdr);
			if (msgs[i].msg_len > max || (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)) {
				r->too_big++;
				continue;
			}
			err = send_one(r, iov[i].iov_base, msgs[i].msg_len);
		}
		if (!err && !o->xdp)
			err = replicast_sender_flush(r->s);
		send_progress(r, false);
	}
	final_drops(r, fd);
	return err;
}

/* ---- --pcap ---- */


ssize_t send_cookie_read(void *c, char *buf, size_t size)
{
	struct pcap_cookie *pc = c;

	pc->r->reads++;
	return read(pc->fd, buf, size);
}

int send_cookie_close(void *c)
{
	return close(((struct pcap_cookie *)c)->fd);
}

int send_run_pcap(struct run *r, pcap_t *pc)
{
	size_t max = replicast_sender_max_payload(r->s, r->o->group.family), len;
	uint64_t batch = pace_batch(r->o);
	int dlt = pcap_datalink(pc), err = 0, ret;
	struct pcap_pkthdr *h;
	const uint8_t *data, *payload;
	uint64_t n = 0;

	while (!err && !send_stop_signal) {
		ret = pcap_next_ex(pc, &h, &data);
		if (ret == PCAP_ERROR_BREAK)
			break;
		if (ret != 1) {
			/* What was read before still goes out: the caller
			 * flushes, then reports the cut record. */
			r->read_failed = true;
			break;
		}
		r->records++;
		if (cli_udp_payload(dlt, data, h->caplen, &payload, &len)) {
			r->skipped++;
			continue;
		}
		if (len > max) {
			r->too_big++;
			continue;
		}
		if (n % batch == 0) {
			if (n && !r->o->xdp)
				err = replicast_sender_flush(r->s);
			if (err)
				break;
			send_progress(r, false);
			pace(r, n);
		}
		n++;
		err = send_one(r, payload, len);
	}
	return err;
}
