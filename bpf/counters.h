/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Counting helpers. All counters are per-CPU, so the hot path takes no lock
 * and bounces no cache line; user space sums the CPUs when it reads. */
#ifndef REPLICAST_COUNTERS_H
#define REPLICAST_COUNTERS_H

#include "maps.h"

static __always_inline void count_drops(__u32 reason, __u64 packets)
{
	__u64 *n = bpf_map_lookup_elem(&drop_stats, &reason);

	if (n)
		*n += packets;
}

static __always_inline void count_drop(__u32 reason)
{
	count_drops(reason, 1);
}

static __always_inline void count_group_rx_n(__u32 gid, __u64 packets, __u64 bytes)
{
	struct rc_group_counters *c = bpf_map_lookup_elem(&group_stats, &gid);

	if (c) {
		c->rx_packets += packets;
		c->rx_bytes += bytes;
	}
}

static __always_inline void count_group_drops(__u32 gid, __u32 reason, __u64 packets)
{
	struct rc_group_counters *c = bpf_map_lookup_elem(&group_stats, &gid);

	if (!c)
		return;
	if (reason == DROP_SOURCE_DENIED)
		c->source_denied += packets;
	else
		c->rate_limited += packets;
}

static __always_inline void count_group_drop(__u32 gid, __u32 reason)
{
	count_group_drops(gid, reason, 1);
}

/* Copies of the group's packets that a subscriber's selection did not
 * want (bpf/select.h): neither sent nor dropped. */
static __always_inline void count_group_skipped(__u32 gid, __u64 copies)
{
	struct rc_group_counters *c = bpf_map_lookup_elem(&group_stats, &gid);

	if (c)
		c->skipped += copies;
}

static __always_inline void count_group_tx(__u32 gid, __u64 packets, __u64 bytes)
{
	struct rc_group_counters *c = bpf_map_lookup_elem(&group_stats, &gid);

	if (c) {
		c->tx_packets += packets;
		c->tx_bytes += bytes;
	}
}

/* Not inlined, and `delta` is a const pointer, on purpose: that parameter type
 * is what makes clang 14 emit the full struct rc_subscriber_counters into BTF
 * (the inner-map definition alone leaves it a forward declaration), and
 * libbpf needs the full struct to size the inner map of sub_stats. */
static __noinline void add_subscriber_counts(struct rc_subscriber_counters *c,
					     const struct rc_subscriber_counters *delta)
{
	c->packets += delta->packets;
	c->bytes += delta->bytes;
	c->dropped += delta->dropped;
}

/* `slots` is the group's inner map from sub_stats, or NULL when the group has
 * none (a group made by hand without counters still forwards). This CPU's
 * counters of `slot` sit at cpu * max_subs + slot. */
static __always_inline void count_subscriber_delta(void *slots, __u32 max_subs, __u32 slot,
						   const struct rc_subscriber_counters *delta)
{
	__u32 key = bpf_get_smp_processor_id() * max_subs + slot;
	struct rc_subscriber_counters *c;

	if (!slots)
		return;
	c = bpf_map_lookup_elem(slots, &key);
	if (c)
		add_subscriber_counts(c, delta);
}

/* One subscriber's copy of a packet that stands for `packets` datagrams
 * of `bytes` in all: sent (sent != 0) or dropped. */
static __always_inline void count_subscriber(void *slots, __u32 max_subs, __u32 slot,
					     __u32 packets, __u64 bytes, int sent)
{
	struct rc_subscriber_counters delta = {
		.packets = sent ? packets : 0,
		.bytes = sent ? bytes : 0,
		.dropped = sent ? 0 : packets,
	};

	count_subscriber_delta(slots, max_subs, slot, &delta);
}

#endif /* REPLICAST_COUNTERS_H */
