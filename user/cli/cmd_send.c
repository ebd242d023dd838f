// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast send GROUP`: hands packets to the replicator in batches through
 * the library's AF_XDP sender, from a generator, a UDP gateway or a capture,
 * and says what that cost in system calls per packet and per subscriber. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <pcap/pcap.h>
#include "cli_send.h"

static const char send_usage[] =
	"Usage: replicast send GROUP --gen COUNT [--size BYTES] [--rate PPS] [--seed S] [--first SEQ]\n"
	"       replicast send GROUP --udp-listen ADDR:PORT [--count N] [--idle-ms MS]\n"
	"                                [--rcvbuf BYTES]\n"
	"       replicast send GROUP --pcap FILE [--rate PPS]\n"
	"   options for all: [--batch N] [--frames N] [--frame-size BYTES] [--dev NAME]\n"
	"                    [--source ADDR[:PORT]] [--timeout-ms MS] [--json] [--pin-path DIR]\n"
	"                    [--engine afxdp|xdp] [--threads N] [--ring N]\n"
	"                    [--engine-idle-ms MS|never]\n"
	"                    [--peer-gro]\n"
	"\n"
	"Hands packets to the replicator through the injection device that 'replicast\n"
	"load' made: frames are built in shared memory (AF_XDP) and a whole batch costs\n"
	"one system call, so GROUP's subscribers get their copies for a small fraction\n"
	"of a system call each. One source of packets:\n"
	"\n"
	"  --gen COUNT          COUNT numbered packets of --size bytes (default 64): bytes\n"
	"                       0..7 the sequence number from --first (default 0), big-\n"
	"                       endian; the rest as tests/tools/rc_blast.c with --seed\n"
	"  --udp-listen ADDR:PORT  a gateway: datagrams sent to ADDR:PORT are read in\n"
	"                       batches (recvmmsg) and handed over in batches; stops after\n"
	"                       --count datagrams, --idle-ms without one, or SIGINT.\n"
	"                       Datagrams the kernel dropped at its socket before they\n"
	"                       were read (its buffer was full: they came faster than\n"
	"                       the gateway forwards) are counted (SO_RXQ_OVFL) and\n"
	"                       shown in the progress line and the summary, and make the\n"
	"                       exit status 1: what the sender sent did not all go out\n"
	"  --rcvbuf BYTES       the gateway socket's receive buffer (default 8 MiB)\n"
	"  --pcap FILE          the UDP payloads of a capture, in order; a capture cut\n"
	"                       short inside a record: what came before is sent, the cut\n"
	"                       record is named, and the exit status is 1\n"
	"\n"
	"  --rate PPS           at most PPS packets per second (--gen, --pcap): a batch\n"
	"                       holds at most what PPS allows in 25 ms (at least one\n"
	"                       packet), so COUNT packets take about COUNT / PPS seconds\n"
	"  --batch N            packets per hand-over (default 256)\n"
	"  --frames N           frames of shared memory, a power of two (default 4096)\n"
	"  --frame-size BYTES   2048 (default) or 4096\n"
	"  --dev NAME           injection device (default: the one load made)\n"
	"  --source ADDR[:PORT] source of the frames (default: this host's address\n"
	"                       towards GROUP, port GROUP's); only subscribers added with\n"
	"                       --keep-source see it\n"
	"  --timeout-ms MS      longest wait for the kernel (default 1000)\n"
	"  --json               the summary as JSON\n"
	"\n"
	"  --engine xdp         the zero-syscall XDP engine instead of AF_XDP (afxdp, the\n"
	"                       default up to 500 subscribers, which the AF_XDP path serves\n"
	"                       without loss; larger groups take xdp unless --engine is\n"
	"                       given): packets go into a ring in shared memory, and\n"
	"                       engine threads inside the kernel build every subscriber's\n"
	"                       copy and send it out of the subscriber's device, with no\n"
	"                       system call per packet; each thread keeps a core busy\n"
	"                       while packets flow. --batch, --frames, --frame-size and\n"
	"                       --dev do not apply to it. Its options:\n"
	"  --threads N          engine threads, 1..16 (default 1), each its own core\n"
	"  --ring N             packets the ring holds, a power of two (default 4096)\n"
	"  --engine-idle-ms MS  threads leave the kernel after MS without packets and come\n"
	"                       back with the next (default 200; 'never': each thread\n"
	"                       spins a core until the end)\n"
	"  --peer-gro           switch GRO on at the peer of any veth the copies leave by\n"
	"                       when it has no NAPI (frames sent there are lost otherwise)\n"
	"\n"
	"On a terminal it shows progress; at the end it prints packets sent, system calls\n"
	"made while sending, per packet and per packet per subscriber. Then it reads the\n"
	"replicator's counters: when fewer copies went out than packets x subscribers (or\n"
	"copies were counted as dropped: no route, device down, ...), it says how many\n"
	"were lost and why, and exits 1.\n";

static int parse_u64(const char *text, const char *what, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v > max)
		return cli_error(EXIT_USAGE, "send: %s '%s' is not a number up to %" PRIu64, what,
				 text, max);
	*out = v;
	return EXIT_OK;
}

/* ---- the command ---- */

/* The group's subscribers switched on; -ENOENT when there is no such group. */
static int count_subscribers(struct replicast *rc, const struct replicast_endpoint *group,
			     unsigned int *subs)
{
	struct cli_copies c;
	int err = cli_copies_read(rc, group, &c);

	if (!err)
		*subs = c.subs;
	cli_copies_free(&c);
	return err;
}

/* The largest group the AF_XDP path fans out without loss: the replicator's
 * copies of one packet to veth subscribers all wait on one CPU's backlog,
 * which holds net.core.netdev_max_backlog packets (only the first network
 * namespace shows it; 1,000 by default). Half is left for the frames
 * themselves and for other traffic on the CPU: at 900 subscribers copies were
 * lost while other tests ran on the machine. */
static unsigned int afxdp_max_fanout(void)
{
	unsigned int backlog = 1000;
	FILE *f = fopen("/proc/sys/net/core/netdev_max_backlog", "re");

	if (f) {
		if (fscanf(f, "%u", &backlog) != 1 || !backlog)
			backlog = 1000;
		fclose(f);
	}
	return backlog / 2;
}

static int parse_args(int argc, char **argv, struct cli *cli, struct send_opts *o)
{
	static const struct option options[] = {
		{ "gen", required_argument, NULL, 'g' },
		{ "size", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 'S' },
		{ "first", required_argument, NULL, 'f' },
		{ "udp-listen", required_argument, NULL, 'u' },
		{ "count", required_argument, NULL, 'c' },
		{ "idle-ms", required_argument, NULL, 'i' },
		{ "rcvbuf", required_argument, NULL, 'B' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "batch", required_argument, NULL, 'b' },
		{ "frames", required_argument, NULL, 'F' },
		{ "frame-size", required_argument, NULL, 'z' },
		{ "dev", required_argument, NULL, 'd' },
		{ "source", required_argument, NULL, 'o' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "engine", required_argument, NULL, 'E' },
		{ "threads", required_argument, NULL, 'T' },
		{ "ring", required_argument, NULL, 'R' },
		{ "engine-idle-ms", required_argument, NULL, 'I' },
		{ "peer-gro", no_argument, NULL, 'P' },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	uint32_t v32;
	uint64_t v;
	int c, ret, sources = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hj", options, NULL)) != -1) {
		ret = EXIT_OK;
		switch (c) {
		case 'g':
			o->kind = SRC_GEN;
			sources++;
			ret = parse_u64(optarg, "--gen COUNT", MAX_COUNT, &o->count);
			break;
		case 'u':
			o->kind = SRC_UDP;
			sources++;
			o->listen = optarg;
			break;
		case 'p':
			o->kind = SRC_PCAP;
			sources++;
			o->pcap_file = optarg;
			break;
		case 'c':
			ret = parse_u64(optarg, "--count", MAX_COUNT, &o->count);
			break;
		case 's':
			ret = cli_parse_u32(optarg, "--size", &o->size);
			break;
		case 'r':
			ret = cli_parse_u32(optarg, "--rate", &o->rate);
			break;
		case 'S':
			ret = parse_u64(optarg, "--seed", UINT32_MAX, &v);
			o->seed = (unsigned int)v;
			break;
		case 'f':
			ret = parse_u64(optarg, "--first", UINT64_MAX, &o->first);
			break;
		case 'i':
			ret = cli_parse_u32(optarg, "--idle-ms", &o->idle_ms);
			break;
		case 'B':
			ret = cli_parse_u32(optarg, "--rcvbuf", &o->rcvbuf);
			if (!ret && (o->rcvbuf == 0 || o->rcvbuf > INT32_MAX / 2))
				ret = cli_error(EXIT_USAGE, "send: --rcvbuf is 1 to %d bytes",
						INT32_MAX / 2);
			break;
		case 'b':
			ret = cli_parse_u32(optarg, "--batch", &o->sopts.batch_size);
			break;
		case 'F':
			ret = cli_parse_u32(optarg, "--frames", &o->sopts.frame_count);
			break;
		case 'z':
			ret = cli_parse_u32(optarg, "--frame-size", &o->sopts.frame_size);
			break;
		case 'd':
			o->sopts.ifname = optarg;
			break;
		case 't':
			ret = cli_parse_u32(optarg, "--timeout-ms", &o->sopts.timeout_ms);
			break;
		case 'o':
			/* ADDR:PORT, [ADDR6]:PORT, or a bare address (port: GROUP's). */
			if (replicast_endpoint_parse(optarg, &o->source)) {
				char buf[64];

				snprintf(buf, sizeof(buf), strchr(optarg, ':') ? "[%s]:1" : "%s:1",
					 optarg);
				if (replicast_endpoint_parse(buf, &o->source))
					return cli_error(EXIT_USAGE, "send: --source '%s' is not "
							 "ADDR[:PORT]", optarg);
				o->source.port = 0;
			}
			o->have_source = true;
			break;
		case 'j':
			cli->json = true;
			break;
		case 'E':
			o->engine_chosen = true;
			if (!strcmp(optarg, "xdp"))
				o->xdp = true;
			else if (strcmp(optarg, "afxdp"))
				return cli_error(EXIT_USAGE, "send: --engine is afxdp or xdp, not '%s'",
						 optarg);
			break;
		case 'T':
			ret = cli_parse_u32(optarg, "--threads", &o->sopts.threads);
			break;
		case 'R':
			ret = cli_parse_u32(optarg, "--ring", &o->sopts.ring_slots);
			break;
		case 'I':
			/* The library's meanings, spelt out: 1 ms or more, or
			 * "never" (its -1); 0, its "default", is not taken. */
			if (!strcmp(optarg, "never")) {
				o->sopts.idle_ms = -1;
				break;
			}
			ret = cli_parse_u32(optarg, "--engine-idle-ms", &v32);
			o->sopts.idle_ms = (int)(v32 > INT32_MAX ? INT32_MAX : v32);
			break;
		case 'P':
			o->sopts.peer_gro = true;
			break;
		default:
			ret = cli_common_option(cli, c, send_usage);
			if (ret)
				return ret < 0 ? EXIT_USAGE : ret;
		}
		if (ret)
			return ret;
	}
	if (argc - optind != 1) {
		fputs(send_usage, stderr);
		return cli_error(EXIT_USAGE, "send: expected GROUP and one of --gen, --udp-listen, "
				 "--pcap");
	}
	if (cli_parse_endpoint(argv[optind], "GROUP", &o->group))
		return EXIT_USAGE;
	if (sources != 1)
		return cli_error(EXIT_USAGE, "send: give exactly one of --gen COUNT, --udp-listen "
				 "ADDR:PORT, --pcap FILE");
	if (!o->size)
		o->size = DEFAULT_SIZE;
	if (o->kind == SRC_GEN && o->size < 8)
		return cli_error(EXIT_USAGE, "send: --size must be at least 8 (the sequence "
				 "number)");
	if (o->rcvbuf && o->kind != SRC_UDP)
		return cli_error(EXIT_USAGE, "send: --rcvbuf goes with --udp-listen");
	if (o->rate > MAX_RATE)
		return cli_error(EXIT_USAGE, "send: --rate at most %u", MAX_RATE);
	if (o->have_source && o->source.family != o->group.family)
		return cli_error(EXIT_USAGE, "send: --source and GROUP must both be IPv4 or both "
				 "IPv6");
	if (o->have_source) {
		if (o->source.family == AF_INET)
			o->sopts.source4 = &o->source;
		else
			o->sopts.source6 = &o->source;
	}
	if (o->xdp) {
		if (o->sopts.threads > REPLICAST_ENGINE_MAX_THREADS)
			return cli_error(EXIT_USAGE, "send: --threads 1..%d",
					 REPLICAST_ENGINE_MAX_THREADS);
		o->sopts.engine = REPLICAST_ENGINE_XDP;
	} else if (o->sopts.threads || o->sopts.ring_slots || o->sopts.idle_ms ||
		   o->sopts.peer_gro) {
		return cli_error(EXIT_USAGE, "send: --threads, --ring, --engine-idle-ms and "
				 "--peer-gro go with --engine xdp");
	}
	if (!o->sopts.batch_size)
		o->sopts.batch_size = 256;
	if (!o->sopts.frame_count)
		o->sopts.frame_count = 4096;
	if (o->sopts.batch_size > o->sopts.frame_count)
		return cli_error(EXIT_USAGE, "send: --batch %u exceeds --frames %u",
				 o->sopts.batch_size, o->sopts.frame_count);
	return EXIT_OK;
}

static int sender_error(int err, const char *dev, bool xdp)
{
	if (xdp) {
		switch (err) {
		case -EINVAL:
			return cli_error(EXIT_USAGE, "send: --ring must be a power of two from %u "
					 "to %u, --threads 1..%d", REPLICAST_ENGINE_MIN_RING,
					 REPLICAST_ENGINE_MAX_RING, REPLICAST_ENGINE_MAX_THREADS);
		case -EBUSY:
			return cli_error(EXIT_FAIL, "send: the XDP engine's signal (SIGRTMIN+6) has "
					 "another handler in this process");
		default:
			return cli_lib_error(err, "send: starting the XDP engine");
		}
	}
	switch (err) {
	case -ENOENT:
		return cli_error(EXIT_FAIL, "send: no injection device: load made none (loaded with "
				 "--no-inject?); name one with --dev");
	case -ENODEV:
		return cli_error(EXIT_FAIL, "send: injection device %s not found, or not a veth "
				 "with its peer here", dev ? dev : "");
	case -EBUSY:
		return cli_error(EXIT_FAIL, "send: all %d queues of the injection device have a "
				 "sender; try again when one ends", REPLICAST_INJECT_QUEUES);
	case -EINVAL:
		return cli_error(EXIT_USAGE, "send: --frames must be a power of two (64 or more), "
				 "--frame-size 2048 or 4096, --batch at most --frames");
	default:
		return cli_lib_error(err, "send: opening the sender");
	}
}

int cmd_send(struct cli *cli, int argc, char **argv)
{
	struct send_opts o = { .sopts = { .sz = sizeof(o.sopts) } };
	struct replicast_sender_stats st = { .sz = sizeof(st) };
	struct sigaction sa = { .sa_handler = send_on_signal };
	struct run r = { .o = &o };
	struct pcap_cookie *cookie = NULL;
	char dev[IF_NAMESIZE] = "", g[REPLICAST_ENDPOINT_STRLEN], errbuf[PCAP_ERRBUF_SIZE];
	char edev[CLI_NAME_ESCAPED];
	struct replicast *rc = NULL;
	struct cli_copies before = {};
	unsigned int subs = 0;
	size_t sub_max;
	uint64_t lib_before, lost = 0, expected = 0;
	char why[512] = "";
	pcap_t *pc = NULL;
	int ret, err, fd = -1;
	FILE *f;

	ret = parse_args(argc, argv, cli, &o);
	if (ret)
		return ret;
	ret = cli_open(cli, &rc);
	if (ret)
		return ret;
	replicast_endpoint_format(&o.group, g, sizeof(g));
	err = count_subscribers(rc, &o.group, &subs);
	if (err == -ENOENT) {
		ret = cli_error(EXIT_FAIL, "send: group %s does not exist; add it with 'replicast "
				"group add %s'", g, g);
		goto out;
	}
	if (err) {
		ret = cli_lib_error(err, "send: reading the group");
		goto out;
	}
	if (!o.engine_chosen && subs > afxdp_max_fanout()) {
		o.xdp = true;
		o.sopts.engine = REPLICAST_ENGINE_XDP;
		fprintf(stderr, "replicast: %u subscribers are more copies of a packet than the AF_XDP "
			"path delivers without loss (%u): sending through the XDP engine\n", subs,
			afxdp_max_fanout());
	}
	if (o.xdp)
		snprintf(dev, sizeof(dev), "%s", "the XDP engine");
	else if (o.sopts.ifname)
		snprintf(dev, sizeof(dev), "%s", o.sopts.ifname);
	else
		replicast_inject_name(rc, dev, sizeof(dev));
	err = replicast_sender_open(rc, &o.sopts, &r.s);
	if (err) {
		ret = sender_error(err, dev, o.xdp);
		goto out;
	}
	err = replicast_sender_prepare(r.s, &o.group);
	if (err == -ENXIO && o.xdp) {
		ret = cli_error(EXIT_FAIL, "send: copies to %s would leave by a device that cannot "
				"take XDP frames (see above); --engine xdp --peer-gro switches GRO on at "
				"a veth's peer%s", g, o.engine_chosen ? "" : "; --engine afxdp sends anyway and "
				"loses the copies past what the backlog holds");
		goto out;
	}
	if (err) {
		ret = cli_lib_error(err, o.xdp ? "send: checking the group's devices" :
					     "send: preparing the group's headers");
		goto out;
	}
	if (o.kind == SRC_GEN && o.size > replicast_sender_max_payload(r.s, o.group.family)) {
		ret = cli_error(EXIT_USAGE, "send: --size %u exceeds what one frame %s%s carries "
				"(%zu bytes)", o.size, o.xdp ? "to the group's devices" : "on ",
				o.xdp ? "" : dev, replicast_sender_max_payload(r.s, o.group.family));
		goto out;
	}
	if (o.kind == SRC_GEN && !replicast_group_max_payload(rc, &o.group, &sub_max) &&
	    o.size > sub_max) {
		ret = cli_error(EXIT_USAGE, "send: --size %u exceeds what a subscriber's link carries "
				"(%zu bytes), so its copies would be dropped as too_big",
				o.size, sub_max);
		goto out;
	}
	if (o.kind == SRC_UDP) {
		struct replicast_endpoint ep;

		if (cli_parse_endpoint(o.listen, "--udp-listen", &ep)) {
			ret = EXIT_USAGE;
			goto out;
		}
		fd = send_listen_socket(&ep, o.rcvbuf);
		if (fd < 0) {
			ret = cli_error(EXIT_FAIL, "send: listening on %s: %s", o.listen,
					strerror(-fd));
			goto out;
		}
	} else if (o.kind == SRC_PCAP) {
		cookie = calloc(1, sizeof(*cookie));
		if (!cookie || (cookie->fd = open(o.pcap_file, O_RDONLY | O_CLOEXEC)) < 0) {
			ret = cli_error(EXIT_FAIL, "send: %s: %s", o.pcap_file, strerror(errno));
			free(cookie);
			cookie = NULL;
			goto out;
		}
		cookie->r = &r;
		f = fopencookie(cookie, "r", (cookie_io_functions_t){ .read = send_cookie_read,
								      .close = send_cookie_close });
		if (!f) {
			close(cookie->fd);
			free(cookie);
			cookie = NULL;
			ret = cli_error(EXIT_FAIL, "send: %s: %s", o.pcap_file, strerror(errno));
			goto out;
		}
		/* Large reads: a capture costs one system call per MiB. */
		setvbuf(f, cookie->buf, _IOFBF, sizeof(cookie->buf));
		pc = pcap_fopen_offline(f, errbuf);
		if (!pc) {
			fclose(f);
			ret = cli_error(EXIT_FAIL, "send: %s: %s", o.pcap_file, errbuf);
			goto out;
		}
	}
	if (o.kind == SRC_GEN) {
		r.buf = malloc(o.size);
	} else if (o.kind == SRC_UDP) {
		size_t max = replicast_sender_max_payload(r.s, o.group.family);

		r.buf = malloc((size_t)o.sopts.batch_size * (max + 1));
		r.msgs = calloc(o.sopts.batch_size, sizeof(*r.msgs));
		r.iov = calloc(o.sopts.batch_size, sizeof(*r.iov));
		r.ctrl = calloc(o.sopts.batch_size, OVFL_CMSG_SPACE);
	}
	if ((o.kind != SRC_PCAP && !r.buf) ||
	    (o.kind == SRC_UDP && (!r.msgs || !r.iov || !r.ctrl))) {
		ret = cli_lib_error(-ENOMEM, "send");
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r.progress = isatty(STDERR_FILENO);
	/* The group's counters before: the copies this run makes are the
	 * difference (read outside the counted phase, as after it). */
	err = cli_copies_read(rc, &o.group, &before);
	if (err) {
		ret = cli_lib_error(err, "send: reading the group's counters");
		goto out;
	}
	/* Whatever stdout holds goes out now, not inside the counted phase. */
	fflush(stdout);

	/* The send phase starts after this line: everything from here to the
	 * summary is counted, by the library and by us. */
	/* The device's name comes from the kernel or the pin directory. */
	cli_escape(dev, edev, sizeof(edev));
	if (o.kind == SRC_UDP)
		fprintf(stderr, "replicast: listening on %s, sending to %s (%u subscriber%s) "
			"through %s\n", o.listen, g, subs, subs == 1 ? "" : "s", edev);
	else
		fprintf(stderr, "replicast: sending to %s (%u subscriber%s) through %s\n", g, subs,
			subs == 1 ? "" : "s", edev);
	replicast_sender_stats(r.s, &st);
	lib_before = st.syscalls;
	r.reads = 0;	/* opening the capture read its header, before the phase */
	r.start_ns = r.last_progress_ns = send_now_ns();
	if (o.kind == SRC_GEN)
		err = send_run_gen(&r);
	else if (o.kind == SRC_UDP)
		err = send_run_udp(&r, fd);
	else
		err = send_run_pcap(&r, pc);
	if (!err)
		err = replicast_sender_flush(r.s);
	send_progress(&r, true);
	replicast_sender_stats(r.s, &st);
	send_print_summary(&r, &st, st.syscalls - lib_before, subs,
			   (double)(send_now_ns() - r.start_ns) / 1e9, dev, cli->json);
	/* The counted phase is over: did every copy go out? */
	if (!err && st.sent && before.subs) {
		err = cli_copies_check(rc, &o.group, &before, st.sent, st.copies_dropped, &lost,
				       &expected, why, sizeof(why));
		if (err) {
			ret = cli_lib_error(err, "send: reading the group's counters");
			goto out;
		}
	}

	if (err)
		ret = cli_lib_error(err, "send");
	else if (r.read_failed)
		ret = cli_error(EXIT_FAIL, "send: %s: record %" PRIu64 " is cut short or unreadable "
				"(%s); the payloads of the %" PRIu64 " records before it were sent", o.pcap_file,
				r.records + 1, pcap_geterr(pc), r.records);
	else if (st.sent != r.packets || st.errors)
		ret = cli_error(EXIT_FAIL, "send: %" PRIu64 " of %" PRIu64 " packets went out "
				"(%" PRIu64 " errors)", st.sent, r.packets, st.errors);
	else if (r.sock_drops)
		ret = cli_error(EXIT_FAIL, "send: %" PRIu64 " datagrams were dropped at the socket of "
				"%s before the gateway read them (its receive buffer was full; "
				"--rcvbuf raises it, a lower sending rate avoids it)", r.sock_drops,
				o.listen);
	else if (lost)
		ret = cli_error(EXIT_FAIL, "send: %" PRIu64 " of %" PRIu64 " copies (%" PRIu64
				" packets x %u subscribers) were lost in the kernel%s%s%s; 'replicast "
				"stats' shows which subscribers", lost, expected, st.sent, before.subs,
				why[0] ? " (" : "", why, why[0] ? ")" : "");
	else if (r.too_big)
		ret = cli_error(EXIT_FAIL, "send: %" PRIu64 " %s larger than the %zu bytes a frame "
				"carries, not sent", r.too_big,
				o.kind == SRC_UDP ? "datagram(s)" : "payload(s)",
				replicast_sender_max_payload(r.s, o.group.family));
	else if (send_stop_signal)
		ret = EXIT_OK;
out:
	if (pc)
		pcap_close(pc);	/* closes the cookie stream and its file */
	free(cookie);
	if (fd >= 0)
		close(fd);
	free(r.buf);
	free(r.msgs);
	free(r.iov);
	free(r.ctrl);
	replicast_sender_close(r.s);
	cli_copies_free(&before);
	replicast_close(rc);
	return ret;
}
