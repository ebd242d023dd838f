// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast group add|del GROUP`. */
#include <errno.h>
#include <string.h>
#include "cli.h"

static const char group_usage[] =
	"Usage: replicast group add GROUP\n"
	"       replicast group del GROUP\n"
	"\n"
	"GROUP is the ADDR:PORT (IPv6: [ADDR]:PORT) that senders address. Packets to it\n"
	"that arrive on an attached device are copied to the group's subscribers and\n"
	"not delivered locally. 'del' also forgets the group's subscribers.\n";

int cmd_group(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	char name[REPLICAST_ENDPOINT_STRLEN];
	struct replicast_endpoint group;
	struct replicast *rc;
	const char *verb;
	int c, ret, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		ret = cli_common_option(cli, c, group_usage);
		if (ret)
			return ret < 0 ? EXIT_USAGE : ret;
	}
	if (argc - optind != 2) {
		fputs(group_usage, stderr);
		return cli_error(EXIT_USAGE, "group: expected a verb (add, del) and GROUP");
	}
	verb = argv[optind];
	if (strcmp(verb, "add") && strcmp(verb, "del"))
		return cli_error(EXIT_USAGE, "group: unknown verb '%s' (add, del)", verb);
	if (cli_parse_endpoint(argv[optind + 1], "GROUP", &group))
		return EXIT_USAGE;
	replicast_endpoint_format(&group, name, sizeof(name));
	ret = cli_open(cli, &rc);
	if (ret)
		return ret;
	if (!strcmp(verb, "add")) {
		err = replicast_group_add(rc, &group);
		if (err == -EEXIST)
			ret = cli_error(EXIT_FAIL, "group %s already exists", name);
		else if (err == -ENOSPC)
			ret = cli_error(EXIT_FAIL, "group table is full: %u groups (the --max-groups "
					"of the first load)", replicast_max_groups(rc));
		else if (err)
			ret = cli_lib_error(err, "group add");
	} else {
		err = replicast_group_del(rc, &group);
		if (err == -ENOENT)
			ret = cli_error(EXIT_FAIL, "group %s does not exist", name);
		else if (err)
			ret = cli_lib_error(err, "group del");
	}
	replicast_close(rc);
	return ret;
}
