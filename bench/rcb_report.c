// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Turns the raw runs (one CSV row per run, written by scripts/bench.sh from
 * `rcbench run`) into the benchmark's results: per cell (payload size, method,
 * receivers) the median, min and max over runs of deliveries/s, CPU-ns per
 * delivery, syscalls per packet per receiver and loss. */
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
#include "rcb_report.h"
#include "rcb_report_cells.h"

#define MAX_RUNS 4096
#define MAX_CELLS 512
#define MAX_VALS 64

/* Display order; anything else is appended in order of appearance. */
static const char *const method_order[] = {
	"sendto", "sendmmsg", "gso", "io_uring", "replicast-relay", "replicast-afxdp",
	"replicast-xdp", "replicast-xdp2",
};
#define NMETHODS_KNOWN (sizeof(method_order) / sizeof(method_order[0]))

static const char *method_color(const char *m)
{
	static const char *const colors[] = {
		"#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#d62728", "#8c1a1a", "#e377c2",
		"#17becf", "#7f7f7f",
	};
	int i = 0;

	while (i < (int)(sizeof(colors) / sizeof(colors[0])) - 1 && i < (int)NMETHODS_KNOWN &&
	       strcmp(m, method_order[i]))
		i++;
	return colors[i];
}

static int is_replicast(const char *m)
{
	return !strncmp(m, "replicast", 9);
}

struct stat3 {
	double med, min, max;
	int n;
};

enum fig { F_DPS, F_CPU, F_SPR, F_LOSS, F_LOSSPCT, F_BG, F_MAX };

/* One run's raw figures, as rcbench measured them. */
struct raw {
	double handed, delivered, elapsed, busy, syscalls, bg;
	int disturbed;
};

struct cell {
	int size;
	char method[32];
	int receivers;
	char status[32];	/* of the cell: ok, truncated, failed, not built */
	int nruns;		/* usable timed runs */
	int nfailed;
	int nredone;		/* runs disturbed by other work and run again */
	int ndisturbed;		/* kept runs that were disturbed all the same */
	struct raw timed[MAX_VALS];
	struct raw counting[MAX_VALS];	/* runs with the syscall counter */
	int ncounting;
	struct raw base[MAX_VALS];	/* start-up baselines (1 packet) of an exec'd sender */
	int nbase;
	double vals[F_MAX][MAX_VALS];
	struct stat3 st[F_MAX];
	double handed[MAX_VALS], delivered[MAX_VALS];
	double base_elapsed, base_busy;	/* subtracted start-up, medians of the baselines */
	char top_syscall[32];
};

static struct cell cells[MAX_CELLS];
static int ncells;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct stat3 stats(const double *v, int n)
{
	struct stat3 s = { .n = n };
	double t[MAX_VALS];

	if (!n)
		return s;
	memcpy(t, v, (size_t)n * sizeof(*t));
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	s.min = t[0];
	s.max = t[n - 1];
	s.med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	return s;
}

static double median_of(const double *v, int n)
{
	return stats(v, n).med;
}

static struct cell *cell_get(int size, const char *method, int receivers)
{
	for (int i = 0; i < ncells; i++)
		if (cells[i].size == size && cells[i].receivers == receivers &&
		    !strcmp(cells[i].method, method))
			return &cells[i];
	if (ncells == MAX_CELLS)
		return NULL;
	struct cell *c = &cells[ncells++];
	memset(c, 0, sizeof(*c));
	c->size = size;
	c->receivers = receivers;
	snprintf(c->method, sizeof(c->method), "%s", method);
	return c;
}

/* Splits a CSV line without quoting in place; returns the field count. */
static int split(char *line, char **f, int max)
{
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == ',') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

static int read_runs(const char *path)
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
		n = split(line, f, 32);
		if (n < 17) {
			fprintf(stderr, "rcbench report: %s:%d: %d fields, expected 17\n", path, lineno, n);
			continue;
		}
		/* size,method,receivers,run,status,packets_per_receiver,handed,delivered,
		 * elapsed_ns,busy_ns,syscalls,top_syscall,send_errors,rx_min,rx_max,
		 * bg_busy_pct,disturbed */
		c = cell_get(atoi(f[0]), f[1], atoi(f[2]));
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
	for (int i = 0; i < ncells; i++) {
		struct cell *c = &cells[i];
		double b_sc = 0, t[MAX_VALS];
		int nsc = 0;

		/* An exec'd sender (replicast send) starts a process inside the
		 * timed window; the built-in senders set up before it. Take the
		 * start-up, measured by 1-packet runs of the same cell, back out. */
		if (c->nbase) {
			for (int k = 0; k < c->nbase; k++)
				t[k] = c->base[k].elapsed;
			c->base_elapsed = median_of(t, c->nbase);
			for (int k = 0; k < c->nbase; k++)
				t[k] = c->base[k].busy;
			c->base_busy = median_of(t, c->nbase);
			nsc = 0;
			for (int k = 0; k < c->nbase; k++)
				if (!isnan(c->base[k].syscalls))
					t[nsc++] = c->base[k].syscalls;
			/* Start-up syscalls: the 1-packet run's, less the one call
			 * that sent its packet. */
			b_sc = nsc ? median_of(t, nsc) - 1 : 0;
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
			c->st[fi] = stats(t, n);
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
		c->st[F_SPR] = stats(t, nsc);
		if (!c->status[0])
			snprintf(c->status, sizeof(c->status), "failed");
	}
	return 0;
}

static int method_rank(const char *m)
{
	for (size_t i = 0; i < NMETHODS_KNOWN; i++)
		if (!strcmp(m, method_order[i]))
			return (int)i;
	return (int)NMETHODS_KNOWN;
}

static int cmp_cell(const void *a, const void *b)
{
	const struct cell *x = a, *y = b;
	int r;

	if (x->size != y->size)
		return y->size - x->size;	/* larger payload first: the default */
	r = method_rank(x->method) - method_rank(y->method);
	if (r)
		return r;
	r = strcmp(x->method, y->method);
	if (r)
		return r;
	return x->receivers - y->receivers;
}

/* 1234567 -> "1.23M" */
static const char *human(double v, char *buf, size_t len)
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

static const char *fmt_num(double v, int prec, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", prec, v);
	return buf;
}

/* "median [min..max]" */
static const char *fmt_stat(const struct stat3 *s, int kind, char *buf, size_t len)
{
	char a[32], b[32], c[32];

	if (!s->n) {
		snprintf(buf, len, "-");
		return buf;
	}
	switch (kind) {
	case F_DPS:
	case F_LOSS:
		human(s->med, a, sizeof(a));
		human(s->min, b, sizeof(b));
		human(s->max, c, sizeof(c));
		break;
	case F_CPU:
		fmt_num(s->med, 0, a, sizeof(a));
		fmt_num(s->min, 0, b, sizeof(b));
		fmt_num(s->max, 0, c, sizeof(c));
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

struct ratio {
	int size, receivers;
	const struct cell *rc_dps, *us_dps, *rc_cpu, *us_cpu;
};

static int find_ratio(int size, int receivers, struct ratio *r)
{
	memset(r, 0, sizeof(*r));
	r->size = size;
	r->receivers = receivers;
	for (int i = 0; i < ncells; i++) {
		const struct cell *c = &cells[i];

		if (c->size != size || c->receivers != receivers || !c->st[F_DPS].n)
			continue;
		if (is_replicast(c->method)) {
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

static int sizes[16], nsizes, recvs[32], nrecvs;
static const char *notes[16];
static int nnotes;

static void collect_axes(void)
{
	nsizes = nrecvs = 0;
	for (int i = 0; i < ncells; i++) {
		int j;

		for (j = 0; j < nsizes && sizes[j] != cells[i].size; j++)
			;
		if (j == nsizes && nsizes < 16)
			sizes[nsizes++] = cells[i].size;
		for (j = 0; j < nrecvs && recvs[j] != cells[i].receivers; j++)
			;
		if (j == nrecvs && nrecvs < 32)
			recvs[nrecvs++] = cells[i].receivers;
	}
	for (int i = 0; i < nrecvs; i++)
		for (int j = i + 1; j < nrecvs; j++)
			if (recvs[j] < recvs[i]) {
				int t = recvs[i];
				recvs[i] = recvs[j];
				recvs[j] = t;
			}
}

static void print_tables(FILE *out, int md, const char *title)
{
	char b[5][128];

	for (int si = 0; si < nsizes; si++) {
		int size = sizes[si], maxruns = 0;
		const char *prev = "";

		for (int i = 0; i < ncells; i++)
			if (cells[i].size == size && cells[i].nruns > maxruns)
				maxruns = cells[i].nruns;
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
		for (int i = 0; i < ncells; i++) {
			const struct cell *c = &cells[i];

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
			fmt_stat(&c->st[F_DPS], F_DPS, b[0], sizeof(b[0]));
			fmt_stat(&c->st[F_CPU], F_CPU, b[1], sizeof(b[1]));
			if (c->ncounting)
				fmt_stat(&c->st[F_SPR], F_SPR, b[2], sizeof(b[2]));
			else
				snprintf(b[2], sizeof(b[2]), "not counted");
			fmt_stat(&c->st[F_LOSS], F_LOSS, b[3], sizeof(b[3]));
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
		for (int ri = 0; ri < nrecvs; ri++) {
			struct ratio r;

			if (!find_ratio(size, recvs[ri], &r)) {
				int any = 0;

				for (int i = 0; i < ncells; i++)
					any |= cells[i].size == size && cells[i].receivers == recvs[ri];
				if (!any)
					continue;
				if (md)
					fprintf(out, "| %d | no replicast result | |\n", recvs[ri]);
				else
					fprintf(out, "  C=%-5d no replicast result\n", recvs[ri]);
				continue;
			}
			double dr = r.rc_dps->st[F_DPS].med / r.us_dps->st[F_DPS].med;
			double cr = r.rc_cpu->st[F_CPU].med / r.us_cpu->st[F_CPU].med;

			human(r.rc_dps->st[F_DPS].med, b[0], sizeof(b[0]));
			human(r.us_dps->st[F_DPS].med, b[1], sizeof(b[1]));
			if (md)
				fprintf(out, "| %d | **%.2fx** (%s %s vs %s %s) | **%.2fx** (%s %.0f vs %s %.0f ns) |\n",
					recvs[ri], dr, r.rc_dps->method, b[0], r.us_dps->method, b[1], cr,
					r.rc_cpu->method, r.rc_cpu->st[F_CPU].med, r.us_cpu->method,
					r.us_cpu->st[F_CPU].med);
			else
				fprintf(out, "  C=%-5d deliveries/s x%-6.2f (%s %s vs %s %s)   CPU-ns/delivery x%-6.2f (%s %.0f vs %s %.0f ns)\n",
					recvs[ri], dr, r.rc_dps->method, b[0], r.us_dps->method, b[1], cr,
					r.rc_cpu->method, r.rc_cpu->st[F_CPU].med, r.us_cpu->method,
					r.us_cpu->st[F_CPU].med);
		}
	}
}

/* Sanity checks of the measuring machinery, for the quick run in `make test`:
 * every method that ran delivered something, nothing failed, and the syscall
 * counter sees what each method is known to do per datagram. */
static int check_cells(void)
{
	int bad = 0, cells_counted = 0;

	for (int i = 0; i < ncells; i++)
		cells_counted |= cells[i].ncounting > 0;

	for (int i = 0; i < ncells; i++) {
		const struct cell *c = &cells[i];
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

static void machine_info(int *cores, char *kernel, size_t klen, char *cpu, size_t clen)
{
	struct utsname u;
	char line[256];
	FILE *f;

	*cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
	snprintf(kernel, klen, "%s", uname(&u) ? "?" : u.release);
	snprintf(cpu, clen, "?");
	f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10)) {
			char *v = strchr(line, ':');

			if (v) {
				v += 1 + (v[1] == ' ');
				v[strcspn(v, "\n")] = '\0';
				snprintf(cpu, clen, "%s", v);
			}
			break;
		}
	fclose(f);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.6g", v);
}

static void json_stat(FILE *f, const char *name, const struct stat3 *s, int last)
{
	fprintf(f, "\"%s\": ", name);
	if (!s->n) {
		fputs("null", f);
	} else {
		fputs("{\"median\": ", f);
		json_num(f, s->med);
		fputs(", \"min\": ", f);
		json_num(f, s->min);
		fputs(", \"max\": ", f);
		json_num(f, s->max);
		fputc('}', f);
	}
	fputs(last ? "" : ", ", f);
}

static int write_outputs(const char *dir, const char *title)
{
	char path[4096], kernel[128], cpu[128], when[64];
	int cores;
	time_t now = time(NULL);
	FILE *f;

	machine_info(&cores, kernel, sizeof(kernel), cpu, sizeof(cpu));
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));

	snprintf(path, sizeof(path), "%s/results.csv", dir);
	f = fopen(path, "we");
	if (!f)
		return -1;
	fprintf(f, "size,method,receivers,status,runs,"
		   "deliveries_per_s_median,deliveries_per_s_min,deliveries_per_s_max,"
		   "cpu_ns_per_delivery_median,cpu_ns_per_delivery_min,cpu_ns_per_delivery_max,"
		   "syscalls_per_packet_per_receiver_median,syscalls_per_packet_per_receiver_min,"
		   "syscalls_per_packet_per_receiver_max,loss_median,loss_min,loss_max,"
		   "handed_median,delivered_median,background_busy_pct_median,runs_redone,runs_disturbed\n");
	for (int i = 0; i < ncells; i++) {
		const struct cell *c = &cells[i];

		fprintf(f, "%d,%s,%d,%s,%d", c->size, c->method, c->receivers, c->status, c->nruns);
		for (int fi = F_DPS; fi <= F_LOSS; fi++) {
			const struct stat3 *s = &c->st[fi];

			if (s->n)
				fprintf(f, ",%.6g,%.6g,%.6g", s->med, s->min, s->max);
			else
				fputs(",,,", f);
		}
		if (c->nruns)
			fprintf(f, ",%.0f,%.0f,%.1f", median_of(c->handed, c->nruns),
				median_of(c->delivered, c->nruns), c->st[F_BG].med);
		else
			fputs(",,,", f);
		fprintf(f, ",%d,%d\n", c->nredone, c->ndisturbed);
	}
	fclose(f);

	snprintf(path, sizeof(path), "%s/results.json", dir);
	f = fopen(path, "we");
	if (!f)
		return -1;
	fprintf(f, "{\n  \"generated\": \"%s\",\n  \"title\": ", when);
	json_str(f, title ? title : "");
	fprintf(f, ",\n  \"machine\": {\"cores\": %d, \"kernel\": ", cores);
	json_str(f, kernel);
	fputs(", \"cpu\": ", f);
	json_str(f, cpu);
	fputs("},\n  \"notes\": [", f);
	for (int i = 0; i < nnotes; i++) {
		fputs(i ? ", " : "", f);
		json_str(f, notes[i]);
	}
	fputs("],\n  \"units\": {\"deliveries_per_s\": \"deliveries counted at the receivers per second of sending\", "
	      "\"cpu_ns_per_delivery\": \"whole-machine user+nice+system+irq+softirq ns / deliveries\", "
	      "\"syscalls_per_packet_per_receiver\": \"syscalls entered by the sending process / datagrams handed (packets x receivers)\", "
	      "\"loss\": \"handed - delivered\"},\n  \"cells\": [\n", f);
	for (int i = 0; i < ncells; i++) {
		const struct cell *c = &cells[i];

		fprintf(f, "    {\"size\": %d, \"method\": ", c->size);
		json_str(f, c->method);
		fprintf(f, ", \"receivers\": %d, \"status\": ", c->receivers);
		json_str(f, c->status);
		fprintf(f, ", \"runs\": %d, \"runs_redone\": %d, \"runs_disturbed\": %d, \"runs_failed\": %d, ",
			c->nruns, c->nredone, c->ndisturbed, c->nfailed);
		json_stat(f, "deliveries_per_s", &c->st[F_DPS], 0);
		json_stat(f, "cpu_ns_per_delivery", &c->st[F_CPU], 0);
		json_stat(f, "syscalls_per_packet_per_receiver", &c->st[F_SPR], 0);
		json_stat(f, "loss", &c->st[F_LOSS], 0);
		json_stat(f, "loss_pct", &c->st[F_LOSSPCT], 0);
		json_stat(f, "background_busy_pct", &c->st[F_BG], 0);
		if (c->nbase)
			fprintf(f, "\"startup_subtracted\": {\"elapsed_ns\": %.0f, \"busy_ns\": %.0f, \"baseline_runs\": %d}, ",
				c->base_elapsed, c->base_busy, c->nbase);
		fputs("\"top_syscall\": ", f);
		json_str(f, c->top_syscall);
		fprintf(f, "}%s\n", i + 1 < ncells ? "," : "");
	}
	fputs("  ],\n  \"ratios\": [\n", f);
	{
		int first = 1;

		for (int si = 0; si < nsizes; si++)
			for (int ri = 0; ri < nrecvs; ri++) {
				struct ratio r;

				if (!find_ratio(sizes[si], recvs[ri], &r))
					continue;
				fprintf(f, "%s    {\"size\": %d, \"receivers\": %d, \"best_replicast_dps\": \"%s\", "
					   "\"best_user_space_dps\": \"%s\", \"deliveries_per_s_ratio\": ",
					first ? "" : ",\n", r.size, r.receivers, r.rc_dps->method,
					r.us_dps->method);
				json_num(f, r.rc_dps->st[F_DPS].med / r.us_dps->st[F_DPS].med);
				fprintf(f, ", \"best_replicast_cpu\": \"%s\", \"best_user_space_cpu\": \"%s\", "
					   "\"cpu_ns_per_delivery_ratio\": ",
					r.rc_cpu->method, r.us_cpu->method);
				json_num(f, r.rc_cpu->st[F_CPU].med / r.us_cpu->st[F_CPU].med);
				fputc('}', f);
				first = 0;
			}
		fputs("\n  ]\n}\n", f);
	}
	fclose(f);

	/* Plot data: one file per (size, method) with C and the two figures. */
	{
		FILE *gp;
		int plots = 0;

		snprintf(path, sizeof(path), "%s/plot.gp", dir);
		gp = fopen(path, "we");
		if (!gp)
			return -1;
		fprintf(gp, "# Generated by rcbench report. Run: gnuplot plot.gp (in this directory)\n"
			    "set terminal pngcairo noenhanced size 1600,%d font 'sans,10'\n"
			    "set output 'plot.png'\n"
			    "set multiplot layout %d,2 title 'replicast benchmark: %d cores, kernel %s (median of runs, bars: min..max)'\n"
			    "set logscale x 2\nset logscale y\nset grid xtics ytics mytics\nset mytics 10\n"
			    "set key outside right top vertical box\n"
			    "set format y '%%.0s%%c'\n"
			    "set xlabel 'receivers C'\n",
			nsizes > 1 ? 900 : 480, nsizes, cores, kernel);
		if (nrecvs) {
			fputs("set xtics (", gp);
			for (int ri = 0; ri < nrecvs; ri++)
				fprintf(gp, "%s%d", ri ? ", " : "", recvs[ri]);
			fprintf(gp, ")\nset xrange [%g:%g]\n", recvs[0] / 1.6, recvs[nrecvs - 1] * 1.6);
		}
		for (int si = 0; si < nsizes; si++) {
			char plotline[2][8192];

			plotline[0][0] = plotline[1][0] = '\0';
			for (int i = 0; i < ncells; i++) {
				const struct cell *c = &cells[i];
				char dat[512], piece[1024];
				int lt;

				if (c->size != sizes[si] || !c->st[F_DPS].n)
					continue;
				/* First cell of this method for this size: write its file. */
				int seen = 0;
				for (int j = 0; j < i; j++)
					seen |= cells[j].size == c->size && !strcmp(cells[j].method, c->method) &&
						cells[j].st[F_DPS].n;
				if (seen)
					continue;
				snprintf(dat, sizeof(dat), "plot-%d-%s.dat", c->size, c->method);
				snprintf(path, sizeof(path), "%s/%s", dir, dat);
				f = fopen(path, "we");
				if (!f)
					return -1;
				fprintf(f, "# C dps_med dps_min dps_max cpu_med cpu_min cpu_max\n");
				for (int j = i; j < ncells; j++) {
					const struct cell *d = &cells[j];

					if (d->size == c->size && !strcmp(d->method, c->method) && d->st[F_DPS].n)
						fprintf(f, "%d %.6g %.6g %.6g %.6g %.6g %.6g\n", d->receivers,
							d->st[F_DPS].med, d->st[F_DPS].min, d->st[F_DPS].max,
							d->st[F_CPU].med, d->st[F_CPU].min, d->st[F_CPU].max);
				}
				fclose(f);
				lt = method_rank(c->method) + 1;
				for (int k = 0; k < 2; k++) {
					snprintf(piece, sizeof(piece),
						 "%s'%s' using 1:%d:%d:%d with yerrorlines lc rgb '%s' lw %d pt %d title '%s'",
						 plotline[k][0] ? ", " : "", dat, k ? 5 : 2, k ? 6 : 3, k ? 7 : 4,
						 method_color(c->method), is_replicast(c->method) ? 3 : 1, lt + 4,
						 c->method);
					strncat(plotline[k], piece, sizeof(plotline[k]) - strlen(plotline[k]) - 1);
				}
				plots++;
			}
			if (!plotline[0][0])
				continue;
			fprintf(gp, "set title 'deliveries/s, %d-byte payload'\nset ylabel 'deliveries per second'\n"
				    "plot %s\n",
				sizes[si], plotline[0]);
			fprintf(gp, "set title 'CPU ns per delivery (whole machine), %d-byte payload'\n"
				    "set ylabel 'CPU ns / delivery'\nplot %s\n",
				sizes[si], plotline[1]);
		}
		fputs("unset multiplot\n", gp);
		fclose(gp);
		if (!plots)
			fprintf(stderr, "rcbench report: nothing to plot\n");
	}
	return 0;
}

int rcb_report_main(int argc, char **argv)
{
	const char *in = NULL, *dir = NULL, *title = NULL, *md = NULL, *gin = NULL, *lin = NULL;
	int opt, check = 0, extra_bad = 0;
	static const struct option opts[] = {
		{ "in", required_argument, NULL, 'i' },
		{ "out-dir", required_argument, NULL, 'o' },
		{ "title", required_argument, NULL, 't' },
		{ "markdown", required_argument, NULL, 'm' },
		{ "note", required_argument, NULL, 'n' },
		{ "check", no_argument, NULL, 'c' },
		{ "groups-in", required_argument, NULL, 'g' },
		{ "latency-in", required_argument, NULL, 'l' },
		{ 0 },
	};

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'i': in = optarg; break;
		case 'o': dir = optarg; break;
		case 't': title = optarg; break;
		case 'm': md = optarg; break;
		case 'c': check = 1; break;
		case 'g': gin = optarg; break;
		case 'l': lin = optarg; break;
		case 'n':
			if (nnotes < 16)
				notes[nnotes++] = optarg;
			break;
		default: return 2;
		}
	}
	if (!in || !dir) {
		fprintf(stderr, "usage: rcbench report --in RUNS.csv --out-dir DIR [--title T] [--markdown FILE]\n");
		return 2;
	}
	if (read_runs(in))
		return 1;
	qsort(cells, (size_t)ncells, sizeof(cells[0]), cmp_cell);
	collect_axes();
	print_tables(stdout, 0, title);
	extra_bad |= rcb_report_groups(stdout, 0, gin);
	extra_bad |= rcb_report_latency(stdout, 0, lin);
	if (nnotes)
		fputs("\nNotes:\n", stdout);
	for (int i = 0; i < nnotes; i++)
		printf("- %s\n", notes[i]);
	if (write_outputs(dir, title)) {
		fprintf(stderr, "rcbench report: writing into %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (md) {
		FILE *f = fopen(md, "we");
		char kernel[128], cpu[128];
		int cores;

		if (!f) {
			fprintf(stderr, "rcbench report: %s: %s\n", md, strerror(errno));
			return 1;
		}
		machine_info(&cores, kernel, sizeof(kernel), cpu, sizeof(cpu));
		fprintf(f, "Machine: %d cores (%s), kernel %s.%s%s\n", cores, cpu, kernel,
			title ? " Run: " : "", title ? title : "");
		print_tables(f, 1, NULL);
		rcb_report_groups(f, 1, gin);
		rcb_report_latency(f, 1, lin);
		if (nnotes)
			fputs("\nNotes:\n\n", f);
		for (int i = 0; i < nnotes; i++)
			fprintf(f, "- %s\n", notes[i]);
		fclose(f);
	}
	if (check && extra_bad)
		fprintf(stderr, "check: a many-groups or latency cell that ran delivered nothing\n");
	return check && (check_cells() || extra_bad) ? 3 : 0;
}
