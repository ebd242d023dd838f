// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Attaching the replicator to the TC ingress of network devices, and the
 * `attachments` map that remembers where, for unload, listing and the
 * multicast memberships (join.c) that follow the attachments.
 * Where the kernel has tcx (Linux 6.6), an attachment is a bpf_link pinned
 * at links/<ifname>: it lives as long as its pin, whatever process exits,
 * and a program update swaps it atomically. Older kernels get a cls_bpf
 * filter on clsact, which also outlives the process (the qdisc holds it). */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "internal.h"

/* Adds a clsact qdisc to the device: 0, -EEXIST when it has one (made by
 * us earlier or by anybody), or -errno. Our own request rather than
 * bpf_tc_hook_create(), which reports the expected -EEXIST through
 * libbpf's print function, the application's to set. */
static int clsact_create(int ifindex)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
		char attrs[32];
	} req = {
		.nh = {
			.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
			.nlmsg_type = RTM_NEWQDISC,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
			.nlmsg_seq = 1,
		},
		.tc = {
			.tcm_family = AF_UNSPEC,
			.tcm_ifindex = ifindex,
			.tcm_handle = TC_H_MAKE(TC_H_CLSACT, 0),
			.tcm_parent = TC_H_CLSACT,
		},
	};

	if (!rc_nl_attr(&req.nh, sizeof(req), TCA_KIND, "clsact", sizeof("clsact")))
		return -EMSGSIZE;
	return rc_nl_request(&req.nh, 0, NULL, 0);
}

static int tc_filter_attach(int ifindex, int prog_fd, int *created_qdisc)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = RC_TC_HANDLE, .priority = RC_TC_PRIORITY,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int err;

	err = clsact_create(ifindex);
	if (err && err != -EEXIST)
		return err;
	*created_qdisc = !err;
	err = bpf_tc_attach(&hook, &tc);
	if (err && *created_qdisc)
		bpf_tc_hook_destroy(&hook);
	return err;
}

/* The most attachments recorded: the `attachments` map's max_entries. */
#define RC_MAX_ATTACHMENTS 256

/* enum bpf_attach_type's BPF_TCX_INGRESS (Linux 6.6); Debian 12's headers
 * predate it. */
#define RC_BPF_TCX_INGRESS 46

static int link_pin_path_at(const struct replicast *rc, const char *dir, const char *ifname,
			    char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/%s", rc->pin_path, dir, ifname);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int link_pin_path(const struct replicast *rc, const char *ifname, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/%s", rc->pin_path, PIN_LINKS_DIR, ifname);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The device a tcx link is attached to: 0 once that device is gone, when
 * the link is severed (still pinned, attached to nothing; updates fail with
 * -ENOLINK). struct bpf_link_info's tcx member (Linux 6.6) is missing from
 * Debian 12's headers; its ifindex opens the union, as xdp's does. */
static int tcx_link_ifindex(int fd, __u32 *ifindex)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*ifindex = info.xdp.ifindex;
	return 0;
}

/* Whether the link pinned as fd is certainly not on ifindex. A link the
 * kernel says nothing about is taken to be alive: unpinning a live one
 * would detach it. */
static bool link_elsewhere(int fd, __u32 ifindex)
{
	__u32 on = 0;

	return !tcx_link_ifindex(fd, &on) && on != ifindex;
}

/* Points the tcx link pinned at pin_dir/<ifname> at prog_fd, creating and
 * pinning the link when there is none. A pinned link that is not on ifindex is the dead
 * link of a device of that name deleted since: it goes, and a new one is
 * made. -EINVAL/-EOPNOTSUPP: the kernel has no tcx. */
int rc_tcx_attach_at(struct replicast *rc, const char *pin_dir, unsigned int ifindex,
		     const char *ifname, int prog_fd)
{
	char pin[PATH_MAX], dir[PATH_MAX];
	int fd, err = link_pin_path_at(rc, pin_dir, ifname, pin, sizeof(pin));

	if (err)
		return err;
	fd = bpf_obj_get(pin);
	if (fd >= 0 && link_elsewhere(fd, ifindex)) {
		rc_log(rc, REPLICAST_LOG_DEBUG, "%s: the pinned link is severed; linking anew", ifname);
		close(fd);
		fd = -1;
		if (unlink(pin) && errno != ENOENT)
			return -errno;
	}
	if (fd >= 0) {
		err = bpf_link_update(fd, prog_fd, NULL) ? -errno : 0;
		close(fd);
		return err;
	}
	fd = bpf_link_create(prog_fd, (int)ifindex, RC_BPF_TCX_INGRESS, NULL);
	if (fd < 0)
		return -errno;
	if (rc_pin_file(rc, pin_dir, dir, sizeof(dir)) ||
	    (mkdir(dir, 0700) && errno != EEXIST) || bpf_obj_pin(fd, pin))
		err = errno ? -errno : -ENAMETOOLONG;
	close(fd);	/* the pin holds the link now (or, on error, nothing does) */
	return err;
}

static int tcx_attach(struct replicast *rc, unsigned int ifindex, const char *ifname, int prog_fd)
{
	return rc_tcx_attach_at(rc, PIN_LINKS_DIR, ifindex, ifname, prog_fd);
}

int rc_attach_unrecorded(struct replicast *rc, unsigned int ifindex)
{
	int created;

	/* The injection device carries only the local senders' frames, which
	 * are the operator's own: the program variant that skips the source
	 * allow list. */
	return tc_filter_attach((int)ifindex, rc->local_prog_fd, &created);
}

/* Takes the replicator off a device as att says it was put there. */
static int undo_attach(struct replicast *rc, __u32 ifindex, struct rc_attachment *att)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tc, .handle = RC_TC_HANDLE, .priority = RC_TC_PRIORITY);
	int err = 0;

	if (att->tcx) {
		char pin[PATH_MAX];

		att->ifname[sizeof(att->ifname) - 1] = '\0';
		/* The pin is the link's last reference: unpinning detaches. */
		if (!link_pin_path(rc, att->ifname, pin, sizeof(pin)) && unlink(pin) &&
		    errno != ENOENT)
			err = -errno;
	} else if (if_indextoname(ifindex, (char[IF_NAMESIZE]){ 0 })) {
		/* (A device deleted since attach took its filters with it.) */
		err = bpf_tc_detach(&hook, &tc);
		if (err == -ENOENT)
			err = 0;
		/* Only a qdisc we made goes away: someone else's keeps its filters. */
		if (!err && att->created_qdisc) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
	}
	return err;
}

/* Whether the attachment recorded under ifindex holds no more: its device
 * was deleted (made again, it has another ifindex and nothing attached).
 * A tcx link tells by itself (severed: on ifindex 0); a cls_bpf
 * filter went with its device. */
static bool attachment_dead(struct replicast *rc, __u32 ifindex, struct rc_attachment *att)
{
	char pin[PATH_MAX];
	bool dead;
	int fd;

	att->ifname[sizeof(att->ifname) - 1] = '\0';
	if (!if_indextoname(ifindex, (char[IF_NAMESIZE]){ 0 }))
		return true;
	if (!att->tcx)
		return false;
	if (link_pin_path(rc, att->ifname, pin, sizeof(pin)))
		return false;
	fd = bpf_obj_get(pin);
	if (fd < 0)
		return true;
	dead = link_elsewhere(fd, ifindex);
	close(fd);
	return dead;
}

/* Drops the record of a dead attachment (caller holds the lock), and its
 * pinned link when that is still the severed one: a device of the name may
 * have been linked anew at the same pin already. Its multicast memberships
 * went with the device. */
static void forget_dead(struct replicast *rc, __u32 ifindex, struct rc_attachment *att)
{
	char pin[PATH_MAX];
	int fd;

	if (att->tcx && !link_pin_path(rc, att->ifname, pin, sizeof(pin))) {
		fd = bpf_obj_get(pin);
		if (fd >= 0) {
			__u32 on = 0;

			if (!tcx_link_ifindex(fd, &on) &&
			    (!on || !if_indextoname(on, (char[IF_NAMESIZE]){ 0 })))
				unlink(pin);
			close(fd);
		}
	}
	bpf_map_delete_elem(rc->attachments_fd, &ifindex);
	rc_log(rc, REPLICAST_LOG_DEBUG, "forgot the attachment to %s (ifindex %u): the device "
	       "was deleted", att->ifname, ifindex);
}

/* Forgets every dead attachment recorded under the name ifname or under
 * ifindex (caller holds the lock): a device deleted and made again is then
 * attached afresh. */
static void forget_dead_of(struct replicast *rc, const char *ifname, __u32 ifindex)
{
	struct rc_attachment att;
	__u32 keys[RC_MAX_ATTACHMENTS], key, *prev = NULL;
	size_t n = 0, i;

	/* Collected first: deleting while walking would restart the walk. */
	while (n < RC_MAX_ATTACHMENTS && !bpf_map_get_next_key(rc->attachments_fd, prev, &key)) {
		keys[n++] = key;
		prev = &keys[n - 1];
	}
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(rc->attachments_fd, &keys[i], &att))
			continue;
		att.ifname[sizeof(att.ifname) - 1] = '\0';
		if ((keys[i] == ifindex || !strcmp(att.ifname, ifname)) &&
		    attachment_dead(rc, keys[i], &att))
			forget_dead(rc, keys[i], &att);
	}
}

/* The link type (ARPHRD_*) of ifindex, from the kernel's RTM_NEWLINK
 * answer. Asked over rtnetlink rather than read from /sys/class/net, which
 * belongs to the mount namespace and may show another network namespace's
 * devices (ip netns exec remounts it; nsenter --net does not). */
static int link_type(unsigned int ifindex, unsigned int *type)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = {
			.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
			.nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST,
			.nlmsg_seq = 1,
		},
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = (int)ifindex },
	}, reply;
	int err;

	/* Only the header is kept: the attributes that follow are cut off. */
	memset(&reply, 0, sizeof(reply));
	err = rc_nl_request(&req.nh, RTM_NEWLINK, &reply, sizeof(reply));
	if (err)
		return err;
	if (reply.nh.nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return -EPROTO;
	*type = reply.ifi.ifi_type;
	return 0;
}

int replicast_dev_check(const char *ifname, unsigned int *type_out)
{
	unsigned int ifindex, type = 0;
	int err;

	if (!ifname || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	err = link_type(ifindex, &type);
	if (err)
		return err;
	if (type_out)
		*type_out = type;
	/* The program parses an Ethernet header first. Devices without one
	 * (tun, wireguard, ipip, gre: ARPHRD_NONE, _TUNNEL, ...) hand it IP
	 * packets it reads as garbage and passes untouched, so an attachment
	 * there would do nothing, silently. Loopback frames carry a (zeroed)
	 * Ethernet header: loopback_setup() gives lo eth_header_ops. */
	if (type != ARPHRD_ETHER && type != ARPHRD_LOOPBACK)
		return -EMEDIUMTYPE;
	return 0;
}

/* Attaches to ifname, which is ifindex (caller holds the lock). */
static int attach_locked(struct replicast *rc, const char *ifname, unsigned int ifindex)
{
	struct rc_attachment att = {}, old;
	int created = 0, err;

	forget_dead_of(rc, ifname, ifindex);
	if (!bpf_map_lookup_elem(rc->attachments_fd, &ifindex, &old)) {
		/* Attached already: point it at the current program, same kind. */
		att = old;
		err = old.tcx ? tcx_attach(rc, ifindex, old.ifname, rc->prog_fd)
			      : tc_filter_attach(ifindex, rc->prog_fd, &created);
		if (!err)
			rc_join_groups_on(rc, ifindex);	/* restores what was lost */
		goto out;
	}
	err = tcx_attach(rc, ifindex, ifname, rc->prog_fd);
	att.tcx = !err;
	if (err == -EINVAL || err == -EOPNOTSUPP)
		err = tc_filter_attach(ifindex, rc->prog_fd, &created);
	if (err)
		goto out;
	snprintf(att.ifname, sizeof(att.ifname), "%s", ifname);
	att.prio = RC_TC_PRIORITY;
	att.handle = RC_TC_HANDLE;
	att.created_qdisc = created;
	if (bpf_map_update_elem(rc->attachments_fd, &ifindex, &att, BPF_ANY)) {
		err = -errno;
		/* Unrecorded, unload would never find it: undo it now. */
		undo_attach(rc, ifindex, &att);
	} else {
		rc_log(rc, REPLICAST_LOG_INFO, "attached to %s (ifindex %u)", ifname, ifindex);
		/* A stream must reach the new device too: join every multicast
		 * group there (failures are logged; the attachment stands). */
		rc_join_groups_on(rc, ifindex);
	}
out:
	/* A device made anew has a new ifindex: the allow list's reverse
	 * paths must name it. */
	if (!err)
		rc_refresh_reverse_paths(rc);
	return err;
}

int replicast_attach(struct replicast *rc, const char *ifname)
{
	unsigned int ifindex;
	int err;

	if (!ifname || strlen(ifname) >= sizeof(((struct rc_attachment *)0)->ifname))
		return -EINVAL;
	err = replicast_dev_check(ifname, NULL);
	if (err)
		return err;
	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	err = rc_lock(rc);
	if (err)
		return err;
	err = attach_locked(rc, ifname, ifindex);
	rc_unlock(rc);
	return err;
}

static int detach_ifindex(struct replicast *rc, __u32 ifindex)
{
	struct rc_attachment att;
	int err;

	if (bpf_map_lookup_elem(rc->attachments_fd, &ifindex, &att))
		return -ENOENT;
	/* Leave first: groups are joined on attached devices only. A failure
	 * is logged and does not keep the device attached. */
	rc_leave_groups_on(rc, ifindex);
	err = undo_attach(rc, ifindex, &att);
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
	struct rc_attachment att;
	__u32 key, *prev = NULL;
	int ret;

	while (!bpf_map_get_next_key(rc->attachments_fd, prev, &key)) {
		prev = &key;
		if (bpf_map_lookup_elem(rc->attachments_fd, &key, &att))
			continue;
		att.ifname[sizeof(att.ifname) - 1] = '\0';
		/* Shown as attached it would be saved, and never be again. A
		 * reader changes nothing: the next attach or upgrade forgets it. */
		if (attachment_dead(rc, key, &att)) {
			rc_log(rc, REPLICAST_LOG_WARN, "%s (ifindex %u) was deleted since it was "
			       "attached, so nothing is attached there; once it is back, "
			       "'replicast load --dev %s' attaches it again", att.ifname, key,
			       att.ifname);
			continue;
		}
		ret = fn(att.ifname, key, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

/* Points every recorded attachment at the current program: a link update
 * for tcx, a tc filter replace on the same handle and priority for cls_bpf;
 * both swap the program in one step.
 * The injection device is re-attached by replicast_inject_add(). */
int rc_reattach_all(struct replicast *rc)
{
	__u32 keys[RC_MAX_ATTACHMENTS], key, *prev = NULL;
	struct rc_attachment att;
	unsigned int now;
	int created, err = 0, ret;
	size_t n = 0, i;

	/* Collected first: a dead attachment is forgotten and its device, when
	 * one of that name is back, attached afresh under a new key. */
	while (n < RC_MAX_ATTACHMENTS && !bpf_map_get_next_key(rc->attachments_fd, prev, &key)) {
		keys[n++] = key;
		prev = &keys[n - 1];
	}
	for (i = 0; i < n; i++) {
		key = keys[i];
		if (bpf_map_lookup_elem(rc->attachments_fd, &key, &att))
			continue;
		att.ifname[sizeof(att.ifname) - 1] = '\0';
		if (attachment_dead(rc, key, &att)) {
			forget_dead(rc, key, &att);
			now = if_nametoindex(att.ifname);
			if (!now) {
				rc_log(rc, REPLICAST_LOG_WARN, "%s was deleted since it was attached; "
				       "forgot it", att.ifname);
				continue;
			}
			/* The new device may be another kind (a tunnel now). */
			ret = replicast_dev_check(att.ifname, NULL);
			if (!ret)
				ret = attach_locked(rc, att.ifname, now);
			if (ret)
				err = ret;
			continue;
		}
		ret = att.tcx ? tcx_attach(rc, key, att.ifname, rc->prog_fd)
			      : tc_filter_attach((int)key, rc->prog_fd, &created);
		if (ret)
			err = ret;
	}
	return err;
}
