// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Syscall counter for the sending process, independent of the sender's own
 * code: a raw tracepoint on sys_enter that counts every syscall entered by
 * any thread of one thread group, only while user space has armed it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "rcb_common.h"

/* Set by rcbench through the skeleton's mmapped .bss. */
volatile __u32 target_tgid;
volatile __u32 armed;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RCB_SYSCALL_NR_MAX + 1);	/* last slot: nr out of range */
	__type(key, __u32);
	__type(value, __u64);
} rcb_sc_by_nr SEC(".maps");

SEC("raw_tracepoint/sys_enter")
int rcb_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 nr;
	__u64 *n;

	if (!armed || (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	/* sys_enter(struct pt_regs *regs, long id) */
	nr = (__u32)ctx->args[1];
	if (nr > RCB_SYSCALL_NR_MAX)
		nr = RCB_SYSCALL_NR_MAX;
	n = bpf_map_lookup_elem(&rcb_sc_by_nr, &nr);
	if (n)
		*n += 1;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
