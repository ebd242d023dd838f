// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The configuration model written as replicast commands, one per line:
 * what save prints, and what apply prints of the lines it changes. */
#include <stdio.h>
#include "cli_config.h"

void conf_print_load(FILE *f, const struct conf *conf)
{
	size_t i;

	fputs("load", f);
	for (i = 0; i < conf->ndevs; i++) {
		fputs(" --dev ", f);
		conf_print_word(f, conf->devs[i]);
	}
	if (conf->max_groups)
		fprintf(f, " --max-groups %u", conf->max_groups);
	if (conf->max_subs)
		fprintf(f, " --max-subs %u", conf->max_subs);
	if (conf->inject == CONF_INJECT_NAMED) {
		fputs(" --inject-dev ", f);
		conf_print_word(f, conf->inject_dev);
	} else if (conf->inject == CONF_INJECT_NONE)
		fputs(" --no-inject", f);
}

void conf_print_group(FILE *f, const struct conf_group *g)
{
	char name[REPLICAST_RANGE_STRLEN];

	fprintf(f, "group add %s", conf_group_name(g, name, sizeof(name)));
	conf_group_opts_print(f, &g->opts);
}

void conf_print_sub(FILE *f, const struct conf_group *g, const struct conf_sub *s)
{
	char gname[REPLICAST_RANGE_STRLEN], dname[REPLICAST_ENDPOINT_STRLEN];

	fprintf(f, "sub add %s %s", conf_group_name(g, gname, sizeof(gname)),
		conf_dest_name(&s->dest, dname, sizeof(dname)));
	if (s->dev[0]) {
		fputs(" --dev ", f);
		conf_print_word(f, s->dev);
	}
	if (s->has_mac)
		fprintf(f, " --mac %02x:%02x:%02x:%02x:%02x:%02x", s->mac[0], s->mac[1], s->mac[2],
			s->mac[3], s->mac[4], s->mac[5]);
	if (s->keep_source)
		fputs(" --keep-source", f);
	conf_print_select(f, s);
}

void conf_print_select(FILE *f, const struct conf_sub *s)
{
	char p[REPLICAST_PREFIX_STRLEN];
	size_t i;

	if (s->sample > 1)
		fprintf(f, " --sample %u", s->sample);
	if (s->sample_random)
		fputs(" --sample-random", f);
	for (i = 0; i < s->nfrom; i++)
		fprintf(f, " --from %s", replicast_prefix_format(&s->from[i], p, sizeof(p)));
	if (s->health_s)
		fprintf(f, " --health %u", s->health_s);
}

void conf_print(FILE *f, const struct conf *conf, const char *pin_path)
{
	size_t i, j;

	fprintf(f, "# replicast configuration, written by 'replicast save' from %s.\n"
		"# 'replicast apply FILE' makes the running state equal to it again.\n",
		pin_path);
	conf_print_load(f, conf);
	fputc('\n', f);
	for (i = 0; i < conf->ngroups; i++) {
		fputc('\n', f);
		conf_print_group(f, &conf->groups[i]);
		fputc('\n', f);
		for (j = 0; j < conf->groups[i].nsubs; j++) {
			conf_print_sub(f, &conf->groups[i], &conf->groups[i].subs[j]);
			fputc('\n', f);
		}
	}
}
