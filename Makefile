# replicast: kernel-side UDP fan-out. One Makefile builds the BPF object, its
# skeleton, the library (static and shared), the CLI, the tests and the demo.
#   make            build everything into build/
#   make SAN=1      the same with AddressSanitizer + UBSan, into build-san/
#   make test       install missing packages, build, run every test (root)
#   make demo       a small fan-out in network namespaces (root)
#   make V=1        show the commands

VERSION      := 0.1.0
SOVERSION    := 1
SAN          ?= 0
V            ?= 0
BUILD        ?= $(if $(filter 1,$(SAN)),build-san,build)

CC           ?= gcc
CLANG        ?= clang
BPFTOOL      ?= bpftool
MULTIARCH    := $(shell $(CC) -print-multiarch 2>/dev/null)
BPF_ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

CFLAGS       ?= -O2 -g
CFLAGS       += -std=gnu11 -Wall -Wextra -Werror -fPIC -Iinclude -Ibpf -Iuser -I$(BUILD)
LDLIBS       := -lbpf -lxdp -lelf -lz -lpcap
ifeq ($(SAN),1)
SANFLAGS     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
CFLAGS       += $(SANFLAGS)
LDFLAGS      += $(SANFLAGS)
endif
BPF_CFLAGS   := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Werror -Ibpf \
                $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))

ifeq ($(V),1)
Q            :=
msg          :=
else
Q            := @
msg          = @printf '  %-7s %s\n' '$(1)' '$(2)';
endif

BPF_SRCS     := $(wildcard bpf/*.bpf.c)
BPF_HDRS     := $(wildcard bpf/*.h)
BPF_OBJS     := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS        := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
LIB_SRCS     := $(wildcard user/lib*.c)
LIB_OBJS     := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
CLI_SRCS     := $(filter-out $(LIB_SRCS),$(wildcard user/*.c))
CLI_OBJS     := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(CLI_SRCS))
UNIT_SRCS    := $(wildcard tests/unit/test_*.c)
UNIT_BINS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TOOL_SRCS    := $(wildcard tests/tools/*.c)
TOOL_BINS    := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TOOL_SRCS))
EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLE_BINS := $(patsubst examples/%.c,$(BUILD)/examples/%,$(EXAMPLE_SRCS))

LIBA         := $(BUILD)/libreplicast.a
LIBSO        := $(BUILD)/libreplicast.so.$(VERSION)
CLI          := $(BUILD)/replicast

.PHONY: all test test-only demo deps clean
.SECONDARY:
all: $(CLI) $(LIBA) $(LIBSO) $(UNIT_BINS) $(TOOL_BINS) $(EXAMPLE_BINS)

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/%.o: user/%.c $(wildcard user/*.h) include/replicast.h bpf/replicast_types.h $(SKELS) | $(BUILD)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIBA): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBSO): $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-soname,libreplicast.so.$(SOVERSION) $^ -o $@ $(LDLIBS)
	$(Q)ln -sf libreplicast.so.$(VERSION) $(BUILD)/libreplicast.so.$(SOVERSION)
	$(Q)ln -sf libreplicast.so.$(SOVERSION) $(BUILD)/libreplicast.so

$(CLI): $(CLI_OBJS) $(LIBA)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIBA) $(wildcard tests/unit/*.h) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $< -o $@ $(LDFLAGS) $(LIBA) $(LDLIBS)

# Test tools may use the library (rc_churn does); the others ignore it.
$(BUILD)/tests/%: tests/tools/%.c $(LIBA) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LDFLAGS) $(LIBA) $(LDLIBS) -lm

$(BUILD)/examples/%: examples/%.c $(LIBA) | $(BUILD)/examples
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LDFLAGS) $(LIBA) $(LDLIBS)

# libFuzzer targets (clang, with ASan and UBSan), built by `make fuzz` and by
# `make test`; each links the library's text parsers directly.
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
FUZZ_CFLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                -Wall -Werror -Iinclude -Ibpf -Iuser $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))
FUZZ_SECONDS ?= 60

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c user/lib_addr.c $(BPF_HDRS) include/replicast.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p build/fuzz
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< user/lib_addr.c -o $@

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	$(Q)scripts/fuzz.sh $(FUZZ_SECONDS)

$(BUILD) $(BUILD)/obj $(BUILD)/tests $(BUILD)/examples:
	$(Q)mkdir -p $@

deps:
	$(Q)scripts/install-deps.sh

# Everything a fresh machine needs: packages, both builds, every test.
test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory SAN=1 all
	$(Q)tests/run.sh

test-only:
	$(Q)tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

clean:
	$(Q)rm -rf build build-san

-include bench/bench.mk
