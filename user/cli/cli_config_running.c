// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The running state (devices, sizes, injection pair, groups and their
 * subscribers) read into the configuration model, for save and apply. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cli_config.h"

static int add_attachment(const char *ifname, unsigned int ifindex, void *ctx)
{
	struct conf *c = ctx;
	char now[IF_NAMESIZE], (*grown)[IF_NAMESIZE];

	/* The record keeps the name at attach time; the kernel knows today's. */
	if (!if_indextoname(ifindex, now)) {
		char e[CLI_NAME_ESCAPED];

		fprintf(stderr, "replicast: warning: %s (ifindex %u) is gone; not saved\n",
			cli_escape(ifname, e, sizeof(e)), ifindex);
		return 0;
	}
	grown = realloc(c->devs, (c->ndevs + 1) * sizeof(*c->devs));
	if (!grown)
		return -ENOMEM;
	c->devs = grown;
	memcpy(c->devs[c->ndevs++], now, IF_NAMESIZE);
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int conf_from_running(struct replicast *rc, struct conf *conf)
{
	struct replicast_group_info *groups;
	char name[REPLICAST_ENDPOINT_STRLEN];
	size_t n, i, j;
	int err;

	memset(conf, 0, sizeof(*conf));
	conf->has_load = true;
	conf->max_groups = replicast_max_groups(rc);
	conf->max_subs = replicast_max_subs(rc);
	err = replicast_inject_name(rc, conf->inject_dev, sizeof(conf->inject_dev));
	if (!err)
		conf->inject = CONF_INJECT_NAMED;
	else if (err == -ENOENT)
		conf->inject = CONF_INJECT_NONE;
	else
		return err;
	err = replicast_foreach_attachment(rc, add_attachment, conf);
	if (err)
		goto fail;
	/* The attachments map is a hash: its order is not the operator's. */
	if (conf->ndevs)
		qsort(conf->devs, conf->ndevs, sizeof(*conf->devs), compare_names);

	err = replicast_groups_read(rc, &groups, &n);
	if (err)
		goto fail;
	conf->groups = calloc(n ? n : 1, sizeof(*conf->groups));
	if (!conf->groups) {
		err = -ENOMEM;
		goto out;
	}
	conf->cap = n;
	for (i = 0; i < n; i++) {
		struct conf_group *g = &conf->groups[conf->ngroups++];

		g->group = groups[i].group;
		g->port_last = groups[i].port_last > g->group.port ? groups[i].port_last
								     : g->group.port;
		err = conf_group_opts_read(&groups[i], &g->opts);
		if (err)
			goto out;
		g->subs = calloc(groups[i].nsubs ? groups[i].nsubs : 1, sizeof(*g->subs));
		if (!g->subs) {
			err = -ENOMEM;
			goto out;
		}
		g->cap = groups[i].nsubs;
		for (j = 0; j < groups[i].nsubs; j++) {
			const struct replicast_sub_info *si = &groups[i].subs[j];
			struct conf_sub *s = &g->subs[g->nsubs++];

			s->dest = si->dest;
			if (!if_indextoname(si->ifindex, s->dev)) {
				s->dev[0] = '\0';
				fprintf(stderr, "replicast: warning: the device of subscriber %s "
					"(ifindex %u) is gone; saved without --dev\n",
					conf_dest_name(&si->dest, name, sizeof(name)),
					si->ifindex);
			}
			s->has_mac = si->has_mac;
			memcpy(s->mac, si->mac, sizeof(s->mac));
			s->keep_source = si->keep_source;
			s->sample = si->sample > 1 ? si->sample : 0;
			s->sample_random = si->sample_random;
			s->health_s = si->health_s;
			s->nfrom = si->nfrom;
			memcpy(s->from, si->from, sizeof(s->from));
		}
	}
out:
	replicast_groups_free(groups, n);
	if (!err)
		return 0;
fail:
	conf_free(conf);
	return err;
}
