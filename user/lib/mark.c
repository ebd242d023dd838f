// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Marks that a long-running part of a relay is up in some process: the
 * holder of source-specific memberships, the relay engine. A mark is an
 * abstract unix socket bound under a name made from the pin path: abstract
 * names belong to the network namespace and go with the process however it
 * ends (a kill -9 too), so a mark never outlives its holder and two
 * processes cannot both hold one. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "internal.h"

/* "\0replicast-WHAT:<64-bit FNV-1a of the pin path>": short enough for
 * sun_path whatever the path's length. The path is made canonical first, so
 * that "/sys/fs/bpf/x/" and "/sys/fs/bpf/x" name one relay. */
static socklen_t mark_addr(const struct replicast *rc, const char *what, struct sockaddr_un *sun)
{
	__u64 h = 0xcbf29ce484222325ULL;
	char *canonical = realpath(rc->pin_path, NULL);
	const char *p;
	int len;

	for (p = canonical ? canonical : rc->pin_path; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	free(canonical);
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	len = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1, "replicast-%s:%016llx", what,
		       (unsigned long long)h);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

/* A datagram socket and the mark's address, for bind() or connect(). */
static int mark_socket(const struct replicast *rc, const char *what, struct sockaddr_un *sun,
		       socklen_t *len)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	*len = mark_addr(rc, what, sun);
	return fd;
}

int rc_mark_take(const struct replicast *rc, const char *what)
{
	struct sockaddr_un sun;
	socklen_t len = 0;
	int fd = mark_socket(rc, what, &sun, &len), err;

	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&sun, len)) {
		err = errno == EADDRINUSE ? -EBUSY : -errno;
		close(fd);
		return err;
	}
	return fd;
}

int rc_mark_held(const struct replicast *rc, const char *what)
{
	struct sockaddr_un sun;
	socklen_t len = 0;
	int fd = mark_socket(rc, what, &sun, &len), ret;

	if (fd < 0)
		return fd;
	/* connect() to an abstract name nobody has bound: ECONNREFUSED. */
	ret = connect(fd, (struct sockaddr *)&sun, len) ? (errno == ECONNREFUSED ? 0 : -errno) : 1;
	close(fd);
	return ret;
}
