// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The main report's cells: runs.csv read into one cell per (payload size,
 * method, receivers), with the median, min and max over runs of
 * deliveries/s, CPU-ns per delivery, syscalls per packet per receiver and
 * loss, the exec'd senders' start-up taken out. */
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
#include "rcb_report_cells.h"

/* Display order; anything else is appended in order of appearance. */
const char *const rpt_method_order[] = {
	"sendto", "sendmmsg", "gso", "io_uring", "replicast-relay", "replicast-afxdp",
	"replicast-xdp", "replicast-xdp2",
};
const size_t rpt_nmethods_known = 8;

const char *rpt_method_color(const char *m)
{
	static const char *const colors[] = {
		"#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#d62728", "#8c1a1a", "#e377c2",
		"#17becf", "#7f7f7f",
	};
	int i = 0;

	while (i < (int)(sizeof(colors) / sizeof(colors[0])) - 1 && i < (int)NMETHODS_KNOWN &&
	       strcmp(m, rpt_method_order[i]))
		i++;
	return colors[i];
}

int rpt_is_replicast(const char *m)
{
	return !strncmp(m, "replicast", 9);
}

struct cell rpt_cells[MAX_CELLS];
int rpt_ncells;

static int rpt_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct stat3 rpt_stats(const double *v, int n)
{
	struct stat3 s = { .n = n };
	double t[MAX_VALS];

	if (!n)
		return s;
	memcpy(t, v, (size_t)n * sizeof(*t));
	qsort(t, (size_t)n, sizeof(*t), rpt_cmp_double);
	s.min = t[0];
	s.max = t[n - 1];
	s.med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	return s;
}

double rpt_median_of(const double *v, int n)
{
	return rpt_stats(v, n).med;
}

static struct cell *rpt_cell_get(int size, const char *method, int receivers)
{
	for (int i = 0; i < rpt_ncells; i++)
		if (rpt_cells[i].size == size && rpt_cells[i].receivers == receivers &&
		    !strcmp(rpt_cells[i].method, method))
			return &rpt_cells[i];
	if (rpt_ncells == MAX_CELLS)
		return NULL;
	struct cell *c = &rpt_cells[rpt_ncells++];
	memset(c, 0, sizeof(*c));
	c->size = size;
	c->receivers = receivers;
	snprintf(c->method, sizeof(c->method), "%s", method);
	return c;
}

int rpt_read_runs(const char *path)
{
	char line[1024], *f[32];
	FILE *in = fopen(path, "re");
	int lineno = 0;

	if (!in) {
		fprintf(stderr, "rcbench report: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), in)) {
		struct cell *c;
		int n;

		lineno++;
		if (lineno == 1 && !strncmp(line, "size,", 5))
			continue;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		n = rcb_csv_split(line, f, 32);
		if (n < 17) {
			fprintf(stderr, "rcbench report: %s:%d: %d fields, expected 17\n", path, lineno, n);
			continue;
		}
		/* size,method,receivers,run,status,packets_per_receiver,handed,delivered,
		 * elapsed_ns,busy_ns,syscalls,top_syscall,send_errors,rx_min,rx_max,
		 * bg_busy_pct,disturbed */
		c = rpt_cell_get(atoi(f[0]), f[1], atoi(f[2]));
		if (!c)
			continue;
		if (strcmp(f[4], "ok") && strcmp(f[4], "truncated")) {
			if (!strcmp(f[4], "failed"))
				c->nfailed++;
			if (!strcmp(f[4], "redone"))
				c->nredone++;
			if (!c->nruns)
				snprintf(c->status, sizeof(c->status), "%s", f[4]);
			continue;
		}
		struct raw r = {
			.handed = atof(f[6]),
			.delivered = atof(f[7]),
			.elapsed = atof(f[8]),
			.busy = atof(f[9]),
			.syscalls = f[10][0] ? atof(f[10]) : NAN,
			.bg = atof(f[15]),
			.disturbed = atoi(f[16]) != 0,
		};

		if (f[3][0] == 'b') {
			/* Baseline of an exec'd sender: 1 packet, start-up only. */
			if (c->nbase < MAX_VALS)
				c->base[c->nbase++] = r;
			continue;
		}
		if (f[3][0] == 'c') {
			/* Counting run: slowed by its counter, syscalls only. */
			if (c->ncounting < MAX_VALS && !isnan(r.syscalls) && r.handed > 0) {
				c->counting[c->ncounting++] = r;
				snprintf(c->top_syscall, sizeof(c->top_syscall), "%s", f[11]);
			}
			continue;
		}
		if (c->nruns == MAX_VALS || r.elapsed <= 0)
			continue;
		if (!c->nruns || !strcmp(f[4], "truncated"))
			snprintf(c->status, sizeof(c->status), "%s", f[4]);
		c->timed[c->nruns++] = r;
	}
	fclose(in);
	for (int i = 0; i < rpt_ncells; i++) {
		struct cell *c = &rpt_cells[i];
		double b_sc = 0, t[MAX_VALS];
		int nsc = 0;

		/* An exec'd sender (replicast send) starts a process inside the
		 * timed window; the built-in senders set up before it. Take the
		 * start-up, measured by 1-packet runs of the same cell, back out. */
		if (c->nbase) {
			for (int k = 0; k < c->nbase; k++)
				t[k] = c->base[k].elapsed;
			c->base_elapsed = rpt_median_of(t, c->nbase);
			for (int k = 0; k < c->nbase; k++)
				t[k] = c->base[k].busy;
			c->base_busy = rpt_median_of(t, c->nbase);
			nsc = 0;
			for (int k = 0; k < c->nbase; k++)
				if (!isnan(c->base[k].syscalls))
					t[nsc++] = c->base[k].syscalls;
			/* Start-up syscalls: the 1-packet run's, less the one call
			 * that sent its packet. */
			b_sc = nsc ? rpt_median_of(t, nsc) - 1 : 0;
			if (b_sc < 0)
				b_sc = 0;
		}
		for (int k = 0; k < c->nruns; k++) {
			const struct raw *r = &c->timed[k];
			double elapsed = r->elapsed - c->base_elapsed;
			double busy = r->busy - c->base_busy;

			if (elapsed <= 0)
				elapsed = r->elapsed;
			if (busy < 0)
				busy = 0;
			c->vals[F_DPS][k] = r->delivered / (elapsed / 1e9);
			c->vals[F_CPU][k] = r->delivered > 0 ? busy / r->delivered : NAN;
			c->vals[F_SPR][k] = NAN;
			c->vals[F_LOSS][k] = r->handed - r->delivered;
			c->vals[F_LOSSPCT][k] = r->handed > 0 ? 100.0 * (r->handed - r->delivered) / r->handed : 0;
			c->vals[F_BG][k] = r->bg;
			c->ndisturbed += r->disturbed;
			c->handed[k] = r->handed;
			c->delivered[k] = r->delivered;
		}
		for (int fi = 0; fi < F_MAX; fi++) {
			int n = 0;

			for (int k = 0; k < c->nruns; k++)
				if (!isnan(c->vals[fi][k]))
					t[n++] = c->vals[fi][k];
			c->st[fi] = rpt_stats(t, n);
		}
		nsc = 0;
		for (int k = 0; k < c->ncounting; k++) {
			const struct raw *r = &c->counting[k];

			/* A sender that makes next to no system call while it sends
			 * (the XDP engine) can come out below its own start-up: its
			 * calls are start-up and exit, which vary run to run. */
			if (r->handed > 0)
				t[nsc++] = (r->syscalls > b_sc ? r->syscalls - b_sc : 0) / r->handed;
		}
		c->st[F_SPR] = rpt_stats(t, nsc);
		if (!c->status[0])
			snprintf(c->status, sizeof(c->status), "failed");
	}
	return 0;
}

int rpt_method_rank(const char *m)
{
	for (size_t i = 0; i < NMETHODS_KNOWN; i++)
		if (!strcmp(m, rpt_method_order[i]))
			return (int)i;
	return (int)NMETHODS_KNOWN;
}

int rpt_cmp_cell(const void *a, const void *b)
{
	const struct cell *x = a, *y = b;
	int r;

	if (x->size != y->size)
		return y->size - x->size;	/* larger payload first: the default */
	r = rpt_method_rank(x->method) - rpt_method_rank(y->method);
	if (r)
		return r;
	r = strcmp(x->method, y->method);
	if (r)
		return r;
	return x->receivers - y->receivers;
}

/* 1234567 -> "1.23M" */
