# Quicksilver-style microkernel: `make` builds build/qs.iso, `make run` boots
# the default cluster and attaches to node 0, `make test` runs every suite.

CROSS := i686-linux-gnu-
CC := $(CROSS)gcc
PY := /usr/bin/python3
NODES ?= 3

B := build
ISO := $(B)/qs.iso

# Evaluated when a recipe runs, i.e. after `deps` has installed the compiler.
GCC_INC = $(shell $(CC) -print-file-name=include)
CFLAGS_BASE = -std=gnu11 -m32 -march=i686 -O2 -g -Wall -Wextra -Werror \
	-ffreestanding -fno-builtin -fno-stack-protector -fno-pie \
	-fno-asynchronous-unwind-tables -nostdinc -isystem $(GCC_INC) \
	-I libqs/include -MMD -MP
# -flto: the IPC path runs through sq.c, sq_fast.c, sq_server.c, sched.c and
# uaccess.c; optimising the kernel as one unit inlines across them (about
# 100 of the null round trip's 1,300 instructions; tools/bin/qsprof shows
# where they go). The kernel links with these flags too.
KERNEL_CFLAGS = $(CFLAGS_BASE) -I kernel -mno-sse -mno-mmx -mno-80387 -flto
USER_CFLAGS = $(CFLAGS_BASE)
LDFLAGS_BASE := -m32 -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack

# C code the kernel shares with user programs (it is freestanding).
SHARED_SRCS := libqs/src/string.c libqs/src/printf.c libqs/src/stdlib.c
KERNEL_SRCS := boot/multiboot.S $(wildcard kernel/*.c) $(wildcard kernel/*.S) \
	$(SHARED_SRCS)
LIBQS_SRCS := $(filter-out libqs/src/crt0.S,$(wildcard libqs/src/*.c))

# Every user program, each a Multiboot module named after itself: the
# servers, the programs a user runs (apps/), the in-guest test programs
# (tests/guest/) and benchmarks (bench/); and every init config, the
# system's (servers/init/), the tests' (tests/system/) and the benchmarks'.
SERVERS := init disk log tm shell echod wm fs cm counterd
PROGRAM_DIRS := apps tests/guest bench
APP_SRCS := $(foreach d,$(PROGRAM_DIRS),$(wildcard $(d)/*.c))
APPS := $(basename $(notdir $(APP_SRCS)))
PROGRAMS := $(SERVERS) $(APPS)
CONFIGS := $(wildcard servers/init/*.conf tests/system/*.conf bench/*.conf)

# The window manager's font, converted from a Debian console font (package
# console-setup-linux) at build time; the generated C is never committed.
WM_FONT := /usr/share/consolefonts/Lat15-Terminus16.psf.gz
WM_FONT_C := $(B)/gen/wm/font.c

obj = $(patsubst %,$(B)/obj/%.o,$(basename $(1)))

KERNEL_OBJS := $(call obj,$(KERNEL_SRCS))
LIBQS_OBJS := $(call obj,$(LIBQS_SRCS))
CRT0 := $(call obj,libqs/src/crt0.S)

.PHONY: all deps run stop test stress unit-test qemu-gdb bench clean
all: $(ISO) $(B)/liblwip.a

deps:
	@scripts/deps.sh
	@$(LWIP_FETCH) $(B)
	@$(TOMCRYPT_FETCH) $(B)

$(B)/obj/kernel/%.o: kernel/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) -c -o $@ $<
$(B)/obj/kernel/%.o: kernel/%.S | deps
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) -c -o $@ $<
$(B)/obj/boot/%.o: boot/%.S | deps
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) -c -o $@ $<
# The shared sources are built twice: once with the kernel's flags.
$(B)/obj/kshared/%.o: libqs/src/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) -c -o $@ $<
$(B)/obj/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -c -o $@ $<
$(WM_FONT_C): scripts/psf2c.py | deps
	@mkdir -p $(@D)
	$(PY) scripts/psf2c.py $(WM_FONT) $@
$(call obj,$(WM_FONT_C)): USER_CFLAGS += -I servers/wm
$(B)/obj/%.o: %.S | deps
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -c -o $@ $<

KERNEL_LINK_OBJS := $(filter-out $(call obj,$(SHARED_SRCS)),$(KERNEL_OBJS)) \
	$(patsubst libqs/src/%.c,$(B)/obj/kshared/%.o,$(SHARED_SRCS))

$(B)/kernel.elf: $(KERNEL_LINK_OBJS) linker.ld
	$(CC) $(LDFLAGS_BASE) $(KERNEL_CFLAGS) -T linker.ld -o $@ $(KERNEL_LINK_OBJS) -lgcc

$(B)/libqs.a: $(LIBQS_OBJS)
	rm -f $@
	$(CROSS)ar rcs $@ $^

# lwIP (NO_SYS=1, raw API) and our port of it, for the CM: net/README.
include net/lwip.mk
LWIP_OBJS := $(patsubst $(LWIP_DIR)/src/%.c,$(B)/obj/lwip/%.o,$(LWIP_SRCS))
LWIP_PORT_OBJS := $(call obj,net/sys_arch.c net/netif.c)
# lwIP's own files get our flags but without -Werror: its code is not ours
# to fix, and a warning a newer compiler finds in it must not break the
# build (GCC 12 finds none). The port's files keep -Werror.
LWIP_CFLAGS = $(filter-out -Werror,$(USER_CFLAGS)) $(LWIP_INC)
$(B)/obj/lwip/%.o: $(LWIP_DIR)/src/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(LWIP_CFLAGS) -c -o $@ $<
$(LWIP_PORT_OBJS): USER_CFLAGS += $(LWIP_INC)
$(B)/liblwip.a: $(LWIP_OBJS) $(LWIP_PORT_OBJS)
	rm -f $@
	$(CROSS)ar rcs $@ $^

include crypto/tomcrypt.mk
TOMCRYPT_OBJS := $(patsubst $(TOMCRYPT_DIR)/src/%.c,$(B)/obj/tomcrypt/%.o,\
	$(TOMCRYPT_SRCS))
# As lwIP: its code gets our flags but not -Werror; tomcrypt.mk's flags
# changing rebuilds it.
$(B)/obj/tomcrypt/%.o: $(TOMCRYPT_DIR)/src/%.c crypto/tomcrypt.mk | deps
	@mkdir -p $(@D)
	$(CC) $(filter-out -Werror,$(USER_CFLAGS)) $(TOMCRYPT_INC) -c -o $@ $<
$(B)/libtomcrypt.a: $(TOMCRYPT_OBJS)
	rm -f $@
	$(CROSS)ar rcs $@ $^

# $(call program,name,sources[,libraries]): link one user program, with
# libraries (such as build/liblwip.a) ahead of libqs.a.
define program
$(B)/bin/$(1): $(CRT0) $(call obj,$(2)) $(3) $(B)/libqs.a libqs/user.ld
	@mkdir -p $$(@D)
	$(CC) $(LDFLAGS_BASE) -T libqs/user.ld -o $$@ $(CRT0) $(call obj,$(2)) \
		$(3) $(B)/libqs.a -lgcc
endef
$(eval $(call program,init,servers/init/init.c servers/init/service.c))
$(eval $(call program,shell,servers/shell/shell.c servers/shell/parse.c servers/shell/txcmd.c servers/shell/fscmd.c servers/shell/netcmd.c servers/shell/crumbs.c servers/shell/svccmd.c))
$(eval $(call program,echod,servers/echo/echo.c))
$(eval $(call program,counterd,servers/counterd/counterd.c))
$(eval $(call program,disk,$(wildcard servers/disk/*.c)))
$(eval $(call program,log,$(wildcard servers/log/*.c)))
$(eval $(call program,tm,$(wildcard servers/tm/*.c)))
$(eval $(call program,fs,$(wildcard servers/fs/*.c)))
$(eval $(call program,cm,$(wildcard servers/cm/*.c),$(B)/liblwip.a $(B)/libtomcrypt.a))
$(call obj,$(wildcard servers/cm/*.c)): USER_CFLAGS += $(LWIP_INC) $(TOMCRYPT_INC)
$(call obj,$(wildcard servers/cm/*.c)): | $(TOMCRYPT_FETCHED)
WM_SRCS := $(wildcard servers/wm/*.c) $(WM_FONT_C)
$(eval $(call program,wm,$(WM_SRCS)))
# Apps that use lwIP (net/README) link it and see its headers and ours.
LWIP_APPS := lwiptest
# Programs of several files: PROG.c and the files of the folder PROG/.
MULTI_APPS := tests/guest/fuzz.c
# The wire fuzzer seals what it forges as a keyed node would (servers/cm/seal.c).
SEAL_APPS := tests/guest/wirefuzz.c tests/guest/netjunk.c
$(foreach src,$(filter-out $(MULTI_APPS) $(SEAL_APPS),$(APP_SRCS)),$(eval $(call program,$(basename $(notdir $(src))),$(src),\
	$(if $(filter $(LWIP_APPS),$(basename $(notdir $(src)))),$(B)/liblwip.a))))
$(foreach src,$(SEAL_APPS),$(eval $(call program,$(basename $(notdir $(src))),\
	$(src) servers/cm/seal.c,$(B)/libtomcrypt.a)))
$(foreach src,$(MULTI_APPS),$(eval $(call program,$(basename $(notdir $(src))),\
	$(src) $(wildcard $(basename $(src))/*.c))))
$(call obj,$(LWIP_APPS:%=tests/guest/%.c)): USER_CFLAGS += $(LWIP_INC)

$(ISO): $(B)/kernel.elf $(PROGRAMS:%=$(B)/bin/%) $(CONFIGS) boot/grub.cfg.in
	rm -rf $(B)/iso
	mkdir -p $(B)/iso/boot/grub
	cp $(B)/kernel.elf $(PROGRAMS:%=$(B)/bin/%) $(CONFIGS) $(B)/iso/boot/
	modules=$$(for m in $(PROGRAMS) $(notdir $(CONFIGS)); do \
		printf '\tmodule /boot/%s %s\\n' $$m $$m; done); \
	awk -v mods="$$modules" '{ if ($$0 == "@MODULES@") printf "%s", mods; else print }' \
		boot/grub.cfg.in > $(B)/iso/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(B)/iso 2>$(B)/grub-mkrescue.log || \
		{ cat $(B)/grub-mkrescue.log; exit 1; }

run: all
	@if tools/bin/qsnet status | grep -q running; then \
		echo "nodes already running; attaching (make stop, then make run, to reboot them)"; \
	else tools/bin/qsnet up -n $(NODES); fi
	tools/bin/qsnet console 0

stop:
	tools/bin/qsnet down

qemu-gdb: all
	tools/bin/qsnet up -n 1 --gdb

# The same kernel with the transaction stamp compiled out, for `make bench`:
# the files that stamp requests, built again without it.
STAMP_SRCS := sq sq_server
NOSTAMP_OBJS := $(filter-out $(STAMP_SRCS:%=$(B)/obj/kernel/%.o),$(KERNEL_LINK_OBJS)) \
	$(STAMP_SRCS:%=$(B)/obj/nostamp/%.o)
$(B)/obj/nostamp/%.o: kernel/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) -DQS_NO_TX_STAMP -c -o $@ $<
$(B)/kernel-nostamp.elf: $(NOSTAMP_OBJS) linker.ld
	$(CC) $(LDFLAGS_BASE) $(KERNEL_CFLAGS) -T linker.ld -o $@ $(NOSTAMP_OBJS) -lgcc
$(B)/qs-nostamp.iso: $(ISO) $(B)/kernel-nostamp.elf
	rm -rf $(B)/iso-nostamp
	cp -r $(B)/iso $(B)/iso-nostamp
	cp $(B)/kernel-nostamp.elf $(B)/iso-nostamp/boot/kernel.elf
	grub-mkrescue -o $@ $(B)/iso-nostamp 2>$(B)/grub-mkrescue.log || \
		{ cat $(B)/grub-mkrescue.log; exit 1; }

bench: $(ISO) $(B)/qs-nostamp.iso
	$(PY) bench/bench.py $(ISO) $(B)/qs-nostamp.iso

include tests/unit/unit.mk

test: all $(UNIT_TESTS)
	$(PY) tests/run.py $(UNIT_TESTS)

# The exactly-once test under loss, duplication and jitter, at 10,000
# increments (make test sends 2,000); the Jepsen-style test at 100,000
# increments over 300 s of faults (make test: 10,000 over 60 s); the
# syscall fuzzer at 1,000,000 calls over ten seeds (make test makes
# 150,000); the wire fuzzer at 100,000 packets (make test sends 10,000);
# the node log's crash points torn too; the random campaign at 300 kills
# (make test: 100).
stress: all
	QS_STRESS=1 $(PY) -m pytest -q tests/system/test_crashpoints.py
	QS_STRESS_INCREMENTS=10000 $(PY) -m pytest -q tests/system/test_remote.py \
		-k "loss or every_node"
	QS_JEPSEN_REQUESTS=100000 QS_JEPSEN_SECONDS=300 \
		$(PY) -m pytest -q tests/system/test_jepsen.py
	QS_WIRE_FUZZ_PACKETS=100000 QS_WIRE_FUZZ_SEED=2 $(PY) -m pytest -q \
		tests/system/test_wire.py -k fuzzer
	QS_FUZZ_SEEDS=101,102,103,104,105,106,107,108,109,110 QS_FUZZ_CALLS=100000 \
		$(PY) -m pytest -q tests/system/test_fuzz.py
	QS_RANDOM_KILLS=300 $(PY) -m pytest -q tests/system/test_campaign.py

clean:
	rm -rf $(B)/obj $(B)/bin $(B)/gen $(B)/iso $(B)/iso-nostamp $(B)/unit $(B)/bench \
		$(B)/*.elf $(B)/*.a $(B)/*.iso

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
