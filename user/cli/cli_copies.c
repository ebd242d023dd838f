// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Did every copy of a send go out? `replicast send` reads the group's and
 * the drop counters before and after its run and compares the copies the
 * replicator made with packets x subscribers (a balance group's: packets),
 * so a send whose copies were lost in the kernel says so instead of
 * reporting success. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"

/* Copies are counted when the replicator runs, on the injection peer's
 * receive path (or in the XDP engine's calls), a little after flush()
 * returned: wait this long (ms) for the counts to settle. */
#define SETTLE_MS		500
#define SETTLE_POLL_MS		5

static int read_group(struct replicast *rc, const struct replicast_endpoint *group,
		      struct cli_copies *c)
{
	struct replicast_group_info *groups;
	uint16_t first, last;
	size_t n, i, j;
	int err;

	/* A port range is one group, listed by its first port: any of its
	 * ports names it. */
	err = replicast_group_ports(rc, group, &first, &last);
	if (err)
		return err;
	err = replicast_groups_read(rc, &groups, &n);
	if (err)
		return err;
	err = -ENOENT;
	for (i = 0; i < n; i++) {
		const struct replicast_group_info *g = &groups[i];

		if (g->group.family != group->family || g->group.port != first ||
		    memcmp(&g->group.addr, &group->addr, group->family == AF_INET ? 4 : 16))
			continue;
		c->received = g->received.packets;
		c->copies = g->sent.packets;
		c->skipped = g->skipped;
		c->dropped = 0;
		c->subs = 0;
		for (j = 0; j < g->nsubs; j++) {
			c->dropped += g->subs[j].dropped;
			c->subs += g->subs[j].enabled;
		}
		c->per_packet = g->mode == REPLICAST_MODE_BALANCE ? c->subs > 0 : c->subs;
		err = 0;
	}
	replicast_groups_free(groups, n);
	if (!err)
		err = replicast_drops_read(rc, c->drops, c->nreasons);
	return err;
}

int cli_copies_read(struct replicast *rc, const struct replicast_endpoint *group,
		    struct cli_copies *c)
{
	int n = replicast_drop_reason_count();

	memset(c, 0, sizeof(*c));
	c->drops = calloc((size_t)n, sizeof(*c->drops));
	if (!c->drops)
		return -ENOMEM;
	c->nreasons = (size_t)n;
	return read_group(rc, group, c);
}

void cli_copies_free(struct cli_copies *c)
{
	free(c->drops);
	c->drops = NULL;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_nsec = (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

int cli_copies_check(struct replicast *rc, const struct replicast_endpoint *group,
		     const struct cli_copies *before, uint64_t packets, uint64_t engine_dropped,
		     uint64_t *lost, uint64_t *expected, char *why, size_t why_len)
{
	struct cli_copies after;
	uint64_t taken, copies, dropped, skipped, want, lacking;
	unsigned int waited = 0;
	size_t r, len = 0;
	int err;

	*lost = 0;
	*expected = packets * before->per_packet;
	why[0] = '\0';
	err = cli_copies_read(rc, group, &after);
	for (;;) {
		if (err)
			goto out;
		taken = after.received - before->received;
		copies = after.copies - before->copies;
		dropped = after.dropped - before->dropped;
		skipped = after.skipped - before->skipped;
		/* Settled: every packet taken, every copy sent, counted as
		 * dropped, or skipped by its subscriber's choice (not lost). */
		if ((taken >= packets && copies + dropped + skipped >= *expected) ||
		    waited >= SETTLE_MS)
			break;
		sleep_ms(SETTLE_POLL_MS);
		waited += SETTLE_POLL_MS;
		err = read_group(rc, group, &after);
	}
	/* A subscriber that joined or left during the run makes packets x
	 * subscribers no measure; the copies counted as dropped still are. */
	want = after.subs == before->subs && after.per_packet == before->per_packet ? *expected : 0;
	lacking = want > copies + skipped ? want - copies - skipped : 0;
	*lost = lacking > dropped ? lacking : dropped;
	if (engine_dropped > *lost)
		*lost = engine_dropped;
	if (!*lost)
		goto out;
	for (r = 0; r < after.nreasons && len + 1 < why_len; r++) {
		uint64_t d = after.drops[r] - before->drops[r];
		int n;

		if (!d)
			continue;
		n = snprintf(why + len, why_len - len, "%s%s %" PRIu64, len ? ", " : "",
			     replicast_drop_reason_name((int)r), d);
		if (n > 0)
			len = len + (size_t)n < why_len ? len + (size_t)n : why_len - 1;
	}
	if (taken < packets && len + 1 < why_len)
		snprintf(why + len, why_len - len, "%s%" PRIu64 " packets never reached the "
			 "replicator", len ? ", " : "", packets - taken);
out:
	cli_copies_free(&after);
	return err;
}
