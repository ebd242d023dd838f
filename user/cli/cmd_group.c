// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast group add|del|allow|disallow|set|pick`: groups and their policy. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cli_lines.h"

/* The library's limit, as help text. */
#define TEXT_OF(x) #x
#define TEXT_OF_VALUE(x) TEXT_OF(x)
#define MAX_PORT_RANGE_TEXT TEXT_OF_VALUE(REPLICAST_MAX_PORT_RANGE)

static const struct opt_value rpath_values[] = {
	{ "strict", RPATH_STRICT },
	{ "loose", RPATH_LOOSE },
	{ NULL, 0 },
};

static const struct opt_value mode_values[] = {
	{ "replicate", MODE_REPLICATE },
	{ "balance", MODE_BALANCE },
	{ NULL, 0 },
};

static const struct opt_value hash_values[] = {
	{ "source", HASH_SOURCE },
	{ "flow", HASH_FLOW },
	{ NULL, 0 },
};

/* The settings `group add` and `group set` share. */
#define GROUP_SETTINGS							\
	OPT_U64_ROW(struct group_line, "max-pps", max_pps, "N", "no cap",	\
		    "take at most N packets per second for fan-out"),		\
	OPT_U64_ROW(struct group_line, "max-bps", max_bps, "N", "no cap",	\
		    "take at most N bits per second for fan-out (caps count "	\
		    "datagrams: a GSO/GRO super-packet is several)"),		\
	OPT_U32_ROW(struct group_line, "ttl", ttl, "N", 1, 255,		\
		    "multicast groups: TTL / hop limit of the copies. Copies "	\
		    "of unicast groups leave with one less than they came "	\
		    "with, and none is made at 1.", .def = REPLICAST_DEFAULT_TTL, \
		    .noun = "a TTL"),						\
	OPT_ENUM_ROW(struct group_line, "reverse-path", reverse_path, "MODE",	\
		     rpath_values, "strict (default): a packet from an allowed "	\
		     "source must arrive on the device the route back to its "	\
		     "prefix leaves by, as 'group allow' found it; loose: on any " \
		     "attached device"),						\
	OPT_ENUM_ROW(struct group_line, "mode", mode, "MODE", mode_values,	\
		     "replicate (default): a copy to every subscriber; balance: " \
		     "each packet to one ON subscriber, chosen by --hash, and a " \
		     "subscriber added, removed or switched off moves only its " \
		     "own share"),						\
	OPT_ENUM_ROW(struct group_line, "hash", hash, "HASH", hash_values,	\
		     "what --mode balance chooses by: source (default), the "	\
		     "source address, so that one exporter's packets all reach " \
		     "one collector; flow: addresses and ports")

static const struct opt_def group_add_opts[] = {
	OPT_PREFIXES_ROW(struct group_line, "allow-source", allow, "PREFIX",
			 "allow a source prefix"),
	GROUP_SETTINGS,
	OPT_END,
};

static const struct opt_def group_set_opts[] = {
	GROUP_SETTINGS,
	OPT_END,
};

static const struct opt_arg group_args[] = {
	{ "GROUP", OPT_C_GROUP },
	{ NULL, 0 },
};

static const struct opt_arg new_group_args[] = {
	{ "GROUP", OPT_C_NONE },
	{ NULL, 0 },
};

static const struct opt_arg allow_args[] = {
	{ "GROUP", OPT_C_GROUP },
	{ "PREFIX", OPT_C_NONE },
	{ NULL, 0 },
};

static const struct opt_arg disallow_args[] = {
	{ "GROUP", OPT_C_GROUP },
	{ "PREFIX", OPT_C_SOURCE },
	{ NULL, 0 },
};

const struct opt_cmd opt_cmd_group_add = {
	.name = "add", .path = "group add", .parent = &opt_cmd_group,
	.args = new_group_args, .min_args = 1,
	.opts = group_add_opts,
	.summary = "start replicating packets sent to GROUP",
};

const struct opt_cmd opt_cmd_group_del = {
	.name = "del", .path = "group del", .parent = &opt_cmd_group,
	.args = group_args, .min_args = 1,
	.summary = "stop, and forget its subscribers",
};

const struct opt_cmd opt_cmd_group_allow = {
	.name = "allow", .path = "group allow", .parent = &opt_cmd_group,
	.args = allow_args, .min_args = 2,
	.summary = "let sources in PREFIX send to GROUP from the network",
};

const struct opt_cmd opt_cmd_group_disallow = {
	.name = "disallow", .path = "group disallow", .parent = &opt_cmd_group,
	.args = disallow_args, .min_args = 2,
	.summary = "stop allowing PREFIX",
};

const struct opt_cmd opt_cmd_group_set = {
	.name = "set", .path = "group set", .parent = &opt_cmd_group,
	.args = group_args, .min_args = 1,
	.opts = group_set_opts,
	.summary = "change GROUP's caps, copies' TTL, reverse path, mode",
};

static const struct opt_arg pick_args[] = {
	{ "GROUP", OPT_C_GROUP },
	{ "SOURCE", OPT_C_NONE },
	{ NULL, 0 },
};

const struct opt_cmd opt_cmd_group_pick = {
	.name = "pick", .path = "group pick", .parent = &opt_cmd_group,
	.args = pick_args, .min_args = 2,
	.summary = "say which subscriber of balance GROUP gets SOURCE's packets",
};

static const struct opt_cmd *const group_verbs[] = {
	&opt_cmd_group_add, &opt_cmd_group_del, &opt_cmd_group_allow, &opt_cmd_group_disallow,
	&opt_cmd_group_set, &opt_cmd_group_pick, NULL,
};

const struct opt_cmd opt_cmd_group = {
	.name = "group",
	.path = "group",
	.verbs = group_verbs,
	.text = "GROUP is the ADDR:PORT (IPv6: [ADDR]:PORT) that senders address. Packets to it\n"
		"that arrive on an attached device are copied to the group's subscribers and\n"
		"not delivered locally. 'del' also forgets the group's subscribers.\n"
		"\n"
		"GROUP may be a port range, ADDR:FIRST-LAST (at most " MAX_PORT_RANGE_TEXT " ports): one\n"
		"group, one set of subscribers, counters, caps and allow list for every port in\n"
		"it. Each port takes one of the --max-groups entries. A range may not overlap\n"
		"another group. Other verbs name it by its range or by any of its ports. A\n"
		"copy keeps the port its packet was sent to unless the subscriber names one.\n"
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
		"--mode balance sends each packet to one ON subscriber instead of all: the\n"
		"winner of rendezvous hashing over the subscribers' addresses and ports, by the\n"
		"source address (--hash source) or by addresses and ports (--hash flow). 'pick'\n"
		"says who wins SOURCE (ADDR, or ADDR:PORT for --hash flow), as the kernel does.\n",
};

static int ttl_error(int err, const char *verb, const char *name)
{
	if (err == -EINVAL)
		return cli_error(EXIT_USAGE, "group %s: --ttl is for multicast groups; copies of "
				 "unicast group %s keep the TTL they came with, less one", verb, name);
	return cli_lib_error(err, "group set --ttl");
}

/* `group pick`'s SOURCE: ADDR:PORT ([ADDR]:PORT), or an address alone
 * (port 0), which is all --hash source looks at. */
static int pick_source(const char *text, struct replicast_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (!replicast_endpoint_parse(text, ep))
		return 0;
	if (inet_pton(AF_INET, text, &ep->addr.v4) == 1) {
		ep->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &ep->addr.v6) == 1) {
		ep->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

void group_line_free(struct group_line *g)
{
	if (g->verb)
		opt_free(g->verb, g);
}

int group_line_parse(enum opt_source src, int n, char **words, struct cli *cli,
		     struct group_line *g, bool *help)
{
	struct opt_parsed p;
	size_t i;
	int at, ret;

	*help = false;
	g->verb = opt_find_verb(&opt_cmd_group, n, words, &at);
	if (!g->verb) {
		/* group --help, with no verb */
		for (i = 1; at < 0 && i < (size_t)n; i++)
			if (src == OPT_ARGV && (!strcmp(words[i], "--help") || !strcmp(words[i], "-h"))) {
				opt_print_help(stdout, &opt_cmd_group);
				*help = true;
				return EXIT_OK;
			}
		if (at < 0) {
			if (src == OPT_ARGV)
				opt_print_usage(stderr, &opt_cmd_group);
			return cli_error(EXIT_USAGE, "group: expected a verb (add, del, allow, "
					 "disallow, set, pick) and GROUP");
		}
		return cli_error(EXIT_USAGE, "group: unknown verb '%s' (add, del, allow, "
				 "disallow, set, pick)", words[at]);
	}
	/* The verb's own words, without it: options may come before it. */
	{
		char *rest[n];
		int k = 0, w;

		for (w = 0; w < n; w++)
			if (w != at)
				rest[k++] = words[w];
		ret = opt_parse(g->verb, src, k, rest, cli, g, &p);
	}
	*help = p.help;
	if (ret || p.help)
		return ret;
	g->has_pps = opt_given(&p, "max-pps");
	g->has_bps = opt_given(&p, "max-bps");
	if (g->verb == &opt_cmd_group_set && !g->has_pps && !g->has_bps && !g->ttl &&
	    !g->reverse_path && !g->mode && !g->hash) {
		ret = cli_error(EXIT_USAGE, "group set: give --max-pps, --max-bps, --ttl, "
				"--reverse-path, --mode and/or --hash");
		goto fail;
	}
	ret = opt_group(g->verb, p.args[0], &g->group, &g->port_last);
	if (ret)
		goto fail;
	replicast_range_format(&g->group, g->port_last, g->name, sizeof(g->name));
	if (p.nargs > 1 && g->verb == &opt_cmd_group_pick) {
		g->prefix_text = p.args[1];
		if (pick_source(p.args[1], &g->source) || g->source.family != g->group.family) {
			ret = cli_error(EXIT_USAGE, "group pick: SOURCE '%s' is not an address (or "
					"ADDR:PORT) of group %s's family", p.args[1], g->name);
			goto fail;
		}
	} else if (p.nargs > 1) {
		g->prefix_text = p.args[1];
		if (replicast_prefix_parse(p.args[1], &g->prefix)) {
			ret = cli_error(EXIT_USAGE, "%s: PREFIX '%s' is not ADDR/LEN or ADDR (with no "
					"host bits set beyond LEN)", g->verb->path, p.args[1]);
			goto fail;
		}
	}
	if (g->ttl && !replicast_endpoint_is_multicast(&g->group)) {
		ret = ttl_error(-EINVAL, g->verb->name, g->name);
		goto fail;
	}
	for (i = 0; i < g->allow.n; i++) {
		char text[REPLICAST_PREFIX_STRLEN];

		if (g->allow.v[i].family == g->group.family)
			continue;
		ret = cli_error(EXIT_USAGE, "%s: --allow-source '%s' and group %s are not the same "
				"address family", g->verb->path,
				replicast_prefix_format(&g->allow.v[i], text, sizeof(text)), g->name);
		goto fail;
	}
	return EXIT_OK;
fail:
	group_line_free(g);
	return ret;
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
	/* group is the group's first port (find_group), as the list has it. */
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

/* A verb on an existing group: GROUP names it by any of its ports, or by
 * its whole range, never by another range; g is made the group's own
 * (first port, last port, name) so every call and message says it so. */
static int find_group(struct replicast *rc, struct group_line *g)
{
	char have[REPLICAST_RANGE_STRLEN];
	/* GROUP's text was a range: it must be the group's own. */
	bool range = g->port_last > g->group.port;
	uint16_t first, last;
	int err;

	err = replicast_group_ports(rc, &g->group, &first, &last);
	if (err == -ENOENT)
		return cli_error(EXIT_FAIL, "group %s does not exist", g->name);
	if (err)
		return cli_lib_error(err, g->verb->path);
	replicast_range_format(&(struct replicast_endpoint){ .family = g->group.family,
							     .addr = g->group.addr, .port = first },
			       last, have, sizeof(have));
	if (range && (g->port_last != last || g->group.port != first))
		return cli_error(EXIT_FAIL, "group %s does not exist (port %u is in group %s)",
				 g->name, first, have);
	g->group.port = first;
	g->port_last = last;
	memcpy(g->name, have, sizeof(have));
	return EXIT_OK;
}

static enum replicast_group_mode lib_mode(int mode, enum replicast_group_mode keep)
{
	return mode == MODE_BALANCE ? REPLICAST_MODE_BALANCE
	       : mode == MODE_REPLICATE ? REPLICAST_MODE_REPLICATE : keep;
}

static enum replicast_balance_hash lib_hash(int hash, enum replicast_balance_hash keep)
{
	return hash == HASH_FLOW ? REPLICAST_HASH_FLOW
	       : hash == HASH_SOURCE ? REPLICAST_HASH_SOURCE : keep;
}

/* The running group, as the list has it (GROUP by its first port, as
 * find_group() leaves it), or NULL (*groups to be freed either way). */
static const struct replicast_group_info *running_group(struct replicast *rc,
						     const struct replicast_endpoint *group,
						     struct replicast_group_info **groups, size_t *n)
{
	size_t i;

	*groups = NULL;
	*n = 0;
	if (replicast_groups_read(rc, groups, n))
		return NULL;
	for (i = 0; i < *n; i++)
		if (replicast_endpoint_equal(&(*groups)[i].group, group))
			return &(*groups)[i];
	return NULL;
}

/* `group set --mode` or `--hash` alone keeps the other as it is. */
static int set_mode(struct replicast *rc, const struct group_line *g)
{
	struct replicast_group_info *groups;
	const struct replicast_group_info *have;
	size_t n;
	int err = -ENOENT;

	have = running_group(rc, &g->group, &groups, &n);
	if (have)
		err = replicast_group_set_mode(rc, &g->group, lib_mode(g->mode, have->mode),
					       lib_hash(g->hash, have->hash));
	replicast_groups_free(groups, n);
	return err;
}

/* `group pick GROUP SOURCE`: the subscriber that SOURCE's packets go to. */
static int group_pick(struct replicast *rc, const struct group_line *g)
{
	char dest[REPLICAST_ENDPOINT_STRLEN];
	struct replicast_group_info *groups;
	const struct replicast_group_info *have;
	size_t n, at = 0;
	int err, ret = EXIT_OK;

	have = running_group(rc, &g->group, &groups, &n);
	if (!have) {
		ret = cli_error(EXIT_FAIL, "group %s does not exist", g->name);
	} else if (have->mode != REPLICAST_MODE_BALANCE) {
		ret = cli_error(EXIT_FAIL, "group %s replicates: every subscriber gets %s's packets "
				"(pick is for --mode balance)", g->name, g->prefix_text);
	} else if ((err = replicast_balance_pick(have, &g->source, &at))) {
		ret = err == -ENOENT ? cli_error(EXIT_FAIL, "group %s has no subscriber on", g->name)
				     : cli_lib_error(err, "group pick");
	} else {
		printf("%s\n", replicast_endpoint_format(&have->subs[at].dest, dest, sizeof(dest)));
	}
	replicast_groups_free(groups, n);
	return ret;
}

static int group_add(struct replicast *rc, const struct group_line *g)
{
	unsigned int nports = g->port_last - g->group.port + 1;
	size_t i;
	int err;

	err = replicast_group_add_range(rc, &g->group, g->port_last);
	if (err == -EEXIST && nports > 1)
		return cli_error(EXIT_FAIL, "group %s overlaps a group that exists: a port of the "
				 "range is a group, or in a range, already ('replicast list')", g->name);
	if (err == -EEXIST)
		return cli_error(EXIT_FAIL, "group %s already exists", g->name);
	if (err == -ENOSPC && nports > 1)
		return cli_error(EXIT_FAIL, "group table has no room for %u ports: each port of a "
				 "range takes one of the %u groups (the --max-groups of the first "
				 "load)", nports, replicast_max_groups(rc));
	if (err == -ENOSPC)
		return cli_error(EXIT_FAIL, "group table is full: %u groups (the --max-groups of "
				 "the first load)", replicast_max_groups(rc));
	if (err)
		return cli_lib_error(err, "group add");
	err = g->has_pps || g->has_bps ? replicast_group_set_limits(rc, &g->group, g->max_pps,
								     g->max_bps) : 0;
	if (!err && g->ttl && (err = replicast_group_set_ttl(rc, &g->group, (uint8_t)g->ttl))) {
		replicast_group_del(rc, &g->group);
		return ttl_error(err, "add", g->name);
	}
	if (!err && g->reverse_path == RPATH_LOOSE)
		err = replicast_group_set_reverse_path(rc, &g->group, true);
	if (!err && (g->mode || g->hash))
		err = replicast_group_set_mode(rc, &g->group, lib_mode(g->mode, REPLICAST_MODE_REPLICATE),
					       lib_hash(g->hash, REPLICAST_HASH_SOURCE));
	for (i = 0; !err && i < g->allow.n; i++)
		err = replicast_group_allow(rc, &g->group, &g->allow.v[i]);
	if (err) {
		char text[REPLICAST_PREFIX_STRLEN] = "";

		/* All or nothing: a group without its settings is not what was asked. */
		replicast_group_del(rc, &g->group);
		if (i)
			replicast_prefix_format(&g->allow.v[i - 1], text, sizeof(text));
		return source_error(err, "add", g->name, text, rc);
	}
	return EXIT_OK;
}

static int group_set(struct replicast *rc, const struct group_line *g)
{
	uint64_t pps = g->max_pps, bps = g->max_bps;
	int given = (g->has_pps ? LIMIT_PPS : 0) | (g->has_bps ? LIMIT_BPS : 0), err;

	err = given ? keep_unset_limit(rc, &g->group, given, &pps, &bps) : 0;
	if (!err && given)
		err = replicast_group_set_limits(rc, &g->group, pps, bps);
	if (err == -ENOENT)
		return cli_error(EXIT_FAIL, "group %s does not exist", g->name);
	if (err)
		return cli_lib_error(err, "group set");
	if (g->ttl && (err = replicast_group_set_ttl(rc, &g->group, (uint8_t)g->ttl)))
		return err == -ENOENT ? cli_error(EXIT_FAIL, "group %s does not exist", g->name)
				      : ttl_error(err, "set", g->name);
	if (g->reverse_path &&
	    (err = replicast_group_set_reverse_path(rc, &g->group, g->reverse_path == RPATH_LOOSE)))
		return err == -ENOENT ? cli_error(EXIT_FAIL, "group %s does not exist", g->name)
				      : cli_lib_error(err, "group set --reverse-path");
	if ((g->mode || g->hash) && (err = set_mode(rc, g)))
		return err == -ENOENT ? cli_error(EXIT_FAIL, "group %s does not exist", g->name)
				      : cli_lib_error(err, "group set --mode");
	return EXIT_OK;
}

int cmd_group(struct cli *cli, int argc, char **argv)
{
	struct group_line g = {};
	struct replicast *rc;
	bool help;
	int ret, err;

	ret = group_line_parse(OPT_ARGV, argc, argv, cli, &g, &help);
	if (ret || help)
		return ret;
	ret = cli_open(cli, &rc);
	if (ret) {
		group_line_free(&g);
		return ret;
	}
	if (g.verb == &opt_cmd_group_add) {
		ret = group_add(rc, &g);
	} else if ((ret = find_group(rc, &g))) {
		/* said */
	} else if (g.verb == &opt_cmd_group_del) {
		err = replicast_group_del(rc, &g.group);
		if (err == -ENOENT)
			ret = cli_error(EXIT_FAIL, "group %s does not exist", g.name);
		else if (err)
			ret = cli_lib_error(err, "group del");
	} else if (g.verb == &opt_cmd_group_set) {
		ret = group_set(rc, &g);
	} else if (g.verb == &opt_cmd_group_pick) {
		ret = group_pick(rc, &g);
	} else {
		err = g.verb == &opt_cmd_group_allow ? replicast_group_allow(rc, &g.group, &g.prefix)
						     : replicast_group_disallow(rc, &g.group, &g.prefix);
		if (err)
			ret = source_error(err, g.verb->name, g.name, g.prefix_text, rc);
	}
	replicast_close(rc);
	group_line_free(&g);
	return ret;
}
