// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast send`'s summary: packets, system calls per packet and per
 * subscriber, the engine's own counts; text or JSON, in one write(). */
#include <inttypes.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli_send.h"

/* Appends to a fixed buffer: the summary is written with one write(), and
 * nothing in making it may be a system call inside the counted phase
 * (printf() would fstat() stdout on its first use). */
static void __attribute__((format(printf, 3, 4))) append(char *buf, size_t *len, const char *fmt, ...)
{
	size_t size = SUMMARY_LEN;
	va_list ap;
	int n;

	if (*len >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
}

/* The XDP engine's summary: copies instead of kicks, and what its threads
 * did. */
static void print_engine_summary(const struct run *r, const struct replicast_sender_stats *st,
				 uint64_t calls, double per, double per_sub, unsigned int subs,
				 double secs, bool json)
{
	char g[REPLICAST_ENDPOINT_STRLEN], out[SUMMARY_LEN];
	size_t len = 0;

	replicast_endpoint_format(&r->o->group, g, sizeof(g));
	if (json) {
		append(out, &len, "{\"group\":\"%s\",\"engine\":\"xdp\",\"threads\":%u,"
		       "\"subscribers\":%u,\"packets\":%" PRIu64 ",\"sent\":%" PRIu64
		       ",\"skipped\":%" PRIu64 ",\"too_big\":%" PRIu64 ",\"seconds\":%.3f"
		       ",\"copies\":%" PRIu64 ",\"copies_dropped\":%" PRIu64
		       ",\"copies_per_second\":%.0f,\"syscalls\":%" PRIu64 ",\"waits\":%" PRIu64
		       ",\"sleeps\":%" PRIu64 ",\"reads\":%" PRIu64 ",\"writes\":%" PRIu64
		       ",\"syscalls_per_packet\":%.6f,\"syscalls_per_packet_per_subscriber\":%.8f"
		       ",\"ring_full\":%" PRIu64 ",\"idle_runs\":%" PRIu64 ",\"engine_calls\":%" PRIu64
		       ",\"engine_parks\":%" PRIu64 ",\"engine_solos\":%" PRIu64
		       ",\"engine_splits\":%" PRIu64 ",\"engine_naps\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"socket_drops\":%" PRIu64
		       "}\n",
		       g, st->engine_threads, subs, r->packets, st->sent, r->skipped, r->too_big,
		       secs, st->copies, st->copies_dropped,
		       secs > 0 ? (double)st->copies / secs : 0.0, calls, st->waits, r->sleeps,
		       r->reads, r->writes, per, per_sub, st->ring_full, st->idle_runs,
		       st->engine_calls, st->engine_parks, st->engine_solos, st->engine_splits,
		       st->engine_naps, st->errors, r->sock_drops);
	} else {
		append(out, &len, "sent %" PRIu64 " packets to %s (%u subscriber%s) in %.2f s, "
		       "%.0f pps\n", st->sent, g, subs, subs == 1 ? "" : "s", secs,
		       secs > 0 ? (double)st->sent / secs : 0.0);
		append(out, &len, "copies: %" PRIu64 " sent, %.0f per second, %" PRIu64
		       " dropped\n", st->copies, secs > 0 ? (double)st->copies / secs : 0.0,
		       st->copies_dropped);
		append(out, &len, "syscalls made: %" PRIu64 " (%" PRIu64 " waits, %" PRIu64
		       " pacing sleeps, %" PRIu64 " reads, %" PRIu64 " progress writes%s, the rest the "
		       "engine's)\n", calls, st->waits, r->sleeps, r->reads, r->writes,
		       r->queries ? ", 1 drop count query" : "");
		append(out, &len, "syscalls per packet: %.6f\n", per);
		append(out, &len, "syscalls per packet per subscriber: %.8f\n", per_sub);
		append(out, &len, "engine: %u thread%s, %" PRIu64 " calls into the kernel, %" PRIu64
		       " idle parks, %" PRIu64 " idle runs; ring full %" PRIu64 " times\n",
		       st->engine_threads, st->engine_threads == 1 ? "" : "s", st->engine_calls,
		       st->engine_parks, st->idle_runs, st->ring_full);
		if (st->engine_threads > 1)
			append(out, &len, "engine: thread 0 went alone %" PRIu64 " and shared "
			       "again %" PRIu64 " times; the others slept %" PRIu64 " times "
			       "meanwhile\n", st->engine_solos, st->engine_splits, st->engine_naps);
		if (r->skipped)
			append(out, &len, "capture records without a UDP payload, skipped: %" PRIu64
			       "\n", r->skipped);
		if (r->o->kind == SRC_UDP)
			append(out, &len, "datagrams dropped at the socket before they were read: %"
			       PRIu64 "\n", r->sock_drops);
	}
	if (write(STDOUT_FILENO, out, len) < 0) {
		/* stdout gone: the exit status still tells */
	}
}

/* A name as the inside of a JSON string, into buf (the summary is built in
 * one buffer, so json_string(), which writes to a FILE, cannot serve). */
static const char *json_text(const char *in, char *buf, size_t len)
{
	size_t o = 0;

	for (; *in && o + 7 < len; in++) {
		unsigned char c = (unsigned char)*in;

		if (c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\%c", c);
		else if (c < 0x20)
			o += (size_t)snprintf(buf + o, len - o, "\\u%04x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

void send_print_summary(const struct run *r, const struct replicast_sender_stats *st,
			uint64_t lib_syscalls, unsigned int subs, double secs, const char *ifname,
			bool json)
{
	uint64_t calls = lib_syscalls + send_cli_syscalls(r);
	double per = r->packets ? (double)calls / (double)r->packets : 0.0;
	double per_sub = subs ? per / subs : 0.0;
	char g[REPLICAST_ENDPOINT_STRLEN], out[SUMMARY_LEN], jdev[6 * IF_NAMESIZE + 1];
	size_t len = 0;

	replicast_endpoint_format(&r->o->group, g, sizeof(g));
	if (r->o->xdp) {
		print_engine_summary(r, st, calls, per, per_sub, subs, secs, json);
		return;
	}
	if (json) {
		append(out, &len, "{\"group\":\"%s\",\"device\":\"%s\",\"queue\":%u,"
		       "\"subscribers\":%u,\"packets\":%" PRIu64 ",\"sent\":%" PRIu64
		       ",\"completed\":%" PRIu64 ",\"skipped\":%" PRIu64 ",\"too_big\":%" PRIu64
		       ",\"seconds\":%.3f,\"syscalls\":%" PRIu64 ",\"kicks\":%" PRIu64
		       ",\"waits\":%" PRIu64 ",\"sleeps\":%" PRIu64 ",\"reads\":%" PRIu64
		       ",\"writes\":%" PRIu64 ",\"syscalls_per_packet\":%.6f"
		       ",\"syscalls_per_packet_per_subscriber\":%.8f,\"ring_full\":%" PRIu64
		       ",\"errors\":%" PRIu64 ",\"kick_budget\":%u,\"max_per_kick\":%u"
		       ",\"socket_drops\":%" PRIu64 "}\n",
		       g, json_text(ifname, jdev, sizeof(jdev)), st->queue_id, subs, r->packets,
		       st->sent, st->completed,
		       r->skipped, r->too_big, secs, calls, st->kicks, st->waits, r->sleeps,
		       r->reads, r->writes, per, per_sub, st->ring_full, st->errors,
		       st->kick_budget, st->max_per_kick, r->sock_drops);
	} else {
		append(out, &len, "sent %" PRIu64 " packets to %s (%u subscriber%s) in %.2f s, "
		       "%.0f pps\n", st->sent, g, subs, subs == 1 ? "" : "s", secs,
		       secs > 0 ? (double)st->sent / secs : 0.0);
		append(out, &len, "syscalls made: %" PRIu64 " (%" PRIu64 " kicks, %" PRIu64
		       " waits, %" PRIu64 " pacing sleeps, %" PRIu64 " reads, %" PRIu64
		       " progress writes%s)\n", calls, st->kicks, st->waits, r->sleeps, r->reads,
		       r->writes, r->queries ? ", 1 drop count query" : "");
		append(out, &len, "syscalls per packet: %.6f\n", per);
		append(out, &len, "syscalls per packet per subscriber: %.8f\n", per_sub);
		append(out, &len, "one kick moved up to %u frames (budget %u); ring full %" PRIu64
		       " times; %" PRIu64 " errors\n", st->max_per_kick, st->kick_budget,
		       st->ring_full, st->errors);
		if (r->skipped)
			append(out, &len, "capture records without a UDP payload, skipped: %" PRIu64
			       "\n", r->skipped);
		if (r->o->kind == SRC_UDP)
			append(out, &len, "datagrams dropped at the socket before they were read: %"
			       PRIu64 "\n", r->sock_drops);
	}
	if (write(STDOUT_FILENO, out, len) < 0) {
		/* stdout gone: the exit status still tells */
	}
}
