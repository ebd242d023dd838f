// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Loading the replicator, upgrading its program in place and unloading it:
 * bpffs, the object's maps and programs pinned, their sizes and cost. The
 * handle itself (open, lock, log, close) is handle.c's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "internal.h"
#include "replicate.skel.h"

static int is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/* A fresh machine may have no bpffs on /sys/fs/bpf: mount one there. Other
 * pin paths must already live on a bpffs; we do not guess where to mount. */
static int mount_bpffs(struct replicast *rc, const char *dir)
{
	if (is_bpffs(dir))
		return 0;
	if (strcmp(dir, "/sys/fs/bpf") == 0) {
		pid_t origin = rc_origin_pid();

		/* In a mount namespace of our own (ip netns exec) the mount,
		 * and every pin in it, would go when this process exits. */
		if (origin) {
			rc_log(rc, REPLICAST_LOG_INFO, "not mounting bpffs on %s: this mount "
			       "namespace is not process %d's and goes with this process",
			       dir, (int)origin);
			return -ENOMEDIUM;
		}
		mkdir(dir, 0700);
		if (mount("bpf", dir, "bpf", 0, "mode=0700"))
			return -errno;
		rc_log(rc, REPLICAST_LOG_INFO, "mounted bpffs on %s", dir);
		return 0;
	}
	rc_log(rc, REPLICAST_LOG_WARN, "%s is not on a bpf filesystem", rc->pin_path);
	return -ENOTDIR;
}

static int ensure_bpffs(struct replicast *rc)
{
	char parent[PATH_MAX];
	char *slash;
	int err;

	snprintf(parent, sizeof(parent), "%s", rc->pin_path);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return -EINVAL;
	*slash = '\0';
	if (!rc->default_per_netns)
		return mount_bpffs(rc, parent);
	/* <bpffs>/replicast-netns/NAME: the middle directory is ours to make. */
	slash = strrchr(parent, '/');
	*slash = '\0';
	err = mount_bpffs(rc, parent);
	*slash = '/';
	if (!err && mkdir(parent, 0700) && errno != EEXIST)
		err = -errno;
	return err;
}

static int remove_tree(const char *dir);

int rc_btf_load(const struct btf *btf)
{
	const void *raw;
	__u32 size;
	int fd;

	raw = btf__raw_data(btf, &size);
	if (!raw)
		return -errno;
	fd = bpf_btf_load(raw, size, NULL);
	return fd < 0 ? -errno : fd;
}

/* Copies the last `size` bytes of the verifier log, starting at a line. */
static void keep_log_tail(const char *log, char *dst, size_t size)
{
	size_t len = strlen(log);
	const char *start = log;

	if (!dst || !size)
		return;
	if (len >= size) {
		start = log + len - (size - 1);
		if (strchr(start, '\n'))
			start = strchr(start, '\n') + 1;
	}
	snprintf(dst, size, "%s", start);
}

/* Pins a program, replacing what is pinned there in one rename. */
static int pin_program(struct replicast *rc, struct bpf_program *prog, const char *name)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int err = rc_pin_file(rc, name, path, sizeof(path));

	if (err)
		return err;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s-new", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	err = bpf_program__pin(prog, tmp);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* Attaches the neighbour tracker and pins its link, replacing an older one
 * in one rename: while both exist both update the map, which is harmless. */
static int pin_neighbour_tracker(struct replicast *rc, struct bpf_program *prog)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	struct bpf_link *link;
	int err = rc_pin_file(rc, PIN_NEIGH_LINK, path, sizeof(path));

	if (err)
		return err;
	link = bpf_program__attach_raw_tracepoint(prog, "neigh_update_done");
	if (!link)
		return -errno;
	snprintf(tmp, sizeof(tmp), "%s-new", path);
	unlink(tmp);
	err = bpf_link__pin(link, tmp);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	/* The pin holds the link now; this only closes our descriptor. */
	bpf_link__destroy(link);
	return err;
}

/* The sizes opts ask for, defaults filled in. */
static void opts_sizes(const struct replicast_opts *opts, __u32 *max_groups, __u32 *max_subs)
{
	*max_groups = REPLICAST_DEFAULT_MAX_GROUPS;
	*max_subs = REPLICAST_DEFAULT_MAX_SUBS;
	if (RC_HAS_OPT(opts, max_subs)) {
		if (opts->max_groups)
			*max_groups = opts->max_groups;
		if (opts->max_subs)
			*max_subs = opts->max_subs;
	}
}

int rc_cost(__u32 max_groups, __u32 max_subs, __u32 nr_cpus, struct replicast_cost *cost)
{
	struct replicast_cost c = { .sz = sizeof(c) };

	c.max_groups = max_groups ? max_groups : REPLICAST_DEFAULT_MAX_GROUPS;
	c.max_subs = max_subs ? max_subs : REPLICAST_DEFAULT_MAX_SUBS;
	c.nr_cpus = nr_cpus;
	if (c.max_groups > REPLICAST_MAX_GROUPS_LIMIT || c.max_subs > REPLICAST_MAX_SUBS_LIMIT)
		return -E2BIG;
	/* Map sizes are __u32 max_entries: a product beyond it would wrap
	 * into a small map that the program then indexes past. */
	if ((__u64)c.max_subs * nr_cpus > UINT32_MAX ||
	    (__u64)c.max_groups * SOURCES_PER_GROUP > UINT32_MAX)
		return -EOVERFLOW;
	c.counter_bytes = (__u64)c.max_subs * nr_cpus * sizeof(struct rc_subscriber_counters);
	c.slot_bytes = (__u64)c.max_subs * sizeof(struct rc_subscriber);
	c.group_bytes = c.counter_bytes + c.slot_bytes;
	c.total_bytes = c.group_bytes * c.max_groups;
	if (cost)
		memcpy(cost, &c, cost->sz < sizeof(c) ? cost->sz : sizeof(c));
	return 0;
}

int replicast_cost(uint32_t max_groups, uint32_t max_subs, struct replicast_cost *cost)
{
	int ncpus = libbpf_num_possible_cpus();

	if (cost && cost->sz < offsetof(struct replicast_cost, nr_cpus))
		return -EINVAL;
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	return rc_cost(max_groups, max_subs, (__u32)ncpus, cost);
}

/* Loads the object and pins its maps and programs. `pinned`: the config of
 * a replicator already pinned here, whose maps libbpf reuses (sizes must
 * then be theirs); NULL for a first load, sized from opts. */
static int load_and_pin(struct replicast *rc, const struct replicast_opts *opts,
			const struct rc_config *pinned)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = rc->pin_path);
	__u32 max_groups, max_subs;
	struct rc_config cfg = { .layout_version = RC_LAYOUT_VERSION };
	struct bpf_map *outer[] = { NULL, NULL };
	int templates[] = { -1, -1 };
	struct replicate_bpf *skel;
	char path[PATH_MAX];
	const size_t log_size = 1 << 20;
	char *log = NULL;
	__u32 zero = 0;
	size_t i;
	int err, ncpus;

	opts_sizes(opts, &max_groups, &max_subs);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	if (pinned) {
		max_groups = pinned->max_groups;
		max_subs = pinned->max_subs;
		ncpus = (int)pinned->nr_cpus;
	}
	err = rc_cost(max_groups, max_subs, (__u32)ncpus, NULL);
	if (err)
		return err;

	log = calloc(1, log_size);
	if (!log)
		return -ENOMEM;
	skel = replicate_bpf__open_opts(&open_opts);
	if (!skel) {
		err = -errno;
		goto out;
	}
	bpf_map__set_max_entries(skel->maps.groups, max_groups);
	bpf_map__set_max_entries(skel->maps.group_addrs, max_groups);
	bpf_map__set_max_entries(skel->maps.group_stats, max_groups);
	bpf_map__set_max_entries(skel->maps.group_rate, max_groups);
	bpf_map__set_max_entries(skel->maps.group_sources, max_groups * SOURCES_PER_GROUP);
	bpf_map__set_max_entries(skel->maps.neighbours, max_subs > RC_MIN_NEIGHBOURS ?
							max_subs : RC_MIN_NEIGHBOURS);
	bpf_map__set_max_entries(skel->maps.sub_select, max_subs > RC_MIN_SUB_SELECTS ?
							max_subs : RC_MIN_SUB_SELECTS);
	bpf_map__set_max_entries(skel->maps.sub_health, max_subs > RC_MIN_SUB_HEALTH ?
							max_subs : RC_MIN_SUB_HEALTH);
	/* Inner maps are sized by a template we create: libbpf 1.1 cannot
	 * resize its own inner-map definition (bpf_map__set_max_entries on
	 * bpf_map__inner_map() dereferences a NULL object). */
	outer[0] = skel->maps.group_subs;
	outer[1] = skel->maps.sub_stats;
	templates[0] = bpf_map_create(BPF_MAP_TYPE_ARRAY, "rc_subs_tmpl", sizeof(__u32),
				      sizeof(struct rc_subscriber), max_subs, NULL);
	templates[1] = bpf_map_create(BPF_MAP_TYPE_ARRAY, "rc_ctrs_tmpl", sizeof(__u32),
				      sizeof(struct rc_subscriber_counters), max_subs * ncpus, NULL);
	for (i = 0; i < 2; i++) {
		if (templates[i] < 0) {
			err = -errno;
			goto out_destroy;
		}
		bpf_map__set_max_entries(outer[i], max_groups);
		err = bpf_map__set_inner_map_fd(outer[i], templates[i]);
		if (err)
			goto out_destroy;
	}
	bpf_program__set_log_buf(skel->progs.replicate, log, log_size);
	bpf_program__set_log_buf(skel->progs.replicate_local, log, log_size);
	bpf_program__set_log_buf(skel->progs.track_neighbour, log, log_size);
	bpf_program__set_log_buf(skel->progs.watch_unreachable, log, log_size);

	err = replicate_bpf__load(skel);
	if (err) {
		if (RC_HAS_OPT(opts, verifier_log_size))
			keep_log_tail(log, opts->verifier_log, opts->verifier_log_size);
		rc_log(rc, REPLICAST_LOG_WARN, "loading the replicator failed: %s",
		       replicast_strerror(err));
		goto out_destroy;
	}
	cfg.max_groups = max_groups;
	cfg.max_subs = max_subs;
	cfg.nr_cpus = ncpus;
	/* The neighbour tracker tells namespaces apart by it (rc_neigh_key). */
	cfg.netns_cookie = rc_netns_cookie();
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.config), &zero, &cfg, BPF_ANY)) {
		err = -errno;
		goto out_destroy;
	}
	err = pin_program(rc, skel->progs.replicate, PIN_PROG);
	if (!err)
		err = pin_program(rc, skel->progs.replicate_local, PIN_LOCAL_PROG);
	if (!err)
		err = pin_program(rc, skel->progs.watch_unreachable, PIN_WATCH_PROG);
	if (!err)
		err = pin_neighbour_tracker(rc, skel->progs.track_neighbour);
	if (!err)
		err = rc_pin_file(rc, PIN_SUBS_DIR, path, sizeof(path));
	if (!err && mkdir(path, 0700) && errno != EEXIST)
		err = -errno;
out_destroy:
	replicate_bpf__destroy(skel);
	for (i = 0; i < 2; i++)
		if (templates[i] >= 0)
			close(templates[i]);
out:
	free(log);
	return err;
}

/* The upgrade path: a fresh program over the pinned maps, then every
 * attachment switched to it (caller holds the lock, pins are open). */
static int replace_program(struct replicast *rc, const struct replicast_opts *opts)
{
	struct rc_config pinned = rc->cfg;
	int err = load_and_pin(rc, opts, &pinned);

	if (err)
		return err;
	rc_close_fd(&rc->prog_fd);
	rc_close_fd(&rc->local_prog_fd);
	err = rc_pin_get(rc, PIN_PROG, &rc->prog_fd);
	if (!err)
		err = rc_pin_get(rc, PIN_LOCAL_PROG, &rc->local_prog_fd);
	if (!err)
		err = rc_reattach_all(rc);
	if (!err)
		rc_log(rc, REPLICAST_LOG_INFO, "replaced the program under %s", rc->pin_path);
	return err;
}

int replicast_load(const struct replicast_opts *opts, struct replicast **out)
{
	struct replicast *rc;
	char prog_path[PATH_MAX];
	bool fresh = false, made_dir = false;
	__u32 max_groups, max_subs;
	int err = rc_handle_new(opts, &rc);

	*out = NULL;
	if (err)
		return err;
	/* Before anything is made: a refused size leaves no directory behind.
	 * (Sizes matter only to a first load, but are refused on any.) */
	opts_sizes(opts, &max_groups, &max_subs);
	err = replicast_cost(max_groups, max_subs, NULL);
	if (err) {
		replicast_close(rc);
		return err;
	}
	err = ensure_bpffs(rc);
	if (!err)
		err = rc_open_lock(rc, 1, &made_dir);
	if (!err)
		err = rc_lock(rc);
	if (err)
		goto fail;
	err = rc_pin_file(rc, PIN_PROG, prog_path, sizeof(prog_path));
	if (err)
		goto fail_unlock;
	fresh = access(prog_path, F_OK) != 0;
	if (fresh) {
		err = load_and_pin(rc, opts, NULL);
		if (err)
			goto fail_unlock;
		rc_log(rc, REPLICAST_LOG_INFO, "loaded and pinned under %s", rc->pin_path);
	}
	err = rc_netns_claim(rc, fresh);
	if (!err)
		err = rc_open_pins(rc);
	if (!err && RC_OPT(opts, replace_program, false))
		err = replace_program(rc, opts);
	if (err)
		goto fail_unlock;
	rc_unlock(rc);
	*out = rc;
	return 0;
fail_unlock:
	/* A first load into a directory it made takes it all back (libbpf may
	 * have pinned maps already); a directory that was there is left be. */
	if (fresh && made_dir)
		remove_tree(rc->pin_path);
	rc_unlock(rc);
fail:
	replicast_close(rc);
	return err;
}

/* Removes every file and directory under dir (pins are files on bpffs). */
static int remove_tree(const char *dir)
{
	struct dirent *de;
	char path[PATH_MAX];
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode))
			err = remove_tree(path) ?: err;
		else if (unlink(path))
			err = -errno;
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT)
		err = -errno;
	return err;
}

int replicast_unload(struct replicast *rc)
{
	int err;

	err = rc_lock(rc);
	if (err)
		return err;
	err = rc_detach_all(rc);
	/* After the detach, so the peer's qdisc goes the way it came. */
	err = rc_inject_remove(rc) ?: err;
	err = remove_tree(rc->pin_path) ?: err;
	rc_unlock(rc);
	return err;
}
