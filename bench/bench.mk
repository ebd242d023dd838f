# Benchmark build and run rules, part of the top Makefile's one build: the
# same compiler, flags (SAN=1 included), quiet lines (V=1) and $(BUILD) as
# everything else, the bench's objects in $(BUILD)/bench.
#
#   make bench            full run (C = 1 8 64 256 1024 4096, 3 runs, 1200 and 64 bytes,
#                         many-groups and latency cells)
#   make bench QUICK=1    quick run (C = 1 64 and a smoke version of every other cell),
#                         used by `make test`
#   make bench-build      only build $(BUILD)/bench/rcbench (and rcb_ring)
#   make bench-ring       the XDP engine's two candidate rings side by side (rcb_ring)
#   make bench-deps       apt-get install what bench/deps.txt lists, if missing
#   BENCH_ARGS="..."      extra scripts/bench.sh options (see scripts/bench.sh --help)
#
# `make -f bench/bench.mk TARGET` still works: it reads the top Makefile
# (which includes this file again), so there is no second set of flags.
# Needs root to run (network namespaces, XDP, BPF).

ifeq ($(filter Makefile,$(MAKEFILE_LIST)),)
include Makefile
else

BENCH_OUT    := $(BUILD)/bench
BENCH_CPPFLAGS := -I$(BENCH_OUT) -Ibench -Iinclude
BENCH_LIBS   := -lm -lpthread
# io_uring is optional at build time: without liburing the io_uring row says "not built".
BENCH_HAVE_URING := $(shell test -f /usr/include/liburing.h && echo 1)
ifeq ($(BENCH_HAVE_URING),1)
BENCH_CPPFLAGS += -DRCB_HAVE_URING
BENCH_LIBS   += -luring
endif

BENCH_BPF_OBJS := $(BENCH_OUT)/rcb_count.bpf.o $(BENCH_OUT)/rcb_syscalls.bpf.o \
                  $(BENCH_OUT)/rcb_ring.bpf.o
BENCH_SKELS  := $(BENCH_BPF_OBJS:.bpf.o=.skel.h)
# Every bench/*.c but the ring experiment, which is a program of its own.
BENCH_C_SRCS := $(filter-out bench/rcb_ring.c %.bpf.c,$(wildcard bench/*.c))
BENCH_OBJS   := $(patsubst bench/%.c,$(BENCH_OUT)/obj/%.o,$(BENCH_C_SRCS))
BENCH_HDRS   := $(wildcard bench/*.h)

.PHONY: bench bench-build bench-quick bench-deps bench-clean bench-ring

$(BENCH_OUT) $(BENCH_OUT)/obj:
	$(Q)mkdir -p $@

# Static pattern rules: they win over the top Makefile's $(BUILD)/%.bpf.o
# pattern (whose sources are in bpf/). The flags are the project's own
# (target, CPU version, multiarch include folder, -Werror).
$(BENCH_BPF_OBJS): $(BENCH_OUT)/%.bpf.o: bench/%.bpf.c bench/rcb_common.h $(BPF_HDRS) | $(BENCH_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ibench -c $< -o $@

$(BENCH_OUT)/rcb_ring.bpf.o: bench/rcb_ring.h

$(BENCH_SKELS): $(BENCH_OUT)/%.skel.h: $(BENCH_OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(notdir $(basename $(basename $<))) > $@.tmp && mv $@.tmp $@

$(BENCH_OBJS): $(BENCH_OUT)/obj/%.o: bench/%.c $(BENCH_HDRS) $(BENCH_SKELS) include/replicast.h \
	       | $(BENCH_OUT)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(BENCH_CPPFLAGS) -c $< -o $@

# rcbench links the library for its in-process replicast senders
# (rcb_lib_send.c), which use only include/replicast.h.
$(BENCH_OUT)/rcbench: $(BENCH_OBJS) $(LIBA)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $(BENCH_OBJS) -o $@ $(LIBA) $(LDLIBS) $(BENCH_LIBS)

# The ring experiment behind the XDP engine's choice (README: Zero-syscall XDP engine).
$(BENCH_OUT)/rcb_ring: bench/rcb_ring.c bench/rcb_ring.h $(BENCH_OUT)/rcb_ring.skel.h \
		       bpf/replicast_types.h | $(BENCH_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(BENCH_CPPFLAGS) -Ibpf -o $@ $< $(LDFLAGS) $(LDLIBS) -lpthread

bench-build: $(BENCH_OUT)/rcbench $(BENCH_OUT)/rcb_ring

bench-ring: $(BENCH_OUT)/rcb_ring
	$(BENCH_OUT)/rcb_ring $(BENCH_ARGS)

# The replicast rows need $(BUILD)/replicast: `all` builds it (one make, one
# set of flags); BENCH_NO_BUILD=1 leaves the tree as it is.
bench: bench-build $(if $(BENCH_NO_BUILD),,all)
	$(Q)BUILD=$(BUILD) scripts/bench.sh $(if $(QUICK),--quick) $(BENCH_ARGS)

bench-quick:
	$(Q)$(MAKE) --no-print-directory bench QUICK=1

bench-deps:
	@missing=""; for p in $$(grep -v '^#' bench/deps.txt); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update && apt-get install -y $$missing; \
	else echo "bench: dependencies present"; fi

bench-clean:
	$(Q)rm -rf $(BENCH_OUT)

endif
