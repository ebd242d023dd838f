// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The configuration model of cli_config.h: a group's settings (what save
 * writes, apply compares and changes), the whole model's lookups and its
 * release. Reading files is cli_config_read.c, the running state
 * cli_config_running.c, writing cli_config_print.c, words
 * cli_config_words.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cli_config.h"
#include "opt.h"

/* ---- Group options ------------------------------------------------------
 *
 * Every option a `group add` line may carry is one row here (its grammar
 * is a row of group_add_opts in cmd_group.c); saving, comparing and
 * applying all walk this table, so a new group setting is one row (and its
 * field in struct conf_group_opts), not a change to save or apply. A row
 * is the option's name and these functions:
 *   read     the running group's setting, from replicast_groups_read()
 *   print    " --name VALUE" for each value away from the default
 *   differs  whether the running setting (have) must change to want
 *   apply    makes the running setting want (have is what runs now; for
 *            a group apply has just added, the defaults)
 *   free     releases what the line or read allocated (NULL: nothing)
 */
struct group_option {
	const char *name;
	int (*read)(const struct replicast_group_info *g, struct conf_group_opts *o);
	void (*print)(FILE *f, const struct conf_group_opts *o);
	bool (*differs)(const struct conf_group_opts *want, const struct conf_group_opts *have);
	int (*apply)(struct replicast *rc, const struct replicast_endpoint *group,
		     const struct conf_group_opts *want, const struct conf_group_opts *have);
	void (*free)(struct conf_group_opts *o);	/* optional */
};

/* --allow-source PREFIX: the allow list, kept sorted (opt_opt_compare_prefixes)
 * so that two lists compare and print the same whatever order they were
 * given or read in. */
static bool has_prefix(const struct conf_group_opts *o, const struct replicast_prefix *p)
{
	return o->nsources && bsearch(p, o->sources, o->nsources, sizeof(*p), opt_compare_prefixes);
}

static int sources_read(const struct replicast_group_info *g, struct conf_group_opts *o)
{
	o->sources = calloc(g->nsources ? g->nsources : 1, sizeof(*o->sources));
	if (!o->sources)
		return -ENOMEM;
	if (g->nsources)	/* g->sources may be NULL then */
		memcpy(o->sources, g->sources, g->nsources * sizeof(*o->sources));
	o->nsources = g->nsources;
	qsort(o->sources, o->nsources, sizeof(*o->sources), opt_compare_prefixes);
	return 0;
}

static void sources_print(FILE *f, const struct conf_group_opts *o)
{
	char buf[REPLICAST_PREFIX_STRLEN];
	size_t i;

	for (i = 0; i < o->nsources; i++)
		fprintf(f, " --allow-source %s", replicast_prefix_format(&o->sources[i], buf,
									  sizeof(buf)));
}

static bool sources_differ(const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	size_t i;

	if (want->nsources != have->nsources)
		return true;
	for (i = 0; i < want->nsources; i++)
		if (opt_compare_prefixes(&want->sources[i], &have->sources[i]))
			return true;
	return false;
}

/* Allows the new prefixes before it disallows the old: meanwhile the list is
 * the union of both, never less than either, so no wanted source is denied
 * for a moment. */
static int sources_apply(struct replicast *rc, const struct replicast_endpoint *group,
			 const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	size_t i;
	int err;

	for (i = 0; i < want->nsources; i++) {
		if (has_prefix(have, &want->sources[i]))
			continue;
		err = replicast_group_allow(rc, group, &want->sources[i]);
		if (err && err != -EEXIST)
			return err;
	}
	for (i = 0; i < have->nsources; i++) {
		if (has_prefix(want, &have->sources[i]))
			continue;
		err = replicast_group_disallow(rc, group, &have->sources[i]);
		if (err && err != -ESRCH)
			return err;
	}
	return 0;
}

static void sources_free(struct conf_group_opts *o)
{
	free(o->sources);
	o->sources = NULL;
	o->nsources = 0;
}

/* --max-pps N and --max-bps N: caps, 0 for none (the default). */
static int caps_read(const struct replicast_group_info *g, struct conf_group_opts *o)
{
	o->max_pps = g->max_pps;
	o->max_bps = g->max_bps;
	return 0;
}

static void pps_print(FILE *f, const struct conf_group_opts *o)
{
	if (o->max_pps)
		fprintf(f, " --max-pps %" PRIu64, o->max_pps);
}

static void bps_print(FILE *f, const struct conf_group_opts *o)
{
	if (o->max_bps)
		fprintf(f, " --max-bps %" PRIu64, o->max_bps);
}

static bool pps_differ(const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	return want->max_pps != have->max_pps;
}

static bool bps_differ(const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	return want->max_bps != have->max_bps;
}

/* Both caps are one setting in the library: either row sets both. */
static int caps_apply(struct replicast *rc, const struct replicast_endpoint *group,
		      const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	(void)have;
	return replicast_group_set_limits(rc, group, want->max_pps, want->max_bps);
}

/* --ttl N (multicast groups): the default is the same as not saying it. */
static int ttl_read(const struct replicast_group_info *g, struct conf_group_opts *o)
{
	o->ttl = g->ttl == REPLICAST_DEFAULT_TTL ? 0 : g->ttl;
	return 0;
}

static void ttl_print(FILE *f, const struct conf_group_opts *o)
{
	if (o->ttl)
		fprintf(f, " --ttl %u", o->ttl);
}

static bool ttl_differs(const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	return want->ttl != have->ttl;
}

static int ttl_apply(struct replicast *rc, const struct replicast_endpoint *group,
		     const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	(void)have;
	return replicast_group_set_ttl(rc, group, (uint8_t)want->ttl);
}

/* --reverse-path strict|loose: strict is the default, loose is saved. */
static int rpath_read(const struct replicast_group_info *g, struct conf_group_opts *o)
{
	o->loose = g->reverse_path_loose;
	return 0;
}

static void rpath_print(FILE *f, const struct conf_group_opts *o)
{
	if (o->loose)
		fprintf(f, " --reverse-path loose");
}

static bool rpath_differs(const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	return want->loose != have->loose;
}

static int rpath_apply(struct replicast *rc, const struct replicast_endpoint *group,
		       const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	(void)have;
	return replicast_group_set_reverse_path(rc, group, want->loose);
}

/* --mode balance, --hash flow: the defaults (replicate, source) unsaid.
 * The hash is kept and saved for a replicate group too, so that a group
 * set back to balance balances as it did. */
static int mode_read(const struct replicast_group_info *g, struct conf_group_opts *o)
{
	o->balance = g->mode == REPLICAST_MODE_BALANCE;
	o->hash_flow = g->hash == REPLICAST_HASH_FLOW;
	return 0;
}

static void mode_print(FILE *f, const struct conf_group_opts *o)
{
	if (o->balance)
		fprintf(f, " --mode balance");
}

static void hash_print(FILE *f, const struct conf_group_opts *o)
{
	if (o->hash_flow)
		fprintf(f, " --hash flow");
}

static bool mode_differs(const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	return want->balance != have->balance || want->hash_flow != have->hash_flow;
}

/* Both are one setting in the library: either row sets both. */
static int mode_apply(struct replicast *rc, const struct replicast_endpoint *group,
		      const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	(void)have;
	return replicast_group_set_mode(rc, group,
					want->balance ? REPLICAST_MODE_BALANCE : REPLICAST_MODE_REPLICATE,
					want->hash_flow ? REPLICAST_HASH_FLOW : REPLICAST_HASH_SOURCE);
}

/* A row without its own read or apply: mode's does both. */
static int none_read(const struct replicast_group_info *g, struct conf_group_opts *o)
{
	(void)g;
	(void)o;
	return 0;
}

static bool never_differs(const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	(void)want;
	(void)have;
	return false;
}

static const struct group_option group_options[] = {
	{ "allow-source", sources_read, sources_print, sources_differ, sources_apply,
	  sources_free },
	{ "max-pps", caps_read, pps_print, pps_differ, caps_apply, NULL },
	{ "max-bps", caps_read, bps_print, bps_differ, caps_apply, NULL },
	{ "ttl", ttl_read, ttl_print, ttl_differs, ttl_apply, NULL },
	{ "reverse-path", rpath_read, rpath_print, rpath_differs, rpath_apply, NULL },
	{ "mode", mode_read, mode_print, mode_differs, mode_apply, NULL },
	{ "hash", none_read, hash_print, never_differs, mode_apply, NULL },
	{ .name = NULL },
};

void conf_group_opts_free(struct conf_group_opts *o)
{
	const struct group_option *opt;

	for (opt = group_options; opt->name; opt++)
		if (opt->free)
			opt->free(o);
}

bool conf_group_opts_differ(const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	const struct group_option *o;

	for (o = group_options; o->name; o++)
		if (o->differs(want, have))
			return true;
	return false;
}

int conf_group_opts_apply(struct replicast *rc, const struct replicast_endpoint *group,
			  const struct conf_group_opts *want, const struct conf_group_opts *have,
			  const char **what)
{
	const struct group_option *o;
	int err;

	for (o = group_options; o->name; o++) {
		if (!o->differs(want, have))
			continue;
		err = o->apply(rc, group, want, have);
		if (err) {
			*what = o->name;
			return err;
		}
	}
	return 0;
}
int conf_group_opts_read(const struct replicast_group_info *g, struct conf_group_opts *o)
{
	const struct group_option *opt;
	int err;

	for (opt = group_options; opt->name; opt++) {
		err = opt->read(g, o);
		if (err)
			return err;
	}
	return 0;
}

void conf_group_opts_print(FILE *f, const struct conf_group_opts *o)
{
	const struct group_option *opt;

	for (opt = group_options; opt->name; opt++)
		opt->print(f, o);
}

void conf_free(struct conf *conf)
{
	size_t i;

	for (i = 0; i < conf->ngroups; i++) {
		free(conf->groups[i].subs);
		conf_group_opts_free(&conf->groups[i].opts);
	}
	free(conf->groups);
	free(conf->devs);
	memset(conf, 0, sizeof(*conf));
}

/* ---- Lookups ------------------------------------------------------------ */

struct conf_group *conf_find_group(const struct conf *conf, const struct replicast_endpoint *ep,
				   uint16_t port_last)
{
	uint16_t last = port_last > ep->port ? port_last : ep->port;
	size_t i;

	for (i = 0; i < conf->ngroups; i++)
		if (replicast_endpoint_equal(&conf->groups[i].group, ep) &&
		    conf->groups[i].port_last == last)
			return &conf->groups[i];
	return NULL;
}

struct conf_group *conf_group_at(const struct conf *conf, const struct replicast_endpoint *ep,
				 uint16_t port_last)
{
	uint16_t last = port_last > ep->port ? port_last : ep->port;
	struct replicast_endpoint first;
	size_t i;

	for (i = 0; i < conf->ngroups; i++) {
		const struct conf_group *g = &conf->groups[i];

		/* Same address (ports aside), and the two port spans meet. */
		first = *ep;
		first.port = g->group.port;
		if (replicast_endpoint_equal(&g->group, &first) && ep->port <= g->port_last &&
		    last >= g->group.port)
			return &conf->groups[i];
	}
	return NULL;
}

const char *conf_group_name(const struct conf_group *g, char *buf, size_t len)
{
	return replicast_range_format(&g->group, g->port_last, buf, len);
}

const char *conf_dest_name(const struct replicast_endpoint *dest, char *buf, size_t len)
{
	return opt_dest_format(dest, buf, len);
}

struct conf_sub *conf_find_sub(const struct conf_group *g, const struct replicast_endpoint *dest)
{
	size_t i;

	for (i = 0; i < g->nsubs; i++)
		if (replicast_endpoint_equal(&g->subs[i].dest, dest))
			return &g->subs[i];
	return NULL;
}

