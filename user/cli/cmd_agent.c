// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast agent`: keeps this host's replicast equal to the configuration
 * stored in etcd at PREFIX + "config" (the text `replicast save` writes),
 * applying every new revision as `replicast apply -` would, and keeps
 * PREFIX + "status" (agent_status.c) fresh under a lease, so that a dead
 * agent's status goes away by itself. The kernel state never depends on
 * the agent: when etcd or the agent is gone, packets flow as last applied. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agent.h"
#include "agent_etcd.h"
#include "opt.h"

/* Backoff between attempts to reach etcd (ms): first retry soon, for a
 * restart; at most every few seconds, so a long outage costs nothing and
 * the catch-up after it is still quick. */
#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 3000
/* One read of the watch stream waits at most this long (ms): how soon a
 * SIGTERM or a due status refresh is noticed. */
#define POLL_MS 100

struct agent_args {
	struct etcd_args etcd;
	unsigned int ttl, interval;
	bool verbose;
};

static const struct opt_def agent_opts[] = {
	ETCD_OPT_ROWS(struct agent_args, etcd, "PREFIX", "the keys PREFIX\"config\" and "
		      "PREFIX\"status\", e.g. /replicast/relay1/"),
	OPT_U32_ROW(struct agent_args, "ttl", ttl, "SECONDS", 1, 86400, "the status lease",
		    .def = 10, .noun = "a number of seconds"),
	OPT_U32_ROW(struct agent_args, "interval", interval, "SECONDS", 1, 86400,
		    "status refresh, less than --ttl", .def = 3, .noun = "a number of seconds"),
	OPT_FLAG_ROW(struct agent_args, "verbose", 'v', verbose, "print each change as it is made"),
	OPT_END,
};

const struct opt_cmd opt_cmd_agent = {
	.name = "agent",
	.path = "agent",
	.summary = "keep the configuration equal to etcd's PREFIXconfig",
	.text = "Keeps this host's replicast configuration equal to the one stored in etcd at\n"
		"the key PREFIX + \"config\", in the format 'replicast save' writes. At start and\n"
		"on every new revision (an etcd watch) it applies the key as 'replicast apply'\n"
		"does: each group's subscribers switch as a whole, and a configuration with a\n"
		"bad line changes nothing. It writes PREFIX + \"status\": the applied revision,\n"
		"the last error (with its line), the groups, subscribers and counters of\n"
		"'replicast stats --json', refreshed every --interval seconds and bound to a\n"
		"lease of --ttl seconds, so the status of a dead agent disappears. When etcd\n"
		"cannot be reached, packets keep flowing as last applied; the agent retries\n"
		"and, once back, applies the latest revision. SIGTERM stops it (exit 0); the\n"
		"replicator stays in the kernel.\n"
		"\n"
		"Each option may come from the environment instead (the systemd unit reads\n"
		"/etc/replicast/agent.conf): REPLICAST_ETCD, REPLICAST_PREFIX,\n"
		"REPLICAST_ETCD_CACERT, REPLICAST_ETCD_CERT, REPLICAST_ETCD_KEY,\n"
		"REPLICAST_ETCD_USER.\n",
	.opts = agent_opts,
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The agent's log: one line per event on stderr (the journal under systemd). */
static void say(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fputs("replicast agent: ", stderr);
	cli_escape_to(stderr, msg);
	fputc('\n', stderr);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct agent {
	const struct cli *cli;
	struct etcd *etcd;
	char *config_key, *status_key;
	int ttl_s, interval_s;
	bool verbose;
	struct agent_state st;
	int64_t tried_revision;		/* the last revision applied or refused */
	int64_t lease;
	bool status_failing;		/* say so once, not every refresh */
};

/* The last line of what the command printed, without "replicast: ", with
 * "<stdin>" (apply's name for its input) as the key it came from. */
static void error_from(const struct agent *a, const char *err, char *buf, size_t len)
{
	const char *line = err, *p, *stdin_at;
	size_t n;

	for (p = err; *p; p++)
		if (*p == '\n' && p[1])
			line = p + 1;
	if (!strncmp(line, "replicast: ", 11))
		line += 11;
	n = strcspn(line, "\n");
	stdin_at = strstr(line, "<stdin>");
	if (stdin_at && stdin_at < line + n)
		snprintf(buf, len, "%.*s%s%.*s", (int)(stdin_at - line), line, a->config_key,
			 (int)(line + n - stdin_at - 7), stdin_at + 7);
	else if (n)
		snprintf(buf, len, "%.*s", (int)n, line);
	else
		snprintf(buf, len, "apply failed and said nothing");
}

static void apply(struct agent *a, const struct etcd_kv *kv)
{
	char *argv[] = { "apply", "-", a->verbose ? "--verbose" : NULL, NULL };
	char *out, *err, why[900];
	int ret;

	a->tried_revision = kv->mod_revision;
	if (kv->mod_revision > a->st.seen_revision)
		a->st.seen_revision = kv->mod_revision;
	ret = agent_run_cli(a->cli, argv, kv->value, kv->len, &out, &err);
	if (ret < 0) {
		snprintf(a->st.error, sizeof(a->st.error), "revision %lld not applied: cannot run "
			 "apply: %s", (long long)kv->mod_revision, strerror(errno));
		say("%s", a->st.error);
		return;
	}
	fputs(out, stdout);
	fflush(stdout);
	if (ret == 0) {
		fputs(err, stderr);	/* warnings */
		a->st.applied_revision = kv->mod_revision;
		a->st.error[0] = '\0';
		say("applied revision %lld of %s", (long long)kv->mod_revision, a->config_key);
	} else {
		/* Warnings before the error as they came; the error itself in
		 * the agent's own words, below. */
		char *last = err + strlen(err);

		while (last > err && last[-1] == '\n')
			last--;
		while (last > err && last[-1] != '\n')
			last--;
		fwrite(err, 1, (size_t)(last - err), stderr);
		error_from(a, err, why, sizeof(why));
		snprintf(a->st.error, sizeof(a->st.error), "revision %lld not applied: %s",
			 (long long)kv->mod_revision, why);
		say("%s", a->st.error);
	}
	free(out);
	free(err);
}

/* Renews the lease (a new one when it expired) and puts the status. */
static int refresh_status(struct agent *a)
{
	int64_t ttl = 0;
	char *json;
	int ret;

	if (a->lease && etcd_lease_keepalive(a->etcd, a->lease, &ttl))
		goto failed;
	if (a->lease && ttl <= 0)
		a->lease = 0;	/* expired while etcd was away */
	if (!a->lease && etcd_lease_grant(a->etcd, a->ttl_s, &a->lease))
		goto failed;
	json = agent_status_json(a->cli, &a->st);
	if (!json) {
		say("writing the status: out of memory");
		return -1;
	}
	ret = etcd_put(a->etcd, a->status_key, json, strlen(json), a->lease);
	free(json);
	if (ret) {
		a->lease = 0;	/* perhaps gone: a new one next time */
		goto failed;
	}
	if (a->status_failing)
		say("status at %s written again", a->status_key);
	a->status_failing = false;
	return 0;
failed:
	if (!a->status_failing)
		say("writing the status: %s", etcd_error(a->etcd));
	a->status_failing = true;
	return -1;
}

/* Reads the key now (catching up with what changed while no watch ran)
 * and starts watching from the revision after that read. */
static int connect_watch(struct agent *a, struct etcd_watch **w)
{
	struct etcd_kv *kvs;
	int64_t revision = 0;
	size_t n;

	if (etcd_range(a->etcd, a->config_key, false, &kvs, &n, &revision))
		return -1;
	if (revision > a->st.seen_revision)
		a->st.seen_revision = revision;
	if (n && kvs[0].mod_revision != a->tried_revision)
		apply(a, &kvs[0]);
	else if (!n && !a->st.applied_revision && !a->st.error[0])
		snprintf(a->st.error, sizeof(a->st.error), "no configuration at %s yet; put one "
			 "there (etcdctl put %s \"$(replicast save)\")", a->config_key,
			 a->config_key);
	etcd_kvs_free(kvs, n);
	return etcd_watch_start(a->etcd, a->config_key, revision + 1, w);
}

static int run(struct agent *a)
{
	int64_t retry_at = 0, next_status = 0, backoff = 0;
	struct etcd_watch *w = NULL;
	bool down = false;
	struct etcd_kv kv;
	int r;

	while (!stop_requested) {
		if (!w) {
			if (now_ms() < retry_at) {
				struct timespec ts = { 0, POLL_MS * 1000000L };

				nanosleep(&ts, NULL);
				continue;
			}
			if (connect_watch(a, &w)) {
				if (!down)
					say("%s; the running state stays, retrying", etcd_error(a->etcd));
				down = true;
				backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
				if (backoff > BACKOFF_MAX_MS)
					backoff = BACKOFF_MAX_MS;
				retry_at = now_ms() + backoff;
				continue;
			}
			if (down)
				say("etcd reachable again; watching %s", a->config_key);
			down = false;
			backoff = 0;
			next_status = 0;	/* say at once where this host stands */
		}
		r = etcd_watch_poll(w, POLL_MS, &kv);
		if (r == ETCD_WATCH_CHANGED) {
			apply(a, &kv);
			free(kv.key);
			free(kv.value);
			next_status = 0;
		} else if (r == ETCD_WATCH_DELETED) {
			snprintf(a->st.error, sizeof(a->st.error), "%s was deleted; the running "
				 "state stays as revision %lld made it", a->config_key,
				 (long long)a->st.applied_revision);
			say("%s", a->st.error);
			next_status = 0;
		} else if (r == ETCD_WATCH_ERROR) {
			say("%s; reconnecting", etcd_error(a->etcd));
			etcd_watch_stop(w);
			w = NULL;
			retry_at = now_ms() + BACKOFF_MIN_MS;
			backoff = BACKOFF_MIN_MS;
			continue;
		}
		if (now_ms() >= next_status) {
			next_status = now_ms() + a->interval_s * 1000;
			/* A watch can outlive a silent network: a failed
			 * refresh reconnects, reading the key again. */
			if (refresh_status(a)) {
				etcd_watch_stop(w);
				w = NULL;
				backoff = BACKOFF_MIN_MS;
				retry_at = now_ms() + backoff;
			}
		}
	}
	etcd_watch_stop(w);
	say("stopping; the replicator stays as revision %lld made it",
	    (long long)a->st.applied_revision);
	return EXIT_OK;
}

static char *joined(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

int cmd_agent(struct cli *cli, int argc, char **argv)
{
	struct agent_args args = { .ttl = 10, .interval = 3 };
	struct agent a = { .cli = cli };
	struct sigaction sa = { .sa_handler = on_stop };
	const char *prefix, *why;
	struct opt_parsed p;
	int ret;

	etcd_args_from_env(&args.etcd);
	ret = opt_parse(&opt_cmd_agent, OPT_ARGV, argc, argv, cli, &args, &p);
	if (ret || p.help)
		return ret;
	a.ttl_s = (int)args.ttl;
	a.interval_s = (int)args.interval;
	a.verbose = args.verbose;
	prefix = args.etcd.prefix;
	if (!args.etcd.eo.urls)
		return cli_error(EXIT_USAGE, "agent: which etcd? give --etcd URL (or $REPLICAST_ETCD)");
	if (!prefix)
		return cli_error(EXIT_USAGE, "agent: give --prefix PREFIX (or $REPLICAST_PREFIX), "
				 "e.g. /replicast/relay1/");
	if (a.interval_s >= a.ttl_s)
		return cli_error(EXIT_USAGE, "agent: --interval %d must be less than --ttl %d, or "
				 "the status expires between refreshes", a.interval_s, a.ttl_s);
	if (cli_require_root())
		return EXIT_FAIL;
	if (etcd_open(&args.etcd.eo, &a.etcd, &why))
		return cli_error(EXIT_USAGE, "agent: %s", why);
	a.config_key = joined(prefix, "config");
	a.status_key = joined(prefix, "status");
	if (!a.config_key || !a.status_key) {
		ret = cli_error(EXIT_FAIL, "agent: out of memory");
	} else {
		/* No SA_RESTART: a signal cuts a wait short. */
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		say("watching %s", a.config_key);
		ret = run(&a);
	}
	free(a.config_key);
	free(a.status_key);
	etcd_close(a.etcd);
	return ret;
}
