// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The hidden modes behind completion/replicast and the grammar tests:
 * candidates for the word being completed (`replicast --complete`) and every
 * row of every table (`replicast --options`), from the tables of opt.h. */
#include <stdbool.h>
#include <string.h>
#include "opt.h"

static void candidate(FILE *f, const char *word, const char *cur)
{
	if (!strncmp(word, cur, strlen(cur)))
		fprintf(f, "%s\n", word);
}

static void complete_value(FILE *f, enum opt_complete c, const struct opt_value *values,
			   const char *cur, const char *group)
{
	switch (c) {
	case OPT_C_NONE:	fputs(":none\n", f); return;
	case OPT_C_FILE:	fputs(":file\n", f); return;
	case OPT_C_DIR:		fputs(":dir\n", f); return;
	case OPT_C_IFNAME:	fputs(":ifname\n", f); return;
	case OPT_C_GROUP:	fputs(":group\n", f); return;
	case OPT_C_SUB:		fprintf(f, ":sub %s\n", group ? group : ""); return;
	case OPT_C_SOURCE:	fprintf(f, ":source %s\n", group ? group : ""); return;
	case OPT_C_VALUES:
		for (; values && values->name; values++)
			candidate(f, values->name, cur);
		return;
	}
}

static const struct opt_def *find_long(const struct opt_cmd *cmd, const char *word)
{
	const struct opt_def *o;

	for (o = cmd->opts; o && o->name; o++)
		if (!strcmp(o->name, word + 2))
			return o;
	return NULL;
}

static const struct opt_def *find_short(const struct opt_cmd *cmd, char c)
{
	const struct opt_def *o;

	for (o = cmd->opts; o && o->name; o++)
		if (o->short_name == c)
			return o;
	return NULL;
}

/* Whether the option word takes the next word as its value. */
static const struct opt_def *takes_next(const struct opt_cmd *cmd, const char *word)
{
	const struct opt_def *o;

	if (word[0] != '-' || !word[1] || strchr(word, '='))
		return NULL;
	o = word[1] == '-' ? find_long(cmd, word) : find_short(cmd, word[strlen(word) - 1]);
	if (!o || o->type == OPT_FLAG || (o->flags & OPT_OPTIONAL_ARG))
		return NULL;
	return o;
}

static void complete_in(FILE *f, const struct opt_cmd *cmd, int start, int skip, int n,
			char **words)
{
	const char *cur = words[n - 1], *pos[OPT_MAX_ARGS];
	const struct opt_def *o;
	int i, npos = 0;

	for (i = start; i < n - 1; i++) {
		if (i == skip)
			continue;
		if (!strcmp(words[i], "--pin-path")) {
			if (i == n - 2)
				return complete_value(f, OPT_C_DIR, NULL, cur, NULL);
			i++;
			continue;
		}
		o = takes_next(cmd, words[i]);
		if (o && i == n - 2)
			return complete_value(f, o->complete, o->values, cur, npos ? pos[0] : NULL);
		if (o) {
			i++;
			continue;
		}
		if (words[i][0] == '-' && words[i][1])
			continue;
		if (npos < OPT_MAX_ARGS)
			pos[npos++] = words[i];
	}
	if (cur[0] == '-') {
		char name[64];

		for (o = cmd->opts; o && o->name; o++) {
			snprintf(name, sizeof(name), "--%s", o->name);
			candidate(f, name, cur);
		}
		candidate(f, "--pin-path", cur);
		candidate(f, "--help", cur);
		return;
	}
	if (npos < opt_nargs(cmd))
		return complete_value(f, cmd->args[npos].complete, NULL, cur, npos ? pos[0] : NULL);
	fputs(":none\n", f);
}

void opt_complete(FILE *f, const struct opt_cmd *const *cmds, int n, char **words)
{
	static const char *const main_opts[] = {
		"--pin-path", "--help", "--version", "-batch", "-force", NULL,
	};
	const struct opt_cmd *cmd = NULL, *verb;
	const char *cur = n ? words[n - 1] : "";
	int w, i, at;

	if (n == 0)
		return;
	for (w = 0; w < n - 1; w++) {
		if (!strcmp(words[w], "--pin-path") || !strcmp(words[w], "-batch") ||
		    !strcmp(words[w], "--batch") || !strcmp(words[w], "-b")) {
			if (w == n - 2)
				return complete_value(f, strcmp(words[w], "--pin-path") ? OPT_C_FILE
							: OPT_C_DIR, NULL, cur, NULL);
			w++;
			continue;
		}
		if (words[w][0] != '-')
			break;
	}
	if (w >= n - 1) {
		for (i = 0; cmds[i]; i++)
			candidate(f, cmds[i]->name, cur);
		for (i = 0; main_opts[i]; i++)
			candidate(f, main_opts[i], cur);
		return;
	}
	for (i = 0; cmds[i] && !cmd; i++)
		if (!strcmp(cmds[i]->name, words[w]))
			cmd = cmds[i];
	if (!cmd) {
		fputs(":none\n", f);
		return;
	}
	if (!cmd->verbs)
		return complete_in(f, cmd, w + 1, -1, n, words);
	/* The verb is the first word that is no option, as opt_find_verb()
	 * finds it; the word being completed is not one yet. */
	verb = opt_find_verb(cmd, n - 1 - w, words + w, &at);
	if (at < 0) {
		if (n >= 2 && !strcmp(words[n - 2], "--pin-path"))
			return complete_value(f, OPT_C_DIR, NULL, cur, NULL);
		if (cur[0] == '-') {
			candidate(f, "--pin-path", cur);
			candidate(f, "--help", cur);
			return;
		}
		for (i = 0; cmd->verbs[i]; i++)
			candidate(f, cmd->verbs[i]->name, cur);
		return;
	}
	if (!verb) {
		fputs(":none\n", f);
		return;
	}
	complete_in(f, verb, w + 1, w + at, n, words);
}

static void list_of(FILE *f, const struct opt_cmd *cmd)
{
	const struct opt_def *o;
	int v;

	if (cmd->verbs) {
		for (v = 0; cmd->verbs[v]; v++)
			list_of(f, cmd->verbs[v]);
		return;
	}
	for (o = cmd->opts; o && o->name; o++)
		fprintf(f, "%s --%s\n", cmd->path, o->name);
}

void opt_list_options(FILE *f, const struct opt_cmd *const *cmds)
{
	int i;

	for (i = 0; cmds[i]; i++)
		list_of(f, cmds[i]);
}
