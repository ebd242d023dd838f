// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Churn driver for the tests: joins and leaves subscribers of one group
 * through libreplicast while a stream runs, and logs around every change the
 * group's "received" counter, which (one flow, handled in order) is the
 * sequence number of the packet being fanned out at that moment:
 *   DEST join|leave COUNTER_BEFORE COUNTER_AFTER
 * Usage: rc_churn --pin-path DIR --group G --subs FILE --ops N [--seed S] --log FILE */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "replicast.h"

#define MAX_CHURNERS 4096
#define TIME_LIMIT_S 60		/* a bounded run, whatever N is */

static struct replicast *rc;
static struct replicast_endpoint group;

static uint64_t group_received(void)
{
	char want[REPLICAST_ENDPOINT_STRLEN], have[REPLICAST_ENDPOINT_STRLEN];
	struct replicast_group_info *groups;
	uint64_t v = 0;
	size_t n, i;

	if (replicast_groups_read(rc, &groups, &n))
		return 0;
	replicast_endpoint_format(&group, want, sizeof(want));
	for (i = 0; i < n; i++)
		if (!strcmp(want, replicast_endpoint_format(&groups[i].group, have, sizeof(have))))
			v = groups[i].received.packets;
	replicast_groups_free(groups, n);
	return v;
}

static int change(FILE *log, const char *name, const struct replicast_endpoint *dest, int join)
{
	uint64_t before = group_received(), after;
	int err = join ? replicast_sub_add(rc, &group, dest, NULL)
		       : replicast_sub_del(rc, &group, dest);

	after = group_received();
	if (err) {
		fprintf(stderr, "rc_churn: %s %s: %s\n", join ? "join" : "leave", name,
			replicast_strerror(err));
		return -1;
	}
	fprintf(log, "%s %s %" PRIu64 " %" PRIu64 "\n", name, join ? "join" : "leave", before, after);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pin-path", required_argument, NULL, 'P' },
		{ "group", required_argument, NULL, 'g' },
		{ "subs", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 'S' },
		{ "log", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct replicast_opts opts = { .sz = sizeof(opts) };
	static struct replicast_endpoint dests[MAX_CHURNERS];
	static char names[MAX_CHURNERS][REPLICAST_ENDPOINT_STRLEN];
	static int in[MAX_CHURNERS];
	const char *subs_path = NULL, *log_path = NULL, *group_text = NULL;
	unsigned long ops = 0, seed = 1, done = 0;
	int c, n = 0, i, err;
	char line[256];
	time_t start;
	FILE *f, *log;

	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'P': opts.pin_path = optarg; break;
		case 'g': group_text = optarg; break;
		case 's': subs_path = optarg; break;
		case 'n': ops = strtoul(optarg, NULL, 10); break;
		case 'S': seed = strtoul(optarg, NULL, 10); break;
		case 'l': log_path = optarg; break;
		default: return 2;
		}
	}
	if (!group_text || !subs_path || !log_path || !ops ||
	    replicast_endpoint_parse(group_text, &group)) {
		fprintf(stderr, "usage: rc_churn --pin-path DIR --group G --subs FILE --ops N "
				"[--seed S] --log FILE\n");
		return 2;
	}
	f = fopen(subs_path, "r");
	if (!f)
		return perror(subs_path), 1;
	while (n < MAX_CHURNERS && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		if (replicast_endpoint_parse(line, &dests[n]))
			return fprintf(stderr, "rc_churn: bad DEST '%s'\n", line), 2;
		replicast_endpoint_format(&dests[n], names[n], sizeof(names[n]));
		n++;
	}
	fclose(f);
	err = replicast_open(&opts, &rc);
	if (err)
		return fprintf(stderr, "rc_churn: %s\n", replicast_strerror(err)), 1;
	log = fopen(log_path, "w");
	if (!log || !n)
		return 1;
	srandom((unsigned int)seed);
	start = time(NULL);
	for (done = 0; done < ops && time(NULL) - start < TIME_LIMIT_S; done++) {
		i = (int)(random() % n);
		if (change(log, names[i], &dests[i], !in[i]))
			return 1;
		in[i] = !in[i];
	}
	/* Everyone leaves before the stream ends, so "out" is tested too. */
	for (i = 0; i < n; i++)
		if (in[i] && change(log, names[i], &dests[i], 0))
			return 1;
	fclose(log);
	replicast_close(rc);
	printf("rc_churn: %lu changes in %ld s\n", done, (long)(time(NULL) - start));
	return done == ops ? 0 : 1;
}
