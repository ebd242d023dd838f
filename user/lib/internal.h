/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* libreplicast internals shared by the lib*.c files: the handle, logging,
 * map helpers. Not installed; embedders see include/replicast.h only. */
#ifndef REPLICAST_INTERNAL_H
#define REPLICAST_INTERNAL_H

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <time.h>
#include <stddef.h>
#include <sys/types.h>
#include <bpf/libbpf.h>
#include "replicast.h"
#include "replicast_types.h"

/* Names of the pins under the pin directory. */
#define PIN_PROG		"replicate_prog"
#define PIN_LOCAL_PROG		"replicate_local_prog"	/* on the injection device */
#define PIN_WATCH_PROG		"watch_prog"	/* watch_unreachable (health.c) */
#define PIN_WATCH_DIR		"watch"		/* its tcx links, one per egress device */
/* Room in group_sources for each group, on average. */
#define SOURCES_PER_GROUP	REPLICAST_SOURCES_PER_GROUP
#define PIN_SUBS_DIR		"subscribers"	/* one pinned inner map per group */
#define PIN_LINKS_DIR		"links"		/* one pinned tcx link per device */
#define PIN_INJECT		"inject"	/* the injection veth pair, if any */
#define PIN_NEIGH_LINK		"neighbours_link"	/* the neighbour tracker's link */
#define PIN_NETNS		"netns"		/* cookie of the namespace it serves */

/* The calling thread's network namespace cookie (SO_NETNS_COOKIE): unique
 * for the boot, never reused, unlike its name or its nsfs inode. 0 when the
 * kernel has none (before 5.14). */
__u64 rc_netns_cookie(void);

/* tc filter identity: fixed, so a second load replaces rather than stacks. */
#define RC_TC_HANDLE		0x5243		/* "RC" */
#define RC_TC_PRIORITY		0x5243

/* Default pin directories under a bpffs (pinpath.c): the host's network
 * namespace's, and beside it one per other namespace, <bpffs>/replicast-netns/
 * NAME, apart so that the host's unload (which removes its whole tree) and
 * its lock never reach another namespace's relay. */
#define RC_HOST_PIN_DIR		"replicast"
#define RC_NETNS_PIN_DIR	"replicast-netns"

/* The pin path for opts without one, for the calling process, into buf
 * (filled even on error). *per_netns: under RC_NETNS_PIN_DIR. *origin: the
 * process through whose /proc/PID/root the bpffs is reached, 0 when it is our
 * own /sys/fs/bpf. -ENOMEDIUM: this process's mount namespace is its own
 * (ip netns exec), so pins made in it would vanish, and the namespace it came
 * from has no bpffs at /sys/fs/bpf. */
int rc_default_pin_path(char *buf, size_t len, bool *per_netns, pid_t *origin);
/* The nearest ancestor in another mount namespace (PID 1 when it shares
 * that one): where a command run by `ip netns exec` came from. 0 when every
 * ancestor we may look at shares ours, so a mount made here outlives us. */
pid_t rc_origin_pid(void);
/* A relay at a default per-namespace path belongs to the namespace that made
 * it: made_here records this one's cookie (first load); otherwise the record
 * is checked, -ESTALE when another namespace, gone since, had the name (or
 * the inode) first. A no-op for other paths and kernels without cookies. */
struct replicast;
int rc_netns_claim(struct replicast *rc, bool made_here);

struct replicast {
	char pin_path[PATH_MAX];
	bool default_per_netns;		/* the default path, per namespace */
	int lock_fd;			/* flock()ed by writers */
	unsigned int lock_depth;	/* rc_lock()s held through this handle */
	int prog_fd;
	int local_prog_fd;		/* trusts every source: local senders only */
	int group_sources_fd;
	int group_rate_fd;
	int groups_fd;
	int group_addrs_fd;
	int group_subs_fd;
	int sub_stats_fd;
	int group_stats_fd;
	int drop_stats_fd;
	int config_fd;
	int attachments_fd;
	int neighbours_fd;
	int sub_select_fd;		/* per-subscriber selection (struct rc_sub_select) */
	int sub_health_fd;		/* per-receiver health (struct rc_sub_health) */
	int watch_prog_fd;		/* watch_unreachable */
	struct rc_config cfg;
	int ncpus;
	/* BTF of the program, to give inner maps typed keys and values. */
	int btf_fd;
	__u32 btf_u32_id;
	__u32 btf_subscriber_id;
	__u32 btf_sub_counters_id;
	replicast_log_fn log;
	void *log_ctx;
};

/* A BTF blob loaded into the kernel through the low-level call, which,
 * unlike btf__load_into_kernel(), never prints: the library leaves libbpf's
 * process-wide print function to the application. An fd, or -errno. */
struct btf;
int rc_btf_load(const struct btf *btf);

/* Marks (mark.c) that a long-running part of the relay runs: WHAT is "ssm"
 * or "relay". take returns the mark's fd (close it to let go) or -EBUSY
 * when another process holds it; held returns 1 or 0. */
int rc_mark_take(const struct replicast *rc, const char *what);
int rc_mark_held(const struct replicast *rc, const char *what);

/* CLOCK_MONOTONIC in ns: the one clock of the library's deadlines, waits
 * and paces (through the vDSO: no system call). */
static inline __u64 rc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* Options structs start with their size (the libbpf *_opts pattern). A
 * field is there when the caller's struct holds it; a caller built against
 * a newer header may pass a larger struct, whose bytes past the fields this
 * library knows must be zero, or it asked for something this library
 * cannot do: rc_opts_valid() is false then, and the call says -EINVAL. */
#define RC_HAS_OPT(o, field) ((o) && (o)->sz >= offsetof(typeof(*(o)), field) + sizeof((o)->field))
#define RC_OPT(o, field, fallback) (RC_HAS_OPT(o, field) ? (o)->field : (fallback))
#define RC_OPTS_VALID(o) (!(o) || rc_opts_valid((o), (o)->sz, sizeof(*(o))))
bool rc_opts_valid(const void *opts, size_t user_sz, size_t known_sz);

void rc_log(const struct replicast *rc, enum replicast_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* replicast_cost() for nr_cpus CPUs (load.c; apart for the unit test,
 * which asks for more CPUs than this machine has). */
int rc_cost(__u32 max_groups, __u32 max_subs, __u32 nr_cpus, struct replicast_cost *cost);

/* Writers hold the pin-directory lock for the whole change. Re-entrant per
 * handle: a call made while replicast_lock() holds it takes it again at
 * once, and only the outermost rc_unlock() lets it go. */
/* The handle (handle.c). rc_handle_new() makes one from opts (pin path
 * chosen, nothing opened); rc_open_lock() opens the pin directory as the
 * writers' lock, making it when create (made: this call did) and refusing
 * one not root's alone; rc_open_pins() opens every pinned map and program;
 * rc_pin_get() one pin. */
int rc_handle_new(const struct replicast_opts *opts, struct replicast **out);
int rc_open_lock(struct replicast *rc, int create, bool *made);
int rc_open_pins(struct replicast *rc);
int rc_pin_get(const struct replicast *rc, const char *name, int *fd);
/* Closes *fd when open and marks it closed (-1). */
void rc_close_fd(int *fd);
int rc_lock(struct replicast *rc);
void rc_unlock(struct replicast *rc);

/* Sends one rtnetlink request (nlmsg_seq set) from a fresh socket in the
 * calling thread's namespace. want_type 0: the ack decides (0 or -errno);
 * else the first answer of that type is copied to reply. */
struct nlmsghdr;
int rc_nl_request(const struct nlmsghdr *req, int want_type, void *reply, size_t reply_len);
/* Sends a dump request (NLM_F_DUMP set by the caller) and calls fn on each
 * answer until the dump ends or fn returns non-zero, which it returns. */
int rc_nl_dump(const struct nlmsghdr *req, int (*fn)(const struct nlmsghdr *nh, void *ctx),
	       void *ctx);
/* Appends an attribute to the message at nh, whose buffer holds room bytes
 * from nh on; NULL when it does not fit. With data NULL and len 0 it opens
 * a nest, which rc_nl_nest_end() closes once its contents are added. */
struct rtattr;
struct rtattr *rc_nl_attr(struct nlmsghdr *nh, size_t room, unsigned short type, const void *data,
			  size_t len);
void rc_nl_nest_end(struct nlmsghdr *nh, struct rtattr *nest);

/* Multicast memberships (join.c): the relay host joins a multicast group
 * address on every attached device, held by the kernel as an interface
 * address with IFA_F_MCAUTOJOIN. Callers hold the lock. Failures are logged
 * and returned; a failed join never undoes the group. */
/* group's address on every attached device / every multicast address in
 * group_addrs on ifindex (attach); a device being detached leaves them all. */
int rc_join_attached(struct replicast *rc, const struct replicast_endpoint *group);
int rc_leave_attached(struct replicast *rc, const struct replicast_endpoint *group);
int rc_join_groups_on(struct replicast *rc, unsigned int ifindex);
int rc_leave_groups_on(struct replicast *rc, unsigned int ifindex);
/* Fills each multicast group's joined_ifindex list and source_specific flag
 * from what the kernel holds: autojoin addresses, or for source-specific
 * groups the source filters of /proc/net/mcfilter and mcfilter6. */
int rc_read_memberships(struct replicast *rc, struct replicast_group_info *list, size_t n);

/* How the host joins one multicast address, every group on it taken
 * together (join.c): source-specific, for its host sources, when the
 * address is in an SSM range or the groups on it allow host sources only;
 * else any-source, through an autojoin address. */
struct rc_join_plan {
	struct replicast_endpoint addr;		/* port 0 */
	bool source_specific;
	/* Some group on it allows a prefix wider than a host: the kernel holds
	 * an any-source membership. Neither this nor source_specific: nothing
	 * is allowed from anywhere yet (sources are denied by default), so the
	 * host joins nothing, and no join precedes the allow list's first
	 * entry. */
	bool any_source;
	size_t nsources;
	struct replicast_prefix *sources;	/* host sources (/32, /128), each once */
};
/* Every multicast address that groups are on; free with rc_join_plans_free(). */
int rc_join_plans_read(struct replicast *rc, struct rc_join_plan **plans, size_t *n);
void rc_join_plans_free(struct rc_join_plan *plans, size_t n);
/* 232.0.0.0/8 and ff3x::/32 (RFC 4607). */
bool rc_ssm_range(const struct replicast_endpoint *addr);
/* A prefix of a single host: /32, /128. */
bool rc_prefix_is_host(const struct replicast_prefix *p);
/* The attached devices that exist (a deleted one is skipped); free *out. */
int rc_attached_devices(struct replicast *rc, unsigned int **out, size_t *n);

/* Detaches from every recorded device (caller holds the lock). */
int rc_detach_all(struct replicast *rc);
/* Re-attaches every recorded device to rc->prog_fd (caller holds the lock). */
int rc_reattach_all(struct replicast *rc);

/* Value of the pinned `inject` map (made by user space, read by user space
 * only): the veth pair replicast_inject_add() created, for unload to remove. */
struct inject_dev {
	char ifname[16];		/* AF_XDP senders transmit here */
	char peer[16];			/* the replicator listens on its ingress */
	__u32 ifindex;
	__u32 peer_ifindex;
};

/* Attaches to ifindex without a record in `attachments` (caller holds the
 * lock): for the injection pair's peer, which unload deletes whole. */
int rc_attach_unrecorded(struct replicast *rc, unsigned int ifindex);
/* Deletes the recorded injection pair, if any (caller holds the lock). */
int rc_inject_remove(struct replicast *rc);
/* The injection pair's peer, where AF_XDP senders' frames arrive: its
 * ifindex and name, or -ENOENT (no pair) / -ENODEV (deleted by hand). */
int rc_inject_peer(struct replicast *rc, unsigned int *ifindex, char name[16]);
/* The ifindex of a veth's peer (IFLA_LINK); -ENODEV when it has none here. */
int rc_link_peer(unsigned int ifindex, unsigned int *peer);

/* Frames for the AF_XDP sender (frame.c). A template holds one group's
 * Ethernet, IP and UDP headers; a frame is the template, lengths, the payload
 * and both checksums. */
#define RC_FRAME_HDR_V4		(14 + 20 + 8)
#define RC_FRAME_HDR_V6		(14 + 40 + 8)
struct rc_frame_template {
	__u8 hdr[RC_FRAME_HDR_V6];
	__u16 hdr_len;
	int family;
	__u64 pseudo_sum;		/* pseudo-header without its length */
};

void rc_frame_template_init(struct rc_frame_template *t, const __u8 dst_mac[6],
			    const __u8 src_mac[6], const struct replicast_endpoint *src,
			    const struct replicast_endpoint *dst);
/* Writes the frame carrying `payload` into buf; returns its length, or
 * -EMSGSIZE when it would not fit in cap bytes or in one UDP datagram. */
int rc_frame_build(const struct rc_frame_template *t, void *buf, size_t cap, const void *payload,
		   size_t len, __u16 ip_id);
/* One's complement sum of data added to sum, unfolded; rc_csum_fold() folds
 * it and returns the complement, ready to store as is. */
__u64 rc_csum_add(__u64 sum, const void *data, size_t len);
__u16 rc_csum_fold(__u64 sum);

/* Conversions between the public endpoint and the map key layouts. */
void rc_endpoint_to_key(const struct replicast_endpoint *ep, struct rc_group_key *key);
void rc_key_to_endpoint(const struct rc_group_key *key, struct replicast_endpoint *ep);
void rc_addr_to_endpoint(int family, const union rc_addr *addr, __u16 port,
			 struct replicast_endpoint *ep);

/* Group lookup by destination (any port of a range); fills *grp. 0,
 * -ENOENT or -errno. */
int rc_group_find(struct replicast *rc, const struct replicast_endpoint *group, struct rc_group *grp);
/* Port ranges (groups.c): a range is one key per port, all with one value.
 * rc_group_canonical() gives the group of `any` (one of its ports) by its
 * first port, and its last (the port itself for one port); rc_group_write()
 * writes grp to every key of its range; rc_group_key_is_first() says which
 * key of a range stands for it in a walk of the map, so each group is seen
 * once. */
bool rc_group_is_range(const struct rc_group *grp);
void rc_group_canonical(const struct replicast_endpoint *any, const struct rc_group *grp,
			struct replicast_endpoint *out, uint16_t *port_last);
int rc_group_write(struct replicast *rc, const struct rc_group_key *any, const struct rc_group *grp);
bool rc_group_key_is_first(const struct rc_group_key *key, const struct rc_group *grp);
/* fd of the inner map stored at `id` in outer map `outer_fd`; caller closes. */
int rc_inner_map_fd(int outer_fd, __u32 id);
/* Creates a group's subscriber array or counter array, typed with BTF. */
int rc_create_subs_map(struct replicast *rc);
int rc_create_sub_counters_map(struct replicast *rc);
/* A subscriber slot's counters, summed over CPUs; and reset to zero. */
int rc_sub_counters_read(struct replicast *rc, int fd, __u32 slot, struct rc_subscriber_counters *out);
int rc_sub_counters_zero(struct replicast *rc, int fd, __u32 slot);
/* Sums one per-CPU value of `size` bytes made of __u64 fields into out. */
int rc_percpu_sum(struct replicast *rc, int map_fd, __u32 key, __u64 *out, size_t size);
/* Writes zeros on every CPU for `key`. */
int rc_percpu_zero(struct replicast *rc, int map_fd, __u32 key, size_t size);
/* Reads a group's subscriber array into *slots (max_subs entries, free()
 * it); returns how many slots are in use, up to the first EMPTY one. */
int rc_read_slots(struct replicast *rc, int subs_fd, struct rc_subscriber **slots);
/* <pin>/<name>; -ENAMETOOLONG when it does not fit. */
int rc_pin_file(const struct replicast *rc, const char *name, char *buf, size_t len);
/* The allow list: every entry (caller frees *keys), a group id's removal,
 * and the public form of an entry. */
int rc_read_sources(struct replicast *rc, struct rc_source_key **keys, size_t *n);
int rc_purge_sources(struct replicast *rc, __u32 gid);
/* Looks up again the device each allowed prefix's route leaves by (struct
 * source_rule), after a device was attached: it may be a new one. */
void rc_refresh_reverse_paths(struct replicast *rc);
void rc_key_to_prefix(const struct rc_source_key *key, struct replicast_prefix *p);
/* Per-subscriber selection (select.c). rc_select_from_opts() checks and
 * converts opts' --sample and --from: 1 when the subscriber has a rule,
 * 0 when it takes every packet, or a negative errno. rc_select_write()
 * puts slot's rule in place (NULL: removes it); fresh: a new subscriber,
 * whose counts start at zero even when the rule is the old one. */
int rc_select_from_opts(int family, const struct replicast_sub_opts *opts,
			struct rc_sub_select *sel);
int rc_select_write(struct replicast *rc, __u32 gid, __u32 slot, const struct rc_sub_select *sel,
		    bool fresh);
int rc_purge_selects(struct replicast *rc, __u32 gid);
/* Receiver health (health.c). rc_health_from_opts(): opts' --health as ms
 * into *hold_ms; 1 when the subscriber is to be held off, 0 when not, or
 * -ERANGE. rc_health_ref() makes or updates the receiver's entry before its
 * slot goes on (add: one more subscription of it); rc_health_unref() takes
 * one away, the entry with the last. rc_health_watch() puts the watcher on
 * the egress device (a warning in the log when it cannot). */
int rc_health_from_opts(const struct replicast_sub_opts *opts, __u32 *hold_ms);
int rc_health_ref(struct replicast *rc, const struct rc_subscriber *s, __u32 hold_ms, bool add);
void rc_health_unref(struct replicast *rc, const struct rc_subscriber *s);
void rc_health_unref_all(struct replicast *rc, const struct rc_subscriber *slots, int used);
void rc_health_watch(struct replicast *rc, __u32 ifindex);
void rc_health_to_info(struct replicast *rc, const struct rc_subscriber *s,
		       struct replicast_sub_info *info);
/* Points the tcx ingress link pinned at DIR/<ifname> at prog_fd, making and
 * pinning it when there is none (attach.c). */
int rc_tcx_attach_at(struct replicast *rc, const char *dir, unsigned int ifindex,
		     const char *ifname, int prog_fd);
/* Fills info's sample, from and skipped (info->slot set) from the rule. */
void rc_select_to_info(struct replicast *rc, __u32 gid, const struct rc_subscriber *s,
		       struct replicast_sub_info *info);
/* Pin path of a group's subscriber map: <pin>/subscribers/<GROUP>, a range
 * as FIRST-LAST whichever port of it `group` is (grp: its value). */
int rc_subs_pin_path(const struct replicast *rc, const struct replicast_endpoint *group,
		     const struct rc_group *grp, char *buf, size_t len);

/* The XDP fan-out engine (engine.c), behind the sender API when
 * replicast_sender_opts.engine is REPLICAST_ENGINE_XDP. */
struct rc_engine;

struct rc_engine_opts {
	__u32 threads;			/* 0: 1 */
	__u32 ring_slots;		/* 0: 4096 */
	__u32 batch;			/* frames per live-frames batch; 0: 64 */
	int idle_ms;			/* 0: 200; < 0: never leave the call */
	unsigned int timeout_ms;	/* 0: 1000 */
	bool peer_gro;
	bool relay;			/* the ring is fed by relay_ingress (relay.c) */
};

int rc_engine_open(struct replicast *rc, const struct rc_engine_opts *o, struct rc_engine **out);
int rc_engine_prepare(struct rc_engine *e, const struct replicast_endpoint *group, int *dev_err);
/* source: address and port of the packet (port 0: the group's). */
int rc_engine_queue(struct rc_engine *e, const struct replicast_endpoint *group,
		    const struct replicast_endpoint *source, const void *payload, size_t len);
int rc_engine_flush(struct rc_engine *e);
size_t rc_engine_max_payload(const struct rc_engine *e, int family);
/* Fills the engine's part of st (st->sz is the caller's). */
void rc_engine_stats(const struct rc_engine *e, struct replicast_sender_stats *st);
void rc_engine_close(struct rc_engine *e);
/* The relay's hooks into its engine (relay_engine.c, for relay.c): the
 * object (relay_ingress and the relay maps); stop taking packets
 * (relay_ingress passes all to TC, sleeping threads wake to drain);
 * whether the threads sleep; the producers' position; devices to add to
 * the device map, as queue() does for a sender. */
struct bpf_object *rc_engine_object(struct rc_engine *e);
void rc_engine_relay_stop_input(struct rc_engine *e);
bool rc_engine_relay_parked(const struct rc_engine *e);
/* Every engine thread is in its run and relay_ingress fills the ring. */
bool rc_engine_relay_serving(const struct rc_engine *e);
__u64 rc_engine_produced(const struct rc_engine *e);
void rc_engine_poll_devs(struct rc_engine *e);
/* Whether the device can take XDP frames from the engine (engine_dev.c):
 * its MTU, or a negative errno with the reason said to `log` (NULL: quiet).
 * A veth needs NAPI at its peer; enable_gro switches the peer's GRO on. */
int rc_xdp_dev_check(__u32 ifindex, bool enable_gro, replicast_log_fn log, void *log_ctx);
/* Fault injection, for tests only: when mmap is set the engine maps its
 * ring and control lines through it; stop_stall_ms makes every engine
 * thread take that long to stop once told to. */
struct rc_engine_faults {
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd, off_t off);
	unsigned int stop_stall_ms;
};
extern struct rc_engine_faults rc_engine_faults;

#endif /* REPLICAST_INTERNAL_H */
