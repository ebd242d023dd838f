// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target for the text the CLI and library take from people:
 * endpoints (ADDR:PORT, [ADDR6]:PORT), port ranges (ADDR:FIRST-LAST),
 * prefixes (ADDR/LEN) and MACs. Beyond
 * "no crash": whatever parses must format back to text that parses to the
 * same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "replicast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[256], out[REPLICAST_PREFIX_STRLEN + REPLICAST_RANGE_STRLEN];
	struct replicast_endpoint ep, ep2;
	struct replicast_prefix p, p2;
	uint8_t mac[6];

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (!replicast_endpoint_parse(text, &ep)) {
		replicast_endpoint_format(&ep, out, sizeof(out));
		if (replicast_endpoint_parse(out, &ep2) || ep2.family != ep.family ||
		    ep2.port != ep.port || memcmp(&ep2.addr, &ep.addr, sizeof(ep.addr)))
			abort();
	}
	{
		uint16_t last, last2;

		if (!replicast_range_parse(text, &ep, &last)) {
			if (last < ep.port || last - ep.port >= REPLICAST_MAX_PORT_RANGE)
				abort();
			replicast_range_format(&ep, last, out, sizeof(out));
			if (replicast_range_parse(out, &ep2, &last2) || ep2.family != ep.family ||
			    ep2.port != ep.port || last2 != last ||
			    memcmp(&ep2.addr, &ep.addr, sizeof(ep.addr)))
				abort();
		}
	}
	if (!replicast_prefix_parse(text, &p)) {
		replicast_prefix_format(&p, out, sizeof(out));
		if (replicast_prefix_parse(out, &p2) || p2.family != p.family || p2.len != p.len ||
		    memcmp(&p2.addr, &p.addr, sizeof(p.addr)))
			abort();
	}
	replicast_mac_parse(text, mac);
	return 0;
}
