// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The replicator: a TC (clsact ingress) program that sends one rewritten copy
 * of each packet addressed to a group to every subscriber of that group, then
 * consumes the original. Everything else passes untouched. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_packet.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "parse.h"
#include "rewrite.h"
#include "counters.h"
#include "policy.h"
#include "neigh.h"
#include "icmp.h"
#include "select.h"
#include "health.h"
#include "balance.h"

/* What is not ours goes on to whatever else is attached (other tcx
 * programs, tc filters) and then the stack: TC_ACT_UNSPEC is "no verdict"
 * both for tcx and for a cls_bpf filter in direct-action mode, where
 * TC_ACT_OK would end classification and skip the rest. */
#define VERDICT_PASS TC_ACT_UNSPEC

/* bpf_loop refuses more iterations than this (BPF_MAX_LOOPS in the kernel). */
#define MAX_LOOP_ITERATIONS (1U << 23)

/* A packet taken for fan-out, as the receivers will see it: an skb that
 * GSO or GRO made stands for gso_segs datagrams, each with headers of its
 * own, and everything is counted and capped in datagrams. */
struct datagrams {
	__u32 count;			/* datagrams in the skb */
	__u32 ip_len;			/* IP length of the largest, for the MTU */
	__u64 bytes;			/* frame bytes of all of them */
};

struct fanout_ctx {
	struct __sk_buff *skb;
	void *subs;			/* the group's inner map of group_subs */
	void *slot_stats;		/* the group's inner map of sub_stats, or NULL */
	struct packet pkt;
	struct datagrams dg;
	struct copy_headers cur;	/* what the skb carries now */
	__u32 max_subs;
	__u32 gid;
	__u32 sent;			/* copies sent, in skbs */
	__u32 skipped;			/* copies the subscribers' selection skipped, in skbs */
	__u32 broken;			/* a rewrite failed: the skb is not to be sent */
	__u32 too_big_mtu;		/* the smallest MTU a copy did not fit, or 0 */
	__u32 winner;			/* balance group: the one slot to send to;
					 * BALANCE_NONE: replicate, to every slot */
};

static __always_inline void count_copy_dropped(struct fanout_ctx *ctx, __u32 slot, __u32 reason)
{
	count_drops(reason, ctx->dg.count);
	count_subscriber(ctx->slot_stats, ctx->max_subs, slot, ctx->dg.count, 0, 0);
}

/* resolve_next_hop() for the replicator, global for the same reason as
 * rewrite_copy(): checked once on its own, with the skb as its context,
 * where its FIB, neighbour and MTU branches no longer multiply the paths
 * through the rest of a copy. */
__noinline __u32 tc_next_hop(struct __sk_buff *skb, const struct rc_subscriber *sub,
			     struct copy_headers *next, __u32 tot_len, __u32 packets)
{
	if (!skb || !sub || !next)
		return 0;
	return resolve_next_hop(skb, sub, next, tot_len, packets);
}

/* bpf_loop callback: one subscriber slot. Returns 1 to stop the walk. */
static int fanout_one(__u32 slot, void *data)
{
	struct fanout_ctx *ctx = data;
	struct copy_headers next = {};
	struct rc_subscriber *sub;
	__u32 ifindex;

	sub = bpf_map_lookup_elem(ctx->subs, &slot);
	if (!sub || sub->state == SUB_EMPTY)
		return 1;
	if (sub->state != SUB_ON)
		return 0;
	if (sub->family != ctx->pkt.key.family) {
		count_copy_dropped(ctx, slot, DROP_FAMILY_MISMATCH);
		return 0;
	}
	/* Before any work for the copy: a skipped copy costs no lookup. */
	if (!sub_selects(ctx->gid, slot, sub, ctx->pkt.key.family, &ctx->pkt.saddr, 1,
			 ctx->dg.count)) {
		ctx->skipped++;
		return 0;
	}
	/* A receiver that answers only with errors gets probes, no more. */
	if (!sub_health_share(sub, 1)) {
		count_copy_dropped(ctx, slot, DROP_HELD_OFF);
		return 0;
	}
	if (ctx->broken) {
		/* The skb may carry a mix of two subscribers' headers: sending
		 * anything more from it could misdeliver. Every copy left is
		 * counted, so nothing goes missing from the accounts. */
		count_copy_dropped(ctx, slot, DROP_REWRITE_FAILED);
		return 0;
	}

	copy_headers_for(&next, sub, &ctx->pkt.saddr, ctx->pkt.key.port);
	ifindex = tc_next_hop(ctx->skb, sub, &next, ctx->dg.ip_len, ctx->dg.count);
	if (!ifindex) {
		if (next.too_big_mtu && (!ctx->too_big_mtu || next.too_big_mtu < ctx->too_big_mtu))
			ctx->too_big_mtu = next.too_big_mtu;
		count_subscriber(ctx->slot_stats, ctx->max_subs, slot, ctx->dg.count, 0, 0);
		return 0;
	}
	if (rewrite_copy(ctx->skb, &ctx->pkt, &ctx->cur, &next)) {
		ctx->broken = 1;
		count_copy_dropped(ctx, slot, DROP_REWRITE_FAILED);
		return 0;
	}
	ctx->cur = next;
	if (bpf_clone_redirect(ctx->skb, ifindex, 0)) {
		count_copy_dropped(ctx, slot, DROP_REDIRECT_FAILED);
		return 0;
	}
	ctx->sent++;
	count_subscriber(ctx->slot_stats, ctx->max_subs, slot, ctx->dg.count, ctx->dg.bytes, 1);
	return 0;
}

/* bpf_loop callback of the fan-out: step i is slot i, or in a balance
 * group's walk of one step the winner's slot, whose copy is made as any
 * other. */
static int fanout_step(__u32 i, void *data)
{
	struct fanout_ctx *ctx = data;

	return fanout_one(ctx->winner == BALANCE_NONE ? i : ctx->winner, data);
}

/* How the fan-out walks: `steps` slots from 0, or one step, to `winner`. */
struct fanout_plan {
	__u32 gid;		/* in: the group, its flags, slots, the skb's datagrams */
	__u32 flags;
	__u32 nslots;
	__u32 datagrams;
	__u32 steps;		/* out */
	__u32 winner;		/* out; BALANCE_NONE: step i is slot i */
};

/* The walk for a packet of a group with `flags`. A replicate group's walks
 * every slot. A balance group's packet has one copy, to the winner among
 * its ON subscribers of the packet's family (bpf/balance.h); nobody else
 * sees it, and a --sample/--from winner that declines it counts it
 * skipped. No candidate at all: the one copy has nowhere to go, a
 * no_subscribers drop (of `datagrams`), and no step.
 * Global (not static), like sub_select_rule(): the verifier checks it once
 * on its own and its caller sees two numbers come back, so both modes reach
 * the one bpf_loop of the fan-out in one state. Forked there, the fan-out
 * callback would be walked once more per mode, and it is most of the
 * verifier's budget already. */
__noinline int fanout_plan_for(struct __sk_buff *skb, const struct packet *pkt,
			       struct fanout_plan *out)
{
	__u16 sport = 0;
	__u32 key, nslots;
	void *subs;
	__u64 hash;
	int flow;

	if (!out)
		return 0;
	key = out->gid;
	nslots = out->nslots;
	flow = out->flags & GROUP_F_HASH_FLOW ? 1 : 0;
	out->steps = nslots;
	out->winner = BALANCE_NONE;
	if (!skb || !pkt || !(out->flags & GROUP_F_BALANCE))
		return 0;
	out->steps = 0;
	subs = bpf_map_lookup_elem(&group_subs, &key);
	if (!subs)
		return 0;
	if (flow && !bpf_skb_load_bytes(skb, pkt->l4_off, &sport, sizeof(sport)))
		sport = bpf_ntohs(sport);
	hash = balance_packet_hash(pkt->key.family, &pkt->saddr, sport, &pkt->key.addr,
				   pkt->key.port, flow);
	out->winner = balance_pick_slot(subs, nslots, pkt->key.family, hash);
	if (out->winner == BALANCE_NONE) {
		count_drops(DROP_NO_SUBSCRIBERS, out->datagrams);
		return 0;
	}
	out->steps = 1;
	return 0;
}

/* What the skb stands for (struct datagrams). UDP GSO and GRO keep one UDP
 * header for all and put the datagram payload size in gso_size. */
static __always_inline void count_datagrams(const struct __sk_buff *skb, const struct packet *pkt,
					    struct datagrams *dg)
{
	__u32 hdrs = pkt->l4_off + sizeof(struct udphdr);	/* Ethernet, IP, UDP */

	dg->count = 1;
	dg->ip_len = pkt->ip_len;
	dg->bytes = skb->len;
	if (skb->gso_size && skb->gso_segs > 1) {
		dg->count = skb->gso_segs;
		dg->ip_len = hdrs - pkt->l3_off + skb->gso_size;
		dg->bytes = skb->len + (__u64)(dg->count - 1) * hdrs;
	}
}

/* A packet the parser would not replicate. Before the IP destination is known
 * it cannot be ours for sure, so it is counted and passed; after, it is
 * dropped only when it is addressed to a group address, so nothing malformed
 * aimed at a group reaches a local socket and nothing else is touched. */
static __always_inline int reject(const struct packet *pkt, __u32 reason)
{
	struct rc_group_key addr_key = {};
	__u32 *refs;

	if (!pkt->dst_known) {
		count_drop(reason);
		return VERDICT_PASS;
	}
	addr_key.family = pkt->key.family;
	addr_key.addr = pkt->key.addr;
	refs = bpf_map_lookup_elem(&group_addrs, &addr_key);
	/* On the host's own address the rest is the host's business. */
	if (!refs || (*refs & RC_ADDR_LOCAL))
		return VERDICT_PASS;
	count_drop(reason);
	return TC_ACT_SHOT;
}

/* A router takes a packet only in a frame addressed to it: not one for
 * another host's MAC (a promiscuous device, a flooding switch), and a
 * unicast destination never in an L2 broadcast or multicast frame. Returns
 * 0, or the drop reason. */
static __always_inline __u32 frame_not_for_us(const struct __sk_buff *skb,
					      const struct packet *pkt)
{
	if (skb->pkt_type == PACKET_OTHERHOST)
		return DROP_OTHER_HOST;
	if (!key_is_multicast(&pkt->key) &&
	    (skb->pkt_type == PACKET_BROADCAST || skb->pkt_type == PACKET_MULTICAST))
		return DROP_L2_MISMATCH;
	return 0;
}

/* The whole path for one packet. from_network: it arrived on a device the
 * operator attached, so its source must be allowed; packets from the local
 * sender engines arrive on the injection device and are the operator's own. */
static __always_inline int replicate_packet(struct __sk_buff *skb, const int from_network)
{
	struct fanout_ctx ctx = {};
	__u32 zero = 0, max_subs, gid, reason;
	struct fanout_plan plan;
	struct arrived_headers *arrived = NULL;
	struct rc_config *cfg;
	__u8 ttl;
	struct rc_group *grp;
	int ret;

	/* The stack strips a VLAN tag into metadata before TC ingress
	 * (skb_vlan_untag), so a tagged frame shows here as its inner frame:
	 * only vlan_present tells. Tagged traffic is not ours to replicate. */
	if (skb->vlan_present) {
		count_drop(DROP_VLAN);
		return VERDICT_PASS;
	}
	/* Headers can sit in paged data (GRO, some drivers); make the longest
	 * header run we read linear so data_end bounds the parse honestly. */
	if (skb->data + MAX_HEADER_LEN > skb->data_end && skb->len > skb->data_end - skb->data)
		bpf_skb_pull_data(skb, skb->len < MAX_HEADER_LEN ? skb->len : MAX_HEADER_LEN);

	ret = parse_packet((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, &ctx.pkt);
	if (ret == PARSE_NOT_IP)
		return VERDICT_PASS;
	if (ret != PARSE_OK)
		return reject(&ctx.pkt, ret);

	grp = bpf_map_lookup_elem(&groups, &ctx.pkt.key);
	if (!grp)
		return VERDICT_PASS;
	gid = grp->id;
	count_datagrams(skb, &ctx.pkt, &ctx.dg);
	if (from_network && (reason = frame_not_for_us(skb, &ctx.pkt))) {
		count_drops(reason, ctx.dg.count);
		return TC_ACT_SHOT;
	}
	if (from_network && (reason = source_refused(gid, grp, &ctx.pkt, skb->ingress_ifindex))) {
		count_drops(reason, ctx.dg.count);
		count_group_drops(gid, DROP_SOURCE_DENIED, ctx.dg.count);
		return TC_ACT_SHOT;
	}
	ttl = copy_ttl(&ctx.pkt.key, grp, ctx.pkt.ttl);
	if (!ttl) {
		count_drops(DROP_TTL_EXCEEDED, ctx.dg.count);
		return TC_ACT_SHOT;
	}
	if (!rate_allows(gid, grp, ctx.dg.count, ctx.dg.bytes)) {
		count_drops(DROP_RATE_LIMITED, ctx.dg.count);
		count_group_drops(gid, DROP_RATE_LIMITED, ctx.dg.count);
		return TC_ACT_SHOT;
	}
	count_group_rx_n(gid, ctx.dg.count, ctx.dg.bytes);

	ctx.subs = bpf_map_lookup_elem(&group_subs, &gid);
	if (!ctx.subs) {
		count_drops(DROP_NO_SUBSCRIBERS, ctx.dg.count);
		return TC_ACT_SHOT;
	}
	/* A helper that fails here leaves the header half-changed: no copy
	 * goes out, and each is counted as the walk meets its subscriber. */
	ctx.broken = rewrite_ttl(skb, &ctx.pkt, ttl) ? 1 : 0;
	ctx.slot_stats = bpf_map_lookup_elem(&sub_stats, &gid);
	cfg = bpf_map_lookup_elem(&config, &zero);
	max_subs = cfg ? cfg->max_subs : DEFAULT_MAX_SUBS;
	if (max_subs > MAX_LOOP_ITERATIONS)
		max_subs = MAX_LOOP_ITERATIONS;

	ctx.max_subs = max_subs;
	ctx.gid = gid;
	ctx.skb = skb;
	copy_headers_init(&ctx.cur, &ctx.pkt);
	if (from_network)
		arrived = save_arrived_headers(skb, &ctx.pkt);
	/* One bpf_loop call, for both modes: a second site of fanout_step
	 * doubles what the verifier walks, past its limit. */
	plan.gid = gid;
	plan.flags = grp->flags;
	plan.nslots = max_subs;
	plan.datagrams = ctx.dg.count;
	fanout_plan_for(skb, &ctx.pkt, &plan);
	ctx.winner = plan.winner;
	bpf_loop(plan.steps, fanout_step, &ctx, 0);
	count_group_tx(gid, (__u64)ctx.sent * ctx.dg.count, ctx.sent * ctx.dg.bytes);
	if (ctx.skipped)
		count_group_skipped(gid, (__u64)ctx.skipped * ctx.dg.count);
	/* A copy did not fit its link: tell the source, as a router would. */
	if (ctx.too_big_mtu && arrived && wants_too_big(skb, &ctx.pkt, arrived))
		return send_too_big(skb, &ctx.pkt, arrived, (__u16)ctx.too_big_mtu);
	/* Every copy is out: the original has been replicated, not delivered. */
	return TC_ACT_SHOT;
}

SEC("tc")
int replicate(struct __sk_buff *skb)
{
	return replicate_packet(skb, 1);
}

/* Attached only to the injection device, where AF_XDP senders' frames arrive. */
SEC("tc")
int replicate_local(struct __sk_buff *skb)
{
	return replicate_packet(skb, 0);
}

/* On the TC ingress of subscribers' egress devices, where the receivers'
 * ICMP errors come back (to the copies' source, this host): counts those
 * that say a receiver is gone (bpf/health.h). Never a verdict of its own. */
SEC("tc")
int watch_unreachable(struct __sk_buff *skb)
{
	watch_unreachable_errors(skb);
	return VERDICT_PASS;
}

/* Follows the kernel's neighbour table for the next hops of copies through
 * devices that do not forward (the `neighbours` map): attached by the loader
 * and pinned, so it runs with no process. */
SEC("raw_tp/neigh_update_done")
int track_neighbour(struct bpf_raw_tracepoint_args *ctx)
{
	track_neighbour_update((struct neighbour___rc *)ctx->args[0]);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
