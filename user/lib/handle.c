// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The handle: opening the pinned replicator (its pins, their BTF ids), the
 * writers' lock on the pin directory, the log callback, closing. What every
 * other file of the library needs of a handle is here; loading, upgrading
 * and unloading are load.c's. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "internal.h"

void rc_log(const struct replicast *rc, enum replicast_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!rc || !rc->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rc->log(level, msg, rc->log_ctx);
}

int rc_lock(struct replicast *rc)
{
	/* flock() on the file this handle holds locked already would succeed,
	 * but the inner call's unlock would then free it for everyone: count. */
	if (rc->lock_depth) {
		rc->lock_depth++;
		return 0;
	}
	while (flock(rc->lock_fd, LOCK_EX))
		if (errno != EINTR)
			return -errno;
	rc->lock_depth = 1;
	return 0;
}

void rc_unlock(struct replicast *rc)
{
	if (rc->lock_depth && --rc->lock_depth == 0)
		flock(rc->lock_fd, LOCK_UN);
}

int replicast_lock(struct replicast *rc)
{
	return rc ? rc_lock(rc) : -EINVAL;
}

void replicast_unlock(struct replicast *rc)
{
	if (rc)
		rc_unlock(rc);
}

int rc_handle_new(const struct replicast_opts *opts, struct replicast **out)
{
	struct replicast *rc = calloc(1, sizeof(*rc));
	pid_t origin;
	int err = 0;

	*out = NULL;
	if (!RC_OPTS_VALID(opts)) {
		free(rc);
		return -EINVAL;
	}
	if (!rc)
		return -ENOMEM;
	if (RC_HAS_OPT(opts, log_ctx)) {
		rc->log = opts->log;
		rc->log_ctx = opts->log_ctx;
	}
	rc->lock_fd = rc->prog_fd = rc->local_prog_fd = rc->btf_fd = -1;
	rc->group_sources_fd = rc->group_rate_fd = -1;
	rc->groups_fd = rc->group_addrs_fd = rc->group_subs_fd = rc->sub_stats_fd = -1;
	rc->group_stats_fd = rc->drop_stats_fd = rc->config_fd = rc->attachments_fd = -1;
	/* Not 0, which replicast_close() would take for an fd of ours: stdin. */
	rc->neighbours_fd = rc->sub_select_fd = rc->sub_health_fd = rc->watch_prog_fd = -1;
	if (RC_OPT(opts, pin_path, NULL)) {
		snprintf(rc->pin_path, sizeof(rc->pin_path), "%s", opts->pin_path);
	} else {
		err = rc_default_pin_path(rc->pin_path, sizeof(rc->pin_path),
					  &rc->default_per_netns, &origin);
		if (err == -ENOMEDIUM)
			rc_log(rc, REPLICAST_LOG_INFO, "no bpffs outlives this process: its mount "
			       "namespace is its own (as under 'ip netns exec'), and the one it "
			       "came from (process %d) has none at /sys/fs/bpf", (int)origin);
		else if (!err && origin)
			rc_log(rc, REPLICAST_LOG_DEBUG, "this mount namespace has no bpffs: "
			       "using process %d's, %s", (int)origin, rc->pin_path);
	}
	/* A trailing slash would put pins and the lock in different places. */
	while (strlen(rc->pin_path) > 1 && rc->pin_path[strlen(rc->pin_path) - 1] == '/')
		rc->pin_path[strlen(rc->pin_path) - 1] = '\0';
	if (err) {
		free(rc);
		return err;
	}
	*out = rc;
	return 0;
}

void rc_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void replicast_close(struct replicast *rc)
{
	if (!rc)
		return;
	rc_close_fd(&rc->lock_fd);
	rc_close_fd(&rc->prog_fd);
	rc_close_fd(&rc->local_prog_fd);
	rc_close_fd(&rc->group_sources_fd);
	rc_close_fd(&rc->group_rate_fd);
	rc_close_fd(&rc->btf_fd);
	rc_close_fd(&rc->groups_fd);
	rc_close_fd(&rc->group_addrs_fd);
	rc_close_fd(&rc->group_subs_fd);
	rc_close_fd(&rc->sub_stats_fd);
	rc_close_fd(&rc->group_stats_fd);
	rc_close_fd(&rc->drop_stats_fd);
	rc_close_fd(&rc->config_fd);
	rc_close_fd(&rc->attachments_fd);
	rc_close_fd(&rc->neighbours_fd);
	rc_close_fd(&rc->sub_select_fd);
	rc_close_fd(&rc->sub_health_fd);
	rc_close_fd(&rc->watch_prog_fd);
	free(rc);
}

/* Whoever may write in the pin directory can swap the pinned program or
 * maps for their own, and so make the relay send anything anywhere: one made
 * by someone else, or open to group or others, is not used. Checked on the
 * open directory, so a rename in between cannot swap it. */
static int check_owner(struct replicast *rc)
{
	struct stat st;

	if (fstat(rc->lock_fd, &st))
		return -errno;
	if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		rc_log(rc, REPLICAST_LOG_INFO, "%s belongs to uid %u with mode %04o: not "
		       "root's alone", rc->pin_path, (unsigned int)st.st_uid,
		       (unsigned int)(st.st_mode & 07777));
		return -EACCES;
	}
	return 0;
}

/* made: set when this call created the pin directory (create only). */
int rc_open_lock(struct replicast *rc, int create, bool *made)
{
	if (create) {
		*made = mkdir(rc->pin_path, 0700) == 0;
		if (!*made && errno != EEXIST)
			return -errno;
	}
	/* bpffs holds only pins and directories, so the writers' lock is a
	 * flock on the pin directory itself. */
	rc->lock_fd = open(rc->pin_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rc->lock_fd < 0)
		return -errno;
	return create && *made ? 0 : check_owner(rc);
}

int rc_pin_file(const struct replicast *rc, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", rc->pin_path, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int rc_pin_get(const struct replicast *rc, const char *name, int *fd)
{
	char path[PATH_MAX];
	int err = rc_pin_file(rc, name, path, sizeof(path));

	if (err)
		return err;
	*fd = bpf_obj_get(path);
	return *fd < 0 ? -errno : 0;
}

/* Type ids in the program's BTF, so maps made at run time are as readable in
 * `bpftool map dump` as the ones libbpf made. */
static int find_btf_ids(struct replicast *rc)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct btf *btf;
	int err = 0;

	if (bpf_obj_get_info_by_fd(rc->groups_fd, &info, &len))
		return -errno;
	if (!info.btf_id)
		return 0;	/* maps without BTF still work, just less readable */
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return -errno;
	rc->btf_fd = bpf_btf_get_fd_by_id(info.btf_id);
	if (rc->btf_fd < 0) {
		err = -errno;
		goto out;
	}
	rc->btf_u32_id = btf__find_by_name_kind(btf, "__u32", BTF_KIND_TYPEDEF);
	rc->btf_subscriber_id = btf__find_by_name_kind(btf, "rc_subscriber", BTF_KIND_STRUCT);
	rc->btf_sub_counters_id = btf__find_by_name_kind(btf, "rc_subscriber_counters",
							 BTF_KIND_STRUCT);
	if ((int)rc->btf_u32_id < 0 || (int)rc->btf_subscriber_id < 0 ||
	    (int)rc->btf_sub_counters_id < 0)
		rc->btf_u32_id = rc->btf_subscriber_id = rc->btf_sub_counters_id = 0;
out:
	btf__free(btf);
	return err;
}

int rc_open_pins(struct replicast *rc)
{
	struct {
		const char *name;
		int *fd;
	} pins[] = {
		{ PIN_PROG, &rc->prog_fd },
		{ PIN_LOCAL_PROG, &rc->local_prog_fd },
		{ "group_sources", &rc->group_sources_fd },
		{ "group_rate", &rc->group_rate_fd },
		{ "groups", &rc->groups_fd },
		{ "group_addrs", &rc->group_addrs_fd },
		{ "group_subs", &rc->group_subs_fd },
		{ "sub_stats", &rc->sub_stats_fd },
		{ "group_stats", &rc->group_stats_fd },
		{ "drop_stats", &rc->drop_stats_fd },
		{ "config", &rc->config_fd },
		{ "attachments", &rc->attachments_fd },
		{ "neighbours", &rc->neighbours_fd },
		{ "sub_select", &rc->sub_select_fd },
		{ "sub_health", &rc->sub_health_fd },
		{ PIN_WATCH_PROG, &rc->watch_prog_fd },
	};
	struct bpf_map_info info = {};
	__u32 zero = 0, info_len = sizeof(info);
	size_t i;
	int err;

	for (i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		err = rc_pin_get(rc, pins[i].name, pins[i].fd);
		if (err)
			return err;
	}
	/* A config of another size is another layout: check before reading
	 * it into ours, which it would overrun or leave half-filled. */
	if (bpf_obj_get_info_by_fd(rc->config_fd, &info, &info_len))
		return -errno;
	if (info.value_size != sizeof(rc->cfg))
		return -EPROTO;
	if (bpf_map_lookup_elem(rc->config_fd, &zero, &rc->cfg))
		return -errno;
	if (rc->cfg.layout_version != RC_LAYOUT_VERSION)
		return -EPROTO;
	rc->ncpus = libbpf_num_possible_cpus();
	if (rc->ncpus <= 0)
		return rc->ncpus ? rc->ncpus : -EINVAL;
	return find_btf_ids(rc);
}

int replicast_open(const struct replicast_opts *opts, struct replicast **out)
{
	struct replicast *rc;
	int err = rc_handle_new(opts, &rc);

	*out = NULL;
	if (err)
		return err;
	err = rc_open_lock(rc, 0, NULL);
	if (!err)
		err = rc_open_pins(rc);
	if (!err)
		err = rc_netns_claim(rc, false);
	if (err) {
		replicast_close(rc);
		return err;
	}
	*out = rc;
	return 0;
}

uint32_t replicast_max_groups(const struct replicast *rc)
{
	return rc->cfg.max_groups;
}

uint32_t replicast_max_subs(const struct replicast *rc)
{
	return rc->cfg.max_subs;
}

const char *replicast_pin_path(const struct replicast *rc)
{
	return rc->pin_path;
}
