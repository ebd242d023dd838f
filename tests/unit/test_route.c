/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Checks user/lib/route.c against a real kernel. Run it through test_route.sh:
 * it expects to be root in netns rcrt-a (veth rcrt0, 10.201.0.1, fd00:201::1)
 * with the peer rcrt1 (10.201.0.2, fd00:201::2) in /run/netns/rcrt-b. */
#define _GNU_SOURCE
#include "route.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PEER_NS "/run/netns/rcrt-b"
#define NOHOST_TIMEOUT_MS 300
/* Poll granularity plus scheduling noise; a run far past this is a bug. */
#define NOHOST_SLACK_MS 700

struct fam {
	const char *name;
	int family;
	const char *local, *peer, *via_dst, *unreach_dst, *noroute_dst, *nohost, *perm;
};

/* Addresses the script configures; see test_route.sh. */
static const struct fam fams[] = {
	{ "ipv4", AF_INET, "10.201.0.1", "10.201.0.2", "10.202.0.5", "10.203.0.5",
	  "192.0.2.1", "10.201.0.99", "10.201.0.77" },
	{ "ipv6", AF_INET6, "fd00:201::1", "fd00:201::2", "fd00:202::5", "fd00:203::5",
	  "2001:db8::1", "fd00:201::99", "fd00:201::77" },
};
static const uint8_t perm_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x02, 0x77 };

static int passed, failed;

static void check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%s %s: ", ok ? "PASS" : "FAIL", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

static union rc_addr ip(int family, const char *s)
{
	union rc_addr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(family, s, &a) != 1) {
		fprintf(stderr, "bad test address %s\n", s);
		exit(2);
	}
	return a;
}

static const char *ipstr(int family, const union rc_addr *a)
{
	static char buf[4][INET6_ADDRSTRLEN];
	static int i;

	i = (i + 1) % 4;
	return inet_ntop(family, a, buf[i], sizeof(buf[i])) ? buf[i] : "?";
}

static const char *macstr(const uint8_t m[6])
{
	static char buf[2][18];
	static int i;

	i = (i + 1) % 2;
	snprintf(buf[i], sizeof(buf[i]), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		 m[4], m[5]);
	return buf[i];
}

static int same_ip(int family, const union rc_addr *a, const union rc_addr *b)
{
	return !memcmp(a, b, family == AF_INET ? sizeof(a->v4) : sizeof(a->v6));
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Independent of the code under test: the classic ioctl, by name. */
static int ioctl_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

/* Reads the peer's MAC from inside its namespace, both by ioctl and by
 * rc_link_mac, which must follow the thread into that namespace. */
static void peer_macs(uint8_t by_ioctl[6], uint8_t by_lib[6], int *ioctl_err, int *lib_err)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int peer = open(PEER_NS, O_RDONLY | O_CLOEXEC);
	unsigned int idx;

	if (self < 0 || peer < 0 || setns(peer, CLONE_NEWNET) < 0) {
		fprintf(stderr, "cannot enter %s: %s\n", PEER_NS, strerror(errno));
		exit(2);
	}
	*ioctl_err = ioctl_mac("rcrt1", by_ioctl);
	idx = if_nametoindex("rcrt1");
	*lib_err = idx ? rc_link_mac(idx, by_lib) : -errno;
	if (setns(self, CLONE_NEWNET) < 0) {
		fprintf(stderr, "cannot return to own netns: %s\n", strerror(errno));
		exit(2);
	}
	close(self);
	close(peer);
}

static void run_family(const struct fam *f, unsigned int ifidx, const uint8_t peer_mac[6])
{
	union rc_addr local = ip(f->family, f->local), peer = ip(f->family, f->peer), a;
	struct rc_route r;
	uint8_t mac[6];
	char name[64];
	int64_t t0, dt;
	int err;

	snprintf(name, sizeof(name), "%s route connected", f->name);
	memset(&r, 0xa5, sizeof(r));
	err = rc_route_get(f->family, &peer, 0, &r);
	check(!err && r.ifindex == ifidx && !r.has_gateway && same_ip(f->family, &r.prefsrc, &local),
	      name, "err %d ifindex %u (want %u) has_gateway %d prefsrc %s (want %s)", err,
	      r.ifindex, ifidx, r.has_gateway, ipstr(f->family, &r.prefsrc), f->local);

	snprintf(name, sizeof(name), "%s route with oif", f->name);
	memset(&r, 0xa5, sizeof(r));
	err = rc_route_get(f->family, &peer, ifidx, &r);
	check(!err && r.ifindex == ifidx && !r.has_gateway && same_ip(f->family, &r.prefsrc, &local),
	      name, "err %d ifindex %u has_gateway %d prefsrc %s", err, r.ifindex, r.has_gateway,
	      ipstr(f->family, &r.prefsrc));

	snprintf(name, sizeof(name), "%s route via gateway", f->name);
	a = ip(f->family, f->via_dst);
	memset(&r, 0xa5, sizeof(r));
	err = rc_route_get(f->family, &a, 0, &r);
	check(!err && r.ifindex == ifidx && r.has_gateway && same_ip(f->family, &r.gateway, &peer) &&
		      same_ip(f->family, &r.prefsrc, &local),
	      name, "err %d ifindex %u has_gateway %d gateway %s (want %s) prefsrc %s", err,
	      r.ifindex, r.has_gateway, ipstr(f->family, &r.gateway), f->peer,
	      ipstr(f->family, &r.prefsrc));

	snprintf(name, sizeof(name), "%s route unroutable", f->name);
	a = ip(f->family, f->noroute_dst);
	err = rc_route_get(f->family, &a, 0, &r);
	check(err < 0, name, "%s -> %d (%s)", f->noroute_dst, err, strerror(-err));

	snprintf(name, sizeof(name), "%s route unreachable-type", f->name);
	a = ip(f->family, f->unreach_dst);
	err = rc_route_get(f->family, &a, 0, &r);
	check(err == -EHOSTUNREACH, name, "%s -> %d (%s)", f->unreach_dst, err, strerror(-err));

	snprintf(name, sizeof(name), "%s neigh live peer", f->name);
	memset(mac, 0, sizeof(mac));
	t0 = now_ms();
	err = rc_neigh_resolve(f->family, &peer, ifidx, 3000, mac);
	dt = now_ms() - t0;
	check(!err && !memcmp(mac, peer_mac, 6), name, "err %d mac %s (want %s) in %lld ms", err,
	      macstr(mac), macstr(peer_mac), (long long)dt);

	snprintf(name, sizeof(name), "%s neigh live peer again", f->name);
	t0 = now_ms();
	err = rc_neigh_resolve(f->family, &peer, ifidx, 3000, NULL);
	dt = now_ms() - t0;
	check(!err && dt < 100, name, "err %d in %lld ms (mac NULL)", err, (long long)dt);

	snprintf(name, sizeof(name), "%s neigh no host", f->name);
	a = ip(f->family, f->nohost);
	t0 = now_ms();
	err = rc_neigh_resolve(f->family, &a, ifidx, NOHOST_TIMEOUT_MS, mac);
	dt = now_ms() - t0;
	check(err == -ETIMEDOUT && dt >= NOHOST_TIMEOUT_MS &&
		      dt < NOHOST_TIMEOUT_MS + NOHOST_SLACK_MS,
	      name, "err %d (%s) after %lld ms (timeout %d)", err, strerror(-err),
	      (long long)dt, NOHOST_TIMEOUT_MS);

	snprintf(name, sizeof(name), "%s neigh permanent", f->name);
	a = ip(f->family, f->perm);
	memset(mac, 0, sizeof(mac));
	err = rc_neigh_resolve(f->family, &a, ifidx, NOHOST_TIMEOUT_MS, mac);
	check(!err && !memcmp(mac, perm_mac, 6), name, "err %d mac %s (want %s)", err,
	      macstr(mac), macstr(perm_mac));

	snprintf(name, sizeof(name), "%s neigh bad ifindex", f->name);
	err = rc_neigh_resolve(f->family, &peer, 0x7ffffff0, 100, mac);
	check(err < 0 && err != -ETIMEDOUT, name, "-> %d (%s)", err, strerror(-err));
}

int main(void)
{
	uint8_t peer_ioctl[6], peer_lib[6], own_ioctl[6], own_lib[6];
	int fds_before = count_fds(), fds_after, e1, e2;
	unsigned int ifidx = if_nametoindex("rcrt0");
	union rc_addr a;
	struct rc_route r;
	size_t i;

	if (!ifidx) {
		fprintf(stderr, "no rcrt0 here; run me through tests/unit/test_route.sh\n");
		return 2;
	}

	peer_macs(peer_ioctl, peer_lib, &e1, &e2);
	check(!e1 && !e2 && !memcmp(peer_ioctl, peer_lib, 6), "link mac in peer netns",
	      "ioctl %d %s, rc_link_mac %d %s", e1, macstr(peer_ioctl), e2, macstr(peer_lib));

	e1 = ioctl_mac("rcrt0", own_ioctl);
	e2 = rc_link_mac(ifidx, own_lib);
	check(!e1 && !e2 && !memcmp(own_ioctl, own_lib, 6) && memcmp(own_lib, peer_ioctl, 6),
	      "link mac local", "ioctl %d %s, rc_link_mac %d %s", e1, macstr(own_ioctl), e2,
	      macstr(own_lib));

	e1 = rc_link_mac(0x7ffffff0, own_lib);
	check(e1 == -ENODEV, "link mac bad ifindex", "-> %d (%s)", e1, strerror(-e1));

	a = ip(AF_INET, "10.201.0.2");
	e1 = rc_route_get(AF_PACKET, &a, 0, &r);
	check(e1 == -EAFNOSUPPORT, "route bad family", "-> %d (%s)", e1, strerror(-e1));

	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++)
		run_family(&fams[i], ifidx, peer_ioctl);

	fds_after = count_fds();
	check(fds_before >= 0 && fds_after == fds_before, "no fd leaked", "%d open before, %d after",
	      fds_before, fds_after);

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
