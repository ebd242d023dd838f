// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target for `send --pcap`'s reading of captured frames: the first
 * byte picks the link type, the rest is the frame. An accepted frame's
 * payload must lie inside it. */
#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_RAW, DLT_IPV4, DLT_IPV6, 0 };
	const uint8_t *payload = NULL;
	uint8_t *frame;
	size_t len = 0;

	if (!size)
		return 0;
	frame = malloc(size - 1 ? size - 1 : 1);	/* exact size: ASan sees overruns */
	if (!frame)
		return 0;
	memcpy(frame, data + 1, size - 1);
	if (!cli_udp_payload(dlts[data[0] % 6], frame, size - 1, &payload, &len) &&
	    (payload < frame || payload + len > frame + size - 1))
		abort();
	free(frame);
	return 0;
}
