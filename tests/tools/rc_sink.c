// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * rc_sink - verifying UDP receiver for replicast tests.
 *
 *   rc_sink --listen ADDR:PORT --expect N [--size BYTES] [--seed S]
 *           [--first SEQ] [--timeout-ms MS] [--idle-ms MS] [--linger-ms MS]
 *           [--from ADDR[:PORT]] [--capture IFNAME] [--require-full-csum]
 *           [--rcvbuf BYTES] [--report FILE] [--ready-file FILE]
 *
 * Receives datagrams produced by rc_blast (see rc_blast.c for the payload
 * formula) and checks every one: length, every payload byte, strictly
 * consecutive sequence numbers starting at --first (no gap, duplicate or
 * reordering), source address (and port) against --from, and the
 * destination address (IP_PKTINFO) against --listen when that is not a
 * wildcard.
 *
 * With --capture IFNAME an AF_PACKET socket on IFNAME sees every incoming
 * frame whose IP destination and UDP destination port match --listen
 * (a wildcard --listen address matches any destination of that family)
 * and validates the IPv4 header checksum, the UDP length against the IP
 * length and the UDP checksum over the pseudo-header; a zero UDP checksum
 * is an error for both IPv4 and IPv6.  Frames still carrying
 * CHECKSUM_PARTIAL (TP_STATUS_CSUMNOTREADY) are counted as csum_not_ready
 * and their UDP checksum is not judged (an error only with
 * --require-full-csum).  Fragmented datagrams cannot be judged: keep
 * --size within the MTU when capturing.
 *
 * Stops when N datagrams arrived (then waits --linger-ms, default 0, and
 * counts anything more as a failure), when --idle-ms (default 1500) passes
 * without a datagram after the first one, after --timeout-ms (default
 * 30000) in total, or on SIGINT/SIGTERM.  With --expect 0 it listens for
 * the whole --timeout-ms and passes only if nothing arrived.
 *
 * Prints "ready" (and creates --ready-file) once all sockets are bound,
 * then one report line of key=value pairs at the end (also to --report).
 * Exit: 0 pass, 1 verification failure or runtime error, 2 usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "tool_common.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define MAX_EXPECT 10000000ULL
#define MAX_TIMEOUT_MS 600000ULL
#define MAX_LINGER_MS 60000ULL
#define MIN_SIZE 8
#define MAX_SIZE 65527
#define DEFAULT_SIZE 64
#define DEFAULT_RCVBUF (8u << 20)
#define RXBUF_LEN (65536 + 64)
#define CAPBUF_LEN (256 * 1024)

struct opts {
	struct sockaddr_storage listen;
	socklen_t listen_len;
	int listen_any;
	uint64_t expect, size, seed, first;
	uint64_t timeout_ms, idle_ms, linger_ms, rcvbuf;
	int have_from, from_port;
	struct sockaddr_storage from;
	const char *capture, *report, *ready_file, *record;
	int require_full_csum;
	FILE *record_file;	/* --record: every sequence number, one per line */
};

struct stats {
	/* socket side */
	uint64_t received, seq_errors, bad_size, bad_payload, bad_source, bad_dest;
	uint64_t next_seq;
	char first_error[200];
	const char *stop;
	/* capture side */
	uint64_t captured, bad_ip_csum, bad_udp_csum, zero_udp_csum, bad_udp_len;
	uint64_t csum_not_ready, bad_pkttype, cap_truncated, cap_fragments, cap_drops;
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rc_sink --listen ADDR:PORT --expect N [options]\n"
		"  --listen ADDR:PORT     bind address; IPv6 as [ADDR]:PORT\n"
		"  --expect N             datagrams expected (0..%llu)\n"
		"  --size BYTES           expected payload size, default %d\n"
		"  --seed S               payload seed (as rc_blast), default 0\n"
		"  --first SEQ            first expected sequence number, default 0\n"
		"  --timeout-ms MS        total time limit, default 30000 (max %llu)\n"
		"  --idle-ms MS           stop after MS without data once data came,\n"
		"                         default 1500\n"
		"  --record FILE          write every sequence number received to FILE,\n"
		"                         one per line (for receivers that join and leave)\n"
		"  --linger-ms MS         after N arrived keep listening MS for extras,\n"
		"                         default 0\n"
		"  --from ADDR[:PORT]     required source address (and port)\n"
		"  --capture IFNAME       also validate checksums of captured frames\n"
		"  --require-full-csum    with --capture: csum_not_ready is an error\n"
		"  --rcvbuf BYTES         socket receive buffer, default %u\n"
		"  --report FILE          also write the report line to FILE\n"
		"  --ready-file FILE      create FILE once ready\n"
		"  --help                 this text\n"
		"prints \"ready\" when listening, then one key=value report line;\n"
		"exit 0 pass, 1 failure or error, 2 usage error\n",
		MAX_EXPECT, DEFAULT_SIZE, MAX_TIMEOUT_MS, DEFAULT_RCVBUF);
}

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("rc_sink: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((noreturn, format(printf, 1, 2))) usage_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("rc_sink: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see --help)\n", stderr);
	exit(2);
}

static void __attribute__((format(printf, 2, 3))) note_error(struct stats *st, const char *fmt, ...)
{
	va_list ap;

	if (st->first_error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(st->first_error, sizeof(st->first_error), fmt, ap);
	va_end(ap);
	/* keep the report line parseable */
	for (char *p = st->first_error; *p; p++)
		if (*p == '"' || *p == '\\' || *p == '\n')
			*p = '\'';
}




static const void *sa_addr(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return &((const struct sockaddr_in *)ss)->sin_addr;
	return &((const struct sockaddr_in6 *)ss)->sin6_addr;
}

static int sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static size_t sa_addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static void fmt_sa(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(ss->ss_family, sa_addr(ss), a, sizeof(a));
	if (ss->ss_family == AF_INET6)
		snprintf(out, outlen, "[%s]:%d", a, sa_port(ss));
	else
		snprintf(out, outlen, "%s:%d", a, sa_port(ss));
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000ULL + (uint64_t)ts.tv_nsec / 1000000ULL;
}


static void set_rcvbuf(int fd, uint64_t bytes)
{
	int v = bytes > INT32_MAX / 2 ? INT32_MAX / 2 : (int)bytes;

	/* SO_RCVBUFFORCE ignores rmem_max (needs CAP_NET_ADMIN) */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

/* ---------------------------------------------------------------- socket */

static void check_datagram(const struct opts *o, struct stats *st, const uint8_t *buf, size_t len,
			   int truncated, const struct sockaddr_storage *src, const void *dst_addr)
{
	uint64_t idx = st->received;   /* 0-based index of this datagram */
	uint64_t seq = 0;
	int have_seq = len >= 8;
	char sbuf[80];

	st->received++;
	if (have_seq)
		for (int b = 0; b < 8; b++)
			seq = (seq << 8) | buf[b];

	if (truncated || len != o->size) {
		st->bad_size++;
		note_error(st, "datagram #%" PRIu64 ": size %zu%s, expected %" PRIu64, idx, len,
			   truncated ? "+ (truncated)" : "", o->size);
	}
	if (have_seq && o->record_file)
		fprintf(o->record_file, "%" PRIu64 "\n", seq);
	if (!have_seq) {
		st->seq_errors++;
		note_error(st, "datagram #%" PRIu64 ": too short for a sequence number", idx);
	} else {
		if (st->received > o->expect) {
			note_error(st, "extra datagram seq %" PRIu64 " after %" PRIu64 " expected", seq,
				   o->expect);
		}
		if (seq != st->next_seq) {
			st->seq_errors++;
			if (seq > st->next_seq)
				note_error(st, "gap: expected seq %" PRIu64 ", got %" PRIu64, st->next_seq, seq);
			else
				note_error(st, "duplicate or reordered: expected seq %" PRIu64 ", got %" PRIu64,
					   st->next_seq, seq);
		}
		if (seq >= st->next_seq)
			st->next_seq = seq + 1;
		for (size_t i = 8; i < len; i++) {
			uint8_t want = payload_byte(seq, (uint32_t)o->seed, (uint32_t)i);

			if (buf[i] != want) {
				st->bad_payload++;
				note_error(st, "seq %" PRIu64 ": payload byte %zu is 0x%02x, expected 0x%02x", seq, i,
					   buf[i], want);
				break;
			}
		}
	}
	if (o->have_from) {
		int bad = src->ss_family != o->from.ss_family ||
			  memcmp(sa_addr(src), sa_addr(&o->from), sa_addr_len(src->ss_family)) ||
			  (o->from_port >= 0 && sa_port(src) != o->from_port);

		if (bad) {
			char want[80];

			st->bad_source++;
			fmt_sa(src, sbuf, sizeof(sbuf));
			fmt_sa(&o->from, want, sizeof(want));
			note_error(st, "seq %" PRIu64 ": source %s, expected %s%s", seq, sbuf, want,
				   o->from_port < 0 ? " (any port)" : "");
		}
	}
	if (!o->listen_any) {
		if (!dst_addr || memcmp(dst_addr, sa_addr(&o->listen), sa_addr_len(o->listen.ss_family))) {
			char a[INET6_ADDRSTRLEN] = "unknown";

			st->bad_dest++;
			if (dst_addr)
				inet_ntop(o->listen.ss_family, dst_addr, a, sizeof(a));
			note_error(st, "seq %" PRIu64 ": destination address %s", seq, a);
		}
	}
}

/* Read queued datagrams; stop at `limit` total.  Returns 1 if anything was read. */
static int drain_socket(int fd, const struct opts *o, struct stats *st, uint8_t *buf, uint64_t limit)
{
	int any = 0;

	while (st->received < limit) {
		struct sockaddr_storage src;
		union {
			char buf[256];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { .iov_base = buf, .iov_len = RXBUF_LEN };
		struct msghdr msg = {
			.msg_name = &src,
			.msg_namelen = sizeof(src),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		const void *dst = NULL;

		memset(&src, 0, sizeof(src));
		ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			fail("recvmsg: %s", strerror(errno));
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
				dst = &((struct in_pktinfo *)CMSG_DATA(c))->ipi_addr;
			else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
				dst = &((struct in6_pktinfo *)CMSG_DATA(c))->ipi6_addr;
		}
		check_datagram(o, st, buf, (size_t)n > RXBUF_LEN ? RXBUF_LEN : (size_t)n,
			       (msg.msg_flags & MSG_TRUNC) != 0, &src, dst);
		any = 1;
	}
	return any;
}

/* --------------------------------------------------------------- capture */

static int dst_matches(const struct opts *o, const uint8_t *daddr, const uint8_t *dport)
{
	const struct sockaddr_storage *l = &o->listen;

	if (((dport[0] << 8) | dport[1]) != sa_port(l))
		return 0;
	return o->listen_any || !memcmp(daddr, sa_addr(l), sa_addr_len(l->ss_family));
}

static void check_frame(const struct opts *o, struct stats *st, const uint8_t *p, size_t caplen,
			size_t origlen, int pkttype, uint32_t status)
{
	const uint8_t *udp;
	size_t l4len;          /* bytes of UDP header+data according to the IP header */
	uint32_t sum = 0;
	uint8_t tail[8] = { 0 };

	if (o->listen.ss_family == AF_INET) {
		if (caplen < 20 || (p[0] >> 4) != 4)
			return;
		size_t ihl = (size_t)(p[0] & 0x0f) * 4;
		size_t tot = (size_t)((p[2] << 8) | p[3]);
		uint16_t frag = (uint16_t)((p[6] << 8) | p[7]);

		if (ihl < 20 || caplen < ihl || p[9] != IPPROTO_UDP)
			return;
		if (frag & 0x1fff)
			return;            /* non-first fragment: no ports to match */
		if (caplen < ihl + 8 || !dst_matches(o, p + 16, p + ihl + 2))
			return;
		st->captured++;
		if (pkttype != PACKET_HOST) {
			st->bad_pkttype++;
			note_error(st, "captured frame with packet type %d (not for this host)", pkttype);
		}
		if (csum_add(0, p, ihl) != 0xffff) {
			st->bad_ip_csum++;
			note_error(st, "bad IPv4 header checksum 0x%02x%02x", p[10], p[11]);
		}
		if (frag & 0x2000) {
			st->cap_fragments++;
			note_error(st, "fragmented datagram captured; UDP checksum not checked");
			return;
		}
		if (tot < ihl + 8) {
			st->bad_udp_len++;
			note_error(st, "IPv4 total length %zu too short", tot);
			return;
		}
		if (origlen < tot || caplen < tot) {
			st->cap_truncated++;
			note_error(st, "captured frame shorter (%zu) than IPv4 total length %zu", origlen, tot);
			return;
		}
		udp = p + ihl;
		l4len = tot - ihl;
		sum = csum_add(sum, p + 12, 8);   /* saddr, daddr */
		tail[1] = IPPROTO_UDP;
		tail[2] = (uint8_t)(l4len >> 8);
		tail[3] = (uint8_t)l4len;
		sum = csum_add(sum, tail, 4);
	} else {
		if (caplen < 40 || (p[0] >> 4) != 6)
			return;
		size_t plen = (size_t)((p[4] << 8) | p[5]);
		size_t off = 40;
		uint8_t nh = p[6];
		int frag = 0;

		for (;;) {
			if (nh == IPPROTO_UDP)
				break;
			if (nh == 0 || nh == 43 || nh == 60) {   /* hop-by-hop, routing, dest opts */
				if (caplen < off + 8)
					return;
				nh = p[off];
				off += ((size_t)p[off + 1] + 1) * 8;
				continue;
			}
			if (nh == 44) {                          /* fragment header */
				if (caplen < off + 8)
					return;
				if (((p[off + 2] << 8) | p[off + 3]) & 0xfff8)
					return;          /* non-first fragment */
				frag = 1;
				nh = p[off];
				off += 8;
				continue;
			}
			return;
		}
		if (caplen < off + 8 || !dst_matches(o, p + 24, p + off + 2))
			return;
		st->captured++;
		if (pkttype != PACKET_HOST) {
			st->bad_pkttype++;
			note_error(st, "captured frame with packet type %d (not for this host)", pkttype);
		}
		if (frag) {
			st->cap_fragments++;
			note_error(st, "fragmented datagram captured; UDP checksum not checked");
			return;
		}
		if (plen == 0 || 40 + plen < off + 8) {
			st->bad_udp_len++;
			note_error(st, "IPv6 payload length %zu inconsistent", plen);
			return;
		}
		if (origlen < 40 + plen || caplen < 40 + plen) {
			st->cap_truncated++;
			note_error(st, "captured frame shorter (%zu) than IPv6 length %zu", origlen, 40 + plen);
			return;
		}
		udp = p + off;
		l4len = 40 + plen - off;
		sum = csum_add(sum, p + 8, 32);   /* saddr, daddr */
		tail[0] = (uint8_t)(l4len >> 24);
		tail[1] = (uint8_t)(l4len >> 16);
		tail[2] = (uint8_t)(l4len >> 8);
		tail[3] = (uint8_t)l4len;
		tail[7] = IPPROTO_UDP;
		sum = csum_add(sum, tail, 8);
	}

	size_t ulen = (size_t)((udp[4] << 8) | udp[5]);
	uint16_t ucheck = (uint16_t)((udp[6] << 8) | udp[7]);

	if (ulen != l4len) {
		st->bad_udp_len++;
		note_error(st, "UDP length %zu, IP says %zu", ulen, l4len);
		return;
	}
	if (status & TP_STATUS_CSUMNOTREADY) {
		st->csum_not_ready++;
		if (o->require_full_csum)
			note_error(st, "frame with CHECKSUM_PARTIAL (TP_STATUS_CSUMNOTREADY)");
		return;
	}
	if (ucheck == 0) {
		st->zero_udp_csum++;
		note_error(st, "zero UDP checksum");
		return;
	}
	sum = csum_add(sum, udp, ulen);
	if (sum != 0xffff) {
		st->bad_udp_csum++;
		note_error(st, "bad UDP checksum 0x%04x", ucheck);
	}
}

static void drain_capture(int fd, const struct opts *o, struct stats *st, uint8_t *buf)
{
	for (;;) {
		struct sockaddr_ll sll;
		union {
			char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata)) + 64];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { .iov_base = buf, .iov_len = CAPBUF_LEN };
		struct msghdr msg = {
			.msg_name = &sll,
			.msg_namelen = sizeof(sll),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		uint32_t status = 0;

		memset(&sll, 0, sizeof(sll));
		ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			fail("capture recvmsg: %s", strerror(errno));
		}
		if (sll.sll_pkttype == PACKET_OUTGOING)
			continue;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
				struct tpacket_auxdata aux;

				memcpy(&aux, CMSG_DATA(c), sizeof(aux));
				status = aux.tp_status;
			}
		}
		uint16_t proto = ntohs(sll.sll_protocol);

		if ((o->listen.ss_family == AF_INET && proto != ETH_P_IP) ||
		    (o->listen.ss_family == AF_INET6 && proto != ETH_P_IPV6))
			continue;
		size_t orig = (size_t)n;
		size_t cap = orig > CAPBUF_LEN ? CAPBUF_LEN : orig;

		check_frame(o, st, buf, cap, orig, sll.sll_pkttype, status);
	}
}

static int open_capture(const struct opts *o)
{
	unsigned int ifindex = if_nametoindex(o->capture);
	int one = 1;

	if (!ifindex)
		fail("capture interface '%s': %s", o->capture, strerror(errno));
	/* protocol 0: nothing is queued until bind() selects the interface */
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		fail("AF_PACKET socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)))
		fail("PACKET_AUXDATA: %s", strerror(errno));
	/* best effort; outgoing frames are also filtered by sll_pkttype */
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	set_rcvbuf(fd, o->rcvbuf * 4);

	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = (int)ifindex,
	};

	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		fail("bind capture to %s: %s", o->capture, strerror(errno));
	return fd;
}

static void write_ready_file(const char *path)
{
	char tmp[4096];
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());

	if (n < 0 || (size_t)n >= sizeof(tmp))
		fail("--ready-file path too long");
	FILE *f = fopen(tmp, "w");

	if (!f)
		fail("ready file %s: %s", tmp, strerror(errno));
	fprintf(f, "ready %d\n", (int)getpid());
	if (fclose(f))
		fail("ready file %s: %s", tmp, strerror(errno));
	if (rename(tmp, path))
		fail("ready file %s: %s", path, strerror(errno));
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "expect", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "first", required_argument, NULL, 'f' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "idle-ms", required_argument, NULL, 'i' },
		{ "linger-ms", required_argument, NULL, 'g' },
		{ "from", required_argument, NULL, 'F' },
		{ "capture", required_argument, NULL, 'c' },
		{ "require-full-csum", no_argument, NULL, 'C' },
		{ "rcvbuf", required_argument, NULL, 'b' },
		{ "report", required_argument, NULL, 'r' },
		{ "record", required_argument, NULL, 'q' },
		{ "ready-file", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = {
		.size = DEFAULT_SIZE,
		.timeout_ms = 30000,
		.idle_ms = 1500,
		.rcvbuf = DEFAULT_RCVBUF,
		.from_port = -1,
	};
	struct stats st = { 0 };
	int have_listen = 0, have_expect = 0, listen_port = -1, opt;
	socklen_t fromlen;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (parse_endpoint(optarg, &o.listen, &o.listen_len, &listen_port) || listen_port <= 0)
				usage_fail("bad --listen '%s', want ADDR:PORT or [ADDR]:PORT", optarg);
			have_listen = 1;
			break;
		case 'n':
			if (parse_u64(optarg, MAX_EXPECT, &o.expect))
				usage_fail("bad --expect '%s' (0..%llu)", optarg, MAX_EXPECT);
			have_expect = 1;
			break;
		case 's':
			if (parse_u64(optarg, MAX_SIZE, &o.size) || o.size < MIN_SIZE)
				usage_fail("bad --size '%s' (%d..%d)", optarg, MIN_SIZE, MAX_SIZE);
			break;
		case 'S':
			if (parse_u64(optarg, UINT32_MAX, &o.seed))
				usage_fail("bad --seed '%s' (0..4294967295)", optarg);
			break;
		case 'f':
			if (parse_u64(optarg, UINT64_MAX - MAX_EXPECT, &o.first))
				usage_fail("bad --first '%s'", optarg);
			break;
		case 't':
			if (parse_u64(optarg, MAX_TIMEOUT_MS, &o.timeout_ms) || o.timeout_ms == 0)
				usage_fail("bad --timeout-ms '%s' (1..%llu)", optarg, MAX_TIMEOUT_MS);
			break;
		case 'i':
			if (parse_u64(optarg, MAX_TIMEOUT_MS, &o.idle_ms) || o.idle_ms == 0)
				usage_fail("bad --idle-ms '%s' (1..%llu)", optarg, MAX_TIMEOUT_MS);
			break;
		case 'g':
			if (parse_u64(optarg, MAX_LINGER_MS, &o.linger_ms))
				usage_fail("bad --linger-ms '%s' (0..%llu)", optarg, MAX_LINGER_MS);
			break;
		case 'F':
			if (parse_endpoint(optarg, &o.from, &fromlen, &o.from_port))
				usage_fail("bad --from '%s', want ADDR[:PORT] or [ADDR][:PORT]", optarg);
			o.have_from = 1;
			break;
		case 'c':
			if (!*optarg || strlen(optarg) >= IF_NAMESIZE)
				usage_fail("bad --capture interface name '%s'", optarg);
			o.capture = optarg;
			break;
		case 'C':
			o.require_full_csum = 1;
			break;
		case 'b':
			if (parse_u64(optarg, 1ULL << 30, &o.rcvbuf) || o.rcvbuf < 4096)
				usage_fail("bad --rcvbuf '%s' (4096..%llu)", optarg, 1ULL << 30);
			break;
		case 'r':
			o.report = optarg;
			break;
		case 'R':
			o.ready_file = optarg;
			break;
		case 'q':
			o.record = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage_fail("unknown option or missing argument: '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_fail("unexpected argument '%s'", argv[optind]);
	if (!have_listen)
		usage_fail("--listen is required");
	if (!have_expect)
		usage_fail("--expect is required");
	if (o.have_from && o.from.ss_family != o.listen.ss_family)
		usage_fail("--from and --listen address families differ");
	if (o.listen.ss_family == AF_INET)
		o.listen_any = ((struct sockaddr_in *)&o.listen)->sin_addr.s_addr == htonl(INADDR_ANY);
	else
		o.listen_any = IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&o.listen)->sin6_addr);
	st.next_seq = o.first;
	st.stop = "complete";

	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;        /* no SA_RESTART: poll() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* capture first, so no frame for our socket can slip past it */
	int capfd = o.capture ? open_capture(&o) : -1;
	int fd = socket(o.listen.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		fail("socket: %s", strerror(errno));
	set_rcvbuf(fd, o.rcvbuf);
	if (o.listen.ss_family == AF_INET) {
		if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)))
			fail("IP_PKTINFO: %s", strerror(errno));
	} else {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)))
			fail("IPv6 socket options: %s", strerror(errno));
	}
	if (bind(fd, (struct sockaddr *)&o.listen, o.listen_len)) {
		char a[80];

		fmt_sa(&o.listen, a, sizeof(a));
		fail("bind %s: %s", a, strerror(errno));
	}

	uint8_t *rxbuf = malloc(RXBUF_LEN);
	uint8_t *capbuf = capfd >= 0 ? malloc(CAPBUF_LEN) : NULL;

	if (!rxbuf || (capfd >= 0 && !capbuf))
		fail("out of memory");

	if (o.record) {
		o.record_file = fopen(o.record, "w");
		if (!o.record_file)
			fail("record %s: %s", o.record, strerror(errno));
	}
	if (o.ready_file)
		write_ready_file(o.ready_file);
	printf("ready\n");
	fflush(stdout);

	uint64_t start = now_ms(), deadline = start + o.timeout_ms;
	uint64_t last_rx = 0, linger_end = 0;
	int lingering = 0;

	for (;;) {
		uint64_t now = now_ms();

		if (got_signal) {
			st.stop = "signal";
			break;
		}
		if (o.expect > 0 && st.received >= o.expect && !lingering) {
			if (!o.linger_ms)
				break;
			lingering = 1;
			linger_end = now + o.linger_ms;
			if (linger_end > deadline)
				linger_end = deadline;
		}
		uint64_t until;

		if (lingering) {
			if (now >= linger_end)
				break;
			until = linger_end;
		} else {
			if (now >= deadline) {
				st.stop = "timeout";
				break;
			}
			until = deadline;
			if (st.received > 0) {
				if (now >= last_rx + o.idle_ms) {
					st.stop = "idle";
					break;
				}
				if (last_rx + o.idle_ms < until)
					until = last_rx + o.idle_ms;
			}
		}

		struct pollfd pfd[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = capfd, .events = POLLIN },
		};
		int r = poll(pfd, capfd >= 0 ? 2 : 1, (int)(until - now));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			fail("poll: %s", strerror(errno));
		}
		/* the capture sees a frame before the socket does: drain it first */
		if (capfd >= 0 && (pfd[1].revents & POLLIN))
			drain_capture(capfd, &o, &st, capbuf);
		if (pfd[0].revents & POLLIN) {
			uint64_t limit = (o.expect == 0 || o.linger_ms) ? UINT64_MAX : o.expect;

			if (drain_socket(fd, &o, &st, rxbuf, limit))
				last_rx = now_ms();
		}
	}
	uint64_t elapsed = now_ms() - start;

	if (capfd >= 0) {
		struct tpacket_stats ps;
		socklen_t pl = sizeof(ps);

		drain_capture(capfd, &o, &st, capbuf);
		if (!getsockopt(capfd, SOL_PACKET, PACKET_STATISTICS, &ps, &pl))
			st.cap_drops = ps.tp_drops;
		if (st.cap_drops)
			note_error(&st, "capture dropped %" PRIu64 " frames", st.cap_drops);
		close(capfd);
	}
	close(fd);
	free(rxbuf);
	free(capbuf);
	if (o.record_file)
		fclose(o.record_file);

	int in_order = st.seq_errors == 0;
	int pass = st.received == o.expect && in_order && !st.bad_size && !st.bad_payload &&
		   !st.bad_source && !st.bad_dest && strcmp(st.stop, "signal");

	if (capfd >= 0)
		pass = pass && st.captured == o.expect && !st.bad_ip_csum && !st.bad_udp_csum &&
		       !st.zero_udp_csum && !st.bad_udp_len && !st.bad_pkttype && !st.cap_truncated &&
		       !st.cap_fragments && !st.cap_drops && (!o.require_full_csum || !st.csum_not_ready);
	if (!pass && !st.first_error[0]) {
		if (st.received != o.expect)
			note_error(&st, "%s: received %" PRIu64 " of %" PRIu64, st.stop, st.received, o.expect);
		else if (capfd >= 0 && st.captured != o.expect)
			note_error(&st, "captured %" PRIu64 " frames for %" PRIu64 " datagrams", st.captured,
				   o.expect);
		else
			note_error(&st, "stopped by %s", st.stop);
	}

	char line[1024];
	int len = snprintf(line, sizeof(line),
			   "received=%" PRIu64 " expected=%" PRIu64 " in_order=%d seq_errors=%" PRIu64
			   " bad_size=%" PRIu64 " bad_payload=%" PRIu64 " bad_source=%" PRIu64
			   " bad_dest=%" PRIu64 " first_error=\"%s\"",
			   st.received, o.expect, in_order, st.seq_errors, st.bad_size, st.bad_payload,
			   st.bad_source, st.bad_dest, st.first_error);

	if (capfd >= 0 && len > 0 && (size_t)len < sizeof(line))
		len += snprintf(line + len, sizeof(line) - (size_t)len,
				" captured=%" PRIu64 " bad_ip_csum=%" PRIu64 " bad_udp_csum=%" PRIu64
				" zero_udp_csum=%" PRIu64 " bad_udp_len=%" PRIu64 " csum_not_ready=%" PRIu64
				" bad_pkttype=%" PRIu64 " cap_truncated=%" PRIu64 " cap_fragments=%" PRIu64
				" cap_drops=%" PRIu64,
				st.captured, st.bad_ip_csum, st.bad_udp_csum, st.zero_udp_csum, st.bad_udp_len,
				st.csum_not_ready, st.bad_pkttype, st.cap_truncated, st.cap_fragments,
				st.cap_drops);
	if (len > 0 && (size_t)len < sizeof(line))
		snprintf(line + len, sizeof(line) - (size_t)len, " stop=%s elapsed_ms=%" PRIu64 " result=%s",
			 st.stop, elapsed, pass ? "pass" : "fail");

	printf("%s\n", line);
	fflush(stdout);
	if (o.report) {
		FILE *f = fopen(o.report, "w");

		if (!f || fprintf(f, "%s\n", line) < 0 || fclose(f))
			fail("report %s: %s", o.report, strerror(errno));
	}
	return pass ? 0 : 1;
}
