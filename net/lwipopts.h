/*
 * lwIP configuration for Quicksilver: the communication manager runs lwIP
 * with NO_SYS=1 in one event loop (no threads inside lwIP, no sockets or
 * netconn: the raw API only), IPv4 with ARP, ICMP, UDP, TCP and raw pcbs
 * (for ping). Everything not set here keeps opt.h's default.
 */
#ifndef QS_LWIPOPTS_H
#define QS_LWIPOPTS_H

#define NO_SYS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
/*
 * No protection against preemption inside lwIP: the CM calls lwIP from
 * its event-loop thread only (driver input, timers and its own sends), so
 * there is nothing to lock, and the upcall threads hand work to that loop.
 */
#define SYS_LIGHTWEIGHT_PROT 0

#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define ARP_TABLE_SIZE 16
#define ARP_QUEUEING 1

/*
 * Memory: lwIP's own heap (a static array) and pools, so what the stack
 * can use is fixed at link time: about 512 KiB in all, next to nothing in
 * a 256 MiB guest, and enough for a few TCP connections' windows and a
 * burst of full-sized frames from the e1000's receive ring.
 */
/* 4 in the guest; 8 where the unit tests run lwIP (x86-64 pointers). */
#define MEM_ALIGNMENT __SIZEOF_POINTER__
#define MEM_SIZE (256 * 1024)
#define PBUF_POOL_SIZE 128
#define MEMP_NUM_PBUF 64
#define MEMP_NUM_RAW_PCB 4
#define MEMP_NUM_UDP_PCB 8
#define MEMP_NUM_TCP_PCB 16
#define MEMP_NUM_TCP_PCB_LISTEN 4
#define MEMP_NUM_TCP_SEG 64
#define MEMP_NUM_REASSDATA 8
#define MEMP_NUM_FRAG_PBUF 16
#define MEMP_NUM_ARP_QUEUE 32

#define TCP_MSS 1460
#define TCP_WND (8 * TCP_MSS)
#define TCP_SND_BUF (8 * TCP_MSS)

/* The e1000 is run without checksum offload: lwIP computes and checks all. */
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_UDP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_ICMP 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_UDP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_ICMP 1

/* The CM hears of link changes (netif_set_link_callback) for membership. */
#define LWIP_NETIF_LINK_CALLBACK 1
/* lwIP's own timers, and room for the CM's (heartbeats, retransmission). */
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)

/* Counters for the CM's "bad input is counted and dropped" and the tests. */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define LINK_STATS 1
#define ETHARP_STATS 1
#define IP_STATS 1
#define IPFRAG_STATS 1
#define ICMP_STATS 1
#define UDP_STATS 1
#define TCP_STATS 1
#define MEM_STATS 1
#define MEMP_STATS 1

/* Random ports and TCP initial sequence numbers (see arch/cc.h). */
#define LWIP_RAND() ((u32_t)rand())

#endif
