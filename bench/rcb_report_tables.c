// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The main report's tables (text and Markdown), the replicast-vs-user-space
 * ratios and the sanity check make test relies on. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include "rcb_report_int.h"

int rpt_sizes[16], rpt_nsizes, rpt_recvs[32], rpt_nrecvs;
const char *rpt_notes[16];
int rpt_nnotes;


const char *rpt_human(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (fabs(v) >= 1e9)
		snprintf(buf, len, "%.2fG", v / 1e9);
	else if (fabs(v) >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (fabs(v) >= 1e4)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

const char *rpt_fmt_num(double v, int prec, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", prec, v);
	return buf;
}

/* "median [min..max]" */
const char *rpt_fmt_stat(const struct stat3 *s, int kind, char *buf, size_t len)
{
	char a[32], b[32], c[32];

	if (!s->n) {
		snprintf(buf, len, "-");
		return buf;
	}
	switch (kind) {
	case F_DPS:
	case F_LOSS:
		rpt_human(s->med, a, sizeof(a));
		rpt_human(s->min, b, sizeof(b));
		rpt_human(s->max, c, sizeof(c));
		break;
	case F_CPU:
		rpt_fmt_num(s->med, 0, a, sizeof(a));
		rpt_fmt_num(s->min, 0, b, sizeof(b));
		rpt_fmt_num(s->max, 0, c, sizeof(c));
		break;
	default:
		/* Syscalls per datagram: 4 significant digits (1, 0.01565, 3.996e-05). */
		snprintf(a, sizeof(a), "%.4g", s->med);
		snprintf(b, sizeof(b), "%.4g", s->min);
		snprintf(c, sizeof(c), "%.4g", s->max);
		break;
	}
	if (s->n == 1 || !strcmp(b, c))
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s [%s..%s]", a, b, c);
	return buf;
}

int rpt_find_ratio(int size, int receivers, struct ratio *r)
{
	memset(r, 0, sizeof(*r));
	r->size = size;
	r->receivers = receivers;
	for (int i = 0; i < rpt_ncells; i++) {
		const struct cell *c = &rpt_cells[i];

		if (c->size != size || c->receivers != receivers || !c->st[F_DPS].n)
			continue;
		if (rpt_is_replicast(c->method)) {
			if (!r->rc_dps || c->st[F_DPS].med > r->rc_dps->st[F_DPS].med)
				r->rc_dps = c;
			if (c->st[F_CPU].n && (!r->rc_cpu || c->st[F_CPU].med < r->rc_cpu->st[F_CPU].med))
				r->rc_cpu = c;
		} else {
			if (!r->us_dps || c->st[F_DPS].med > r->us_dps->st[F_DPS].med)
				r->us_dps = c;
			if (c->st[F_CPU].n && (!r->us_cpu || c->st[F_CPU].med < r->us_cpu->st[F_CPU].med))
				r->us_cpu = c;
		}
	}
	return r->rc_dps && r->us_dps && r->rc_cpu && r->us_cpu;
}

void rpt_collect_axes(void)
{
	rpt_nsizes = rpt_nrecvs = 0;
	for (int i = 0; i < rpt_ncells; i++) {
		int j;

		for (j = 0; j < rpt_nsizes && rpt_sizes[j] != rpt_cells[i].size; j++)
			;
		if (j == rpt_nsizes && rpt_nsizes < 16)
			rpt_sizes[rpt_nsizes++] = rpt_cells[i].size;
		for (j = 0; j < rpt_nrecvs && rpt_recvs[j] != rpt_cells[i].receivers; j++)
			;
		if (j == rpt_nrecvs && rpt_nrecvs < 32)
			rpt_recvs[rpt_nrecvs++] = rpt_cells[i].receivers;
	}
	for (int i = 0; i < rpt_nrecvs; i++)
		for (int j = i + 1; j < rpt_nrecvs; j++)
			if (rpt_recvs[j] < rpt_recvs[i]) {
				int t = rpt_recvs[i];
				rpt_recvs[i] = rpt_recvs[j];
				rpt_recvs[j] = t;
			}
}

void rpt_print_tables(FILE *out, int md, const char *title)
{
	char b[5][128];

	for (int si = 0; si < rpt_nsizes; si++) {
		int size = rpt_sizes[si], maxruns = 0;
		const char *prev = "";

		for (int i = 0; i < rpt_ncells; i++)
			if (rpt_cells[i].size == size && rpt_cells[i].nruns > maxruns)
				maxruns = rpt_cells[i].nruns;
		if (md) {
			fprintf(out, "\n**Payload %d bytes**%s%s: median of %d run%s, [min..max] when they differ\n\n",
				size, title ? ", " : "", title ? title : "", maxruns, maxruns == 1 ? "" : "s");
			fprintf(out, "| method | C | deliveries/s | CPU-ns/delivery | syscalls/pkt/receiver | loss (handed - delivered) |\n");
			fprintf(out, "|---|---:|---:|---:|---:|---:|\n");
		} else {
			fprintf(out, "\nPayload %d bytes%s%s: median of %d run%s, [min..max] when they differ\n",
				size, title ? " - " : "", title ? title : "", maxruns, maxruns == 1 ? "" : "s");
			fprintf(out, "%-16s %5s  %-26s %-20s %-24s %s\n", "method", "C", "deliveries/s",
				"CPU-ns/delivery", "syscalls/pkt/receiver", "loss (handed-delivered)");
		}
		for (int i = 0; i < rpt_ncells; i++) {
			const struct cell *c = &rpt_cells[i];

			if (c->size != size)
				continue;
			if (!md && strcmp(prev, c->method) && prev[0])
				fputc('\n', out);
			prev = c->method;
			if (!c->st[F_DPS].n) {
				if (md)
					fprintf(out, "| %s | %d | %s | | | |\n", c->method, c->receivers, c->status);
				else
					fprintf(out, "%-16s %5d  %s\n", c->method, c->receivers, c->status);
				continue;
			}
			rpt_fmt_stat(&c->st[F_DPS], F_DPS, b[0], sizeof(b[0]));
			rpt_fmt_stat(&c->st[F_CPU], F_CPU, b[1], sizeof(b[1]));
			if (c->ncounting)
				rpt_fmt_stat(&c->st[F_SPR], F_SPR, b[2], sizeof(b[2]));
			else
				snprintf(b[2], sizeof(b[2]), "not counted");
			rpt_fmt_stat(&c->st[F_LOSS], F_LOSS, b[3], sizeof(b[3]));
			if (c->st[F_LOSSPCT].med >= 0.01)
				snprintf(b[4], sizeof(b[4]), " (%.2f%%)", c->st[F_LOSSPCT].med);
			else
				b[4][0] = '\0';
			if (c->nfailed) {
				size_t l = strlen(b[4]);

				snprintf(b[4] + l, sizeof(b[4]) - l, " (%d failed run%s)", c->nfailed,
					 c->nfailed == 1 ? "" : "s");
			}
			if (c->ndisturbed) {
				size_t l = strlen(b[4]);

				snprintf(b[4] + l, sizeof(b[4]) - l, " (%d of %d runs disturbed)",
					 c->ndisturbed, c->nruns);
			}
			if (md)
				fprintf(out, "| %s | %d | %s | %s | %s | %s%s |\n", c->method, c->receivers,
					b[0], b[1], b[2], b[3], b[4]);
			else
				fprintf(out, "%-16s %5d  %-26s %-20s %-24s %s%s%s%s\n", c->method, c->receivers,
					b[0], b[1], b[2], b[3], b[4],
					!strcmp(c->status, "truncated") ? "  (time cap hit)" : "", "");
		}
		/* The headline: replicast's best against user space's best. */
		if (md)
			fprintf(out, "\nBest replicast method against the best user-space method, %d-byte payload "
				"(deliveries/s: higher is better; CPU-ns/delivery: lower is better):\n\n"
				"| C | deliveries/s ratio | CPU-ns/delivery ratio |\n|---:|---|---|\n", size);
		else
			fprintf(out, "\nReplicast's best vs the best user-space method (%d B): "
				"deliveries/s ratio (>1: replicast faster), CPU-ns/delivery ratio (<1: replicast cheaper)\n",
				size);
		for (int ri = 0; ri < rpt_nrecvs; ri++) {
			struct ratio r;

			if (!rpt_find_ratio(size, rpt_recvs[ri], &r)) {
				int any = 0;

				for (int i = 0; i < rpt_ncells; i++)
					any |= rpt_cells[i].size == size && rpt_cells[i].receivers == rpt_recvs[ri];
				if (!any)
					continue;
				if (md)
					fprintf(out, "| %d | no replicast result | |\n", rpt_recvs[ri]);
				else
					fprintf(out, "  C=%-5d no replicast result\n", rpt_recvs[ri]);
				continue;
			}
			double dr = r.rc_dps->st[F_DPS].med / r.us_dps->st[F_DPS].med;
			double cr = r.rc_cpu->st[F_CPU].med / r.us_cpu->st[F_CPU].med;

			rpt_human(r.rc_dps->st[F_DPS].med, b[0], sizeof(b[0]));
			rpt_human(r.us_dps->st[F_DPS].med, b[1], sizeof(b[1]));
			if (md)
				fprintf(out, "| %d | **%.2fx** (%s %s vs %s %s) | **%.2fx** (%s %.0f vs %s %.0f ns) |\n",
					rpt_recvs[ri], dr, r.rc_dps->method, b[0], r.us_dps->method, b[1], cr,
					r.rc_cpu->method, r.rc_cpu->st[F_CPU].med, r.us_cpu->method,
					r.us_cpu->st[F_CPU].med);
			else
				fprintf(out, "  C=%-5d deliveries/s x%-6.2f (%s %s vs %s %s)   CPU-ns/delivery x%-6.2f (%s %.0f vs %s %.0f ns)\n",
					rpt_recvs[ri], dr, r.rc_dps->method, b[0], r.us_dps->method, b[1], cr,
					r.rc_cpu->method, r.rc_cpu->st[F_CPU].med, r.us_cpu->method,
					r.us_cpu->st[F_CPU].med);
		}
	}
}

/* Sanity checks of the measuring machinery, for the quick run in `make test`:
 * every method that ran delivered something, nothing failed, and the syscall
 * counter sees what each method is known to do per datagram. */
int rpt_check_cells(void)
{
	int bad = 0, cells_counted = 0;

	for (int i = 0; i < rpt_ncells; i++)
		cells_counted |= rpt_cells[i].ncounting > 0;

	for (int i = 0; i < rpt_ncells; i++) {
		const struct cell *c = &rpt_cells[i];
		double expect = 0, spr = c->st[F_SPR].med;

		if (!strcmp(c->status, "not built"))
			continue;
		if (!c->nruns || (c->ncounting == 0 && cells_counted)) {
			printf("check: %s C=%d %d B: %d failed run(s), %d usable, %d counting\n", c->method,
			       c->receivers, c->size, c->nfailed, c->nruns, c->ncounting);
			bad = 1;
			continue;
		}
		if (c->st[F_DPS].min <= 0 || c->st[F_CPU].n == 0) {
			printf("check: %s C=%d %d B: no deliveries counted\n", c->method, c->receivers, c->size);
			bad = 1;
		}
		if (!strcmp(c->method, "sendto"))
			expect = 1.0;
		else if (!strcmp(c->method, "sendmmsg") || !strcmp(c->method, "io_uring"))
			expect = 1.0 / 64;
		else if (!strcmp(c->method, "replicast-relay"))
			expect = 1.0 / c->receivers;
		if (expect > 0 && c->ncounting && (spr < expect * 0.99 || spr > expect * 1.1 + 0.001)) {
			printf("check: %s C=%d %d B: %.5f syscalls per datagram, expected about %.5f\n",
			       c->method, c->receivers, c->size, spr, expect);
			bad = 1;
		}
	}
	printf("check: %s\n", bad ? "FAILED" : "measurements look sane");
	return bad;
}

