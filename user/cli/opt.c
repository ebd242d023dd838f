// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The one parser of opt.h: a command's words against its table of options,
 * for argv, -batch lines and configuration files alike. Every message names
 * the command, the option and the bad value. (--help from the same tables:
 * opt_help.c; completion: opt_complete.c.) */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "opt.h"

static void *field(void *out, const struct opt_def *o)
{
	return (char *)out + o->offset;
}

bool opt_valid_ifname(const char *name)
{
	const char *c;

	if (!*name || strlen(name) >= IF_NAMESIZE || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (c = name; *c; c++)
		if (*c == '/' || *c == ':' || isspace((unsigned char)*c))
			return false;
	return true;
}

int opt_compare_prefixes(const void *a, const void *b)
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

int opt_endpoint(const struct opt_cmd *cmd, const char *what, const char *text,
		 struct replicast_endpoint *ep)
{
	if (replicast_endpoint_parse(text, ep))
		return cli_error(EXIT_USAGE, "%s: %s '%s' is not ADDR:PORT or [IPV6]:PORT "
				 "(port 1-65535)", cmd->path, what, text);
	return EXIT_OK;
}

int opt_group(const struct opt_cmd *cmd, const char *text, struct replicast_endpoint *ep,
	      uint16_t *port_last)
{
	int err = replicast_range_parse(text, ep, port_last);

	if (err == -E2BIG)
		return cli_error(EXIT_USAGE, "%s: GROUP '%s' spans more than %u ports; a range "
				 "is at most %u (each port counts as a group against --max-groups)",
				 cmd->path, text, REPLICAST_MAX_PORT_RANGE, REPLICAST_MAX_PORT_RANGE);
	if (err)
		return cli_error(EXIT_USAGE, "%s: GROUP '%s' is not ADDR:PORT or [IPV6]:PORT (port "
				 "1-65535), nor a range ADDR:FIRST-LAST (FIRST <= LAST)", cmd->path,
				 text);
	return EXIT_OK;
}

int opt_dest(const struct opt_cmd *cmd, const char *text, struct replicast_endpoint *ep)
{
	struct replicast_prefix host;

	if (!replicast_endpoint_parse(text, ep))
		return EXIT_OK;
	/* A bare address: port 0, each copy keeps the packet's own port
	 * (port-range groups only; the library says so otherwise). */
	if (!replicast_prefix_parse(text, &host) && !strchr(text, '/')) {
		memset(ep, 0, sizeof(*ep));
		ep->family = host.family;
		memcpy(&ep->addr, &host.addr, sizeof(ep->addr));
		return EXIT_OK;
	}
	return cli_error(EXIT_USAGE, "%s: DEST '%s' is not ADDR:PORT or [IPV6]:PORT (port "
			 "1-65535), or ADDR alone for a port range's subscriber that keeps each "
			 "packet's port", cmd->path, text);
}

const char *opt_dest_format(const struct replicast_endpoint *ep, char *buf, size_t len)
{
	struct replicast_prefix host = { .family = ep->family };
	char text[REPLICAST_PREFIX_STRLEN], *slash;

	if (ep->port)
		return replicast_endpoint_format(ep, buf, len);
	memcpy(&host.addr, &ep->addr, sizeof(host.addr));
	host.len = ep->family == AF_INET6 ? 128 : 32;
	replicast_prefix_format(&host, text, sizeof(text));
	slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	snprintf(buf, len, "%s", text);
	return buf;
}

/* "strict or loose", "text, json or prometheus" */
static void value_names(const struct opt_value *v, char *buf, size_t len)
{
	size_t i, n = 0, at = 0;

	while (v[n].name)
		n++;
	buf[0] = '\0';
	for (i = 0; i < n && at < len; i++)
		at += snprintf(buf + at, len - at, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
			       v[i].name);
}

/* An unsigned decimal with nothing after it ("-1" is no number here,
 * whatever strtoull makes of it). */
static bool parse_unsigned(const char *text, unsigned long long *v)
{
	char *end;

	if (!isdigit((unsigned char)text[0]))
		return false;
	errno = 0;
	*v = strtoull(text, &end, 10);
	return !errno && !*end;
}

static int bad_value(const struct opt_cmd *cmd, const struct opt_def *o, const char *value,
		     const char *why)
{
	return cli_error(EXIT_USAGE, "%s: --%s '%s' is not %s", cmd->path, o->name, value, why);
}

/* One occurrence of option o with value (NULL for a flag). */
static int set_value(const struct opt_cmd *cmd, const struct opt_def *o, const char *value,
		     void *out)
{
	void *f = field(out, o);
	unsigned long long v;
	char why[160];
	size_t i;

	switch (o->type) {
	case OPT_FLAG:
		*(bool *)f = true;
		return 0;
	case OPT_U32:
		if (!parse_unsigned(value, &v) || v < o->min || v > 0xffffffffULL ||
		    (v > o->max && !o->limit)) {
			if (o->noun)
				snprintf(why, sizeof(why), "%s (%llu..%llu)", o->noun, o->min, o->max);
			else
				snprintf(why, sizeof(why), "a %s number", o->min ? "positive" : "");
			return bad_value(cmd, o, value, o->noun || o->min ? why : "a number");
		}
		if (v > o->max)
			return cli_error(EXIT_USAGE, "%s: --%s %llu is over the limit of %llu %s; "
					 "ask for at most that", cmd->path, o->name, v, o->max,
					 o->limit);
		*(unsigned int *)f = (unsigned int)v;
		return 0;
	case OPT_U64:
		if (!parse_unsigned(value, &v)) {
			snprintf(why, sizeof(why), "a number%s%s%s", o->zero ? " (0: " : "",
				 o->zero ? o->zero : "", o->zero ? ")" : "");
			return bad_value(cmd, o, value, why);
		}
		*(uint64_t *)f = v;
		return 0;
	case OPT_SECONDS: {
		char *end;
		double d;

		errno = 0;
		d = strtod(value, &end);
		if (errno || end == value || *end || !(d >= o->min_s && d <= o->max_s)) {
			snprintf(why, sizeof(why), "a number of seconds from %g to %g", o->min_s,
				 o->max_s);
			return bad_value(cmd, o, value, why);
		}
		*(double *)f = d;
		return 0;
	}
	case OPT_ENUM:
		for (i = 0; o->values[i].name; i++)
			if (!strcmp(value, o->values[i].name)) {
				*(int *)f = o->values[i].value;
				return 0;
			}
		value_names(o->values, why, sizeof(why));
		return bad_value(cmd, o, value, why);
	case OPT_IFNAME:
		if (!opt_valid_ifname(value))
			goto bad_ifname;
		snprintf(f, IF_NAMESIZE, "%s", value);
		return 0;
	case OPT_IFNAMES: {
		struct opt_names *l = f;
		char (*grown)[IF_NAMESIZE];

		if (!opt_valid_ifname(value))
			goto bad_ifname;
		for (i = 0; i < l->n; i++)
			if (!strcmp(l->v[i], value))
				return 0;	/* named twice: once is what was meant */
		grown = realloc(l->v, (l->n + 1) * sizeof(*l->v));
		if (!grown)
			return cli_error(EXIT_FAIL, "%s: out of memory", cmd->path);
		l->v = grown;
		snprintf(l->v[l->n++], IF_NAMESIZE, "%s", value);
		return 0;
	}
	case OPT_PREFIXES: {
		struct opt_prefixes *l = f;
		struct replicast_prefix p, *grown;

		if (replicast_prefix_parse(value, &p))
			return bad_value(cmd, o, value, "ADDR/LEN or ADDR (with no host bits set "
					 "beyond LEN)");
		/* Sorted, so that two lists compare and print the same whatever
		 * order they were given in. */
		if (l->n && bsearch(&p, l->v, l->n, sizeof(p), opt_compare_prefixes))
			return 0;
		grown = realloc(l->v, (l->n + 1) * sizeof(*grown));
		if (!grown)
			return cli_error(EXIT_FAIL, "%s: out of memory", cmd->path);
		l->v = grown;
		l->v[l->n++] = p;
		qsort(l->v, l->n, sizeof(p), opt_compare_prefixes);
		return 0;
	}
	case OPT_MAC:
		if (replicast_mac_parse(value, f))
			return bad_value(cmd, o, value, "aa:bb:cc:dd:ee:ff");
		return 0;
	case OPT_STRING:
		*(const char **)f = value;
		return 0;
	}
	return 0;
bad_ifname:
	snprintf(why, sizeof(why), "an interface name (1 to %d characters, no '/', ':' or "
		 "spaces)", IF_NAMESIZE - 1);
	return bad_value(cmd, o, value, why);
}

bool opt_repeatable(const struct opt_def *o)
{
	return o->type == OPT_IFNAMES || o->type == OPT_PREFIXES;
}

void opt_free(const struct opt_cmd *cmd, void *out)
{
	const struct opt_def *o;

	for (o = cmd->opts; o && o->name; o++) {
		if (o->type == OPT_IFNAMES) {
			struct opt_names *l = field(out, o);

			free(l->v);
			l->v = NULL;
			l->n = 0;
		} else if (o->type == OPT_PREFIXES) {
			struct opt_prefixes *l = field(out, o);

			free(l->v);
			l->v = NULL;
			l->n = 0;
		}
	}
}

bool opt_given(const struct opt_parsed *p, const char *name)
{
	int i;

	for (i = 0; p->cmd->opts && p->cmd->opts[i].name; i++)
		if (!strcmp(p->cmd->opts[i].name, name))
			return p->given & 1ULL << i;
	return false;
}

int opt_nargs(const struct opt_cmd *cmd)
{
	int n = 0;

	while (cmd->args && cmd->args[n].name)
		n++;
	return n;
}

/* One option occurrence, long or short: i is the row. */
static int take(const struct opt_cmd *cmd, int i, const char *value, void *out,
		struct opt_parsed *p)
{
	const struct opt_def *o = &cmd->opts[i];

	if ((p->given & 1ULL << i) && !opt_repeatable(o))
		return cli_error(EXIT_USAGE, "%s: --%s given twice", cmd->path, o->name);
	p->given |= 1ULL << i;
	if (o->type == OPT_SECONDS && !value) {
		*(double *)field(out, o) = o->def_s;
		return 0;
	}
	return set_value(cmd, o, value, out);
}

/* The verb beside cmd that has the option named by the len bytes at name,
 * for "sub del takes no --dev (sub add does)". */
static const struct opt_cmd *sibling_with(const struct opt_cmd *cmd, const char *name,
					  size_t len)
{
	const struct opt_def *o;
	int v;

	for (v = 0; cmd->parent && cmd->parent->verbs[v]; v++)
		for (o = cmd->parent->verbs[v]->opts; o && o->name; o++)
			if (strlen(o->name) == len && !strncmp(o->name, name, len))
				return cmd->parent->verbs[v];
	return NULL;
}

static int parse_words(const struct opt_cmd *cmd, enum opt_source src, int n, char **words,
		       struct cli *cli, void *out, struct opt_parsed *p)
{
	bool options_end = false;
	int w, i;

	for (w = 1; w < n; w++) {
		char *word = words[w];
		const char *eq, *value = NULL;
		const struct opt_def *o;
		size_t len;

		if (options_end || word[0] != '-' || !word[1]) {
			if (p->nargs == opt_nargs(cmd))
				return cli_error(EXIT_USAGE, "%s: unexpected argument '%s'", cmd->path,
						 word);
			p->args[p->nargs++] = word;
			continue;
		}
		if (!strcmp(word, "--")) {
			options_end = true;
			continue;
		}
		if (word[1] != '-') {
			/* -X, a cluster of flags -nv, or -oFILE / -o FILE */
			const char *c;

			for (c = word + 1; *c; c++) {
				if (*c == 'h' && src == OPT_ARGV) {
					p->help = true;
					continue;
				}
				for (i = 0; cmd->opts && cmd->opts[i].name; i++)
					if (cmd->opts[i].short_name == *c)
						break;
				if (!cmd->opts || !cmd->opts[i].name)
					return cli_error(EXIT_USAGE, "%s: unknown option '-%c' (replicast "
							 "%s --help lists them)", cmd->path, *c,
							 cmd->path);
				if (cmd->opts[i].type == OPT_FLAG) {
					if (take(cmd, i, NULL, out, p))
						return EXIT_USAGE;
					continue;
				}
				if (c[1])
					value = c + 1;
				else if (w + 1 < n)
					value = words[++w];
				else
					return cli_error(EXIT_USAGE, "%s: -%c needs a value", cmd->path,
							 *c);
				if (take(cmd, i, value, out, p))
					return EXIT_USAGE;
				break;
			}
			continue;
		}
		eq = strchr(word, '=');
		len = eq ? (size_t)(eq - word - 2) : strlen(word + 2);
		if (len == 8 && !strncmp(word + 2, "pin-path", 8)) {
			if (src == OPT_FILE)
				return cli_error(EXIT_USAGE, "--pin-path does not belong in a "
						 "configuration file; give it to the command that "
						 "reads the file");
			if (eq)
				value = eq + 1;
			else if (w + 1 < n)
				value = words[++w];
			else
				return cli_error(EXIT_USAGE, "%s: --pin-path needs a value", cmd->path);
			if (cli)
				cli->pin_path = value;
			continue;
		}
		if (len == 4 && !strncmp(word + 2, "help", 4) && src == OPT_ARGV && !eq) {
			p->help = true;
			continue;
		}
		for (i = 0; cmd->opts && cmd->opts[i].name; i++)
			if (strlen(cmd->opts[i].name) == len && !strncmp(cmd->opts[i].name, word + 2, len))
				break;
		if ((!cmd->opts || !cmd->opts[i].name) && sibling_with(cmd, word + 2, len))
			return cli_error(EXIT_USAGE, "%s takes no --%.*s (%s does)", cmd->path,
					 (int)len, word + 2, sibling_with(cmd, word + 2, len)->path);
		if (!cmd->opts || !cmd->opts[i].name)
			return cli_error(EXIT_USAGE, "%s: unknown option '%.*s' (replicast %s --help "
					 "lists them)", cmd->path, (int)len + 2, word, cmd->path);
		o = &cmd->opts[i];
		if (o->type == OPT_FLAG) {
			if (eq)
				return cli_error(EXIT_USAGE, "%s: --%s takes no value", cmd->path,
						 o->name);
		} else if (eq) {
			value = eq + 1;
		} else if (o->flags & OPT_OPTIONAL_ARG) {
			/* `--watch 2` as getopt's optional arguments are not: the
			 * next word, when it is no option. */
			if (w + 1 < n && words[w + 1][0] != '-')
				value = words[++w];
		} else if (w + 1 < n) {
			value = words[++w];
		} else {
			return cli_error(EXIT_USAGE, "%s: --%s needs a value", cmd->path, o->name);
		}
		if (take(cmd, i, value, out, p))
			return EXIT_USAGE;
	}
	return EXIT_OK;
}

int opt_parse(const struct opt_cmd *cmd, enum opt_source src, int n, char **words,
	      struct cli *cli, void *out, struct opt_parsed *p)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->cmd = cmd;
	ret = parse_words(cmd, src, n, words, cli, out, p);
	if (!ret && p->help) {
		opt_print_help(stdout, cmd);
		return EXIT_OK;
	}
	if (!ret && (unsigned int)p->nargs < cmd->min_args) {
		int i, len = 0;
		char want[128] = "";

		for (i = p->nargs; cmd->args[i].name && len < (int)sizeof(want); i++)
			len += snprintf(want + len, sizeof(want) - len, "%s%s", i > p->nargs ?
					(cmd->args[i + 1].name ? ", " : " and ") : "",
					cmd->args[i].name);
		ret = cli_error(EXIT_USAGE, "%s: %s %s missing", cmd->path, want,
				p->nargs + 1 < opt_nargs(cmd) ? "are" : "is");
	}
	if (ret)
		opt_free(cmd, out);
	return ret;
}

const struct opt_cmd *opt_find_verb(const struct opt_cmd *cmd, int n, char **words, int *at)
{
	int w, v;

	*at = -1;
	for (w = 1; w < n; w++) {
		if (!strcmp(words[w], "--pin-path")) {
			w++;
			continue;
		}
		if (words[w][0] == '-' && words[w][1])
			continue;
		*at = w;
		for (v = 0; cmd->verbs[v]; v++)
			if (!strcmp(words[w], cmd->verbs[v]->name))
				return cmd->verbs[v];
		return NULL;
	}
	return NULL;
}
