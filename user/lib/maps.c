// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Map plumbing shared by the group, subscriber and stats code: inner maps
 * made at run time (typed with the program's BTF), per-CPU values. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "internal.h"

int rc_inner_map_fd(int outer_fd, __u32 id)
{
	__u32 inner_id;
	int fd;

	if (bpf_map_lookup_elem(outer_fd, &id, &inner_id))
		return -errno;
	fd = bpf_map_get_fd_by_id(inner_id);
	return fd < 0 ? -errno : fd;
}

static int create_inner(struct replicast *rc, const char *name, __u32 value_size,
			__u32 max_entries, __u32 value_type_id)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int fd;

	if (rc->btf_fd >= 0 && value_type_id) {
		opts.btf_fd = rc->btf_fd;
		opts.btf_key_type_id = rc->btf_u32_id;
		opts.btf_value_type_id = value_type_id;
	}
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32), value_size, max_entries, &opts);
	return fd < 0 ? -errno : fd;
}

int rc_create_subs_map(struct replicast *rc)
{
	return create_inner(rc, "rc_subscribers", sizeof(struct rc_subscriber), rc->cfg.max_subs,
			    rc->btf_subscriber_id);
}

int rc_create_sub_counters_map(struct replicast *rc)
{
	return create_inner(rc, "rc_sub_counters", sizeof(struct rc_subscriber_counters),
			    rc->cfg.max_subs * rc->cfg.nr_cpus, rc->btf_sub_counters_id);
}

/* A slot's counters are one entry per CPU, max_subs apart. */
int rc_sub_counters_read(struct replicast *rc, int fd, __u32 slot, struct rc_subscriber_counters *out)
{
	struct rc_subscriber_counters c;
	__u32 cpu, key;

	memset(out, 0, sizeof(*out));
	for (cpu = 0; cpu < rc->cfg.nr_cpus; cpu++) {
		key = cpu * rc->cfg.max_subs + slot;
		if (bpf_map_lookup_elem(fd, &key, &c))
			return -errno;
		out->packets += c.packets;
		out->bytes += c.bytes;
		out->dropped += c.dropped;
	}
	return 0;
}

int rc_sub_counters_zero(struct replicast *rc, int fd, __u32 slot)
{
	struct rc_subscriber_counters zero = {};
	__u32 cpu, key;

	for (cpu = 0; cpu < rc->cfg.nr_cpus; cpu++) {
		key = cpu * rc->cfg.max_subs + slot;
		if (bpf_map_update_elem(fd, &key, &zero, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* Per-CPU values come back as one 8-byte-aligned copy per possible CPU. */
int rc_percpu_sum(struct replicast *rc, int map_fd, __u32 key, __u64 *out, size_t size)
{
	size_t words = size / sizeof(__u64), stride = (size + 7) / 8 * 8;
	__u8 *values = calloc(rc->ncpus, stride);
	int cpu, err = 0;
	size_t w;

	if (!values)
		return -ENOMEM;
	memset(out, 0, size);
	if (bpf_map_lookup_elem(map_fd, &key, values)) {
		err = -errno;
		goto out;
	}
	for (cpu = 0; cpu < rc->ncpus; cpu++) {
		const __u64 *v = (const __u64 *)(values + cpu * stride);

		for (w = 0; w < words; w++)
			out[w] += v[w];
	}
out:
	free(values);
	return err;
}

int rc_percpu_zero(struct replicast *rc, int map_fd, __u32 key, size_t size)
{
	void *values = calloc(rc->ncpus, (size + 7) / 8 * 8);
	int err = 0;

	if (!values)
		return -ENOMEM;
	if (bpf_map_update_elem(map_fd, &key, values, BPF_ANY))
		err = -errno;
	free(values);
	return err;
}

int rc_subs_pin_path(const struct replicast *rc, const struct replicast_endpoint *group,
		     const struct rc_group *grp, char *buf, size_t len)
{
	char name[REPLICAST_RANGE_STRLEN], *p;
	struct replicast_endpoint first;
	uint16_t last;
	int n;

	/* bpffs refuses names with dots (reserved for its own files), so
	 * 10.0.0.1:5000 is pinned as 10_0_0_1:5000; a range by its whole
	 * text (10_0_0_1:2055-2060), whichever of its ports named it. */
	rc_group_canonical(group, grp, &first, &last);
	replicast_range_format(&first, last, name, sizeof(name));
	for (p = name; *p; p++)
		if (*p == '.')
			*p = '_';
	n = snprintf(buf, len, "%s/%s/%s", rc->pin_path, PIN_SUBS_DIR, name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
