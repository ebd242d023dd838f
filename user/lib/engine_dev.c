// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Can a device take the XDP engine's frames? What a device is (netlink
 * RTM_GETLINK, also in the namespace of a veth's peer, found by its netns
 * id), and for a veth whether its peer runs NAPI, switching the peer's GRO
 * on when asked (ethtool, from a thread inside the peer's namespace). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include "internal.h"

static void dlog(replicast_log_fn log, void *ctx, enum replicast_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void dlog(replicast_log_fn log, void *ctx, enum replicast_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log(level, msg, ctx);
}

struct link_facts {
	char name[IF_NAMESIZE];
	char kind[16];
	unsigned int flags, mtu;
	__u32 link;			/* a veth's peer ifindex */
	int link_nsid;			/* its namespace's id here; -1: this one */
	bool xdp_drv;			/* a native XDP program is attached */
};

static void put_attr(struct nlmsghdr *nh, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_SPACE(len);
}

/* RTM_GETLINK for ifindex, in the namespace with id nsid (-1: ours). */
static int link_get(__u32 ifindex, int nsid, struct link_facts *f)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attrs[64];
	} req = {
		.nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
			.nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = (int)ifindex },
	};
	union {
		struct nlmsghdr nh;
		char raw[16384];
	} *reply;
	__u32 ext = RTEXT_FILTER_SKIP_STATS;
	struct rtattr *rta, *sub;
	struct ifinfomsg *ifi;
	int len, sublen, err;

	memset(f, 0, sizeof(*f));
	f->link_nsid = -1;
	put_attr(&req.nh, IFLA_EXT_MASK, &ext, sizeof(ext));
	if (nsid >= 0)
		put_attr(&req.nh, IFLA_TARGET_NETNSID, &nsid, sizeof(nsid));
	reply = calloc(1, sizeof(*reply));
	if (!reply)
		return -ENOMEM;
	err = rc_nl_request(&req.nh, RTM_NEWLINK, reply, sizeof(*reply));
	if (err)
		goto out;
	ifi = NLMSG_DATA(&reply->nh);
	f->flags = ifi->ifi_flags;
	len = (int)(reply->nh.nlmsg_len < sizeof(*reply) ? reply->nh.nlmsg_len : sizeof(*reply));
	len -= NLMSG_LENGTH(sizeof(*ifi));
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		switch (rta->rta_type) {
		case IFLA_IFNAME:
			snprintf(f->name, sizeof(f->name), "%s", (char *)RTA_DATA(rta));
			break;
		case IFLA_MTU:
			f->mtu = *(__u32 *)RTA_DATA(rta);
			break;
		case IFLA_LINK:
			f->link = *(__u32 *)RTA_DATA(rta);
			break;
		case IFLA_LINK_NETNSID:
			f->link_nsid = *(__s32 *)RTA_DATA(rta);
			break;
		case IFLA_LINKINFO:
			sublen = (int)RTA_PAYLOAD(rta);
			for (sub = RTA_DATA(rta); RTA_OK(sub, sublen); sub = RTA_NEXT(sub, sublen))
				if (sub->rta_type == IFLA_INFO_KIND)
					snprintf(f->kind, sizeof(f->kind), "%s", (char *)RTA_DATA(sub));
			break;
		case IFLA_XDP:
			sublen = (int)RTA_PAYLOAD(rta);
			for (sub = RTA_DATA(rta); RTA_OK(sub, sublen); sub = RTA_NEXT(sub, sublen)) {
				if (sub->rta_type == IFLA_XDP_ATTACHED &&
				    *(__u8 *)RTA_DATA(sub) == XDP_ATTACHED_DRV)
					f->xdp_drv = true;
				if (sub->rta_type == IFLA_XDP_DRV_PROG_ID)
					f->xdp_drv = true;
			}
			break;
		}
	}
out:
	free(reply);
	return err;
}

/* The id this namespace gives the namespace of fd, or -1. */
static int nsid_of(int fd)
{
	struct {
		struct nlmsghdr nh;
		struct rtgenmsg g;
		char attrs[16];
	} req = {
		.nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg)),
			.nlmsg_type = RTM_GETNSID, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 2 },
		.g = { .rtgen_family = AF_UNSPEC },
	};
	union {
		struct nlmsghdr nh;
		char raw[256];
	} reply;
	__u32 ufd = (__u32)fd;
	struct rtattr *rta;
	int len;

	put_attr(&req.nh, NETNSA_FD, &ufd, sizeof(ufd));
	if (rc_nl_request(&req.nh, RTM_NEWNSID, &reply, sizeof(reply)))
		return -1;
	len = (int)(reply.nh.nlmsg_len < sizeof(reply) ? reply.nh.nlmsg_len : sizeof(reply));
	len -= NLMSG_LENGTH(sizeof(struct rtgenmsg));
	rta = (struct rtattr *)((char *)NLMSG_DATA(&reply.nh) + NLMSG_ALIGN(sizeof(struct rtgenmsg)));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == NETNSA_NSID)
			return *(__s32 *)RTA_DATA(rta);
	return -1;
}

static int try_ns(const char *path, int nsid)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (nsid_of(fd) == nsid)
		return fd;
	close(fd);
	return -1;
}

/* An fd of the namespace this one calls nsid: the names `ip netns` keeps,
 * then every process's. -ENOENT when none is found. */
static int open_nsid(int nsid)
{
	char path[64 + 256];
	struct dirent *de;
	DIR *d;
	int fd = -1;

	d = opendir("/run/netns");
	while (d && fd < 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		fd = try_ns(path, nsid);
	}
	if (d)
		closedir(d);
	d = opendir("/proc");
	while (d && fd < 0 && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		fd = try_ns(path, nsid);
	}
	if (d)
		closedir(d);
	return fd >= 0 ? fd : -ENOENT;
}

/* GRO of a device in another namespace: a thread enters it (setns changes
 * only the calling thread's namespace) and asks with ethtool there. */
struct gro_job {
	int nsfd;			/* -1: this namespace */
	const char *name;
	bool enable;
	int on;
	int err;
};

static void *gro_thread(void *arg)
{
	struct gro_job *j = arg;
	struct ethtool_value ev = { .cmd = ETHTOOL_GGRO };
	struct ifreq ifr = {};
	int fd;

	if (j->nsfd >= 0 && setns(j->nsfd, CLONE_NEWNET)) {
		j->err = -errno;
		return NULL;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		j->err = -errno;
		return NULL;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", j->name);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		j->err = -errno;
		goto out;
	}
	j->on = ev.data != 0;
	if (!j->on && j->enable) {
		ev.cmd = ETHTOOL_SGRO;
		ev.data = 1;
		if (ioctl(fd, SIOCETHTOOL, &ifr)) {
			j->err = -errno;
			goto out;
		}
		j->on = 1;
	}
out:
	close(fd);
	return NULL;
}

static int peer_gro(int nsid, const char *name, bool enable, int *on)
{
	struct gro_job j = { .nsfd = -1, .name = name, .enable = enable };
	pthread_t th;
	int err;

	if (nsid >= 0) {
		j.nsfd = open_nsid(nsid);
		if (j.nsfd < 0)
			return j.nsfd;
	}
	err = -pthread_create(&th, NULL, gro_thread, &j);
	if (!err) {
		pthread_join(th, NULL);
		err = j.err;
	}
	if (j.nsfd >= 0)
		close(j.nsfd);
	*on = j.on;
	return err;
}

/* Can the device take XDP frames, and how large? A veth passes redirected
 * frames on only while its peer runs NAPI (veth_xdp_xmit() checks the
 * peer's rq->napi): a native XDP program on the peer, or GRO switched on
 * there. Otherwise every frame vanishes, counted nowhere but in tracepoints.
 * So a veth without it is refused here, or its peer's GRO switched on when
 * asked (enable_gro). Returns the device's MTU; says why not to `log` (NULL:
 * to nobody). */
int rc_xdp_dev_check(__u32 ifindex, bool enable_gro, replicast_log_fn log, void *log_ctx)
{
	struct link_facts f, p;
	int err, on = 0;

	err = link_get(ifindex, -1, &f);
	if (err) {
		dlog(log, log_ctx, REPLICAST_LOG_WARN, "egress device %u: %s", ifindex, replicast_strerror(err));
		return err;
	}
	if (!(f.flags & IFF_UP)) {
		dlog(log, log_ctx, REPLICAST_LOG_WARN, "egress device %s is down", f.name);
		return -ENETDOWN;
	}
	if (strcmp(f.kind, "veth"))
		return (int)f.mtu;
	err = link_get(f.link, f.link_nsid, &p);
	if (err) {
		dlog(log, log_ctx, REPLICAST_LOG_WARN, "the peer of veth %s: %s", f.name, replicast_strerror(err));
		return err;
	}
	if (!(p.flags & IFF_UP)) {
		dlog(log, log_ctx, REPLICAST_LOG_WARN, "the peer of veth %s (%s) is down: frames sent to %s "
		     "would be lost", f.name, p.name, f.name);
		return -ENETDOWN;
	}
	if (p.xdp_drv)
		return (int)f.mtu;
	err = peer_gro(f.link_nsid, p.name, enable_gro, &on);
	if (err) {
		dlog(log, log_ctx, REPLICAST_LOG_WARN, "the peer of veth %s (%s): reading its GRO setting: %s",
		     f.name, p.name, replicast_strerror(err));
		return err;
	}
	if (!on) {
		dlog(log, log_ctx, REPLICAST_LOG_WARN, "veth %s: its peer %s has no NAPI (no XDP program, GRO "
		     "off), so XDP frames sent to %s would be lost; switch GRO on there "
		     "(ethtool -K %s gro on) or let the sender do it (peer_gro, --peer-gro)",
		     f.name, p.name, f.name, p.name);
		return -ENXIO;
	}
	if (enable_gro)
		dlog(log, log_ctx, REPLICAST_LOG_INFO, "GRO is on on %s, the peer of %s", p.name, f.name);
	return (int)f.mtu;
}
