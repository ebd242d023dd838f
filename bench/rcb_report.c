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
#include "rcb_report_int.h"
#include "rcb_report_cells.h"


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
			if (rpt_nnotes < 16)
				rpt_notes[rpt_nnotes++] = optarg;
			break;
		default: return 2;
		}
	}
	if (!in || !dir) {
		fprintf(stderr, "usage: rcbench report --in RUNS.csv --out-dir DIR [--title T] [--markdown FILE]\n");
		return 2;
	}
	if (rpt_read_runs(in))
		return 1;
	qsort(rpt_cells, (size_t)rpt_ncells, sizeof(rpt_cells[0]), rpt_cmp_cell);
	rpt_collect_axes();
	rpt_print_tables(stdout, 0, title);
	extra_bad |= rcb_report_groups(stdout, 0, gin);
	extra_bad |= rcb_report_latency(stdout, 0, lin);
	if (rpt_nnotes)
		fputs("\nNotes:\n", stdout);
	for (int i = 0; i < rpt_nnotes; i++)
		printf("- %s\n", rpt_notes[i]);
	if (rpt_write_outputs(dir, title)) {
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
		rpt_machine_info(&cores, kernel, sizeof(kernel), cpu, sizeof(cpu));
		fprintf(f, "Machine: %d cores (%s), kernel %s.%s%s\n", cores, cpu, kernel,
			title ? " Run: " : "", title ? title : "");
		rpt_print_tables(f, 1, NULL);
		rcb_report_groups(f, 1, gin);
		rcb_report_latency(f, 1, lin);
		if (rpt_nnotes)
			fputs("\nNotes:\n\n", f);
		for (int i = 0; i < rpt_nnotes; i++)
			fprintf(f, "- %s\n", rpt_notes[i]);
		fclose(f);
	}
	if (check && extra_bad)
		fprintf(stderr, "check: a many-groups or latency cell that ran delivered nothing\n");
	return check && (rpt_check_cells() || extra_bad) ? 3 : 0;
}
