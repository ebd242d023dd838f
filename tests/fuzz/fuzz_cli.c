// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target for the command line: the input is split into words
 * (newline or NUL) and run as `replicast WORDS...` against a pin path that
 * cannot exist, so every command parses its options and then stops at "not
 * loaded" (or earlier; send too, which opens its sockets and rings only
 * once it is): option handling is what is exercised (the tables'
 * parser, their --help, the hidden --complete), nothing is loaded or
 * changed. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#define main replicast_cli_main
#include "../../user/cli/replicast.c"
#undef main

#define MAX_WORDS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_WORDS + 2], *buf, *w;
	int argc = 1;
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
		argv[argc++] = w;
skip:
		w = buf + at + 1;
	}
	argv[argc] = NULL;
	setenv("REPLICAST_PIN_PATH", "/nonexistent-rcfuzz/replicast", 1);
	replicast_cli_main(argc, argv);
	free(buf);
	return 0;
}
