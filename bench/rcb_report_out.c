// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The main report's files: results.csv, results.json, and the gnuplot
 * script with its data (plot.gp, plot-*.dat). */
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

void rpt_machine_info(int *cores, char *kernel, size_t klen, char *cpu, size_t clen)
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

static void rpt_json_str(FILE *f, const char *s)
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

static void rpt_json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.6g", v);
}

static void rpt_json_stat(FILE *f, const char *name, const struct stat3 *s, int last)
{
	fprintf(f, "\"%s\": ", name);
	if (!s->n) {
		fputs("null", f);
	} else {
		fputs("{\"median\": ", f);
		rpt_json_num(f, s->med);
		fputs(", \"min\": ", f);
		rpt_json_num(f, s->min);
		fputs(", \"max\": ", f);
		rpt_json_num(f, s->max);
		fputc('}', f);
	}
	fputs(last ? "" : ", ", f);
}

int rpt_write_outputs(const char *dir, const char *title)
{
	char path[4096], kernel[128], cpu[128], when[64];
	int cores;
	time_t now = time(NULL);
	FILE *f;

	rpt_machine_info(&cores, kernel, sizeof(kernel), cpu, sizeof(cpu));
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
	for (int i = 0; i < rpt_ncells; i++) {
		const struct cell *c = &rpt_cells[i];

		fprintf(f, "%d,%s,%d,%s,%d", c->size, c->method, c->receivers, c->status, c->nruns);
		for (int fi = F_DPS; fi <= F_LOSS; fi++) {
			const struct stat3 *s = &c->st[fi];

			if (s->n)
				fprintf(f, ",%.6g,%.6g,%.6g", s->med, s->min, s->max);
			else
				fputs(",,,", f);
		}
		if (c->nruns)
			fprintf(f, ",%.0f,%.0f,%.1f", rpt_median_of(c->handed, c->nruns),
				rpt_median_of(c->delivered, c->nruns), c->st[F_BG].med);
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
	rpt_json_str(f, title ? title : "");
	fprintf(f, ",\n  \"machine\": {\"cores\": %d, \"kernel\": ", cores);
	rpt_json_str(f, kernel);
	fputs(", \"cpu\": ", f);
	rpt_json_str(f, cpu);
	fputs("},\n  \"notes\": [", f);
	for (int i = 0; i < rpt_nnotes; i++) {
		fputs(i ? ", " : "", f);
		rpt_json_str(f, rpt_notes[i]);
	}
	fputs("],\n  \"units\": {\"deliveries_per_s\": \"deliveries counted at the receivers per second of sending\", "
	      "\"cpu_ns_per_delivery\": \"whole-machine user+nice+system+irq+softirq ns / deliveries\", "
	      "\"syscalls_per_packet_per_receiver\": \"syscalls entered by the sending process / datagrams handed (packets x receivers)\", "
	      "\"loss\": \"handed - delivered\"},\n  \"cells\": [\n", f);
	for (int i = 0; i < rpt_ncells; i++) {
		const struct cell *c = &rpt_cells[i];

		fprintf(f, "    {\"size\": %d, \"method\": ", c->size);
		rpt_json_str(f, c->method);
		fprintf(f, ", \"receivers\": %d, \"status\": ", c->receivers);
		rpt_json_str(f, c->status);
		fprintf(f, ", \"runs\": %d, \"runs_redone\": %d, \"runs_disturbed\": %d, \"runs_failed\": %d, ",
			c->nruns, c->nredone, c->ndisturbed, c->nfailed);
		rpt_json_stat(f, "deliveries_per_s", &c->st[F_DPS], 0);
		rpt_json_stat(f, "cpu_ns_per_delivery", &c->st[F_CPU], 0);
		rpt_json_stat(f, "syscalls_per_packet_per_receiver", &c->st[F_SPR], 0);
		rpt_json_stat(f, "loss", &c->st[F_LOSS], 0);
		rpt_json_stat(f, "loss_pct", &c->st[F_LOSSPCT], 0);
		rpt_json_stat(f, "background_busy_pct", &c->st[F_BG], 0);
		if (c->nbase)
			fprintf(f, "\"startup_subtracted\": {\"elapsed_ns\": %.0f, \"busy_ns\": %.0f, \"baseline_runs\": %d}, ",
				c->base_elapsed, c->base_busy, c->nbase);
		fputs("\"top_syscall\": ", f);
		rpt_json_str(f, c->top_syscall);
		fprintf(f, "}%s\n", i + 1 < rpt_ncells ? "," : "");
	}
	fputs("  ],\n  \"ratios\": [\n", f);
	{
		int first = 1;

		for (int si = 0; si < rpt_nsizes; si++)
			for (int ri = 0; ri < rpt_nrecvs; ri++) {
				struct ratio r;

				if (!rpt_find_ratio(rpt_sizes[si], rpt_recvs[ri], &r))
					continue;
				fprintf(f, "%s    {\"size\": %d, \"receivers\": %d, \"best_replicast_dps\": \"%s\", "
					   "\"best_user_space_dps\": \"%s\", \"deliveries_per_s_ratio\": ",
					first ? "" : ",\n", r.size, r.receivers, r.rc_dps->method,
					r.us_dps->method);
				rpt_json_num(f, r.rc_dps->st[F_DPS].med / r.us_dps->st[F_DPS].med);
				fprintf(f, ", \"best_replicast_cpu\": \"%s\", \"best_user_space_cpu\": \"%s\", "
					   "\"cpu_ns_per_delivery_ratio\": ",
					r.rc_cpu->method, r.us_cpu->method);
				rpt_json_num(f, r.rc_cpu->st[F_CPU].med / r.us_cpu->st[F_CPU].med);
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
			rpt_nsizes > 1 ? 900 : 480, rpt_nsizes, cores, kernel);
		if (rpt_nrecvs) {
			fputs("set xtics (", gp);
			for (int ri = 0; ri < rpt_nrecvs; ri++)
				fprintf(gp, "%s%d", ri ? ", " : "", rpt_recvs[ri]);
			fprintf(gp, ")\nset xrange [%g:%g]\n", rpt_recvs[0] / 1.6, rpt_recvs[rpt_nrecvs - 1] * 1.6);
		}
		for (int si = 0; si < rpt_nsizes; si++) {
			char plotline[2][8192];

			plotline[0][0] = plotline[1][0] = '\0';
			for (int i = 0; i < rpt_ncells; i++) {
				const struct cell *c = &rpt_cells[i];
				char dat[512], piece[1024];
				int lt;

				if (c->size != rpt_sizes[si] || !c->st[F_DPS].n)
					continue;
				/* First cell of this method for this size: write its file. */
				int seen = 0;
				for (int j = 0; j < i; j++)
					seen |= rpt_cells[j].size == c->size && !strcmp(rpt_cells[j].method, c->method) &&
						rpt_cells[j].st[F_DPS].n;
				if (seen)
					continue;
				snprintf(dat, sizeof(dat), "plot-%d-%s.dat", c->size, c->method);
				snprintf(path, sizeof(path), "%s/%s", dir, dat);
				f = fopen(path, "we");
				if (!f)
					return -1;
				fprintf(f, "# C dps_med dps_min dps_max cpu_med cpu_min cpu_max\n");
				for (int j = i; j < rpt_ncells; j++) {
					const struct cell *d = &rpt_cells[j];

					if (d->size == c->size && !strcmp(d->method, c->method) && d->st[F_DPS].n)
						fprintf(f, "%d %.6g %.6g %.6g %.6g %.6g %.6g\n", d->receivers,
							d->st[F_DPS].med, d->st[F_DPS].min, d->st[F_DPS].max,
							d->st[F_CPU].med, d->st[F_CPU].min, d->st[F_CPU].max);
				}
				fclose(f);
				lt = rpt_method_rank(c->method) + 1;
				for (int k = 0; k < 2; k++) {
					snprintf(piece, sizeof(piece),
						 "%s'%s' using 1:%d:%d:%d with yerrorlines lc rgb '%s' lw %d pt %d title '%s'",
						 plotline[k][0] ? ", " : "", dat, k ? 5 : 2, k ? 6 : 3, k ? 7 : 4,
						 rpt_method_color(c->method), rpt_is_replicast(c->method) ? 3 : 1, lt + 4,
						 c->method);
					strncat(plotline[k], piece, sizeof(plotline[k]) - strlen(plotline[k]) - 1);
				}
				plots++;
			}
			if (!plotline[0][0])
				continue;
			fprintf(gp, "set title 'deliveries/s, %d-byte payload'\nset ylabel 'deliveries per second'\n"
				    "plot %s\n",
				rpt_sizes[si], plotline[0]);
			fprintf(gp, "set title 'CPU ns per delivery (whole machine), %d-byte payload'\n"
				    "set ylabel 'CPU ns / delivery'\nplot %s\n",
				rpt_sizes[si], plotline[1]);
		}
		fputs("unset multiplot\n", gp);
		fclose(gp);
		if (!plots)
			fprintf(stderr, "rcbench report: nothing to plot\n");
	}
	return 0;
}

