// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* rcbench: the benchmark's helper tool, driven by scripts/bench.sh.
 *
 *   rcbench rx-attach --pin DIR NETNS:IFNAME...   load the XDP delivery counter,
 *                                                 attach it to each receiver veth
 *   rcbench rx-read --pin DIR                     print the delivery counters
 *   rcbench run [options]                         one measured run, one CSV row
 *   rcbench report [options]                      tables, CSV, JSON, plot data
 *
 * `run` forks the sender into the sender's network namespace, lets it set up,
 * then takes the "before" readings (receiver counters, /proc/stat, syscall
 * counter armed for the sender's thread group), says go, waits for the sender
 * to finish, lets the receivers settle and takes the "after" readings. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "rcb_common.h"
#include "rcb_send.h"
#include "rcb_report.h"
#include "rcb_lib_send.h"
#include "rcb_latency.h"
#include <replicast.h>
#include "rcb_count.skel.h"
#include "rcb_syscalls.skel.h"

#define RX_MAP_NAME "rcb_rx_counts"
#define RX_MISC_NAME "rcb_rx_misc"
#define RX_CFG_NAME "rcb_rx_cfg"

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("rcbench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* ---- rx-attach / rx-read ------------------------------------------------ */

static int enter_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET)) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	return 0;
}

static int cmd_rx_attach(int argc, char **argv)
{
	const char *pin = NULL;
	struct rcb_count *skel;
	char path[PATH_MAX];
	int self_ns, opt, err;
	unsigned long port = RCB_DEFAULT_PORT;
	static const struct option opts[] = {
		{ "pin", required_argument, NULL, 'p' },
		{ "port", required_argument, NULL, 'P' },
		{ 0 },
	};

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'p')
			pin = optarg;
		else if (opt == 'P')
			port = strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (!pin || optind >= argc || !port || port > 65535)
		die("usage: rcbench rx-attach --pin DIR [--port UDP_PORT] NETNS_PATH:IFNAME...");
	skel = rcb_count__open();
	if (!skel)
		die("opening the XDP counter failed: %s", strerror(errno));
	skel->rodata->rcb_port = (uint16_t)port;
	if (rcb_count__load(skel))
		die("loading the XDP counter failed: %s", strerror(errno));
	if (mkdir(pin, 0700) && errno != EEXIST)
		die("mkdir %s: %s", pin, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s", pin, RX_MAP_NAME);
	if (bpf_map__pin(skel->maps.rcb_rx_counts, path))
		die("pinning %s failed", path);
	snprintf(path, sizeof(path), "%s/%s", pin, RX_MISC_NAME);
	if (bpf_map__pin(skel->maps.rcb_rx_misc, path))
		die("pinning %s failed", path);
	snprintf(path, sizeof(path), "%s/%s", pin, RX_CFG_NAME);
	if (bpf_map__pin(skel->maps.rcb_rx_cfg, path))
		die("pinning %s failed", path);
	self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self_ns < 0)
		die("open /proc/self/ns/net: %s", strerror(errno));
	for (int i = optind; i < argc; i++) {
		char spec[PATH_MAX], *ifname;
		unsigned int ifindex;

		snprintf(spec, sizeof(spec), "%s", argv[i]);
		ifname = strrchr(spec, ':');
		if (!ifname)
			die("bad NETNS_PATH:IFNAME '%s'", argv[i]);
		*ifname++ = '\0';
		err = enter_netns(spec);
		if (err)
			die("entering %s: %s", spec, strerror(-err));
		ifindex = if_nametoindex(ifname);
		if (!ifindex)
			die("no device %s in %s", ifname, spec);
		err = bpf_xdp_attach((int)ifindex, bpf_program__fd(skel->progs.rcb_count),
				     XDP_FLAGS_DRV_MODE, NULL);
		if (err)
			die("attaching XDP (driver mode) to %s in %s: %s", ifname, spec,
			    strerror(-err));
		if (setns(self_ns, CLONE_NEWNET))
			die("setns back: %s", strerror(errno));
	}
	close(self_ns);
	/* The attachments hold the program; the pins hold the maps. */
	rcb_count__destroy(skel);
	return 0;
}

struct rx_entry {
	uint32_t addr;		/* network byte order */
	uint64_t packets;
};

struct rx_snapshot {
	struct rx_entry *e;
	size_t n;
};

static int open_pinned(const char *pin, const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		die("opening pinned map %s: %s", path, strerror(errno));
	return fd;
}

static int ncpus(void)
{
	static int n;

	if (!n) {
		n = libbpf_num_possible_cpus();
		if (n <= 0)
			die("cannot count possible CPUs");
	}
	return n;
}

static void rx_read(int fd, struct rx_snapshot *snap)
{
	struct rcb_rx_count *vals = calloc((size_t)ncpus(), sizeof(*vals));
	uint32_t key, next, *prev = NULL;
	size_t cap = 0;

	if (!vals)
		die("out of memory");
	snap->n = 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		uint64_t sum = 0;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;
		for (int c = 0; c < ncpus(); c++)
			sum += vals[c].packets;
		if (snap->n == cap) {
			cap = cap ? cap * 2 : 256;
			snap->e = realloc(snap->e, cap * sizeof(*snap->e));
			if (!snap->e)
				die("out of memory");
		}
		snap->e[snap->n].addr = key;
		snap->e[snap->n].packets = sum;
		snap->n++;
	}
	free(vals);
}

static uint64_t rx_lookup(const struct rx_snapshot *s, uint32_t addr)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].addr == addr)
			return s->e[i].packets;
	return 0;
}

static uint64_t rx_total(const struct rx_snapshot *s)
{
	uint64_t t = 0;

	for (size_t i = 0; i < s->n; i++)
		t += s->e[i].packets;
	return t;
}

static int cmd_rx_read(int argc, char **argv)
{
	const char *pin = NULL;
	struct rx_snapshot snap = { 0 };
	uint64_t misc[RCB_MISC_MAX] = { 0 };
	int fd, opt;
	static const struct option opts[] = {
		{ "pin", required_argument, NULL, 'p' },
		{ 0 },
	};

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'p')
			pin = optarg;
		else
			return 2;
	}
	if (!pin)
		die("usage: rcbench rx-read --pin DIR");
	fd = open_pinned(pin, RX_MAP_NAME);
	rx_read(fd, &snap);
	for (size_t i = 0; i < snap.n; i++) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &snap.e[i].addr, a, sizeof(a));
		printf("%s %llu\n", a, (unsigned long long)snap.e[i].packets);
	}
	close(fd);
	fd = open_pinned(pin, RX_MISC_NAME);
	for (uint32_t k = 0; k < RCB_MISC_MAX; k++) {
		uint64_t *v = calloc((size_t)ncpus(), sizeof(*v));

		if (v && !bpf_map_lookup_elem(fd, &k, v))
			for (int c = 0; c < ncpus(); c++)
				misc[k] += v[c];
		free(v);
	}
	printf("# total %llu foreign %llu no_slot %llu passed %llu\n",
	       (unsigned long long)rx_total(&snap), (unsigned long long)misc[RCB_MISC_FOREIGN],
	       (unsigned long long)misc[RCB_MISC_NO_SLOT], (unsigned long long)misc[RCB_MISC_PASSED]);
	close(fd);
	free(snap.e);
	return 0;
}

/* ---- run ------------------------------------------------------------------ */

/* Whole-machine busy time from the first line of /proc/stat:
 * user + nice + system + irq + softirq (not idle, iowait, steal). */
struct cpu_sample {
	uint64_t busy_ticks;
	uint64_t total_ticks;
};

static struct cpu_sample cpu_read(void)
{
	unsigned long long v[10] = { 0 };
	struct cpu_sample s = { 0 };
	FILE *f = fopen("/proc/stat", "re");

	if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			 &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
			 &v[9]) < 8)
		die("cannot read /proc/stat");
	fclose(f);
	s.busy_ticks = v[0] + v[1] + v[2] + v[5] + v[6];
	s.total_ticks = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
	return s;
}

static uint64_t ticks_to_ns(uint64_t ticks)
{
	static long hz;

	if (!hz)
		hz = sysconf(_SC_CLK_TCK);
	return ticks * (1000000000ull / (uint64_t)hz);
}

/* Share of the whole machine busy over `seconds` of sleeping, in percent. */
static double background_pct(double seconds)
{
	struct cpu_sample a, b;

	a = cpu_read();
	usleep((useconds_t)(seconds * 1e6));
	b = cpu_read();
	if (b.total_ticks <= a.total_ticks)
		return 0;
	return 100.0 * (double)(b.busy_ticks - a.busy_ticks) / (double)(b.total_ticks - a.total_ticks);
}

static int parse_endpoint(const char *text, struct sockaddr_in *sa)
{
	char buf[64], *colon;
	char *end;
	unsigned long port;

	snprintf(buf, sizeof(buf), "%s", text);
	colon = strrchr(buf, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end || !port || port > 65535)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, buf, &sa->sin_addr) == 1 ? 0 : -1;
}

static struct sockaddr_in *read_dests(const char *file, size_t *n)
{
	struct sockaddr_in *d = NULL;
	size_t cap = 0;
	char line[128];
	FILE *f = fopen(file, "re");

	if (!f)
		die("open %s: %s", file, strerror(errno));
	*n = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \t\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			d = realloc(d, cap * sizeof(*d));
			if (!d)
				die("out of memory");
		}
		if (parse_endpoint(line, &d[*n]))
			die("%s: bad ADDR:PORT '%s'", file, line);
		(*n)++;
	}
	fclose(f);
	if (!*n)
		die("%s: no destinations", file);
	return d;
}

/* One "ADDR:PORT" a line: the groups of the relay and lib methods. */
static char **read_lines(const char *file, size_t *n)
{
	char **v = NULL, line[128];
	size_t cap = 0;
	FILE *f = fopen(file, "re");

	if (!f)
		die("open %s: %s", file, strerror(errno));
	*n = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \t\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				die("out of memory");
		}
		v[(*n)++] = strdup(line);
	}
	fclose(f);
	if (!*n)
		die("%s: no groups", file);
	return v;
}

static void rx_cfg_set(const char *pin, uint32_t pass, uint64_t mask)
{
	struct rcb_rx_cfg cfg = { .pass = pass, .pass_mask = mask };
	uint32_t k = 0;
	int fd = open_pinned(pin, RX_CFG_NAME);

	if (bpf_map_update_elem(fd, &k, &cfg, BPF_ANY))
		die("setting %s/%s: %s", pin, RX_CFG_NAME, strerror(errno));
	close(fd);
}

static const char *syscall_name(unsigned int nr)
{
	/* x86-64 numbers of the calls a sender is expected to make. */
	switch (nr) {
	case 1: return "write";
	case 44: return "sendto";
	case 46: return "sendmsg";
	case 307: return "sendmmsg";
	case 426: return "io_uring_enter";
	case 59: return "execve";
	default: return NULL;
	}
}

struct run_opts {
	const char *method;
	const char *netns;
	const char *dests_file;
	const char *group;
	const char *rx_pin;
	const char *label;	/* "SIZE,METHOD,RECEIVERS,RUN" prefix of the CSV row */
	const char *exec_log;	/* where an exec'd sender's stdout and stderr go */
	const char *group_file;	/* groups, one ADDR:PORT a line (relay and lib methods) */
	const char *rc_pin;	/* replicast's pin path (lib methods) */
	const char *lat_netns;	/* file of receiver netns paths: latency sockets there */
	const char *lat_out;	/* where the latency row goes (appended) */
	uint64_t lat_mask;	/* sample datagrams whose seq & mask == 0 */
	size_t ngroups;		/* user-space methods: destinations in this many groups */
	double rate;
	int stamp;
	unsigned int threads;
	uint64_t packets;
	size_t size;
	double max_seconds;
	double bg_seconds;
	double quiet_wait;	/* seconds to wait at most for background load <= quiet_pct */
	double quiet_pct;
	int count_syscalls;
	int cpus;		/* CPUs the sender keeps busy (its threads and their kernel work) */
	int exec_ok_status;	/* an exec'd sender's exit status that still means "ran" (-1: none) */
	char **exec_argv;
};

/* What the child reports back through the result pipe. */
struct child_report {
	int prepare_err;
	char err[200];
	struct rcb_send_result res;
};

static void child_main(const struct run_opts *o, struct rcb_send_cfg *cfg,
		       const struct rcb_lib_cfg *lcfg, int ready_fd, int go_fd, int res_fd)
{
	struct child_report rep;
	struct rcb_sender *s = NULL;
	struct rcb_lib_sender *ls = NULL;
	char go;
	int err;

	memset(&rep, 0, sizeof(rep));
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	err = enter_netns(o->netns);
	if (err) {
		rep.prepare_err = err;
		snprintf(rep.err, sizeof(rep.err), "entering %s: %s", o->netns, strerror(-err));
	} else if (o->exec_argv) {
		/* Our stdout is the CSV row: the program's output goes elsewhere. */
		int fd = open(o->exec_log ? o->exec_log : "/dev/null",
			      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) {
			rep.prepare_err = -errno;
			snprintf(rep.err, sizeof(rep.err), "exec log: %s", strerror(errno));
		}
	} else if (lcfg) {
		rep.prepare_err = rcb_lib_prepare(lcfg, &ls, rep.err, sizeof(rep.err));
	} else {
		err = rcb_sender_prepare(cfg, &s, rep.err, sizeof(rep.err));
		rep.prepare_err = err;
	}
	if (rep.prepare_err) {
		if (write(res_fd, &rep, sizeof(rep)) < 0)
			_exit(3);
		_exit(2);
	}
	if (write(ready_fd, "R", 1) != 1)
		_exit(3);
	if (read(go_fd, &go, 1) != 1)
		_exit(3);
	if (o->exec_argv) {
		execv(o->exec_argv[0], o->exec_argv);
		_exit(127);
	}
	if (ls)
		rcb_lib_run(ls, rcb_now_ns() + (uint64_t)(o->max_seconds * 1e9), &rep.res);
	else
		rcb_sender_run(s, rcb_now_ns() + (uint64_t)(o->max_seconds * 1e9), &rep.res);
	/* Reported before the sender closes: the AF_XDP and engine senders
	 * have flushed, every copy is out; closing them is not timed. */
	if (write(res_fd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
		_exit(3);
	rcb_lib_free(ls);
	_exit(0);
}

static void sc_zero(struct rcb_syscalls *sc)
{
	int fd = bpf_map__fd(sc->maps.rcb_sc_by_nr);
	uint64_t *zero = calloc((size_t)ncpus(), sizeof(uint64_t));

	if (!zero)
		die("out of memory");
	for (uint32_t k = 0; k <= RCB_SYSCALL_NR_MAX; k++)
		bpf_map_update_elem(fd, &k, zero, BPF_ANY);
	free(zero);
}

static uint64_t sc_total(struct rcb_syscalls *sc, unsigned int *top_nr)
{
	int fd = bpf_map__fd(sc->maps.rcb_sc_by_nr);
	uint64_t *v = calloc((size_t)ncpus(), sizeof(uint64_t));
	uint64_t total = 0, best = 0;

	if (!v)
		die("out of memory");
	*top_nr = UINT_MAX;
	for (uint32_t k = 0; k <= RCB_SYSCALL_NR_MAX; k++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (int c = 0; c < ncpus(); c++)
			sum += v[c];
		total += sum;
		if (sum > best) {
			best = sum;
			*top_nr = k;
		}
	}
	free(v);
	return total;
}

static int cmd_run(int argc, char **argv)
{
	struct run_opts o = { .max_seconds = 10, .bg_seconds = 0.2, .size = 1200, .quiet_pct = 10,
			      .exec_ok_status = -1 };
	struct rcb_send_cfg cfg = { 0 };
	struct rcb_lib_cfg lcfg = { 0 }, *lcfgp = NULL;
	struct rcb_lat *lat = NULL;
	struct rcb_lat_result lr;
	char **group_txt = NULL;
	size_t ngroup_txt = 0;
	struct rcb_syscalls *sc = NULL;
	struct sockaddr_in *dests, *group = NULL;
	struct rx_snapshot before = { 0 }, after = { 0 };
	struct cpu_sample c0, c1;
	struct child_report rep;
	size_t ndests;
	int ready[2], go[2], resp[2], rx_fd, opt, status = 0, have_report = 0;
	uint64_t t0, t1, handed, delivered, rx_min = UINT64_MAX, rx_max = 0, syscalls = 0;
	unsigned int top_nr = UINT_MAX;
	const char *outcome = "ok", *top = "";
	char topbuf[32];
	double bg_pct;
	pid_t pid;
	int method = -1, exec_mode = 0, pidfd, disturbed = 0;
	static const struct option opts[] = {
		{ "method", required_argument, NULL, 'm' },
		{ "netns", required_argument, NULL, 'n' },
		{ "dests", required_argument, NULL, 'd' },
		{ "group", required_argument, NULL, 'g' },
		{ "packets", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 's' },
		{ "max-seconds", required_argument, NULL, 't' },
		{ "bg-seconds", required_argument, NULL, 'b' },
		{ "quiet-wait", required_argument, NULL, 'q' },
		{ "quiet-pct", required_argument, NULL, 'Q' },
		{ "rx-pin", required_argument, NULL, 'r' },
		{ "label", required_argument, NULL, 'l' },
		{ "count-syscalls", no_argument, NULL, 'c' },
		{ "exec-log", required_argument, NULL, 'e' },
		{ "cpus", required_argument, NULL, 'C' },
		{ "group-file", required_argument, NULL, 'G' },
		{ "exec-ok-status", required_argument, NULL, 'X' },
		{ "groups", required_argument, NULL, 'N' },
		{ "rate", required_argument, NULL, 'R' },
		{ "stamp", no_argument, NULL, 'S' },
		{ "rc-pin", required_argument, NULL, 'P' },
		{ "threads", required_argument, NULL, 'T' },
		{ "lat-netns", required_argument, NULL, 'L' },
		{ "lat-out", required_argument, NULL, 'O' },
		{ "lat-mask", required_argument, NULL, 'M' },
		{ 0 },
	};

	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (opt) {
		case 'm': o.method = optarg; break;
		case 'n': o.netns = optarg; break;
		case 'd': o.dests_file = optarg; break;
		case 'g': o.group = optarg; break;
		case 'p': o.packets = strtoull(optarg, NULL, 10); break;
		case 's': o.size = strtoul(optarg, NULL, 10); break;
		case 't': o.max_seconds = strtod(optarg, NULL); break;
		case 'b': o.bg_seconds = strtod(optarg, NULL); break;
		case 'q': o.quiet_wait = strtod(optarg, NULL); break;
		case 'Q': o.quiet_pct = strtod(optarg, NULL); break;
		case 'r': o.rx_pin = optarg; break;
		case 'l': o.label = optarg; break;
		case 'c': o.count_syscalls = 1; break;
		case 'e': o.exec_log = optarg; break;
		case 'C': o.cpus = atoi(optarg); break;
		case 'G': o.group_file = optarg; break;
		case 'X': o.exec_ok_status = atoi(optarg); break;
		case 'N': o.ngroups = strtoul(optarg, NULL, 10); break;
		case 'R': o.rate = strtod(optarg, NULL); break;
		case 'S': o.stamp = 1; break;
		case 'P': o.rc_pin = optarg; break;
		case 'T': o.threads = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'L': o.lat_netns = optarg; break;
		case 'O': o.lat_out = optarg; break;
		case 'M': o.lat_mask = strtoull(optarg, NULL, 0); break;
		default: return 2;
		}
	}
	if (optind < argc)
		o.exec_argv = argv + optind;
	if (!o.method || !o.netns || !o.dests_file || !o.rx_pin || !o.packets || !o.label)
		die("usage: rcbench run --method M --netns PATH --dests FILE --packets N --rx-pin DIR "
		    "--label L [--size B] [--group ADDR:PORT | --group-file FILE] [--groups N] [--rate PPS] "
		    "[--stamp] [--rc-pin DIR] [--threads N] [--lat-netns FILE --lat-out FILE [--lat-mask M]] "
		    "[--max-seconds S] [--count-syscalls] [--cpus N] [-- PROGRAM ARGS...]\n"
		    "  methods: sendto sendmmsg gso io_uring, group (sendto to the groups: the relay), "
		    "lib-afxdp lib-xdp (libreplicast's sender in this process), exec");
	/* The receivers: where deliveries are counted. */
	dests = read_dests(o.dests_file, &ndests);
	if (!strcmp(o.method, "exec")) {
		exec_mode = 1;
		if (!o.exec_argv)
			die("--method exec needs -- PROGRAM ARGS...");
	} else if (!strcmp(o.method, "group") || !strncmp(o.method, "lib-", 4)) {
		if (o.group_file) {
			group_txt = read_lines(o.group_file, &ngroup_txt);
		} else if (o.group) {
			group_txt = calloc(1, sizeof(*group_txt));
			if (!group_txt)
				die("out of memory");
			group_txt[0] = strdup(o.group);
			ngroup_txt = 1;
		} else {
			die("--method %s needs --group ADDR:PORT or --group-file FILE", o.method);
		}
		if (ndests % ngroup_txt)
			die("%zu receivers do not split into %zu groups", ndests, ngroup_txt);
		if (!strcmp(o.method, "group")) {
			/* The relay's source: one sendto per packet to its group. */
			group = calloc(ngroup_txt, sizeof(*group));
			if (!group)
				die("out of memory");
			for (size_t i = 0; i < ngroup_txt; i++)
				if (parse_endpoint(group_txt[i], &group[i]))
					die("bad group %s", group_txt[i]);
			cfg.method = RCB_M_SENDTO;
			cfg.dests = group;
			cfg.ndests = ngroup_txt;
			cfg.ngroups = ngroup_txt;
		} else {
			if (!strcmp(o.method, "lib-afxdp"))
				lcfg.engine = REPLICAST_ENGINE_AFXDP;
			else if (!strcmp(o.method, "lib-xdp"))
				lcfg.engine = REPLICAST_ENGINE_XDP;
			else
				die("unknown method %s", o.method);
			lcfg.pin_path = o.rc_pin;
			lcfg.threads = o.threads;
			lcfg.groups = (const char *const *)group_txt;
			lcfg.ngroups = ngroup_txt;
			lcfg.packets = o.packets;
			lcfg.size = o.size;
			lcfg.rate = o.rate;
			lcfg.stamp = o.stamp;
			lcfgp = &lcfg;
		}
	} else {
		method = rcb_method_parse(o.method);
		if (method < 0)
			die("unknown method %s", o.method);
		cfg.method = (enum rcb_method)method;
		cfg.dests = dests;
		cfg.ndests = ndests;
		cfg.ngroups = o.ngroups;
	}
	cfg.packets = o.packets;
	cfg.size = o.size;
	cfg.rate = o.rate;
	cfg.stamp = o.stamp;
	if (o.lat_netns) {
		char err[200];

		if (!o.lat_out)
			die("--lat-netns needs --lat-out FILE");
		if (rcb_lat_open(o.lat_netns, RCB_DEFAULT_PORT, &lat, err, sizeof(err)))
			die("%s", err);
	}

	rx_fd = open_pinned(o.rx_pin, RX_MAP_NAME);
	if (o.count_syscalls) {
		sc = rcb_syscalls__open_and_load();
		if (!sc || rcb_syscalls__attach(sc))
			die("loading the syscall counter failed");
	}
	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC) || pipe2(resp, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0)
		child_main(&o, &cfg, lcfgp, ready[1], go[0], resp[1]);
	close(ready[1]);
	close(go[0]);
	close(resp[1]);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		die("pidfd_open: %s", strerror(errno));

	{
		struct pollfd p[2] = { { .fd = ready[0], .events = POLLIN },
				       { .fd = resp[0], .events = POLLIN } };
		char r;

		if (poll(p, 2, 20000) <= 0 || !(p[0].revents & POLLIN) || read(ready[0], &r, 1) != 1) {
			memset(&rep, 0, sizeof(rep));
			if (read(resp[0], &rep, sizeof(rep)) == (ssize_t)sizeof(rep) && rep.err[0])
				fprintf(stderr, "rcbench: sender setup failed: %s\n", rep.err);
			else
				fprintf(stderr, "rcbench: sender did not get ready\n");
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			printf("%s,failed,,,,,,,,,,,,,\n", o.label);
			return 1;
		}
	}
	/* Background load just before the run: other work on the machine lands in
	 * the whole-machine CPU figure, so wait (bounded) for a quiet moment and
	 * record how busy the machine was. */
	{
		uint64_t give_up = rcb_now_ns() + (uint64_t)(o.quiet_wait * 1e9);

		do
			bg_pct = background_pct(o.bg_seconds);
		while (bg_pct > o.quiet_pct && rcb_now_ns() < give_up);
	}

	/* Latency runs pass sampled datagrams to the sockets; every other run
	 * drops them all (also after a latency run that did not get to reset). */
	rx_cfg_set(o.rx_pin, lat ? 1 : 0, o.lat_mask);
	rx_read(rx_fd, &before);
	if (sc) {
		sc_zero(sc);
		sc->bss->target_tgid = (uint32_t)pid;
		__atomic_store_n(&sc->bss->armed, 1, __ATOMIC_SEQ_CST);
	}
	c0 = cpu_read();
	t0 = rcb_now_ns();
	if (write(go[1], "G", 1) != 1)
		die("cannot start the sender");

	/* Wait for the sender to be done, bounded: its exit (the pidfd turns
	 * readable), or for an in-process sender its report, written once the
	 * last packet is out (closing an engine is not part of the window).
	 * Latency sockets are read meanwhile. */
	{
		struct pollfd p[2 + 256];
		int ms = (int)(o.max_seconds * 1000) + 10000;
		uint64_t limit = rcb_now_ns() + (uint64_t)ms * 1000000ull;
		int done = 0;

		while (!done) {
			int n = 0, nl, r;
			uint64_t now = rcb_now_ns();

			if (now >= limit) {
				kill(pid, SIGKILL);
				outcome = "failed";
				fprintf(stderr, "rcbench: sender still running after %d ms: killed\n", ms);
				break;
			}
			p[n].fd = pidfd;
			p[n++].events = POLLIN;
			if (!exec_mode) {
				p[n].fd = resp[0];
				p[n++].events = POLLIN;
			}
			nl = rcb_lat_pollfds(lat, p + n, 256);
			r = poll(p, (nfds_t)(n + nl), (int)((limit - now) / 1000000ull) + 1);
			if (r < 0 && errno != EINTR)
				die("poll: %s", strerror(errno));
			if (r > 0 && (p[0].revents || (!exec_mode && p[1].revents)))
				done = 1;
			if (nl)
				rcb_lat_drain(lat);
		}
		t1 = rcb_now_ns();
		if (sc)
			__atomic_store_n(&sc->bss->armed, 0, __ATOMIC_SEQ_CST);
		if (!exec_mode && read(resp[0], &rep, sizeof(rep)) == (ssize_t)sizeof(rep))
			have_report = 1;
		else if (!exec_mode)
			outcome = "failed";
		{
			struct pollfd pe = { .fd = pidfd, .events = POLLIN };

			if (poll(&pe, 1, 10000) <= 0) {
				kill(pid, SIGKILL);
				fprintf(stderr, "rcbench: sender did not exit 10 s after its report: killed\n");
			}
		}
		waitpid(pid, &status, 0);
	}
	/* Let the last copies reach the counters: stop once readings agree for
	 * 20 ms, at most 2 s later. A sender that hands packets to an engine
	 * (the relay's 'replicast serve', the XDP engine's ring) is done before
	 * its copies are: the window then ends at the last reading that still
	 * grew, not at the sender's exit, or the deliveries after it would be
	 * counted as made in no time. Idle time adds nothing to busy time. */
	{
		uint64_t last = UINT64_MAX, first = UINT64_MAX;
		int stable = 0;

		for (int i = 0; i < 1000 && stable < 10; i++) {
			rx_read(rx_fd, &after);
			if (first == UINT64_MAX)
				first = rx_total(&after);
			if (rx_total(&after) == last) {
				stable++;
			} else {
				stable = 0;
				/* Still growing after the sender ended: the window
				 * reaches this far. */
				if (last != UINT64_MAX && rx_total(&after) != first)
					t1 = rcb_now_ns();
			}
			last = rx_total(&after);
			if (lat) {
				struct pollfd p[256];
				int nl = rcb_lat_pollfds(lat, p, 256);

				poll(p, (nfds_t)nl, 2);
				rcb_lat_drain(lat);
			} else {
				usleep(2000);
			}
		}
		/* The sockets' last datagrams: until 20 ms pass without one. */
		for (int i = 0; lat && i < 50; i++) {
			struct pollfd p[256];
			int nl = rcb_lat_pollfds(lat, p, 256);

			if (poll(p, (nfds_t)nl, 20) <= 0)
				break;
			rcb_lat_drain(lat);
		}
	}
	c1 = cpu_read();
	/* Was the run disturbed? Background load just before or just after it,
	 * or more busy time than the sender's CPUs' worth: most senders here are
	 * a single thread whose kernel work (softirq included) runs on its CPU,
	 * so a second busy CPU means other work ran during the window; senders
	 * with more threads say how many CPUs they keep busy (--cpus). */
	{
		double bg_after = background_pct(o.bg_seconds);
		uint64_t busy = ticks_to_ns(c1.busy_ticks - c0.busy_ticks);

		if (bg_after > bg_pct)
			bg_pct = bg_after;
		disturbed = bg_pct > o.quiet_pct ||
			    (double)busy > 1.15 * (o.cpus > 0 ? o.cpus : 1) * (double)(t1 - t0) +
						   3.0 * (double)ticks_to_ns(1);
	}

	if (exec_mode) {
		/* `replicast send` exits 1 when it sent everything but the kernel
		 * lost copies: the run happened, and its loss is what the
		 * receivers' counters show (--exec-ok-status 1). */
		if (WIFEXITED(status) && WEXITSTATUS(status) && WEXITSTATUS(status) == o.exec_ok_status) {
			fprintf(stderr, "rcbench: %s exited with status %d: kept, its loss is counted\n",
				o.exec_argv[0], WEXITSTATUS(status));
		} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			outcome = "failed";
			fprintf(stderr, "rcbench: %s exited with status %d\n", o.exec_argv[0],
				WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		}
		handed = o.packets * ndests;
	} else if (have_report) {
		uint64_t fan = ngroup_txt ? ndests / ngroup_txt : 1;

		handed = rep.res.handed * fan;
		if (rep.res.truncated)
			outcome = "truncated";
		if (rep.res.errors)
			fprintf(stderr, "rcbench: %llu datagrams refused, first error: %s\n",
				(unsigned long long)rep.res.errors, strerror(rep.res.first_errno));
	} else {
		handed = 0;
	}
	delivered = rx_total(&after) - rx_total(&before);
	for (size_t i = 0; i < ndests; i++) {
		uint32_t a = dests[i].sin_addr.s_addr;
		uint64_t d = rx_lookup(&after, a) - rx_lookup(&before, a);

		if (d < rx_min)
			rx_min = d;
		if (d > rx_max)
			rx_max = d;
	}
	if (sc) {
		syscalls = sc_total(sc, &top_nr);
		top = syscall_name(top_nr);
		if (!top) {
			snprintf(topbuf, sizeof(topbuf), "nr%u", top_nr);
			top = topbuf;
		}
		rcb_syscalls__destroy(sc);
	}
	/* LABEL,status,packets_per_receiver,handed,delivered,elapsed_ns,busy_ns,
	 * syscalls,top_syscall,send_errors,rx_min,rx_max,bg_busy_pct,disturbed,groups */
	printf("%s,%s,%llu,%llu,%llu,%llu,%llu,", o.label, outcome,
	       (unsigned long long)o.packets, (unsigned long long)handed,
	       (unsigned long long)delivered, (unsigned long long)(t1 - t0),
	       (unsigned long long)ticks_to_ns(c1.busy_ticks - c0.busy_ticks));
	if (o.count_syscalls)
		printf("%llu,%s,", (unsigned long long)syscalls, top);
	else
		printf(",,");
	printf("%llu,%llu,%llu,%.1f,%d,%zu\n", (unsigned long long)(have_report ? rep.res.errors : 0),
	       (unsigned long long)rx_min, (unsigned long long)rx_max, bg_pct, disturbed,
	       ngroup_txt ? ngroup_txt : (o.ngroups ? o.ngroups : 1));
	if (lat) {
		/* LABEL,samples,expected,p50_ns,p99_ns,p999_ns,max_ns */
		uint64_t per = ngroup_txt ? ndests / ngroup_txt : ndests / (o.ngroups ? o.ngroups : 1);
		uint64_t pk = o.packets, sampled;
		FILE *f = fopen(o.lat_out, "ae");

		rx_cfg_set(o.rx_pin, 0, 0);
		if (have_report && rep.res.truncated)
			pk = ngroup_txt ? rep.res.handed : rep.res.handed / (per ? per : 1);
		sampled = (pk + o.lat_mask) / (o.lat_mask + 1);
		rcb_lat_result(lat, &lr);
		if (!f)
			die("open %s: %s", o.lat_out, strerror(errno));
		fprintf(f, "%s,%llu,%llu,%.0f,%.0f,%.0f,%.0f\n", o.label, (unsigned long long)lr.samples,
			(unsigned long long)(sampled * per), lr.p50_ns, lr.p99_ns, lr.p999_ns, lr.max_ns);
		fclose(f);
		rcb_lat_free(lat);
	}
	for (size_t i = 0; i < ngroup_txt; i++)
		free(group_txt[i]);
	free(group_txt);
	free(group);
	free(before.e);
	free(after.e);
	free(dests);
	close(rx_fd);
	return strcmp(outcome, "failed") ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: rcbench rx-attach|rx-read|run|report ...\n");
		return 2;
	}
	libbpf_set_print(quiet_libbpf);
	/* A sender that died must show up as an error, not kill us silently. */
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(argv[1], "rx-attach"))
		return cmd_rx_attach(argc - 1, argv + 1);
	if (!strcmp(argv[1], "rx-read"))
		return cmd_rx_read(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return rcb_report_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "methods")) {
		for (int m = 0; m < RCB_M_MAX; m++)
			printf("%s %s\n", rcb_method_name(m),
			       rcb_method_available(m) ? "built" : "not-built");
		return 0;
	}
	fprintf(stderr, "rcbench: unknown command %s\n", argv[1]);
	return 2;
}
