// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libbpf's messages, which the CLI (an application, owner of its process's
 * settings) decides about: libreplicast never touches libbpf's process-wide
 * print function, so an embedder keeps whatever it chose. Without this,
 * libbpf would print its view of a failure on stderr beside the one line the
 * CLI prints for it. REPLICAST_LIBBPF_LOG=1 shows its warnings again, for
 * a bug report. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "cli.h"

static int libbpf_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void cli_libbpf_setup(void)
{
	const char *want = getenv("REPLICAST_LIBBPF_LOG");

	libbpf_set_print(want && !strcmp(want, "1") ? libbpf_warnings : NULL);
}
