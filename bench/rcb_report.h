/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef RCB_REPORT_H
#define RCB_REPORT_H

/* rcbench report --in RUNS.csv --out-dir DIR [--title TEXT] [--markdown FILE]
 * Reads the raw runs, prints a table per payload size and the replicast ratios,
 * writes DIR/results.csv, DIR/results.json and DIR/plot.gp (+ plot-*.dat). */
int rcb_report_main(int argc, char **argv);

#endif
