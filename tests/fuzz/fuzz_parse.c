// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target for the kernel program's packet parser (bpf/parse.h),
 * compiled as ordinary C: under AddressSanitizer any read past data_end is
 * caught, which is what the verifier also insists on. And the verdict must
 * be consistent: a frame parsed as OK has its UDP header inside the frame
 * and lengths that add up. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct packet pkt;
	uint8_t *buf, *frame;
	int ret;

	/* The frame ends exactly where the heap block does, so ASan flags any
	 * byte read beyond it; it starts 2 bytes in, as drivers place frames
	 * (NET_IP_ALIGN), so the IP header is aligned as in the kernel. */
	buf = malloc(size + 2);
	if (!buf)
		return 0;
	frame = buf + 2;
	memcpy(frame, data, size);
	memset(&pkt, 0, sizeof(pkt));
	ret = parse_packet(frame, frame + size, (__u32)size, &pkt);
	if (ret == PARSE_OK) {
		if (pkt.l4_off + 8 > size || pkt.l4_off + pkt.udp_len != pkt.l3_off + pkt.ip_len ||
		    pkt.l3_off + pkt.ip_len > size || pkt.udp_len < 8 || !pkt.dst_known)
			abort();
	} else if (ret != PARSE_NOT_IP && (ret < 0 || ret >= DROP_REASON_MAX)) {
		abort();
	}
	free(buf);
	return 0;
}
