// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast save`, `replicast apply` and `replicast -batch`: the running
 * configuration as a file of replicast commands, made running again group
 * by group (each subscriber set switched whole), and plain command files. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "cli_config.h"
#include "opt.h"

/* ---- save --------------------------------------------------------------- */

struct save_args {
	const char *output;
};

static const struct opt_def save_opts[] = {
	OPT_STRING_ROW(struct save_args, "output", 'o', output, "FILE", OPT_C_FILE,
		       "write FILE whole or not at all (a temporary file renamed over it), "
		       "e.g. /etc/replicast/replicast.conf, which replicast.service applies at "
		       "boot"),
	OPT_END,
};

const struct opt_cmd opt_cmd_save = {
	.name = "save",
	.path = "save",
	.summary = "the running configuration, as replicast commands",
	.text = "Prints the running configuration as replicast commands, one per line: a load\n"
		"line (devices, sizes, injection pair), then each group with its options and\n"
		"its subscribers with theirs. A subscriber is always saved with --dev, the\n"
		"device its copies leave by now. 'replicast apply FILE' makes the running state\n"
		"equal to the file again; 'replicast -batch FILE' replays it into an empty one.\n",
	.opts = save_opts,
};

/* Writes through a temporary file in FILE's directory and renames it over
 * FILE, so a failed save leaves the old file, never half a new one. */
static int save_to(const char *path, const struct conf *conf, const char *pin_path)
{
	size_t len = strlen(path);
	char *tmp = malloc(len + 8);
	int fd, err = 0;
	FILE *f;

	if (!tmp)
		return cli_error(EXIT_FAIL, "save: out of memory");
	snprintf(tmp, len + 8, "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = errno;
		free(tmp);
		return cli_error(EXIT_FAIL, "save: cannot create a file beside %s: %s", path,
				 strerror(err));
	}
	fchmod(fd, 0644);	/* mkstemp makes 0600; a configuration is not secret */
	f = fdopen(fd, "w");
	if (!f) {
		err = errno;
		close(fd);
	} else {
		conf_print(f, conf, pin_path);
		if (fflush(f) || fsync(fileno(f)))
			err = errno;
		if (fclose(f) && !err)
			err = errno;
	}
	if (!err && rename(tmp, path))
		err = errno;
	if (err)
		unlink(tmp);
	free(tmp);
	if (err)
		return cli_error(EXIT_FAIL, "save: writing %s: %s", path, strerror(err));
	return EXIT_OK;
}

int cmd_save(struct cli *cli, int argc, char **argv)
{
	struct save_args args = {};
	struct opt_parsed p;
	struct replicast *rc;
	struct conf conf;
	int ret, err;

	ret = opt_parse(&opt_cmd_save, OPT_ARGV, argc, argv, cli, &args, &p);
	if (ret || p.help)
		return ret;
	ret = cli_open(cli, &rc);
	if (ret)
		return ret;
	err = conf_from_running(rc, &conf);
	if (err) {
		replicast_close(rc);
		return cli_lib_error(err, "save");
	}
	if (args.output) {
		ret = save_to(args.output, &conf, replicast_pin_path(rc));
	} else {
		conf_print(stdout, &conf, replicast_pin_path(rc));
		if (fflush(stdout))
			ret = cli_error(EXIT_FAIL, "save: writing: %s", strerror(errno));
	}
	conf_free(&conf);
	replicast_close(rc);
	return ret;
}

/* ---- apply -------------------------------------------------------------- */

struct apply_args {
	bool dry_run;
	bool verbose;
};

static const struct opt_def apply_opts[] = {
	OPT_FLAG_ROW(struct apply_args, "dry-run", 'n', dry_run,
		     "print the changes (+ add, - remove, ~ change), make none"),
	OPT_FLAG_ROW(struct apply_args, "verbose", 'v', verbose,
		     "print the changes while making them"),
	OPT_END,
};

static const struct opt_arg apply_args[] = {
	{ "FILE|-", OPT_C_FILE },
	{ NULL, 0 },
};

const struct opt_cmd opt_cmd_apply = {
	.name = "apply",
	.path = "apply",
	.summary = "make the running configuration what FILE says",
	.text = "Makes the running configuration equal to FILE ('-': standard input), a file of\n"
		"load, group add and sub add lines as 'replicast save' writes them ('#' starts a\n"
		"comment). It adds what is missing, changes what differs and removes what FILE\n"
		"leaves out, group by group; a group's subscribers switch as a whole, so every\n"
		"packet goes to the old set or the new one. Groups and subscribers already as\n"
		"FILE says are not touched and keep their counters. Nothing is loaded when FILE\n"
		"has no load line: then devices, sizes and the injection pair stay as they are.\n"
		"Every line is checked first (syntax, interfaces, sizes, routes): a bad one is\n"
		"named and nothing changes. A load line with --upgrade replaces the program\n"
		"as 'replicast load --upgrade' does.\n",
	.synopsis = "FILE|- [--dry-run] [--verbose]",
	.args = apply_args,
	.opts = apply_opts,
};

struct applier {
	const char *file;
	const struct conf *want;
	struct conf have;		/* what runs (empty when not loaded) */
	bool loaded;
	bool doit;			/* false: only print */
	bool print;
	struct replicast *rc;
	const struct cli *cli;
	unsigned int changes;
};

static int at_line(const struct applier *a, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A problem with one line of the file: "replicast: FILE:LINE: what". */
static int at_line(const struct applier *a, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		return cli_error(EXIT_FAIL, "%s:%d: %s", a->file, line, msg);
	return cli_error(EXIT_FAIL, "%s: %s", a->file, msg);
}

static void change(struct applier *a, char mark, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void change(struct applier *a, char mark, const char *fmt, ...)
{
	va_list ap;

	char line[512];

	a->changes++;
	if (!a->print)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Device names, from the file or the kernel, escaped. */
	printf("%c ", mark);
	cli_escape_to(stdout, line);
	putchar('\n');
}

static bool has_dev(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ndevs; i++)
		if (!strcmp(c->devs[i], name))
			return true;
	return false;
}

/* Field by field: a prefix's padding is nobody's business. */
static bool prefixes_differ(const struct conf_sub *want, const struct conf_sub *have)
{
	size_t i;

	if (want->nfrom != have->nfrom)
		return true;
	for (i = 0; i < want->nfrom; i++) {
		const struct replicast_prefix *a = &want->from[i], *b = &have->from[i];

		if (a->family != b->family || a->len != b->len ||
		    memcmp(&a->addr, &b->addr, a->family == AF_INET6 ? 16 : 4))
			return true;
	}
	return false;
}

static bool sub_differs(const struct conf_sub *want, const struct conf_sub *have)
{
	if (want->keep_source != have->keep_source || want->has_mac != have->has_mac)
		return true;
	if ((want->sample > 1 ? want->sample : 1) != (have->sample > 1 ? have->sample : 1) ||
	    want->sample_random != have->sample_random || prefixes_differ(want, have) ||
	    want->health_s != have->health_s)
		return true;
	if (want->has_mac && memcmp(want->mac, have->mac, sizeof(want->mac)))
		return true;
	/* A line without --dev takes whatever device the route gives. */
	return want->dev[0] && strcmp(want->dev, have->dev);
}

static bool subs_differ(const struct conf_group *want, const struct conf_group *have)
{
	const struct conf_sub *h;
	size_t i;

	if (want->nsubs != have->nsubs)
		return true;
	for (i = 0; i < want->nsubs; i++) {
		h = conf_find_sub(have, &want->subs[i].dest);
		if (!h || sub_differs(&want->subs[i], h))
			return true;
	}
	return false;
}

/* The kernel's answer to "how would a packet to DEST leave?", asked the way
 * any program can (a UDP connect() routes without sending), so a subscriber
 * without a route is named before anything changes. */
static int check_route(const struct conf_sub *s)
{
	struct sockaddr_storage ss;
	socklen_t len = replicast_endpoint_sockaddr(&s->dest, &ss);
	int fd, err = 0;

	fd = socket(s->dest.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;	/* cannot ask: the library will, when it adds */
	if (s->dev[0])
		setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, s->dev, strlen(s->dev) + 1);
	if (connect(fd, (struct sockaddr *)&ss, len))
		err = errno;
	close(fd);
	return err == ENETUNREACH || err == EHOSTUNREACH ? -err : 0;
}

/* Everything that could make a line fail, checked before the first change. */
static int check(struct applier *a)
{
	const struct conf *w = a->want;
	unsigned int max_groups, max_subs;
	char name[REPLICAST_RANGE_STRLEN];
	const struct conf_group *have;
	size_t i, j, keys = 0;

	if (!a->loaded && replicast_cost(w->max_groups, w->max_subs, NULL) == -EOVERFLOW)
		return at_line(a, w->load_line, "load: --max-subs %u on this machine's CPUs is more "
			       "counters per group than a map holds (2^32)", w->max_subs);
	if (!a->loaded && !w->has_load)
		return cli_error(EXIT_FAIL, "not loaded: nothing is pinned at %s, and %s has no "
				 "load line; add one, or run 'replicast load --dev IFNAME' first",
				 cli_pin_path(a->cli),
				 a->file);
	for (i = 0; i < w->ndevs; i++) {
		if (!if_nametoindex(w->devs[i]))
			return at_line(a, w->load_line, "load: no such interface '%s'", w->devs[i]);
		if (replicast_dev_check(w->devs[i], NULL) == -EMEDIUMTYPE)
			return at_line(a, w->load_line, "load: %s is not an Ethernet device: the "
				       "replicator reads Ethernet frames; name the Ethernet device "
				       "the packets arrive on", w->devs[i]);
	}
	if (a->loaded && w->has_load) {
		if (w->max_groups && w->max_groups != a->have.max_groups)
			return at_line(a, w->load_line, "load: --max-groups %u, but %u are loaded; "
				       "sizes are fixed at the first load (unload first, which "
				       "removes every group)", w->max_groups, a->have.max_groups);
		if (w->max_subs && w->max_subs != a->have.max_subs)
			return at_line(a, w->load_line, "load: --max-subs %u, but %u are loaded; "
				       "sizes are fixed at the first load (unload first, which "
				       "removes every group)", w->max_subs, a->have.max_subs);
		if (w->inject == CONF_INJECT_NONE && a->have.inject == CONF_INJECT_NAMED)
			return at_line(a, w->load_line, "load: --no-inject, but the injection pair "
				       "%s is set up; only unload removes it", a->have.inject_dev);
		if (w->inject != CONF_INJECT_NONE && a->have.inject == CONF_INJECT_NAMED &&
		    strcmp(w->inject == CONF_INJECT_NAMED ? w->inject_dev
							  : REPLICAST_DEFAULT_INJECT_DEV,
			   a->have.inject_dev))
			return at_line(a, w->load_line, "load: the injection pair is %s, not %s; "
				       "only unload removes it", a->have.inject_dev,
				       w->inject == CONF_INJECT_NAMED ? w->inject_dev
								      : REPLICAST_DEFAULT_INJECT_DEV);
	}
	max_groups = a->loaded ? a->have.max_groups
			       : w->max_groups ? w->max_groups : REPLICAST_DEFAULT_MAX_GROUPS;
	max_subs = a->loaded ? a->have.max_subs
			     : w->max_subs ? w->max_subs : REPLICAST_DEFAULT_MAX_SUBS;
	/* Each port of a range is an entry of the groups map. */
	for (i = 0; i < w->ngroups; i++) {
		keys += (size_t)w->groups[i].port_last - w->groups[i].group.port + 1;
		if (keys > max_groups)
			return at_line(a, w->groups[i].line, "group %s is more than the %u groups "
				       "there is room for (--max-groups; each port of a range "
				       "counts as one)", conf_group_name(&w->groups[i], name,
									  sizeof(name)), max_groups);
	}
	for (i = 0; i < w->ngroups; i++) {
		const struct conf_group *g = &w->groups[i];

		if (g->nsubs > max_subs)
			return at_line(a, g->subs[max_subs].line, "sub add: one subscriber more than "
				       "the %u a group has room for (--max-subs)", max_subs);
		/* Groups that stay as they are resolve nothing again. */
		have = conf_find_group(&a->have, &g->group, g->port_last);
		if (have && !subs_differ(g, have))
			continue;
		for (j = 0; j < g->nsubs; j++) {
			const struct conf_sub *s = &g->subs[j];
			int err;

			if (s->dev[0] && !if_nametoindex(s->dev))
				return at_line(a, s->line, "sub add: no such interface '%s'", s->dev);
			err = check_route(s);
			if (err)
				return at_line(a, s->line, "sub add: no route to %s%s%s",
					       conf_dest_name(&s->dest, name, sizeof(name)),
					       s->dev[0] ? " through " : "", s->dev);
		}
	}
	return EXIT_OK;
}

/* Holds the writers' lock from the first read of the running state to the
 * last write (it goes with the handle), so two applies at once run one
 * after the other: each changes what the other left, never half of it. */
static int lock_and_read(struct applier *a)
{
	int err = replicast_lock(a->rc);

	if (err)
		return cli_lib_error(err, "apply: taking the writers' lock");
	conf_free(&a->have);
	err = conf_from_running(a->rc, &a->have);
	if (err)
		return cli_lib_error(err, "apply: reading the running state");
	return EXIT_OK;
}

static int do_load(struct applier *a)
{
	const struct conf *w = a->want;
	struct replicast_opts opts = {
		.sz = sizeof(opts),
		.pin_path = a->cli->pin_path,
		.max_groups = w->max_groups,
		.max_subs = w->max_subs,
		.log = cli_log,
	};
	int err;

	/* A first load is this version's program whatever --upgrade says. */
	err = replicast_load(&opts, &a->rc);
	if (err == -EACCES)
		return cli_unsafe_dir(a->cli, "apply");
	if (err)
		return at_line(a, w->load_line, "load: %s", replicast_strerror(err));
	/* Another apply may have loaded first and changed things since we
	 * found nothing: from here the state is ours alone, so read it anew
	 * and check the file against it. */
	a->loaded = true;
	err = lock_and_read(a);
	return err ? err : check(a);
}

/* load --upgrade on a loaded relay: this version's program replaces the
 * pinned one, as `replicast load --upgrade` does. replicast_load() takes
 * the writers' lock on a handle of its own, so ours is let go meanwhile;
 * then the state is read anew and the file checked against it, as after a
 * first load. */
static int do_upgrade(struct applier *a)
{
	struct replicast_opts opts = {
		.sz = sizeof(opts),
		.pin_path = a->cli->pin_path,
		.log = cli_log,
		.replace_program = true,
	};
	struct replicast *rc;
	int err;

	replicast_unlock(a->rc);
	err = replicast_load(&opts, &rc);
	replicast_close(rc);
	if (err)
		return at_line(a, a->want->load_line, "load --upgrade: %s", replicast_strerror(err));
	err = lock_and_read(a);
	return err ? err : check(a);
}

static int sync_devices(struct applier *a, bool attach)
{
	const struct conf *w = a->want;
	const char *inject;
	size_t i;
	int err;

	if (!w->has_load)
		return EXIT_OK;
	if (!attach) {
		for (i = 0; i < a->have.ndevs; i++) {
			if (has_dev(w, a->have.devs[i]))
				continue;
			change(a, '-', "detach %s", a->have.devs[i]);
			if (a->doit && (err = replicast_detach(a->rc, a->have.devs[i])))
				return at_line(a, w->load_line, "detaching from %s: %s",
					       a->have.devs[i], replicast_strerror(err));
		}
		return EXIT_OK;
	}
	for (i = 0; i < w->ndevs; i++) {
		if (has_dev(&a->have, w->devs[i]))
			continue;
		change(a, '+', "attach %s", w->devs[i]);
		if (a->doit && (err = replicast_attach(a->rc, w->devs[i])))
			return at_line(a, w->load_line, "attaching to %s: %s", w->devs[i],
				       replicast_strerror(err));
	}
	if (w->inject != CONF_INJECT_NONE && a->have.inject != CONF_INJECT_NAMED) {
		inject = w->inject == CONF_INJECT_NAMED ? w->inject_dev : NULL;
		change(a, '+', "injection pair %s", inject ? inject : REPLICAST_DEFAULT_INJECT_DEV);
		if (a->doit && (err = replicast_inject_add(a->rc, inject)))
			return at_line(a, w->load_line, "creating the injection pair %s: %s",
				       inject ? inject : REPLICAST_DEFAULT_INJECT_DEV,
				       replicast_strerror(err));
	}
	return EXIT_OK;
}

/* Makes one group's subscribers the file's, in one switch of the whole set. */
static int set_subs(struct applier *a, const struct conf_group *g)
{
	struct replicast_sub_entry *entries;
	char name[REPLICAST_RANGE_STRLEN];
	size_t i;
	int err;

	entries = calloc(g->nsubs ? g->nsubs : 1, sizeof(*entries));
	if (!entries)
		return cli_error(EXIT_FAIL, "apply: out of memory");
	for (i = 0; i < g->nsubs; i++) {
		const struct conf_sub *s = &g->subs[i];

		entries[i].dest = s->dest;
		entries[i].opts.sz = sizeof(entries[i].opts);
		entries[i].opts.ifname = s->dev[0] ? s->dev : NULL;
		entries[i].opts.mac = s->has_mac ? s->mac : NULL;
		entries[i].opts.keep_source = s->keep_source;
		entries[i].opts.sample = s->sample;
		entries[i].opts.sample_random = s->sample_random;
		entries[i].opts.nfrom = s->nfrom;
		entries[i].opts.from = s->from;
		entries[i].opts.health_s = s->health_s;
	}
	err = replicast_group_set_subs(a->rc, &g->group, entries, g->nsubs);
	free(entries);
	if (err)
		return at_line(a, g->line, "group %s: switching to its %zu subscriber%s: %s",
			       conf_group_name(g, name, sizeof(name)), g->nsubs,
			       g->nsubs == 1 ? "" : "s", replicast_strerror(err));
	return EXIT_OK;
}

static void print_line(struct applier *a, char mark, const struct conf_group *g,
		       const struct conf_sub *s, const struct conf_sub *was)
{
	a->changes++;
	if (!a->print)
		return;
	printf("%c ", mark);
	if (s && mark == '-') {
		char gname[REPLICAST_RANGE_STRLEN], dname[REPLICAST_ENDPOINT_STRLEN];

		printf("sub del %s %s", conf_group_name(g, gname, sizeof(gname)),
		       conf_dest_name(&s->dest, dname, sizeof(dname)));
	} else if (s)
		conf_print_sub(stdout, g, s);
	else
		conf_print_group(stdout, g);
	if (was) {
		printf("   # was:");
		if (was->dev[0]) {
			fputs(" --dev ", stdout);
			conf_print_word(stdout, was->dev);
		}
		if (was->has_mac)
			printf(" --mac %02x:%02x:%02x:%02x:%02x:%02x", was->mac[0], was->mac[1],
			       was->mac[2], was->mac[3], was->mac[4], was->mac[5]);
		if (was->keep_source)
			printf(" --keep-source");
		conf_print_select(stdout, was);
	}
	putchar('\n');
}

static int sync_group(struct applier *a, const struct conf_group *g)
{
	const struct conf_group *have = conf_find_group(&a->have, &g->group, g->port_last);
	struct conf_group_opts defaults = {};
	char name[REPLICAST_RANGE_STRLEN];
	const struct conf_sub *h;
	const char *what = "";
	size_t i;
	int err;

	conf_group_name(g, name, sizeof(name));
	if (!have) {
		print_line(a, '+', g, NULL, NULL);
		for (i = 0; i < g->nsubs; i++)
			print_line(a, '+', g, &g->subs[i], NULL);
		if (!a->doit)
			return EXIT_OK;
		err = replicast_group_add_range(a->rc, &g->group, g->port_last);
		if (err)
			return at_line(a, g->line, "group add %s: %s", name, replicast_strerror(err));
		err = conf_group_opts_apply(a->rc, &g->group, &g->opts, &defaults, &what);
		if (err)
			return at_line(a, g->line, "group %s: --%s: %s", name, what,
				       replicast_strerror(err));
		return g->nsubs ? set_subs(a, g) : EXIT_OK;
	}
	if (conf_group_opts_differ(&g->opts, &have->opts)) {
		print_line(a, '~', g, NULL, NULL);
		err = a->doit ? conf_group_opts_apply(a->rc, &g->group, &g->opts, &have->opts, &what)
			      : 0;
		if (err)
			return at_line(a, g->line, "group %s: --%s: %s", name, what,
				       replicast_strerror(err));
	}
	if (!subs_differ(g, have))
		return EXIT_OK;
	for (i = 0; i < have->nsubs; i++)
		if (!conf_find_sub(g, &have->subs[i].dest))
			print_line(a, '-', have, &have->subs[i], NULL);
	for (i = 0; i < g->nsubs; i++) {
		h = conf_find_sub(have, &g->subs[i].dest);
		if (!h)
			print_line(a, '+', g, &g->subs[i], NULL);
		else if (sub_differs(&g->subs[i], h))
			print_line(a, '~', g, &g->subs[i], h);
	}
	return a->doit ? set_subs(a, g) : EXIT_OK;
}

/* The changes, in an order that never needs room twice: attach, delete
 * groups, add and change groups, then detach. */
static int reconcile(struct applier *a)
{
	char name[REPLICAST_RANGE_STRLEN];
	size_t i;
	int ret, err;

	if (!a->loaded) {
		if (a->print) {
			printf("+ ");
			conf_print_load(stdout, a->want);
			putchar('\n');
		}
		a->changes++;
		if (a->doit && (ret = do_load(a)))
			return ret;
	} else if (a->want->upgrade) {
		change(a, '~', "upgrade the program (load --upgrade)");
		if (a->doit && (ret = do_upgrade(a)))
			return ret;
	}
	ret = sync_devices(a, true);
	if (ret)
		return ret;
	for (i = 0; i < a->have.ngroups; i++) {
		const struct conf_group *h = &a->have.groups[i];

		if (conf_find_group(a->want, &h->group, h->port_last))
			continue;
		conf_group_name(h, name, sizeof(name));
		change(a, '-', "group del %s", name);
		if (a->doit && (err = replicast_group_del(a->rc, &h->group)))
			return cli_error(EXIT_FAIL, "apply: group del %s: %s", name,
					 replicast_strerror(err));
	}
	for (i = 0; i < a->want->ngroups; i++) {
		ret = sync_group(a, &a->want->groups[i]);
		if (ret)
			return ret;
	}
	return sync_devices(a, false);
}

int cmd_apply(struct cli *cli, int argc, char **argv)
{
	struct replicast_opts opts = { .sz = sizeof(opts), .pin_path = cli->pin_path,
				       .log = cli_log };
	struct applier a = { .cli = cli };
	struct apply_args args = {};
	struct opt_parsed p;
	bool dry_run, verbose;
	struct conf want;
	FILE *f;
	int ret, err;

	ret = opt_parse(&opt_cmd_apply, OPT_ARGV, argc, argv, cli, &args, &p);
	if (ret || p.help)
		return ret;
	dry_run = args.dry_run;
	verbose = args.verbose;
	if (p.nargs != 1) {
		opt_print_usage(stderr, &opt_cmd_apply);
		return cli_error(EXIT_USAGE, "apply: expected one FILE (or - for standard input)");
	}
	a.file = p.args[0];
	if (cli_require_root())
		return EXIT_FAIL;
	f = strcmp(a.file, "-") ? fopen(a.file, "r") : stdin;
	if (!f)
		return cli_error(EXIT_FAIL, "apply: cannot open %s: %s", a.file, strerror(errno));
	ret = conf_parse(f, f == stdin ? "<stdin>" : a.file, &want);
	if (f != stdin)
		fclose(f);
	if (ret)
		return ret;
	if (f == stdin)
		a.file = "<stdin>";
	a.want = &want;

	opts.pin_path = cli->pin_path;
	err = replicast_open(&opts, &a.rc);
	if (err && err != -ENOENT) {
		conf_free(&want);
		if (err == -EACCES)
			return cli_unsafe_dir(cli, "apply");
		return cli_lib_error(err, "opening the pinned replicator");
	}
	a.loaded = !err;
	ret = EXIT_OK;
	/* A dry run writes nothing and reads without the lock, as list does. */
	if (a.loaded && dry_run) {
		err = conf_from_running(a.rc, &a.have);
		if (err)
			ret = cli_lib_error(err, "apply: reading the running state");
	} else if (a.loaded) {
		ret = lock_and_read(&a);
	}
	if (ret) {
		conf_free(&a.have);
		replicast_close(a.rc);
		conf_free(&want);
		return ret;
	}
	ret = check(&a);
	if (!ret) {
		/* The dry run walks the same path as the real one, doing nothing. */
		a.doit = !dry_run;
		a.print = dry_run || verbose;
		ret = reconcile(&a);
		fflush(stdout);
	}
	conf_free(&a.have);
	conf_free(&want);
	replicast_close(a.rc);	/* and with it the lock */
	return ret;
}

/* ---- -batch ------------------------------------------------------------- */

int cli_batch(const struct cli *cli, const char *file, bool force)
{
	char *line = NULL, *words[CONF_MAX_WORDS + 1];
	const char *name = strcmp(file, "-") ? file : "<stdin>";
	int lineno = 0, n, ret, worst = EXIT_OK;
	const char *why;
	size_t cap = 0, col;
	ssize_t len;
	FILE *f;

	f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	if (!f)
		return cli_error(EXIT_FAIL, "-batch: cannot open %s: %s", file, strerror(errno));
	while ((len = getline(&line, &cap, f)) >= 0) {
		struct cli each = { .pin_path = cli->pin_path };

		lineno++;
		snprintf(cli_where, CLI_WHERE_LEN, "%s:%d: ", name, lineno);
		/* A NUL would cut the command short where it stands. */
		if (conf_line_nul(line, (size_t)len, &col))
			ret = cli_error(EXIT_USAGE, "a NUL byte at column %zu; a batch file is text, "
					"this line was not run", col);
		else if ((n = conf_split_line(line, words, CONF_MAX_WORDS, &why)) == 0)
			continue;
		else if (n < 0)
			ret = cli_error(EXIT_USAGE, "%s", why);
		else if (!strcmp(words[0], "-batch") || !strcmp(words[0], "--batch"))
			ret = cli_error(EXIT_USAGE, "-batch cannot be nested");
		else {
			words[n] = NULL;
			/* A group or sub command makes several library calls
			 * (add, then its options): no writer comes between
			 * them. load and apply take the lock themselves;
			 * readers (stats --watch) would only keep writers out. */
			each.hold_lock = !strcmp(words[0], "group") || !strcmp(words[0], "sub") ||
					 !strcmp(words[0], "unload");
			ret = cli_run(&each, n, words);
			fflush(stdout);
		}
		if (ret > worst)
			worst = ret;
		if (ret && !force)
			break;
	}
	cli_where[0] = '\0';
	if (ferror(f) && worst == EXIT_OK)
		worst = cli_error(EXIT_FAIL, "-batch: reading %s: %s", name, strerror(errno));
	if (f != stdin)
		fclose(f);
	free(line);
	return worst;
}
