// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast stats`: counters as text, JSON or the Prometheus text format
 * (for node_exporter's textfile collector), or live rates with --watch. */
#define _GNU_SOURCE	/* ppoll() */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "opt.h"

/* --watch refreshes at most this often and at least this rarely (seconds):
 * faster would measure mostly the read itself, slower is not "live". */
#define WATCH_MIN_INTERVAL 0.1
#define WATCH_MAX_INTERVAL 3600.0
#define WATCH_DEFAULT_INTERVAL 1.0

enum stats_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_PROMETHEUS };

struct stats_args {
	bool json;
	int format;			/* enum stats_format */
	double watch;			/* seconds between refreshes */
	unsigned int count;		/* 0: until stopped */
};

static const struct opt_value format_values[] = {
	{ "text", FORMAT_TEXT },
	{ "json", FORMAT_JSON },
	{ "prometheus", FORMAT_PROMETHEUS },
	{ NULL, 0 },
};

static const struct opt_def stats_opts[] = {
	OPT_FLAG_ROW(struct stats_args, "json", 'j', json, "the same as --format json"),
	OPT_ENUM_ROW(struct stats_args, "format", format, "FORMAT", format_values,
		     "text (default), json, or prometheus: the Prometheus text format, for "
		     "node_exporter's textfile collector (write to a temporary file and rename "
		     "it into the collector's directory, so it never reads half a file)"),
	{ .name = "watch", .type = OPT_SECONDS, .offset = offsetof(struct stats_args, watch),
	  .metavar = "SECONDS", .min_s = WATCH_MIN_INTERVAL, .max_s = WATCH_MAX_INTERVAL,
	  .def_s = WATCH_DEFAULT_INTERVAL, .flags = OPT_OPTIONAL_ARG,
	  .help = "live rates per group and per subscriber, refreshed every SECONDS; in "
		  "place on a terminal, one block per refresh otherwise. Ctrl-C stops it." },
	OPT_U32_ROW(struct stats_args, "count", count, "N", 1, 0xffffffffU,
		    "with --watch: stop after N refreshes"),
	OPT_END,
};

const struct opt_cmd opt_cmd_stats = {
	.name = "stats",
	.path = "stats",
	.synopsis = "[--json | --format FORMAT | --watch [SECONDS] [--count N]]",
	.summary = "packet and byte counters, drops by reason",
	.text = "Shows packets and bytes per group (received for fan-out, copies sent), per\n"
		"subscriber (copies sent, dropped, and skipped by its --sample or --from; the\n"
		"ICMP unreachable errors its receiver answered with, and whether --health holds\n"
		"it off) and packets not replicated, by reason.\n",
	.opts = stats_opts,
};

/* One reading of every counter, and when it was taken. */
struct sample {
	struct replicast_group_info *groups;
	size_t n;
	uint64_t *drops;
	int nreasons;
	bool relay_engine;	/* a relay engine (replicast serve) runs */
	struct timespec at;
};

static void sample_free(struct sample *s)
{
	replicast_groups_free(s->groups, s->n);
	free(s->drops);
	memset(s, 0, sizeof(*s));
}

static int sample_read(struct replicast *rc, struct sample *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->nreasons = replicast_drop_reason_count();
	s->drops = calloc(s->nreasons, sizeof(*s->drops));
	if (!s->drops)
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &s->at);
	err = replicast_drops_read(rc, s->drops, s->nreasons);
	if (!err)
		err = replicast_groups_read(rc, &s->groups, &s->n);
	if (err)
		sample_free(s);
	else
		s->relay_engine = replicast_relay_running(rc) == 1;
	return err;
}

/* ---- Prometheus text format -------------------------------------------- */

/* Label values escape backslash, double quote and newline (exposition
 * format 0.0.4); endpoints never hold them, but the format is the format. */
static void prom_label(const char *name, const char *value, bool first)
{
	printf("%s%s=\"", first ? "" : ",", name);
	for (; *value; value++) {
		if (*value == '\\' || *value == '"')
			printf("\\%c", *value);
		else if (*value == '\n')
			printf("\\n");
		else
			putchar(*value);
	}
	putchar('"');
}

static void prom_family(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

enum group_metric {
	G_SUBS, G_RX_PKTS, G_RX_BYTES, G_TX_PKTS, G_TX_BYTES, G_DENIED, G_LIMITED, G_SKIPPED,
};
enum sub_metric { S_PKTS, S_BYTES, S_DROPPED, S_SKIPPED, S_UNREACHABLE, S_HELD_OFF };

static const struct {
	const char *name, *type, *help;
} group_metrics[] = {
	[G_SUBS] = { "replicast_group_subscribers", "gauge",
		     "Subscribers of the group." },
	[G_RX_PKTS] = { "replicast_group_received_packets_total", "counter",
			"Packets sent to the group and taken for fan-out." },
	[G_RX_BYTES] = { "replicast_group_received_bytes_total", "counter",
			 "Bytes (whole frames) of the packets taken for fan-out." },
	[G_TX_PKTS] = { "replicast_group_sent_packets_total", "counter",
			"Copies sent, all subscribers of the group together." },
	[G_TX_BYTES] = { "replicast_group_sent_bytes_total", "counter",
			 "Bytes (whole frames) of the copies sent, all subscribers together." },
	[G_DENIED] = { "replicast_group_source_denied_packets_total", "counter",
		       "Packets from the network refused: source not in the allow list." },
	[G_LIMITED] = { "replicast_group_rate_limited_packets_total", "counter",
			"Packets refused for being over the group's --max-pps or --max-bps." },
	[G_SKIPPED] = { "replicast_group_skipped_packets_total", "counter",
			"Copies the subscribers' --sample or --from did not take (not drops)." },
}, sub_metrics[] = {
	[S_PKTS] = { "replicast_subscriber_sent_packets_total", "counter",
		     "Copies sent to the subscriber." },
	[S_BYTES] = { "replicast_subscriber_sent_bytes_total", "counter",
		      "Bytes (whole frames) of the copies sent to the subscriber." },
	[S_DROPPED] = { "replicast_subscriber_dropped_packets_total", "counter",
			"Copies for the subscriber that could not be sent." },
	[S_SKIPPED] = { "replicast_subscriber_skipped_packets_total", "counter",
			"Copies the subscriber's --sample or --from did not take (not drops)." },
	[S_UNREACHABLE] = { "replicast_subscriber_unreachable_total", "counter",
			    "ICMP/ICMPv6 port or host unreachable errors its receiver answered "
			    "copies with (one count per receiver, shared by its groups)." },
	[S_HELD_OFF] = { "replicast_subscriber_held_off", "gauge",
			 "1 while --health holds the subscriber's copies off (held_off drops)." },
};

static uint64_t group_value(const struct replicast_group_info *g, enum group_metric m)
{
	switch (m) {
	case G_SUBS: return g->nsubs;
	case G_RX_PKTS: return g->received.packets;
	case G_RX_BYTES: return g->received.bytes;
	case G_TX_PKTS: return g->sent.packets;
	case G_TX_BYTES: return g->sent.bytes;
	case G_DENIED: return g->source_denied;
	case G_LIMITED: return g->rate_limited;
	case G_SKIPPED: return g->skipped;
	}
	return 0;
}

static uint64_t sub_value(const struct replicast_sub_info *s, enum sub_metric m)
{
	switch (m) {
	case S_PKTS: return s->sent.packets;
	case S_BYTES: return s->sent.bytes;
	case S_DROPPED: return s->dropped;
	case S_SKIPPED: return s->skipped;
	case S_UNREACHABLE: return s->unreachable;
	case S_HELD_OFF: return s->held_off;
	}
	return 0;
}

/* Every sample of a family follows its HELP and TYPE lines, as the format
 * requires, so each family is one pass over the groups. */
static void print_prometheus(struct replicast *rc, const struct sample *s)
{
	char gname[REPLICAST_RANGE_STRLEN], dname[REPLICAST_ENDPOINT_STRLEN];
	size_t m, i, j;
	int r;

	prom_family("replicast_groups", "gauge", "Groups configured.");
	printf("replicast_groups %zu\n", s->n);
	prom_family("replicast_groups_limit", "gauge", "Most groups there can be (--max-groups).");
	printf("replicast_groups_limit %u\n", replicast_max_groups(rc));
	prom_family("replicast_group_subscribers_limit", "gauge",
		    "Most subscribers a group can have (--max-subs).");
	printf("replicast_group_subscribers_limit %u\n", replicast_max_subs(rc));
	prom_family("replicast_relay_engine_running", "gauge",
		    "1 while a relay engine (replicast serve) fans out streams from the network, "
		    "0 while the TC replicator does.");
	printf("replicast_relay_engine_running %d\n", s->relay_engine);
	for (m = 0; m < sizeof(group_metrics) / sizeof(group_metrics[0]); m++) {
		prom_family(group_metrics[m].name, group_metrics[m].type, group_metrics[m].help);
		for (i = 0; i < s->n; i++) {
			replicast_range_format(&s->groups[i].group, s->groups[i].port_last, gname, sizeof(gname));
			printf("%s{", group_metrics[m].name);
			prom_label("group", gname, true);
			printf("} %" PRIu64 "\n", group_value(&s->groups[i], m));
		}
	}
	for (m = 0; m < sizeof(sub_metrics) / sizeof(sub_metrics[0]); m++) {
		prom_family(sub_metrics[m].name, sub_metrics[m].type, sub_metrics[m].help);
		for (i = 0; i < s->n; i++) {
			replicast_range_format(&s->groups[i].group, s->groups[i].port_last, gname, sizeof(gname));
			for (j = 0; j < s->groups[i].nsubs; j++) {
				const struct replicast_sub_info *sub = &s->groups[i].subs[j];

				opt_dest_format(&sub->dest, dname, sizeof(dname));
				printf("%s{", sub_metrics[m].name);
				prom_label("group", gname, true);
				prom_label("subscriber", dname, false);
				printf("} %" PRIu64 "\n", sub_value(sub, m));
			}
		}
	}
	prom_family("replicast_dropped_packets_total", "counter",
		    "Packets not replicated, by reason (some, such as vlan, are passed to the "
		    "stack rather than dropped: see replicast(8)).");
	for (r = 0; r < s->nreasons; r++) {
		printf("replicast_dropped_packets_total{");
		prom_label("reason", replicast_drop_reason_name(r), true);
		printf("} %" PRIu64 "\n", s->drops[r]);
	}
}

static void print_json(const struct sample *s)
{
	int r;

	printf("{\"relay_engine\":%s,\"groups\":[", s->relay_engine ? "true" : "false");
	print_groups(s->groups, s->n, true, true);
	printf("],\"drops\":{");
	for (r = 0; r < s->nreasons; r++)
		printf("%s\"%s\":%" PRIu64, r ? "," : "", replicast_drop_reason_name(r), s->drops[r]);
	printf("}}\n");
}

static void print_text(const struct sample *s)
{
	int r;

	print_groups(s->groups, s->n, false, true);
	printf("not replicated, by reason:\n");
	for (r = 0; r < s->nreasons; r++)
		printf("  %-20s %" PRIu64 "\n", replicast_drop_reason_name(r), s->drops[r]);
}

/* ---- --watch ----------------------------------------------------------- */

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static const struct replicast_group_info *find_group(const struct sample *s,
						     const struct replicast_endpoint *ep)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (replicast_endpoint_equal(&s->groups[i].group, ep))
			return &s->groups[i];
	return NULL;
}

/* The same subscriber in the previous reading: usually in the same slot. */
static const struct replicast_sub_info *find_sub(const struct replicast_group_info *g,
						 const struct replicast_sub_info *sub)
{
	size_t i;

	if (!g)
		return NULL;
	for (i = 0; i < g->nsubs; i++)
		if (g->subs[i].slot == sub->slot && replicast_endpoint_equal(&g->subs[i].dest, &sub->dest))
			return &g->subs[i];
	for (i = 0; i < g->nsubs; i++)
		if (replicast_endpoint_equal(&g->subs[i].dest, &sub->dest))
			return &g->subs[i];
	return NULL;
}

/* A rate as "12.3", "4.5k", "6.7M", "8.9G"; "-" when there is no earlier
 * reading to compare with, or the counter started again (a slot reused). */
static const char *rate_text(bool known, uint64_t before, uint64_t now, double scale, double dt,
			     char *buf, size_t len)
{
	static const char units[] = " kMGTP";
	double v;
	int u = 0;

	if (!known || now < before || dt <= 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	v = (double)(now - before) * scale / dt;
	while (v >= 1000.0 && u < (int)sizeof(units) - 2) {
		v /= 1000.0;
		u++;
	}
	if (u)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.1f", v);
	return buf;
}

/* Collects a frame's lines so that on a terminal it can stop at the last
 * row that fits: a frame taller than the window would scroll and never
 * refresh in place. */
struct frame {
	bool tty;
	int rows_left;
	size_t hidden;
};

static void frame_line(struct frame *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void frame_line(struct frame *f, const char *fmt, ...)
{
	va_list ap;

	if (f->tty && f->rows_left <= 1) {
		f->hidden++;
		return;
	}
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	/* Erase what the previous frame left to the right of this line. */
	printf("%s\n", f->tty ? "\033[K" : "");
	f->rows_left--;
}

static void print_rates(const struct sample *prev, const struct sample *cur, double interval,
			bool tty)
{
	char gname[REPLICAST_RANGE_STRLEN], dname[REPLICAST_ENDPOINT_STRLEN];
	char a[16], b[16], c[16], drops[512], now_text[32];
	struct frame f = { .tty = tty, .rows_left = 1 << 30 };
	double dt = seconds_between(&prev->at, &cur->at);
	struct winsize ws;
	size_t i, j, used;
	time_t now = time(NULL);
	int r;

	if (tty && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row > 2)
		f.rows_left = ws.ws_row;
	strftime(now_text, sizeof(now_text), "%H:%M:%S", localtime(&now));
	if (tty)
		printf("\033[H");	/* home; each line then erases its own rest */
	frame_line(&f, "replicast stats at %s, rates over %.2f s (every %.1f s%s)", now_text, dt,
		   interval, tty ? ", Ctrl-C to stop" : "");
	frame_line(&f, "%-44s %10s %10s %10s", "GROUP / SUBSCRIBER", "packets/s", "bits/s",
		   "dropped/s");
	for (i = 0; i < cur->n; i++) {
		const struct replicast_group_info *g = &cur->groups[i];
		const struct replicast_group_info *pg = find_group(prev, &g->group);
		char label[REPLICAST_RANGE_STRLEN + 16];

		replicast_range_format(&g->group, g->port_last, gname, sizeof(gname));
		snprintf(label, sizeof(label), "%s received", gname);
		/* Its dropped/s: refused before fan-out (source, rate cap). */
		frame_line(&f, "%-44.44s %10s %10s %10s", label,
			   rate_text(pg, pg ? pg->received.packets : 0, g->received.packets, 1, dt,
				     a, sizeof(a)),
			   rate_text(pg, pg ? pg->received.bytes : 0, g->received.bytes, 8, dt,
				     b, sizeof(b)),
			   rate_text(pg, pg ? pg->source_denied + pg->rate_limited : 0,
				     g->source_denied + g->rate_limited, 1, dt, c, sizeof(c)));
		snprintf(dname, sizeof(dname), "  copies to %zu subscriber%s", g->nsubs,
			 g->nsubs == 1 ? "" : "s");
		frame_line(&f, "%-44.44s %10s %10s", dname,
			   rate_text(pg, pg ? pg->sent.packets : 0, g->sent.packets, 1, dt,
				     a, sizeof(a)),
			   rate_text(pg, pg ? pg->sent.bytes : 0, g->sent.bytes, 8, dt,
				     b, sizeof(b)));
		for (j = 0; j < g->nsubs; j++) {
			const struct replicast_sub_info *s = &g->subs[j];
			const struct replicast_sub_info *ps = find_sub(pg, s);

			opt_dest_format(&s->dest, dname, sizeof(dname));
			snprintf(label, sizeof(label), "    %s", dname);
			frame_line(&f, "%-44.44s %10s %10s %10s", label,
				   rate_text(ps, ps ? ps->sent.packets : 0, s->sent.packets, 1, dt,
					     a, sizeof(a)),
				   rate_text(ps, ps ? ps->sent.bytes : 0, s->sent.bytes, 8, dt,
					     b, sizeof(b)),
				   rate_text(ps, ps ? ps->dropped : 0, s->dropped, 1, dt, c, sizeof(c)));
		}
	}
	if (!cur->n)
		frame_line(&f, "(no groups)");
	used = (size_t)snprintf(drops, sizeof(drops), "not replicated, per second:");
	for (r = 0; r < cur->nreasons && r < prev->nreasons; r++) {
		if (cur->drops[r] == prev->drops[r] || used >= sizeof(drops))
			continue;
		used += (size_t)snprintf(drops + used, sizeof(drops) - used, " %s %s",
					 replicast_drop_reason_name(r),
					 rate_text(true, prev->drops[r], cur->drops[r], 1, dt,
						   a, sizeof(a)));
	}
	frame_line(&f, "%s%s", drops, used == strlen("not replicated, per second:") ? " none" : "");
	if (f.hidden) {
		f.rows_left = 2;	/* the last row is kept for this line */
		frame_line(&f, "... %zu more line%s: enlarge the window", f.hidden,
			   f.hidden == 1 ? "" : "s");
	}
	if (tty)
		printf("\033[J");	/* erase below: the previous frame may have been taller */
	else
		putchar('\n');
	fflush(stdout);
}

/* Sleeps until `until` or a stop signal. The signals are blocked outside
 * this wait and let through only inside ppoll(), so one that arrives while
 * counters are read is not lost: it ends the next wait at once. */
static void wait_until(const struct timespec *until, const sigset_t *unblocked)
{
	struct timespec now, left;

	while (!stop_requested) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (seconds_between(&now, until) <= 0)
			return;
		left.tv_sec = until->tv_sec - now.tv_sec;
		left.tv_nsec = until->tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		ppoll(NULL, 0, &left, unblocked);
	}
}

static int watch(struct replicast *rc, double interval, unsigned int count)
{
	struct sigaction sa = { .sa_handler = on_stop_signal }, old_int, old_term;
	char groups_pin[4200];
	sigset_t stops, unblocked;
	struct sample prev, cur;
	struct timespec next;
	bool tty = isatty(STDOUT_FILENO);
	unsigned int frames = 0;
	int err, ret = EXIT_OK;

	snprintf(groups_pin, sizeof(groups_pin), "%s/groups", replicast_pin_path(rc));
	err = sample_read(rc, &prev);
	if (err)
		return cli_lib_error(err, "stats");
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigprocmask(SIG_BLOCK, &stops, &unblocked);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGTERM);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if (tty)
		printf("\033[H\033[2J");
	next = prev.at;
	while (!count || frames < count) {
		time_t whole = (time_t)interval;

		next.tv_sec += whole;
		next.tv_nsec += (long)((interval - (double)whole) * 1e9);
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		wait_until(&next, &unblocked);
		if (stop_requested)
			break;
		/* An unload leaves our map handles working on maps nobody
		 * uses any more: say so rather than show zeros forever. */
		if (access(groups_pin, F_OK)) {
			ret = cli_error(EXIT_FAIL, "stats: replicast was unloaded");
			break;
		}
		err = sample_read(rc, &cur);
		if (err) {
			ret = cli_lib_error(err, "stats");
			break;
		}
		print_rates(&prev, &cur, interval, tty);
		sample_free(&prev);
		prev = cur;
		frames++;
	}
	sample_free(&prev);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigprocmask(SIG_UNBLOCK, &stops, NULL);
	return ret;
}

int cmd_stats(struct cli *cli, int argc, char **argv)
{
	struct stats_args args = {};
	struct opt_parsed p;
	enum stats_format format;
	bool watching;
	struct replicast *rc;
	struct sample s;
	int ret, err;

	ret = opt_parse(&opt_cmd_stats, OPT_ARGV, argc, argv, cli, &args, &p);
	if (ret || p.help)
		return ret;
	watching = opt_given(&p, "watch");
	format = args.json ? FORMAT_JSON : (enum stats_format)args.format;
	if (watching && (args.json || opt_given(&p, "format")))
		return cli_error(EXIT_USAGE, "stats: --watch shows rates as text; it takes no --json "
				 "or --format");
	if (args.json && opt_given(&p, "format") && format != (enum stats_format)args.format)
		return cli_error(EXIT_USAGE, "stats: --json and --format %s contradict",
				 format_values[args.format].name);
	if (args.count && !watching)
		return cli_error(EXIT_USAGE, "stats: --count goes with --watch");
	ret = cli_open(cli, &rc);
	if (ret)
		return ret;
	if (watching) {
		ret = watch(rc, args.watch, args.count);
		replicast_close(rc);
		return ret;
	}
	err = sample_read(rc, &s);
	if (err) {
		replicast_close(rc);
		return cli_lib_error(err, "stats");
	}
	if (format == FORMAT_PROMETHEUS)
		print_prometheus(rc, &s);
	else if (format == FORMAT_JSON)
		print_json(&s);
	else
		print_text(&s);
	sample_free(&s);
	replicast_close(rc);
	return EXIT_OK;
}
