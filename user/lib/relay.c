// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The relay engine (replicast_relay_*): the XDP engine of engine.c with its
 * ring fed by relay_ingress (xdp_engine.bpf.c) on every attached device
 * instead of by an application. This file attaches and detaches that
 * program, follows the attachments, and reads its counters; the threads,
 * the ring and the parking are the engine's. */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "internal.h"

#define MAX_INGRESS	256	/* the attachments map's size */
/* After the XDP programs are detached, a CPU may still be inside one (a
 * program runs to its end under RCU); it is done long before this, in
 * microseconds. Only then is the ring's last position final. */
#define DETACH_SETTLE_US 10000
/* How long start() waits for the engine threads to be in their runs. */
#define SERVING_WAIT_MS 1000
/* How often poll() looks at the attachments again: a netlink request per
 * device, and a warning for each that went away, so not on every call. */
#define FOLLOW_EVERY_NS 1000000000ULL

struct ingress {
	unsigned int ifindex;
	struct bpf_link *link;
	bool seen;			/* still attached, at the last look */
};

struct replicast_relay {
	struct replicast *rc;
	int mark_fd;		/* says a relay engine runs (mark.c), for list and stats */
	struct rc_engine *e;
	struct bpf_program *prog;
	int devs_fd, stats_fd;
	struct ingress in[MAX_INGRESS];
	unsigned int nin;
	__u64 next_follow_ns;		/* CLOCK_MONOTONIC */
};

static int find_ingress(const struct replicast_relay *r, unsigned int ifindex)
{
	unsigned int i;

	for (i = 0; i < r->nin; i++)
		if (r->in[i].ifindex == ifindex)
			return (int)i;
	return -1;
}

static int dev_mac(const char *ifname, __u8 mac[6])
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/* Serves one device: an attached one, or (local) the injection peer,
 * where AF_XDP senders' frames arrive: their packets are the operator's
 * own, taken without the checks for the network's (as TC's
 * replicate_local takes them), and fanned out by the engine too. */
static int serve_dev(struct replicast_relay *r, const char *ifname, unsigned int ifindex,
		     bool local)
{
	struct rc_relay_dev dev = { .local = local };
	struct bpf_link *link;
	int i = find_ingress(r, ifindex), err;

	if (i >= 0) {
		r->in[i].seen = true;
		return 0;
	}
	if (r->nin >= MAX_INGRESS)
		return 0;
	err = dev_mac(ifname, dev.mac);
	if (!err && bpf_map_update_elem(r->devs_fd, &ifindex, &dev, BPF_ANY))
		err = -errno;
	if (!err) {
		/* A link, not a program set on the device: it is this
		 * process's, and goes when the process does, however it ends;
		 * TC then takes every packet again. */
		link = bpf_program__attach_xdp(r->prog, (int)ifindex);
		err = link ? 0 : -errno;
	}
	if (err) {
		rc_log(r->rc, REPLICAST_LOG_WARN, "%s: the relay engine cannot take its packets "
		       "(%s); the TC replicator relays them as before", ifname,
		       err == -EBUSY || err == -EEXIST ? "another XDP program is attached" :
		       replicast_strerror(err));
		bpf_map_delete_elem(r->devs_fd, &ifindex);
		return 0;
	}
	r->in[r->nin].ifindex = ifindex;
	r->in[r->nin].link = link;
	r->in[r->nin].seen = true;
	r->nin++;
	rc_log(r->rc, REPLICAST_LOG_INFO, "%s: relayed by the engine", ifname);
	return 0;
}

static void detach_one(struct replicast_relay *r, unsigned int i)
{
	bpf_link__destroy(r->in[i].link);
	bpf_map_delete_elem(r->devs_fd, &r->in[i].ifindex);
	r->in[i] = r->in[--r->nin];
}

/* replicast_foreach_attachment() callback. */
static int attach_one(const char *ifname, unsigned int ifindex, void *ctx)
{
	return serve_dev(ctx, ifname, ifindex, false);
}

/* Attaches to devices attached since, and leaves those detached since (the
 * TC replicator no longer relays them, so neither may the engine); the
 * injection peer is served while it exists. */
static int follow_attachments(struct replicast_relay *r)
{
	char peer[IF_NAMESIZE];
	unsigned int i, ifindex;
	int err;

	for (i = 0; i < r->nin; i++)
		r->in[i].seen = false;
	err = replicast_foreach_attachment(r->rc, attach_one, r);
	if (err)
		return err;
	if (!rc_inject_peer(r->rc, &ifindex, peer))
		serve_dev(r, peer, ifindex, true);
	for (i = 0; i < r->nin;) {
		if (!r->in[i].seen)
			detach_one(r, i);
		else
			i++;
	}
	return 0;
}

/* Every group's egress devices into the engine's device map now, so the
 * first packets go out in bulk; later ones are found as copies go to them. */
static void prepare_groups(struct replicast_relay *r)
{
	struct rc_group_key key, *prev = NULL;
	struct replicast_endpoint ep;
	struct rc_group grp;
	int dev_err;

	while (!bpf_map_get_next_key(r->rc->groups_fd, prev, &key)) {
		prev = &key;
		/* A range's ports share one subscriber set: prepared once. */
		if (bpf_map_lookup_elem(r->rc->groups_fd, &key, &grp) ||
		    !rc_group_key_is_first(&key, &grp))
			continue;
		rc_key_to_endpoint(&key, &ep);
		rc_engine_prepare(r->e, &ep, &dev_err);
	}
}

int replicast_relay_start(struct replicast *rc, const struct replicast_relay_opts *opts,
			  struct replicast_relay **out)
{
	struct rc_engine_opts eo = {
		.threads = RC_OPT(opts, threads, 0),
		.ring_slots = RC_OPT(opts, ring_slots, 0),
		.idle_ms = RC_OPT(opts, idle_ms, 0),
		.peer_gro = RC_OPT(opts, peer_gro, false),
		.relay = true,
	};
	struct replicast_relay *r;
	struct bpf_object *obj;
	int err, i;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!rc || !RC_OPTS_VALID(opts))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->rc = rc;
	/* One relay engine per relay: a second would find every device's XDP
	 * hook taken and serve nothing. */
	r->mark_fd = rc_mark_take(rc, "relay");
	if (r->mark_fd < 0) {
		err = r->mark_fd;
		if (err == -EBUSY)
			rc_log(rc, REPLICAST_LOG_WARN, "a relay engine (replicast serve) already runs for %s",
			       rc->pin_path);
		goto fail;
	}
	err = rc_engine_open(rc, &eo, &r->e);
	if (err)
		goto fail;
	obj = rc_engine_object(r->e);
	r->prog = bpf_object__find_program_by_name(obj, "relay_ingress");
	r->devs_fd = bpf_object__find_map_fd_by_name(obj, "relay_devs");
	r->stats_fd = bpf_object__find_map_fd_by_name(obj, "relay_stats");
	if (!r->prog || r->devs_fd < 0 || r->stats_fd < 0) {
		err = -ENOENT;
		goto fail;
	}
	prepare_groups(r);
	err = follow_attachments(r);
	if (err)
		goto fail;
	/* Until the threads are in their runs TC relays (RESUMING); a caller
	 * that says "relaying" next should mean the engine. Bounded: on a
	 * loaded machine it may take longer, and TC carries meanwhile. */
	for (i = 0; i < SERVING_WAIT_MS && !rc_engine_relay_serving(r->e); i++)
		usleep(1000);
	*out = r;
	return 0;
fail:
	replicast_relay_stop(r);
	return err;
}

int replicast_relay_poll(struct replicast_relay *r)
{
	if (!r)
		return -EINVAL;
	rc_engine_poll_devs(r->e);
	if (rc_now_ns() < r->next_follow_ns)
		return 0;
	r->next_follow_ns = rc_now_ns() + FOLLOW_EVERY_NS;
	/* The devices of subscribers added since, before their first copies:
	 * found only when copies go there, a device whose peer still lacks
	 * NAPI (GRO off until --peer-gro's check) would lose them meanwhile. */
	prepare_groups(r);
	return follow_attachments(r);
}

int replicast_relay_stats(const struct replicast_relay *r, struct replicast_relay_stats *st)
{
	struct replicast_sender_stats es = { .sz = sizeof(es) };
	struct replicast_relay_stats full = { .sz = sizeof(full) };
	__u64 n[RC_RELAY_COUNTERS] = {};
	__u32 k;
	int err;

	if (!r || !st || st->sz < sizeof(st->sz))
		return -EINVAL;
	for (k = 0; k < RC_RELAY_COUNTERS; k++) {
		err = rc_percpu_sum(r->rc, r->stats_fd, k, &n[k], sizeof(n[k]));
		if (err)
			return err;
	}
	rc_engine_stats(r->e, &es);
	full.taken = n[RC_RELAY_TAKEN];
	full.passed_ring_full = n[RC_RELAY_RING_FULL];
	full.passed_asleep = n[RC_RELAY_PARKED_PASS];
	full.passed_policy = n[RC_RELAY_POLICY];
	full.passed_unsupported = n[RC_RELAY_UNSUPPORTED];
	full.sent = es.sent;
	full.copies = es.copies;
	full.copies_dropped = es.copies_dropped;
	full.engine_calls = es.engine_calls;
	full.engine_parks = es.engine_parks;
	full.engine_threads = es.engine_threads;
	full.engine_solos = es.engine_solos;
	full.engine_splits = es.engine_splits;
	full.engine_naps = es.engine_naps;
	full.devices = r->nin;
	full.asleep = rc_engine_relay_parked(r->e);
	memcpy((char *)st + sizeof(st->sz), (char *)&full + sizeof(full.sz),
	       (st->sz < sizeof(full) ? st->sz : sizeof(full)) - sizeof(st->sz));
	return 0;
}

int replicast_relay_stop(struct replicast_relay *r)
{
	int err = 0;

	if (!r)
		return 0;
	/* Detach first: from here TC takes every packet that arrives. */
	while (r->nin)
		detach_one(r, r->nin - 1);
	if (r->e) {
		rc_engine_relay_stop_input(r->e);
		usleep(DETACH_SETTLE_US);
		/* Then what the ring holds goes out. */
		err = rc_engine_flush(r->e);
		rc_engine_close(r->e);
	}
	if (r->mark_fd >= 0)
		close(r->mark_fd);
	free(r);
	return err;
}

int replicast_relay_running(struct replicast *rc)
{
	if (!rc)
		return -EINVAL;
	return rc_mark_held(rc, "relay");
}
