// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A configuration file read into the model of cli_config.h. Its load,
 * group add and sub add lines are parsed by the same functions the commands
 * use (cli_lines.h), so a line means in a file what it means on the command
 * line or under -batch; only what a file is (what should exist, in order)
 * is checked here. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cli_config.h"
#include "cli_lines.h"

struct parser {
	const char *file;
	int line;
	struct conf *conf;
};

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One error line; cli_where names the file and line. */
static int bad(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cli_error(EXIT_FAIL, "%s", msg);
}

static int parse_load(struct parser *p, char **words, int n)
{
	struct conf *c = p->conf;
	struct load_line l = {};
	bool help;

	if (c->has_load)
		return bad("a second load line (the first is line %d)", c->load_line);
	if (load_line_parse(OPT_FILE, n, words, NULL, &l, &help))
		return -1;
	c->has_load = true;
	c->load_line = p->line;
	/* The model takes the list over. */
	c->devs = l.devs.v;
	c->ndevs = l.devs.n;
	c->max_groups = l.max_groups;
	c->max_subs = l.max_subs;
	c->upgrade = l.upgrade;
	if (l.no_inject) {
		c->inject = CONF_INJECT_NONE;
	} else if (l.inject_dev[0]) {
		c->inject = CONF_INJECT_NAMED;
		memcpy(c->inject_dev, l.inject_dev, IF_NAMESIZE);
	}
	return 0;
}

static int parse_group(struct parser *p, char **words, int n)
{
	struct conf *c = p->conf;
	struct conf_group g = { .line = p->line }, *grown, *dup;
	struct group_line l = {};
	bool help;

	if (n < 2 || strcmp(words[1], "add"))
		return bad("'group %s' does not belong in a configuration file, which lists "
			   "what should exist: only 'group add' lines (apply removes the groups "
			   "the file leaves out)", n < 2 ? "" : words[1]);
	if (group_line_parse(OPT_FILE, n, words, NULL, &l, &help))
		return -1;
	g.group = l.group;
	g.port_last = l.port_last;
	/* The model takes the list over. */
	g.opts.sources = l.allow.v;
	g.opts.nsources = l.allow.n;
	g.opts.max_pps = l.max_pps;
	g.opts.max_bps = l.max_bps;
	/* Saying the default is the same as saying nothing. */
	g.opts.ttl = l.ttl == REPLICAST_DEFAULT_TTL ? 0 : l.ttl;
	g.opts.loose = l.reverse_path == RPATH_LOOSE;
	g.opts.balance = l.mode == MODE_BALANCE;
	g.opts.hash_flow = l.hash == HASH_FLOW;
	dup = conf_group_at(c, &g.group, g.port_last);
	if (dup && conf_find_group(c, &g.group, g.port_last)) {
		bad("group %s is added already on line %d", l.name, dup->line);
		goto fail;
	}
	if (dup) {
		char other[REPLICAST_RANGE_STRLEN];

		bad("group %s overlaps group %s of line %d: a port belongs to one group", l.name,
		    conf_group_name(dup, other, sizeof(other)), dup->line);
		goto fail;
	}
	if (c->ngroups == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 16;
		grown = realloc(c->groups, c->cap * sizeof(*grown));
		if (!grown) {
			bad("out of memory");
			goto fail;
		}
		c->groups = grown;
	}
	c->groups[c->ngroups++] = g;
	return 0;
fail:
	conf_group_opts_free(&g.opts);
	return -1;
}

static int parse_sub(struct parser *p, char **words, int n)
{
	struct conf_sub s = { .line = p->line }, *grown, *dup;
	char gname[REPLICAST_RANGE_STRLEN], dname[REPLICAST_ENDPOINT_STRLEN];
	struct sub_line l = {};
	struct conf_group *g;
	bool help;

	if (n < 2 || strcmp(words[1], "add"))
		return bad("'sub %s' does not belong in a configuration file, which lists what "
			   "should exist: only 'sub add' lines (apply removes the subscribers the "
			   "file leaves out)", n < 2 ? "" : words[1]);
	if (sub_line_parse(OPT_FILE, n, words, NULL, &l, &help)) {
		sub_line_free(&l);
		return -1;
	}
	s.dest = l.dest;
	memcpy(s.dev, l.dev, IF_NAMESIZE);
	s.has_mac = l.has_mac;
	memcpy(s.mac, l.mac, sizeof(s.mac));
	s.keep_source = l.keep_source;
	s.sample = l.sample;
	s.sample_random = l.sample_random;
	s.health_s = l.health;
	s.nfrom = l.from.n;
	if (s.nfrom)
		memcpy(s.from, l.from.v, s.nfrom * sizeof(*s.from));
	sub_line_free(&l);
	replicast_range_format(&l.group, l.group_last, gname, sizeof(gname));
	conf_dest_name(&l.dest, dname, sizeof(dname));
	/* By its range, or by any port of it. */
	g = l.group_last > l.group.port ? conf_find_group(p->conf, &l.group, l.group_last)
					: conf_group_at(p->conf, &l.group, 0);
	if (!g)
		return bad("sub add: group %s has no 'group add' line above this one", gname);
	if (!s.dest.port && g->port_last == g->group.port)
		return bad("sub add: DEST %s has no port: only the subscribers of a port range "
			   "may keep each packet's own; give DEST as ADDR:PORT", dname);
	dup = conf_find_sub(g, &s.dest);
	if (dup)
		return bad("sub add: %s is a subscriber of %s already on line %d", dname, gname,
			   dup->line);
	if (g->nsubs == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 16;
		grown = realloc(g->subs, g->cap * sizeof(*grown));
		if (!grown)
			return bad("out of memory");
		g->subs = grown;
	}
	g->subs[g->nsubs++] = s;
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	static const char *const others[] = {
		"unload", "list", "stats", "save", "apply", "send", "agent", "fleet", NULL,
	};
	char *words[CONF_MAX_WORDS];
	const char *why;
	int n, i;

	n = conf_split_line(line, words, CONF_MAX_WORDS, &why);
	if (n < 0)
		return bad("%s", why);
	if (n == 0)
		return 0;
	if (!strcmp(words[0], "load"))
		return parse_load(p, words, n);
	if (!strcmp(words[0], "group"))
		return parse_group(p, words, n);
	if (!strcmp(words[0], "sub"))
		return parse_sub(p, words, n);
	for (i = 0; others[i]; i++)
		if (!strcmp(words[0], others[i]))
			return bad("'%s' does not belong in a configuration file (load, group add "
				   "and sub add lines only); 'replicast -batch FILE' runs any command",
				   words[0]);
	return bad("unknown command '%s' (a configuration has load, group add and sub add "
		   "lines)", words[0]);
}

int conf_parse(FILE *f, const char *name, struct conf *conf)
{
	struct parser p = { .file = name, .conf = conf };
	char *line = NULL, outer[CLI_WHERE_LEN];
	size_t cap = 0, col;
	ssize_t len;
	int ret = EXIT_OK;

	memset(conf, 0, sizeof(*conf));
	/* Messages name the file and line, after where the command reading
	 * the file came from (a -batch line running apply). */
	snprintf(outer, sizeof(outer), "%s", cli_where);
	errno = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		p.line++;
		if (snprintf(cli_where, CLI_WHERE_LEN, "%s%s:%d: ", outer, name, p.line) >=
		    CLI_WHERE_LEN)
			cli_where[CLI_WHERE_LEN - 1] = '\0';	/* cut, as any long name is */
		/* A NUL would end the line where it stands and the rest would
		 * be dropped unseen: refuse the file instead. */
		if (conf_line_nul(line, (size_t)len, &col)) {
			ret = bad("a NUL byte at column %zu; a configuration file is text (nothing "
				  "was applied)", col);
			break;
		}
		if (parse_line(&p, line)) {
			ret = EXIT_FAIL;
			break;
		}
	}
	snprintf(cli_where, CLI_WHERE_LEN, "%s", outer);
	if (ret == EXIT_OK && ferror(f))
		ret = cli_error(EXIT_FAIL, "reading %s: %s", name, strerror(errno ? errno : EIO));
	free(line);
	if (ret)
		conf_free(conf);
	return ret;
}
