// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast load` and `replicast unload`. */
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cli_lines.h"

static const struct opt_def load_opts[] = {
	OPT_IFNAMES_ROW(struct load_line, "dev", devs, "IFNAME",
			"device to attach to; may be left out when --inject-dev is given "
			"(a host that only sends)"),
	OPT_U32_ROW(struct load_line, "max-groups", max_groups, "N", 1, REPLICAST_MAX_GROUPS_LIMIT,
		    "group capacity, fixed at first load", .def = REPLICAST_DEFAULT_MAX_GROUPS,
		    .limit = "groups"),
	OPT_U32_ROW(struct load_line, "max-subs", max_subs, "N", 1, REPLICAST_MAX_SUBS_LIMIT,
		    "subscribers per group, fixed at first load", .def = REPLICAST_DEFAULT_MAX_SUBS,
		    .limit = "subscribers per group"),
	OPT_FLAG_ROW(struct load_line, "upgrade", 0, upgrade,
		     "load this version's program even if one is pinned: groups, subscribers "
		     "and counters stay, every device switches over in one step (a running "
		     "stream loses and doubles nothing)"),
	OPT_IFNAME_ROW(struct load_line, "inject-dev", inject_dev, "NAME",
		       "name of the injection pair (default " REPLICAST_DEFAULT_INJECT_DEV ")"),
	OPT_FLAG_ROW(struct load_line, "no-inject", 0, no_inject,
		     "no injection pair: packets come in through --dev only"),
	OPT_END,
};

const struct opt_cmd opt_cmd_load = {
	.name = "load",
	.path = "load",
	.summary = "load the replicator and attach it to devices",
	.text = "Loads the replicator (or reuses the one pinned at DIR) and attaches it to the\n"
		"clsact ingress of each IFNAME: packets arriving there for a group are fanned out.\n"
		"It also creates the injection veth pair NAME and NAME" REPLICAST_INJECT_PEER_SUFFIX
		", the way in for\n"
		"'replicast send' and the library's sender (AF_XDP), with the replicator on the\n"
		"ingress of NAME" REPLICAST_INJECT_PEER_SUFFIX ". Running it again is safe; new "
		"--dev names are attached too.\n",
	.opts = load_opts,
};

int load_line_parse(enum opt_source src, int n, char **words, struct cli *cli,
		    struct load_line *l, bool *help)
{
	struct opt_parsed p;
	int ret = opt_parse(&opt_cmd_load, src, n, words, cli, l, &p);

	*help = p.help;
	if (ret || p.help)
		return ret;
	if (l->no_inject && l->inject_dev[0]) {
		load_line_free(l);
		return cli_error(EXIT_USAGE, "load: --inject-dev and --no-inject contradict");
	}
	return EXIT_OK;
}

void load_line_free(struct load_line *l)
{
	opt_free(&opt_cmd_load, l);
}

/* Bytes as a person reads them. */
static const char *human_bytes(uint64_t n, char *buf, size_t len)
{
	if (n >= 1ULL << 40)
		snprintf(buf, len, "%.1f TiB", (double)n / (1ULL << 40));
	else if (n >= 1ULL << 30)
		snprintf(buf, len, "%.1f GiB", (double)n / (1ULL << 30));
	else if (n >= 1ULL << 20)
		snprintf(buf, len, "%.1f MiB", (double)n / (1ULL << 20));
	else if (n >= 1ULL << 10)
		snprintf(buf, len, "%.1f KiB", (double)n / (1ULL << 10));
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)n);
	return buf;
}

/* What the sizes just fixed cost, paid as each group is added: counters
 * grow with CPUs x max_subs whether the subscribers are there or not. */
static void print_cost(struct replicast *rc)
{
	struct replicast_cost c = { .sz = sizeof(c) };
	char ctr[32], slots[32], group[32], total[32], all_ctr[32];

	if (replicast_cost(replicast_max_groups(rc), replicast_max_subs(rc), &c))
		return;
	printf("load: each group takes %s: %s of counters (%u subscribers x %u CPUs x 24 bytes) "
	       "and %s of subscriber slots; all %u groups (the limit) take %s, %s of it "
	       "counters\n", human_bytes(c.group_bytes, group, sizeof(group)),
	       human_bytes(c.counter_bytes, ctr, sizeof(ctr)), c.max_subs, c.nr_cpus,
	       human_bytes(c.slot_bytes, slots, sizeof(slots)), c.max_groups,
	       human_bytes(c.total_bytes, total, sizeof(total)),
	       human_bytes(c.counter_bytes * c.max_groups, all_ctr, sizeof(all_ctr)));
}

static int add_inject(struct replicast *rc, const char *name)
{
	const char *n = name ? name : REPLICAST_DEFAULT_INJECT_DEV;
	int err = replicast_inject_add(rc, name);

	switch (err) {
	case 0:
		return EXIT_OK;
	case -EEXIST:
		return cli_error(EXIT_FAIL, "load: a device named %s or %s%s exists and is not "
				 "replicast's; name the pair with --inject-dev NAME", n, n,
				 REPLICAST_INJECT_PEER_SUFFIX);
	case -EBUSY:
		return cli_error(EXIT_FAIL, "load: an injection pair of another name is set up "
				 "already; unload first to rename it");
	case -ENAMETOOLONG:
		return cli_error(EXIT_USAGE, "load: --inject-dev '%s' is too long: NAME%s must fit "
				 "in %d characters", n, REPLICAST_INJECT_PEER_SUFFIX, IF_NAMESIZE - 1);
	case -ENODEV:
		return cli_error(EXIT_FAIL, "load: the injection pair %s was deleted by hand; "
				 "run 'replicast unload', then load again", n);
	default:
		return cli_error(EXIT_FAIL, "load: creating the injection pair %s: %s", n,
				 replicast_strerror(err));
	}
}

/* Whether nothing is loaded at the pin path yet. (A load racing ours could
 * come in between; it would then find its relay unloaded if ours fails.) */
static bool loads_fresh(const struct replicast_opts *load_opts)
{
	struct replicast_opts opts = { .sz = sizeof(opts), .pin_path = load_opts->pin_path };
	struct replicast *rc;
	int err = replicast_open(&opts, &rc);

	replicast_close(rc);
	return err == -ENOENT;
}

/* The load a parsed line asks for. */
static int load_run(struct cli *cli, const struct load_line *l)
{
	struct replicast_opts opts = {
		.sz = sizeof(opts),
		.log = cli_log,
		.max_groups = l->max_groups,
		.max_subs = l->max_subs,
		.replace_program = l->upgrade,
	};
	const char *inject_dev = l->inject_dev[0] ? l->inject_dev : NULL;
	char verifier_log[4096] = "";
	struct replicast *rc;
	bool fresh;
	size_t i;
	int err, ret;

	if (l->devs.n == 0 && !inject_dev) {
		opt_print_usage(stderr, &opt_cmd_load);
		return cli_error(EXIT_USAGE, "load: name at least one --dev IFNAME "
				 "(or --inject-dev NAME to load for senders only)");
	}
	if (replicast_cost(opts.max_groups, opts.max_subs, NULL) == -EOVERFLOW) {
		struct replicast_cost c = { .sz = sizeof(c) };

		replicast_cost(0, 0, &c);	/* for the number of CPUs */
		return cli_error(EXIT_USAGE, "load: --max-subs %u on %u CPUs is more counters per "
				 "group than a map holds (2^32); ask for at most %u", opts.max_subs,
				 c.nr_cpus, (unsigned int)(0xffffffffU / c.nr_cpus));
	}
	if (cli_require_root())
		return EXIT_FAIL;
	/* Check every device first, so a typo (or a tunnel) loads and
	 * attaches nothing. */
	for (i = 0; i < l->devs.n; i++) {
		if (cli_check_dev("load", l->devs.v[i]))
			return EXIT_FAIL;
	}

	opts.pin_path = cli->pin_path;
	opts.verifier_log = verifier_log;
	opts.verifier_log_size = sizeof(verifier_log);
	fresh = loads_fresh(&opts);
	err = replicast_load(&opts, &rc);
	if (err) {
		if (verifier_log[0])
			fprintf(stderr, "%s", verifier_log);
		if (err == -EPROTO)
			return cli_error(EXIT_FAIL, "load: the state pinned at %s was made by another "
					 "version of replicast and has another layout; keep it with "
					 "'replicast save > FILE' (that version's), then 'replicast "
					 "unload', load again and 'replicast apply FILE'",
					 cli_pin_path(cli));
		if (err == -ENOTDIR)
			return cli_error(EXIT_FAIL, "load: the parent of %s is not a bpf filesystem "
					 "(mount -t bpf bpf DIR)", cli_pin_path(cli));
		if (err == -ENOMEDIUM)
			return cli_no_bpffs(cli, "load");
		if (err == -ESTALE)
			return cli_stale(cli, "load");
		if (err == -EACCES)
			return cli_unsafe_dir(cli, "load");
		return cli_error(EXIT_FAIL, "load: %s%s", replicast_strerror(err),
				 verifier_log[0] ? " (the kernel's verifier log ends above)" : "");
	}
	/* One change for other writers: the attachments and the pair go in
	 * together (released with the handle). */
	err = replicast_lock(rc);
	if (err) {
		replicast_close(rc);
		return cli_lib_error(err, "load: taking the writers' lock");
	}
	ret = EXIT_OK;
	for (i = 0; i < l->devs.n; i++) {
		err = replicast_attach(rc, l->devs.v[i]);
		if (err) {
			ret = cli_error(EXIT_FAIL, "load: attaching to %s: %s", l->devs.v[i],
					replicast_strerror(err));
			break;
		}
	}
	if (ret == EXIT_OK && !l->no_inject)
		ret = add_inject(rc, inject_dev);
	/* Said once, when the sizes are fixed; a later load reuses them. */
	if (ret == EXIT_OK && fresh)
		print_cost(rc);
	/* A load that made the relay and then failed takes it away again, so
	 * the host is left as it was found (no pins, filters, links or pair).
	 * A relay that was there before keeps what it had. */
	if (ret != EXIT_OK && fresh)
		replicast_unload(rc);
	replicast_close(rc);
	return ret;
}

int cmd_load(struct cli *cli, int argc, char **argv)
{
	struct load_line l = {};
	bool help;
	int ret;

	ret = load_line_parse(OPT_ARGV, argc, argv, cli, &l, &help);
	if (ret || help)
		return ret;
	ret = load_run(cli, &l);
	load_line_free(&l);
	return ret;
}

const struct opt_cmd opt_cmd_unload = {
	.name = "unload",
	.path = "unload",
	.summary = "detach everywhere and remove every pin",
	.text = "Detaches the replicator from every device and removes every pin under DIR,\n"
		"groups and subscribers included.\n",
};

int cmd_unload(struct cli *cli, int argc, char **argv)
{
	struct opt_parsed p;
	struct replicast *rc;
	int ret, err;

	ret = opt_parse(&opt_cmd_unload, OPT_ARGV, argc, argv, cli, NULL, &p);
	if (ret || p.help)
		return ret;
	ret = cli_open(cli, &rc);
	if (ret)
		return ret;
	err = replicast_unload(rc);
	replicast_close(rc);
	if (err)
		return cli_lib_error(err, "unload");
	return EXIT_OK;
}
