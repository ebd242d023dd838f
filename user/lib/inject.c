// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The injection veth pair, the way in for AF_XDP senders: created beside the
 * pins by load, recorded in the pinned `inject` map, removed by unload. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "internal.h"

struct nl_msg {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char attrs[512];
};

/* An attribute at the end of m (netlink.c's writer, bounded by m's size). */
static struct rtattr *nl_attr(struct nl_msg *m, unsigned short type, const void *data, size_t len)
{
	return rc_nl_attr(&m->nh, sizeof(*m), type, data, len);
}

static void nl_init(struct nl_msg *m, unsigned short type, unsigned short flags, int ifindex)
{
	memset(m, 0, sizeof(*m));
	m->nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	m->nh.nlmsg_type = type;
	m->nh.nlmsg_flags = NLM_F_REQUEST | flags;
	m->nh.nlmsg_seq = 1;
	m->ifi.ifi_family = AF_UNSPEC;
	m->ifi.ifi_index = ifindex;
}

/* Queue counts for both ends: each AF_XDP socket binds a queue of its own,
 * so this is how many senders may share the pair at once. */
static int put_queues(struct nl_msg *m)
{
	__u32 queues = REPLICAST_INJECT_QUEUES;

	if (!nl_attr(m, IFLA_NUM_TX_QUEUES, &queues, sizeof(queues)) ||
	    !nl_attr(m, IFLA_NUM_RX_QUEUES, &queues, sizeof(queues)))
		return -EMSGSIZE;
	return 0;
}

static int veth_create(const char *name, const char *peer)
{
	struct rtattr *linkinfo, *data, *peer_info;
	struct ifinfomsg peer_ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg m;
	int err;

	nl_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, 0);
	if (!nl_attr(&m, IFLA_IFNAME, name, strlen(name) + 1))
		return -EMSGSIZE;
	err = put_queues(&m);
	if (err)
		return err;
	linkinfo = nl_attr(&m, IFLA_LINKINFO, NULL, 0);
	if (!linkinfo || !nl_attr(&m, IFLA_INFO_KIND, "veth", 4))
		return -EMSGSIZE;
	data = nl_attr(&m, IFLA_INFO_DATA, NULL, 0);
	/* VETH_INFO_PEER carries a whole ifinfomsg, then the peer's attributes. */
	peer_info = data ? nl_attr(&m, VETH_INFO_PEER, &peer_ifi, sizeof(peer_ifi)) : NULL;
	if (!peer_info || !nl_attr(&m, IFLA_IFNAME, peer, strlen(peer) + 1))
		return -EMSGSIZE;
	err = put_queues(&m);
	if (err)
		return err;
	rc_nl_nest_end(&m.nh, peer_info);
	rc_nl_nest_end(&m.nh, data);
	rc_nl_nest_end(&m.nh, linkinfo);
	return rc_nl_request(&m.nh, 0, NULL, 0);
}

static int link_up(unsigned int ifindex)
{
	struct nl_msg m;

	nl_init(&m, RTM_NEWLINK, NLM_F_ACK, (int)ifindex);
	m.ifi.ifi_flags = IFF_UP;
	m.ifi.ifi_change = IFF_UP;
	return rc_nl_request(&m.nh, 0, NULL, 0);
}

static int link_del(unsigned int ifindex)
{
	struct nl_msg m;

	nl_init(&m, RTM_DELLINK, NLM_F_ACK, (int)ifindex);
	return rc_nl_request(&m.nh, 0, NULL, 0);
}

int rc_link_peer(unsigned int ifindex, unsigned int *peer)
{
	struct nl_msg m;
	union {
		struct nlmsghdr nh;
		char raw[4096];
	} reply;
	/* The stats blocks are most of a link reply and we need none of them. */
	__u32 ext_mask = RTEXT_FILTER_SKIP_STATS;
	struct rtattr *rta;
	int len, err;

	nl_init(&m, RTM_GETLINK, 0, (int)ifindex);
	if (!nl_attr(&m, IFLA_EXT_MASK, &ext_mask, sizeof(ext_mask)))
		return -EMSGSIZE;
	memset(&reply, 0, sizeof(reply));
	err = rc_nl_request(&m.nh, RTM_NEWLINK, &reply, sizeof(reply));
	if (err)
		return err;
	len = (int)reply.nh.nlmsg_len;
	if (len > (int)sizeof(reply))
		len = sizeof(reply);
	len -= NLMSG_LENGTH(sizeof(struct ifinfomsg));
	rta = (struct rtattr *)((char *)NLMSG_DATA(&reply.nh) + NLMSG_ALIGN(sizeof(struct ifinfomsg)));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFLA_LINK && RTA_PAYLOAD(rta) >= sizeof(__u32)) {
			*peer = *(__u32 *)RTA_DATA(rta);
			return *peer ? 0 : -ENODEV;
		}
	}
	return -ENODEV;	/* not a veth, or its peer lives in another namespace */
}

/* IPv6 would make both ends chatter (router and multicast listener
 * messages) into the replicator's ingress; the pair carries only frames the
 * library builds, so it needs no addresses of any family. */
static void disable_ipv6(const char *ifname)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;		/* no IPv6 in this kernel: nothing to silence */
	if (write(fd, "1", 1) != 1) {
		/* harmless: the chatter is not UDP to a group, so it passes */
	}
	close(fd);
}

/* The record's BTF, so `bpftool map dump pinned .../inject` shows names. */
static int inject_btf(__u32 *key_id, __u32 *value_id)
{
	struct btf *btf = btf__new_empty();
	int u32_id, char_id, name_id, fd;

	if (!btf)
		return -errno;
	u32_id = btf__add_int(btf, "__u32", 4, 0);
	char_id = btf__add_int(btf, "char", 1, BTF_INT_CHAR);
	name_id = btf__add_array(btf, u32_id, char_id, IF_NAMESIZE);
	*value_id = btf__add_struct(btf, "inject_dev", sizeof(struct inject_dev));
	if (u32_id < 0 || char_id < 0 || name_id < 0 || (int)*value_id < 0 ||
	    btf__add_field(btf, "ifname", name_id, offsetof(struct inject_dev, ifname) * 8, 0) ||
	    btf__add_field(btf, "peer", name_id, offsetof(struct inject_dev, peer) * 8, 0) ||
	    btf__add_field(btf, "ifindex", u32_id, offsetof(struct inject_dev, ifindex) * 8, 0) ||
	    btf__add_field(btf, "peer_ifindex", u32_id,
			   offsetof(struct inject_dev, peer_ifindex) * 8, 0)) {
		btf__free(btf);
		return -EINVAL;
	}
	*key_id = u32_id;
	fd = rc_btf_load(btf);
	btf__free(btf);
	return fd;
}

static int inject_map_open(struct replicast *rc, int create)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	char path[PATH_MAX];
	int fd, btf_fd, err = rc_pin_file(rc, PIN_INJECT, path, sizeof(path));

	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd >= 0 || !create || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	btf_fd = inject_btf(&opts.btf_key_type_id, &opts.btf_value_type_id);
	if (btf_fd >= 0)
		opts.btf_fd = btf_fd;	/* without BTF the map still works */
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "rc_inject", sizeof(__u32),
			    sizeof(struct inject_dev), 1, btf_fd >= 0 ? &opts : NULL);
	err = fd < 0 ? -errno : 0;
	if (btf_fd >= 0)
		close(btf_fd);
	if (!err && bpf_obj_pin(fd, path))
		err = -errno;
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

/* The recorded pair; -ENOENT when there is none. */
static int inject_read(struct replicast *rc, struct inject_dev *dev)
{
	__u32 zero = 0;
	int fd = inject_map_open(rc, 0), err = 0;

	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &zero, dev))
		err = -errno;
	else if (!dev->ifname[0])
		err = -ENOENT;
	close(fd);
	dev->ifname[sizeof(dev->ifname) - 1] = dev->peer[sizeof(dev->peer) - 1] = '\0';
	return err;
}

int rc_inject_peer(struct replicast *rc, unsigned int *ifindex, char name[16])
{
	struct inject_dev dev;
	int err = inject_read(rc, &dev);

	if (err)
		return err;
	/* Deleted by hand since load: nothing arrives there any more. */
	if (if_nametoindex(dev.peer) != dev.peer_ifindex)
		return -ENODEV;
	*ifindex = dev.peer_ifindex;
	snprintf(name, 16, "%s", dev.peer);
	return 0;
}

int replicast_inject_name(struct replicast *rc, char *buf, size_t len)
{
	struct inject_dev dev;
	int err = inject_read(rc, &dev);

	if (err)
		return err;
	if (strlen(dev.ifname) >= len)
		return -ENAMETOOLONG;
	snprintf(buf, len, "%s", dev.ifname);
	return 0;
}

static int inject_setup(struct replicast *rc, const char *name, const char *peer,
			struct inject_dev *out)
{
	struct inject_dev dev = {};
	__u32 zero = 0;
	int fd, err;

	fd = inject_map_open(rc, 1);
	if (fd < 0)
		return fd;
	err = veth_create(name, peer);
	if (err)
		goto out;
	snprintf(dev.ifname, sizeof(dev.ifname), "%s", name);
	snprintf(dev.peer, sizeof(dev.peer), "%s", peer);
	dev.ifindex = if_nametoindex(name);
	dev.peer_ifindex = if_nametoindex(peer);
	/* Recorded before anything else can fail, so unload finds the pair. */
	if (!dev.ifindex || !dev.peer_ifindex)
		err = -ENODEV;
	else if (bpf_map_update_elem(fd, &zero, &dev, BPF_ANY))
		err = -errno;
	if (err) {
		if (dev.ifindex)
			link_del(dev.ifindex);
		goto out;
	}
	disable_ipv6(name);
	disable_ipv6(peer);
	err = link_up(dev.ifindex);
	if (!err)
		err = link_up(dev.peer_ifindex);
	if (!err)
		rc_log(rc, REPLICAST_LOG_INFO, "injection pair %s -> %s created", name, peer);
	*out = dev;
out:
	close(fd);
	return err;
}

int replicast_inject_add(struct replicast *rc, const char *ifname)
{
	char peer[IF_NAMESIZE + sizeof(REPLICAST_INJECT_PEER_SUFFIX)];
	struct inject_dev dev;
	int err;

	if (!ifname)
		ifname = REPLICAST_DEFAULT_INJECT_DEV;
	if (!ifname[0] || strchr(ifname, '/') || strchr(ifname, ' '))
		return -EINVAL;
	snprintf(peer, sizeof(peer), "%s%s", ifname, REPLICAST_INJECT_PEER_SUFFIX);
	if (strlen(peer) >= IF_NAMESIZE)
		return -ENAMETOOLONG;

	err = rc_lock(rc);
	if (err)
		return err;
	err = inject_read(rc, &dev);
	if (!err) {
		/* Made by an earlier load: the same name is a no-op (the attach
		 * below replaces the filter with itself); another name would
		 * leave two ways in. */
		if (strcmp(dev.ifname, ifname))
			err = -EBUSY;
		else if (if_nametoindex(dev.ifname) != dev.ifindex ||
			 if_nametoindex(dev.peer) != dev.peer_ifindex)
			err = -ENODEV;	/* deleted by hand since */
	} else if (err == -ENOENT) {
		if (if_nametoindex(ifname) || if_nametoindex(peer))
			err = -EEXIST;	/* a device that is not ours */
		else if ((err = inject_setup(rc, ifname, peer, &dev)))
			rc_inject_remove(rc);	/* whatever part of it was made */
	}
	/* AF_XDP copy-mode transmit skips the qdisc and TC egress of the device
	 * it is bound to (__dev_direct_xmit); veth hands the frame to the peer's
	 * receive path, whose TC ingress runs the replicator. The peer is not
	 * in `attachments`: it goes away whole, with its filter, at unload. */
	if (!err) {
		err = rc_attach_unrecorded(rc, dev.peer_ifindex);
		if (err)
			rc_inject_remove(rc);
	}
	rc_unlock(rc);
	return err;
}

int rc_inject_remove(struct replicast *rc)
{
	struct inject_dev dev;
	__u32 zero = 0;
	int err = inject_read(rc, &dev), fd;

	if (err)
		return err == -ENOENT ? 0 : err;
	/* Deleting one end of a veth deletes both. Check the index still names
	 * the device we made, so a reused index never costs someone their link. */
	if (dev.ifindex && if_nametoindex(dev.ifname) == dev.ifindex)
		err = link_del(dev.ifindex);
	else if (dev.peer_ifindex && if_nametoindex(dev.peer) == dev.peer_ifindex)
		err = link_del(dev.peer_ifindex);
	if (err == -ENODEV)
		err = 0;
	if (!err) {
		fd = inject_map_open(rc, 0);
		if (fd >= 0) {
			memset(&dev, 0, sizeof(dev));
			bpf_map_update_elem(fd, &zero, &dev, BPF_ANY);
			close(fd);
		}
	}
	return err;
}
