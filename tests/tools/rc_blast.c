// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * rc_blast - bounded, deterministic UDP sender for replicast tests.
 *
 *   rc_blast --to ADDR:PORT --count N [--size BYTES] [--rate PPS]
 *            [--bind ADDR[:PORT]] [--seed S] [--first SEQ]
 *            [--udp-csum normal|zero|bad]
 *
 * IPv6 addresses are written as [ADDR]:PORT (a bare IPv6 address is
 * accepted for --bind when no port is wanted).
 *
 * Payload format (every datagram is exactly --size bytes, size >= 8):
 *   bytes 0..7   sequence number, unsigned 64-bit big-endian; the first
 *                datagram carries --first (default 0), then +1 each.
 *   byte i >= 8  v = lo32(seq) * 0x9E3779B1 + seed * 0x85EBCA77
 *                    + i * 0xC2B2AE3D                       (mod 2^32)
 *                byte = (v ^ (v >> 15) ^ (v >> 24)) & 0xff
 * rc_sink uses the same formula to verify every byte.
 *
 * --udp-csum zero|bad sends through a raw socket (IPPROTO_UDP) with a UDP
 * checksum of 0 or a deliberately wrong non-zero value; it exists only to
 * prove that a checksum-validating capture catches such packets.
 *
 * Limits: --count <= 10,000,000; the run is aborted after 120 s.
 * Output: "sent N packets in T s" on stdout at the end.
 * Exit: 0 all sent, 1 runtime error or time limit, 2 usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <netinet/udp.h>
#include "tool_common.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103		/* linux/udp.h, which glibc's headers do not pull in */
#endif

#define MAX_COUNT 10000000ULL
#define MAX_RATE 100000000ULL
#define TIME_LIMIT_NS (120ULL * 1000000000ULL)
#define MIN_SIZE 8
#define MAX_SIZE_V4 65507
#define MAX_SIZE_V6 65527
#define DEFAULT_SIZE 64
#define MAX_GSO_SEGS 64		/* UDP_MAX_SEGMENTS in the kernel */

enum csum_mode { CSUM_NORMAL, CSUM_ZERO, CSUM_BAD };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rc_blast --to ADDR:PORT --count N [options]\n"
		"  --to ADDR:PORT      destination; IPv6 as [ADDR]:PORT\n"
		"  --count N           datagrams to send (0..%llu)\n"
		"  --size BYTES        payload size, %d..%d (IPv6 %d), default %d\n"
		"  --rate PPS          packets per second, 0 = unlimited (default)\n"
		"  --bind ADDR[:PORT]  local source address (and port)\n"
		"  --seed S            payload seed, 0..4294967295, default 0\n"
		"  --first SEQ         first sequence number, default 0\n"
		"  --gso N             N datagrams per send, as one UDP_SEGMENT\n"
		"                      super-packet (1..64, default 1)\n"
		"  --ttl N             TTL / hop limit, unicast and multicast\n"
		"                      (default: the socket's, 1 for multicast)\n"
		"  --udp-csum MODE     normal (default) | zero | bad  (raw socket,\n"
		"                      test-only: wrong UDP checksums on purpose)\n"
		"  --help              this text\n"
		"payload: bytes 0..7 = seq (big-endian u64); byte i>=8 =\n"
		"  v = lo32(seq)*0x9E3779B1 + seed*0x85EBCA77 + i*0xC2B2AE3D (mod 2^32),\n"
		"  (v ^ v>>15 ^ v>>24) & 0xff\n"
		"stops after 120 s; prints \"sent N packets in T s\"; exit 0 ok, 1 error,\n"
		"2 usage error\n",
		MAX_COUNT, MIN_SIZE, MAX_SIZE_V4, MAX_SIZE_V6, DEFAULT_SIZE);
}

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("rc_blast: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((noreturn, format(printf, 1, 2))) usage_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("rc_blast: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see --help)\n", stderr);
	exit(2);
}


static void fill_payload(uint8_t *p, uint32_t size, uint64_t seq, uint32_t seed)
{
	for (int b = 0; b < 8; b++)
		p[b] = (uint8_t)(seq >> (56 - 8 * b));
	for (uint32_t i = 8; i < size; i++)
		p[i] = payload_byte(seq, seed, i);
}



static void set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_until_ns(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ULL),
			       .tv_nsec = (long)(t % 1000000000ULL) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}


/* Correct UDP checksum (host order) for segment udp[0..ulen) between src and dst. */
static uint16_t udp_csum(const struct sockaddr_storage *src, const struct sockaddr_storage *dst,
			 const uint8_t *udp, uint32_t ulen)
{
	uint32_t sum = 0;
	uint8_t tail[8] = { 0 };

	if (dst->ss_family == AF_INET) {
		sum = csum_add(sum, &((const struct sockaddr_in *)src)->sin_addr, 4);
		sum = csum_add(sum, &((const struct sockaddr_in *)dst)->sin_addr, 4);
		tail[1] = IPPROTO_UDP;
		tail[2] = (uint8_t)(ulen >> 8);
		tail[3] = (uint8_t)ulen;
		sum = csum_add(sum, tail, 4);
	} else {
		sum = csum_add(sum, &((const struct sockaddr_in6 *)src)->sin6_addr, 16);
		sum = csum_add(sum, &((const struct sockaddr_in6 *)dst)->sin6_addr, 16);
		tail[0] = (uint8_t)(ulen >> 24);
		tail[1] = (uint8_t)(ulen >> 16);
		tail[2] = (uint8_t)(ulen >> 8);
		tail[3] = (uint8_t)ulen;
		tail[7] = IPPROTO_UDP;
		sum = csum_add(sum, tail, 8);
	}
	sum = csum_add(sum, udp, ulen);
	uint16_t c = (uint16_t)~sum;

	return c ? c : 0xffff;
}

/* Source address the kernel would pick towards dst (for the raw-mode checksum). */
static void route_source(const struct sockaddr_storage *dst, socklen_t dl, struct sockaddr_storage *src)
{
	socklen_t sl = sizeof(*src);
	int fd = socket(dst->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		fail("socket: %s", strerror(errno));
	if (connect(fd, (const struct sockaddr *)dst, dl))
		fail("no route to destination: %s", strerror(errno));
	if (getsockname(fd, (struct sockaddr *)src, &sl))
		fail("getsockname: %s", strerror(errno));
	close(fd);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "bind", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 'S' },
		{ "first", required_argument, NULL, 'f' },
		{ "udp-csum", required_argument, NULL, 'u' },
		{ "gso", required_argument, NULL, 'g' },
		{ "ttl", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_storage to, bindaddr;
	socklen_t tolen = 0, bindlen = 0;
	int to_port = -1, bind_port = -1, have_to = 0, have_bind = 0, have_count = 0;
	uint64_t count = 0, size = DEFAULT_SIZE, rate = 0, seed = 0, first = 0, gso = 1, ttl = 0;
	enum csum_mode mode = CSUM_NORMAL;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (parse_endpoint(optarg, &to, &tolen, &to_port) || to_port <= 0)
				usage_fail("bad --to '%s', want ADDR:PORT or [ADDR]:PORT", optarg);
			have_to = 1;
			break;
		case 'b':
			if (parse_endpoint(optarg, &bindaddr, &bindlen, &bind_port))
				usage_fail("bad --bind '%s', want ADDR[:PORT] or [ADDR][:PORT]", optarg);
			have_bind = 1;
			break;
		case 'c':
			if (parse_u64(optarg, MAX_COUNT, &count))
				usage_fail("bad --count '%s' (0..%llu)", optarg, MAX_COUNT);
			have_count = 1;
			break;
		case 's':
			if (parse_u64(optarg, MAX_SIZE_V6, &size) || size < MIN_SIZE)
				usage_fail("bad --size '%s' (%d..%d)", optarg, MIN_SIZE, MAX_SIZE_V6);
			break;
		case 'r':
			if (parse_u64(optarg, MAX_RATE, &rate))
				usage_fail("bad --rate '%s' (0..%llu)", optarg, MAX_RATE);
			break;
		case 'S':
			if (parse_u64(optarg, UINT32_MAX, &seed))
				usage_fail("bad --seed '%s' (0..4294967295)", optarg);
			break;
		case 'f':
			if (parse_u64(optarg, UINT64_MAX, &first))
				usage_fail("bad --first '%s'", optarg);
			break;
		case 'u':
			if (!strcmp(optarg, "normal"))
				mode = CSUM_NORMAL;
			else if (!strcmp(optarg, "zero"))
				mode = CSUM_ZERO;
			else if (!strcmp(optarg, "bad"))
				mode = CSUM_BAD;
			else
				usage_fail("bad --udp-csum '%s' (normal|zero|bad)", optarg);
			break;
		case 'g':
			if (parse_u64(optarg, MAX_GSO_SEGS, &gso) || !gso)
				usage_fail("bad --gso '%s' (1..%d)", optarg, MAX_GSO_SEGS);
			break;
		case 'T':
			if (parse_u64(optarg, 255, &ttl) || !ttl)
				usage_fail("bad --ttl '%s' (1..255)", optarg);
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
	if (!have_to)
		usage_fail("--to is required");
	if (!have_count)
		usage_fail("--count is required");
	if (have_bind && bindaddr.ss_family != to.ss_family)
		usage_fail("--bind and --to address families differ");
	if (to.ss_family == AF_INET && size > MAX_SIZE_V4)
		usage_fail("--size %" PRIu64 " too large for IPv4 (max %d)", size, MAX_SIZE_V4);
	if (rate && count / rate >= 120)
		usage_fail("--count/--rate would take longer than the 120 s limit");
	if (first + count < first)
		usage_fail("--first + --count overflows");
	if (gso > 1 && mode != CSUM_NORMAL)
		usage_fail("--gso sends through a UDP socket: not with --udp-csum");
	if (gso * size > 65000)
		usage_fail("--gso %" PRIu64 " x --size %" PRIu64 " is more than one send can carry "
			   "(65,000 bytes)", gso, size);

	set_port(&to, to_port);

	int raw = mode != CSUM_NORMAL;
	int fd = raw ? socket(to.ss_family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP)
		     : socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		fail("socket: %s", strerror(errno));
	{
		/* never block for long in sendto(): the time limit must hold */
		struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };

		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (have_bind) {
		struct sockaddr_storage b = bindaddr;

		/* raw sockets have no port: bind the address only */
		set_port(&b, raw || bind_port < 0 ? 0 : bind_port);
		if (!raw) {
			int one = 1;

			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		}
		if (bind(fd, (struct sockaddr *)&b, bindlen))
			fail("bind: %s", strerror(errno));
	}
	if (gso > 1) {
		/* UDP_SEGMENT: one send of gso * size bytes leaves as one
		 * super-packet that stands for gso datagrams of size bytes */
		int seg = (int)size;

		if (setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)))
			fail("UDP_SEGMENT: %s", strerror(errno));
	}
	if (ttl) {
		int t = (int)ttl;
		int v6 = to.ss_family == AF_INET6;

		if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL,
			       &t, sizeof(t)) ||
		    setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
			       v6 ? IPV6_MULTICAST_HOPS : IP_MULTICAST_TTL, &t, sizeof(t)))
			fail("setting the TTL: %s", strerror(errno));
	}
	if (raw) {
		/* we never read from the raw socket: keep its queue tiny */
		int small = 1;

		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}

	uint32_t hdr = raw ? 8 : 0;
	uint32_t len = hdr + (uint32_t)size;
	uint8_t *buf = calloc(gso, len);
	struct sockaddr_storage src;
	uint16_t sport = 0;

	if (!buf)
		fail("out of memory");
	if (raw) {
		if (have_bind) {
			src = bindaddr;
		} else {
			route_source(&to, tolen, &src);
		}
		sport = bind_port > 0 ? (uint16_t)bind_port : (uint16_t)(49152 + getpid() % 16384);
		buf[0] = (uint8_t)(sport >> 8);
		buf[1] = (uint8_t)sport;
		buf[2] = (uint8_t)(to_port >> 8);
		buf[3] = (uint8_t)to_port;
		buf[4] = (uint8_t)(len >> 8);
		buf[5] = (uint8_t)len;
	}
	struct sockaddr_storage dst = to;

	if (raw) {
		/* IPv6 raw sockets take the protocol (or 0) in the port field */
		set_port(&dst, 0);
	}

	uint64_t batch = rate ? (rate / 1000 ? rate / 1000 : 1) : UINT64_MAX;
	uint64_t start = now_ns(), deadline = start + TIME_LIMIT_NS;
	uint64_t sent = 0, in_batch = 0;
	int timed_out = 0;

	while (sent < count) {
		if (rate && in_batch >= batch) {
			/* batch done: sleep until packet `sent` is due */
			uint64_t due = start + (uint64_t)((long double)sent * 1e9L / (long double)rate);

			in_batch = 0;
			if (due > deadline) {
				timed_out = 1;
				break;
			}
			if (due > now_ns())
				sleep_until_ns(due);
		}
		if ((sent & 63) == 0 && now_ns() > deadline) {
			timed_out = 1;
			break;
		}
		uint64_t seq = first + sent, k = count - sent < gso ? count - sent : gso, j;
		uint32_t send_len = len * (uint32_t)k;

		for (j = 0; j < k; j++)
			fill_payload(buf + hdr + j * size, (uint32_t)size, seq + j, (uint32_t)seed);
		if (raw) {
			uint16_t c = 0;

			buf[6] = buf[7] = 0;
			if (mode == CSUM_BAD) {
				uint16_t good = udp_csum(&src, &to, buf, len);

				c = good ^ 0x0101;
				if (c == 0 || c == 0xffff)
					c = good ^ 0x0202;
			}
			buf[6] = (uint8_t)(c >> 8);
			buf[7] = (uint8_t)c;
		}
		for (;;) {
			ssize_t r = sendto(fd, buf, send_len, 0, (struct sockaddr *)&dst, tolen);

			if (r == (ssize_t)send_len)
				break;
			if (r >= 0)
				fail("short send (%zd of %u bytes) at seq %" PRIu64, r, send_len, seq);
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS || errno == EAGAIN) {
				/* local queue full: back off briefly */
				struct timespec ts = { 0, 200000 };

				if (now_ns() > deadline) {
					timed_out = 1;
					break;
				}
				nanosleep(&ts, NULL);
				continue;
			}
			fail("sendto at seq %" PRIu64 ": %s", seq, strerror(errno));
		}
		if (timed_out)
			break;
		sent += k;
		in_batch += k;
	}

	double secs = (double)(now_ns() - start) / 1e9;

	printf("sent %" PRIu64 " packets in %.3f s\n", sent, secs);
	fflush(stdout);
	free(buf);
	close(fd);
	if (timed_out)
		fail("time limit of 120 s reached after %" PRIu64 " of %" PRIu64 " packets", sent, count);
	return 0;
}
