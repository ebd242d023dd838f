// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast sub add|del GROUP DEST`. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <net/if.h>
#include <string.h>
#include "cli.h"

static const char sub_usage[] =
	"Usage: replicast sub add GROUP DEST [--dev IFNAME] [--mac MAC] [--keep-source]\n"
	"                        [--sample N [--sample-random]] [--from PREFIX]...\n"
	"       replicast sub del GROUP DEST\n"
	"\n"
	"Adds DEST (ADDR:PORT, IPv6 as [ADDR]:PORT) to GROUP's subscribers, or removes it.\n"
	"Copies leave from the device the kernel routes DEST through, with that device's\n"
	"address as source and the next hop's MAC from the neighbour table, which 'add'\n"
	"resolves before it returns, so DEST gets every packet from the first.\n"
	"\n"
	"  --dev IFNAME     send through IFNAME (the route must allow it)\n"
	"  --mac MAC        next hop's MAC (aa:bb:cc:dd:ee:ff); skips the neighbour table\n"
	"  --keep-source    copies keep the original sender's source address\n"
	"  --sample N       one packet in N: DEST's 1st, N+1th, 2N+1th... (default 1: all)\n"
	"  --sample-random  one in N at random instead\n"
	"  --from PREFIX    only packets whose source is in PREFIX (ADDR[/LEN]); up to 8\n"
	"                   of them; what DEST does not take is counted as skipped\n";

int cmd_sub(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "mac", required_argument, NULL, 'm' },
		{ "keep-source", no_argument, NULL, 'k' },
		{ "sample", required_argument, NULL, 'S' },
		{ "sample-random", no_argument, NULL, 'R' },
		{ "from", required_argument, NULL, 'F' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct replicast_sub_opts opts = { .sz = sizeof(opts) };
	char gname[REPLICAST_ENDPOINT_STRLEN], dname[REPLICAST_ENDPOINT_STRLEN];
	struct replicast_prefix from[REPLICAST_SUB_MAX_FROM];
	struct replicast_endpoint group, dest;
	struct replicast *rc;
	unsigned long n;
	uint8_t mac[6];
	const char *verb;
	char *end;
	size_t i;
	int c, ret, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'd':
			opts.ifname = optarg;
			break;
		case 'm':
			if (replicast_mac_parse(optarg, mac))
				return cli_error(EXIT_USAGE, "--mac '%s' is not aa:bb:cc:dd:ee:ff", optarg);
			opts.mac = mac;
			break;
		case 'k':
			opts.keep_source = true;
			break;
		case 'S':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (!*optarg || *end || errno || n < 1 || n > UINT32_MAX || *optarg == '-')
				return cli_error(EXIT_USAGE, "--sample '%s' is not a number from 1 to %u",
						 optarg, UINT32_MAX);
			opts.sample = (uint32_t)n;
			break;
		case 'R':
			opts.sample_random = true;
			break;
		case 'F':
			if (opts.nfrom == REPLICAST_SUB_MAX_FROM)
				return cli_error(EXIT_USAGE, "--from: at most %d prefixes per subscriber",
						 REPLICAST_SUB_MAX_FROM);
			if (replicast_prefix_parse(optarg, &from[opts.nfrom]))
				return cli_error(EXIT_USAGE, "--from '%s' is not ADDR or ADDR/LEN (with "
						 "no host bits set past LEN)", optarg);
			opts.from = from;
			opts.nfrom++;
			break;
		default:
			ret = cli_common_option(cli, c, sub_usage);
			if (ret)
				return ret < 0 ? EXIT_USAGE : ret;
		}
	}
	if (argc - optind != 3) {
		fputs(sub_usage, stderr);
		return cli_error(EXIT_USAGE, "sub: expected a verb (add, del), GROUP and DEST");
	}
	verb = argv[optind];
	if (strcmp(verb, "add") && strcmp(verb, "del"))
		return cli_error(EXIT_USAGE, "sub: unknown verb '%s' (add, del)", verb);
	if (cli_parse_endpoint(argv[optind + 1], "GROUP", &group) ||
	    cli_parse_endpoint(argv[optind + 2], "DEST", &dest))
		return EXIT_USAGE;
	if (!strcmp(verb, "del") && (opts.ifname || opts.mac || opts.keep_source || opts.sample ||
				     opts.sample_random || opts.nfrom))
		return cli_error(EXIT_USAGE, "sub del takes no --dev, --mac, --keep-source, --sample, "
				 "--sample-random or --from");
	if (group.family != dest.family)
		return cli_error(EXIT_USAGE, "sub: GROUP and DEST must both be IPv4 or both IPv6");
	if (opts.sample_random && opts.sample < 2)
		return cli_error(EXIT_USAGE, "sub add: --sample-random needs --sample N with N > 1");
	for (i = 0; i < opts.nfrom; i++)
		if (from[i].family != group.family)
			return cli_error(EXIT_USAGE, "sub add: --from %s is not of GROUP's family (%s)",
					 replicast_prefix_format(&from[i], gname, sizeof(gname)),
					 group.family == AF_INET6 ? "IPv6" : "IPv4");
	if (!strcmp(verb, "add") && replicast_endpoint_is_multicast(&dest))
		return cli_error(EXIT_USAGE, "sub add: DEST %s is a multicast address; subscribers "
				 "are unicast receivers (a copy never becomes multicast again)",
				 argv[optind + 2]);
	if (opts.ifname && !if_nametoindex(opts.ifname))
		return cli_error(EXIT_FAIL, "sub add: no such interface '%s'", opts.ifname);
	replicast_endpoint_format(&group, gname, sizeof(gname));
	replicast_endpoint_format(&dest, dname, sizeof(dname));
	ret = cli_open(cli, &rc);
	if (ret)
		return ret;

	err = !strcmp(verb, "add") ? replicast_sub_add(rc, &group, &dest, &opts)
				   : replicast_sub_del(rc, &group, &dest);
	if (!err)
		ret = EXIT_OK;
	else if (err == -ESRCH)
		ret = cli_error(EXIT_FAIL, "%s is not a subscriber of group %s", dname, gname);
	else if (err == -ENOENT)
		ret = cli_error(EXIT_FAIL, "group %s does not exist; add it with "
				"'replicast group add %s'", gname, gname);
	else if (err == -EEXIST)
		ret = cli_error(EXIT_FAIL, "%s is already a subscriber of group %s", dname, gname);
	else if (err == -ENOSPC)
		ret = cli_error(EXIT_FAIL, "group %s is full: %u subscribers (the --max-subs of "
				"the first load)", gname, replicast_max_subs(rc));
	else if (err == -E2BIG)
		ret = cli_error(EXIT_FAIL, "sub add: at most %d --from prefixes per subscriber",
				REPLICAST_SUB_MAX_FROM);
	else if (err == -ENETUNREACH || err == -EHOSTUNREACH)
		ret = cli_error(EXIT_FAIL, "no route to %s%s%s", dname,
				opts.ifname ? " through " : "", opts.ifname ? opts.ifname : "");
	else
		ret = cli_lib_error(err, !strcmp(verb, "add") ? "sub add" : "sub del");
	replicast_close(rc);
	return ret;
}
