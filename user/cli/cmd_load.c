// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast load` and `replicast unload`. */
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

#define MAX_DEVS 64

static const char load_usage[] =
	"Usage: replicast load --dev IFNAME [--dev IFNAME ...] [--max-groups N] [--max-subs N]\n"
	"                      [--inject-dev NAME | --no-inject] [--pin-path DIR]\n"
	"\n"
	"Loads the replicator (or reuses the one pinned at DIR) and attaches it to the\n"
	"clsact ingress of each IFNAME: packets arriving there for a group are fanned out.\n"
	"It also creates the injection veth pair NAME and NAME" REPLICAST_INJECT_PEER_SUFFIX
	", the way in for\n"
	"'replicast send' and the library's sender (AF_XDP), with the replicator on the\n"
	"ingress of NAME" REPLICAST_INJECT_PEER_SUFFIX ". Running it again is safe; new --dev names are attached too.\n"
	"\n"
	"  --dev IFNAME      device to attach to (repeatable; may be left out when\n"
	"                    --inject-dev is given: a host that only sends)\n"
	"  --max-groups N    group capacity, fixed at first load (default 1024, at most\n"
	"                    1048576)\n"
	"  --max-subs N      subscribers per group, fixed at first load (default 4096,\n"
	"                    at most 1048576)\n"
	"  --upgrade         load this version's program even if one is pinned: groups,\n"
	"                    subscribers and counters stay, every device switches over\n"
	"                    in one step (a running stream loses and doubles nothing)\n"
	"  --inject-dev NAME name of the injection pair (default " REPLICAST_DEFAULT_INJECT_DEV ")\n"
	"  --no-inject       no injection pair: packets come in through --dev only\n"
	"  --pin-path DIR    pin directory (default " REPLICAST_DEFAULT_PIN_PATH ", or\n"
	"                    /sys/fs/bpf/replicast-netns/NAME in network namespace NAME)\n";

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

int cmd_load(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "max-groups", required_argument, NULL, 'g' },
		{ "upgrade", no_argument, NULL, 'u' },
		{ "max-subs", required_argument, NULL, 's' },
		{ "inject-dev", required_argument, NULL, 'i' },
		{ "no-inject", no_argument, NULL, 'n' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct replicast_opts opts = { .sz = sizeof(opts), .log = cli_log };
	char verifier_log[4096] = "";
	const char *devs[MAX_DEVS];
	const char *inject_dev = NULL;
	bool inject = true, fresh;
	struct replicast *rc;
	int ndevs = 0, c, i, err, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (ndevs == MAX_DEVS)
				return cli_error(EXIT_USAGE, "load: at most %d --dev", MAX_DEVS);
			devs[ndevs++] = optarg;
			break;
		case 'u':
			opts.replace_program = true;
			break;
		case 'g':
			if (cli_parse_u32(optarg, "--max-groups", &opts.max_groups))
				return EXIT_USAGE;
			break;
		case 's':
			if (cli_parse_u32(optarg, "--max-subs", &opts.max_subs))
				return EXIT_USAGE;
			break;
		case 'i':
			inject_dev = optarg;
			break;
		case 'n':
			inject = false;
			break;
		default:
			ret = cli_common_option(cli, c, load_usage);
			if (ret)
				return ret < 0 ? EXIT_USAGE : ret;
		}
	}
	if (optind < argc)
		return cli_error(EXIT_USAGE, "load: unexpected argument '%s'", argv[optind]);
	if (!inject && inject_dev)
		return cli_error(EXIT_USAGE, "load: --inject-dev and --no-inject contradict");
	if (ndevs == 0 && !inject_dev) {
		fputs(load_usage, stderr);
		return cli_error(EXIT_USAGE, "load: name at least one --dev IFNAME "
				 "(or --inject-dev NAME to load for senders only)");
	}
	/* Refused before anything is made, naming the limit (the library
	 * would say only "Argument list too long"). */
	if (opts.max_groups > REPLICAST_MAX_GROUPS_LIMIT)
		return cli_error(EXIT_USAGE, "load: --max-groups %u is over the limit of %u groups; "
				 "ask for at most that", opts.max_groups, REPLICAST_MAX_GROUPS_LIMIT);
	if (opts.max_subs > REPLICAST_MAX_SUBS_LIMIT)
		return cli_error(EXIT_USAGE, "load: --max-subs %u is over the limit of %u subscribers "
				 "per group; ask for at most that", opts.max_subs,
				 REPLICAST_MAX_SUBS_LIMIT);
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
	for (i = 0; i < ndevs; i++) {
		if (cli_check_dev("load", devs[i]))
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
	for (i = 0; i < ndevs; i++) {
		err = replicast_attach(rc, devs[i]);
		if (err) {
			ret = cli_error(EXIT_FAIL, "load: attaching to %s: %s", devs[i],
					replicast_strerror(err));
			break;
		}
	}
	if (ret == EXIT_OK && inject)
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

static const char unload_usage[] =
	"Usage: replicast unload [--pin-path DIR]\n"
	"\n"
	"Detaches the replicator from every device and removes every pin under DIR,\n"
	"groups and subscribers included.\n";

int cmd_unload(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct replicast *rc;
	int c, ret, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		ret = cli_common_option(cli, c, unload_usage);
		if (ret)
			return ret < 0 ? EXIT_USAGE : ret;
	}
	if (optind < argc)
		return cli_error(EXIT_USAGE, "unload: unexpected argument '%s'", argv[optind]);
	ret = cli_open(cli, &rc);
	if (ret)
		return ret;
	err = replicast_unload(rc);
	replicast_close(rc);
	if (err)
		return cli_lib_error(err, "unload");
	return EXIT_OK;
}
