// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Attaching the replicator to clsact ingress of network devices, and the
 * `attachments` map that remembers where, for unload and listing. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "internal.h"

static int tc_filter_attach(int ifindex, int prog_fd, int *created_qdisc)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = RC_TC_HANDLE, .priority = RC_TC_PRIORITY,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int err;

	/* libbpf reports an existing clsact qdisc on stderr: expected here. */
	libbpf_print_fn_t old_print = rc_libbpf_silence();

	err = bpf_tc_hook_create(&hook);
	libbpf_set_print(old_print);
	if (err && err != -EEXIST)
		return err;
	*created_qdisc = !err;
	err = bpf_tc_attach(&hook, &tc);
	if (err && *created_qdisc)
		bpf_tc_hook_destroy(&hook);
	return err;
}

int rc_attach_unrecorded(struct replicast *rc, unsigned int ifindex)
{
	int created;

	/* The injection device carries only the local senders' frames, which
	 * are the operator's own: the program variant that skips the source
	 * allow list. */
	return tc_filter_attach((int)ifindex, rc->local_prog_fd, &created);
}

int replicast_attach(struct replicast *rc, const char *ifname)
{
	struct attachment att = {}, old;
	unsigned int ifindex;
	int created = 0, err;

	if (!ifname || strlen(ifname) >= sizeof(att.ifname))
		return -EINVAL;
	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	err = rc_lock(rc);
	if (err)
		return err;
	err = tc_filter_attach(ifindex, rc->prog_fd, &created);
	if (err)
		goto out;
	/* Re-attaching keeps the record of who made the qdisc. */
	if (!bpf_map_lookup_elem(rc->attachments_fd, &ifindex, &old))
		created = old.created_qdisc;
	snprintf(att.ifname, sizeof(att.ifname), "%s", ifname);
	att.prio = RC_TC_PRIORITY;
	att.handle = RC_TC_HANDLE;
	att.created_qdisc = created;
	if (bpf_map_update_elem(rc->attachments_fd, &ifindex, &att, BPF_ANY))
		err = -errno;
	else
		rc_log(rc, REPLICAST_LOG_INFO, "attached to %s (ifindex %u)", ifname, ifindex);
out:
	rc_unlock(rc);
	return err;
}

static int detach_ifindex(struct replicast *rc, __u32 ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = RC_TC_HANDLE, .priority = RC_TC_PRIORITY);
	struct attachment att;
	int err = 0;

	if (bpf_map_lookup_elem(rc->attachments_fd, &ifindex, &att))
		return -ENOENT;
	/* A device deleted since attach took its filters with it. */
	if (if_indextoname(ifindex, (char[IF_NAMESIZE]){ 0 })) {
		err = bpf_tc_detach(&hook, &tc);
		if (err == -ENOENT)
			err = 0;
		/* Only a qdisc we made goes away: someone else's keeps its filters. */
		if (!err && att.created_qdisc) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
	}
	if (!err)
		bpf_map_delete_elem(rc->attachments_fd, &ifindex);
	return err;
}

int replicast_detach(struct replicast *rc, const char *ifname)
{
	unsigned int ifindex = if_nametoindex(ifname);
	int err;

	if (!ifindex)
		return -ENODEV;
	err = rc_lock(rc);
	if (err)
		return err;
	err = detach_ifindex(rc, ifindex);
	rc_unlock(rc);
	return err;
}

int rc_detach_all(struct replicast *rc)
{
	__u32 key, next;
	int err = 0, ret;

	/* Deleting while iterating restarts the walk; every pass removes one. */
	while (!bpf_map_get_next_key(rc->attachments_fd, NULL, &next)) {
		key = next;
		ret = detach_ifindex(rc, key);
		if (ret) {
			err = ret;
			bpf_map_delete_elem(rc->attachments_fd, &key);
		}
	}
	return err;
}

int replicast_foreach_attachment(struct replicast *rc,
				 int (*fn)(const char *ifname, unsigned int ifindex, void *ctx),
				 void *ctx)
{
	struct attachment att;
	__u32 key, *prev = NULL;
	int ret;

	while (!bpf_map_get_next_key(rc->attachments_fd, prev, &key)) {
		prev = &key;
		if (bpf_map_lookup_elem(rc->attachments_fd, &key, &att))
			continue;
		att.ifname[sizeof(att.ifname) - 1] = '\0';
		ret = fn(att.ifname, key, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

/* Points every recorded attachment at the current program: a tc filter
 * replace on the same handle and priority, which cls_bpf swaps in one step.
 * The injection device is re-attached by replicast_inject_add(). */
int rc_reattach_all(struct replicast *rc)
{
	__u32 key, *prev = NULL;
	int created, err = 0, ret;

	while (!bpf_map_get_next_key(rc->attachments_fd, prev, &key)) {
		prev = &key;
		if (!if_indextoname(key, (char[IF_NAMESIZE]){ 0 }))
			continue;	/* the device is gone; unload forgets it */
		ret = tc_filter_attach((int)key, rc->prog_fd, &created);
		if (ret)
			err = ret;
	}
	return err;
}
