// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Embedding libreplicast's sender: hand COUNT numbered packets to GROUP in
 * batches through AF_XDP, then print what that cost in system calls.
 *   sender [--pin-path DIR] GROUP COUNT [SIZE]
 * Payloads are rc_blast's (tests/tools/rc_blast.c, seed 0), so rc_sink can
 * check every byte at the receivers. Needs `replicast load` first. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <replicast.h>

/* Sequence number big-endian in bytes 0..7, then a hash of (seq, i). */
static void fill_payload(uint8_t *p, size_t size, uint64_t seq)
{
	for (size_t i = 0; i < size; i++) {
		uint32_t v = (uint32_t)seq * 0x9E3779B1u + (uint32_t)i * 0xC2B2AE3Du;

		p[i] = i < 8 ? (uint8_t)(seq >> (56 - 8 * i)) : (uint8_t)(v ^ (v >> 15) ^ (v >> 24));
	}
}

int main(int argc, char **argv)
{
	struct replicast_opts opts = { .sz = sizeof(opts) };
	struct replicast_sender_opts sopts = { .sz = sizeof(sopts), .batch_size = 64 };
	struct replicast_sender_stats st = { .sz = sizeof(st) };
	struct replicast_sender *s = NULL;
	struct replicast *rc = NULL;
	struct replicast_endpoint group;
	uint8_t payload[1472];
	unsigned long long count, seq;
	size_t size = 64;
	int err;

	if (argc > 2 && !strcmp(argv[1], "--pin-path")) {
		opts.pin_path = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 3 || replicast_endpoint_parse(argv[1], &group)) {
		fprintf(stderr, "usage: sender [--pin-path DIR] GROUP COUNT [SIZE]\n");
		return 2;
	}
	count = strtoull(argv[2], NULL, 10);
	if (argc > 3)
		size = strtoul(argv[3], NULL, 10);
	if (size < 8 || size > sizeof(payload)) {
		fprintf(stderr, "sender: SIZE must be 8..%zu\n", sizeof(payload));
		return 2;
	}

	err = replicast_open(&opts, &rc);
	if (!err)
		err = replicast_sender_open(rc, &sopts, &s);
	/* The sender needs nothing more from the handle. */
	replicast_close(rc);
	if (err) {
		fprintf(stderr, "sender: %s\n", replicast_strerror(err));
		return 1;
	}
	for (seq = 0; seq < count && !err; seq++) {
		fill_payload(payload, size, seq);
		err = replicast_sender_queue(s, &group, payload, size);
		if (err == -ENOBUFS) {
			/* Every frame is still with the kernel: hand over, retry. */
			err = replicast_sender_flush(s);
			if (!err)
				err = replicast_sender_queue(s, &group, payload, size);
		}
	}
	if (!err)
		err = replicast_sender_flush(s);
	replicast_sender_stats(s, &st);
	replicast_sender_close(s);
	printf("queued=%llu sent=%llu completed=%llu kicks=%llu syscalls=%llu errors=%llu\n",
	       (unsigned long long)st.queued, (unsigned long long)st.sent,
	       (unsigned long long)st.completed, (unsigned long long)st.kicks,
	       (unsigned long long)st.syscalls, (unsigned long long)st.errors);
	if (err) {
		fprintf(stderr, "sender: %s\n", replicast_strerror(err));
		return 1;
	}
	return st.sent == count ? 0 : 1;
}
