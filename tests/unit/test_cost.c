// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What sizes cost and which are refused (rc_cost(), the count of CPUs given,
 * so machines larger than this one are tried too). No root needed. */
#include <errno.h>
#include <stdint.h>
#include "internal.h"
#include "unit.h"

int main(void)
{
	struct replicast_cost c = { .sz = sizeof(c) };
	int err;

	/* The defaults on 2 CPUs: 4096 x 2 x 24 bytes of counters per group. */
	err = rc_cost(0, 0, 2, &c);
	CHECK_EQ(0, err, "defaults are accepted");
	CHECK_EQ(REPLICAST_DEFAULT_MAX_GROUPS, c.max_groups, "max_groups defaults");
	CHECK_EQ(REPLICAST_DEFAULT_MAX_SUBS, c.max_subs, "max_subs defaults");
	CHECK_EQ(4096ULL * 2 * 24, c.counter_bytes, "counters per group: subs x CPUs x 24");
	CHECK_EQ(4096ULL * 72, c.slot_bytes, "subscriber slots per group: subs x 72");
	CHECK_EQ(c.counter_bytes + c.slot_bytes, c.group_bytes, "a group is both");
	CHECK_EQ(c.group_bytes * 1024, c.total_bytes, "all groups: max_groups of them");

	/* The limits themselves on 4096 CPUs: 2^20 x 2^12 = 2^32 overflows. */
	CHECK_EQ(0, rc_cost(REPLICAST_MAX_GROUPS_LIMIT, REPLICAST_MAX_SUBS_LIMIT, 64, &c),
		 "both limits on 64 CPUs are accepted");
	CHECK_EQ((1ULL << 20) * 64 * 24, c.counter_bytes, "1.5 GiB of counters per group, in 64 bits");
	CHECK_EQ(-EOVERFLOW, rc_cost(0, REPLICAST_MAX_SUBS_LIMIT, 4096, &c),
		 "2^20 subscribers x 4096 CPUs overflows the map's 32-bit size");
	CHECK_EQ(0, rc_cost(0, 0xffffffffU / 4096, 4096, &c), "the largest that fits is accepted");
	CHECK_EQ(-EOVERFLOW, rc_cost(0, 0xffffffffU / 4096 + 1, 4096, &c), "one more is not");
	CHECK_EQ(-E2BIG, rc_cost(0, REPLICAST_MAX_SUBS_LIMIT + 1, 1, &c), "max_subs over its limit");
	CHECK_EQ(-E2BIG, rc_cost(REPLICAST_MAX_GROUPS_LIMIT + 1, 0, 1, &c), "max_groups over its limit");

	/* The public form uses this machine's possible CPUs. */
	c.nr_cpus = 0;
	CHECK_EQ(0, replicast_cost(0, 0, &c), "replicast_cost() with defaults");
	CHECK(c.nr_cpus >= 1, "and counts this machine's CPUs (%u)", c.nr_cpus);
	CHECK_EQ(-E2BIG, replicast_cost(0, 2000000, &c), "replicast_cost() refuses 2000000 subscribers");
	return unit_summary();
}
