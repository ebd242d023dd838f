/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The lines that both run as commands (argv, -batch) and make up a
 * configuration file (apply): load, group, sub. Each is parsed by one
 * function over its option table (opt.h), whichever way it came, so a line
 * means the same in all three. */
#ifndef REPLICAST_CLI_LINES_H
#define REPLICAST_CLI_LINES_H

#include "opt.h"

/* `load` */
struct load_line {
	struct opt_names devs;		/* --dev, each once, in line order */
	unsigned int max_groups;	/* 0: not given */
	unsigned int max_subs;		/* 0: not given */
	bool upgrade;
	char inject_dev[IF_NAMESIZE];	/* "": not given */
	bool no_inject;
};

/* `group VERB GROUP ...` */
enum { RPATH_UNSET, RPATH_STRICT, RPATH_LOOSE };
/* --mode, --hash: 0 when not given, else the library's value + 1 */
enum { MODE_UNSET, MODE_REPLICATE, MODE_BALANCE };
enum { HASH_UNSET, HASH_SOURCE, HASH_FLOW };

struct group_line {
	const struct opt_cmd *verb;	/* &opt_cmd_group_add, ... */
	struct replicast_endpoint group;	/* a range: its first port */
	uint16_t port_last;		/* a range's last port; group.port for one */
	char name[REPLICAST_RANGE_STRLEN];	/* group, as the library writes it */
	struct replicast_prefix prefix;	/* allow, disallow: PREFIX */
	struct replicast_endpoint source;	/* pick: SOURCE (port 0: none given) */
	const char *prefix_text;
	struct opt_prefixes allow;	/* --allow-source (add) */
	uint64_t max_pps, max_bps;
	bool has_pps, has_bps;
	unsigned int ttl;		/* 0: not given */
	int reverse_path;		/* RPATH_* */
	int mode;			/* MODE_* */
	int hash;			/* HASH_* */
};

/* `sub VERB GROUP DEST ...` */
struct sub_line {
	const struct opt_cmd *verb;	/* &opt_cmd_sub_add or _del */
	struct replicast_endpoint group, dest;	/* dest.port 0: keeps the packet's */
	uint16_t group_last;		/* GROUP as a range: its last port; else group.port */
	char dev[IF_NAMESIZE];		/* "": the route's */
	uint8_t mac[6];
	bool has_mac;
	bool keep_source;
	unsigned int sample;		/* --sample; 0: every packet */
	bool sample_random;
	struct opt_prefixes from;	/* --from, sorted, each once */
	unsigned int health;		/* --health SECONDS; 0: never held off */
};

/* Each parses words[0..n) (words[0] is "load", "group", "sub") into a
 * zeroed line. Returns EXIT_OK, or EXIT_USAGE after one line naming what
 * is wrong; *help: --help was printed and nothing is to run. */
int load_line_parse(enum opt_source src, int n, char **words, struct cli *cli,
		    struct load_line *l, bool *help);
void load_line_free(struct load_line *l);
int group_line_parse(enum opt_source src, int n, char **words, struct cli *cli,
		     struct group_line *g, bool *help);
void group_line_free(struct group_line *g);
int sub_line_parse(enum opt_source src, int n, char **words, struct cli *cli,
		   struct sub_line *s, bool *help);
void sub_line_free(struct sub_line *s);

#endif /* REPLICAST_CLI_LINES_H */
