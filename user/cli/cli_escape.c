// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Printing text that came from a file or the kernel (device names, words of
 * a configuration line) to a terminal: a device name may hold nearly any
 * byte, and an escape sequence printed raw would be run by the terminal. */
#include <stdio.h>
#include "cli.h"

/* What may be printed as it is: printable ASCII except the backslash,
 * which starts an escape (so the escaped text reads back unambiguously). */
static int plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\';
}

const char *cli_escape(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	if (!len)
		return "";
	for (; *s && o + 1 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (plain(c)) {
			buf[o++] = (char)c;
		} else if (c == '\\') {
			if (o + 3 > len)
				break;
			buf[o++] = '\\';
			buf[o++] = '\\';
		} else {
			if (o + 5 > len)
				break;
			snprintf(buf + o, 5, "\\x%02x", c);
			o += 4;
		}
	}
	buf[o] = '\0';
	return buf;
}

void cli_escape_to(FILE *f, const char *s)
{
	char chunk[CLI_ESCAPE_LEN(16)], piece[17];
	size_t n;

	/* In pieces of 16 bytes: any length, no allocation. */
	while (*s) {
		for (n = 0; n < 16 && s[n]; n++)
			piece[n] = s[n];
		piece[n] = '\0';
		fputs(cli_escape(piece, chunk, sizeof(chunk)), f);
		s += n;
	}
}
