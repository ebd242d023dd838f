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
#include "opt.h"

struct serve_args {
	unsigned int threads, ring_slots, stats_every;
	const char *idle_ms;
	bool peer_gro;
};

static const struct opt_def serve_opts[] = {
	OPT_U32_ROW(struct serve_args, "threads", threads, "N", 1, REPLICAST_ENGINE_MAX_THREADS,
		    "engine threads (default 1); each keeps a core busy while packets flow (beyond "
		    "the first, only while the first alone is busy)"),
	OPT_U32_ROW(struct serve_args, "ring-slots", ring_slots, "N", REPLICAST_ENGINE_MIN_RING,
		    REPLICAST_ENGINE_MAX_RING, "ring slots, a power of two (default 4096): "
		    "what a kill may lose at most"),
	OPT_STRING_ROW(struct serve_args, "idle-ms", 0, idle_ms, "MS|never", OPT_C_NONE,
		       "sleep after MS without packets (default 200), or never"),
	OPT_FLAG_ROW(struct serve_args, "peer-gro", 0, peer_gro,
		     "switch GRO on at the peers of veth egress devices (XDP frames need it)"),
	OPT_U32_ROW(struct serve_args, "stats-every", stats_every, "SECONDS", 1, 86400,
		    "print the relay's counters every SECONDS (and always at exit)"),
	OPT_END,
};

const struct opt_cmd opt_cmd_serve = {
	.name = "serve",
	.path = "serve",
	.summary = "fan relayed streams out through the XDP engine; hold source-specific joins",
	.text = "Fans out the streams that arrive on the attached devices through the XDP\n"
		"engine instead of the TC clone path, until SIGTERM or SIGINT, and holds the\n"
		"source-specific memberships of the multicast groups that allow single hosts\n"
		"only (the kernel holds only any-source ones without a process). After\n"
		"--idle-ms without packets the engine threads sleep and use no CPU; the TC\n"
		"path fans out the first packets that come, and the engine takes over again\n"
		"once its threads are back in the kernel (milliseconds: an RCU grace\n"
		"period). If serve stops or is killed, the TC path relays\n"
		"everything again (a kill loses what the ring held, at most --ring-slots\n"
		"packets) and the source-specific memberships are left.\n",
	.opts = serve_opts,
};

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
	       "passed_asleep %llu passed_policy %llu passed_unsupported %llu parks %llu "
	       "solos %llu splits %llu naps %llu%s\n",
	       (unsigned long long)st.taken, (unsigned long long)st.copies,
	       (unsigned long long)st.copies_dropped, (unsigned long long)st.passed_ring_full,
	       (unsigned long long)st.passed_asleep, (unsigned long long)st.passed_policy,
	       (unsigned long long)st.passed_unsupported, (unsigned long long)st.engine_parks,
	       (unsigned long long)st.engine_solos, (unsigned long long)st.engine_splits,
	       (unsigned long long)st.engine_naps, st.asleep ? " (asleep)" : "");
	fflush(stdout);
}

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	struct replicast_relay_opts o = { .sz = sizeof(o) };
	struct replicast_relay_stats st = { .sz = sizeof(st) };
	struct timespec tick = { .tv_sec = 0, .tv_nsec = TICK_MS * 1000000L };
	struct serve_args args = {};
	struct replicast_ssm *ssm = NULL;
	unsigned int v, ticks = 0;
	struct replicast_relay *r;
	struct opt_parsed p;
	struct replicast *rc;
	sigset_t stop;
	int ret, err, sig;

	ret = opt_parse(&opt_cmd_serve, OPT_ARGV, argc, argv, cli, &args, &p);
	if (ret || p.help)
		return ret;
	o.threads = args.threads;
	if (args.ring_slots & (args.ring_slots - 1))
		return cli_error(EXIT_USAGE, "serve: --ring-slots '%u' is not a power of two",
				 args.ring_slots);
	o.ring_slots = args.ring_slots;
	if (args.idle_ms && !strcmp(args.idle_ms, "never")) {
		o.idle_ms = -1;
	} else if (args.idle_ms) {
		ret = cli_parse_u32(args.idle_ms, "--idle-ms", &v);
		if (ret)
			return ret;
		if (!v)
			return cli_error(EXIT_USAGE, "serve: --idle-ms takes MS > 0 or 'never'");
		o.idle_ms = (int)(v > 1000000 ? 1000000 : v);
	}
	o.peer_gro = args.peer_gro;

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
		if (err == -EBUSY)
			return cli_error(EXIT_FAIL, "serve: a relay engine already runs for this relay "
					 "(another replicast serve); stop it first");
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
	/* Source-specific memberships need a process to hold their sockets:
	 * this one, made current once a second. Another holder (a second
	 * relay process) keeps them; the engine runs either way. */
	err = replicast_ssm_open(rc, &ssm);
	if (err) {
		fprintf(stderr, "serve: not holding source-specific memberships: %s\n",
			err == -EBUSY ? "another process holds them" : replicast_strerror(err));
		ssm = NULL;
	} else {
		replicast_ssm_sync(ssm);
	}

	for (;;) {
		sig = sigtimedwait(&stop, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		err = replicast_relay_poll(r);
		if (err && err != -EINTR)
			fprintf(stderr, "serve: following the attachments: %s\n", replicast_strerror(err));
		if (++ticks % TICKS_PER_SECOND)
			continue;
		/* Once a second: the memberships follow the groups' allow lists
		 * and the attached devices (a sync that changes nothing makes no
		 * system call but its reads). */
		if (ssm)
			replicast_ssm_sync(ssm);
		if (args.stats_every && !((ticks / TICKS_PER_SECOND) % args.stats_every))
			print_stats(r);
	}

	/* The last counters, for whoever reads the service's output. */
	print_stats(r);
	replicast_ssm_close(ssm);
	err = replicast_relay_stop(r);
	replicast_close(rc);
	if (err)
		return cli_lib_error(err, "serve: draining the ring");
	return EXIT_OK;
}
