// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast sub add|del GROUP DEST`. */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include "cli.h"
#include "cli_lines.h"

/* The library's limit, as help text. */
#define TEXT_OF(x) #x
#define TEXT_OF_VALUE(x) TEXT_OF(x)
#define SUB_MAX_FROM_TEXT TEXT_OF_VALUE(REPLICAST_SUB_MAX_FROM)

static const struct opt_def sub_add_opts[] = {
	OPT_IFNAME_ROW(struct sub_line, "dev", dev, "IFNAME",
		       "send through IFNAME (the route must allow it)"),
	OPT_MAC_ROW(struct sub_line, "mac", mac, "MAC",
		    "next hop's MAC (aa:bb:cc:dd:ee:ff); skips the neighbour table"),
	OPT_FLAG_ROW(struct sub_line, "keep-source", 0, keep_source,
		     "copies keep the original sender's source address"),
	OPT_U32_ROW(struct sub_line, "sample", sample, "N", 1, UINT32_MAX,
		    "one packet in N: DEST's 1st, N+1th, 2N+1th... (default 1: every one)"),
	OPT_FLAG_ROW(struct sub_line, "sample-random", 0, sample_random,
		     "with --sample N: one in N at random instead"),
	OPT_PREFIXES_ROW(struct sub_line, "from", from, "PREFIX",
			 "only packets whose source is in PREFIX (ADDR[/LEN]; up to "
			 SUB_MAX_FROM_TEXT "); the rest count as skipped"),
	OPT_U32_ROW(struct sub_line, "health", health, "SECONDS", 1, REPLICAST_HEALTH_MAX_S,
		    "hold DEST off after SECONDS of nothing but ICMP unreachable errors; "
		    "probe it once a second until it stops erroring"),
	OPT_END,
};

static const struct opt_arg sub_add_args[] = {
	{ "GROUP", OPT_C_GROUP },
	{ "DEST", OPT_C_NONE },
	{ NULL, 0 },
};

static const struct opt_arg sub_del_args[] = {
	{ "GROUP", OPT_C_GROUP },
	{ "DEST", OPT_C_SUB },
	{ NULL, 0 },
};

const struct opt_cmd opt_cmd_sub_add = {
	.name = "add", .path = "sub add", .parent = &opt_cmd_sub,
	.args = sub_add_args, .min_args = 2,
	.opts = sub_add_opts,
	.summary = "send a copy of GROUP's packets to DEST",
};

const struct opt_cmd opt_cmd_sub_del = {
	.name = "del", .path = "sub del", .parent = &opt_cmd_sub,
	.args = sub_del_args, .min_args = 2,
	.summary = "stop sending to DEST",
};

static const struct opt_cmd *const sub_verbs[] = { &opt_cmd_sub_add, &opt_cmd_sub_del, NULL };

const struct opt_cmd opt_cmd_sub = {
	.name = "sub",
	.path = "sub",
	.verbs = sub_verbs,
	.text = "Adds DEST (ADDR:PORT, IPv6 as [ADDR]:PORT) to GROUP's subscribers, or removes it.\n"
		"For a port range GROUP (ADDR:FIRST-LAST), DEST may be a bare ADDR: each copy then\n"
		"keeps the port the packet was sent to; ADDR:PORT sends every port's to PORT.\n"
		"Copies leave from the device the kernel routes DEST through, with that device's\n"
		"address as source and the next hop's MAC from the neighbour table, which 'add'\n"
		"resolves before it returns, so DEST gets every packet from the first.\n",
};

void sub_line_free(struct sub_line *s)
{
	if (s->verb)
		opt_free(s->verb, s);
}

int sub_line_parse(enum opt_source src, int n, char **words, struct cli *cli,
		   struct sub_line *s, bool *help)
{
	char pname[REPLICAST_PREFIX_STRLEN];
	struct opt_parsed p;
	int at, i, ret;

	*help = false;
	s->verb = opt_find_verb(&opt_cmd_sub, n, words, &at);
	if (!s->verb) {
		for (i = 1; at < 0 && i < n; i++)
			if (src == OPT_ARGV && (!strcmp(words[i], "--help") || !strcmp(words[i], "-h"))) {
				opt_print_help(stdout, &opt_cmd_sub);
				*help = true;
				return EXIT_OK;
			}
		if (at < 0) {
			if (src == OPT_ARGV)
				opt_print_usage(stderr, &opt_cmd_sub);
			return cli_error(EXIT_USAGE, "sub: expected a verb (add, del), GROUP and DEST");
		}
		return cli_error(EXIT_USAGE, "sub: unknown verb '%s' (add, del)", words[at]);
	}
	{
		char *rest[n];
		int k = 0, w;

		for (w = 0; w < n; w++)
			if (w != at)
				rest[k++] = words[w];
		ret = opt_parse(s->verb, src, k, rest, cli, s, &p);
	}
	*help = p.help;
	if (ret || p.help)
		return ret;
	s->has_mac = opt_given(&p, "mac");
	if (opt_group(s->verb, p.args[0], &s->group, &s->group_last) ||
	    opt_dest(s->verb, p.args[1], &s->dest))
		return EXIT_USAGE;
	if (s->group.family != s->dest.family)
		return cli_error(EXIT_USAGE, "%s: GROUP and DEST must both be IPv4 or both IPv6",
				 s->verb->path);
	if (s->from.n > REPLICAST_SUB_MAX_FROM)
		return cli_error(EXIT_USAGE, "sub add: --from: at most %d prefixes per subscriber, "
				 "not %zu", REPLICAST_SUB_MAX_FROM, s->from.n);
	for (i = 0; i < (int)s->from.n; i++)
		if (s->from.v[i].family != s->group.family)
			return cli_error(EXIT_USAGE, "sub add: --from %s is not of GROUP's family (%s)",
					 replicast_prefix_format(&s->from.v[i], pname, sizeof(pname)),
					 s->group.family == AF_INET6 ? "IPv6" : "IPv4");
	if (s->sample_random && s->sample < 2)
		return cli_error(EXIT_USAGE, "sub add: --sample-random needs --sample N with N > 1");
	if (s->verb == &opt_cmd_sub_add && replicast_endpoint_is_multicast(&s->dest))
		return cli_error(EXIT_USAGE, "sub add: DEST %s is a multicast address; subscribers "
				 "are unicast receivers (a copy never becomes multicast again)",
				 p.args[1]);
	return EXIT_OK;
}

int cmd_sub(struct cli *cli, int argc, char **argv)
{
	struct replicast_sub_opts opts = { .sz = sizeof(opts) };
	char gname[REPLICAST_RANGE_STRLEN], dname[REPLICAST_ENDPOINT_STRLEN];
	char have[REPLICAST_RANGE_STRLEN];
	struct sub_line s = {};
	struct replicast *rc;
	uint16_t first, last;
	bool help, add;
	int ret, err;

	struct replicast_prefix from[REPLICAST_SUB_MAX_FROM];

	ret = sub_line_parse(OPT_ARGV, argc, argv, cli, &s, &help);
	/* The prefixes are copied out: the line's lists go at once. */
	opts.nfrom = ret || help ? 0 : s.from.n;
	if (opts.nfrom)
		memcpy(from, s.from.v, opts.nfrom * sizeof(*from));
	sub_line_free(&s);
	if (ret || help)
		return ret;
	add = s.verb == &opt_cmd_sub_add;
	opts.ifname = s.dev[0] ? s.dev : NULL;
	opts.mac = s.has_mac ? s.mac : NULL;
	opts.keep_source = s.keep_source;
	opts.sample = s.sample;
	opts.sample_random = s.sample_random;
	opts.from = opts.nfrom ? from : NULL;
	opts.health_s = s.health;
	if (opts.ifname && !if_nametoindex(opts.ifname))
		return cli_error(EXIT_FAIL, "sub add: no such interface '%s'", opts.ifname);
	replicast_range_format(&s.group, s.group_last, gname, sizeof(gname));
	opt_dest_format(&s.dest, dname, sizeof(dname));
	ret = cli_open(cli, &rc);
	if (ret)
		return ret;

	/* GROUP by any port of a range, or by the whole range: never by
	 * another range that shares its first port. */
	err = replicast_group_ports(rc, &s.group, &first, &last);
	if (!err) {
		/* GROUP's text was a range: it must be the group's own. */
		bool range = s.group_last > s.group.port, other = s.group.port != first;

		s.group.port = first;
		replicast_range_format(&s.group, last, have, sizeof(have));
		if (range && (s.group_last != last || other)) {
			ret = cli_error(EXIT_FAIL, "group %s does not exist (port %u is in group %s)",
					gname, first, have);
			replicast_close(rc);
			return ret;
		}
		memcpy(gname, have, sizeof(have));
	}
	if (!err)
		err = add ? replicast_sub_add(rc, &s.group, &s.dest, &opts)
			  : replicast_sub_del(rc, &s.group, &s.dest);
	if (!err)
		ret = EXIT_OK;
	else if (err == -ESRCH)
		ret = cli_error(EXIT_FAIL, "%s is not a subscriber of group %s", dname, gname);
	else if (err == -ENOENT)
		ret = cli_error(EXIT_FAIL, "group %s does not exist; add it with "
				"'replicast group add %s'", gname, gname);
	else if (err == -EDESTADDRREQ)
		ret = cli_error(EXIT_USAGE, "sub add: DEST %s has no port: only the subscribers of a "
				"port range (GROUP ADDR:FIRST-LAST) may keep each packet's own; give "
				"DEST as ADDR:PORT", dname);
	else if (err == -EEXIST)
		ret = cli_error(EXIT_FAIL, "%s is already a subscriber of group %s", dname, gname);
	else if (err == -ENOSPC)
		ret = cli_error(EXIT_FAIL, "group %s is full: %u subscribers (the --max-subs of "
				"the first load)", gname, replicast_max_subs(rc));
	else if (err == -ENETUNREACH || err == -EHOSTUNREACH)
		ret = cli_error(EXIT_FAIL, "no route to %s%s%s", dname,
				opts.ifname ? " through " : "", opts.ifname ? opts.ifname : "");
	else
		ret = cli_lib_error(err, add ? "sub add" : "sub del");
	replicast_close(rc);
	return ret;
}
