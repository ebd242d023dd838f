/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Layouts shared by the benchmark's kernel programs (rcb_count.bpf.c,
 * rcb_syscalls.bpf.c) and its user-space tool (rcbench). */
#ifndef RCB_COMMON_H
#define RCB_COMMON_H

#include <linux/types.h>

/* Every benchmark datagram starts with its sequence number, 8 bytes big-endian
 * (the layout `replicast send --gen` uses too); the rest of the payload is
 * filler. The receivers' XDP counter counts UDP datagrams to the benchmark's
 * port that are long enough to carry it. */
struct rcb_payload_hdr {
	__be64 seq;	/* packet number within the run, the same for every receiver */
};

/* The latency cells' payloads (at least 16 bytes) also carry the moment the
 * sender handed the packet over: CLOCK_MONOTONIC in ns, 8 bytes big-endian,
 * right after the sequence number. The receivers' sockets read the kernel's
 * receive timestamp (SO_TIMESTAMPNS, CLOCK_REALTIME, converted to
 * CLOCK_MONOTONIC with an offset measured when the run starts). */
struct rcb_stamped_hdr {
	__be64 seq;
	__be64 sent_ns;
};

/* The receivers' XDP counter's settings (one entry of rcb_rx_cfg): besides
 * counting, pass to the stack (to the latency sockets) every datagram whose
 * sequence number has (seq & pass_mask) == 0, while pass is set; drop the
 * rest as always. */
struct rcb_rx_cfg {
	__u32 pass;
	__u32 pad;
	__u64 pass_mask;
};

#define RCB_DEFAULT_PORT 9000

/* Value of the receivers' counter map (per-CPU hash keyed by the IPv4
 * destination address in network byte order). */
struct rcb_rx_count {
	__u64 packets;
	__u64 bytes;	/* frame bytes as seen by XDP */
};

/* Indices of the receivers' rcb_rx_misc per-CPU array. */
enum rcb_rx_misc {
	RCB_MISC_FOREIGN = 0,	/* UDP over IPv4 to another port, or too short: dropped */
	RCB_MISC_NO_SLOT,	/* counter map full: dropped, not counted per address */
	RCB_MISC_PASSED,	/* not UDP over IPv4 (ARP, ...): passed to the stack */
	RCB_MISC_MAX,
};

/* Receiver addresses counted: up to C = 4096 and room to spare. */
#define RCB_RX_MAX_ADDRS 8192
#define RCB_SYSCALL_NR_MAX 512

#endif /* RCB_COMMON_H */
