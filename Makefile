# replicast: kernel-side UDP fan-out. One Makefile builds the BPF object, its
# skeleton, the library (static and shared), the CLI, the tests and the demo.
#   make            build everything into build/
#   make SAN=1      the same with AddressSanitizer + UBSan, into build-san/
#   make test       install missing packages, build, run every test (root)
#   make check      the tests that need neither root nor the network (seconds)
#   make bpf-cross-check  compile the BPF programs for the other architecture
#                   (arm64 on x86), as make test does
#   make demo       a small fan-out in network namespaces (root)
#   make V=1        show the commands
#   make install    CLI, libraries, header, pkg-config file, man pages, bash
#                   completion, systemd units (PREFIX, DESTDIR); make uninstall
#   make deb        Debian packages, split as Debian ships a library: replicast
#                   (CLI), libreplicast1 (shared library), libreplicast-dev
#                   (header, static library, pkg-config file), in build/

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
CFLAGS       += -std=gnu11 -Wall -Wextra -Werror -fPIC
# What each side may include (README: Layout): the library its own folder,
# the shared layout header and the skeletons; the CLI the public header and
# its own folder only, so that "the CLI uses only the public API" is the
# compiler's rule, not a convention.
LIB_CPPFLAGS := -Iinclude -Ibpf -Iuser/lib -I$(BUILD)
CLI_CPPFLAGS := -Iinclude -Iuser/cli
LDLIBS       := -lbpf -lxdp -lelf -lz -lpcap
# Only the CLI speaks to etcd (replicast agent, fleet); the library does not.
CLI_LDLIBS   := -lcurl -ljson-c
ifeq ($(SAN),1)
SANFLAGS     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
CFLAGS       += $(SANFLAGS)
LDFLAGS      += $(SANFLAGS)
endif
# -mcpu=v3: BPF atomics of every width (32-bit fetch-or and the like); with
# clang's default (v1) arm64's fully ordered atomics in the XDP engine stop
# with "Unsupported atomic operations". v3 needs Linux 5.1 (ALU32, JMP32).
BPF_CPU      ?= v3
BPF_COMMON   := -g -O2 -target bpf -mcpu=$(BPF_CPU) -Wall -Werror -Ibpf
BPF_CFLAGS   := $(BPF_COMMON) -D__TARGET_ARCH_$(BPF_ARCH) \
                $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))
# The other architecture the BPF programs are compile-checked for (make
# bpf-cross-check, a suite of tests/run.sh): arm64 on x86 hosts, x86 on arm64.
# Only asm/ differs by architecture in the UAPI headers; Debian ships each
# one's as linux-libc-dev-ARCH-cross (an arch: all package, make deps
# installs it), and the rest comes from the host's, as for the native build.
BPF_CROSS_ARCH    ?= $(if $(filter arm64,$(BPF_ARCH)),x86,arm64)
BPF_CROSS_TRIPLET := $(if $(filter x86,$(BPF_CROSS_ARCH)),x86_64-linux-gnu,aarch64-linux-gnu)
BPF_CROSS_ASM     := /usr/$(BPF_CROSS_TRIPLET)/include/asm
BPF_CROSS_DIR     := build/bpf-cross/$(BPF_CROSS_ARCH)

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
LIB_SRCS     := $(wildcard user/lib/*.c)
LIB_OBJS     := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
CLI_SRCS     := $(wildcard user/cli/*.c)
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

# Where `make install` puts things; DESTDIR is prepended to every path (a
# staging root, as packagers use it). The configuration stays in /etc
# whatever the PREFIX: replicast.service reads /etc/replicast/replicast.conf.
PREFIX       ?= /usr/local
SBINDIR      ?= $(PREFIX)/sbin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR       ?= $(PREFIX)/share/man
BASHCOMPDIR  ?= $(PREFIX)/share/bash-completion/completions
UNITDIR      ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR   ?= /etc
INSTALL      ?= install
# Every file install makes, for uninstall to remove exactly these.
INSTALLED    := $(SBINDIR)/replicast $(LIBDIR)/libreplicast.a \
                $(LIBDIR)/libreplicast.so.$(VERSION) $(LIBDIR)/libreplicast.so.$(SOVERSION) \
                $(LIBDIR)/libreplicast.so $(INCLUDEDIR)/replicast.h \
                $(PKGCONFIGDIR)/libreplicast.pc $(MANDIR)/man8/replicast.8 \
                $(MANDIR)/man3/libreplicast.3 $(BASHCOMPDIR)/replicast \
                $(UNITDIR)/replicast.service $(UNITDIR)/replicast-agent.service \
                $(UNITDIR)/replicast-serve.service

.PHONY: all test test-only check demo deps clean install uninstall deb
.SECONDARY:
all: $(CLI) $(LIBA) $(LIBSO) $(UNIT_BINS) $(TOOL_BINS) $(EXAMPLE_BINS)

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) Makefile | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Compiled only, never loaded: what matters is that clang takes them for the
# other architecture's headers and __TARGET_ARCH (the engine's ordering code
# differs by it).
.PHONY: bpf-cross-check
bpf-cross-check: $(patsubst bpf/%.bpf.c,$(BPF_CROSS_DIR)/%.bpf.o,$(BPF_SRCS))

$(BPF_CROSS_DIR)/include/asm:
	$(Q)test -d $(BPF_CROSS_ASM) || { echo "bpf-cross-check: no $(BPF_CROSS_ASM); install \
	linux-libc-dev-$(subst x86,amd64,$(BPF_CROSS_ARCH))-cross (make deps)" >&2; exit 1; }
	$(Q)mkdir -p $(@D) && ln -sfn $(BPF_CROSS_ASM) $@

$(BPF_CROSS_DIR)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BPF_CROSS_DIR)/include/asm
	$(call msg,BPF-$(BPF_CROSS_ARCH),$@)
	$(Q)$(CLANG) $(BPF_COMMON) -D__TARGET_ARCH_$(BPF_CROSS_ARCH) -I$(BPF_CROSS_DIR)/include \
		-c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/lib/%.o: user/lib/%.c $(wildcard user/lib/*.h) include/replicast.h \
		      bpf/replicast_types.h $(SKELS) | $(BUILD)/obj/lib
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LIB_CPPFLAGS) -c $< -o $@

$(BUILD)/obj/cli/%.o: user/cli/%.c $(wildcard user/cli/*.h) include/replicast.h | $(BUILD)/obj/cli
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(CLI_CPPFLAGS) -c $< -o $@

$(LIBA): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# The shared object exports the header's functions and nothing else: the
# version script (user/lib/libreplicast.map) names them and makes every other
# symbol local, so the library's internals (rc_log, rc_lock, ...) bind
# inside it and never meet a program's own. The static library keeps them
# for the unit tests and test tools that link it.
LIBMAP       := user/lib/libreplicast.map

$(LIBSO): $(LIB_OBJS) $(LIBMAP)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -shared -Wl,-soname,libreplicast.so.$(SOVERSION) \
		-Wl,--version-script,$(LIBMAP) -Wl,--no-undefined-version $(LIB_OBJS) -o $@ $(LDLIBS)
	$(Q)ln -sf libreplicast.so.$(VERSION) $(BUILD)/libreplicast.so.$(SOVERSION)
	$(Q)ln -sf libreplicast.so.$(SOVERSION) $(BUILD)/libreplicast.so

$(CLI): $(CLI_OBJS) $(LIBA)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) $(CLI_LDLIBS)

# The packaged CLI runs on libreplicast.so.1, as Debian has a source's
# programs use its shared library (replicast then depends on libreplicast1).
# It calls the header's functions only, so this link also proves the CLI
# needs nothing the closed ABI hides. The CLI above, on the static library,
# is the one that runs from the tree and that make install installs.
CLI_SHARED   := $(BUILD)/shared/replicast

$(CLI_SHARED): $(CLI_OBJS) $(LIBSO)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -Wl,--as-needed $(CLI_OBJS) -o $@ -L$(BUILD) -lreplicast $(LDLIBS) $(CLI_LDLIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIBA) $(wildcard tests/unit/*.h) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LIB_CPPFLAGS) -Itests/unit $< -o $@ $(LDFLAGS) $(LIBA) $(LDLIBS)

# Test tools may use the library (rc_churn does); the others ignore it.
$(BUILD)/tests/%: tests/tools/%.c $(wildcard tests/tools/*.h) $(LIBA) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LIB_CPPFLAGS) $< -o $@ $(LDFLAGS) $(LIBA) $(LDLIBS) -lm

$(BUILD)/examples/%: examples/%.c $(LIBA) | $(BUILD)/examples
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iinclude $< -o $@ $(LDFLAGS) $(LIBA) $(LDLIBS)

# libFuzzer targets (clang, with ASan and UBSan), built by `make fuzz` and by
# `make test`.
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
FUZZ_CFLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                -Wall -Werror -Iinclude -Ibpf -Iuser/lib -Iuser/cli $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))
FUZZ_SECONDS ?= 60

# Targets link the library and the CLI compiled alongside (fuzz_cli brings
# replicast.c itself, with main renamed), so every parser is instrumented.
FUZZ_USER    := $(filter-out user/cli/replicast.c,$(wildcard user/lib/*.c user/cli/*.c))

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_USER) $(wildcard user/*/*.h) $(BPF_HDRS) \
		   include/replicast.h $(BUILD)/replicate.skel.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p build/fuzz
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -I$(BUILD) $< $(FUZZ_USER) \
		$(if $(filter cli,$*),,user/cli/replicast.c -Dmain=replicast_cli_main) -o $@ $(LDLIBS) $(CLI_LDLIBS)

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	$(Q)scripts/fuzz.sh $(FUZZ_SECONDS)

$(BUILD) $(BUILD)/obj/lib $(BUILD)/obj/cli $(BUILD)/tests $(BUILD)/examples:
	$(Q)mkdir -p $@

deps:
	$(Q)scripts/install-deps.sh

# Everything a fresh machine needs: packages, both builds, every test.
# Both builds and the fuzz targets on every CPU, before the suites: the CI
# machine is a fresh one each time.
NPROC        := $(shell nproc 2>/dev/null || echo 1)

test: deps
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) all
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) SAN=1 all
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) fuzz-build
	$(Q)tests/run.sh

test-only:
	$(Q)tests/run.sh

# What needs neither root nor the network, in seconds (tests/check.sh): the
# unit tests of pure code, the ABI and version check, and each fuzz target
# over its corpus once. make test runs all of it too, and the rest.
check: all fuzz-build
	$(Q)tests/check.sh $(BUILD)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

clean:
	$(Q)rm -rf build build-san

# libdir and includedir are written relative to ${prefix} when they lie
# under it, as pkg-config users expect; Libs.private is what a static link
# of libreplicast.a needs besides it.
$(BUILD)/libreplicast.pc: libreplicast.pc.in Makefile | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' \
		-e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|' \
		-e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|' \
		-e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|$(LDLIBS)|' $< >$@

$(BUILD)/%.service: systemd/%.service Makefile | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)sed -e 's|/usr/sbin/replicast|$(SBINDIR)/replicast|g' \
		-e 's|/etc/replicast/|$(SYSCONFDIR)/replicast/|g' $< >$@

# The pc file and the unit carry paths: made anew on every install, so
# PREFIX and friends of this call are the ones written.
# INSTALL_CLI: which CLI binary (make deb installs $(CLI_SHARED)).
INSTALL_CLI  ?= $(CLI)

install: $(INSTALL_CLI) $(LIBA) $(LIBSO)
	$(Q)rm -f $(BUILD)/libreplicast.pc $(BUILD)/replicast.service $(BUILD)/replicast-agent.service \
		$(BUILD)/replicast-serve.service
	$(Q)$(MAKE) --no-print-directory $(BUILD)/libreplicast.pc $(BUILD)/replicast.service \
		$(BUILD)/replicast-agent.service $(BUILD)/replicast-serve.service
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man3 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/replicast
	$(Q)$(INSTALL) -m 0755 $(INSTALL_CLI) $(DESTDIR)$(SBINDIR)/replicast
	$(Q)$(INSTALL) -m 0644 $(LIBA) $(DESTDIR)$(LIBDIR)/libreplicast.a
	$(Q)$(INSTALL) -m 0644 $(LIBSO) $(DESTDIR)$(LIBDIR)/libreplicast.so.$(VERSION)
	$(Q)ln -sf libreplicast.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libreplicast.so.$(SOVERSION)
	$(Q)ln -sf libreplicast.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libreplicast.so
	$(Q)$(INSTALL) -m 0644 include/replicast.h $(DESTDIR)$(INCLUDEDIR)/replicast.h
	$(Q)$(INSTALL) -m 0644 $(BUILD)/libreplicast.pc $(DESTDIR)$(PKGCONFIGDIR)/libreplicast.pc
	$(Q)$(INSTALL) -m 0644 man/replicast.8 $(DESTDIR)$(MANDIR)/man8/replicast.8
	$(Q)$(INSTALL) -m 0644 man/libreplicast.3 $(DESTDIR)$(MANDIR)/man3/libreplicast.3
	$(Q)$(INSTALL) -m 0644 completion/replicast $(DESTDIR)$(BASHCOMPDIR)/replicast
	$(Q)$(INSTALL) -m 0644 $(BUILD)/replicast.service $(DESTDIR)$(UNITDIR)/replicast.service
	$(Q)$(INSTALL) -m 0644 $(BUILD)/replicast-agent.service \
		$(DESTDIR)$(UNITDIR)/replicast-agent.service
	$(Q)$(INSTALL) -m 0644 $(BUILD)/replicast-serve.service \
		$(DESTDIR)$(UNITDIR)/replicast-serve.service
	$(Q)$(if $(DESTDIR),,ldconfig 2>/dev/null || true)

# Removes what install made and nothing else: a saved replicast.conf stays,
# and with it its directory.
uninstall:
	$(call msg,REMOVE,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	$(Q)rmdir $(DESTDIR)$(SYSCONFDIR)/replicast 2>/dev/null || true
	$(Q)$(if $(DESTDIR),,ldconfig 2>/dev/null || true)

deb: $(CLI_SHARED) $(LIBA) $(LIBSO)
	$(Q)BUILD=$(BUILD) VERSION=$(VERSION) SOVERSION=$(SOVERSION) MULTIARCH=$(MULTIARCH) \
		MAKE="$(MAKE)" scripts/make-deb.sh

-include bench/bench.mk
