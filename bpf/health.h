/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Receiver health: a receiver that has gone away answers its copies with
 * ICMP port or host unreachable. watch_unreachable counts those errors in
 * the receiver's `sub_health` entry; both fan-out paths ask
 * sub_health_share() before a --health subscriber's copies and hold them
 * off (DROP_HELD_OFF) while its errors have streamed for its hold time,
 * letting one probe copy a second through until probes go unanswered.
 * The top half is plain arithmetic, also compiled by the unit tests. */
#ifndef REPLICAST_HEALTH_H
#define REPLICAST_HEALTH_H

#include <linux/types.h>
#include "replicast_types.h"

/* While held off: one copy a second goes through, to learn whether the
 * receiver is back; at one datagram a second a dead one costs nothing. */
#define RC_HEALTH_PROBE_NS	1000000000ULL
/* Errors further apart than this end a streak. Linux answers a peer about
 * once a second by default (net.ipv4.icmp_ratelimit 1000 ms,
 * net.ipv6.icmp.ratelimit likewise), so a dead receiver's errors come at
 * least that often while we send; twice it leaves room for jitter. */
#define RC_HEALTH_GAP_NS	2000000000ULL
/* Probes in a row with no error after them that put a receiver back on:
 * two, so that one probe a rate-limited receiver left unanswered does not. */
#define RC_HEALTH_PROBES	2

enum health_verdict {
	HEALTH_SEND = 0,	/* served: the copy goes */
	HEALTH_HOLD_START,	/* its errors have lasted the hold time: hold it off now */
	HEALTH_HOLD,		/* held off: the copy is not sent */
	HEALTH_PROBE,		/* held off, but a probe is due: one copy goes */
	HEALTH_RELEASE,		/* held off, and its probes went unanswered: served again */
};

/* Time from t to now, 0 when another CPU wrote a t later than our now. */
static inline __u64 health_elapsed(__u64 now, __u64 t)
{
	return now > t ? now - t : 0;
}

/* Where the streak that an error at `now` belongs to starts: a new one
 * after a gap longer than RC_HEALTH_GAP_NS (or when there is none). */
static inline __u64 health_streak_start(const struct rc_sub_health *h, __u64 now)
{
	if (!h->first_error_ns || !h->last_error_ns ||
	    health_elapsed(now, h->last_error_ns) > RC_HEALTH_GAP_NS)
		return now;
	return h->first_error_ns;
}

/* What to do with a copy at `now`, from the entry alone. */
static inline enum health_verdict health_verdict(const struct rc_sub_health *h, __u64 now)
{
	__u64 hold_ns = (__u64)h->hold_ms * 1000000ULL;

	if (!h->held_since_ns) {
		/* Nothing but errors for hold_ns, and they still come. */
		if (hold_ns && h->first_error_ns && h->last_error_ns >= h->first_error_ns &&
		    h->last_error_ns - h->first_error_ns >= hold_ns &&
		    health_elapsed(now, h->last_error_ns) <= RC_HEALTH_GAP_NS)
			return HEALTH_HOLD_START;
		return HEALTH_SEND;
	}
	if (!hold_ns)
		return HEALTH_RELEASE;		/* --health taken away meanwhile */
	if (health_elapsed(now, h->last_probe_ns) < RC_HEALTH_PROBE_NS)
		return HEALTH_HOLD;
	if (h->unanswered >= RC_HEALTH_PROBES)
		return HEALTH_RELEASE;
	return HEALTH_PROBE;
}

#ifdef __bpf__
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "parse.h"
#include "maps.h"

/* What sub_health_check() lets through of a run of copies. */
enum health_share {
	HEALTH_ALL = 0,		/* every copy */
	HEALTH_ONE,		/* one copy: a probe */
	HEALTH_NONE,		/* none: held off */
};

/* The decision for one subscriber's next copies, with the entry's state
 * moved on. Several CPUs and both fan-out paths ask at once: the moves are
 * compare-and-swaps, so one hold starts, one probe goes per interval and
 * one release happens. Global (not static), as sub_select_rule() is: the
 * verifier checks it once, and its callers see only a number. */
__noinline __u32 sub_health_check(const struct rc_sub_health_key *key)
{
	struct rc_sub_health_key k0;
	struct rc_sub_health *h;
	__u64 now, old;

	if (!key)
		return HEALTH_ALL;
	k0 = *key;
	h = bpf_map_lookup_elem(&sub_health, &k0);
	/* Flagged without an entry (removed by hand): as if not flagged. */
	if (!h)
		return HEALTH_ALL;
	now = bpf_ktime_get_ns();
	switch (health_verdict(h, now)) {
	case HEALTH_HOLD_START:
		if (__sync_val_compare_and_swap(&h->held_since_ns, 0, now) == 0) {
			/* The first probe a second from now. */
			h->last_probe_ns = now;
			h->unanswered = 0;
		}
		return HEALTH_NONE;
	case HEALTH_HOLD:
		return HEALTH_NONE;
	case HEALTH_PROBE:
		old = h->last_probe_ns;
		if (health_elapsed(now, old) < RC_HEALTH_PROBE_NS ||
		    __sync_val_compare_and_swap(&h->last_probe_ns, old, now) != old)
			return HEALTH_NONE;	/* another CPU's copy is the probe */
		__sync_fetch_and_add(&h->unanswered, 1);
		return HEALTH_ONE;
	case HEALTH_RELEASE:
		old = h->held_since_ns;
		if (old && __sync_val_compare_and_swap(&h->held_since_ns, old, 0) == old) {
			/* The next error starts a new streak. */
			h->first_error_ns = 0;
			h->unanswered = 0;
		}
		return HEALTH_ALL;
	default:
		return HEALTH_ALL;
	}
}

/* Of the copies in `offered` (bit j: the run's j-th, in sending order),
 * those subscriber `sub` is sent: all, unless it is held off (none) or
 * only probed (the first). A subscriber without --health costs a flag test. */
static __always_inline __u32 sub_health_share(const struct rc_subscriber *sub, __u32 offered)
{
	struct rc_sub_health_key key = {
		.family = sub->family,
		.port = sub->port,
		.addr = sub->addr,
	};
	__u32 v;

	if (!(sub->flags & SUB_F_HEALTH) || !offered)
		return offered;
	v = sub_health_check(&key);
	if (v == HEALTH_NONE)
		return 0;
	if (v == HEALTH_ONE)
		return offered & -offered;
	return offered;
}

/* ---- the watcher: ICMP errors that quote a copy ---- */

#define ICMP_DEST_UNREACH_TYPE	3	/* ICMP destination unreachable */
#define ICMP_HOST_UNREACH_CODE	1
#define ICMP_PORT_UNREACH_CODE	3
#define ICMPV6_DEST_UNREACH_TYPE 1	/* ICMPv6 destination unreachable */
#define ICMPV6_ADDR_UNREACH_CODE 3
#define ICMPV6_PORT_UNREACH_CODE 4
#define ICMP_ERR_HDR		8	/* type, code, checksum, 4 unused bytes */

/* Adds one error to the entry of the receiver the quoted copy went to. */
static __always_inline void note_error(struct rc_sub_health_key *key)
{
	struct rc_sub_health *h = bpf_map_lookup_elem(&sub_health, key);
	__u64 now;

	if (!h)
		return;
	now = bpf_ktime_get_ns();
	__sync_fetch_and_add(&h->unreachable, 1);
	/* The streak's start before its end: a reader that sees the new end
	 * sees the start that goes with it (plain stores stay in order on
	 * x86; elsewhere a torn pair only delays a hold by one error). */
	h->first_error_ns = health_streak_start(h, now);
	h->last_error_ns = now;
	h->unanswered = 0;
}

/* IPv4: an ICMP host or port unreachable quoting IPv4 + UDP. Offsets come
 * from header fields of at most 15 words, so every read is bounded;
 * bpf_skb_load_bytes refuses what lies past the packet (a truncated quote). */
static __always_inline void watch_icmp4(struct __sk_buff *skb)
{
	struct rc_sub_health_key key = { .family = RC_AF_INET };
	struct iphdr ip, in;
	__u8 icmp[2];
	__be16 udp[2];
	__u32 off;

	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) || ip.version != 4 || ip.ihl < 5 ||
	    ip.protocol != IPPROTO_ICMP || (ip.frag_off & bpf_htons(IP_MF | IP_OFFSET)))
		return;
	off = ETH_HLEN + ip.ihl * 4;
	if (bpf_skb_load_bytes(skb, off, icmp, sizeof(icmp)) || icmp[0] != ICMP_DEST_UNREACH_TYPE ||
	    (icmp[1] != ICMP_HOST_UNREACH_CODE && icmp[1] != ICMP_PORT_UNREACH_CODE))
		return;
	off += ICMP_ERR_HDR;
	if (bpf_skb_load_bytes(skb, off, &in, sizeof(in)) || in.version != 4 || in.ihl < 5 ||
	    in.protocol != IPPROTO_UDP)
		return;
	off += in.ihl * 4;
	if (bpf_skb_load_bytes(skb, off, udp, sizeof(udp)))
		return;
	key.port = bpf_ntohs(udp[1]);
	key.addr.v4 = in.daddr;
	note_error(&key);
}

/* IPv6: an ICMPv6 address or port unreachable quoting IPv6 + UDP, with no
 * extension header on either (copies carry none). */
static __always_inline void watch_icmp6(struct __sk_buff *skb)
{
	struct rc_sub_health_key key = { .family = RC_AF_INET6 };
	struct ipv6hdr ip6;
	__u8 icmp[2];
	__be16 udp[2];
	__u32 off = ETH_HLEN;

	if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)) || ip6.version != 6 ||
	    ip6.nexthdr != IPPROTO_ICMPV6)
		return;
	off += sizeof(ip6);
	if (bpf_skb_load_bytes(skb, off, icmp, sizeof(icmp)) ||
	    icmp[0] != ICMPV6_DEST_UNREACH_TYPE ||
	    (icmp[1] != ICMPV6_ADDR_UNREACH_CODE && icmp[1] != ICMPV6_PORT_UNREACH_CODE))
		return;
	off += ICMP_ERR_HDR;
	if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)) || ip6.version != 6 ||
	    ip6.nexthdr != IPPROTO_UDP)
		return;
	off += sizeof(ip6);
	if (bpf_skb_load_bytes(skb, off, udp, sizeof(udp)))
		return;
	key.port = bpf_ntohs(udp[1]);
	__builtin_memcpy(key.addr.v6, &ip6.daddr, 16);
	note_error(&key);
}

/* Every packet arriving on a subscriber's egress device: only ICMP errors
 * are read past the protocol field, and nothing is changed or dropped. */
static __always_inline void watch_unreachable_errors(struct __sk_buff *skb)
{
	if (skb->vlan_present)
		return;
	if (skb->protocol == bpf_htons(ETH_P_IP))
		watch_icmp4(skb);
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		watch_icmp6(skb);
}
#endif /* __bpf__ */

#endif /* REPLICAST_HEALTH_H */
