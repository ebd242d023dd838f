// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * rc_pcapgen - writes a capture of rc_blast's datagrams, for tests of
 * `replicast send --pcap` that need an exact file (no tcpdump run).
 *
 *   rc_pcapgen --out FILE --count N [--size BYTES] [--cut BYTES]
 *
 * A classic pcap (DLT_EN10MB) of N Ethernet/IPv4/UDP frames whose payloads
 * are rc_blast's with sequence numbers 0..N-1 (seed 0). --cut BYTES writes
 * only the first BYTES of the last record's frame while its record header
 * still claims the whole frame: the file ends inside that record, as a
 * capture does when the disk filled or the writer was killed.
 * Exit: 0 written, 1 I/O error, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COUNT 1000000ULL
#define MAX_SIZE 1472
#define FRAME_HDR (14 + 20 + 8)

/* rc_blast's payload byte (tests/tools/tool_common.h, which brings socket
 * helpers this tool has no use for). */
static uint8_t payload_byte(uint64_t seq, uint32_t seed, uint32_t i)
{
	uint32_t v = (uint32_t)seq * 0x9E3779B1u + seed * 0x85EBCA77u + i * 0xC2B2AE3Du;

	return (uint8_t)(v ^ (v >> 15) ^ (v >> 24));
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "count", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "cut", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	/* The pcap file header, little-endian: magic, 2.4, zone 0, sigfigs 0,
	 * snaplen 65535, DLT_EN10MB. */
	static const uint8_t file_hdr[24] = {
		0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff, 0, 0, 1, 0, 0, 0,
	};
	uint64_t count = 0, size = 64, cut = 0, n;
	const char *out = NULL;
	uint8_t frame[FRAME_HDR + MAX_SIZE], rec[16];
	uint32_t len, i, wrote;
	FILE *f;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'c': if (parse_u64(optarg, MAX_COUNT, &count)) goto usage; break;
		case 's': if (parse_u64(optarg, MAX_SIZE, &size) || size < 8) goto usage; break;
		case 'x': if (parse_u64(optarg, FRAME_HDR + MAX_SIZE, &cut)) goto usage; break;
		default: goto usage;
		}
	}
	if (!out || !count || optind != argc)
		goto usage;
	len = FRAME_HDR + (uint32_t)size;
	if (cut >= len)
		goto usage;
	f = fopen(out, "wb");
	if (!f) {
		perror(out);
		return 1;
	}
	memset(frame, 0, FRAME_HDR);
	memcpy(frame, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
	frame[14] = 0x45;
	put16(frame + 16, 20 + 8 + (unsigned int)size);
	frame[22] = 64;
	frame[23] = 17;				/* UDP */
	memcpy(frame + 26, "\x0a\x4d\x00\x01\x0a\x4d\x64\x01", 8);	/* 10.77.0.1 > 10.77.100.1 */
	put16(frame + 34, 4000);
	put16(frame + 36, 5000);
	put16(frame + 38, 8 + (unsigned int)size);
	fwrite(file_hdr, 1, sizeof(file_hdr), f);
	for (n = 0; n < count; n++) {
		for (i = 0; i < 8; i++)
			frame[FRAME_HDR + i] = (uint8_t)(n >> (56 - 8 * i));
		for (i = 8; i < size; i++)
			frame[FRAME_HDR + i] = payload_byte(n, 0, i);
		memset(rec, 0, sizeof(rec));
		rec[0] = (uint8_t)n;		/* seconds: any increasing value */
		for (i = 0; i < 4; i++)
			rec[8 + i] = rec[12 + i] = (uint8_t)(len >> (8 * i));
		wrote = cut && n == count - 1 ? (uint32_t)cut : len;
		fwrite(rec, 1, sizeof(rec), f);
		fwrite(frame, 1, wrote, f);
	}
	if (fclose(f)) {
		perror(out);
		return 1;
	}
	return 0;
usage:
	fputs("usage: rc_pcapgen --out FILE --count N [--size BYTES] [--cut BYTES]\n", stderr);
	return 2;
}
