// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Test tool: stands in for `replicast serve` as the holder of a relay's
 * source-specific memberships. Opens a holder, syncs it every 200 ms until
 * SIGTERM or SIGINT (or --seconds pass, a bounded run), then closes it.
 * Prints "synced N" after each sync whose result differs from the last
 * (N: its return value), so a test can wait for the first; the library's log
 * goes to stderr.
 * Usage: rc_ssm_hold --pin-path DIR [--seconds S] */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "replicast.h"

#define SYNC_EVERY_NS	(200 * 1000 * 1000)
#define DEFAULT_SECONDS	120

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void log_stderr(enum replicast_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "rc_ssm_hold: %s%s\n", level == REPLICAST_LOG_WARN ? "warning: " : "", msg);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pin-path", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 's' },
		{ 0 }
	};
	struct replicast_opts opts = { .sz = sizeof(opts), .log = log_stderr };
	struct sigaction sa = { .sa_handler = on_signal };
	struct replicast_ssm *ssm;
	struct replicast *rc;
	struct timespec start, now;
	long seconds = DEFAULT_SECONDS;
	int c, err, last = 1;

	while ((c = getopt_long(argc, argv, "p:s:", options, NULL)) != -1) {
		if (c == 'p')
			opts.pin_path = optarg;
		else if (c == 's' && (seconds = strtol(optarg, NULL, 10)) > 0)
			;
		else {
			fprintf(stderr, "usage: rc_ssm_hold --pin-path DIR [--seconds S]\n");
			return 2;
		}
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	err = replicast_open(&opts, &rc);
	if (err) {
		fprintf(stderr, "rc_ssm_hold: open: %s\n", replicast_strerror(err));
		return 1;
	}
	err = replicast_ssm_open(rc, &ssm);
	if (err) {
		fprintf(stderr, "rc_ssm_hold: holder: %s\n", replicast_strerror(err));
		replicast_close(rc);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		err = replicast_ssm_sync(ssm);
		if (err != last) {
			printf("synced %d\n", err);
			fflush(stdout);
			last = err;
		}
		nanosleep(&(struct timespec){ .tv_nsec = SYNC_EVERY_NS }, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (!stop && now.tv_sec - start.tv_sec < seconds);
	replicast_ssm_close(ssm);
	replicast_close(rc);
	return 0;
}
