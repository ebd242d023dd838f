/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `replicast send`: what its parts share. cmd_send.c parses the command
 * line and runs it; cli_send_sources.c feeds the sender from a generator, a
 * UDP gateway or a capture, with pacing and progress; cli_send_summary.c
 * says what the run cost. */
#ifndef REPLICAST_CLI_SEND_H
#define REPLICAST_CLI_SEND_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <pcap/pcap.h>
#include "cli.h"

#define DEFAULT_SIZE		64
#define MAX_COUNT		1000000000ULL
#define MAX_RATE		100000000U
/* Progress lines on a terminal, at most this often. */
#define PROGRESS_NS		500000000ULL
/* How often a waiting gateway looks at signals and its idle limit. */
#define LISTEN_TICK_MS		200
#define GATEWAY_RCVBUF		(8 << 20)
/* Room for one SO_RXQ_OVFL control message (a __u32) per datagram. */
#define OVFL_CMSG_SPACE		CMSG_SPACE(sizeof(uint32_t))
#define SUMMARY_LEN		2048

enum source_kind { SRC_NONE, SRC_GEN, SRC_UDP, SRC_PCAP };

struct send_opts {
	enum source_kind kind;
	struct replicast_endpoint group;
	uint64_t count;			/* --gen COUNT, --udp-listen --count */
	unsigned int size, rate, seed, idle_ms;
	unsigned int rcvbuf;		/* --rcvbuf; 0: GATEWAY_RCVBUF */
	uint64_t first;
	const char *listen, *pcap_file;
	struct replicast_endpoint source;
	bool have_source;
	bool xdp;			/* --engine xdp */
	bool engine_chosen;		/* --engine given; else large groups take xdp */
	struct replicast_sender_opts sopts;
};

/* What the send phase did, the CLI's own system calls included. */
struct run {
	struct replicast_sender *s;
	const struct send_opts *o;
	uint64_t packets;		/* handed to queue() and accepted */
	uint64_t skipped;		/* capture records without a UDP payload */
	uint64_t too_big;		/* payloads larger than a frame carries */
	uint64_t records;		/* capture records read whole */
	bool read_failed;		/* the capture ended inside a record */
	uint64_t sleeps;		/* pacing for --rate */
	uint64_t reads;			/* recvmmsg() or capture file reads */
	uint64_t writes;		/* progress lines */
	uint64_t queries;		/* the gateway socket's final drop count */
	uint64_t sock_drops;		/* datagrams the gateway's socket dropped */
	uint64_t start_ns, last_progress_ns;
	bool progress;
	int err;			/* first library error */
	/* Allocated before the send phase, whose system calls are counted:
	 * a large malloc() would be an mmap() inside it. */
	uint8_t *buf;			/* --gen payload, or --udp-listen datagrams */
	struct mmsghdr *msgs;
	struct iovec *iov;
	uint8_t *ctrl;			/* OVFL_CMSG_SPACE per datagram */
};

/* The capture is read through this cookie stream so that every read(), the
 * only system call libpcap makes while replaying, is counted. */
#define PCAP_READ_SIZE		(1 << 20)

struct pcap_cookie {
	struct run *r;
	int fd;
	char buf[PCAP_READ_SIZE];	/* the stream's buffer: glibc takes a size only with one */
};

/* Set by the SIGINT / SIGTERM handler: every source stops at the next packet. */
extern volatile sig_atomic_t send_stop_signal;
void send_on_signal(int sig);
uint64_t send_now_ns(void);

/* The CLI's own system calls in the send phase. */
uint64_t send_cli_syscalls(const struct run *r);
/* A progress line on a terminal, at most every PROGRESS_NS (final: now). */
void send_progress(struct run *r, bool final);
int send_run_gen(struct run *r);
int send_listen_socket(const struct replicast_endpoint *ep, unsigned int rcvbuf);
int send_run_udp(struct run *r, int fd);
ssize_t send_cookie_read(void *c, char *buf, size_t size);
int send_cookie_close(void *c);
int send_run_pcap(struct run *r, pcap_t *pc);

/* The summary: text or JSON, AF_XDP or XDP engine, in one write(). */
void send_print_summary(const struct run *r, const struct replicast_sender_stats *st,
			uint64_t lib_syscalls, unsigned int subs, double secs, const char *ifname,
			bool json);

#endif /* REPLICAST_CLI_SEND_H */
