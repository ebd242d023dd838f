// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The AF_XDP sender: a UMEM and a transmit-only socket on the injection
 * device, frames built in place, batches handed over with as few sendto()
 * kicks as the kernel's per-call budget allows, frames recycled from the
 * completion ring. Every system call it makes after open is counted. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>
#include "internal.h"
#include "route.h"

/* Linux 6.17 lets a socket raise how many descriptors one sendto() moves in
 * copy mode (net/xdp/xsk.c, XDP_MAX_TX_SKB_BUDGET); before, and when the
 * option is refused, that is TX_BATCH_SIZE. */
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET	9
#endif
#define KERNEL_TX_BATCH		32

#define DEFAULT_BATCH		256
#define DEFAULT_FRAMES		4096
#define DEFAULT_FRAME_SIZE	2048
#define DEFAULT_TIMEOUT_MS	1000
#define MIN_FRAMES		64
#define MAX_FRAMES		(1U << 20)	/* 4 GiB of UMEM at 4 KiB frames */
/* The fill ring feeds receive, which a transmit-only socket never does; the
 * kernel still wants one per UMEM (xsk_bind), so it is the smallest useful. */
#define FILL_RING_SIZE		64
/* A closed socket gives its queue back after an RCU grace period and a
 * work item (xp_release_deferred): a sender opened right after another
 * closed may find the queue busy for a few milliseconds. */
#define BIND_RETRY_MS		1000
#define BIND_RETRY_SLEEP_MS	10
/* Sleeps while the kernel holds frames: short first, as completions in
 * copy mode usually come within the kick itself. */
#define WAIT_MIN_NS		50000
#define WAIT_MAX_NS		2000000
/* Groups with a cached header template; past this the cache starts over. */
#define MAX_GROUPS		(1U << 16)
/* Copies one kick may make the kernel produce. Copy mode hands each frame to
 * the injection veth, whose peer queues it on this CPU's backlog
 * (enqueue_to_backlog); the replicator's clones to veth subscribers queue on
 * the same backlog, which holds net.core.netdev_max_backlog packets (1,000 by
 * default) and drops the rest as redirect_failed. Measured here with real
 * receiving sockets, default batch of 256: 16 frames x 256 subscribers per
 * kick lost 26 % of the copies, 4 x 256 and 2 x 512 none, and 1 x 900 none
 * alone but 0.3 % while other tests ran. So a kick carries at most three
 * quarters of the backlog in copies (750 by default; the rest for other
 * traffic, and for copies still queued), and always at least one frame. */
#define KICK_COPIES(s)		((s)->backlog * 3 / 4)

struct sender_group {
	struct replicast_endpoint ep;
	bool used;
	bool prepared;			/* XDP engine: its devices are checked */
	__u32 fanout;			/* subscribers on, as last read; 0: not read yet */
	bool warned;			/* told the log its fan-out is past the backlog */
	struct replicast_endpoint src;	/* source address and port of its packets */
	struct rc_frame_template t;
};

struct replicast_sender {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_prod tx;
	struct xsk_ring_cons comp;
	int fd;
	void *area;
	size_t area_size;
	__u32 frame_count;
	__u32 frame_size;
	__u32 batch_size;
	unsigned int timeout_ms;
	__u64 *free_frames;		/* stack of free frame addresses */
	__u32 nfree;
	__u32 pending;			/* on the TX ring, not yet submitted */
	__u32 in_ring;			/* submitted, not yet taken by the kernel */
	unsigned int mtu;
	__u8 src_mac[6];
	__u8 dst_mac[6];
	struct replicast_endpoint source[2];	/* [0] IPv4, [1] IPv6 */
	bool have_source[2];
	__u16 ip_id;
	struct sender_group *groups;	/* open addressing, power-of-two size */
	__u32 groups_cap;
	__u32 groups_used;
	struct sender_group *last;	/* most senders stick to one group */
	struct replicast_sender_stats st;
	struct rc_engine *engine;	/* REPLICAST_ENGINE_XDP: it carries the packets */
	/* The group maps, to read a group's fan-out (-1: opened without a
	 * handle; every group then counts as one copy a packet). */
	int groups_fd;
	int group_subs_fd;
	__u32 max_subs;
	__u32 backlog;			/* net.core.netdev_max_backlog, as read at open */
	replicast_log_fn log;		/* the handle's, copied: it may close first */
	void *log_ctx;
	__u32 *copies;			/* fan-out of the frame in each TX ring slot */
	__u32 tx_next;			/* ring index of the first pending frame */
};

#define HAS_OPT RC_HAS_OPT

static void counted_sleep(struct replicast_sender *s, __u64 ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ULL, .tv_nsec = ns % 1000000000ULL };

	s->st.waits++;
	s->st.syscalls++;
	nanosleep(&ts, NULL);
}

static int fam_index(int family)
{
	return family == AF_INET6;
}

/* ---- group templates ---- */

static __u32 ep_hash(const struct replicast_endpoint *ep)
{
	const __u8 *p = (const __u8 *)&ep->addr;
	size_t i, n = ep->family == AF_INET6 ? 16 : 4;
	__u32 h = 2166136261u ^ (__u32)ep->family ^ ((__u32)ep->port << 8);

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;	/* FNV-1a */
	return h;
}

static struct sender_group *group_slot(struct replicast_sender *s,
				       const struct replicast_endpoint *ep)
{
	__u32 mask = s->groups_cap - 1, i = ep_hash(ep) & mask;

	while (s->groups[i].used && !replicast_endpoint_equal(&s->groups[i].ep, ep))
		i = (i + 1) & mask;
	return &s->groups[i];
}

/* Half full at most, so probes stay short; a full cache starts over rather
 * than grow without end for an application that sends everywhere. */
static int groups_make_room(struct replicast_sender *s)
{
	struct sender_group *old = s->groups, *bigger;
	__u32 old_cap = s->groups_cap, i;

	if ((s->groups_used + 1) * 2 <= s->groups_cap)
		return 0;
	s->last = NULL;
	if (s->groups_cap >= MAX_GROUPS) {
		memset(s->groups, 0, sizeof(*s->groups) * s->groups_cap);
		s->groups_used = 0;
		return 0;
	}
	bigger = calloc(old_cap * 2, sizeof(*bigger));
	if (!bigger)
		return -ENOMEM;
	s->groups = bigger;
	s->groups_cap = old_cap * 2;
	for (i = 0; i < old_cap; i++)
		if (old[i].used)
			*group_slot(s, &old[i].ep) = old[i];
	free(old);
	return 0;
}

/* The address the kernel would send to the group from: connecting a UDP
 * socket routes it and picks one, and sends nothing. No route: the
 * unspecified address (see the header). Counts each call it makes. */
static void route_source(struct replicast_sender *s, const struct replicast_endpoint *group,
			 struct replicast_endpoint *src)
{
	union rc_addr dst = {}, from = {};

	memset(src, 0, sizeof(*src));
	src->family = group->family;
	memcpy(&dst, &group->addr, group->family == AF_INET6 ? 16 : 4);
	/* socket, connect, getsockname, close */
	s->st.syscalls += 4;
	if (!rc_route_source(group->family, &dst, 0, 0, &from))
		memcpy(&src->addr, &from, group->family == AF_INET6 ? 16 : 4);
}

/* How many subscribers of the group are on: what one packet costs the
 * kernel in copies. Batched reads, 256 slots a call, up to the first empty
 * slot (slots are filled from 0). 1 when it cannot tell. */
static __u32 read_fanout(struct replicast_sender *s, const struct replicast_endpoint *ep)
{
	struct rc_subscriber subs[256];
	struct rc_group_key key;
	struct rc_group grp;
	__u32 keys[256], token = 0, next = 0, on = 0, count, i;
	int fd;

	if (s->groups_fd < 0)
		return 1;
	rc_endpoint_to_key(ep, &key);
	s->st.syscalls += 3;
	if (bpf_map_lookup_elem(s->groups_fd, &key, &grp))
		return 1;
	fd = rc_inner_map_fd(s->group_subs_fd, grp.id);
	if (fd < 0)
		return 1;
	while (next < s->max_subs) {
		count = s->max_subs - next < 256 ? s->max_subs - next : 256;
		s->st.syscalls++;
		if (bpf_map_lookup_batch(fd, next ? &token : NULL, &token, keys, subs, &count,
					 NULL) && errno != ENOENT)
			break;
		for (i = 0; i < count && subs[i].state != SUB_EMPTY; i++)
			on += subs[i].state == SUB_ON;
		if (i < count || !count)
			break;
		next += count;
	}
	s->st.syscalls++;
	close(fd);
	return on ? on : 1;
}

/* Past half the backlog, one packet's copies may not all find room on it,
 * whatever the kicks (see KICK_COPIES()): said once per group, as the copies
 * will be lost and counted (redirect_failed) rather than refused here. */
static void warn_fanout(struct replicast_sender *s, struct sender_group *g)
{
	char name[REPLICAST_ENDPOINT_STRLEN], msg[384];

	if (g->warned || !s->log || g->fanout <= s->backlog / 2)
		return;
	g->warned = true;
	replicast_endpoint_format(&g->ep, name, sizeof(name));
	snprintf(msg, sizeof(msg), "group %s: %u subscribers are more copies of one packet than "
		 "the CPU backlog (net.core.netdev_max_backlog %u) is sure to hold; AF_XDP will "
		 "lose some of them (redirect_failed); the XDP engine delivers them all", name,
		 g->fanout, s->backlog);
	s->log(REPLICAST_LOG_WARN, msg, s->log_ctx);
}

/* Only the first network namespace shows the sysctl; 1,000 is its default. */
static __u32 read_backlog(void)
{
	unsigned int v = 0;
	FILE *f = fopen("/proc/sys/net/core/netdev_max_backlog", "re");

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v ? v : 1000;
}

static int group_get(struct replicast_sender *s, const struct replicast_endpoint *ep,
		     struct sender_group **out)
{
	struct replicast_endpoint src;
	struct sender_group *g;
	int f, err;

	if (s->last && replicast_endpoint_equal(&s->last->ep, ep)) {
		*out = s->last;
		return 0;
	}
	if (ep->family != AF_INET && ep->family != AF_INET6)
		return -EAFNOSUPPORT;
	g = group_slot(s, ep);
	if (!g->used) {
		err = groups_make_room(s);
		if (err)
			return err;
		g = group_slot(s, ep);
		f = fam_index(ep->family);
		if (s->have_source[f])
			src = s->source[f];
		else
			route_source(s, ep, &src);
		if (!src.port)
			src.port = ep->port;
		g->ep = *ep;
		g->used = true;
		g->src = src;
		rc_frame_template_init(&g->t, s->dst_mac, s->src_mac, &src, ep);
		s->groups_used++;
	}
	s->last = g;
	*out = g;
	return 0;
}

/* The XDP engine checks the devices a group's copies leave by: once from
 * queue(), each time prepare() asks. A device that fails is the engine's
 * to check again (its copies are dropped and counted meanwhile), so only
 * prepare() reports it: queue() fails for errors of the group alone. */
static int engine_prepare(struct replicast_sender *s, struct sender_group *g, bool asked)
{
	int err, dev_err = 0;

	if (g->prepared && !asked)
		return 0;
	err = rc_engine_prepare(s->engine, &g->ep, &dev_err);
	if (err)
		return err;
	g->prepared = true;
	return asked ? dev_err : 0;
}

int replicast_sender_prepare(struct replicast_sender *s, const struct replicast_endpoint *group)
{
	struct sender_group *g;
	int err;

	if (!s || !group)
		return -EINVAL;
	err = group_get(s, group, &g);
	if (!err && s->engine)
		err = engine_prepare(s, g, true);
	else if (!err) {
		g->fanout = read_fanout(s, group);	/* again: the set may have grown */
		warn_fanout(s, g);
	}
	return err;
}

size_t replicast_sender_max_payload(const struct replicast_sender *s, int family)
{
	size_t hdr = family == AF_INET6 ? RC_FRAME_HDR_V6 : RC_FRAME_HDR_V4;
	/* veth forwards frames up to MTU + Ethernet header (is_skb_forwardable). */
	size_t frame = s->mtu + ETH_HLEN < s->frame_size ? s->mtu + ETH_HLEN : s->frame_size;

	if (family != AF_INET && family != AF_INET6)
		return 0;
	if (s->engine)
		return rc_engine_max_payload(s->engine, family);
	return frame > hdr ? frame - hdr : 0;
}

/* ---- rings ---- */

/* Takes back what the kernel finished with; no system call. */
static __u32 reap(struct replicast_sender *s)
{
	__u32 idx, i, n = xsk_ring_cons__peek(&s->comp, s->frame_count, &idx);

	for (i = 0; i < n; i++)
		s->free_frames[s->nfree++] = *xsk_ring_cons__comp_addr(&s->comp, idx + i);
	if (n)
		xsk_ring_cons__release(&s->comp, n);
	s->st.completed += n;
	return n;
}

/* One sendto(): the kernel moves up to kick_budget descriptors off the TX
 * ring, building and transmitting an skb for each, before it returns.
 * Returns how many it moved, or a negative errno that ends the flush. */
static int kick(struct replicast_sender *s)
{
	__u32 before = s->in_ring, moved;
	int ret, err;

	ret = (int)sendto(s->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
	err = errno;
	s->st.kicks++;
	s->st.syscalls++;
	/* Refreshes the cached consumer index: what is left, less the frames
	 * reserved but not yet submitted (later chunks), is what the kernel
	 * has not taken. */
	s->in_ring = s->tx.size - xsk_prod_nb_free(&s->tx, s->tx.size) - s->pending;
	moved = before - s->in_ring;
	if (moved > s->st.max_per_kick)
		s->st.max_per_kick = moved;
	s->st.sent += moved;
	if (ret >= 0)
		return (int)moved;
	switch (err) {
	case EAGAIN:	/* budget spent, or the completion ring full: go on */
	case EINTR:
	case ENOBUFS:	/* no memory for an skb right now: wait, go on */
		return (int)moved;
	case EBUSY:
		/* The device refused the last frame it took (NET_XMIT_DROP);
		 * the kernel gave the frame back, so only the count says so. */
		s->st.sent--;
		s->st.errors++;
		return (int)moved;
	default:
		s->st.errors++;
		return -err;
	}
}

/* Frames submitted and not yet given back: in the ring or in the kernel. */
static __u32 in_kernel(const struct replicast_sender *s)
{
	return s->frame_count - s->nfree - s->pending;
}

/* Makes the next pending frames visible to the kernel: as many as carry at
 * most KICK_COPIES() copies between them, and at least one. Returns how many
 * copies they carry. */
static __u32 submit_chunk(struct replicast_sender *s)
{
	__u32 mask = s->frame_count - 1, n = 0, copies = 0, c;

	while (n < s->pending) {
		c = s->copies[(s->tx_next + n) & mask];
		if (n && copies + c > KICK_COPIES(s))
			break;
		copies += c;
		n++;
	}
	xsk_ring_prod__submit(&s->tx, n);
	s->tx_next += n;
	s->in_ring += n;
	s->pending -= n;
	return copies;
}

/* Until every frame of the last chunk is back: in copy mode a frame comes
 * back when its skb is freed, which is when the replicator has run on it,
 * so its copies are queued and the backlog has room again for the next
 * chunk's. Usually they are back when the kick returns (the softirq ran in
 * it); under load ksoftirqd finishes them a little later. */
static int wait_chunk_done(struct replicast_sender *s, __u64 timeout)
{
	__u64 wait_ns = WAIT_MIN_NS, deadline = rc_now_ns() + timeout;

	reap(s);
	while (in_kernel(s)) {
		if (reap(s)) {
			deadline = rc_now_ns() + timeout;
			continue;
		}
		if (rc_now_ns() >= deadline)
			return -ETIMEDOUT;
		counted_sleep(s, wait_ns);
		wait_ns = wait_ns * 2 < WAIT_MAX_NS ? wait_ns * 2 : WAIT_MAX_NS;
	}
	return 0;
}

int replicast_sender_flush(struct replicast_sender *s)
{
	__u64 wait_ns = WAIT_MIN_NS, timeout = (__u64)s->timeout_ms * 1000000ULL;
	__u64 deadline = rc_now_ns() + timeout;
	__u32 copies = 0;
	int moved, err;

	if (s->engine)
		return rc_engine_flush(s->engine);
	/* Bounded by the deadline, which only progress pushes back. */
	while (s->in_ring || s->pending) {
		if (!s->in_ring) {
			/* A chunk that filled its copy budget: the next waits for
			 * the kernel to finish it (small groups never wait). */
			if (copies >= KICK_COPIES(s) / 2) {
				err = wait_chunk_done(s, timeout);
				if (err)
					return err;
			}
			copies = submit_chunk(s);
		}
		moved = kick(s);
		if (moved < 0)
			return moved;
		reap(s);
		if (moved > 0) {
			deadline = rc_now_ns() + timeout;
			wait_ns = WAIT_MIN_NS;
			continue;
		}
		if (rc_now_ns() >= deadline)
			return -ETIMEDOUT;
		counted_sleep(s, wait_ns);
		wait_ns = wait_ns * 2 < WAIT_MAX_NS ? wait_ns * 2 : WAIT_MAX_NS;
	}
	/* Every frame back, so the next batch finds the whole UMEM free. In
	 * copy mode the kernel completes a frame when it frees its skb, which
	 * is most often within the kick; under load it can be later. */
	reap(s);
	deadline = rc_now_ns() + timeout;
	wait_ns = WAIT_MIN_NS;
	while (s->nfree < s->frame_count) {
		if (reap(s)) {
			deadline = rc_now_ns() + timeout;
			continue;
		}
		if (rc_now_ns() >= deadline)
			return -ETIMEDOUT;
		counted_sleep(s, wait_ns);
		wait_ns = wait_ns * 2 < WAIT_MAX_NS ? wait_ns * 2 : WAIT_MAX_NS;
	}
	return 0;
}

int replicast_sender_queue(struct replicast_sender *s, const struct replicast_endpoint *group,
			   const void *payload, size_t len)
{
	struct sender_group *g;
	struct xdp_desc *desc;
	__u64 addr;
	__u32 idx;
	int err, n;

	if (!s || !group || (!payload && len))
		return -EINVAL;
	err = group_get(s, group, &g);
	if (err)
		return err;
	if (s->engine) {
		err = engine_prepare(s, g, false);
		return err ? err : rc_engine_queue(s->engine, group, &g->src, payload, len);
	}
	if (len > replicast_sender_max_payload(s, group->family))
		return -EMSGSIZE;
	if (!g->fanout) {
		g->fanout = read_fanout(s, group);
		warn_fanout(s, g);
	}
	if (s->pending >= s->batch_size) {
		err = replicast_sender_flush(s);
		if (err)
			return err;
	}
	if (!s->nfree)
		reap(s);
	/* The TX ring has a slot per frame, so a free frame means a free slot. */
	if (!s->nfree || xsk_ring_prod__reserve(&s->tx, 1, &idx) != 1) {
		s->st.ring_full++;
		return -ENOBUFS;
	}
	addr = s->free_frames[--s->nfree];
	/* Cannot fail: the length was checked against the frame above. */
	n = rc_frame_build(&g->t, xsk_umem__get_data(s->area, addr), s->frame_size, payload, len,
			   s->ip_id++);
	desc = xsk_ring_prod__tx_desc(&s->tx, idx);
	desc->addr = addr;
	desc->len = (__u32)n;
	desc->options = 0;
	s->copies[idx & (s->frame_count - 1)] = g->fanout;
	s->pending++;
	s->st.queued++;
	return 0;
}

int replicast_sender_stats(const struct replicast_sender *s, struct replicast_sender_stats *st)
{
	size_t sz;

	struct replicast_sender_stats all;

	if (!s || !st || st->sz < sizeof(st->sz))
		return -EINVAL;
	all = s->st;
	if (s->engine) {
		memset(&all, 0, sizeof(all));
		rc_engine_stats(s->engine, &all);
		all.syscalls += s->st.syscalls;	/* group preparation */
	}
	sz = st->sz < sizeof(*st) ? st->sz : sizeof(*st);
	memcpy((char *)st + sizeof(st->sz), (const char *)&all + sizeof(st->sz),
	       sz - sizeof(st->sz));
	return 0;
}

/* ---- open and close ---- */

static int device_facts(struct replicast_sender *s, const char *ifname)
{
	struct ifreq ifr = {};
	unsigned int ifindex = if_nametoindex(ifname), peer;
	int fd, err;

	if (!ifindex)
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	err = ioctl(fd, SIOCGIFMTU, &ifr) ? -errno : 0;
	close(fd);
	if (err)
		return err;
	s->mtu = (unsigned int)ifr.ifr_mtu;
	/* Frames are addressed to the peer, as if it were the next hop; the
	 * replicator writes each copy's MACs anyway. */
	err = rc_link_mac(ifindex, s->src_mac);
	if (!err)
		err = rc_link_peer(ifindex, &peer);
	if (!err)
		err = rc_link_mac(peer, s->dst_mac);
	return err;
}

/* Binds a fresh UMEM and socket to the first free queue of the device. */
static int bind_queue(struct replicast_sender *s, const char *ifname)
{
	struct xsk_umem_config ucfg = {
		.fill_size = FILL_RING_SIZE,
		.comp_size = s->frame_count,
		.frame_size = s->frame_size,
	};
	struct xsk_socket_config xcfg = {
		.tx_size = s->frame_count,
		/* Transmit only: no XDP program to steer receive traffic. */
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		/* veth has no zero-copy AF_XDP; copy mode is the generic path
		 * (xsk_generic_xmit), which bypasses the device's qdisc. */
		.bind_flags = XDP_COPY,
	};
	__u64 deadline = rc_now_ns() + BIND_RETRY_MS * 1000000ULL;
	struct timespec pause = { .tv_nsec = BIND_RETRY_SLEEP_MS * 1000000L };
	__u32 q;
	int err;

	for (;;) {
		for (q = 0; q < REPLICAST_INJECT_QUEUES; q++) {
			err = xsk_umem__create(&s->umem, s->area, s->area_size, &s->fill, &s->comp,
					       &ucfg);
			if (err)
				return err;
			err = xsk_socket__create(&s->xsk, ifname, q, s->umem, NULL, &s->tx, &xcfg);
			if (!err) {
				s->st.queue_id = q;
				return 0;
			}
			s->xsk = NULL;
			xsk_umem__delete(s->umem);
			s->umem = NULL;
			/* EBUSY: another socket has this queue. EINVAL past
			 * the device's last queue. */
			if (err != -EBUSY && !(err == -EINVAL && q > 0))
				return err;
		}
		if (rc_now_ns() >= deadline)
			return -EBUSY;
		nanosleep(&pause, NULL);
	}
}

int replicast_sender_open(struct replicast *rc, const struct replicast_sender_opts *opts,
			  struct replicast_sender **out)
{
	char name[IF_NAMESIZE];
	const char *ifname = NULL;
	struct replicast_sender *s;
	__u32 i, budget;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!RC_OPTS_VALID(opts))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->groups_fd = s->group_subs_fd = -1;
	s->st.sz = sizeof(s->st);
	s->batch_size = HAS_OPT(opts, batch_size) && opts->batch_size ? opts->batch_size : DEFAULT_BATCH;
	s->frame_count = HAS_OPT(opts, frame_count) && opts->frame_count ? opts->frame_count :
									DEFAULT_FRAMES;
	s->frame_size = HAS_OPT(opts, frame_size) && opts->frame_size ? opts->frame_size :
								     DEFAULT_FRAME_SIZE;
	s->timeout_ms = HAS_OPT(opts, timeout_ms) && opts->timeout_ms ? opts->timeout_ms :
									 DEFAULT_TIMEOUT_MS;
	if (HAS_OPT(opts, ifname))
		ifname = opts->ifname;
	if (HAS_OPT(opts, source6)) {
		const struct replicast_endpoint *src[2] = { opts->source4, opts->source6 };

		for (i = 0; i < 2; i++) {
			if (!src[i])
				continue;
			if (src[i]->family != (i ? AF_INET6 : AF_INET)) {
				err = -EAFNOSUPPORT;
				goto fail;
			}
			s->source[i] = *src[i];
			s->have_source[i] = true;
		}
	}
	if (HAS_OPT(opts, peer_gro) && opts->engine == REPLICAST_ENGINE_XDP) {
		struct rc_engine_opts eo = {
			.threads = opts->threads,
			.ring_slots = opts->ring_slots,
			.idle_ms = opts->idle_ms,
			.timeout_ms = s->timeout_ms,
			.peer_gro = opts->peer_gro,
		};

		s->groups_cap = 16;
		s->groups = calloc(s->groups_cap, sizeof(*s->groups));
		err = s->groups ? rc_engine_open(rc, &eo, &s->engine) : -ENOMEM;
		if (err)
			goto fail;
		*out = s;
		return 0;
	}
	if (HAS_OPT(opts, engine) && opts->engine != REPLICAST_ENGINE_AFXDP) {
		err = -EINVAL;
		goto fail;
	}
	err = -EINVAL;
	if (s->frame_count < MIN_FRAMES || s->frame_count > MAX_FRAMES ||
	    (s->frame_count & (s->frame_count - 1)) ||
	    (s->frame_size != 2048 && s->frame_size != 4096) || s->batch_size > s->frame_count)
		goto fail;
	if (!ifname) {
		err = rc ? replicast_inject_name(rc, name, sizeof(name)) : -ENOENT;
		if (err)
			goto fail;
		ifname = name;
	}
	s->backlog = read_backlog();
	err = device_facts(s, ifname);
	if (err)
		goto fail;

	s->groups_cap = 16;
	s->groups = calloc(s->groups_cap, sizeof(*s->groups));
	s->free_frames = calloc(s->frame_count, sizeof(*s->free_frames));
	s->copies = calloc(s->frame_count, sizeof(*s->copies));
	s->area_size = (size_t)s->frame_count * s->frame_size;
	s->area = mmap(NULL, s->area_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (s->area == MAP_FAILED) {
		s->area = NULL;
		err = -errno;
		goto fail;
	}
	err = -ENOMEM;
	if (!s->groups || !s->free_frames || !s->copies)
		goto fail;
	/* Copies of the maps' fds: the handle may be closed before the sender.
	 * Without them every packet counts as one copy, as before fan-outs
	 * were read: the sender still works, its kicks are just not sized. */
	if (rc) {
		s->groups_fd = fcntl(rc->groups_fd, F_DUPFD_CLOEXEC, 0);
		s->group_subs_fd = fcntl(rc->group_subs_fd, F_DUPFD_CLOEXEC, 0);
		s->max_subs = rc->cfg.max_subs;
		s->log = rc->log;
		s->log_ctx = rc->log_ctx;
		if (s->groups_fd < 0 || s->group_subs_fd < 0) {
			if (s->groups_fd >= 0)
				close(s->groups_fd);
			if (s->group_subs_fd >= 0)
				close(s->group_subs_fd);
			s->groups_fd = s->group_subs_fd = -1;
		}
	}

	/* Sockets only, no XDP program (INHIBIT_PROG_LOAD): libxdp has nothing
	 * to say on this path, and its print function stays the application's. */
	err = bind_queue(s, ifname);
	if (err)
		goto fail;
	s->fd = xsk_socket__fd(s->xsk);

	/* Let one kick move the whole ring where the kernel allows it. */
	budget = s->frame_count;
	if (setsockopt(s->fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget, sizeof(budget)))
		budget = KERNEL_TX_BATCH;
	s->st.kick_budget = budget;

	for (i = 0; i < s->frame_count; i++)
		s->free_frames[i] = (__u64)i * s->frame_size;
	s->nfree = s->frame_count;
	*out = s;
	return 0;
fail:
	replicast_sender_close(s);
	return err;
}

void replicast_sender_close(struct replicast_sender *s)
{
	if (!s)
		return;
	rc_engine_close(s->engine);
	if (s->xsk)
		xsk_socket__delete(s->xsk);
	if (s->umem)
		xsk_umem__delete(s->umem);
	if (s->area)
		munmap(s->area, s->area_size);
	if (s->groups_fd >= 0)
		close(s->groups_fd);
	if (s->group_subs_fd >= 0)
		close(s->group_subs_fd);
	free(s->free_frames);
	free(s->copies);
	free(s->groups);
	free(s);
}
