/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* In-process replicast senders for the benchmark: libreplicast's sender API
 * (include/replicast.h only), AF_XDP or the XDP engine, over a list of
 * groups that packets go to round-robin. `replicast send` takes one group;
 * the many-groups and latency cells need several, pacing and stamps. */
#ifndef RCB_LIB_SEND_H
#define RCB_LIB_SEND_H

#include <stddef.h>
#include <stdint.h>
#include "rcb_send.h"

struct rcb_lib_cfg {
	const char *pin_path;		/* replicast's pins (its load in this netns) */
	int engine;			/* REPLICAST_ENGINE_AFXDP or _XDP */
	unsigned int threads;		/* XDP engine threads */
	const char *const *groups;	/* "ADDR:PORT" each */
	size_t ngroups;
	uint64_t packets;		/* in all; packet seq goes to groups[seq % ngroups] */
	size_t size;
	double rate;			/* packets/s, 0: as fast as it goes */
	int stamp;			/* struct rcb_stamped_hdr in every payload */
};

struct rcb_lib_sender;

/* Opens replicast, the sender and prepares every group (all before "go").
 * 0 or -errno with a message in err. */
int rcb_lib_prepare(const struct rcb_lib_cfg *cfg, struct rcb_lib_sender **out, char *err,
		    size_t errlen);
/* Sends, then flushes: res->handed counts packets (each to one group). */
void rcb_lib_run(struct rcb_lib_sender *s, uint64_t deadline_ns, struct rcb_send_result *res);
void rcb_lib_free(struct rcb_lib_sender *s);

#endif /* RCB_LIB_SEND_H */
