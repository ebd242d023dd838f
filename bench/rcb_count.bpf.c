// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Receiver-side delivery counter: attached (native XDP) to every receiver
 * veth (in latency runs it also passes sampled datagrams to the sockets). Counts each benchmark datagram (UDP to the benchmark's port, with at
 * least the 8-byte sequence number as payload) per destination address and
 * drops it,
 * so receiving costs the same small amount for every sending method and no
 * socket is needed at the receivers. Anything that is not UDP over IPv4
 * (ARP, IPv6 neighbour discovery) is passed to the stack. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "rcb_common.h"

/* The receivers' UDP port, set by the loader before loading. */
const volatile __u16 rcb_port = RCB_DEFAULT_PORT;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, RCB_RX_MAX_ADDRS);
	__type(key, __u32);
	__type(value, struct rcb_rx_count);
} rcb_rx_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RCB_MISC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} rcb_rx_misc SEC(".maps");

/* Whether to pass sampled datagrams on to the latency sockets (rcbench run
 * --lat-*): set from user space around a latency run, 0 otherwise. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rcb_rx_cfg);
} rcb_rx_cfg SEC(".maps");

static __always_inline void count_misc(__u32 idx)
{
	__u64 *n = bpf_map_lookup_elem(&rcb_rx_misc, &idx);

	if (n)
		*n += 1;
}

SEC("xdp")
int rcb_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;
	struct rcb_payload_hdr *hdr;
	struct rcb_rx_count *c, zero = {};
	__u32 daddr;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		goto pass;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
		goto pass;
	udp = (void *)(ip + 1);
	hdr = (void *)(udp + 1);
	if ((void *)(hdr + 1) > data_end || udp->dest != bpf_htons(rcb_port)) {
		count_misc(RCB_MISC_FOREIGN);
		return XDP_DROP;
	}
	daddr = ip->daddr;
	c = bpf_map_lookup_elem(&rcb_rx_counts, &daddr);
	if (!c) {
		bpf_map_update_elem(&rcb_rx_counts, &daddr, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&rcb_rx_counts, &daddr);
		if (!c) {
			count_misc(RCB_MISC_NO_SLOT);
			return XDP_DROP;
		}
	}
	c->packets += 1;
	c->bytes += data_end - data;
	{
		__u32 k0 = 0;
		struct rcb_rx_cfg *cfg = bpf_map_lookup_elem(&rcb_rx_cfg, &k0);

		/* Counted either way; a sampled one also goes up the stack to
		 * the receiver's socket, whose receive timestamp is the
		 * latency cells' measurement. */
		if (cfg && cfg->pass && !(bpf_be64_to_cpu(hdr->seq) & cfg->pass_mask))
			return XDP_PASS;
	}
	return XDP_DROP;
pass:
	count_misc(RCB_MISC_PASSED);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
