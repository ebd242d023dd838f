/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Receiver health on crafted packets, a part of test_prog.c (which it is
 * included in, after its helpers): watch_unreachable counts exactly the ICMP
 * and ICMPv6 unreachable errors that quote a copy to a subscriber, passes
 * every packet unchanged, and the fan-out holds a --health subscriber off,
 * probes it and serves it again as its `sub_health` entry says. */
#ifndef REPLICAST_TEST_PROG_HEALTH_H
#define REPLICAST_TEST_PROG_HEALTH_H

#include "replicast_types.h"

static int watch_fd = -1, health_fd = -1;

/* An ICMP (IPv4) or ICMPv6 error of `type`/`code` from dst back to this
 * host, quoting the first `quote` bytes (from its IP header on) of a copy
 * this host sent to dst:dport. Returns the frame's length. */
static size_t build_icmp_error(uint8_t *buf, int family, const char *dst, uint16_t dport,
			       uint8_t type, uint8_t code, size_t quote)
{
	const char *self = family == AF_INET ? "127.0.0.1" : "::1";
	size_t iph = family == AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr), copy_len;
	struct ethhdr *eth = (void *)buf;
	uint8_t *icmp = buf + L3_OFF + iph;
	FRAME(copy, 256);

	copy_len = build_udp_frame(copy, family, self, SPORT, dst, dport, 32);
	if (quote > copy_len - L3_OFF)
		quote = copy_len - L3_OFF;
	memset(buf, 0, L3_OFF + iph + 8);
	memcpy(eth->h_source, "\x02\x00\x00\x00\x00\x07", 6);
	if (family == AF_INET) {
		struct iphdr *ip = (void *)(buf + L3_OFF);

		eth->h_proto = htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = IPPROTO_ICMP;
		ip->tot_len = htons(iph + 8 + quote);
		inet_pton(AF_INET, dst, &ip->saddr);
		inet_pton(AF_INET, self, &ip->daddr);
		frame_fix_ipv4_csum(buf);
	} else {
		struct ipv6hdr *ip6 = (void *)(buf + L3_OFF);

		eth->h_proto = htons(ETH_P_IPV6);
		ip6->version = 6;
		ip6->hop_limit = 64;
		ip6->nexthdr = IPPROTO_ICMPV6;
		ip6->payload_len = htons(8 + quote);
		inet_pton(AF_INET6, dst, &ip6->saddr);
		inet_pton(AF_INET6, self, &ip6->daddr);
	}
	icmp[0] = type;
	icmp[1] = code;
	memcpy(icmp + 8, copy + L3_OFF, quote);
	return L3_OFF + iph + 8 + quote;
}

/* Runs the watcher on frame: it must pass it (no verdict) unchanged. */
static void watch(const uint8_t *frame, size_t len, const char *what)
{
	uint8_t out[2048];
	uint32_t out_len = 0;

	CHECK_EQ(VERDICT_PASS, run_prog(watch_fd, frame, len, out, &out_len), what);
	CHECK(out_len == len && !memcmp(out, frame, len), "%s: passed unchanged", what);
}

static uint64_t unreachable_of(const char *group, uint16_t port)
{
	return sub_info(group, port).unreachable;
}

static void health_key_of(int family, const char *addr, uint16_t port, struct rc_sub_health_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = family == AF_INET ? RC_AF_INET : RC_AF_INET6;
	k->port = port;
	inet_pton(family, addr, &k->addr);
}

static int add_health_sub(const char *group, const char *dest, uint32_t health_s)
{
	static const uint8_t zero_mac[6];
	struct replicast_sub_opts opts = { .sz = sizeof(opts), .ifname = "lo", .mac = zero_mac,
					   .health_s = health_s };
	struct replicast_endpoint g, d;

	replicast_endpoint_parse(group, &g);
	replicast_endpoint_parse(dest, &d);
	return replicast_sub_add(rc, &g, &d, &opts);
}

/* Errors are counted for the receiver they quote, and for nothing else. */
static void test_unreachable_counted(int family)
{
	const char *g = family == AF_INET ? "10.9.0.7:5007" : "[fd09::7]:5007";
	const char *a = family == AF_INET ? "127.0.0.1" : "::1";
	const char *other = family == AF_INET ? "127.0.0.9" : "::9";
	const char *v = family == AF_INET ? "v4" : "v6";
	uint8_t unreach = family == AF_INET ? 3 : 1, port_code = family == AF_INET ? 3 : 4;
	uint8_t host_code = family == AF_INET ? 1 : 3, echo = family == AF_INET ? 8 : 128;
	/* Unreachable, but not "the receiver is gone": network unreachable
	 * (v4) and administratively prohibited (v6). */
	uint8_t other_code = family == AF_INET ? 0 : 1;
	size_t iph = family == AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	char dest[64], what[96];
	FRAME(f, 512);
	size_t len;

	add_group(g);
	snprintf(dest, sizeof(dest), family == AF_INET ? "%s:7701" : "[%s]:7701", a);
	CHECK_EQ(0, add_health_sub(g, dest, 0), "sub add without --health");
	CHECK_EQ(0, unreachable_of(g, 7701), "no error yet");

	len = build_icmp_error(f, family, a, 7701, unreach, port_code, 64);
	snprintf(what, sizeof(what), "%s port unreachable quoting a copy", v);
	watch(f, len, what);
	CHECK_EQ(1, unreachable_of(g, 7701), "port unreachable: counted once");
	len = build_icmp_error(f, family, a, 7701, unreach, host_code, 64);
	watch(f, len, family == AF_INET ? "v4 host unreachable" : "v6 address unreachable");
	CHECK_EQ(2, unreachable_of(g, 7701), "host/address unreachable: counted once");
	/* Just the IP and UDP headers: all RFC 792 asks a router to quote. */
	len = build_icmp_error(f, family, a, 7701, unreach, port_code, iph + 8);
	watch(f, len, "a quote of the headers only");
	CHECK_EQ(3, unreachable_of(g, 7701), "... counted");

	len = build_icmp_error(f, family, a, 7702, unreach, port_code, 64);
	watch(f, len, "an error quoting another port");
	len = build_icmp_error(f, family, other, 7701, unreach, port_code, 64);
	watch(f, len, "an error quoting another address");
	len = build_icmp_error(f, family, a, 7701, unreach, other_code, 64);
	watch(f, len, "another unreachable code");
	len = build_icmp_error(f, family, a, 7701, echo, 0, 64);
	watch(f, len, "an echo request");
	len = build_icmp_error(f, family, a, 7701, unreach, port_code, iph + 2);
	watch(f, len, "a quote cut inside the UDP header");
	len = build_icmp_error(f, family, a, 7701, unreach, port_code, iph - 4);
	watch(f, len, "a quote cut inside the IP header");
	len = build_icmp_error(f, family, a, 7701, unreach, port_code, 64);
	f[L3_OFF + iph + 8 + (family == AF_INET ? 9 : 6)] = IPPROTO_TCP;
	watch(f, len, "a quote of a TCP packet");
	len = build_icmp_error(f, family, a, 7701, unreach, port_code, 64);
	f[L3_OFF + iph + 8] = family == AF_INET ? 0x43 : 0x40;	/* IHL 3 / version 4 in v6 */
	watch(f, len, "a malformed quoted IP header");
	if (family == AF_INET) {
		len = build_icmp_error(f, family, a, 7701, unreach, port_code, 64);
		f[L3_OFF + 6] = 0x20;	/* MF: a first fragment */
		frame_fix_ipv4_csum(f);
		watch(f, len, "an ICMP fragment");
	}
	len = build_udp_frame(f, family, a, 7701, a, 4242, 40);
	watch(f, len, "a UDP packet from the receiver");
	CHECK_EQ(3, unreachable_of(g, 7701), "none of those counted");
}

static int health_entry(int family, const char *addr, uint16_t port, struct rc_sub_health *h)
{
	struct rc_sub_health_key k;

	health_key_of(family, addr, port, &k);
	return bpf_map_lookup_elem(health_fd, &k, h);
}

static void health_entry_set(int family, const char *addr, uint16_t port,
			     const struct rc_sub_health *h)
{
	struct rc_sub_health_key k;

	health_key_of(family, addr, port, &k);
	CHECK(!bpf_map_update_elem(health_fd, &k, h, BPF_EXIST), "entry of port %u written", port);
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* bpf_ktime_get_ns()'s clock */
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* The hold-off state machine through the TC fan-out, its clock driven by
 * writing the entry's times: a streak as long as --health holds the
 * subscriber off (its copies held_off drops, the other subscriber served),
 * a probe goes once its interval passed, an error answers it, and two
 * unanswered probes put it back on. A subscriber without --health with the
 * same errors is never held off. */
static void test_hold_off(void)
{
	const char *g = "10.9.0.8:5008";
	uint64_t held0 = drops("held_off");
	struct rc_sub_health h, plain;
	struct replicast_sub_info si;
	struct replicast_group_info gi;
	char got[128];
	FRAME(f, 512);
	__u64 now;
	size_t len;

	add_group(g);
	CHECK_EQ(0, add_health_sub(g, "127.0.0.1:7801", 0), "sub add (plain)");
	CHECK_EQ(0, add_health_sub(g, "127.0.0.1:7802", 1), "sub add --health 1");
	CHECK(!strcmp("7801 7802", ports_of(AF_INET, "10.9.0.9", "10.9.0.8", 5008, got, sizeof(got))),
	      "both served at first (got %s)", got);
	si = sub_info(g, 7802);
	CHECK(si.health_s == 1 && !si.held_off && !si.held_since_ms, "health 1, not held off");

	/* 1.5 s of errors for both, the last just now. */
	now = mono_ns();
	CHECK(!health_entry(AF_INET, "127.0.0.1", 7802, &h), "the --health receiver has an entry");
	CHECK(!health_entry(AF_INET, "127.0.0.1", 7801, &plain), "the plain one too");
	CHECK_EQ(1000, h.hold_ms, "hold_ms");
	h.first_error_ns = plain.first_error_ns = now - 1500000000ULL;
	h.last_error_ns = plain.last_error_ns = now;
	health_entry_set(AF_INET, "127.0.0.1", 7802, &h);
	health_entry_set(AF_INET, "127.0.0.1", 7801, &plain);
	CHECK(!strcmp("7801", ports_of(AF_INET, "10.9.0.9", "10.9.0.8", 5008, got, sizeof(got))),
	      "a 1.5 s streak holds the --health one off, not the plain one (got %s)", got);
	CHECK_EQ(held0 + 1, drops("held_off"), "its copy: one held_off drop");
	health_entry(AF_INET, "127.0.0.1", 7802, &h);
	CHECK(h.held_since_ns >= now && h.last_probe_ns == h.held_since_ns,
	      "held since now; the first probe a second later");
	si = sub_info(g, 7802);
	CHECK(si.held_off && si.held_since_ms > 0, "sub info: held off, since %" PRIu64 " ms",
	      si.held_since_ms);
	CHECK(!strcmp("7801", ports_of(AF_INET, "10.9.0.9", "10.9.0.8", 5008, got, sizeof(got))),
	      "no probe within the second (got %s)", got);

	h.last_probe_ns = mono_ns() - 1100000000ULL;
	health_entry_set(AF_INET, "127.0.0.1", 7802, &h);
	CHECK(!strcmp("7801 7802", ports_of(AF_INET, "10.9.0.9", "10.9.0.8", 5008, got, sizeof(got))),
	      "a second later: one probe (got %s)", got);
	CHECK(!strcmp("7801", ports_of(AF_INET, "10.9.0.9", "10.9.0.8", 5008, got, sizeof(got))),
	      "then held again (got %s)", got);
	health_entry(AF_INET, "127.0.0.1", 7802, &h);
	CHECK_EQ(1, h.unanswered, "one probe unanswered");
	len = build_icmp_error(f, AF_INET, "127.0.0.1", 7802, 3, 3, 64);
	watch(f, len, "the probe's error");
	health_entry(AF_INET, "127.0.0.1", 7802, &h);
	CHECK(h.unanswered == 0 && h.held_since_ns, "an error answers it: still held off");

	h.unanswered = 2;	/* two probes went with nothing back */
	h.last_probe_ns = mono_ns() - 1100000000ULL;
	health_entry_set(AF_INET, "127.0.0.1", 7802, &h);
	CHECK(!strcmp("7801 7802", ports_of(AF_INET, "10.9.0.9", "10.9.0.8", 5008, got, sizeof(got))),
	      "two unanswered probes: served again (got %s)", got);
	health_entry(AF_INET, "127.0.0.1", 7802, &h);
	CHECK(!h.held_since_ns && !h.first_error_ns, "on again; the next error starts a new streak");
	CHECK(!strcmp("7801 7802", ports_of(AF_INET, "10.9.0.9", "10.9.0.8", 5008, got, sizeof(got))),
	      "and stays on (got %s)", got);

	si = sub_info(g, 7802);
	gi = group_info(g);
	CHECK(si.sent.packets == 4 && si.dropped == 3,
	      "held-off one: 4 sent, 3 dropped (got %" PRIu64 ", %" PRIu64 ")", si.sent.packets,
	      si.dropped);
	CHECK_EQ(gi.received.packets * 2, gi.sent.packets + si.dropped + gi.skipped,
		 "sent + dropped + skipped = packets x subscribers");
	CHECK_EQ(held0 + 3, drops("held_off"), "three held_off drops in all");
}

/* One entry per receiver, whatever its groups: it goes with the last. */
static void test_health_entries(void)
{
	struct replicast_endpoint g1, g2, d;
	struct rc_sub_health h;

	replicast_endpoint_parse("10.9.0.8:5008", &g1);
	replicast_endpoint_parse("10.9.0.7:5007", &g2);
	replicast_endpoint_parse("127.0.0.1:7802", &d);
	CHECK_EQ(0, add_health_sub("10.9.0.7:5007", "127.0.0.1:7802", 0), "the same receiver in a 2nd group");
	CHECK(!health_entry(AF_INET, "127.0.0.1", 7802, &h) && h.refs == 2 && h.hold_ms == 1000,
	      "one entry, two subscriptions, the hold time kept");
	CHECK(!sub_info("10.9.0.7:5007", 7802).health_s, "... held off only where --health was given");
	CHECK_EQ(0, replicast_sub_del(rc, &g1, &d), "sub del from the first");
	CHECK(!health_entry(AF_INET, "127.0.0.1", 7802, &h) && h.refs == 1, "the entry stays");
	CHECK_EQ(0, replicast_sub_del(rc, &g2, &d), "sub del from the second");
	CHECK(health_entry(AF_INET, "127.0.0.1", 7802, &h) && errno == ENOENT, "the entry is gone");
	CHECK_EQ(0, replicast_group_del(rc, &g1), "group del");
	CHECK(health_entry(AF_INET, "127.0.0.1", 7801, &h) && errno == ENOENT,
	      "its subscribers' entries went with it");
	CHECK_EQ(-ERANGE, add_health_sub("10.9.0.7:5007", "127.0.0.1:7803", REPLICAST_HEALTH_MAX_S + 1),
		 "--health beyond a day is refused");
}

static void test_health(const char *pin)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/watch_prog", pin);
	watch_fd = bpf_obj_get(path);
	CHECK(watch_fd >= 0, "the watcher is pinned at %s", path);
	snprintf(path, sizeof(path), "%s/sub_health", pin);
	health_fd = bpf_obj_get(path);
	CHECK(health_fd >= 0, "sub_health is pinned at %s", path);
	if (watch_fd < 0 || health_fd < 0)
		return;
	test_unreachable_counted(AF_INET);
	test_unreachable_counted(AF_INET6);
	test_hold_off();
	test_health_entries();
	close(watch_fd);
	close(health_fd);
}

#endif /* REPLICAST_TEST_PROG_HEALTH_H */
