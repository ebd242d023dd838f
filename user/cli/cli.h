/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared pieces of the replicast CLI: option parsing conventions, error
 * reporting, JSON output. The CLI uses only the public library API. */
#ifndef REPLICAST_CLI_H
#define REPLICAST_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "replicast.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
};

struct cli {
	const char *pin_path;
	bool json;
	/* cli_open() takes the writers' lock for the whole command (-batch),
	 * not only for each library call. */
	bool hold_lock;
};

/* Reports one error line on stderr; returns EXIT_FAIL or EXIT_USAGE. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An error from the library, explained for the object it concerns. */
int cli_lib_error(int err, const char *what);
/* The pin path the command uses: --pin-path, else the library's default for
 * this process (a static buffer). */
const char *cli_pin_path(const struct cli *cli);
/* The one line for -ENOMEDIUM: no bpffs outlives this command. */
int cli_no_bpffs(const struct cli *cli, const char *what);
/* The one line for -ESTALE: the pins are another namespace's, gone since. */
int cli_stale(const struct cli *cli, const char *what);
/* Whether ifname can be attached to (replicast_dev_check()), or the one line
 * saying why not, prefixed with what. */
int cli_check_dev(const char *what, const char *ifname);
/* The one line for -EACCES: the pin directory is not root's alone. */
int cli_unsafe_dir(const struct cli *cli, const char *what);
/* Opens the loaded replicast, with a clear message when it is not loaded. */
int cli_open(const struct cli *cli, struct replicast **rc);
/* Parses ADDR:PORT or [ADDR]:PORT, or reports a usage error naming `what`. */
int cli_parse_endpoint(const char *text, const char *what, struct replicast_endpoint *ep);
int cli_parse_u32(const char *text, const char *what, unsigned int *out);
int cli_require_root(void);
void cli_log(enum replicast_log_level level, const char *msg, void *ctx);

void json_string(FILE *f, const char *s);
/* Text from a file or the kernel, safe for a terminal: bytes other than
 * printable ASCII as \xHH, a backslash as \\ ("\e" reads "\x1b").
 * CLI_ESCAPE_LEN(n) holds any n bytes escaped. */
#define CLI_ESCAPE_LEN(n)	(4 * (n) + 1)
#define CLI_NAME_ESCAPED	CLI_ESCAPE_LEN(16)	/* any device name */
const char *cli_escape(const char *s, char *buf, size_t len);
void cli_escape_to(FILE *f, const char *s);
/* The UDP payload of one captured frame of link type dlt (DLT_*): 0 with
 * *payload, *len inside [p, p + caplen), or -1 for anything else. */
int cli_udp_payload(int dlt, const uint8_t *p, size_t caplen, const uint8_t **payload,
		    size_t *len);
/* A group's copy counters at one moment, for `send` to find lost copies. */
struct cli_copies {
	uint64_t received;		/* packets taken for fan-out */
	uint64_t copies;		/* copies sent, all subscribers */
	uint64_t dropped;		/* copies dropped, all subscribers */
	uint64_t skipped;		/* copies the subscribers' --sample/--from skipped */
	uint32_t subs;			/* subscribers switched on */
	uint32_t per_packet;		/* copies each packet makes: subs, or of a
					 * balance group one (none without subs) */
	uint64_t *drops;		/* per drop reason, all groups */
	size_t nreasons;
};
int cli_copies_read(struct replicast *rc, const struct replicast_endpoint *group,
		    struct cli_copies *c);
void cli_copies_free(struct cli_copies *c);
/* After a send of `packets` (to before->subs subscribers): waits briefly
 * for in-flight copies to be counted, then sets *lost to the copies that
 * did not go out (at least engine_dropped, the sender's own count) and
 * *expected to packets x subscribers; why gets the drop reasons that grew,
 * "redirect_failed 300, ...". */
int cli_copies_check(struct replicast *rc, const struct replicast_endpoint *group,
		     const struct cli_copies *before, uint64_t packets, uint64_t engine_dropped,
		     uint64_t *lost, uint64_t *expected, char *why, size_t why_len);
/* Prints groups as `list` (with_counters false) or `stats` shows them. */
void print_groups(const struct replicast_group_info *groups, size_t n, bool json,
		  bool with_counters);

/* Where the command being run came from ("FILE:LINE: " under -batch, else
 * ""): cli_error() puts it before every message. */
extern char cli_where[];
#define CLI_WHERE_LEN 256
/* Runs one command line (argv[0] is the command), as main() does. */
int cli_run(struct cli *cli, int argc, char **argv);
/* Runs the commands of FILE ("-": stdin) one per line, as `replicast -batch`
 * does; stops at the first that fails unless force. */
int cli_batch(const struct cli *cli, const char *file, bool force);

int cmd_load(struct cli *cli, int argc, char **argv);
int cmd_unload(struct cli *cli, int argc, char **argv);
int cmd_group(struct cli *cli, int argc, char **argv);
int cmd_sub(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_save(struct cli *cli, int argc, char **argv);
int cmd_apply(struct cli *cli, int argc, char **argv);

/* A subscriber's health (cli_health.c), after the rest of its line or
 * object: with_counters for stats, else for list. */
void cli_health_json(const struct replicast_sub_info *s, bool with_counters);
void cli_health_text(const struct replicast_sub_info *s, bool with_counters);

/* Sets libbpf's print function for this process (cli_libbpf.c). */
void cli_libbpf_setup(void);

#endif /* REPLICAST_CLI_H */
