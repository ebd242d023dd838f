# Benchmark build and run rules. The top Makefile includes this file; it also
# works alone from the repository root:  make -f bench/bench.mk bench [QUICK=1]
#
#   make bench            full run (C = 1 8 64 256 1024, 3 runs, 1200 and 64 bytes)
#   make bench QUICK=1    quick run (C = 1 64, one run each), used by `make test`
#   make bench-build      only build build/bench/rcbench (and rcb_ring)
#   make bench-ring       the XDP engine's two candidate rings side by side (rcb_ring)
#   make bench-deps       apt-get install what bench/deps.txt lists, if missing
#   BENCH_ARGS="..."      extra scripts/bench.sh options (see scripts/bench.sh --help)
#
# Needs root to run (network namespaces, XDP, BPF).

# Keep whatever default goal the including Makefile has.
BENCH_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

BENCH_SRC := bench
BENCH_OUT := build/bench
BENCH_CC ?= gcc
BENCH_CLANG ?= clang
BENCH_BPFTOOL ?= bpftool
BENCH_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -I$(BENCH_OUT) -I$(BENCH_SRC)
# The same target flags as the project's own BPF objects (the top Makefile's
# MULTIARCH and BPF_CPU when it includes this file): <asm/types.h> lives in
# the multiarch include folder, and the CPU version decides which atomics
# the objects may use.
BENCH_MULTIARCH := $(or $(MULTIARCH),$(shell $(BENCH_CC) -print-multiarch 2>/dev/null))
BENCH_BPF_CFLAGS := -g -O2 -target bpf $(if $(BPF_CPU),-mcpu=$(BPF_CPU)) \
                    $(if $(BENCH_MULTIARCH),-I/usr/include/$(BENCH_MULTIARCH)) -I$(BENCH_SRC)
BENCH_LIBS := -lbpf -lelf -lz -lm
# io_uring is optional at build time: without liburing the io_uring row says "not built".
BENCH_HAVE_URING := $(shell test -f /usr/include/liburing.h && echo 1)
ifeq ($(BENCH_HAVE_URING),1)
BENCH_CFLAGS += -DRCB_HAVE_URING
BENCH_LIBS += -luring
endif

BENCH_BPF_OBJS := $(BENCH_OUT)/rcb_count.bpf.o $(BENCH_OUT)/rcb_syscalls.bpf.o \
                  $(BENCH_OUT)/rcb_ring.bpf.o
BENCH_SKELS := $(BENCH_BPF_OBJS:.bpf.o=.skel.h)
BENCH_C_SRCS := $(BENCH_SRC)/rcbench.c $(BENCH_SRC)/rcb_send.c $(BENCH_SRC)/rcb_report.c
BENCH_HDRS := $(BENCH_SRC)/rcb_common.h $(BENCH_SRC)/rcb_send.h $(BENCH_SRC)/rcb_report.h

.PHONY: bench bench-build bench-quick bench-deps bench-clean bench-ring

$(BENCH_OUT):
	mkdir -p $@

# Static pattern rules: they win over the top Makefile's build/%... patterns.
$(BENCH_BPF_OBJS): $(BENCH_OUT)/%.bpf.o: $(BENCH_SRC)/%.bpf.c $(BENCH_SRC)/rcb_common.h | $(BENCH_OUT)
	$(BENCH_CLANG) $(BENCH_BPF_CFLAGS) -c $< -o $@

$(BENCH_OUT)/rcb_ring.bpf.o: bpf/replicast_types.h $(BENCH_SRC)/rcb_ring.h

$(BENCH_SKELS): $(BENCH_OUT)/%.skel.h: $(BENCH_OUT)/%.bpf.o
	$(BENCH_BPFTOOL) gen skeleton $< name $(notdir $(basename $(basename $<))) > $@.tmp
	mv $@.tmp $@

$(BENCH_OUT)/rcbench: $(BENCH_C_SRCS) $(BENCH_HDRS) $(BENCH_SKELS) | $(BENCH_OUT)
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ $(BENCH_C_SRCS) $(BENCH_LIBS)

# The ring experiment behind the XDP engine's choice (README: Zero-syscall XDP engine).
$(BENCH_OUT)/rcb_ring: $(BENCH_SRC)/rcb_ring.c $(BENCH_SRC)/rcb_ring.h $(BENCH_OUT)/rcb_ring.skel.h bpf/replicast_types.h | $(BENCH_OUT)
	$(BENCH_CC) $(BENCH_CFLAGS) -Ibpf -o $@ $< -lbpf -lelf -lz -lpthread

bench-build: $(BENCH_OUT)/rcbench $(BENCH_OUT)/rcb_ring

bench-ring: $(BENCH_OUT)/rcb_ring
	$(BENCH_OUT)/rcb_ring $(BENCH_ARGS)

# The replicast rows need build/replicast. Build it through the top Makefile's
# `all` when there is one (the guard keeps bench working before it exists);
# BENCH_NO_BUILD=1 skips that.
bench: bench-build
	@if [ -z "$(BENCH_NO_BUILD)" ]; then \
		$(MAKE) -q all >/dev/null 2>&1; rc=$$?; \
		if [ $$rc -ne 2 ]; then \
			$(MAKE) --no-print-directory all || \
				echo "bench: 'make all' failed; replicast rows may say 'not built'" >&2; \
		fi; \
	fi
	scripts/bench.sh $(if $(QUICK),--quick) $(BENCH_ARGS)

bench-quick:
	$(MAKE) bench QUICK=1

bench-deps:
	@missing=""; for p in $$(grep -v '^#' $(BENCH_SRC)/deps.txt); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update && apt-get install -y $$missing; \
	else echo "bench: dependencies present"; fi

bench-clean:
	rm -rf $(BENCH_OUT)

.DEFAULT_GOAL := $(BENCH_SAVED_DEFAULT_GOAL)
