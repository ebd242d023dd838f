// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A subscriber's receiver health (--health) as `list` and `stats` print it:
 * its unreachable errors, its hold time, whether it is held off and since
 * when (UTC, ISO 8601 in JSON). */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include "cli.h"

/* ms since the epoch as 2026-12-02T02:51:03.123Z. */
static const char *utc_text(uint64_t ms, char *buf, size_t len)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&secs, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, len, "?");
		return buf;
	}
	snprintf(buf + 19, len > 19 ? len - 19 : 0, ".%03uZ", (unsigned int)(ms % 1000));
	return buf;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void cli_health_json(const struct replicast_sub_info *s, bool with_counters)
{
	char t[40];

	printf(",\"unreachable\":%" PRIu64 ",\"held_off\":%s", s->unreachable,
	       s->held_off ? "true" : "false");
	if (with_counters)
		return;
	if (s->health_s)
		printf(",\"health_s\":%u", s->health_s);
	else
		printf(",\"health_s\":null");
	if (s->held_off)
		printf(",\"held_since\":\"%s\"", utc_text(s->held_since_ms, t, sizeof(t)));
	else
		printf(",\"held_since\":null");
	if (s->last_error_ms)
		printf(",\"last_error\":\"%s\"", utc_text(s->last_error_ms, t, sizeof(t)));
	else
		printf(",\"last_error\":null");
}

void cli_health_text(const struct replicast_sub_info *s, bool with_counters)
{
	uint64_t now = now_ms();
	char t[40];

	if (with_counters) {
		if (s->unreachable)
			printf(", unreachable %" PRIu64, s->unreachable);
		if (s->held_off)
			fputs(" (held off)", stdout);
		return;
	}
	if (s->health_s)
		printf(" health %us", s->health_s);
	if (s->held_off)
		printf(" HELD OFF since %s (%" PRIu64 " s)", utc_text(s->held_since_ms, t, sizeof(t)),
		       now > s->held_since_ms ? (now - s->held_since_ms) / 1000 : 0);
}
