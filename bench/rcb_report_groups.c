// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The many-groups section of the report: per method and layout (G groups of
 * S subscribers, packets round-robin over the groups), the median over runs
 * of deliveries/s and CPU-ns per delivery, the latter as a ratio to the same
 * method's one-group cell 1xT (T = G x S, run the same way in the same
 * phase), against the target of at most RCB_GROUPS_TARGET; and the loss. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rcb_report_cells.h"

#define G_MAX_CELLS 64
#define G_MAX_RUNS 32

struct gcell {
	char method[32];
	char status[32];
	int groups, total, size;
	int n;
	double dps[G_MAX_RUNS], cpu[G_MAX_RUNS], loss[G_MAX_RUNS];
	int disturbed;
};

static const char *const order[] = {
	"sendto", "sendmmsg", "gso", "io_uring", "replicast-relay", "replicast-afxdp",
	"replicast-xdp", "replicast-xdp2",
};

static int rank(const char *m)
{
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (!strcmp(m, order[i]))
			return (int)i;
	return 99;
}

static int cmp_gcell(const void *a, const void *b)
{
	const struct gcell *x = a, *y = b;

	if (rank(x->method) != rank(y->method))
		return rank(x->method) - rank(y->method);
	return x->groups - y->groups;
}

static struct gcell *get(struct gcell *c, int *n, const char *m, int groups)
{
	for (int i = 0; i < *n; i++)
		if (c[i].groups == groups && !strcmp(c[i].method, m))
			return &c[i];
	if (*n == G_MAX_CELLS)
		return NULL;
	memset(&c[*n], 0, sizeof(c[*n]));
	snprintf(c[*n].method, sizeof(c[*n].method), "%s", m);
	c[*n].groups = groups;
	return &c[(*n)++];
}

int rcb_report_groups(FILE *out, int md, const char *path)
{
	struct gcell cells[G_MAX_CELLS];
	char line[1024], *f[32], b[4][64];
	int n = 0, bad = 0;
	FILE *in = path ? fopen(path, "re") : NULL;

	if (!in)
		return 0;
	while (fgets(line, sizeof(line), in)) {
		struct gcell *c;
		double handed, delivered, elapsed, busy;

		if (!strncmp(line, "size,", 5) || rcb_csv_split(line, f, 32) < 18)
			continue;
		c = get(cells, &n, f[1], atoi(f[17]));
		if (!c)
			continue;
		c->total = atoi(f[2]);
		c->size = atoi(f[0]);
		if (strcmp(f[4], "ok") && strcmp(f[4], "truncated")) {
			if (!c->n && strcmp(f[4], "redone"))
				snprintf(c->status, sizeof(c->status), "%s", f[4]);
			continue;
		}
		handed = atof(f[6]);
		delivered = atof(f[7]);
		elapsed = atof(f[8]);
		busy = atof(f[9]);
		if (c->n == G_MAX_RUNS || elapsed <= 0)
			continue;
		snprintf(c->status, sizeof(c->status), "%s", f[4]);
		c->dps[c->n] = delivered / (elapsed / 1e9);
		c->cpu[c->n] = delivered > 0 ? busy / delivered : NAN;
		c->loss[c->n] = handed - delivered;
		c->disturbed += atoi(f[16]) != 0;
		c->n++;
	}
	fclose(in);
	if (!n)
		return 0;
	qsort(cells, (size_t)n, sizeof(cells[0]), cmp_gcell);
	fprintf(out, md ? "\n**Many groups at once** (payload %d bytes, total fan-out T = %d): "
			  "median of runs; CPU-ns/delivery vs the same method's one group 1x%d "
			  "(target <= %.2f)\n\n"
			: "\nMany groups at once (payload %d B, total fan-out T = %d): median of runs; "
			  "CPU-ns/delivery vs the same method's one group 1x%d (target <= %.2f)\n",
		cells[0].size, cells[0].total, cells[0].total, RCB_GROUPS_TARGET);
	if (md)
		fputs("| method | layout | deliveries/s | CPU-ns/delivery | vs 1xT | loss (handed - delivered) |\n"
		      "|---|---|---:|---:|---:|---:|\n", out);
	else
		fprintf(out, "%-18s %-8s %-13s %-16s %-22s %s\n", "method", "layout", "deliveries/s",
			"CPU-ns/delivery", "vs 1xT", "loss");
	for (int i = 0; i < n; i++) {
		struct gcell *c = &cells[i], *one = NULL;
		char layout[32], ratio[64], cpu[32], loss[48];
		double med_cpu, one_cpu;

		snprintf(layout, sizeof(layout), "%dx%d", c->groups, c->groups ? c->total / c->groups : 0);
		if (!c->n) {
			if (md)
				fprintf(out, "| %s | %s | %s | | | |\n", c->method, layout, c->status);
			else
				fprintf(out, "%-18s %-8s %s\n", c->method, layout, c->status);
			continue;
		}
		for (int j = 0; j < n; j++)
			if (cells[j].groups == 1 && !strcmp(cells[j].method, c->method) && cells[j].n)
				one = &cells[j];
		med_cpu = rcb_median(c->cpu, c->n);
		one_cpu = one ? rcb_median(one->cpu, one->n) : NAN;
		if (c->groups == 1 || !one || isnan(one_cpu) || one_cpu <= 0)
			snprintf(ratio, sizeof(ratio), "%s", c->groups == 1 ? "1 (base)" : "-");
		else
			snprintf(ratio, sizeof(ratio), "x%.2f %s", med_cpu / one_cpu,
				 med_cpu / one_cpu <= RCB_GROUPS_TARGET ? "(met)" : "(missed)");
		snprintf(cpu, sizeof(cpu), "%.0f", med_cpu);
		{
			double l = rcb_median(c->loss, c->n);

			snprintf(loss, sizeof(loss), "%.0f%s", l, c->disturbed ? " (disturbed)" : "");
		}
		if (rcb_median(c->dps, c->n) <= 0)
			bad = 1;
		if (md)
			fprintf(out, "| %s | %s | %s | %s | %s | %s |\n", c->method, layout,
				rcb_human(rcb_median(c->dps, c->n), b[0], sizeof(b[0])), cpu, ratio, loss);
		else
			fprintf(out, "%-18s %-8s %-13s %-16s %-22s %s\n", c->method, layout,
				rcb_human(rcb_median(c->dps, c->n), b[0], sizeof(b[0])), cpu, ratio, loss);
	}
	return bad;
}
