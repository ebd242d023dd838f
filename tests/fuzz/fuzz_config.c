// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target for the configuration reader behind `replicast apply` and
 * `-batch`: any file must parse or be refused with a message, never crash;
 * what parses must print back to a file that parses to the same text. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cli_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *again = NULL, *first = NULL;
	size_t again_len = 0, first_len = 0;
	struct conf conf, conf2;
	FILE *in, *in2, *out;

	memset(&conf, 0, sizeof(conf));
	in = fmemopen((void *)data, size, "r");
	if (!in)
		return 0;
	if (conf_parse(in, "fuzz", &conf) == EXIT_OK) {
		out = open_memstream(&first, &first_len);
		conf_print(out, &conf, NULL);
		fclose(out);
		memset(&conf2, 0, sizeof(conf2));
		in2 = fmemopen(first, first_len ? first_len : 1, "r");
		if (!in2 || conf_parse(in2, "printed", &conf2) != EXIT_OK)
			abort();	/* what we print, we must read back */
		fclose(in2);
		out = open_memstream(&again, &again_len);
		conf_print(out, &conf2, NULL);
		fclose(out);
		if (again_len != first_len || memcmp(again, first, first_len))
			abort();
		conf_free(&conf2);
	}
	conf_free(&conf);
	fclose(in);
	free(first);
	free(again);
	return 0;
}
