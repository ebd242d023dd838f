/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The latency cells' receivers: one UDP socket per receiver namespace, bound
 * to the benchmark's port, reading the datagrams the XDP counter passes on
 * and the kernel's receive timestamp of each (SO_TIMESTAMPNS). A sample is
 * receive time minus the sender's stamp (struct rcb_stamped_hdr). */
#ifndef RCB_LATENCY_H
#define RCB_LATENCY_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

struct rcb_lat;

struct rcb_lat_result {
	uint64_t samples;
	double p50_ns, p99_ns, p999_ns, max_ns;
};

/* Opens a socket in every network namespace listed in netns_file (one path a
 * line). 0, or -errno with a message in err. */
int rcb_lat_open(const char *netns_file, uint16_t port, struct rcb_lat **out, char *err,
		 size_t errlen);
/* Fills p with the sockets (POLLIN), at most max; returns how many. */
int rcb_lat_pollfds(const struct rcb_lat *l, struct pollfd *p, int max);
/* Reads what waits on every socket, without blocking; returns datagrams read. */
uint64_t rcb_lat_drain(struct rcb_lat *l);
void rcb_lat_result(struct rcb_lat *l, struct rcb_lat_result *r);
void rcb_lat_free(struct rcb_lat *l);

#endif /* RCB_LATENCY_H */
