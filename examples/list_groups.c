// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Embedding libreplicast to read state: opens the loaded replicator and
 * prints each group with its subscribers.
 *   list_groups [PIN_PATH]
 * Build: cc list_groups.c $(pkg-config --cflags --libs libreplicast) */
#include <stdio.h>
#include <replicast.h>

int main(int argc, char **argv)
{
	struct replicast_opts opts = { .sz = sizeof(opts), .pin_path = argc > 1 ? argv[1] : NULL };
	char group[REPLICAST_ENDPOINT_STRLEN], dest[REPLICAST_ENDPOINT_STRLEN];
	struct replicast_group_info *groups;
	struct replicast *rc;
	size_t n, i, j;
	int err;

	err = replicast_open(&opts, &rc);
	if (err) {
		fprintf(stderr, "list_groups: %s\n", replicast_strerror(err));
		return 1;
	}
	err = replicast_groups_read(rc, &groups, &n);
	if (err) {
		fprintf(stderr, "list_groups: %s\n", replicast_strerror(err));
		replicast_close(rc);
		return 1;
	}
	for (i = 0; i < n; i++) {
		replicast_endpoint_format(&groups[i].group, group, sizeof(group));
		printf("%s %zu\n", group, groups[i].nsubs);
		for (j = 0; j < groups[i].nsubs; j++)
			printf("  %s\n", replicast_endpoint_format(&groups[i].subs[j].dest, dest,
								   sizeof(dest)));
	}
	replicast_groups_free(groups, n);
	replicast_close(rc);
	return 0;
}
