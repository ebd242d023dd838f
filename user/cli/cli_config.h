/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The configuration model behind `replicast save` and `replicast apply`: a
 * load line, groups and their subscribers, read from a file of replicast
 * commands or from the running state, and written back as such a file. */
#ifndef REPLICAST_CLI_CONFIG_H
#define REPLICAST_CLI_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "replicast.h"

/* Words on one line (a load line of 500 devices fits). */
#define CONF_MAX_WORDS 512

/* Splits line in place into words: blanks separate, '...' and "..." quote,
 * a backslash escapes the next character (inside "...", \xHH is the byte
 * HH, as save writes bytes that are not printable ASCII), '#' at the start
 * of a word begins a comment. Returns the number of words, or -1 with *why set. */
int conf_split_line(char *line, char **words, int max, const char **why);
/* True when the len bytes getline() read hold a NUL (*col: its column, from
 * 1): the line would end there silently. */
bool conf_line_nul(const char *line, size_t len, size_t *col);

enum conf_inject {
	CONF_INJECT_DEFAULT,	/* neither option: the default pair */
	CONF_INJECT_NAMED,	/* --inject-dev NAME */
	CONF_INJECT_NONE,	/* --no-inject */
};

struct conf_sub {
	struct replicast_endpoint dest;
	char dev[IF_NAMESIZE];		/* "": whatever device the route says */
	bool has_mac;
	uint8_t mac[6];
	bool keep_source;
	uint32_t sample;		/* --sample; 0 or 1: every packet */
	bool sample_random;		/* --sample-random */
	size_t nfrom;			/* --from, in the order given */
	struct replicast_prefix from[REPLICAST_SUB_MAX_FROM];
	uint32_t health_s;		/* --health; 0: never held off */
	int line;			/* in the file; 0 for the running state */
};

/* Settings of a group beyond its address, one field (or a few) per row of
 * group_options[] in cli_config.c. A setting the line does not give has
 * its default value, so "the file says nothing" means "the default". */
struct conf_group_opts {
	struct replicast_prefix *sources;	/* --allow-source, sorted */
	size_t nsources;
	uint64_t max_pps;		/* --max-pps; 0: no cap */
	uint64_t max_bps;		/* --max-bps; 0: no cap */
	unsigned int ttl;		/* --ttl of a multicast group; 0: the default */
	bool loose;			/* --reverse-path loose */
	bool balance;			/* --mode balance */
	bool hash_flow;			/* --hash flow */
};

struct conf_group {
	struct replicast_endpoint group;	/* a port range: its first port */
	uint16_t port_last;		/* a range's last port; group.port for one */
	struct conf_group_opts opts;
	struct conf_sub *subs;
	size_t nsubs, cap;
	int line;
};

struct conf {
	bool has_load;
	int load_line;
	char (*devs)[IF_NAMESIZE];	/* --dev of the load line, in file order */
	size_t ndevs;
	unsigned int max_groups;	/* 0: not given */
	unsigned int max_subs;		/* 0: not given */
	enum conf_inject inject;
	char inject_dev[IF_NAMESIZE];
	bool upgrade;			/* --upgrade: replace the program (never saved) */
	struct conf_group *groups;
	size_t ngroups, cap;
};

/* Reads a whole configuration file (name is used in messages only). On a
 * bad line prints one error naming the line and returns EXIT_FAIL, as on a
 * read error. */
int conf_parse(FILE *f, const char *name, struct conf *conf);
/* The running state as a configuration. */
int conf_from_running(struct replicast *rc, struct conf *conf);
void conf_free(struct conf *conf);
/* The whole configuration as replicast commands, one per line. */
void conf_print(FILE *f, const struct conf *conf, const char *pin_path);

/* Single lines, as conf_print() writes them (no newline). */
void conf_print_load(FILE *f, const struct conf *conf);
/* One word as conf_split_line() reads it back, safe for a terminal. */
void conf_print_word(FILE *f, const char *w);
void conf_print_group(FILE *f, const struct conf_group *g);
void conf_print_sub(FILE *f, const struct conf_group *g, const struct conf_sub *s);
/* A subscriber's --sample, --sample-random, --from and --health, each with a leading blank. */
void conf_print_select(FILE *f, const struct conf_sub *s);

/* The group of exactly these ports (a group and a range on the same first
 * port are two groups: apply replaces one by the other), and the group
 * whose ports take in ep's port, or any of first..last. */
struct conf_group *conf_find_group(const struct conf *conf, const struct replicast_endpoint *ep,
				   uint16_t port_last);
struct conf_group *conf_group_at(const struct conf *conf, const struct replicast_endpoint *ep,
				 uint16_t port_last);
/* GROUP as a line names it (REPLICAST_RANGE_STRLEN), DEST likewise (a bare
 * address for port 0, REPLICAST_ENDPOINT_STRLEN). */
const char *conf_group_name(const struct conf_group *g, char *buf, size_t len);
const char *conf_dest_name(const struct replicast_endpoint *dest, char *buf, size_t len);
struct conf_sub *conf_find_sub(const struct conf_group *g, const struct replicast_endpoint *dest);

/* Group options (see group_options[] in cli_config.c). */
int conf_group_opts_read(const struct replicast_group_info *g, struct conf_group_opts *o);
void conf_group_opts_print(FILE *f, const struct conf_group_opts *o);
void conf_group_opts_free(struct conf_group_opts *o);
bool conf_group_opts_differ(const struct conf_group_opts *want, const struct conf_group_opts *have);
/* Makes the running group's options `want`; have: what runs now. Returns 0
 * or a negative errno, with *what naming the option that failed. */
int conf_group_opts_apply(struct replicast *rc, const struct replicast_endpoint *group,
			  const struct conf_group_opts *want, const struct conf_group_opts *have,
			  const char **what);

#endif /* REPLICAST_CLI_CONFIG_H */
