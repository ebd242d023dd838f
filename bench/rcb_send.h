/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The user-space sending methods the benchmark compares. Each sends `packets`
 * packets, packet-major (packet 0 to every receiver of its group, then packet
 * 1, ...), bounded by count and by a deadline. The destinations form
 * `ngroups` groups of equal size, in order (group g: dests[g * n / ngroups
 * ...]); packet seq goes to group seq % ngroups, so with several groups the
 * packets go round-robin over them, and one group is the plain fan-out. */
#ifndef RCB_SEND_H
#define RCB_SEND_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

enum rcb_method {
	RCB_M_SENDTO,		/* one sendto() per datagram */
	RCB_M_SENDMMSG,		/* sendmmsg(), RCB_BATCH datagrams per call */
	RCB_M_GSO,		/* UDP_SEGMENT: one sendmsg() per receiver per batch */
	RCB_M_IOURING,		/* io_uring, RCB_BATCH sendmsg SQEs per submit */
	RCB_M_MAX,
};

#define RCB_BATCH 64

struct rcb_send_cfg {
	enum rcb_method method;
	const struct sockaddr_in *dests;
	size_t ndests;
	size_t ngroups;		/* 0 or 1: one group of every destination */
	uint64_t packets;	/* in all, each to one group (per destination when one group) */
	size_t size;		/* UDP payload bytes, >= sizeof(struct rcb_payload_hdr) */
	/* Packets per second, 0: as fast as it goes. Paced sending is for the
	 * latency cells: sendto and gso only (gso then sends, per receiver, one
	 * batch of the packets due at that moment). */
	double rate;
	/* Write the hand-off time into every payload (struct rcb_stamped_hdr):
	 * CLOCK_MONOTONIC ns, taken right before the packet's first send call. */
	int stamp;
};

struct rcb_send_result {
	uint64_t handed;	/* datagrams the kernel accepted */
	uint64_t calls;		/* send calls made (for cross-checking the syscall counter) */
	uint64_t errors;	/* datagrams refused */
	int first_errno;
	int truncated;		/* the deadline stopped the run before the count */
	uint64_t send_ns;	/* first call to return of the last */
};

struct rcb_sender;

/* Everything that is not sending: socket, buffers, ring. Returns 0 or -errno
 * (and a message in err). */
int rcb_sender_prepare(const struct rcb_send_cfg *cfg, struct rcb_sender **out,
		       char *err, size_t errlen);
/* Sends; stops at the first look at the clock after deadline_ns (CLOCK_MONOTONIC). */
void rcb_sender_run(struct rcb_sender *s, uint64_t deadline_ns, struct rcb_send_result *res);
void rcb_sender_free(struct rcb_sender *s);

int rcb_method_parse(const char *name);
const char *rcb_method_name(int method);
/* Whether this build has the method (io_uring needs liburing). */
int rcb_method_available(int method);
uint64_t rcb_now_ns(void);

/* Shared with the in-process replicast senders (rcb_lib_send.c). */
void rcb_set_seq(uint8_t *p, uint64_t seq);
void rcb_set_stamp(uint8_t *p, uint64_t ns);
void rcb_fill_payload(uint8_t *p, size_t size, uint64_t seq);
/* Pacing: sleeps until packet `seq` of a run that started at t0_ns is due
 * at `rate` packets/s (no wait when rate is 0 or the packet is late). */
void rcb_pace(uint64_t t0_ns, uint64_t seq, double rate);
/* Packets due by now_ns at rate since t0_ns (at least seq + 1 once due). */
uint64_t rcb_due(uint64_t t0_ns, uint64_t now_ns, double rate);

#endif /* RCB_SEND_H */
