// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The default pin path: one replicator per network namespace, pinned on a
 * bpffs that outlives the command. `ip netns exec` runs each command in a
 * mount namespace of its own with a fresh /sys, which dies with it. */
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "internal.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71	/* Linux 5.14; older libc headers lack it */
#endif

/* The init network namespace's fixed nsfs inode number (PROC_NET_INIT_INO,
 * include/linux/proc_ns.h, in kernels that number init namespaces). */
#define RC_PROC_NET_INIT_INO	0xEFFFFFF9U
/* Ancestors looked at for the namespace a command came from: a bound, far
 * more than any real chain of shells and wrappers. */
#define RC_MAX_ANCESTORS	64

static int ns_stat(pid_t pid, const char *type, struct stat *st)
{
	char path[64];

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, type);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", type);
	return stat(path, st) ? -errno : 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The parent of pid from /proc/PID/stat; 0 when there is none or it is gone. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	/* "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses. */
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		if (sscanf(p + 1, " %*c %d", &ppid) != 1)
			ppid = 0;
	fclose(f);
	return ppid;
}

/* The nearest ancestor in another mount namespace: where a command started
 * by `ip netns exec` or `unshare -m` came from. PID 1 stands for it when the
 * two share a namespace, for a path that does not change between commands.
 * 0 when every ancestor we may look at shares ours. Ancestors whose
 * namespace we may not read (a sandbox's PID 1) are passed over. */
pid_t rc_origin_pid(void)
{
	struct stat self, st, init;
	pid_t pid = getppid();
	int i;

	if (ns_stat(0, "mnt", &self))
		return 0;
	for (i = 0; i < RC_MAX_ANCESTORS && pid > 0; i++) {
		if (!ns_stat(pid, "mnt", &st) && !same_file(&st, &self)) {
			if (pid != 1 && !ns_stat(1, "mnt", &init) && same_file(&init, &st))
				return 1;
			return pid;
		}
		if (pid == 1)
			break;
		pid = parent_of(pid);
	}
	return 0;
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/* The `ip netns` name of the namespace into buf; false (and ino-<inode>)
 * when it has none. Names are entries of /run/netns: they hold no '/'. */
static bool netns_name(const struct stat *self, char *buf, size_t len)
{
	char path[300];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir("/run/netns");
	bool found = false;

	snprintf(buf, len, "ino-%lu", (unsigned long)self->st_ino);
	while (d && !found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		if (!stat(path, &st) && same_file(&st, self)) {
			snprintf(buf, len, "%s", de->d_name);
			found = true;
		}
	}
	if (d)
		closedir(d);
	return found;
}

/* Whether pid is kthreadd: parentless and of that name. (PID 2 is kthreadd in
 * the initial PID namespace only; in another, a process entered with setns
 * may be PID 2 and parentless too.) */
static bool is_kthreadd(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (parent_of(pid) != 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return strcmp(comm, "kthreadd\n") == 0;
}

/* Whether this process runs in the host's network namespace: PID 1's, or,
 * where PID 1 may not be looked at (a sandbox), kthreadd's (kernel threads
 * are always in init_net). Failing both, the init
 * namespace's fixed number, or else any namespace without an `ip netns`
 * name: the path of old, which one cannot tell apart. */
static bool in_host_netns(const struct stat *self)
{
	char name[256];
	struct stat ref;

	if (!ns_stat(1, "net", &ref))
		return same_file(&ref, self);
	if (is_kthreadd(2) && !ns_stat(2, "net", &ref))
		return same_file(&ref, self);
	return self->st_ino == RC_PROC_NET_INIT_INO || !netns_name(self, name, sizeof(name));
}

int rc_default_pin_path(char *buf, size_t len, bool *per_netns, pid_t *origin)
{
	char base[64], name[256];
	struct stat net;
	int err = 0, n;

	*origin = 0;
	snprintf(base, sizeof(base), "/sys/fs/bpf");
	if (!is_bpffs(base)) {
		/* A bpffs we mounted in a mount namespace of our own would go
		 * with it: the namespace we came from must have one. */
		*origin = rc_origin_pid();
		if (*origin) {
			snprintf(base, sizeof(base), "/proc/%d/root/sys/fs/bpf", (int)*origin);
			if (!is_bpffs(base))
				err = -ENOMEDIUM;
		}
	}
	*per_netns = !ns_stat(0, "net", &net) && !in_host_netns(&net);
	if (*per_netns) {
		netns_name(&net, name, sizeof(name));
		n = snprintf(buf, len, "%s/%s/%s", base, RC_NETNS_PIN_DIR, name);
	} else {
		n = snprintf(buf, len, "%s/%s", base, RC_HOST_PIN_DIR);
	}
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return err;
}

int replicast_default_pin_path(char *buf, size_t len)
{
	bool per_netns;
	pid_t origin;

	if (!buf || !len)
		return -EINVAL;
	return rc_default_pin_path(buf, len, &per_netns, &origin);
}

__u64 rc_netns_cookie(void)
{
	socklen_t len = sizeof(__u64);
	__u64 cookie = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len))
		cookie = 0;
	close(fd);
	return cookie;
}

/* The record's BTF, so `bpftool map dump pinned .../netns` names the cookie.
 * An fd to close, or -errno (the map works without it). */
static int netns_btf(__u32 *key_id, __u32 *value_id)
{
	struct btf *btf = btf__new_empty();
	int u32_id, u64_id, fd;

	if (!btf)
		return -errno;
	u32_id = btf__add_int(btf, "__u32", 4, 0);
	u64_id = btf__add_int(btf, "__u64", 8, 0);
	*value_id = btf__add_struct(btf, "netns_owner", sizeof(__u64));
	if (u32_id < 0 || u64_id < 0 || (int)*value_id < 0 ||
	    btf__add_field(btf, "netns_cookie", u64_id, 0, 0)) {
		btf__free(btf);
		return -EINVAL;
	}
	*key_id = u32_id;
	fd = rc_btf_load(btf);
	btf__free(btf);
	return fd;
}

static int netns_record_create(const char *path, __u64 cookie)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int fd, btf_fd = netns_btf(&opts.btf_key_type_id, &opts.btf_value_type_id), err = 0;
	__u32 zero = 0;

	if (btf_fd >= 0)
		opts.btf_fd = btf_fd;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "rc_netns", sizeof(__u32), sizeof(__u64), 1,
			    btf_fd >= 0 ? &opts : NULL);
	if (fd < 0)
		err = -errno;
	else if (bpf_map_update_elem(fd, &zero, &cookie, BPF_ANY) || bpf_obj_pin(fd, path))
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (btf_fd >= 0)
		close(btf_fd);
	return err;
}

int rc_netns_claim(struct replicast *rc, bool made_here)
{
	char path[PATH_MAX];
	__u64 cookie, pinned = 0;
	__u32 zero = 0;
	int fd, err;

	if (!rc->default_per_netns)
		return 0;
	cookie = rc_netns_cookie();
	if (!cookie)
		return 0;
	err = rc_pin_file(rc, PIN_NETNS, path, sizeof(path));
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd < 0 && errno == ENOENT && made_here)
		return netns_record_create(path, cookie);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;	/* pinned before there was a record */
	if (bpf_map_lookup_elem(fd, &zero, &pinned))
		err = -errno;
	close(fd);
	if (!err && pinned != cookie) {
		rc_log(rc, REPLICAST_LOG_INFO, "%s was made in another network namespace "
		       "(cookie %llu, this one's %llu)", rc->pin_path,
		       (unsigned long long)pinned, (unsigned long long)cookie);
		err = -ESTALE;
	}
	return err;
}
