// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Configuration files of replicast commands: splitting lines into words,
 * parsing load / group add / sub add lines into the model of cli_config.h,
 * reading the running state into the same model, and printing it back. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "cli.h"
#include "cli_config.h"

/* ---- Group options ------------------------------------------------------
 *
 * Every option a `group add` line may carry is one row here; parsing,
 * saving, comparing and applying all walk this table, so a new group
 * setting is one row (and its field in struct conf_group_opts), not a
 * change to save or apply. A row is the option's name, whether it takes a
 * value and may be repeated, and these functions:
 *   parse    one occurrence on a line (a repeatable option is parsed once
 *            per occurrence); returns NULL or what is wrong with arg
 *   read     the running group's setting, from replicast_groups_read()
 *   print    " --name VALUE" for each value away from the default
 *   differs  whether the running setting (have) must change to want
 *   apply    makes the running setting want (have is what runs now; for
 *            a group apply has just added, the defaults)
 *   free     releases what parse or read allocated (NULL: nothing)
 */
struct group_option {
	const char *name;
	bool has_arg;
	bool repeatable;
	const char *(*parse)(const char *arg, const struct replicast_endpoint *group,
			     struct conf_group_opts *o);
	int (*read)(const struct replicast_group_info *g, struct conf_group_opts *o);
	void (*print)(FILE *f, const struct conf_group_opts *o);
	bool (*differs)(const struct conf_group_opts *want, const struct conf_group_opts *have);
	int (*apply)(struct replicast *rc, const struct replicast_endpoint *group,
		     const struct conf_group_opts *want, const struct conf_group_opts *have);
	void (*free)(struct conf_group_opts *o);	/* optional */
};

/* --allow-source PREFIX: the allow list, kept sorted so that two lists
 * compare and print the same whatever order they were given or read in. */
static int compare_prefixes(const void *a, const void *b)
{
	const struct replicast_prefix *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(&x->addr, &y->addr, x->family == AF_INET6 ? 16 : 4);
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static bool has_prefix(const struct conf_group_opts *o, const struct replicast_prefix *p)
{
	return o->nsources && bsearch(p, o->sources, o->nsources, sizeof(*p), compare_prefixes);
}

static const char *sources_parse(const char *arg, const struct replicast_endpoint *group,
				 struct conf_group_opts *o)
{
	struct replicast_prefix p, *grown;

	if (replicast_prefix_parse(arg, &p))
		return "not ADDR/LEN or ADDR (with no host bits set beyond LEN)";
	if (p.family != group->family)
		return "not the group's address family";
	if (has_prefix(o, &p))
		return NULL;	/* listed twice: once is what was meant */
	grown = realloc(o->sources, (o->nsources + 1) * sizeof(*grown));
	if (!grown)
		return "out of memory";
	o->sources = grown;
	o->sources[o->nsources++] = p;
	qsort(o->sources, o->nsources, sizeof(p), compare_prefixes);
	return NULL;
}

static int sources_read(const struct replicast_group_info *g, struct conf_group_opts *o)
{
	o->sources = calloc(g->nsources ? g->nsources : 1, sizeof(*o->sources));
	if (!o->sources)
		return -ENOMEM;
	if (g->nsources)	/* g->sources may be NULL then */
		memcpy(o->sources, g->sources, g->nsources * sizeof(*o->sources));
	o->nsources = g->nsources;
	qsort(o->sources, o->nsources, sizeof(*o->sources), compare_prefixes);
	return 0;
}

static void sources_print(FILE *f, const struct conf_group_opts *o)
{
	char buf[REPLICAST_PREFIX_STRLEN];
	size_t i;

	for (i = 0; i < o->nsources; i++)
		fprintf(f, " --allow-source %s", replicast_prefix_format(&o->sources[i], buf,
									  sizeof(buf)));
}

static bool sources_differ(const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	size_t i;

	if (want->nsources != have->nsources)
		return true;
	for (i = 0; i < want->nsources; i++)
		if (compare_prefixes(&want->sources[i], &have->sources[i]))
			return true;
	return false;
}

/* Allows the new prefixes before it disallows the old: meanwhile the list is
 * the union of both, never less than either, so no wanted source is denied
 * for a moment. */
static int sources_apply(struct replicast *rc, const struct replicast_endpoint *group,
			 const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	size_t i;
	int err;

	for (i = 0; i < want->nsources; i++) {
		if (has_prefix(have, &want->sources[i]))
			continue;
		err = replicast_group_allow(rc, group, &want->sources[i]);
		if (err && err != -EEXIST)
			return err;
	}
	for (i = 0; i < have->nsources; i++) {
		if (has_prefix(want, &have->sources[i]))
			continue;
		err = replicast_group_disallow(rc, group, &have->sources[i]);
		if (err && err != -ESRCH)
			return err;
	}
	return 0;
}

static void sources_free(struct conf_group_opts *o)
{
	free(o->sources);
	o->sources = NULL;
	o->nsources = 0;
}

/* --max-pps N and --max-bps N: caps, 0 for none (the default). */
static const char *parse_cap(const char *arg, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-')
		return "not a number (0: no cap)";
	return NULL;
}

static const char *pps_parse(const char *arg, const struct replicast_endpoint *group,
			     struct conf_group_opts *o)
{
	(void)group;
	return parse_cap(arg, &o->max_pps);
}

static const char *bps_parse(const char *arg, const struct replicast_endpoint *group,
			     struct conf_group_opts *o)
{
	(void)group;
	return parse_cap(arg, &o->max_bps);
}

static int caps_read(const struct replicast_group_info *g, struct conf_group_opts *o)
{
	o->max_pps = g->max_pps;
	o->max_bps = g->max_bps;
	return 0;
}

static void pps_print(FILE *f, const struct conf_group_opts *o)
{
	if (o->max_pps)
		fprintf(f, " --max-pps %" PRIu64, o->max_pps);
}

static void bps_print(FILE *f, const struct conf_group_opts *o)
{
	if (o->max_bps)
		fprintf(f, " --max-bps %" PRIu64, o->max_bps);
}

static bool pps_differ(const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	return want->max_pps != have->max_pps;
}

static bool bps_differ(const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	return want->max_bps != have->max_bps;
}

/* Both caps are one setting in the library: either row sets both. */
static int caps_apply(struct replicast *rc, const struct replicast_endpoint *group,
		      const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	(void)have;
	return replicast_group_set_limits(rc, group, want->max_pps, want->max_bps);
}

/* --ttl N (multicast groups): the default is the same as not saying it. */
static const char *ttl_parse(const char *arg, const struct replicast_endpoint *group,
			     struct conf_group_opts *o)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > 255)
		return "not a TTL (1..255)";
	if (!replicast_endpoint_is_multicast(group))
		return "is for multicast groups (copies of unicast groups keep the TTL they "
		       "came with, less one)";
	o->ttl = v == REPLICAST_DEFAULT_TTL ? 0 : (unsigned int)v;
	return NULL;
}

static int ttl_read(const struct replicast_group_info *g, struct conf_group_opts *o)
{
	o->ttl = g->ttl == REPLICAST_DEFAULT_TTL ? 0 : g->ttl;
	return 0;
}

static void ttl_print(FILE *f, const struct conf_group_opts *o)
{
	if (o->ttl)
		fprintf(f, " --ttl %u", o->ttl);
}

static bool ttl_differs(const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	return want->ttl != have->ttl;
}

static int ttl_apply(struct replicast *rc, const struct replicast_endpoint *group,
		     const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	(void)have;
	return replicast_group_set_ttl(rc, group, (uint8_t)want->ttl);
}

/* --reverse-path strict|loose: strict is the default, loose is saved. */
static const char *rpath_parse(const char *arg, const struct replicast_endpoint *group,
			       struct conf_group_opts *o)
{
	(void)group;
	if (strcmp(arg, "strict") && strcmp(arg, "loose"))
		return "not strict or loose";
	o->loose = !strcmp(arg, "loose");
	return NULL;
}

static int rpath_read(const struct replicast_group_info *g, struct conf_group_opts *o)
{
	o->loose = g->reverse_path_loose;
	return 0;
}

static void rpath_print(FILE *f, const struct conf_group_opts *o)
{
	if (o->loose)
		fprintf(f, " --reverse-path loose");
}

static bool rpath_differs(const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	return want->loose != have->loose;
}

static int rpath_apply(struct replicast *rc, const struct replicast_endpoint *group,
		       const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	(void)have;
	return replicast_group_set_reverse_path(rc, group, want->loose);
}

static const struct group_option group_options[] = {
	{ "allow-source", true, true, sources_parse, sources_read, sources_print, sources_differ,
	  sources_apply, sources_free },
	{ "max-pps", true, false, pps_parse, caps_read, pps_print, pps_differ, caps_apply, NULL },
	{ "max-bps", true, false, bps_parse, caps_read, bps_print, bps_differ, caps_apply, NULL },
	{ "ttl", true, false, ttl_parse, ttl_read, ttl_print, ttl_differs, ttl_apply, NULL },
	{ "reverse-path", true, false, rpath_parse, rpath_read, rpath_print, rpath_differs,
	  rpath_apply, NULL },
	{ .name = NULL },
};

static void conf_group_opts_free(struct conf_group_opts *o)
{
	const struct group_option *opt;

	for (opt = group_options; opt->name; opt++)
		if (opt->free)
			opt->free(o);
}

bool conf_group_opts_differ(const struct conf_group_opts *want, const struct conf_group_opts *have)
{
	const struct group_option *o;

	for (o = group_options; o->name; o++)
		if (o->differs(want, have))
			return true;
	return false;
}

int conf_group_opts_apply(struct replicast *rc, const struct replicast_endpoint *group,
			  const struct conf_group_opts *want, const struct conf_group_opts *have,
			  const char **what)
{
	const struct group_option *o;
	int err;

	for (o = group_options; o->name; o++) {
		if (!o->differs(want, have))
			continue;
		err = o->apply(rc, group, want, have);
		if (err) {
			*what = o->name;
			return err;
		}
	}
	return 0;
}

/* ---- Words -------------------------------------------------------------- */

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int conf_split_line(char *line, char **words, int max, const char **why)
{
	char *in = line, *out = line;
	int n = 0;

	for (;;) {
		char quote = 0;

		while (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\n')
			in++;
		if (!*in || *in == '#')
			return n;
		if (n == max) {
			*why = "too many words on one line";
			return -1;
		}
		/* The word is rebuilt at out, which never passes in: quotes and
		 * backslashes only ever shorten it. */
		words[n++] = out;
		for (; *in; in++) {
			if (quote) {
				if (*in == quote) {
					quote = 0;
				} else if (*in == '\\' && quote == '"' && in[1] == 'x' &&
					   hex(in[2]) >= 0 && hex(in[3]) >= 0) {
					/* \xHH: a byte save wrote escaped, so that
					 * no device name reaches a terminal raw. */
					int b = hex(in[2]) << 4 | hex(in[3]);

					if (!b) {
						*why = "\\x00 in a word (a NUL byte ends any name)";
						return -1;
					}
					*out++ = (char)b;
					in += 3;
				} else if (*in == '\\' && quote == '"' && in[1]) {
					*out++ = *++in;
				} else {
					*out++ = *in;
				}
			} else if (*in == '\'' || *in == '"') {
				quote = *in;
			} else if (*in == '\\' && in[1]) {
				*out++ = *++in;
			} else if (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\n') {
				break;
			} else {
				*out++ = *in;
			}
		}
		if (quote) {
			*why = "a quote is not closed";
			return -1;
		}
		if (*in)
			in++;
		*out++ = '\0';
	}
}

/* ---- Parsing ------------------------------------------------------------ */

struct parser {
	const char *file;
	int line;
	struct conf *conf;
};

static int bad(const struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One error line naming the file and line: "replicast: FILE:LINE: what". */
static int bad(const struct parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cli_error(EXIT_FAIL, "%s:%d: %s", p->file, p->line, msg);
}

/* Options of one line: --name, --name=VALUE or --name VALUE. */
struct line_opt {
	const char *name;
	bool has_arg;
};

/* Walks words[start..n): each option calls on_opt(index into opts, value),
 * each other word is stored in pos (at most maxpos of them). Returns the
 * number of positional words, or -1 after reporting an error. */
static int walk_words(const struct parser *p, const char *what, char **words, int n, int start,
		      const struct line_opt *opts, int (*on_opt)(const struct parser *p, int opt,
								const char *value, void *ctx),
		      void *ctx, char **pos, int maxpos)
{
	int i, npos = 0, k;
	size_t len;

	for (i = start; i < n; i++) {
		char *w = words[i], *eq, *value = NULL;

		if (strncmp(w, "--", 2) || !w[2]) {
			if (npos == maxpos)
				return bad(p, "%s: unexpected word '%s'", what, w), -1;
			pos[npos++] = w;
			continue;
		}
		/* The words stay as they are: a line may be walked twice. */
		eq = strchr(w, '=');
		len = eq ? (size_t)(eq - w - 2) : strlen(w + 2);
		if (len == 8 && !strncmp(w + 2, "pin-path", len))
			return bad(p, "--pin-path does not belong in a configuration file; give it "
				   "to the command that reads the file"), -1;
		for (k = 0; opts[k].name; k++)
			if (strlen(opts[k].name) == len && !strncmp(opts[k].name, w + 2, len))
				break;
		if (!opts[k].name)
			return bad(p, "%s: unknown option '%.*s'", what, (int)len + 2, w), -1;
		if (opts[k].has_arg) {
			if (eq)
				value = eq + 1;
			else if (i + 1 < n)
				value = words[++i];
			else
				return bad(p, "%s: %s needs a value", what, w), -1;
		} else if (eq) {
			return bad(p, "%s: --%s takes no value", what, opts[k].name), -1;
		}
		if (on_opt(p, k, value, ctx))
			return -1;
	}
	return npos;
}

/* A size up to limit (REPLICAST_MAX_*_LIMIT, what the library loads). */
static int parse_count(const struct parser *p, const char *opt, const char *text,
		       unsigned long limit, unsigned int *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v == 0 || v > 0xffffffffUL)
		return bad(p, "load: %s '%s' is not a positive number", opt, text);
	if (v > limit)
		return bad(p, "load: %s %lu is over the limit of %lu; ask for at most that",
			   opt, v, limit);
	*out = (unsigned int)v;
	return 0;
}

/* The kernel's rule for device names (dev_valid_name): 1 to 15 bytes, not
 * "." or "..", no '/', ':' or white space. */
static int valid_ifname(const char *name)
{
	const char *c;

	if (!*name || strlen(name) >= IF_NAMESIZE || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (c = name; *c; c++)
		if (*c == '/' || *c == ':' || isspace((unsigned char)*c))
			return 0;
	return 1;
}

static int parse_ifname(const struct parser *p, const char *opt, const char *text, char *out)
{
	if (!valid_ifname(text))
		return bad(p, "%s '%s' is not an interface name (1 to %d characters, no '/', "
			   "':' or spaces)", opt, text, IF_NAMESIZE - 1);
	snprintf(out, IF_NAMESIZE, "%s", text);
	return 0;
}

enum { LOAD_DEV, LOAD_MAX_GROUPS, LOAD_MAX_SUBS, LOAD_INJECT_DEV, LOAD_NO_INJECT };

static const struct line_opt load_opts[] = {
	[LOAD_DEV] = { "dev", true },
	[LOAD_MAX_GROUPS] = { "max-groups", true },
	[LOAD_MAX_SUBS] = { "max-subs", true },
	[LOAD_INJECT_DEV] = { "inject-dev", true },
	[LOAD_NO_INJECT] = { "no-inject", false },
	{ NULL, false },
};

static int on_load_opt(const struct parser *p, int opt, const char *value, void *ctx)
{
	struct conf *c = ctx;
	char name[IF_NAMESIZE], (*grown)[IF_NAMESIZE];
	size_t i;

	switch (opt) {
	case LOAD_DEV:
		if (parse_ifname(p, "load: --dev", value, name))
			return -1;
		for (i = 0; i < c->ndevs; i++)
			if (!strcmp(c->devs[i], name))
				return 0;	/* named twice: attached once */
		grown = realloc(c->devs, (c->ndevs + 1) * sizeof(*c->devs));
		if (!grown)
			return bad(p, "out of memory");
		c->devs = grown;
		memcpy(c->devs[c->ndevs++], name, IF_NAMESIZE);
		return 0;
	case LOAD_MAX_GROUPS:
		return parse_count(p, "--max-groups", value, REPLICAST_MAX_GROUPS_LIMIT,
				   &c->max_groups);
	case LOAD_MAX_SUBS:
		return parse_count(p, "--max-subs", value, REPLICAST_MAX_SUBS_LIMIT, &c->max_subs);
	case LOAD_INJECT_DEV:
		if (c->inject == CONF_INJECT_NONE)
			return bad(p, "load: --inject-dev and --no-inject contradict");
		c->inject = CONF_INJECT_NAMED;
		return parse_ifname(p, "load: --inject-dev", value, c->inject_dev);
	case LOAD_NO_INJECT:
		if (c->inject == CONF_INJECT_NAMED)
			return bad(p, "load: --inject-dev and --no-inject contradict");
		c->inject = CONF_INJECT_NONE;
		return 0;
	}
	return 0;
}

static int parse_load(struct parser *p, char **words, int n)
{
	struct conf *c = p->conf;
	char *pos[1];

	if (c->has_load)
		return bad(p, "a second load line (the first is line %d)", c->load_line);
	c->has_load = true;
	c->load_line = p->line;
	if (walk_words(p, "load", words, n, 1, load_opts, on_load_opt, c, pos, 0) < 0)
		return -1;
	return 0;
}

struct group_parse {
	const struct replicast_endpoint *group;
	struct conf_group_opts *opts;
};

static int on_group_opt(const struct parser *p, int opt, const char *value, void *ctx)
{
	struct group_parse *gp = ctx;
	const char *why;

	if ((gp->opts->given & 1U << opt) && !group_options[opt].repeatable)
		return bad(p, "group add: --%s given twice", group_options[opt].name);
	why = group_options[opt].parse(value, gp->group, gp->opts);
	if (why)
		return bad(p, "group add: --%s '%s': %s", group_options[opt].name, value, why);
	gp->opts->given |= 1U << opt;
	return 0;
}

static int skip_opt(const struct parser *p, int opt, const char *value, void *ctx)
{
	(void)p, (void)opt, (void)value, (void)ctx;
	return 0;
}

static int parse_group(struct parser *p, char **words, int n)
{
	struct line_opt opts[sizeof(group_options) / sizeof(group_options[0])];
	struct conf *c = p->conf;
	struct conf_group g = { .line = p->line }, *grown, *dup;
	struct group_parse gp = { .group = &g.group, .opts = &g.opts };
	char *pos[1];
	size_t i;
	int n_pos;

	if (n < 2 || strcmp(words[1], "add"))
		return bad(p, "'group %s' does not belong in a configuration file, which lists "
			   "what should exist: only 'group add' lines (apply removes the groups "
			   "the file leaves out)", n < 2 ? "" : words[1]);
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		opts[i].name = group_options[i].name;
		opts[i].has_arg = group_options[i].has_arg;
	}
	/* Options may be checked against the group (an allowed source's
	 * family), so the first walk only finds GROUP; the second parses. */
	n_pos = walk_words(p, "group add", words, n, 2, opts, skip_opt, NULL, pos, 1);
	if (n_pos < 0)
		return -1;
	if (n_pos == 0)
		return bad(p, "group add: GROUP is missing");
	if (replicast_endpoint_parse(pos[0], &g.group))
		return bad(p, "group add: GROUP '%s' is not ADDR:PORT or [IPV6]:PORT (port "
			   "1-65535)", pos[0]);
	if (walk_words(p, "group add", words, n, 2, opts, on_group_opt, &gp, pos, 1) < 0)
		goto fail;
	dup = conf_find_group(c, &g.group);
	if (dup) {
		bad(p, "group %s is added already on line %d", pos[0], dup->line);
		goto fail;
	}
	if (c->ngroups == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 16;
		grown = realloc(c->groups, c->cap * sizeof(*grown));
		if (!grown) {
			bad(p, "out of memory");
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

enum { SUB_DEV, SUB_MAC, SUB_KEEP_SOURCE, SUB_SAMPLE, SUB_SAMPLE_RANDOM, SUB_FROM };

static const struct line_opt sub_opts[] = {
	[SUB_DEV] = { "dev", true },
	[SUB_MAC] = { "mac", true },
	[SUB_KEEP_SOURCE] = { "keep-source", false },
	[SUB_SAMPLE] = { "sample", true },
	[SUB_SAMPLE_RANDOM] = { "sample-random", false },
	[SUB_FROM] = { "from", true },
	{ NULL, false },
};

static int on_sub_opt(const struct parser *p, int opt, const char *value, void *ctx)
{
	struct conf_sub *s = ctx;

	switch (opt) {
	case SUB_DEV:
		return parse_ifname(p, "sub add: --dev", value, s->dev);
	case SUB_MAC:
		if (replicast_mac_parse(value, s->mac))
			return bad(p, "sub add: --mac '%s' is not aa:bb:cc:dd:ee:ff", value);
		s->has_mac = true;
		return 0;
	case SUB_KEEP_SOURCE:
		s->keep_source = true;
		return 0;
	case SUB_SAMPLE: {
		unsigned long v;
		char *end;

		errno = 0;
		v = strtoul(value, &end, 10);
		if (errno || end == value || *end || value[0] == '-' || v == 0 || v > 0xffffffffUL)
			return bad(p, "sub add: --sample '%s' is not a number from 1 to %lu", value,
				   0xffffffffUL);
		s->sample = (uint32_t)v;
		return 0;
	}
	case SUB_SAMPLE_RANDOM:
		s->sample_random = true;
		return 0;
	case SUB_FROM:
		if (s->nfrom == REPLICAST_SUB_MAX_FROM)
			return bad(p, "sub add: at most %d --from prefixes per subscriber",
				   REPLICAST_SUB_MAX_FROM);
		if (replicast_prefix_parse(value, &s->from[s->nfrom]))
			return bad(p, "sub add: --from '%s' is not ADDR or ADDR/LEN", value);
		s->nfrom++;
		return 0;
	}
	return 0;
}

static int parse_sub(struct parser *p, char **words, int n)
{
	struct conf_sub s = { .line = p->line }, *grown, *dup;
	struct replicast_endpoint group;
	struct conf_group *g;
	char *pos[2];
	size_t i;

	if (n < 2 || strcmp(words[1], "add"))
		return bad(p, "'sub %s' does not belong in a configuration file, which lists what "
			   "should exist: only 'sub add' lines (apply removes the subscribers the "
			   "file leaves out)", n < 2 ? "" : words[1]);
	n = walk_words(p, "sub add", words, n, 2, sub_opts, on_sub_opt, &s, pos, 2);
	if (n < 0)
		return -1;
	if (n < 2)
		return bad(p, "sub add: expected GROUP and DEST");
	if (replicast_endpoint_parse(pos[0], &group))
		return bad(p, "sub add: GROUP '%s' is not ADDR:PORT or [IPV6]:PORT (port 1-65535)",
			   pos[0]);
	if (replicast_endpoint_parse(pos[1], &s.dest))
		return bad(p, "sub add: DEST '%s' is not ADDR:PORT or [IPV6]:PORT (port 1-65535)",
			   pos[1]);
	if (group.family != s.dest.family)
		return bad(p, "sub add: GROUP and DEST must both be IPv4 or both IPv6");
	for (i = 0; i < s.nfrom; i++)
		if (s.from[i].family != group.family)
			return bad(p, "sub add: --from of the other family than GROUP's");
	if (s.sample_random && s.sample < 2)
		return bad(p, "sub add: --sample-random needs --sample N with N > 1");
	g = conf_find_group(p->conf, &group);
	if (!g)
		return bad(p, "sub add: group %s has no 'group add' line above this one", pos[0]);
	dup = conf_find_sub(g, &s.dest);
	if (dup)
		return bad(p, "sub add: %s is a subscriber of %s already on line %d", pos[1], pos[0],
			   dup->line);
	if (g->nsubs == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 16;
		grown = realloc(g->subs, g->cap * sizeof(*grown));
		if (!grown)
			return bad(p, "out of memory");
		g->subs = grown;
	}
	g->subs[g->nsubs++] = s;
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	static const char *const others[] = {
		"unload", "list", "stats", "save", "apply", "send", NULL,
	};
	char *words[CONF_MAX_WORDS];
	const char *why;
	int n, i;

	n = conf_split_line(line, words, CONF_MAX_WORDS, &why);
	if (n < 0)
		return bad(p, "%s", why);
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
			return bad(p, "'%s' does not belong in a configuration file (load, group add "
				   "and sub add lines only); 'replicast -batch FILE' runs any command",
				   words[0]);
	return bad(p, "unknown command '%s' (a configuration has load, group add and sub add "
		   "lines)", words[0]);
}

bool conf_line_nul(const char *line, size_t len, size_t *col)
{
	const char *nul = memchr(line, '\0', len);

	if (!nul)
		return false;
	*col = (size_t)(nul - line) + 1;
	return true;
}

int conf_parse(FILE *f, const char *name, struct conf *conf)
{
	struct parser p = { .file = name, .conf = conf };
	char *line = NULL;
	size_t cap = 0, col;
	ssize_t len;
	int ret = EXIT_OK;

	memset(conf, 0, sizeof(*conf));
	errno = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		p.line++;
		/* A NUL would end the line where it stands and the rest would
		 * be dropped unseen: refuse the file instead. */
		if (conf_line_nul(line, (size_t)len, &col)) {
			ret = bad(&p, "a NUL byte at column %zu; a configuration file is text (nothing "
				  "was applied)", col);
			break;
		}
		if (parse_line(&p, line)) {
			ret = EXIT_FAIL;
			break;
		}
	}
	if (ret == EXIT_OK && ferror(f))
		ret = cli_error(EXIT_FAIL, "reading %s: %s", name, strerror(errno ? errno : EIO));
	free(line);
	if (ret)
		conf_free(conf);
	return ret;
}

void conf_free(struct conf *conf)
{
	size_t i;

	for (i = 0; i < conf->ngroups; i++) {
		free(conf->groups[i].subs);
		conf_group_opts_free(&conf->groups[i].opts);
	}
	free(conf->groups);
	free(conf->devs);
	memset(conf, 0, sizeof(*conf));
}

/* ---- Lookups ------------------------------------------------------------ */

bool conf_same_endpoint(const struct replicast_endpoint *a, const struct replicast_endpoint *b)
{
	return a->family == b->family && a->port == b->port &&
	       !memcmp(&a->addr, &b->addr, a->family == AF_INET6 ? 16 : 4);
}

struct conf_group *conf_find_group(const struct conf *conf, const struct replicast_endpoint *ep)
{
	size_t i;

	for (i = 0; i < conf->ngroups; i++)
		if (conf_same_endpoint(&conf->groups[i].group, ep))
			return &conf->groups[i];
	return NULL;
}

struct conf_sub *conf_find_sub(const struct conf_group *g, const struct replicast_endpoint *dest)
{
	size_t i;

	for (i = 0; i < g->nsubs; i++)
		if (conf_same_endpoint(&g->subs[i].dest, dest))
			return &g->subs[i];
	return NULL;
}

/* ---- The running state -------------------------------------------------- */

static int add_attachment(const char *ifname, unsigned int ifindex, void *ctx)
{
	struct conf *c = ctx;
	char now[IF_NAMESIZE], (*grown)[IF_NAMESIZE];

	/* The record keeps the name at attach time; the kernel knows today's. */
	if (!if_indextoname(ifindex, now)) {
		char e[CLI_NAME_ESCAPED];

		fprintf(stderr, "replicast: warning: %s (ifindex %u) is gone; not saved\n",
			cli_escape(ifname, e, sizeof(e)), ifindex);
		return 0;
	}
	grown = realloc(c->devs, (c->ndevs + 1) * sizeof(*c->devs));
	if (!grown)
		return -ENOMEM;
	c->devs = grown;
	memcpy(c->devs[c->ndevs++], now, IF_NAMESIZE);
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int conf_from_running(struct replicast *rc, struct conf *conf)
{
	struct replicast_group_info *groups;
	const struct group_option *o;
	char name[REPLICAST_ENDPOINT_STRLEN];
	size_t n, i, j;
	int err;

	memset(conf, 0, sizeof(*conf));
	conf->has_load = true;
	conf->max_groups = replicast_max_groups(rc);
	conf->max_subs = replicast_max_subs(rc);
	err = replicast_inject_name(rc, conf->inject_dev, sizeof(conf->inject_dev));
	if (!err)
		conf->inject = CONF_INJECT_NAMED;
	else if (err == -ENOENT)
		conf->inject = CONF_INJECT_NONE;
	else
		return err;
	err = replicast_foreach_attachment(rc, add_attachment, conf);
	if (err)
		goto fail;
	/* The attachments map is a hash: its order is not the operator's. */
	if (conf->ndevs)
		qsort(conf->devs, conf->ndevs, sizeof(*conf->devs), compare_names);

	err = replicast_groups_read(rc, &groups, &n);
	if (err)
		goto fail;
	conf->groups = calloc(n ? n : 1, sizeof(*conf->groups));
	if (!conf->groups) {
		err = -ENOMEM;
		goto out;
	}
	conf->cap = n;
	for (i = 0; i < n; i++) {
		struct conf_group *g = &conf->groups[conf->ngroups++];

		g->group = groups[i].group;
		for (o = group_options; o->name; o++) {
			err = o->read(&groups[i], &g->opts);
			if (err)
				goto out;
		}
		g->subs = calloc(groups[i].nsubs ? groups[i].nsubs : 1, sizeof(*g->subs));
		if (!g->subs) {
			err = -ENOMEM;
			goto out;
		}
		g->cap = groups[i].nsubs;
		for (j = 0; j < groups[i].nsubs; j++) {
			const struct replicast_sub_info *si = &groups[i].subs[j];
			struct conf_sub *s = &g->subs[g->nsubs++];

			s->dest = si->dest;
			if (!if_indextoname(si->ifindex, s->dev)) {
				s->dev[0] = '\0';
				fprintf(stderr, "replicast: warning: the device of subscriber %s "
					"(ifindex %u) is gone; saved without --dev\n",
					replicast_endpoint_format(&si->dest, name, sizeof(name)),
					si->ifindex);
			}
			s->has_mac = si->has_mac;
			memcpy(s->mac, si->mac, sizeof(s->mac));
			s->keep_source = si->keep_source;
			s->sample = si->sample > 1 ? si->sample : 0;
			s->sample_random = si->sample_random;
			s->nfrom = si->nfrom;
			memcpy(s->from, si->from, sizeof(s->from));
		}
	}
out:
	replicast_groups_free(groups, n);
	if (!err)
		return 0;
fail:
	conf_free(conf);
	return err;
}

/* ---- Printing ----------------------------------------------------------- */

/* A word as conf_split_line() reads it back: bare when it is plain, else in
 * double quotes with " and \ escaped and any byte other than printable
 * ASCII as \xHH (device names may hold nearly any byte; what save prints,
 * apply must read as the same word, and a terminal must not run it). */
void conf_print_word(FILE *f, const char *w)
{
	const char *c;

	if (*w && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._:@%+=,-/[]") == strlen(w)) {
		fputs(w, f);
		return;
	}
	fputc('"', f);
	for (c = w; *c; c++) {
		unsigned char b = (unsigned char)*c;

		if (b < 0x20 || b >= 0x7f)
			fprintf(f, "\\x%02x", b);
		else if (b == '"' || b == '\\')
			fprintf(f, "\\%c", b);
		else
			fputc(b, f);
	}
	fputc('"', f);
}

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
	char name[REPLICAST_ENDPOINT_STRLEN];
	const struct group_option *o;

	fprintf(f, "group add %s", replicast_endpoint_format(&g->group, name, sizeof(name)));
	for (o = group_options; o->name; o++)
		o->print(f, &g->opts);
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
}

void conf_print_sub(FILE *f, const struct conf_group *g, const struct conf_sub *s)
{
	char gname[REPLICAST_ENDPOINT_STRLEN], dname[REPLICAST_ENDPOINT_STRLEN];

	fprintf(f, "sub add %s %s", replicast_endpoint_format(&g->group, gname, sizeof(gname)),
		replicast_endpoint_format(&s->dest, dname, sizeof(dname)));
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
