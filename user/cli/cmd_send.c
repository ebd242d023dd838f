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
#include "opt.h"

struct send_args {
	uint64_t gen, count, first;
	unsigned int size, rate, seed, idle_ms, rcvbuf, batch, frames, frame_size, timeout_ms;
	unsigned int threads, ring;
	const char *listen, *pcap, *source, *engine_idle_ms;
	char dev[IF_NAMESIZE];
	int engine;			/* 0: not given */
	bool json, peer_gro;
};

enum { ENGINE_AFXDP = 1, ENGINE_XDP };

static const struct opt_value engine_values[] = {
	{ "afxdp", ENGINE_AFXDP }, { "xdp", ENGINE_XDP }, { NULL, 0 },
};

#define A struct send_args
static const struct opt_def send_opts[] = {
	OPT_U64_ROW(A, "gen", gen, "COUNT", NULL, "source: COUNT numbered packets of --size "
		    "bytes: bytes 0..7 the sequence number from --first, big-endian; the rest "
		    "as tests/tools/rc_blast.c with --seed"),
	OPT_STRING_ROW(A, "udp-listen", 0, listen, "ADDR:PORT", OPT_C_NONE, "source: a "
		       "gateway: datagrams sent to ADDR:PORT are read in batches (recvmmsg) and "
		       "handed over in batches; stops after --count datagrams, --idle-ms "
		       "without one, or SIGINT. Datagrams the kernel dropped at its socket "
		       "before they were read (SO_RXQ_OVFL) are counted, shown, and make the "
		       "exit status 1"),
	OPT_STRING_ROW(A, "pcap", 0, pcap, "FILE", OPT_C_FILE, "source: the UDP payloads of a "
		       "capture, in order; a capture cut short inside a record: what came "
		       "before is sent, the cut record is named, and the exit status is 1"),
	OPT_U32_ROW(A, "size", size, "BYTES", 1, 0xffffffffU, "--gen's payload size (default "
		    "64; at least 8)"),
	OPT_U32_ROW(A, "rate", rate, "PPS", 1, MAX_RATE, "at most PPS packets per second "
		    "(--gen, --pcap): a batch holds at most what PPS allows in 25 ms (at least "
		    "one packet), so COUNT packets take about COUNT / PPS seconds",
		    .limit = "packets per second"),
	OPT_U32_ROW(A, "seed", seed, "S", 0, 0xffffffffU, "--gen's payload seed"),
	OPT_U64_ROW(A, "first", first, "SEQ", NULL, "--gen's first sequence number (default 0)"),
	OPT_U64_ROW(A, "count", count, "N", NULL, "--udp-listen stops after N datagrams"),
	OPT_U32_ROW(A, "idle-ms", idle_ms, "MS", 1, 0xffffffffU, "--udp-listen stops after MS "
		    "without a datagram"),
	OPT_U32_ROW(A, "rcvbuf", rcvbuf, "BYTES", 1, INT32_MAX / 2, "the --udp-listen socket's "
		    "receive buffer, 8 MiB by default", .limit = "bytes"),
	OPT_U32_ROW(A, "batch", batch, "N", 1, 0xffffffffU, "packets per hand-over (default "
		    "256; at most --frames)"),
	OPT_U32_ROW(A, "frames", frames, "N", 1, 0xffffffffU, "frames of shared memory, a "
		    "power of two (default 4096)"),
	OPT_U32_ROW(A, "frame-size", frame_size, "BYTES", 1, 0xffffffffU, "2048 (default) or "
		    "4096"),
	OPT_IFNAME_ROW(A, "dev", dev, "NAME", "injection device (default: the one load made)"),
	OPT_STRING_ROW(A, "source", 0, source, "ADDR[:PORT]", OPT_C_NONE, "source of the "
		       "frames (default: this host's address towards GROUP, port GROUP's); only "
		       "subscribers added with --keep-source see it"),
	OPT_U32_ROW(A, "timeout-ms", timeout_ms, "MS", 1, 0xffffffffU, "longest wait for the "
		    "kernel (default 1000)"),
	OPT_FLAG_ROW(A, "json", 'j', json, "the summary as JSON"),
	OPT_ENUM_ROW(A, "engine", engine, "afxdp|xdp", engine_values, "xdp: the zero-syscall "
		     "XDP engine instead of AF_XDP (afxdp, the default up to 500 subscribers, "
		     "which the AF_XDP path serves without loss; larger groups take xdp unless "
		     "--engine is given): packets go into a ring in shared memory, and engine "
		     "threads inside the kernel build every subscriber's copy and send it out of "
		     "the subscriber's device, with no system call per packet; each thread keeps "
		     "a core busy while packets flow. --batch, --frames, --frame-size and --dev "
		     "do not apply to it"),
	OPT_U32_ROW(A, "threads", threads, "N", 1, REPLICAST_ENGINE_MAX_THREADS, "--engine "
		    "xdp: engine threads (default 1), each its own core (beyond the first, only while "
		    "the first alone is busy)"),
	OPT_U32_ROW(A, "ring", ring, "N", 1, 0xffffffffU, "--engine xdp: packets the ring "
		    "holds, a power of two (default 4096)"),
	OPT_STRING_ROW(A, "engine-idle-ms", 0, engine_idle_ms, "MS|never", OPT_C_NONE,
		       "--engine xdp: threads leave the kernel after MS without packets and come "
		       "back with the next (default 200; never: each thread spins a core until "
		       "the end)"),
	OPT_FLAG_ROW(A, "peer-gro", 0, peer_gro, "--engine xdp: switch GRO on at the peer of "
		     "any veth the copies leave by when it has no NAPI (frames sent there are "
		     "lost otherwise)"),
	OPT_END,
};
#undef A

static const struct opt_arg send_arg[] = { { "GROUP", OPT_C_GROUP }, { NULL, OPT_C_NONE } };

const struct opt_cmd opt_cmd_send = {
	.name = "send",
	.path = "send",
	.args = send_arg, .min_args = 1,
	.opts = send_opts,
	.summary = "hand packets over in batches (AF_XDP, or the XDP engine's shared ring)",
	.text = "Hands packets to the replicator through the injection device that 'replicast\n"
		"load' made: frames are built in shared memory (AF_XDP) and a whole batch costs\n"
		"one system call, so GROUP's subscribers get their copies for a small fraction\n"
		"of a system call each. One source of packets: --gen, --udp-listen or --pcap.\n"
		"\n"
		"On a terminal it shows progress; at the end it prints packets sent, system calls\n"
		"made while sending, per packet and per packet per subscriber. Then it reads the\n"
		"replicator's counters: when fewer copies went out than packets x subscribers (or\n"
		"copies were counted as dropped: no route, device down, ...), it says how many\n"
		"were lost and why, and exits 1.\n",
};

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

static int parse_args(int argc, char **argv, struct cli *cli, struct send_opts *o,
		      struct send_args *a, bool *help)
{
	struct opt_parsed p;
	unsigned int v32;
	int ret, sources;

	*help = false;
	ret = opt_parse(&opt_cmd_send, OPT_ARGV, argc, argv, cli, a, &p);
	*help = p.help;
	if (ret || p.help)
		return ret;
	if (cli_parse_endpoint(p.args[0], "GROUP", &o->group))
		return EXIT_USAGE;
	sources = opt_given(&p, "gen") + opt_given(&p, "udp-listen") + opt_given(&p, "pcap");
	if (sources != 1)
		return cli_error(EXIT_USAGE, "send: give exactly one of --gen COUNT, --udp-listen "
				 "ADDR:PORT, --pcap FILE");
	o->kind = opt_given(&p, "gen") ? SRC_GEN : opt_given(&p, "udp-listen") ? SRC_UDP : SRC_PCAP;
	if (a->gen > MAX_COUNT || a->count > MAX_COUNT)
		return cli_error(EXIT_USAGE, "send: --%s %" PRIu64 " is over the limit of %llu "
				 "packets; ask for at most that", a->gen > MAX_COUNT ? "gen" : "count",
				 a->gen > MAX_COUNT ? a->gen : a->count, MAX_COUNT);
	o->count = o->kind == SRC_GEN ? a->gen : a->count;
	o->listen = a->listen;
	o->pcap_file = a->pcap;
	o->size = a->size;
	o->rate = a->rate;
	o->seed = a->seed;
	o->first = a->first;
	o->idle_ms = a->idle_ms;
	o->rcvbuf = a->rcvbuf;
	o->sopts.batch_size = a->batch;
	o->sopts.frame_count = a->frames;
	o->sopts.frame_size = a->frame_size;
	o->sopts.timeout_ms = a->timeout_ms;
	o->sopts.threads = a->threads;
	o->sopts.ring_slots = a->ring;
	o->sopts.peer_gro = a->peer_gro;
	if (a->dev[0])
		o->sopts.ifname = a->dev;
	if (a->json)
		cli->json = true;
	o->engine_chosen = a->engine != 0;
	o->xdp = a->engine == ENGINE_XDP;
	if (a->source) {
		/* ADDR:PORT, [ADDR6]:PORT, or a bare address (port: GROUP's). */
		if (replicast_endpoint_parse(a->source, &o->source)) {
			char buf[64];

			snprintf(buf, sizeof(buf), strchr(a->source, ':') ? "[%s]:1" : "%s:1",
				 a->source);
			if (replicast_endpoint_parse(buf, &o->source))
				return cli_error(EXIT_USAGE, "send: --source '%s' is not "
						 "ADDR[:PORT]", a->source);
			o->source.port = 0;
		}
		o->have_source = true;
	}
	if (a->engine_idle_ms) {
		/* The library's meanings, spelt out: 1 ms or more, or "never"
		 * (its -1); 0, its "default", is not taken. */
		if (!strcmp(a->engine_idle_ms, "never")) {
			o->sopts.idle_ms = -1;
		} else {
			ret = cli_parse_u32(a->engine_idle_ms, "send: --engine-idle-ms", &v32);
			if (ret)
				return ret;
			o->sopts.idle_ms = (int)(v32 > INT32_MAX ? INT32_MAX : v32);
		}
	}
	if (!o->size)
		o->size = DEFAULT_SIZE;
	if (o->kind == SRC_GEN && o->size < 8)
		return cli_error(EXIT_USAGE, "send: --size must be at least 8 (the sequence "
				 "number)");
	if (o->rcvbuf && o->kind != SRC_UDP)
		return cli_error(EXIT_USAGE, "send: --rcvbuf goes with --udp-listen");
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
	struct send_args args = {};
	bool help;
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

	ret = parse_args(argc, argv, cli, &o, &args, &help);
	if (ret || help)
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
				" packets x %u %s) were lost in the kernel%s%s%s; 'replicast "
				"stats' shows which subscribers", lost, expected, st.sent,
				before.per_packet, before.per_packet == before.subs ? "subscribers"
				: "copy (balanced)", why[0] ? " (" : "", why, why[0] ? ")" : "");
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
