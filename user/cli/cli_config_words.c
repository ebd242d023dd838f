// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Words of a configuration or -batch line: how a line is split into them
 * (quotes, escapes, comments) and how save writes a word so that it is read
 * back as the same bytes. */
#include <stdbool.h>
#include <string.h>
#include "cli_config.h"

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int conf_split_line(char *line, char **words, int max, const char **why)
{
	char *in = line, *out = line;
	int n = 0;

	for (;;) {
		char quote = 0;

		while (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\n')
			in++;
		if (!*in || *in == '#')
			return n;
		if (n == max) {
			*why = "too many words on one line";
			return -1;
		}
		/* The word is rebuilt at out, which never passes in: quotes and
		 * backslashes only ever shorten it. */
		words[n++] = out;
		for (; *in; in++) {
			if (quote) {
				if (*in == quote) {
					quote = 0;
				} else if (*in == '\\' && quote == '"' && in[1] == 'x' &&
					   hex(in[2]) >= 0 && hex(in[3]) >= 0) {
					/* \xHH: a byte save wrote escaped, so that
					 * no device name reaches a terminal raw. */
					int b = hex(in[2]) << 4 | hex(in[3]);

					if (!b) {
						*why = "\\x00 in a word (a NUL byte ends any name)";
						return -1;
					}
					*out++ = (char)b;
					in += 3;
				} else if (*in == '\\' && quote == '"' && in[1]) {
					*out++ = *++in;
				} else {
					*out++ = *in;
				}
			} else if (*in == '\'' || *in == '"') {
				quote = *in;
			} else if (*in == '\\' && in[1]) {
				*out++ = *++in;
			} else if (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\n') {
				break;
			} else {
				*out++ = *in;
			}
		}
		if (quote) {
			*why = "a quote is not closed";
			return -1;
		}
		if (*in)
			in++;
		*out++ = '\0';
	}
}


bool conf_line_nul(const char *line, size_t len, size_t *col)
{
	const char *nul = memchr(line, '\0', len);

	if (!nul)
		return false;
	*col = (size_t)(nul - line) + 1;
	return true;
}

/* A word as conf_split_line() reads it back: bare when it is plain, else in
 * double quotes with " and \ escaped and any byte other than printable
 * ASCII as \xHH (device names may hold nearly any byte; what save prints,
 * apply must read as the same word, and a terminal must not run it). */
void conf_print_word(FILE *f, const char *w)
{
	const char *c;

	if (*w && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._:@%+=,-/[]") == strlen(w)) {
		fputs(w, f);
		return;
	}
	fputc('"', f);
	for (c = w; *c; c++) {
		unsigned char b = (unsigned char)*c;

		if (b < 0x20 || b >= 0x7f)
			fprintf(f, "\\x%02x", b);
		else if (b == '"' || b == '\\')
			fprintf(f, "\\%c", b);
		else
			fputc(b, f);
	}
	fputc('"', f);
}
