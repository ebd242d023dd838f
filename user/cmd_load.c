// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast load` and `replicast unload`. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

#define MAX_DEVS 64

static const char load_usage[] =
	"Usage: replicast load --dev IFNAME [--dev IFNAME ...] [--max-groups N] [--max-subs N]\n"
	"                      [--pin-path DIR]\n"
	"\n"
	"Loads the replicator (or reuses the one pinned at DIR) and attaches it to the\n"
	"clsact ingress of each IFNAME: packets arriving there for a group are fanned out.\n"
	"Running it again is safe; new --dev names are attached too.\n"
	"\n"
	"  --dev IFNAME      device to attach to (repeatable)\n"
	"  --max-groups N    group capacity, fixed at first load (default 1024)\n"
	"  --max-subs N      subscribers per group, fixed at first load (default 4096)\n"
	"  --pin-path DIR    pin directory (default " REPLICAST_DEFAULT_PIN_PATH ")\n";

int cmd_load(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "max-groups", required_argument, NULL, 'g' },
		{ "max-subs", required_argument, NULL, 's' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct replicast_opts opts = { .sz = sizeof(opts), .log = cli_log };
	char verifier_log[4096] = "";
	const char *devs[MAX_DEVS];
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
		case 'g':
			if (cli_parse_u32(optarg, "--max-groups", &opts.max_groups))
				return EXIT_USAGE;
			break;
		case 's':
			if (cli_parse_u32(optarg, "--max-subs", &opts.max_subs))
				return EXIT_USAGE;
			break;
		default:
			ret = cli_common_option(cli, c, load_usage);
			if (ret)
				return ret < 0 ? EXIT_USAGE : ret;
		}
	}
	if (optind < argc)
		return cli_error(EXIT_USAGE, "load: unexpected argument '%s'", argv[optind]);
	if (ndevs == 0) {
		fputs(load_usage, stderr);
		return cli_error(EXIT_USAGE, "load: name at least one --dev IFNAME");
	}
	if (cli_require_root())
		return EXIT_FAIL;
	/* Check every name first, so a typo loads and attaches nothing. */
	for (i = 0; i < ndevs; i++) {
		if (!if_nametoindex(devs[i]))
			return cli_error(EXIT_FAIL, "load: no such interface '%s'", devs[i]);
	}

	opts.pin_path = cli->pin_path;
	opts.verifier_log = verifier_log;
	opts.verifier_log_size = sizeof(verifier_log);
	err = replicast_load(&opts, &rc);
	if (err) {
		if (verifier_log[0])
			fprintf(stderr, "%s", verifier_log);
		if (err == -ENOTDIR)
			return cli_error(EXIT_FAIL, "load: the parent of %s is not a bpf filesystem "
					 "(mount -t bpf bpf DIR)", opts.pin_path);
		return cli_error(EXIT_FAIL, "load: %s%s", replicast_strerror(err),
				 verifier_log[0] ? " (the kernel's verifier log ends above)" : "");
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
