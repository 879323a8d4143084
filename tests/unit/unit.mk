# Host unit tests. Included by the top Makefile; also runs on its own:
#   make -f tests/unit/unit.mk unit-test
#
# To add a test: append build/unit/<name> to UNIT_TESTS and list its
# sources in UNIT_SRCS_<name> (the test's .c file first, then the code
# under test). All objects are built with the same flags; see README.

# Keep the including Makefile's default goal (normally `all`).
unit_saved_goal := $(.DEFAULT_GOAL)

HOSTCC ?= cc
# GNU make presets CC=cc but not HOSTCC; an empty HOSTCC from the
# environment would be useless, so fall back to cc.
ifeq ($(strip $(HOSTCC)),)
HOSTCC := cc
endif

UNIT_DIR := tests/unit
UNIT_OUT := build/unit

UNIT_TESTS := $(UNIT_OUT)/test_libc $(UNIT_OUT)/test_malloc \
	$(UNIT_OUT)/test_parse $(UNIT_OUT)/test_elf $(UNIT_OUT)/test_pmm \
	$(UNIT_OUT)/test_msg $(UNIT_OUT)/test_wmtext \
	$(UNIT_OUT)/test_rvm $(UNIT_OUT)/test_rvm_crash $(UNIT_OUT)/test_rvm_prep \
	$(UNIT_OUT)/test_rvm_conc $(UNIT_OUT)/test_rvm_vista \
	$(UNIT_OUT)/test_rvm_trunc $(UNIT_OUT)/test_rvm_damage \
	$(UNIT_OUT)/test_rvm_undo $(UNIT_OUT)/test_rvm_open \
	$(UNIT_OUT)/test_rvm_node \
	$(UNIT_OUT)/test_lwip $(UNIT_OUT)/test_seal $(UNIT_OUT)/test_logstore \
	$(UNIT_OUT)/test_tmlog $(UNIT_OUT)/test_fstxn

UNIT_SRCS_test_libc := $(UNIT_DIR)/test_libc.c libqs/src/string.c \
	libqs/src/printf.c libqs/src/stdlib.c
UNIT_SRCS_test_malloc := $(UNIT_DIR)/test_malloc.c libqs/src/malloc.c \
	libqs/src/string.c
UNIT_SRCS_test_parse := $(UNIT_DIR)/test_parse.c servers/shell/parse.c \
	libqs/src/string.c
UNIT_SRCS_test_elf := $(UNIT_DIR)/test_elf.c kernel/elf.c libqs/src/string.c
UNIT_SRCS_test_pmm := $(UNIT_DIR)/test_pmm.c kernel/pmm.c libqs/src/string.c
UNIT_SRCS_test_msg := $(UNIT_DIR)/test_msg.c libqs/src/msg.c libqs/src/string.c
UNIT_SRCS_test_wmtext := $(UNIT_DIR)/test_wmtext.c servers/wm/text.c \
	libqs/src/string.c

# lwIP and its port, built like the guest's build/liblwip.a but for the
# host, over the libc functions of libqs that lwIP calls. The test
# provides qs_uptime_ms (a fake clock under sys_now) and qs_test_abort.
include net/lwip.mk
LWIP_UNIT_SRCS := net/netif.c net/sys_arch.c $(LWIP_SRCS)
UNIT_SRCS_test_lwip := $(UNIT_DIR)/test_lwip.c $(LWIP_UNIT_SRCS) \
	libqs/src/string.c libqs/src/stdlib.c
LWIP_UNIT_OBJS := $(patsubst %.c,$(UNIT_OUT)/obj/%.o,$(UNIT_DIR)/test_lwip.c \
	$(LWIP_UNIT_SRCS))
$(LWIP_UNIT_OBJS): UNIT_CFLAGS += $(LWIP_INC)
$(LWIP_UNIT_OBJS): | $(LWIP_FETCHED)
# As in the guest build, lwIP's own files do not get -Werror (net/README).
$(patsubst %.c,$(UNIT_OUT)/obj/%.o,$(LWIP_SRCS)): UNIT_CFLAGS += -Wno-error

# The CMs' packet seal over libtomcrypt, built like the guest's
# build/libtomcrypt.a, but with its self-tests (blake2s_test,
# blake2smac_test) compiled in: the test runs the library's own vectors.
include crypto/tomcrypt.mk
TOMCRYPT_TEST_SRCS := $(addprefix $(TOMCRYPT_DIR)/src/, \
	mac/blake2/blake2smac_test.c misc/compare_testvector.c)
SEAL_UNIT_SRCS := $(UNIT_DIR)/test_seal.c servers/cm/seal.c $(TOMCRYPT_SRCS) \
	$(TOMCRYPT_TEST_SRCS)
# They come with the fetched tree, as the library's own sources do.
$(TOMCRYPT_TEST_SRCS):
	@$(TOMCRYPT_FETCH) build
UNIT_SRCS_test_seal := $(SEAL_UNIT_SRCS) libqs/src/string.c libqs/src/stdlib.c
SEAL_UNIT_OBJS := $(patsubst %.c,$(UNIT_OUT)/obj/%.o,$(SEAL_UNIT_SRCS))
$(SEAL_UNIT_OBJS): UNIT_CFLAGS += $(filter-out -DLTC_NO_TEST,$(TOMCRYPT_INC))
$(SEAL_UNIT_OBJS): crypto/tomcrypt.mk | $(TOMCRYPT_FETCHED)
$(patsubst %.c,$(UNIT_OUT)/obj/%.o,$(TOMCRYPT_SRCS) $(TOMCRYPT_TEST_SRCS)): \
	UNIT_CFLAGS += -Wno-error

# RVM: the library is built like the rest (with the node log in the
# test's process: log_local.c over the log manager's store). Its tests, their helpers and
# the host platform under it (rvm_host.c) use the host's headers and libc:
# they need files, mmap, fork and pthreads (see README).
RVM_LIB_SRCS := libqs/src/rvm.c libqs/src/rvm_log.c libqs/src/rvm_trunc.c \
	libqs/src/rvm_mem.c libqs/src/rvm_damage.c libqs/src/rvm_open.c \
	libqs/src/rvm_txn.c libqs/src/rvm_vista.c libqs/src/rvm_node.c \
	libqs/src/crc.c libqs/src/string.c \
	$(UNIT_DIR)/log_local.c servers/log/store.c
RVM_HOST_SRCS := $(UNIT_DIR)/rvm_host.c $(UNIT_DIR)/rvm_testdev.c
UNIT_SRCS_test_rvm := $(UNIT_DIR)/test_rvm.c $(RVM_HOST_SRCS) $(RVM_LIB_SRCS)
UNIT_SRCS_test_rvm_crash := $(UNIT_DIR)/test_rvm_crash.c $(RVM_HOST_SRCS) \
	$(RVM_LIB_SRCS)
UNIT_SRCS_test_rvm_prep := $(UNIT_DIR)/test_rvm_prep.c $(RVM_HOST_SRCS) \
	$(RVM_LIB_SRCS)
UNIT_SRCS_test_rvm_conc := $(UNIT_DIR)/test_rvm_conc.c $(RVM_HOST_SRCS) \
	$(RVM_LIB_SRCS)
UNIT_SRCS_test_rvm_vista := $(UNIT_DIR)/test_rvm_vista.c $(RVM_HOST_SRCS) \
	$(RVM_LIB_SRCS)
UNIT_SRCS_test_rvm_trunc := $(UNIT_DIR)/test_rvm_trunc.c $(RVM_HOST_SRCS) \
	$(RVM_LIB_SRCS)
UNIT_SRCS_test_rvm_damage := $(UNIT_DIR)/test_rvm_damage.c $(RVM_HOST_SRCS) \
	$(RVM_LIB_SRCS)
UNIT_SRCS_test_rvm_undo := $(UNIT_DIR)/test_rvm_undo.c $(RVM_HOST_SRCS) \
	$(RVM_LIB_SRCS)
UNIT_SRCS_test_rvm_open := $(UNIT_DIR)/test_rvm_open.c $(RVM_HOST_SRCS) \
	$(RVM_LIB_SRCS)
UNIT_SRCS_test_rvm_node := $(UNIT_DIR)/test_rvm_node.c $(RVM_HOST_SRCS) \
	$(RVM_LIB_SRCS)
# The node log's store, over the same host devices.
UNIT_SRCS_test_logstore := $(UNIT_DIR)/test_logstore.c $(RVM_HOST_SRCS) \
	$(RVM_LIB_SRCS)
# The TM's log over that store in the test's process (log_local.c).
UNIT_SRCS_test_tmlog := $(UNIT_DIR)/test_tmlog.c $(RVM_HOST_SRCS) \
	$(UNIT_DIR)/tm_stubs.c servers/tm/log.c libqs/src/printf.c \
	$(RVM_LIB_SRCS)
# The file server's transactions and locks, RVM and the TM stubbed by the test.
UNIT_SRCS_test_fstxn := $(UNIT_DIR)/test_fstxn.c $(UNIT_DIR)/rvm_host.c \
	servers/fs/txn.c libqs/src/string.c
RVM_TESTS := $(filter $(UNIT_OUT)/test_rvm% $(UNIT_OUT)/test_logstore \
	$(UNIT_OUT)/test_tmlog $(UNIT_OUT)/test_fstxn,$(UNIT_TESTS))
RVM_HOST_OBJS := $(patsubst %.c,$(UNIT_OUT)/obj/%.o,$(RVM_HOST_SRCS) \
	$(foreach t,$(notdir $(RVM_TESTS)),$(UNIT_DIR)/$(t).c))

UNIT_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
# Only libqs's headers and the compiler's own are visible, exactly as in
# the cross build; rename.h keeps our libc symbols apart from the host's.
UNIT_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror $(UNIT_SAN) \
	-ffreestanding -fno-builtin -nostdinc \
	-isystem $(shell $(HOSTCC) -print-file-name=include) \
	-I libqs/include -include $(UNIT_DIR)/rename.h -MMD -MP
UNIT_LDFLAGS := $(UNIT_SAN)
# -MD, not -MMD: libqs's headers come through -idirafter, a system
# directory, whose headers -MMD leaves out of the dependencies.
$(RVM_HOST_OBJS): UNIT_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror \
	$(UNIT_SAN) -pthread -idirafter libqs/include -iquote libqs/src -MD -MP
$(RVM_TESTS): UNIT_LDFLAGS += -pthread

$(UNIT_OUT)/obj/%.o: %.c $(UNIT_DIR)/rename.h
	@mkdir -p $(@D)
	$(HOSTCC) $(UNIT_CFLAGS) -c -o $@ $<

# $(call unit_link,name): the link rule for one test binary.
define unit_link
$(UNIT_OUT)/$(1): $$(patsubst %.c,$(UNIT_OUT)/obj/%.o,$$(UNIT_SRCS_$(1)))
	@mkdir -p $$(@D)
	$$(HOSTCC) $$(UNIT_LDFLAGS) -o $$@ $$^
endef
$(foreach t,$(notdir $(UNIT_TESTS)),$(eval $(call unit_link,$(t))))

-include $(foreach t,$(notdir $(UNIT_TESTS)),\
	$(patsubst %.c,$(UNIT_OUT)/obj/%.d,$(UNIT_SRCS_$(t))))

.PHONY: unit-test unit-clean
unit-test: $(UNIT_TESTS)
	@fail=0; for t in $(UNIT_TESTS); do \
		echo "== $$t"; \
		UBSAN_OPTIONS=print_stacktrace=1 ./$$t || fail=1; \
	done; \
	if [ $$fail -ne 0 ]; then echo "unit tests FAILED"; fi; \
	exit $$fail

unit-clean:
	rm -rf $(UNIT_OUT)

ifeq ($(words $(MAKEFILE_LIST)),1)
# Run on its own: unit-test is the default.
.DEFAULT_GOAL := unit-test
else
.DEFAULT_GOAL := $(unit_saved_goal)
endif
