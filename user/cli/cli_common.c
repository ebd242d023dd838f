// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What every command shares (cli.h): the one-line errors and warnings,
 * opening the pinned replicator with its advice when that fails, checks of
 * devices and arguments, JSON strings. main() and the dispatch are
 * replicast.c's. */
#include <errno.h>
#include <net/if_arp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

char cli_where[CLI_WHERE_LEN];

int cli_error(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	/* Escaped whole: names and words in it may come from a file or the
	 * kernel, and the line stays one line. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fputs("replicast: ", stderr);
	cli_escape_to(stderr, cli_where);
	cli_escape_to(stderr, msg);
	fputc('\n', stderr);
	return code;
}

void cli_log(enum replicast_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level != REPLICAST_LOG_WARN)
		return;
	fputs("replicast: ", stderr);
	cli_escape_to(stderr, cli_where);
	fputs("warning: ", stderr);
	cli_escape_to(stderr, msg);	/* may name a device */
	fputc('\n', stderr);
}

int cli_require_root(void)
{
	if (geteuid() != 0)
		return cli_error(EXIT_FAIL, "must run as root (needs CAP_BPF and CAP_NET_ADMIN)");
	return EXIT_OK;
}

int cli_lib_error(int err, const char *what)
{
	return cli_error(EXIT_FAIL, "%s: %s", what, replicast_strerror(err));
}

const char *cli_pin_path(const struct cli *cli)
{
	static char path[4096];

	if (cli->pin_path)
		return cli->pin_path;
	replicast_default_pin_path(path, sizeof(path));
	return path;
}

int cli_no_bpffs(const struct cli *cli, const char *what)
{
	if (cli->pin_path)
		return cli_error(EXIT_FAIL, "%s: %s is on no bpffs that outlives this command: "
				 "it runs in a mount namespace of its own (as under ip netns "
				 "exec), where /sys/fs/bpf is not one; leave out --pin-path (the "
				 "host's bpffs is then found), or enter only the network namespace "
				 "(nsenter --net=/run/netns/NS replicast ...)", what, cli->pin_path);
	return cli_error(EXIT_FAIL, "%s: no bpffs outlives this command: it runs in a mount "
			 "namespace of its own (as under ip netns exec) and the host has no bpffs at /sys/fs/bpf; "
			 "mount one on the host (mount -t bpf bpf /sys/fs/bpf) or enter only "
			 "the network namespace (nsenter --net=/run/netns/NS replicast ...)", what);
}

int cli_stale(const struct cli *cli, const char *what)
{
	return cli_error(EXIT_FAIL, "%s: the state at %s was made in another network namespace "
			 "that had this one's name (deleted since?); once that one is gone, "
			 "remove it (rm -r %s) and load again", what, cli_pin_path(cli),
			 cli_pin_path(cli));
}

int cli_unsafe_dir(const struct cli *cli, const char *what)
{
	return cli_error(EXIT_FAIL, "%s: %s is not root's alone (another owner, or writable by "
			 "group or others), and whoever can write there can swap the pinned "
			 "program or maps; make it root's (chown root: %s; chmod go-w %s) or, "
			 "if nothing of yours is pinned there, remove it", what,
			 cli_pin_path(cli), cli_pin_path(cli), cli_pin_path(cli));
}

/* Names for the link types of devices people try to attach to by mistake. */
static const char *link_type_name(unsigned int type)
{
	switch (type) {
	case ARPHRD_NONE:	return "no link layer: tun or wireguard";
	case ARPHRD_TUNNEL:	return "ipip";
	case ARPHRD_TUNNEL6:	return "ip6tnl";
	case ARPHRD_SIT:	return "sit";
	case ARPHRD_IPGRE:	return "gre";
	case ARPHRD_PPP:	return "ppp";
	case ARPHRD_INFINIBAND:	return "infiniband";
	default:		return "not Ethernet";
	}
}

int cli_check_dev(const char *what, const char *ifname)
{
	unsigned int type = 0;
	int err = replicast_dev_check(ifname, &type);

	if (err == -ENODEV || err == -EINVAL)
		return cli_error(EXIT_FAIL, "%s: no such interface '%s'", what, ifname);
	if (err == -EMEDIUMTYPE)
		return cli_error(EXIT_FAIL, "%s: %s is not an Ethernet device (link type %u, %s): "
				 "the replicator reads Ethernet frames and would let everything "
				 "there pass untouched; attach it to the Ethernet device the "
				 "packets arrive on", what, ifname, type, link_type_name(type));
	if (err)
		return cli_error(EXIT_FAIL, "%s: looking at %s: %s", what, ifname,
				 replicast_strerror(err));
	return EXIT_OK;
}

/* For a default per-namespace path: the host's default directory on the same
 * bpffs into buf, when a relay is pinned there. Older versions pinned every
 * namespace's relay there, so that is where one loaded by them is. */
static bool host_relay_beside(const struct cli *cli, char *buf, size_t len)
{
	const char *path = cli_pin_path(cli), *ns = strstr(path, "/replicast-netns/");
	int n;

	if (cli->pin_path || !ns)
		return false;
	n = snprintf(buf, len, "%.*s/replicast", (int)(ns - path), path);
	if (n < 0 || (size_t)n + sizeof("/replicate_prog") > len)
		return false;
	strcat(buf, "/replicate_prog");
	if (access(buf, F_OK))
		return false;
	buf[n] = '\0';
	return true;
}

int cli_open(const struct cli *cli, struct replicast **rc)
{
	struct replicast_opts opts = {
		.sz = sizeof(opts),
		.pin_path = cli->pin_path,
		.log = cli_log,
	};
	char host[4096];
	int err;

	if (cli_require_root())
		return EXIT_FAIL;
	err = replicast_open(&opts, rc);
	if (err == -ENOENT && host_relay_beside(cli, host, sizeof(host)))
		return cli_error(EXIT_FAIL, "not loaded: nothing is pinned at %s, this network "
				 "namespace's; the relay at %s, the host's, may be this one's (older "
				 "versions pinned every namespace's there): reach it with --pin-path %s",
				 cli_pin_path(cli), host, host);
	if (err == -ENOENT)
		return cli_error(EXIT_FAIL, "not loaded: nothing is pinned at %s; "
				 "run 'replicast load --dev IFNAME' first", cli_pin_path(cli));
	if (err == -ENOMEDIUM)
		return cli_no_bpffs(cli, "not loaded");
	if (err == -ESTALE)
		return cli_stale(cli, "not loaded");
	if (err == -EACCES)
		return cli_unsafe_dir(cli, "not opened");
	if (err)
		return cli_lib_error(err, "opening the pinned replicator");
	/* Released by replicast_close() at the command's end. */
	if (cli->hold_lock && (err = replicast_lock(*rc))) {
		replicast_close(*rc);
		*rc = NULL;
		return cli_lib_error(err, "taking the writers' lock");
	}
	return EXIT_OK;
}

int cli_parse_endpoint(const char *text, const char *what, struct replicast_endpoint *ep)
{
	if (replicast_endpoint_parse(text, ep))
		return cli_error(EXIT_USAGE, "%s '%s' is not ADDR:PORT or [IPV6]:PORT "
				 "(port 1-65535)", what, text);
	return EXIT_OK;
}

int cli_parse_u32(const char *text, const char *what, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v == 0 || v > 0xffffffffUL)
		return cli_error(EXIT_USAGE, "%s '%s' is not a positive number", what, text);
	*out = (unsigned int)v;
	return EXIT_OK;
}

void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}
