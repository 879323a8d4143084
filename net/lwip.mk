# lwIP as we build it: which of its sources, and with which extra flags.
# Included by the top Makefile (the guest's build/liblwip.a) and by
# tests/unit/unit.mk (the same sources for the host); see net/README.
ifndef LWIP_MK_INCLUDED
LWIP_MK_INCLUDED := 1

# scripts/fetch-debsrc.sh unpacks Debian's lwIP source package here,
# checked against scripts/lwip.sha256. Debian's quilt patches leave src/core
# alone (bar one #error check in init.c) and otherwise add opt-in socket
# options (default off), tcpip_callback_wait(), a PPP CVE fix, a POSIX port
# under port/ and a CMake build: nothing a raw-API kernel port has to undo.
LWIP_DIR := build/lwip
LWIP_FETCH := scripts/fetch-debsrc.sh lwip 2.1.3 src/core/tcp_in.c

# IPv4 with ARP, ICMP, raw pcbs, UDP and TCP over Ethernet: the files that
# compile to something under net/lwipopts.h. Listed rather than globbed,
# since the tree may not be fetched yet when make reads this.
LWIP_SRCS := $(addprefix $(LWIP_DIR)/src/, \
	core/init.c core/def.c core/inet_chksum.c core/ip.c core/mem.c \
	core/memp.c core/netif.c core/pbuf.c core/raw.c core/stats.c \
	core/tcp.c core/tcp_in.c core/tcp_out.c core/timeouts.c core/udp.c \
	core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4.c \
	core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c netif/ethernet.c)

# The port (net/) first: lwipopts.h and arch/cc.h are found there.
LWIP_INC := -I net -I $(LWIP_DIR)/src/include

# Objects that include lwIP's headers wait for this (order-only).
LWIP_FETCHED := $(LWIP_DIR)/.fetched

# A source of lwIP's is missing only when the tree is not fetched yet.
# (Only these files: a pattern rule would let make chain guesses through
# it, like a dependency file made from a .o made from a .c it could fetch.)
$(LWIP_FETCHED) $(LWIP_SRCS):
	@$(LWIP_FETCH) build

endif
