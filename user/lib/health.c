// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Receiver health (--health): the `sub_health` entries, one per receiver,
 * that the kernel's watch_unreachable counts ICMP errors in and the fan-out
 * reads (bpf/health.h), and the watcher's tcx links on the subscribers'
 * egress devices, pinned at watch/<ifname> so they work with no process. */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "internal.h"

static void health_key(const struct rc_subscriber *s, struct rc_sub_health_key *key)
{
	memset(key, 0, sizeof(*key));
	key->family = s->family;
	key->port = s->port;
	key->addr = s->addr;
}

int rc_health_from_opts(const struct replicast_sub_opts *opts, __u32 *hold_ms)
{
	__u32 s = RC_OPT(opts, health_s, 0);

	if (s > REPLICAST_HEALTH_MAX_S)
		return -ERANGE;
	*hold_ms = s * 1000;
	return s ? 1 : 0;
}

int rc_health_ref(struct replicast *rc, const struct rc_subscriber *s, __u32 hold_ms, bool add)
{
	struct rc_sub_health_key key;
	struct rc_sub_health h;

	health_key(s, &key);
	if (bpf_map_lookup_elem(rc->sub_health_fd, &key, &h)) {
		if (errno != ENOENT)
			return -errno;
		/* A new receiver (or one whose entry was removed by hand). */
		memset(&h, 0, sizeof(h));
		h.refs = 1;
		h.hold_ms = (s->flags & SUB_F_HEALTH) ? hold_ms : 0;
		if (bpf_map_update_elem(rc->sub_health_fd, &key, &h, BPF_NOEXIST))
			return errno == E2BIG ? -ENOSPC : -errno;
		return 0;
	}
	if (add)
		h.refs++;
	/* One hold time per receiver: the subscription that asks for one
	 * sets it; one without --health leaves another group's as it is. */
	if (s->flags & SUB_F_HEALTH)
		h.hold_ms = hold_ms;
	if (bpf_map_update_elem(rc->sub_health_fd, &key, &h, BPF_EXIST))
		return -errno;
	return 0;
}

void rc_health_unref(struct replicast *rc, const struct rc_subscriber *s)
{
	struct rc_sub_health_key key;
	struct rc_sub_health h;

	health_key(s, &key);
	if (bpf_map_lookup_elem(rc->sub_health_fd, &key, &h))
		return;
	if (h.refs <= 1) {
		bpf_map_delete_elem(rc->sub_health_fd, &key);
		return;
	}
	h.refs--;
	bpf_map_update_elem(rc->sub_health_fd, &key, &h, BPF_EXIST);
}

void rc_health_unref_all(struct replicast *rc, const struct rc_subscriber *slots, int used)
{
	int i;

	for (i = 0; i < used; i++)
		if (slots[i].state == SUB_ON)
			rc_health_unref(rc, &slots[i]);
}

void rc_health_watch(struct replicast *rc, __u32 ifindex)
{
	char ifname[IF_NAMESIZE];
	int err;

	if (!if_indextoname(ifindex, ifname))
		return;
	/* The watcher parses an Ethernet header first, like the replicator. */
	if (replicast_dev_check(ifname, NULL))
		return;
	err = rc_tcx_attach_at(rc, PIN_WATCH_DIR, ifindex, ifname, rc->watch_prog_fd);
	if (err)
		rc_log(rc, REPLICAST_LOG_WARN, "%s: cannot watch for ICMP unreachable errors "
		       "(%s): its receivers' unreachable counts stay 0 and --health never "
		       "holds them off", ifname, err == -EINVAL || err == -EOPNOTSUPP ?
		       "the kernel has no tcx, Linux 6.6" : replicast_strerror(err));
}

/* A CLOCK_MONOTONIC time of the kernel's, in ms since the epoch. In ns
 * until the last step, so that two readers agree on the ms (list --json is
 * compared across processes): only the clocks' offset moves, by the
 * nanoseconds between the two reads and NTP's slewing. */
static __u64 wall_ms(__u64 mono_ns)
{
	struct timespec ts;
	__u64 now = rc_now_ns(), real_ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	real_ns = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	return (real_ns - (now > mono_ns ? now - mono_ns : 0)) / 1000000;
}

void rc_health_to_info(struct replicast *rc, const struct rc_subscriber *s,
		       struct replicast_sub_info *info)
{
	struct rc_sub_health_key key;
	struct rc_sub_health h;

	health_key(s, &key);
	if (bpf_map_lookup_elem(rc->sub_health_fd, &key, &h))
		return;
	info->unreachable = h.unreachable;
	info->last_error_ms = h.last_error_ns ? wall_ms(h.last_error_ns) : 0;
	if (!(s->flags & SUB_F_HEALTH))
		return;
	info->health_s = h.hold_ms / 1000;
	info->held_off = h.held_since_ns != 0;
	info->held_since_ms = h.held_since_ns ? wall_ms(h.held_since_ns) : 0;
}
