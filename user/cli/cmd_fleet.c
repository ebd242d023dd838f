// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast fleet status`: every relay whose agent writes a status key
 * under ROOT, one row each, read from etcd (not from the relays). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agent.h"
#include "agent_etcd.h"

static const char fleet_usage[] =
	"Usage: replicast fleet status --etcd URL[,URL...] --prefix ROOT [--json]\n"
	"                              [--cacert FILE] [--cert FILE --key FILE]\n"
	"                              [--user NAME:PASS]\n"
	"\n"
	"One row per relay whose agent keeps a status key under ROOT (every key that\n"
	"starts with ROOT and ends in \"status\", as 'replicast agent --prefix\n"
	"ROOT.../' writes): the configuration revision it applied, its last error,\n"
	"its groups and subscribers, the packets it took in and the copies it sent.\n"
	"A relay whose agent died drops out when its status lease expires.\n"
	"Options, and their environment variables, as for 'replicast agent'.\n";

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
	static const struct option options[] = {
		ETCD_LONG_OPTIONS,
		{ "json", no_argument, NULL, 'j' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct etcd_opts eo = {};
	const char *root, *why;
	struct fleet_row *rows;
	struct etcd_kv *kvs;
	struct etcd *etcd;
	int64_t revision;
	size_t n, nrows = 0, i, klen;
	int c, ret;

	etcd_opts_from_env(&eo, &root);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (etcd_opts_option(c, optarg, &eo, &root))
			continue;
		if (c == 'j') {
			cli->json = true;
			continue;
		}
		ret = cli_common_option(cli, c, fleet_usage);
		if (ret)
			return ret < 0 ? EXIT_USAGE : ret;
	}
	if (optind < argc)
		return cli_error(EXIT_USAGE, "fleet status: unexpected argument '%s'", argv[optind]);
	if (!eo.urls)
		return cli_error(EXIT_USAGE, "fleet status: which etcd? give --etcd URL "
				 "(or $REPLICAST_ETCD)");
	if (!root)
		return cli_error(EXIT_USAGE, "fleet status: give --prefix ROOT, e.g. /replicast/");
	if (etcd_open(&eo, &etcd, &why))
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
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(fleet_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? cli_error(EXIT_USAGE, "fleet: expected a verb: status") : EXIT_OK;
	}
	if (!strcmp(argv[1], "status"))
		return fleet_status(cli, argc - 1, argv + 1);
	fputs(fleet_usage, stderr);
	return cli_error(EXIT_USAGE, "fleet: unknown verb '%s' (status)", argv[1]);
}
