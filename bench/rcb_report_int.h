/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Between the files of the main report (rcbench report): the cells read from
 * runs.csv (rcb_report_runs.c), the tables and the sanity check
 * (rcb_report_tables.c), the CSV, JSON and gnuplot outputs
 * (rcb_report_out.c), and the command (rcb_report.c). */
#ifndef RCB_REPORT_INT_H
#define RCB_REPORT_INT_H

#include <stddef.h>
#include <stdio.h>

#define MAX_RUNS 4096
#define MAX_CELLS 512
#define MAX_VALS 64

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

struct ratio {
	int size, receivers;
	const struct cell *rc_dps, *us_dps, *rc_cpu, *us_cpu;
};

extern const char *const rpt_method_order[];
extern const size_t rpt_nmethods_known;
#define NMETHODS_KNOWN rpt_nmethods_known
extern struct cell rpt_cells[MAX_CELLS];
extern int rpt_ncells;
extern int rpt_sizes[16], rpt_nsizes, rpt_recvs[32], rpt_nrecvs;
extern const char *rpt_notes[16];
extern int rpt_nnotes;

const char *rpt_method_color(const char *m);
int rpt_is_replicast(const char *m);
struct stat3 rpt_stats(const double *v, int n);
double rpt_median_of(const double *v, int n);
int rpt_read_runs(const char *path);
int rpt_method_rank(const char *m);
int rpt_cmp_cell(const void *a, const void *b);
const char *rpt_human(double v, char *buf, size_t len);
const char *rpt_fmt_num(double v, int prec, char *buf, size_t len);
const char *rpt_fmt_stat(const struct stat3 *s, int kind, char *buf, size_t len);
int rpt_find_ratio(int size, int receivers, struct ratio *r);
void rpt_collect_axes(void);
void rpt_print_tables(FILE *out, int md, const char *title);
int rpt_check_cells(void);
void rpt_machine_info(int *cores, char *kernel, size_t klen, char *cpu, size_t clen);
int rpt_write_outputs(const char *dir, const char *title);

#endif /* RCB_REPORT_INT_H */
