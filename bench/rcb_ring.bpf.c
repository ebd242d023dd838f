// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The two ways into the XDP engine, side by side and nothing else: a
 * live-frames XDP program takes one packet per run from the application
 * and stores its payload into the frame, from
 *  - take_array: a BPF_F_MMAPABLE array of slots, a slot published by its
 *    sequence word (the engine's ring, struct rc_engine_slot), or
 *  - take_uring: a BPF_MAP_TYPE_USER_RINGBUF drained one sample at a time;
 *    a sample is released when the callback returns and reaches the
 *    program only as a read-only dynptr, so its payload is copied out
 *    first, as the engine would have to (every subscriber needs it).
 * Every frame is dropped: this measures the hand-over, not the sending. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "rcb_ring.h"

#define PUBLISH_EVERY 32

const volatile __u32 ring_mask = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rc_engine_slot);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 1 << 23);	/* 8 MiB, as the array */
} uring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct taken);
} progress SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct take_state);
} state SEC(".maps");

#define compiler_barrier() asm volatile("" ::: "memory")

static __always_inline int store_payload(struct xdp_md *ctx, const struct rc_engine_slot *s)
{
	__u32 len = s->len;

	if (len < 1 || len > RC_ENGINE_PAYLOAD_MAX)
		return -1;
	return bpf_xdp_store_bytes(ctx, 62, (void *)s->payload, len);
}

static __always_inline void count(struct take_state *st, __u32 len)
{
	__u32 zero = 0;
	struct taken *t;

	st->pos++;
	if (st->pos % PUBLISH_EVERY)
		return;
	t = bpf_map_lookup_elem(&progress, &zero);
	if (t) {
		t->bytes += len;
		compiler_barrier();
		*(volatile __u64 *)&t->packets = st->pos;
	}
}

SEC("xdp")
int take_array(struct xdp_md *ctx)
{
	__u32 zero = 0, i;
	struct rc_engine_slot *s;
	struct take_state *st;

	st = bpf_map_lookup_elem(&state, &zero);
	if (!st)
		return XDP_DROP;
	i = (__u32)st->pos & ring_mask;
	s = bpf_map_lookup_elem(&ring, &i);
	if (!s || *(volatile __u32 *)&s->seq != (__u32)(st->pos + 1))
		return XDP_DROP;
	compiler_barrier();
	if (!store_payload(ctx, s))
		count(st, s->len);
	return XDP_DROP;
}

/* bpf_user_ringbuf_drain wants its context on the stack. */
struct drain_ctx {
	struct take_state *st;
};

static long copy_sample(struct bpf_dynptr *sample, void *data)
{
	struct take_state *st = ((struct drain_ctx *)data)->st;
	__u16 raw;
	__u32 len;

	if (bpf_dynptr_read(&raw, sizeof(raw), sample, 4, 0))
		return 1;
	len = raw;
	/* Two checks the compiler may not merge into one range check on a
	 * copy: the verifier must see the bound on the register passed on. */
	if (len > RC_ENGINE_PAYLOAD_MAX)
		return 1;
	asm volatile("" : "+r"(len));
	if (!len)
		return 1;
	/* Header and payload, as the engine would keep them for the window. */
	if (bpf_dynptr_read(&st->stage, RC_ENGINE_SLOT_HDR, sample, 0, 0) ||
	    bpf_dynptr_read(st->stage.payload, len, sample, RC_ENGINE_SLOT_HDR, 0))
		st->stage.len = 0;
	return 1;	/* one sample per run */
}

SEC("xdp")
int take_uring(struct xdp_md *ctx)
{
	struct drain_ctx dc;
	struct take_state *st;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&state, &zero);
	if (!st)
		return XDP_DROP;
	st->stage.len = 0;
	dc.st = st;
	/* No wakeup: the producer polls, as the engine's application does. */
	if (bpf_user_ringbuf_drain(&uring, copy_sample, &dc, BPF_RB_NO_WAKEUP) != 1)
		return XDP_DROP;
	if (!store_payload(ctx, &st->stage))
		count(st, st->stage.len);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
