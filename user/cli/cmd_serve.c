// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* replicast serve: the relay engine as a service. Runs engine threads for
 * the streams that arrive on the attached devices (replicast_relay_start)
 * until SIGTERM or SIGINT, then detaches, drains the ring and exits 0. The
 * TC replicator relays while it does not run. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"

static const char serve_usage[] =
	"Usage: replicast serve [--threads N] [--ring-slots N] [--idle-ms MS|never]\n"
	"                       [--peer-gro] [--stats-every SECONDS]\n"
	"Fans out the streams that arrive on the attached devices through the XDP\n"
	"engine instead of the TC clone path, until SIGTERM or SIGINT. Each engine\n"
	"thread (--threads, 1..16, default 1) keeps a core busy while packets flow;\n"
	"after --idle-ms (default 200) without any, the threads sleep and use no CPU,\n"
	"the TC path fans out the first packets that come, and the engine takes over\n"
	"again within microseconds. If serve stops or is killed, the TC path relays\n"
	"everything again; a kill loses what the ring held (at most --ring-slots\n"
	"packets, default 4096). --peer-gro switches GRO on at the peers of veth\n"
	"egress devices, which XDP frames need. The relay's counters go to stdout\n"
	"at exit, and every SECONDS with --stats-every.\n";

/* The loop's tick: the relay's own periodic work (new egress devices;
 * devices attached since, once a second) runs on every one. */
#define TICK_MS 100
#define TICKS_PER_SECOND (1000 / TICK_MS)

static void print_stats(struct replicast_relay *r)
{
	struct replicast_relay_stats st = { .sz = sizeof(st) };

	if (replicast_relay_stats(r, &st))
		return;
	printf("taken %llu copies %llu copies_dropped %llu passed_ring_full %llu "
	       "passed_asleep %llu passed_policy %llu passed_unsupported %llu parks %llu%s\n",
	       (unsigned long long)st.taken, (unsigned long long)st.copies,
	       (unsigned long long)st.copies_dropped, (unsigned long long)st.passed_ring_full,
	       (unsigned long long)st.passed_asleep, (unsigned long long)st.passed_policy,
	       (unsigned long long)st.passed_unsupported, (unsigned long long)st.engine_parks,
	       st.asleep ? " (asleep)" : "");
	fflush(stdout);
}

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "ring-slots", required_argument, NULL, 'r' },
		{ "idle-ms", required_argument, NULL, 'i' },
		{ "peer-gro", no_argument, NULL, 'g' },
		{ "stats-every", required_argument, NULL, 's' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct replicast_relay_opts o = { .sz = sizeof(o) };
	struct replicast_relay_stats st = { .sz = sizeof(st) };
	struct timespec tick = { .tv_sec = 0, .tv_nsec = TICK_MS * 1000000L };
	unsigned int v, stats_every = 0, ticks = 0;
	struct replicast_relay *r;
	struct replicast *rc;
	sigset_t stop;
	int c, ret, err, sig;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 't':
			ret = cli_parse_u32(optarg, "--threads", &v);
			if (ret)
				return ret;
			if (v < 1 || v > REPLICAST_ENGINE_MAX_THREADS)
				return cli_error(EXIT_USAGE, "serve: --threads takes 1 to %d, not %u",
						 REPLICAST_ENGINE_MAX_THREADS, v);
			o.threads = v;
			break;
		case 'r':
			ret = cli_parse_u32(optarg, "--ring-slots", &v);
			if (ret)
				return ret;
			if (v < REPLICAST_ENGINE_MIN_RING || v > REPLICAST_ENGINE_MAX_RING || (v & (v - 1)))
				return cli_error(EXIT_USAGE, "serve: --ring-slots takes a power of two "
						 "from %d to %u, not %u", REPLICAST_ENGINE_MIN_RING,
						 REPLICAST_ENGINE_MAX_RING, v);
			o.ring_slots = v;
			break;
		case 'i':
			if (!strcmp(optarg, "never")) {
				o.idle_ms = -1;
				break;
			}
			ret = cli_parse_u32(optarg, "--idle-ms", &v);
			if (ret)
				return ret;
			if (!v)
				return cli_error(EXIT_USAGE, "serve: --idle-ms takes MS > 0 or 'never'");
			o.idle_ms = (int)(v > 1000000 ? 1000000 : v);
			break;
		case 'g':
			o.peer_gro = true;
			break;
		case 's':
			ret = cli_parse_u32(optarg, "--stats-every", &stats_every);
			if (ret)
				return ret;
			break;
		default:
			ret = cli_common_option(cli, c, serve_usage);
			if (ret)
				return ret < 0 ? EXIT_USAGE : ret;
		}
	}
	if (optind < argc)
		return cli_error(EXIT_USAGE, "serve: unexpected argument '%s'", argv[optind]);

	/* Taken by sigtimedwait() below, never by a handler: blocked before
	 * any thread exists, so the engine's threads block them too. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);

	ret = cli_open(cli, &rc);
	if (ret)
		return ret;
	err = replicast_relay_start(rc, &o, &r);
	if (err) {
		replicast_close(rc);
		return cli_lib_error(err, "serve");
	}
	if (replicast_relay_stats(r, &st) || !st.devices) {
		replicast_relay_stop(r);
		replicast_close(rc);
		return cli_error(EXIT_FAIL, "serve: no attached device could take the relay engine "
				 "(see above; 'replicast load --dev IFNAME' attaches one)");
	}
	fprintf(stderr, "serve: relaying %u device%s through the engine, %u thread%s\n",
		st.devices, st.devices == 1 ? "" : "s", st.engine_threads,
		st.engine_threads == 1 ? "" : "s");

	for (;;) {
		sig = sigtimedwait(&stop, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		err = replicast_relay_poll(r);
		if (err && err != -EINTR)
			fprintf(stderr, "serve: following the attachments: %s\n", replicast_strerror(err));
		if (++ticks % TICKS_PER_SECOND)
			continue;
		/* Once a second: periodic work that is not the relay's own goes
		 * here (memberships to hold, for one). */
		if (stats_every && !((ticks / TICKS_PER_SECOND) % stats_every))
			print_stats(r);
	}

	/* The last counters, for whoever reads the service's output. */
	print_stats(r);
	err = replicast_relay_stop(r);
	replicast_close(rc);
	if (err)
		return cli_lib_error(err, "serve: draining the ring");
	return EXIT_OK;
}
