// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* replicast(8): the command line over libreplicast. `replicast OBJECT VERB`,
 * in the manner of ip(8) and bpftool(8). */
#include <errno.h>
#include <net/if_arp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "opt.h"

static const char usage_head[] =
	"Usage: replicast [--pin-path DIR] COMMAND [ARGS]\n"
	"       replicast [--pin-path DIR] [-force] -batch FILE|-\n"
	"       replicast --version | -V\n"
	"\n"
	"Fan UDP packets out to many unicast receivers inside the kernel.\n"
	"\n"
	"Commands:\n";

static const char usage_tail[] =
	"\n"
	"GROUP and DEST are ADDR:PORT, IPv6 as [ADDR]:PORT.\n"
	"--pin-path DIR (anywhere on the line, or $REPLICAST_PIN_PATH) selects the\n"
	"pin directory; default " REPLICAST_DEFAULT_PIN_PATH " in the host's network\n"
	"namespace, /sys/fs/bpf/replicast-netns/NAME in the one 'ip netns' calls NAME.\n"
	"-batch FILE runs the commands in FILE ('-': standard input), one per line\n"
	"without the word replicast, '#' starting a comment; it stops at the first\n"
	"that fails unless -force comes first.\n"
	"'replicast COMMAND --help' explains one command. Must run as root.\n";

static void print_usage(FILE *f);

/* cmd_send.c */
int cmd_send(struct cli *cli, int argc, char **argv);
int cmd_serve(struct cli *cli, int argc, char **argv);	/* cmd_serve.c */
/* cmd_agent.c, cmd_fleet.c: replicast over etcd */
int cmd_agent(struct cli *cli, int argc, char **argv);
int cmd_fleet(struct cli *cli, int argc, char **argv);

static const struct command {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
} commands[] = {
	{ "load", cmd_load },
	{ "unload", cmd_unload },
	{ "group", cmd_group },
	{ "sub", cmd_sub },
	{ "list", cmd_list },
	{ "stats", cmd_stats },
	{ "save", cmd_save },
	{ "apply", cmd_apply },
	{ "send", cmd_send },
	{ "serve", cmd_serve },
	{ "agent", cmd_agent },
	{ "fleet", cmd_fleet },
};

/* The commands' option tables (opt.h), for --help and the completion:
 * every command has one. */
static const struct opt_cmd *const grammars[] = {
	&opt_cmd_load, &opt_cmd_unload, &opt_cmd_group, &opt_cmd_sub, &opt_cmd_list,
	&opt_cmd_stats, &opt_cmd_save, &opt_cmd_apply, &opt_cmd_send, &opt_cmd_serve, &opt_cmd_agent,
	&opt_cmd_fleet, NULL,
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *f)
{
	size_t i;

	fputs(usage_head, f);
	for (i = 0; grammars[i]; i++)
		opt_print_summary(f, grammars[i]);
	fputs(usage_tail, f);
}

/* The hidden modes behind completion/replicast and the grammar tests:
 * `--complete WORD...` and `--options` (opt.h). */
static int hidden_mode(int argc, char **argv)
{
	if (!strcmp(argv[1], "--options"))
		opt_list_options(stdout, grammars);
	else if (argc > 2)
		opt_complete(stdout, grammars, argc - 2, argv + 2);
	return EXIT_OK;
}

int cli_run(struct cli *cli, int argc, char **argv)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++) {
		if (!strcmp(argv[0], commands[i].name))
			return commands[i].fn(cli, argc, argv);
	}
	if (!cli_where[0])
		print_usage(stderr);
	return cli_error(EXIT_USAGE, "unknown command '%s'", argv[0]);
}

int main(int argc, char **argv)
{
	struct cli cli = { .pin_path = getenv("REPLICAST_PIN_PATH") };
	const char *batch = NULL;
	bool force = false;

	cli_libbpf_setup();
	if (argc > 1 && (!strcmp(argv[1], "--complete") || !strcmp(argv[1], "--options")))
		return hidden_mode(argc, argv);
	/* Options before the command: --pin-path, -batch, -force, --help and
	 * --version. */
	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			print_usage(stdout);
			return EXIT_OK;
		}
		/* The CLI's own version, then the library's it runs on. */
		if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
			printf("replicast %s (libreplicast %s)\n", REPLICAST_VERSION, replicast_version());
			return EXIT_OK;
		}
		if (!strcmp(argv[1], "-force") || !strcmp(argv[1], "--force")) {
			force = true;
			argv++;
			argc--;
			continue;
		}
		if ((!strcmp(argv[1], "-batch") || !strcmp(argv[1], "--batch") ||
		     !strcmp(argv[1], "-b")) && argc > 2) {
			batch = argv[2];
			argv += 2;
			argc -= 2;
			continue;
		}
		if (!strcmp(argv[1], "--pin-path") && argc > 2) {
			cli.pin_path = argv[2];
			argv += 2;
			argc -= 2;
			continue;
		}
		if (!strncmp(argv[1], "--pin-path=", 11)) {
			cli.pin_path = argv[1] + 11;
			argv++;
			argc--;
			continue;
		}
		print_usage(stderr);
		return cli_error(EXIT_USAGE, "unknown option '%s'", argv[1]);
	}
	if (batch) {
		if (argc > 1)
			return cli_error(EXIT_USAGE, "-batch FILE takes no command after it ('%s')",
					 argv[1]);
		return cli_batch(&cli, batch, force);
	}
	if (force)
		return cli_error(EXIT_USAGE, "-force goes with -batch FILE");
	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	return cli_run(&cli, argc - 1, argv + 1);
}
