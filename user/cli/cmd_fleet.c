// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast fleet status`: every relay whose agent writes a status key
 * under ROOT, one row each, read from etcd (not from the relays). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agent.h"
#include "agent_etcd.h"
#include "opt.h"

struct fleet_args {
	struct etcd_args etcd;
	bool json;
};

static const struct opt_def fleet_status_opts[] = {
	ETCD_OPT_ROWS(struct fleet_args, etcd, "ROOT", "the relays' keys start with ROOT, "
		      "e.g. /replicast/"),
	OPT_FLAG_ROW(struct fleet_args, "json", 0, json, "one JSON array, an object per relay"),
	OPT_END,
};

#define FLEET_STATUS_TEXT									\
	"One row per relay whose agent keeps a status key under ROOT (every key that\n"	\
	"starts with ROOT and ends in \"status\", as 'replicast agent --prefix\n"	\
	"ROOT.../' writes): the configuration revision it applied, its last error,\n"	\
	"its groups and subscribers, the packets it took in and the copies it sent.\n"	\
	"A relay whose agent died drops out when its status lease expires.\n"	\
	"Options, and their environment variables, as for 'replicast agent'.\n"

const struct opt_cmd opt_cmd_fleet_status = {
	.name = "status", .path = "fleet status", .parent = &opt_cmd_fleet,
	.opts = fleet_status_opts,
	.summary = "every relay's agent status under ROOT",
	.text = FLEET_STATUS_TEXT,
};

static const struct opt_cmd *const fleet_verbs[] = { &opt_cmd_fleet_status, NULL };

const struct opt_cmd opt_cmd_fleet = {
	.name = "fleet",
	.path = "fleet",
	.verbs = fleet_verbs,
	.text = FLEET_STATUS_TEXT,
};

static int compare_rows(const void *a, const void *b)
{
	return strcmp(((const struct fleet_row *)a)->relay, ((const struct fleet_row *)b)->relay);
}

static void print_json(const struct fleet_row *rows, size_t n)
{
	size_t i;

	printf("[");
	for (i = 0; i < n; i++) {
		const struct fleet_row *r = &rows[i];

		printf("%s{\"relay\":", i ? "," : "");
		json_string(stdout, r->relay);
		printf(",\"host\":");
		json_string(stdout, r->host);
		printf(",\"applied_revision\":%" PRId64 ",\"error\":", r->applied_revision);
		if (r->error)
			json_string(stdout, r->error);
		else
			printf("null");
		printf(",\"groups\":%" PRIu64 ",\"subscribers\":%" PRIu64 ",\"packets_in\":%" PRIu64
		       ",\"copies_out\":%" PRIu64 ",\"updated\":%" PRId64 "}", r->groups,
		       r->subscribers, r->packets_in, r->copies_out, r->updated);
	}
	printf("]\n");
}

static void print_table(const struct fleet_row *rows, size_t n)
{
	size_t i, width = 5;

	for (i = 0; i < n; i++)
		if (strlen(rows[i].relay) > width)
			width = strlen(rows[i].relay);
	printf("%-*s %-12s %8s %6s %6s %12s %12s  %s\n", (int)width, "RELAY", "HOST", "REVISION",
	       "GROUPS", "SUBS", "PACKETS_IN", "COPIES_OUT", "ERROR");
	for (i = 0; i < n; i++) {
		const struct fleet_row *r = &rows[i];

		/* Names and errors come from etcd: escaped for the terminal. */
		cli_escape_to(stdout, r->relay);
		printf("%*s ", (int)(width - strlen(r->relay)), "");
		cli_escape_to(stdout, r->host);
		printf("%*s %8" PRId64 " %6" PRIu64 " %6" PRIu64 " %12" PRIu64 " %12" PRIu64 "  ",
		       strlen(r->host) < 12 ? (int)(12 - strlen(r->host)) : 0, "",
		       r->applied_revision, r->groups, r->subscribers, r->packets_in,
		       r->copies_out);
		cli_escape_to(stdout, r->error ? r->error : "-");
		putchar('\n');
	}
}

static int fleet_status(struct cli *cli, int argc, char **argv)
{
	struct fleet_args args = {};
	const char *root, *why;
	struct fleet_row *rows;
	struct opt_parsed p;
	struct etcd_kv *kvs;
	struct etcd *etcd;
	int64_t revision;
	size_t n, nrows = 0, i, klen;
	int ret;

	etcd_args_from_env(&args.etcd);
	ret = opt_parse(&opt_cmd_fleet_status, OPT_ARGV, argc, argv, cli, &args, &p);
	if (ret || p.help)
		return ret;
	if (args.json)
		cli->json = true;
	root = args.etcd.prefix;
	if (!args.etcd.eo.urls)
		return cli_error(EXIT_USAGE, "fleet status: which etcd? give --etcd URL "
				 "(or $REPLICAST_ETCD)");
	if (!root)
		return cli_error(EXIT_USAGE, "fleet status: give --prefix ROOT, e.g. /replicast/");
	if (etcd_open(&args.etcd.eo, &etcd, &why))
		return cli_error(EXIT_USAGE, "fleet status: %s", why);
	if (etcd_range(etcd, root, true, &kvs, &n, &revision)) {
		ret = cli_error(EXIT_FAIL, "fleet status: %s", etcd_error(etcd));
		etcd_close(etcd);
		return ret;
	}
	rows = calloc(n ? n : 1, sizeof(*rows));
	for (i = 0; rows && i < n; i++) {
		klen = strlen(kvs[i].key);
		if (klen < 6 || strcmp(kvs[i].key + klen - 6, "status"))
			continue;	/* config keys, and anything else under ROOT */
		if (!fleet_row_parse(kvs[i].key, kvs[i].value, &rows[nrows]))
			nrows++;
	}
	etcd_kvs_free(kvs, n);
	etcd_close(etcd);
	if (!rows)
		return cli_error(EXIT_FAIL, "fleet status: out of memory");
	qsort(rows, nrows, sizeof(*rows), compare_rows);
	if (cli->json)
		print_json(rows, nrows);
	else
		print_table(rows, nrows);
	for (i = 0; i < nrows; i++)
		fleet_row_free(&rows[i]);
	free(rows);
	return EXIT_OK;
}

int cmd_fleet(struct cli *cli, int argc, char **argv)
{
	const struct opt_cmd *verb;
	int at, w;

	verb = opt_find_verb(&opt_cmd_fleet, argc, argv, &at);
	if (verb) {
		/* The verb's own words, without it: options may come before it. */
		char *rest[argc];
		int k = 0;

		for (w = 0; w < argc; w++)
			if (w != at)
				rest[k++] = argv[w];
		return fleet_status(cli, k, rest);
	}
	for (w = 1; at < 0 && w < argc; w++)
		if (!strcmp(argv[w], "--help") || !strcmp(argv[w], "-h")) {
			opt_print_help(stdout, &opt_cmd_fleet);
			return EXIT_OK;
		}
	opt_print_usage(stderr, &opt_cmd_fleet);
	if (at < 0)
		return cli_error(EXIT_USAGE, "fleet: expected a verb: status");
	return cli_error(EXIT_USAGE, "fleet: unknown verb '%s' (status)", argv[at]);
}
