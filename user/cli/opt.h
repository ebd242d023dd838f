/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The command grammar: each command's options declared once, as rows of a
 * table (name, type, where the value goes, help), and one parser that
 * command lines, -batch lines and configuration-file lines all go through.
 * `--help` text and the shell completion are generated from the same rows,
 * so the three cannot drift apart. (The model is xdp-tools' DEFINE_OPTION.) */
#ifndef REPLICAST_CLI_OPT_H
#define REPLICAST_CLI_OPT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "replicast.h"

struct cli;

enum opt_type {
	OPT_FLAG,	/* bool; takes no value */
	OPT_U32,	/* unsigned int from min to max */
	OPT_U64,	/* uint64_t, 0 allowed (.zero says what 0 means) */
	OPT_SECONDS,	/* double, from min_s to max_s */
	OPT_ENUM,	/* int: .values[i].value of the name given */
	OPT_IFNAME,	/* char[IF_NAMESIZE]: a valid device name */
	OPT_IFNAMES,	/* struct opt_names: device names, repeatable, each once */
	OPT_PREFIXES,	/* struct opt_prefixes: prefixes, repeatable, sorted, each once */
	OPT_MAC,	/* uint8_t[6] */
	OPT_STRING,	/* const char *, pointing into the words parsed */
};

/* What the completion offers for a value or a positional word. */
enum opt_complete {
	OPT_C_NONE,	/* anything: nothing to offer */
	OPT_C_FILE,
	OPT_C_DIR,
	OPT_C_IFNAME,	/* /sys/class/net */
	OPT_C_GROUP,	/* the running groups */
	OPT_C_SUB,	/* the running subscribers of the GROUP before it */
	OPT_C_SOURCE,	/* the allowed sources of the GROUP before it */
	OPT_C_VALUES,	/* the names of an OPT_ENUM */
};

struct opt_value {
	const char *name;
	int value;
};

struct opt_names {
	char (*v)[IF_NAMESIZE];
	size_t n;
};

struct opt_prefixes {
	struct replicast_prefix *v;
	size_t n;
};

#define OPT_OPTIONAL_ARG 0x1	/* the value may be left out (stats --watch) */

struct opt_def {
	const char *name;		/* long name, without "--" */
	char short_name;		/* 0: none */
	enum opt_type type;
	size_t offset;			/* of the value in the command's struct */
	const char *metavar;		/* "N", "IFNAME"; NULL for a flag */
	const char *help;
	unsigned long long min, max, def;	/* OPT_U32; def 0: none */
	const char *limit;		/* OPT_U32: over max is "over the limit of
					 * MAX <limit>" rather than a bad value */
	const char *noun;		/* OPT_U32: "a TTL": "is not a TTL (1..255)" */
	const char *zero;		/* OPT_U64: what 0 means ("no cap") */
	double min_s, max_s, def_s;	/* OPT_SECONDS */
	const struct opt_value *values;	/* OPT_ENUM, NULL-name-terminated */
	enum opt_complete complete;	/* for the value */
	unsigned int flags;
};

/* Rows of a table; T is the command's options struct. */
#define OPT_FLAG_ROW(T, NAME, SHORT, FIELD, HELP)					\
	{ .name = NAME, .short_name = SHORT, .type = OPT_FLAG,				\
	  .offset = offsetof(T, FIELD), .help = HELP }
#define OPT_U32_ROW(T, NAME, FIELD, META, MIN, MAX, HELP, ...)				\
	{ .name = NAME, .type = OPT_U32, .offset = offsetof(T, FIELD), .metavar = META,	\
	  .min = MIN, .max = MAX, .help = HELP, __VA_ARGS__ }
#define OPT_U64_ROW(T, NAME, FIELD, META, ZERO, HELP)					\
	{ .name = NAME, .type = OPT_U64, .offset = offsetof(T, FIELD), .metavar = META,	\
	  .zero = ZERO, .help = HELP }
#define OPT_ENUM_ROW(T, NAME, FIELD, META, VALUES, HELP)				\
	{ .name = NAME, .type = OPT_ENUM, .offset = offsetof(T, FIELD), .metavar = META,	\
	  .values = VALUES, .complete = OPT_C_VALUES, .help = HELP }
#define OPT_IFNAME_ROW(T, NAME, FIELD, META, HELP)					\
	{ .name = NAME, .type = OPT_IFNAME, .offset = offsetof(T, FIELD), .metavar = META,	\
	  .complete = OPT_C_IFNAME, .help = HELP }
#define OPT_IFNAMES_ROW(T, NAME, FIELD, META, HELP)					\
	{ .name = NAME, .type = OPT_IFNAMES, .offset = offsetof(T, FIELD), .metavar = META,	\
	  .complete = OPT_C_IFNAME, .help = HELP }
#define OPT_PREFIXES_ROW(T, NAME, FIELD, META, HELP)					\
	{ .name = NAME, .type = OPT_PREFIXES, .offset = offsetof(T, FIELD),		\
	  .metavar = META, .help = HELP }
#define OPT_MAC_ROW(T, NAME, FIELD, META, HELP)						\
	{ .name = NAME, .type = OPT_MAC, .offset = offsetof(T, FIELD), .metavar = META,	\
	  .help = HELP }
#define OPT_STRING_ROW(T, NAME, SHORT, FIELD, META, COMPLETE, HELP)			\
	{ .name = NAME, .short_name = SHORT, .type = OPT_STRING,			\
	  .offset = offsetof(T, FIELD), .metavar = META, .complete = COMPLETE, .help = HELP }
#define OPT_END { .name = NULL }

/* A positional word. */
struct opt_arg {
	const char *name;		/* "GROUP" */
	enum opt_complete complete;
};

#define OPT_MAX_ARGS 4

/* A command, or a verb of one (group add): its words, options and help. */
struct opt_cmd {
	const char *name;		/* "load", or the verb: "add" */
	const char *path;		/* the words before the options: "group add" */
	const char *synopsis;		/* what follows path in a usage line; NULL:
					 * made from args and opts */
	const char *summary;		/* one line for `replicast --help` */
	const char *text;		/* the paragraphs of --help */
	const struct opt_arg *args;	/* NULL-name-terminated; may be NULL */
	unsigned int min_args;		/* of args given; more than args is an error */
	const struct opt_def *opts;	/* OPT_END-terminated; may be NULL */
	const struct opt_cmd *const *verbs;	/* NULL-terminated: a command of verbs */
	const struct opt_cmd *parent;	/* of a verb: its command (for messages) */
};

/* Where the words come from: argv (or a -batch line, which is argv too), or
 * a configuration file, where --pin-path and --help have no place. */
enum opt_source { OPT_ARGV, OPT_FILE };

/* The outcome of opt_parse(), besides the values in the struct. */
struct opt_parsed {
	const struct opt_cmd *cmd;
	uint64_t given;			/* bit i: cmd->opts[i] was on the line (a
					 * table has at most 64 rows) */
	char *args[OPT_MAX_ARGS];
	int nargs;
	bool help;			/* --help: printed, run nothing */
};

/* Parses words[1..n) (words[0] is the command or verb) against cmd into
 * out, a zeroed struct of the table's type. Returns 0; or reports one line
 * naming cmd->path, the option and the bad value, and returns EXIT_USAGE
 * (with whatever lists it filled freed). --pin-path goes to cli (refused
 * from a file); --help prints cmd's help on stdout and sets p->help. */
int opt_parse(const struct opt_cmd *cmd, enum opt_source src, int n, char **words,
	      struct cli *cli, void *out, struct opt_parsed *p);
/* Whether the option may be given more than once (the list types). */
bool opt_repeatable(const struct opt_def *o);
/* The number of positional words cmd takes. */
int opt_nargs(const struct opt_cmd *cmd);
/* Frees the lists opt_parse() filled in out. */
void opt_free(const struct opt_cmd *cmd, void *out);
bool opt_given(const struct opt_parsed *p, const char *name);

/* For a command of verbs (words[0] "group"): the verb's table, found as the
 * first word that is no option (only --pin-path and --help may come before
 * it), and its index in *at. NULL: no verb, or an unknown one (*at then
 * says which word, or -1 for none). */
const struct opt_cmd *opt_find_verb(const struct opt_cmd *cmd, int n, char **words, int *at);

/* --help, made from the table: usage lines, text, one line per option. */
void opt_print_help(FILE *f, const struct opt_cmd *cmd);
/* Usage lines only ("Usage: replicast group add ..." and the verbs'). */
void opt_print_usage(FILE *f, const struct opt_cmd *cmd);
/* One command's lines for `replicast --help`: synopsis and summary. */
void opt_print_summary(FILE *f, const struct opt_cmd *cmd);

/* The kernel's rule for device names (dev_valid_name). */
bool opt_valid_ifname(const char *name);
/* The order opt_parse() keeps prefix lists in. */
int opt_compare_prefixes(const void *a, const void *b);
/* Parses ADDR:PORT for the positional word `what` of cmd; one line on error. */
int opt_endpoint(const struct opt_cmd *cmd, const char *what, const char *text,
		 struct replicast_endpoint *ep);

/* GROUP: ADDR:PORT or ADDR:FIRST-LAST (*port_last: LAST, PORT for one). */
int opt_group(const struct opt_cmd *cmd, const char *text, struct replicast_endpoint *ep,
	      uint16_t *port_last);
/* DEST: ADDR:PORT, or a bare ADDR (port 0: the packet's own port); and the
 * same form back (REPLICAST_ENDPOINT_STRLEN fits it). */
int opt_dest(const struct opt_cmd *cmd, const char *text, struct replicast_endpoint *ep);
const char *opt_dest_format(const struct replicast_endpoint *ep, char *buf, size_t len);

/* The commands whose grammar is a table, for --help and completion. */
extern const struct opt_cmd opt_cmd_load, opt_cmd_unload, opt_cmd_group, opt_cmd_sub,
	opt_cmd_list, opt_cmd_stats, opt_cmd_save, opt_cmd_apply, opt_cmd_send, opt_cmd_serve,
	opt_cmd_agent, opt_cmd_fleet;
extern const struct opt_cmd opt_cmd_group_add, opt_cmd_group_del, opt_cmd_group_allow,
	opt_cmd_group_disallow, opt_cmd_group_set, opt_cmd_group_pick, opt_cmd_sub_add, opt_cmd_sub_del,
	opt_cmd_fleet_status;

/* The hidden `replicast --complete WORD...` mode (completion/replicast):
 * the candidates for the last word, one per line, or one line ":file",
 * ":dir", ":ifname", ":group", ":sub GROUP", ":source GROUP" or ":none"
 * for the script to fill from the system. cmds: the commands' tables. */
void opt_complete(FILE *f, const struct opt_cmd *const *cmds, int n, char **words);
/* The hidden `replicast --options`: "PATH --NAME" for every row of every
 * table (tests check each is in --help and completes). */
void opt_list_options(FILE *f, const struct opt_cmd *const *cmds);

#endif /* REPLICAST_CLI_OPT_H */
