/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* libreplicast: load the replicast kernel replicator, manage its groups and
 * subscribers, read its counters. This header is the whole public contract.
 *
 * Conventions: functions return 0 or a negative errno value, which
 * replicast_strerror() turns into words. The library never prints and never
 * exits; set a log callback to see its warnings. Options structs start with
 * their size (fill it with sizeof), so they can grow without breaking callers.
 *
 * Thread safety: a struct replicast handle may be used by one thread at a
 * time. Several handles, in one process or many, may change the same pinned
 * state at once: writers serialise on a lock on the pin directory. */
#ifndef REPLICAST_H
#define REPLICAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header, the same as the library's release (the
 * Makefile's VERSION; tests/unit/test_abi.sh checks they agree). A program
 * may compare it with what replicast_version() says at run time. */
#define REPLICAST_VERSION_MAJOR 0
#define REPLICAST_VERSION_MINOR 1
#define REPLICAST_VERSION_PATCH 0
#define REPLICAST_VERSION "0.1.0"
/* The release of the library linked in, "MAJOR.MINOR.PATCH": the shared
 * object's may be newer than the header a program was built with. */
const char *replicast_version(void);

#define REPLICAST_DEFAULT_PIN_PATH "/sys/fs/bpf/replicast"
#define REPLICAST_DEFAULT_MAX_GROUPS 1024
#define REPLICAST_DEFAULT_MAX_SUBS 4096
/* The largest sizes a relay is loaded with: bpf_loop walks at most 1 << 23
 * slots, and beyond a million subscribers per group one packet would hold a
 * CPU for too long anyway. replicast_load() refuses more with -E2BIG. */
#define REPLICAST_MAX_GROUPS_LIMIT (1U << 20)
#define REPLICAST_MAX_SUBS_LIMIT (1U << 20)
/* What a relay of given sizes costs in kernel memory. Each group, once
 * added, has max_subs subscriber slots and, per possible CPU, max_subs
 * counters, whether its subscribers are there or not. */
struct replicast_cost {
	size_t sz;			/* sizeof(struct replicast_cost) */
	uint32_t max_groups;		/* the sizes costed, defaults filled in */
	uint32_t max_subs;
	uint32_t nr_cpus;		/* possible CPUs: each has its counters */
	uint64_t counter_bytes;		/* per group: max_subs * nr_cpus * 24 */
	uint64_t slot_bytes;		/* per group: max_subs * 72 */
	uint64_t group_bytes;		/* per group: both */
	uint64_t total_bytes;		/* group_bytes * max_groups: every group added */
};
/* Fills cost for max_groups and max_subs (0: the defaults) on this machine.
 * -E2BIG: a size over its limit; -EOVERFLOW: a map size does not fit the
 * kernel's 32 bits (max_subs * nr_cpus counters, max_groups * 16 source
 * prefixes). replicast_load() refuses the same sizes the same way. */
int replicast_cost(uint32_t max_groups, uint32_t max_subs, struct replicast_cost *cost);
/* TTL / hop limit of copies of a multicast group, unless set per group. */
#define REPLICAST_DEFAULT_TTL 64
/* Room in the allow lists: this many prefixes per group on average (the
 * lists share one table of max_groups times this). */
#define REPLICAST_SOURCES_PER_GROUP 16
/* The XDP engine: threads per sender, and its ring's size in packets (a
 * power of two between these). */
#define REPLICAST_ENGINE_MAX_THREADS 16
#define REPLICAST_ENGINE_MIN_RING 64
#define REPLICAST_ENGINE_MAX_RING (1U << 18)

struct replicast;

enum replicast_log_level {
	REPLICAST_LOG_WARN,
	REPLICAST_LOG_INFO,
	REPLICAST_LOG_DEBUG,
};

typedef void (*replicast_log_fn)(enum replicast_log_level level, const char *msg, void *ctx);

/* An IPv4 or IPv6 address with a UDP port (host byte order). */
struct replicast_endpoint {
	int family;			/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	uint16_t port;
};

/* "ADDR:PORT" or "[ADDR6]:PORT". Returns 0 or -EINVAL. */
int replicast_endpoint_parse(const char *text, struct replicast_endpoint *ep);
/* Writes the same form into buf; returns buf. REPLICAST_ENDPOINT_STRLEN fits any. */
#define REPLICAST_ENDPOINT_STRLEN 56
const char *replicast_endpoint_format(const struct replicast_endpoint *ep, char *buf, size_t len);
/* Whether the address is a multicast group (224.0.0.0/4, ff00::/8). */
bool replicast_endpoint_is_multicast(const struct replicast_endpoint *ep);
/* Whether a and b are the same family, address and port. */
bool replicast_endpoint_equal(const struct replicast_endpoint *a, const struct replicast_endpoint *b);
/* The endpoint as a socket address for bind(), connect() or sendto(): its
 * length, or 0 (and *ss zeroed) for a family other than AF_INET, AF_INET6. */
socklen_t replicast_endpoint_sockaddr(const struct replicast_endpoint *ep,
				      struct sockaddr_storage *ss);
/* "aa:bb:cc:dd:ee:ff". Returns 0 or -EINVAL. */
int replicast_mac_parse(const char *text, uint8_t mac[6]);

/* Port ranges: a group on every port from FIRST to LAST of one address,
 * with one set of subscribers, counters, caps and allow list. At most
 * REPLICAST_MAX_PORT_RANGE ports, each of which takes one entry of the
 * max_groups the relay was loaded with. */
#define REPLICAST_MAX_PORT_RANGE 1024
/* "ADDR:PORT", "ADDR:FIRST-LAST", "[ADDR6]:PORT" or "[ADDR6]:FIRST-LAST":
 * ep gets FIRST (or PORT), *port_last LAST (PORT for one port). Returns 0,
 * -EINVAL (also for LAST below FIRST), or -E2BIG for more than
 * REPLICAST_MAX_PORT_RANGE ports. */
int replicast_range_parse(const char *text, struct replicast_endpoint *ep, uint16_t *port_last);
/* "ADDR:FIRST-LAST" when port_last > ep->port, else as
 * replicast_endpoint_format(). REPLICAST_RANGE_STRLEN fits any. */
#define REPLICAST_RANGE_STRLEN 64
const char *replicast_range_format(const struct replicast_endpoint *ep, uint16_t port_last,
				   char *buf, size_t len);

struct replicast_opts {
	size_t sz;			/* sizeof(struct replicast_opts) */
	const char *pin_path;		/* NULL: replicast_default_pin_path() */
	uint32_t max_groups;		/* used when loading; 0: default */
	uint32_t max_subs;		/* per group, used when loading; 0: default */
	replicast_log_fn log;		/* NULL: silent */
	void *log_ctx;
	/* Filled by replicast_load() when the kernel rejects the program: the
	 * tail of the verifier log, for the caller to show. */
	char *verifier_log;
	size_t verifier_log_size;
	/* When a replicator is already pinned: load this library's program
	 * anyway, keep the pinned maps (and so every group, subscriber and
	 * counter), and switch every attachment to the new program in one
	 * step each (a tc filter replace). An upgrade path: packets in flight
	 * see the old program or the new one, never neither. */
	bool replace_program;
};

/* The pin path used when opts.pin_path is NULL, for the calling process:
 * REPLICAST_DEFAULT_PIN_PATH in the host's network namespace (PID 1's), and
 * /sys/fs/bpf/replicast-netns/NAME in any other, NAME being its `ip netns`
 * name (else ino-INODE), so relays in two namespaces never share state by
 * accident. When this process's /sys/fs/bpf is no bpffs and its mount
 * namespace is not the one it came from (`ip netns exec` gives each command
 * its own, with a /sys that dies with it), the pins go on that namespace's
 * bpffs, reached as /proc/PID/root/sys/fs/bpf/... (PID 1 when it shares it).
 * Returns 0; -ENOMEDIUM (buf filled all the same) when that namespace has no
 * bpffs at /sys/fs/bpf: load and open then refuse with -ENOMEDIUM too. */
int replicast_default_pin_path(char *buf, size_t len);

/* Loads the replicator and pins its maps and program under pin_path, or, when
 * it is already pinned there, opens what is pinned (max_groups and max_subs
 * are then those of the pinned maps). Mounts bpffs on /sys/fs/bpf if needed
 * (not from a mount namespace of its own: see replicast_default_pin_path()). */
int replicast_load(const struct replicast_opts *opts, struct replicast **out);
/* Opens an existing pinned replicast; -ENOENT if none is loaded there.
 * Both: -ESTALE when the default per-namespace path holds the state of
 * another network namespace that had this one's name (or nsfs inode), gone
 * since; it stays for the caller to remove. */
int replicast_open(const struct replicast_opts *opts, struct replicast **out);
/* Whether the replicator can work on ifname: 0 for an Ethernet device (or
 * loopback); -ENODEV when there is none of that name; -EMEDIUMTYPE when its
 * frames have no Ethernet header (tun, wireguard, ipip, gre...), where the
 * program would pass everything untouched. *type (may be NULL) gets its
 * ARPHRD_* link type. replicast_attach() refuses what this refuses. */
int replicast_dev_check(const char *ifname, unsigned int *type);
/* Attaches the replicator to the clsact ingress of ifname (idempotent). */
int replicast_attach(struct replicast *rc, const char *ifname);
int replicast_detach(struct replicast *rc, const char *ifname);
/* Detaches from every device, deletes the injection pair and removes every
 * pin. The handle stays valid only for replicast_close(). */
int replicast_unload(struct replicast *rc);
void replicast_close(struct replicast *rc);

/* Holds the writers' lock of rc's pin directory until replicast_unlock(), so
 * that a read of the state and the writes that follow from it are one change
 * no other writer comes between (each writing call takes the lock for itself
 * only). Calls made through rc meanwhile take it again without waiting; they
 * nest, and the lock goes with the last replicast_unlock() or with
 * replicast_close(). Another handle, in this process or another, waits for
 * it: do not write through a second handle of the same pin directory while
 * holding it. Returns 0 or -errno. */
int replicast_lock(struct replicast *rc);
void replicast_unlock(struct replicast *rc);

uint32_t replicast_max_groups(const struct replicast *rc);
uint32_t replicast_max_subs(const struct replicast *rc);
const char *replicast_pin_path(const struct replicast *rc);

/* The injection pair, the way in for senders in this host (see the sender
 * API below): a veth pair whose first end, IFNAME, AF_XDP sockets transmit
 * on, and whose peer, IFNAME REPLICAST_INJECT_PEER_SUFFIX, has the replicator
 * on its ingress. AF_XDP copy-mode transmit skips IFNAME's own qdisc and TC
 * egress, and veth delivers every frame to the peer's receive path. */
#define REPLICAST_DEFAULT_INJECT_DEV "rcinj"
#define REPLICAST_INJECT_PEER_SUFFIX "-in"
/* Transmit queues of each end: one per open sender, so at most this many
 * senders share the pair at once. */
#define REPLICAST_INJECT_QUEUES 8

/* Creates the pair (ifname NULL: REPLICAST_DEFAULT_INJECT_DEV), brings both
 * ends up with IPv6 off and no addresses, attaches the replicator to the peer
 * and records the pair beside the pins, so replicast_unload() deletes it.
 * Calling it again with the same name is a no-op. -EEXIST when a device of
 * either name exists but is not the recorded pair; -EBUSY when a pair of
 * another name is recorded; -ENAMETOOLONG when the peer's name would not fit
 * (IFNAMSIZ); -ENODEV when the recorded pair was deleted by hand. */
int replicast_inject_add(struct replicast *rc, const char *ifname);
/* Copies the recorded injection device's name into buf (IF_NAMESIZE bytes
 * fit any); -ENOENT when load made none. */
int replicast_inject_name(struct replicast *rc, char *buf, size_t len);

/* Calls fn for each device the replicator is attached to; stops at fn != 0.
 * An attachment whose device was deleted since (its tcx link severed) is
 * left out with a warning; replicast_attach() of a device of that name, or
 * an upgrade (replace_program), attaches it afresh. */
int replicast_foreach_attachment(struct replicast *rc,
				 int (*fn)(const char *ifname, unsigned int ifindex, void *ctx),
				 void *ctx);

/* A multicast GROUP also makes the host a member of its address on every
 * attached device (and a later replicast_attach() joins every multicast
 * group there is): an IFA_F_MCAUTOJOIN interface address, held by the kernel
 * without a process. A failed join is logged (REPLICAST_LOG_WARN) and does
 * not fail the call. An address joined source-specific (below) gets no
 * autojoin address. */
int replicast_group_add(struct replicast *rc, const struct replicast_endpoint *group);
/* A group on every port from group->port to port_last (0, or group->port:
 * one port, as replicast_group_add()). Every copy keeps the packet's own
 * destination port unless its subscriber names one (a subscriber of port 0,
 * which only a range takes). Each port is a key of the groups map (counted
 * against max_groups: -ENOSPC when the range does not fit whole); the
 * group's keys are added one by one, so a packet to a port whose key is not
 * in yet passes untouched, as before the call. -EEXIST when any port of the
 * range is a group (or in a range) already; -E2BIG beyond
 * REPLICAST_MAX_PORT_RANGE ports; -EINVAL when port_last < group->port.
 * Every other call names a range group by any of its ports. */
int replicast_group_add_range(struct replicast *rc, const struct replicast_endpoint *group,
			      uint16_t port_last);
/* The ports of the group that has group->port: *port_first and *port_last
 * (the same for a group of one port). -ENOENT: no such group. */
int replicast_group_ports(struct replicast *rc, const struct replicast_endpoint *group,
			  uint16_t *port_first, uint16_t *port_last);
/* Removes the group and all its subscribers; the last group on a multicast
 * address leaves it (so do replicast_detach() and replicast_unload()). A
 * range goes whole, whichever port names it: its fan-out stops on every
 * port at once (packets to it are dropped as no_subscribers while its keys
 * go, a few ms), then its keys are deleted. */
int replicast_group_del(struct replicast *rc, const struct replicast_endpoint *group);

/* ---- Source-specific memberships -------------------------------------------
 *
 * A multicast address is joined source-specific when it is in an SSM range
 * (232.0.0.0/8, ff3x::/32) or when the groups on it allow host sources only
 * (/32, /128; a group that allows no source does not count, one that allows
 * a wider prefix makes the address any-source): the host asks for INCLUDE
 * {those sources} (IGMPv3 / MLDv2) on every attached device, so that SSM
 * routers and snooping switches forward those sources' streams and no other.
 * Group add, del, allow and disallow move the address between the two ways;
 * such an address has no autojoin address, since an any-source membership on
 * the device would make the host's report EXCLUDE {} and defeat the filter.
 *
 * The kernel holds a source-specific membership only while the socket that
 * made it is open, so a long-running process holds them: it opens a holder
 * and calls replicast_ssm_sync() periodically (`replicast serve` does, once a
 * second). While no holder runs, the host is a member of no such address
 * (replicast_groups_read() says joined on no device). One holder per relay
 * (pin path) and network namespace; it is used by one thread at a time, with
 * the handle it was opened from, which stays open until replicast_ssm_close().
 * After replicast_unload() and a new load, open a new handle and holder. */
struct replicast_ssm;

/* Opens a holder that holds nothing yet; -EBUSY when another process (or
 * handle) holds this relay's memberships. */
int replicast_ssm_open(struct replicast *rc, struct replicast_ssm **out);
/* Makes this holder's memberships, now, one (source, group) INCLUDE
 * membership for each host source of each source-specific address on each
 * attached device: joins what is missing, leaves what is no longer wanted
 * (a group deleted, a source disallowed, a device detached). Returns 0 when
 * all are held, else the first join's error; each failure is logged once,
 * when it begins, and tried again at the next sync. Takes no lock. */
int replicast_ssm_sync(struct replicast_ssm *ssm);
/* Leaves every membership of the holder (closing its sockets); NULL is fine. */
void replicast_ssm_close(struct replicast_ssm *ssm);
/* 1 when a holder is open for this relay in this network namespace, 0 when
 * none is, or a negative errno. */
int replicast_ssm_holder(struct replicast *rc);

struct replicast_sub_opts {
	size_t sz;			/* sizeof(struct replicast_sub_opts) */
	const char *ifname;		/* egress device; NULL: from the route */
	const uint8_t *mac;		/* next hop's MAC; NULL: kernel neighbour table */
	bool keep_source;		/* copies keep the original source address */
	/* How long to wait for the kernel to resolve the next hop's MAC, so the
	 * subscriber's first packet is not lost. 0: 1000 ms. */
	unsigned int resolve_timeout_ms;
	/* Selection (README "Sampling and source filters"), on every fan-out
	 * path. from: only packets whose source is in one of these nfrom
	 * prefixes (of DEST's family, at most REPLICAST_SUB_MAX_FROM; 0: any
	 * source the group takes). sample: of those, one in this many (0 or
	 * 1: every one): the subscriber's 1st, sample+1th, 2*sample+1th...,
	 * counted from when it was added, or a random one in sample with
	 * sample_random. What it does not take is counted as skipped. */
	uint32_t sample;
	bool sample_random;
	size_t nfrom;
	const struct replicast_prefix *from;
	/* Receiver health (README "Receiver health"): after this many seconds
	 * of nothing but ICMP unreachable errors from DEST, its copies are held
	 * off (counted as held_off drops) but for one probe a second, until two
	 * probes in a row go unanswered. 0: never held off (its errors are still
	 * counted). One value per receiver: DEST in several groups shares it. */
	uint32_t health_s;
};
/* The most --health seconds (the map keeps milliseconds in 32 bits). */
#define REPLICAST_HEALTH_MAX_S 86400
/* --from prefixes a subscriber may have. */
#define REPLICAST_SUB_MAX_FROM 8

/* Both return -ENOENT when GROUP does not exist. sub_add returns -EEXIST for a
 * DEST already subscribed, -ENOSPC when the group is full (or the receivers' health
 * table), -ERANGE for health_s above REPLICAST_HEALTH_MAX_S, -EAFNOSUPPORT when
 * DEST's family is not GROUP's (or a from prefix's), -E2BIG for more than
 * REPLICAST_SUB_MAX_FROM from prefixes, -EINVAL for a prefix with host bits
 * set or too long; sub_del returns -ESRCH when DEST is not a
 * subscriber of GROUP. A DEST of port 0 gets each copy on the packet's own
 * destination port: only in a port range (else -EDESTADDRREQ, also from
 * replicast_group_set_subs()). GROUP may be any port of a range. */
int replicast_sub_add(struct replicast *rc, const struct replicast_endpoint *group,
		      const struct replicast_endpoint *dest, const struct replicast_sub_opts *opts);
int replicast_sub_del(struct replicast *rc, const struct replicast_endpoint *group,
		      const struct replicast_endpoint *dest);

/* A source prefix: ADDR/LEN, or a bare ADDR for one host. */
struct replicast_prefix {
	int family;			/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	uint8_t len;
};

#define REPLICAST_PREFIX_STRLEN 50
/* Returns 0 or -EINVAL (also for host bits set beyond LEN: 10.0.0.1/8). */
int replicast_prefix_parse(const char *text, struct replicast_prefix *prefix);
const char *replicast_prefix_format(const struct replicast_prefix *prefix, char *buf, size_t len);

/* The allow list: packets that arrive from the network for GROUP are fanned
 * out only when their source address is in one of the group's prefixes
 * (none: nothing from the network). Packets from the local senders are
 * always allowed. allow returns -EEXIST for a prefix already listed and
 * -ENOSPC when the list is full; disallow -ESRCH for one not listed; both
 * -EAFNOSUPPORT for a prefix of the other family. */
int replicast_group_allow(struct replicast *rc, const struct replicast_endpoint *group,
			  const struct replicast_prefix *prefix);
int replicast_group_disallow(struct replicast *rc, const struct replicast_endpoint *group,
			     const struct replicast_prefix *prefix);
/* Caps what the group takes for fan-out, in packets and in bits per second
 * (0: no cap). Packets over either are dropped and counted before any copy
 * is made, whatever their source. */
int replicast_group_set_limits(struct replicast *rc, const struct replicast_endpoint *group,
			       uint64_t max_pps, uint64_t max_bps);
/* The TTL / hop limit that copies of a multicast group leave with (1..255;
 * 0: REPLICAST_DEFAULT_TTL). A copy is a new unicast packet from this host, so a
 * source on the relay's link with TTL 1 is served. Groups on unicast
 * addresses keep router semantics (one less per relay, nothing fanned out
 * at 1) and take no TTL: -EINVAL. -ENOENT: no such group. */
int replicast_group_set_ttl(struct replicast *rc, const struct replicast_endpoint *group,
			    uint8_t ttl);
/* Packets from the network must arrive on the device the route back to
 * their allowed prefix leaves by (as replicast_group_allow() found it; a
 * router's strict reverse-path check), or are dropped as reverse_path.
 * loose: any attached device will do. -ENOENT: no such group. */
int replicast_group_set_reverse_path(struct replicast *rc, const struct replicast_endpoint *group,
				     bool loose);

/* What a group does with a packet: a copy to every subscriber (the
 * default), or one copy to one of its ON subscribers of the packet's
 * family, chosen by rendezvous hashing of the source address
 * (REPLICAST_HASH_SOURCE: all of a source's packets go to one subscriber)
 * or of addresses and ports (REPLICAST_HASH_FLOW). Adding, removing or
 * switching off one of N subscribers moves only about 1/N of the sources,
 * and only to or from that one (README "Balancing"). */
enum replicast_group_mode {
	REPLICAST_MODE_REPLICATE = 0,
	REPLICAST_MODE_BALANCE = 1,
};

enum replicast_balance_hash {
	REPLICAST_HASH_SOURCE = 0,
	REPLICAST_HASH_FLOW = 1,
};

/* Sets the group's mode (hash: for REPLICAST_MODE_BALANCE; kept as given
 * otherwise, and shown by replicast_groups_read()). -EINVAL for an unknown
 * mode or hash, -ENOENT: no such group. */
int replicast_group_set_mode(struct replicast *rc, const struct replicast_endpoint *group,
			     enum replicast_group_mode mode, enum replicast_balance_hash hash);

/* One subscriber of a whole set, for replicast_group_set_subs(). */
struct replicast_sub_entry {
	struct replicast_endpoint dest;
	struct replicast_sub_opts opts;	/* opts.sz may be 0: all defaults */
};

/* Makes the group's subscribers exactly `entries`, switching the whole set
 * at once: every packet goes to the old set or the new one, never to a mix.
 * Subscribers in both sets keep their counters. Costs a map creation and an
 * RCU grace period (see README). -EEXIST for a DEST listed twice, -ENOSPC
 * for more than max_subs, and sub_add's errors. */
int replicast_group_set_subs(struct replicast *rc, const struct replicast_endpoint *group,
			     const struct replicast_sub_entry *entries, size_t n);

struct replicast_counters {
	uint64_t packets;
	uint64_t bytes;
};

struct replicast_sub_info {
	struct replicast_endpoint dest;	/* port 0: each copy keeps the packet's port */
	struct replicast_endpoint source;	/* address of copies (port unused) */
	unsigned int ifindex;
	uint8_t mac[6];			/* valid when has_mac */
	bool has_mac;
	bool keep_source;
	bool enabled;			/* false: switched off, slot kept */
	uint32_t slot;
	struct replicast_counters sent;
	uint64_t dropped;
	/* Its selection, as replicast_sub_opts gave it (sample 1: every packet). */
	uint32_t sample;
	bool sample_random;
	size_t nfrom;
	struct replicast_prefix from[REPLICAST_SUB_MAX_FROM];
	/* Copies it did not take (sampled out, source not in from): neither
	 * sent nor dropped, so sent + dropped + skipped counts every packet
	 * the group took while it was subscribed. */
	uint64_t skipped;
	/* Its receiver's health: ICMP/ICMPv6 unreachable errors that quoted a
	 * copy to DEST (from any group: one count per receiver), the hold time
	 * (0: never held off), and whether its copies are held off now, since
	 * when (CLOCK_REALTIME, ms since the epoch; 0 when served), and when the
	 * last error came (likewise; 0: none). */
	uint64_t unreachable;
	uint32_t health_s;
	bool held_off;
	uint64_t held_since_ms;
	uint64_t last_error_ms;
};

struct replicast_group_info {
	struct replicast_endpoint group;
	uint32_t id;
	struct replicast_counters received;	/* packets taken for fan-out */
	struct replicast_counters sent;	/* copies, all subscribers */
	uint64_t source_denied;		/* packets from sources not allowed */
	uint64_t rate_limited;		/* packets over max_pps / max_bps */
	uint64_t max_pps;		/* 0: no limit */
	uint64_t max_bps;
	size_t nsources;
	struct replicast_prefix *sources;	/* the allow list */
	size_t nsubs;
	struct replicast_sub_info *subs;
	/* Multicast groups: the devices where the kernel holds a membership of
	 * the group's address (IGMP/MLD; see README): an autojoin address, or
	 * when source_specific, an INCLUDE membership of every host source of
	 * the address (/proc/net/mcfilter), which only a running holder keeps
	 * (replicast_ssm_open(); none: no device). */
	size_t njoined;
	unsigned int *joined_ifindex;
	bool source_specific;		/* joined source-specific, not any-source */
	bool ssm_holder;		/* source_specific: a holder runs (replicast_ssm_holder()) */
	uint8_t ttl;			/* multicast groups: the copies' TTL; 0: unicast group */
	bool reverse_path_loose;	/* sources may arrive on any attached device */
	/* The group's last port: group.port for one port, more for a port
	 * range (group.port is then its first). In what was padding, so the
	 * struct keeps its size and every other field its offset. */
	uint16_t port_last;
	uint64_t skipped;		/* copies its subscribers' selection skipped */
	enum replicast_group_mode mode;
	enum replicast_balance_hash hash;	/* of a balance group */
};

/* The largest UDP payload that every subscriber of the group can be sent
 * in one datagram: the smallest MTU of their egress devices, less the IP
 * and UDP headers (SIZE_MAX with no subscriber). Copies longer than a
 * device's MTU are dropped as too_big. */
int replicast_group_max_payload(struct replicast *rc, const struct replicast_endpoint *group,
				size_t *out);

/* Which of group->subs gets the packets from `source` (address and port;
 * the port counts with REPLICAST_HASH_FLOW) of a balance group, as the
 * kernel chooses (the same code, bpf/balance.h): *index into group->subs.
 * -EINVAL: not a balance group, or a source of another family; -ENOENT: no
 * subscriber is on. Pure: reads only `group` (replicast_groups_read()). */
int replicast_balance_pick(const struct replicast_group_info *group,
			   const struct replicast_endpoint *source, size_t *index);

/* Reads every group with its subscribers and counters. Free with
 * replicast_groups_free(). */
int replicast_groups_read(struct replicast *rc, struct replicast_group_info **groups, size_t *n);
void replicast_groups_free(struct replicast_group_info *groups, size_t n);

/* Drop reasons, as counted by the kernel program. */
int replicast_drop_reason_count(void);
const char *replicast_drop_reason_name(int reason);
/* Fills counts[0 .. replicast_drop_reason_count()-1], summed over CPUs. */
int replicast_drops_read(struct replicast *rc, uint64_t *counts, size_t n);

const char *replicast_strerror(int err);

/* ---- Sender: batched hand-off through AF_XDP ------------------------------
 *
 * A sender builds each packet's frame (Ethernet, IP, UDP, checksums) straight
 * into memory it shares with the kernel (an AF_XDP UMEM), so the payload is
 * copied once, and hands a whole batch over with as few system calls as the
 * kernel allows: one sendto() moves up to kick_budget frames (see the stats).
 * The frames go out on the injection device (replicast_inject_add()) and
 * reach the replicator on its peer, which fans them out like any packet.
 *
 * Frames carry the group as destination and, as source, opts.source4/6 or
 * else the address this host would send to the group from (the unspecified
 * address when it has no route there); the source port is the group's port
 * unless given. The replicator rewrites the source to each subscriber's own
 * unless the subscriber keeps the source. MACs are the pair's own. TTL and
 * hop limit are 64, IPv4 frames say "don't fragment".
 *
 * Thread safety: a sender is used by one thread at a time; separate senders
 * are independent (each has its own socket, UMEM and queue of the injection
 * device, so up to REPLICAST_INJECT_QUEUES of them at once). The replicast
 * handle it was opened from may be closed while the sender lives. */
struct replicast_sender;

struct replicast_sender_opts {
	size_t sz;			/* sizeof(struct replicast_sender_opts) */
	/* queue() hands the waiting frames to the kernel itself once this
	 * many wait. 0: 256. At most frame_count. */
	uint32_t batch_size;
	/* UMEM frames, also the size of the transmit and completion rings; a
	 * power of two. 0: 4096. */
	uint32_t frame_count;
	/* Bytes per frame: 2048 or 4096. 0: 2048. Payloads are limited by it
	 * and by the device's MTU (replicast_sender_max_payload()). */
	uint32_t frame_size;
	/* Injection device; NULL: the one load made (replicast_inject_add()). */
	const char *ifname;
	/* Source address (and port, 0: the group's) of IPv4 / IPv6 frames;
	 * NULL: see above. */
	const struct replicast_endpoint *source4;
	const struct replicast_endpoint *source6;
	/* Longest a flush waits for the kernel before it gives up with
	 * -ETIMEDOUT. 0: 1000 ms. */
	unsigned int timeout_ms;
	/* Which engine carries the packets (see "Sender engines" below):
	 * REPLICAST_ENGINE_AFXDP (0, the default, everything above) or
	 * REPLICAST_ENGINE_XDP, which uses the fields below and ignores
	 * batch_size, frame_count, frame_size and ifname. */
	int engine;
	uint32_t threads;		/* XDP: engine threads, 1..16; 0: 1 */
	uint32_t ring_slots;		/* XDP: packets the ring holds, a power of two; 0: 4096 */
	/* XDP: an engine thread leaves the kernel after this many ms without
	 * a packet and comes back with the next one (about 20 ms later).
	 * 0: 200; -1: never, the thread spins a core until close. */
	int idle_ms;
	/* XDP: switch GRO on on the peer of every veth copies leave by when
	 * it lacks NAPI, instead of refusing the device (see the README). */
	bool peer_gro;
};

/* Opens a sender on the injection device. -ENOENT when no injection device
 * is recorded and opts names none; -EBUSY when every queue of the device
 * has a sender; -EINVAL for bad sizes. */
int replicast_sender_open(struct replicast *rc, const struct replicast_sender_opts *opts,
			  struct replicast_sender **out);
/* Works out a group's headers now rather than at its first queue(), so the
 * first packet costs no extra system calls (3 or 4 when no source was given:
 * a connected UDP socket asks the kernel for the source address), and reads
 * its fan-out again (a few calls: its subscribers, 256 a call; needs the
 * sender opened with a handle), which sizes the kicks; call it again after
 * the set grew a lot. Optional. */
int replicast_sender_prepare(struct replicast_sender *s, const struct replicast_endpoint *group);
/* Builds one frame carrying payload to group and puts it on the transmit
 * ring. When batch_size frames already wait, hands them over first (as
 * flush() does). Returns 0 when the packet is queued. Otherwise nothing was
 * queued by this call: -ENOBUFS when no frame is free because the kernel has
 * not given enough back yet (counted in ring_full; flush, then try again),
 * -EMSGSIZE when the payload exceeds replicast_sender_max_payload(),
 * -EAFNOSUPPORT for a group neither IPv4 nor IPv6, or an error of the flush. */
int replicast_sender_queue(struct replicast_sender *s, const struct replicast_endpoint *group,
			   const void *payload, size_t len);
/* Hands every queued frame to the kernel, kicking it as often as it needs
 * (sendto(), at most kick_budget frames and, by the groups' fan-outs, 3/4
 * of net.core.netdev_max_backlog in copies each; a kick that filled that waits for its frames back before the
 * next: see the README, "Kicks sized by the fan-out"), then waits until the kernel
 * has given every frame back, so all of them are free again. 0, -ETIMEDOUT
 * after opts.timeout_ms without progress (frames stay queued: flush again),
 * or the kernel's error (-ENETDOWN when the device is down). */
int replicast_sender_flush(struct replicast_sender *s);
/* Largest payload queue() takes for a family (AF_INET or AF_INET6). */
size_t replicast_sender_max_payload(const struct replicast_sender *s, int family);

struct replicast_sender_stats {
	size_t sz;			/* sizeof(struct replicast_sender_stats) */
	uint64_t queued;		/* packets queue() took */
	uint64_t sent;			/* frames the kernel took and transmitted */
	uint64_t completed;		/* frames the kernel gave back */
	uint64_t kicks;			/* sendto() calls, one system call each */
	uint64_t waits;			/* sleeps while the kernel held frames */
	/* Every system call the sender made since open returned: kicks,
	 * waits and group preparation. */
	uint64_t syscalls;
	uint64_t ring_full;		/* queue() calls refused with -ENOBUFS */
	uint64_t errors;		/* frames the device dropped, failed kicks */
	uint32_t kick_budget;		/* frames one kick may move, as set */
	uint32_t max_per_kick;		/* most frames one kick moved */
	uint32_t queue_id;		/* queue of the injection device bound */
	/* REPLICAST_ENGINE_XDP only (0 otherwise). queued, sent (packets sent
	 * to every subscriber), waits, syscalls and ring_full above count for
	 * it too; kicks stay 0. Copy counts are as of the engine's last
	 * report, every few dozen packets; exact once flush() returned. */
	uint64_t copies;		/* frames handed to devices, all subscribers */
	uint64_t copies_dropped;	/* copies not sent (no route, no neighbour, refused) */
	uint64_t idle_runs;		/* program runs that found the ring empty */
	uint64_t engine_calls;		/* BPF_PROG_RUN calls entered, all threads */
	uint64_t engine_parks;		/* times a thread left its call for lack of packets */
	uint32_t engine_threads;
	/* With two threads or more: times the first thread took every copy
	 * on itself while its load allowed, times it shared them again, and
	 * sleeps of the others meanwhile (each up to a millisecond). */
	uint64_t engine_solos;
	uint64_t engine_splits;
	uint64_t engine_naps;
};

/* Fills st up to st->sz bytes. */
int replicast_sender_stats(const struct replicast_sender *s, struct replicast_sender_stats *st);
/* Closes the socket and frees the UMEM. Frames queued but not flushed are
 * not sent (stats show them as queued, not sent). Accepts NULL. */
void replicast_sender_close(struct replicast_sender *s);

/* ---- Sender engines: AF_XDP, or the XDP fan-out engine --------------------
 *
 * With opts.engine = REPLICAST_ENGINE_XDP the same calls drive another
 * engine. queue() copies the payload into a ring in memory the kernel
 * shares (one copy, plus its checksum sum) and returns; engine threads
 * (opts.threads), each inside one long BPF_PROG_RUN, build one frame per
 * (packet, subscriber) straight from the ring and send it to the
 * subscriber's device, without the injection device, the stack or a system
 * call per packet. Subscribers, counters and limits are the replicator's.
 *
 * - queue() never drops: when the ring is full it waits (polling, then
 *   sleeping) for room, and after opts.timeout_ms without progress returns
 *   -ENOBUFS with nothing queued. -EMSGSIZE beyond
 *   replicast_sender_max_payload(), which is set by the smallest MTU of
 *   the devices prepared so far.
 * - flush() waits until every queued packet has gone to every subscriber
 *   (-ETIMEDOUT after opts.timeout_ms without progress). It is not needed
 *   between packets: the engine takes them as they come.
 * - prepare() checks each device the group's copies leave by: a veth whose
 *   peer has no NAPI drops XDP frames silently, so it is refused with
 *   -ENXIO (and a log line naming it) unless opts.peer_gro switches the
 *   peer's GRO on. A device first used later, by a subscriber added during
 *   the stream, gets its copies at once and is checked within 64 packets.
 *   A device that fails a check, goes down or is deleted costs only its
 *   own copies, counted in copies_dropped and by drop reason: queue() and
 *   flush() go on for everything else, the device is checked again every
 *   250 ms while copies go to it (named in the log once per reason), and
 *   its copies flow again once it passes. Frames a device refuses after
 *   the engine sent them move from copies to copies_dropped.
 * - Each engine thread keeps a core busy while packets flow, and until
 *   opts.idle_ms after the last one.
 * - close() first waits for what was queued (as flush() does), then stops
 *   the threads, and returns once every one has ended, however long that
 *   takes (a thread uses the sender's memory until then): past 5 s it says
 *   so in the log and goes on waiting. Call flush() and read the stats
 *   before it to know what was sent.
 * - Threads: the engine threads block every signal except SIGRTMIN + 6,
 *   with which the library ends their calls; it installs a handler that
 *   does nothing for it, and open() fails with -EBUSY when the application
 *   has its own. The one-thread-at-a-time rule above holds unchanged.
 * -ENOENT from prepare() and queue() for a group that does not exist. */
enum replicast_sender_engine {
	REPLICAST_ENGINE_AFXDP = 0,
	REPLICAST_ENGINE_XDP = 1,
};

/* ---- The relay engine: streams from the network at engine speed ----------
 *
 * replicast_relay_start() runs the XDP engine for packets that arrive on
 * the attached devices (what `replicast serve` does): an XDP program on
 * each attached device puts every group packet the replicator would fan
 * out into the engine's ring, and engine threads, each inside one long
 * BPF_PROG_RUN, send its copies, with the replicator's subscribers,
 * allow lists, TTL rule, rate caps and counters. The TC replicator stays
 * attached and is the fallback: packets the XDP program does not take
 * (anything but a well-formed group packet it is sure of, the ring full,
 * the engine asleep) pass to it and are fanned out (or dropped and
 * counted) there as without the engine.
 *
 * - The XDP programs' links belong to the process: when it ends, however
 *   it ends, they go with it and TC relays everything again. What a kill
 *   loses is what was in the ring and not yet sent: at most ring_slots
 *   packets, in practice the last few microseconds' worth.
 * - Cores: each engine thread keeps one busy while packets flow. After
 *   idle_ms with an empty ring they sleep (epoll on a BPF ring buffer,
 *   no CPU); the XDP program then passes packets to TC, which fans them
 *   out at once, and wakes the engine, which takes over once every thread
 *   is back inside its run (TC carries until then, so no packet waits for
 *   a thread on its way back). So sleeping costs no latency, only TC's
 *   CPU for the first packets. replicast_relay_start() returns once the
 *   threads serve (or after a second, TC carrying meanwhile).
 * - Threads block every signal but SIGRTMIN + 6 (see the sender engines).
 * - One relay engine per relay (pin path): a second start returns -EBUSY.
 * - The handle rc must stay open until replicast_relay_stop(). */
struct replicast_relay;

struct replicast_relay_opts {
	size_t sz;			/* sizeof(struct replicast_relay_opts) */
	uint32_t threads;		/* engine threads, 1..16; 0: 1 */
	uint32_t ring_slots;		/* a power of two in REPLICAST_ENGINE_MIN_RING..MAX_RING; 0: 4096 */
	int idle_ms;			/* sleep after this long with nothing to do; 0: 200; < 0: never */
	/* Switch GRO on at the peers of veth egress devices, which XDP frames
	 * need (see prepare() of the sender engines). */
	bool peer_gro;
};

struct replicast_relay_stats {
	size_t sz;			/* sizeof(struct replicast_relay_stats) */
	uint64_t taken;			/* group packets put into the engine's ring */
	/* Group packets left to the TC path: the ring was full; the engine
	 * slept or stopped; a check TC makes and counts (source, reverse
	 * path, TTL, frame for another host); too long for a ring slot. */
	uint64_t passed_ring_full;
	uint64_t passed_asleep;
	uint64_t passed_policy;
	uint64_t passed_unsupported;
	uint64_t sent;			/* packets every thread is done with */
	uint64_t copies;		/* frames handed to devices, all subscribers */
	uint64_t copies_dropped;	/* copies not sent, also counted by drop reason */
	uint64_t engine_calls;		/* BPF_PROG_RUN calls entered, all threads */
	uint64_t engine_parks;		/* times the engine went to sleep */
	uint32_t engine_threads;
	uint32_t devices;		/* devices the XDP program is attached to */
	uint32_t asleep;		/* 1 while the engine sleeps */
	uint64_t engine_solos;		/* as in struct replicast_sender_stats */
	uint64_t engine_splits;
	uint64_t engine_naps;
};

/* Attaches to every device the replicator is attached to. A device it
 * cannot take (another XDP program is there: a second relay engine, say)
 * is named in the log and left to TC; stats' devices says how many it
 * serves. */
int replicast_relay_start(struct replicast *rc, const struct replicast_relay_opts *opts,
			  struct replicast_relay **out);
/* Periodic work, to call about every 100 ms: puts new egress devices in
 * the engine's device map, and once a second follows devices attached or
 * detached since. */
int replicast_relay_poll(struct replicast_relay *r);
/* Fills st up to st->sz bytes. */
int replicast_relay_stats(const struct replicast_relay *r, struct replicast_relay_stats *st);
/* Detaches the XDP programs first (TC takes every packet from then on),
 * sends what the ring holds, stops the threads and frees r. Returns 0, or
 * -ETIMEDOUT when the ring did not drain. Accepts NULL. */
int replicast_relay_stop(struct replicast_relay *r);
/* 1 while a relay engine runs for rc's relay (in this or another process,
 * in this network namespace), 0 when none does: TC then fans out every
 * stream from the network. replicast_relay_start() returns -EBUSY when one
 * already runs. */
int replicast_relay_running(struct replicast *rc);

#ifdef __cplusplus
}
#endif

#endif /* REPLICAST_H */
