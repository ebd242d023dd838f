/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The pinned maps every replicast data path reads. Sizes here are defaults;
 * the loader sets the real ones (--max-groups, --max-subs) before loading. */
#ifndef REPLICAST_MAPS_H
#define REPLICAST_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "replicast_types.h"

#define DEFAULT_MAX_GROUPS	1024
#define DEFAULT_MAX_SUBS	4096
#define DEFAULT_MAX_SOURCES	(16 * DEFAULT_MAX_GROUPS)

/* Group destination -> group id and settings. No preallocation, so an update
 * publishes a fresh element under RCU and a reader never sees a half-written
 * value. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DEFAULT_MAX_GROUPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rc_group_key);
	__type(value, struct rc_group);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} groups SEC(".maps");

/* Group addresses with port 0 -> how many groups use that address, with
 * RC_ADDR_LOCAL set when it is one of the host's own. Lets the program drop
 * malformed traffic (fragments, options, other protocols) sent to a group
 * address instead of passing it to the local stack; on the host's own
 * addresses that traffic is the host's (ping, SSH) and passes. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DEFAULT_MAX_GROUPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rc_group_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} group_addrs SEC(".maps");

/* Group id -> that group's subscriber array. Swapping an inner map is how a
 * whole set changes atomically for in-flight packets. */
struct subscriber_array {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DEFAULT_MAX_SUBS);
	__type(key, __u32);
	__type(value, struct rc_subscriber);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, DEFAULT_MAX_GROUPS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct subscriber_array);	/* must be last */
} group_subs SEC(".maps");

/* Group id -> counters of each subscriber slot on each CPU (see struct
 * subscriber_counters for the layout). */
struct subscriber_counter_array {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DEFAULT_MAX_SUBS);
	__type(key, __u32);
	__type(value, struct rc_subscriber_counters);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, DEFAULT_MAX_GROUPS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct subscriber_counter_array);	/* must be last */
} sub_stats SEC(".maps");

/* Allowed sources per group (see struct rc_source_key). No entry for a group:
 * nothing from the network is fanned out for it. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, DEFAULT_MAX_SOURCES);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* LPM tries require it */
	__type(key, struct rc_source_key);
	__type(value, struct rc_source_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} group_sources SEC(".maps");

/* Group id -> rate-limit state, shared by all CPUs (updated by CAS). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DEFAULT_MAX_GROUPS);
	__type(key, __u32);
	__type(value, struct rc_group_rate);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} group_rate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DEFAULT_MAX_GROUPS);
	__type(key, __u32);
	__type(value, struct rc_group_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} group_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP_REASON_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} drop_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rc_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} config SEC(".maps");

/* Next hops of copies through devices that do not forward (struct
 * rc_neigh_key); the loader sizes it at least max_subs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RC_MIN_NEIGHBOURS);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* updates publish whole entries */
	__type(key, struct rc_neigh_key);
	__type(value, struct rc_neigh);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} neighbours SEC(".maps");

/* (group id, slot) -> which packets that subscriber takes (struct
 * rc_sub_select), for subscribers with SUB_F_SELECT only; the loader sizes
 * it at least max_subs. No preallocation: an update publishes a whole new
 * entry, so a packet sees the old rule or the new one. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RC_MIN_SUB_SELECTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rc_sub_select_key);
	__type(value, struct rc_sub_select);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sub_select SEC(".maps");

/* Receiver (family, address, port) -> its health (struct rc_sub_health):
 * every subscriber's receiver has one, counted by watch_unreachable; the
 * loader sizes it at least max_subs. The watcher and the fan-out change
 * fields in place; user space rewrites an entry only when a subscription
 * of its receiver comes or goes. No preallocation: memory per receiver
 * rather than 8 MiB up front, and an element replaced by such an update
 * stays the old receiver's until the programs that hold it are done (a
 * preallocated one could go straight to another key). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RC_MIN_SUB_HEALTH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct rc_sub_health_key);
	__type(value, struct rc_sub_health);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sub_health SEC(".maps");

/* ifindex -> where replicast is attached; written by the loader only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct rc_attachment);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} attachments SEC(".maps");

#endif /* REPLICAST_MAPS_H */
