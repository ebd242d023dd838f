// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target for the command line: the input is split into words
 * (newline or NUL) and run as `replicast WORDS...` against a pin path that
 * cannot exist, so every command parses its options and then stops at "not
 * loaded" (or earlier): option handling is what is exercised (the tables'
 * parser, their --help, the hidden --complete), nothing is loaded or
 * changed. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#define main replicast_cli_main
#include "../../user/cli/replicast.c"
#undef main

#define MAX_WORDS 32

/* --help and its abbreviations: the commands still on getopt (agent,
 * fleet; send is left out whole) exit on them; the others print help made
 * from their tables and return, which is worth fuzzing. */
static bool is_help(const char *w)
{
	return (w[0] == '-' && w[1] != '-' && strchr(w, 'h')) ||	/* -h, also in -jh */
	       !strncmp(w, "--h", 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_WORDS + 2], *buf, *w;
	bool getopt_cmd = false;
	int argc = 1, i, k;
	size_t at;

	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "replicast";
	for (w = buf, at = 0; at <= size && argc < MAX_WORDS + 1; at++) {
		if (buf[at] != '\n' && buf[at] != '\0')
			continue;
		buf[at] = '\0';
		/* Left out: "-" and /dev paths (standard input, devices that
		 * block), --watch (runs until stopped), --pin-path and --pcap
		 * alike (leave the fake path). */
		if (!strcmp(w, "-") || !strncmp(w, "/dev", 4) || !strncmp(w, "--w", 3) ||
		    !strncmp(w, "--p", 3))
			goto skip;
		if (!strcmp(w, "agent") || !strcmp(w, "fleet"))
			getopt_cmd = true;
		argv[argc++] = w;
skip:
		w = buf + at + 1;
	}
	for (i = k = 1; i < argc; i++)
		if (!(getopt_cmd && is_help(argv[i])))
			argv[k++] = argv[i];
	argc = k;
	argv[argc] = NULL;
	/* `send` waits on sockets and rings by design: its options are checked
	 * by tests/e2e/test_send*.sh instead. */
	if (argc > 1 && !strcmp(argv[1], "send")) {
		free(buf);
		return 0;
	}
	setenv("REPLICAST_PIN_PATH", "/nonexistent-rcfuzz/replicast", 1);
	optind = 1;
	replicast_cli_main(argc, argv);
	free(buf);
	return 0;
}
