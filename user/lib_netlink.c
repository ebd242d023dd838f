// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* One rtnetlink request and its answer, or a dump, for the parts of the
 * library that make or inspect devices and addresses (the injection pair,
 * the XDP engine's devices, multicast memberships). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "internal.h"

#define NL_TIMEOUT_S 2

int rc_nl_request(const struct nlmsghdr *req, int want_type, void *reply, size_t reply_len)
{
	struct timeval tv = { .tv_sec = NL_TIMEOUT_S };
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char buf[16384] __attribute__((aligned(8)));
	int fd, err = -ETIMEDOUT;
	ssize_t n;

	/* A fresh socket per call: a socket answers for the network namespace
	 * it was made in, and the calling thread may have switched since. */
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
			break;
		}
		left = (size_t)n;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_seq != req->nlmsg_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				/* An ack (error 0) answers a request that wanted
				 * a message only when none was wanted. */
				err = e->error < 0 ? e->error : want_type ? -EPROTO : 0;
				goto out;
			}
			if (want_type && nh->nlmsg_type == want_type) {
				memcpy(reply, nh, nh->nlmsg_len < reply_len ? nh->nlmsg_len : reply_len);
				err = 0;
				goto out;
			}
		}
	}
out:
	close(fd);
	return err;
}

int rc_nl_dump(const struct nlmsghdr *req, int (*fn)(const struct nlmsghdr *nh, void *ctx),
	       void *ctx)
{
	struct timeval tv = { .tv_sec = NL_TIMEOUT_S };
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char buf[32768] __attribute__((aligned(8)));
	int fd, err = 0;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		err = -errno;
		goto out;
	}
	/* A dump comes in as many reads as it needs and ends with NLMSG_DONE;
	 * fn's answer other than 0 stops it, but the rest is not read. */
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
			if (nh->nlmsg_type == NLMSG_DONE)
				goto out;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				err = e->error < 0 ? e->error : -EPROTO;
				goto out;
			}
			err = fn(nh, ctx);
			if (err)
				goto out;
		}
	}
out:
	close(fd);
	return err;
}
