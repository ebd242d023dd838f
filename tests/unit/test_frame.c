// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Frames the AF_XDP sender builds: every header byte and both checksums,
 * checked against the independent builder in packet.h, for IPv4 and IPv6,
 * odd and even payload lengths, empty and MTU-sized payloads, and the
 * refusal of frames that do not fit. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "packet.h"
#include "unit.h"

static const uint8_t dst_mac[6] = { 0 };	/* packet.h's: loopback's */
static const uint8_t src_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

static void endpoint(struct replicast_endpoint *ep, const char *text)
{
	if (replicast_endpoint_parse(text, ep)) {
		fprintf(stderr, "bad endpoint %s\n", text);
		exit(2);
	}
}

/* One frame of len payload bytes against packet.h's: identical but for the
 * IPv4 ID and DF bit, which packet.h leaves zero. */
static void check_frame(int family, size_t len)
{
	const char *src = family == AF_INET ? "10.1.0.1" : "fd01::1";
	const char *dst = family == AF_INET ? "10.1.100.7" : "fd01:100::7";
	struct replicast_endpoint s, d;
	struct rc_frame_template t;
	uint8_t payload[2048];
	FRAME(want, 2048 + 64);
	FRAME(got, 2048 + 64);
	size_t want_len, i;
	int got_len;
	char text[64];

	snprintf(text, sizeof(text), family == AF_INET ? "%s:4000" : "[%s]:4000", src);
	endpoint(&s, text);
	snprintf(text, sizeof(text), family == AF_INET ? "%s:5000" : "[%s]:5000", dst);
	endpoint(&d, text);
	for (i = 0; i < len; i++)
		payload[i] = (uint8_t)(i * 7 + 3);	/* packet.h's pattern */
	want_len = build_udp_frame(want, family, src, 4000, dst, 5000, len);

	rc_frame_template_init(&t, dst_mac, src_mac, &s, &d);
	memset(got, 0xee, 2048 + 64);
	got_len = rc_frame_build(&t, got, 2048 + 64, payload, len, 0x1234);
	CHECK_EQ(want_len, got_len, "frame length");
	if (got_len < 0)
		return;
	CHECK(frame_checksums_ok(got, (size_t)got_len), "IPv%d, %zu payload bytes: checksums valid",
	      family == AF_INET ? 4 : 6, len);
	if (family == AF_INET) {
		struct iphdr *ip = (struct iphdr *)(got + L3_OFF);

		CHECK_EQ(0x1234, ntohs(ip->id), "IPv4 ID as given");
		CHECK_EQ(0x4000, ntohs(ip->frag_off), "IPv4 DF set, no fragment");
		/* Make it packet.h's header to compare the rest byte by byte. */
		ip->id = 0;
		ip->frag_off = 0;
		ip->check = 0;
		ip->check = htons(csum_fold32(csum_add_bytes(0, ip, sizeof(*ip))));
	}
	CHECK(memcmp(want, got, want_len) == 0, "IPv%d, %zu payload bytes: every byte as expected",
	      family == AF_INET ? 4 : 6, len);
	CHECK(got[got_len] == 0xee, "nothing written past the frame");
}

/* Checksum arithmetic on its own: odd lengths, carries, the 0 -> 0xffff rule. */
static void check_csum(void)
{
	uint8_t ones[4096];
	uint8_t odd[3] = { 0x12, 0x34, 0x56 };
	uint16_t c;

	memset(ones, 0xff, sizeof(ones));
	c = rc_csum_fold(rc_csum_add(0, ones, sizeof(ones)));
	CHECK_EQ(0, c, "all-ones data sums to 0xffff: its complement is 0");
	c = rc_csum_fold(rc_csum_add(0, odd, sizeof(odd)));
	CHECK_EQ(csum_fold32(csum_add_bytes(0, odd, sizeof(odd))), ntohs(c),
		 "odd length: last byte is the high half of a padded word");
}

/* A payload whose UDP sum is 0xffff must go out as checksum 0xffff, not 0. */
static void check_zero_csum(void)
{
	struct replicast_endpoint s, d;
	struct rc_frame_template t;
	FRAME(f, 256);
	uint8_t payload[2];
	uint64_t sum;
	uint16_t fix;
	struct udphdr *uh;

	endpoint(&s, "10.1.0.1:4000");
	endpoint(&d, "10.1.100.7:5000");
	rc_frame_template_init(&t, dst_mac, src_mac, &s, &d);
	/* Choose the two payload bytes so the whole sum folds to 0xffff. */
	memset(payload, 0, sizeof(payload));
	rc_frame_build(&t, f, 256, payload, sizeof(payload), 0);
	uh = (struct udphdr *)(f + L4_OFF_V4);
	uh->check = 0;
	sum = rc_csum_add(t.pseudo_sum + uh->len, uh, sizeof(*uh) + sizeof(payload));
	fix = rc_csum_fold(sum);	/* adding ~sum's complement makes it 0xffff */
	memcpy(payload, &fix, 2);
	rc_frame_build(&t, f, 256, payload, sizeof(payload), 0);
	CHECK_EQ(0xffff, ntohs(uh->check), "a computed 0 is sent as 0xffff");
	CHECK(frame_checksums_ok(f, RC_FRAME_HDR_V4 + sizeof(payload)), "and it verifies");
}

int main(void)
{
	static const size_t lens[] = { 0, 1, 2, 3, 7, 8, 63, 64, 700, 1471, 1472 };
	struct replicast_endpoint s, d;
	struct rc_frame_template t;
	uint8_t buf[128], payload[128] = { 0 };
	size_t i;

	check_csum();
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		check_frame(AF_INET, lens[i]);
		check_frame(AF_INET6, lens[i]);
	}
	check_zero_csum();

	endpoint(&s, "[fd01::1]:4000");
	endpoint(&d, "[fd01::2]:5000");
	rc_frame_template_init(&t, dst_mac, src_mac, &s, &d);
	CHECK_EQ(128, rc_frame_build(&t, buf, sizeof(buf), payload, 128 - RC_FRAME_HDR_V6, 0),
		 "a frame that just fits is built");
	CHECK_EQ(-EMSGSIZE, rc_frame_build(&t, buf, sizeof(buf), payload, 128 - RC_FRAME_HDR_V6 + 1, 0),
		 "one byte more is refused");
	return unit_summary();
}
