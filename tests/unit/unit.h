/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A minimal test harness: each CHECK prints "ok - ..." or "not ok - ...",
 * and unit_summary() prints "N passed, N failed" and gives the exit code. */
#ifndef REPLICAST_UNIT_H
#define REPLICAST_UNIT_H

#include <stdio.h>

static int unit_passed, unit_failed;

#define CHECK(cond, ...)						\
	do {								\
		if (cond) {						\
			unit_passed++;					\
			printf("ok - ");				\
		} else {						\
			unit_failed++;					\
			printf("not ok - %s:%d: ", __FILE__, __LINE__); \
		}							\
		printf(__VA_ARGS__);					\
		putchar('\n');						\
	} while (0)

/* Compares two integers and shows both when they differ. */
#define CHECK_EQ(expected, actual, what)				\
	do {								\
		long long e_ = (long long)(expected), a_ = (long long)(actual); \
		CHECK(e_ == a_, "%s: expected %lld, got %lld", what, e_, a_); \
	} while (0)

static inline int unit_summary(void)
{
	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif /* REPLICAST_UNIT_H */
