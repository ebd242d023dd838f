// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The TC program on crafted packets (BPF_PROG_TEST_RUN): group traffic is
 * replicated with exact headers and checksums, other traffic passes
 * unchanged, and each malformed kind is refused on its own counter.
 * Run as root inside a fresh network namespace (tests/run.sh does), with a
 * pin directory as argv[1]: copies go out on that namespace's loopback. */
#define _GNU_SOURCE	/* RTLD_NEXT */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include "replicast.h"
#include "replicast_types.h"	/* SUB_ON, SUB_OFF: the bpftool recipe's states */
#include "packet.h"
#include "unit.h"

#define GROUP4 "10.9.0.1:5000"
#define GROUP6 "[fd09::1]:5000"
#define SPORT 4242

/* The program's verdict for traffic that is not its business: no verdict,
 * so the rest of the chain and the stack decide (see replicate.bpf.c). */
#define VERDICT_PASS TC_ACT_UNSPEC
/* run()'s result when the test run itself failed: no verdict is this. */
#define RUN_FAILED (-1000)

static struct replicast *rc;
static int prog_fd, local_prog_fd;

static int run_prog(int fd, const uint8_t *frame, size_t len, uint8_t *out, uint32_t *out_len)
{
	uint8_t scratch[2048];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
		    .data_out = out ? out : scratch, .data_size_out = sizeof(scratch), .repeat = 1);
	int err = bpf_prog_test_run_opts(fd, &opts);

	if (err) {
		printf("# test run failed: %s\n", strerror(errno));
		return RUN_FAILED;
	}
	if (out_len)
		*out_len = opts.data_size_out;
	return (int)opts.retval;
}

/* The same with skb metadata set, as GSO or GRO would have set it. */
static int run_skb(const uint8_t *frame, size_t len, struct __sk_buff *skb)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
		    .ctx_in = skb, .ctx_size_in = sizeof(*skb), .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &opts)) {
		printf("# test run failed: %s\n", strerror(errno));
		return RUN_FAILED;
	}
	return (int)opts.retval;
}

/* With a full hardware checksum (CHECKSUM_COMPLETE, skb->csum over the
 * packet): the test run checks afterwards that skb->csum still matches
 * the packet, and fails with EBADMSG when the program left it stale. */
static int run_csum_complete(const uint8_t *frame, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len, .repeat = 1,
		    .flags = BPF_F_TEST_SKB_CHECKSUM_COMPLETE);

	if (bpf_prog_test_run_opts(prog_fd, &opts)) {
		printf("# test run failed: %s\n", strerror(errno));
		return RUN_FAILED;
	}
	return (int)opts.retval;
}

/* The program attached to network devices. */
static int run(const uint8_t *frame, size_t len, uint8_t *out, uint32_t *out_len)
{
	return run_prog(prog_fd, frame, len, out, out_len);
}

/* Groups here take packets from 10.9.0.0/24 and fd09::/64, the crafted
 * packets' sources: sources are denied by default. */
static void add_group(const char *text)
{
	struct replicast_endpoint g;
	struct replicast_prefix p;

	replicast_endpoint_parse(text, &g);
	replicast_prefix_parse(g.family == AF_INET ? "10.9.0.0/24" : "fd09::/64", &p);
	CHECK(!replicast_group_add(rc, &g) && !replicast_group_allow(rc, &g, &p),
	      "group add %s, sources allowed", text);
}

static uint64_t drops(const char *reason)
{
	uint64_t counts[64] = { 0 };
	int i;

	replicast_drops_read(rc, counts, 64);
	for (i = 0; i < replicast_drop_reason_count(); i++)
		if (!strcmp(replicast_drop_reason_name(i), reason))
			return counts[i];
	return ~0ULL;
}

/* A packet socket on loopback, where the copies of this test go. Frames are
 * checked as captured: delivery into real sockets is the end-to-end tests'
 * job (a BPF_PROG_TEST_RUN skb carries a scratch socket that its clones
 * take along, so the stack hands them to no local socket). */
static int capture_open(int keep_outgoing)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)if_nametoindex("lo") };
	struct timeval tv = { .tv_sec = 1 };
	int one = 1, fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));

	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("packet socket");
		exit(1);
	}
	/* Loopback shows each frame twice, leaving and arriving: keep one. */
	if (!keep_outgoing)
		setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void add_sub(const char *group, const char *dest)
{
	static const uint8_t zero_mac[6];
	struct replicast_sub_opts opts = { .sz = sizeof(opts), .ifname = "lo", .mac = zero_mac };
	struct replicast_endpoint g, d;
	int err;

	replicast_endpoint_parse(group, &g);
	replicast_endpoint_parse(dest, &d);
	err = replicast_sub_add(rc, &g, &d, &opts);
	CHECK(err == 0, "sub add %s %s (%s)", group, dest, replicast_strerror(err));
}

/* TTL / hop limit the next copies must carry: the crafted packets come
 * with 64, and a unicast group's copies leave with one less. */
static int expect_ttl = 63;

/* Reads the next captured copy and checks it against the original frame:
 * the subscriber's address and port, the expected source, TTL expect_ttl,
 * payload bytes unchanged, IP and UDP checksums valid. */
static void check_copy(int cap, const uint8_t *orig, size_t len, int family, const char *src,
		       const char *dst, uint16_t dport, const char *what)
{
	size_t l4 = family == AF_INET ? L4_OFF_V4 : L4_OFF_V6, alen = family == AF_INET ? 4 : 16;
	FRAME(f, 2048);
	uint8_t want_src[16], want_dst[16];
	const struct udphdr *uh = (const void *)(f + l4);
	const uint8_t *addrs = f + L3_OFF + (family == AF_INET ? 12 : 8);
	ssize_t n = recv(cap, f, 2048, 0);

	CHECK(n == (ssize_t)len, "%s: a copy of %zu bytes left (got %zd)", what, len, n);
	if (n != (ssize_t)len)
		return;
	inet_pton(family, src, want_src);
	inet_pton(family, dst, want_dst);
	CHECK(!memcmp(addrs, want_src, alen) && !memcmp(addrs + alen, want_dst, alen) &&
	      uh->dest == htons(dport) && uh->source == htons(SPORT),
	      "%s: %s:%u -> %s:%u", what, src, SPORT, dst, dport);
	CHECK(!memcmp(f + l4 + 8, orig + l4 + 8, len - l4 - 8), "%s: payload unchanged", what);
	CHECK(frame_checksums_ok(f, len), "%s: IP and UDP checksums valid", what);
	CHECK(f[L3_OFF + (family == AF_INET ? 8 : 7)] == expect_ttl,
	      "%s: TTL / hop limit %d (got %d)", what, expect_ttl, f[L3_OFF + (family == AF_INET ? 8 : 7)]);
}

static void test_replicates_v4(void)
{
	int cap = capture_open(0);
	FRAME(frame, 256);
	uint8_t out[2048];
	size_t len = build_udp_frame(frame, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 100);
	uint32_t out_len = 0;

	add_sub(GROUP4, "127.0.0.1:7001");
	add_sub(GROUP4, "127.0.0.2:7002");
	CHECK_EQ(TC_ACT_SHOT, run(frame, len, out, &out_len), "group packet is consumed");
	check_copy(cap, frame, len, AF_INET, "127.0.0.1", "127.0.0.1", 7001, "v4 subscriber 1");
	check_copy(cap, frame, len, AF_INET, "127.0.0.1", "127.0.0.2", 7002, "v4 subscriber 2");
	CHECK(!memcmp(out, "\0\0\0\0\0\0\0\0\0\0\0\0", 12), "MACs from the subscriber entry");
	close(cap);
}

static void test_replicates_v6(void)
{
	int cap = capture_open(0);
	FRAME(frame, 512);
	size_t len = build_udp_frame(frame, AF_INET6, "fd09::9", SPORT, "fd09::1", 5000, 333);

	add_sub(GROUP6, "[::1]:7003");
	CHECK_EQ(TC_ACT_SHOT, run(frame, len, NULL, NULL), "IPv6 group packet is consumed");
	check_copy(cap, frame, len, AF_INET6, "::1", "::1", 7003, "v6 subscriber");
	close(cap);
}

/* Copies of a multicast group are new unicast packets: a source on the
 * link with its sockets' default TTL of 1 is served, and the copies leave
 * with 64, or the group's --ttl. */
static void test_multicast_ttl(void)
{
	struct replicast_endpoint g, d;
	int cap = capture_open(0);
	FRAME(f, 256);
	size_t len;

	add_group("239.9.0.1:5000");
	add_sub("239.9.0.1:5000", "127.0.0.3:7010");
	len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "239.9.0.1", 5000, 80);
	((struct iphdr *)(f + L3_OFF))->ttl = 1;
	frame_fix_ipv4_csum(f);
	expect_ttl = 64;
	CHECK_EQ(TC_ACT_SHOT, run(f, len, NULL, NULL), "TTL 1 to a multicast group is taken");
	check_copy(cap, f, len, AF_INET, "127.0.0.1", "127.0.0.3", 7010, "multicast, TTL 1");
	replicast_endpoint_parse("239.9.0.1:5000", &g);
	CHECK_EQ(0, replicast_group_set_ttl(rc, &g, 5), "group set --ttl 5");
	expect_ttl = 5;
	CHECK_EQ(TC_ACT_SHOT, run(f, len, NULL, NULL), "and again");
	check_copy(cap, f, len, AF_INET, "127.0.0.1", "127.0.0.3", 7010, "multicast, --ttl 5");
	replicast_endpoint_parse(GROUP4, &g);
	CHECK_EQ(-EINVAL, replicast_group_set_ttl(rc, &g, 5), "a unicast group takes no TTL");

	add_group("[ff0e::9:1]:5000");
	add_sub("[ff0e::9:1]:5000", "[::1]:7011");
	len = build_udp_frame(f, AF_INET6, "fd09::9", SPORT, "ff0e::9:1", 5000, 90);
	((struct ipv6hdr *)(f + L3_OFF))->hop_limit = 1;
	expect_ttl = 64;
	CHECK_EQ(TC_ACT_SHOT, run(f, len, NULL, NULL), "hop limit 1 to an IPv6 multicast group");
	check_copy(cap, f, len, AF_INET6, "::1", "::1", 7011, "IPv6 multicast, hop limit 1");
	expect_ttl = 63;
	replicast_endpoint_parse(GROUP4, &g);
	replicast_endpoint_parse("239.9.9.9:7012", &d);
	CHECK_EQ(-EINVAL, replicast_sub_add(rc, &g, &d, NULL),
		 "a multicast subscriber is refused (copies never become multicast)");
	replicast_endpoint_parse("239.9.0.1:5000", &g);
	replicast_group_del(rc, &g);
	replicast_endpoint_parse("[ff0e::9:1]:5000", &g);
	replicast_group_del(rc, &g);
	close(cap);
}

/* One group's counters by its text form; fields stay 0 when it is not there. */
static struct replicast_group_info group_info(const char *text)
{
	struct replicast_group_info *groups, out = { 0 };
	char name[REPLICAST_ENDPOINT_STRLEN];
	size_t n, i;

	if (replicast_groups_read(rc, &groups, &n))
		return out;
	for (i = 0; i < n; i++)
		if (!strcmp(text, replicast_endpoint_format(&groups[i].group, name, sizeof(name))))
			out = groups[i];
	out.sources = NULL;
	out.subs = NULL;
	replicast_groups_free(groups, n);
	return out;
}

/* An skb that GSO or GRO made stands for gso_segs datagrams: the counters
 * and the caps count those, and an idle group always takes one packet,
 * whatever its cost against the cap. */
static void test_datagram_counts(void)
{
	struct __sk_buff gso = { .gso_segs = 4, .gso_size = 100 };
	const char *group = "10.9.0.5:5000";
	struct replicast_group_info gi;
	struct replicast_endpoint g;
	FRAME(f, 512);
	size_t len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.5", 5000, 400);
	uint64_t hdrs = L4_OFF_V4 + 8;

	add_group(group);	/* no subscriber: nothing leaves, everything is counted */
	CHECK_EQ(TC_ACT_SHOT, run_skb(f, len, &gso), "a super-packet of 4 datagrams is taken");
	gi = group_info(group);
	CHECK_EQ(4, gi.received.packets, "it counts as 4 packets received");
	CHECK_EQ(len + 3 * hdrs, gi.received.bytes, "each with headers of its own");

	replicast_endpoint_parse(group, &g);
	CHECK_EQ(0, replicast_group_set_limits(rc, &g, 3, 0), "group set --max-pps 3");
	CHECK_EQ(TC_ACT_SHOT, run_skb(f, len, &gso), "4 datagrams on the idle group");
	CHECK_EQ(8, group_info(group).received.packets, "... pass: an idle group takes one packet");
	CHECK_EQ(TC_ACT_SHOT, run(f, len, NULL, NULL), "one datagram more at once");
	gi = group_info(group);
	CHECK(gi.received.packets == 8 && gi.rate_limited == 1,
	      "... is over the cap: 8 received, 1 rate limited (got %llu, %llu)",
	      (unsigned long long)gi.received.packets, (unsigned long long)gi.rate_limited);
	CHECK_EQ(0, replicast_group_set_limits(rc, &g, 0, 8 * 1000), "group set --max-bps 8000");
	CHECK_EQ(TC_ACT_SHOT, run(f, len, NULL, NULL), "a 442-byte frame on the idle group");
	CHECK_EQ(9, group_info(group).received.packets, "... passes, costing 0.44 s of the cap");
	CHECK_EQ(TC_ACT_SHOT, run(f, len, NULL, NULL), "and one more at once");
	CHECK_EQ(2, group_info(group).rate_limited, "... does not");
	replicast_group_del(rc, &g);
}

/* A NIC's full checksum must stay right through every change the copies
 * make (TTL or hop limit, addresses, port), or local receivers see "hw csum
 * failure": IPv4 and IPv6, unicast and multicast groups. */
static void test_checksum_complete(void)
{
	FRAME(f, 512);
	size_t len;

	len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 200);
	CHECK_EQ(TC_ACT_SHOT, run_csum_complete(f, len), "IPv4, CHECKSUM_COMPLETE: skb->csum kept right");
	len = build_udp_frame(f, AF_INET6, "fd09::9", SPORT, "fd09::1", 5000, 201);
	CHECK_EQ(TC_ACT_SHOT, run_csum_complete(f, len), "IPv6, CHECKSUM_COMPLETE: skb->csum kept right");
	add_group("[ff0e::9:2]:5000");
	add_sub("[ff0e::9:2]:5000", "[::1]:7013");
	len = build_udp_frame(f, AF_INET6, "fd09::9", SPORT, "ff0e::9:2", 5000, 202);
	((struct ipv6hdr *)(f + L3_OFF))->hop_limit = 1;
	CHECK_EQ(TC_ACT_SHOT, run_csum_complete(f, len),
		 "IPv6 multicast, hop limit 1 to 64, CHECKSUM_COMPLETE: skb->csum kept right");
	{
		struct replicast_endpoint g;

		replicast_endpoint_parse("[ff0e::9:2]:5000", &g);
		replicast_group_del(rc, &g);
	}
}

/* Options structs from a newer header: zero bytes past the fields this
 * library knows are fine, anything else there is a request it cannot meet. */
static void test_opts_checked(void)
{
	struct {
		struct replicast_sub_opts o;
		uint64_t newer;
	} sub = { .o = { .sz = sizeof(sub), .ifname = "lo", .mac = (const uint8_t *)"\0\0\0\0\0\0" } };
	struct {
		struct replicast_opts o;
		uint64_t newer;
	} open_opts = { .o = { .sz = sizeof(open_opts) } };
	struct replicast_endpoint g, d;
	struct replicast *other = NULL;

	replicast_endpoint_parse(GROUP4, &g);
	replicast_endpoint_parse("127.0.0.9:7020", &d);
	sub.newer = 1;
	CHECK_EQ(-EINVAL, replicast_sub_add(rc, &g, &d, &sub.o), "sub opts with an unknown field set");
	sub.newer = 0;
	CHECK_EQ(0, replicast_sub_add(rc, &g, &d, &sub.o), "... and with it zero");
	replicast_sub_del(rc, &g, &d);
	open_opts.o.pin_path = replicast_pin_path(rc);
	open_opts.newer = 7;
	CHECK_EQ(-EINVAL, replicast_open(&open_opts.o, &other), "open opts with an unknown field set");
	open_opts.newer = 0;
	CHECK_EQ(0, replicast_open(&open_opts.o, &other), "... and with it zero");
	replicast_close(other);
	open_opts.o.sz = 4;
	CHECK_EQ(-EINVAL, replicast_open(&open_opts.o, &other), "opts shorter than their size field");
}

static void test_counters(void)
{
	struct replicast_group_info *groups;
	size_t n, i;

	CHECK(!replicast_groups_read(rc, &groups, &n) && n == 2, "two groups listed");
	for (i = 0; i < n; i++) {
		int v4 = groups[i].group.family == AF_INET;

		CHECK_EQ(1, groups[i].received.packets, "group received one packet");
		CHECK_EQ(v4 ? 2 : 1, groups[i].sent.packets, "copies counted on the group");
		CHECK(groups[i].nsubs == (v4 ? 2u : 1u) && groups[i].subs[0].sent.packets == 1,
		      "per-subscriber count");
	}
	replicast_groups_free(groups, n);
}

static void test_passes_unchanged(void)
{
	FRAME(frame, 256);
	uint8_t out[2048];
	size_t len = build_udp_frame(frame, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5001, 64);
	uint32_t out_len = 0;
	static const uint8_t arp[42] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 2,
					 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1 };

	CHECK_EQ(VERDICT_PASS, run(frame, len, out, &out_len), "other port on a group address passes");
	CHECK(out_len == len && !memcmp(out, frame, len), "... byte for byte unchanged");
	len = build_udp_frame(frame, AF_INET6, "fd09::9", SPORT, "fd09::2", 5000, 64);
	CHECK_EQ(VERDICT_PASS, run(frame, len, out, &out_len), "other IPv6 address passes");
	CHECK(out_len == len && !memcmp(out, frame, len), "... byte for byte unchanged");
	CHECK_EQ(VERDICT_PASS, run(arp, sizeof(arp), out, &out_len), "ARP passes");
	CHECK(out_len == sizeof(arp) && !memcmp(out, arp, sizeof(arp)), "... unchanged");
}

/* ---- port ranges: one group on every port of FIRST-LAST ---- */

/* Subscriber dest on loopback of a range group: a bare address (port 0)
 * keeps each packet's port. Returns the library's error. */
static int add_range_sub(const char *group, const char *addr, uint16_t port)
{
	static const uint8_t zero_mac[6];
	struct replicast_sub_opts opts = { .sz = sizeof(opts), .ifname = "lo", .mac = zero_mac };
	struct replicast_endpoint g, d = { 0 };
	uint16_t last;

	replicast_range_parse(group, &g, &last);
	d.family = g.family;
	d.port = port;
	inet_pton(g.family, addr, &d.addr);
	return replicast_sub_add(rc, &g, &d, &opts);
}

/* Every key of the range holds the same value (one id, one setting), as
 * the pinned map shows it; and none outside the range is there. */
static void check_range_keys(const char *pin, uint16_t first, uint16_t last, uint64_t want_pps)
{
	struct rc_group_key key = { .family = RC_AF_INET };
	struct rc_group v0, v;
	char path[600];
	int fd, same = 1, port;
	__u32 refs = 0;

	snprintf(path, sizeof(path), "%s/groups", pin);
	fd = bpf_obj_get(path);
	inet_pton(AF_INET, "10.9.0.20", &key.addr.v4);
	key.port = first;
	CHECK(fd >= 0 && !bpf_map_lookup_elem(fd, &key, &v0), "range: key %u is in the groups map",
	      first);
	CHECK(v0.port_first == first && v0.port_last == last && v0.max_pps == want_pps,
	      "range: its value says %u-%u, max_pps %llu (got %u-%u, %llu)", first, last,
	      (unsigned long long)want_pps, v0.port_first, v0.port_last,
	      (unsigned long long)v0.max_pps);
	for (port = first; port <= last; port++) {
		key.port = (uint16_t)port;
		if (bpf_map_lookup_elem(fd, &key, &v) || memcmp(&v, &v0, sizeof(v)))
			same = 0;
	}
	CHECK(same, "range: every key %u..%u holds the same value (id %u)", first, last, v0.id);
	key.port = first - 1;
	CHECK(bpf_map_lookup_elem(fd, &key, &v) && errno == ENOENT, "range: no key for port %u",
	      first - 1);
	key.port = last + 1;
	CHECK(bpf_map_lookup_elem(fd, &key, &v) && errno == ENOENT, "range: no key for port %u",
	      last + 1);
	/* group_addrs counts groups on the address: the range is one. */
	snprintf(path, sizeof(path), "%s/group_addrs", pin);
	fd = bpf_obj_get(path);
	key.port = 0;
	CHECK(fd >= 0 && !bpf_map_lookup_elem(fd, &key, &refs) && (refs & ~RC_ADDR_LOCAL) == 1,
	      "range: group_addrs counts it as one group on 10.9.0.20 (got %u)",
	      refs & ~RC_ADDR_LOCAL);
	close(fd);
}

/* A range group 2055-2060 with a subscriber that keeps the port and one on
 * a fixed port: packets to 2055, 2058 and 2060 make copies on their own
 * port and on 9000, with correct checksums; 2054 and 2061 pass untouched;
 * the one group's counters add up. Overlaps and oversized ranges are
 * refused; set reaches every key; del by any port removes the range. */
static void test_port_range(const char *pin)
{
	static const uint16_t ports[] = { 2055, 2058, 2060 };
	const char *group = "10.9.0.20:2055-2060";
	struct replicast_group_info *groups;
	struct replicast_endpoint g, other;
	struct replicast_prefix p;
	uint16_t last, first;
	FRAME(frame, 256);
	uint8_t out[2048];
	uint32_t out_len;
	size_t len, n, i, listed = 0;
	int cap, err;
	char what[64];

	replicast_range_parse(group, &g, &last);
	replicast_prefix_parse("10.9.0.0/24", &p);
	err = replicast_group_add_range(rc, &g, last);
	CHECK(err == 0, "group add %s (%s)", group, replicast_strerror(err));
	CHECK_EQ(0, replicast_group_allow(rc, &g, &p), "range: allow 10.9.0.0/24");
	CHECK_EQ(0, add_range_sub(group, "127.0.0.1", 0), "range: sub add 127.0.0.1 (keeps the port)");
	CHECK_EQ(0, add_range_sub(group, "127.0.0.2", 9000), "range: sub add 127.0.0.2:9000");
	check_range_keys(pin, 2055, 2060, 0);

	cap = capture_open(0);
	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		len = build_udp_frame(frame, AF_INET, "10.9.0.9", SPORT, "10.9.0.20", ports[i], 90 + i);
		snprintf(what, sizeof(what), "range: to %u", ports[i]);
		CHECK_EQ(TC_ACT_SHOT, run(frame, len, NULL, NULL), what);
		check_copy(cap, frame, len, AF_INET, "127.0.0.1", "127.0.0.1", ports[i], what);
		check_copy(cap, frame, len, AF_INET, "127.0.0.1", "127.0.0.2", 9000, what);
		CHECK_EQ(TC_ACT_SHOT, run_csum_complete(frame, len),
			 "range: CHECKSUM_COMPLETE skb->csum kept right through the kept port");
		/* That run's two copies, off the capture before the next. */
		CHECK(recv(cap, out, sizeof(out), 0) == (ssize_t)len &&
		      recv(cap, out, sizeof(out), 0) == (ssize_t)len,
		      "range: ... and its two copies left");
	}
	close(cap);
	for (i = 0; i < 2; i++) {
		uint16_t port = i ? 2061 : 2054;

		len = build_udp_frame(frame, AF_INET, "10.9.0.9", SPORT, "10.9.0.20", port, 64);
		out_len = 0;
		snprintf(what, sizeof(what), "range: port %u, outside it, passes", port);
		CHECK_EQ(VERDICT_PASS, run(frame, len, out, &out_len), what);
		CHECK(out_len == len && !memcmp(out, frame, len), "... byte for byte unchanged");
	}
	CHECK(!replicast_groups_read(rc, &groups, &n), "range: groups read");
	for (i = 0; i < n; i++) {
		const struct replicast_group_info *gi = &groups[i];

		if (gi->group.family != AF_INET || gi->group.addr.v4.s_addr != g.addr.v4.s_addr)
			continue;
		listed++;
		CHECK(gi->group.port == 2055 && gi->port_last == 2060,
		      "range: listed as 2055-2060 (got %u-%u)", gi->group.port, gi->port_last);
		/* 3 packets, and 3 more through run_csum_complete. */
		CHECK_EQ(6, gi->received.packets, "range: one group received every port's packets");
		CHECK_EQ(12, gi->sent.packets, "range: two copies of each");
		CHECK_EQ(2, gi->nsubs, "range: two subscribers");
		CHECK(gi->nsubs == 2 && gi->subs[0].dest.port == 0 && gi->subs[0].sent.packets == 6 &&
		      gi->subs[1].dest.port == 9000 && gi->subs[1].sent.packets == 6,
		      "range: each subscriber sent 6, the first listed with port 0");
	}
	replicast_groups_free(groups, n);
	CHECK_EQ(1, listed, "range: listed once, not once per port");

	replicast_endpoint_parse("10.9.0.20:2058", &other);
	CHECK(!replicast_group_ports(rc, &other, &first, &last) && first == 2055 && last == 2060,
	      "range: port 2058 is in group 2055-2060");
	CHECK_EQ(-EEXIST, replicast_group_add(rc, &other), "range: group add of a port in it: EEXIST");
	replicast_endpoint_parse("10.9.0.20:2060", &other);
	CHECK_EQ(-EEXIST, replicast_group_add_range(rc, &other, 2070),
		 "range: an overlapping range 2060-2070: EEXIST");
	replicast_endpoint_parse("10.9.0.20:2040", &other);
	CHECK_EQ(-EEXIST, replicast_group_add_range(rc, &other, 2055),
		 "range: an overlapping range 2040-2055: EEXIST");
	replicast_endpoint_parse("10.9.0.21:1", &other);
	CHECK_EQ(-E2BIG, replicast_group_add_range(rc, &other, 1025),
		 "range: 1,025 ports: E2BIG");
	CHECK_EQ(-ENOSPC, replicast_group_add_range(rc, &other, 1024),
		 "range: 1,024 ports with groups already there: ENOSPC (each port is a key)");
	CHECK_EQ(0, replicast_group_add_range(rc, &other, 0),
		 "range: port_last 0 is one port, a plain group add");
	CHECK(!replicast_group_ports(rc, &other, &first, &last) && first == 1 && last == 1,
	      "... of port 1 only (got %u-%u)", first, last);
	replicast_group_del(rc, &other);
	CHECK_EQ(-EDESTADDRREQ, add_range_sub(GROUP4, "127.0.0.3", 0),
		 "a group of one port refuses a subscriber without a port");

	replicast_endpoint_parse("10.9.0.20:2057", &other);
	CHECK_EQ(0, replicast_group_set_limits(rc, &other, 777, 0), "range: group set by port 2057");
	check_range_keys(pin, 2055, 2060, 777);
	CHECK_EQ(0, replicast_group_del(rc, &other), "range: group del by port 2057");
	replicast_endpoint_parse("10.9.0.20:2055", &other);
	CHECK_EQ(-ENOENT, replicast_group_ports(rc, &other, &first, &last), "range: gone whole");
	len = build_udp_frame(frame, AF_INET, "10.9.0.9", SPORT, "10.9.0.20", 2060, 64);
	CHECK_EQ(VERDICT_PASS, run(frame, len, NULL, NULL), "range: its last port passes again");
}

/* The same over IPv6: a kept port in the copy, and its UDP checksum, which
 * IPv6 makes mandatory. */
static void test_port_range_v6(void)
{
	const char *group = "[fd09::20]:2055-2060";
	struct replicast_endpoint g;
	struct replicast_prefix p;
	FRAME(frame, 256);
	uint16_t last;
	size_t len;
	int cap;

	replicast_range_parse(group, &g, &last);
	replicast_prefix_parse("fd09::/64", &p);
	CHECK(!replicast_group_add_range(rc, &g, last) && !replicast_group_allow(rc, &g, &p),
	      "group add %s", group);
	CHECK_EQ(0, add_range_sub(group, "::1", 0), "range v6: sub add ::1 (keeps the port)");
	cap = capture_open(0);
	len = build_udp_frame(frame, AF_INET6, "fd09::9", SPORT, "fd09::20", 2059, 77);
	CHECK_EQ(TC_ACT_SHOT, run(frame, len, NULL, NULL), "range v6: to 2059");
	check_copy(cap, frame, len, AF_INET6, "::1", "::1", 2059, "range v6: to 2059");
	close(cap);
	replicast_group_del(rc, &g);
}

/* Every drop reason, summed. */
static uint64_t total_drops(void)
{
	uint64_t counts[64] = { 0 }, sum = 0;
	int i;

	replicast_drops_read(rc, counts, 64);
	for (i = 0; i < replicast_drop_reason_count(); i++)
		sum += counts[i];
	return sum;
}

/* One malformed kind: a broken frame to the group gets `verdict` and adds
 * exactly one to `reason`. */
static void expect_refused(const uint8_t *frame, size_t len, int verdict, const char *reason,
			   const char *what)
{
	uint64_t before = drops(reason);

	CHECK_EQ(verdict, run(frame, len, NULL, NULL), what);
	CHECK_EQ(before + 1, drops(reason), reason);
}

static void test_malformed(void)
{
	FRAME(f, 256);
	FRAME(g, 300);
	struct iphdr *ip = (void *)(f + L3_OFF);
	struct ipv6hdr *ip6 = (void *)(f + L3_OFF);
	struct udphdr *uh;
	size_t len;

	len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 32);
	ip->ihl = 4;
	expect_refused(f, len, TC_ACT_SHOT, "bad_ip_header", "IHL 4 to a group address");

	len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 32);
	ip->tot_len = htons(400);
	frame_fix_ipv4_csum(f);
	expect_refused(f, len, TC_ACT_SHOT, "bad_ip_header", "IP total length beyond the frame");

	/* IPv4 options: a 24-byte header with one NOP word before UDP. */
	len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 32);
	memcpy(g, f, L4_OFF_V4);
	memset(g + L4_OFF_V4, 1, 4);
	memcpy(g + L4_OFF_V4 + 4, f + L4_OFF_V4, len - L4_OFF_V4);
	((struct iphdr *)(g + L3_OFF))->ihl = 6;
	((struct iphdr *)(g + L3_OFF))->tot_len = htons(len - L3_OFF + 4);
	expect_refused(g, len + 4, TC_ACT_SHOT, "ip_options", "IPv4 options");

	len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 32);
	ip->check ^= htons(0x0101);
	expect_refused(f, len, TC_ACT_SHOT, "bad_ip_checksum", "IPv4 header checksum wrong");

	/* Frames a router would not take: for another host's MAC, or a
	 * unicast group address in an L2 broadcast. */
	len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 32);
	memcpy(f, "\x02\x00\x00\x00\x00\x01", 6);
	expect_refused(f, len, TC_ACT_SHOT, "other_host", "a frame for another host's MAC");
	memset(f, 0xff, 6);
	expect_refused(f, len, TC_ACT_SHOT, "l2_mismatch", "a unicast group address in a broadcast frame");
	len = build_udp_frame(f, AF_INET6, "fd09::9", SPORT, "fd09::1", 5000, 32);
	memcpy(f, "\x33\x33\x00\x00\x00\x01", 6);
	expect_refused(f, len, TC_ACT_SHOT, "l2_mismatch", "... or in an IPv6 multicast frame");

	len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 32);
	ip->frag_off = htons(0x2000);
	frame_fix_ipv4_csum(f);
	expect_refused(f, len, TC_ACT_SHOT, "fragment", "first fragment (MF)");
	ip->frag_off = htons(0x0010);
	frame_fix_ipv4_csum(f);
	expect_refused(f, len, TC_ACT_SHOT, "fragment", "later fragment (offset)");

	len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 32);
	ip->protocol = IPPROTO_TCP;
	frame_fix_ipv4_csum(f);
	expect_refused(f, len, TC_ACT_SHOT, "not_udp", "TCP to a group address");

	/* The frame ends 4 bytes into the UDP header; IP length agrees. */
	len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 0);
	ip->tot_len = htons(20 + 4);
	frame_fix_ipv4_csum(f);
	expect_refused(f, L4_OFF_V4 + 4, TC_ACT_SHOT, "truncated_udp", "truncated UDP header");

	len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 32);
	uh = (void *)(f + L4_OFF_V4);
	uh->len = htons(41);
	expect_refused(f, len, TC_ACT_SHOT, "bad_udp_length", "UDP length beyond the packet");
	uh->len = htons(7);
	expect_refused(f, len, TC_ACT_SHOT, "bad_udp_length", "UDP length below its header");

	len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 32);
	ip->ttl = 1;
	frame_fix_ipv4_csum(f);
	expect_refused(f, len, TC_ACT_SHOT, "ttl_exceeded", "TTL 1 is not forwarded");

	/* Frames cut inside the Ethernet or IP header are refused by
	 * BPF_PROG_TEST_RUN itself; tests/e2e/test_malformed_wire.sh sends
	 * them over a veth instead. */

	/* An 802.1Q tag in front of a group packet: not parsed, passed. */
	len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 32);
	memcpy(g, f, 12);
	g[12] = 0x81, g[13] = 0x00, g[14] = 0, g[15] = 7;
	memcpy(g + 16, f + 12, len - 12);
	expect_refused(g, len + 4, VERDICT_PASS, "vlan", "VLAN-tagged frame");

	len = build_udp_frame(f, AF_INET6, "fd09::9", SPORT, "fd09::1", 5000, 32);
	((struct udphdr *)(f + L4_OFF_V6))->check = 0;
	expect_refused(f, len, TC_ACT_SHOT, "udp6_zero_checksum", "IPv6 UDP without checksum");

	len = build_udp_frame(f, AF_INET6, "fd09::9", SPORT, "fd09::1", 5000, 32);
	ip6->nexthdr = 44;
	expect_refused(f, len, TC_ACT_SHOT, "fragment", "IPv6 fragment header");
	ip6->nexthdr = 0;
	expect_refused(f, len, TC_ACT_SHOT, "ip_options", "IPv6 hop-by-hop header");
	ip6->nexthdr = 58;
	expect_refused(f, len, TC_ACT_SHOT, "not_udp", "ICMPv6 to a group address");
	ip6->nexthdr = IPPROTO_UDP;
	ip6->hop_limit = 1;
	expect_refused(f, len, TC_ACT_SHOT, "ttl_exceeded", "hop limit 1 is not forwarded");

	/* The UDP length shorter than the IP payload: trailing bytes that no
	 * checksum covers would travel with every copy. */
	len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 32);
	uh = (void *)(f + L4_OFF_V4);
	uh->len = htons(30);
	expect_refused(f, len, TC_ACT_SHOT, "bad_udp_length", "UDP length below the IP payload");

	/* QinQ: an 802.1ad tag in front. */
	len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 32);
	memcpy(g, f, 12);
	g[12] = 0x88, g[13] = 0xa8, g[14] = 0, g[15] = 9;
	g[16] = 0x81, g[17] = 0x00, g[18] = 0, g[19] = 7;
	memcpy(g + 20, f + 12, len - 12);
	expect_refused(g, len + 8, VERDICT_PASS, "vlan", "QinQ-tagged frame");

	len = build_udp_frame(f, AF_INET6, "fd09::9", SPORT, "fd09::1", 5000, 32);
	ip6->nexthdr = 43;
	expect_refused(f, len, TC_ACT_SHOT, "ip_options", "IPv6 routing header");
	ip6->nexthdr = 60;
	expect_refused(f, len, TC_ACT_SHOT, "ip_options", "IPv6 destination options");

	/* A group packet cut at every length: never replicated, always counted
	 * (lengths BPF_PROG_TEST_RUN itself refuses are skipped). */
	for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
		size_t full = build_udp_frame(f, family, family == AF_INET ? "10.9.0.9" : "fd09::9",
					      SPORT, family == AF_INET ? "10.9.0.1" : "fd09::1",
					      5000, 16), cut;
		int refused = 0, tried = 0, cap = capture_open(0);
		uint64_t before = total_drops();

		for (cut = ETH_HLEN; cut < full; cut++) {
			int v = run(f, cut, NULL, NULL);

			if (v == RUN_FAILED)
				continue;
			tried++;
			refused += v == VERDICT_PASS || v == TC_ACT_SHOT;
		}
		CHECK(tried > 0 && refused == tried, "IPv%d cut at %d lengths: %d refused",
		      family == AF_INET ? 4 : 6, tried, refused);
		CHECK_EQ(before + tried, total_drops(), "each cut counted once");
		CHECK_EQ(-1, recv(cap, g, 300, MSG_DONTWAIT), "no copy of any cut frame");
		close(cap);
	}

	/* Malformed traffic to an address that is no group's is left alone. */
	len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.77", 5000, 32);
	ip->frag_off = htons(0x2000);
	CHECK_EQ(VERDICT_PASS, run(f, len, NULL, NULL), "fragment to a non-group address passes");
}

/* Default deny: a source outside the allow list is dropped and counted by
 * the program on network devices; the injection device's variant takes it. */
static void test_sources(void)
{
	FRAME(frame, 256);
	size_t len = build_udp_frame(frame, AF_INET, "10.9.1.9", SPORT, "10.9.0.1", 5000, 64);
	int cap = capture_open(0);
	uint64_t before = drops("source_denied");
	FRAME(f, 2048);
	int copies = 0;

	CHECK_EQ(TC_ACT_SHOT, run(frame, len, NULL, NULL), "a source not allowed is dropped");
	CHECK_EQ(before + 1, drops("source_denied"), "source_denied");
	CHECK_EQ(-1, recv(cap, f, 2048, MSG_DONTWAIT), "no copy of it");
	CHECK_EQ(TC_ACT_SHOT, run_prog(local_prog_fd, frame, len, NULL, NULL),
		 "the same packet from a local sender is replicated");
	while (recv(cap, f, 2048, MSG_DONTWAIT) == (ssize_t)len)
		copies++;
	CHECK_EQ(2, copies, "both subscribers got the local sender's packet");
	CHECK_EQ(before + 1, drops("source_denied"), "and nothing more was denied");
	close(cap);
}

/* The destination ports of the copies one packet makes, in slot order. */
static int copy_ports(const uint8_t *frame, size_t len, uint16_t *ports, int max)
{
	int cap = capture_open(0), n = 0;
	FRAME(f, 2048);

	if (run(frame, len, NULL, NULL) != TC_ACT_SHOT)
		return -1;
	while (n < max && recv(cap, f, 2048, MSG_DONTWAIT) == (ssize_t)len)
		ports[n++] = ntohs(((const struct udphdr *)(f + L4_OFF_V4))->dest);
	close(cap);
	return n;
}

/* ---- per-subscriber selection: --sample and --from (bpf/select.h) ---- */

/* Adds dest to group on loopback with a selection; returns the error. */
static int add_selecting(const char *group, const char *dest, uint32_t sample,
			 const char *const *from, size_t nfrom)
{
	static const uint8_t zero_mac[6];
	struct replicast_prefix p[16];
	struct replicast_sub_opts opts = { .sz = sizeof(opts), .ifname = "lo", .mac = zero_mac,
					   .sample = sample, .nfrom = nfrom, .from = p };
	struct replicast_endpoint g, d;
	size_t i;

	for (i = 0; i < nfrom && i < 16; i++)
		replicast_prefix_parse(from[i], &p[i]);
	replicast_endpoint_parse(group, &g);
	replicast_endpoint_parse(dest, &d);
	return replicast_sub_add(rc, &g, &d, &opts);
}

/* The destination ports of the copies one packet from src makes, in slot
 * order, as a string ("7301 7302"). */
static const char *ports_of(int family, const char *src, const char *group_addr, uint16_t port,
			    char *buf, size_t cap)
{
	FRAME(frame, 512);
	FRAME(f, 2048);
	size_t len = build_udp_frame(frame, family, src, SPORT, group_addr, port, 40), used = 0;
	size_t l4 = family == AF_INET ? L4_OFF_V4 : L4_OFF_V6;
	int fd = capture_open(0);

	buf[0] = '\0';
	if (run(frame, len, NULL, NULL) != TC_ACT_SHOT) {
		snprintf(buf, cap, "not consumed");
		close(fd);
		return buf;
	}
	while (recv(fd, f, 2048, MSG_DONTWAIT) == (ssize_t)len && used < cap)
		used += snprintf(buf + used, cap - used, "%s%u", used ? " " : "",
				 ntohs(((const struct udphdr *)(f + l4))->dest));
	close(fd);
	return buf;
}

/* The subscriber of group with dest port `port` as groups_read shows it. */
static struct replicast_sub_info sub_info(const char *group, uint16_t port)
{
	struct replicast_group_info *groups;
	struct replicast_sub_info out = { 0 };
	char name[REPLICAST_ENDPOINT_STRLEN];
	size_t n, i, j;

	if (replicast_groups_read(rc, &groups, &n))
		return out;
	for (i = 0; i < n; i++) {
		if (strcmp(group, replicast_endpoint_format(&groups[i].group, name, sizeof(name))))
			continue;
		for (j = 0; j < groups[i].nsubs; j++)
			if (groups[i].subs[j].dest.port == port)
				out = groups[i].subs[j];
	}
	replicast_groups_free(groups, n);
	return out;
}

/* --sample 3 beside a plain subscriber: of ten packets the sampled one gets
 * exactly its 1st, 4th, 7th and 10th, the plain one all ten, and the six
 * it did not take are skipped, for it and for the group, not dropped. */
static void test_sample(void)
{
	static const char *const want[10] = {
		"7301 7302", "7302", "7302", "7301 7302", "7302", "7302", "7301 7302", "7302",
		"7302", "7301 7302",
	};
	const char *g = "10.9.0.3:5003";
	struct replicast_group_info gi;
	struct replicast_sub_info s1, s2;
	uint64_t dropped_before = total_drops();
	char got[128];
	int i;

	add_group(g);
	CHECK_EQ(0, add_selecting(g, "127.0.0.1:7301", 3, NULL, 0), "sub add --sample 3");
	CHECK_EQ(0, add_selecting(g, "127.0.0.1:7302", 1, NULL, 0), "sub add --sample 1");
	for (i = 0; i < 10; i++) {
		ports_of(AF_INET, "10.9.0.9", "10.9.0.3", 5003, got, sizeof(got));
		CHECK(!strcmp(want[i], got), "packet %d goes to %s (got %s)", i + 1, want[i], got);
	}
	s1 = sub_info(g, 7301);
	s2 = sub_info(g, 7302);
	CHECK(s1.sample == 3 && !s1.sample_random && s2.sample == 1, "samples read back: %u, %u",
	      s1.sample, s2.sample);
	CHECK(s1.sent.packets == 4 && s1.skipped == 6 && s1.dropped == 0,
	      "sampled: 4 sent, 6 skipped, 0 dropped (got %" PRIu64 ", %" PRIu64 ", %" PRIu64 ")",
	      s1.sent.packets, s1.skipped, s1.dropped);
	CHECK(s2.sent.packets == 10 && s2.skipped == 0, "plain: 10 sent, 0 skipped");
	gi = group_info(g);
	CHECK(gi.received.packets == 10 && gi.sent.packets == 14 && gi.skipped == 6,
	      "group: 10 received, 14 sent, 6 skipped (got %" PRIu64 ", %" PRIu64 ", %" PRIu64 ")",
	      gi.received.packets, gi.sent.packets, gi.skipped);
	CHECK_EQ(gi.received.packets * 2, gi.sent.packets + gi.skipped,
		 "sent + dropped + skipped = packets x subscribers");
	CHECK_EQ(dropped_before, total_drops(), "skipping is no drop reason");
}

/* --sample-random 4: about one in four of 2,000 packets (500 +- 150, over
 * seven standard deviations), and every one of them sent or skipped. */
static void test_sample_random(void)
{
	static const uint8_t zero_mac[6];
	struct replicast_sub_opts opts = { .sz = sizeof(opts), .ifname = "lo", .mac = zero_mac,
					   .sample = 4, .sample_random = true };
	const char *g = "10.9.0.5:5005";
	struct replicast_endpoint ge, d;
	struct replicast_sub_info s;
	FRAME(frame, 256);
	size_t len = build_udp_frame(frame, AF_INET, "10.9.0.9", SPORT, "10.9.0.5", 5005, 40);
	int i, fails = 0;

	add_group(g);
	replicast_endpoint_parse(g, &ge);
	replicast_endpoint_parse("127.0.0.1:7601", &d);
	CHECK_EQ(0, replicast_sub_add(rc, &ge, &d, &opts), "sub add --sample 4 --sample-random");
	for (i = 0; i < 2000; i++)
		fails += run(frame, len, NULL, NULL) != TC_ACT_SHOT;
	CHECK_EQ(0, fails, "2000 packets consumed");
	s = sub_info(g, 7601);
	CHECK(s.sample == 4 && s.sample_random, "read back: 1 in 4, random");
	CHECK(s.sent.packets >= 350 && s.sent.packets <= 650,
	      "about a quarter sent (got %" PRIu64 " of 2000)", s.sent.packets);
	CHECK_EQ(2000, s.sent.packets + s.dropped + s.skipped, "sent + dropped + skipped = 2000");
}

/* A GSO/GRO super-packet of k datagrams counts k in the sample and goes
 * whole when it holds a datagram numbered a multiple of N: with --sample 3
 * and 2 datagrams each, [0,1] [2,3] go, [4,5] is skipped, [6,7] goes. */
static void test_sample_gso(void)
{
	struct __sk_buff gso = { .gso_segs = 2, .gso_size = 100 };
	const char *g = "10.9.0.6:5006";
	struct replicast_sub_info s;
	FRAME(f, 512);
	size_t len = build_udp_frame(f, AF_INET, "10.9.0.9", SPORT, "10.9.0.6", 5006, 200);
	int i, fails = 0;

	add_group(g);
	CHECK_EQ(0, add_selecting(g, "127.0.0.1:7701", 3, NULL, 0), "sub add --sample 3");
	for (i = 0; i < 4; i++)
		fails += run_skb(f, len, &gso) != TC_ACT_SHOT;
	CHECK_EQ(0, fails, "four super-packets of 2 datagrams taken");
	s = sub_info(g, 7701);
	CHECK(s.skipped == 2 && s.sent.packets + s.dropped == 6,
	      "the third is skipped whole: 2 skipped, 6 sent or dropped (got %" PRIu64 ", %" PRIu64
	      " + %" PRIu64 ")", s.skipped, s.sent.packets, s.dropped);
}

/* --from on IPv4 and IPv6: each subscriber gets exactly the packets whose
 * source is in one of its prefixes; a plain one gets all. The library
 * refuses a ninth prefix, one of the other family, one with host bits. */
static void test_from(void)
{
	static const char *const a[] = { "10.9.0.8/30" }, *const b[] = { "10.9.0.20", "10.9.0.64/26" };
	static const char *const v6[] = { "fd09::8/126", "fd09::1:0/112" };
	static const char *const nine[] = { "10.9.0.1", "10.9.0.2", "10.9.0.3", "10.9.0.4",
		"10.9.0.5", "10.9.0.6", "10.9.0.7", "10.9.0.8", "10.9.0.9" };
	static const char *const other[] = { "fd09::/64" };
	static const char *const host_bits[] = { "10.9.0.1/24" };
	const char *g4 = "10.9.0.4:5004", *g6 = "[fd09::4]:5004";
	struct replicast_group_info gi;
	struct replicast_sub_info s;
	char got[128];

	add_group(g4);
	CHECK_EQ(0, add_selecting(g4, "127.0.0.1:7401", 0, a, 1), "sub add --from 10.9.0.8/30");
	CHECK_EQ(0, add_selecting(g4, "127.0.0.1:7402", 0, b, 2), "sub add --from two prefixes");
	CHECK_EQ(0, add_selecting(g4, "127.0.0.1:7403", 0, NULL, 0), "sub add plain");
	CHECK_EQ(-E2BIG, add_selecting(g4, "127.0.0.1:7404", 0, nine, 9), "a ninth --from: -E2BIG");
	CHECK_EQ(-EAFNOSUPPORT, add_selecting(g4, "127.0.0.1:7404", 0, other, 1),
		 "an IPv6 --from on an IPv4 group: -EAFNOSUPPORT");
	CHECK_EQ(-EINVAL, add_selecting(g4, "127.0.0.1:7404", 0, host_bits, 1),
		 "host bits past the length: -EINVAL");
	CHECK(!strcmp("7401 7403", ports_of(AF_INET, "10.9.0.9", "10.9.0.4", 5004, got, 128)),
	      "from 10.9.0.9: 7401 7403 (got %s)", got);
	CHECK(!strcmp("7401 7403", ports_of(AF_INET, "10.9.0.11", "10.9.0.4", 5004, got, 128)),
	      "from 10.9.0.11: 7401 7403 (got %s)", got);
	CHECK(!strcmp("7402 7403", ports_of(AF_INET, "10.9.0.20", "10.9.0.4", 5004, got, 128)),
	      "from 10.9.0.20: 7402 7403 (got %s)", got);
	CHECK(!strcmp("7402 7403", ports_of(AF_INET, "10.9.0.127", "10.9.0.4", 5004, got, 128)),
	      "from 10.9.0.127: 7402 7403 (got %s)", got);
	CHECK(!strcmp("7403", ports_of(AF_INET, "10.9.0.12", "10.9.0.4", 5004, got, 128)),
	      "from 10.9.0.12: 7403 only (got %s)", got);
	s = sub_info(g4, 7401);
	CHECK(s.sent.packets == 2 && s.skipped == 3 && s.nfrom == 1 && s.from[0].len == 30,
	      "7401: 2 sent, 3 skipped, its prefix read back (got %" PRIu64 ", %" PRIu64 ", %zu)",
	      s.sent.packets, s.skipped, s.nfrom);
	s = sub_info(g4, 7402);
	CHECK(s.sent.packets == 2 && s.skipped == 3 && s.nfrom == 2, "7402: 2 sent, 3 skipped");
	gi = group_info(g4);
	CHECK(gi.received.packets == 5 && gi.sent.packets == 9 && gi.skipped == 6,
	      "group: 5 received, 9 sent, 6 skipped (got %" PRIu64 ", %" PRIu64 ", %" PRIu64 ")",
	      gi.received.packets, gi.sent.packets, gi.skipped);
	CHECK_EQ(gi.received.packets * 3, gi.sent.packets + gi.skipped,
		 "sent + dropped + skipped = packets x subscribers");

	add_group(g6);
	CHECK_EQ(0, add_selecting(g6, "[::1]:7501", 0, v6, 2), "sub add --from two IPv6 prefixes");
	CHECK_EQ(0, add_selecting(g6, "[::1]:7502", 0, NULL, 0), "sub add plain (IPv6)");
	CHECK(!strcmp("7501 7502", ports_of(AF_INET6, "fd09::a", "fd09::4", 5004, got, 128)),
	      "from fd09::a: 7501 7502 (got %s)", got);
	CHECK(!strcmp("7501 7502", ports_of(AF_INET6, "fd09::1:99", "fd09::4", 5004, got, 128)),
	      "from fd09::1:99: 7501 7502 (got %s)", got);
	CHECK(!strcmp("7502", ports_of(AF_INET6, "fd09::c", "fd09::4", 5004, got, 128)),
	      "from fd09::c: 7502 only (got %s)", got);
	CHECK(!strcmp("7502", ports_of(AF_INET6, "fd09::2:1", "fd09::4", 5004, got, 128)),
	      "from fd09::2:1: 7502 only (got %s)", got);
	s = sub_info(g6, 7501);
	CHECK(s.sent.packets == 2 && s.skipped == 2, "7501: 2 sent, 2 skipped (got %" PRIu64
	      ", %" PRIu64 ")", s.sent.packets, s.skipped);
}


/* ---- balancing: group --mode balance (bpf/balance.h) ---- */

#define BAL_GROUP "10.9.0.20:5020"
#define BAL_SOURCES 1000
#define BAL_PORT0 7400		/* subscriber k listens on BAL_PORT0 + k */

static const char *pin_dir;

/* Source i of the balance tests: 10.10.0.1 onwards, 1,000 distinct. */
static void bal_source(int i, char *buf, size_t len)
{
	snprintf(buf, len, "10.10.%d.%d", i / 250, i % 250 + 1);
}

/* The subscriber (its port) that each packet of a run went to; 0: none,
 * -1: more than one copy. A run is one packet per source from sport, or
 * with `ports`, one packet per source port from one source. Through the
 * local senders' program: no allow list for 10.10/16. */
static void bal_run(int n, int flow_ports, int *got)
{
	int cap = capture_open(0), i, copies;
	FRAME(frame, 512);
	FRAME(f, 2048);
	char src[32];
	size_t len;

	for (i = 0; i < n; i++) {
		if (flow_ports)
			snprintf(src, sizeof(src), "10.10.9.9");
		else
			bal_source(i, src, sizeof(src));
		len = build_udp_frame(frame, AF_INET, src, flow_ports ? 20000 + i : SPORT, "10.9.0.20",
				      5020, 40);
		got[i] = 0;
		copies = 0;
		if (run_prog(local_prog_fd, frame, len, NULL, NULL) != TC_ACT_SHOT) {
			got[i] = -2;
			continue;
		}
		while (recv(cap, f, 2048, MSG_DONTWAIT) == (ssize_t)len) {
			copies++;
			got[i] = ntohs(((const struct udphdr *)(f + L4_OFF_V4))->dest);
		}
		if (copies > 1)
			got[i] = -1;
	}
	close(cap);
}

/* What the library says each packet of bal_run() goes to (the same code). */
static void bal_predict(int n, int flow_ports, int *want)
{
	struct replicast_group_info gi = group_info(BAL_GROUP);
	struct replicast_group_info *groups;
	struct replicast_endpoint src;
	char text[48], name[REPLICAST_ENDPOINT_STRLEN];
	size_t ng, j, at;
	int i;

	memset(want, 0, sizeof(*want) * n);
	(void)gi;
	if (replicast_groups_read(rc, &groups, &ng))
		return;
	for (j = 0; j < ng; j++) {
		if (strcmp(BAL_GROUP, replicast_endpoint_format(&groups[j].group, name, sizeof(name))))
			continue;
		for (i = 0; i < n; i++) {
			if (flow_ports) {
				snprintf(text, sizeof(text), "10.10.9.9:%d", 20000 + i);
			} else {
				bal_source(i, text, sizeof(text) - 8);
				strcat(text, ":4242");
			}
			replicast_endpoint_parse(text, &src);
			want[i] = replicast_balance_pick(&groups[j], &src, &at) ? 0
				  : groups[j].subs[at].dest.port;
		}
	}
	replicast_groups_free(groups, ng);
}

/* Switches subscriber `port` of the balance group on (1) or off (2) as the
 * README's bpftool recipe does: one byte of its slot. */
static void bal_set_state(int port, __u32 state)
{
	/* A subscriber switched off is in groups_read()'s list no more: its
	 * slot as it was when on. */
	static __u32 slots[BAL_PORT0 + 8];
	struct replicast_sub_info si = sub_info(BAL_GROUP, (uint16_t)port);
	uint8_t value[512];
	char path[600];
	int fd;

	if (si.dest.port)
		slots[port - BAL_PORT0] = si.slot;
	si.slot = slots[port - BAL_PORT0];
	snprintf(path, sizeof(path), "%s/subscribers/10_9_0_20:5020", pin_dir);
	fd = bpf_obj_get(path);
	CHECK(fd >= 0 && !bpf_map_lookup_elem(fd, &si.slot, value), "subscriber %d's slot %u read",
	      port, si.slot);
	if (fd < 0)
		return;
	memcpy(value, &state, sizeof(state));
	CHECK(!bpf_map_update_elem(fd, &si.slot, value, BPF_EXIST), "subscriber %d switched to %u",
	      port, state);
	close(fd);
}

/* Compares a run with the library's choice and the one before it: every
 * packet one copy, to the subscriber replicast_balance_pick() names; the
 * sources that moved moved only to (or from) `port`. Returns how many moved. */
static int bal_check(const char *what, int n, int flow, const int *before, int *now, int port,
		     int to)
{
	static int want[BAL_SOURCES];
	int i, one = 0, agree = 0, moved = 0, elsewhere = 0;

	bal_run(n, flow, now);
	bal_predict(n, flow, want);
	for (i = 0; i < n; i++) {
		one += now[i] > 0;
		agree += now[i] == want[i];
		if (before && before[i] != now[i]) {
			moved++;
			if (to ? now[i] != port : before[i] != port)
				elsewhere++;
		}
	}
	CHECK(one == n, "%s: every packet made exactly one copy (%d of %d)", what, one, n);
	CHECK(agree == n, "%s: the kernel chose what replicast_balance_pick() says (%d of %d)",
	      what, agree, n);
	if (before)
		CHECK(elsewhere == 0, "%s: every source that moved (%d), moved %s %d (%d did not)",
		      what, moved, to ? "to" : "from", port, elsewhere);
	return moved;
}

/* Four subscribers, 1,000 sources: an even spread (within 15 %), one copy
 * each, the library's choice. A fifth moves at most a quarter, all to it;
 * one switched off hands over only its own, which come back when it is on
 * again; one removed likewise. Counters: sent = packets, nothing skipped. */
static void test_balance(void)
{
	static int base[BAL_SOURCES], five[BAL_SOURCES], off[BAL_SOURCES], again[BAL_SOURCES];
	struct replicast_endpoint g;
	struct replicast_group_info gi;
	int count[5] = { 0 }, i, k, moved, lo, hi;
	char dest[32];
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	add_group(BAL_GROUP);
	replicast_endpoint_parse(BAL_GROUP, &g);
	CHECK_EQ(-EINVAL, replicast_group_set_mode(rc, &g, 7, REPLICAST_HASH_SOURCE),
		 "an unknown mode is refused");
	CHECK_EQ(0, replicast_group_set_mode(rc, &g, REPLICAST_MODE_BALANCE, REPLICAST_HASH_SOURCE),
		 "group set --mode balance");
	gi = group_info(BAL_GROUP);
	CHECK(gi.mode == REPLICAST_MODE_BALANCE && gi.hash == REPLICAST_HASH_SOURCE,
	      "mode and hash read back (%d, %d)", gi.mode, gi.hash);
	bal_run(1, 0, base);
	CHECK_EQ(0, base[0], "no subscriber: no copy");
	for (k = 1; k <= 4; k++) {
		snprintf(dest, sizeof(dest), "127.0.0.1:%d", BAL_PORT0 + k);
		add_sub(BAL_GROUP, dest);
	}
	bal_check("4 subscribers", BAL_SOURCES, 0, NULL, base, 0, 0);
	for (i = 0; i < BAL_SOURCES; i++)
		if (base[i] > BAL_PORT0 && base[i] <= BAL_PORT0 + 4)
			count[base[i] - BAL_PORT0 - 1]++;
	lo = BAL_SOURCES / 4 * 85 / 100;
	hi = BAL_SOURCES / 4 * 115 / 100;
	for (k = 0; k < 4; k++)
		CHECK(count[k] >= lo && count[k] <= hi, "subscriber %d has %d of 1,000 sources "
		      "(%d..%d)", k + 1, count[k], lo, hi);
	gi = group_info(BAL_GROUP);
	CHECK(gi.received.packets == BAL_SOURCES + 1 && gi.sent.packets == BAL_SOURCES &&
	      gi.skipped == 0, "group: %d+1 received, %d sent, none skipped (got %" PRIu64 ", %"
	      PRIu64 ", %" PRIu64 ")", BAL_SOURCES, BAL_SOURCES, gi.received.packets,
	      gi.sent.packets, gi.skipped);

	snprintf(dest, sizeof(dest), "127.0.0.1:%d", BAL_PORT0 + 5);
	add_sub(BAL_GROUP, dest);
	moved = bal_check("a 5th subscriber", BAL_SOURCES, 0, base, five, BAL_PORT0 + 5, 1);
	CHECK(moved > 0 && moved <= BAL_SOURCES / 4, "a 5th subscriber took %d sources (1..250)",
	      moved);

	bal_set_state(BAL_PORT0 + 2, SUB_OFF);
	moved = bal_check("subscriber 2 off", BAL_SOURCES, 0, five, off, BAL_PORT0 + 2, 0);
	for (i = 0, k = 0; i < BAL_SOURCES; i++)
		k += five[i] == BAL_PORT0 + 2;
	CHECK(k == moved, "subscriber 2 off: its %d sources moved, none other (moved %d)", k, moved);
	bal_set_state(BAL_PORT0 + 2, SUB_ON);
	moved = bal_check("subscriber 2 on again", BAL_SOURCES, 0, off, again, BAL_PORT0 + 2, 1);
	CHECK(!memcmp(again, five, sizeof(five)), "on again: every source back where it was");

	replicast_endpoint_parse("127.0.0.1:7403", &g);
	{
		struct replicast_endpoint grp;

		replicast_endpoint_parse(BAL_GROUP, &grp);
		CHECK_EQ(0, replicast_sub_del(rc, &grp, &g), "sub del 127.0.0.1:7403");
	}
	moved = bal_check("subscriber 3 removed", BAL_SOURCES, 0, five, off, BAL_PORT0 + 3, 0);
	for (i = 0, k = 0; i < BAL_SOURCES; i++)
		k += five[i] == BAL_PORT0 + 3;
	CHECK(k == moved, "subscriber 3 removed: its %d sources moved, none other (moved %d)", k,
	      moved);

	/* --hash flow: one source, 400 source ports, spread over the four. */
	replicast_endpoint_parse(BAL_GROUP, &g);
	CHECK_EQ(0, replicast_group_set_mode(rc, &g, REPLICAST_MODE_BALANCE, REPLICAST_HASH_FLOW),
		 "group set --hash flow");
	bal_check("--hash flow", 400, 1, NULL, base, 0, 0);
	memset(count, 0, sizeof(count));
	for (i = 0; i < 400; i++)
		for (k = 0; k < 5; k++)
			count[k] += base[i] == BAL_PORT0 + 1 + k;
	CHECK(count[2] == 0 && count[0] >= 60 && count[1] >= 60 && count[3] >= 60 && count[4] >= 60,
	      "--hash flow: one source's 400 ports spread over the four (%d %d %d %d)", count[0],
	      count[1], count[3], count[4]);
	/* --hash source: the same 400 packets all go to one. */
	CHECK_EQ(0, replicast_group_set_mode(rc, &g, REPLICAST_MODE_BALANCE, REPLICAST_HASH_SOURCE),
		 "group set --hash source");
	bal_check("--hash source, one source", 400, 1, NULL, base, 0, 0);
	for (i = 1, k = 0; i < 400; i++)
		k += base[i] != base[0];
	CHECK_EQ(0, k, "--hash source: one source's 400 ports all go to one subscriber");
	/* And back to replicate: every subscriber gets a copy. */
	CHECK_EQ(0, replicast_group_set_mode(rc, &g, REPLICAST_MODE_REPLICATE, REPLICAST_HASH_SOURCE),
		 "group set --mode replicate");
	bal_run(1, 0, base);
	CHECK_EQ(-1, base[0], "replicate again: more than one copy");
	replicast_group_del(rc, &g);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# balance tests: %.1f s\n", (double)(t1.tv_sec - t0.tv_sec) +
	       (t1.tv_nsec - t0.tv_nsec) / 1e9);
}


/* IPv6: 300 sources over three subscribers, each packet one copy, to the
 * one replicast_balance_pick() names. */
static void test_balance_v6(void)
{
	const char *gtext = "[fd09::20]:5021";
	struct replicast_group_info *groups;
	struct replicast_endpoint g, src;
	int cap = capture_open(0), i, k, one = 0, agree = 0, used[3] = { 0 };
	FRAME(frame, 512);
	FRAME(f, 2048);
	char text[64], name[96];
	size_t len, ng, j, at;

	add_group(gtext);
	replicast_endpoint_parse(gtext, &g);
	CHECK_EQ(0, replicast_group_set_mode(rc, &g, REPLICAST_MODE_BALANCE, REPLICAST_HASH_SOURCE),
		 "IPv6 group set --mode balance");
	for (k = 1; k <= 3; k++) {
		snprintf(text, sizeof(text), "[::1]:%d", 7410 + k);
		add_sub(gtext, text);
	}
	if (replicast_groups_read(rc, &groups, &ng))
		return;
	for (i = 0; i < 300; i++) {
		int port = 0, copies = 0, want = -1;

		snprintf(text, sizeof(text), "fd0a::%x:%x", i / 100 + 1, i % 100 + 1);
		len = build_udp_frame(frame, AF_INET6, text, SPORT, "fd09::20", 5021, 40);
		if (run_prog(local_prog_fd, frame, len, NULL, NULL) != TC_ACT_SHOT)
			continue;
		while (recv(cap, f, 2048, MSG_DONTWAIT) == (ssize_t)len) {
			copies++;
			port = ntohs(((const struct udphdr *)(f + L4_OFF_V6))->dest);
		}
		one += copies == 1;
		snprintf(name, sizeof(name), "[%s]:%d", text, SPORT);
		replicast_endpoint_parse(name, &src);
		for (j = 0; j < ng; j++)
			if (replicast_endpoint_equal(&groups[j].group, &g) &&
			    !replicast_balance_pick(&groups[j], &src, &at))
				want = groups[j].subs[at].dest.port;
		agree += port == want;
		if (port > 7410 && port < 7414)
			used[port - 7411]++;
	}
	replicast_groups_free(groups, ng);
	close(cap);
	CHECK(one == 300, "IPv6: every packet made exactly one copy (%d of 300)", one);
	CHECK(agree == 300, "IPv6: the kernel chose what replicast_balance_pick() says (%d of 300)",
	      agree);
	CHECK(used[0] >= 70 && used[1] >= 70 && used[2] >= 70,
	      "IPv6: the three IPv6 subscribers share the 300 (%d %d %d)", used[0], used[1], used[2]);
	replicast_group_del(rc, &g);
}

/* Zero-length UDP and an IPv4 datagram without checksum (0) are legal:
 * replicated, and the copies keep "no checksum" rather than inventing one. */
static void test_legal_edges(void)
{
	FRAME(frame, 256);
	FRAME(f, 2048);
	size_t len = build_udp_frame(frame, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 0);
	int cap = capture_open(0), copies = 0, zero = 0;

	CHECK_EQ(TC_ACT_SHOT, run(frame, len, NULL, NULL), "zero-length UDP is replicated");
	while (recv(cap, f, 2048, MSG_DONTWAIT) == (ssize_t)len)
		copies += frame_checksums_ok(f, len);
	CHECK_EQ(2, copies, "two copies with valid checksums");
	len = build_udp_frame(frame, AF_INET, "10.9.0.9", SPORT, "10.9.0.1", 5000, 50);
	((struct udphdr *)(frame + L4_OFF_V4))->check = 0;
	copies = 0;
	CHECK_EQ(TC_ACT_SHOT, run(frame, len, NULL, NULL), "IPv4 UDP without checksum is replicated");
	while (recv(cap, f, 2048, MSG_DONTWAIT) == (ssize_t)len) {
		copies++;
		zero += ((const struct udphdr *)(f + L4_OFF_V4))->check == 0;
	}
	CHECK(copies == 2 && zero == 2, "both copies keep checksum 0 (%d of %d)", zero, copies);
	close(cap);
}

/* A whole-set replacement: afterwards exactly the new set gets copies, and
 * the subscribers in both sets keep their slots and counters. */
static void test_set_subs(void)
{
	static const uint8_t zero_mac[6];
	struct replicast_sub_entry set[3];
	struct replicast_group_info *groups;
	struct replicast_endpoint g;
	uint16_t ports[8];
	FRAME(frame, 256);
	size_t len, n, i;
	int k;

	replicast_endpoint_parse("10.9.0.2:5000", &g);
	add_group("10.9.0.2:5000");
	for (k = 0; k < 3; k++) {
		memset(&set[k], 0, sizeof(set[k]));
		replicast_endpoint_parse("127.0.0.1:8000", &set[k].dest);
		set[k].dest.port = (uint16_t)(8001 + k);
		set[k].opts.sz = sizeof(set[k].opts);
		set[k].opts.ifname = "lo";
		set[k].opts.mac = zero_mac;
	}
	CHECK_EQ(0, replicast_group_set_subs(rc, &g, set, 3), "set {8001, 8002, 8003}");
	len = build_udp_frame(frame, AF_INET, "10.9.0.9", SPORT, "10.9.0.2", 5000, 40);
	k = copy_ports(frame, len, ports, 8);
	CHECK(k == 3 && ports[0] == 8001 && ports[1] == 8002 && ports[2] == 8003,
	      "copies to 8001, 8002, 8003 (got %d)", k);
	set[0].dest.port = 8004;	/* {8004, 8002, 8003}: 8001 leaves, 8004 joins */
	CHECK_EQ(0, replicast_group_set_subs(rc, &g, set, 3), "set {8004, 8002, 8003}");
	k = copy_ports(frame, len, ports, 8);
	CHECK(k == 3 && ports[0] == 8004 && ports[1] == 8002 && ports[2] == 8003,
	      "copies to 8004 (in 8001's old slot), 8002, 8003 (got %d)", k);
	set[1] = set[2];
	CHECK_EQ(-EEXIST, replicast_group_set_subs(rc, &g, set, 3), "a DEST twice is refused");
	CHECK_EQ(0, replicast_group_set_subs(rc, &g, set + 2, 1), "set {8003}");
	k = copy_ports(frame, len, ports, 8);
	CHECK(k == 1 && ports[0] == 8003, "copies to 8003 only (got %d)", k);
	CHECK(!replicast_groups_read(rc, &groups, &n), "read groups");
	for (i = 0; i < n; i++) {
		if (groups[i].group.addr.v4.s_addr != g.addr.v4.s_addr)
			continue;
		CHECK(groups[i].nsubs == 1 && groups[i].subs[0].sent.packets == 3,
		      "8003 kept its counter across the swaps (3 packets)");
	}
	replicast_groups_free(groups, n);
	CHECK_EQ(0, replicast_group_set_subs(rc, &g, NULL, 0), "set {}");
	CHECK_EQ(0, copy_ports(frame, len, ports, 8), "no copies from an empty set");
	CHECK(!replicast_group_del(rc, &g), "group del");
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The capacities the program promises at their defaults: a group of 4,096
 * subscribers gets 4,096 copies of one packet, and 1,024 groups fit. */
static void test_capacity(void)
{
	double t0;
	static const uint8_t zero_mac[6];
	struct replicast_sub_opts opts = { .sz = sizeof(opts), .ifname = "lo", .mac = zero_mac };
	struct replicast_group_info *groups;
	struct replicast_endpoint g, d;
	int cap = capture_open(1), rcvbuf = 64 << 20, added = 0, copies = 0, i, err;
	struct sockaddr_ll from;
	socklen_t fromlen = sizeof(from);
	FRAME(frame, 256);
	uint8_t buf[256];
	size_t len, n;

	setsockopt(cap, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	replicast_endpoint_parse("10.9.0.200:5000", &g);
	add_group("10.9.0.200:5000");
	d = g;
	inet_pton(AF_INET, "127.0.0.1", &d.addr.v4);
	t0 = now_ms();
	for (i = 0; i < (int)replicast_max_subs(rc); i++) {
		d.port = (uint16_t)(10000 + i);
		if (replicast_sub_add(rc, &g, &d, &opts) == 0)
			added++;
	}
	CHECK_EQ(REPLICAST_DEFAULT_MAX_SUBS, added, "a group takes 4096 subscribers");
	/* The README's cost figures come from these lines. */
	printf("# %d subscriber adds took %.0f ms\n", added, now_ms() - t0);
	d.port = 9999;
	CHECK_EQ(-ENOSPC, replicast_sub_add(rc, &g, &d, &opts), "the 4097th is refused: full");
	len = build_udp_frame(frame, AF_INET, "10.9.0.9", SPORT, "10.9.0.200", 5000, 64);
	CHECK_EQ(TC_ACT_SHOT, run(frame, len, NULL, NULL), "one packet to 4096 subscribers");
	/* Counted as they leave: loopback's receive backlog holds only
	 * net.core.netdev_max_backlog (1,000) of one burst. */
	while (recvfrom(cap, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
			&fromlen) > 0)
		copies += from.sll_pkttype == PACKET_OUTGOING;
	CHECK_EQ(REPLICAST_DEFAULT_MAX_SUBS, copies, "4096 copies left on the wire");
	close(cap);
	CHECK(!replicast_groups_read(rc, &groups, &n), "read groups");
	for (i = 0; i < (int)n; i++)
		if (groups[i].group.addr.v4.s_addr == g.addr.v4.s_addr)
			CHECK_EQ(REPLICAST_DEFAULT_MAX_SUBS, groups[i].sent.packets, "group counted 4096");
	replicast_groups_free(groups, n);

	/* Fill the group table: the groups made so far count against it. */
	t0 = now_ms();
	for (i = 0, err = 0; !err && i < 2 * REPLICAST_DEFAULT_MAX_GROUPS; i++) {
		g.addr.v4.s_addr = htonl(0x0a0a0000 + i);
		err = replicast_group_add(rc, &g);
	}
	CHECK_EQ(-ENOSPC, err, "the group table ends full");
	printf("# %d group adds took %.0f ms, %.1f ms each\n", i - 1, now_ms() - t0,
	       (now_ms() - t0) / (i - 1));
	CHECK(!replicast_groups_read(rc, &groups, &n), "read groups");
	CHECK_EQ(REPLICAST_DEFAULT_MAX_GROUPS, n, "1024 groups fit");
	replicast_groups_free(groups, n);
}

/* The application's libbpf print function: the library must leave it in
 * place (it is process-wide state that belongs to the application), not
 * even swap it for a moment. This program's own libbpf_set_print() stands
 * in front of libbpf's, for the static library's calls too, and counts. */
#include "prog_health.h"

static int app_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int set_print_calls;

libbpf_print_fn_t libbpf_set_print(libbpf_print_fn_t fn)
{
	libbpf_print_fn_t (*real)(libbpf_print_fn_t);

	set_print_calls++;
	*(void **)&real = dlsym(RTLD_NEXT, "libbpf_set_print");
	return real ? real(fn) : NULL;
}

/* The verifier walks at most a million instructions per program; the
 * replicator once took 972,163 of them, and every feature added to the
 * fan-out adds paths. Half the budget is the line a change must not cross
 * unnoticed (global functions, verified on their own, are the remedy). */
#define VERIFIER_BUDGET_SHARE 500000

static void test_verifier_headroom(void)
{
	int fds[2] = { prog_fd, local_prog_fd }, i;
	const char *names[2] = { "replicate", "replicate_local" };

	for (i = 0; i < 2; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		CHECK(!bpf_obj_get_info_by_fd(fds[i], &info, &len), "info of %s", names[i]);
		printf("# %s: %u instructions verified\n", names[i], info.verified_insns);
		CHECK(info.verified_insns < VERIFIER_BUDGET_SHARE,
		      "%s verifies in under half the verifier's budget (%u of 1,000,000)", names[i],
		      info.verified_insns);
	}
}

int main(int argc, char **argv)
{
	struct replicast_opts opts = { .sz = sizeof(opts) };
	char path[512];
	struct stat st;
	int err;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "capacity"))) {
		fprintf(stderr, "usage: %s PIN_DIR [capacity]  (root, inside a scratch netns)\n",
			argv[0]);
		return 2;
	}
	opts.pin_path = argv[1];
	pin_dir = argv[1];
	libbpf_set_print(app_print);
	err = replicast_load(&opts, &rc);
	CHECK(err == 0, "load (%s)", replicast_strerror(err));
	if (err)
		return unit_summary();
	snprintf(path, sizeof(path), "%s/replicate_prog", argv[1]);
	prog_fd = bpf_obj_get(path);
	CHECK(prog_fd >= 0, "program is pinned at %s", path);
	snprintf(path, sizeof(path), "%s/replicate_local_prog", argv[1]);
	local_prog_fd = bpf_obj_get(path);
	CHECK(local_prog_fd >= 0, "the local senders' program is pinned at %s", path);
	test_verifier_headroom();
	add_group(GROUP4);
	add_group(GROUP6);

	test_replicates_v4();
	test_replicates_v6();
	test_counters();
	test_opts_checked();
	test_checksum_complete();
	test_multicast_ttl();
	test_datagram_counts();
	test_passes_unchanged();
	test_malformed();
	test_legal_edges();
	test_set_subs();
	test_sample();
	test_sample_random();
	test_sample_gso();
	test_from();
	test_health(argv[1]);
	test_port_range(argv[1]);
	test_port_range_v6();
	test_balance();
	test_balance_v6();
	/* Filling 1,024 groups takes ~25 s: every group add waits out two RCU
	 * grace periods (see README, "Changing subscribers"). */
	if (argc == 3)
		test_capacity();

	test_sources();
	CHECK_EQ(1, set_print_calls, "the library never set libbpf's print function");
	CHECK(libbpf_set_print(app_print) == app_print,
	      "the application's libbpf print function is still in place");
	CHECK(!replicast_unload(rc), "unload");
	CHECK(stat(argv[1], &st) && errno == ENOENT, "unload removed %s", argv[1]);
	replicast_close(rc);
	close(prog_fd);
	close(local_prog_fd);
	return unit_summary();
}
