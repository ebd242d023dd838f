/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Pieces shared by `replicast agent` and `replicast fleet`: running one of
 * the CLI's own commands with its input and output captured, and the
 * status document an agent writes. */
#ifndef REPLICAST_AGENT_H
#define REPLICAST_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include "cli.h"

/* Runs `replicast ARGV...` as cli_run() does, in a child process, with
 * standard input the len bytes of input and standard output and error
 * captured into *out and *err (NUL-terminated; free them). A child keeps
 * whatever a command leaves behind (libbpf objects, open handles, a stray
 * exit()) away from the agent. Returns the command's exit code, or -1 with
 * errno when no child could run. */
int agent_run_cli(const struct cli *cli, char **argv, const char *input, size_t len,
		  char **out, char **err);

/* What the agent knows about itself, for its status key. */
struct agent_state {
	int64_t applied_revision;	/* the config key's revision running now; 0: none */
	int64_t seen_revision;		/* the newest revision read */
	char error[1024];		/* the last failure, "" when the last apply worked */
};

/* The status JSON (one line): the state, this host's name and the counters
 * `replicast stats --json` prints. NULL when out of memory. */
char *agent_status_json(const struct cli *cli, const struct agent_state *st);

/* One relay's status, as `replicast fleet status` shows it. */
struct fleet_row {
	char *relay;			/* the status key without "status" */
	char *host;
	int64_t applied_revision;
	char *error;			/* NULL: none */
	uint64_t groups, subscribers, packets_in, copies_out;
	int64_t updated;		/* unix seconds */
};
/* -1 when text is not an agent's status. */
int fleet_row_parse(const char *key, const char *text, struct fleet_row *row);
void fleet_row_free(struct fleet_row *row);

#endif /* REPLICAST_AGENT_H */
