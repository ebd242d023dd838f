/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The report's sections beyond the main tables, one file each: the
 * many-groups cells (rcb_report_groups.c) and the latency cells
 * (rcb_report_latency.c), with what they share (rcb_report_util.c). */
#ifndef RCB_REPORT_CELLS_H
#define RCB_REPORT_CELLS_H

#include <stdio.h>

/* Target of issue 13: interleaved groups at most 20 % dearer per delivery
 * than one group of the same total fan-out. */
#define RCB_GROUPS_TARGET 1.20

/* Each prints its section (md: Markdown) from its CSV; nothing when the file
 * is missing or empty. Return 0, or 1 when a cell that ran delivered nothing
 * (the sanity check's business). */
int rcb_report_groups(FILE *out, int md, const char *path);
int rcb_report_latency(FILE *out, int md, const char *path);

/* Shared helpers. */
int rcb_csv_split(char *line, char **f, int max);
double rcb_median(double *v, int n);	/* sorts v; NAN when n == 0 */
const char *rcb_human(double v, char *buf, size_t len);	/* 1.23M, 45.6k */

#endif /* RCB_REPORT_CELLS_H */
