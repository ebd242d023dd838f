// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* One rtnetlink request and its answer, or a dump, for the parts of the
 * library that make or inspect devices, addresses, qdiscs and routes (the
 * injection pair, the XDP engine's devices, multicast memberships, the
 * clsact qdisc, next hops), and the attribute writer their requests use. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "internal.h"

#define NL_TIMEOUT_S 2

/* Sends req from a fresh socket and hands each answer of its sequence to
 * answer() until that returns non-zero: > 0 ends with 0, < 0 with that
 * error. A socket answers for the network namespace it was made in, and
 * the calling thread may have switched since: hence one per call. A dump
 * comes in as many reads as it needs. */
static int nl_exchange(const struct nlmsghdr *req,
		       int (*answer)(const struct nlmsghdr *nh, void *ctx), void *ctx)
{
	struct timeval tv = { .tv_sec = NL_TIMEOUT_S };
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char buf[32768] __attribute__((aligned(8)));
	int fd, err;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		struct nlmsghdr *nh;
		size_t left;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			err = errno == EAGAIN ? -ETIMEDOUT : -errno;
			goto out;
		}
		left = (size_t)n;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_seq != req->nlmsg_seq)
				continue;
			err = answer(nh, ctx);
			if (err) {
				err = err < 0 ? err : 0;
				goto out;
			}
		}
	}
out:
	close(fd);
	return err;
}

struct one_reply {
	int want_type;
	void *reply;
	size_t len;
};

static int take_reply(const struct nlmsghdr *nh, void *ctx)
{
	struct one_reply *r = ctx;

	if (nh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nh);

		/* An ack (error 0) answers a request that wanted a message
		 * only when none was wanted. */
		return e->error < 0 ? e->error : r->want_type ? -EPROTO : 1;
	}
	if (!r->want_type || nh->nlmsg_type != r->want_type)
		return 0;
	memcpy(r->reply, nh, nh->nlmsg_len < r->len ? nh->nlmsg_len : r->len);
	return 1;
}

int rc_nl_request(const struct nlmsghdr *req, int want_type, void *reply, size_t reply_len)
{
	struct one_reply r = { .want_type = want_type, .reply = reply, .len = reply_len };

	return nl_exchange(req, take_reply, &r);
}

struct dump {
	int (*fn)(const struct nlmsghdr *nh, void *ctx);
	void *ctx;
};

/* fn's answer other than 0 stops the dump, but the rest is not read. */
static int take_dumped(const struct nlmsghdr *nh, void *ctx)
{
	struct dump *d = ctx;
	int err;

	if (nh->nlmsg_type == NLMSG_DONE)
		return 1;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nh);

		return e->error < 0 ? e->error : -EPROTO;
	}
	err = d->fn(nh, d->ctx);
	return err > 0 ? -EPROTO : err;
}

int rc_nl_dump(const struct nlmsghdr *req, int (*fn)(const struct nlmsghdr *nh, void *ctx),
	       void *ctx)
{
	struct dump d = { .fn = fn, .ctx = ctx };

	return nl_exchange(req, take_dumped, &d);
}

struct rtattr *rc_nl_attr(struct nlmsghdr *nh, size_t room, unsigned short type, const void *data,
			  size_t len)
{
	size_t off = NLMSG_ALIGN(nh->nlmsg_len);
	struct rtattr *rta = (struct rtattr *)((char *)nh + off);

	if (off + RTA_SPACE(len) > room)
		return NULL;
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = off + RTA_SPACE(len);
	return rta;
}

void rc_nl_nest_end(struct nlmsghdr *nh, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)nh + nh->nlmsg_len - (char *)nest);
}
