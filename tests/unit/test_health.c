// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The receiver-health arithmetic of bpf/health.h, compiled for user space:
 * when a streak starts and ends, when it holds a subscriber off, when a
 * probe is due and when it is served again. Needs neither root nor BPF. */
#include <stdint.h>
#include <string.h>
#include "health.h"
#include "unit.h"

#define S 1000000000ULL		/* ns in a second */
#define T0 (1000 * S)		/* an arbitrary monotonic time */

static struct rc_sub_health entry(__u32 hold_ms, __u64 first, __u64 last)
{
	struct rc_sub_health h;

	memset(&h, 0, sizeof(h));
	h.hold_ms = hold_ms;
	h.first_error_ns = first;
	h.last_error_ns = last;
	return h;
}

static void test_streaks(void)
{
	struct rc_sub_health h = entry(1000, 0, 0);

	CHECK_EQ(T0, health_streak_start(&h, T0), "the first error starts a streak");
	h = entry(1000, T0, T0 + S);
	CHECK_EQ(T0, health_streak_start(&h, T0 + 2 * S), "an error 1 s after the last continues it");
	CHECK_EQ(T0, health_streak_start(&h, T0 + S + RC_HEALTH_GAP_NS), "... up to the gap");
	CHECK_EQ(T0 + 4 * S, health_streak_start(&h, T0 + 4 * S), "a longer gap starts a new one");
	h.first_error_ns = 0;	/* just served again */
	CHECK_EQ(T0 + 2 * S, health_streak_start(&h, T0 + 2 * S), "after a release: a new one");
}

static void test_verdicts(void)
{
	struct rc_sub_health h = entry(0, T0, T0 + 10 * S);

	CHECK_EQ(HEALTH_SEND, health_verdict(&h, T0 + 10 * S), "no --health: never held off");
	h = entry(2000, T0, T0 + S);
	CHECK_EQ(HEALTH_SEND, health_verdict(&h, T0 + S), "a 1 s streak is short of --health 2");
	h = entry(2000, T0, T0 + 2 * S);
	CHECK_EQ(HEALTH_HOLD_START, health_verdict(&h, T0 + 2 * S), "2 s of errors: held off");
	CHECK_EQ(HEALTH_HOLD_START, health_verdict(&h, T0 + 2 * S + RC_HEALTH_GAP_NS),
		 "... while the last error is within the gap");
	CHECK_EQ(HEALTH_SEND, health_verdict(&h, T0 + 3 * S + RC_HEALTH_GAP_NS),
		 "errors that stopped a gap ago hold nothing off");
	CHECK_EQ(HEALTH_HOLD_START, health_verdict(&h, T0 + S),
		 "a CPU whose now is older than the last error sees no gap");

	h.held_since_ns = h.last_probe_ns = T0 + 2 * S;
	CHECK_EQ(HEALTH_HOLD, health_verdict(&h, T0 + 2 * S + RC_HEALTH_PROBE_NS - 1),
		 "held: no probe within the interval");
	CHECK_EQ(HEALTH_PROBE, health_verdict(&h, T0 + 2 * S + RC_HEALTH_PROBE_NS),
		 "a probe once it passed");
	h.unanswered = RC_HEALTH_PROBES - 1;
	CHECK_EQ(HEALTH_PROBE, health_verdict(&h, T0 + 4 * S), "one unanswered: probe again");
	h.unanswered = RC_HEALTH_PROBES;
	CHECK_EQ(HEALTH_HOLD, health_verdict(&h, T0 + 2 * S + 1), "two unanswered, within the interval: held");
	CHECK_EQ(HEALTH_RELEASE, health_verdict(&h, T0 + 4 * S), "two unanswered: served again");
	h.hold_ms = 0;
	h.unanswered = 0;
	CHECK_EQ(HEALTH_RELEASE, health_verdict(&h, T0 + 2 * S + 1), "--health taken away: served");
}

/* A dead receiver at one copy per 10 ms that answers each: held off after
 * --health, then one probe a second; it comes back, and two probes later
 * it is served. Simulated with the verdicts only, as the kernel moves the
 * entry (bpf/health.h, sub_health_check). */
static void test_timeline(void)
{
	struct rc_sub_health h = entry(1000, 0, 0);
	__u64 t, step = 10000000ULL, back = T0 + 10 * S, held_at = 0, on_again = 0;
	unsigned int probes = 0, sent_dead = 0;

	for (t = T0; t < T0 + 20 * S; t += step) {
		int v = health_verdict(&h, t), sent = 0;

		switch (v) {
		case HEALTH_HOLD_START:
			h.held_since_ns = h.last_probe_ns = t;
			h.unanswered = 0;
			if (!held_at)
				held_at = t;
			break;
		case HEALTH_PROBE:
			h.last_probe_ns = t;
			h.unanswered++;
			probes++;
			sent = 1;
			break;
		case HEALTH_RELEASE:
			h.held_since_ns = 0;
			h.first_error_ns = 0;
			h.unanswered = 0;
			if (!on_again)
				on_again = t;
			sent = 1;
			break;
		case HEALTH_SEND:
			sent = 1;
			break;
		}
		if (sent && t < back) {
			sent_dead++;
			h.first_error_ns = health_streak_start(&h, t);
			h.last_error_ns = t;
			h.unanswered = 0;
		}
	}
	CHECK(held_at >= T0 + S && held_at <= T0 + S + step, "held off 1 s after the first error");
	CHECK(sent_dead <= 101 + 9, "a dead receiver cost 1 s of copies and one probe a second "
	      "(got %u)", sent_dead);
	CHECK(on_again > back && on_again <= back + 3 * S, "served again within 3 s of its return "
	      "(%.2f s)", on_again > back ? (double)(on_again - back) / S : -1.0);
}

int main(void)
{
	test_streaks();
	test_verdicts();
	test_timeline();
	return unit_summary();
}
