# libtomcrypt as we build it: the CMs' packet authentication (servers/cm/
# seal.c) needs only keyed BLAKE2s (RFC 7693's MAC mode) and libtomcrypt's
# constant-time compare, so only those files are built, under libqs's libc.
# Included by the top Makefile (the guest's build/libtomcrypt.a) and by
# tests/unit/unit.mk (the same files for the host).
ifndef TOMCRYPT_MK_INCLUDED
TOMCRYPT_MK_INCLUDED := 1

# scripts/fetch-debsrc.sh unpacks Debian's libtomcrypt source package here,
# checked against scripts/libtomcrypt.sha256. Debian's two patches fix a CVE
# in the DER decoder (not built here) and make the package's own build
# reproducible (not used here).
TOMCRYPT_DIR := build/libtomcrypt
TOMCRYPT_FETCH := scripts/fetch-debsrc.sh libtomcrypt 1.18.2 src/headers/tomcrypt.h

TOMCRYPT_SRCS := $(addprefix $(TOMCRYPT_DIR)/src/, hashes/blake2s.c \
	mac/blake2/blake2smac.c mac/blake2/blake2smac_memory.c \
	misc/mem_neq.c misc/zeromem.c)

# Nothing by default (LTC_NOTHING), then BLAKE2s and its MAC; arguments
# checked by returning CRYPT_INVALID_ARG (ARGTYPE 4), never by aborting;
# no self-tests, no FILE I/O. XMEMCPY is the compiler's: the library loads
# every word with XMEMCPY(&x, p, 4) (LOAD32L), which under our
# -fno-builtin was a call each, 16 a compression; the builtin is one move
# (qsprof busy showed it: a third of a packet's seal). LTC_NO_ASM: its
# rotates in C, which GCC turns into rotates by constants; the library's
# inline assembly rotates through %cl, which on i386's few registers made
# every G step spill.
TOMCRYPT_INC := -I $(TOMCRYPT_DIR)/src/headers -DLTC_NOTHING -DLTC_BLAKE2S \
	-DLTC_BLAKE2SMAC -DARGTYPE=4 -DLTC_NO_TEST -DLTC_NO_FILE \
	-DXMEMCPY=__builtin_memcpy -DLTC_NO_ASM

# Objects that include its headers wait for this (order-only).
TOMCRYPT_FETCHED := $(TOMCRYPT_DIR)/.fetched

$(TOMCRYPT_FETCHED) $(TOMCRYPT_SRCS):
	@$(TOMCRYPT_FETCH) build

endif
