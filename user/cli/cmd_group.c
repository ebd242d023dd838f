// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast group add|del|allow|disallow|set`: groups and their policy. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

#define MAX_ALLOW 64

static const char group_usage[] =
	"Usage: replicast group add GROUP [--allow-source PREFIX]... [--max-pps N] [--max-bps N]\n"
	"                              [--ttl N] [--reverse-path strict|loose]\n"
	"       replicast group del GROUP\n"
	"       replicast group allow GROUP PREFIX\n"
	"       replicast group disallow GROUP PREFIX\n"
	"       replicast group set GROUP [--max-pps N] [--max-bps N] [--ttl N]\n"
	"                              [--reverse-path strict|loose]\n"
	"\n"
	"GROUP is the ADDR:PORT (IPv6: [ADDR]:PORT) that senders address. Packets to it\n"
	"that arrive on an attached device are copied to the group's subscribers and\n"
	"not delivered locally. 'del' also forgets the group's subscribers.\n"
	"\n"
	"A multicast GROUP is joined (IGMPv3/MLDv2) on every attached device, held by\n"
	"the kernel; the last group on that address leaves it ('replicast list' shows\n"
	"where the host is a member).\n"
	"\n"
	"Sources are denied by default: a packet from the network is fanned out only if\n"
	"its source address is in one of the group's allowed prefixes (ADDR/LEN, or ADDR\n"
	"for one host). Packets from local senders ('replicast send', the library) are\n"
	"always allowed.\n"
	"\n"
	"  --allow-source PREFIX  allow a source prefix (repeatable)\n"
	"  --max-pps N            take at most N packets per second for fan-out (0: no cap)\n"
	"  --max-bps N            take at most N bits per second for fan-out (0: no cap)\n"
	"                         (caps count datagrams: a GSO/GRO super-packet is several)\n"
	"  --ttl N                multicast groups: TTL / hop limit of the copies, 1..255\n"
	"                         (default 64). Copies of unicast groups leave with one less\n"
	"                         than they came with, and none is made at 1.\n"
	"  --reverse-path MODE    strict (default): a packet from an allowed source must arrive\n"
	"                         on the device the route back to its prefix leaves by, as\n"
	"                         'group allow' found it; loose: on any attached device\n";

/* A u64 option that may be 0 ("no cap"). */
static int parse_limit(const char *text, const char *what, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-')
		return cli_error(EXIT_USAGE, "%s '%s' is not a number (0: no cap)", what, text);
	return EXIT_OK;
}

static int parse_prefix(const char *text, struct replicast_prefix *p)
{
	if (replicast_prefix_parse(text, p))
		return cli_error(EXIT_USAGE, "PREFIX '%s' is not ADDR/LEN or ADDR (with no host "
				 "bits set beyond LEN)", text);
	return EXIT_OK;
}

/* Explains an allow/disallow error for this group and prefix. */
static int source_error(int err, const char *verb, const char *group, const char *prefix,
			const struct replicast *rc)
{
	(void)rc;
	if (err == -ENOENT)
		return cli_error(EXIT_FAIL, "group %s does not exist", group);
	if (err == -EEXIST)
		return cli_error(EXIT_FAIL, "%s is already allowed for group %s", prefix, group);
	if (err == -ESRCH)
		return cli_error(EXIT_FAIL, "%s is not allowed for group %s", prefix, group);
	if (err == -EAFNOSUPPORT)
		return cli_error(EXIT_USAGE, "%s and group %s are not the same address family",
				 prefix, group);
	if (err == -ENOSPC)
		return cli_error(EXIT_FAIL, "the allow list is full (%u prefixes per group on "
				 "average, from --max-groups at the first load)",
				 REPLICAST_SOURCES_PER_GROUP);
	return cli_error(EXIT_FAIL, "group %s: %s", verb, replicast_strerror(err));
}

enum { LIMIT_PPS = 1, LIMIT_BPS = 2 };

/* `group set` with one of the two options keeps the other as it is. */
static int keep_unset_limit(struct replicast *rc, const struct replicast_endpoint *group,
			    int given, uint64_t *pps, uint64_t *bps)
{
	char want[REPLICAST_ENDPOINT_STRLEN], have[REPLICAST_ENDPOINT_STRLEN];
	struct replicast_group_info *groups;
	int err = -ENOENT;
	size_t n, i;

	if (given == (LIMIT_PPS | LIMIT_BPS))
		return 0;
	if (replicast_groups_read(rc, &groups, &n))
		return -ENOMEM;
	replicast_endpoint_format(group, want, sizeof(want));
	for (i = 0; i < n; i++) {
		if (strcmp(want, replicast_endpoint_format(&groups[i].group, have, sizeof(have))))
			continue;
		if (!(given & LIMIT_PPS))
			*pps = groups[i].max_pps;
		if (!(given & LIMIT_BPS))
			*bps = groups[i].max_bps;
		err = 0;
	}
	replicast_groups_free(groups, n);
	return err;
}

/* --ttl N: 1..255. */
static int parse_ttl(const char *text, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < 1 || v > 255)
		return cli_error(EXIT_USAGE, "--ttl '%s' is not a TTL (1..255)", text);
	*out = (int)v;
	return EXIT_OK;
}

/* --reverse-path strict|loose: 1 strict, 2 loose (0: not given). */
static int parse_reverse_path(const char *text, int *out)
{
	if (!strcmp(text, "strict"))
		*out = 1;
	else if (!strcmp(text, "loose"))
		*out = 2;
	else
		return cli_error(EXIT_USAGE, "--reverse-path '%s' is not strict or loose", text);
	return EXIT_OK;
}

static int ttl_error(int err, const char *verb, const char *name)
{
	if (err == -EINVAL)
		return cli_error(EXIT_USAGE, "group %s: --ttl is for multicast groups; copies of "
				 "unicast group %s keep the TTL they came with, less one", verb, name);
	return cli_lib_error(err, "group set --ttl");
}

static int group_add(struct replicast *rc, const struct replicast_endpoint *group,
		     const char *name, char **allow, int nallow, uint64_t pps, uint64_t bps,
		     int limits, int ttl, int rpath)
{
	struct replicast_prefix p;
	int err, i;

	err = replicast_group_add(rc, group);
	if (err == -EEXIST)
		return cli_error(EXIT_FAIL, "group %s already exists", name);
	if (err == -ENOSPC)
		return cli_error(EXIT_FAIL, "group table is full: %u groups (the --max-groups of "
				 "the first load)", replicast_max_groups(rc));
	if (err)
		return cli_lib_error(err, "group add");
	err = limits ? replicast_group_set_limits(rc, group, pps, bps) : 0;
	if (!err && ttl && (err = replicast_group_set_ttl(rc, group, (uint8_t)ttl))) {
		replicast_group_del(rc, group);
		return ttl_error(err, "add", name);
	}
	if (!err && rpath == 2)
		err = replicast_group_set_reverse_path(rc, group, true);
	for (i = 0; !err && i < nallow; i++) {
		replicast_prefix_parse(allow[i], &p);
		err = replicast_group_allow(rc, group, &p);
		if (err == -EEXIST)
			err = 0;	/* listed twice on one line: once is what was meant */
	}
	if (err) {
		/* All or nothing: a group without its settings is not what was asked. */
		replicast_group_del(rc, group);
		return source_error(err, "add", name, i ? allow[i - 1] : "", rc);
	}
	return EXIT_OK;
}

int cmd_group(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "allow-source", required_argument, NULL, 'a' },
		{ "max-pps", required_argument, NULL, 'p' },
		{ "max-bps", required_argument, NULL, 'b' },
		{ "ttl", required_argument, NULL, 't' },
		{ "reverse-path", required_argument, NULL, 'r' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	char name[REPLICAST_ENDPOINT_STRLEN], *allow[MAX_ALLOW];
	struct replicast_endpoint group;
	struct replicast_prefix prefix;
	uint64_t pps = 0, bps = 0;
	int c, ret, err, nallow = 0, limits = 0, nargs, ttl = 0, rpath = 0;
	struct replicast *rc;
	const char *verb;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (nallow == MAX_ALLOW)
				return cli_error(EXIT_USAGE, "at most %d --allow-source per line; "
						 "add more with 'group allow'", MAX_ALLOW);
			if (parse_prefix(optarg, &prefix))
				return EXIT_USAGE;
			allow[nallow++] = optarg;
			break;
		case 'p':
			if (parse_limit(optarg, "--max-pps", &pps))
				return EXIT_USAGE;
			limits |= LIMIT_PPS;
			break;
		case 'b':
			if (parse_limit(optarg, "--max-bps", &bps))
				return EXIT_USAGE;
			limits |= LIMIT_BPS;
			break;
		case 't':
			if (parse_ttl(optarg, &ttl))
				return EXIT_USAGE;
			break;
		case 'r':
			if (parse_reverse_path(optarg, &rpath))
				return EXIT_USAGE;
			break;
		default:
			ret = cli_common_option(cli, c, group_usage);
			if (ret)
				return ret < 0 ? EXIT_USAGE : ret;
		}
	}
	if (argc - optind < 2) {
		fputs(group_usage, stderr);
		return cli_error(EXIT_USAGE, "group: expected a verb (add, del, allow, disallow, "
				 "set) and GROUP");
	}
	verb = argv[optind];
	nargs = !strcmp(verb, "allow") || !strcmp(verb, "disallow") ? 3 : 2;
	if (strcmp(verb, "add") && strcmp(verb, "del") && strcmp(verb, "allow") &&
	    strcmp(verb, "disallow") && strcmp(verb, "set"))
		return cli_error(EXIT_USAGE, "group: unknown verb '%s' (add, del, allow, "
				 "disallow, set)", verb);
	if (argc - optind != nargs)
		return cli_error(EXIT_USAGE, "group %s: expected GROUP%s", verb,
				 nargs == 3 ? " and PREFIX" : "");
	if ((nallow && strcmp(verb, "add")) ||
	    ((limits || ttl || rpath) && strcmp(verb, "add") && strcmp(verb, "set")))
		return cli_error(EXIT_USAGE, "group %s takes no --allow-source%s", verb,
				 strcmp(verb, "set") ? ", --max-pps, --max-bps, --ttl or --reverse-path"
						     : "");
	if (!strcmp(verb, "set") && !limits && !ttl && !rpath)
		return cli_error(EXIT_USAGE, "group set: give --max-pps, --max-bps, --ttl and/or "
				 "--reverse-path");
	if (cli_parse_endpoint(argv[optind + 1], "GROUP", &group))
		return EXIT_USAGE;
	if (nargs == 3 && parse_prefix(argv[optind + 2], &prefix))
		return EXIT_USAGE;
	replicast_endpoint_format(&group, name, sizeof(name));
	if (ttl && !replicast_endpoint_is_multicast(&group))
		return ttl_error(-EINVAL, verb, name);
	for (c = 0; c < nallow; c++) {
		replicast_prefix_parse(allow[c], &prefix);
		if (prefix.family != group.family)
			return cli_error(EXIT_USAGE, "%s and group %s are not the same address family",
					 allow[c], name);
	}
	ret = cli_open(cli, &rc);
	if (ret)
		return ret;
	if (!strcmp(verb, "add")) {
		ret = group_add(rc, &group, name, allow, nallow, pps, bps, limits, ttl, rpath);
	} else if (!strcmp(verb, "del")) {
		err = replicast_group_del(rc, &group);
		if (err == -ENOENT)
			ret = cli_error(EXIT_FAIL, "group %s does not exist", name);
		else if (err)
			ret = cli_lib_error(err, "group del");
	} else if (!strcmp(verb, "set")) {
		err = limits ? keep_unset_limit(rc, &group, limits, &pps, &bps) : 0;
		if (!err && limits)
			err = replicast_group_set_limits(rc, &group, pps, bps);
		if (err == -ENOENT)
			ret = cli_error(EXIT_FAIL, "group %s does not exist", name);
		else if (err)
			ret = cli_lib_error(err, "group set");
		else if (ttl && (err = replicast_group_set_ttl(rc, &group, (uint8_t)ttl)))
			ret = err == -ENOENT ? cli_error(EXIT_FAIL, "group %s does not exist", name)
					     : ttl_error(err, "set", name);
		else if (rpath && (err = replicast_group_set_reverse_path(rc, &group, rpath == 2)))
			ret = err == -ENOENT ? cli_error(EXIT_FAIL, "group %s does not exist", name)
					     : cli_lib_error(err, "group set --reverse-path");
	} else {
		err = !strcmp(verb, "allow") ? replicast_group_allow(rc, &group, &prefix)
					     : replicast_group_disallow(rc, &group, &prefix);
		if (err)
			ret = source_error(err, verb, name, argv[optind + 2], rc);
	}
	replicast_close(rc);
	return ret;
}
