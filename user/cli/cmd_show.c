// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `replicast list`, as text or JSON, and the group printer that
 * `replicast stats` (cmd_stats.c) shares. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "opt.h"

struct list_args {
	bool json;
};

static const struct opt_def list_opts[] = {
	OPT_FLAG_ROW(struct list_args, "json", 'j', json, "print as JSON"),
	OPT_END,
};

const struct opt_cmd opt_cmd_list = {
	.name = "list",
	.path = "list",
	.summary = "groups, subscribers and devices",
	.text = "Shows the devices the replicator is attached to, every group and its\n"
		"subscribers with how their copies leave (device, source, next-hop MAC), and\n"
		"for multicast groups the devices this host is a member of the group on.\n",
	.opts = list_opts,
};

static const char *ifname_of(unsigned int ifindex, char *buf)
{
	if (!ifindex || !if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "?");
	return buf;
}

static const char *addr_text(const struct replicast_endpoint *ep, char *buf, size_t len)
{
	if (!inet_ntop(ep->family, &ep->addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

static void mac_text(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

struct attach_print {
	bool json;
	int count;
};

static int print_attachment(const char *ifname, unsigned int ifindex, void *ctx)
{
	struct attach_print *p = ctx;

	if (p->json) {
		printf("%s{\"ifname\":", p->count ? "," : "");
		json_string(stdout, ifname);
		printf(",\"ifindex\":%u}", ifindex);
	} else {
		fputs(p->count ? " " : "", stdout);
		cli_escape_to(stdout, ifname);
	}
	p->count++;
	return 0;
}

/* --sample and --from: "sample":N,"sample_random":B,"from":[PREFIX...] */
static void print_select_json(const struct replicast_sub_info *s)
{
	char p[REPLICAST_PREFIX_STRLEN];
	size_t i;

	printf(",\"sample\":%u,\"sample_random\":%s,\"from\":[", s->sample,
	       s->sample_random ? "true" : "false");
	for (i = 0; i < s->nfrom; i++) {
		if (i)
			putchar(',');
		json_string(stdout, replicast_prefix_format(&s->from[i], p, sizeof(p)));
	}
	putchar(']');
}

static void print_select_text(const struct replicast_sub_info *s)
{
	char p[REPLICAST_PREFIX_STRLEN];
	size_t i;

	if (s->sample > 1)
		printf(" sample 1 in %u%s", s->sample, s->sample_random ? " (random)" : "");
	for (i = 0; i < s->nfrom; i++)
		printf("%s%s", i ? "," : " from ", replicast_prefix_format(&s->from[i], p, sizeof(p)));
}

static void print_sub_json(const struct replicast_sub_info *s, bool with_counters)
{
	char buf[REPLICAST_ENDPOINT_STRLEN], dev[IF_NAMESIZE], mac[18];

	printf("{\"dest\":");
	json_string(stdout, opt_dest_format(&s->dest, buf, sizeof(buf)));
	if (with_counters) {
		printf(",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"dropped\":%" PRIu64
		       ",\"skipped\":%" PRIu64, s->sent.packets, s->sent.bytes, s->dropped,
		       s->skipped);
		cli_health_json(s, true);
		putchar('}');
		return;
	}
	printf(",\"dev\":");
	json_string(stdout, ifname_of(s->ifindex, dev));
	printf(",\"ifindex\":%u,\"source\":", s->ifindex);
	if (s->keep_source)
		printf("null");
	else
		json_string(stdout, addr_text(&s->source, buf, sizeof(buf)));
	printf(",\"keep_source\":%s,\"mac\":", s->keep_source ? "true" : "false");
	if (s->has_mac) {
		mac_text(s->mac, mac, sizeof(mac));
		json_string(stdout, mac);
	} else {
		printf("null");
	}
	print_select_json(s);
	cli_health_json(s, false);
	printf(",\"slot\":%u}", s->slot);
}

static void print_sub_text(const struct replicast_sub_info *s, bool with_counters)
{
	char buf[REPLICAST_ENDPOINT_STRLEN], src[INET6_ADDRSTRLEN], dev[IF_NAMESIZE], mac[18];
	char edev[CLI_NAME_ESCAPED];

	opt_dest_format(&s->dest, buf, sizeof(buf));
	if (with_counters) {
		printf("  %-28s sent %" PRIu64 " pkts %" PRIu64 " bytes, dropped %" PRIu64, buf,
		       s->sent.packets, s->sent.bytes, s->dropped);
		if (s->skipped)
			printf(", skipped %" PRIu64, s->skipped);
		cli_health_text(s, true);
		putchar('\n');
		return;
	}
	if (s->has_mac)
		mac_text(s->mac, mac, sizeof(mac));
	printf("  %-28s dev %s source %s next hop %s", buf,
	       cli_escape(ifname_of(s->ifindex, dev), edev, sizeof(edev)),
	       s->keep_source ? "(original)" : addr_text(&s->source, src, sizeof(src)),
	       s->has_mac ? mac : "(neighbour table)");
	print_select_text(s);
	cli_health_text(s, false);
	putchar('\n');
}

static void print_policy_json(const struct replicast_group_info *g)
{
	char p[REPLICAST_PREFIX_STRLEN];
	size_t i;

	printf(",\"allowed_sources\":[");
	for (i = 0; i < g->nsources; i++) {
		if (i)
			putchar(',');
		json_string(stdout, replicast_prefix_format(&g->sources[i], p, sizeof(p)));
	}
	printf("],\"max_pps\":%" PRIu64 ",\"max_bps\":%" PRIu64, g->max_pps, g->max_bps);
	/* null: a unicast group's copies take one off the TTL they came with */
	if (g->ttl)
		printf(",\"ttl\":%u", g->ttl);
	else
		printf(",\"ttl\":null");
	printf(",\"reverse_path\":\"%s\"", g->reverse_path_loose ? "loose" : "strict");
	printf(",\"mode\":\"%s\",\"hash\":\"%s\"",
	       g->mode == REPLICAST_MODE_BALANCE ? "balance" : "replicate",
	       g->hash == REPLICAST_HASH_FLOW ? "flow" : "source");
}

/* Where the host is a member of a multicast group (null: not multicast). */
static void print_joined_json(const struct replicast_group_info *g)
{
	char dev[IF_NAMESIZE];
	size_t i;

	printf(",\"joined_on\":");
	if (!replicast_endpoint_is_multicast(&g->group)) {
		printf("null");
		return;
	}
	putchar('[');
	for (i = 0; i < g->njoined; i++) {
		printf("%s{\"ifname\":", i ? "," : "");
		json_string(stdout, ifname_of(g->joined_ifindex[i], dev));
		printf(",\"ifindex\":%u}", g->joined_ifindex[i]);
	}
	putchar(']');
	printf(",\"source_specific\":%s", g->source_specific ? "true" : "false");
	if (g->source_specific)
		printf(",\"ssm_holder\":%s", g->ssm_holder ? "true" : "false");
}

/* Whether the group allows a single host as a source (/32, /128). */
static bool allows_host(const struct replicast_group_info *g)
{
	size_t i;

	for (i = 0; i < g->nsources; i++)
		if (g->sources[i].len == (g->sources[i].family == AF_INET ? 32 : 128))
			return true;
	return false;
}

static void print_joined_text(const struct replicast_group_info *g)
{
	char dev[IF_NAMESIZE];
	size_t i;

	if (!replicast_endpoint_is_multicast(&g->group))
		return;
	printf("  joined on:");
	for (i = 0; i < g->njoined; i++)
		printf(" %s", ifname_of(g->joined_ifindex[i], dev));
	printf("%s", g->njoined ? "" : " no device");
	/* A source-specific membership lasts as long as the process that
	 * holds it (README, "Source-specific memberships"). */
	if (!g->source_specific)
		putchar('\n');
	else if (g->njoined)
		printf(" (source-specific)\n");
	else if (!allows_host(g))
		printf(" (source-specific: no single-host source allowed)\n");
	else if (g->ssm_holder)
		printf(" (source-specific: not held yet by the running holder)\n");
	else
		printf(" (source-specific: not held, run replicast serve)\n");
}

static void print_policy_text(const struct replicast_group_info *g)
{
	char p[REPLICAST_PREFIX_STRLEN];
	size_t i;

	printf("  allowed sources:");
	for (i = 0; i < g->nsources; i++)
		printf(" %s", replicast_prefix_format(&g->sources[i], p, sizeof(p)));
	printf("%s\n", g->nsources ? "" : " none (only local senders)");
	if (g->max_pps || g->max_bps) {
		printf("  limits:");
		if (g->max_pps)
			printf(" %" PRIu64 " packets/s", g->max_pps);
		if (g->max_bps)
			printf(" %" PRIu64 " bits/s", g->max_bps);
		putchar('\n');
	}
	if (g->reverse_path_loose)
		printf("  sources may arrive on any attached device (--reverse-path loose)\n");
	if (g->mode == REPLICAST_MODE_BALANCE)
		printf("  balances: each packet to one subscriber, by its %s (--mode balance)\n",
		       g->hash == REPLICAST_HASH_FLOW ? "flow (addresses and ports)" : "source address");
	if (g->ttl)
		printf("  copies leave with TTL %u (multicast group)\n", g->ttl);
	else
		printf("  copies leave with the TTL they came with, less one (unicast group)\n");
}

void print_groups(const struct replicast_group_info *groups, size_t n, bool json,
		  bool with_counters)
{
	char buf[REPLICAST_RANGE_STRLEN];
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct replicast_group_info *g = &groups[i];

		replicast_range_format(&g->group, g->port_last, buf, sizeof(buf));
		if (json) {
			printf("%s{\"group\":", i ? "," : "");
			json_string(stdout, buf);
			printf(",\"id\":%u", g->id);
			if (with_counters)
				printf(",\"received\":{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 "}"
				       ",\"sent\":{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 "}"
				       ",\"source_denied\":%" PRIu64 ",\"rate_limited\":%" PRIu64
				       ",\"skipped\":%" PRIu64,
				       g->received.packets, g->received.bytes, g->sent.packets,
				       g->sent.bytes, g->source_denied, g->rate_limited, g->skipped);
			else {
				print_policy_json(g);
				print_joined_json(g);
			}
			printf(",\"subscribers\":[");
			for (j = 0; j < g->nsubs; j++) {
				if (j)
					putchar(',');
				print_sub_json(&g->subs[j], with_counters);
			}
			printf("]}");
			continue;
		}
		if (with_counters) {
			printf("group %s: received %" PRIu64 " pkts %" PRIu64 " bytes, sent %" PRIu64
			       " pkts %" PRIu64 " bytes\n", buf, g->received.packets,
			       g->received.bytes, g->sent.packets, g->sent.bytes);
			if (g->source_denied || g->rate_limited)
				printf("  refused: %" PRIu64 " from sources not allowed, %" PRIu64
				       " over the rate limit\n", g->source_denied, g->rate_limited);
			if (g->skipped)
				printf("  skipped: %" PRIu64 " copies its subscribers' --sample or "
				       "--from did not take\n", g->skipped);
		} else {
			printf("group %s (%zu subscriber%s)\n", buf, g->nsubs,
			       g->nsubs == 1 ? "" : "s");
			print_policy_text(g);
			print_joined_text(g);
		}
		for (j = 0; j < g->nsubs; j++)
			print_sub_text(&g->subs[j], with_counters);
	}
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	char inject[IF_NAMESIZE] = "";
	bool has_inject;
	struct replicast_group_info *groups;
	struct attach_print ap = { .json = false };
	struct list_args args = {};
	struct opt_parsed p;
	struct replicast *rc;
	size_t n;
	int ret, err;

	ret = opt_parse(&opt_cmd_list, OPT_ARGV, argc, argv, cli, &args, &p);
	if (ret || p.help)
		return ret;
	cli->json = args.json;
	ret = cli_open(cli, &rc);
	if (ret)
		return ret;
	err = replicast_groups_read(rc, &groups, &n);
	if (err) {
		replicast_close(rc);
		return cli_lib_error(err, "list");
	}
	ap.json = cli->json;
	has_inject = !replicast_inject_name(rc, inject, sizeof(inject));
	if (cli->json) {
		printf("{\"pin_path\":");
		json_string(stdout, replicast_pin_path(rc));
		printf(",\"max_groups\":%u,\"max_subs\":%u,\"attached\":[",
		       replicast_max_groups(rc), replicast_max_subs(rc));
		replicast_foreach_attachment(rc, print_attachment, &ap);
		printf("],\"relay_engine\":%s,\"inject_dev\":",
		       replicast_relay_running(rc) == 1 ? "true" : "false");
		if (has_inject)
			json_string(stdout, inject);
		else
			printf("null");
		printf(",\"groups\":[");
		print_groups(groups, n, true, false);
		printf("]}\n");
	} else {
		printf("pinned under: %s\n", replicast_pin_path(rc));
		printf("attached to: ");
		replicast_foreach_attachment(rc, print_attachment, &ap);
		printf("%s\n", ap.count ? "" : "(no device)");
		if (ap.count)
			printf("relay engine: %s\n", replicast_relay_running(rc) == 1 ?
			       "running (replicast serve): streams from the network are fanned out by it" :
			       "not running: the TC replicator fans out streams from the network");
		if (has_inject) {
			fputs("local senders inject on: ", stdout);
			cli_escape_to(stdout, inject);
			putchar('\n');
		}
		print_groups(groups, n, false, false);
	}
	replicast_groups_free(groups, n);
	replicast_close(rc);
	return EXIT_OK;
}
