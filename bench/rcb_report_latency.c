// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The latency section of the report: per cell (C receivers, paced rate) and
 * method, p50 / p99 / p99.9 / max of hand-off (the sender's CLOCK_MONOTONIC
 * stamp) to the receiver socket (the kernel's receive timestamp), the p99 as
 * a ratio to sendto's in the same cell, the samples read against those
 * expected, the rate the sender kept up, and the loss. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rcb_report_cells.h"

static void us(double ns, char *buf, size_t len)
{
	if (isnan(ns))
		snprintf(buf, len, "-");
	else if (ns >= 1e6)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.1f us", ns / 1e3);
}

struct lrow {
	char method[32], status[32];
	int c, rate;
	double samples, expected, p50, p99, p999, max, handed, delivered, elapsed;
};

int rcb_report_latency(FILE *out, int md, const char *path)
{
	struct lrow rows[128];
	char line[1024], *f[32];
	int n = 0, bad = 0, lastc = -1, lastrate = -1;
	FILE *in = path ? fopen(path, "re") : NULL;

	if (!in)
		return 0;
	while (fgets(line, sizeof(line), in) && n < 128) {
		struct lrow *r = &rows[n];

		if (!strncmp(line, "size,", 5) || rcb_csv_split(line, f, 32) < 13)
			continue;
		memset(r, 0, sizeof(*r));
		snprintf(r->method, sizeof(r->method), "%s", f[1]);
		r->c = atoi(f[2]);
		r->rate = atoi(f[3]);
		if (!f[5][0]) {
			snprintf(r->status, sizeof(r->status), "%s", f[4]);
		} else {
			r->samples = atof(f[4]);
			r->expected = atof(f[5]);
			r->p50 = atof(f[6]);
			r->p99 = atof(f[7]);
			r->p999 = atof(f[8]);
			r->max = atof(f[9]);
			r->handed = atof(f[10]);
			r->delivered = atof(f[11]);
			r->elapsed = atof(f[12]);
			if (!r->samples)
				bad = 1;
		}
		n++;
	}
	fclose(in);
	if (!n)
		return 0;
	fputs(md ? "\n**Latency**, hand-off to receiver socket (sender's CLOCK_MONOTONIC stamp in "
		   "the payload, receiver's SO_TIMESTAMPNS): one paced run per cell\n"
		 : "\nLatency, hand-off to receiver socket (sender's CLOCK_MONOTONIC stamp in the payload, "
		   "receiver's SO_TIMESTAMPNS): one paced run per cell\n", out);
	for (int i = 0; i < n; i++) {
		struct lrow *r = &rows[i];
		char p[4][32], rate[32], samples[64], loss[32], vs[32];
		double sendto_p99 = NAN, kept;

		if (r->c != lastc || r->rate != lastrate) {
			lastc = r->c;
			lastrate = r->rate;
			if (md)
				fprintf(out, "\nC = %d at %s packets/s\n\n| method | p50 | p99 | p99.9 | max | "
					"p99 vs sendto | sent at | samples / expected | loss |\n"
					"|---|---:|---:|---:|---:|---:|---:|---:|---:|\n", r->c,
					rcb_human(r->rate, rate, sizeof(rate)));
			else
				fprintf(out, "  C=%d at %s packets/s\n  %-16s %-10s %-10s %-10s %-10s %-14s %-10s %-18s %s\n",
					r->c, rcb_human(r->rate, rate, sizeof(rate)), "method", "p50", "p99",
					"p99.9", "max", "p99 vs sendto", "sent at", "samples/expected", "loss");
		}
		if (r->status[0]) {
			if (md)
				fprintf(out, "| %s | %s | | | | | | | |\n", r->method, r->status);
			else
				fprintf(out, "  %-16s %s\n", r->method, r->status);
			continue;
		}
		for (int j = 0; j < n; j++)
			if (rows[j].c == r->c && rows[j].rate == r->rate && !strcmp(rows[j].method, "sendto") &&
			    !rows[j].status[0])
				sendto_p99 = rows[j].p99;
		us(r->p50, p[0], sizeof(p[0]));
		us(r->p99, p[1], sizeof(p[1]));
		us(r->p999, p[2], sizeof(p[2]));
		us(r->max, p[3], sizeof(p[3]));
		if (isnan(sendto_p99) || sendto_p99 <= 0)
			snprintf(vs, sizeof(vs), "-");
		else
			snprintf(vs, sizeof(vs), "x%.2f", r->p99 / sendto_p99);
		/* Packets per second the sender kept up over its run. */
		kept = r->elapsed > 0 && r->c ? r->handed / r->c / (r->elapsed / 1e9) : NAN;
		rcb_human(kept, rate, sizeof(rate));
		snprintf(samples, sizeof(samples), "%.0f / %.0f", r->samples, r->expected);
		snprintf(loss, sizeof(loss), "%.0f", r->handed - r->delivered);
		if (md)
			fprintf(out, "| %s | %s | %s | %s | %s | %s | %s/s | %s | %s |\n", r->method, p[0], p[1],
				p[2], p[3], vs, rate, samples, loss);
		else
			fprintf(out, "  %-16s %-10s %-10s %-10s %-10s %-14s %-10s %-18s %s\n", r->method, p[0],
				p[1], p[2], p[3], vs, rate, samples, loss);
	}
	return bad;
}
