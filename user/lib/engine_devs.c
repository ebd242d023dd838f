// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The XDP engine's device map: every device copies leave by is checked
 * (engine_dev.c says whether it can take XDP frames) and put in the map,
 * which sends to each in bulk; a device that fails is checked again while
 * copies go to it. Split from engine.c, which runs the threads and the ring. */
#define _GNU_SOURCE
#include <errno.h>
#include <bpf/bpf.h>
#include "engine_private.h"

static int check_device(struct rc_engine *e, __u32 ifindex, bool log)
{
	return rc_xdp_dev_check(ifindex, e->peer_gro, log ? e->log : NULL, e->log_ctx);
}

static bool have_dev(const struct rc_engine *e, __u32 ifindex)
{
	__u32 i;

	for (i = 0; i < e->ndevs; i++)
		if (e->devs[i] == ifindex)
			return true;
	return false;
}

static int find_bad(const struct rc_engine *e, __u32 ifindex)
{
	__u32 i;

	for (i = 0; i < e->nbad; i++)
		if (e->bad[i].ifindex == ifindex)
			return (int)i;
	return -1;
}

/* Records that the device failed with err; checked again after
 * DEV_RETRY_NS. A full table gives up the entry due soonest. */
static void note_bad(struct rc_engine *e, __u32 ifindex, int err)
{
	int i = find_bad(e, ifindex);
	__u32 j;

	if (i < 0 && e->nbad < MAX_DEVS) {
		i = (int)e->nbad++;
	} else if (i < 0) {
		for (i = 0, j = 1; j < e->nbad; j++)
			if (e->bad[j].retry_ns < e->bad[i].retry_ns)
				i = (int)j;
	}
	e->bad[i].ifindex = ifindex;
	e->bad[i].err = err;
	e->bad[i].retry_ns = rc_now_ns() + DEV_RETRY_NS;
}

static void forget_bad(struct rc_engine *e, int i)
{
	e->bad[i] = e->bad[--e->nbad];
}

/* Checks the device and puts it in the device map. */
static int add_dev(struct rc_engine *e, __u32 ifindex, bool log)
{
	struct bpf_devmap_val val = { .ifindex = ifindex, .bpf_prog.fd = -1 };
	int mtu;

	if (have_dev(e, ifindex))
		return 0;
	if (e->ndevs >= MAX_DEVS) {
		say(e, log, REPLICAST_LOG_WARN, "egress device %u: the engine's device map is full "
		    "(%u devices); its copies go out without it (bpf_redirect), unchecked",
		    ifindex, MAX_DEVS);
		return -ENOSPC;
	}
	mtu = check_device(e, ifindex, log);
	if (mtu < 0)
		return mtu;
	if (bpf_map_update_elem(e->devs_fd, &ifindex, &val, BPF_ANY))
		return -errno;
	e->devs[e->ndevs++] = ifindex;
	if (!e->min_mtu || (unsigned int)mtu < e->min_mtu)
		e->min_mtu = (unsigned int)mtu;
	return 0;
}

/* add_dev() for a device copies go to now. A device that failed before is
 * checked again only once its retry time came, and named in the log only
 * when what is wrong with it changed; one that passes is said to be back.
 * Returns what its check said (now or last time). */
int rc_engine_try_dev(struct rc_engine *e, __u32 ifindex, bool now)
{
	int i = find_bad(e, ifindex), err;

	if (i >= 0 && !now && rc_now_ns() < e->bad[i].retry_ns)
		return e->bad[i].err;
	err = add_dev(e, ifindex, i < 0);
	if (err && i >= 0 && err != e->bad[i].err)
		err = add_dev(e, ifindex, true);	/* again, to say the new reason */
	if (err) {
		note_bad(e, ifindex, err);
		return err;
	}
	if (i >= 0) {
		rc_engine_log(e, REPLICAST_LOG_INFO, "egress device %u passes its check again; its copies "
		     "go out", ifindex);
		forget_bad(e, i);
	}
	return 0;
}

/* Forgets a device the kernel took out of the device map (it was deleted:
 * dev_map_hash_remove_netdev), so that it is checked again if it is seen. */
static void drop_gone_dev(struct rc_engine *e, __u32 ifindex)
{
	struct bpf_devmap_val val;
	__u32 i;

	if (!bpf_map_lookup_elem(e->devs_fd, &ifindex, &val) || errno != ENOENT)
		return;
	for (i = 0; i < e->ndevs; i++)
		if (e->devs[i] == ifindex)
			e->devs[i] = e->devs[--e->ndevs];
}

/* Devices the program found missing from the map (subscribers added on a
 * new device while the stream flows, a device deleted), which it sends to
 * without the map until they are added. A device that fails the check
 * costs its own copies only: the kernel refuses them, and the engine
 * counts them as dropped (redirect_failed); it is checked again every
 * DEV_RETRY_NS while copies go to it. */
void rc_engine_add_missing_devs(struct rc_engine *e)
{
	__u32 t, ifindex, seen;

	for (t = 0; t < e->nthreads; t++) {
		ifindex = __atomic_load_n(&e->ctl[t].missing_ifindex, __ATOMIC_RELAXED);
		if (!ifindex)
			continue;
		/* Taken: the program writes it again while copies go there.
		 * A failed exchange means it already named another one, which
		 * stays for the next look. */
		seen = ifindex;
		__atomic_compare_exchange_n(&e->ctl[t].missing_ifindex, &seen, 0, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		if (have_dev(e, ifindex))
			drop_gone_dev(e, ifindex);
		if (!have_dev(e, ifindex))
			rc_engine_try_dev(e, ifindex, false);
	}
}
