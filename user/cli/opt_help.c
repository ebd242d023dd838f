// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* --help made from the option tables of opt.h: usage lines, one line per
 * option with the range and default the row holds, and the command list of
 * `replicast --help`. */
#include <stdbool.h>
#include <string.h>
#include "cli.h"
#include "opt.h"

#define HELP_WIDTH 79
#define HELP_COLUMN 24
#define HELP_SUMMARY_COLUMN 30

/* A space wrap() does not break at (between an option and its value). */
#define NBSP "\x01"

/* " [--max-pps N]", " [--dev IFNAME]..." */
static int synopsis_opt(char *buf, size_t len, const struct opt_def *o, bool first)
{
	const char *sp = first ? "" : " ";

	if (o->type == OPT_FLAG)
		return snprintf(buf, len, "%s[--%s]", sp, o->name);
	if (o->flags & OPT_OPTIONAL_ARG)
		return snprintf(buf, len, "%s[--%s" NBSP "[%s]]", sp, o->name, o->metavar);
	return snprintf(buf, len, "%s[--%s" NBSP "%s]%s", sp, o->name, o->metavar,
			opt_repeatable(o) ? "..." : "");
}

/* Words of text, wrapped at HELP_WIDTH, continuation lines at indent;
 * returns the column it ends at, no newline printed. */
static int wrap_at(FILE *f, const char *text, int col, int indent)
{
	const char *w = text;

	while (*w) {
		size_t len = strcspn(w, " ");

		if (col > indent && col + 1 + (int)len > HELP_WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		for (size_t i = 0; i < len; i++)
			fputc(w[i] == NBSP[0] ? ' ' : w[i], f);
		col += (int)len;
		w += len;
		while (*w == ' ')
			w++;
	}
	return col;
}

static void wrap(FILE *f, const char *text, int col, int indent)
{
	wrap_at(f, text, col, indent);
	fputc('\n', f);
}

/* What follows the command's words in a usage line: the table's
 * positional words and options, unless the command spells it itself. */
static void synopsis(const struct opt_cmd *cmd, char *buf, size_t size)
{
	int len = 0, i;

	buf[0] = '\0';
	if (cmd->synopsis) {
		snprintf(buf, size, "%s", cmd->synopsis);
		return;
	}
	for (i = 0; cmd->args && cmd->args[i].name && len < (int)size; i++)
		len += snprintf(buf + len, size - len, (unsigned int)i < cmd->min_args ?
				"%s%s" : "%s[%s]", len ? " " : "", cmd->args[i].name);
	for (i = 0; cmd->opts && cmd->opts[i].name && len < (int)size; i++)
		len += synopsis_opt(buf + len, size - len, &cmd->opts[i], len == 0);
}

static void usage_line(FILE *f, const struct opt_cmd *cmd, const char *lead)
{
	char buf[1024];
	int col = (int)strlen(lead) + 11 + (int)strlen(cmd->path);

	synopsis(cmd, buf, sizeof(buf));
	fprintf(f, "%s replicast %s%s", lead, cmd->path, buf[0] ? " " : "");
	if (buf[0])
		wrap(f, buf, col + 1, col + 1);
	else
		fputc('\n', f);
}

void opt_print_usage(FILE *f, const struct opt_cmd *cmd)
{
	int v;

	if (!cmd->verbs) {
		usage_line(f, cmd, "Usage:");
		return;
	}
	for (v = 0; cmd->verbs[v]; v++)
		usage_line(f, cmd->verbs[v], v ? "      " : "Usage:");
}

/* What the table knows of a value beyond the help text: its range and
 * default, from the library's constants the rows are written with. */
static void option_line(FILE *f, const struct opt_def *o)
{
	char head[128], text[1024];
	int col;

	if (o->type == OPT_FLAG)
		snprintf(head, sizeof(head), "  %s%c%s--%s", o->short_name ? "-" : "",
			 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "", o->name);
	else
		snprintf(head, sizeof(head), "  %s%c%s--%s %s%s%s", o->short_name ? "-" : "",
			 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "", o->name,
			 o->flags & OPT_OPTIONAL_ARG ? "[" : "", o->metavar,
			 o->flags & OPT_OPTIONAL_ARG ? "]" : "");
	/* "  --x" without a short name: the space placeholder goes. */
	if (!o->short_name)
		memmove(head + 2, head + 3, strlen(head + 2));
	fputs(head, f);
	col = (int)strlen(head);
	if (col + 2 > HELP_COLUMN) {
		fprintf(f, "\n%*s", HELP_COLUMN, "");
	} else {
		fprintf(f, "%*s", HELP_COLUMN - col, "");
	}
	col = snprintf(text, sizeof(text), "%s", o->help);
	if (o->type == OPT_U32 && o->def && o->limit)
		snprintf(text + col, sizeof(text) - col, " (default %llu, at most %llu)", o->def,
			 o->max);
	else if (o->type == OPT_U32 && o->def)
		snprintf(text + col, sizeof(text) - col, " (%llu..%llu, default %llu)", o->min,
			 o->max, o->def);
	else if (o->type == OPT_U32 && o->max < 0xffffffffULL)
		snprintf(text + col, sizeof(text) - col, " (%llu..%llu)", o->min, o->max);
	else if (o->type == OPT_U64 && o->zero)
		snprintf(text + col, sizeof(text) - col, " (0: %s)", o->zero);
	else if (o->type == OPT_SECONDS)
		snprintf(text + col, sizeof(text) - col, " (default %g, from %g to %g)", o->def_s,
			 o->min_s, o->max_s);
	else if (opt_repeatable(o))
		snprintf(text + col, sizeof(text) - col, " (repeatable)");
	wrap(f, text, HELP_COLUMN, HELP_COLUMN);
}

static void options_of(FILE *f, const struct opt_cmd *cmd, const struct opt_def **seen,
		       int *nseen)
{
	const struct opt_def *o;
	int i;

	for (o = cmd->opts; o && o->name; o++) {
		/* A row verbs share (group add and set) is explained once. */
		for (i = 0; i < *nseen; i++)
			if (!strcmp(seen[i]->name, o->name))
				break;
		if (i < *nseen)
			continue;
		if (*nseen < 64)
			seen[(*nseen)++] = o;
		option_line(f, o);
	}
}

void opt_print_help(FILE *f, const struct opt_cmd *cmd)
{
	const struct opt_def *seen[64];
	int v, nseen = 0;

	opt_print_usage(f, cmd);
	if (cmd->text)
		fprintf(f, "\n%s", cmd->text);
	fputc('\n', f);
	if (cmd->verbs)
		for (v = 0; cmd->verbs[v]; v++)
			options_of(f, cmd->verbs[v], seen, &nseen);
	else
		options_of(f, cmd, seen, &nseen);
	fprintf(f, "%-*s", HELP_COLUMN, "  --pin-path DIR");
	wrap(f, "pin directory (default " REPLICAST_DEFAULT_PIN_PATH ", or "
	     "/sys/fs/bpf/replicast-netns/NAME in network namespace NAME)", HELP_COLUMN, HELP_COLUMN);
	fprintf(f, "%-*sthis text\n", HELP_COLUMN, "  -h, --help");
}

void opt_print_summary(FILE *f, const struct opt_cmd *cmd)
{
	char buf[1024];
	int v, col;

	if (cmd->verbs) {
		for (v = 0; cmd->verbs[v]; v++)
			opt_print_summary(f, cmd->verbs[v]);
		return;
	}
	synopsis(cmd, buf, sizeof(buf));
	fprintf(f, "  %s%s", cmd->path, buf[0] ? " " : "");
	col = 2 + (int)strlen(cmd->path) + (buf[0] ? 1 : 0);
	if (buf[0])
		col = wrap_at(f, buf, col, col);
	/* At one column for all, beside a short synopsis or below a long one,
	 * as ip(8)'s help reads. */
	if (col + 2 > HELP_SUMMARY_COLUMN)
		fprintf(f, "\n%*s", HELP_SUMMARY_COLUMN, "");
	else
		fprintf(f, "%*s", HELP_SUMMARY_COLUMN - col, "");
	wrap(f, cmd->summary ? cmd->summary : "", HELP_SUMMARY_COLUMN, HELP_SUMMARY_COLUMN);
}
