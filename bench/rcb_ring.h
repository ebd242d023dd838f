/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Layouts shared by rcb_ring.bpf.c and rcb_ring.c: the engine's ring slot
 * (from bpf/replicast_types.h) and what the program reports back. */
#ifndef RCB_RING_H
#define RCB_RING_H

#include "../bpf/replicast_types.h"

/* Packets taken (so the array's producer may reuse their slots), and a sum
 * of bytes so the compiler keeps the work. */
struct taken {
	__u64 packets;
	__u64 bytes;
};

/* The program's own state: its position, and where a ring buffer sample
 * is copied to. */
struct take_state {
	__u64 pos;
	struct rc_engine_slot stage;
};

#endif /* RCB_RING_H */
