/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Layouts shared by the kernel programs and user space: map keys, values and
 * counter indices. Both sides include this file, so they cannot disagree. */
#ifndef REPLICAST_TYPES_H
#define REPLICAST_TYPES_H

#include <linux/types.h>

/* Address families as the kernel numbers them (AF_INET, AF_INET6), spelled out
 * here because BPF code cannot include <sys/socket.h>. */
#define RC_AF_INET	2
#define RC_AF_INET6	10

/* An IPv4 address sits in the first four bytes; the rest stay zero so a key
 * compares equal byte for byte. */
union rc_addr {
	__be32 v4;
	__u8 v6[16];
};

/* Key of the `groups` map: the destination a stream is sent to. */
struct rc_group_key {
	__u8 family;
	__u8 pad;
	__u16 port;		/* host byte order, so bpftool shows 5000 as 5000 */
	union rc_addr addr;
};

/* In a `group_addrs` value: the address is the host's own. */
#define RC_ADDR_LOCAL	(1U << 31)

/* Value of the `groups` map. `id` indexes group_subs, group_stats,
 * sub_stats and group_rate. Limits of 0 mean none. Packets and bits are
 * datagrams as the receivers see them: a GSO/GRO super-packet counts as the
 * gso_segs datagrams it stands for. */
struct rc_group {
	__u32 id;
	__u32 flags;
	__u64 max_pps;		/* packets per second taken for fan-out */
	__u64 max_bps;		/* bits per second taken for fan-out */
	__u8 ttl;		/* multicast groups: TTL / hop limit of the copies; 0: RC_COPY_TTL */
	__u8 pad;
	/* A port range (group add ADDR:FIRST-LAST) is one key per port, every
	 * one with this same value: one id, so one subscriber set, one set of
	 * counters, one cap and one allow list, and the program's lookup stays
	 * exact. These say which keys belong together, for user space (list,
	 * save, del) and bpftool readers; the program never reads them.
	 * port_last <= port_first (0, 0 as older entries have it): one port. */
	__u16 port_first;	/* host byte order */
	__u16 port_last;
	__u8 pad2[2];
};

/* Ports one range group may span: each is a key of `groups`, and counts
 * against max_groups like a group of its own. */
#define RC_MAX_PORT_RANGE	1024

enum group_flags {
	/* a packet from an allowed source may arrive on any attached device */
	GROUP_F_LOOSE_REVERSE_PATH = 1 << 0,
	/* each packet goes to one ON subscriber, by rendezvous hashing
	 * (bpf/balance.h), instead of to every one */
	GROUP_F_BALANCE = 1 << 1,
	/* balance by the whole flow (addresses and ports), not the source
	 * address alone */
	GROUP_F_HASH_FLOW = 1 << 2,
};

/* The TTL rule (see README "TTL and loops"). A copy of a packet sent to a
 * multicast group is a new unicast packet from this host: it leaves with a
 * fresh TTL (the group's, else this), so a source on the relay's link with
 * its sockets' default TTL of 1 is served. Groups on unicast addresses keep
 * router semantics: the TTL drops by one per relay and a packet that arrives
 * with 1 or less is not fanned out. Subscribers are always unicast, so a
 * copy never becomes multicast again and every loop between relays loses a
 * TTL per hop and dies out. */
#define RC_COPY_TTL	64

/* Key of the `group_sources` LPM trie: which sources may send to a group
 * from the network. The trie matches leading bits, so the group id and the
 * family come first and prefixlen is 64 + the address prefix length. */
struct rc_source_key {
	__u32 prefixlen;
	__u32 group_id;
	__u8 family;
	__u8 pad[3];
	union rc_addr addr;
};

#define SOURCE_KEY_FIXED_BITS 64	/* group_id and family+pad in prefixlen */

/* Value of a `group_sources` entry: presence allows the prefix. Its packets
 * must also arrive on the device the route back to the prefix leaves by,
 * as `group allow` found it (a router's strict reverse-path check, which
 * the kernel's rp_filter cannot make for packets consumed at TC ingress),
 * unless the group has GROUP_F_LOOSE_REVERSE_PATH. 0: no route was found,
 * any device. */
struct rc_source_rule {
	__u32 ifindex;
};

/* Rate-limit state of one group (`group_rate`): the theoretical arrival
 * time of the next packet (GCRA), in ns, for the packet and the bit budget. */
struct rc_group_rate {
	__u64 pkt_tat_ns;
	__u64 bit_tat_ns;
};

/* A subscriber slot's state. Walking a group stops at the first EMPTY slot,
 * skips OFF and RETIRED slots and sends to ON slots. Only the low byte ever
 * changes while a slot holds one subscriber, so a reader racing a one-entry
 * update sees the old or the new state, never a mix (see README: "Managing
 * subscribers with bpftool"); another subscriber is written only into an
 * EMPTY or RETIRED slot. */
enum subscriber_state {
	SUB_EMPTY = 0,
	SUB_ON = 1,
	SUB_OFF = 2,
	/* off for at least one RCU grace period: no packet still reads it as
	 * the subscriber it was, so it may be written with another one */
	SUB_RETIRED = 3,
};

enum subscriber_flags {
	SUB_F_KEEP_SOURCE = 1 << 0,	/* copies keep the original source address */
	SUB_F_STATIC_MAC = 1 << 1,	/* use dst_mac/src_mac, skip the FIB lookup */
	/* src_mac holds the egress device's MAC and `gateway` the next hop,
	 * whose MAC the `neighbours` map keeps current: used when the FIB will
	 * not answer because the device does not forward */
	SUB_F_CACHED_NEXT_HOP = 1 << 2,
	/* the subscriber takes only some packets: its rule is the
	 * `sub_select` entry of (group id, slot), struct rc_sub_select */
	SUB_F_SELECT = 1 << 3,
	/* --health: held off while its receiver answers with nothing but
	 * ICMP unreachable errors (its `sub_health` entry, bpf/health.h) */
	SUB_F_HEALTH = 1 << 4,
};

/* One slot of a group's subscriber array (the inner map of group_subs). */
struct rc_subscriber {
	__u32 state;		/* enum subscriber_state */
	__u32 ifindex;		/* egress device */
	__u8 family;
	__u8 flags;		/* enum subscriber_flags */
	__u16 port;		/* host byte order; 0: the packet's own destination
				 * port (subscribers of a port range that keep it) */
	__u8 dst_mac[6];	/* with SUB_F_STATIC_MAC or SUB_F_CACHED_NEXT_HOP */
	__u8 src_mac[6];	/* the same: the egress device's MAC */
	union rc_addr addr;	/* where the copy goes */
	union rc_addr source;	/* source address of the copy, unless KEEP_SOURCE */
	union rc_addr gateway;	/* next hop: addr itself, or the route's gateway */
};

/* Key of the `neighbours` map: a next hop that subscribers' copies take
 * through a device that does not forward. `sub add` makes the entry; a
 * program on the neighbour_update_done tracepoint keeps it in step with the
 * kernel's neighbour table, so a next hop that changes its MAC, fails or
 * answers late is followed with no process running. The cookie keeps other
 * network namespaces' neighbours (same ifindex, same address) apart. */
struct rc_neigh_key {
	__u64 netns_cookie;	/* SO_NETNS_COOKIE of the relay's namespace */
	__u32 ifindex;
	__u8 family;
	__u8 pad[3];
	union rc_addr addr;
};

/* Entries the `neighbours` map has room for at least (more with --max-subs). */
#define RC_MIN_NEIGHBOURS	65536

struct rc_neigh {
	__u8 mac[6];
	__u8 valid;		/* the kernel's entry is NUD_VALID: mac is usable */
	__u8 pad;
};

/* Per-CPU counters of one group (group_stats, indexed by group id). */
struct rc_group_counters {
	__u64 rx_packets;	/* packets addressed to the group that were taken */
	__u64 rx_bytes;
	__u64 tx_packets;	/* copies sent, all subscribers together */
	__u64 tx_bytes;
	__u64 source_denied;	/* from a source the allow list does not cover, or
				 * on the wrong device (reverse path) */
	__u64 rate_limited;	/* over max_pps or max_bps */
	__u64 skipped;		/* copies its subscribers' --sample/--from did not want */
};

/* Counters of one subscriber slot on one CPU. The inner maps of sub_stats
 * are plain arrays of config.nr_cpus * config.max_subs of these, indexed by
 * cpu * max_subs + slot: per-CPU without the per-CPU allocator, which takes
 * tens of milliseconds to make a 4,096-slot map and would make group
 * creation slow. Each CPU writes only its own run of slots. */
struct rc_subscriber_counters {
	__u64 packets;
	__u64 bytes;
	__u64 dropped;		/* copies that could not be sent (no route, no neighbour, ...) */
};

/* ---- Per-subscriber selection (bpf/select.h) ----
 * A subscriber with SUB_F_SELECT takes only the packets its entry in the
 * pinned `sub_select` hash picks: those from one of its `from` prefixes
 * (none: any source the group takes), and of those one in `sample`. Apart
 * from the subscriber array, so that struct rc_subscriber (and the
 * bpftool recipe that writes it) stays as it is, and so that the packet
 * count that deterministic sampling needs is one shared counter for both
 * engines, which the snapshots of the XDP engine do not copy. */
#define RC_SUB_MAX_FROM	8	/* prefixes per subscriber: matched one by one per packet */

enum sub_select_flags {
	SELECT_F_RANDOM = 1 << 0,	/* 1 in sample at random, not every sample-th */
};

/* One --from prefix: family, its length in bits, the address (host bits 0). */
struct rc_sub_prefix {
	__u8 family;
	__u8 len;
	__u8 pad[2];
	union rc_addr addr;
};

struct rc_sub_select_key {
	__u32 group_id;
	__u32 slot;
};

struct rc_sub_select {
	/* Datagrams offered to the subscriber (past its filter) since it was
	 * added; the program adds atomically. Deterministic sampling sends
	 * offer number k (from 0) when k % sample == 0: its 1st, N+1th, ... */
	__u64 seen;
	/* Datagrams it did not take (sampled out, source not in from): its
	 * `skipped`, here rather than in sub_stats because only a subscriber
	 * with a rule skips; atomic adds, like seen. */
	__u64 skipped;
	__u32 sample;		/* 1 in this many; 0 or 1: every one */
	__u8 flags;		/* enum sub_select_flags */
	__u8 nfrom;		/* prefixes in from[]; 0: any source */
	__u8 pad[2];
	struct rc_sub_prefix from[RC_SUB_MAX_FROM];
};

/* Entries the `sub_select` map has room for at least (more with --max-subs). */
#define RC_MIN_SUB_SELECTS	65536

/* ---- Receiver health (bpf/health.h) ----
 * One entry of the pinned `sub_health` hash per receiver (family, address,
 * port), whatever groups it is subscribed to: an ICMP error names the
 * receiver its quoted copy went to, not a group. watch_unreachable, on the
 * TC ingress of the subscribers' egress devices, counts the errors and
 * times their streak; the fan-out of a subscriber with SUB_F_HEALTH holds
 * its copies off while the streak has lasted the entry's hold_ms. Times are
 * bpf_ktime_get_ns() (CLOCK_MONOTONIC). */
struct rc_sub_health_key {
	__u8 family;
	__u8 pad;
	__u16 port;		/* host byte order */
	union rc_addr addr;
};

struct rc_sub_health {
	__u64 unreachable;	/* ICMP/ICMPv6 unreachable errors quoting a copy to it */
	__u64 first_error_ns;	/* start of the current streak of errors; 0: none */
	__u64 last_error_ns;	/* the latest error; 0: none yet */
	__u64 held_since_ns;	/* its copies are held off since; 0: served */
	__u64 last_probe_ns;	/* while held off: the last copy let through as a probe */
	__u32 unanswered;	/* probes sent since the last error */
	__u32 hold_ms;		/* --health, in ms: a streak this long holds it off; 0: never */
	__u32 refs;		/* subscriptions of this receiver (kept by user space) */
	__u32 pad;
};

/* Entries the `sub_health` map has room for at least (more with --max-subs). */
#define RC_MIN_SUB_HEALTH	65536

/* Why a packet, or one copy of it, was not replicated. The drop_stats map is
 * indexed by these; user space prints their names from rc_reason_names(). */
enum drop_reason {
	DROP_TRUNCATED_ETH = 0,	/* frame shorter than an Ethernet header: passed */
	DROP_VLAN,		/* VLAN-tagged frame: not parsed, passed */
	DROP_TRUNCATED_IP,	/* shorter than its IP header: passed */
	DROP_BAD_IP_HEADER,	/* IHL < 5, wrong version or total length: group traffic dropped */
	DROP_IP_OPTIONS,	/* IPv4 options or IPv6 extension headers */
	DROP_FRAGMENT,		/* IP fragments are never replicated */
	DROP_NOT_UDP,		/* other protocol to a group address */
	DROP_TRUNCATED_UDP,	/* shorter than a UDP header */
	DROP_BAD_UDP_LENGTH,	/* UDP length < 8 or larger than the packet */
	DROP_UDP6_ZERO_CSUM,	/* IPv6 UDP without checksum (RFC 8200 forbids it) */
	DROP_TTL_EXCEEDED,	/* TTL or hop limit would reach zero */
	DROP_NO_SUBSCRIBERS,	/* group has no subscriber set */
	DROP_NO_ROUTE,		/* FIB lookup for a subscriber failed (per copy) */
	DROP_NO_NEIGH,		/* next hop's MAC is not known (per copy) */
	DROP_REDIRECT_FAILED,	/* bpf_clone_redirect failed (per copy) */
	DROP_REWRITE_FAILED,	/* a header or checksum helper failed (per copy) */
	DROP_FAMILY_MISMATCH,	/* subscriber's family differs from the group's (per copy) */
	DROP_FORWARDING_OFF,	/* FIB lookup refused: forwarding is off on the device (per copy) */
	DROP_SOURCE_DENIED,	/* from the network, source not in the group's allow list */
	DROP_RATE_LIMITED,	/* over the group's max_pps / max_bps */
	DROP_OTHER_HOST,	/* group packet in a frame for another host's MAC */
	DROP_L2_MISMATCH,	/* unicast group address in an L2 broadcast/multicast frame */
	DROP_BAD_IP_CSUM,	/* IPv4 header checksum wrong */
	DROP_REVERSE_PATH,	/* allowed source, but not on the device its route leaves by */
	DROP_TOO_BIG,		/* a datagram longer than the egress MTU (per copy) */
	DROP_HELD_OFF,		/* its receiver answers only with unreachable errors (per copy) */
	DROP_REASON_MAX,
};

/* Record of one device replicast is attached to (the `attachments` map), so
 * `unload` can detach everywhere without the loader's memory. */
struct rc_attachment {
	char ifname[16];
	__u32 prio;
	__u32 handle;
	__u32 created_qdisc;	/* 1 if replicast created the clsact qdisc */
	__u32 tcx;		/* 1: a tcx link pinned at links/<ifname>; 0: a tc filter */
};

/* Load-time settings, kept in the single-entry `config` map so a later
 * process sees the sizes the maps were created with. */
struct rc_config {
	__u32 max_groups;
	__u32 max_subs;
	__u32 layout_version;
	__u32 nr_cpus;		/* possible CPUs the sub_stats inner maps are sized for */
	__u64 netns_cookie;	/* of the namespace it was loaded in (struct rc_neigh_key) */
};

/* ---- The XDP fan-out engine (xdp_engine.bpf.c, user/lib/engine.c) ----------
 * Maps of one sender, made when it opens and gone when it closes; none is
 * pinned, so none of this is part of the pinned layout. */

/* Engine threads of one sender at most; each serves the subscribers whose
 * slot number is its index modulo the thread count. */
#define RC_ENGINE_MAX_THREADS	16
/* Entries per set of the engine's next-hop cache (xdp_engine.bpf.c), which
 * has max_subs / 4 sets per thread, at least one. A power of two. */
#define RC_ENGINE_NEXT_HOP_WAYS	8
/* Packets of one group that go out as a window: each subscriber gets its
 * copies of the whole window back to back, so a device gets a burst (the
 * device map sends up to 16 frames per call, DEV_MAP_BULK_SIZE). */
#define RC_ENGINE_WINDOW	16
/* One ring slot: a 64-byte header, then the payload. */
#define RC_ENGINE_SLOT_SIZE	2048
#define RC_ENGINE_SLOT_HDR	64
#define RC_ENGINE_PAYLOAD_MAX	(RC_ENGINE_SLOT_SIZE - RC_ENGINE_SLOT_HDR)
/* TTL / hop limit a local sender's packets start with (Linux's default):
 * the AF_XDP sender writes it into its frames, and the XDP engine applies
 * the TTL rule to it as the replicator does to a frame that arrives, so
 * both engines' copies look the same to a receiver. */
#define RC_SENDER_TTL		64

/* A packet in the shared ring (the mmapable array `ring`). The application
 * writes everything, then `seq` last with a release store; the program
 * reads `seq` first and nothing of a slot whose `seq` is not position + 1. */
struct rc_engine_slot {
	__u32 seq;		/* ring position + 1 (low 32 bits) once written */
	__u16 len;		/* payload bytes */
	__u16 sport;		/* UDP source port, host byte order */
	__u32 csum;		/* one's complement sum of the payload, folded to 16 bits */
	__u16 ip_id;		/* IPv4 identification, host byte order */
	__u8 ttl;		/* relay: TTL / hop limit as received; 0: a local sender's */
	__u8 pad;
	struct rc_group_key group;	/* where the packet is sent */
	union rc_addr source;	/* source address, for --keep-source subscribers */
	__u8 pad2[RC_ENGINE_SLOT_HDR - 52];
	__u8 payload[RC_ENGINE_PAYLOAD_MAX];
};

/* Followers' naps (xdp_engine.bpf.c, "naps"): while the leader's load shows
 * it could send every copy alone, it does (the leader's entry); a
 * follower then leaves its run and sleeps (its own entry), so that it
 * does not spin on a core the sender and the receivers need. */
struct rc_engine_nap {
	/* A follower's own entry. */
	__u32 out;		/* it sends nothing; its `consumed` is not the ring's */
	__u32 joining;		/* out, back in its run, waiting for the leader */
	/* The leader's entry. */
	__u32 solo;		/* windows from solo_from on are the leader's alone */
	__u32 want_split;	/* it asks the followers back */
	__u64 solo_from;	/* the first window it sends alone */
	__u64 split_from;	/* the first window shared again */
	__u64 split_pos;	/* its ring position */
	__u64 solos;		/* times it went alone */
	__u64 splits;		/* times it shared again */
	__u32 split_flushed;	/* its copies from before split_from have left */
	__u32 pad;
};

/* What one engine thread tells the application (the mmapable array `ctl`,
 * entry = thread index), written by the program every few dozen packets
 * and whenever it finds the ring empty: the application polls this line,
 * so the hot cursor stays elsewhere. */
struct rc_engine_ctl {
	__u64 consumed;		/* packets this thread is done with */
	__u64 copies;		/* frames a device took (refused ones moved to dropped) */
	__u64 idle_runs;	/* program runs that found nothing to do */
	__u64 dropped;		/* copies not sent: no route, no neighbour, refused... */
	__u64 xmit_dropped;	/* of those, refused by the kernel after the redirect */
	__u64 snap_waits;	/* runs spent waiting for a snapshot (leader or follower) */
	__u32 missing_ifindex;	/* last egress device missing from the device map */
	__u32 pad;
	__u64 settled;		/* consumed, once every refusal of its copies is counted */
	/* Second line, written only when a follower naps or comes back. */
	struct rc_engine_nap nap;
};

/* How each entry of the program's `cursors` array starts: the library
 * writes these before the thread's first run; the rest is the program's. */
struct rc_engine_thread_id {
	__u32 tid;		/* the engine thread (its kernel pid) */
	__u32 thread;		/* its index; 0 is the leader, which snapshots */
};

/* With more than one thread, the leader may run this many windows ahead of
 * the slowest follower (array `windows`), and keeps this many snapshots of
 * subscriber sets (array `versions`): a set is copied only when it changed. */
#define RC_ENGINE_WINDOWS	256
#define RC_ENGINE_VERSIONS	4
/* Devices each thread keeps a ledger of queued copies for (xdp_engine.bpf.c):
 * the device map's 256, and some sent to before they are in it. */
#define RC_ENGINE_LEDGER_DEVS	272
/* Entries per thread of the direct-mapped index in front of the ledgers'
 * hash (by the ifindex's low bits). A power of two. */
#define RC_ENGINE_LEDGER_INDEX	1024

/* One subscriber as a snapshot holds it (array `snaps`). */
struct rc_engine_sub {
	__u32 slot;		/* its slot in the group's subscriber array */
	__u32 pad;
	struct rc_subscriber sub;
};

/* A window, as the leader made it (array `windows`). */
struct rc_engine_window {
	__u64 ready;		/* ring position + 1 of its first packet, written last */
	__u32 gid;
	__u32 w;		/* packets in the window */
	__u32 admitted;		/* bit j: packet j of the window goes out */
	__u32 version;		/* the snapshot its subscribers are in */
	__u32 ttl;		/* of its copies: copy_ttl() of the group */
	__u32 balance;		/* the group balances: winner[] says who gets what */
	/* balance: packet j goes to entry winner[j] >> 4 of thread
	 * winner[j] & 15's share (RC_ENGINE_MAX_THREADS is 16), or nowhere
	 * (BALANCE_NONE) */
	__u32 winner[RC_ENGINE_WINDOW];
};

/* A snapshot of one group's subscribers (array `versions`), its entries
 * in `snaps`, each thread's share apart. */
struct rc_engine_version {
	__u64 last_window;	/* the last window that uses it */
	__u32 gid;
	__u32 valid;
	__u32 count[RC_ENGINE_MAX_THREADS];	/* entries for each thread */
	__u32 spread;		/* threads it is shared among: 1 while followers nap */
	__u32 pad;
};

/* ---- The relay engine (relay_ingress in xdp_engine.bpf.c, user/lib/relay.c) --
 * The same engine, with its ring written by an XDP program on the attached
 * devices instead of an application: packets that arrive from the network
 * are fanned out by engine threads (`replicast serve`). Like the engine's
 * other maps, none of these is pinned: they live as long as the process. */

/* Who fills the ring now. SERVING: relay_ingress takes group packets. PARKED:
 * the engine threads sleep; relay_ingress passes packets to the TC path and
 * wakes them (WOKEN, one wake-up per sleep). RESUMING: awake, but not every
 * thread is inside its run yet: passes, as while asleep, until the last
 * thread's program makes it SERVING. PARKING: the engine is about to leave
 * its runs to sleep; passes without waking, so that no packet is left in
 * the ring while the threads are on their way out. STOPPED: passes, never
 * wakes. Entering and leaving a live-frames run each wait for an RCU grace
 * period (the kernel's XDP dispatcher is updated both times), milliseconds
 * here: a packet must never wait in the ring across either. */
enum rc_relay_state {
	RC_RELAY_STOPPED = 0,
	RC_RELAY_SERVING = 1,
	RC_RELAY_PARKED = 2,
	RC_RELAY_WOKEN = 3,
	RC_RELAY_RESUMING = 4,
	RC_RELAY_PARKING = 5,
};

/* The producers' line (mmapable array `relay_ctl`): CPUs that receive
 * reserve ring positions here with a compare-and-swap; user space reads it
 * to tell an empty ring. */
struct rc_relay_ctl {
	__u64 produced;		/* ring positions reserved: the next one */
	__u8 pad[56];		/* state on a line of its own: read on every packet,
				 * written only when the engine parks or wakes */
	__u32 state;		/* enum rc_relay_state */
	/* RESUMING: the library resets `resumed`, says RESUMING, then bumps
	 * resume_gen; each thread's program adds itself to resumed on its
	 * first run that sees the new generation. */
	__u32 resume_gen;
	__u32 resumed;
	__u32 pad2;
};

/* An ingress device relay_ingress serves (hash `relay_devs`, by ifindex). */
struct rc_relay_dev {
	__u8 mac[6];		/* the device's own: frames for another host pass */
	__u8 local;		/* the injection device: the operator's own senders */
	__u8 pad;
};

/* Why relay_ingress left a group packet to the TC path (per-CPU array
 * `relay_stats`): TC then fans it out, or drops and counts it, as it
 * always did. */
enum rc_relay_counter {
	RC_RELAY_TAKEN = 0,	/* put in the ring for the engine */
	RC_RELAY_RING_FULL,	/* no room in the ring (or producers raced too long) */
	RC_RELAY_PARKED_PASS,	/* the engine was parked or stopping */
	RC_RELAY_POLICY,	/* source, reverse path, TTL or frame not for us: TC counts why */
	RC_RELAY_UNSUPPORTED,	/* malformed, too long for a slot, or not a single buffer */
	RC_RELAY_COUNTERS,
};

#define RC_LAYOUT_VERSION 7

#endif /* REPLICAST_TYPES_H */
